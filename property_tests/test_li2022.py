"""Theorem-catalogue property tests for li2022 (Li, Wang & Lin, CerDEQ; papers/001).

Every test is tied to a catalogue entry with ``@pytest.mark.theorem`` and its docstring states the
claim it checks. Inputs are valid by construction (Hypothesis integer seeds → numpy RNG, n ≤ 8).
Oracles: brute-force interval arithmetic over box corners, dense ``svd``/``eigvals``, the paper's
iterations written out explicitly, fixed points from deqtheory.solvers at residual ≤ 1e-10, and
Monte Carlo estimates with stated confidence bounds for the statistical claim (Prop 3.5).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import solvers, spectrum
from deqtheory.certificates import Status
from deqtheory.intervals import Box, affine_box, interval_bounds, margin_lower_bounds
from deqtheory.parametrizations import bjorck_order2
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def solve_tight(W, v):
    """deqtheory.solvers fixed point of z = relu(Wz + v) with residual ≤ 1e-10 (asserted)."""
    res = solvers.solve_injection(W, v, tol=1e-11, max_iter=200000)
    assert res.converged and res.residual <= 1e-10, res.message
    return res.z


def corners(lo, hi):
    return np.array([[hi[i] if bit else lo[i] for i, bit in enumerate(bits)]
                     for bits in itertools.product((0, 1), repeat=len(lo))])


def contractive_W(rng, n, top=0.9):
    """W with ‖|W|‖₂ = ‖Ŵ‖₂ ∈ [0.1, top] (li2022 Prop 3.1's hypothesis, by construction)."""
    A = rng.standard_normal((n, n)) * (rng.random((n, n)) < rng.uniform(0.4, 1.0))
    A = A + np.eye(n) * 1e-3
    return A / np.linalg.norm(np.abs(A), 2) * rng.uniform(0.1, top)


def ibp_iterates(W, hbar, hlow, K):
    """Iteration (4)/(11) of li2022 from (0, 0), with the corrected lower input: list of (z̄ᵏ, z̲ᵏ)."""
    n = W.shape[0]
    L = spectrum.ibp_lift(W)
    z = np.zeros(2 * n)
    out = []
    for _ in range(K):
        z = np.maximum(L @ z + np.concatenate([hbar, hlow]), 0)
        out.append((z[:n].copy(), z[n:].copy()))
    return out


# ---------------------------------------------------------------------------------------------- eq5

@pytest.mark.theorem("li2022:eq5")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 6), d=st.integers(1, 4))
def test_eq5_corrected_input_is_the_interval_image_and_the_limit_of_eq4(seed, n, d):
    """li2022 eq. (5) with the corrected lower row h̲ = U₋x̄ + U₊x̲ + b (App. A, after eq. 10):
    (h̄, h̲) is the exact interval hull of {Ux + b : x̲ ≤ x ≤ x̄} (corner brute force; the library's
    affine_box contains it and exceeds it by rounding only), and the adjoint-DEQ fixed point computed by
    deqtheory.intervals.interval_bounds(…, "ibp") is the limit of iteration (4) from (0, 0)."""
    rng = np.random.default_rng(seed)
    W = contractive_W(rng, n, top=0.8)
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    xl = rng.standard_normal(d)
    xu = xl + rng.uniform(0, 1, d)
    Up, Um = np.maximum(U, 0), np.minimum(U, 0)
    hbar, hlow = Up @ xu + Um @ xl + b, Um @ xu + Up @ xl + b
    H = corners(xl, xu) @ U.T + b
    tol = 1e-12 * (1 + np.abs(U).sum() * (1 + np.abs(xl).max() + np.abs(xu).max()) + np.abs(b).max())
    assert np.allclose(H.max(0), hbar, atol=tol) and np.allclose(H.min(0), hlow, atol=tol)
    ab = affine_box(U, b, Box(xl, xu))
    assert np.all(ab.lower <= H.min(0)) and np.all(ab.upper >= H.max(0))
    assert np.all(H.min(0) - ab.lower <= tol) and np.all(ab.upper - H.max(0) <= tol)
    ib = interval_bounds(W, U, b, Box(xl, xu), "ibp")
    assert ib.certified
    zu, zl = ibp_iterates(W, hbar, hlow, 300)[-1]
    s = 1e-8 * (1 + np.abs(zu).max())
    assert np.allclose(zu, ib.upper_approx, atol=s) and np.allclose(zl, ib.lower_approx, atol=s)


@pytest.mark.theorem("li2022:eq5")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 6), d=st.integers(1, 4), eps=st.floats(0.01, 1.0))
def test_eq5_printed_lower_row_is_not_a_lower_bound(seed, n, d, eps):
    """li2022 eq. (5) as printed uses U₊x̄ + U₋x̲ + b for *both* rows. Then the adjoint fixed point is
    z̲* = z̄* = z*(h̄), a single point. Counterexample family: W ≥ 0 with ‖W‖₂ ≤ 0.8, U ≠ 0, and b large
    enough that every unit is active on the box; then z*(x) = (I − W)⁻¹(Ux + b) and for any row i with
    U_i ≠ 0 the corner x = x_c − ε·sign(((I − W)⁻¹U)_i) gives z*(x)_i < printed z̲*_i (strictly).
    The corrected row (eq5, App. A) bounds the same samples."""
    rng = np.random.default_rng(seed)
    A = rng.random((n, n))
    W = A / np.linalg.norm(A, 2) * rng.uniform(0.1, 0.8)
    U = rng.standard_normal((n, d))
    U[:, 0] += np.where(U[:, 0] >= 0, 0.1, -0.1)          # every row nonzero
    xc = rng.standard_normal(d)
    K = np.linalg.inv(np.eye(n) - W)                      # ≥ I entrywise (W ≥ 0, ρ(W) < 1)
    b = 1.0 + np.abs(U).sum(1) * (np.abs(xc).max() + eps) * 2
    Up, Um = np.maximum(U, 0), np.minimum(U, 0)
    xl, xu = xc - eps, xc + eps
    h_printed = Up @ xu + Um @ xl + b
    zp = solve_tight(W, h_printed)
    Lp = np.concatenate([zp, zp])                        # printed (5) fixed point: [z*(h̄); z*(h̄)]
    assert np.max(np.abs(Lp - np.maximum(spectrum.ibp_lift(W) @ Lp + np.concatenate([h_printed] * 2), 0))) <= 1e-9
    ib = interval_bounds(W, U, b, Box(xl, xu), "ibp")
    assert ib.certified
    i = int(rng.integers(n))
    r = (K @ U)[i]
    x = xc - eps * np.where(r >= 0, 1.0, -1.0)
    z = solve_tight(W, U @ x + b)
    assert np.all(U @ x + b + W @ z > 0)                  # all active, as constructed
    assert z[i] < zp[i] - 1e-9 * (1 + abs(zp[i]))        # printed "lower bound" violated
    assert np.all(ib.box.lower <= z + 1e-9) and np.all(z <= ib.box.upper + 1e-9)


# ------------------------------------------------------------------------------------------ prop3.1

@pytest.mark.theorem("li2022:prop3.1")
@settings(max_examples=scaled(15))
@given(seed=SEEDS, n=st.integers(1, 7), d=st.integers(1, 4))
def test_prop31_proof_invariant_for_every_iterate(seed, n, d):
    """li2022 Prop 3.1 via its proof (A, eqs. 12–19): with ‖Ŵ‖₂ < 1 (here ≤ 0.9, proved by
    spectrum.check_adjoint_contractive), for every x in the box the iterates z⁽ᵏ⁾(x) of the DEQ and
    (z̄⁽ᵏ⁾, z̲⁽ᵏ⁾) of the adjoint DEQ, all from 0, satisfy z̲⁽ᵏ⁾ ≤ z⁽ᵏ⁾(x) ≤ z̄⁽ᵏ⁾ for every k; both
    iterations contract in ℓ₂ (‖Δₖ₊₁‖ ≤ ‖Ŵ‖₂‖Δₖ‖), and the limits give z̲* ≤ z*(x) ≤ z̄* (z*(x) from
    deqtheory.solvers at residual ≤ 1e-10)."""
    rng = np.random.default_rng(seed)
    W = contractive_W(rng, n)
    c = spectrum.check_adjoint_contractive(W)
    assert c.status is Status.CERTIFIED
    q = np.linalg.norm(spectrum.ibp_lift(W), 2)
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    xc, eps = rng.standard_normal(d), rng.uniform(0, 1)
    Up, Um = np.maximum(U, 0), np.minimum(U, 0)
    hbar, hlow = Up @ (xc + eps) + Um @ (xc - eps) + b, Um @ (xc + eps) + Up @ (xc - eps) + b
    K = 200
    its = ibp_iterates(W, hbar, hlow, K)
    steps = [np.linalg.norm(np.concatenate(its[k + 1]) - np.concatenate(its[k])) for k in range(K - 1)]
    for k in range(len(steps) - 1):
        assert steps[k + 1] <= q * steps[k] * (1 + 1e-9) + 1e-14
    X = np.vstack([xc + eps * (2 * rng.random((8, d)) - 1), xc + eps * np.where(rng.random((8, d)) < .5, -1, 1)])
    for x in X:
        h = U @ x + b
        z = np.zeros(n)
        for k in range(K):
            z = np.maximum(W @ z + h, 0)
            zu, zl = its[k]
            t = 1e-12 * (1 + np.abs(zu).max())
            assert np.all(zl <= z + t) and np.all(z <= zu + t)
        zs = solve_tight(W, h)
        t = 1e-8 * (1 + np.abs(zs).max())
        assert np.all(its[-1][1] <= zs + t) and np.all(zs <= its[-1][0] + t)


# ----------------------------------------------------------------------------------------- lemma3.3

@pytest.mark.theorem("li2022:lemma3.3")
@settings(max_examples=scaled(15))
@given(seed=SEEDS, a=st.integers(1, 6), b=st.integers(1, 6), smin=st.floats(0.05, 1.0), smax=st.floats(1.0, 1.4))
def test_lemma33_rectangular_nearest_orthonormal(seed, a, b, smin, smax):
    """li2022 Lemma 3.3 for rectangular W ∈ ℝ^{m×n}, m ≤ n, ‖I − WWᵀ‖₂ < 1 (singular values in
    [smin, smax] ⊂ (0, √2)): the order-2 Björck iterates (6)–(7) from A₀ = Wᵀ (deqtheory bjorck_order2,
    60 steps) converge to P with PᵀP = I_m, and P minimises ‖Q − Wᵀ‖_F over QᵀQ = I_m — checked against
    the SVD polar factor and against 50 random orthonormal Q (none closer)."""
    m, n = min(a, b), max(a, b)
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((m, m)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = rng.uniform(smin, smax, m)
    W = (U * s) @ V[:m]
    assert np.linalg.norm(np.eye(m) - W @ W.T, 2) < 1
    P = bjorck_order2(W, 60).T                               # A_K (n × m)
    assert np.allclose(P.T @ P, np.eye(m), atol=1e-12)
    Us, _, Vt = np.linalg.svd(W.T, full_matrices=False)
    assert np.allclose(P, Us @ Vt, atol=1e-10)
    best = np.linalg.norm(P - W.T)
    for _ in range(50):
        Q, _ = np.linalg.qr(rng.standard_normal((n, m)))
        assert np.linalg.norm(Q - W.T) >= best - 1e-12


@pytest.mark.theorem("li2022:lemma3.3")
def test_lemma33_hypothesis_boundaries():
    """Outside ‖I − WWᵀ‖₂ < 1 the conclusion fails: a zero singular value stays 0 (W = diag(1, 0): the
    limit is not orthogonal), and σ = 2 (‖I − WWᵀ‖₂ = 3) diverges (σ ↦ σ(15/8 − 5/4σ² + 3/8σ⁴) blows up)."""
    P = bjorck_order2(np.diag([1.0, 0.0]), 60)
    assert not np.allclose(P.T @ P, np.eye(2), atol=1e-3)
    with np.errstate(over="ignore", invalid="ignore"):
        Q = bjorck_order2(np.array([[2.0]]), 8)
    assert not np.all(np.isfinite(Q)) or abs(Q[0, 0]) > 1e10


# ----------------------------------------------------------------------------------- sec3.3.scaling

@pytest.mark.theorem("li2022:sec3.3.scaling")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, a=st.integers(1, 8), b=st.integers(1, 8))
def test_scaling_by_sqrt_n_gives_only_norm_at_most_one(seed, a, b):
    """§3.3 'scale the weight by √n to ensure adjoint DEQ's convergence': for row-orthonormal
    O ∈ ℝ^{m×n}, W = O/√n has ‖Ŵ‖₂ = ‖|W|‖₂ ≤ √(m/n) ≤ 1 (dense lift), a non-strict bound."""
    m, n = min(a, b), max(a, b)
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    W = Q[:m] / math.sqrt(n)
    assert np.linalg.norm(spectrum.ibp_lift(W), 2) <= math.sqrt(m / n) * (1 + 1e-12)


@pytest.mark.theorem("li2022:sec3.3.scaling")
def test_scaling_equality_cases_no_contraction_and_no_convergence():
    """The √n scaling does not give Prop 3.1's strict ‖Ŵ‖₂ < 1: (a) O = H₄/2 (normalized Hadamard),
    W = O/√4 has |W| = 𝟙𝟙ᵀ/4 and ‖Ŵ‖₂ = 1, and check_adjoint_contractive does not certify; (b) n = 1,
    O = [1], W = O/√1 = [1]: neither z = relu(z + h) nor the adjoint DEQ has a fixed point for h > 0
    (iterates grow without bound), so convergence is not ensured. A factor c/√n, c < 1, restores ‖Ŵ‖₂ ≤ c."""
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=float)
    W = H / 2 / 2
    assert np.allclose((H / 2) @ (H / 2).T, np.eye(4))
    assert abs(np.linalg.norm(spectrum.ibp_lift(W), 2) - 1) < 1e-14
    assert spectrum.check_adjoint_contractive(W).status is not Status.CERTIFIED
    assert spectrum.check_adjoint_contractive(0.99 * W).status is Status.CERTIFIED
    W1 = np.array([[1.0]])
    h = np.array([0.5])
    (zu, zl), = ibp_iterates(W1, h + 0.1, h - 0.1, 1000)[-1:]
    assert zu[0] > 400 and zl[0] > 300                      # z_k = k·h: no fixed point
    z = np.zeros(1)
    for _ in range(1000):
        z = np.maximum(W1 @ z + h, 0)
    assert z[0] == pytest.approx(500.0)


# ------------------------------------------------------------------------------------- sec3.3.conv

def _conv_linf_norms(K, N):
    """(‖W_K‖∞, ‖|Ŵ|‖∞) of the circular conv of kernel K on the N × N grid and of its IBP lift, materialised."""
    from deqtheory.circulant import conv_matrix

    W = conv_matrix(K, N)
    return float(np.abs(W).sum(1).max()), float(np.abs(spectrum.ibp_lift(W)).sum(1).max())


@pytest.mark.theorem("li2022:sec3.3.conv")
@settings(max_examples=scaled(15))
@given(seed=SEEDS, c=st.integers(1, 3), k=st.integers(1, 3), extra=st.integers(0, 2))
def test_sec33_conv_orthonormal_rows_over_sqrt_n_give_linf_norm_at_most_one(seed, c, k, extra):
    """li2022 §3.3 read for a convolution: O ∈ ℝ^{c×n} (n = c·k²) with orthonormal rows, K = O/√n as a
    (c, c, k, k) kernel, W_K its circular conv on N ≥ k: ‖W_K‖∞ = ‖|Ŵ|‖∞ = the largest row ℓ1 of
    O/√n ≤ 1 (materialised matrices); the Björck kernel of deqtheory (K = 40 steps) likewise."""
    from deqtheory.parametrizations.cerdeq import conv_cerdeq_kernel

    rng = np.random.default_rng(seed)
    n, N = c * k * k, k + extra
    O = np.linalg.qr(rng.standard_normal((n, c)))[0].T                   # c orthonormal rows in ℝⁿ
    row_l1 = float(np.abs(O / math.sqrt(n)).sum(1).max())
    assert row_l1 <= 1 + 1e-12
    norms = _conv_linf_norms((O / math.sqrt(n)).reshape(c, c, k, k), N)
    assert np.allclose(norms, row_l1, rtol=1e-12, atol=0)
    Kb = conv_cerdeq_kernel(rng.standard_normal((c, c, k, k)) + 2 * O.reshape(c, c, k, k), 40)
    assert max(_conv_linf_norms(Kb, N)) <= 1 + 1e-9


@pytest.mark.theorem("li2022:sec3.3.conv")
@pytest.mark.parametrize("c,k,N", [(1, 2, 2), (1, 2, 5), (2, 2, 3)])
def test_sec33_conv_bound_is_attained_and_not_a_contraction(c, k, N):
    """Tight witnesses: rows with all |O_ij| = 1/√n (c = 1: O = 𝟙ᵀ/√n; c = 2: two rows of the Sylvester
    Hadamard matrix H₈/√8) give ‖W_K‖∞ = ‖|Ŵ|‖∞ = 1 exactly; the matrix-free contraction proof
    (conv_ibp.conv_abs_contraction) does not certify them, and certifies 0.99·K."""
    from deqtheory.conv_ibp import conv_abs_contraction

    n = c * k * k
    H = np.array([[1.0]])
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    O = H[:c] / math.sqrt(n)
    assert np.allclose(O @ O.T, np.eye(c), atol=1e-15)
    K = (O / math.sqrt(n)).reshape(c, c, k, k)
    assert _conv_linf_norms(K, N) == pytest.approx((1.0, 1.0), abs=1e-15)
    reached("li2022:sec3.3.conv", min(_conv_linf_norms(K, N)), slack=1e-12)
    assert not conv_abs_contraction(K, N).certified
    assert conv_abs_contraction(0.99 * K, N).certified


# ------------------------------------------------------------------------------------------ prop3.5

def _mc_width_gain(rng, W, nu, sigma, eps, T):
    """Monte Carlo estimate of E[Δ_out]/E[Δ_in] for the adjoint DEQ (library interval_bounds, 'ibp'):
    U ~ N(0, σ²) i.i.d. (n × n_u), x ~ N(0, I), b = 0, Δ_in = 2ε. Returns (mean, standard error)."""
    n = W.shape[0]
    r = np.empty(T)
    for t in range(T):
        U = rng.standard_normal((n, nu)) * sigma
        ib = interval_bounds(W, U, np.zeros(n), Box.ball(rng.standard_normal(nu), eps), "ibp")
        assert ib.certified
        r[t] = np.mean(ib.upper_approx - ib.lower_approx) / (2 * eps)
    return float(r.mean()), float(r.std(ddof=1) / math.sqrt(T))


@pytest.mark.theorem("li2022:prop3.5")
@settings(max_examples=scaled(5))
@given(seed=SEEDS, nu=st.sampled_from([4, 16, 64]))
def test_prop35_recommended_sigma_violates_gain_one_corrected_sigma_attains_it(seed, nu):
    """li2022 §3.4: with E|U| = √(2/π)σ the paper recommends σ = √π/√(2n_u) 'to make the gain ≤ 1',
    i.e. n_u·E|U| ≤ 1. Monte Carlo (20000 draws of U_ij, 5-SE confidence bounds): with the printed σ,
    n_u·E|U| = √n_u — its lower confidence bound exceeds 1 (2, 4, 8 for n_u = 4, 16, 64); with the
    corrected σ = √π/(√2·n_u), n_u·E|U| = 1 (|estimate − 1| ≤ 5 SE). At the model level (W = O/√n,
    n = 8, O random orthogonal, n_u = 64, 60 draws) the printed σ gives an estimated gain
    E[Δ_out]/E[Δ_in] (≈ 6.7) whose lower 5-SE bound exceeds 1."""
    rng = np.random.default_rng(seed)
    N = 20000
    for sigma, target in ((math.sqrt(math.pi) / math.sqrt(2 * nu), math.sqrt(nu)),
                          (math.sqrt(math.pi) / (math.sqrt(2) * nu), 1.0)):
        a = nu * np.abs(rng.standard_normal(N) * sigma)
        est, se = a.mean(), a.std(ddof=1) / math.sqrt(N)
        assert abs(est - target) <= 5 * se
        if target > 1:
            assert est - 5 * se > 1
    O, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    g, se = _mc_width_gain(rng, O / math.sqrt(8), 64, math.sqrt(math.pi) / math.sqrt(2 * 64), 0.1, 60)
    assert g - 5 * se > 1


@pytest.mark.theorem("li2022:prop3.5")
def test_prop35_bound_8_fails_even_with_corrected_sigma():
    """li2022 Prop 3.5, eq. (8): E[Δ_out]/E[Δ_in] ≤ n_u E|U|/(2 − √n‖W‖₂). Take the fixed row-orthogonal
    W = R(30°)/√2 (n = 2, ‖W‖₂ = 1/√n, so the right side is n_u E|U| = 1 for the corrected
    σ = √π/(√2 n_u), n_u = 4), U ~ N(0, σ²), x ~ N(0, I), b = 0, ε = 1. Monte Carlo over 1000 draws
    (adjoint-DEQ widths from deqtheory.intervals): the estimated gain ≈ 1.9 and its lower 5-SE
    confidence bound exceeds 1 — (8) is not a valid bound; the proof's step (26)
    E[σ(ḡ) − σ(g̲)] = ½E[ḡ − g̲] is a heuristic. The rigorous replacement Δ_out ≤ (I − |W|)⁻¹|U|Δ_in
    (monotone, 1-Lipschitz σ) holds draw by draw."""
    rng = np.random.default_rng(20221121)
    th = math.pi / 6
    W = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]]) / math.sqrt(2)
    nu, eps = 4, 1.0
    sigma = math.sqrt(math.pi) / (math.sqrt(2) * nu)
    rhs = nu * math.sqrt(2 / math.pi) * sigma / (2 - math.sqrt(2) * np.linalg.norm(W, 2))
    assert abs(rhs - 1) < 1e-12
    g, se = _mc_width_gain(rng, W, nu, sigma, eps, 1000)
    assert g - 5 * se > rhs
    K = np.linalg.inv(np.eye(2) - np.abs(W))
    for _ in range(50):
        U = rng.standard_normal((2, nu)) * sigma
        ib = interval_bounds(W, U, np.zeros(2), Box.ball(rng.standard_normal(nu), eps), "ibp")
        assert np.all(ib.upper_approx - ib.lower_approx <= K @ np.abs(U) @ np.full(nu, 2 * eps) * (1 + 1e-9))


@pytest.mark.theorem("li2022:prop3.5")
def test_prop35_where_8_fails_and_where_it_holds():
    """li2022 Prop 3.5, eq. (8) with the corrected σ = √π/(√2 n_u) (right side n_u E|U|/(2 − √n‖W‖₂) = 1 for
    W = O/√n, O Haar-orthogonal, n_u = 4, ε = 1): the Monte Carlo gain (fresh O per draw, 5-SE bounds) is
    above 1 at n = 2 (lower bound > 1: (8) fails) and below 1 at n = 16 (upper bound < 1: (8) holds
    empirically at realistic widths, where the proof's symmetric-centre heuristic (26) is nearly right)."""
    rng = np.random.default_rng(16)
    nu, eps = 4, 1.0
    sigma = math.sqrt(math.pi) / (math.sqrt(2) * nu)

    def gain(n, T):
        r = np.empty(T)
        for t in range(T):
            W = np.linalg.qr(rng.standard_normal((n, n)))[0] / math.sqrt(n)
            r[t] = _one_gain(rng, W, nu, sigma, eps)
        return float(r.mean()), float(r.std(ddof=1) / math.sqrt(T))

    g2, se2 = gain(2, 300)
    g16, se16 = gain(16, 120)
    assert g2 - 5 * se2 > 1.0, (g2, se2)
    assert g16 + 5 * se16 < 1.0, (g16, se16)


def _one_gain(rng, W, nu, sigma, eps):
    n = W.shape[0]
    U = rng.standard_normal((n, nu)) * sigma
    ib = interval_bounds(W, U, np.zeros(n), Box.ball(rng.standard_normal(nu), eps), "ibp")
    assert ib.certified
    return float(np.mean(ib.upper_approx - ib.lower_approx) / (2 * eps))


# ------------------------------------------------------------------------------------- sec3.6.loss

@pytest.mark.theorem("li2022:sec3.6.loss")
@settings(max_examples=scaled(12))
@given(seed=SEEDS, n=st.integers(1, 6), d=st.integers(1, 4), p=st.integers(2, 5), lam_n=st.floats(0.0, 2.0))
def test_sec36_certified_loss_upper_bounds_worst_case_loss(seed, n, d, p, lam_n):
    """li2022 (9): ℒ_c = L̄_ε ≥ max_{‖δ‖∞≤ε} L(f(x + δ), y). Instantiated with the IBP 'elision' bound
    used by CerDEQ/IBP: cross-entropy L = log Σⱼ exp(−(f_y − f_j)) is decreasing in every margin, so with
    margin lower bounds m̲ⱼ from deqtheory.intervals.margin_lower_bounds on the adjoint-DEQ box,
    L̄_ε = log Σⱼ exp(−m̲ⱼ) (m̲_y = 0) upper-bounds L(f(x'), y) for every x' in the ℓ∞ ball (uniform
    samples and corners; f(x') = Gz*(x') + b_y with z* from deqtheory.solvers at residual ≤ 1e-10).
    Hence ℒ = (ℒ_c + λ_nℒ_n)/(1 + λ_n) ≥ (worst-case + λ_nℒ_n)/(1 + λ_n) and ℒ_c ≥ ℒ_n."""
    rng = np.random.default_rng(seed)
    W = contractive_W(rng, n)
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    G, by = rng.standard_normal((p, n)), rng.standard_normal(p)
    x, eps, y = rng.standard_normal(d), rng.uniform(0.01, 0.5), int(rng.integers(p))
    ib = interval_bounds(W, U, b, Box.ball(x, eps), "ibp")
    assert ib.certified
    m = margin_lower_bounds(G, by, ib.box, y).copy()
    m[y] = 0.0
    Lc = float(np.log(np.sum(np.exp(-m))))

    def ce(xp):
        f = G @ solve_tight(W, U @ xp + b) + by
        return float(np.log(np.sum(np.exp(f - f.max()))) + f.max() - f[y])

    X = np.vstack([x + eps * (2 * rng.random((10, d)) - 1), x + eps * np.where(rng.random((10, d)) < .5, -1, 1)])
    worst = max(ce(xp) for xp in X)
    Ln = ce(x)
    assert Lc >= worst - 1e-9 and Lc >= Ln - 1e-9
    assert (Lc + lam_n * Ln) / (1 + lam_n) >= (worst + lam_n * Ln) / (1 + lam_n) - 1e-9


# ------------------------------------------------------------------------------------------ eq. (26)

def relu_half_width_gap(c, r):
    """σ(c + r) − σ(c − r) for pre-activation centre c and radius r ≥ 0 (ḡ = c + r, g̲ = c − r)."""
    return np.maximum(c + r, 0.0) - np.maximum(c - r, 0.0)


def check_eq26(seed, factor=0.5):
    """(26) E[σ(ḡ) − σ(g̲)] = factor·E[ḡ − g̲] (printed factor ½), with the centre c symmetric about 0:
    exact by the antithetic identity σ(c + r) − σ(c − r) + σ(−c + r) − σ(−c − r) = 2r, so the mean over the
    symmetrised sample {c, −c} equals r = ½(ḡ − g̲) to rounding for any r, any symmetric law of c. With a
    shifted centre (mean μ ≠ 0) the identity fails: 0 ≤ σ(ḡ) − σ(g̲) ≤ ḡ − g̲ only, and the mean ratio moves
    towards 1 (μ > 0) or 0 (μ < 0). Returns the shifted-centre ratios (low, high)."""
    rng = np.random.default_rng(seed)
    k = 2000
    c = rng.standard_normal(k) * rng.uniform(0.1, 3.0)
    r = np.abs(rng.standard_normal(k)) * rng.uniform(0.1, 3.0)
    cs, rs = np.concatenate([c, -c]), np.concatenate([r, r])
    lhs = relu_half_width_gap(cs, rs).mean()
    assert lhs == pytest.approx(factor * (2 * rs).mean(), rel=1e-12), (lhs, (2 * rs).mean())
    gap = relu_half_width_gap(c, r)
    assert np.all(gap >= 0) and np.all(gap <= 2 * r + 1e-15 * (np.abs(c) + r))
    mu = 3.0 * np.std(c) + 3.0 * np.mean(r)
    hi = relu_half_width_gap(c + mu, r).mean() / (2 * r).mean()
    lo = relu_half_width_gap(c - mu, r).mean() / (2 * r).mean()
    assert hi > 0.75 and lo < 0.25                      # far from ½: (26) needs the symmetric centre
    return lo, hi


@pytest.mark.theorem("li2022:eq26")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_eq26_half_width_identity_exact_for_symmetric_centres_only(seed):
    """li2022 (26): exact (antithetic identity, rel 1e-12) when the pre-activation centre is symmetric about 0;
    for shifted centres the ratio is > 0.75 or < 0.25, so (26) is not an identity of ReLU interval widths."""
    check_eq26(seed)


# ------------------------------------------------------------------------------------------ eq. (32)

def check_eq32(seed, const=lambda m, n: math.sqrt(n)):
    """(32) Σ_j|A_ij| ≤ ‖A‖∞ ≤ √n‖A‖₂ for A ∈ ℝ^{m×n} (n columns): random A never exceeds it, and
    A with a single non-zero row of ±1 attains it (‖A‖∞ = n = √n·√n). ``const(m, n)`` is the
    factor under test. Returns the attained ratio."""
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 7)), int(rng.integers(1, 9))
    A = rng.standard_normal((m, n)) * 10 ** rng.uniform(-2, 2)
    rows = np.abs(A).sum(axis=1)
    ninf = float(rows.max())
    assert np.all(rows <= ninf)
    assert ninf <= const(m, n) * np.linalg.norm(A, 2) * (1 + 1e-12)
    T = np.zeros((m, n))
    T[int(rng.integers(0, m))] = rng.choice([-1.0, 1.0], n)   # one sign row: ‖T‖∞ = n, ‖T‖₂ = √n
    ratio = float(np.abs(T).sum(axis=1).max() / (const(m, n) * np.linalg.norm(T, 2)))
    assert ratio <= 1 + 1e-12, ratio
    return ratio


# ------------------------------------------------------------------------------------------ §3.2: contractive if ‖W‖₂ < 1

def check_sec32_contractive(seed, lip=lambda W: np.linalg.norm(W, 2)):
    """§3.2: F(z) = ReLU(Wz + Ux + b) has ‖F(z₁) − F(z₂)‖₂ ≤ ‖W‖₂‖z₁ − z₂‖₂ (ReLU is 1-Lipschitz), so it is a
    contraction when ‖W‖₂ < 1 and the iteration converges to the unique fixed point. Random pairs never exceed
    ``lip(W)``, and the constant is attained: with every unit active at z₁, z₂ = z₁ + t·v₁ (v₁ the top right
    singular vector, t small) gives ratio ‖W‖₂. Returns the attained ratio / lip."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    A = rng.standard_normal((n, n))
    W = A / np.linalg.norm(A, 2) * rng.uniform(0.1, 0.99)
    U, x = rng.standard_normal((n, d)), rng.standard_normal(d)
    b = -(U @ x) + 10.0                                 # Wz + Ux + b > 0 for ‖z‖ ≤ 9/‖W‖: all active
    F = lambda z: np.maximum(W @ z + U @ x + b, 0.0)
    c = lip(W)
    for _ in range(6):
        z1, z2 = 5 * rng.standard_normal(n), 5 * rng.standard_normal(n)
        assert np.linalg.norm(F(z1) - F(z2)) <= c * np.linalg.norm(z1 - z2) * (1 + 1e-12) + 1e-12
    v1 = np.linalg.svd(W)[2][0]
    z1 = rng.uniform(-1, 1, n)
    z2 = z1 + 0.5 * v1
    ratio = float(np.linalg.norm(F(z1) - F(z2)) / (0.5 * c))
    assert ratio <= 1 + 1e-9, ratio
    z = np.zeros(n)
    for _ in range(3000):
        z = F(z)
    assert np.linalg.norm(z - F(z)) <= 1e-9 * (1 + np.linalg.norm(z))
    return ratio


@pytest.mark.theorem("li2022:eq32", "li2022:sec3.2.contractive")
@pytest.mark.parametrize("check", [check_eq32, check_sec32_contractive], ids=["eq32", "sec32-contractive"])
@settings(max_examples=scaled(20))
@given(SEEDS)
def test_li2022_bounds_hold_and_are_attained(check, seed):
    """li2022 (32) ‖A‖∞ ≤ √n‖A‖₂ (random A of every shape; attained by a single ±1 row) and §3.2 (ReLU layer
    contracts with factor ‖W‖₂ < 1; attained along the top singular vector with all units active): each check
    asserts the inequality on random draws and returns the attained ratio, here ≥ 1 − 1e-9."""
    assert check(seed) >= 1 - 1e-9


@pytest.mark.theorem("li2022:eq26", "li2022:eq32", "li2022:sec3.2.contractive")
@pytest.mark.parametrize("check, mutant, need", [
    (check_eq26, {"factor": 1.0}, 3),                                      # (26) without the halving
    (check_eq26, {"factor": 0.25}, 3),
    (check_eq32, {"const": lambda m, n: 0.5 * math.sqrt(n)}, 3),           # constant halved
    (check_eq32, {"const": lambda m, n: math.sqrt(m)}, 1),                 # rows for columns (harmless if m ≥ n)
    (check_sec32_contractive, {"lip": lambda W: 0.5 * np.linalg.norm(W, 2)}, 3),
], ids=["eq26-factor1", "eq26-factor1/4", "eq32-halved", "eq32-sqrt-m", "sec32-halved"])
def test_li2022_checks_catch_mutants(check, mutant, need):
    """Mutation demonstration for the tight checks above: each mutant is rejected on at least ``need`` of
    the seeds 0, 1, 2 (all of them, except √m in place of √n, which only shows when m < n)."""
    from deqtheory.testing.mutants import count_caught

    assert count_caught(check, range(3), **mutant) >= need


# ------------------------------------------------------------------------------------------ §3.7 item 1

@pytest.mark.theorem("li2022:sec3.7.item1")
@settings(max_examples=scaled(15))
@given(SEEDS, st.integers(min_value=1, max_value=8))
def test_sec37_orthogonal_over_sqrt_n_meets_ibp_mondeq_condition_only_non_strictly(seed, n):
    """li2022 §3.7 item 1 vs wei2022 Thm 3.1 (I − Ŵ ≻ 0 ⇔ λ_max(sym|W|) < 1): W = O/√n (O orthogonal) gives
    λ_max(sym|W|) ≤ ‖|W|‖₂ ≤ ‖W‖_F = 1, i.e. only I − |W| ⪰ 0; the Hadamard case O = H₄/2 attains 1 and the
    library's check_ibp_wellposed does not certify it, while 0.99·W is certified. So the orthogonalisation
    'suits' IBP-MonDEQ's condition only after an extra factor c < 1."""
    from deqtheory.linalg import check_ibp_wellposed

    rng = np.random.default_rng(seed)
    O = np.linalg.qr(rng.standard_normal((n, n)))[0]
    W = O / math.sqrt(n)
    lam = float(np.linalg.eigvalsh(0.5 * (np.abs(W) + np.abs(W).T))[-1])
    assert lam <= 1 + 1e-12
    c = check_ibp_wellposed(0.99 * W)
    assert c.certified
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=float) / 2
    Wh = H / 2                                           # O/√n with O = H₄/2 orthogonal, n = 4
    assert np.allclose(Wh @ Wh.T * 4, np.eye(4))
    assert float(np.linalg.eigvalsh(np.abs(Wh))[-1]) == pytest.approx(1.0, abs=1e-15)
    assert not check_ibp_wellposed(Wh).certified
    assert check_ibp_wellposed(0.99 * Wh).certified
