r"""Explicit 1-Lipschitz layers in torch (dense and circular-conv), exported to :mod:`deqtheory.explicit`.

Families (havens2023 §2.4; references: Araujo et al. 2023 (SLL), Meunier et al. 2022 (CPL),
Prach & Lampert 2022 (AOL), Wang & Manchester 2023 (Sandwich)). σ = ReLU. Batches are rows
(dense: ``x`` is ``(B, d)``; conv: ``(B, c, N, N)``). Every module follows the device and dtype of
its parameters (create with ``dtype=``/``device=``; no ``.cuda()``), float32 or float64.

Residual layers (SLL, CPL), 1-Lipschitz whenever :math:`W^\top W \preceq T` ([2] Thm 3):

.. math:: x \mapsto x - 2\,W T^{-1}\sigma(W^\top x + b).

* **dense** — ``W`` is ``(d, k)`` (the layer *reads* the state through ``Wᵀ``, as
  :class:`deqtheory.explicit.ResidualLayer`).
* **conv** — ``Wᵀ = M_K`` (circular cross-correlation with kernel ``K`` of shape
  ``(h, c, k, k)``, :func:`deqtheory_train.fft.conv2d_circular`), ``W = M_Kᵀ`` (its adjoint), ``T``
  and ``b`` per hidden *channel* (constant over pixels), i.e. the dense ``W = conv_matrix(K, N).T``,
  ``T = repeat(T_a, N²)``, ``b = repeat(b_a, N²)`` (channel-major).

**SLL T** (havens2023 eq. 9): dense :math:`T_i = \sum_j |W^\top W|_{ij} q_j/q_i`, ``q = exp(log_q)``
trainable. **Conv SLL T**: with the non-circular Gram kernel
:math:`P = ` :func:`deqtheory_train.fft.gram_kernel` ``(K)`` (``(h, h, 2k−1, 2k−1)``, the taps of
:math:`M_KM_K^\top = W^\top W`),

.. math:: T_a = \sum_{b=1}^{h}\sum_{\delta} |P_{ab}(\delta)|\,\frac{q_b}{q_a}.

*Proof* (any grid ``N ≥ k``): on the grid, :math:`G = W^\top W` has entries
:math:`G_{(a,r),(b,r+\delta)} = g_{ab}(\delta)` where :math:`g_{ab}(\delta) = \sum_{\delta' \equiv \delta
\ (\mathrm{mod}\ N)} P_{ab}(\delta')` (aliasing when ``N < 2k − 1``). With :math:`Q = \mathrm{diag}(q_a)
\otimes I_{N^2}`, row ``(a, r)`` of :math:`Q^{-1}|G|Q` sums to :math:`\sum_b\sum_\delta |g_{ab}(\delta)|q_b/q_a
\le T_a` (triangle inequality), so :math:`Q^{-1}(\mathrm{diag}(T) - G)Q` is diagonally dominant with
nonnegative diagonal ⇒ :math:`G \preceq \mathrm{diag}(T)` (scaled Gershgorin). Equal to the dense
eq. 9 T of the materialized ``W`` when ``N ≥ 2k − 1`` (no aliasing), larger (still valid) otherwise
— both checked in ``tests/test_train_explicit.py``.

**CPL T** = :math:`\|W\|_2^2 I`. Training (``self.training``): one power-iteration step per forward
with a persistent vector (as spectral normalization; the estimate is ≤ the truth, so the training
layer is only approximately 1-Lipschitz). Eval: the exact value (dense: ``matrix_norm(ord=2)``;
conv: ``max_ω σ_max(Â(ω))`` on the *input's* grid, :func:`deqtheory_train.fft.freq_norm2` — exact only
on that grid). Export uses :func:`deqtheory.explicit.cpl_layer`, whose ``T`` is a *proved* upper
bound (:func:`deqtheory.explicit.norm2_upper`).

**AOL** (havens2023 eq. 8): :math:`W = \tilde WD`, :math:`D_{ii} = (\sum_j|\tilde W^\top\tilde W|_{ij})^{-1/2}`
(0 where the sum is 0, footnote 2). Conv AOL: :math:`D_{ii} = (\sum_j\sum_\delta|P^{\rm in}_{ij}(\delta)|)^{-1/2}`
per input channel with :math:`P^{\rm in}` = ``gram_kernel(K, side="in")`` (taps of :math:`M_K^\top M_K`);
same Gershgorin/aliasing argument ⇒ :math:`\|M_{KD}\|_2 \le 1` on every grid ``N ≥ k``.

**Sandwich** (dense): ``[A B]`` from the Cayley transform of free ``X (p, p)``, ``Y (d_in, p)``
(:func:`deqtheory.explicit.cayley_stiefel`, :math:`AA^\top + BB^\top = I`), Φ = ``exp(log_phi)``,
:math:`x \mapsto \sqrt2 A^\top\Phi\sigma(\sqrt2\Phi^{-1}Bx + b)`; the output layer
:math:`y = \sqrt L B_{\rm out}x + b_{\rm out}` takes ``B_out`` from a Cayley transform too (‖B_out‖₂ ≤ 1).

Export: :func:`deqtheory_train.export.to_deqtheory` gives the :mod:`deqtheory.explicit` /
:mod:`deqtheory.explicit_conv` reference object (float64) built from the parameters (the reference
recomputes ``T``, ``D``, the Cayley factors itself); a layer list becomes one residual stack.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn

from deqtheory.errors import DomainError, ShapeError

from .. import fft as _fft

__all__ = [
    "sll_T_dense", "sll_T_conv", "aol_scaling_dense", "aol_scaling_conv", "cayley", "safe_inv",
    "SLLLinear", "CPLLinear", "SLLConv2d", "CPLConv2d", "AOLLinear", "AOLConv2d", "AOLMLP",
    "SandwichMLP",
]


def safe_inv(t: torch.Tensor) -> torch.Tensor:
    """``1/t`` where ``t > 0``, 0 elsewhere (a zero column of ``W`` has ``T_i = 0`` and contributes
    nothing; the numpy reference rejects it at export)."""
    pos = t > 0
    return torch.where(pos, 1.0 / torch.where(pos, t, torch.ones_like(t)), torch.zeros_like(t))


def sll_T_dense(W: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""havens2023 eq. 9: :math:`T_i = \sum_j |W^\top W|_{ij} q_j/q_i` (``W`` (d, k), ``q`` (k,) > 0)."""
    return (torch.abs(W.T @ W) @ q) / q


def sll_T_conv(K: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""Conv SLL: :math:`T_a = \sum_b\sum_\delta |P_{ab}(\delta)| q_b/q_a`, ``P = gram_kernel(K)``
    (``K`` (h, c, k, k) reads the state; ``q`` (h,) > 0). Valid on every grid ``N ≥ k``."""
    P = torch.abs(_fft.gram_kernel(K, side="out")).sum(dim=(-2, -1))
    return (P @ q) / q


def aol_scaling_dense(Wt: torch.Tensor) -> torch.Tensor:
    r"""havens2023 eq. 8: :math:`D_{ii} = (\sum_j |\tilde W^\top\tilde W|_{ij})^{-1/2}` (0 for a zero sum)."""
    s = torch.abs(Wt.T @ Wt).sum(dim=1)
    return torch.where(s > 0, torch.rsqrt(torch.where(s > 0, s, torch.ones_like(s))), torch.zeros_like(s))


def aol_scaling_conv(Kt: torch.Tensor) -> torch.Tensor:
    r"""Conv AOL: :math:`D_{ii} = (\sum_j\sum_\delta |P^{\rm in}_{ij}(\delta)|)^{-1/2}` per input channel."""
    s = torch.abs(_fft.gram_kernel(Kt, side="in")).sum(dim=(1, 2, 3))
    return torch.where(s > 0, torch.rsqrt(torch.where(s > 0, s, torch.ones_like(s))), torch.zeros_like(s))


def cayley(X: torch.Tensor, Y: torch.Tensor):
    r"""Torch :func:`deqtheory.explicit.cayley_stiefel`: ``Z = X − Xᵀ + YᵀY``,
    ``A = ((I+Z)⁻¹(I−Z))ᵀ`` (p, p), ``B = (−2Y(I+Z)⁻¹)ᵀ`` (p, m); ``AAᵀ + BBᵀ = I``."""
    p = X.shape[0]
    I = torch.eye(p, dtype=X.dtype, device=X.device)
    Z = X - X.T + Y.T @ Y
    IZ = I + Z
    top = torch.linalg.solve(IZ, I - Z)
    bot = -2.0 * torch.linalg.solve(IZ.T, Y.T).T
    return top.T, bot.T


def _fk(dtype, device):
    return {"dtype": dtype if dtype is not None else torch.get_default_dtype(), "device": device}


def _bias_init(b: torch.Tensor, fan_in: int) -> None:
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    nn.init.uniform_(b, -bound, bound)


# ------------------------------------------------------------------------------------ residual


class SLLLinear(nn.Module):
    r"""Dense SLL layer :math:`x - 2WT^{-1}\sigma(W^\top x + b)`, ``T`` of eq. 9 with trainable ``q``.

    Parameters: ``weight`` ``W`` (d, k), ``log_q`` (k,) (``q = exp(log_q)``), ``bias`` (k,)."""

    kind = "sll"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, d: int, k: int, *, dtype=None, device=None) -> None:
        super().__init__()
        fk = _fk(dtype, device)
        self.weight = nn.Parameter(torch.empty(d, k, **fk))
        self.log_q = nn.Parameter(torch.zeros(k, **fk))
        self.bias = nn.Parameter(torch.empty(k, **fk))
        nn.init.xavier_normal_(self.weight)
        _bias_init(self.bias, d)

    def T(self) -> torch.Tensor:
        return sll_T_dense(self.weight, torch.exp(self.log_q))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(x @ self.weight + self.bias)
        return x - 2.0 * (h * safe_inv(self.T())) @ self.weight.T


class CPLLinear(nn.Module):
    r"""Dense CPL layer :math:`x - 2W\sigma(W^\top x + b)/\|W\|_2^2`.

    Training: one power-iteration step per forward (buffer ``u``, no gradient through it). Eval:
    exact ``‖W‖₂`` (``torch.linalg.matrix_norm(ord=2)``). Export: :func:`deqtheory.explicit.cpl_layer`
    (proved upper bound on ``‖W‖₂²``)."""

    kind = "cpl"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, d: int, k: int, *, n_power_iter: int = 1, dtype=None, device=None) -> None:
        super().__init__()
        fk = _fk(dtype, device)
        self.weight = nn.Parameter(torch.empty(d, k, **fk))
        self.bias = nn.Parameter(torch.empty(k, **fk))
        nn.init.xavier_normal_(self.weight)
        _bias_init(self.bias, d)
        self.n_power_iter = int(n_power_iter)
        u = torch.randn(d, **fk)
        self.register_buffer("u", u / u.norm())

    def sigma(self) -> torch.Tensor:
        """``‖W‖₂``: power-iteration estimate in training, exact in eval."""
        W = self.weight
        if not self.training:
            return torch.linalg.matrix_norm(W, ord=2)
        with torch.no_grad():
            u = self.u
            for _ in range(max(self.n_power_iter, 1)):
                v = W.T @ u
                v = v / v.norm().clamp_min(1e-30)
                u = W @ v
                u = u / u.norm().clamp_min(1e-30)
            self.u.copy_(u)
        return u @ W @ v

    def T(self) -> torch.Tensor:
        return (self.sigma() ** 2).expand(self.weight.shape[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(x @ self.weight + self.bias)
        return x - 2.0 * (h @ self.weight.T) / self.sigma() ** 2


class SLLConv2d(nn.Module):
    r"""Circular-conv SLL layer :math:`x - 2M_K^\top T^{-1}\sigma(M_Kx + b)` (T per hidden channel,
    :func:`sll_T_conv`). ``kernel`` (h, c, k, k), ``log_q`` (h,), ``bias`` (h,). Input ``(B, c, N, N)``."""

    kind = "conv_sll"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, channels: int, hidden: int, kernel_size: int = 3, *, dtype=None, device=None) -> None:
        super().__init__()
        fk = _fk(dtype, device)
        self.kernel = nn.Parameter(torch.empty(hidden, channels, kernel_size, kernel_size, **fk))
        self.log_q = nn.Parameter(torch.zeros(hidden, **fk))
        self.bias = nn.Parameter(torch.empty(hidden, **fk))
        nn.init.xavier_normal_(self.kernel)
        _bias_init(self.bias, channels * kernel_size * kernel_size)

    def T(self) -> torch.Tensor:
        return sll_T_conv(self.kernel, torch.exp(self.log_q))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(_fft.conv2d_circular(self.kernel, x, self.bias))
        return x - 2.0 * _fft.conv2d_circular_adjoint(self.kernel, h * safe_inv(self.T())[:, None, None])


class CPLConv2d(nn.Module):
    r"""Circular-conv CPL layer :math:`x - 2M_K^\top\sigma(M_Kx + b)/\|M_K\|_2^2`, the norm on the input's grid.

    Training: one power-iteration step per forward with a persistent ``(c, N, N)`` vector (reset when
    the grid changes). Eval: exact ``max_ω σ_max(Â(ω))`` (FFT, that grid only)."""

    kind = "conv_cpl"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, channels: int, hidden: int, kernel_size: int = 3, *, n_power_iter: int = 1,
                 dtype=None, device=None) -> None:
        super().__init__()
        fk = _fk(dtype, device)
        self.kernel = nn.Parameter(torch.empty(hidden, channels, kernel_size, kernel_size, **fk))
        self.bias = nn.Parameter(torch.empty(hidden, **fk))
        nn.init.xavier_normal_(self.kernel)
        _bias_init(self.bias, channels * kernel_size * kernel_size)
        self.n_power_iter = int(n_power_iter)
        self._u: Optional[torch.Tensor] = None

    def sigma(self, N: int) -> torch.Tensor:
        K = self.kernel
        if not self.training:
            return _fft.freq_norm2(_fft.kernel_to_freq(K, N))
        c = K.shape[1]
        with torch.no_grad():
            u = self._u
            if u is None or u.shape != (c, N, N) or u.dtype != K.dtype or u.device != K.device:
                u = torch.randn(c, N, N, dtype=K.dtype, device=K.device)
            for _ in range(max(self.n_power_iter, 1)):
                u = u / u.norm().clamp_min(1e-30)
                v = _fft.conv2d_circular(K, u)
                v = v / v.norm().clamp_min(1e-30)
                u = _fft.conv2d_circular_adjoint(K, v)
            u = u / u.norm().clamp_min(1e-30)
            self._u = u
        return (v * _fft.conv2d_circular(K, u)).sum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N = x.shape[-1]
        h = torch.relu(_fft.conv2d_circular(self.kernel, x, self.bias))
        return x - 2.0 * _fft.conv2d_circular_adjoint(self.kernel, h) / self.sigma(N) ** 2


# ------------------------------------------------------------------------------------ AOL


class AOLLinear(nn.Module):
    r"""AOL affine map :math:`x \mapsto \tilde WDx + b` (``weight`` = :math:`\tilde W` (out, in), eq. 8);
    ``‖W̃D‖₂ ≤ 1``. No activation (compose with ReLU, or use :class:`AOLMLP`)."""

    def __init__(self, d_in: int, d_out: int, *, bias: bool = True, dtype=None, device=None) -> None:
        super().__init__()
        fk = _fk(dtype, device)
        self.weight = nn.Parameter(torch.empty(d_out, d_in, **fk))
        nn.init.xavier_normal_(self.weight)
        self.bias = nn.Parameter(torch.empty(d_out, **fk)) if bias else None
        if bias:
            _bias_init(self.bias, d_in)

    def effective_weight(self) -> torch.Tensor:
        return self.weight * aol_scaling_dense(self.weight)[None, :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.effective_weight().T
        return y if self.bias is None else y + self.bias


class AOLConv2d(nn.Module):
    r"""Circular-conv AOL :math:`x \mapsto M_{\tilde KD}x + b` (:func:`aol_scaling_conv`), ‖·‖₂ ≤ 1 on
    every grid ``N ≥ k``. ``weight`` (c_out, c_in, k, k)."""

    kind = "conv_aol"     # the file kind of deqtheory_train.export.to_deqtheory(module, N=...)

    def __init__(self, c_in: int, c_out: int, kernel_size: int = 3, *, bias: bool = True, dtype=None,
                 device=None) -> None:
        super().__init__()
        fk = _fk(dtype, device)
        self.weight = nn.Parameter(torch.empty(c_out, c_in, kernel_size, kernel_size, **fk))
        nn.init.xavier_normal_(self.weight)
        self.bias = nn.Parameter(torch.empty(c_out, **fk)) if bias else None
        if bias:
            _bias_init(self.bias, c_in * kernel_size * kernel_size)

    def effective_kernel(self) -> torch.Tensor:
        return self.weight * aol_scaling_conv(self.weight)[None, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _fft.conv2d_circular(self.effective_kernel(), x, self.bias)


class AOLMLP(nn.Module):
    r"""AOL network (havens2023 App. D.1): :math:`x_{j+1} = \sigma(\tilde W_jD_jx_j + b_j)`,
    :math:`f = \tilde W_lD_lx_l + b_l`; ``dims = (d_in, h_1, …, h_l, p_out)``, l ≥ 1."""

    kind = "aol"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, dims: Sequence[int], *, dtype=None, device=None) -> None:
        super().__init__()
        dims = [int(v) for v in dims]
        if len(dims) < 3:
            raise ShapeError(f"dims: need (d_in, h_1, ..., p_out) with at least one hidden layer, got {dims}")
        self.layers = nn.ModuleList(AOLLinear(dims[i], dims[i + 1], dtype=dtype, device=device)
                                    for i in range(len(dims) - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for l in self.layers[:-1]:
            x = torch.relu(l(x))
        return self.layers[-1](x)


# ------------------------------------------------------------------------------------ Sandwich


class SandwichMLP(nn.Module):
    r"""Sandwich network (havens2023 §2.4 / App. D.2) with prescribed Lipschitz constant ``L``.

    Layer n: free ``X[n]`` (p_n, p_n), ``Y[n]`` (d_n, p_n) → ``(A_n, B_n) = cayley(X, Y)``,
    ``log_phi[n]`` (p_n,), ``b[n]`` (p_n,); ``d_{n+1} = p_n = widths[n]``. Output: ``(_, B_out) =
    cayley(X_out (p_out, p_out), Y_out (d_N, p_out))`` so ``‖B_out‖₂ ≤ 1``, bias ``b_out``.
    :math:`x_0 = \sqrt Lx`, :math:`x_{n+1} = \sqrt2A_n^\top\Phi_n\sigma(\sqrt2\Phi_n^{-1}B_nx_n + b_n)`,
    :math:`y = \sqrt LB_{\rm out}x_N + b_{\rm out}`."""

    kind = "sandwich"          # the file kind of deqtheory_train.export.to_deqtheory(module)

    def __init__(self, d: int, widths: Sequence[int], p_out: int, *, L: float = 1.0, dtype=None,
                 device=None) -> None:
        super().__init__()
        fk = _fk(dtype, device)
        self.L = float(L)
        if not self.L > 0:
            raise DomainError(f"L: must be positive, got {L}")
        self.X, self.Y = nn.ParameterList(), nn.ParameterList()
        self.log_phi, self.b = nn.ParameterList(), nn.ParameterList()
        din = int(d)
        for p in widths:
            p = int(p)
            self.X.append(nn.Parameter(torch.randn(p, p, **fk) / math.sqrt(p)))
            self.Y.append(nn.Parameter(torch.randn(din, p, **fk) / math.sqrt(p)))
            self.log_phi.append(nn.Parameter(torch.zeros(p, **fk)))
            self.b.append(nn.Parameter(torch.zeros(p, **fk)))
            din = p
        self.X_out = nn.Parameter(torch.randn(p_out, p_out, **fk) / math.sqrt(p_out))
        self.Y_out = nn.Parameter(torch.randn(din, p_out, **fk) / math.sqrt(p_out))
        self.b_out = nn.Parameter(torch.zeros(p_out, **fk))

    def factors(self):
        AB = [cayley(X, Y) for X, Y in zip(self.X, self.Y)]
        return AB, cayley(self.X_out, self.Y_out)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        AB, B_out = self.factors()
        s2 = math.sqrt(2.0)
        x = math.sqrt(self.L) * x
        for (A, B), lp, b in zip(AB, self.log_phi, self.b):
            phi = torch.exp(lp)
            h = torch.relu(s2 * (x @ B.T) / phi + b)
            x = s2 * (h * phi) @ A
        return math.sqrt(self.L) * (x @ B_out.T) + self.b_out

