r"""Convolutional non-Euclidean DEQ (conv NEMON: jafarpour2022 eq. 12, corrected, with a circular-conv T and
per-channel η).

State ``z`` (B, c, N, N), input ``x`` (B, c_in, N, N); every linear map is a circular cross-correlation
(:func:`deqtheory_train.fft.conv2d_circular`, origin ``o = (k−1)//2``):

.. math:: z = \mathrm{ReLU}(W z + U x + b), \qquad W = [\tilde\eta]\tilde T[\tilde\eta]^{-1} - \mathrm{diag}(|\tilde T|\mathbb 1) + \gamma I,

**Kernel formula** (the torch mirror of :meth:`deqtheory.conv_nemon.ConvNonEuclidean.forward`, the same
float operations in the same order, bit-equal in float64): with η = exp(log_eta) (numpy's ``exp``) and
:math:`s_c = \sum_{i,t}|T[c, i, t]|` (numpy's pairwise order over the contiguous row of ``|T|[c]``),

.. math:: W[o, i, t] = (\eta_o T[o, i, t])/\eta_i, \qquad W[c, c, o] \leftarrow (W[c, c, o] - s_c) + \gamma.

For k ≤ N this is the dense corrected eq. (12) of the materialised T̃ with η̃ = η per pixel, so
μ∞,[η̃]⁻¹(W) ≤ γ < 1 (:mod:`deqtheory.conv_nemon`, claim 3).

**Solves.** W is not monotone in general (only μ∞ < 1 is guaranteed), so the default solver is the
α-averaged iteration z ← (1 − α)z + α ReLU(Wz + v) with α = 1/(1 − min_c min(W[c, c, o], 0))
(jafarpour2022 Thm 5.1: a (1 − α(1 − μ))-contraction of ‖·‖_{∞,[η̃]⁻¹}); the backward adjoint fixed point
uses the same α (:mod:`deqtheory_train.solvers`). Peaceman–Rachford is available through the operator's
per-frequency resolvent but is **not** proved to converge here.

**Lift.** The interval bounds use the embedded network of jafarpour2022 eq. (6) (Thm 6.3, never looser
than IBP, Remark 6.4.4): the 2c-channel kernel ``[[A, B], [B, A]]`` on ``[z̄; z̲]`` with ``B`` = the
negative taps except the origin tap of each ``W[c, c]`` and ``A = W − B`` (:func:`metzler_lift_kernel`);
its μ∞ with weights [η̃; η̃] is that of W, so the same α-averaged iteration solves it.

Every tensor follows the parameters' device and dtype; nothing is moved.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import torch
from torch import nn

from deqtheory.errors import DomainError, ShapeError

from ..solvers import DEQInfo
from .conv import FreqConvOperator, kernel_operator
from .conv_linf import ConvIBPMonDEQ, _exp, _np_sum_last, _pos_int

__all__ = ["ConvNEMON", "conv_nemon_weight_kernel", "metzler_lift_kernel"]

_SOLVER_DEFAULTS = {"f_solver": "alpha_avg", "f_tol": 1e-5, "f_max_iter": 500, "f_stop_mode": "rel",
                    "grad": "implicit"}
_LIFT_DEFAULTS = {"f_solver": "alpha_avg", "f_tol": 1e-4, "f_max_iter": 300, "f_stop_mode": "rel",
                  "grad": "implicit"}


def _origin_index(K: torch.Tensor):
    """Index tensors of the origin taps ``K[c, c, (kh−1)//2, (kw−1)//2]`` (the diagonal of the conv's matrix)."""
    c = K.shape[0]
    ar = torch.arange(c, device=K.device)
    return ar, ar, torch.full_like(ar, (K.shape[2] - 1) // 2), torch.full_like(ar, (K.shape[3] - 1) // 2)


def conv_nemon_weight_kernel(T: torch.Tensor, log_eta: torch.Tensor, gamma: float) -> torch.Tensor:
    r"""The W kernel (module docstring), the float operations of
    :meth:`deqtheory.conv_nemon.ConvNonEuclidean.forward` in their order::

        eta = exp(log_eta); s = Σ_row |T|.reshape(c, −1); W = (eta[:, None] * T) / eta[None, :]
        W[c, c, o, o] = (W[c, c, o, o] − s[c]) + gamma                 (out of place, differentiable)"""
    c = T.shape[0]
    eta = _exp(log_eta)
    s = _np_sum_last(T.abs().reshape(c, -1))
    W = (eta[:, None, None, None] * T) / eta[None, :, None, None]
    idx = _origin_index(W)
    return W.index_put(idx, (W[idx] - s) + gamma)


def metzler_lift_kernel(K: torch.Tensor) -> torch.Tensor:
    r"""The (2c, 2c, kh, kw) kernel ``[[A, B], [B, A]]`` of the Metzler lift (jafarpour2022 eq. 6) of the
    circular conv with kernel ``K``: ``B`` = negative taps except the origin taps of ``K[c, c]``,
    ``A = K − B`` (:func:`deqtheory.conv_nemon.metzler_lift_kernel`)."""
    keep = torch.zeros(K.shape, dtype=torch.bool, device=K.device)
    keep = keep.index_put(_origin_index(K), torch.ones((), dtype=torch.bool, device=K.device))
    B = torch.where(keep, torch.zeros_like(K), K.clamp(max=0))
    A = K - B
    return torch.cat([torch.cat([A, B], 1), torch.cat([B, A], 1)], 0)


class ConvNEMON(nn.Module):
    r"""Convolutional NEMON ``z = ReLU(Wz + Ux + b)`` on an ``N × N`` grid (module docstring); the interface of
    :class:`~deqtheory_train.layers.conv_linf.ConvIBPMonDEQ` (``weight_kernel``, ``lift_kernel``,
    ``injection``, ``injection_box``, ``forward``, ``lifted_solve``, ``kind``).

    Parameters: ``T`` (c, c, k, k), ``log_eta`` (c,), ``U`` (c, c_in, kU, kU), ``bias`` (c,). ``gamma`` < 1 is the
    well-posedness hyper-parameter (jafarpour2022 §8.1: γ = 0). ``solver_kw``: options of
    :func:`deqtheory_train.solvers.deq_solve` (default α-averaged, tol 1e-5 relative, implicit backward);
    ``lift_solver``: those of :meth:`lifted_solve` (default α-averaged, tol 1e-4).

    **Initialisation.** ``T``: PyTorch's ``nn.Conv2d`` default, uniform on ±1/√(c k²); ``log_eta = 0`` (η = 𝟙);
    ``U``: ``u_init="ibp"`` — Shi et al. (2021) N(0, 2π/fan_in²), ``"identity"`` — the identity map
    (``c_in = c``, odd kU); ``bias = 0``. ``seed`` seeds a private generator."""

    kind = "conv_noneuclidean"

    def __init__(self, c_in: int, channels: int, N: int, kernel_size: int = 3, *, u_kernel_size: int = 3,
                 gamma: float = 0.0, u_init: str = "ibp", seed: int = 0, dtype=None, device=None,
                 lift_solver: Optional[Mapping[str, Any]] = None, **solver_kw: Any) -> None:
        super().__init__()
        c_in, c, N = _pos_int("c_in", c_in), _pos_int("channels", channels), _pos_int("N", N)
        k, ku = _pos_int("kernel_size", kernel_size), _pos_int("u_kernel_size", u_kernel_size)
        if k > N or ku > N:
            raise ShapeError(f"kernel_size / u_kernel_size: {k} / {ku} larger than the grid N = {N}")
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not gamma < 1:
            raise DomainError(f"gamma: expected a number < 1, got {gamma!r}")
        self.c_in, self.N, self.gamma = c_in, N, float(gamma)
        fk = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        g = torch.Generator().manual_seed(int(seed))
        bound = 1.0 / math.sqrt(c * k * k)
        self.T = nn.Parameter((torch.rand(c, c, k, k, generator=g, dtype=torch.float64) * 2 - 1).mul_(bound).to(**fk))
        self.log_eta = nn.Parameter(torch.zeros(c, **fk))
        self.U = nn.Parameter(injection_init(c_in, c, ku, u_init, g).to(**fk))
        self.bias = nn.Parameter(torch.zeros(c, **fk))
        self.solver_options = {**_SOLVER_DEFAULTS, **{k_: v for k_, v in solver_kw.items() if v is not None}}
        self.lift_options = {**_LIFT_DEFAULTS, **dict(lift_solver or {})}
        self.last_info: Optional[DEQInfo] = None
        self.last_lift_info: Optional[DEQInfo] = None

    channels = property(lambda self: self.T.shape[0], doc="State channels c.")
    kernel_size = property(lambda self: self.T.shape[-1], doc="The W kernel size k.")

    def eta(self) -> torch.Tensor:
        """η = exp(log_eta) (c,) (numpy's exp, as the exported kernel)."""
        return _exp(self.log_eta)

    def weight_kernel(self) -> torch.Tensor:
        """The W kernel (c, c, k, k) (:func:`conv_nemon_weight_kernel`)."""
        return conv_nemon_weight_kernel(self.T, self.log_eta, self.gamma)

    def lift_kernel(self) -> torch.Tensor:
        """The (2c, 2c, k, k) kernel of the Metzler lift on ``[z̄; z̲]`` (:func:`metzler_lift_kernel`)."""
        return metzler_lift_kernel(self.weight_kernel())

    def operator(self, K: Optional[torch.Tensor] = None) -> FreqConvOperator:
        """The W operator (:func:`kernel_operator`)."""
        return kernel_operator(self.weight_kernel() if K is None else K, self.N)

    def lift_operator(self) -> FreqConvOperator:
        """The Metzler-lift operator on ``[z̄; z̲]`` (2c channels)."""
        return kernel_operator(self.lift_kernel(), self.N)

    # the maps shared with the conv IBP-MonDEQ (same attributes: U, bias, c_in, N, solver and lift options)
    _check_x = ConvIBPMonDEQ._check_x
    injection = ConvIBPMonDEQ.injection
    injection_box = ConvIBPMonDEQ.injection_box
    forward = ConvIBPMonDEQ.forward
    lifted_solve = ConvIBPMonDEQ.lifted_solve
    last_stats = ConvIBPMonDEQ.last_stats


def injection_init(c_in: int, c: int, ku: int, u_init: str, g: torch.Generator) -> torch.Tensor:
    """The float64 initial U (c, c_in, ku, ku): ``"ibp"`` — N(0, 2π/fan_in²), fan_in = c_in·ku²;
    ``"identity"`` — the identity map (needs c_in = c and an odd ku; ``ShapeError`` otherwise)."""
    if u_init == "ibp":
        return torch.randn(c, c_in, ku, ku, generator=g, dtype=torch.float64) * (math.sqrt(2 * math.pi) / (c_in * ku * ku))
    if u_init != "identity":
        raise DomainError(f"u_init: expected 'ibp' or 'identity', got {u_init!r}")
    if c_in != c or ku % 2 == 0:
        raise ShapeError(f"u_init='identity': needs c_in == channels and an odd U kernel, got c_in={c_in}, "
                         f"channels={c}, u_kernel_size={ku}")
    U = torch.zeros(c, c_in, ku, ku, dtype=torch.float64)
    U[torch.arange(c), torch.arange(c), ku // 2, ku // 2] = 1.0
    return U
