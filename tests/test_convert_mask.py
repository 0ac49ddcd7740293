"""Identity-activation mask in deqtheory.solvers / deqtheory.model (havens2023 footnote 3)."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory import solvers
from deqtheory.errors import DTypeError, ShapeError
from deqtheory.model import DEQ


def _oracle(W, v, mask):
    """Unique fixed point of z = φ(Wz + v) for strictly lower-triangular W by substitution (oracle)."""
    n = len(v)
    z = np.zeros(n)
    for i in range(n):
        a = W[i] @ z + v[i]
        z[i] = a if mask[i] else max(a, 0.0)
    return z


@pytest.mark.parametrize("method", ["exact_dag", "block", "pr", "fb", "lambda_fb", "alpha_avg", "anderson", "auto"])
def test_every_method_honours_mask(method):
    rng = np.random.default_rng(0)
    n = 6
    W = np.tril(rng.normal(size=(n, n)), -1) * 0.3
    mask = np.array([True, False, True, False, False, True])
    v = rng.normal(size=n) - 0.5
    opts = {"alpha": 0.5} if method in ("fb", "lambda_fb", "pr", "alpha_avg") else {}
    r = solvers.solve_injection(W, v, method=method, tol=1e-12, identity_mask=mask, max_iter=20000, **opts)
    assert r.converged
    assert np.allclose(r.z, _oracle(W, v, mask), atol=1e-9)
    assert np.any(r.z[mask] < 0)  # the identity coordinates really are not clipped


def test_mask_default_matches_relu_and_model_field():
    rng = np.random.default_rng(1)
    W = np.tril(rng.normal(size=(4, 4)), -1)
    x = rng.normal(size=(3, 4))
    m0 = DEQ(W)
    m1 = DEQ(W, identity_mask=np.zeros(4, bool))
    assert not m0.identity_mask.any() and m0.identity_mask.dtype == bool
    assert np.array_equal(m0.solve(x).z, m1.solve(x).z)
    mk = DEQ(W, identity_mask=[1, 0, 0, 0])
    z = mk.solve(x, method="exact_dag").z
    assert np.all(mk.fixed_point_residual(z, x) <= 1e-12)
    assert np.max(m0.fixed_point_residual(z, x)) > 1e-6 or np.all(z[:, 0] >= 0)


def test_mask_validation():
    W = np.zeros((3, 3))
    with pytest.raises(ShapeError):
        solvers.solve_injection(W, np.ones(3), identity_mask=np.ones(2, bool))
    with pytest.raises(DTypeError):
        solvers.solve_injection(W, np.ones(3), identity_mask=np.array(["a", "b", "c"]))
    with pytest.raises(ShapeError):
        DEQ(W, identity_mask=np.ones(4, bool))
