"""Hypothesis tests of deqtheory.circulant: every fast (FFT / per-frequency) path against the dense
materialized block-doubly-block-circulant matrix.

Inputs are built by construction from integer seeds and small integer shapes (grid N ≤ 7,
channels ≤ 3, kernels k ≤ min(N, 4), odd and even), so no filtering and no NaN.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import circulant as C
from deqtheory.testing import scaled


@st.composite
def conv_case(draw, max_c=3):
    N = draw(st.integers(1, 7))
    k = draw(st.integers(1, min(N, 4)))
    co = draw(st.integers(1, max_c))
    ci = draw(st.integers(1, max_c))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((co, ci, k, k))
    return N, K, rng


def _dense(K, N):
    return C.conv_matrix(K, N)


@given(conv_case())
def test_spatial_dense_and_fft_apply_agree(case):
    """M @ vec(x) == vec(conv2d_circular(K, x)) == vec(freq_apply(kernel_to_freq(K, N), x)),
    for single images and batches."""
    N, K, rng = case
    co, ci = K.shape[:2]
    x = rng.standard_normal((2, ci, N, N))
    M = _dense(K, N)
    y = C.conv2d_circular(K, x)
    for b in range(2):
        np.testing.assert_allclose(M @ x[b].ravel(), y[b].ravel(), atol=1e-11)
    np.testing.assert_allclose(C.freq_apply(C.kernel_to_freq(K, N), x), y, atol=1e-11)


@given(conv_case())
def test_round_trips_kernel_matrix_freq(case):
    """matrix_to_kernel(conv_matrix(K)) == freq_to_kernel(kernel_to_freq(K)) == embed_kernel(K),
    and the full-support kernel defines the same operator."""
    N, K, rng = case
    co, ci = K.shape[:2]
    Kf = C.embed_kernel(K, N)
    np.testing.assert_array_equal(C.matrix_to_kernel(_dense(K, N), co, ci, N), Kf)
    np.testing.assert_allclose(C.freq_to_kernel(C.kernel_to_freq(K, N)), Kf, atol=1e-12)
    np.testing.assert_array_equal(_dense(Kf, N), _dense(K, N))


@given(conv_case(), st.sampled_from([+1, -1]))
@pytest.mark.theorem("havens2023:eq25")
def test_eq25_printed_and_unitary_block_diagonalization(case, sign):
    """havens2023 eq. (25) as printed, W = (I ⊗ F_n) S_out D̂ S_inᵀ (I ⊗ F_n⁻¹) with
    D̂ = S_outᵀ [diag(F_n vec K_{o,i})] S_in, F_n = U_n ⊗ U_n, U_n[j,k] = e^{±2πi jk/n}
    unnormalized, K_{o,i} the zero-origin kernel of eq. 24, equals the PyTorch circular
    cross-correlation matrix; and in the unitary form of this module,
    (Q_out M Q_inᴴ)[p_out][:, p_in] = blkdiag_ω Â(ω) and Q_outᴴ S_out blkdiag S_inᵀ Q_in = M."""
    N, K, rng = case
    co, ci = K.shape[:2]
    n2 = N * N
    M = _dense(K, N)
    po, pi = C.freq_major_permutation(N, co), C.freq_major_permutation(N, ci)
    So, Si = np.eye(co * n2)[:, po], np.eye(ci * n2)[:, pi]
    # as printed
    j = np.arange(N)
    U = np.exp(sign * 2j * np.pi * np.outer(j, j) / N)
    F = np.kron(U, U)
    K0 = C.embed_kernel(K, N, origin="zero")
    inner = np.zeros((co * n2, ci * n2), dtype=complex)
    for o in range(co):
        for i in range(ci):
            inner[o * n2:(o + 1) * n2, i * n2:(i + 1) * n2] = np.diag(F @ K0[o, i].ravel())
    Dp = So.T @ inner @ Si
    Wp = np.kron(np.eye(co), F) @ So @ Dp @ Si.T @ np.kron(np.eye(ci), np.linalg.inv(F))
    np.testing.assert_allclose(Wp, M, atol=1e-10)
    # unitary form
    Qo, Qi = C.dft_matrix(N, co), C.dft_matrix(N, ci)
    Khat = C.kernel_to_freq(K, N)
    D = C.block_diagonal_from_freq(Khat)
    np.testing.assert_allclose(Dp, D if sign > 0 else np.conj(D), atol=1e-10)
    T = Qo @ M @ Qi.conj().T
    np.testing.assert_allclose(T[po][:, pi], D, atol=1e-11)
    np.testing.assert_allclose(Qo.conj().T @ So @ D @ Si.T @ Qi, M, atol=1e-11)


@given(conv_case())
def test_adjoint_all_routes(case):
    """⟨y, Mx⟩ = ⟨Mᵀy, x⟩ with Mᵀ applied by adjoint_kernel (small and full support) and by
    freq_adjoint; each equals the dense transpose."""
    N, K, rng = case
    co, ci = K.shape[:2]
    M = _dense(K, N)
    x = rng.standard_normal((ci, N, N))
    y = rng.standard_normal((co, N, N))
    lhs = float(y.ravel() @ (M @ x.ravel()))
    Ka_full = C.adjoint_kernel(K, N)
    np.testing.assert_array_equal(_dense(Ka_full, N), M.T)
    Ka = C.adjoint_kernel(K)
    if Ka.shape[-1] <= N:
        np.testing.assert_array_equal(_dense(Ka, N), M.T)
        assert float(np.vdot(C.conv2d_circular(Ka, y), x)) == pytest.approx(lhs, abs=1e-10 * (1 + abs(lhs)))
    Ah = C.freq_adjoint(C.kernel_to_freq(K, N))
    np.testing.assert_allclose(_dense(C.freq_to_kernel(Ah), N), M.T, atol=1e-12)
    assert float(np.vdot(C.freq_apply(Ah, y), x)) == pytest.approx(lhs, abs=1e-10 * (1 + abs(lhs)))


@given(conv_case(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_products_match_dense(case, c3, seed):
    """freq_matmul(Â, B̂) is the spectrum of M_A M_B (dense product)."""
    N, KA, rng = case
    co, ci = KA.shape[:2]
    kb = int(np.random.default_rng(seed).integers(1, min(N, 4) + 1))
    KB = np.random.default_rng(seed).standard_normal((ci, c3, kb, kb))
    P = C.freq_matmul(C.kernel_to_freq(KA, N), C.kernel_to_freq(KB, N))
    np.testing.assert_allclose(_dense(C.freq_to_kernel(P), N), _dense(KA, N) @ _dense(KB, N), atol=1e-10)


@given(conv_case())
@settings(max_examples=scaled(15))
def test_inverse_matches_dense(case):
    """freq_inv of a well-conditioned convolution (σ_min ≥ 1 by construction: I + GᵀG) is the
    spectrum of the dense inverse; freq_solve gives M_A⁻¹ M_B."""
    N, K, rng = case
    co, ci = K.shape[:2]
    Gh = C.kernel_to_freq(K, N)
    A = C.freq_identity(N, ci) + C.freq_matmul(C.freq_adjoint(Gh), Gh)   # blocks ⪰ I
    MA = np.eye(ci * N * N) + _dense(K, N).T @ _dense(K, N)
    Kinv = C.freq_to_kernel(C.freq_inv(A))
    np.testing.assert_allclose(_dense(Kinv, N), np.linalg.inv(MA), atol=1e-10)
    X = C.freq_to_kernel(C.freq_solve(A, C.freq_adjoint(Gh)))
    np.testing.assert_allclose(_dense(X, N), np.linalg.solve(MA, _dense(K, N).T), atol=1e-10)


@given(conv_case())
def test_psd_sqrt_square_and_real_kernel(case):
    """S = freq_psd_sqrt(ÂᴴÂ): S² = ÂᴴÂ per frequency, S is the spectrum of a real kernel whose
    dense matrix V is symmetric PSD with V² = MᵀM (often singular: c_out < c_in)."""
    N, K, rng = case
    M = _dense(K, N)
    Gh = C.kernel_to_freq(K, N)
    A = C.freq_matmul(C.freq_adjoint(Gh), Gh)
    S = C.freq_psd_sqrt(A)
    scale = 1.0 + float(np.abs(A).max())
    np.testing.assert_allclose(C.freq_matmul(S, S), A, atol=1e-10 * scale)
    V = _dense(C.freq_to_kernel(S), N)
    np.testing.assert_allclose(V @ V, M.T @ M, atol=1e-10 * scale)
    np.testing.assert_allclose(V, V.T, atol=1e-12 * scale)
    assert np.linalg.eigvalsh(V).min() >= -1e-7 * np.sqrt(scale)
    F = C.freq_psd_factor(A)
    np.testing.assert_allclose(C.freq_matmul(C.freq_adjoint(F), F), A, atol=1e-10 * scale)


@given(conv_case())
def test_norm_equals_dense_spectral_norm(case):
    """freq_norm2(Â) = ‖M‖₂ (dense SVD)."""
    N, K, rng = case
    dense = np.linalg.norm(_dense(K, N), 2)
    assert C.freq_norm2(C.kernel_to_freq(K, N)) == pytest.approx(dense, rel=1e-10, abs=1e-12)


@given(conv_case())
def test_eigh_of_symmetric_part_is_dense_spectrum(case):
    """The eigenvalues of sym(M) (square conv, c_out = c_in) are the union of the per-frequency
    eigenvalues of freq_sym(Â)."""
    N, K, rng = case
    ci = K.shape[1]
    K = rng.standard_normal((ci, ci) + K.shape[2:])
    M = _dense(K, N)
    w, V = C.freq_eigh(C.freq_sym(C.kernel_to_freq(K, N)))
    np.testing.assert_allclose(np.sort(w.ravel()), np.linalg.eigvalsh(0.5 * (M + M.T)), atol=1e-10)


@given(conv_case())
def test_real_kernel_spectrum_is_hermitian_symmetric(case):
    """Â(−ω) = conj(Â(ω)) for a real kernel; the self-conjugate blocks are real."""
    N, K, rng = case
    A = C.kernel_to_freq(K, N)
    cp = C.freq_conjugate_pairs(N)
    for w, m in cp.pairs:
        np.testing.assert_allclose(A[m[0], m[1]], np.conj(A[w[0], w[1]]), atol=1e-12)
    for w in cp.self_conjugate:
        np.testing.assert_allclose(A[w[0], w[1]].imag, 0.0, atol=1e-12)
    assert C.freq_hermitian_residual(A) <= 1e-12 * (1 + np.abs(A).max())
