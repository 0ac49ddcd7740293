"""Unit tests for deqtheory.model.DEQ."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from deqtheory.errors import ConvergenceWarning, DTypeError, EmptyArrayError, NonFiniteError, ShapeError
from deqtheory.model import DEQ
from deqtheory.solvers import SolverStatus


def monotone_W(rng, n, m=0.5):
    A = rng.normal(size=(n, n)) / np.sqrt(n)
    B = rng.normal(size=(n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


@pytest.fixture
def model(rng):
    n, d, p = 6, 3, 2
    return DEQ(monotone_W(rng, n), rng.normal(size=(n, d)), rng.normal(size=n),
               rng.normal(size=(p, n)), rng.normal(size=p))


def test_defaults_identity_and_zeros(rng):
    W = monotone_W(rng, 4)
    m = DEQ(W)
    assert (m.n, m.d, m.p) == (4, 4, 4)
    assert np.array_equal(m.U, np.eye(4)) and np.array_equal(m.G, np.eye(4))
    assert np.array_equal(m.b, np.zeros(4)) and np.array_equal(m.b_y, np.zeros(4))
    x = rng.normal(size=4)
    res = m.solve(x, tol=1e-12)
    assert np.allclose(m(x, tol=1e-12), res.z)  # y = z when G = I, b_y = 0
    assert repr(m) == "DEQ(n=4, d=4, p=4)"


def test_call_is_G_z_plus_b_y(model, rng):
    X = rng.normal(size=(5, 3))
    res = model.solve(X, tol=1e-12)
    assert res.converged and res.z.shape == (5, 6)
    Y = model(X, tol=1e-12)
    assert Y.shape == (5, 2)
    assert np.allclose(Y, res.z @ model.G.T + model.b_y)
    # z really is the fixed point of the model's own equation
    Z = res.z
    assert np.allclose(Z, np.maximum(Z @ model.W.T + X @ model.U.T + model.b, 0), atol=1e-11)
    y1 = model(X[2], tol=1e-12)
    assert y1.shape == (2,) and np.allclose(y1, Y[2], atol=1e-10)


def test_fixed_point_residual_matches_manual(model, rng):
    X = rng.normal(size=(3, 3))
    Z = rng.random((3, 6))
    r = model.fixed_point_residual(Z, X)
    manual = np.linalg.norm(Z - np.maximum(Z @ model.W.T + X @ model.U.T + model.b, 0), axis=1)
    assert np.allclose(r, manual)
    rinf = model.fixed_point_residual(Z, X, norm="inf")
    assert np.allclose(rinf, np.abs(Z - np.maximum(Z @ model.W.T + X @ model.U.T + model.b, 0)).max(axis=1))
    assert isinstance(model.fixed_point_residual(Z[0], X[0]), float)


def test_injection(model, rng):
    x = rng.normal(size=3)
    assert np.allclose(model.injection(x), model.U @ x + model.b)
    with pytest.raises(ShapeError, match=r"\(4,\)"):
        model.injection(np.ones(4))


def test_frozen_and_readonly_and_copied(rng):
    W = monotone_W(rng, 3)
    m = DEQ(W)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.W = np.eye(3)
    with pytest.raises(ValueError):
        m.W[0, 0] = 1.0
    W[0, 0] = 123.0  # the model holds its own copy
    assert m.W[0, 0] != 123.0
    assert m.W.dtype == np.float64


def test_call_warns_when_not_converged():
    m = DEQ(2.0 * np.eye(2))  # z = ReLU(2z + x) has no fixed point for x > 0
    with pytest.warns(ConvergenceWarning, match="anderson|max_iterations|diverged"):
        m(np.ones(2), max_iter=50)
    res = m.solve(np.ones(2), max_iter=50)
    assert res.status is not SolverStatus.CONVERGED


def test_solve_options_pass_through(model, rng):
    x = rng.normal(size=3)
    r = model.solve(x, method="fb", tol=1e-10, max_iter=100000)
    assert r.method == "fb" and r.converged
    r2 = model.solve(x, method="pr", alpha=0.3, norm="inf")
    assert r2.alpha == 0.3 and r2.norm == np.inf


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"W": np.ones((3, 4))}, ShapeError, r"W.*\(3, 4\)"),
    ({"W": np.eye(3), "U": np.ones((2, 5))}, ShapeError, r"U.*\(2, 5\)"),
    ({"W": np.eye(3), "b": np.ones(4)}, ShapeError, r"b.*\(4,\)"),
    ({"W": np.eye(3), "G": np.ones((2, 4))}, ShapeError, r"G.*\(2, 4\)"),
    ({"W": np.eye(3), "G": np.ones((2, 3)), "b_y": np.ones(3)}, ShapeError, r"b_y.*\(3,\)"),
    ({"W": np.eye(3), "b_y": np.ones(2)}, ShapeError, r"b_y"),
    ({"W": np.array([[np.nan]])}, NonFiniteError, "W"),
    ({"W": np.eye(2), "U": np.array([[1.0], [np.inf]])}, NonFiniteError, "U"),
    ({"W": np.eye(2) * 1j}, DTypeError, "W"),
    ({"W": np.zeros((0, 0))}, EmptyArrayError, "W"),
    ({"W": np.ones(3)}, ShapeError, "W"),
])
def test_bad_input_raises_typed_errors(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        DEQ(**kwargs)


def test_bad_inputs_to_methods(model):
    with pytest.raises(ShapeError, match=r"\(2, 4\)"):
        model.solve(np.ones((2, 4)))
    with pytest.raises(ShapeError, match="z"):
        model.output(np.ones(5))
    with pytest.raises(NonFiniteError):
        model(np.array([np.nan, 0.0, 0.0]))
