"""Unit tests of deqtheory.circulant: conventions, oracles, eq. 25 of havens2023, typed errors.

Oracles used (independent of the code under test):
* PyTorch semantics re-implemented as "circular pad, then valid cross-correlation" with explicit
  loops (``_torch_like``), and ``scipy.ndimage.correlate(mode="grid-wrap")``;
* dense matrices: ``conv_matrix`` compared against numpy products / inverses / norms / eigh;
* hand-computed images for shift and neighbour-sum kernels.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

from deqtheory import circulant as C
from deqtheory.errors import (DEQLinAlgError, DomainError, DTypeError, EmptyArrayError,
                              IllConditionedWarning, NonFiniteError, ShapeError)


# ---------------------------------------------------------------------------------------------
# independent oracles
# ---------------------------------------------------------------------------------------------
def _torch_like(K, x):
    """F.pad(x, (pl, pr, pt, pb), mode='circular') then valid cross-correlation (explicit loops).

    pl = (k-1)//2, pr = k//2 — PyTorch padding=k//2 for odd k, padding='same' for any k."""
    co, ci, kh, kw = K.shape
    N = x.shape[-1]
    pt, pb = (kh - 1) // 2, kh // 2
    pl, pr = (kw - 1) // 2, kw // 2
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(pt, pb), (pl, pr)], mode="wrap")
    y = np.zeros(x.shape[:-3] + (co, N, N))
    for o in range(co):
        for i in range(ci):
            for r in range(N):
                for s in range(N):
                    y[..., o, r, s] += np.sum(K[o, i] * xp[..., i, r:r + kh, s:s + kw], axis=(-2, -1))
    return y


def _scipy_like(K, x):
    co, ci, kh, kw = K.shape
    # scipy's filter centre is k//2 + origin; ours is (k-1)//2
    origin = ((kh - 1) // 2 - kh // 2, (kw - 1) // 2 - kw // 2)
    y = np.zeros((co,) + x.shape[1:])
    for o in range(co):
        for i in range(ci):
            y[o] += ndi.correlate(x[i], K[o, i], mode="grid-wrap", origin=origin)
    return y


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("N", [5, 6])
def test_conv2d_matches_pytorch_padding_semantics(rng, k, N):
    K = rng.standard_normal((2, 3, k, k))
    x = rng.standard_normal((4, 3, N, N))   # batched
    y = C.conv2d_circular(K, x)
    np.testing.assert_allclose(y, _torch_like(K, x), rtol=1e-12, atol=1e-12)
    for bi in range(x.shape[0]):
        np.testing.assert_allclose(y[bi], _scipy_like(K, x[bi]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(y[bi], C.conv2d_circular(K, x[bi]), rtol=0, atol=0)


def test_conv2d_rectangular_kernel(rng):
    K = rng.standard_normal((2, 2, 2, 3))
    x = rng.standard_normal((2, 5, 5))
    np.testing.assert_allclose(C.conv2d_circular(K, x), _torch_like(K, x), atol=1e-12)
    np.testing.assert_allclose(C.conv_matrix(K, 5) @ x.ravel(), C.conv2d_circular(K, x).ravel(), atol=1e-12)


def test_hand_computed_shift_and_neighbour_sum():
    """3x3 kernels on a 3x3 grid, expected outputs written out by hand."""
    x = np.arange(9.0).reshape(1, 3, 3)        # [[0,1,2],[3,4,5],[6,7,8]]
    K = np.zeros((1, 1, 3, 3))
    K[0, 0, 2, 1] = 1.0                          # tap at offset (+1, 0): y[r,s] = x[r+1, s]
    np.testing.assert_array_equal(C.conv2d_circular(K, x)[0],
                                  [[3, 4, 5], [6, 7, 8], [0, 1, 2]])
    K = np.zeros((1, 1, 3, 3))
    K[0, 0, 1, 2] = 1.0                          # offset (0, +1): y[r,s] = x[r, s+1]
    np.testing.assert_array_equal(C.conv2d_circular(K, x)[0],
                                  [[1, 2, 0], [4, 5, 3], [7, 8, 6]])
    # even kernel 2x2 of ones: origin 0, taps at offsets {0,1}^2 -> y[r,s] = x[r,s]+x[r,s+1]+x[r+1,s]+x[r+1,s+1]
    K = np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(C.conv2d_circular(K, x)[0],
                                  [[8, 12, 10], [20, 24, 22], [14, 18, 16]])


def test_conv_matrix_first_row_is_zero_origin_kernel(rng):
    """eq. 24 reading: block (o, i) is doubly circulant with first row = zero-origin kernel."""
    K = rng.standard_normal((2, 2, 3, 3))
    N = 4
    M = C.conv_matrix(K, N)
    K0 = C.embed_kernel(K, N, origin="zero")
    # zero-origin layout by hand: offset d = a - 1 stored at index d mod N
    K0_hand = np.zeros((2, 2, N, N))
    for a in range(3):
        for b in range(3):
            K0_hand[:, :, (a - 1) % N, (b - 1) % N] = K[:, :, a, b]
    np.testing.assert_array_equal(K0, K0_hand)
    for o in range(2):
        for i in range(2):
            blk = M[o * N * N:(o + 1) * N * N, i * N * N:(i + 1) * N * N]
            np.testing.assert_array_equal(blk[0], K0_hand[o, i].ravel())
            for r in range(N):
                for s in range(N):
                    row = blk[r * N + s].reshape(N, N)
                    np.testing.assert_array_equal(row, np.roll(K0_hand[o, i], (r, s), axis=(0, 1)))


def test_embed_kernel_preserves_operator(rng):
    for k in (1, 2, 3, 4):
        K = rng.standard_normal((2, 1, k, k))
        x = rng.standard_normal((1, 5, 5))
        Kf = C.embed_kernel(K, 5)
        assert Kf.shape == (2, 1, 5, 5)
        np.testing.assert_allclose(C.conv2d_circular(Kf, x), C.conv2d_circular(K, x), atol=1e-12)
    # even N: full-support kernel is N x N with origin (N-1)//2, matches PyTorch padding='same'
    K = rng.standard_normal((1, 1, 3, 3))
    x = rng.standard_normal((1, 4, 4))
    Kf = C.embed_kernel(K, 4)
    np.testing.assert_allclose(_torch_like(Kf, x), C.conv2d_circular(K, x), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# frequency domain vs dense matrices
# ---------------------------------------------------------------------------------------------
def test_block_is_conj_of_fft_of_zero_origin_kernel(rng):
    """FACTS.md: the per-frequency operator is conj(K̂(ω)), K̂ = unnormalized fft2 of the
    zero-origin kernel, with x̂ = fft2(x, 'ortho'); checked against a direct DFT sum."""
    N = 5
    K = rng.standard_normal((2, 3, 3, 3))
    K0 = C.embed_kernel(K, N, origin="zero")
    Khat = C.kernel_to_freq(K, N)
    np.testing.assert_allclose(Khat, np.conj(np.fft.fft2(K0, axes=(-2, -1))).transpose(2, 3, 0, 1), atol=1e-12)
    # direct sum with the centered kernel offsets: Â(ω) = Σ K[a,b] e^{+2πi(ω1(a-1)+ω2(b-1))/N}
    for w1 in range(N):
        for w2 in range(N):
            blk = sum(K[:, :, a, b] * np.exp(2j * np.pi * (w1 * (a - 1) + w2 * (b - 1)) / N)
                      for a in range(3) for b in range(3))
            np.testing.assert_allclose(Khat[w1, w2], blk, atol=1e-12)
    x = rng.standard_normal((3, N, N))
    yhat = np.fft.fft2(C.conv2d_circular(K, x), norm="ortho")
    xhat = np.fft.fft2(x, norm="ortho")
    np.testing.assert_allclose(yhat, np.einsum("hwoi,ihw->ohw", Khat, xhat), atol=1e-12)


@pytest.mark.parametrize("sign", [+1, -1])
@pytest.mark.theorem("havens2023:eq25")
def test_eq25_block_diagonalization_as_printed(rng, sign):
    """havens2023 eq. (25), as printed:
    W = (I_cout ⊗ F_n) S_cout D̂ S_cinᵀ (I_cin ⊗ F_n⁻¹),
    D̂ = S_coutᵀ [diag(F_n vec K_{o,i})]_{o,i} S_cin, F_n = U_n ⊗ U_n.

    Reading: U_n[j, k] = e^{± 2πi jk/n} *unnormalized* (both signs hold: the formula is the same
    for conj(U_n) because W is real), K_{o,i} the N×N kernel of eq. 24 (first rows of the
    circulant blocks = zero-origin layout), vec row-major, the printed column F_n vec(K_{o,i})
    read as the diagonal matrix diag(F_n vec K_{o,i}), S_c the permutation frequency-major →
    channel-major. W is the PyTorch cross-correlation matrix conv_matrix(K, N)."""
    N, co, ci = 4, 2, 3
    K = rng.standard_normal((co, ci, 3, 3))
    W = C.conv_matrix(K, N)
    K0 = C.embed_kernel(K, N, origin="zero")
    j = np.arange(N)
    U = np.exp(sign * 2j * np.pi * np.outer(j, j) / N)
    F = np.kron(U, U)
    Finv = np.linalg.inv(F)
    n2 = N * N
    S_out = np.eye(co * n2)[:, C.freq_major_permutation(N, co)]
    S_in = np.eye(ci * n2)[:, C.freq_major_permutation(N, ci)]
    inner = np.zeros((co * n2, ci * n2), dtype=complex)
    for o in range(co):
        for i in range(ci):
            inner[o * n2:(o + 1) * n2, i * n2:(i + 1) * n2] = np.diag(F @ K0[o, i].ravel())
    D = S_out.T @ inner @ S_in
    # D̂ is block diagonal with n² blocks c_out × c_in
    mask = np.kron(np.eye(n2), np.ones((co, ci)))
    assert np.max(np.abs(D * (1 - mask))) == 0.0
    W_printed = np.kron(np.eye(co), F) @ S_out @ D @ S_in.T @ np.kron(np.eye(ci), Finv)
    np.testing.assert_allclose(W_printed, W, atol=1e-11)
    # and the blocks of D̂ are this module's Â(ω) for the +sign (their conjugates for −sign)
    Khat = C.kernel_to_freq(K, N)
    expect = C.block_diagonal_from_freq(Khat if sign > 0 else np.conj(Khat))
    np.testing.assert_allclose(D, expect, atol=1e-11)


def test_eq25_with_unitary_fourier_matrix_needs_factor_n(rng):
    """If U_n is read as the *unitary* DFT (1/√n), eq. 25 holds only with D̂ scaled by n —
    documents why the unnormalized reading is the one that matches the print."""
    N, co, ci = 3, 1, 2
    K = rng.standard_normal((co, ci, 3, 3))
    W = C.conv_matrix(K, N)
    K0 = C.embed_kernel(K, N, origin="zero")
    j = np.arange(N)
    U = np.exp(2j * np.pi * np.outer(j, j) / N) / np.sqrt(N)
    F = np.kron(U, U)
    n2 = N * N
    inner = np.zeros((co * n2, ci * n2), dtype=complex)
    for o in range(co):
        for i in range(ci):
            inner[o * n2:(o + 1) * n2, i * n2:(i + 1) * n2] = np.diag(F @ K0[o, i].ravel())
    W_unit = np.kron(np.eye(co), F) @ inner @ np.kron(np.eye(ci), np.linalg.inv(F))
    np.testing.assert_allclose(N * W_unit, W, atol=1e-11)
    assert np.max(np.abs(W_unit - W)) > 0.1 * np.max(np.abs(W))


def test_dft_matrix_is_unitary_fft2(rng):
    N, c = 4, 2
    Q = C.dft_matrix(N, c)
    np.testing.assert_allclose(Q @ Q.conj().T, np.eye(c * N * N), atol=1e-12)
    x = rng.standard_normal((c, N, N))
    np.testing.assert_allclose(Q @ x.ravel(), np.fft.fft2(x, norm="ortho").ravel(), atol=1e-12)


def test_freq_major_permutation_by_hand():
    p = C.freq_major_permutation(2, 3)          # N² = 4, c = 3
    np.testing.assert_array_equal(p, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])


def test_identity_and_inverse_dense(rng):
    N, c = 4, 2
    I = C.freq_identity(N, c)
    Kid = C.freq_to_kernel(I)
    np.testing.assert_allclose(C.conv_matrix(Kid, N), np.eye(c * N * N), atol=1e-14)
    # a well-conditioned convolution: identity + small kernel
    K = 0.1 * rng.standard_normal((c, c, 3, 3))
    K[:, :, 1, 1] += np.eye(c)
    A = C.kernel_to_freq(K, N)
    Kinv = C.freq_to_kernel(C.freq_inv(A))
    np.testing.assert_allclose(C.conv_matrix(Kinv, N), np.linalg.inv(C.conv_matrix(K, N)), atol=1e-12)
    B = C.kernel_to_freq(rng.standard_normal((c, 3, 2, 2)), N)
    X = C.freq_to_kernel(C.freq_solve(A, B))
    np.testing.assert_allclose(C.conv_matrix(K, N) @ C.conv_matrix(X, N),
                               C.conv_matrix(C.freq_to_kernel(B), N), atol=1e-12)


def test_laplacian_is_singular_and_near_singular_warns():
    """The discrete Laplacian has Â(0) = 0: solve must refuse; a tiny shift must warn."""
    L = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=float).reshape(1, 1, 3, 3)
    A = C.kernel_to_freq(L, 4)
    np.testing.assert_allclose(A[0, 0], 0.0, atol=1e-15)
    with pytest.raises(DEQLinAlgError):
        C.freq_inv(A)
    A2 = A + 1e-9 * C.freq_identity(4, 1)
    with pytest.warns(IllConditionedWarning):
        C.freq_inv(A2)


def test_eigh_matches_dense_symmetric(rng):
    N, c = 4, 2
    K = rng.standard_normal((c, c, 3, 3))
    S = C.freq_sym(C.kernel_to_freq(K, N))
    M = C.conv_matrix(K, N)
    np.testing.assert_allclose(C.conv_matrix(C.freq_to_kernel(S), N), 0.5 * (M + M.T), atol=1e-12)
    w, V = C.freq_eigh(S)
    np.testing.assert_allclose((V * w[..., None, :]) @ np.conj(np.swapaxes(V, -1, -2)), S, atol=1e-12)
    np.testing.assert_allclose(np.sort(w.ravel()), np.linalg.eigvalsh(0.5 * (M + M.T)), atol=1e-11)


def test_psd_sqrt_exactly_singular_symmetric_part(rng):
    """FACTS.md pitfall (SLL→LBEN): ½(M+Mᵀ) exactly singular (a zero channel block row/column).
    Eigh with clipping must give a real kernel V with V V = A and Vᵀ = V ⪰ 0, no warning."""
    N, c = 4, 3
    B = rng.standard_normal((2, c, 3, 3))
    B[:, 0] = 0.0                                # channel 0 never read -> AᵀA has a zero row/col
    Bh = C.kernel_to_freq(B, N)
    A = C.freq_matmul(C.freq_adjoint(Bh), Bh)
    Vh = C.freq_psd_sqrt(A)
    KV = C.freq_to_kernel(Vh)
    MV = C.conv_matrix(KV, N)
    MA = C.conv_matrix(B, N).T @ C.conv_matrix(B, N)
    np.testing.assert_allclose(MV @ MV, MA, atol=1e-11)
    np.testing.assert_allclose(MV, MV.T, atol=1e-12)
    assert np.linalg.eigvalsh(MV).min() > -1e-10
    # exact Hermitian symmetry of the root (mirrored conjugate pairs)
    assert C.freq_hermitian_residual(Vh) < 1e-14 * max(1.0, np.abs(Vh).max())
    Fh = C.freq_psd_factor(A)
    np.testing.assert_allclose(C.freq_matmul(C.freq_adjoint(Fh), Fh), A, atol=1e-11)


def test_psd_sqrt_rejects_indefinite_and_nonhermitian(rng):
    N, c = 3, 2
    Bh = C.kernel_to_freq(rng.standard_normal((c, c, 3, 3)), N)
    A = C.freq_matmul(C.freq_adjoint(Bh), Bh)
    with pytest.raises(DEQLinAlgError):
        C.freq_psd_sqrt(-A - 1e-3 * C.freq_identity(N, c))
    with pytest.raises(DEQLinAlgError):
        C.freq_psd_factor(-A - 1e-3 * C.freq_identity(N, c))
    with pytest.raises(DomainError):
        C.freq_psd_sqrt(Bh)                     # generic blocks are not Hermitian
    with pytest.raises(DomainError):
        C.freq_eigh(Bh)


def test_norm_matches_dense(rng):
    N = 5
    K = rng.standard_normal((3, 2, 3, 3))
    assert C.freq_norm2(C.kernel_to_freq(K, N)) == pytest.approx(np.linalg.norm(C.conv_matrix(K, N), 2), rel=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_adjoint_kernel_small_and_full(rng, k):
    K = rng.standard_normal((2, 3, k, k))
    Ka = C.adjoint_kernel(K)
    if k % 2:
        np.testing.assert_array_equal(Ka, K.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    else:
        assert Ka.shape == (3, 2, k + 1, k + 1)
        assert np.all(Ka[:, :, -1, :] == 0) and np.all(Ka[:, :, :, -1] == 0)
    for N in range(max(k, 2), 7):
        MT = C.conv_matrix(K, N).T
        np.testing.assert_allclose(C.conv_matrix(C.adjoint_kernel(K, N), N), MT, atol=0)
        if Ka.shape[-1] <= N:
            np.testing.assert_allclose(C.conv_matrix(Ka, N), MT, atol=0)


def test_conjugate_pairs_counts_and_partition():
    for N in range(1, 9):
        cp = C.freq_conjugate_pairs(N)
        P, S = len(cp.pairs), len(cp.self_conjugate)
        assert 2 * P + S == N * N
        assert S == (1 if N % 2 else 4)
        seen = [tuple(w) for w in cp.pairs[:, 0]] + [tuple(w) for w in cp.pairs[:, 1]] + \
               [tuple(w) for w in cp.self_conjugate]
        assert sorted(seen) == [(a, b) for a in range(N) for b in range(N)]
        for w, m in cp.pairs:
            assert tuple((-w) % N) == tuple(m)
        for w in cp.self_conjugate:
            assert tuple((-w) % N) == tuple(w)


# ---------------------------------------------------------------------------------------------
# structure checks and typed errors
# ---------------------------------------------------------------------------------------------
def test_matrix_to_kernel_rejects_non_circulant(rng):
    N = 3
    K = rng.standard_normal((2, 1, 3, 3))
    M = C.conv_matrix(K, N)
    np.testing.assert_array_equal(C.matrix_to_kernel(M, 2, 1, N), C.embed_kernel(K, N))
    M2 = M.copy()
    M2[4, 5] += 1e-6
    with pytest.raises(DomainError):
        C.matrix_to_kernel(M2, 2, 1, N)
    with pytest.raises(DomainError):
        C.matrix_to_kernel(rng.standard_normal(M.shape), 2, 1, N)
    with pytest.raises(ShapeError):
        C.matrix_to_kernel(M, 1, 2, N)
    # a loose tolerance accepts the perturbed matrix
    C.matrix_to_kernel(M2, 2, 1, N, tol=1e-5)


def test_freq_to_kernel_and_apply_reject_non_real_spectrum(rng):
    N = 4
    A = rng.standard_normal((N, N, 2, 2)) + 1j * rng.standard_normal((N, N, 2, 2))
    assert C.freq_hermitian_residual(A) > 0.1
    with pytest.raises(DomainError):
        C.freq_to_kernel(A)
    with pytest.raises(DomainError):
        C.freq_apply(A, rng.standard_normal((2, N, N)))
    # ... but the complex frequency-domain product is allowed
    xh = rng.standard_normal((2, N, N)) + 0j
    assert C.freq_apply_hat(A, xh).shape == (2, N, N)


def test_typed_errors(rng):
    K = rng.standard_normal((1, 1, 3, 3))
    with pytest.raises(DomainError):
        C.conv_matrix(K, 0)
    with pytest.raises(DTypeError):
        C.conv_matrix(K, 2.5)
    with pytest.raises(DTypeError):
        C.conv_matrix(K, True)
    with pytest.raises(ShapeError):
        C.conv_matrix(K, 2)                        # kernel larger than grid
    with pytest.raises(ShapeError):
        C.conv2d_circular(K, np.zeros((1, 2, 2)))  # kernel larger than grid
    with pytest.raises(ShapeError):
        C.conv2d_circular(K[0], np.zeros((1, 4, 4)))
    with pytest.raises(ShapeError):
        C.conv2d_circular(K, np.zeros((2, 4, 4)))  # channel mismatch
    with pytest.raises(ShapeError):
        C.conv2d_circular(K, np.zeros((1, 4, 5)))  # non-square grid
    with pytest.raises(NonFiniteError):
        C.conv2d_circular(K, np.full((1, 4, 4), np.nan))
    with pytest.raises(DTypeError):
        C.conv2d_circular(K + 0j, np.zeros((1, 4, 4)))
    with pytest.raises(EmptyArrayError):
        C.kernel_to_freq(np.zeros((0, 1, 1, 1)), 3)
    with pytest.raises(ShapeError):
        C.freq_adjoint(np.zeros((3, 4, 1, 1)))
    with pytest.raises(ShapeError):
        C.freq_inv(np.ones((3, 3, 1, 2)))
    with pytest.raises(NonFiniteError):
        C.freq_norm2(np.full((2, 2, 1, 1), np.inf))
    with pytest.raises(ShapeError):
        C.freq_matmul(np.ones((2, 2, 1, 2)), np.ones((2, 2, 1, 2)))
    with pytest.raises(DomainError):
        C.embed_kernel(K, 3, origin="left")
    with pytest.raises(DomainError):
        C.freq_to_kernel(np.ones((2, 2, 1, 1)), tol=-1.0)
    with pytest.raises(ShapeError):
        C.freq_apply(C.kernel_to_freq(K, 4), np.zeros((1, 3, 3)))
