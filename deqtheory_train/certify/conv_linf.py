r"""The matrix-free sound ℓ∞ certifier of convolutional IBP-MonDEQ classifiers (wei2022 DEQ-3 / DEQ-7):
:class:`ConvDEQBox` (one conv DEQ layer: its proved constants and its widened lifted box),
:class:`ConvLinfPlan` (a model as a chain of interval transformers ending in a linear head folded into
the margins) and the registry certifier ``conv_linf`` (:func:`certify_conv_linf`).

Model: ``model.certify_blocks()`` (or an ``nn.Sequential``) — any chain of ``Normalize``, ``nn.Conv2d``,
``nn.BatchNorm2d`` (eval), ``nn.AvgPool2d``, ``nn.Flatten``, ``nn.Linear``, ``nn.ReLU``, ``nn.Identity``
(:func:`.conv_blocks.linf_block`) and conv DEQ layers (``kind`` ``conv_ibp_mondeq`` /
``conv_ibp_mondeq_gamma`` / ``conv_noneuclidean`` / ``conv_kernel_deq`` (the conv CerDEQ), any number, in sequence), ending in an ``nn.Linear`` head. What is
certified: for every x′ in the ℓ∞ ball (∩ [0, 1]^d when clipped), the *exact real-arithmetic* function
of the stored parameters — each DEQ with the W kernel that ``deqtheory`` computes from the exported file
(:func:`.layer_arrays.conv_arrays`) — classifies x′ as y.

**One conv DEQ** ``z = ReLU(K ⋆ z + U ⋆ x + b)`` (circular, N × N grid, k ≤ N). Its input box
``[v̲, v̄]`` is :func:`.conv_blocks.circular_conv_box`; the IBP lift (wei2022 eq. 3.3) on ``[z̄; z̲]`` is the
2c-channel circular convolution with kernel ``L = [[K₊, K₋], [K₋, K₊]]`` (equal to Ŵ = [[W₊, W₋], [W₋, W₊]]
because k ≤ N: no two taps alias), and ``ẑ = ReLU(L ⋆ ẑ + [v̄; v̲])`` bounds every z*(x′) (wei2022 Prop 3.2)
once the lift is proved well posed. The proofs come from :mod:`deqtheory.conv_ibp`, on the c × c matrix
``A ≥ Σ_taps |K|`` — never on an n × n matrix:

* ``conv_abs_contraction``: η > 0, μ < 1 with Aη ≤ μη ⇒ ‖|Ŵ|‖_{∞,[η̂]} ≤ μ (η̂ = η per pixel, twice),
  so μ∞,[η̂]⁻¹(Ŵ) ≤ μ (the ``mu`` / ``eta`` route of :func:`.deq.error_bound`);
* ``conv_ibp_monotone``: sym(I − A) ⪰ mI ⇒ sym(I₂ₙ − Ŵ) ⪰ mI (wei2022 Lemma 3.4; the ``m`` route).

**Conv NEMON** (``conv_noneuclidean``, :mod:`deqtheory.conv_nemon`): the lift is the embedded network of
jafarpour2022 eq. (6), the 2c-channel kernel ``[[A, B], [B, A]]`` (``B`` the negative taps except the origin
taps of ``K[c, c]``, ``A = K − B``: the whole diagonal stays in ``A``), and its box bounds every z*(x′)
(jafarpour2022 Thm 6.3) once μ∞ of the lift is proved < 1: ``conv_mu_inf`` proves μ∞,[η̂]⁻¹(Ŵ) ≤ μ < 1 from
the c × c Metzler mass ``A_up ≥ A_M`` (the ``mu`` / ``eta`` route of :func:`.deq.error_bound`, the only one:
the lift is not monotone in general). Its solver is the α-averaged iteration (jafarpour2022 Thm 5.1; a PR
request is replaced by it — PR is not proved to converge for this lift).

The lifted fixed point is computed by Peaceman–Rachford with per-frequency resolvents (FFT, the
layer module's lifted operator) — the solver is never trusted: the residual
``r = ẑ − ReLU(L ⋆ ẑ + v̂)`` is recomputed by direct convolution with its rounding allowance
(:func:`.deq.residual_rho`, T = 2c·k² terms per output) and ẑ is widened by the proved bound of
:func:`.deq.error_bound` with ``|Ŵ|ρ`` applied as a direct convolution by ``|L|`` — memory
O(batch × state), never O(n²). A batch whose solve did not converge certifies nothing.

**Clean pass** = the same chain on the degenerate box [x, x] (so "correct" means: proved margins > 0 at
x for the exact model). **Head**: the final ``nn.Linear`` is folded into the margins
(:func:`.boxes.folded_margins`, jafarpour2022 eq. 10 / wei2022 App. B "elide").

**Witnesses** (``witness=True``, ``deqtheory-train certify --witness``): the certificates of every DEQ's
constants (``<condition>@<k>``), per image the clean point z̄ of each DEQ and per ε its lifted point [z̄; z̲]
(the layout of :class:`deqtheory.conv_certificate.ConvChain`); ``deqtheory verify-certification``
re-checks them in numpy, trusting the stored points as points only.

Rounding model: direct convolutions and matmuls in float64 obey the γ_k bound (see
:mod:`.conv_blocks`; cuDNN is switched off inside, so no FFT / Winograd algorithm computes a claimed
quantity); the FFT is used only inside the solver.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from deqtheory import conv_ibp as _cibp
from deqtheory import conv_nemon as _cnemon
from deqtheory.errors import DomainError

from .. import fft as _fft
from ..layers.conv_linf import LiftOperator
from ..layers.conv import kernel_operator
from ..solvers import SolverStatus, fixed_point
from ..train import unwrap
from .blocks import model_blocks
from .boxes import DT, as_f64, down, downf, folded_margins, input_box, to_numpy64, up
from .conv_blocks import circular_conv_box, direct_conv, linf_block
from .deq import cert_info, error_bound, residual_rho
from .driver import plan_inputs, run_certifier
from .layer_arrays import conv_arrays
from .results import CertifyOutput, Perturbation

__all__ = ["CONV_LINF_KINDS", "ConvDEQBox", "ConvLinfPlan", "certify_conv_linf", "CONV_LINF_SOLVER"]

#: file kinds of the DEQ layers this certifier handles
CONV_LINF_KINDS = ("conv_ibp_mondeq", "conv_ibp_mondeq_gamma", "conv_noneuclidean", "conv_kernel_deq")

#: default lifted solve: PR with step α = 1 (valid for any α > 0: the lift is m-monotone by construction; no
#: per-frequency SVD for a 1/L step), relative tolerance 1e-8 — the widening turns any tolerance into a proof;
#: at 1e-8 it moves the boxes by ~1e-8 relative (measured: 12 PR iterations vs 26 at α = 1/L, tol 1e-10)
CONV_LINF_SOLVER: Dict[str, Any] = {"f_solver": "pr", "alpha": 1.0, "f_tol": 1e-8, "f_stop_mode": "rel",
                                    "f_max_iter": 3000}


def is_conv_deq(m: nn.Module) -> bool:
    return getattr(m, "kind", None) in CONV_LINF_KINDS


def _ibp_lift(a: Any, device: torch.device) -> Tuple[str, torch.Tensor, Dict[str, Any], Dict[str, Any]]:
    """The IBP lift [[K₊, K₋], [K₋, K₊]] and its proofs (conv IBP-MonDEQ kinds)."""
    K = as_f64(a.K, device)
    Kp, Km = K.clamp(min=0), K.clamp(max=0)
    L = torch.cat([torch.cat([Kp, Km], 1), torch.cat([Km, Kp], 1)], 0)
    cm = _cibp.conv_ibp_margin(a.K, a.N)
    cc = _cibp.conv_abs_contraction(a.K, a.N)
    return ("wei2022 eq. 3.3 as the 2c-channel circular conv [[K+, K-], [K-, K+]]", L,
            {"conv_ibp_monotone": cm, "conv_abs_contraction": cc}, {"monotone": cm, "contraction": cc})


def _metzler_lift(a: Any, device: torch.device) -> Tuple[str, torch.Tensor, Dict[str, Any], Dict[str, Any]]:
    """The Metzler lift [[A, B], [B, A]] and its μ∞ proof (conv NEMON); the stored η is the first candidate."""
    cu = _cnemon.conv_mu_inf(a.K, a.N, eta=a.obj.eta)
    return ("jafarpour2022 eq. 6 (embedded network) as the 2c-channel circular conv [[A, B], [B, A]]",
            as_f64(_cnemon.metzler_lift_kernel(a.K), device), {"conv_mu_inf": cu}, {"mu_inf": cu})


#: file kind → the lift of its DEQ layer (and the proofs of its well-posedness)
_LIFTS = {"conv_ibp_mondeq": _ibp_lift, "conv_ibp_mondeq_gamma": _ibp_lift, "conv_noneuclidean": _metzler_lift,
          "conv_kernel_deq": _ibp_lift}     # a stored kernel (li2022 conv CerDEQ): IBP lift, nothing by construction


class ConvDEQBox:
    """One conv DEQ layer: exported arrays, proved constants of its lift (IBP for the conv IBP-MonDEQ, Metzler
    for the conv NEMON) and the sound box map ``(lo, hi) ↦ (z̲, z̄, stats, bad)`` (module docstring)."""

    def __init__(self, layer: nn.Module, solver_options: Mapping[str, Any], device: torch.device) -> None:
        a = conv_arrays(layer)
        self.kind = a.kind
        self.N = a.N
        K = as_f64(a.K, device)
        self.c, k = K.shape[0], K.shape[2]
        self.K = K
        self.U = as_f64(a.U, device)
        self.b = as_f64(a.b, device)
        self.terms = 2 * self.c * k * K.shape[3]
        self.metzler = a.kind == "conv_noneuclidean"
        lift, self.L, self.certificates, shown = _LIFTS[a.kind](a, device)
        self.Labs = self.L.abs()
        opts = dict(solver_options)
        if a.kind in ("conv_noneuclidean", "conv_kernel_deq") and opts.get("f_solver", "pr") == "pr":
            # PR is not proved for these lifts (not monotone in general); alpha_avg is (their contraction proof)
            opts = {**{k_: v for k_, v in opts.items() if k_ != "alpha"}, "f_solver": "alpha_avg"}
        self.solver_options = opts
        cm = self.certificates.get("conv_ibp_monotone")
        cc = self.certificates.get("conv_mu_inf" if self.metzler else "conv_abs_contraction")
        self.m: Optional[float] = downf(cm.margin) if cm is not None and cm.certified else None
        self.mu: Optional[float] = None
        self.eta: Optional[torch.Tensor] = None
        if cc.certified:
            self.mu = float(cc.witness["mu"])
            eta = as_f64(cc.witness["eta"], device)
            self.eta = eta.repeat(2).repeat_interleave(self.N * self.N)      # [z̄; z̲], channel-major
        self.provenance = {"export": f"to_deqtheory({type(layer).__name__}) -> {a.kind} W_kernel()",
                           "kernel": list(K.shape), "N": self.N, "lift": lift,
                           **{name: cert_info(c) for name, c in shown.items()}}
        self._op: Optional[Any] = None

    @property
    def valid(self) -> bool:
        return self.m is not None or self.mu is not None

    def constants(self) -> Dict[str, Any]:
        return {"lift_m": self.m, "lift_mu": self.mu, "channels": self.c, "N": self.N}

    def _lift(self, z: torch.Tensor) -> torch.Tensor:
        return _fft.conv2d_circular(self.L, z)

    def _lift_abs(self, z: torch.Tensor) -> torch.Tensor:
        return _fft.conv2d_circular(self.Labs, z)

    def operator(self) -> Any:
        """The lifted operator for the solver (not trusted). IBP: the layer module's rotated form
        T Ŵ T = blkdiag(W, |W|), two c × c per-frequency resolvents instead of one 2c × 2c; Metzler: the
        2c-channel conv with ``diag_min`` = the smallest origin tap (the α of ``alpha_avg``)."""
        if self._op is None:
            self._op = kernel_operator(self.L, self.N) if self.metzler else LiftOperator(self.K, self.N)
        return self._op

    def box(self, lo: torch.Tensor, hi: torch.Tensor, points: Optional[List[torch.Tensor]] = None):
        """``(z̲, z̄, stats, bad)`` over the input box [lo, hi]; ``points``: a list the lifted fixed point
        [z̄; z̲] (B, 2c, N, N) of the solve is appended to (the witness)."""
        B, c, N = lo.shape[0], self.c, self.N
        if lo.shape[1:] != (self.U.shape[1], N, N):
            raise DomainError(f"conv DEQ: expected inputs (B, {self.U.shape[1]}, {N}, {N}), got {tuple(lo.shape)}")
        vlo, vhi = circular_conv_box(self.U, self.b, lo, hi)
        vhat = torch.cat([vhi, vlo], dim=1)
        if not self.valid:
            inf = torch.full((B, c, N, N), math.inf, dtype=DT, device=lo.device)
            if points is not None:
                points.append(torch.full((B, 2 * c, N, N), math.nan, dtype=DT, device=lo.device))
            return -inf, inf, None, torch.ones(B, dtype=torch.bool, device=lo.device)
        zh, st = fixed_point(self.operator(), vhat, **self.solver_options)
        if points is not None:
            points.append(zh)
        with direct_conv():
            _, rho = residual_rho(self._lift, self._lift_abs, vhat, zh, terms=self.terms)
            e = error_bound(lambda r: self._lift_abs(r.view_as(zh)).reshape(B, -1), rho.reshape(B, -1),
                            self.m, self.mu, self.eta).view_as(zh)
        zu = up(zh[:, :c] + e[:, :c])
        zl = down(zh[:, c:] - e[:, c:]).clamp(min=0.0)
        bad = ~(torch.isfinite(zu).flatten(1).all(1) & torch.isfinite(zl).flatten(1).all(1)
                & (zl <= zu).flatten(1).all(1))
        if st.status is not SolverStatus.CONVERGED:
            bad = torch.ones_like(bad)
        zero = torch.zeros_like(zl)
        return (torch.where(bad[:, None, None, None], zero, zl), torch.where(bad[:, None, None, None], zero, zu),
                st, bad)


class ConvLinfPlan:
    """A conv ℓ∞ model as a chain of sound interval transformers and conv DEQ boxes, with a linear head
    folded into the margins (module docstring). Plan protocol of :mod:`.driver` (ℓ∞ only)."""

    def __init__(self, model: nn.Module, *, solver_options: Optional[Mapping[str, Any]] = None,
                 device: Any = None) -> None:
        self.model = model
        self.device = torch.device("cpu") if device is None else torch.device(device)
        mods = [m for m in model_blocks(model) if not isinstance(m, nn.Identity)]
        if not mods or not isinstance(mods[-1], nn.Linear):
            raise DomainError("model: the block list must end in an nn.Linear head (folded into the margins); got "
                              f"{[type(m).__name__ for m in mods[-1:]]}")
        head = mods[-1]
        opts = {**CONV_LINF_SOLVER, **dict(solver_options or {})}
        self.solver_options = opts
        self.stages: List[Any] = []
        for m in mods[:-1]:
            if is_conv_deq(m):
                self.stages.append(ConvDEQBox(m, opts, self.device))
            else:
                bl = linf_block(m)
                if bl is not None:
                    self.stages.append(bl)
        self.deqs = [s for s in self.stages if isinstance(s, ConvDEQBox)]
        self.G = as_f64(to_numpy64(head.weight), self.device)
        self.b_y = (torch.zeros(head.out_features, dtype=DT, device=self.device) if head.bias is None
                    else as_f64(to_numpy64(head.bias), self.device))
        self.p = self.G.shape[0]

    # -- provenance ----------------------------------------------------------------------------
    def info(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        lifts = " + ".join(dict.fromkeys("metzler" if d.metzler else "ibp" for d in self.deqs)) or "ibp"
        consts = {"deq": [d.constants() for d in self.deqs], "interval": f"{lifts} (conv lift)"}
        prov = {"stages": [({"deq": d.provenance} if isinstance(d, ConvDEQBox) else {"block": d.name, **d.provenance})
                           for d in self.stages],
                "solver_options": dict(self.solver_options)}
        return consts, prov

    def inputs(self, x: Any, y: Any) -> Tuple[torch.Tensor, torch.Tensor]:
        """``x`` as float64 and ``y`` as long labels on the plan's device (:func:`.driver.plan_inputs`)."""
        return plan_inputs(x, y, self.device, self.p)

    # -- the chain -----------------------------------------------------------------------------
    def boxes(self, lo: torch.Tensor, hi: torch.Tensor) -> Dict[str, Any]:
        """Sound box of the head's input over [lo, hi] (rows flattened), the DEQ solver statistics and
        the rows whose box is void (``bad``: a solve failed or a bound is not finite)."""
        B = lo.shape[0]
        bad = torch.zeros(B, dtype=torch.bool, device=lo.device)
        stats = []
        points: List[torch.Tensor] = []
        with direct_conv():
            for s in self.stages:
                if isinstance(s, ConvDEQBox):
                    lo, hi, st, b = s.box(lo, hi, points)
                    stats.append(st)
                    bad = bad | b
                else:
                    lo, hi = s.box(lo, hi)
        lo, hi = lo.reshape(B, -1), hi.reshape(B, -1)
        if lo.shape[1] != self.G.shape[1]:
            raise DomainError(f"model: the head expects {self.G.shape[1]} features, the blocks give {lo.shape[1]}")
        bad = bad | ~(torch.isfinite(lo).all(1) & torch.isfinite(hi).all(1))
        return {"lower": lo, "upper": hi, "stats": stats, "bad": bad, "points": points}

    @staticmethod
    def _worst(stats: Sequence[Any]) -> Any:
        stats = [s for s in stats if s is not None]
        if not stats:
            return None
        failed = [s for s in stats if s.status is not SolverStatus.CONVERGED]
        return failed[0] if failed else max(stats, key=lambda s: s.iterations)

    def _margins(self, lo: torch.Tensor, hi: torch.Tensor, labels: torch.Tensor) -> Dict[str, Any]:
        r = self.boxes(lo, hi)
        bad = r["bad"]
        zl = torch.where(bad[:, None], torch.zeros_like(r["lower"]), r["lower"])
        zu = torch.where(bad[:, None], torch.zeros_like(r["upper"]), r["upper"])
        m = folded_margins(self.G, self.b_y, zl, zu, labels, sound=True)
        m[bad] = -math.inf
        m[torch.arange(len(labels), device=m.device), labels] = math.inf
        return {"margins": m, "stats": self._worst(r["stats"]), "lower": zl, "upper": zu, "bad": bad,
                "points": r["points"]}

    def clean(self, x: torch.Tensor, labels: torch.Tensor) -> Dict[str, Any]:
        """Proved lower bounds on the exact margins at x (the chain on [x, x]) and ``correct``; ``z``: the
        witness of the clean pass — per DEQ the upper half z̄ of its lifted point on the degenerate box,
        (B, c, N, N) flattened, concatenated in DEQ order (the layout of
        :class:`deqtheory.conv_certificate.ConvChain`)."""
        r = self._margins(x, x, labels)
        correct = (r["margins"].amin(dim=1) > 0) & ~r["bad"] if self.p > 1 else ~r["bad"]
        z = [x.new_zeros((x.shape[0], 0))] + [zh[:, :d.c].flatten(1) for zh, d in zip(r["points"], self.deqs)]
        return {**r, "correct": correct, "z": torch.cat(z, dim=1)}

    def interval_margins(self, x: torch.Tensor, labels: torch.Tensor, pert: Perturbation) -> Dict[str, Any]:
        """Proved lower bounds on the margins over the ε-box; ``zhat``: the witness — per DEQ its lifted point
        [z̄; z̲] (B, 2c, N, N) flattened, concatenated in DEQ order."""
        lo, hi = input_box(x, pert.eps, pert.domain)
        r = self._margins(lo, hi, labels)
        zhat = torch.cat([x.new_zeros((x.shape[0], 0))] + [zh.flatten(1) for zh in r["points"]], dim=1)
        return {**r, "valid": all(d.valid for d in self.deqs), "zhat": zhat}

    # -- witnesses (deqtheory.classifier_certificate) -------------------------------------------
    def certificates(self) -> Dict[str, Any]:
        """The :class:`deqtheory.certificates.Certificate` of every proved constant, named
        ``<condition>@<k>`` for the k-th conv DEQ (re-verified on that stage's W kernel)."""
        return {f"{name}@{k}": c for k, d in enumerate(self.deqs) for name, c in d.certificates.items()}

    def witness_meta(self) -> Dict[str, Any]:
        """What the numpy re-check must know: the witness layout (the lifts follow from the file's kinds)."""
        return {"interval": "conv", "kind": "classifier", "deqs": [d.kind for d in self.deqs],
                "layout": "conv: z = per DEQ z (c, N, N), z_lift = per DEQ [z_upper; z_lower] (2c, N, N); "
                          "flattened, concatenated in DEQ order"}


def certify_conv_linf(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                      batch_size: int = 100, clip: bool = True, witness: bool = False,
                      solver_options: Optional[Mapping[str, Any]] = None, device: Any = None) -> CertifyOutput:
    """Registry certifier ``conv_linf`` (ℓ∞ only): :func:`~.driver.run_certifier` on a
    :class:`ConvLinfPlan`; boxes intersected with [0, 1]^d when ``clip``. ``witness=True``: also the proofs
    (:meth:`ConvLinfPlan.certificates`, the clean and lifted points; re-checked in numpy by
    ``deqtheory verify-certification``, :mod:`deqtheory.conv_certificate`)."""
    if str(norm) != "inf":
        raise DomainError(f"conv_linf certifies l_inf balls only, got norm={norm!r}")
    model = unwrap(model)
    was = model.training
    model.eval()
    try:
        plan = ConvLinfPlan(model, solver_options=solver_options, device=device)
        return run_certifier(plan, x, y, name="conv_linf", norm="inf", eps=eps, batch_size=batch_size, clip=clip,
                             witness=witness)
    finally:
        model.train(was)
