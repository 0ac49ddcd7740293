r"""ℓ∞ certified-training models and losses: IBP-MonDEQ (wei2022), CerDEQ (li2022), NEMON
(jafarpour2022), plus a plain MonDEQ (the wei2022 Fig. 2 baseline).

Importing this module registers (in :mod:`deqtheory_train.experiment` / :mod:`deqtheory_train.train`)

* model builders ``ibp_mondeq_linf``, ``cerdeq_linf``, ``nemon_linf``, ``mondeq_linf`` — all
  :class:`LinfDEQClassifier`: ``Normalize → Flatten → (Linear → ReLU)* → dense DEQ layer → readout``;
* losses ``ibp_elided`` (wei2022 App. B), ``cerdeq`` (li2022 §3.6), ``inclusion`` (jafarpour2022 eq. 11).

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
(tested). The last layer is folded into the margins (wei2022 App. B "elide", jafarpour2022 eq. 10):
``m̲_j = (g_y − g_j)₊ᵀz̲ + (g_y − g_j)₋ᵀz̄ + b_y,y − b_y,j`` (m̲_y = 0). **Certificates are never taken
from these float bounds**: use the registered certifier ``deq`` (sound, :mod:`deqtheory_train.certify`).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import train as T
from .experiment import register_model
from .layers.dense import CerDEQLayer, IBPMonDEQLayer, MonDEQLayer, NEMONLayer
from .parametrize import m_warmup
from .solvers import deq_solve

__all__ = ["LinfDEQClassifier", "ibp_lift_t", "metzler_lift_t", "folded_margins", "ibp_elided_loss",
           "cerdeq_loss", "inclusion_loss", "shi_regularizers", "interval_width_trace", "FAMILIES"]

FAMILIES = ("ibp_mondeq", "cerdeq", "nemon", "mondeq")


# ----------------------------------------------------------------------------------------------
# Lifts (torch mirrors of deqtheory.intervals.ibp_lift / metzler_lift)
# ----------------------------------------------------------------------------------------------

def ibp_lift_t(W: torch.Tensor) -> torch.Tensor:
    r"""wei2022 eq. 3.3: :math:`\widehat W = [[W_+, W_-], [W_-, W_+]]` acting on :math:`[\bar z; \underline z]`."""
    Wp = W.clamp(min=0)
    Wm = W - Wp
    return torch.cat([torch.cat([Wp, Wm], 1), torch.cat([Wm, Wp], 1)], 0)


def metzler_lift_t(W: torch.Tensor) -> torch.Tensor:
    r"""jafarpour2022 eq. 6 on :math:`[\bar z; \underline z]`: the off-diagonal negative part
    :math:`\lfloor W\rfloor^{\rm Mzl}` couples the bounds, the rest (diagonal included) stays."""
    eye = torch.eye(W.shape[0], dtype=torch.bool, device=W.device)
    off_neg = (W < 0) & ~eye
    B = torch.where(off_neg, W, torch.zeros_like(W))
    A = W - B
    return torch.cat([torch.cat([A, B], 1), torch.cat([B, A], 1)], 0)


def _ibp_affine(Wt: torch.Tensor, b: Optional[torch.Tensor], lo: torch.Tensor, hi: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Float IBP of rows ``x Wᵀ + b`` over [lo, hi] (centre/radius form of wei2022 eq. 2.3)."""
    c, r = (hi + lo) / 2, (hi - lo) / 2
    c = c @ Wt.T
    if b is not None:
        c = c + b
    r = r @ Wt.abs().T
    return c - r, c + r


def folded_margins(G: torch.Tensor, b_y: torch.Tensor, zl: torch.Tensor, zu: torch.Tensor, y: torch.Tensor
                   ) -> torch.Tensor:
    r"""(B, p) lower bounds :math:`\underline m_j` on :math:`f_y - f_j` over the box [zl, zu]
    (jafarpour2022 eq. 10; wei2022 App. B elision); entry y is 0."""
    C = G[y][:, None, :] - G[None, :, :]                         # (B, p, n)
    c0 = b_y[y][:, None] - b_y[None, :]
    m = torch.einsum("bpn,bn->bp", C.clamp(min=0), zl) + torch.einsum("bpn,bn->bp", C.clamp(max=0), zu) + c0
    return m


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------

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
            raise ValueError(f"family: expected one of {FAMILIES}, got {family!r}")
        if init not in ("ibp", "default"):
            raise ValueError(f"init: expected 'ibp' or 'default', got {init!r}")
        self.family = family
        self.input_shape = tuple(int(s) for s in input_shape)
        d = int(np.prod(self.input_shape))
        from .data import Normalize
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
        if family == "ibp_mondeq":
            if layer_scale is not None:
                kw["scale"] = layer_scale
            self.layer = IBPMonDEQLayer(d_deq, int(width), p, m=m, gamma_variant=gamma_variant, gamma=gamma, **kw)
        elif family == "cerdeq":
            self.layer = CerDEQLayer(d_deq, int(width), p, n_iter=n_iter, s_max=s_max, s_init=s_init, **kw)
        elif family == "nemon":
            if layer_scale is not None:
                kw["scale"] = layer_scale
            self.layer = NEMONLayer(d_deq, int(width), p, gamma=nemon_gamma, **kw)
        else:
            if layer_scale is not None:
                kw["scale"] = layer_scale
            self.layer = MonDEQLayer(d_deq, int(width), p, m=m, **kw)
        if init == "ibp":
            with torch.no_grad():
                Upar = self.layer.U0 if family == "cerdeq" else getattr(self.layer, "U", None)
                if isinstance(Upar, nn.Parameter):
                    std = (math.sqrt(math.pi / 2) / d_deq) if family == "cerdeq" else math.sqrt(2 * math.pi) / d_deq
                    Upar.normal_(0.0, std, generator=g)
        self.interval = interval or ("metzler" if family == "nemon" else "ibp")
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
        if self.norm is not None:
            x = self.norm(x)
        h = x.flatten(1)
        for lin in self.pre:
            h = torch.relu(lin(h))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._sync_m()
        return self.layer.readout(self.layer(self._features(x)))

    def lift(self, W: torch.Tensor) -> torch.Tensor:
        return ibp_lift_t(W) if self.interval == "ibp" else metzler_lift_t(W)

    def interval_bounds(self, lower: torch.Tensor, upper: torch.Tensor) -> Dict[str, Any]:
        """Float interval bounds (training only): ``zl, zu`` (box of z*), ``pre`` — list of
        (lo, hi) pre-activation boxes (explicit layers, then the DEQ's ``M̂ẑ + v̂``), ``input``
        — the (normalised, flattened) input box."""
        self._sync_m()
        lo, hi = lower, upper
        if self.norm is not None:                    # σ > 0: increasing coordinatewise
            lo, hi = self.norm(lo), self.norm(hi)
        lo, hi = lo.flatten(1), hi.flatten(1)
        inp = (lo, hi)
        pre: List[Tuple[torch.Tensor, torch.Tensor]] = []
        for lin in self.pre:
            lo, hi = _ibp_affine(lin.weight, lin.bias, lo, hi)
            pre.append((lo, hi))
            lo, hi = lo.clamp(min=0), hi.clamp(min=0)
        vlo, vhi = _ibp_affine(self.layer.input_matrix(), self.layer.b, lo, hi)
        M = self.lift(self.layer.weight())
        vhat = torch.cat([vhi, vlo], 1)
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
        return folded_margins(self.layer.G, self.layer.b_y, r["zl"], r["zu"], y), r

    # -- certification -------------------------------------------------------------------------
    def certify_blocks(self) -> List[nn.Module]:
        """Block list for :func:`deqtheory_train.certify.prepare` (Readout made on the fly)."""
        from .certify import Readout
        self._sync_m()
        out: List[nn.Module] = []
        if self.norm is not None:
            out.append(self.norm)
        out.append(nn.Flatten())
        for lin in self.pre:
            out += [lin, nn.ReLU()]
        return out + [self.layer, Readout(self.layer)]


def _builder(family: str):
    def build(input_shape, num_classes, **kw):
        return LinfDEQClassifier(input_shape, num_classes, family=family, **kw)
    build.__name__ = f"build_{family}_linf"
    build.__doc__ = f"LinfDEQClassifier(family={family!r})"
    return build


for _fam in FAMILIES:
    register_model(f"{_fam}_linf", _builder(_fam), overwrite=True)


# ----------------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------------

def _box(x: torch.Tensor, eps: float, clip: Tuple[float, float]) -> Tuple[torch.Tensor, torch.Tensor]:
    return torch.clamp(x - eps, *clip), torch.clamp(x + eps, *clip)


def _prepare(model: nn.Module, ctx: T.LossContext) -> nn.Module:
    base = T.unwrap(model)
    if str(ctx.norm) != "inf":
        raise ValueError(f"ℓ∞ losses: norm must be 'inf', got {ctx.norm!r}")
    if not hasattr(base, "interval_margins"):
        raise TypeError(f"model {type(base).__name__} has no interval_margins(lower, upper, y)")
    if hasattr(base, "set_training_eps"):
        base.set_training_eps(ctx.eps)
    return base


@T.register_loss("ibp_elided", overwrite=True)
def ibp_elided_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: T.LossContext,
                    clip: Tuple[float, float] = (0.0, 1.0)) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""wei2022 App. B / Gowal et al.: :math:`\kappa\,\mathrm{CE}(f(x), y) + (1-\kappa)\,\mathrm{CE}(-\underline m, y)`
    with the last layer elided (κ = weight of the *clean* term, the framework's ``ibp`` convention);
    applies the m warm-up of the model for the current ε."""
    base = _prepare(model, ctx)
    logits = model(x)
    clean = F.cross_entropy(logits, y)
    if ctx.eps <= 0 or ctx.kappa >= 1:
        return clean, logits
    m, _ = base.interval_margins(*_box(x, ctx.eps, clip), y)
    return ctx.kappa * clean + (1.0 - ctx.kappa) * F.cross_entropy(-m, y), logits


def shi_regularizers(bounds: Mapping[str, Any], tol: float = 0.5) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Shi et al. 2021 warm-up regularizers (used by li2022 §3.6), over the pre-activation boxes
    :math:`[l_i, u_i]` of every ReLU layer (explicit layers and the DEQ's :math:`\widehat M\hat z + \hat v`),
    with centre :math:`c_i` and radius :math:`r_i`, and the input radius :math:`r_0`:

    * tightness :math:`L_t = \frac1L\sum_i \mathrm{ReLU}(\tau - \bar r_0/\bar r_i)/\tau` (bars: means);
    * ReLU balance :math:`L_r = \frac1L\sum_i [\mathrm{ReLU}(\tau - \rho^{\mu}_i) + \mathrm{ReLU}(\tau - \rho^{v}_i)]/\tau`,
      where :math:`\rho^\mu` / :math:`\rho^v` are min(q, 1/q) of the ratios of mean / spread of
      :math:`c_i` over the provably active (:math:`l > 0`) vs inactive (:math:`u < 0`) units.
    τ = ``tol`` = 0.5 (Shi et al.'s default)."""
    lo0, hi0 = bounds["input"]
    r0 = ((hi0 - lo0) / 2).mean()
    Lt = r0.new_zeros(())
    Lr = r0.new_zeros(())
    pre = bounds["pre"]
    for lo, hi in pre:
        c, r = (hi + lo) / 2, (hi - lo) / 2
        Lt = Lt + F.relu(tol - r0 / r.mean().clamp(min=1e-12)) / tol
        act, inact = (lo > 0).to(c.dtype), (hi < 0).to(c.dtype)
        mean_act, mean_inact = (c * act).mean(), (c * inact).mean()
        dev = (c - c.mean()) ** 2
        var_act, var_inact = (dev * act).sum(), (dev * inact).sum()
        q1 = mean_act / (-mean_inact)
        q2 = var_act / var_inact
        q1 = torch.minimum(q1, 1 / q1.clamp(min=1e-12))
        q2 = torch.minimum(q2, 1 / q2.clamp(min=1e-12))
        lr = (F.relu(tol - q1) + F.relu(tol - q2)) / tol
        if bool(torch.isfinite(lr)):
            Lr = Lr + lr
    k = max(len(pre), 1)
    return Lt / k, Lr / k


@T.register_loss("cerdeq", overwrite=True)
def cerdeq_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: T.LossContext, *,
                eps_target: float, lambda_n: float = 0.25, lambda_0: float = 0.5, tol: float = 0.5,
                clip: Tuple[float, float] = (0.0, 1.0)) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""li2022 §3.6: :math:`\mathcal L = \frac{1}{1+\lambda_n}(\mathcal L_c + \lambda_n\mathcal L_n)
    + \lambda(\mathcal L_t + \mathcal L_r)`, :math:`\lambda = \lambda_0(1 - \epsilon_{now}/\epsilon)`;
    :math:`\mathcal L_c = \mathrm{CE}(-\underline m, y)` (eq. 9 with IBP, last layer elided),
    :math:`\mathcal L_n` clean CE, :math:`\mathcal L_t, \mathcal L_r` of :func:`shi_regularizers`
    (only while 0 < ε_now < ε). Defaults: λ_n = 0.25, λ₀ = 0.5 (li2022 App. E, 200-epoch CIFAR row)."""
    base = _prepare(model, ctx)
    logits = model(x)
    clean = F.cross_entropy(logits, y)
    if ctx.eps <= 0:
        return clean, logits               # natural-training epochs (L_c = L_n at ε = 0)
    m, bnd = base.interval_margins(*_box(x, ctx.eps, clip), y)
    loss = (F.cross_entropy(-m, y) + lambda_n * clean) / (1.0 + lambda_n)
    lam = lambda_0 * max(0.0, 1.0 - ctx.eps / float(eps_target))
    if lam > 0:
        Lt, Lr = shi_regularizers(bnd, tol)
        loss = loss + lam * (Lt + Lr)
    return loss, logits


@T.register_loss("inclusion", overwrite=True)
def inclusion_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: T.LossContext,
                   clip: Tuple[float, float] = (0.0, 1.0)) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""jafarpour2022 eq. 11: :math:`(1-\kappa)\,\mathcal L(f(\hat x), \hat y) + \kappa\,\mathcal L(-\underline m, \hat y)`
    with :math:`\underline m` from the embedded (Metzler) network, eq. 10. **κ weights the robust
    term** (the paper's convention, opposite to ``ibp``/``ibp_elided``): ramp it 0 → 0.75."""
    base = _prepare(model, ctx)
    logits = model(x)
    clean = F.cross_entropy(logits, y)
    if ctx.eps <= 0 or ctx.kappa <= 0:
        return clean, logits
    m, _ = base.interval_margins(*_box(x, ctx.eps, clip), y)
    return (1.0 - ctx.kappa) * clean + ctx.kappa * F.cross_entropy(-m, y), logits


# ----------------------------------------------------------------------------------------------
# Certifier wrapper (works around the clean-pass input-rounding term for non-monotone W)
# ----------------------------------------------------------------------------------------------

def _ensure_lz(plan: Any) -> None:
    r"""If ``certify`` found no ℓ2 constant L_{x→z} (NEMON: W not monotone in ℓ2), supply a proved
    one from jafarpour2022 Thm 6.1 via :func:`deqtheory.bounds.jafarpour_linf_lipschitz` with G = I
    (so the bound is on ‖Δz*‖∞ for ‖Δx‖∞): ‖Δz‖₂ ≤ √n‖Δz‖∞ ≤ √n·Lip∞·‖Δx‖∞ ≤ √n·Lip∞·‖Δx‖₂.
    ``CertificationPlan.clean`` multiplies L_{x→z} by its input-rounding radius, which is rounded up
    to the smallest subnormal even when it is 0; with L_{x→z} = inf that voids every certificate."""
    from deqtheory import bounds as dbounds
    dq = plan.deq
    c = dq.l2()
    if math.isfinite(c["L_z"]):
        return
    n = dq.n
    r = dbounds.jafarpour_linf_lipschitz(dq.Wn, dq.Un, np.eye(n))
    if not r.certified or not math.isfinite(r.value):
        return
    Lz = float(np.nextafter(math.sqrt(n) * (1 + 1e-15) * r.value * (1 + 8 * 2.0 ** -53), np.inf))
    dq._l2 = {"L_z": Lz, "L_y": c["L_y"]}
    dq.constants["L_x_to_z"] = Lz
    dq.provenance["L_x_to_z_linf"] = {"value": Lz, "theorem": r.theorem,
                                      "how": "sqrt(n) * jafarpour_linf_lipschitz(W, U, G=I) (l_inf -> l_inf), "
                                             "used only for the input-rounding term of the clean pass"}


def certify_linf(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                 batch_size: int = 500, clip: bool = True, **kw: Any):
    """Registry certifier ``deq_linf``: :func:`deqtheory_train.certify.certify_deq` for ℓ∞ with
    :func:`_ensure_lz` applied to the plan (identical results when L_{x→z} is already finite)."""
    from .certify import Perturbation, _jsonable, certify_batch, certify_deq, prepare
    from .experiment import CertifyOutput
    if str(norm) != "inf":
        return certify_deq(model, x, y, norm=norm, eps=eps, batch_size=batch_size, clip=clip, **kw)
    plan = prepare(T.unwrap(model), **kw)
    _ensure_lz(plan)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    N, E = len(y), len(eps)
    correct = np.zeros(N, dtype=bool)
    cert = np.zeros((N, E), dtype=bool)
    for s0 in range(0, N, batch_size):
        sl = slice(s0, min(N, s0 + batch_size))
        for k, e in enumerate(list(eps) or [0.0]):
            r = certify_batch(plan, x[sl], y[sl], Perturbation("inf", float(e), (0.0, 1.0) if clip else None))
            correct[sl] = r.correct.numpy()
            if E:
                cert[sl, k] = r.certified.numpy()
    consts, prov = plan.info()
    details = {"certifier": "deq_linf", "norm": "inf", "constants": _jsonable(consts), "provenance": _jsonable(prov)}
    return CertifyOutput(correct, cert, None, details)


def _register_certifier() -> None:
    from .experiment import register_certifier
    register_certifier("deq_linf", certify_linf, overwrite=True)


_register_certifier()


# ----------------------------------------------------------------------------------------------
# wei2022 Fig. 2 (right): interval width vs solver iteration
# ----------------------------------------------------------------------------------------------

@torch.no_grad()
def interval_width_trace(model: LinfDEQClassifier, x: torch.Tensor, eps: float, *, alpha: float = 0.1,
                         iters: int = 200, clip: Tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    r"""Mean over samples and coordinates of :math:`\bar z_k - \underline z_k` for k = 1..``iters``
    of the damped forward–backward iteration :math:`\hat z \leftarrow \sigma((1-\alpha)\hat z +
    \alpha(\widehat W\hat z + \hat v))` on the lifted system (3.3) (wei2022 App. B "Details for
    Figure 2": α = 0.1, MNIST, ε = 0.1). Values above 1e30 or non-finite are reported as inf."""
    model._sync_m()
    lo, hi = _box(x, eps, clip)
    if model.norm is not None:
        lo, hi = model.norm(lo), model.norm(hi)
    lo, hi = lo.flatten(1), hi.flatten(1)
    for lin in model.pre:
        lo, hi = _ibp_affine(lin.weight, lin.bias, lo, hi)
        lo, hi = lo.clamp(min=0), hi.clamp(min=0)
    vlo, vhi = _ibp_affine(model.layer.input_matrix(), model.layer.b, lo, hi)
    vhat = torch.cat([vhi, vlo], 1).double()
    M = model.lift(model.layer.weight()).double()
    n = model.layer.n
    z = torch.zeros_like(vhat)
    out = np.full(iters, np.inf)
    for k in range(iters):
        z = torch.relu((1 - alpha) * z + alpha * (z @ M.T + vhat))
        w = float((z[:, :n] - z[:, n:]).mean())
        if not math.isfinite(w) or abs(w) > 1e30:
            break
        out[k] = w
    return out


def plot_interval_widths(traces: Mapping[str, np.ndarray], path: Any, *, title: str = "") -> None:
    """wei2022 Fig. 2 (right): mean z̄_k − z̲_k vs iteration k (log scale), one curve per model;
    a curve that stops has overflowed (diverged)."""
    from .plots import _plt
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, w in traces.items():
        w = np.asarray(w, dtype=np.float64)
        k = np.arange(1, len(w) + 1)
        ok = np.isfinite(w) & (w > 0)
        ax.semilogy(k[ok], w[ok], label=label)
    ax.set_xlabel("solver iteration k (damped FB, alpha = 0.1)")
    ax.set_ylabel("mean(z_upper_k - z_lower_k)")
    ax.set_title(title or "IBP fixed point (3.3): interval width")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(str(path), dpi=120)
    plt.close(fig)


def _fig2_main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m deqtheory_train.models_linf fig2 --out PNG [--model LABEL=model.npz ...]``:
    wei2022 Fig. 2 (right) on MNIST test images (ε = 0.1, α = 0.1) for a randomly initialised plain
    MonDEQ (m = 1, Winston & Kolter) and IBP-MonDEQ (m = 0.1) of width 128, plus trained models."""
    import argparse
    import json
    import pathlib

    from . import experiment as X
    from .data import load_dataset

    ap = argparse.ArgumentParser(prog="python -m deqtheory_train.models_linf fig2")
    ap.add_argument("cmd", choices=["fig2"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", action="append", default=[], help="LABEL=path/to/model.npz")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--eps", type=float, default=0.1)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    ds = load_dataset("mnist", "test").subset(a.n)
    x = torch.from_numpy(ds.x).double()
    norm = {"mean": [0.1307], "std": [0.3081]}
    traces: Dict[str, np.ndarray] = {}
    plain = LinfDEQClassifier((1, 28, 28), 10, family="mondeq", width=128, m=1.0, normalize=norm, init="default").double()
    ibp = LinfDEQClassifier((1, 28, 28), 10, family="ibp_mondeq", width=128, m=0.1, normalize=norm, init="default").double()
    traces["MonDEQ (random init, m=1)"] = interval_width_trace(plain, x, a.eps, iters=a.iters)
    traces["IBP-MonDEQ (random init, m=0.1)"] = interval_width_trace(ibp, x, a.eps, iters=a.iters)
    for spec in a.model:
        label, path = spec.split("=", 1)
        mdl, _ = X.load_model_file(path)
        traces[label] = interval_width_trace(mdl.double(), x, a.eps, iters=a.iters)
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_interval_widths(traces, out, title=f"MNIST eps={a.eps}: IBP fixed point (3.3), {a.n} test images")
    summ = {k: {"first": float(v[0]), "last_finite": float(v[np.isfinite(v)][-1]) if np.isfinite(v).any() else None,
                "diverged": bool(not np.all(np.isfinite(v))), "iterations_finite": int(np.isfinite(v).sum())}
            for k, v in traces.items()}
    out.with_suffix(".json").write_text(json.dumps(summ, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys
    sys.exit(_fig2_main())
