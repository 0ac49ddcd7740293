"""Theorem-catalogue property tests for wei2022 (Wei & Kolter, IBP-MonDEQ; papers/000).

Every test is tied to a catalogue entry with ``@pytest.mark.theorem`` and its docstring states the
claim it checks. Inputs are valid by construction (Hypothesis integer seeds → numpy RNG, n ≤ 8).
Independent oracles used here (never the code under test): dense ``eigvalsh``/``eigvals``/``svd``,
exhaustive enumeration of ReLU activation patterns (all fixed points of z = relu(Mz + v) for small
dimension), brute-force interval arithmetic over the 2ⁿ corners of a box, and the paper's own
iterations written out explicitly.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import linalg, solvers, spectrum
from deqtheory.errors import DomainError
from deqtheory.intervals import Box, affine_box, ibp_box, ibp_lift, interval_bounds
from deqtheory.parametrizations import IBPMonDEQ, IBPMonDEQGamma, row_col_mass
from deqtheory.parametrizations.ibp import IBPMonDEQParams
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached
from deqtheory.verified import verified_pd

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


# --------------------------------------------------------------------------------------------- oracles

def lam_min_sym(X):
    return float(np.linalg.eigvalsh((X + X.T) / 2)[0])


def lam_max_sym(X):
    return float(np.linalg.eigvalsh((X + X.T) / 2)[-1])


def all_fixed_points(M, v, tol=1e-9):
    """Every solution of z = relu(Mz + v) by enumeration of activation patterns S: z_S solves
    (I − M_SS) z_S = v_S, z_{S^c} = 0; kept iff z_S ≥ 0 and (Mz + v)_{S^c} ≤ 0 (up to tol).
    Solutions found in several patterns (ties) are merged."""
    N = len(v)
    sols = []
    scale = 1.0 + np.abs(v).max()
    for k in range(N + 1):
        for S in itertools.combinations(range(N), k):
            S = list(S)
            z = np.zeros(N)
            if S:
                A = np.eye(len(S)) - M[np.ix_(S, S)]
                if abs(np.linalg.det(A)) < 1e-12:
                    continue
                z[S] = np.linalg.solve(A, v[S])
            if np.max(np.abs(z - np.maximum(M @ z + v, 0.0))) <= tol * scale * (1 + np.abs(z).max()):
                if not any(np.allclose(z, s, atol=1e-7 * (1 + np.abs(s).max())) for s in sols):
                    sols.append(z)
    return sols


def solve_tight(W, v, **kw):
    """deqtheory.solvers fixed point with residual ≤ 1e-10 (asserted)."""
    res = solvers.solve_injection(W, v, tol=1e-11, max_iter=200000, **kw)
    assert res.converged and res.residual <= 1e-10, res.message
    return res.z


def corner_interval(W, b, lo, hi):
    """Brute-force interval hull of {Wz + b : lo ≤ z ≤ hi} over the 2ⁿ corners (exact for affine maps)."""
    n = len(lo)
    C = np.array([[hi[i] if bit else lo[i] for i, bit in enumerate(bits)]
                  for bits in itertools.product((0, 1), repeat=n)])
    Y = C @ W.T + b
    return Y.min(axis=0), Y.max(axis=0)


def rand_W(rng, n, sparse=True):
    W = rng.standard_normal((n, n)) * 10.0 ** rng.uniform(-0.5, 0.5)
    if sparse:
        W = W * (rng.random((n, n)) < rng.uniform(0.3, 1.0))
    return W


# ------------------------------------------------------------------------------------------ prop2.1

@pytest.mark.theorem("wei2022:prop2.1")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 7), m=st.floats(0.05, 1.0), skew=st.floats(0.0, 3.0))
def test_prop21_monotone_W_has_unique_fixed_point(seed, n, m, skew):
    """wei2022 Prop 2.1 (Winston & Kolter): if I − W ≻ 0 — here W = (1 − m)I − AAᵀ + B − Bᵀ as
    printed, m > 0 — then for every v, z = relu(Wz + v) has exactly one solution. Checked by
    exhaustive enumeration of activation patterns (exactly one solution) and by two solvers of
    deqtheory.solvers (forward–backward and Peaceman–Rachford, different starts) that reach
    residual ≤ 1e-10 and agree with it."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) * skew / np.sqrt(n)
    W = (1 - m) * np.eye(n) - A @ A.T + B - B.T
    assert lam_min_sym(np.eye(n) - W) >= m - 1e-12          # hypothesis holds by construction
    v = rng.standard_normal(n) * 3
    sols = all_fixed_points(W, v)
    assert len(sols) == 1
    z1 = solve_tight(W, v, method="fb")
    z2 = solve_tight(W, v, method="pr", z0=rng.standard_normal(n) * 10)
    tol = 1e-7 * (1 + np.abs(sols[0]).max())
    assert np.allclose(z1, sols[0], atol=tol) and np.allclose(z2, sols[0], atol=tol)


@pytest.mark.theorem("wei2022:prop2.1")
def test_prop21_hypothesis_not_vacuous():
    """Without I − W ≻ 0 uniqueness fails: W = [[0, 2], [2, 0]] (sym(I − W) has eigenvalue −1),
    v = (−1, −1) has the two fixed points (0, 0) and (1, 1) (enumeration oracle)."""
    W = np.array([[0.0, 2.0], [2.0, 0.0]])
    v = np.array([-1.0, -1.0])
    assert lam_min_sym(np.eye(2) - W) < 0
    sols = sorted(all_fixed_points(W, v), key=lambda z: z.sum())
    assert len(sols) == 2
    assert np.allclose(sols[0], [0, 0]) and np.allclose(sols[1], [1, 1])


# -------------------------------------------------------------------------------------------- eq3.3

@pytest.mark.theorem("wei2022:eq3.3")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 6))
def test_eq33_one_ibp_step_is_interval_arithmetic(seed, n):
    """wei2022 (2.3)/(3.2)/(3.3): the lift Ŵ = [[W₊, W₋], [W₋, W₊]] acting on [z̄; z̲] (upper first)
    maps a box to the exact interval hull of the affine image: Ŵ[z̄; z̲] + [b; b] equals the max/min of
    Wz + b over the 2ⁿ box corners; σ is applied to each bound. Checked for both library lifts
    (deqtheory.intervals.ibp_lift and deqtheory.spectrum.ibp_lift) and for affine_box (which must
    contain the hull and exceed it by rounding only)."""
    rng = np.random.default_rng(seed)
    W = rand_W(rng, n)
    b = rng.standard_normal(n)
    lo = rng.standard_normal(n)
    hi = lo + rng.uniform(0, 2, n)
    want_lo, want_hi = corner_interval(W, b, lo, hi)
    for lift in (ibp_lift(W), spectrum.ibp_lift(W)):
        assert np.array_equal(lift[:n, :n], np.maximum(W, 0)) and np.array_equal(lift[:n, n:], np.minimum(W, 0))
        out = lift @ np.concatenate([hi, lo]) + np.concatenate([b, b])
        tol = 1e-12 * (1 + np.abs(W).sum() * (1 + np.abs(lo).max() + np.abs(hi).max()))
        assert np.allclose(out[:n], want_hi, atol=tol) and np.allclose(out[n:], want_lo, atol=tol)
        # σ step of (3.2): relu is monotone, so relu(bounds) bounds relu(Wz + b) on the box
        Z = lo + rng.random((50, n)) * (hi - lo)
        Y = np.maximum(Z @ W.T + b, 0)
        assert np.all(Y <= np.maximum(out[:n], 0) + tol) and np.all(Y >= np.maximum(out[n:], 0) - tol)
    ab = affine_box(W, b, Box(lo, hi))
    tol = 1e-12 * (1 + np.abs(W).sum() * (1 + np.abs(lo).max() + np.abs(hi).max()) + np.abs(b).max())
    assert np.all(ab.lower <= want_lo) and np.all(ab.upper >= want_hi)
    assert np.all(want_lo - ab.lower <= tol) and np.all(ab.upper - want_hi <= tol)


@pytest.mark.theorem("wei2022:eq3.3")
@settings(max_examples=scaled(15))
@given(seed=SEEDS, n=st.integers(1, 6))
def test_eq33_ibp_box_is_the_limit_of_iteration_32(seed, n):
    """wei2022 (3.3) is the limit of the IBP iteration (3.2): for W with ‖|W|‖₂ < 1 (so the
    iteration is an ℓ₂ contraction) the explicit iteration from 0 converges to the approximate
    fixed point returned by deqtheory.intervals.ibp_box, which satisfies (3.3) with residual ≤ 1e-10."""
    rng = np.random.default_rng(seed)
    A = rand_W(rng, n)
    W = A / max(np.linalg.norm(np.abs(A), 2), 1e-300) * rng.uniform(0.1, 0.8)
    c = rng.standard_normal(n) * 2
    vb = Box(c - rng.uniform(0, 1, n), c + rng.uniform(0, 1, n))
    ib = ibp_box(W, vb)
    assert ib.certified
    L = spectrum.ibp_lift(W)
    vh = np.concatenate([vb.upper, vb.lower])
    zh = np.concatenate([ib.upper_approx, ib.lower_approx])
    assert np.max(np.abs(zh - np.maximum(L @ zh + vh, 0))) <= 1e-10
    z = np.zeros(2 * n)
    for _ in range(400):
        z = np.maximum(L @ z + vh, 0)
    assert np.allclose(z, zh, atol=1e-9 * (1 + np.abs(zh).max()))


# ------------------------------------------------------------------------------------------- thm3.1

@pytest.mark.theorem("wei2022:thm3.1")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 7))
def test_thm31_if_direction_from_raw_M_and_D(seed, n):
    """Thm 3.1 (⇐): any M and any diagonal D with D_ii > ((|M|𝟙)_i + (|M|ᵀ𝟙)_i)/2 (built here
    directly, not through the library parametrization) give W = D^{-1/2}MD^{-1/2} with
    I₂ₕ − Ŵ ≻ 0 — dense λ_min(sym(I₂ₕ − Ŵ)) > 0 and a proved verified_pd certificate."""
    rng = np.random.default_rng(seed)
    M = rand_W(rng, n)
    r = (np.abs(M).sum(1) + np.abs(M).sum(0)) / 2
    D = r + rng.uniform(0.05, 1.0, n) * (r.mean() + 1e-3)
    s = 1 / np.sqrt(D)
    W = s[:, None] * M * s[None, :]
    X = np.eye(2 * n) - spectrum.ibp_lift(W)
    assert lam_min_sym(X) > 0
    assert verified_pd(X).certified
    assert linalg.check_ibp_wellposed(W).certified


@pytest.mark.theorem("wei2022:thm3.1")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 7), delta=st.floats(1e-3, 0.9))
def test_thm31_only_if_direction_constructive(seed, n, delta):
    """Thm 3.1 (⇒): W built only from the hypothesis I₂ₕ − Ŵ ≻ 0 (random sparse W rescaled so that
    λ_max(sym Ŵ) = 1 − δ, checked on the 2h×2h lift) has the form (3.4): the constructive witness of
    IBPMonDEQ(m=0).right_inverse gives (M, D) with D_ii > ((|M|𝟙)_i + (|M|ᵀ𝟙)_i)/2 (checked here
    from the returned M, d) and D^{-1/2}MD^{-1/2} = W."""
    rng = np.random.default_rng(seed)
    A = rand_W(rng, n)
    lm = lam_max_sym(spectrum.ibp_lift(A))
    if lm <= 0:
        A = A + np.eye(n) * 0.1                 # (all-zero sample) make λ_max(sym Â) > 0
        lm = lam_max_sym(spectrum.ibp_lift(A))
    W = A * ((1 - delta) / lm)
    assert lam_min_sym(np.eye(2 * n) - spectrum.ibp_lift(W)) > 0.5 * delta
    p = IBPMonDEQ(m=0.0)
    prm = p.right_inverse(W)
    d = p.d(prm)
    r = (np.abs(prm.M).sum(1) + np.abs(prm.M).sum(0)) / 2
    assert np.all(d > r)
    W2 = prm.M / np.sqrt(d)[:, None] / np.sqrt(d)[None, :]
    assert np.allclose(W2, W, atol=1e-9 * (1 + np.abs(W).max()))


@pytest.mark.theorem("wei2022:thm3.1")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 4))
def test_thm31_consequence_unique_fixed_points(seed, n):
    """Thm 3.1 (consequence): for W of the form (3.4), the standard equation (2.4) and the IBP
    equation (3.6) have exactly one solution for *all* v, v̄, v̲ (not even v̲ ≤ v̄ needed):
    enumeration of all activation patterns of the h- and 2h-dimensional ReLU systems."""
    rng = np.random.default_rng(seed)
    p = IBPMonDEQ(m=0.0)
    W = p.forward(p.sample(rng, n, scale=rng.uniform(0.5, 4.0), slack_range=(0.01, 0.5)))
    v = rng.standard_normal(n) * 2
    vh = rng.standard_normal(2 * n) * 2
    assert len(all_fixed_points(W, v)) == 1
    assert len(all_fixed_points(spectrum.ibp_lift(W), vh)) == 1


@pytest.mark.theorem("wei2022:thm3.1")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(3, 8), c=st.floats(1.3, 3.0), alpha=st.floats(0.0, 0.1))
def test_thm31_hypothesis_fails_ibp_iteration_diverges(seed, n, c, alpha):
    """Thm 3.1 is about I − Ŵ ≻ 0, not I − W ≻ 0: W = c(P − Pᵀ) − αAAᵀ (P an n-cycle permutation,
    c > 1.2) has sym(I − W) = I + αAAᵀ ≻ 0 (so (2.4) is well posed, unique fixed point), but
    I − |W| is not ≻ 0 and ρ(W₊) ≥ c − 0.1 > 1. With v̲ ≤ 0 the lower IBP iterate stays 0 and the
    upper one z̄ₖ = relu(W₊z̄ₖ₋₁ + v̄) ≥ Σⱼ W₊ʲ v̄ diverges: the IBP iteration (3.2) blows up
    (‖z̄ₖ‖ > 10⁶‖v̄‖ after 150 steps), and linalg.check_ibp_wellposed does not certify I − |W| ≻ 0."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    P = np.zeros((n, n))
    P[perm, np.roll(perm, 1)] = 1.0                     # one n-cycle, n ≥ 3 ⇒ P and Pᵀ disjoint
    A = rng.standard_normal((n, n))
    A = A / max(np.abs(A @ A.T).max(), 1e-300)
    W = c * (P - P.T) - alpha * A @ A.T
    assert lam_min_sym(np.eye(n) - W) > 0                                   # I − W ≻ 0
    assert lam_min_sym(np.eye(n) - np.abs(W)) < 0                           # I − |W| not ≻ 0
    assert max(abs(np.linalg.eigvals(np.maximum(W, 0)))) >= c - 0.1 - 1e-9  # ρ(W₊) > 1
    v = rng.standard_normal(n)
    assert len(all_fixed_points(W, v)) == 1                                 # (2.4) still well posed
    vbar = rng.uniform(0.1, 1.0, n)
    vlow = -rng.uniform(0.0, 1.0, n)
    L = spectrum.ibp_lift(W)
    z = np.zeros(2 * n)
    for _ in range(150):
        z = np.maximum(L @ z + np.concatenate([vbar, vlow]), 0)
    assert np.all(z[n:] == 0)
    assert np.linalg.norm(z[:n]) > 1e6 * np.linalg.norm(vbar)
    assert not linalg.check_ibp_wellposed(W).certified


# ------------------------------------------------------------------------------------------ prop3.2

@pytest.mark.theorem("wei2022:prop3.2")
@settings(max_examples=scaled(12))
@given(seed=SEEDS, n=st.integers(1, 6), m=st.floats(0.05, 0.9))
def test_prop32_on_paper_training_form_and_degenerate_box(seed, n, m):
    """wei2022 Prop 3.2 (3.5) on the boundary case of §4's training form (λ_max(sym|W|) = 1 − m,
    so I − Ŵ ⪰ mI ≻ 0): the IBP box of deqtheory.intervals contains z*(v) (solved by
    deqtheory.solvers to residual ≤ 1e-10) for v uniform in and at the corners of [v̲, v̄], with
    z̲* ≤ z̄*; for v̲ = v̄ the IBP fixed point collapses to z*(v) (z̄* = z̲* = z*(v), up to the solve
    error)."""
    rng = np.random.default_rng(seed)
    W = IBPMonDEQ(m=m).forward_paper(rand_W(rng, n) + np.eye(n) * 1e-3)
    c = rng.standard_normal(n) * 2
    vb = Box(c - rng.uniform(0, 1.5, n), c + rng.uniform(0, 1.5, n))
    ib = ibp_box(W, vb)
    assert ib.certified
    assert np.all(ib.lower_approx <= ib.upper_approx + 1e-12)
    V = np.vstack([vb.sample(rng, 10), np.where(rng.random((10, n)) < 0.5, vb.lower, vb.upper)])
    for v in V:
        z = solve_tight(W, v)
        slack = 1e-8 * (1 + np.abs(z).max())
        assert np.all(z >= ib.box.lower - slack) and np.all(z <= ib.box.upper + slack)
    point = Box(c, c)
    ip = ibp_box(W, point)
    z = solve_tight(W, c)
    tol = 1e-8 * (1 + np.abs(z).max())
    assert np.allclose(ip.upper_approx, z, atol=tol) and np.allclose(ip.lower_approx, z, atol=tol)


# ------------------------------------------------------------------------------------------- thm3.3

def _perron_lambda(Wabs):
    """Λ = diag(y/x) with x, y right/left Perron vectors of |W| (oracle for Thm 3.3 (⇒))."""
    w, V = np.linalg.eig(Wabs)
    x = np.abs(np.real(V[:, np.argmax(np.real(w))]))
    w2, V2 = np.linalg.eig(Wabs.T)
    y = np.abs(np.real(V2[:, np.argmax(np.real(w2))]))
    return y / x


def _rho_W_outside_thm31(rng, n):
    """|W| irreducible (positive) with ρ(|W|) < 1 but λ_max(sym|W|) > 1: a strongly non-normal
    positive matrix (rank-one spike plus positive noise), random signs."""
    while True:
        u, w = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, n)
        Ab = np.outer(u, w) * np.exp(rng.uniform(-3, 3, (n, 1))) * np.exp(rng.uniform(-3, 3, (1, n)))
        Ab = Ab + 0.01 * rng.random((n, n)) * Ab.mean()
        Ab = Ab / max(abs(np.linalg.eigvals(Ab))) * rng.uniform(0.5, 0.95)
        if lam_max_sym(Ab) > 1.0:
            return Ab * np.where(rng.random((n, n)) < 0.5, -1.0, 1.0)


@pytest.mark.theorem("wei2022:thm3.3")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(2, 7))
def test_thm33_only_if_direction_outside_thm31_class(seed, n):
    """Thm 3.3 (⇒): W with a Λ ∈ 𝔻₊, Λ − Λ|W| ≻ 0 — built with ρ(|W|) < 1 but λ_max(sym|W|) > 1
    (outside Thm 3.1's class), Λ = diag(y/x) from the Perron vectors (oracle, checked dense) — is of
    the form (3.7): IBPMonDEQGamma(gamma=None).right_inverse(W, Lambda=Λ) gives Γ, D, M with
    D_ii > ((|M|𝟙)_i + (|M|ᵀ𝟙)_i)/2 (checked from the returned parameters) and
    ΓD^{-1/2}MD^{-1/2}Γ⁻¹ = W."""
    rng = np.random.default_rng(seed)
    W = _rho_W_outside_thm31(rng, n)
    assert lam_min_sym(np.eye(n) - np.abs(W)) < 0
    lam = _perron_lambda(np.abs(W))
    assert lam_min_sym(np.diag(lam) @ (np.eye(n) - np.abs(W))) > 0
    p = IBPMonDEQGamma(m=0.0, gamma=None)
    prm = p.right_inverse(W, Lambda=lam)
    g = p.Gamma(prm.beta)
    d = IBPMonDEQ(m=0.0).d(IBPMonDEQParams(M=prm.M, log_slack=prm.log_slack))
    assert np.all(g > 0) and np.all(d > row_col_mass(prm.M))
    W2 = (g[:, None] * (prm.M / np.sqrt(d)[:, None] / np.sqrt(d)[None, :])) / g[None, :]
    assert np.allclose(W2, W, atol=1e-8 * (1 + np.abs(W).max()))


@pytest.mark.theorem("wei2022:thm3.3")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 7), gamma=st.floats(1.1, 20.0))
def test_thm33_if_direction_also_lambda_minus_lambda_W(seed, n, gamma):
    """Thm 3.3 (⇐) (App. A): W = ΓD^{-1/2}MD^{-1/2}Γ⁻¹ from raw M, D_ii > r_i(M) and a random positive
    diagonal Γ (κ(Γ) up to γ) satisfies both Λ − Λ|W| ≻ 0 and Λ − ΛW ≻ 0 with Λ = Γ⁻² (dense check),
    although sym(I − |W|) need not be PD."""
    rng = np.random.default_rng(seed)
    M = rand_W(rng, n)
    r = (np.abs(M).sum(1) + np.abs(M).sum(0)) / 2
    D = r + rng.uniform(0.05, 1.0, n) * (r.mean() + 1e-3)
    g = np.exp(rng.uniform(0, np.log(gamma), n))
    W = np.diag(g) @ np.diag(D ** -0.5) @ M @ np.diag(D ** -0.5) @ np.diag(1 / g)
    Lam = np.diag(g ** -2.0)
    assert lam_min_sym(Lam - Lam @ np.abs(W)) > 0
    assert lam_min_sym(Lam - Lam @ W) > 0


@pytest.mark.theorem("wei2022:thm3.3")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 6), rho=st.floats(1.0, 3.0))
def test_thm33_no_lambda_when_spectral_radius_at_least_one(seed, n, rho):
    """Thm 3.3, failing hypothesis: if ρ(|W|) ≥ 1 no Λ ∈ 𝔻₊ has Λ − Λ|W| ≻ 0: for the Perron vector
    x ≥ 0 of |W|, xᵀΛ(I − |W|)x = (1 − ρ)xᵀΛx ≤ 0 for *every* positive diagonal Λ (checked for 20
    random Λ spanning 6 decades), and the library does not certify membership."""
    rng = np.random.default_rng(seed)
    Ab = rng.random((n, n)) + 0.01
    Ab = Ab / max(abs(np.linalg.eigvals(Ab))) * rho
    W = Ab * np.where(rng.random((n, n)) < 0.5, -1.0, 1.0)
    w, V = np.linalg.eig(np.abs(W))
    x = np.abs(np.real(V[:, np.argmax(np.real(w))]))
    for _ in range(20):
        lam = np.exp(rng.uniform(-7, 7, n))
        q = x @ (lam * (x - np.abs(W) @ x))
        assert q <= 1e-9 * (lam * x * x).sum()
    assert not IBPMonDEQGamma(m=0.0, gamma=None).contains(W).certified


@pytest.mark.theorem("wei2022:thm3.3")
@settings(max_examples=scaled(12))
@given(seed=SEEDS, n=st.integers(2, 4))
def test_thm33_consequences_unique_and_valid_bounds(seed, n):
    """Thm 3.3 consequences for W outside Thm 3.1's class (ρ(|W|) < 1 < λ_max(sym|W|)):
    (1) (2.4) and (3.6) have exactly one solution for random v, v̄, v̲ (pattern enumeration);
    (2) the unique IBP fixed point bounds z*(v) for v in [v̲, v̄] (uniform samples and corners,
    z*(v) also by enumeration)."""
    rng = np.random.default_rng(seed)
    W = _rho_W_outside_thm31(rng, n)
    L = spectrum.ibp_lift(W)
    assert len(all_fixed_points(W, rng.standard_normal(n))) == 1
    assert len(all_fixed_points(L, rng.standard_normal(2 * n))) == 1
    c = rng.standard_normal(n)
    lo, hi = c - rng.uniform(0, 1, n), c + rng.uniform(0, 1, n)
    zh = all_fixed_points(L, np.concatenate([hi, lo]))
    assert len(zh) == 1
    zu, zl = zh[0][:n], zh[0][n:]
    V = np.vstack([lo + rng.random((10, n)) * (hi - lo), np.where(rng.random((10, n)) < 0.5, lo, hi)])
    for v in V:
        (z,) = all_fixed_points(W, v)
        tol = 1e-9 * (1 + np.abs(zh[0]).max())
        assert np.all(zl <= z + tol) and np.all(z <= zu + tol)


# ------------------------------------------------------------------------------ lemma3.4, claim3.5

@pytest.mark.theorem("wei2022:lemma3.4")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 7), delta=st.floats(1e-6, 0.5), side=st.sampled_from([-1, 1]))
def test_lemma34_equivalence_near_the_boundary(seed, n, delta, side):
    """Lemma 3.4 (3.8), both directions at the boundary: W scaled so that λ_max(sym|W|) = 1 ∓ δ.
    Inside (1 − δ): I − |W| ≻ 0 and I₂ₕ − Ŵ ≻ 0 are both *proved* (verified_pd), both λ_min equal δ.
    Outside (1 + δ): both are false — dense λ_min(sym(I₂ₕ − Ŵ)) = −δ < 0 and no certificate."""
    rng = np.random.default_rng(seed)
    A = rand_W(rng, n) + np.eye(n) * 1e-3
    W = A * ((1 - side * delta) / lam_max_sym(np.abs(A)))
    Xs = np.eye(n) - np.abs(W)
    Xl = np.eye(2 * n) - spectrum.ibp_lift(W)
    tol = 1e-12 * (1 + np.abs(W).sum())
    assert abs(lam_min_sym(Xs) - side * delta) <= tol and abs(lam_min_sym(Xl) - side * delta) <= tol
    if side == 1:
        assert verified_pd(Xs).certified and verified_pd(Xl).certified
    else:
        assert not verified_pd(Xs).certified and not verified_pd(Xl).certified


@pytest.mark.theorem("wei2022:claim3.5")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 6))
def test_claim35_orthogonal_similarity_and_lift_spectrum(seed, n):
    """Claim 3.5 (stronger form): Q[[A, B], [B, A]]Qᵀ = blkdiag(A + B, A − B) for the orthogonal
    Q = (1/√2)[[I, I], [I, −I]] (built here), so spec = spec(A+B) ∪ spec(A−B) with multiplicity;
    applied to Ŵ (A = W₊, B = W₋): spec(Ŵ) = spec(W) ∪ spec(|W|), matching deqtheory.spectrum.lift_eigvals
    (Hungarian matching against dense eigvals of the 2h×2h lift)."""
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(seed)
    A, B = rand_W(rng, n), rand_W(rng, n)
    Q = np.block([[np.eye(n), np.eye(n)], [np.eye(n), -np.eye(n)]]) / np.sqrt(2)
    Mb = np.block([[A, B], [B, A]])
    T = Q @ Mb @ Q.T
    sc = 1e-13 * (1 + np.abs(Mb).max())
    assert np.allclose(T[:n, :n], A + B, atol=sc) and np.allclose(T[n:, n:], A - B, atol=sc)
    assert np.allclose(T[:n, n:], 0, atol=sc) and np.allclose(T[n:, :n], 0, atol=sc)
    W = rand_W(rng, n)
    dense = np.linalg.eigvals(spectrum.ibp_lift(W))
    union = np.concatenate([np.linalg.eigvals(W), np.linalg.eigvals(np.abs(W))])
    for other in (union, spectrum.lift_eigvals(W)):
        cost = np.abs(dense[:, None] - other[None, :])
        r, c = linear_sum_assignment(cost)
        assert cost[r, c].max() <= 1e-6 * (1 + np.abs(W).sum())


# ---------------------------------------------------------------------------------- sec3.1.specrad

@pytest.mark.theorem("wei2022:sec3.1.specrad")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 7), nonneg=st.booleans())
def test_specrad_lift_at_least_W_equality_for_nonnegative(seed, n, nonneg):
    """§3.1 'the spectral radius of Ŵ is always larger than that of W', corrected to ≥:
    ρ(Ŵ) = ρ(|W|) ≥ ρ(W) (dense eigvals of the lift), with equality when W ≥ 0 entrywise
    (so 'always larger' as printed is false, e.g. for every nonnegative W)."""
    rng = np.random.default_rng(seed)
    W = rand_W(rng, n)
    if nonneg:
        W = np.abs(W)
    rho = lambda X: float(np.max(np.abs(np.linalg.eigvals(X))))
    rl, ra, rw = rho(spectrum.ibp_lift(W)), rho(np.abs(W)), rho(W)
    tol = 1e-7 * (1 + np.abs(W).sum())
    assert abs(rl - ra) <= tol and rl >= rw - tol
    assert abs(spectrum.lift_spectral_radius(W) - rl) <= tol
    if nonneg:
        assert abs(rl - rw) <= tol                      # equality: not 'larger'
        reached("wei2022:sec3.1.specrad", min(rw, rl) / rl if rl > tol else 1.0)


@pytest.mark.theorem("wei2022:sec3.1.specrad")
def test_specrad_strict_witness():
    """Strict case of §3.1: W = [[1, −1], [1, 1]]/2 has ρ(W) = 1/√2 < ρ(Ŵ) = ρ(|W|) = 1."""
    W = np.array([[1.0, -1.0], [1.0, 1.0]]) / 2
    rl = np.max(np.abs(np.linalg.eigvals(spectrum.ibp_lift(W))))
    assert abs(np.max(np.abs(np.linalg.eigvals(W))) - 2 ** -0.5) < 1e-14 and abs(rl - 1) < 1e-14


# ---------------------------------------------------------------------------------- sec3.3.rownorm

@pytest.mark.theorem("wei2022:sec3.3.rownorm")
def test_rownorm_printed_l2_claim_counterexample():
    """§3.3 prints 'W = D⁻¹M with D_ii ≥ (|M|𝟙)_i implies ‖W‖_op ≤ 1' where ‖·‖_op is the ℓ₂
    operator norm of Example 3.6 (‖W‖_op = 1.9 there is the spectral norm). False for ℓ₂:
    M = [[1, 0], [1, 0]], D = I (D_ii = (|M|𝟙)_i = 1) gives ‖W‖₂ = √2 > 1 (while ‖W‖∞ = 1)."""
    M = np.array([[1.0, 0.0], [1.0, 0.0]])
    D = np.eye(2)
    assert np.all(np.diag(D) >= np.abs(M).sum(1))
    W = np.linalg.solve(D, M)
    assert abs(np.linalg.norm(W, 2) - np.sqrt(2)) < 1e-14
    assert np.abs(W).sum(1).max() == 1.0


@pytest.mark.theorem("wei2022:sec3.3.rownorm")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 8), slack=st.floats(0.0, 2.0))
def test_rownorm_corrected_linf_statement(seed, n, slack):
    """Corrected §3.3 claim: D_ii ≥ (|M|𝟙)_i ⇒ ‖D⁻¹M‖∞ ≤ 1 (hence ρ(W) ≤ 1), and only
    ‖D⁻¹M‖₂ ≤ √h for ℓ₂ — attained by M = 𝟙e₁ᵀ (all rows equal e₁ᵀ), D = I: ‖W‖₂ = √h."""
    rng = np.random.default_rng(seed)
    M = rand_W(rng, n) + np.eye(n) * 1e-3
    D = np.abs(M).sum(1) * (1 + slack * rng.random(n))
    W = M / D[:, None]
    tol = 1e-12
    assert np.abs(W).sum(1).max() <= 1 + tol
    assert np.max(np.abs(np.linalg.eigvals(W))) <= 1 + 1e-9
    assert np.linalg.norm(W, 2) <= np.sqrt(n) * (1 + tol)
    E = np.zeros((n, n))
    E[:, 0] = 1.0
    assert abs(np.linalg.norm(E, 2) - np.sqrt(n)) <= 1e-12 * n
    # tight witness: D_ii = (|M|𝟙)_i exactly gives ‖D⁻¹M‖∞ = 1 (up to the rounding of the row sums)
    reached("wei2022:sec3.3.rownorm", np.abs(M / np.abs(M).sum(1)[:, None]).sum(1).max(), slack=1e-12)


# --------------------------------------------------------------------------------------- lemmaA.1

@pytest.mark.theorem("wei2022:lemmaA.1")
@settings(max_examples=scaled(15))
@given(seed=SEEDS, n=st.integers(1, 6), gamma=st.floats(1.5, 10.0))
def test_lemmaA1_preconditioned_iteration_on_thm33_class(seed, n, gamma):
    """Lemma A.1 in the setting of Thm 3.3: W = ΓD^{-1/2}MD^{-1/2}Γ⁻¹ (IBPMonDEQGamma), Λ = Γ⁻².
    With α = min(1, λ_min(sym(Λ − ΛW))/‖Λ − ΛW‖₂²) ∈ (0, 1] the linear part I − α(Λ − ΛW) is an
    ℓ₂ contraction with factor q (dense), the unique z* = σ(Wz* + v) (enumeration oracle, agreeing with
    deqtheory.solvers) is a fixed point of (A.3) z ↦ σ((I − αΛ)z + αΛ(Wz + v)) (identity A.4), and the
    iteration written out here converges to it from a random start: ‖zₖ − z*‖₂ ≤ qᵏ‖z₀ − z*‖₂."""
    rng = np.random.default_rng(seed)
    p = IBPMonDEQGamma(m=0.0, gamma=gamma)
    prm = p.sample(rng, n, scale=rng.uniform(0.5, 3.0), beta_scale=3.0)
    W = p.forward(prm)
    lam = p.Gamma(prm.beta) ** -2.0
    X = np.diag(lam) @ (np.eye(n) - W)
    mu = lam_min_sym(X)
    assert mu > 0
    alpha = min(1.0, mu / np.linalg.norm(X, 2) ** 2)
    assert np.linalg.norm(np.eye(n) - alpha * X, 2) < 1
    v = rng.standard_normal(n) * 2
    (zs,) = all_fixed_points(W, v)
    assert np.allclose(solve_tight(W, v), zs, atol=1e-8 * (1 + np.abs(zs).max()))
    step = lambda z: np.maximum(z - alpha * lam * z + alpha * lam * (W @ z + v), 0)
    assert np.allclose(step(zs), zs, atol=1e-10 * (1 + np.abs(zs).max()))      # (A.4): z* is a fixed point
    q = np.linalg.norm(np.eye(n) - alpha * X, 2)
    z = rng.standard_normal(n) * 5
    e0 = np.linalg.norm(z - zs)
    for k in range(1, 3001):
        z = step(z)
        if k in (10, 100, 1000, 3000):   # geometric convergence at the proved rate q < 1
            assert np.linalg.norm(z - zs) <= q ** k * e0 * (1 + 1e-9) + 1e-9 * (1 + np.abs(zs).max())


# ------------------------------------------------------------------------------------- sec4.param

@pytest.mark.theorem("wei2022:sec4.param")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 8), m=st.floats(0.01, 0.95))
def test_sec4_param_D_from_M_gives_margin_m_with_equality(seed, n, m):
    """wei2022 §4: D = diag((|M| + |M|ᵀ)𝟙/(2(1 − m))) (IBPMonDEQ(m).forward_paper) satisfies the strict
    (3.4) inequality D_ii > r_i(M) whenever r_i(M) > 0, and λ_max(sym|W|) ≤ 1 − m — in fact = 1 − m
    (equality allowed, to 1e-12), so λ_min(sym(I₂ₕ − Ŵ)) = m (dense oracle on the lift)."""
    rng = np.random.default_rng(seed)
    M = rand_W(rng, n) + np.eye(n) * rng.uniform(1e-3, 1)       # no zero row+column
    p = IBPMonDEQ(m=m)
    W = p.forward_paper(M)
    d = p.paper_d(M)
    r = (np.abs(M).sum(1) + np.abs(M).sum(0)) / 2
    assert np.allclose(d, r / (1 - m), rtol=1e-14) and np.all(d > r)
    W2 = M / np.sqrt(d)[:, None] / np.sqrt(d)[None, :]
    assert np.allclose(W, W2, atol=1e-14 * (1 + np.abs(W).max()))
    lmax = lam_max_sym(np.abs(W))
    assert lmax <= 1 - m + 1e-12 and lmax >= 1 - m - 1e-12
    reached("wei2022:sec4.param", lmax / (1 - m), slack=1e-11)
    assert abs(lam_min_sym(np.eye(2 * n) - spectrum.ibp_lift(W)) - m) <= 1e-12


@pytest.mark.theorem("wei2022:sec4.param")
def test_sec4_param_zero_row_and_column_is_rejected():
    """§4's D has D_ii = 0 when row and column i of M vanish (D^{-1/2} undefined): the library raises a
    typed DomainError instead of returning inf/NaN weights."""
    M = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 0.5]])
    with pytest.raises(DomainError):
        IBPMonDEQ(m=0.1).forward_paper(M)


@pytest.mark.theorem("wei2022:sec4.param")
@settings(max_examples=scaled(20))
@given(seed=SEEDS, n=st.integers(1, 8), gamma=st.floats(1.01, 50.0), bscale=st.sampled_from([1.0, 10.0, 1e3]),
       m=st.floats(0.01, 0.9))
def test_sec4_param_gamma_condition_number_at_most_gamma(seed, n, gamma, bscale, m):
    """§4, Γ = diag(((γ − 1)/γ)sigmoid(β) + 1/γ): every Γ_ii ∈ [1/γ, 1] and cond(Γ) ≤ γ for any β
    (including saturated |β| ~ 10³, where equality is reached); with §4's D, W = ΓD^{-1/2}MD^{-1/2}Γ⁻¹
    satisfies Λ((1 − m)I − |W|) ⪰ 0 for Λ = Γ⁻² (boundary: λ_min ≥ −1e-12)."""
    rng = np.random.default_rng(seed)
    beta = rng.standard_normal(n) * bscale
    p = IBPMonDEQGamma(m=m, gamma=gamma)
    g = p.Gamma(beta)
    u = 2.0 ** -52
    assert np.all(g >= 1 / gamma * (1 - 4 * u)) and np.all(g <= 1 + 4 * u)
    assert g.max() / g.min() <= gamma * (1 + 8 * u)
    M = rand_W(rng, n) + np.eye(n) * 1e-2
    Wp = IBPMonDEQ(m=m).forward_paper(M)
    W = (g[:, None] * Wp) / g[None, :]
    X = np.diag(g ** -2.0) @ ((1 - m) * np.eye(n) - np.abs(W))
    assert lam_min_sym(X) >= -1e-12 * max(1.0, (g ** -2.0).max())
