r"""Circular-convolution SLL / CPL residual networks (havens2023 §4.1–4.2; Araujo et al. 2023).

A conv residual layer on ``N × N`` images with ``c`` state channels and ``k`` inner channels is

.. math:: x \leftarrow x - 2\,\mathcal K\,T^{-1}\sigma(\mathcal K^\top x + b),

where :math:`\mathcal K: \mathbb R^{kN^2} \to \mathbb R^{cN^2}` is the circular convolution with the
kernel ``K`` of shape ``(c, k, s, s)`` (:func:`deqtheory.circulant.conv2d_circular` convention,
PyTorch cross-correlation with circular padding), :math:`\mathcal K^\top` its adjoint
(:func:`deqtheory.circulant.adjoint_kernel`), ``b`` a per-channel bias ``(k,)`` and ``T`` a
positive per-channel diagonal ``(k,)`` (constant over pixels). Dense materialization: the
layer is :class:`deqtheory.explicit.ResidualLayer` with ``W = conv_matrix(K, N)`` (``(cN², kN²)``),
``T`` and ``b`` repeated over the ``N²`` pixels (channel-major vectors). (A PyTorch SLL conv
layer that applies ``conv2d(x, w)`` then ``conv_transpose2d(·, w)`` with ``w`` of shape
``(k, c, s, s)`` has ``K = adjoint_kernel(w)``.)

**Conv SLL T (derivation).** Dense SLL (havens2023 eq. 9) takes
:math:`T_{(i,u)} = \sum_{(j,u')} |\mathcal K^\top\mathcal K|_{(i,u),(j,u')}\,q_{(j,u')}/q_{(i,u)}`.
:math:`\mathcal K^\top\mathcal K` is the circular convolution with the *Gram kernel*
(zero-origin layout, index = offset mod N)

.. math:: \Gamma[i, j, \delta] = \sum_{o}\sum_{a} K_0[o, i, a]\,K_0[o, j, a + \delta],
          \qquad (\mathcal K^\top\mathcal K)_{(i,u),(j,u+\delta)} = \Gamma[i, j, \delta],

so every row of channel ``i`` contains each tap of each channel ``j`` exactly once. With ``q``
constant over pixels (one scalar per channel, as in SLL), the row sum is the same for every
pixel, and

.. math:: T_i = \sum_j \Big(\sum_{\delta} |\Gamma[i, j, \delta]|\Big)\, q_j / q_i ,

a per-channel diagonal equal to the dense eq. (9) of the materialized matrix (the Gram taps are
summed *after* folding offsets mod N, i.e. on the actual grid; the taps are accumulated from the
kernel's support in the spatial domain, so structurally zero taps stay exactly zero).
:math:`\mathcal K^\top\mathcal K \preceq T` by the same scaled-Gershgorin argument.

**Conv CPL T**: :math:`T = \|\mathcal K\|_2^2 I`, :math:`\|\mathcal K\|_2 = \max_\omega
\sigma_{\max}(\hat K(\omega))` (:func:`deqtheory.circulant.freq_norm2`, a floating-point value),
inflated by a relative ``1e-10`` so that :math:`\mathcal K^\top\mathcal K \preceq T` survives rounding
(not a proof; the LBEN conversion certifies its own Lipschitz bound).

**Conv AOL** (Prach & Lampert 2022; havens2023 App. D.1 for the dense eq. 8): the affine map
:math:`x \mapsto \mathcal M_{\tilde KD}\,x + b` with the free kernel :math:`\tilde K` ``(c_out, c_in, s, s)``
and the per-input-channel scaling (:func:`conv_aol_scaling`)

.. math:: D_a = \Big(\sum_b\sum_\delta |P[a, b, \delta]|\Big)^{-1/2}, \qquad
          P[a, b, \delta] = \sum_o\sum_t \tilde K[o, a, t + \delta]\,\tilde K[o, b, t]

(0 where the sum is 0), ``P`` the *non-circular* Gram kernel of :math:`\mathcal M_{\tilde K}^\top
\mathcal M_{\tilde K}` (offsets :math:`|\delta| < s`, taps outside the kernel are 0) — the formula of
``deqtheory_train.layers.explicit.aol_scaling_conv``. **Claim:** :math:`\|\mathcal M_{\tilde KD}\|_2
\le 1` on every grid ``N ≥ s`` (exact arithmetic). *Proof.* :math:`G = \mathcal M_{\tilde K}^\top
\mathcal M_{\tilde K}` is the circular convolution with the Gram kernel folded mod N, so the entries
of the row :math:`(a, u)` of ``G`` are sums of disjoint groups of the taps :math:`P[a, b, \cdot]`; by the
triangle inequality its absolute row sum is :math:`r_{(a,u)} \le s_a := \sum_{b,\delta}|P[a,b,\delta]|`.
Where :math:`s_a = 0` the input channel ``a`` of :math:`\tilde K` is zero, so dropping those columns
changes nothing. On the rest, :math:`D^{-2} - G` has diagonal :math:`s_a - G_{ii} \ge r_i - G_{ii} \ge
\sum_{j\ne i}|G_{ij}|`: it is diagonally dominant with a nonnegative diagonal, hence PSD, i.e.
:math:`G \preceq D^{-2}`, i.e. :math:`(\mathcal M_{\tilde K}D)^\top\mathcal M_{\tilde K}D \preceq I`. ∎
(In floating point ``D`` carries a relative error of a few ulps: the computed map is 1-Lipschitz up to
rounding, which is what :class:`ConvAOLLayer` claims and the tests check on the dense matrix.)

Batches: ``X`` is ``(B, c, N, N)`` or one image ``(c, N, N)``; float64; σ = ReLU.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from . import circulant as _circ
from . import explicit as _ex
from ._validate import as_array, as_positive_diagonal, as_vector
from .errors import DomainError, DTypeError, ShapeError
from .model import dimension
from .verified import UNIT_ROUNDOFF

__all__ = ["conv_gram_kernel", "conv_sll_T", "conv_cpl_T", "ConvResidualLayer", "conv_sll_layer",
           "conv_cpl_layer", "ConvResidualStack", "random_conv_sll_stack", "kernel_taps", "conv_aol_gram",
           "conv_aol_scaling", "ConvAOLLayer"]

_U = UNIT_ROUNDOFF


def _kernel(name: str, K: Any, N: int) -> np.ndarray:
    K = as_array(name, K, ndim=4)
    if K.shape[2] > N or K.shape[3] > N:
        raise ShapeError(f"{name}: kernel {K.shape} larger than the {N}x{N} grid")
    return K


def kernel_taps(K: Any, N: int) -> np.ndarray:
    """Offsets (mod N) of the taps of ``K`` (zero-origin): int array (t, 2) of every kernel
    position (structural support: all ``kh × kw`` positions, zero or not)."""
    K = _kernel("K", K, N)
    kh, kw = K.shape[2:]
    oh, ow = _circ.kernel_origin(kh), _circ.kernel_origin(kw)
    a = (np.arange(kh) - oh) % N
    b = (np.arange(kw) - ow) % N
    return np.stack(np.meshgrid(a, b, indexing="ij"), axis=-1).reshape(-1, 2)


def conv_gram_kernel(K: Any, N: int) -> np.ndarray:
    r"""Zero-origin Gram kernel :math:`\Gamma` (``(k, k, N, N)``) of :math:`\mathcal K^\top\mathcal K`:
    :math:`\Gamma[i, j, \delta] = \sum_o\sum_a K_0[o,i,a]K_0[o,j,a+\delta]` (offsets mod N), so that
    ``conv_matrix(embed-centered Γ)`` equals ``conv_matrix(K)ᵀ conv_matrix(K)``. Accumulated over
    pairs of kernel taps in the spatial domain (exact zeros stay zero)."""
    K = _kernel("K", K, N)
    K0 = _circ.embed_kernel(K, N, origin="zero")
    taps = kernel_taps(K, N)
    k = K.shape[1]
    Gm = np.zeros((k, k, N, N))
    for a in taps:
        Ka = K0[:, :, a[0], a[1]]
        for a2 in taps:
            d = ((a2[0] - a[0]) % N, (a2[1] - a[1]) % N)
            Gm[:, :, d[0], d[1]] += Ka.T @ K0[:, :, a2[0], a2[1]]
    return Gm


def conv_sll_T(K: Any, q: Any = None, N: Optional[int] = None) -> np.ndarray:
    r"""Per-channel SLL diagonal (module docstring): :math:`T_i = \sum_j \|\Gamma[i,j,\cdot]\|_1\,q_j/q_i`,
    ``(k,)``. ``N`` = grid size (required). Equals :func:`deqtheory.explicit.sll_T` of the dense
    ``conv_matrix(K, N)`` with ``q`` repeated over pixels (up to rounding)."""
    if N is None:
        raise DomainError("N: the grid size is required (the Gram taps fold mod N)")
    Gm = conv_gram_kernel(K, N)
    k = Gm.shape[0]
    q = np.ones(k) if q is None else as_positive_diagonal("q", q, n=k)
    A = np.abs(Gm).sum(axis=(2, 3))
    return (A @ q) / q


def conv_cpl_T(K: Any, N: int) -> np.ndarray:
    r"""Per-channel CPL diagonal :math:`\|\mathcal K\|_2^2(1 + 10^{-10})` repeated ``k`` times."""
    K = _kernel("K", K, N)
    nrm = _circ.freq_norm2(_circ.kernel_to_freq(K, N))
    if nrm == 0.0:
        raise DomainError(f"K: CPL needs a nonzero kernel, shape {K.shape}")
    return np.full(K.shape[1], nrm * nrm * (1 + 1e-10))


@dataclasses.dataclass(frozen=True)
class ConvResidualLayer:
    r"""One conv residual layer :math:`x \mapsto x - 2\mathcal KT^{-1}\sigma(\mathcal K^\top x + b)`.

    ``K`` (c, k, s, s), ``T`` (k,) positive, ``b`` (k,), ``N`` grid, ``kind`` (``"sll"``,
    ``"cpl"``, ``"custom"``). Construction checks :math:`\hat K(\omega)^H\hat K(\omega) \preceq
    \mathrm{diag}(T)` at every frequency up to ``64(k+1)u·max(max T, ‖K‖₂²)`` (estimate;
    :class:`DomainError` otherwise)."""

    K: np.ndarray
    T: np.ndarray
    b: Optional[np.ndarray]
    N: int
    kind: str = "custom"

    def __post_init__(self) -> None:
        N = int(self.N)
        if N < 1:
            raise DomainError(f"N: grid size must be >= 1, got {self.N}")
        K = _kernel("K", self.K, N)
        k = K.shape[1]
        T = as_positive_diagonal("T", self.T, n=k)
        b = np.zeros(k) if self.b is None else as_vector("b", self.b, n=k)
        Kh = _circ.kernel_to_freq(K, N)
        H = np.diag(T)[None, None] - np.conj(np.swapaxes(Kh, -1, -2)) @ Kh
        lam = float(np.min(np.linalg.eigvalsh(0.5 * (H + np.conj(np.swapaxes(H, -1, -2))))))
        tol = 64 * (k + 1) * _U * max(float(np.max(T)), _circ.freq_norm2(Kh) ** 2, 1e-300)
        if lam < -tol:
            raise DomainError(f"T: K^T K is not <= diag(T) (lambda_min ~ {lam:.3g}, kernel {K.shape}, N={N})")
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "N", N)

    c = dimension("K", 0, "State channels.")
    k = dimension("K", 1, "Inner (hidden) channels.")

    def hidden(self, X: np.ndarray) -> np.ndarray:
        r""":math:`\sigma(\mathcal K^\top x + b)` for a batch ``(B, c, N, N)``."""
        KT = _circ.adjoint_kernel(self.K, self.N)
        return np.maximum(_circ.conv2d_circular(KT, X) + self.b[:, None, None], 0.0)

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _images("X", X, self.c, self.N)
        H = self.hidden(Xb) / self.T[:, None, None]
        Y = Xb - 2.0 * _circ.conv2d_circular(self.K, H)
        return Y[0] if one else Y

    def to_dense(self) -> "_ex.ResidualLayer":
        """The dense :class:`deqtheory.explicit.ResidualLayer` (``W = conv_matrix(K, N)``)."""
        n2 = self.N * self.N
        return _ex.ResidualLayer(_circ.conv_matrix(self.K, self.N), np.repeat(self.T, n2), np.repeat(self.b, n2),
                                 kind=self.kind)


def _images(name: str, X: Any, c: int, N: int) -> Tuple[np.ndarray, bool]:
    X = as_array(name, X)
    if X.ndim == 3 and X.shape == (c, N, N):
        return X[None], True
    if X.ndim == 4 and X.shape[1:] == (c, N, N):
        return X, False
    raise ShapeError(f"{name}: expected shape ({c}, {N}, {N}) or (B, {c}, {N}, {N}), got {X.shape}")


def conv_sll_layer(K: Any, N: int, q: Any = None, b: Any = None) -> ConvResidualLayer:
    """Conv SLL layer with the per-channel ``T = conv_sll_T(K, q, N)``."""
    return ConvResidualLayer(K, conv_sll_T(K, q, N), b, N, kind="sll")


def conv_cpl_layer(K: Any, N: int, b: Any = None) -> ConvResidualLayer:
    """Conv CPL layer with ``T = ‖K‖₂²(1 + 1e-10)``."""
    return ConvResidualLayer(K, conv_cpl_T(K, N), b, N, kind="cpl")


@dataclasses.dataclass(frozen=True)
class ConvResidualStack:
    """Conv SLL/CPL network ``y = x_N`` (1-Lipschitz); layers share ``c`` and ``N``."""

    layers: Tuple[ConvResidualLayer, ...]

    def __post_init__(self) -> None:
        layers = _ex._seq("layers", self.layers)       # list/tuple → tuple (DTypeError otherwise)
        wrong = [type(l).__name__ for l in layers if not isinstance(l, ConvResidualLayer)]
        if wrong or not layers:
            raise (DTypeError if wrong else ShapeError)(
                f"layers: expected a non-empty list/tuple of ConvResidualLayer, got {wrong or 'no layer'}")
        key = [(l.c, l.N) for l in layers]
        if len(set(key)) > 1:
            raise ShapeError(f"layers: (c, N) of every layer must agree, got {key}")
        object.__setattr__(self, "layers", layers)

    c = property(lambda self: self.layers[0].c, doc="State channels.")
    N = property(lambda self: self.layers[0].N, doc="Grid size.")
    d = property(lambda self: self.c * self.N * self.N, doc="State dimension c N².")

    def lipschitz_bound(self) -> float:
        """The prescribed constant, 1 (every layer is 1-Lipschitz)."""
        return 1.0

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _images("X", X, self.c, self.N)
        for l in self.layers:
            Xb = l(Xb)
        return Xb[0] if one else Xb

    def to_dense(self) -> "_ex.ResidualStack":
        """Dense :class:`deqtheory.explicit.ResidualStack` acting on channel-major vectors (c N²)."""
        return _ex.ResidualStack(tuple(l.to_dense() for l in self.layers))


def random_conv_sll_stack(rng: np.random.Generator, c: int, widths: Sequence[int], N: int, *, s: int = 3,
                          kind: str = "sll", scale: float = 1.0) -> ConvResidualStack:
    """Random conv SLL (positive random q per channel) or CPL stack with ``s × s`` kernels."""
    layers = []
    for k in widths:
        K = scale * rng.normal(size=(int(c), int(k), s, s)) / s
        b = rng.normal(size=int(k))
        if kind == "sll":
            layers.append(conv_sll_layer(K, N, q=rng.uniform(0.3, 3.0, size=int(k)), b=b))
        elif kind == "cpl":
            layers.append(conv_cpl_layer(K, N, b=b))
        else:
            raise DomainError(f"kind: expected 'sll' or 'cpl', got {kind!r}")
    return ConvResidualStack(tuple(layers))


# ------------------------------------------------------------------------------------ AOL


def conv_aol_gram(K_tilde: Any) -> np.ndarray:
    r"""Non-circular Gram kernel of :math:`\mathcal M_{\tilde K}^\top\mathcal M_{\tilde K}`:
    ``P`` ``(c_in, c_in, 2s_h − 1, 2s_w − 1)`` (origin ``s − 1``), :math:`P[a, b, \delta + s - 1] =
    \sum_o\sum_t \tilde K[o, a, t + \delta]\tilde K[o, b, t]` (taps outside the kernel are 0; the
    ``F.conv2d(K̃ᵀ, K̃ᵀ, padding=s−1)`` of ``deqtheory_train.fft.gram_kernel(side="in")``)."""
    K = as_array("K_tilde", K_tilde, ndim=4)
    kh, kw = K.shape[2:]
    P = np.zeros((K.shape[1], K.shape[1], 2 * kh - 1, 2 * kw - 1))
    for dh in range(1 - kh, kh):
        th = slice(max(0, -dh), min(kh, kh - dh))
        sh = slice(th.start + dh, th.stop + dh)
        for dw in range(1 - kw, kw):
            tw = slice(max(0, -dw), min(kw, kw - dw))
            sw = slice(tw.start + dw, tw.stop + dw)
            P[:, :, dh + kh - 1, dw + kw - 1] = np.einsum("oaij,obij->ab", K[:, :, sh, sw], K[:, :, th, tw])
    return P


def conv_aol_scaling(K_tilde: Any) -> np.ndarray:
    r"""Conv AOL scaling (module docstring): :math:`D_a = (\sum_b\sum_\delta|P[a,b,\delta]|)^{-1/2}`
    per input channel, 0 where the sum is 0 (``P`` = :func:`conv_aol_gram`); ``(c_in,)``. The conv
    counterpart of :func:`deqtheory.explicit.aol_scaling`; valid on every grid ``N ≥ s``."""
    s = np.abs(conv_aol_gram(K_tilde)).sum(axis=(1, 2, 3))
    out = np.zeros_like(s)
    pos = s > 0
    out[pos] = 1.0 / np.sqrt(s[pos])
    return out


@dataclasses.dataclass(frozen=True)
class ConvAOLLayer:
    r"""Circular-conv AOL layer :math:`x \mapsto \mathcal M_{\tilde KD}x + b` on ``N × N`` images
    (module docstring; no activation). ``K`` = the free kernel :math:`\tilde K` ``(c_out, c_in, s, s)``,
    ``b`` ``(c_out,)`` (None → 0), ``N`` the grid. Prescribed Lipschitz constant 1 (proved in the module
    docstring, up to rounding of ``D``)."""

    K: np.ndarray
    b: Optional[np.ndarray]
    N: int

    def __post_init__(self) -> None:
        N = int(self.N)
        if N < 1:
            raise DomainError(f"N: grid size must be >= 1, got {self.N}")
        K = _kernel("K", self.K, N)
        b = np.zeros(K.shape[0]) if self.b is None else as_vector("b", self.b, n=K.shape[0])
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "N", N)

    c_out = dimension("K", 0, "Output channels.")
    c_in = dimension("K", 1, "Input channels.")

    @property
    def D(self) -> np.ndarray:
        """The AOL scaling :func:`conv_aol_scaling` ``(c_in,)``."""
        return conv_aol_scaling(self.K)

    @property
    def effective_kernel(self) -> np.ndarray:
        r""":math:`\tilde KD` (input channel ``a`` scaled by ``D_a``)."""
        return self.K * self.D[None, :, None, None]

    def lipschitz_bound(self) -> float:
        """The prescribed constant, 1."""
        return 1.0

    def __call__(self, X: Any) -> np.ndarray:
        Xb, one = _images("X", X, self.c_in, self.N)
        Y = _circ.conv2d_circular(self.effective_kernel, Xb) + self.b[:, None, None]
        return Y[0] if one else Y

    def to_dense(self) -> Tuple[np.ndarray, np.ndarray]:
        r"""``(M, b)``: :math:`M = \mathcal M_{\tilde KD}` ``(c_out N², c_in N²)`` (channel-major) and the
        bias repeated over pixels, so that ``y.ravel() = M x.ravel() + b`` per image."""
        return _circ.conv_matrix(self.effective_kernel, self.N), np.repeat(self.b, self.N * self.N)

    def to_deq(self) -> "_ex.DEQForm":
        r"""The exact DEQ embedding of the affine map: :math:`W = 0`, :math:`U = M`, ``b``, every
        coordinate linear (``identity_mask`` all True), :math:`G = I`, :math:`b_y = 0` — so
        :math:`z = Mx + b = y`."""
        M, b = self.to_dense()
        n = M.shape[0]
        return _ex.DEQForm(np.zeros((n, n)), M, b, np.eye(n), np.zeros(n), np.ones(n, dtype=bool), ((0, n),),
                           source="conv_aol")
