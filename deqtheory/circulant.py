r"""Circular (periodic) 2-D convolutions, their dense matrices and their Fourier block-diagonalization.

Specification: havens2023 (paper 002) App. E, eqs. (24)–(25), which cites Trockman & Kolter
(ICLR 2021, Corollary A.1.1). A multi-channel circular convolution on an ``N × N`` grid is a
*block-doubly-block-circulant* matrix ``M ∈ R^{c_out N² × c_in N²}``; the unitary 2-D DFT of
every channel turns it into ``N²`` independent ``c_out × c_in`` blocks ``Â(ω)``, so products,
adjoints, inverses, square roots and spectral norms can all be done block by block.

Conventions (all fixed here; see ``docs/circulant.md``)
--------------------------------------------------------
* **Layout.** A feature map is an array ``(c, N, N)`` (channels first, PyTorch without batch);
  batches are ``(B, c, N, N)``. A kernel has shape ``(c_out, c_in, kh, kw)`` (PyTorch conv2d
  weight). Flattening is C-order over ``(c, N, N)``: ``vec(x)[ch·N² + r·N + s] = x[ch, r, s]``.
* **Cross-correlation (PyTorch ``conv2d``, ``padding_mode='circular'``, stride 1).** With the
  *origin* ``o(k) = (k − 1) // 2`` of a kernel of size ``k``::

      y[o, r, s] = Σ_{i, a, b} K[o, i, a, b] · x[i, (r + a − o(kh)) mod N, (s + b − o(kw)) mod N].

  For odd ``k`` this is PyTorch with ``padding=k // 2``; for even ``k`` it is PyTorch with
  ``padding='same'`` (left/top pad ``(k − 1)//2``, right/bottom pad ``k//2``). PyTorch with an
  *integer* padding ``k//2`` for even ``k`` outputs ``N + 1`` pixels, i.e. is not an operator on
  the grid, and is not represented here. Kernels larger than the grid (``k > N``) are rejected:
  their taps alias, and PyTorch refuses circular padding wider than the input.
* **Full-support kernels.** A kernel of size ``N × N`` uses the same rule (origin
  ``(N − 1)//2``); so ``conv2d_circular(embed_kernel(K, N), x) == conv2d_circular(K, x)``, and
  :func:`matrix_to_kernel`, :func:`freq_to_kernel` return kernels in this *centered* layout.
  ``embed_kernel(K, N, origin="zero")`` gives the *zero-origin* layout ``K₀[o, i, d₁, d₂]`` =
  weight of the tap at offset ``(d₁, d₂) mod N``: this is the first row of each circulant block
  of ``M`` (eq. 24's ``blkcirc(K_0, …, K_{n−1})`` with ``circ`` built from its *first row*):
  ``M[(o, r, s), (i, u, v)] = K₀[o, i, (u − r) mod N, (v − s) mod N]``.
* **DFT.** The unitary 2-D DFT per channel, ``x̂ = numpy.fft.fft2(x, norm="ortho")``,
  ``x̂[ω₁, ω₂] = N⁻¹ Σ_{r,s} x[r, s] e^{−2πi(ω₁ r + ω₂ s)/N}``, frequencies in numpy order
  (index ``j`` ↔ frequency ``j``; ``N − j`` ↔ ``−j``).
* **Frequency blocks.** ``Khat = kernel_to_freq(K, N)`` has shape ``(N, N, c_out, c_in)`` and
  ``ŷ[:, ω] = Khat[ω] @ x̂[:, ω]`` for ``y = conv2d_circular(K, x)``, where::

      Â(ω) = Σ_{a,b} K[:, :, a, b] · e^{+2πi(ω₁(a − o(kh)) + ω₂(b − o(kw)))/N}
           = conj(fft2(K₀)(ω))  for real K (unnormalized fft2 of the zero-origin kernel).

  The ``+`` sign (the complex conjugate of the usual DFT of the kernel) is what
  cross-correlation produces; no ``N`` factor appears because ``x`` and ``y`` use the same
  unitary transform. A stack ``(N, N, a, b)`` is the spectrum of a *real* kernel iff it is
  Hermitian-symmetric, ``Â(−ω) = conj(Â(ω))`` (indices mod ``N``).
* **Frequency-major ordering.** ``dft_matrix(N, c) = I_c ⊗ F ⊗ F`` (``F`` the unitary 1-D DFT)
  maps ``vec(x)`` to ``vec(x̂)`` (channel-major). ``p = freq_major_permutation(N, c)`` reorders a
  channel-major vector into frequency-major order ``v_fm[ω·c + ch] = v_cm[ch·N² + ω]``
  (``ω = ω₁ N + ω₂``), i.e. ``v_fm = v_cm[p]``; the permutation matrix ``S = I[:, p]`` satisfies
  ``v_cm = S v_fm`` (the ``S_c`` of eq. 25). Then
  ``(Q_out M Q_inᴴ)[p_out][:, p_in] == block_diagonal_from_freq(Khat)``.

Adjoint: the transpose of the real matrix ``M`` has the blocks ``Â(ω)ᴴ`` (:func:`freq_adjoint`)
and the kernel :func:`adjoint_kernel` (channels swapped, taps negated/flipped circularly).
Composition ``M_A M_B`` has the blocks ``Â(ω) B̂(ω)`` (:func:`freq_matmul`), ``M⁻¹`` the blocks
``Â(ω)⁻¹``, ``‖M‖₂ = max_ω σ_max(Â(ω))`` (:func:`freq_norm2`).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple, Optional, Tuple

import numpy as np

from ._validate import as_array, as_scalar
from .errors import (DEQLinAlgError, DomainError, DTypeError, EmptyArrayError,
                     IllConditionedWarning, NonFiniteError, ShapeError)

__all__ = [
    "kernel_origin", "embed_kernel", "conv2d_circular", "conv_matrix", "matrix_to_kernel",
    "kernel_to_freq", "freq_to_kernel", "freq_apply", "freq_apply_hat", "freq_adjoint",
    "freq_matmul", "freq_solve", "freq_inv", "freq_eigh", "freq_sym", "freq_psd_sqrt",
    "freq_psd_factor", "freq_norm2", "freq_identity", "freq_hermitian_residual",
    "adjoint_kernel", "dft_matrix", "freq_major_permutation", "block_diagonal_from_freq",
    "freq_conjugate_pairs", "ConjugatePairs",
]

_EPS = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------
def _as_grid(name: str, N: Any) -> int:
    if isinstance(N, (bool, np.bool_)) or not isinstance(N, (int, np.integer)):
        if isinstance(N, (float, np.floating)) and float(N).is_integer():
            N = int(N)
        else:
            raise DTypeError(f"{name}: expected a positive integer grid size, got {type(N).__name__} {N!r}")
    N = int(N)
    if N < 1:
        raise DomainError(f"{name}: grid size must be >= 1, got {N}")
    return N


def _as_count(name: str, c: Any) -> int:
    if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)):
        raise DTypeError(f"{name}: expected a positive integer channel count, got {type(c).__name__} {c!r}")
    if int(c) < 1:
        raise DomainError(f"{name}: channel count must be >= 1, got {int(c)}")
    return int(c)


def _as_kernel(name: str, K: Any, N: Optional[int] = None) -> np.ndarray:
    K = as_array(name, K, ndim=4)
    if N is not None and (K.shape[2] > N or K.shape[3] > N):
        raise ShapeError(f"{name}: kernel of shape {K.shape} is larger than the {N}x{N} grid "
                         "(taps would alias; PyTorch refuses circular padding wider than the input)")
    return K


def _as_freq(name: str, A: Any, *, square: bool = False) -> np.ndarray:
    """A stack of per-frequency blocks, shape ``(N, N, a, b)``, as complex128."""
    if A is None:
        raise DTypeError(f"{name}: expected an array, got None")
    try:
        arr = np.asarray(A)
    except Exception as exc:  # pragma: no cover - ragged input
        raise ShapeError(f"{name}: cannot be converted to an array ({exc})") from None
    if arr.dtype == object or arr.dtype.kind not in "biufc":
        raise DTypeError(f"{name}: dtype {arr.dtype} is not numeric (shape {arr.shape})")
    if arr.ndim != 4:
        raise ShapeError(f"{name}: expected a 4-d stack (N, N, a, b) of per-frequency blocks, got shape {arr.shape}")
    if arr.size == 0:
        raise EmptyArrayError(f"{name}: array is empty (shape {arr.shape})")
    if arr.shape[0] != arr.shape[1]:
        raise ShapeError(f"{name}: the two frequency axes must have equal length N, got shape {arr.shape}")
    if square and arr.shape[2] != arr.shape[3]:
        raise ShapeError(f"{name}: expected square blocks (N, N, c, c), got shape {arr.shape}")
    arr = arr.astype(np.complex128, copy=True)
    if not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"{name}: {bad} non-finite entr{'y' if bad == 1 else 'ies'} in shape {arr.shape}")
    return arr


def _as_image(name: str, x: Any, c: int, N: int) -> np.ndarray:
    x = as_array(name, x)
    if x.ndim not in (3, 4) or x.shape[-3:] != (c, N, N):
        raise ShapeError(f"{name}: expected shape ({c}, {N}, {N}) or (B, {c}, {N}, {N}), got {x.shape}")
    return x


def _as_tol(name: str, tol: Any) -> Optional[float]:
    if tol is None:
        return None
    return as_scalar(name, tol, nonnegative=True)


# ----------------------------------------------------------------------------------------------
# kernels and the spatial operator
# ----------------------------------------------------------------------------------------------
def kernel_origin(k: int) -> int:
    """Index of the zero-offset tap of a kernel of size ``k``: ``(k − 1) // 2``.

    Equals PyTorch's left padding for ``padding=k//2`` (odd ``k``) and ``padding='same'``
    (any ``k``)."""
    k = _as_grid("k", k)
    return (k - 1) // 2


def _offset_kernel(K: np.ndarray, N: int) -> np.ndarray:
    """Zero-origin full-support kernel ``K₀`` (c_out, c_in, N, N); no validation."""
    co, ci, kh, kw = K.shape
    oh, ow = (kh - 1) // 2, (kw - 1) // 2
    K0 = np.zeros((co, ci, N, N), dtype=K.dtype)
    rows = (np.arange(kh) - oh) % N
    cols = (np.arange(kw) - ow) % N
    # k <= N: the offsets a − o are k consecutive integers, hence distinct mod N (no aliasing)
    K0[:, :, rows[:, None], cols[None, :]] = K
    return K0


def _center(K0: np.ndarray) -> np.ndarray:
    """Zero-origin (…, N, N) → centered layout (origin (N−1)//2 on both axes)."""
    N = K0.shape[-1]
    o = (N - 1) // 2
    return np.roll(K0, shift=(o, o), axis=(-2, -1))


def _uncenter(Kc: np.ndarray) -> np.ndarray:
    N = Kc.shape[-1]
    o = (N - 1) // 2
    return np.roll(Kc, shift=(-o, -o), axis=(-2, -1))


def embed_kernel(K: Any, N: int, *, origin: str = "center") -> np.ndarray:
    r"""Full-support ``(c_out, c_in, N, N)`` kernel of the same circular convolution.

    ``origin="center"`` (default): the layout with origin ``(N − 1)//2`` used by
    :func:`conv2d_circular`, so ``conv2d_circular(embed_kernel(K, N), x) ==
    conv2d_circular(K, x)``. ``origin="zero"``: index ``(d₁, d₂)`` holds the tap at offset
    ``(d₁, d₂) mod N`` — the first row of every circulant block of :func:`conv_matrix`
    (havens2023 eq. 24, ``K_i = circ(K_{i,:})`` read as "first row")."""
    N = _as_grid("N", N)
    K = _as_kernel("K", K, N)
    K0 = _offset_kernel(K, N)
    if origin == "zero":
        return K0
    if origin == "center":
        return _center(K0)
    raise DomainError(f"origin: expected 'center' or 'zero', got {origin!r}")


def conv2d_circular(K: Any, x: Any) -> np.ndarray:
    r"""PyTorch ``conv2d`` (cross-correlation) with circular padding, stride 1, same size.

    ``y[o, r, s] = Σ_{i,a,b} K[o, i, a, b] x[i, (r + a − (kh−1)//2) mod N, (s + b − (kw−1)//2) mod N]``

    (odd ``k``: PyTorch ``padding=k//2``; even ``k``: PyTorch ``padding='same'``, left/top pad
    ``(k−1)//2``). ``x`` is ``(c_in, N, N)`` or ``(B, c_in, N, N)``; the result has the same
    leading shape with ``c_out`` channels. Implemented directly: one ``np.roll`` per kernel
    tap. Raises :class:`ShapeError` when ``k > N`` or the channels do not match.

    Examples
    --------
    >>> K = np.zeros((1, 1, 3, 3)); K[0, 0, 2, 1] = 1.0      # tap at offset (+1, 0)
    >>> x = np.arange(9.0).reshape(1, 3, 3)
    >>> bool(np.array_equal(conv2d_circular(K, x)[0], np.roll(x[0], -1, axis=0)))
    True
    """
    K = as_array("K", K, ndim=4)
    x = as_array("x", x)
    if x.ndim not in (3, 4):
        raise ShapeError(f"x: expected shape (c_in, N, N) or (B, c_in, N, N), got {x.shape}")
    N = x.shape[-1]
    if x.shape[-2] != N:
        raise ShapeError(f"x: expected a square N x N grid, got shape {x.shape}")
    co, ci, kh, kw = K.shape
    if x.shape[-3] != ci:
        raise ShapeError(f"x: has {x.shape[-3]} channels (shape {x.shape}) but K expects c_in={ci} (shape {K.shape})")
    _as_kernel("K", K, N)
    oh, ow = (kh - 1) // 2, (kw - 1) // 2
    y = np.zeros(x.shape[:-3] + (co, N, N))
    for a in range(kh):
        for b in range(kw):
            # shifted[..., r, s] = x[..., (r + a − oh) mod N, (s + b − ow) mod N]
            shifted = np.roll(x, shift=(-(a - oh), -(b - ow)), axis=(-2, -1))
            y += np.einsum("oi,...ihw->...ohw", K[:, :, a, b], shifted)
    return y


def conv_matrix(K: Any, N: int) -> np.ndarray:
    r"""Dense block-doubly-block-circulant matrix of :func:`conv2d_circular` on an N×N grid.

    ``M ∈ R^{c_out N² × c_in N²}`` with ``M @ vec(x) == vec(conv2d_circular(K, x))`` (C-order
    over ``(c, N, N)``), built from the index formula
    ``M[(o, r, s), (i, u, v)] = K₀[o, i, (u − r) mod N, (v − s) mod N]`` (havens2023 eq. 24;
    ``K₀ = embed_kernel(K, N, origin="zero")``). Memory ``c_out c_in N⁴`` doubles: an oracle
    for tests and small problems."""
    N = _as_grid("N", N)
    K = _as_kernel("K", K, N)
    co, ci = K.shape[:2]
    K0 = _offset_kernel(K, N)
    idx = np.arange(N)
    D = (idx[None, :] - idx[:, None]) % N            # D[r, u] = (u − r) mod N
    # T[o, i, r, s, u, v] = K0[o, i, D[r, u], D[s, v]]
    T = K0[:, :, D[:, None, :, None], D[None, :, None, :]]
    return np.ascontiguousarray(T.transpose(0, 2, 3, 1, 4, 5)).reshape(co * N * N, ci * N * N)


def matrix_to_kernel(M: Any, c_out: int, c_in: int, N: int, *, tol: Optional[float] = None) -> np.ndarray:
    r"""Inverse of :func:`conv_matrix`: the full-support centered kernel ``(c_out, c_in, N, N)``.

    Reads the first row of every ``N² × N²`` block (the zero-origin kernel) and checks that ``M``
    *is* block-doubly-block-circulant: ``max|M − conv_matrix(K, N)| ≤ tol`` with default
    ``tol = c_in N² · u · max|M|`` (u = unit roundoff; the rounding of one dense product of such
    matrices), else :class:`DomainError` naming the residual."""
    c_out = _as_count("c_out", c_out)
    c_in = _as_count("c_in", c_in)
    N = _as_grid("N", N)
    n2 = N * N
    M = as_array("M", M, ndim=2)
    if M.shape != (c_out * n2, c_in * n2):
        raise ShapeError(f"M: expected shape ({c_out * n2}, {c_in * n2}) for c_out={c_out}, c_in={c_in}, N={N}, got {M.shape}")
    tol = _as_tol("tol", tol)
    K0 = M[0::n2, :].reshape(c_out, c_in, N, N)
    K = _center(K0)
    resid = float(np.max(np.abs(M - conv_matrix(K, N))))
    if tol is None:
        tol = c_in * n2 * (_EPS / 2) * float(np.max(np.abs(M)))
    if resid > tol:
        raise DomainError(f"M: shape {M.shape} is not block-doubly-block-circulant on a {N}x{N} grid "
                          f"(max deviation {resid:.3e} > tol {tol:.3e})")
    return K


# ----------------------------------------------------------------------------------------------
# Fourier domain
# ----------------------------------------------------------------------------------------------
def kernel_to_freq(K: Any, N: int) -> np.ndarray:
    r"""Per-frequency blocks ``Â(ω)``, shape ``(N, N, c_out, c_in)``, of ``conv2d_circular(K, ·)``.

    ``Â(ω) = Σ_{a,b} K[:, :, a, b] e^{+2πi(ω₁(a − o_h) + ω₂(b − o_w))/N}`` (= ``conj`` of the
    unnormalized ``fft2`` of the zero-origin kernel), so that with the unitary DFT
    ``x̂ = fft2(x, norm="ortho")`` one has ``ŷ[:, ω] = Â(ω) x̂[:, ω]`` for
    ``y = conv2d_circular(K, x)``. This is havens2023 eq. (25)'s ``D̂`` (block ``ω``), see
    ``docs/circulant.md`` for the reading of that equation."""
    N = _as_grid("N", N)
    K = _as_kernel("K", K, N)
    K0 = _offset_kernel(K, N)
    # ifft2 with norm="forward" is the *unscaled* sum with e^{+2πi ...}
    Khat = np.fft.ifft2(K0, axes=(-2, -1), norm="forward")
    return np.ascontiguousarray(Khat.transpose(2, 3, 0, 1))


def _neg_index(N: int) -> np.ndarray:
    return (-np.arange(N)) % N


def freq_hermitian_residual(Khat: Any) -> float:
    r"""``max_ω max|Â(−ω) − conj(Â(ω))|`` — zero iff ``Khat`` is the spectrum of a real kernel."""
    A = _as_freq("Khat", Khat)
    neg = _neg_index(A.shape[0])
    Aneg = A[neg[:, None], neg[None, :]]
    return float(np.max(np.abs(Aneg - np.conj(A))))


def _real_tol(A: np.ndarray) -> float:
    """Default tolerance for 'imaginary part is rounding': 64 N² u max|Â| (see freq_to_kernel)."""
    N = A.shape[0]
    return 64.0 * N * N * (_EPS / 2) * max(float(np.max(np.abs(A))), np.finfo(float).tiny)


def freq_to_kernel(Khat: Any, *, tol: Optional[float] = None) -> np.ndarray:
    r"""Real full-support centered kernel ``(c_out, c_in, N, N)`` with ``kernel_to_freq(·, N) == Khat``.

    ``K₀ = fft2(Â, norm="forward")`` (the inverse of the unscaled ``e^{+}`` sum), then centered.
    The result is real iff ``Khat`` is Hermitian-symmetric (``Â(−ω) = conj(Â(ω))``). The
    imaginary residue must satisfy ``max|Im K₀| ≤ tol``, default ``tol = 64 N² u max|Â|``
    (a γ_{N²}-type bound for the N²-term sum, with a factor 64 of slack for the per-frequency
    operations that produced ``Khat``); otherwise :class:`DomainError` — use
    :func:`freq_hermitian_residual` to diagnose."""
    A = _as_freq("Khat", Khat)
    tol = _as_tol("tol", tol)
    K0 = np.fft.fft2(A.transpose(2, 3, 0, 1), axes=(-2, -1), norm="forward")
    imag = float(np.max(np.abs(K0.imag)))
    if tol is None:
        tol = _real_tol(A)
    if imag > tol:
        raise DomainError(f"Khat: shape {A.shape} is not the spectrum of a real kernel "
                          f"(imaginary residue {imag:.3e} > tol {tol:.3e}; Hermitian residual "
                          f"{freq_hermitian_residual(A):.3e})")
    return _center(np.ascontiguousarray(K0.real))


def freq_apply_hat(Khat: Any, xhat: Any) -> np.ndarray:
    r"""Frequency-domain product ``ŷ[..., :, ω] = Â(ω) x̂[..., :, ω]`` for complex ``x̂`` of shape
    ``(c_in, N, N)`` or ``(B, c_in, N, N)``."""
    A = _as_freq("Khat", Khat)
    xh = np.asarray(xhat)
    if xh.dtype == object or xh.dtype.kind not in "biufc":
        raise DTypeError(f"xhat: dtype {xh.dtype} is not numeric")
    N, _, co, ci = A.shape
    if xh.ndim not in (3, 4) or xh.shape[-3:] != (ci, N, N):
        raise ShapeError(f"xhat: expected shape ({ci}, {N}, {N}) or (B, {ci}, {N}, {N}), got {xh.shape}")
    if not np.all(np.isfinite(xh)):
        raise NonFiniteError(f"xhat: non-finite entries in shape {xh.shape}")
    return np.einsum("hwoi,...ihw->...ohw", A, xh.astype(np.complex128))


def freq_apply(Khat: Any, x: Any, *, tol: Optional[float] = None) -> np.ndarray:
    r"""Apply the convolution given by its blocks: ``ifft2(Â · fft2(x, ortho), ortho)``.

    ``x`` is real ``(c_in, N, N)`` or ``(B, c_in, N, N)``; the result is real. ``Khat`` must be
    the spectrum of a real kernel: the imaginary part of the result must be at most
    ``tol`` (default ``64 N² u max|Â| · max|x̂|``·√c_in), else :class:`DomainError`."""
    A = _as_freq("Khat", Khat)
    N, _, co, ci = A.shape
    x = _as_image("x", x, ci, N)
    tol = _as_tol("tol", tol)
    xh = np.fft.fft2(x, axes=(-2, -1), norm="ortho")
    y = np.fft.ifft2(freq_apply_hat(A, xh), axes=(-2, -1), norm="ortho")
    imag = float(np.max(np.abs(y.imag)))
    if tol is None:
        tol = _real_tol(A) * math.sqrt(ci) * max(float(np.max(np.abs(xh))), np.finfo(float).tiny)
    if imag > tol:
        raise DomainError(f"Khat: shape {A.shape} is not the spectrum of a real kernel "
                          f"(imaginary part of the output {imag:.3e} > tol {tol:.3e})")
    return np.ascontiguousarray(y.real)


def freq_adjoint(Khat: Any) -> np.ndarray:
    r"""Blocks ``Â(ω)ᴴ`` (shape ``(N, N, c_in, c_out)``) of the transpose ``Mᵀ`` of the real
    matrix ``M`` (unitary similarity: ``Q Mᵀ Qᴴ = (Q M Qᴴ)ᴴ`` for real ``M``)."""
    A = _as_freq("Khat", Khat)
    return np.ascontiguousarray(np.conj(A.transpose(0, 1, 3, 2)))


def freq_matmul(A: Any, B: Any) -> np.ndarray:
    r"""Blocks ``Â(ω) B̂(ω)`` of the composition ``M_A M_B`` (first ``B``, then ``A``)."""
    A = _as_freq("A", A)
    B = _as_freq("B", B)
    if A.shape[0] != B.shape[0] or A.shape[3] != B.shape[2]:
        raise ShapeError(f"A, B: incompatible stacks {A.shape} @ {B.shape}")
    return A @ B


def freq_identity(N: int, c: int) -> np.ndarray:
    """Blocks of the identity on ``c`` channels: ``(N, N, c, c)``, ``I_c`` at every frequency."""
    N = _as_grid("N", N)
    c = _as_count("c", c)
    return np.broadcast_to(np.eye(c, dtype=np.complex128), (N, N, c, c)).copy()


def _svals(A: np.ndarray) -> np.ndarray:
    return np.linalg.svd(A, compute_uv=False)


def freq_solve(A: Any, B: Any) -> np.ndarray:
    r"""Blocks ``Â(ω)⁻¹ B̂(ω)`` of ``M_A⁻¹ M_B``.

    Raises :class:`DEQLinAlgError` if ``M_A`` is singular to working precision
    (``min_ω σ_min(Â(ω)) ≤ c u ‖M_A‖₂``) and warns :class:`IllConditionedWarning` when
    ``cond₂(M_A) = max_ω σ_max(Â(ω)) / min_ω σ_min(Â(ω)) > u^{-1/2}``."""
    A = _as_freq("A", A, square=True)
    B = _as_freq("B", B)
    if A.shape[0] != B.shape[0] or A.shape[3] != B.shape[2]:
        raise ShapeError(f"A, B: incompatible stacks for solve: {A.shape} \\ {B.shape}")
    c = A.shape[2]
    s = _svals(A)
    smax, smin = s[..., 0], s[..., -1]
    gmax = float(np.max(smax))                     # ‖M_A‖₂
    if gmax == 0.0 or np.any(smin <= c * (_EPS / 2) * gmax):
        w = np.unravel_index(int(np.argmin(smin)), smin.shape)
        raise DEQLinAlgError(f"A: block at frequency {tuple(int(i) for i in w)} is singular to working "
                             f"precision (σ_min={float(smin[w]):.3e}, ‖M_A‖₂={gmax:.3e}); M_A is not invertible")
    cond = gmax / float(np.min(smin))              # cond₂(M_A) = max_ω σ_max / min_ω σ_min
    if cond > 1.0 / math.sqrt(_EPS):
        warnings.warn(f"A: condition number {cond:.3e} of the circular convolution; the inverse may be inaccurate",
                      IllConditionedWarning, stacklevel=2)
    return np.linalg.solve(A, B)


def freq_inv(A: Any) -> np.ndarray:
    """Blocks ``Â(ω)⁻¹`` of ``M_A⁻¹`` (same checks as :func:`freq_solve`)."""
    A = _as_freq("A", A, square=True)
    return freq_solve(A, freq_identity(A.shape[0], A.shape[2]))


def freq_sym(A: Any) -> np.ndarray:
    r"""Blocks ``(Â(ω) + Â(ω)ᴴ)/2`` of the symmetric part ``(M + Mᵀ)/2``."""
    A = _as_freq("A", A, square=True)
    return 0.5 * (A + np.conj(A.transpose(0, 1, 3, 2)))


def _herm_check(name: str, A: np.ndarray, tol: Optional[float]) -> Tuple[np.ndarray, float]:
    """Check ``A(ω) = A(ω)ᴴ`` up to ``tol`` (default 64 c u max|A|); return the Hermitian part
    and ``max|A|``."""
    c = A.shape[2]
    amax = float(np.max(np.abs(A)))
    skew = float(np.max(np.abs(A - np.conj(A.transpose(0, 1, 3, 2)))))
    t = 64.0 * c * (_EPS / 2) * amax if tol is None else tol
    if skew > t:
        raise DomainError(f"{name}: shape {A.shape} is not Hermitian per frequency "
                          f"(max|A − Aᴴ| = {skew:.3e} > tol {t:.3e})")
    return 0.5 * (A + np.conj(A.transpose(0, 1, 3, 2))), amax


def freq_eigh(A: Any, *, tol: Optional[float] = None) -> Tuple[np.ndarray, np.ndarray]:
    r"""Per-frequency Hermitian eigendecomposition ``Â(ω) = V(ω) diag(w(ω)) V(ω)ᴴ``.

    Returns ``w`` (N, N, c) ascending (real) and ``V`` (N, N, c, c) unitary. The eigenvalues of
    the symmetric matrix ``M`` are the union over ``ω`` of ``w(ω)``. ``A`` must be Hermitian up
    to ``tol`` (default ``64 c u max|A|``), else :class:`DomainError`."""
    A = _as_freq("A", A, square=True)
    tol = _as_tol("tol", tol)
    H, _ = _herm_check("A", A, tol)
    w, V = np.linalg.eigh(H)
    return w, V


def freq_conjugate_pairs(N: int) -> "ConjugatePairs":
    r"""Frequencies grouped under ``ω ↦ −ω mod N`` (for a real kernel ``Â(−ω) = conj(Â(ω))``).

    Returns :class:`ConjugatePairs` with ``pairs`` (P, 2, 2) int: ``pairs[k, 0] = ω``,
    ``pairs[k, 1] = −ω mod N``, each unordered pair once with ``ω`` first in C order
    (``ω₁ N + ω₂`` smaller), and ``self_conjugate`` (S, 2): the ``ω ≡ −ω`` (components in
    ``{0, N/2}``). ``2P + S = N²``; ``S = 1`` for odd ``N`` and ``4`` for even ``N``. The
    self-conjugate blocks of a real kernel are real matrices."""
    N = _as_grid("N", N)
    neg = _neg_index(N)
    pairs, selfc = [], []
    for w1 in range(N):
        for w2 in range(N):
            m1, m2 = int(neg[w1]), int(neg[w2])
            f, fm = w1 * N + w2, m1 * N + m2
            if f == fm:
                selfc.append((w1, w2))
            elif f < fm:
                pairs.append(((w1, w2), (m1, m2)))
    return ConjugatePairs(np.array(pairs, dtype=np.int64).reshape(-1, 2, 2),
                          np.array(selfc, dtype=np.int64).reshape(-1, 2))


class ConjugatePairs(NamedTuple):
    """Result of :func:`freq_conjugate_pairs`."""

    pairs: np.ndarray
    self_conjugate: np.ndarray


def _psd_sqrt_blocks(H: np.ndarray, neg_tol: float) -> np.ndarray:
    """Hermitian PSD square root of a stack (…, c, c) via eigh with clipping of |λ| ≤ neg_tol."""
    w, V = np.linalg.eigh(H)
    if np.any(w < -neg_tol):
        i = np.unravel_index(int(np.argmin(w)), w.shape)
        raise DEQLinAlgError(f"A: not positive semidefinite: eigenvalue {float(w[i]):.3e} < −tol = {-neg_tol:.3e} "
                             f"(block index {tuple(int(j) for j in i[:-1])})")
    r = np.sqrt(np.clip(w, 0.0, None))
    return (V * r[..., None, :]) @ np.conj(np.swapaxes(V, -1, -2))


def freq_psd_sqrt(A: Any, *, tol: Optional[float] = None) -> np.ndarray:
    r"""Per-frequency Hermitian PSD square root ``S(ω) = Â(ω)^{1/2}`` (``S² = Â``, ``S = Sᴴ ⪰ 0``).

    Eigendecomposition with clipping: eigenvalues in ``[−tol, 0)`` are set to 0, an eigenvalue
    ``< −tol`` raises :class:`DEQLinAlgError` (the convolution is indefinite). Default
    ``tol = 64 c² u max_ω max|Â(ω)|`` (≥ the backward error of ``eigh``, since
    ``‖Â(ω)‖₂ ≤ c max|Â(ω)|``). Hermitian input is
    required (:class:`DomainError` otherwise; use :func:`freq_sym` for ``(M + Mᵀ)/2``).

    If ``A`` is the spectrum of a real kernel (Hermitian residual within
    :func:`freq_to_kernel`'s tolerance), the root is computed on one frequency of every conjugate
    pair and mirrored, ``S(−ω) = conj(S(ω))``, with real arithmetic at self-conjugate
    frequencies — so ``freq_to_kernel(S)`` is real exactly, even where ``A`` is singular and the
    square root amplifies rounding (√u). havens2023 §4 / App. E (LBEN initialization)."""
    A = _as_freq("A", A, square=True)
    tol = _as_tol("tol", tol)
    H, amax = _herm_check("A", A, tol)
    c, N = A.shape[2], A.shape[0]
    neg_tol = 64.0 * c * c * (_EPS / 2) * amax if tol is None else tol
    if freq_hermitian_residual(H) > _real_tol(H):
        return _psd_sqrt_blocks(H, neg_tol)
    cp = freq_conjugate_pairs(N)
    S = np.zeros_like(H)
    if len(cp.pairs):
        w = cp.pairs[:, 0]
        m = cp.pairs[:, 1]
        Sp = _psd_sqrt_blocks(H[w[:, 0], w[:, 1]], neg_tol)
        S[w[:, 0], w[:, 1]] = Sp
        S[m[:, 0], m[:, 1]] = np.conj(Sp)
    sc = cp.self_conjugate
    S[sc[:, 0], sc[:, 1]] = _psd_sqrt_blocks(H[sc[:, 0], sc[:, 1]].real, neg_tol)
    return S


def freq_psd_factor(A: Any, *, tol: Optional[float] = None) -> np.ndarray:
    r"""A factor ``V`` with ``V(ω)ᴴ V(ω) = Â(ω)`` at every frequency, i.e. ``M_Vᵀ M_V = M_A``.

    Returns the Hermitian square root (:func:`freq_psd_sqrt`): the choice that maps the spectrum
    of a real kernel to the spectrum of a real kernel (eigen-factors ``Λ^{1/2}Uᴴ`` carry arbitrary
    phases and do not). Never indefinite: raises :class:`DEQLinAlgError` instead. This is the
    ``V`` of the convolutional LBEN initialization (havens2023 §4, App. E:
    ``VᵀV = ½(M + Mᵀ)``)."""
    return freq_psd_sqrt(A, tol=tol)


def freq_norm2(Khat: Any) -> float:
    r"""``‖M‖₂ = max_ω σ_max(Â(ω))`` (floating-point value, relative error O(u log N); not a
    rigorous upper bound)."""
    A = _as_freq("Khat", Khat)
    return float(np.max(_svals(A)[..., 0]))


# ----------------------------------------------------------------------------------------------
# adjoint kernel
# ----------------------------------------------------------------------------------------------
def adjoint_kernel(K: Any, N: Optional[int] = None) -> np.ndarray:
    r"""Kernel of the transpose ``Mᵀ`` of ``M = conv_matrix(K, ·)``.

    ``Mᵀ`` is the cross-correlation with ``K'[i, o, ·]`` = ``K[o, i, ·]`` at the *negated*
    offsets (channels swapped, taps flipped). With ``N = None`` the smallest kernel in this
    module's layout: for odd ``k`` it is ``K.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]`` (same
    size); for even ``k`` the negated offsets ``[−k/2, k/2 − 1]`` do not fit the origin
    ``(k−1)//2``, so the result has size ``k + 1`` (origin ``k/2``, last row and column zero),
    valid on every grid ``N ≥ k + 1``. With an ``N`` given, the full-support
    centered ``(c_in, c_out, N, N)`` kernel on that grid (circular indexing, any ``k ≤ N``)."""
    if N is not None:
        N = _as_grid("N", N)
        K = _as_kernel("K", K, N)
        K0 = _offset_kernel(K, N)
        neg = _neg_index(N)
        K0t = K0.transpose(1, 0, 2, 3)[:, :, neg[:, None], neg[None, :]]
        return _center(np.ascontiguousarray(K0t))
    K = as_array("K", K, ndim=4)
    co, ci, kh, kw = K.shape
    out = np.zeros((ci, co, kh + (1 - kh % 2), kw + (1 - kw % 2)))
    oh, ow = (kh - 1) // 2, (kw - 1) // 2
    ph, pw = (out.shape[2] - 1) // 2, (out.shape[3] - 1) // 2
    for a in range(kh):
        for b in range(kw):
            # tap at offset (a − oh, b − ow) → tap at offset (oh − a, ow − b)
            out[:, :, (oh - a) + ph, (ow - b) + pw] = K[:, :, a, b].T
    return out


# ----------------------------------------------------------------------------------------------
# dense Fourier matrices (oracles, SDP reduction)
# ----------------------------------------------------------------------------------------------
def dft_matrix(N: int, c: int) -> np.ndarray:
    r"""Unitary ``Q = I_c ⊗ F ⊗ F`` (``c N² × c N²``), ``F[j, k] = e^{−2πi jk/N}/√N``.

    ``Q @ vec(x) == vec(fft2(x, norm="ortho"))`` (channel-major), and for ``M = conv_matrix(K, N)``
    ``Q_out M Q_inᴴ`` is the channel-major matrix of diagonal blocks ``diag_ω(Â(ω)[o, i])``;
    permuted with :func:`freq_major_permutation` it equals :func:`block_diagonal_from_freq`."""
    N = _as_grid("N", N)
    c = _as_count("c", c)
    j = np.arange(N)
    F = np.exp(-2j * np.pi * np.outer(j, j) / N) / math.sqrt(N)
    return np.kron(np.eye(c), np.kron(F, F))


def freq_major_permutation(N: int, c: int) -> np.ndarray:
    r"""Index array ``p`` (length ``c N²``): ``v_fm = v_cm[p]``, ``p[ω c + ch] = ch N² + ω``.

    ``v_cm`` is channel-major (``ch N² + ω``, ``ω = ω₁ N + ω₂``), ``v_fm`` frequency-major. The
    permutation matrix ``S = np.eye(c N²)[:, p]`` satisfies ``v_cm = S v_fm`` (the ``S_c`` of
    havens2023 eq. 25)."""
    N = _as_grid("N", N)
    c = _as_count("c", c)
    n2 = N * N
    return (np.arange(n2)[:, None] + n2 * np.arange(c)[None, :]).ravel()


def block_diagonal_from_freq(Khat: Any) -> np.ndarray:
    r"""Dense block-diagonal ``blkdiag(Â(ω₀), …, Â(ω_{N²−1}))`` (``c_out N² × c_in N²``),
    frequencies in C order ``ω = ω₁ N + ω₂``; equals
    ``(Q_out M Q_inᴴ)[p_out][:, p_in]`` with ``Q = dft_matrix``, ``p = freq_major_permutation``."""
    A = _as_freq("Khat", Khat)
    N, _, a, b = A.shape
    n2 = N * N
    D = np.zeros((n2 * a, n2 * b), dtype=np.complex128)
    blocks = A.reshape(n2, a, b)
    for w in range(n2):
        D[w * a:(w + 1) * a, w * b:(w + 1) * b] = blocks[w]
    return D
