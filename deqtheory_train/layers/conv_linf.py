r"""Convolutional IBP-MonDEQ (wei2022 eq. 3.4 / 3.7 with circular convolutions and per-channel D).

State ``z`` (B, c, N, N), input ``x`` (B, c_in, N, N); every linear map is a circular
cross-correlation (:func:`deqtheory_train.fft.conv2d_circular`, origin ``(k−1)//2``):

.. math:: z = \mathrm{ReLU}(W z + U x + b), \qquad W = \Gamma D^{-1/2} M D^{-1/2} \Gamma^{-1}.

**Kernel formula** (the torch mirror of :mod:`deqtheory.conv_ibp`, same float operations in the same
order): with the tap mass :math:`A_M[o, i] = \sum_{a,b} |M[o, i, a, b]|`,

.. math:: r_c = \tfrac12\Big(\sum_i A_M[c, i] + \sum_o A_M[o, c]\Big), \quad
          d = \frac{r}{1-m} + e^{\texttt{log\_slack}}, \quad s = 1/\sqrt d, \quad
          W[o, i] = (s_o M[o, i])\, s_i

(taps broadcast), and for the Γ variant :math:`W[o, i] = \Gamma_o W'[o, i] / \Gamma_i`,
:math:`\Gamma = \frac{\gamma-1}\gamma\mathrm{sigmoid}(\beta) + \frac1\gamma` (κ(Γ) < γ, wei2022 §4). Because the
circular conv matrix of a kernel with ``k ≤ N`` has, per channel pair, exactly the taps of the kernel
in every row and column, :math:`r_c` is the row/column mass of every pixel of channel ``c``: ``D`` is
per channel and the matrix form is wei2022 Thm 3.1 (Thm 3.3) for the materialised matrix, i.e.
:math:`\lambda_{\max}(\mathrm{sym}|W|) < 1 - m` (tests: ``tests/test_conv_linf_layer.py``).

**Lift.** The IBP fixed point of wei2022 (3.3)/(3.6) is the DEQ ẑ = ReLU(Ŵẑ + [v̄; v̲]) on
``[z̄; z̲]`` (2c channels) with Ŵ = ``[[W₊, W₋], [W₋, W₊]]``; since ``k ≤ N`` the positive/negative
parts of the matrix are the convs with the tapwise parts ``K₊``, ``K₋`` of the W kernel
(:meth:`ConvIBPMonDEQ.lift_kernel`). With ``T = [[I, I], [I, −I]]/√2`` (orthogonal, symmetric),
``T Ŵ T = blkdiag(W, |W|)`` (``K₊ + K₋ = K``, ``K₊ − K₋ = |K|``): the lifted operator is applied as
``[Kμ + |K|ρ; Kμ − |K|ρ]`` with μ, ρ the centre and radius, and its PR resolvent
``(I + α(I − Ŵ))⁻¹ = T blkdiag(R_W, R_|W|) T`` needs two c × c inverses per frequency instead of one
2c × 2c (4× cheaper). Both W and |W| are m-monotone (``λ_max(sym W) ≤ λ_max(sym|W|) < 1 − m``), so
Peaceman–Rachford converges for every α (the default solver of both solves).

Every tensor follows the parameters' device and dtype; nothing is moved.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Tuple

import numpy as np
import torch
from torch import nn

from deqtheory.errors import DomainError, ShapeError

from .. import fft as _fft
from ..parametrize import m_warmup
from ..solvers import DEQInfo, LinearOperator, deq_solve
from .conv import FreqConvOperator, _freq_values, _m_L, _resolvent_from_freq, kernel_operator

__all__ = ["ConvIBPMonDEQ", "LiftOperator", "conv_ibp_weight_kernel", "ibp_gamma", "ibp_lift_kernel"]

_SOLVER_DEFAULTS = {"f_solver": "pr", "f_tol": 1e-5, "f_max_iter": 500, "f_stop_mode": "rel", "grad": "implicit"}
_LIFT_DEFAULTS = {"f_solver": "pr", "f_tol": 1e-4, "f_max_iter": 300, "f_stop_mode": "rel", "grad": "implicit"}


# -- numpy's float64 operations, reproduced in torch (so that weight_kernel equals deqtheory's kernel bit for bit)

def _np_sum_last(a: torch.Tensor) -> torch.Tensor:
    """Sum over the last dim in the order of numpy's pairwise summation of a contiguous run (``n < 8``:
    sequential; ``n ≤ 128``: eight strided accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)),
    then the remainder; longer: split at a multiple of 8 below n/2)."""
    n = a.shape[-1]
    if n < 8:
        res = a[..., 0]
        for i in range(1, n):
            res = res + a[..., i]
        return res
    if n <= 128:
        r = [a[..., j] for j in range(8)]
        i = 8
        while i < n - n % 8:
            r = [r[j] + a[..., i + j] for j in range(8)]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for j in range(i, n):
            res = res + a[..., j]
        return res
    h = n // 2
    h -= h % 8
    return _np_sum_last(a[..., :h]) + _np_sum_last(a[..., h:])


def _np_sum_first(a: torch.Tensor) -> torch.Tensor:
    """Sum over the first dim in numpy's order for a strided reduction (row after row)."""
    res = a[0]
    for i in range(1, a.shape[0]):
        res = res + a[i]
    return res


class _NumpyUnary(torch.autograd.Function):
    """``y = f(x)`` evaluated by numpy in float64 (then cast back to x's dtype and device), with
    ``dy/dx = df(y)``: numpy's ``exp``/``tanh`` differ from torch's by an ulp now and then, and the
    exported kernel is computed with numpy's. Used on per-channel vectors only (c values)."""

    @staticmethod
    def forward(ctx, x, f, df):
        y = torch.as_tensor(f(x.detach().to(device="cpu", dtype=torch.float64).numpy())).to(dtype=x.dtype,
                                                                                            device=x.device)
        ctx.df = df
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * ctx.df(y), None, None


def _exp(x: torch.Tensor) -> torch.Tensor:
    return _NumpyUnary.apply(x, np.exp, lambda y: y)


def _tanh(x: torch.Tensor) -> torch.Tensor:
    return _NumpyUnary.apply(x, np.tanh, lambda y: 1.0 - y * y)


def conv_ibp_weight_kernel(M: torch.Tensor, log_slack: torch.Tensor, m: float, beta: Optional[torch.Tensor] = None,
                           gamma: Optional[float] = None) -> torch.Tensor:
    r"""The W kernel (module docstring), the float operations of :meth:`deqtheory.conv_ibp.ConvIBPMonDEQ.forward`
    in their order (numpy's summation orders, numpy's ``exp``; bit-equal in float64)::

        A = Σ_taps |M|; r = 0.5·(A.sum(1) + A.sum(0)); d = r/(1 − m) + exp(log_slack); s = 1/√d
        W = (s[:, None] * M) * s[None, :]                      (taps broadcast)

    with ``beta``: ``(Γ[:, None]*W')/Γ[None, :]``, Γ = :func:`ibp_gamma`."""
    A = _np_sum_last(M.abs().flatten(2))
    r = 0.5 * (_np_sum_last(A) + _np_sum_first(A))
    d = r / (1.0 - m) + _exp(log_slack)
    s = 1.0 / torch.sqrt(d)
    W = (s[:, None, None, None] * M) * s[None, :, None, None]
    if beta is None:
        return W
    g = ibp_gamma(beta, gamma)
    return (g[:, None, None, None] * W) / g[None, :, None, None]


def ibp_gamma(beta: torch.Tensor, gamma: Optional[float]) -> torch.Tensor:
    r"""Γ = (γ−1)/γ·sigmoid(β) + 1/γ with sigmoid written ``0.5(1 + tanh(β/2))`` as
    :meth:`deqtheory.conv_ibp.ConvIBPMonDEQGamma.Gamma` (no overflow); ``gamma=None``: ``exp(β)``."""
    if gamma is None:
        return _exp(beta)
    return (gamma - 1.0) / gamma * (0.5 * (1.0 + _tanh(0.5 * beta))) + 1.0 / gamma


def ibp_lift_kernel(K: torch.Tensor) -> torch.Tensor:
    r"""The 2c-channel kernel ``[[K₊, K₋], [K₋, K₊]]`` (acting on ``[z̄; z̲]``) of the IBP lift of the
    circular conv with kernel ``K`` (tapwise parts; equal to W₊/W₋ of the matrix when ``k ≤ N``)."""
    Kp = K.clamp(min=0)
    Km = K - Kp
    return torch.cat([torch.cat([Kp, Km], 1), torch.cat([Km, Kp], 1)], 0)


def _with_pr_alpha(opts: dict) -> dict:
    """PR without an explicit step gets α = 1 (wei2022's code default; any α > 0 converges for an
    m-monotone operator): the solvers' default α = 1/L needs ``L = max_ω σ_max(I − Ŵ(ω))``, an SVD per
    frequency on every training step — measured on the full DEQ-3 (1 thread, batch 16) a training step
    took 26 s with α = 1/L and 11 s with α = 1, with fewer PR iterations (3 vs 4 forward, 3 vs 8 lifted)."""
    if opts.get("f_solver") == "pr" and opts.get("b_solver", "pr") == "pr" and opts.get("alpha") is None:
        opts["alpha"] = 1.0
    return opts


def _pos_int(name: str, k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or int(k) < 1:
        raise DomainError(f"{name}: expected a positive integer, got {k!r}")
    return int(k)


def _center_taps(K: torch.Tensor) -> torch.Tensor:
    """The diagonal of the conv's matrix per channel: the origin tap ``K[c, c, (k−1)//2, (k−1)//2]``."""
    c, o = K.shape[0], (K.shape[-1] - 1) // 2
    return K[torch.arange(c), torch.arange(c), o, o]


class LiftOperator(LinearOperator):
    r"""The lifted operator Ŵ on ``(B, 2c, N, N)`` = ``[z̄; z̲]`` through ``T Ŵ T = blkdiag(W, |W|)``
    (module docstring): matvec ``[Kμ + |K|ρ; Kμ − |K|ρ]`` (graph kept), resolvent from the two c × c
    per-frequency resolvents; ``m = min(m_W, m_|W|)``, ``L = max(L_W, L_|W|)`` (lazy), ``diag_min`` the
    smallest diagonal entry of W₊ (origin taps)."""

    def __init__(self, K: torch.Tensor, N: int):
        A = K.abs()
        What, Ahat = _fft.kernel_to_freq(K, N), _fft.kernel_to_freq(A, N)
        # K and N determine both block sets: their values are shared under that key by every lift of
        # the same K (forward and adjoint solves of a step), at any size (FREQ_KEY_MAX_NUMEL)
        vW, vA = _freq_values(What, ("lift_W", int(N), K)), _freq_values(Ahat, ("lift_absW", int(N), K))
        rW, rA = _resolvent_from_freq(What, vW), _resolvent_from_freq(Ahat, vA)
        (mW, LW), (mA, LA) = _m_L(What, vW), _m_L(Ahat, vA)

        def lin(K_, A_, transpose):
            conv = _fft.conv2d_circular_adjoint if transpose else _fft.conv2d_circular

            def run(z):
                zu, zl = z.chunk(2, dim=1)
                a, b = conv(K_, (zu + zl) / 2), conv(A_, (zu - zl) / 2)
                return torch.cat([a + b, a - b], 1)
            return run

        def resolvent(alpha):
            fW, fWT = rW(alpha)
            fA, fAT = rA(alpha)

            def mk(f, g):
                def run(u):
                    top, bot = u.chunk(2, dim=1)
                    p, q = f(top + bot), g(top - bot)
                    return torch.cat([(p + q) / 2, (p - q) / 2], 1)
                return run
            return mk(fW, fA), mk(fWT, fAT)

        super().__init__(lin(K, A, False), lin(K, A, True), resolvent=resolvent,
                         m=lambda: min(mW(), mA()), L=lambda: max(LW(), LA()),
                         diag_min=lambda: float(_center_taps(K.detach()).clamp(min=0).min()))


class ConvIBPMonDEQ(nn.Module):
    r"""Convolutional IBP-MonDEQ ``z = ReLU(Wz + Ux + b)`` on an ``N × N`` grid (module docstring).

    Parameters: ``M`` (c, c, k, k), ``log_slack`` (c,), ``beta`` (c,) (Γ variant), ``U`` (c, c_in, kU, kU),
    ``bias`` (c,). ``m`` is the current margin (settable; wei2022 App. B warm-up by :meth:`warmup`),
    ``m_target`` the trained one. ``solver_kw``: options of :func:`deqtheory_train.solvers.deq_solve`
    for the forward solve (default PR, tol 1e-5 relative, implicit backward); ``lift_solver``: those of
    :meth:`lifted_solve` (default PR, tol 1e-4).

    **Initialisation (wei2022 App. B and its public code).** ``M``: PyTorch's ``nn.Conv2d`` default,
    uniform on ``±1/√(c k²)`` (the reference code leaves M at that default; IBP init is applied to the
    explicit layers and U only); ``log_slack = log 1e-8`` (the reference code's constant ``+1e-8`` on
    ``d``; here it is a free parameter); ``β = 0``; ``U``: ``u_init="ibp"`` — Shi et al. (2021) IBP
    init N(0, 2π/fan_in²), fan_in = c_in·kU²; ``"identity"`` — the identity map (``c_in = c``, odd
    ``kU``; with a 1 × 1 U after an explicit conv+ReLU stem this is the reference code's DEQ input
    ``ReLU(BN(conv x)) + b``); ``bias = 0``. ``seed`` seeds a private generator (the global RNG is not
    touched)."""

    def __init__(self, c_in: int, channels: int, N: int, kernel_size: int = 3, *, u_kernel_size: int = 3,
                 m: float = 0.1, gamma_variant: bool = False, gamma: Optional[float] = 3.0, u_init: str = "ibp",
                 seed: int = 0, dtype=None, device=None, lift_solver: Optional[Mapping[str, Any]] = None,
                 **solver_kw: Any) -> None:
        super().__init__()
        c_in, c, N = _pos_int("c_in", c_in), _pos_int("channels", channels), _pos_int("N", N)
        k, ku = _pos_int("kernel_size", kernel_size), _pos_int("u_kernel_size", u_kernel_size)
        if k > N or ku > N:
            raise ShapeError(f"kernel_size / u_kernel_size: {k} / {ku} larger than the grid N = {N}")
        if gamma_variant and gamma is not None and not (isinstance(gamma, (int, float)) and gamma > 1):
            raise DomainError(f"gamma: expected a number > 1 (or None for exp(beta)), got {gamma!r}")
        if u_init not in ("ibp", "identity"):
            raise DomainError(f"u_init: expected 'ibp' or 'identity', got {u_init!r}")
        if u_init == "identity" and (c_in != c or ku % 2 == 0):
            raise ShapeError(f"u_init='identity': needs c_in == channels and an odd U kernel, got c_in={c_in}, "
                             f"channels={c}, u_kernel_size={ku}")
        self.c_in, self.N = c_in, N
        self.m_target = float(m)
        self.m = m
        self.gamma_variant = bool(gamma_variant)
        self.gamma = (None if gamma is None else float(gamma)) if gamma_variant else None
        self.kind = "conv_ibp_mondeq_gamma" if gamma_variant else "conv_ibp_mondeq"
        fk = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        g = torch.Generator().manual_seed(int(seed))
        bound = 1.0 / math.sqrt(c * k * k)
        self.M = nn.Parameter((torch.rand(c, c, k, k, generator=g, dtype=torch.float64) * 2 - 1).mul_(bound).to(**fk))
        self.log_slack = nn.Parameter(torch.full((c,), math.log(1e-8), **fk))
        self.beta = nn.Parameter(torch.zeros(c, **fk)) if gamma_variant else None
        if u_init == "ibp":
            U = torch.randn(c, c_in, ku, ku, generator=g, dtype=torch.float64) * (math.sqrt(2 * math.pi) / (c_in * ku * ku))
        else:
            U = torch.zeros(c, c_in, ku, ku, dtype=torch.float64)
            U[torch.arange(c), torch.arange(c), ku // 2, ku // 2] = 1.0
        self.U = nn.Parameter(U.to(**fk))
        self.bias = nn.Parameter(torch.zeros(c, **fk))
        self.solver_options = _with_pr_alpha({**_SOLVER_DEFAULTS, **{k_: v for k_, v in solver_kw.items() if v is not None}})
        self.lift_options = _with_pr_alpha({**_LIFT_DEFAULTS, **dict(lift_solver or {})})
        self.last_info: Optional[DEQInfo] = None
        self.last_lift_info: Optional[DEQInfo] = None

    # -- margin ---------------------------------------------------------------------------------
    @property
    def m(self) -> float:
        """The current margin (wei2022 App. B warm-up changes it; ``m_target`` is the trained value)."""
        return self._m

    @m.setter
    def m(self, value: float) -> None:
        v = float(value)
        if not 0.0 <= v < 1.0:
            raise DomainError(f"m: must be in [0, 1), got {value!r}")
        self._m = v

    def warmup(self, eps: float, eps_train: float) -> float:
        """wei2022 App. B: ``m = m_target + (0.99 − m_target)(1 − ε/ε_train)``; returns it."""
        self.m = m_warmup(self.m_target, eps, eps_train)
        return self.m

    @property
    def channels(self) -> int:
        return self.M.shape[0]

    @property
    def kernel_size(self) -> int:
        return self.M.shape[-1]

    # -- the maps -------------------------------------------------------------------------------
    def Gamma(self) -> Optional[torch.Tensor]:
        """Γ (c,) of the Γ variant, None otherwise."""
        return None if self.beta is None else ibp_gamma(self.beta, self.gamma)

    def weight_kernel(self) -> torch.Tensor:
        """The W kernel (c, c, k, k) (:func:`conv_ibp_weight_kernel` at the current m)."""
        return conv_ibp_weight_kernel(self.M, self.log_slack, self._m, self.beta, self.gamma)

    def lift_kernel(self) -> torch.Tensor:
        """The (2c, 2c, k, k) kernel of the IBP lift on ``[z̄; z̲]`` (:func:`ibp_lift_kernel`)."""
        return ibp_lift_kernel(self.weight_kernel())

    def _check_x(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.c_in or x.shape[-2:] != (self.N, self.N):
            raise ShapeError(f"x: expected shape (batch, {self.c_in}, {self.N}, {self.N}), got {tuple(x.shape)}")

    def injection(self, x: torch.Tensor) -> torch.Tensor:
        """v = U ⋆ x + b (circular, per-channel bias)."""
        self._check_x(x)
        return _fft.conv2d_circular(self.U, x, self.bias)

    def injection_box(self, lo: torch.Tensor, hi: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Float (not rounded) box of ``v`` over ``[lo, hi]``: centre ``U⋆c + b`` ± radius ``|U|⋆ρ``."""
        self._check_x(lo)
        c, r = (hi + lo) / 2, (hi - lo) / 2
        c = _fft.conv2d_circular(self.U, c, self.bias)
        r = _fft.conv2d_circular(self.U.abs(), r)
        return c - r, c + r

    def operator(self, K: Optional[torch.Tensor] = None) -> FreqConvOperator:
        """The W operator: matvec/rmatvec by spatial circular conv (graph kept), PR resolvent per frequency."""
        K = self.weight_kernel() if K is None else K
        return kernel_operator(K, self.N)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed point ``z*`` (B, c, N, N); solver statistics in ``last_info``."""
        z, self.last_info = deq_solve(self.operator(), self.injection(x), **self.solver_options)
        return z

    def lift_operator(self) -> LinearOperator:
        """The lifted operator Ŵ on ``[z̄; z̲]`` (module docstring)."""
        return LiftOperator(self.weight_kernel(), self.N)

    def lifted_solve(self, vlo: torch.Tensor, vhi: torch.Tensor, *, with_pre: bool = False):
        r"""Solve ẑ = ReLU(Ŵẑ + [v̄; v̲]) for an injection box ``[vlo, vhi]`` (B, c, N, N) (float,
        differentiable, implicit backward; options ``lift_options``). Returns ``(zl, zu)``, and with
        ``with_pre`` also the pre-activation box ``(lo, hi)`` of ``Ŵẑ + v̂``. Statistics in ``last_lift_info``."""
        if vlo.shape != vhi.shape or vlo.ndim != 4 or vlo.shape[1] != self.channels:
            raise ShapeError(f"vlo, vhi: expected equal shapes (batch, {self.channels}, {self.N}, {self.N}), "
                             f"got {tuple(vlo.shape)} and {tuple(vhi.shape)}")
        op = self.lift_operator()
        vhat = torch.cat([vhi, vlo], 1)
        zh, self.last_lift_info = deq_solve(op, vhat, **self.lift_options)
        zu, zl = zh.chunk(2, dim=1)
        if not with_pre:
            return zl, zu
        pu, pl = (op.matvec(zh) + vhat).chunk(2, dim=1)
        return zl, zu, (pl, pu)

    @property
    def last_stats(self):
        return None if self.last_info is None else self.last_info.forward
