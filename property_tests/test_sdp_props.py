"""Property tests for deqtheory.sdp (havens2023 Prop 2.1, Prop 2.2, Thm 3.1; solver-found witnesses).

Inputs are built by construction from integer seeds (numpy RNG): MonDEQ (havens2023 eq. 5) and
G-MonDEQ (eq. 6) weights, Gaussian U, G, b. No filtering.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory.linalg import check_monotone
from deqtheory.sdp import lipschitz_certificate, min_lipschitz, sdp_wellposed
from deqtheory.solvers import solve
from deqtheory.testing import scaled

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _mondeq(rng, n, m):
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def _gmondeq(rng, n, m):
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    phi = np.exp(rng.uniform(-1.5, 1.5, n))
    return np.eye(n) - phi[:, None] * (A.T @ A + B.T - B + m * np.eye(n))


def _fixed_point(W, U, b, x, Lambda=None):
    r = solve(W, U, b, x, method="pr", tol=1e-12, max_iter=20000, Lambda=Lambda)
    assert r.converged, r.message
    return np.asarray(r.z)


def _jacobian(W, U, G, b, x, Lambda=None):
    """dy/dx = G (I − DW)⁻¹ D U at the fixed point, D = diag(1[Wz + Ux + b > 0])."""
    z = _fixed_point(W, U, b, x, Lambda)
    D = (W @ z + U @ x + b > 0).astype(float)
    n = W.shape[0]
    return G @ np.linalg.solve(np.eye(n) - D[:, None] * W, D[:, None] * U)


def _empirical_lower_bound(W, U, G, b, rng, Lambda=None, points=6, rounds=3):
    """max ‖J(x)‖₂ over random points and a few ascent moves along the top singular direction."""
    best = 0.0
    for _ in range(points):
        x = 2 * rng.standard_normal(U.shape[1])
        for _ in range(rounds):
            J = _jacobian(W, U, G, b, x, Lambda)
            _, s, Vt = np.linalg.svd(J)
            best = max(best, float(s[0]))
            cands = [x + t * Vt[0] for t in (-1.0, -0.3, 0.3, 1.0)]
            norms = [float(np.linalg.norm(_jacobian(W, U, G, b, c, Lambda), 2)) for c in cands]
            k = int(np.argmax(norms))
            best = max(best, norms[k])
            x = cands[k]
    return best


@pytest.mark.theorem("havens2023:prop2.1")
@settings(max_examples=scaled(6))
@given(seed=seeds, n=st.integers(3, 10))
def test_prop21_certified_wellposed_has_unique_fixed_point(seed, n):
    """Prop 2.1: if (3) holds (Γ found by the SDP and proved), the DEQ is well-posed: the
    Peaceman–Rachford iteration in the Γ-metric converges from different starts to one fixed point."""
    rng = np.random.default_rng(seed)
    W = _gmondeq(rng, n, m=rng.uniform(0.05, 1.0))
    c = sdp_wellposed(W)
    assert c.certified and c.verify(W=W).certified
    d = 3
    U = rng.standard_normal((n, d))
    b = rng.standard_normal(n)
    x = rng.standard_normal(d)
    z1 = solve(W, U, b, x, method="pr", tol=1e-11, max_iter=50000, Lambda=c.witness["gamma"])
    z2 = solve(W, U, b, x, method="pr", tol=1e-11, max_iter=50000, Lambda=c.witness["gamma"],
               z0=10 * rng.standard_normal(n))
    assert z1.converged and z2.converged
    np.testing.assert_allclose(z1.z, z2.z, atol=1e-7 * (1 + np.abs(z1.z).max()))


@pytest.mark.theorem("havens2023:prop2.2")
@settings(max_examples=scaled(3))
@given(seed=seeds, n=st.integers(3, 8))
def test_prop22_certified_l_bounds_output_differences(seed, n):
    """Prop 2.2: a proved (4) at L (solver-found Λ) gives ‖y(x₁) − y(x₂)‖ ≤ L‖x₁ − x₂‖."""
    rng = np.random.default_rng(seed)
    W = _gmondeq(rng, n, m=rng.uniform(0.1, 1.0))
    d, p = 3, 2
    U = rng.standard_normal((n, d))
    G = rng.standard_normal((p, n))
    b = rng.standard_normal(n)
    L = 1.001 * min_lipschitz(W, U, G).witness["L"]
    c = lipschitz_certificate(W, U, G, L, strict=True)
    assert c.certified and c.verify(W=W, U=U, G=G).certified
    lam = c.witness["lam"]
    for _ in range(10):
        x1 = 2 * rng.standard_normal(d)
        x2 = x1 + rng.standard_normal(d) * 10 ** rng.uniform(-3, 0.5)
        y1 = G @ _fixed_point(W, U, b, x1, lam)
        y2 = G @ _fixed_point(W, U, b, x2, lam)
        assert np.linalg.norm(y1 - y2) <= L * np.linalg.norm(x1 - x2) * (1 + 1e-7) + 1e-8


@pytest.mark.theorem("havens2023:thm3.1")
@settings(max_examples=scaled(5))
@given(seed=seeds, n=st.integers(3, 9))
def test_thm31_min_l_between_empirical_and_analytic_bounds(seed, n):
    """Thm 3.1 with well-posedness from monotonicity: the minimal L of (10) is an upper bound on the
    Lipschitz constant, so it is ≥ every Jacobian norm ‖G(I − DW)⁻¹DU‖₂ at solved fixed points, and
    it is ≤ the analytic MonDEQ bound ‖U‖₂‖G‖₂/m (Λ = I/‖U‖₂ solves (10) with G = I, havens2023 §3)."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(0.1, 1.0)
    W = _mondeq(rng, n, m)
    d, p = 3, 2
    U = rng.standard_normal((n, d))
    G = rng.standard_normal((p, n))
    b = rng.standard_normal(n)
    mono = check_monotone(W)
    assert mono.certified
    c = min_lipschitz(W, U, G, wellposed=mono)
    assert c.certified and c.witness["wellposed_condition"] == "monotone"
    assert c.verify(W=W, U=U, G=G, wellposed=mono).certified
    L = c.witness["L"]
    m_true = np.linalg.eigvalsh(np.eye(n) - 0.5 * (W + W.T))[0]  # ≥ m by construction
    analytic = np.linalg.norm(U, 2) * np.linalg.norm(G, 2) / m_true
    assert L <= analytic * (1 + 1e-7)
    lower = _empirical_lower_bound(W, U, G, b, rng)
    assert lower <= L * (1 + 1e-9)
    # no L below the solver optimum is certified with the found Λ (perturbed witness)
    low = c.replace(witness={**dict(c.witness), "L": c.stats["L_solver"] * (1 - 1e-3)})
    assert not low.verify(W=W, U=U, G=G).certified


@pytest.mark.theorem("havens2023:thm3.1")
@settings(max_examples=scaled(3))
@given(seed=seeds, n=st.integers(2, 8))
def test_thm31_gmondeq_sdp_l_above_jacobians(seed, n):
    """Thm 3.1 with well-posedness from (3) (non-monotone G-MonDEQ): L ≥ sup of Jacobian norms,
    and L ≤ ‖G‖₂‖Φ⁻¹U‖₂/m (havens2023 Thm 3.3 bound composed with ‖G‖₂)."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(0.1, 1.0)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    phi = np.exp(rng.uniform(-1.5, 1.5, n))
    W = np.eye(n) - phi[:, None] * (A.T @ A + B.T - B + m * np.eye(n))
    d, p = 2, 2
    U = rng.standard_normal((n, d))
    G = rng.standard_normal((p, n))
    b = rng.standard_normal(n)
    c = min_lipschitz(W, U, G)
    assert c.certified and c.witness["wellposed_condition"] == "sdp_wellposed"
    L = c.witness["L"]
    assert L <= np.linalg.norm(G, 2) * np.linalg.norm(U / phi[:, None], 2) / m * (1 + 1e-7)
    lower = _empirical_lower_bound(W, U, G, b, rng, Lambda=c.witness["gamma"], points=4, rounds=2)
    assert lower <= L * (1 + 1e-9)


@settings(max_examples=scaled(3))
@given(seed=seeds, n=st.integers(2, 10))
def test_structured_backend_agrees_with_cvxpy(seed, n):
    """The structured IPM and CVXOPT/Clarabel (through cvxpy) find the same minimal L to 1e-6 relative."""
    rng = np.random.default_rng(seed)
    W = _gmondeq(rng, n, m=rng.uniform(0.1, 1.0))
    U = rng.standard_normal((n, 3))
    G = rng.standard_normal((2, n))
    Ls = min_lipschitz(W, U, G, backend="structured").witness["L"]
    for backend in ("cvxopt", "clarabel"):
        Lc = min_lipschitz(W, U, G, backend=backend).witness["L"]
        assert abs(Lc - Ls) <= 1e-6 * Ls


@settings(max_examples=scaled(4))
@given(seed=seeds, n=st.integers(2, 9), f=st.floats(min_value=0.2, max_value=0.98, allow_nan=False))
def test_refutation_consistent_with_min_l(seed, n, f):
    """REFUTED for (10) at L is proved only below the minimal L: at f·L* (f < 1) the certificate is
    REFUTED (dual witness, re-verified), at 1.001·L* it is CERTIFIED and never REFUTED."""
    from deqtheory.certificates import Status
    rng = np.random.default_rng(seed)
    W = _gmondeq(rng, n, m=rng.uniform(0.1, 1.0))
    U = rng.standard_normal((n, 2))
    G = rng.standard_normal((2, n))
    Ls = min_lipschitz(W, U, G).witness["L"]
    below = lipschitz_certificate(W, U, G, f * Ls, strict=False)
    assert below.status is Status.REFUTED
    assert below.verify(W=W, U=U, G=G).status is Status.REFUTED
    above = lipschitz_certificate(W, U, G, 1.001 * Ls, strict=False)
    assert above.certified and above.status is not Status.REFUTED
