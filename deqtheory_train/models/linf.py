r"""ℓ∞ certified-training models: IBP-MonDEQ (wei2022), CerDEQ (li2022), NEMON (jafarpour2022), plus a
plain MonDEQ (the wei2022 Fig. 2 baseline) — all :class:`LinfDEQClassifier`:
``Normalize → Flatten → (Linear → ReLU)* → dense DEQ layer → readout``, registered in
:mod:`deqtheory_train.registry` as ``ibp_mondeq_linf``, ``cerdeq_linf``, ``nemon_linf``, ``mondeq_linf``.
Their losses (``ibp_elided``, ``cerdeq``, ``inclusion``) live in :mod:`deqtheory_train.losses`.

Architecture (decision). wei2022 Table 1 "DEQ-3" is ``Conv-128-3×3 → IBPMon-128-3×3 → (BN, 4×4
pool) → FC-10``. The sound certifier (:mod:`deqtheory_train.certify`) handles dense DEQs with dense
pre-blocks only, so the configs use the **dense approximation** ``Linear(784, h) → ReLU →
IBP-MonDEQ(n) → FC-10`` (no BN: BN in training mode is not a fixed function of the input; li2022's BN
replacement is built into :class:`~deqtheory_train.layers.CerDEQLayer`). NEMON follows jafarpour2022
§8.1: one DEQ layer of width 100 directly on the pixels.

Interval bounds during training (``interval_bounds``) are *float* IBP (no outward rounding, no
widening by the fixed-point error) and are differentiable: pre-blocks by centre/radius IBP (wei2022
eq. 2.3), then the lifted DEQ ẑ = σ(M̂ẑ + [v̄; v̲]) solved by
:func:`deqtheory_train.solvers.deq_solve` with implicit gradients, where M̂ is

* the IBP lift ``[[W₊, W₋], [W₋, W₊]]`` on ``[z̄; z̲]`` (wei2022 eq. 3.3/3.6; CerDEQ li2022 eq. 5);
* the Metzler lift ``[[⌈W⌉ᴹ, ⌊W⌋ᴹ], [⌊W⌋ᴹ, ⌈W⌉ᴹ]]`` (jafarpour2022 eq. 6: ⌊W⌋ᴹ = off-diagonal
  negative entries, ⌈W⌉ᴹ = the rest, diagonal included) for NEMON.

The same lifts as :func:`deqtheory.intervals.ibp_lift` / :func:`deqtheory.intervals.metzler_lift`
(:mod:`deqtheory_train.certify.boxes`, ``sound=False``; tested). The last layer is folded into the margins (wei2022 App. B "elide", jafarpour2022 eq. 10):
``m̲_j = (g_y − g_j)₊ᵀz̲ + (g_y − g_j)₋ᵀz̄ + b_y,y − b_y,j`` (m̲_y = 0). **Certificates are never taken
from these float bounds**: use the registered certifier ``deq_linf`` (sound, :mod:`deqtheory_train.certify`).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..certify.blocks import Readout
from ..certify.boxes import affine_box, folded_margins, ibp_lift_t, metzler_lift_t
from ..data import Normalize
from ..layers.dense import CerDEQLayer, IBPMonDEQLayer, MonDEQLayer, NEMONLayer
from ..parametrize import m_warmup
from ..solvers import deq_solve
from .common import relu_stack

__all__ = ["LinfDEQClassifier", "FAMILIES", "linf_builder"]

#: The one table of the ℓ∞ builder's families: config key (``family=``, registry ``<key>_linf``) → the
#: dense DEQ layer class, whose ``kind`` is the layer and file kind (``nemon`` → ``noneuclidean``;
#: ``ibp_mondeq`` with ``gamma_variant`` → ``ibp_mondeq_gamma``).
FAMILIES: Dict[str, type] = {"ibp_mondeq": IBPMonDEQLayer, "cerdeq": CerDEQLayer, "nemon": NEMONLayer,
                             "mondeq": MonDEQLayer}


class LinfDEQClassifier(nn.Module):
    r"""``Normalize → Flatten → (Linear → ReLU)* → dense DEQ → readout`` on raw [0, 1] pixels.

    ``family`` ∈ {``ibp_mondeq`` (:class:`IBPMonDEQLayer`, margin ``m``, optional Γ variant),
    ``cerdeq`` (:class:`CerDEQLayer`), ``nemon`` (:class:`NEMONLayer`, ``nemon_gamma``),
    ``mondeq`` (:class:`MonDEQLayer`, ``m`` — the plain MonDEQ of Winston & Kolter)}.
    ``pre_hidden``: widths of the explicit Linear+ReLU blocks before the DEQ (the dense stand-in
    for DEQ-3's first conv). ``init``: ``"ibp"`` re-initialises the explicit Linear weights (and the
    DEQ input matrix U, an explicit layer too) N(0, 2π/fan_in²) (Shi et al. 2021 IBP init, used by
    wei2022 App. B on MNIST); for CerDEQ ``U₀`` gets li2022 Prop 3.5's σ = √π/(√2·n_u) (see
    docs/results_linf.md for the reading of the printed formula).

    ``m_warmup_eps_train``: if set (IBP-MonDEQ only), :meth:`set_training_eps` puts the current
    margin at ``m + (0.99 − m)(1 − ε/ε_train)`` (wei2022 App. B). The current m is stored in the
    buffer ``m_current`` so a saved model is the function that was trained.

    Protocol: ``forward(x) → logits``; ``interval_bounds(lo, hi) → dict`` (float, differentiable);
    ``interval_logits(lo, hi)``; ``interval_margins(lo, hi, y)``; ``certify_blocks()`` (for
    :mod:`deqtheory_train.certify`); ``default_certifier = "deq_linf"``.
    """

    default_certifier = "deq_linf"

    def __init__(self, input_shape: Sequence[int], num_classes: int, *, family: str = "ibp_mondeq",
                 width: int = 128, pre_hidden: Sequence[int] = (), normalize: Optional[Mapping[str, Sequence[float]]] = None,
                 m: float = 0.1, gamma_variant: bool = False, gamma: float = 3.0, nemon_gamma: float = 0.0,
                 n_iter: int = 5, s_max: float = 0.999, s_init: float = 0.9, layer_scale: Optional[float] = None,
                 init: str = "ibp", seed: int = 0, m_warmup_eps_train: Optional[float] = None,
                 interval: Optional[str] = None, lift_solver: Optional[Mapping[str, Any]] = None,
                 solver: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__()
        if family not in FAMILIES:
            raise ValueError(f"family: expected one of {tuple(FAMILIES)}, got {family!r}")
        if init not in ("ibp", "default"):
            raise ValueError(f"init: expected 'ibp' or 'default', got {init!r}")
        self.family = family
        self.input_shape = tuple(int(s) for s in input_shape)
        d = int(np.prod(self.input_shape))
        self.norm = Normalize(**normalize) if normalize else None
        g = torch.Generator().manual_seed(int(seed))
        widths = [d] + [int(h) for h in pre_hidden]
        self.pre = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        if init == "ibp":
            with torch.no_grad():
                for lin in self.pre:
                    lin.weight.normal_(0.0, math.sqrt(2 * math.pi) / lin.in_features, generator=g)
                    lin.bias.zero_()
        d_deq = widths[-1]
        opts = dict(solver or {})
        p = int(num_classes)
        kw: Dict[str, Any] = {"seed": int(seed), **opts}
        hyper = {"ibp_mondeq": dict(m=m, gamma_variant=gamma_variant, gamma=gamma),
                 "cerdeq": dict(n_iter=n_iter, s_max=s_max, s_init=s_init),
                 "nemon": dict(gamma=nemon_gamma), "mondeq": dict(m=m)}[family]
        if layer_scale is not None and family != "cerdeq":
            kw["scale"] = layer_scale
        self.layer = FAMILIES[family](d_deq, int(width), p, **hyper, **kw)
        if init == "ibp":
            with torch.no_grad():
                Upar = self.layer.U0 if family == "cerdeq" else getattr(self.layer, "U", None)
                if isinstance(Upar, nn.Parameter):
                    std = (math.sqrt(math.pi / 2) / d_deq) if family == "cerdeq" else math.sqrt(2 * math.pi) / d_deq
                    Upar.normal_(0.0, std, generator=g)
        self.interval = interval or ("metzler" if self.layer.kind == "noneuclidean" else "ibp")
        if self.interval not in ("ibp", "metzler"):
            raise ValueError(f"interval: expected 'ibp' or 'metzler', got {self.interval!r}")
        ls = {"f_solver": "alpha_avg" if self.interval == "metzler" else "pr", "f_tol": 1e-4, "f_max_iter": 300,
              "f_stop_mode": "rel", "grad": "implicit"}
        ls.update(dict(lift_solver or {}))
        self.lift_solver = ls
        self.m_warmup_eps_train = None if m_warmup_eps_train is None else float(m_warmup_eps_train)
        if self.m_warmup_eps_train is not None and family != "ibp_mondeq":
            raise ValueError("m_warmup_eps_train: only for family 'ibp_mondeq'")
        m0 = float(self.layer.m) if family == "ibp_mondeq" else 0.0
        self.register_buffer("m_current", torch.tensor(m0, dtype=torch.float64))
        self.last_interval_info = None

    # -- m warm-up ---------------------------------------------------------------------------
    def _sync_m(self) -> None:
        if self.family == "ibp_mondeq":
            mc = float(self.m_current)
            if self.layer.m != mc:
                self.layer.m = mc

    def set_training_eps(self, eps: float) -> None:
        """wei2022 App. B m warm-up (no-op unless ``m_warmup_eps_train`` is set)."""
        if self.m_warmup_eps_train is None:
            return
        self.m_current.fill_(m_warmup(self.layer.m_target, eps, self.m_warmup_eps_train))
        self._sync_m()

    # -- forward -------------------------------------------------------------------------------
    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return relu_stack(self.norm, self.pre, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._sync_m()
        return self.layer.readout(self.layer(self._features(x)))

    def lift(self, W: torch.Tensor) -> torch.Tensor:
        return ibp_lift_t(W) if self.interval == "ibp" else metzler_lift_t(W)

    def lifted_system(self, lower: torch.Tensor, upper: torch.Tensor):
        """The lifted DEQ of the input box: ``(M̂, v̂ = [v̄; v̲], pre, input)`` with ``pre`` the (lo, hi)
        pre-activation boxes of the explicit layers and ``input`` the (normalised, flattened) box (float)."""
        self._sync_m()
        lo, hi = lower, upper
        if self.norm is not None:                    # σ > 0: increasing coordinatewise
            lo, hi = self.norm(lo), self.norm(hi)
        lo, hi = lo.flatten(1), hi.flatten(1)
        inp = (lo, hi)
        pre: List[Tuple[torch.Tensor, torch.Tensor]] = []
        for lin in self.pre:
            lo, hi = affine_box(lin.weight, lin.bias, lo, hi, sound=False)
            pre.append((lo, hi))
            lo, hi = lo.clamp(min=0), hi.clamp(min=0)
        vlo, vhi = affine_box(self.layer.input_matrix(), self.layer.b, lo, hi, sound=False)
        return self.lift(self.layer.weight()), torch.cat([vhi, vlo], 1), pre, inp

    def interval_bounds(self, lower: torch.Tensor, upper: torch.Tensor) -> Dict[str, Any]:
        """Float interval bounds (training only): ``zl, zu`` (box of z*), ``pre`` — list of
        (lo, hi) pre-activation boxes (explicit layers, then the DEQ's ``M̂ẑ + v̂``), ``input``
        — the (normalised, flattened) input box."""
        self._sync_m()
        M, vhat, pre, inp = self.lifted_system(lower, upper)
        zh, info = deq_solve(M, vhat, **self.lift_solver)
        self.last_interval_info = info
        n = self.layer.n
        a = zh @ M.T + vhat
        pre.append((a[:, n:], a[:, :n]))
        return {"zl": zh[:, n:], "zu": zh[:, :n], "pre": pre, "input": inp}

    def interval_logits(self, lower: torch.Tensor, upper: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(y_lower, y_upper) boxes of the logits (float; for the generic ``ibp`` loss)."""
        r = self.interval_bounds(lower, upper)
        G, by = self.layer.G, self.layer.b_y
        Gp, Gm = G.clamp(min=0), G.clamp(max=0)
        return r["zl"] @ Gp.T + r["zu"] @ Gm.T + by, r["zu"] @ Gp.T + r["zl"] @ Gm.T + by

    def interval_margins(self, lower: torch.Tensor, upper: torch.Tensor, y: torch.Tensor
                         ) -> Tuple[torch.Tensor, Dict[str, Any]]:
        """Folded margins m̲ (B, p) (entry y = 0) and the :meth:`interval_bounds` dict."""
        r = self.interval_bounds(lower, upper)
        return folded_margins(self.layer.G, self.layer.b_y, r["zl"], r["zu"], y, sound=False), r

    # -- certification -------------------------------------------------------------------------
    def certify_blocks(self) -> List[nn.Module]:
        """Block list for :func:`deqtheory_train.certify.prepare` (Readout made on the fly)."""
        self._sync_m()
        out: List[nn.Module] = []
        if self.norm is not None:
            out.append(self.norm)
        out.append(nn.Flatten())
        for lin in self.pre:
            out += [lin, nn.ReLU()]
        return out + [self.layer, Readout(self.layer)]


def linf_builder(family: str) -> Any:
    """The registry builder of ``family``: ``LinfDEQClassifier(input_shape, num_classes, family=family, **kw)``
    (a :func:`functools.partial`, so config keywords are checked against the class's signature)."""
    if family not in FAMILIES:
        raise ValueError(f"family: expected one of {tuple(FAMILIES)}, got {family!r}")
    return functools.partial(LinfDEQClassifier, family=family)

