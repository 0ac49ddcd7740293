r"""Torch versions of :mod:`deqtheory.circulant`: circular convolutions and per-frequency blocks.

Same conventions as :mod:`deqtheory.circulant` (see ``docs/circulant.md``), which is the numpy
oracle of every function here (tests: ``tests/test_train_fft.py``):

* feature maps ``(B, c, N, N)`` (or ``(c, N, N)``), kernels ``(c_out, c_in, kh, kw)`` (PyTorch
  ``conv2d`` weight), ``k ≤ N``;
* the operator is PyTorch's **cross-correlation** with circular padding, stride 1, kernel origin
  ``o(k) = (k − 1)//2``::

      y[o, r, s] = Σ_{i,a,b} K[o, i, a, b] x[i, (r + a − o(kh)) mod N, (s + b − o(kw)) mod N]

  i.e. ``F.conv2d(F.pad(x, (o(kw), kw−1−o(kw), o(kh), kh−1−o(kh)), mode="circular"), K)`` — for odd
  ``k`` this is ``conv2d(padding=k//2, padding_mode="circular")``, for every ``k`` it is
  ``conv2d(padding="same", padding_mode="circular")`` (checked against torch in the tests);
* unitary 2-D DFT per channel (``torch.fft.fft2(x, norm="ortho")``), numpy frequency order;
* per-frequency blocks ``Â`` of shape ``(N, N, c_out, c_in)`` (complex64 for float32 kernels,
  complex128 for float64): ``ŷ[:, ω] = Â(ω) x̂[:, ω]`` with
  ``Â(ω) = Σ_{a,b} K[:, :, a, b] e^{+2πi(ω₁(a−o_h) + ω₂(b−o_w))/N} = conj(fft2(K₀)(ω))`` (``K₀`` the
  zero-origin kernel, no factor N). The ``+`` sign is the cross-correlation signature.

Everything is differentiable (autograd through ``torch.fft``/``torch.linalg``) and follows the
device and dtype of its inputs (no ``.cuda()``). ``torch.rfft`` no longer exists (torch ≥ 1.8): this
module uses ``torch.fft``. The spectrum depends on the grid: a Lipschitz constant computed here is
exact only for circular convolutions on *that* ``N × N`` grid (FACTS.md pitfall).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from deqtheory.errors import DEQLinAlgError, DomainError, ShapeError

__all__ = [
    "complex_dtype", "real_dtype", "kernel_origin", "embed_kernel", "conv2d_circular",
    "conv2d_circular_adjoint", "adjoint_kernel", "kernel_to_freq", "freq_to_kernel",
    "freq_hermitian_residual", "fft_apply", "fft_apply_hat", "freq_adjoint", "freq_matmul",
    "freq_solve", "freq_inv", "freq_sym", "freq_identity", "freq_eigh", "freq_psd_sqrt",
    "freq_norm2", "gram_kernel",
]


def complex_dtype(dtype: torch.dtype) -> torch.dtype:
    """complex64 for float32/complex64, complex128 for float64/complex128."""
    if dtype in (torch.float64, torch.complex128):
        return torch.complex128
    if dtype in (torch.float32, torch.complex64):
        return torch.complex64
    raise DomainError(f"dtype: expected float32/float64 (or complex64/128), got {dtype}")


def real_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for complex64/float32, float64 for complex128/float64."""
    return torch.float64 if dtype in (torch.float64, torch.complex128) else torch.float32


def _unit_roundoff(dtype: torch.dtype) -> float:
    return float(torch.finfo(real_dtype(dtype)).eps) / 2


def kernel_origin(k: int) -> int:
    """Index of the zero-offset tap of a size-``k`` kernel: ``(k − 1)//2`` (PyTorch ``padding='same'``)."""
    return (int(k) - 1) // 2


def _check_kernel(K: torch.Tensor, N: Optional[int] = None) -> None:
    if K.ndim != 4:
        raise ShapeError(f"K: expected a kernel (c_out, c_in, kh, kw), got shape {tuple(K.shape)}")
    if N is not None and (K.shape[2] > N or K.shape[3] > N):
        raise ShapeError(f"K: kernel of shape {tuple(K.shape)} is larger than the {N}x{N} grid (taps would alias)")


def _place_origin(K0: torch.Tensor, N: int, origin: str) -> torch.Tensor:
    """A full-support kernel with its origin at index 0 (``"zero"``) as is, or rolled to
    ``(N − 1)//2`` (``"center"``, the layout of :mod:`deqtheory.circulant`)."""
    if origin == "zero":
        return K0
    if origin == "center":
        o = (N - 1) // 2
        return torch.roll(K0, shifts=(o, o), dims=(-2, -1))
    raise DomainError(f"origin: expected 'zero' or 'center', got {origin!r}")


def embed_kernel(K: torch.Tensor, N: int, *, origin: str = "zero") -> torch.Tensor:
    r"""Full-support ``(c_out, c_in, N, N)`` kernel of the same circular convolution.

    ``origin="zero"`` (default): index ``(d₁, d₂)`` holds the tap at offset ``(d₁, d₂) mod N``
    (the first row of each circulant block, havens2023 eq. 24). ``origin="center"``: origin
    ``(N − 1)//2`` (the layout of :func:`deqtheory.circulant.embed_kernel`), usable with
    :func:`conv2d_circular` on the same grid."""
    _check_kernel(K, N)
    co, ci, kh, kw = K.shape
    oh, ow = kernel_origin(kh), kernel_origin(kw)
    K0 = K.new_zeros((co, ci, N, N))
    K0[:, :, :kh, :kw] = K
    # tap (a, b) sits at offset (a − oh, b − ow): roll it there (k ≤ N: no aliasing)
    K0 = torch.roll(K0, shifts=(-oh, -ow), dims=(-2, -1))
    return _place_origin(K0, N, origin)


def conv2d_circular(K: torch.Tensor, x: torch.Tensor, bias: Optional[torch.Tensor] = None, *,
                    origin: Optional[Tuple[int, int]] = None) -> torch.Tensor:
    r"""Circular cross-correlation ``y = K ⋆ x`` (+ bias per output channel), same size, stride 1.

    ``F.pad(x, (o_w, kw−1−o_w, o_h, kh−1−o_h), mode="circular")`` then ``F.conv2d`` (valid), with
    ``(o_h, o_w) = origin`` (default ``((kh−1)//2, (kw−1)//2)``, the module convention)."""
    _check_kernel(K, x.shape[-1])
    kh, kw = K.shape[-2:]
    oh, ow = (kernel_origin(kh), kernel_origin(kw)) if origin is None else origin
    squeeze = x.ndim == 3
    xb = x.unsqueeze(0) if squeeze else x
    if kh == 1 and kw == 1:
        y = F.conv2d(xb, K, bias)
    else:
        y = F.conv2d(F.pad(xb, (ow, kw - 1 - ow, oh, kh - 1 - oh), mode="circular"), K, bias)
    return y.squeeze(0) if squeeze else y


def conv2d_circular_adjoint(K: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Transpose ``Mᵀ y`` of ``M = conv2d_circular(K, ·)``: cross-correlation with the kernel
    ``K.transpose(0, 1).flip(−2, −1)`` (channels swapped, taps negated) whose origin is
    ``k − 1 − (k−1)//2`` (= ``(k−1)//2`` for odd ``k``, ``k/2`` for even ``k``)."""
    kh, kw = K.shape[-2:]
    Kt = K.transpose(0, 1).flip(-2, -1)
    return conv2d_circular(Kt, y, origin=(kh - 1 - kernel_origin(kh), kw - 1 - kernel_origin(kw)))


def adjoint_kernel(K: torch.Tensor, N: int) -> torch.Tensor:
    """Full-support centered ``(c_in, c_out, N, N)`` kernel of ``Mᵀ`` on an ``N`` grid (as
    :func:`deqtheory.circulant.adjoint_kernel` with ``N`` given)."""
    K0 = embed_kernel(K, N, origin="zero")
    neg = (-torch.arange(N, device=K.device)) % N
    K0t = K0.transpose(0, 1)[:, :, neg][:, :, :, neg]
    o = (N - 1) // 2
    return torch.roll(K0t, shifts=(o, o), dims=(-2, -1))


def kernel_to_freq(K: torch.Tensor, N: int) -> torch.Tensor:
    r"""Per-frequency blocks ``Â(ω)`` (``(N, N, c_out, c_in)``, complex) of ``conv2d_circular(K, ·)``.

    ``Â = ifft2(K₀, norm="forward")`` (the unscaled ``e^{+2πi…}`` sum = ``conj(fft2(K₀))`` for real
    ``K``), transposed to frequency-major. Differentiable in ``K``."""
    _check_kernel(K, N)
    K0 = embed_kernel(K, N, origin="zero")
    Khat = torch.fft.ifft2(K0.to(complex_dtype(K.dtype)), dim=(-2, -1), norm="forward")
    return Khat.permute(2, 3, 0, 1)


def freq_hermitian_residual(A: torch.Tensor) -> float:
    """``max|Â(−ω) − conj Â(ω)|``: zero iff ``A`` is the spectrum of a real kernel."""
    N = A.shape[0]
    neg = (-torch.arange(N, device=A.device)) % N
    return float((A[neg][:, neg] - A.conj()).detach().abs().max())


def _hermitian_symmetrize(A: torch.Tensor) -> torch.Tensor:
    """``(Â(ω) + conj Â(−ω))/2``: the nearest spectrum of a real kernel (exactly Hermitian-symmetric)."""
    N = A.shape[0]
    neg = (-torch.arange(N, device=A.device)) % N
    return 0.5 * (A + A[neg][:, neg].conj())


def freq_to_kernel(A: torch.Tensor, *, origin: str = "center", check: bool = True,
                   tol: Optional[float] = None) -> torch.Tensor:
    r"""Real full-support kernel ``(c_out, c_in, N, N)`` with ``kernel_to_freq(·, N) == A``.

    ``K₀ = fft2(Â, norm="forward")``; ``origin="center"`` (default, as
    :func:`deqtheory.circulant.freq_to_kernel`) or ``"zero"``. With ``check`` the imaginary residue
    must be ≤ ``tol`` (default ``64 N² u max|Â|``, u of the dtype), else :class:`DomainError`."""
    N = A.shape[0]
    K0 = torch.fft.fft2(A.permute(2, 3, 0, 1), dim=(-2, -1), norm="forward")
    if check:
        t = 64.0 * N * N * _unit_roundoff(A.dtype) * max(float(A.detach().abs().max()), 1e-300) if tol is None else tol
        imag = float(K0.imag.detach().abs().max())
        if imag > t:
            raise DomainError(f"A: shape {tuple(A.shape)} is not the spectrum of a real kernel "
                              f"(imaginary residue {imag:.3e} > tol {t:.3e})")
    return _place_origin(K0.real.contiguous(), N, origin)


def fft_apply_hat(A: torch.Tensor, xhat: torch.Tensor) -> torch.Tensor:
    """``ŷ[..., :, ω] = Â(ω) x̂[..., :, ω]`` for ``x̂`` of shape ``(…, c_in, N, N)`` (complex)."""
    N, _, co, ci = A.shape
    if xhat.shape[-3:] != (ci, N, N):
        raise ShapeError(f"xhat: expected shape (..., {ci}, {N}, {N}), got {tuple(xhat.shape)}")
    return torch.einsum("hwoi,...ihw->...ohw", A, xhat)


def fft_apply(A: torch.Tensor, x: torch.Tensor, *, real: bool = True) -> torch.Tensor:
    r"""Apply the convolution given by its blocks: ``ifft2(Â · fft2(x, ortho), ortho)``.

    ``x`` is ``(…, c_in, N, N)`` real. With ``real=True`` (default) the half spectrum
    (``torch.fft.rfft2``/``irfft2``, ``N//2 + 1`` frequency columns) is used: exact when ``A`` is
    the spectrum of a real kernel (Hermitian-symmetric); it silently takes the real part
    otherwise. ``real=False`` returns the full complex result."""
    N, _, co, ci = A.shape
    if x.shape[-3:] != (ci, N, N):
        raise ShapeError(f"x: expected shape (..., {ci}, {N}, {N}), got {tuple(x.shape)}")
    if not real:
        xh = torch.fft.fft2(x.to(A.dtype) if x.is_complex() else x, dim=(-2, -1), norm="ortho")
        return torch.fft.ifft2(fft_apply_hat(A, xh.to(A.dtype)), dim=(-2, -1), norm="ortho")
    h = N // 2 + 1
    xh = torch.fft.rfft2(x, dim=(-2, -1), norm="ortho").to(A.dtype)
    yh = torch.einsum("hwoi,...ihw->...ohw", A[:, :h], xh)
    return torch.fft.irfft2(yh, s=(N, N), dim=(-2, -1), norm="ortho")


def freq_adjoint(A: torch.Tensor) -> torch.Tensor:
    """Blocks ``Â(ω)ᴴ`` of the transpose ``Mᵀ`` (shape ``(N, N, c_in, c_out)``)."""
    return A.transpose(-2, -1).conj()


def freq_matmul(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Blocks ``Â(ω) B̂(ω)`` of the composition ``M_A M_B``."""
    if A.shape[0] != B.shape[0] or A.shape[-1] != B.shape[-2]:
        raise ShapeError(f"A, B: incompatible stacks {tuple(A.shape)} @ {tuple(B.shape)}")
    return A @ B


def freq_identity(N: int, c: int, *, dtype: torch.dtype = torch.complex128,
                  device: Optional[torch.device] = None) -> torch.Tensor:
    """``I_c`` at every frequency, shape ``(N, N, c, c)``."""
    return torch.eye(c, dtype=complex_dtype(dtype), device=device).expand(N, N, c, c).clone()


def freq_solve(A: torch.Tensor, B: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    r"""Blocks ``Â(ω)⁻¹ B̂(ω)`` of ``M_A⁻¹ M_B`` (batched ``torch.linalg.solve``).

    With ``check``: :class:`DEQLinAlgError` if ``min_ω σ_min(Â(ω)) ≤ c u max_ω σ_max(Â(ω))``
    (``M_A`` singular to working precision), as :func:`deqtheory.circulant.freq_solve`."""
    if A.shape[-1] != A.shape[-2] or A.shape[0] != B.shape[0] or A.shape[-1] != B.shape[-2]:
        raise ShapeError(f"A, B: incompatible stacks for solve {tuple(A.shape)} \\ {tuple(B.shape)}")
    if check:
        with torch.no_grad():
            s = torch.linalg.svdvals(A)
            smax, smin = float(s[..., 0].max()), float(s[..., -1].min())
        if smax == 0.0 or smin <= A.shape[-1] * _unit_roundoff(A.dtype) * smax:
            raise DEQLinAlgError(f"A: singular to working precision (min σ_min {smin:.3e}, max σ_max {smax:.3e})")
    return torch.linalg.solve(A, B)


def freq_inv(A: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Blocks ``Â(ω)⁻¹`` of ``M_A⁻¹``."""
    I = freq_identity(A.shape[0], A.shape[-1], dtype=A.dtype, device=A.device)
    return freq_solve(A, I, check=check)


def freq_sym(A: torch.Tensor) -> torch.Tensor:
    """Blocks ``(Â + Âᴴ)/2`` of ``(M + Mᵀ)/2``."""
    return 0.5 * (A + freq_adjoint(A))


def freq_eigh(A: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-frequency Hermitian eigendecomposition of ``(A + Aᴴ)/2`` (ascending eigenvalues)."""
    return torch.linalg.eigh(freq_sym(A))


def freq_psd_sqrt(A: torch.Tensor, *, tol: Optional[float] = None, real_kernel: bool = True) -> torch.Tensor:
    r"""Per-frequency Hermitian PSD square root ``S(ω) = Â(ω)^{1/2}`` (``S = Sᴴ ⪰ 0``, ``S² = Â``).

    ``eigh`` of the Hermitian part, eigenvalues in ``[−tol, 0)`` clipped to 0, an eigenvalue
    ``< −tol`` raises :class:`DEQLinAlgError` (never silently indefinite); default
    ``tol = 64 c² u max|Â|``. With ``real_kernel`` (default) the result is symmetrized,
    ``S ← (S(ω) + conj S(−ω))/2`` — for the spectrum of a real kernel both terms are the same
    unique root up to rounding, and the average is *exactly* Hermitian-symmetric, so
    :func:`freq_to_kernel` gives a real kernel even where ``Â`` is singular (havens2023 §4 / App. E:
    ``V`` with ``VᵀV = ½(M + Mᵀ)``). Gradients through ``eigh`` are unstable at repeated
    eigenvalues: use this for initialization/conversion, not inside a training loss."""
    c = A.shape[-1]
    H = freq_sym(A)
    amax = float(H.detach().abs().max())
    t = 64.0 * c * c * _unit_roundoff(A.dtype) * amax if tol is None else tol
    w, Q = torch.linalg.eigh(H)
    wmin = float(w.detach().min())
    if wmin < -t:
        raise DEQLinAlgError(f"A: not positive semidefinite: eigenvalue {wmin:.3e} < -tol = {-t:.3e}")
    r = torch.sqrt(torch.clamp(w, min=0.0)).to(Q.dtype)
    S = (Q * r.unsqueeze(-2)) @ Q.transpose(-2, -1).conj()
    return _hermitian_symmetrize(S) if real_kernel else S


def freq_norm2(A: torch.Tensor) -> torch.Tensor:
    r"""``‖M‖₂ = max_ω σ_max(Â(ω))`` as a 0-d real tensor (differentiable; a floating-point value,
    not a proved bound). Exact only for the circular convolution on this grid."""
    return torch.linalg.matrix_norm(A, ord=2).max()


def gram_kernel(K: torch.Tensor, *, side: str = "out") -> torch.Tensor:
    r"""Non-circular Gram kernel of a conv (size ``2k − 1``, origin ``k − 1``).

    ``side="out"``: the kernel ``P`` (``(c_out, c_out, 2kh−1, 2kw−1)``) of ``M_K M_Kᵀ`` on a grid
    large enough not to alias, ``P[a, b, δ + k−1] = Σ_{i, t} K[a, i, t + δ] K[b, i, t]`` (taps outside
    the kernel are 0) — the Gram of the *rows* of ``M_K`` (used by conv SLL, where the layer reads
    the state through ``M_K``). ``side="in"``: the kernel of ``M_Kᵀ M_K`` (``(c_in, c_in, …)``, used
    by conv AOL). On an ``N`` grid with ``N < 2k − 1`` the circular Gram aliases: its taps are
    sums of these taps, so sums of absolute values over taps only decrease (the bound used by
    SLL/AOL stays valid on every grid ``N ≥ k``). Computed as ``F.conv2d(K, K, padding=k−1)``."""
    if side == "in":
        K = K.transpose(0, 1)
    elif side != "out":
        raise DomainError(f"side: expected 'out' or 'in', got {side!r}")
    kh, kw = K.shape[-2:]
    return F.conv2d(K, K, padding=(kh - 1, kw - 1))
