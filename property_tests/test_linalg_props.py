"""Property tests for deqtheory.linalg and for the soundness of deqtheory.verified.verified_pd.

Oracles are independent of the code under test: exact rational arithmetic (fractions) and
high-precision eigenvalues (mpmath, 60 digits) on small matrices (n ≤ 6)."""
from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from deqtheory import linalg as L
from deqtheory.certificates import Status
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached
from deqtheory.verified import product_error_bound, verified_pd

mp.mp.dps = 60
seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=6)


def _mp_lambda_min_sym(A: np.ndarray) -> mp.mpf:
    """λ_min of sym(A) for the float matrix A, in 60-digit arithmetic (exact input conversion)."""
    n = A.shape[0]
    S = mp.matrix(n, n)
    for i in range(n):
        for j in range(n):
            S[i, j] = (mp.mpf(float(A[i, j])) + mp.mpf(float(A[j, i]))) / 2
    return min(mp.eigsy(S, eigvals_only=True))


def _mp_eigvals(A: np.ndarray) -> list:
    """High-precision eigenvalues (mpmath's eig returns a nested list for 1×1 input: handle it)."""
    if A.shape == (1, 1):
        return [mp.mpf(float(A[0, 0]))]
    return list(mp.eig(mp.matrix(A.tolist()), left=False, right=False))


def _mp_rho(A: np.ndarray) -> mp.mpf:
    return max(abs(e) for e in _mp_eigvals(A))


def _mp_abscissa(A: np.ndarray) -> mp.mpf:
    return max(mp.re(e) for e in _mp_eigvals(A))


def _exact_mu(W: np.ndarray, eta: np.ndarray) -> Fraction:
    """μ∞,[η]⁻¹(W) = max_i W_ii + Σ_{j≠i} η_j/η_i |W_ij| in exact rational arithmetic."""
    n = W.shape[0]
    F = [[Fraction(float(x)) for x in row] for row in W]
    e = [Fraction(float(x)) for x in eta]
    return max(F[i][i] + sum(e[j] / e[i] * abs(F[i][j]) for j in range(n) if j != i) for i in range(n))


# ------------------------------------------------------------------------------------------
# verified_pd soundness (lead's verified.py; tested here as the brief asks)
# ------------------------------------------------------------------------------------------

@st.composite
def exactly_singular_integer(draw):
    """(A, exact λ_min(sym A)) with A = CᵀC + S − Sᵀ − s·I, C integer of rank < n, S integer:
    λ_min(CᵀC) = 0 exactly, so λ_min(sym A) = −s ≤ 0 (s ≥ 0 dyadic, possibly 0)."""
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(min_value=2, max_value=6))
    k = draw(st.integers(min_value=1, max_value=n - 1))
    C = rng.integers(-3, 4, size=(k, n)).astype(float)
    Sk = rng.integers(-2, 3, size=(n, n)).astype(float) * draw(st.sampled_from([0.0, 1.0]))
    s = draw(st.sampled_from([0.0, 0.0, 2.0 ** -60, 2.0 ** -40, 2.0 ** -20, 0.5]))
    scale = 2.0 ** draw(st.integers(min_value=-30, max_value=30))
    A = (C.T @ C + Sk - Sk.T - s * np.eye(n)) * scale
    return A, -s * scale


def _assert_margin_sound(c, lam) -> None:
    """The soundness claim shared by every PD-type check: a finite margin never exceeds the exact
    λ (``lam``, a 60-digit oracle); CERTIFIED ⇒ λ > 0; REFUTED ⇒ λ < 0."""
    if np.isfinite(c.margin):
        assert mp.mpf(c.margin) <= lam
    if c.certified:
        assert lam > 0
    if c.status is Status.REFUTED:
        assert lam < 0


@given(exactly_singular_integer())
@settings(max_examples=scaled(40))
def test_verified_pd_never_certifies_singular_or_indefinite(case):
    """Claim: verified_pd never certifies a matrix whose exact λ_min(sym A) ≤ 0 (here known exactly
    by construction: exactly singular integer Gram matrices, optionally shifted down), and its
    finite margin is never above the exact λ_min."""
    A, lam = case
    c = verified_pd(A)
    assert not c.certified
    assert c.margin <= lam
    if c.status is Status.REFUTED:
        assert lam < 0


@given(seeds, sizes, st.integers(min_value=-60, max_value=-1), st.sampled_from([-1.0, 1.0]))
@settings(max_examples=scaled(30))
def test_verified_pd_sound_near_singular(seed, n, j, sign):
    """Claim: for a near-singular float matrix (Gram matrix of a rank-deficient random matrix plus
    ±2^j I, rounded), verified_pd's margin ≤ exact λ_min(sym A) (60-digit oracle), so CERTIFIED
    implies exact λ_min > 0."""
    rng = np.random.default_rng(seed)
    k = max(n - 1, 1)
    C = rng.standard_normal((k, n))
    A = C.T @ C + sign * 2.0 ** j * np.eye(n) + 1e-3 * rng.standard_normal((n, n))
    lam = _mp_lambda_min_sym(A)
    _assert_margin_sound(verified_pd(A), lam)


@given(seeds, st.integers(min_value=2, max_value=6))
@settings(max_examples=scaled(30))
def test_verified_pd_abs_err_accounts_for_product_rounding(seed, n):
    """Claim: with abs_err = product_error_bound(Cᵀ, C), verified_pd(fl(CᵀC)) never certifies when
    the exact CᵀC is singular (C has fewer rows than columns), although fl(CᵀC) may be PD."""
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((n - 1, n)) * rng.uniform(0.1, 10)
    G = C.T @ C
    c = verified_pd(G, abs_err=product_error_bound(C.T, C))
    assert not c.certified and c.margin <= 0


# ------------------------------------------------------------------------------------------
# Matrix measures and optimal eta
# ------------------------------------------------------------------------------------------

@st.composite
def metzler_test_matrix(draw):
    """Random W with sparsity (reducible cases), negative diagonals and varied scales."""
    rng = np.random.default_rng(draw(seeds))
    n = draw(sizes)
    W = rng.standard_normal((n, n)) * 10.0 ** rng.uniform(-2, 1)
    density = draw(st.sampled_from([1.0, 0.6, 0.3]))
    W *= rng.uniform(size=(n, n)) < density
    if draw(st.booleans()):
        W[np.diag_indices(n)] -= rng.uniform(0, 3, n)
    return W


@given(metzler_test_matrix(), seeds)
@settings(max_examples=scaled(25))
def test_mu_inf_upper_is_proved_and_tight(W, seed):
    """Claim: mu_inf_upper(W, η) ≥ the exact rational μ∞,[η]⁻¹(W) and exceeds it by at most
    rounding-level amounts; μ∞,[η]⁻¹(W) ≥ α(M(W)) ≥ α(W) for every η > 0 (matrix measures bound
    the spectral abscissa)."""
    n = W.shape[0]
    eta = np.random.default_rng(seed).uniform(0.05, 2.0, n)
    exact = _exact_mu(W, eta)
    ub = L.mu_inf_upper(W, eta)
    assert Fraction(ub) >= exact
    assert ub - float(exact) <= 1e-12 * (1 + np.abs(W).sum() * eta.max() / eta.min())
    alpha_M = float(_mp_abscissa(L.metzler_majorant(W)))
    assert L.mu_inf(W, eta) >= alpha_M - 1e-9 * (1 + np.abs(W).max())
    assert alpha_M >= float(_mp_abscissa(W)) - 1e-9 * (1 + np.abs(W).max())


@given(metzler_test_matrix())
@settings(max_examples=scaled(25))
def test_min_mu_inf_attains_spectral_abscissa(W):
    """Claim (Collatz–Wielandt): inf_η μ∞,[η]⁻¹(W) = α(diag W + |offdiag W|); min_mu_inf returns η
    with μ within 1e-7(1+|α|) of α (60-digit oracle), never below it, and its proved upper bound is
    ≥ the exact rational μ at the returned η."""
    r = L.min_mu_inf(W)
    alpha = float(_mp_abscissa(L.metzler_majorant(W)))
    tol = 1e-7 * (1 + abs(alpha) + np.abs(W).max())
    assert r.mu >= alpha - 1e-9 * (1 + np.abs(W).max())
    assert r.mu <= alpha + tol
    assert np.all(r.eta > 0)
    assert Fraction(r.mu_upper) >= _exact_mu(W, r.eta)


@given(metzler_test_matrix())
@settings(max_examples=scaled(6))
def test_min_mu_inf_lp_agrees(W):
    """Claim: the LP-bisection solution of the quasi-convex problem (HiGHS, η in the box
    [1, 10⁸]ⁿ) is never better than the Perron/resolvent solution (both are ≥ α), and agrees with
    it to 1e-6 (relative to the data scale) when M(W) is irreducible; for reducible M the optimal
    η may need ratios beyond the box (documented limitation of the LP)."""
    from scipy.sparse.csgraph import connected_components

    a = L.min_mu_inf(W)
    b = L.min_mu_inf(W, method="lp")
    s = 1 + np.abs(W).max()
    assert b.mu >= a.mu - 1e-9 * s
    assert Fraction(b.mu_upper) >= _exact_mu(W, b.eta)
    off = (W != 0) & ~np.eye(W.shape[0], dtype=bool)
    if connected_components(off, directed=True, connection="strong")[0] == 1:
        assert abs(a.mu - b.mu) <= 1e-6 * s


@pytest.mark.theorem("jafarpour2022:remark5.2")
@given(metzler_test_matrix())
@settings(max_examples=scaled(20))
def test_remark_5_2_1_mu_less_conservative_than_pf_and_inf_norm(W):
    """jafarpour2022 Remark 5.2.1: the condition ∃η μ∞,[η]⁻¹(W) < 1 is less conservative than
    λ_pf(|W|) < 1, which is less conservative than ‖W‖∞ < 1:
    min_η μ∞,[η]⁻¹(W) ≤ λ_pf(|W|) ≤ ‖W‖∞."""
    r = L.min_mu_inf(W)
    rho = float(_mp_rho(np.abs(W)))
    s = 1e-7 * (1 + np.abs(W).max())
    assert r.mu <= rho + s
    assert rho <= np.abs(W).sum(axis=1).max() + s
    if L.check_pf_abs(W).certified:
        assert L.check_mu_inf(W).certified


@pytest.mark.theorem("jafarpour2022:remark5.2")
@given(st.integers(0, 2**32 - 1))
@settings(max_examples=scaled(15))
def test_remark_5_2_1_chain_attained(seed):
    """Tight witness for min_η μ∞,[η]⁻¹(W) ≤ λ_pf(|W|) ≤ ‖W‖∞: W = wP with P doubly stochastic (W ≥ 0, every row
    sum w) gives μ∞ = λ_pf = ‖W‖∞ = w, so both inequalities hold with equality (ratios ≥ 0.999)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    W = rng.uniform(0.1, 2.0) * sum(np.eye(n)[rng.permutation(n)] * c for c in rng.dirichlet(np.ones(3)))
    mu, rho, ninf = L.min_mu_inf(W).mu, L.pf_eig(np.abs(W)), float(np.abs(W).sum(axis=1).max())
    reached("jafarpour2022:remark5.2", min(mu / rho, rho / ninf), slack=1e-7)


@pytest.mark.theorem("jafarpour2022:remark6.4.4")
@given(metzler_test_matrix())
@settings(max_examples=scaled(20))
def test_remark_6_4_4_metzler_vs_ibp_split(W):
    """jafarpour2022 §3 / Remark 6.4.4: ⌈W⌉^Mzl + ⌊W⌋^Mzl = W, ⌈W⌉^Mzl is Metzler,
    ⌈W⌉^Mzl ≤ [W]⁺ and [W]⁻ ≤ ⌊W⌋^Mzl entrywise (equality off the diagonal)."""
    Mzl, non = L.metzler_split(W)
    n = W.shape[0]
    off = ~np.eye(n, dtype=bool)
    assert np.array_equal(Mzl + non, W)
    assert np.all(Mzl[off] >= 0) and np.all(non <= 0) and np.all(np.diag(non) == 0)
    assert np.all(Mzl <= L.pos(W)) and np.all(L.neg(W) <= non)
    assert np.array_equal(Mzl[off], L.pos(W)[off]) and np.array_equal(non[off], L.neg(W)[off])


# ------------------------------------------------------------------------------------------
# Perron root bounds and the checks
# ------------------------------------------------------------------------------------------

@given(metzler_test_matrix())
@settings(max_examples=scaled(20))
def test_pf_bounds_bracket_perron_root(W):
    """Claim: pf_lower_bound(|W|) ≤ λ_pf(|W|) ≤ pf_upper_bound(|W|) (60-digit oracle), and the
    upper bound is within 1e-6 relative of the truth."""
    A = np.abs(W)
    rho = _mp_rho(A)
    up, lo = L.pf_upper_bound(A), L.pf_lower_bound(A)
    assert mp.mpf(lo.bound) <= rho + mp.mpf(10) ** -40 <= mp.mpf(up.bound) + mp.mpf(10) ** -40 * 2
    assert up.bound <= float(rho) + 1e-6 * (1 + A.max())


@st.composite
def near_boundary_W(draw):
    """W scaled so that the tested quantity is near 1; includes exactly-at-boundary cases
    (dyadic row-stochastic |W|: λ_pf(|W|) = μ∞(W) = 1 exactly)."""
    rng = np.random.default_rng(draw(seeds))
    n = draw(sizes)
    if draw(st.booleans()):
        P = rng.integers(1, 5, size=(n, n)).astype(float)
        P /= 2.0 ** np.ceil(np.log2(P.sum(1)))[:, None]
        P[:, -1] += 1.0 - P.sum(1)                    # rows sum to exactly 1, entries dyadic ≥ 0
        signs = np.where(rng.uniform(size=(n, n)) < 0.5, -1.0, 1.0)
        np.fill_diagonal(signs, 1.0)
        return P * signs
    W = rng.standard_normal((n, n))
    return W / (np.max(np.abs(np.linalg.eigvals(np.abs(W)))) * draw(st.floats(0.9, 1.1)))


@pytest.mark.theorem("jafarpour2022:thm5.1", "jafarpour2022:remark5.2")
@given(near_boundary_W())
@settings(max_examples=scaled(25))
def test_checks_pf_and_mu_sound(W):
    """Claim: check_pf_abs CERTIFIED ⇒ λ_pf(|W|) < 1 with 1 − margin ≥ λ_pf; REFUTED ⇒ λ_pf ≥ 1.
    check_mu_inf CERTIFIED ⇒ exact rational μ∞,[η]⁻¹(W) < 1 at the witness η; REFUTED ⇒
    α(M(W)) ≥ 1. Certificates re-verify from their witnesses."""
    rho = _mp_rho(np.abs(W))
    c = L.check_pf_abs(W)
    if c.certified:
        assert rho < 1 and mp.mpf(1 - c.margin) >= rho - mp.mpf(10) ** -40
    if c.status is Status.REFUTED:
        assert rho >= 1 - mp.mpf(10) ** -40
    assert c.verify(W=W).status is c.status
    d = L.check_mu_inf(W)
    if d.certified:
        assert _exact_mu(W, d.witness["eta"]) < 1
        assert Fraction(1 - d.margin) >= _exact_mu(W, d.witness["eta"])
    if d.status is Status.REFUTED:
        assert _mp_abscissa(L.metzler_majorant(W)) >= 1 - mp.mpf(10) ** -40
    assert d.verify(W=W).status is d.status


@st.composite
def monotone_case(draw):
    """W with λ_min(sym(I − W)) near or exactly at 0: W = I − CᵀC + S − Sᵀ (+ small dyadic shift),
    C integer of rank < n ⇒ exactly 0 when the shift is 0."""
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(min_value=2, max_value=6))
    k = draw(st.integers(min_value=1, max_value=n))
    C = rng.integers(-2, 3, size=(k, n)).astype(float)
    Sk = rng.integers(-2, 3, size=(n, n)).astype(float)
    shift = draw(st.sampled_from([0.0, 2.0 ** -50, -(2.0 ** -50), 0.25, -0.25]))
    scale = draw(st.sampled_from([1.0, 0.125, 3.0]))
    W = np.eye(n) - scale * (C.T @ C) + Sk - Sk.T - shift * np.eye(n)
    return W


@pytest.mark.theorem("wei2022:prop2.1")
@given(monotone_case())
@settings(max_examples=scaled(25))
def test_check_monotone_sound(W):
    """Claim: check_monotone CERTIFIED ⇒ exact λ_min(sym(I − W)) > 0 and margin ≤ it;
    REFUTED ⇒ exact λ_min < 0 (60-digit oracle); re-verification from the witness agrees."""
    lam = _mp_lambda_min_sym(np.eye(W.shape[0]) - W)
    c = L.check_monotone(W)
    _assert_margin_sound(c, lam)
    assert c.verify(W=W).status is c.status


@pytest.mark.theorem("wei2022:thm3.1", "wei2022:lemma3.4")
@given(seeds, sizes, st.floats(0.5, 1.5))
@settings(max_examples=scaled(20))
def test_check_ibp_wellposed_sound(seed, n, t):
    """Claim: check_ibp_wellposed CERTIFIED ⇒ exact λ_min(sym(I − |W|)) > 0 and margin ≤ it;
    REFUTED ⇒ it is < 0 (W scaled so that λ_max(sym|W|) ≈ t, around the boundary 1)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n))
    W *= t / np.max(np.linalg.eigvalsh(0.5 * (np.abs(W) + np.abs(W).T)))
    lam = _mp_lambda_min_sym(np.eye(n) - np.abs(W))
    c = L.check_ibp_wellposed(W)
    _assert_margin_sound(c, lam)
    assert c.verify(W=W).status is c.status


@given(seeds, sizes)
@settings(max_examples=scaled(20))
def test_norm2_upper_bound_never_below_truth(seed, n):
    """Claim: norm2_upper_bound(M) ≥ σ_max(M) (60-digit SVD) and is within 1e-10 relative."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 7))
    M = rng.standard_normal((m, n)) * 10.0 ** rng.uniform(-3, 3)
    s = max(mp.svd_r(mp.matrix(M.tolist()), compute_uv=False))
    ub = L.norm2_upper_bound(M)
    assert mp.mpf(ub) >= s
    assert ub <= float(s) * (1 + 1e-10)


@given(seeds, st.integers(min_value=260, max_value=700), st.booleans())
@settings(max_examples=scaled(10), deadline=None)
def test_norm2_upper_bound_gram_path_never_below_truth(seed, n, tall):
    """Claim: for wide/tall M (the small-Gram path of norm2_upper_bound) the bound is ≥ σ_max(M) (60-digit
    λ_max of the exact Gram matrix) and within 1e-9 relative; rows of very different scales included."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 7))
    M = rng.standard_normal((m, n)) * 10.0 ** rng.uniform(-3, 3, size=(m, 1))
    A = mp.matrix(M.tolist())
    G = A * A.T
    lam = max(mp.eigsy(G, eigvals_only=True))
    ub = L.norm2_upper_bound(M.T if tall else M)
    assert mp.mpf(ub) ** 2 >= lam
    assert ub <= float(mp.sqrt(lam)) * (1 + 1e-9)


# ------------------------------------------------------------------------------------------
# PSD factors
# ------------------------------------------------------------------------------------------

@given(seeds, sizes, st.integers(min_value=0, max_value=6), st.booleans())
@settings(max_examples=scaled(25))
def test_psd_factor_and_sqrt(seed, n, rank, zero_block):
    """Claim: for symmetric PSD A (any rank, including exactly 0 blocks and rounding-noise negative
    eigenvalues), psd_factor gives V with ‖VᵀV − A‖₂ ≤ 1e-12‖A‖₂ + tiny and psd_sqrt gives a
    symmetric R with R ⪰ 0 and R² ≈ A."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((min(rank, n), n))
    A = B.T @ B
    if zero_block and n > 1:
        A[0, :] = 0.0
        A[:, 0] = 0.0
    V = L.psd_factor(A)
    R = L.psd_sqrt(A)
    nA = np.linalg.norm(A, 2)
    tol = 1e-12 * nA + 1e-300
    assert np.linalg.norm(V.T @ V - A, 2) <= tol
    assert np.array_equal(R, R.T) or np.linalg.norm(R - R.T) <= 1e-14 * (1 + np.linalg.norm(R))
    assert np.linalg.norm(R @ R - A, 2) <= tol
    assert np.min(np.linalg.eigvalsh(0.5 * (R + R.T))) >= -1e-14 * (1 + np.linalg.norm(R, 2))
    if zero_block and n > 1:
        assert np.abs(V[:, 0]).max() <= 1e-14 * (1 + nA) and np.abs(R[0]).max() <= 1e-7 * (1 + nA) ** 0.5
