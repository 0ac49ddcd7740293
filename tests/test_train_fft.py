"""deqtheory_train.fft against the numpy oracle deqtheory.circulant and against torch's own conv2d.

The torch checks pin the PyTorch convention for real: ``nn.Conv2d(padding="same",
padding_mode="circular")`` (and ``padding=k//2`` for odd k) equals deqtheory.circulant's
cross-correlation with origin (k − 1)//2, for odd *and* even k.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from deqtheory import circulant as C
from deqtheory.errors import DEQLinAlgError, DomainError, ShapeError
from deqtheory_train import fft as T

torch.set_num_threads(1)

CASES = [(k, N) for k in (1, 2, 3, 4, 5) for N in sorted({k, k + 1, 6}) if N >= k]


def _torch_conv_module(K: torch.Tensor, padding) -> torch.nn.Conv2d:
    co, ci, kh, kw = K.shape
    m = torch.nn.Conv2d(ci, co, (kh, kw), padding=padding, padding_mode="circular", bias=False).to(K.dtype)
    with torch.no_grad():
        m.weight.copy_(K)
    return m


@pytest.mark.parametrize("k,N", CASES)
def test_conv_matches_numpy_and_torch_module(rng, k, N):
    """conv2d_circular == deqtheory.circulant.conv2d_circular == nn.Conv2d(padding='same', circular)
    == conv_matrix @ vec(x), for odd and even k (k ≤ N)."""
    K = rng.standard_normal((3, 2, k, k))
    x = rng.standard_normal((4, 2, N, N))
    Kt, xt = torch.tensor(K), torch.tensor(x)
    y = T.conv2d_circular(Kt, xt).numpy()
    y_np = C.conv2d_circular(K, x)
    y_dense = (x.reshape(4, -1) @ C.conv_matrix(K, N).T).reshape(4, 3, N, N)
    with torch.no_grad():
        y_mod = _torch_conv_module(Kt, "same")(xt).numpy()
    assert np.abs(y - y_np).max() < 1e-12
    assert np.abs(y - y_dense).max() < 1e-12
    assert np.abs(y_mod - y_np).max() < 1e-12
    if k % 2 == 1 and k // 2 <= N:
        with torch.no_grad():
            y_int = _torch_conv_module(Kt, k // 2)(xt).numpy()
        assert np.abs(y_int - y_np).max() < 1e-12


def test_even_kernel_integer_padding_is_not_an_operator_on_the_grid(rng):
    """PyTorch with integer padding k//2 and even k returns N + 1 pixels (documented exclusion)."""
    Kt = torch.tensor(rng.standard_normal((1, 1, 2, 2)))
    with torch.no_grad():
        y = _torch_conv_module(Kt, 1)(torch.ones(1, 1, 5, 5, dtype=torch.float64))
    assert y.shape[-1] == 6


@pytest.mark.theorem("havens2023:eq25")
@pytest.mark.parametrize("k,N", CASES)
def test_kernel_to_freq_matches_numpy_and_diagonalizes_torch_conv(rng, k, N):
    """kernel_to_freq == circulant.kernel_to_freq, and ŷ(ω) = Â(ω)x̂(ω) for y = torch's own conv2d
    (unitary DFT, no factor N, + sign of cross-correlation)."""
    K = rng.standard_normal((3, 2, k, k))
    Kt = torch.tensor(K)
    A = T.kernel_to_freq(Kt, N)
    assert A.dtype == torch.complex128 and A.shape == (N, N, 3, 2)
    assert np.abs(A.numpy() - C.kernel_to_freq(K, N)).max() < 1e-12
    xt = torch.tensor(rng.standard_normal((2, 2, N, N)))
    with torch.no_grad():
        y = _torch_conv_module(Kt, "same")(xt)
    yh = torch.fft.fft2(y, norm="ortho")
    xh = torch.fft.fft2(xt, norm="ortho")
    assert (yh - torch.einsum("hwoi,bihw->bohw", A, xh)).abs().max() < 1e-12
    # the other sign (plain fft2 of the zero-origin kernel, i.e. true convolution) is wrong unless symmetric
    A_wrong = torch.fft.fft2(T.embed_kernel(Kt, N), norm="backward").permute(2, 3, 0, 1)
    if k > 1 and N > 2:
        assert (yh - torch.einsum("hwoi,bihw->bohw", A_wrong, xh)).abs().max() > 1e-3
    # fft_apply (rfft2 half spectrum) and the full complex path
    y_full = T.fft_apply(A, xt, real=False)
    assert y_full.imag.abs().max() < 1e-12
    assert (T.fft_apply(A, xt) - y).abs().max() < 1e-12
    assert (y_full.real - y).abs().max() < 1e-12


@pytest.mark.parametrize("k,N", [(2, 4), (3, 5), (4, 6), (5, 5)])
def test_embed_and_freq_to_kernel_round_trip(rng, k, N):
    K = rng.standard_normal((2, 3, k, k))
    Kt = torch.tensor(K)
    for origin in ("zero", "center"):
        assert np.abs(T.embed_kernel(Kt, N, origin=origin).numpy() - C.embed_kernel(K, N, origin=origin)).max() == 0
    A = T.kernel_to_freq(Kt, N)
    Kc = T.freq_to_kernel(A)
    assert np.abs(Kc.numpy() - C.freq_to_kernel(A.numpy())).max() < 1e-12
    assert (T.conv2d_circular(Kc, torch.ones(3, N, N, dtype=torch.float64))
            - T.conv2d_circular(Kt, torch.ones(3, N, N, dtype=torch.float64))).abs().max() < 1e-12
    assert np.abs(T.adjoint_kernel(Kt, N).numpy() - C.adjoint_kernel(K, N)).max() < 1e-12
    assert T.freq_hermitian_residual(A) < 1e-12
    with pytest.raises(DomainError):
        T.freq_to_kernel(A * 1j)


@pytest.mark.parametrize("k,N", [(2, 3), (3, 4), (4, 4), (3, 6)])
def test_adjoint_conv_is_transpose(rng, k, N):
    """⟨y, Mx⟩ = ⟨Mᵀy, x⟩ with Mᵀ from conv2d_circular_adjoint (even k: origin k/2), == dense Mᵀ."""
    K = rng.standard_normal((3, 2, k, k))
    Kt = torch.tensor(K)
    yy = rng.standard_normal((4, 3, N, N))
    adj = T.conv2d_circular_adjoint(Kt, torch.tensor(yy)).numpy()
    M = C.conv_matrix(K, N)
    assert np.abs(adj - (yy.reshape(4, -1) @ M).reshape(4, 2, N, N)).max() < 1e-12
    A = T.kernel_to_freq(Kt, N)
    assert (T.freq_adjoint(A) - T.kernel_to_freq(torch.tensor(C.adjoint_kernel(K, N)), N)).abs().max() < 1e-12


def test_freq_algebra_matches_numpy(rng):
    """matmul, sym, solve, inv, eigh, psd_sqrt, norm2 per frequency == deqtheory.circulant (and dense)."""
    N, c = 5, 3
    KA = rng.standard_normal((c, c, 3, 3))
    KB = rng.standard_normal((c, 2, 2, 2))
    A_np, B_np = C.kernel_to_freq(KA, N), C.kernel_to_freq(KB, N)
    A, B = torch.tensor(A_np), torch.tensor(B_np)
    assert np.abs(T.freq_matmul(A, B).numpy() - C.freq_matmul(A_np, B_np)).max() < 1e-12
    assert np.abs(T.freq_sym(A).numpy() - C.freq_sym(A_np)).max() < 1e-12
    Ash = A + 4.0 * T.freq_identity(N, c, dtype=A.dtype)
    assert np.abs(T.freq_solve(Ash, B).numpy() - C.freq_solve(Ash.numpy(), B_np)).max() < 1e-11
    assert np.abs(T.freq_inv(Ash).numpy() - C.freq_inv(Ash.numpy())).max() < 1e-11
    Minv = C.conv_matrix(T.freq_to_kernel(T.freq_inv(Ash)).numpy(), N)
    Mash = C.conv_matrix(T.freq_to_kernel(Ash).numpy(), N)
    assert np.abs(Minv @ Mash - np.eye(c * N * N)).max() < 1e-10
    assert abs(float(T.freq_norm2(A)) - np.linalg.norm(C.conv_matrix(KA, N), 2)) < 1e-10
    H = T.freq_matmul(T.freq_adjoint(A), A)                 # MᵀM, PSD and singular-free
    w, _ = T.freq_eigh(H)
    w_np, _ = C.freq_eigh(H.numpy())
    assert np.abs(w.numpy() - w_np).max() < 1e-10
    S = T.freq_psd_sqrt(H)
    assert np.abs(S.numpy() - C.freq_psd_sqrt(H.numpy())).max() < 1e-10
    assert T.freq_hermitian_residual(S) == 0.0
    Ks = T.freq_to_kernel(S).numpy()
    Ms = C.conv_matrix(Ks, N)
    MA = C.conv_matrix(KA, N)
    assert np.abs(Ms.T @ Ms - MA.T @ MA).max() < 1e-10
    with pytest.raises(DEQLinAlgError):
        T.freq_psd_sqrt(-H - T.freq_identity(N, c, dtype=H.dtype))
    with pytest.raises(DEQLinAlgError):
        T.freq_solve(torch.zeros_like(A), B)


def test_psd_sqrt_of_exactly_singular_real_spectrum_gives_real_kernel(rng):
    """Rank-deficient Gram (½(M + Mᵀ) of the SLL conversion is exactly singular): root stays real."""
    N = 4
    K = rng.standard_normal((1, 3, 3, 3))                    # M_Kᵀ M_K has rank ≤ N² of 3N²
    A = T.kernel_to_freq(torch.tensor(K), N)
    H = T.freq_matmul(T.freq_adjoint(A), A)
    Ks = T.freq_to_kernel(T.freq_psd_sqrt(H))                 # check=True: imaginary residue within tol
    Ms = C.conv_matrix(Ks.numpy(), N)
    M = C.conv_matrix(K, N)
    assert np.abs(Ms @ Ms - M.T @ M).max() < 1e-7


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_input_and_gradients_flow(rng, dtype):
    K = torch.tensor(rng.standard_normal((2, 2, 3, 3)), dtype=dtype, requires_grad=True)
    x = torch.tensor(rng.standard_normal((3, 2, 4, 4)), dtype=dtype)
    A = T.kernel_to_freq(K, 4)
    assert A.dtype == T.complex_dtype(dtype)
    y = T.fft_apply(A, x)
    assert y.dtype == dtype
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    assert (y - T.conv2d_circular(K, x)).abs().max() < tol
    (y.square().sum() + T.freq_norm2(A)).backward()
    assert K.grad is not None and torch.isfinite(K.grad).all()


def test_gradcheck_fft_apply(rng):
    K = torch.tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    x = torch.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda K, x: T.fft_apply(T.kernel_to_freq(K, 4), x), (K, x))


@pytest.mark.parametrize("k,N", [(3, 3), (3, 4), (3, 8), (2, 5)])
def test_gram_kernel_bounds_circular_gram(rng, k, N):
    """Taps of the circular Gram M_K M_Kᵀ are sums of gram_kernel taps (aliasing), so
    Σ|circular taps| ≤ Σ|gram_kernel taps|, with equality of the taps themselves when N ≥ 2k − 1."""
    K = rng.standard_normal((3, 2, k, k))
    P = T.gram_kernel(torch.tensor(K)).numpy()
    M = C.conv_matrix(K, N)
    G = M @ M.T                                           # (3N², 3N²)
    n2 = N * N
    circ = np.stack([np.stack([G[a * n2, b * n2:(b + 1) * n2] for b in range(3)]) for a in range(3)])
    row_abs = np.abs(circ).sum(axis=-1)                   # Σ over offsets of |circular Gram taps|
    assert np.all(row_abs <= np.abs(P).sum(axis=(-2, -1)) + 1e-12)
    if N >= 2 * k - 1:
        assert np.abs(row_abs - np.abs(P).sum(axis=(-2, -1))).max() < 1e-12
    Pin = T.gram_kernel(torch.tensor(K), side="in").numpy()
    Gin = M.T @ M
    circ_in = np.stack([np.stack([Gin[a * n2, b * n2:(b + 1) * n2] for b in range(2)]) for a in range(2)])
    assert np.all(np.abs(circ_in).sum(axis=-1) <= np.abs(Pin).sum(axis=(-2, -1)) + 1e-12)


def test_bad_shapes():
    with pytest.raises(ShapeError):
        T.kernel_to_freq(torch.zeros(1, 1, 5, 5), 4)
    with pytest.raises(ShapeError):
        T.fft_apply(torch.zeros(4, 4, 2, 3, dtype=torch.complex128), torch.zeros(1, 2, 4, 4))
    with pytest.raises(ShapeError):
        T.conv2d_circular(torch.zeros(1, 1, 3), torch.zeros(1, 1, 4, 4))
