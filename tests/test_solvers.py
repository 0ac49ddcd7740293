"""Unit tests for deqtheory.solvers: every method against an exact activation-pattern oracle.

Oracle (independent of every solver): for tiny n, enumerate the active set S; on S the equation is
linear, z_S = (I - W_SS)^{-1} v_S, z_{S^c} = 0, and the pattern is consistent iff z_S >= 0 and
(W z + v)_{S^c} <= 0. Every fixed point of z = ReLU(Wz + v) arises this way.
"""
from __future__ import annotations


import numpy as np
import pytest

from deqtheory import graph, solvers
from deqtheory.errors import DomainError, NonFiniteError, ShapeError
from deqtheory.solvers import SolverStatus
from deqtheory.testing.oracles import enumerate_fixed_points

ITERATIVE = ("fb", "lambda_fb", "pr", "anderson", "block", "auto")


def monotone_W(rng, n, m=0.3, scale=1.0):
    A = scale * rng.normal(size=(n, n)) / np.sqrt(n)
    B = scale * rng.normal(size=(n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def relu_res(W, v, z):
    return np.linalg.norm(z - np.maximum(W @ z + v, 0))


@pytest.fixture
def problem(rng):
    n, d = 5, 3
    W = monotone_W(rng, n)
    U = rng.normal(size=(n, d))
    b = rng.normal(size=n)
    X = rng.normal(size=(4, d))
    return W, U, b, X


@pytest.mark.theorem("pabbaraju2021:eq3")
@pytest.mark.parametrize("method", ITERATIVE)
def test_methods_reach_oracle_fixed_point_on_monotone_W(problem, method):
    W, U, b, X = problem
    res = solvers.solve(W, U, b, X, method=method, tol=1e-11)
    assert res.status is SolverStatus.CONVERGED, res.message
    assert res.z.shape == (4, 5)
    for k in range(X.shape[0]):
        v = U @ X[k] + b
        sols = enumerate_fixed_points(W, v)
        assert len(sols) == 1  # monotone ⇒ unique
        err = np.linalg.norm(res.z[k] - sols[0])
        assert err <= res.stats.get("error_bound_l2", 1e-8) + 1e-12
        assert err < 1e-8


def test_fb_default_alpha_is_m_over_L2(problem):
    W, U, b, X = problem
    S = np.eye(5) - W
    m = np.linalg.eigvalsh((S + S.T) / 2)[0]
    L = np.linalg.norm(S, 2)
    res = solvers.solve(W, U, b, X, method="fb")
    assert res.alpha == pytest.approx(m / L ** 2, rel=1e-10)
    assert res.stats["alpha_max"] == pytest.approx(2 * m / L ** 2, rel=1e-10)


@pytest.mark.theorem("pabbaraju2021:prop1")
def test_fb_contraction_bound_is_an_upper_bound(problem):
    W, U, b, X = problem
    res = solvers.solve(W, U, b, X, method="fb")
    T = np.eye(5) - res.alpha * (np.eye(5) - W)
    assert np.linalg.norm(T, 2) <= res.stats["contraction_bound"] + 1e-12
    assert res.stats["contraction_bound"] < 1


def test_single_input_gives_vector(problem):
    W, U, b, X = problem
    r1 = solvers.solve(W, U, b, X[1], method="pr", tol=1e-12)
    rb = solvers.solve(W, U, b, X, method="pr", tol=1e-12)
    assert r1.z.shape == (5,)
    assert np.allclose(r1.z, rb.z[1], atol=1e-10)
    assert r1.sample_residuals.shape == (1,)


@pytest.mark.theorem("pabbaraju2021:eq3")
def test_fb_at_the_printed_endpoint_alpha_2m_over_L2_does_not_converge():
    """Printed: 'contractive for any 0 < α ≤ 2m/L²'. At α = 2m/L² the bound of Prop. 1 is exactly 1.
    W = (1 − m)I (so I − W = mI, L = m) and α = 2/m give z ← ReLU(−z + αv): a 2-cycle {0, 2v/m}."""
    m = 0.5
    W = (1 - m) * np.eye(2)
    v = np.array([1.0, 2.0])
    res = solvers.solve(W, None, None, v, method="fb", alpha=2 * m / m ** 2, max_iter=200)
    assert res.status is SolverStatus.MAX_ITERATIONS
    assert res.residual > 1.0  # honest residual of the last iterate
    assert res.residual == pytest.approx(relu_res(W, v, res.z))
    # strictly inside the range it converges
    ok = solvers.solve(W, None, None, v, method="fb", alpha=0.99 * 2 * m / m ** 2, max_iter=20000)
    assert ok.converged and np.allclose(ok.z, v / m, atol=1e-7)


def test_fb_alpha_too_large_stalls_or_diverges_honestly(rng):
    n = 4
    W = np.diag([0.5, -9.0, 0.2, -3.0])  # I − W = diag(0.5, 10, 0.8, 4): m = 0.5, L = 10
    v = np.array([1.0, 1.0, 1.0, 1.0])
    res = solvers.solve(W, None, None, v, method="fb", alpha=0.5, max_iter=500)  # 2m/L² = 0.01
    assert not res.converged
    assert res.status in (SolverStatus.MAX_ITERATIONS, SolverStatus.DIVERGED)
    assert res.residual > res.tol
    assert res.residual == pytest.approx(relu_res(W, v, res.z))
    assert res.stats["forced_alpha"] is True


def test_not_monotone_is_reported_not_iterated(rng):
    W = np.array([[1.5, 0.0], [0.0, 0.2]])  # λ_min(sym(I − W)) = −0.5
    v = np.array([-1.0, 1.0])
    for method in ("fb", "lambda_fb", "pr"):
        res = solvers.solve(W, None, None, v, method=method)
        assert res.status is SolverStatus.NOT_MONOTONE
        assert res.status.precondition_failed
        assert res.iterations == 0 and np.isnan(res.alpha)
        assert np.all(res.z == 0)
        assert res.residual == pytest.approx(relu_res(W, v, np.zeros(2)))


def test_forced_iteration_blows_up_nonfinite_or_diverged():
    W = 2.0 * np.eye(2)  # z = ReLU(2z + v), v > 0 has no fixed point
    v = np.array([1.0, 1.0])
    res = solvers.solve(W, None, None, v, method="fb", alpha=1.0, max_iter=5000)
    assert res.status is SolverStatus.DIVERGED
    res2 = solvers.solve(W, None, None, v, method="fb", alpha=1.0, max_iter=5000, divergence_factor=1e308)
    assert res2.status is SolverStatus.NONFINITE
    assert res2.status.is_failure


def test_anderson_reports_nonconvergence_honestly():
    W = 2.0 * np.eye(3)  # no fixed point exists for v > 0
    v = np.array([1.0, 0.5, 2.0])
    res = solvers.solve(W, None, None, v, method="anderson", max_iter=300)
    assert res.status in (SolverStatus.MAX_ITERATIONS, SolverStatus.DIVERGED, SolverStatus.NONFINITE)
    assert not res.converged
    if np.all(np.isfinite(res.z)):
        assert res.residual == pytest.approx(relu_res(W, v, res.z))
        assert res.residual > res.tol


@pytest.mark.theorem("pabbaraju2021:appD2")
def test_pr_step_matches_unrolled_form_of_app_D2(problem, rng):
    """App. D.2: u⁺ = u − 2z + 4Vz − 2Vu + 2αV(Ux + b), z⁺ = σ(u⁺), V = (I + α(I − W))⁻¹.
    The solver starts from u⁰ = z⁰."""
    W, U, b, X = problem
    z0 = np.abs(rng.normal(size=5))
    alpha = 0.7
    res = solvers.solve(W, U, b, X[0], method="pr", alpha=alpha, max_iter=1, z0=z0, tol=1e-300)
    Vm = np.linalg.inv(np.eye(5) + alpha * (np.eye(5) - W))
    u0 = z0
    u1 = u0 - 2 * z0 + 4 * Vm @ z0 - 2 * Vm @ u0 + 2 * alpha * Vm @ (U @ X[0]) + 2 * alpha * Vm @ b
    assert np.allclose(res.z, np.maximum(u1, 0), atol=1e-12)
    assert res.iterations == 1


@pytest.mark.parametrize("alpha", [0.05, 1.0, 20.0])
def test_pr_converges_for_any_alpha_on_monotone_W(problem, alpha):
    W, U, b, X = problem
    res = solvers.solve(W, U, b, X, method="pr", alpha=alpha, tol=1e-10, max_iter=50000)
    assert res.converged
    ref = solvers.solve(W, U, b, X, method="fb", tol=1e-11)
    assert np.allclose(res.z, ref.z, atol=1e-8)


def lben_W(rng, n, lam):
    """W with sym(Λ(I − W)) ≻ 0 but I − W not monotone (badly scaled Λ)."""
    A = rng.normal(size=(n, n))
    S = 0.3 * np.eye(n) + 0.2 * A.T @ A
    K = rng.normal(size=(n, n))
    K = K - K.T
    return np.eye(n) - (S + K) / lam[:, None]


@pytest.mark.theorem("wei2022:lemmaA.1")
def test_lambda_fb_converges_on_lambda_monotone_W(rng):
    n = 5
    lam = np.array([1.0, 30.0, 0.05, 4.0, 0.5])
    W = lben_W(rng, n, lam)
    S = np.eye(n) - W
    assert np.linalg.eigvalsh((S + S.T) / 2)[0] < 0  # not monotone: plain FB theory fails
    A = lam[:, None] * S
    assert np.linalg.eigvalsh((A + A.T) / 2)[0] > 0  # Λ − ΛW ≻ 0
    v = rng.normal(size=n)
    assert solvers.solve(W, None, None, v, method="fb").status is SolverStatus.NOT_MONOTONE
    res = solvers.solve(W, None, None, v, method="lambda_fb", Lambda=lam, tol=1e-11, max_iter=200000)
    assert res.converged, res.message
    assert res.stats["contraction_bound"] < 1
    sols = enumerate_fixed_points(W, v)
    assert len(sols) == 1
    assert np.allclose(res.z, sols[0], atol=1e-8)
    # Lemma A.1 asserts some α in (0, 1] works: the iteration converges with α = min(default, 1)
    res1 = solvers.solve(W, None, None, v, method="lambda_fb", Lambda=lam, alpha=min(res.alpha, 1.0),
                         tol=1e-11, max_iter=200000)
    assert res1.converged and np.allclose(res1.z, sols[0], atol=1e-8)


def test_pr_in_lambda_metric_converges_on_lben_W(rng):
    n = 5
    lam = np.array([2.0, 0.1, 10.0, 1.0, 0.3])
    W = lben_W(rng, n, lam)
    v = rng.normal(size=(3, n))
    assert solvers.solve(W, None, None, v, method="pr").status is SolverStatus.NOT_MONOTONE
    res = solvers.solve(W, None, None, v, method="pr", Lambda=lam, tol=1e-11)
    assert res.converged, res.message
    assert res.stats["metric"] == "Lambda"
    for k in range(3):
        sols = enumerate_fixed_points(W, v[k])
        assert len(sols) == 1 and np.allclose(res.z[k], sols[0], atol=1e-8)
    auto = solvers.solve(W, None, None, v, method="auto", Lambda=lam, tol=1e-11)
    assert auto.method == "pr" and auto.converged


def mu_contractive_W(rng, n, diag=-3.0, eta=None):
    """W with W_ii = diag and μ∞,[η]⁻¹(W) = 0.9 exactly (every row: W_ii + Σ_j η_j/η_i |W_ij| = 0.9)."""
    eta = np.ones(n) if eta is None else eta
    W = rng.normal(size=(n, n))
    np.fill_diagonal(W, 0.0)
    rows = (np.abs(W) @ eta) / eta
    target = 0.9 - diag  # so that W_ii + Σ_j η_j/η_i |W_ij| = 0.9
    W = W * (target / rows)[:, None]
    np.fill_diagonal(W, diag)
    return W


@pytest.mark.theorem("jafarpour2022:thm5.1")
def test_alpha_average_converges_with_printed_alpha_range(rng):
    n = 5
    eta = np.array([1.0, 2.0, 0.5, 3.0, 1.5])
    W = mu_contractive_W(rng, n, diag=-3.0, eta=eta)
    mu = np.max(np.diag(W) + ((np.abs(W) - np.diag(np.abs(np.diag(W)))) @ eta) / eta)
    assert mu == pytest.approx(0.9)
    v = rng.normal(size=(3, n))
    res = solvers.solve(W, None, None, v, method="alpha_avg", eta=eta, tol=1e-11)
    assert res.converged
    assert res.alpha == pytest.approx(1 / (1 - (-3.0)))  # (1 − min_i [W_ii]⁻)⁻¹
    assert res.stats["contraction_bound"] == pytest.approx(1 - res.alpha * (1 - 0.9))
    for k in range(3):
        sols = enumerate_fixed_points(W, v[k])
        assert len(sols) == 1  # Thm 5.1(1): unique fixed point
        err = np.abs(res.z[k] - sols[0]).max()
        assert err < 1e-9
        assert err <= res.stats["error_bound_linf"] + 1e-15


def test_alpha_average_beyond_range_can_fail():
    """1-d W = −3: α_max = 1/4; for α = 0.6 the active-branch slope is 1 − 4α = −1.4 (expanding)."""
    W = np.array([[-3.0]])
    v = np.array([1.0])
    ok = solvers.solve(W, None, None, v, method="alpha_avg", tol=1e-12)
    assert ok.converged and ok.z[0] == pytest.approx(0.25)
    bad = solvers.solve(W, None, None, v, method="alpha_avg", alpha=0.6, max_iter=500)
    assert not bad.converged and bad.residual > bad.tol


def test_alpha_average_not_contractive_is_reported():
    W = np.array([[0.0, 2.0], [2.0, 0.0]])
    res = solvers.solve(W, None, None, np.ones(2), method="alpha_avg")
    assert res.status is SolverStatus.NOT_CONTRACTIVE and res.iterations == 0
    with pytest.raises(DomainError):
        solvers.solve(W, None, None, np.ones(2), method="alpha_avg", alpha=1.5)


def feedforward_net(rng, widths):
    """Layers A_l (w_l × w_{l-1}); returns (W, U, layers) for the implicit form with z = (z_1, ..., z_k)
    (first layer first, so W is strictly block lower triangular) and the input x entering layer 1."""
    k = len(widths) - 1
    n = sum(widths[1:])
    offs = np.cumsum([0] + list(widths[1:]))
    W = np.zeros((n, n))
    layers = [rng.normal(size=(widths[l + 1], widths[l])) for l in range(k)]
    U = np.zeros((n, widths[0]))
    U[: widths[1]] = layers[0]
    for l in range(1, k):
        W[offs[l]:offs[l + 1], offs[l - 1]:offs[l]] = layers[l]
    return W, U, layers, offs


@pytest.mark.theorem("jafarpour2022:remark6.4.3")
def test_exact_dag_equals_feedforward_pass_and_alpha_avg_with_dag_eta(rng):
    W, U, layers, offs = feedforward_net(rng, [3, 4, 5, 2, 4])
    X = rng.normal(size=(6, 3))
    res = solvers.solve(W, U, None, X, method="exact_dag")
    assert res.converged and res.iterations == 4
    h = X.T
    for l, A in enumerate(layers):
        h = np.maximum(A @ h, 0)
        assert np.allclose(res.z[:, offs[l]:offs[l + 1]], h.T, atol=1e-13)
    assert np.allclose(solvers.solve(W, U, None, X).z, res.z)  # auto picks exact_dag
    assert solvers.solve(W, U, None, X).method == "exact_dag"
    eta = graph.dag_eta(W)
    avg = solvers.solve(W, U, None, X, method="alpha_avg", eta=eta, tol=1e-12)
    assert avg.converged and np.allclose(avg.z, res.z, atol=1e-10)


def test_exact_dag_rejects_cycles():
    W = np.array([[0.0, 0.5], [0.5, 0.0]])
    res = solvers.solve(W, None, None, np.ones(2), method="exact_dag")
    assert res.status is SolverStatus.NOT_FEEDFORWARD and res.iterations == 0


def test_block_solver_on_reducible_non_monotone_W(rng):
    # three SCCs {0,1} (I − W_B monotone), {2} (self-loop 0.5), {3,4} (μ∞ = 0.9); strong coupling
    # between them makes the whole W non-monotone, so only the block solver has a guarantee
    W = np.zeros((5, 5))
    W[np.ix_([0, 1], [0, 1])] = [[-2.0, 1.5], [-1.5, -2.0]]  # I − W_B monotone (m = 3)
    W[2, 2] = 0.5  # self-loop singleton
    W[np.ix_([3, 4], [3, 4])] = [[0.0, 0.9], [0.8, 0.0]]  # μ∞ = 0.9 < 1
    W[2, 0] = 3.0
    W[3, 2] = -4.0
    W[4, 1] = 5.0
    W[3, 0] = 2.5
    S = np.eye(5) - W
    assert np.linalg.eigvalsh((S + S.T) / 2)[0] < 0
    assert solvers.solve(W, None, None, np.ones(5), method="auto").method == "block"
    V = rng.normal(size=(4, 5)) + 0.5
    res = solvers.solve(W, None, None, V, method="block", tol=1e-11)
    assert res.converged, res.message
    assert res.stats["blocks"] == 3
    for k in range(4):
        sols = enumerate_fixed_points(W, V[k])
        assert len(sols) == 1
        assert np.allclose(res.z[k], sols[0], atol=1e-9)


def test_auto_choices(rng):
    n = 4
    assert solvers.solve(monotone_W(rng, n), None, None, np.ones(n)).method == "pr"
    W = np.array([[-10.0, 10.5], [0.5, 0.0]])  # μ∞(W) = 0.5, sym(I − W) indefinite, a 2-cycle
    S = np.eye(2) - W
    assert np.linalg.eigvalsh((S + S.T) / 2)[0] < 0
    r = solvers.solve(W, None, None, np.ones(2), tol=1e-12)
    assert r.method == "alpha_avg" and r.converged
    Wirr = np.array([[0.0, 3.0], [-3.0, 2.5]])  # irreducible, not monotone, μ∞ ≥ 1
    r = solvers.solve(Wirr, None, None, np.ones(2))
    assert r.method == "anderson" and r.stats["requested_method"] == "auto"


def test_warm_start_at_fixed_point_takes_zero_iterations(problem):
    W, U, b, X = problem
    ref = solvers.solve(W, U, b, X, method="pr", tol=1e-12)
    again = solvers.solve(W, U, b, X, method="fb", z0=ref.z, tol=1e-10)
    assert again.converged and again.iterations == 0
    assert len(again.residual_history) == 1


def test_max_iter_zero_and_history(problem):
    W, U, b, X = problem
    res = solvers.solve(W, U, b, X, method="fb", max_iter=0)
    assert res.status is SolverStatus.MAX_ITERATIONS and res.iterations == 0
    res = solvers.solve(W, U, b, X, method="fb", max_iter=5)
    assert res.residual_history.shape == (6,)
    assert res.residual_history[-1] == pytest.approx(res.residual)


def test_linf_norm_and_default_tol(problem):
    W, U, b, X = problem
    V = X @ U.T + b
    res = solvers.solve(W, U, b, X, method="pr", norm="inf")
    assert res.norm == np.inf
    assert res.tol == pytest.approx(1e-9 * max(1.0, np.abs(V).max()))
    direct = np.abs(res.z - np.maximum(res.z @ W.T + V, 0)).max(axis=1)
    assert np.allclose(res.sample_residuals, direct)
    assert res.residual <= res.tol
    res2 = solvers.solve(W, U, b, X, method="pr")
    assert res2.tol == pytest.approx(1e-9 * max(1.0, np.linalg.norm(V, axis=1).max()))


def test_result_is_frozen_and_readonly(problem):
    W, U, b, X = problem
    res = solvers.solve(W, U, b, X)
    with pytest.raises(Exception):
        res.status = SolverStatus.DIVERGED
    with pytest.raises(ValueError):
        res.z[0, 0] = 1.0
    assert "converged" in res.message
    import json
    d = json.loads(json.dumps(res.to_dict()))
    assert d["status"] == "converged" and len(d["z"]) == 4 and d["norm"] == "l2"


def test_fixed_point_residual_function(problem):
    W, U, b, X = problem
    res = solvers.solve(W, U, b, X)
    r = solvers.fixed_point_residual(W, U, b, res.z, X)
    assert np.allclose(r, res.sample_residuals)
    r1 = solvers.fixed_point_residual(W, U, b, res.z[0], X[0])
    assert isinstance(r1, float)


def test_solve_injection_matches_solve(problem):
    W, U, b, X = problem
    V = X @ U.T + b
    a = solvers.solve(W, U, b, X, method="pr", tol=1e-12)
    c = solvers.solve_injection(W, V, method="pr", tol=1e-12)
    assert np.allclose(a.z, c.z, atol=1e-12)


def test_bad_input_raises_typed_errors(problem):
    W, U, b, X = problem
    with pytest.raises(ShapeError, match=r"\(4, 5\)"):
        solvers.solve(W, U, b, np.ones((4, 5)))
    with pytest.raises(ShapeError, match="W"):
        solvers.solve(np.ones((3, 4)), None, None, np.ones(3))
    with pytest.raises(ShapeError, match="U"):
        solvers.solve(W, np.ones((4, 3)), b, X)
    with pytest.raises(ShapeError, match="b"):
        solvers.solve(W, U, np.ones(4), X)
    with pytest.raises(NonFiniteError):
        solvers.solve(W, U, b, np.full(3, np.nan))
    with pytest.raises(DomainError, match="method"):
        solvers.solve(W, U, b, X, method="newton")
    with pytest.raises(DomainError, match="norm"):
        solvers.solve(W, U, b, X, norm=1)
    with pytest.raises(DomainError):
        solvers.solve(W, U, b, X, tol=0.0)
    with pytest.raises(DomainError):
        solvers.solve(W, U, b, X, method="fb", alpha=-1.0)
    with pytest.raises(DomainError, match="alpha"):
        solvers.solve(W, U, b, X, method="auto", alpha=0.5)
    with pytest.raises(ShapeError, match="z0"):
        solvers.solve(W, U, b, X, z0=np.ones(3))
    with pytest.raises(DomainError, match="Lambda"):
        solvers.solve(W, U, b, X, method="lambda_fb", Lambda=-np.ones(5))
