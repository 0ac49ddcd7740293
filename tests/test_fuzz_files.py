"""Fuzz test of every file reader and command line (issue 15): Hypothesis over malformed ``.npz`` /
``.npy`` / JSON files and arguments.

The claim, for every command (``deqtheory check | eval | convert | verify | verify-certification |
theorems``, ``deqtheory-train certify | export | run | list`` argument parsing) and every reader
(:func:`deqtheory.formats.read_model`, :mod:`deqtheory.io`, :func:`deqtheory.sdp.load_certificate`,
:func:`deqtheory.classifier_certificate.load_certification`): each outcome is

* exit 0 with a correct result (``--json`` output parses; ``eval`` wrote the array it reports), or
  exit 1 where the command documents it (``verify``: did not verify; ``eval``: no fixed point), or
* exit 2 with exactly **one line** on stderr (and, with ``--json``, one JSON error object on stdout),

never a traceback, and never an allocation above the stated limit: while one example runs, the
process's address space may grow by at most :data:`ADDRESS_SPACE_BUDGET` (``RLIMIT_AS`` is lowered
to the current size plus the budget), with :data:`deqtheory.io.MAX_ARRAY_ELEMENTS` lowered to
:data:`FUZZ_ARRAY_LIMIT` elements in every module that reads it — so a reader that allocates
what a header declares before checking it hits ``MemoryError`` here. A few huge-header cases
also run in a subprocess under ``RLIMIT_AS`` with the library's real limit.

Profiles: the ``ci`` budget (default) runs the module in well under a minute; ``DEQTHEORY_FUZZ=long``
runs many more examples without derandomization and writes a summary (examples, outcomes by exit
code, seconds) to ``$DEQTHEORY_FUZZ_SUMMARY`` when that is set.
"""
from __future__ import annotations

import collections
import contextlib
import io as _io
import json
import os
import resource
import subprocess
import sys
import time
import traceback
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deqtheory import cli as dcli
from deqtheory import convert as cv
from deqtheory import explicit as ex
from deqtheory import formats as fm
from deqtheory import io as dio
from deqtheory.errors import DEQInputError
from deqtheory.model import DEQ

LONG = os.environ.get("DEQTHEORY_FUZZ") == "long"
#: growth of the address space allowed while one example runs (the stated allocation limit)
ADDRESS_SPACE_BUDGET = 1 << 30
#: io.MAX_ARRAY_ELEMENTS during the fuzz (8 MiB of float64): a header declaring more is refused
FUZZ_ARRAY_LIMIT = 1 << 20

FUZZ = settings(max_examples=1000 if LONG else 30, derandomize=not LONG, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
SUMMARY: "collections.Counter[str]" = collections.Counter()
T0 = time.perf_counter()


# ---------------------------------------------------------------------------------------------- running
def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


@contextlib.contextmanager
def _memory_cap():
    """Lower ``RLIMIT_AS`` to the current address space plus :data:`ADDRESS_SPACE_BUDGET` and
    :data:`deqtheory.io.MAX_ARRAY_ELEMENTS` to :data:`FUZZ_ARRAY_LIMIT` (in every module holding it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _vm_bytes() + ADDRESS_SPACE_BUDGET
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    holders = [m for name, m in list(sys.modules.items())
               if name.startswith(("deqtheory.", "deqtheory_train.")) and hasattr(m, "MAX_ARRAY_ELEMENTS")]
    saved = [(m, m.MAX_ARRAY_ELEMENTS) for m in holders]
    for m in holders:
        m.MAX_ARRAY_ELEMENTS = FUZZ_ARRAY_LIMIT
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        for m, v in saved:
            m.MAX_ARRAY_ELEMENTS = v


def _train_main(argv):
    from deqtheory_train import cli as tcli

    return tcli.main(argv)


#: long profile: distinct crash sites (exception type, innermost library frame) → one example
CRASHES: dict = {}


def _escaped(tag, what, exc, stderr=""):
    """An exception escaped: fail now (ci: Hypothesis shrinks it), or record its site and go on (long)."""
    SUMMARY[f"{tag}:traceback"] += 1
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/deqtheory" in f.filename]
    site = f"{type(exc).__name__} at " + (f"{frames[-1].filename.rsplit('/', 2)[-2:]}:{frames[-1].lineno}" if frames else "?")
    if LONG:
        CRASHES.setdefault(site, f"{tag} {[str(a) for a in what]}: {exc}")
        return
    pytest.fail(f"{tag} {what}: {type(exc).__name__} escaped:\n{traceback.format_exc()}\nstderr: {stderr}")


def run(main, argv, *, tag: str):
    """Run ``main(argv)`` in-process under :func:`_memory_cap`; returns ``(exit, stdout, stderr)``.
    Any exception other than ``SystemExit`` fails the test with its traceback."""
    out, err = _io.StringIO(), _io.StringIO()
    try:
        with _memory_cap(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BaseException as exc:  # noqa: BLE001 - the point of the test
        _escaped(tag, argv, exc, err.getvalue())
        code = None
    if code is None and LONG:
        return None, "", ""
    code = int(code or 0)
    SUMMARY[f"{tag}:exit{code}"] += 1
    return code, out.getvalue(), err.getvalue()


def assert_clean(code, out, err, argv, *, ok_codes=(0, 2), json_out=False):
    if code is None:                       # a crash already recorded (long profile)
        return
    assert code in ok_codes, (argv, code, out, err)
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1, (argv, err)
        if json_out:
            obj = json.loads(out)
            assert obj["exit"] == 2 and isinstance(obj["error"], str) and obj["error"], (argv, out)
    elif json_out and code == 0:
        json.loads(out)


# ---------------------------------------------------------------------------------------------- files
def _base_models():
    rng = np.random.default_rng(0)
    n = 4
    A, B, U = rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=(n, 3))
    W = np.tril(rng.normal(size=(n, n)), -1) * 0.5
    mon = fm.MonDEQNet(A * 0.3, B * 0.3, 0.5, U, rng.normal(size=(2, n)), rng.normal(size=n), rng.normal(size=2))
    return {
        "deq": DEQ(W, U, rng.normal(size=n), rng.normal(size=(2, n)), identity_mask=[1, 0, 0, 0]),
        "mondeq": mon,
        "gmondeq": fm.GMonDEQNet(A * 0.3, B * 0.3, rng.normal(size=n) * 0.3, 0.5, U),
        "sll": ex.random_sll_stack(rng, 3, [2, 3]),
        "aol": ex.random_aol_net(rng, [3, 4, 2]),
        "lben": cv.mondeq_to_lben(mon.A, mon.B, mon.m, mon.U, mon.G, mon.b, mon.b_y),
    }


def _arrays_of(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    d = tmp_path_factory.mktemp("bases")
    out = {}
    for kind, model in _base_models().items():
        p = d / f"{kind}.npz"
        fm.save_model(p, model)
        out[kind] = _arrays_of(p)
    return out


def _header_bytes(shape, dtype="<f8") -> bytes:
    from numpy.lib import format as npf

    buf = _io.BytesIO()
    npf.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def crafted_npy(shape, dtype="<f8", payload: bytes = b"\0" * 64) -> bytes:
    """An ``.npy`` whose header declares ``shape`` but holds only ``payload``."""
    return _header_bytes(shape, dtype) + payload


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
special = st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 1e154, 0.0, -0.0])
dims = st.integers(0, 5)


@st.composite
def bad_arrays(draw):
    """An array a file might hold in place of a good one."""
    shape = tuple(draw(st.lists(dims, min_size=0, max_size=3)))
    size = int(np.prod(shape)) if shape else 1
    choice = draw(st.sampled_from(["float", "special", "int", "bigint", "bool", "f16", "f32", "longdouble",
                                   "complex", "str", "bytes", "object", "empty"]))
    vals = np.array(draw(st.lists(finite, min_size=size, max_size=size)), dtype=float).reshape(shape)
    if choice == "special":
        vals = vals.copy()
        if vals.size:
            vals.reshape(-1)[draw(st.integers(0, vals.size - 1))] = draw(special)
        return vals
    if choice == "int":
        return np.clip(np.nan_to_num(vals), -1e6, 1e6).astype(np.int32)
    if choice == "bigint":
        return np.full(shape, 2 ** 62 + 1, dtype=np.int64)
    if choice == "bool":
        return vals > 0
    if choice == "f16":
        return np.clip(vals, -6e4, 6e4).astype(np.float16)
    if choice == "f32":
        return np.clip(vals, -3e38, 3e38).astype(np.float32)
    if choice == "longdouble":
        return vals.astype(np.longdouble) / 3
    if choice == "complex":
        return vals + 1j
    if choice == "str":
        return np.full(shape, "x")
    if choice == "bytes":
        return np.full(shape, b"y")
    if choice == "object":
        return np.array([None, 1], dtype=object)
    if choice == "empty":
        return np.zeros((0,) + shape[1:])
    return vals


@st.composite
def mutated_files(draw, bases, tmp):
    """``(path, description)``: a base model file with array- and byte-level damage."""
    kind = draw(st.sampled_from(sorted(bases)))
    arrays = dict(bases[kind])
    notes = [kind]
    for _ in range(draw(st.integers(0, 3))):           # 0: the valid file (exit 0 with a result)
        op = draw(st.sampled_from(["drop", "replace", "extra", "kind", "scalar", "meta", "transpose"]))
        keys = sorted(arrays)
        if op == "drop" and keys:
            k = draw(st.sampled_from(keys)); arrays.pop(k); notes.append(f"-{k}")
        elif op == "replace" and keys:
            k = draw(st.sampled_from(keys)); arrays[k] = draw(bad_arrays()); notes.append(f"{k}={arrays[k].dtype}{arrays[k].shape}")
        elif op == "extra":
            k = draw(st.sampled_from(["extra", "W", "U", "G", "b", "identity_mask", "depth", "N", "channels", "L"]))
            arrays[k] = draw(bad_arrays()); notes.append(f"+{k}")
        elif op == "kind":
            arrays["kind"] = np.asarray(draw(st.sampled_from(list(fm.TABLE) + ["nosuch", "", "classifier"])))
            notes.append(f"kind={arrays['kind']}")
        elif op == "scalar":
            k = draw(st.sampled_from(["m", "L", "eps", "depth", "N", "gamma", "T"]))
            arrays[k] = np.asarray(draw(st.sampled_from([0, -1, -3.5, 1e300, np.nan, np.inf, 2 ** 40, 0.5, 1])))
            notes.append(f"{k}={arrays[k]}")
        elif op == "meta":
            arrays["__meta__"] = np.asarray(draw(st.sampled_from(['[1]', '{"config": 1}', 'not json', '{}'])))
            notes.append("meta")
        elif op == "transpose" and keys:
            k = draw(st.sampled_from(keys))
            arrays[k] = np.asarray(arrays[k]).T.copy() if np.ndim(arrays[k]) else np.asarray([arrays[k]] * 2)
            notes.append(f"{k}.T")
    p = tmp / f"m{draw(st.integers(0, 10 ** 9))}.npz"
    buf = _io.BytesIO()
    np.savez(buf, **arrays)  # object arrays are written pickled: the readers must refuse them
    data = buf.getvalue()
    byte_op = draw(st.sampled_from(["none"] * 4 + ["truncate", "flip", "huge_member", "garbage", "empty"]))
    if byte_op == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif byte_op == "flip":
        b = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(b) - 1)); b[i] ^= draw(st.integers(1, 255))
        data = bytes(b)
    elif byte_op == "huge_member":
        k = draw(st.sampled_from(sorted(arrays) or ["W"]))
        shape = draw(st.sampled_from([(10 ** 6, 10 ** 6), (2 ** 21,), (2 ** 62, 2 ** 62), (0, 10 ** 12),
                                      (1024, 1025)]))
        zb = _io.BytesIO()
        with zipfile.ZipFile(zb, "w") as zf:
            for name, a in arrays.items():
                if name == k:
                    zf.writestr(f"{k}.npy", crafted_npy(shape))
                else:
                    with zf.open(f"{name}.npy", "w") as fh:
                        np.lib.format.write_array(fh, np.asarray(a), allow_pickle=True)
        data = zb.getvalue()
        notes.append(f"{k}:header{shape}")
    elif byte_op == "garbage":
        data = draw(st.binary(max_size=64))
    elif byte_op == "empty":
        data = b""
    if byte_op != "none":
        notes.append(byte_op)
    p.write_bytes(data)
    return p, " ".join(notes)


@st.composite
def inputs_X(draw, tmp):
    """An ``eval`` input file: good shapes, bad dtypes, NaN, crafted headers, not an .npy."""
    p = tmp / f"x{draw(st.integers(0, 10 ** 9))}.npy"
    what = draw(st.sampled_from(["good", "good", "bad", "huge", "garbage", "dir", "missing"]))
    if what == "good":
        X = np.array(draw(st.lists(st.floats(-2, 2), min_size=6, max_size=6))).reshape(2, 3)
        np.save(p, X[0] if draw(st.booleans()) else X)
    elif what == "bad":
        np.save(p, draw(bad_arrays()), allow_pickle=True)
    elif what == "huge":
        p.write_bytes(crafted_npy(draw(st.sampled_from([(2 ** 21, 3), (10 ** 7, 10 ** 7), (3, 2 ** 40)]))))
    elif what == "garbage":
        p.write_bytes(draw(st.binary(max_size=80)))
    elif what == "dir":
        p.mkdir()
    return p


# ---------------------------------------------------------------------------------------------- tests
@FUZZ
@given(data=st.data())
def test_fuzz_read_model_and_loaders(bases, tmp_path_factory, data):
    """The readers raise a typed :class:`DEQInputError` or return; nothing else escapes."""
    tmp = tmp_path_factory.mktemp("rm")
    p, note = data.draw(mutated_files(bases, tmp))
    for name, fn in (("read_model", fm.read_model), ("load_npz", dio.load_npz), ("load_model", fm.load_model)):
        try:
            with _memory_cap():
                fn(p)
            SUMMARY[f"{name}:ok"] += 1
        except DEQInputError:
            SUMMARY[f"{name}:error"] += 1
        except BaseException as exc:  # noqa: BLE001
            _escaped(name, [note], exc)


@FUZZ
@given(data=st.data())
def test_fuzz_check_convert_eval(bases, tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("cce")
    p, note = data.draw(mutated_files(bases, tmp))
    cmd = data.draw(st.sampled_from(["check", "convert", "eval"]))
    json_out = data.draw(st.booleans())
    if cmd == "check":
        argv = ["check", p, "--no-sdp"]
        ok = (0, 2)
    elif cmd == "convert":
        argv = ["convert", p, "-o", tmp / "sub" / "out.npz"]
        ok = (0, 2)
    else:
        argv = ["eval", p, data.draw(inputs_X(tmp)), "-o", tmp / "y" / "y.npy"]
        ok = (0, 1, 2)
    argv += ["--json"] if json_out else []
    code, out, err = run(dcli.main, argv, tag=f"deqtheory {cmd}")
    assert_clean(code, out, err, [note] + argv, ok_codes=ok, json_out=json_out)
    if cmd == "eval" and code in (0, 1) and code is not None:
        Y = np.load(tmp / "y" / "y.npy")
        if json_out:
            assert list(Y.shape) == json.loads(out)["shape"]
        if code == 0:
            assert np.all(np.isfinite(Y)), note
    if cmd == "convert" and code == 0 and code is not None:
        assert fm.read_model(tmp / "sub" / "out.npz")[0] in ("lben", "conv_lben")


@st.composite
def certificate_files(draw, tmp):
    p = tmp / f"c{draw(st.integers(0, 10 ** 9))}.npz"
    meta = draw(st.one_of(
        st.sampled_from(['[]', '"x"', 'null', '{', '{"format": 1}', '{}']),
        st.fixed_dictionaries({
            "format": st.sampled_from(["deqtheory-certificate-v1", "x"]),
            "condition": st.sampled_from(["lipschitz_lmi", "l2_sdp", "monotone", "pd", "nosuch", "mondeq_lipschitz", 3]),
            "status": st.sampled_from(["certified", "refuted", "bogus", None]),
            "margin": st.sampled_from([0.1, "nan", None, "x"]),
        }, optional={"witness_scalars": st.sampled_from([{"L": 2.0}, {"L": "inf"}, [], {"L": None}, {"L": "x"}]),
                     "tolerance": st.sampled_from([{}, [], {"a": "b"}]),
                     "stats": st.sampled_from([{}, 3])}).map(json.dumps)))
    arrays = {"meta": np.asarray(meta)}
    for k in draw(st.lists(st.sampled_from(["witness.lam", "witness.gamma", "witness.L", "witness.v"]), max_size=3)):
        arrays[k] = draw(bad_arrays()) if draw(st.booleans()) else np.ones(4)
    np.savez(p, **arrays)
    return p


def _fuzz_command(data, cmd, *args, note=""):
    """``deqtheory cmd *args [--json]``: exit 0 / 1 (did not verify) / 2 with the usual form."""
    json_out = data.draw(st.booleans())
    argv = [cmd, *args] + (["--json"] if json_out else [])
    code, out, err = run(dcli.main, argv, tag=f"deqtheory {cmd}")
    assert_clean(code, out, err, [note] + argv, ok_codes=(0, 1, 2), json_out=json_out)
    return code


@pytest.fixture(scope="module")
def saved_certificate(bases, tmp_path_factory):
    """A real ``lipschitz_lmi`` certificate of the mondeq base model (``check --save-certificate``)."""
    d = tmp_path_factory.mktemp("cert")
    model, cert = d / "mondeq.npz", d / "cert.npz"
    np.savez(model, **bases["mondeq"])
    assert dcli.main(["check", str(model), "--save-certificate", str(cert)]) == 0
    return model, cert


@FUZZ
@given(data=st.data())
def test_fuzz_verify(bases, saved_certificate, tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("ver")
    which = data.draw(st.sampled_from(["good", "mutated model", "bad certificate"]))
    model, cert = saved_certificate
    note = which
    if which == "mutated model":
        model, note = data.draw(mutated_files(bases, tmp))
    elif which == "bad certificate":
        cert = data.draw(st.one_of(certificate_files(tmp), mutated_files(bases, tmp).map(lambda t: t[0])))
    code = _fuzz_command(data, "verify", model, cert, note=note)
    if which == "good":
        assert code == 0                                   # the real certificate verifies on its model


@st.composite
def certification_files(draw, tmp, model_bytes):
    """Malformed files in the place of ``deqtheory-train certify --witness`` output."""
    from deqtheory.classifier_certificate import FORMAT

    p = tmp / f"cc{draw(st.integers(0, 10 ** 9))}.npz"
    N, E = draw(st.integers(0, 3)), draw(st.integers(0, 2))
    meta = draw(st.one_of(
        st.sampled_from(['[]', '3', '{', '{"format": "x"}', 'null']),
        st.fixed_dictionaries({"format": st.just(FORMAT),
                               "norm": st.sampled_from(["2", "inf", "7", None, 3]),
                               "certificates": st.sampled_from([[], ["lipschitz_lmi"], "x", [3], None]),
                               "domain": st.sampled_from([None, [0, 1], [1], "x", [0, "a"]])}).map(json.dumps)))
    arrays = {"__meta__": np.asarray(meta),
              "X": np.zeros((N, 3)), "labels": np.zeros(N, dtype=np.int64), "eps": np.linspace(0, 0.1, E),
              "certified": np.zeros((N, E), dtype=bool), "correct": np.ones(N, dtype=bool),
              "model_npz": np.frombuffer(model_bytes, dtype=np.uint8), "witness/z": np.zeros((N, 4))}
    for _ in range(draw(st.integers(0, 3))):
        k = draw(st.sampled_from(sorted(arrays)))
        if draw(st.booleans()):
            arrays.pop(k)
        else:
            arrays[k] = draw(bad_arrays())
    np.savez(p, **arrays)
    return p


@pytest.fixture(scope="module")
def saved_certification(tmp_path_factory):
    """A real classifier certification (``deqtheory-train certify --witness``) of a tiny IBP-MonDEQ."""
    torch = pytest.importorskip("torch")
    from deqtheory_train.certify import Readout, certify_deq
    from deqtheory_train.data import Normalize
    from deqtheory_train.experiment.certification import save_witness
    from deqtheory_train.layers import IBPMonDEQLayer

    torch.manual_seed(0)
    layer = IBPMonDEQLayer(4, 8, 3, dtype=torch.float64, m=0.3)
    model = torch.nn.Sequential(Normalize([0.5], [0.3]), torch.nn.Flatten(), layer, Readout(layer)).double()
    x = torch.rand(6, 1, 2, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(1)
    x, y = x.numpy(), y.numpy()
    out = certify_deq(model, x, y, norm="2", eps=[0.0, 0.01], witness=True)
    p = tmp_path_factory.mktemp("cc") / "cert.npz"
    save_witness(p, model, out, x, y, norm="2", eps=[0.0, 0.01], certifier="deq")
    return p


@st.composite
def damaged_certifications(draw, good, tmp):
    """The real certification with one to three members replaced, dropped or perturbed."""
    arrays = _arrays_of(good)
    for _ in range(draw(st.integers(0, 3))):
        k = draw(st.sampled_from(sorted(arrays)))
        op = draw(st.sampled_from(["drop", "replace", "scale", "flip"]))
        if op == "drop":
            arrays.pop(k)
        elif op == "replace":
            arrays[k] = draw(bad_arrays())
        elif op == "scale" and arrays[k].dtype.kind == "f":
            with np.errstate(all="ignore"):
                arrays[k] = arrays[k] * draw(st.sampled_from([-1.0, 0.0, 2.0, 1e300, np.nan]))
        elif op == "flip" and arrays[k].dtype == bool:
            arrays[k] = ~arrays[k]
    p = tmp / f"d{draw(st.integers(0, 10 ** 9))}.npz"
    np.savez(p, **arrays)
    return p


@FUZZ
@given(data=st.data())
def test_fuzz_verify_certification(bases, saved_certification, tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("vc")
    buf = _io.BytesIO()
    np.savez(buf, **bases["deq"])
    which = data.draw(st.sampled_from(["good", "damaged", "malformed", "model file"]))
    cert = {"good": lambda: saved_certification,
            "damaged": lambda: data.draw(damaged_certifications(saved_certification, tmp)),
            "malformed": lambda: data.draw(certification_files(tmp, buf.getvalue())),
            "model file": lambda: data.draw(mutated_files(bases, tmp))[0]}[which]()
    code = _fuzz_command(data, "verify-certification", cert, note=which)
    if which == "good":
        assert code == 0                                   # the real certification is confirmed


# ---------------------------------------------------------------------------------------------- arguments
numbers = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e400", "abc", "", "1/0", "36/255", "0.1", "-0", "3"])
flags = st.sampled_from(["--bogus", "--json", "--compact", "--no-sdp", "--tol", "--backend", "--to", "-o",
                         "--first", "--model", "--id", "--profile", "--threads", "--json-out", "--check"])


@st.composite
def deqtheory_argvs(draw, good_model, tmp):
    cmd = draw(st.sampled_from(["check", "eval", "convert", "verify", "verify-certification", "theorems", "nosuch"]))
    paths = st.sampled_from([str(good_model), str(tmp), str(tmp / "missing.npz"), "", "-", str(tmp / "no" / "x.npy")])
    argv = [cmd]
    for _ in range(draw(st.integers(0, 5))):
        argv.append(draw(st.one_of(paths, flags, numbers, st.sampled_from(["structured", "nosuch", "lben", "ci"]))))
    return argv


@FUZZ
@given(data=st.data())
def test_fuzz_deqtheory_arguments(bases, tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("args")
    model = tmp / "deq.npz"
    np.savez(model, **bases["deq"])
    argv = data.draw(deqtheory_argvs(model, tmp))
    if argv[0] == "theorems" and "--check" in argv:
        argv.remove("--check")  # running the catalogue's tests is not argument parsing
    code, out, err = run(dcli.main, argv, tag="deqtheory args")
    assert_clean(code, out, err, argv, ok_codes=(0, 1, 2), json_out=False)


@st.composite
def train_argvs(draw, model, tmp):
    cmd = draw(st.sampled_from(["certify", "export", "run", "list", "nosuch"]))
    argv = [cmd]
    if cmd == "certify":
        argv += [draw(st.sampled_from([str(model), str(tmp), str(tmp / "missing.npz")]))]
        if draw(st.booleans()):
            argv += ["--eps"] + draw(st.lists(numbers, min_size=0, max_size=2))
    elif cmd == "export":
        argv += [draw(st.sampled_from([str(model), str(tmp), str(tmp / "missing")])), "-o", str(tmp / "o" / "m.npz")]
    elif cmd == "run":
        argv += [draw(st.sampled_from(["--help", "nosuch_config", str(model)]))]
    for _ in range(draw(st.integers(0, 3))):
        argv += [draw(st.one_of(numbers, st.sampled_from(["--threads", "--max-samples", "--epochs", "--max-steps",
                                                          "--certifier", "nosuch", "--norm", "7", "--bogus",
                                                          "--json", "--device", "--split"])))]
    if cmd == "run" and "--help" not in argv:
        argv.append("--help")  # parsing only: no training here
    return argv


@FUZZ
@given(data=st.data())
def test_fuzz_train_arguments_and_files(bases, tmp_path_factory, data):
    pytest.importorskip("torch")
    tmp = tmp_path_factory.mktemp("targs")
    model, note = data.draw(mutated_files(bases, tmp))
    argv = data.draw(train_argvs(model, tmp))
    code, out, err = run(_train_main, argv, tag="deqtheory-train")
    assert_clean(code, out, err, [note] + argv, ok_codes=(0, 2), json_out=False)


# ---------------------------------------------------------------------------------------------- real limits
_CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), resource.RLIM_INFINITY))
from {mod} import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("shape", [(10 ** 6, 10 ** 6), (2 ** 30,), (2 ** 15, 2 ** 15)])
@pytest.mark.parametrize("cmd", ["check", "eval", "convert", "verify"])
def test_huge_headers_under_rlimit_as_with_the_real_limit(tmp_path, shape, cmd):
    """With the library's real :data:`MAX_ARRAY_ELEMENTS` (2³⁰) and a 2 GiB address-space cap, a file
    whose header declares up to 2³⁰ float64 (8 GiB) but holds 64 bytes exits 2 with one line."""
    m = tmp_path / "m.npz"
    with zipfile.ZipFile(m, "w") as zf:
        zf.writestr("W.npy", crafted_npy(shape))
    x = tmp_path / "x.npy"
    x.write_bytes(crafted_npy(shape))
    good = tmp_path / "good.npz"
    np.savez(good, W=np.zeros((2, 2)))
    argv = {"check": ["check", m, "--no-sdp"], "eval": ["eval", good, x, "-o", tmp_path / "y.npy"],
            "convert": ["convert", m, "-o", tmp_path / "o.npz"], "verify": ["verify", good, m]}[cmd]
    r = subprocess.run([sys.executable, "-c", _CAPPED.format(mod="deqtheory.cli"), str(2 << 30), *map(str, argv)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------- found by the fuzz
# Each crash the fuzz found, as a fixed example (fixed at the shared readers, see the commit messages).

def _one_line_2(main, argv):
    code, out, err = run(main, argv, tag="regression")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (code, err)
    return err


def test_found_header_declaring_more_data_than_the_member_holds(tmp_path):
    """numpy allocates the declared array before reading: 64 bytes declaring 2^20 float64 passed the
    element limit and allocated it (8 GiB at the real limit 2^30; io.check_npy_header now compares sizes)."""
    m = tmp_path / "m.npz"
    with zipfile.ZipFile(m, "w") as zf:
        zf.writestr("W.npy", crafted_npy((1024, 1024)))
    assert "holds" in _one_line_2(dcli.main, ["check", m, "--no-sdp"])
    with pytest.raises(DEQInputError, match="holds 64 bytes"):
        dio.load_npz_raw(m)


@pytest.mark.parametrize("meta", ["[1]", "not json", "3"])
def test_found_certification_meta_not_a_json_object(tmp_path, meta):
    """load_certification: JSONDecodeError / AttributeError tracebacks (io.json_object now)."""
    p = tmp_path / "c.npz"
    np.savez(p, __meta__=np.asarray(meta), X=np.zeros((1, 2)))
    assert "__meta__" in _one_line_2(dcli.main, ["verify-certification", p])


def test_found_certification_with_wrong_array_types(tmp_path, bases):
    from deqtheory.classifier_certificate import FORMAT

    p = tmp_path / "c.npz"
    buf = _io.BytesIO()
    np.savez(buf, **bases["deq"])
    np.savez(p, __meta__=np.asarray(json.dumps({"format": FORMAT, "norm": "2", "certificates": [], "domain": None,
                                                "model_sha256": "0"})),
             X=np.zeros((2, 3)), labels=np.asarray(["a", "b"]), eps=np.zeros(1), certified=np.zeros((2, 1), bool),
             correct=np.ones(2, bool), model_npz=np.frombuffer(buf.getvalue(), np.uint8), **{"witness/z": np.zeros((2, 4))})
    assert "labels" in _one_line_2(dcli.main, ["verify-certification", p])


@pytest.mark.parametrize("key, value", [("radius", np.zeros((1, 0))), ("witness/z", np.zeros((2, 8)))])
def test_found_certification_arrays_that_disagree_with_the_images(tmp_path, saved_certification, key, value):
    """recheck: 'operands could not be broadcast' traceback for a radius / witness of the wrong shape."""
    p = tmp_path / "c.npz"
    np.savez(p, **{**_arrays_of(saved_certification), key: value})
    assert key in _one_line_2(dcli.main, ["verify-certification", p])


def test_found_overflowing_stored_fixed_point(tmp_path, saved_certification, capsys):
    """A stored z of 1e300 overflowed the error bound (RuntimeWarning): now inf, the claims not confirmed."""
    arrays = _arrays_of(saved_certification)
    p = tmp_path / "c.npz"
    np.savez(p, **{**arrays, "witness/z": arrays["witness/z"] * 1e300})
    code, out, err = run(dcli.main, ["verify-certification", p], tag="regression")
    assert code == 1 and err == "" and "not_confirmed" in out


def test_found_text_where_a_model_scalar_belongs(tmp_path, bases):
    """formats._File.scalar: ``float('x')`` ValueError traceback for a string ``L`` in an lben file."""
    p = tmp_path / "l.npz"
    np.savez(p, **{**bases["lben"], "L": np.asarray("x")})
    assert "l.npz:L" in _one_line_2(dcli.main, ["check", p, "--no-sdp"])


def test_found_training_file_with_forged_header(tmp_path):
    """deqtheory-train export / certify read checkpoints with a bare np.load: MemoryError traceback."""
    pytest.importorskip("torch")
    p = tmp_path / "m.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("__meta__.npy", crafted_npy((10 ** 12,), "|u1"))
    _one_line_2(_train_main, ["export", p, "-o", tmp_path / "o.npz"])
    _one_line_2(_train_main, ["certify", p, "--eps", "0.1"])


def test_found_usage_errors_were_several_lines(tmp_path):
    """argparse printed the usage block before the error: now one line naming the command."""
    err = _one_line_2(dcli.main, ["check"])
    assert err.startswith("deqtheory check: error:")


def test_zz_summary():
    """Write the run's summary (examples by command and exit code, seconds) where asked."""
    path = os.environ.get("DEQTHEORY_FUZZ_SUMMARY")
    summary = {"profile": "long" if LONG else "ci", "seconds": round(time.perf_counter() - T0, 1),
               "outcomes": dict(sorted(SUMMARY.items())), "examples": sum(SUMMARY.values()),
               "crash_sites": CRASHES}
    if path:
        with open(path, "w") as fh:
            json.dump(summary, fh, indent=2)
    assert not any(k.endswith(":traceback") for k in SUMMARY), summary
