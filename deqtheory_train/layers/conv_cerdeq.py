r"""Convolutional CerDEQ (li2022 §3.3–3.5): a circular-convolution DEQ whose fusion kernel is Björck-orthogonalised.

State ``z`` (B, c, N, N), input ``x`` (B, c_in, N, N); every linear map is a circular cross-correlation
(:func:`deqtheory_train.fft.conv2d_circular`, origin ``(k−1)//2``):

.. math:: z = \mathrm{ReLU}\big(\mathrm{diag}(s)\,(O/\sqrt n \star z + U_0 \star x) + b\big), \qquad
          s = s_{\max}\,\mathrm{sigmoid}(\theta) \in (0, s_{\max}),

**Kernel formula** (li2022 §3.3, :func:`conv_cerdeq_kernel`, the torch mirror of
:func:`deqtheory.parametrizations.cerdeq.conv_cerdeq_kernel`): the raw kernel ``V`` (c, c, k, k) read as the
c × (c·k²) matrix (m = c output channels, n = c·k² "input channel number multiplying the kernel size"),
pre-scaled by :math:`\sqrt{mn}\|V\|_{\max}` (so σ_max ≤ 1), ``n_iter`` = K order-2 Björck steps (li2022 eqs.
6–7, K = 5 in every experiment of the paper), post-scaled by 1/√n: ``O/√n``. li2022 *projects* the weight
after each optimiser step ("we project our weights to their nearest orthogonal matrix … after each update");
here the K steps are a differentiable reparametrization evaluated at every forward (the same map, with
gradients through it; the raw V is free). With K = 5 the rows are only near-orthonormal (singular values
p^K(σ₀) < 1 for small pre-scaled σ₀, which only shrinks the kernel).

**The §3.5 scale** (li2022's BN replacement inside the DEQ: "biased convolution … with learnable channel scaling
factors γ … bounded in (0, 1) to ensure convergence"): ``s`` multiplies the fused pre-activation per channel,
so the **effective** kernels are ``K = s·O/√n`` (:meth:`ConvCerDEQ.weight_kernel`) and ``U = s·U₀``
(:attr:`ConvCerDEQ.U`); these computed kernels are what the bridge exports (file kind ``conv_kernel_deq``)
and what is certified.

**Well-posedness is checked, never assumed.** For exactly orthonormal rows every row of O/√n has ℓ1 mass ≤ 1
(li2022 eq. 32; catalogue ``li2022:sec3.3.conv``), so the c × c tap mass ``A = Σ_taps |K|`` has row sums
≤ s_max up to rounding (the Björck map keeps every singular value in [0, 1], so after K steps the rows still
have ℓ2 ≤ 1, orthonormal or not): the boundary is pushed inside only by s < 1. The certifier proves η > 0, μ < 1
with ``A_up η ≤ μη`` (:func:`deqtheory.conv_ibp.conv_abs_contraction`) on the exported kernel; then
``z ↦ ReLU(K ⋆ z + v)`` and the IBP lift are μ-contractions of ``‖·‖_{∞,[η̃]⁻¹}`` (conv_ibp claim 3).

**Solves.** Forward and lifted solves default to the α-averaged iteration (``alpha_avg``,
z ← (1 − α)z + α ReLU(Kz + v), α = 1/(1 − min(min origin tap, 0)) ≤ 1): under the certificate above it is a
(1 − α(1 − μ))-contraction, so it converges whenever the model is certified (li2022 uses Anderson, available
as ``f_solver="anderson"`` — not proved). Implicit backward by the adjoint fixed point of the same iteration
(:mod:`deqtheory_train.solvers`). The lift is the IBP lift ``[[K₊, K₋], [K₋, K₊]]`` applied in the rotated form
of :class:`~deqtheory_train.layers.conv_linf.LiftOperator`.

**Initialisation.** ``V``: a random c × (c·k²) matrix with orthonormal rows (QR of a seeded Gaussian), so the
Björck map starts near its fixed point; ``θ`` with s = ``s_init``; ``U₀``: ``u_init="li2022"`` — N(0, σ²) with
σ = √(π/2)/n_u, n_u = c_in·kU² (li2022 Prop 3.5's n_u·E|U| = 1, the σ as corrected in the catalogue
``li2022:prop3.5``; the printed σ = √π/√(2 n_u) is ``"li2022_printed"``), ``"identity"`` — the identity map
(c_in = c, odd kU). ``u_trainable=False`` stores U₀ as a buffer (the CerDEQ classifier feeds the DEQ from an
explicit extractor conv and keeps U₀ = I, so the DEQ is exactly li2022's z = σ(Wz + Ux + b) with U that conv).
A **linear DEQ** (li2022's third DEQ) is this layer on a 1 × 1 grid with k = kU = 1: the W kernel is the dense
c × c CerDEQ weight.

Every tensor follows the parameters' device and dtype; nothing is moved.
"""
from __future__ import annotations

import json
import math
from typing import Any, Mapping, Optional

import torch
from torch import nn

from deqtheory.errors import DomainError, ShapeError

from ..parametrize import bjorck_order2
from .conv import FreqConvOperator, kernel_operator
from .conv_linf import ConvIBPMonDEQ, LiftOperator, _pos_int, ibp_lift_kernel
from .conv_nemon import _LIFT_DEFAULTS, _SOLVER_DEFAULTS, injection_init

__all__ = ["ConvCerDEQ", "conv_cerdeq_kernel", "solver_state", "with_conv_deq_maps", "SHARED_MAPS"]

_U_INITS = ("li2022", "li2022_printed", "identity")


def conv_cerdeq_kernel(V: torch.Tensor, n_iter: int) -> torch.Tensor:
    r"""``O/√n`` of the module docstring: ``V`` (c_out, c_in, kh, kw) as the m × n matrix, pre-scaled by
    √(mn)‖V‖_max, ``n_iter`` order-2 Björck steps, post-scaled by 1/√n (differentiable)."""
    m, n = V.shape[0], V[0].numel()
    Vm = V.reshape(m, n)
    return (bjorck_order2(Vm / (math.sqrt(m * n) * Vm.abs().max()), n_iter) / math.sqrt(n)).reshape(V.shape)


def solver_state(mod: nn.Module, solver_kw: Mapping[str, Any], lift_solver: Optional[Mapping[str, Any]]) -> None:
    """Set ``mod.solver_options`` / ``mod.lift_options`` (the α-averaged defaults of the conv NEMON, which need no
    monotonicity; given options win, ``None`` values are dropped from ``solver_kw``) and empty solve statistics
    ``last_info`` / ``last_lift_info`` — the solver state of a conv ℓ∞ DEQ layer whose solves are α-averaged."""
    mod.solver_options = {**_SOLVER_DEFAULTS, **{k: v for k, v in solver_kw.items() if v is not None}}
    mod.lift_options = {**_LIFT_DEFAULTS, **dict(lift_solver or {})}
    mod.last_info = mod.last_lift_info = None


def _u_init(c_in: int, c: int, ku: int, u_init: str, g: torch.Generator) -> torch.Tensor:
    """The float64 U₀ (c, c_in, ku, ku) of ``u_init`` (module docstring)."""
    if u_init not in _U_INITS:
        raise DomainError(f"u_init: expected one of {_U_INITS}, got {u_init!r}")
    if u_init == "identity":
        return injection_init(c_in, c, ku, "identity", g)
    nu = c_in * ku * ku
    sigma = math.sqrt(math.pi / 2) / nu if u_init == "li2022" else math.sqrt(math.pi / (2 * nu))
    return torch.randn(c, c_in, ku, ku, generator=g, dtype=torch.float64) * sigma


#: the maps of :class:`~deqtheory_train.layers.conv_linf.ConvIBPMonDEQ` that only read ``U``, ``bias``, ``c_in``,
#: ``N``, ``channels``, ``operator()``, ``lift_operator()`` and the solver options: any conv ℓ∞ DEQ layer with
#: those attributes shares them (:func:`with_conv_deq_maps`)
SHARED_MAPS = ("_check_x", "injection", "injection_box", "forward", "lifted_solve", "last_stats")


def with_conv_deq_maps(cls: type) -> type:
    """Class decorator: give ``cls`` the :data:`SHARED_MAPS` of the conv IBP-MonDEQ (the same functions)."""
    for name in SHARED_MAPS:
        setattr(cls, name, ConvIBPMonDEQ.__dict__[name])
    return cls


@with_conv_deq_maps
class ConvCerDEQ(nn.Module):
    r"""Convolutional CerDEQ ``z = ReLU(K ⋆ z + U ⋆ x + b)`` on an ``N × N`` grid (module docstring); the interface
    of :class:`~deqtheory_train.layers.conv_linf.ConvIBPMonDEQ` (``weight_kernel``, ``lift_kernel``, ``U``,
    ``injection``, ``injection_box``, ``forward``, ``lifted_solve``, ``kind``).

    Parameters: ``V`` (c, c, k, k) raw kernel, ``theta`` (c,) the §3.5 scale logits, ``U0`` (c, c_in, kU, kU)
    (a buffer when ``u_trainable=False``), ``bias`` (c,). ``n_iter``: Björck steps K (li2022: 5); ``s_max`` < 1
    bounds the scale (0.999 keeps it away from 1 in floating point), ``s_init`` its initial value.
    ``solver_kw``: options of :func:`deqtheory_train.solvers.deq_solve` (default α-averaged, tol 1e-5 relative,
    implicit backward); ``lift_solver``: those of :meth:`lifted_solve` (default α-averaged, tol 1e-4).
    ``kind`` = ``"conv_kernel_deq"``: exported as its computed kernels (:meth:`provenance` in the file)."""

    kind = "conv_kernel_deq"

    def __init__(self, c_in: int, channels: int, N: int, kernel_size: int = 3, *, u_kernel_size: int = 3,
                 n_iter: int = 5, s_max: float = 0.999, s_init: float = 0.9, u_init: str = "li2022",
                 u_trainable: bool = True, seed: int = 0, dtype=None, device=None,
                 lift_solver: Optional[Mapping[str, Any]] = None, **solver_kw: Any) -> None:
        super().__init__()
        c_in, c, N = _pos_int("c_in", c_in), _pos_int("channels", channels), _pos_int("N", N)
        k, ku = _pos_int("kernel_size", kernel_size), _pos_int("u_kernel_size", u_kernel_size)
        self.n_iter = _pos_int("n_iter", n_iter)
        if k > N or ku > N:
            raise ShapeError(f"kernel_size / u_kernel_size: {k} / {ku} larger than the grid N = {N}")
        if not (isinstance(s_max, (int, float)) and isinstance(s_init, (int, float)) and 0 < s_init < s_max < 1):
            raise DomainError(f"s_max, s_init: need 0 < s_init < s_max < 1, got {s_init!r}, {s_max!r}")
        self.c_in, self.N, self.s_max = c_in, N, float(s_max)
        fk = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        g = torch.Generator().manual_seed(int(seed))
        Q, _ = torch.linalg.qr(torch.randn(c * k * k, c, generator=g, dtype=torch.float64))
        self.V = nn.Parameter(Q.T.reshape(c, c, k, k).to(**fk))
        q = s_init / s_max
        self.theta = nn.Parameter(torch.full((c,), math.log(q / (1 - q)), **fk))
        U0 = _u_init(c_in, c, ku, u_init, g).to(**fk)
        if u_trainable:
            self.U0 = nn.Parameter(U0)
        else:
            self.register_buffer("U0", U0)
        self.bias = nn.Parameter(torch.zeros(c, **fk))
        solver_state(self, solver_kw, lift_solver)

    channels = property(lambda self: self.V.shape[0], doc="State channels c.")
    kernel_size = property(lambda self: self.V.shape[-1], doc="The W kernel size k.")

    def scale(self) -> torch.Tensor:
        """s = s_max·sigmoid(θ) (c,), in (0, s_max)."""
        return self.s_max * torch.sigmoid(self.theta)

    def orth_kernel(self) -> torch.Tensor:
        """O/√n (c, c, k, k) (:func:`conv_cerdeq_kernel`)."""
        return conv_cerdeq_kernel(self.V, self.n_iter)

    def weight_kernel(self) -> torch.Tensor:
        """The effective W kernel ``s·O/√n`` (per output channel)."""
        return self.scale()[:, None, None, None] * self.orth_kernel()

    @property
    def U(self) -> torch.Tensor:
        """The effective injection kernel ``s·U₀`` (c, c_in, kU, kU)."""
        return self.scale()[:, None, None, None] * self.U0

    def lift_kernel(self) -> torch.Tensor:
        """The (2c, 2c, k, k) kernel of the IBP lift on ``[z̄; z̲]``."""
        return ibp_lift_kernel(self.weight_kernel())

    def operator(self, K: Optional[torch.Tensor] = None) -> FreqConvOperator:
        """The W operator (:func:`~deqtheory_train.layers.conv.kernel_operator`: spatial convs, ``diag_min``
        = the smallest origin tap, the α of ``alpha_avg``)."""
        return kernel_operator(self.weight_kernel() if K is None else K, self.N)

    def lift_operator(self) -> LiftOperator:
        """The IBP-lift operator on ``[z̄; z̲]`` (``diag_min`` ≥ 0: plain iteration under ``alpha_avg``)."""
        return LiftOperator(self.weight_kernel(), self.N)

    def provenance(self) -> str:
        """The JSON text stored with the exported kernels (what they were computed from; not used by any proof)."""
        return json.dumps({"family": "li2022 CerDEQ (conv)", "layer": type(self).__name__, "n_iter": self.n_iter,
                           "prescale": "sqrt(m n) max|V|", "postscale": "1/sqrt(n)",
                           "m": self.channels, "n": int(self.V[0].numel()), "s_max": self.s_max,
                           "kernel": "s * bjorck(V) / sqrt(n)", "U": "s * U0"}, sort_keys=True)

