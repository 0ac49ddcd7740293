"""Property tests of ``deqtheory.testing.strategies``: every drawn object satisfies the condition its
strategy's docstring guarantees, checked with the library's certificates *and* an independent dense
numpy oracle; drawing is deterministic and reproducible from ``repr``; bad arguments raise."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import bounds, linalg
from deqtheory.certificates import Status
from deqtheory.errors import DomainError
from deqtheory.intervals import Box
from deqtheory.model import DEQ
from deqtheory.testing import scaled
from deqtheory.testing import strategies as dst

SMALL_N = st.integers(1, 6)


def _common(w: dst.DrawnWeights, n_range=(1, 6)) -> None:
    """Shape, finiteness, certificate (+ its numpy re-verification), exact rebuild from repr."""
    n = w.n
    assert n_range[0] <= n <= n_range[1]
    assert w.W.shape == (n, n) and w.W.dtype == np.float64 and np.all(np.isfinite(w.W))
    assert not w.W.flags.writeable
    cert = w.contains()
    assert cert.certified, (repr(w), cert.message)
    assert cert.verify(W=w.W, **dict(w.context)).certified
    again = eval(repr(w), {"weights_from_seed": dst.weights_from_seed})
    assert np.array_equal(again.W, w.W)


def _sym(A):
    return 0.5 * (A + A.T)


@pytest.mark.theorem("havens2023:eq5")
@given(dst.mondeq_weights(SMALL_N, m=(0.05, 1.0)))
def test_mondeq_weights_are_strongly_monotone(w):
    """Every drawn MonDEQ W satisfies sym(I − W) ⪰ mI (havens2023 eq. 5): proved by
    linalg.check_monotone(W, m) and by the dense eigenvalue oracle."""
    _common(w)
    m = w.parametrization.m
    assert 0.05 <= m <= 1.0
    assert linalg.check_monotone(w.W, m=m).certified
    assert np.linalg.eigvalsh(_sym(np.eye(w.n) - w.W))[0] >= m - 1e-12 * (1 + np.abs(w.W).sum())
    assert w.defining_condition().certified


@pytest.mark.theorem("havens2023:eq6")
@given(dst.gmondeq_weights(SMALL_N, phi_range=(1.0, 8.0)))
def test_gmondeq_weights_satisfy_lmi3(w):
    """Every drawn G-MonDEQ W satisfies havens2023 (3) with Γ = Φ⁻¹: 2Γ − ΓW − WᵀΓ ⪰ 2mI
    (bounds.monotone_margin(W, phi) proves sym(Φ⁻¹(I − W)) ≻ 0; dense oracle for the level m)."""
    _common(w)
    g = w.witness["Gamma"]
    assert np.allclose(g, 1.0 / w.params.phi)
    assert bounds.monotone_margin(w.W, phi=w.params.phi).certified
    lhs = 2 * np.diag(g) - g[:, None] * w.W - w.W.T * g[None, :]
    m = w.parametrization.m
    assert np.linalg.eigvalsh(_sym(lhs))[0] >= 2 * m - 1e-9 * (1 + np.abs(lhs).sum())


@pytest.mark.theorem("havens2023:eq7")
@given(dst.lben_weights(SMALL_N, d=(1, 3), p=(1, 3), eps=(0.01, 0.5)))
def test_lben_weights_satisfy_lmi4(w):
    """Every drawn LBEN W, with its own G and U, satisfies havens2023 (4) with Λ = Ψ⁻¹:
    2Λ − ΛW − WᵀΛ − GᵀG/L − ΛUUᵀΛ/L ⪰ 2εI (dense oracle), and context G, U have the drawn sizes."""
    _common(w)
    G, U = w.G, w.U
    assert G.shape[1] == w.n and U.shape[0] == w.n and 1 <= G.shape[0] <= 3 and 1 <= U.shape[1] <= 3
    lam, L, eps = w.witness["Lambda"], w.parametrization.L, w.parametrization.eps
    LU = lam[:, None] * U
    lhs = 2 * np.diag(lam) - lam[:, None] * w.W - w.W.T * lam[None, :] - G.T @ G / L - LU @ LU.T / L
    assert np.linalg.eigvalsh(_sym(lhs))[0] >= 2 * eps - 1e-9 * (1 + np.abs(lhs).sum())
    assert w.defining_condition().certified


@pytest.mark.theorem("wei2022:thm3.1")
@given(dst.ibp_weights(SMALL_N, m=(0.0, 0.9)))
def test_ibp_weights_are_ibp_wellposed(w):
    """Every drawn IBP-MonDEQ W satisfies sym(I − |W|) ≻ mI (wei2022 Thm 3.1 with margin m):
    linalg.check_ibp_wellposed proves I − |W| ≻ 0; dense oracle for λ_min(sym(I − |W|)) > m."""
    _common(w)
    assert linalg.check_ibp_wellposed(w.W).certified
    m = w.parametrization.m
    assert np.linalg.eigvalsh(np.eye(w.n) - _sym(np.abs(w.W)))[0] > m - 1e-12


@pytest.mark.theorem("wei2022:thm3.3")
@given(dst.ibp_gamma_weights(SMALL_N, gamma=st.sampled_from([1.5, 3.0, None]), beta_scale=(0.0, 3.0)))
def test_ibp_gamma_weights_satisfy_thm33(w):
    """Every drawn Γ-variant W satisfies sym(Λ((1 − m)I − |W|)) ≻ 0 with Λ = Γ⁻² and κ(Λ) < γ²
    (wei2022 Thm 3.3, §4) — dense oracle plus the family certificate."""
    _common(w)
    lam, m, gam = w.witness["Lambda"], w.parametrization.m, w.parametrization.gamma
    X = lam[:, None] * ((1 - m) * np.eye(w.n) - np.abs(w.W))
    assert np.linalg.eigvalsh(_sym(X))[0] > 0
    if gam is not None:
        assert lam.max() / lam.min() < gam ** 2


@pytest.mark.theorem("jafarpour2022:eq12")
@given(dst.noneuclidean_weights(SMALL_N, gamma=(-1.0, 0.9), eta_range=(1.0, 10.0)))
def test_noneuclidean_weights_have_mu_le_gamma(w):
    """Every drawn W of the corrected jafarpour2022 (12) has μ∞,[η]⁻¹(W) ≤ γ (dense row-sum oracle
    with the witness η) and hence is well posed: linalg.check_mu_inf proves μ < 1."""
    _common(w)
    eta, gam = w.witness["eta"], w.parametrization.gamma
    off = np.abs(w.W - np.diag(np.diag(w.W))) * eta[None, :] / eta[:, None]
    mu = float(np.max(np.diag(w.W) + off.sum(axis=1)))
    assert mu <= gam + 1e-12 * (1 + np.abs(w.W).sum())
    assert linalg.check_mu_inf(w.W).certified
    assert w.defining_condition().certified


@pytest.mark.theorem("li2022:prop3.4")
@given(dst.cerdeq_weights(SMALL_N))
def test_cerdeq_weights_are_near_orthogonal(w):
    """Every drawn CerDEQ W has √n·W near-orthogonal (‖I − nWᵀW‖₂ ≤ 1e-6, dense oracle) and so
    ‖Ŵ‖₂ = ‖|W|‖₂ ≤ ‖W‖_F ≤ 1 + 1e-6 (li2022 Prop 3.2/3.4)."""
    _common(w)
    n = w.n
    assert np.linalg.norm(np.eye(n) - n * w.W.T @ w.W, 2) <= 1e-6
    assert np.linalg.norm(np.abs(w.W), 2) <= 1 + 1e-6


@settings(max_examples=scaled(15))
@given(dst.deq_instances("any", n=st.integers(1, 6)))
def test_deq_instances_are_well_posed_and_reproducible(x):
    """Every drawn DEQ's W is certified by its family's condition, the fixed point is found to
    tolerance from several inputs, shapes are consistent and repr rebuilds the same arrays."""
    deq = x.deq
    assert isinstance(deq, DEQ) and deq.W.shape == (x.weights.n,) * 2
    assert np.array_equal(deq.W, x.weights.W)
    assert deq.U.shape == (deq.n, x.d) and deq.G.shape == (x.p, deq.n)
    if x.kind == "lben":
        assert np.array_equal(deq.U, x.weights.U) and np.array_equal(deq.G, x.weights.G)
    for arr in (deq.U, deq.b, deq.G, deq.b_y):
        assert np.all(np.isfinite(arr))
    assert x.weights.contains().certified
    X = np.random.default_rng(x.seed).standard_normal((3, deq.d))
    res = deq.solve(X)
    assert res.converged, res.message
    again = eval(repr(x), {"deq_from_seed": dst.deq_from_seed})
    for name in ("W", "U", "b", "G", "b_y"):
        assert np.array_equal(getattr(again.deq, name), getattr(deq, name))


@given(st.sampled_from(dst.DEQ_KINDS).flatmap(lambda k: dst.deqs(k, n=3, d=2, p=1)))
def test_deqs_fixed_sizes(deq):
    """``deqs`` with fixed sizes returns DEQ objects of exactly those sizes."""
    assert isinstance(deq, DEQ) and (deq.n, deq.d, deq.p) == (3, 2, 1)


@given(dst.boxes(st.integers(1, 5), width=(0.1, 2.0)), dst.boxes(3, width=0.5, uniform=True))
def test_boxes(box, ball):
    """Boxes are finite, ordered, with sides in the requested range (uniform: one common side)."""
    for b in (box, ball):
        assert isinstance(b, Box) and np.all(np.isfinite(b.lower)) and np.all(b.lower <= b.upper)
    tol = 4 * np.finfo(float).eps * (1 + np.abs(box.center).max())
    assert np.all(box.width >= 0.1 - tol) and np.all(box.width <= 2.0 + tol)
    assert ball.dim == 3 and np.allclose(ball.width, 0.5, rtol=0, atol=1e-14)


@given(dst.boxes_with_points(st.integers(1, 5), k=(1, 4), width=(0.0, 1.0)))
def test_points_in_box(pair):
    """Points drawn for a box lie in it (including degenerate sides)."""
    box, X = pair
    assert X.shape[1] == box.dim and 1 <= X.shape[0] <= 4
    assert np.all(box.contains(X))


@given(dst.point_pairs(st.integers(1, 6), scale=(0.0, 10.0), distance=(1e-3, 2.0)), dst.points(4, scale=3.0))
def test_point_pairs_and_points(pair, x):
    """Pairs are distinct and at the drawn distance (up to rounding); points are finite (d,)."""
    a, b = pair
    r = float(np.linalg.norm(b - a))
    assert a.shape == b.shape and 1e-3 * (1 - 1e-9) - 1e-12 <= r <= 2.0 * (1 + 1e-9) + 1e-12
    assert r > 0
    assert x.shape == (4,) and np.all(np.isfinite(x))


def _lipschitz_ok(f, bound, rng, d, k=6):
    """‖f(x) − f(y)‖ ≤ bound·‖x − y‖ on k random close pairs, with a rounding allowance of
    1e-12·(‖f(x)‖ + ‖f(y)‖) for evaluating f and the difference in floating point."""
    X = rng.standard_normal((k, d))
    Y = X + 0.1 * rng.standard_normal((k, d))
    FX, FY = f(X), f(Y)
    num = np.linalg.norm(FX - FY, axis=1)
    den = np.linalg.norm(X - Y, axis=1)
    allow = 1e-12 * (np.linalg.norm(FX, axis=1) + np.linalg.norm(FY, axis=1))
    return bool(np.all(num <= bound * den * (1 + 1e-12) + allow))


@pytest.mark.theorem("havens2023:eq9")
@settings(max_examples=scaled(15))
@given(st.sampled_from(["sll", "cpl"]).flatmap(
    lambda k: st.tuples(st.just(k), (dst.sll_stacks if k == "sll" else dst.cpl_stacks)())), dst.seeds())
def test_residual_stacks_are_1_lipschitz(kind_stack, seed):
    """SLL/CPL stacks: each layer has WᵀW ⪯ T (never REFUTED by tw_certificate; dense λ_min ≥ −the
    layer's nonstrict tolerance — T is often exactly tight) and the stack is empirically 1-Lipschitz."""
    kind, stack = kind_stack
    assert all(l.kind == kind for l in stack.layers)
    for layer in stack.layers:
        c = layer.tw_certificate()
        assert c.status is not Status.REFUTED, c.message
        tol = c.tolerance["nonstrict_tolerance"]
        assert np.linalg.eigvalsh(np.diag(layer.T) - layer.W.T @ layer.W)[0] >= -tol
    assert _lipschitz_ok(stack, 1.0, np.random.default_rng(seed), stack.d)


@given(dst.aol_nets(), dst.seeds())
def test_aol_nets_are_1_lipschitz(net, seed):
    """AOL: every effective weight W̃D has ‖W̃D‖₂ ≤ 1 (havens2023 eq. 8) and the net is
    empirically 1-Lipschitz."""
    for Wd in net.effective_weights:
        assert np.linalg.norm(Wd, 2) <= 1 + 1e-12
    assert _lipschitz_ok(net, 1.0, np.random.default_rng(seed), net.d)


@given(dst.sandwich_nets(L=(0.5, 4.0)), dst.seeds())
def test_sandwich_nets_are_L_lipschitz(net, seed):
    """Sandwich: A_nA_nᵀ + B_nB_nᵀ ⪯ I, ‖B_out‖₂ ≤ 1, and the net is empirically L-Lipschitz."""
    for A, B in zip(net.A, net.B):
        assert np.linalg.eigvalsh(A @ A.T + B @ B.T)[-1] <= 1 + 1e-12
    assert np.linalg.norm(net.B_out, 2) <= 1 + 1e-12
    assert 0.5 <= net.L <= 4.0
    assert _lipschitz_ok(net, net.L, np.random.default_rng(seed), net.d)


@given(dst.relu_nets(depth=(1, 3), width=(1, 5)), dst.seeds())
def test_relu_nets_bound_is_an_upper_bound(net, seed):
    """ReLU nets: finite weights, depth/width in range, lipschitz_bound() ≥ empirical ratio."""
    assert 1 <= len(net.weights) <= 3 and all(1 <= w.shape[0] <= 5 for w in net.weights)
    assert all(np.all(np.isfinite(w)) for w in net.weights)
    assert _lipschitz_ok(net, net.lipschitz_bound(), np.random.default_rng(seed), net.d)


@pytest.mark.theorem("pabbaraju2021:thm1")
@settings(max_examples=scaled(15))
@given(dst.deq_instances("mondeq", n=st.integers(1, 6)),
       st.data())
def test_worked_example_pabbaraju_bound_dominates_empirical_lipschitz(x, data):
    """docs/testing.md worked example: for every MonDEQ, ‖G‖‖U‖/m ≥ ‖y(x) − y(x')‖/‖x − x'‖."""
    deq = x.deq
    bound = bounds.pabbaraju_lipschitz(deq.W, deq.U, deq.G)
    assert bound.certified
    a, b = data.draw(dst.point_pairs(deq.d, distance=(0.1, 1.0)))
    ya = deq.output(deq.solve(a, tol=1e-12).z)
    yb = deq.output(deq.solve(b, tol=1e-12).z)
    assert np.linalg.norm(ya - yb) <= bound.value * np.linalg.norm(a - b) * (1 + 1e-9) + 1e-9


def test_drawing_is_deterministic_under_derandomize():
    """Two derandomized runs draw identical examples (the strategies use no global RNG)."""
    def run():
        seen = []

        @settings(derandomize=True, database=None, max_examples=10)
        @given(dst.weights("any", n=(1, 4)), dst.deq_instances("any", n=(1, 3)), dst.boxes(2))
        def collect(w, x, box):
            seen.append((repr(w), repr(x), box.lower.tobytes(), box.upper.tobytes()))
        collect()
        return seen
    first = run()
    assert len(first) == 10 and first == run()
    assert np.array_equal(dst.rng_from_seed(7).standard_normal(3), np.random.default_rng(7).standard_normal(3))


@pytest.mark.parametrize("make", [
    lambda: dst.mondeq_weights(m=0.0),
    lambda: dst.mondeq_weights(m=(-1.0, 1.0)),
    lambda: dst.mondeq_weights(cond=0.5),
    lambda: dst.mondeq_weights(n=0),
    lambda: dst.mondeq_weights(n=(3, 2)),
    lambda: dst.mondeq_weights(scale=math.nan),
    lambda: dst.gmondeq_weights(phi_range=0.5),
    lambda: dst.lben_weights(eps=-0.1),
    lambda: dst.lben_weights(L=0.0),
    lambda: dst.ibp_weights(m=1.0),
    lambda: dst.ibp_weights(slack_range=(0.0, 1.0)),
    lambda: dst.ibp_gamma_weights(gamma=1.0),
    lambda: dst.noneuclidean_weights(gamma=1.0),
    lambda: dst.cerdeq_weights(n_iter=0),
    lambda: dst.weights("nope"),
    lambda: dst.weights("any", m=0.5),
    lambda: dst.deq_instances("cerdeq"),
    lambda: dst.boxes(2, width=(1.0, 0.0)),
    lambda: dst.point_pairs(2, distance=0.0),
    lambda: dst.points_in(Box(np.zeros(1), np.array([np.inf]))),
    lambda: dst.weights_from_seed("mondeq", 0, 3, bogus=1.0),
    lambda: dst.rng_from_seed(-1),
])
def test_bad_arguments_raise_domain_error_eagerly(make):
    """Invalid fixed values / ranges raise DomainError when the strategy is created."""
    with pytest.raises(DomainError):
        make()


# ---------------------------------------------------------------------------------------------- oracles, mutants

def test_unique_fixed_point_oracle():
    """unique_fixed_point returns the fixed point of a monotone W and refuses a W with two fixed points
    (W = [[0, 2], [2, 0]], v = (−1, −1): (0, 0) and (1, 1))."""
    from deqtheory.testing.oracles import unique_fixed_point

    W = np.array([[0.2, -0.5], [0.5, 0.1]])
    v = np.array([1.0, -0.3])
    z = unique_fixed_point(W, v)
    np.testing.assert_allclose(z, np.maximum(W @ z + v, 0), atol=1e-14)
    with pytest.raises(AssertionError, match="exactly one"):
        unique_fixed_point(np.array([[0.0, 2.0], [2.0, 0.0]]), np.array([-1.0, -1.0]))


def test_mutant_helpers():
    """assert_caught returns the failing check's message and raises when the check passes; scaled_output
    scales a scalar bound."""
    from deqtheory.testing.mutants import assert_caught, scaled_output

    def check(bound):
        assert 2.0 <= bound(1.0), "bound below the witness"

    assert "below the witness" in assert_caught(check, scaled_output(lambda x: 2 * x, 0.5))
    with pytest.raises(AssertionError, match="mutant survived"):
        assert_caught(check, lambda x: 2 * x)
    assert scaled_output(lambda x: 3.0 * x, 0.5)(2.0) == 3.0
