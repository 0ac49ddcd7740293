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
