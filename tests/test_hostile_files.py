"""Hostile and edge-case model files (issue 15 items 1, 6, 7): every one is refused with a one-line
typed error (exit 2) naming the file and the array, never a traceback, never a rounded model."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from deqtheory import errors
from deqtheory._validate import as_array
from deqtheory.io import load_npz


def _cli(*argv):
    return subprocess.run([sys.executable, "-m", "deqtheory.cli", *map(str, argv)], capture_output=True, text=True)


def _assert_one_line_exit_2(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for s in needles:
        assert s in err, f"{s!r} not in {err!r}"


# ---------------------------------------------------------------- item 1: the stored model is the model
INEXACT = [
    ("int64 > 2**53", np.array([[0, 2 ** 53 + 1], [0, 0]], dtype=np.int64), "int64", "(0, 1)"),
    ("int64 max", np.array([[0, 0], [2 ** 63 - 1, 0]], dtype=np.int64), "int64", "(1, 0)"),
    ("uint64 max", np.array([[0, 0], [0, 2 ** 64 - 1]], dtype=np.uint64), "uint64", "(1, 1)"),
    ("longdouble 1/3", np.array([[0, 0], [np.longdouble(1) / 3, 0]], dtype=np.longdouble), "float128", "(1, 0)"),
    ("longdouble 1e-400", np.array([[0, np.longdouble("1e-400")], [0, 0]], dtype=np.longdouble), "float128", "(0, 1)"),
    ("longdouble 1e400", np.array([[np.longdouble("1e400"), 0], [0, 0]], dtype=np.longdouble), "float128", "(0, 0)"),
]


@pytest.mark.parametrize("name, W, dtype, idx", INEXACT, ids=[c[0] for c in INEXACT])
def test_inexact_arrays_are_refused_by_load_npz(tmp_path, name, W, dtype, idx):
    if W.dtype == np.longdouble and np.finfo(np.longdouble).nmant <= 52:  # pragma: no cover - platform
        pytest.fail("this platform's longdouble is float64; the case cannot be built")
    p = tmp_path / "m.npz"
    np.savez(p, W=W)
    with pytest.raises(errors.InexactValueError) as info:
        load_npz(p)
    msg = str(info.value)
    for s in ("m.npz:W", dtype, idx, "float64"):
        assert s in msg, (s, msg)


@pytest.mark.parametrize("name, W, dtype, idx", INEXACT, ids=[c[0] for c in INEXACT])
def test_inexact_arrays_are_refused_by_check(tmp_path, name, W, dtype, idx):
    p = tmp_path / "m.npz"
    np.savez(p, W=W)
    _assert_one_line_exit_2(_cli("check", p, "--no-sdp"), "m.npz:W", dtype, idx)


def test_feedforward_not_certified_for_cycle_lost_in_rounding(tmp_path):
    """A float128 entry 1e-400 closes a cycle; rounding it to 0 would certify ``feedforward``."""
    W = np.array([[0, np.longdouble("0.5")], [np.longdouble("1e-400"), 0]], dtype=np.longdouble)
    p = tmp_path / "cyc.npz"
    np.savez(p, W=W)
    r = _cli("check", p, "--no-sdp", "--json")
    _assert_one_line_exit_2(r, "cyc.npz:W", "(1, 0)")
    out = json.loads(r.stdout)                  # with --json: the error object, no report
    assert set(out) == {"error", "exit"} and out["exit"] == 2 and "(1, 0)" in out["error"]


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int16, np.int32, np.uint32, np.float16, np.float32, np.float64])
def test_exact_dtypes_are_accepted_unchanged(dtype):
    a = np.array([[0, 1], [1, 0]], dtype=dtype)
    out = as_array("W", a)
    assert out.dtype == np.float64 and np.array_equal(out, a.astype(np.float64))


def test_exactly_representable_wide_values_are_accepted():
    a = np.array([2 ** 53, -(2 ** 63), 3 * 2 ** 60, 0], dtype=np.int64)
    assert np.array_equal(as_array("a", a), np.array([2.0 ** 53, -(2.0 ** 63), 3 * 2.0 ** 60, 0.0]))
    b = np.array([0.5, 1e-300, -7.0], dtype=np.longdouble)
    assert np.array_equal(as_array("b", b), np.array([0.5, np.float64(np.longdouble(1e-300)), -7.0]))


# ---------------------------------------------------------------- item 6: sizes checked from the header
def _huge_npy_bytes(shape=(10 ** 6, 10 ** 6), descr="<f8", version=(1, 0)):
    import io as _io

    from numpy.lib import format as npf

    buf = _io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    (npf.write_array_header_1_0 if version == (1, 0) else npf.write_array_header_2_0)(buf, header)
    buf.write(b"\0" * 64)  # a few bytes of "data": the header alone must decide
    return buf.getvalue()


def _huge_npz(path, member="W", **kw):
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{member}.npy", _huge_npy_bytes(**kw))
        zf.writestr("U.npy", _npy_bytes(np.eye(2)))
    return path


def _npy_bytes(a):
    import io as _io

    buf = _io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_load_npz_refuses_huge_header_before_reading(tmp_path, version):
    p = _huge_npz(tmp_path / "huge.npz", version=version)
    with pytest.raises(errors.ModelFileError) as info:
        load_npz(p)
    msg = str(info.value)
    for s in ("huge.npz:W", "(1000000, 1000000)", "MAX_ARRAY_ELEMENTS"):
        assert s in msg, (s, msg)


def test_limit_is_per_array_and_exact():
    from deqtheory.io import MAX_ARRAY_ELEMENTS, check_npy_header
    import io as _io

    assert MAX_ARRAY_ELEMENTS == 2 ** 30
    shape, dt = check_npy_header(_io.BytesIO(_huge_npy_bytes(shape=(2 ** 15, 2 ** 15))), "ok")
    assert shape == (2 ** 15, 2 ** 15) and dt == np.float64
    with pytest.raises(errors.ModelFileError):
        check_npy_header(_io.BytesIO(_huge_npy_bytes(shape=(2 ** 15, 2 ** 15 + 1))), "big")
    with pytest.raises(errors.ModelFileError):  # 2**64 elements would overflow an int64 product
        check_npy_header(_io.BytesIO(_huge_npy_bytes(shape=(2 ** 32, 2 ** 32))), "wrap")


@pytest.mark.parametrize("command", ["check", "convert"])
def test_cli_refuses_huge_header_model(tmp_path, command):
    p = _huge_npz(tmp_path / "huge.npz")
    extra = ["-o", tmp_path / "out.npz"] if command == "convert" else ["--no-sdp"]
    _assert_one_line_exit_2(_cli(command, p, *extra), "huge.npz:W", "(1000000, 1000000)")


def test_cli_eval_refuses_huge_header_input(tmp_path):
    m = tmp_path / "m.npz"
    np.savez(m, W=np.zeros((2, 2)), U=np.eye(2))
    x = tmp_path / "x.npy"
    x.write_bytes(_huge_npy_bytes(shape=(10 ** 7, 10 ** 6)))
    _assert_one_line_exit_2(_cli("eval", m, x, "-o", tmp_path / "y.npy"), "x.npy", "(10000000, 1000000)")
    assert not (tmp_path / "y.npy").exists()


def test_conv_model_with_huge_grid_is_refused_before_allocating(tmp_path):
    import deqtheory.explicit_conv as ec
    from deqtheory import formats as fm

    src = tmp_path / "c.npz"
    fm.save_model(src, ec.random_conv_sll_stack(np.random.default_rng(0), 1, [2], 3))
    d = dict(np.load(src))
    d["N"] = np.asarray(10 ** 5)
    big = tmp_path / "cbig.npz"
    np.savez(big, **d)
    with pytest.raises(errors.DomainError) as info:
        fm.read_model(big)
    assert "cbig.npz:N" in str(info.value) and "100000" in str(info.value)
    _assert_one_line_exit_2(_cli("check", big, "--no-sdp"), "cbig.npz:N", "MAX_ARRAY_ELEMENTS")


# ---------------------------------------------------------------- item 7: one-line errors, never tracebacks
def _model(tmp_path, scale=0.1):
    p = tmp_path / "m.npz"
    np.savez(p, W=np.random.default_rng(0).standard_normal((3, 3)) * scale, U=np.eye(3), G=np.eye(3))
    return p


def _cert_with_meta(tmp_path, name, edit):
    import json

    from deqtheory.linalg import check_pf_abs
    from deqtheory.sdp import save_certificate

    p = tmp_path / name
    save_certificate(p, check_pf_abs(np.zeros((3, 3))))
    d = dict(np.load(p))
    d["meta"] = np.asarray(json.dumps(edit(json.loads(str(d["meta"])))))
    np.savez(p, **d)
    return p


@pytest.mark.parametrize("edit, needle", [
    (lambda m: {**m, "condition": "nosuch"}, "nosuch"),
    (lambda m: [1, 2], "JSON object"),
    (lambda m: "text", "JSON object"),
    (lambda m: {**m, "condition": 3}, "condition"),
    (lambda m: {**m, "witness_scalars": [1]}, "witness_scalars"),
    (lambda m: {k: v for k, v in m.items() if k != "condition"}, "condition"),
], ids=["unknown condition", "meta list", "meta string", "condition not str", "scalars list", "no condition"])
def test_verify_malformed_certificate_exits_2(tmp_path, edit, needle):
    c = _cert_with_meta(tmp_path, "c.npz", edit)
    _assert_one_line_exit_2(_cli("verify", _model(tmp_path), c), "c.npz", needle)


def test_verify_condition_needing_other_arguments_exits_2(tmp_path):
    """A verifier that needs arguments a model file does not hold is bad input, not a TypeError."""
    from deqtheory.certificates import Certificate, Status, register_verifier, _VERIFIERS
    from deqtheory.cli import _verify_against_model

    cert = Certificate("pd", Status.CERTIFIED, margin=1.0)
    old = _VERIFIERS.get("pd")
    try:
        register_verifier("pd")(lambda c, *, A, Phi: c)
        with pytest.raises(errors.DEQInputError) as info:
            _verify_against_model(cert, "c.npz", {"W": np.eye(2), "U": None, "G": None})
        assert "c.npz" in str(info.value) and "A" in str(info.value) and "Phi" in str(info.value)
        register_verifier("pd")(lambda c, *, W: c.replace(message="ok"))  # extra U, G are not passed
        assert _verify_against_model(cert, "c.npz", {"W": np.eye(2), "U": None, "G": None}).message == "ok"
        register_verifier("pd")(lambda c, *, W: c.witness["L"])
        with pytest.raises(errors.ModelFileError) as info:
            _verify_against_model(cert, "c.npz", {"W": np.eye(2)})
        assert "'L'" in str(info.value)
    finally:
        _VERIFIERS["pd"] = old


def test_verify_sdp_certificate_without_L_is_not_certified(tmp_path):
    import json

    m = _model(tmp_path)
    c = tmp_path / "sdp.npz"
    r = _cli("check", m, "--save-certificate", c)
    assert r.returncode == 0, r.stderr
    d = dict(np.load(c))
    meta = json.loads(str(d["meta"]))
    meta["witness_scalars"].pop("L")
    d["meta"] = np.asarray(json.dumps(meta))
    np.savez(c, **d)
    r = _cli("verify", m, c)
    assert r.returncode == 1 and "Traceback" not in r.stderr, (r.stdout, r.stderr)
    assert ": inconclusive," in r.stdout


def test_save_certificate_and_eval_output_create_missing_directories(tmp_path):
    m = _model(tmp_path)
    c = tmp_path / "no" / "such" / "dir" / "c.npz"
    r = _cli("check", m, "--save-certificate", c)
    assert r.returncode == 0 and c.exists(), r.stderr
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 3)))
    y = tmp_path / "missing" / "y.npy"
    r = _cli("eval", m, x, "-o", y)
    assert r.returncode == 0 and np.load(y).shape == (2, 3), r.stderr


@pytest.mark.parametrize("X, needle", [
    (np.array([["a", "b", "c"]]), "<U1"),
    (np.ones((2, 3)) * (1 + 1j), "complex"),
    (np.ones((2, 3)) * (1 + 0j), "complex"),
    (np.array([[1.0, np.nan, 0.0]]), "NaN"),
    (np.array([[2 ** 53 + 1, 0, 0]], dtype=np.int64), "int64"),
], ids=["strings", "complex", "complex zero imag", "nan", "inexact int"])
def test_eval_refuses_non_real_inputs(tmp_path, X, needle):
    m = _model(tmp_path)
    x = tmp_path / "x.npy"
    np.save(x, X)
    y = tmp_path / "y.npy"
    _assert_one_line_exit_2(_cli("eval", m, x, "-o", y), "x.npy", needle)
    assert not y.exists()


@pytest.mark.parametrize("key, value, needle", [
    ("b", np.zeros(5), "(5,)"), ("G", np.eye(4), "(4, 4)"), ("b_y", np.zeros(2), "(2,)"),
    ("B", np.zeros((3, 4)), "(3, 4)"), ("m", np.zeros(2), "(2,)"), ("U", np.ones(3), "(3,)"),
])
@pytest.mark.parametrize("command", ["check", "eval", "convert"])
def test_mondeq_file_with_inconsistent_shapes_exits_2(tmp_path, key, value, needle, command):
    d = dict(kind=np.asarray("mondeq"), A=np.eye(3), B=np.eye(3), U=np.ones((3, 2)), b=np.zeros(3),
             m=np.asarray(0.5), G=np.eye(3), b_y=np.zeros(3))
    d[key] = value
    p = tmp_path / "mon.npz"
    np.savez(p, **d)
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 2)))
    extra = {"check": ["--no-sdp"], "eval": [x, "-o", tmp_path / "y.npy"], "convert": ["-o", tmp_path / "o.npz"]}[command]
    _assert_one_line_exit_2(_cli(command, p, *extra), "mon.npz", key, needle)


@pytest.mark.parametrize("scale", [1e154, 1e160, 1e300])
def test_huge_entries_give_inconclusive_not_exceptions(scale):
    from deqtheory.linalg import check_ibp_wellposed, check_monotone

    W = np.random.default_rng(1).standard_normal((3, 3)) * scale
    for check in (check_monotone, check_ibp_wellposed):
        c = check(W)
        assert not c.certified and c.status.value in ("inconclusive", "refuted")
        assert c.margin <= 0
        assert c.verify(W=W).status is not None and not c.verify(W=W).certified


def test_check_cli_on_huge_entries_exits_0_with_statuses(tmp_path):
    p = _model(tmp_path, scale=1e154)
    r = _cli("check", p, "--no-sdp", "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    import json

    conds = json.loads(r.stdout)["conditions"]
    for name in ("monotone", "ibp_wellposed"):
        assert conds[name]["status"] in ("inconclusive", "refuted"), conds[name]
