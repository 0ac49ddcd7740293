"""Property tests for deqtheory.solvers / deqtheory.graph (Hypothesis; inputs built from integer seeds).

Oracle: exact enumeration of ReLU activation patterns (tiny n), independent of every solver.
"""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import graph, solvers
from deqtheory.solvers import METHODS, SolverStatus
from deqtheory.testing import scaled
from deqtheory.testing.oracles import enumerate_fixed_points

seeds = st.integers(min_value=0, max_value=2 ** 32 - 1)
sizes = st.integers(min_value=1, max_value=5)


def monotone_W(rng, n, m_range=(0.05, 1.0)):
    m = rng.uniform(*m_range)
    s = rng.uniform(0.2, 2.0)
    A = s * rng.normal(size=(n, n)) / np.sqrt(n)
    B = s * rng.normal(size=(n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def lben_W(rng, n):
    lam = np.exp(rng.uniform(-2, 2, size=n))
    A = rng.normal(size=(n, n))
    S = rng.uniform(0.1, 1.0) * np.eye(n) + 0.3 * A.T @ A / n
    K = rng.normal(size=(n, n))
    return np.eye(n) - (S + K - K.T) / lam[:, None], lam


def mu_W(rng, n, eta):
    """μ∞,[η]⁻¹(W) = target < 1, with diagonal entries in [−3, 0.5]."""
    W = rng.normal(size=(n, n))
    np.fill_diagonal(W, 0.0)
    diag = rng.uniform(-3.0, 0.5, size=n)
    target = rng.uniform(-0.5, 0.95)
    rows = (np.abs(W) @ eta) / eta
    slack = np.maximum(target - diag, 0.0)
    W = W * np.where(rows > 0, slack / np.where(rows > 0, rows, 1.0), 0.0)[:, None]
    np.fill_diagonal(W, diag)
    return W


def dag_W(rng, n, scale=3.0):
    L = np.tril(rng.normal(size=(n, n)) * scale, -1) * (rng.random((n, n)) < 0.7)
    p = rng.permutation(n)
    return L[np.ix_(p, p)]


def any_W(rng, n, kind):
    if kind == "monotone":
        return monotone_W(rng, n)
    if kind == "lben":
        return lben_W(rng, n)[0]
    if kind == "mu":
        return mu_W(rng, n, np.ones(n))
    if kind == "dag":
        return dag_W(rng, n)
    return rng.normal(size=(n, n)) * rng.uniform(0.1, 2.0)  # arbitrary: maybe no fixed point


def recomputed(W, V, Z, p):
    R = Z - np.maximum(Z @ W.T + V, 0)
    return np.linalg.norm(R, axis=1) if p == 2 else np.abs(R).max(axis=1)


@settings(max_examples=scaled(40))
@given(seed=seeds, n=sizes, batch=st.integers(1, 3),
       kind=st.sampled_from(["monotone", "lben", "mu", "dag", "arbitrary"]),
       method=st.sampled_from(METHODS), norm=st.sampled_from([2, "inf"]),
       force=st.booleans())
def test_converged_status_implies_residual_at_most_tol(seed, n, batch, kind, method, norm, force):
    """Claim: for every method and every W, the reported residual is the residual of the returned z
    (recomputed here with numpy), and status CONVERGED ⇒ residual ≤ tol."""
    rng = np.random.default_rng(seed)
    W = any_W(rng, n, kind)
    V = rng.normal(size=(batch, n))
    kw = {}
    if force and method in ("fb", "lambda_fb", "pr"):
        kw["alpha"] = float(rng.uniform(0.01, 2.0))
    elif force and method == "alpha_avg":
        kw["alpha"] = float(rng.uniform(0.01, 1.0))
    res = solvers.solve_injection(W, V, method=method, norm=norm, max_iter=400, tol=1e-8, **kw)
    p = 2 if norm == 2 else np.inf
    if np.all(np.isfinite(res.z)):
        r = recomputed(W, V, res.z, p)
        assert np.allclose(res.sample_residuals, r, rtol=1e-12, atol=0)
        assert res.residual == pytest.approx(r.max(), rel=1e-12, abs=0)
        if res.converged:
            assert r.max() <= res.tol
    else:
        assert not res.converged
    assert res.residual_history[-1] == pytest.approx(res.residual, rel=1e-12, abs=0) or res.status in (
        SolverStatus.NONFINITE,)
    assert res.converged == (res.status is SolverStatus.CONVERGED)


@pytest.mark.theorem("pabbaraju2021:eq3")
@settings(max_examples=scaled(20))
@given(seed=seeds, n=sizes, method=st.sampled_from(["fb", "pr", "anderson", "auto", "block", "lambda_fb"]))
def test_all_methods_reach_the_unique_fixed_point_of_monotone_W(seed, n, method):
    """Claim (pabbaraju2021 §2, eq. 3; Winston & Kolter): for I − W ⪰ mI, m > 0, the fixed point is
    unique and FB (α = m/L² < 2m/L²), PR (any α > 0) reach it; Anderson does in practice here."""
    rng = np.random.default_rng(seed)
    W = monotone_W(rng, n)
    v = rng.normal(size=n) * 2
    sols = enumerate_fixed_points(W, v)
    assert len(sols) == 1
    res = solvers.solve_injection(W, v, method=method, tol=1e-11, max_iter=100000)
    assert res.converged, res.message
    assert np.linalg.norm(res.z - sols[0]) <= 1e-11 * (1 + np.linalg.norm(W, 2) / 0.05) + 1e-12


@settings(max_examples=scaled(20))
@given(seed=seeds, n=sizes, log_alpha=st.floats(min_value=-1.5, max_value=1.5, allow_nan=False))
def test_pr_converges_for_any_alpha(seed, n, log_alpha):
    """Claim (FACTS; Winston & Kolter 2020): PR converges for every α > 0 when I − W is strongly monotone,
    to the unique fixed point (m bounded below here only to keep the iteration count small)."""
    rng = np.random.default_rng(seed)
    W = monotone_W(rng, n, m_range=(0.3, 1.0))
    v = rng.normal(size=(2, n))
    res = solvers.solve_injection(W, v, method="pr", alpha=10 ** log_alpha, tol=1e-8, max_iter=100000)
    assert res.converged, res.message
    assert res.stats["contraction_bound"] < 1
    for k in range(2):
        assert np.linalg.norm(res.z[k] - enumerate_fixed_points(W, v[k])[0]) <= res.stats["error_bound_l2"] + 1e-13


@pytest.mark.theorem("pabbaraju2021:thm1")
@settings(max_examples=scaled(20))
@given(seed=seeds, n=sizes, method=st.sampled_from(["fb", "pr"]))
def test_error_bound_l2_dominates_true_error(seed, n, method):
    """Claim: ‖z − z*‖₂ ≤ ‖z − N(z)‖₂ (1 + ‖W‖₂/m) at any point z (pabbaraju2021 Thm 1 with U = I);
    checked at loose-tolerance iterates where the error is far from zero."""
    rng = np.random.default_rng(seed)
    W = monotone_W(rng, n)
    v = rng.normal(size=n) * 3
    z_star = enumerate_fixed_points(W, v)[0]
    res = solvers.solve_injection(W, v, method=method, tol=1e-2, max_iter=100000)
    err = np.linalg.norm(res.z - z_star)
    assert err <= res.stats["error_bound_l2"] * (1 + 1e-9) + 1e-13


@pytest.mark.theorem("wei2022:lemmaA.1")
@settings(max_examples=scaled(20))
@given(seed=seeds, n=sizes, alpha=st.floats(min_value=1e-3, max_value=5.0, allow_nan=False))
def test_lemma_A1_fixed_point_and_convergence(seed, n, alpha):
    """Claim (wei2022 Lemma A.1, eqs. A.3/A.4): if sym(Λ − ΛW) ≻ 0 then z* = σ(Wz* + v) is a fixed point
    of z ↦ σ((I − αΛ)z + αΛ(Wz + v)) for every α > 0, and the iteration converges to it for small α."""
    rng = np.random.default_rng(seed)
    W, lam = lben_W(rng, n)
    v = rng.normal(size=n)
    sols = enumerate_fixed_points(W, v)
    assert len(sols) == 1
    z = sols[0]
    a34 = np.maximum((z - alpha * lam * z) + alpha * lam * (W @ z + v), 0)
    assert np.allclose(a34, z, atol=1e-9 * (1 + alpha * lam.max()) * (1 + np.abs(z).max()))
    res = solvers.solve_injection(W, v, method="lambda_fb", Lambda=lam, tol=1e-10, max_iter=400000)
    assert res.converged, res.message
    assert 0 <= res.stats["contraction_bound"] < 1
    assert np.allclose(res.z, z, atol=1e-7)


def _wnorm(x, eta):
    return np.max(np.abs(x) / eta, axis=-1)


@pytest.mark.theorem("jafarpour2022:thm5.1")
@settings(max_examples=scaled(30))
@given(seed=seeds, n=sizes, frac=st.floats(min_value=0.01, max_value=1.0, allow_nan=False))
def test_thm51_alpha_average_is_a_contraction_in_weighted_linf(seed, n, frac):
    """Claim (jafarpour2022 Thm 5.1(2)): if μ∞,[η]⁻¹(W) < 1, then for every α ∈ (0, (1 − min_i[W_ii]⁻)⁻¹]
    the map N_α(z) = (1 − α)z + αReLU(Wz + v) is a contraction of ‖·‖∞,[η]⁻¹, factor ≤ 1 − α(1 − μ⁺)."""
    rng = np.random.default_rng(seed)
    eta = np.exp(rng.uniform(-1, 1, size=n))
    W = mu_W(rng, n, eta)
    mu = graph.mu_inf_weighted(W, eta)
    assert mu < 1
    amax = 1.0 / (1.0 - min(np.min(np.diag(W)), 0.0))
    alpha = frac * amax
    rho = 1 - alpha * (1 - max(mu, 0.0))
    v = rng.normal(size=n)
    Z1 = rng.normal(size=(50, n)) * 3
    Z2 = Z1 + rng.normal(size=(50, n)) * rng.choice([1e-3, 1.0, 10.0])

    def N(Z):
        return (1 - alpha) * Z + alpha * np.maximum(Z @ W.T + v, 0)

    lhs = _wnorm(N(Z1) - N(Z2), eta)
    rhs = rho * _wnorm(Z1 - Z2, eta)
    assert np.all(lhs <= rhs * (1 + 1e-12) + 1e-14)
    res = solvers.solve_injection(W, v, method="alpha_avg", eta=eta, alpha=alpha, tol=1e-10, max_iter=200000)
    assert res.converged
    sols = enumerate_fixed_points(W, v)
    assert len(sols) == 1  # Thm 5.1(1)
    assert np.abs(res.z - sols[0]).max() <= res.stats["error_bound_linf"] * (1 + 1e-9) + 1e-14


@pytest.mark.theorem("jafarpour2022:remark6.4.3")
@settings(max_examples=scaled(30))
@given(seed=seeds, n=st.integers(1, 8), delta=st.floats(min_value=1e-3, max_value=1.0, allow_nan=False))
def test_remark643_dag_eta_bound(seed, n, delta):
    """Claim (jafarpour2022 Remark 6.4.3, made quantitative): for a feedforward W and η_i = δ^{K−level(i)},
    μ∞,[η]⁻¹(W) ≤ δ‖W‖∞ for δ ∈ (0, 1], hence < 1 when δ < 1/‖W‖∞; the exact solve and the
    α-average iteration with this η agree."""
    rng = np.random.default_rng(seed)
    W = dag_W(rng, n)
    eta = graph.dag_eta(W, delta)
    mu = graph.mu_inf_weighted(W, eta)
    r = np.abs(W).sum(axis=1).max()
    assert mu <= delta * r * (1 + 1e-12)
    c = graph.check_dag_mu_inf(W)
    assert c.certified and c.verify(W=W).certified
    v = rng.normal(size=(2, n))
    exact = solvers.solve_injection(W, v, method="exact_dag")
    assert exact.converged and exact.residual <= 1e-12 * (1 + np.abs(v).max()) * (1 + r) ** n
    avg = solvers.solve_injection(W, v, method="alpha_avg", eta=c.witness["eta"], tol=1e-10, max_iter=100000)
    assert avg.converged
    assert np.allclose(avg.z, exact.z, atol=1e-8 * (1 + np.abs(exact.z).max()))


@settings(max_examples=scaled(20))
@given(seed=seeds, n=sizes, batch=st.integers(2, 4), method=st.sampled_from(["pr", "fb", "anderson", "exact_dag"]))
def test_batch_equals_individual_solves(seed, n, batch, method):
    """Claim: solving a batch gives, row by row, the fixed points of the individual inputs."""
    rng = np.random.default_rng(seed)
    W = dag_W(rng, n) if method == "exact_dag" else monotone_W(rng, n, m_range=(0.3, 1.0))
    V = rng.normal(size=(batch, n))
    res = solvers.solve_injection(W, V, method=method, tol=1e-11, max_iter=100000)
    assert res.converged
    for k in range(batch):
        one = solvers.solve_injection(W, V[k], method=method, tol=1e-11, max_iter=100000)
        assert np.allclose(one.z, res.z[k], atol=1e-8)
