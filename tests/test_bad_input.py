"""Table-driven bad-input tests: every case must raise the right typed ValueError subclass,
whose message names the argument and (where relevant) the offending shape."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from deqtheory import errors
from deqtheory._validate import as_positive_diagonal, as_scalar
from deqtheory.io import load_npz, load_deq_arrays
from deqtheory.report import validate_deq_arrays
from deqtheory.verified import verified_pd

I3 = np.eye(3)


def _write(tmp_path, name, **arrays):
    p = tmp_path / name
    np.savez(p, **arrays)
    return str(p)


# (id, callable, expected error class, substrings that must appear in the message)
CASES = [
    ("W non-square", lambda t: validate_deq_arrays(np.ones((3, 4))), errors.ShapeError, ["W", "(3, 4)"]),
    ("W 1-d", lambda t: validate_deq_arrays(np.ones(3)), errors.ShapeError, ["W", "(3,)"]),
    ("W 3-d", lambda t: validate_deq_arrays(np.ones((2, 2, 2))), errors.ShapeError, ["W", "(2, 2, 2)"]),
    ("W NaN", lambda t: validate_deq_arrays(np.array([[np.nan, 0], [0, 0]])), errors.NonFiniteError, ["W", "NaN"]),
    ("W Inf", lambda t: validate_deq_arrays(np.array([[np.inf, 0], [0, 0]])), errors.NonFiniteError, ["W"]),
    ("W complex", lambda t: validate_deq_arrays(np.eye(2) * 1j), errors.DTypeError, ["W", "complex"]),
    ("W object", lambda t: validate_deq_arrays(np.array([[None, 1], [1, 1]], dtype=object)), errors.DTypeError, ["W", "object"]),
    ("W strings", lambda t: validate_deq_arrays(np.array([["a", "b"], ["c", "d"]])), errors.DTypeError, ["W"]),
    ("W empty", lambda t: validate_deq_arrays(np.zeros((0, 0))), errors.EmptyArrayError, ["W", "(0, 0)"]),
    ("W None", lambda t: validate_deq_arrays(None), errors.DTypeError, ["W"]),
    ("U wrong rows", lambda t: validate_deq_arrays(I3, U=np.ones((4, 2))), errors.ShapeError, ["U", "(4, 2)"]),
    ("U 1-d", lambda t: validate_deq_arrays(I3, U=np.ones(3)), errors.ShapeError, ["U", "(3,)"]),
    ("b wrong length", lambda t: validate_deq_arrays(I3, b=np.ones(4)), errors.ShapeError, ["b", "(4,)"]),
    ("b 2-d", lambda t: validate_deq_arrays(I3, b=np.ones((3, 1))), errors.ShapeError, ["b", "(3, 1)"]),
    ("G wrong cols", lambda t: validate_deq_arrays(I3, G=np.ones((2, 5))), errors.ShapeError, ["G", "(2, 5)"]),
    ("b_y wrong length", lambda t: validate_deq_arrays(I3, G=np.ones((2, 3)), b_y=np.ones(3)), errors.ShapeError, ["b_y", "(3,)"]),
    ("G NaN", lambda t: validate_deq_arrays(I3, G=np.full((2, 3), np.nan)), errors.NonFiniteError, ["G"]),
    ("m <= 0", lambda t: as_scalar("m", 0.0, positive=True), errors.DomainError, ["m", "> 0"]),
    ("m negative", lambda t: as_scalar("m", -1, positive=True), errors.DomainError, ["m"]),
    ("eps < 0", lambda t: as_scalar("eps", -1e-3, nonnegative=True), errors.DomainError, ["eps", ">= 0"]),
    ("L <= 0", lambda t: as_scalar("L", 0, positive=True), errors.DomainError, ["L"]),
    ("L NaN", lambda t: as_scalar("L", float("nan"), positive=True), errors.NonFiniteError, ["L"]),
    ("L complex", lambda t: as_scalar("L", 1 + 2j, positive=True), errors.DTypeError, ["L", "complex"]),
    ("L bool", lambda t: as_scalar("L", True, positive=True), errors.DTypeError, ["L", "bool"]),
    ("L vector", lambda t: as_scalar("L", np.ones(2), positive=True), errors.ShapeError, ["L", "(2,)"]),
    ("diag non-positive", lambda t: as_positive_diagonal("Phi", np.array([1.0, 0.0, 2.0])), errors.DomainError, ["Phi", "entry 1"]),
    ("diag not diagonal", lambda t: as_positive_diagonal("Psi", np.ones((2, 2))), errors.ShapeError, ["Psi", "not diagonal"]),
    ("verified_pd non-square", lambda t: verified_pd(np.ones((2, 3))), errors.ShapeError, ["A", "(2, 3)"]),
    ("verified_pd negative abs_err", lambda t: verified_pd(I3, abs_err=-1.0), errors.DomainError, ["abs_err"]),
    ("file missing", lambda t: load_npz(str(t / "nope.npz")), errors.ModelFileError, ["nope.npz", "no such file"]),
    ("file not npz", lambda t: (t.joinpath("x.npz").write_text("hello"), load_npz(str(t / "x.npz"))),
     errors.ModelFileError, ["x.npz", "not an .npz"]),
    ("file truncated", lambda t: _truncated(t), errors.ModelFileError, ["trunc.npz"]),
    ("file is a directory", lambda t: load_npz(str(t)), errors.ModelFileError, ["directory"]),
    ("file missing W", lambda t: load_deq_arrays(_write(t, "noW.npz", U=np.eye(2))), errors.ModelFileError, ["noW.npz", "W"]),
    ("file object array", lambda t: load_npz(_write(t, "obj.npz", W=np.array([{"a": 1}], dtype=object))),
     errors.ModelFileError, ["obj.npz", "W", "pickle"]),
    ("file NaN in W", lambda t: load_deq_arrays(_write(t, "nan.npz", W=np.full((2, 2), np.nan))), errors.NonFiniteError, ["nan.npz:W"]),
    ("file complex W", lambda t: load_deq_arrays(_write(t, "cplx.npz", W=np.eye(2) * 1j)), errors.DTypeError, ["cplx.npz:W"]),
]


def _truncated(t):
    p = _write(t, "full.npz", W=np.random.default_rng(0).standard_normal((40, 40)))
    with open(p, "rb") as fh:
        data = fh.read()
    q = t / "trunc.npz"
    q.write_bytes(data[: len(data) // 2])
    return load_npz(str(q))


def test_table_has_at_least_twenty_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_typed_error(case, tmp_path):
    _, fn, exc, needles = case
    with pytest.raises(exc) as info:
        fn(tmp_path)
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    for s in needles:
        assert s in msg, f"{s!r} not in message {msg!r}"


@pytest.mark.parametrize("arrays, needle", [
    ({"W": np.ones((3, 4))}, "(3, 4)"),
    ({"W": np.eye(3), "U": np.ones((2, 2))}, "U"),
    ({"U": np.eye(3)}, "W"),
])
def test_cli_check_bad_input_exits_2_with_one_line(tmp_path, arrays, needle):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "check", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and needle in err and "bad.npz" in err
    assert r.stdout == ""


def test_cli_check_not_npz_exits_2(tmp_path):
    p = tmp_path / "model.txt"
    p.write_text("W = 1")
    r = subprocess.run([sys.executable, "-m", "deqtheory.cli", "check", str(p), "--json"], capture_output=True, text=True)
    assert r.returncode == 2 and "model.txt" in r.stderr
