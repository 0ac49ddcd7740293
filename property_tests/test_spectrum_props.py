"""Property tests for deqtheory.spectrum: block-spectrum facts of the IBP lift, each against the
dense 2n×2n matrix (and 60-digit mpmath where a bound's soundness is at stake)."""
from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.linalg import block_diag
from scipy.optimize import linear_sum_assignment

from deqtheory import spectrum as S
from deqtheory.certificates import Status
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached

mp.mp.dps = 60
seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=6)


def _mat(seed, m, n=None, sparse=False):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, m if n is None else n)) * 10.0 ** rng.uniform(-1, 1)
    if sparse:
        A *= rng.uniform(size=A.shape) < 0.5
    return A


@pytest.mark.theorem("wei2022:claim3.5")
@given(seeds, seeds, sizes, st.booleans())
@settings(max_examples=scaled(25))
def test_claim_3_5_block_spectrum(sa, sb, n, sparse):
    """wei2022 Claim 3.5: every eigenvalue of M = [[A, B], [B, A]] is an eigenvalue of A + B or of
    A − B. Checked in the stronger multiplicity form det(M − zI) = det(A+B − zI)·det(A−B − zI)
    at random complex z, and by matching the dense eigenvalues of M with block_lift_eigvals."""
    A, B = _mat(sa, n, sparse=sparse), _mat(sb, n, sparse=sparse)
    M = S.block_lift(A, B)
    rng = np.random.default_rng(sa ^ sb)
    I, I2 = np.eye(n), np.eye(2 * n)
    for _ in range(3):
        z = complex(*rng.standard_normal(2)) * (1 + np.abs(M).max())
        lhs = np.linalg.det(M - z * I2)
        rhs = np.linalg.det(A + B - z * I) * np.linalg.det(A - B - z * I)
        assert abs(lhs - rhs) <= 1e-9 * max(abs(lhs), abs(rhs), 1e-300)
    dense = np.linalg.eigvals(M)
    mine = S.block_lift_eigvals(A, B)
    assert mine.shape == (2 * n,)
    cost = np.abs(dense[:, None] - mine[None, :])
    r, c = linear_sum_assignment(cost)
    assert cost[r, c].max() <= 1e-6 * (1 + np.abs(M).max())


@pytest.mark.theorem("wei2022:lemma3.4")
@given(seeds, sizes, st.booleans())
@settings(max_examples=scaled(25))
def test_lemma_3_4_sym_lift_spectrum_and_equivalence(seed, n, sparse):
    """wei2022 Lemma 3.4: the eigenvalues of sym(Ŵ) are eigenvalues of sym(W) or of sym(|W|)
    (here: exactly their union with multiplicity), λ_max(sym|W|) ≥ λ_max(sym W), and hence (3.8):
    λ_min(I_2n − sym Ŵ) = λ_min(I_n − sym|W|), so I_2n − Ŵ ≻ 0 ⇔ I_n − |W| ≻ 0."""
    W = _mat(seed, n, sparse=sparse)
    Wh = S.ibp_lift(W)
    dense = np.linalg.eigvalsh(0.5 * (Wh + Wh.T))
    scale = 1 + np.abs(W).sum()
    assert np.allclose(dense, S.lift_sym_eigvals(W), atol=1e-12 * scale, rtol=0)
    A = np.abs(W)
    lmax_abs = np.linalg.eigvalsh(0.5 * (A + A.T))[-1]
    assert lmax_abs >= np.linalg.eigvalsh(0.5 * (W + W.T))[-1] - 1e-12 * scale
    assert abs((1 - dense[-1]) - (1 - lmax_abs)) <= 1e-12 * scale


@pytest.mark.theorem("li2022:prop3.2")
@given(seeds, sizes, sizes, st.booleans())
@settings(max_examples=scaled(25))
def test_prop_3_2_corrected_lift_norm(seed, m, n, sparse):
    """li2022 Prop 3.2 in its corrected form (the printed max(‖W‖₂, ‖Wᵀ‖₂) is false, see
    tests/test_spectrum.py): ‖Ŵ‖₂ = max(‖W‖₂, ‖|W|‖₂) = ‖|W|‖₂, for any (m, n) W; the proof's
    orthogonal similarity Q_m Ŵ Q_n = blockdiag(W, |W|) holds."""
    W = _mat(seed, m, n, sparse=sparse)
    Wh = S.ibp_lift(W)
    dense = np.linalg.norm(Wh, 2)
    nW, nA = np.linalg.norm(W, 2), np.linalg.norm(np.abs(W), 2)
    tol = 1e-12 * (1 + dense)
    assert abs(dense - max(nW, nA)) <= tol and abs(dense - nA) <= tol
    assert nW <= nA + tol
    assert abs(S.lift_spectral_norm(W) - dense) <= tol
    Q1, Q2 = S.lift_transform(m), S.lift_transform(n)
    assert np.allclose(Q1 @ Wh @ Q2, block_diag(W, np.abs(W)), atol=1e-13 * (1 + np.abs(W).max()))


@pytest.mark.theorem("li2022:prop3.4")
@given(seeds, sizes, sizes)
@settings(max_examples=scaled(25))
def test_prop_3_4_row_orthogonal(seed, a, b):
    """li2022 Prop 3.4: for O ∈ R^{m×n} with OOᵀ = I_m, m ≤ n: 1 ≤ ‖Ô‖₂ ≤ √m ≤ √n (dense Ô)."""
    m, n = min(a, b), max(a, b)
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    O = Q[:m]
    b_ = S.orthogonal_lift_bounds(O)
    dense = np.linalg.norm(S.ibp_lift(O), 2)
    assert abs(b_.value - dense) <= 1e-12
    assert 1 - 1e-12 <= dense <= math.sqrt(m) + 1e-12
    assert math.sqrt(m) <= math.sqrt(n)


@pytest.mark.theorem("li2022:sec3.3.ineq")
@given(seeds, sizes, sizes)
@settings(max_examples=scaled(25))
def test_sigma_max_bound(seed, m, n):
    """li2022 §3.3: σ_max(W) ≤ √(mn)‖W‖_max for W ∈ R^{m×n} (60-digit SVD oracle)."""
    W = _mat(seed, m, n)
    s = max(mp.svd_r(mp.matrix(W.tolist()), compute_uv=False))
    assert mp.mpf(S.sigma_max_bound(W)) >= s


@pytest.mark.theorem("li2022:sec3.3.ineq", "li2022:eq32", "li2022:sec3.2.contractive", "li2022:prop3.4",
                     "li2022:sec3.3.scaling", "li2022:sec3.7.item1")
@given(seeds, st.integers(0, 3), sizes)
@settings(max_examples=scaled(15))
def test_li2022_norm_bounds_attained(seed, k, mm):
    """Tight witnesses for li2022's norm inequalities (each ratio ≥ 0.999):
    §3.3 σ_max ≤ √(mn)‖W‖_max — W = c·stᵀ, s, t ∈ {±1}ᵐ×{±1}ⁿ (rank one, all entries ±c);
    (32) ‖A‖∞ ≤ √n‖A‖₂ — one non-zero row of ±1 (‖A‖∞ = n, ‖A‖₂ = √n);
    §3.2 relu(W·+b) is ‖W‖₂-Lipschitz — all units active, z₂ − z₁ along the top right singular vector;
    Prop 3.4 (both ends), §3.3 (√n scaling: ‖Ŵ‖₂ ≤ 1) and §3.7 item 1 (λ_max(sym|W|) ≤ 1 for W = O/√n) — rows of
    the Sylvester–Hadamard matrix H/√n (n = 2ᵏ) attain ‖Ô‖₂ = √m, and O = [I_m 0] attains 1."""
    rng = np.random.default_rng(seed)
    n = 2 ** k
    m = min(mm, n)
    W = rng.uniform(0.1, 10) * np.outer(rng.choice([-1.0, 1.0], m), rng.choice([-1.0, 1.0], n))
    reached("li2022:sec3.3.ineq", np.linalg.norm(W, 2) / S.sigma_max_bound(W))
    A = np.zeros((m, n))
    A[rng.integers(m)] = rng.choice([-1.0, 1.0], n)
    reached("li2022:eq32", np.abs(A).sum(1).max() / (math.sqrt(n) * np.linalg.norm(A, 2)))
    Wc = rng.standard_normal((m, m))
    Wc *= rng.uniform(0.1, 0.99) / np.linalg.norm(Wc, 2)
    b = np.full(m, 10.0)
    z1 = rng.uniform(-1, 1, m)
    z2 = z1 + 0.5 * np.linalg.svd(Wc)[2][0]
    lip = np.linalg.norm(np.maximum(Wc @ z1 + b, 0) - np.maximum(Wc @ z2 + b, 0)) / np.linalg.norm(z1 - z2)
    reached("li2022:sec3.2.contractive", lip / np.linalg.norm(Wc, 2))
    H = np.ones((1, 1))
    for _ in range(k):
        H = np.block([[H, H], [H, -H]])
    O = H[:m] / math.sqrt(n)
    up = S.orthogonal_lift_bounds(O).value
    assert up <= math.sqrt(m) + 1e-12
    low = S.orthogonal_lift_bounds(np.eye(m, n)).value
    assert low >= 1 - 1e-12
    reached("li2022:prop3.4", min(up / math.sqrt(m), 1.0 / low), slack=1e-12)
    Wh = H / n                                   # O = H/√n orthogonal, scaled by 1/√n
    reached("li2022:sec3.3.scaling", np.linalg.norm(S.ibp_lift(Wh), 2), slack=1e-12)
    reached("li2022:sec3.7.item1", float(np.linalg.eigvalsh(np.abs(Wh))[-1]), slack=1e-12)


@given(seeds, sizes, st.booleans())
@settings(max_examples=scaled(20))
def test_lift_spectral_radius(seed, n, sparse):
    """Consequence of Claim 3.5: ρ(Ŵ) = max(ρ(W), ρ(|W|)) = ρ(|W|) ≥ ρ(W) (dense oracle)."""
    W = _mat(seed, n, sparse=sparse)
    dense = np.max(np.abs(np.linalg.eigvals(S.ibp_lift(W))))
    rw = np.max(np.abs(np.linalg.eigvals(W)))
    s = 1e-7 * (1 + np.abs(W).sum())
    assert abs(S.lift_spectral_radius(W) - dense) <= s
    assert S.lift_spectral_radius(W) >= rw - s


@st.composite
def adjoint_case(draw):
    """W with ‖|W|‖₂ ≈ t around 1, plus exact-boundary Hadamard cases (‖|W|‖₂ = 1 exactly)."""
    rng = np.random.default_rng(draw(seeds))
    if draw(st.integers(0, 4)) == 0:
        k = draw(st.sampled_from([1, 2, 4]))
        from scipy.linalg import hadamard
        return hadamard(k).astype(float) / k * np.where(rng.uniform(size=(k, k)) < 0.5, -1.0, 1.0)
    n = draw(sizes)
    W = rng.standard_normal((n, n))
    return W * draw(st.floats(0.9, 1.1)) / np.linalg.norm(np.abs(W), 2)


@pytest.mark.theorem("li2022:prop3.1")
@given(adjoint_case())
@settings(max_examples=scaled(25))
def test_check_adjoint_contractive_sound(W):
    """Claim: check_adjoint_contractive CERTIFIED ⇒ ‖Ŵ‖₂ < 1 with 1 − margin ≥ ‖Ŵ‖₂
    (60-digit SVD of the dense 2n×2n Ŵ); REFUTED ⇒ ‖Ŵ‖₂ > 1; never certified at ‖Ŵ‖₂ = 1;
    re-verification from the witness agrees."""
    s = max(mp.svd_r(mp.matrix(S.ibp_lift(W).tolist()), compute_uv=False))
    c = S.check_adjoint_contractive(W)
    if np.isfinite(c.margin):
        assert mp.mpf(1) - mp.mpf(c.margin) >= s - mp.mpf(10) ** -40
    if c.certified:
        assert s < 1
    if c.status is Status.REFUTED:
        assert s > 1
    assert c.verify(W=W).status is c.status
