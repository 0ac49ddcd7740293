"""Hostile and edge-case model files (issue 15 items 1, 6, 7): every one is refused with a one-line
typed error (exit 2) naming the file and the array, never a traceback, never a rounded model."""
from __future__ import annotations

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
    assert r.stdout == ""


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
