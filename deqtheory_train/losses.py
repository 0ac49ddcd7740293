r"""Training losses (``loss.name`` in a config; the table is :data:`deqtheory_train.registry.LOSSES`).

A loss has the signature ``fn(model, x, y, ctx: LossContext, **kwargs) -> (loss, logits)`` (``logits``
of the clean input, for the accuracy counters). Bounds used here are *float* and differentiable
(training only): certificates come from the sound certifiers of :mod:`deqtheory_train.certify`.

* ``ce`` — cross-entropy on clean logits;
* ``offset_ce`` — havens2023's loss (from SLL, Araujo et al. 2023; reference code
  ``OffsetCrossEntropy(offset=√2, temperature=1/4)``): :math:`\tau\,\mathrm{CE}((y - o\,e_c)/\tau, c)`;
  a margin of about o certifies the ℓ2 radius o/√2 for a 1-Lipschitz network;
* ``offset_ce_border`` — offset CE + ``l1`` × the havens2023 §4.1 border penalty (conv LBENs);
* ``lipschitz_margin`` — Lipschitz-margin CE with the certifiers' per-pair factors (:func:`margin_lipschitz_factors`);
* ``ibp`` — Gowal et al.'s IBP objective :math:`\kappa\,\mathrm{CE}(y(x)) + (1-\kappa)\,\mathrm{CE}(\hat y)`
  with worst-case logits from ``model.interval_logits`` over the clipped ℓ∞ ball;
* ``ibp_elided`` (wei2022 App. B), ``cerdeq`` (li2022 §3.6), ``inclusion`` (jafarpour2022 eq. 11) — the
  ℓ∞ DEQ losses on the folded margins of ``model.interval_margins``.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ConfigError
from .models.conv import border_penalty
from .models.margin_factors import margin_lipschitz_factors
from .train import LossContext, unwrap

__all__ = ["cross_entropy_loss", "offset_cross_entropy", "offset_cross_entropy_loss", "worst_case_logits", "ibp_loss",
           "ibp_elided_loss", "shi_regularizers", "cerdeq_loss", "inclusion_loss", "offset_ce_border_loss",
           "lipschitz_margin_loss"]


def _box(x: torch.Tensor, eps: float, clip: Tuple[float, float]) -> Tuple[torch.Tensor, torch.Tensor]:
    return torch.clamp(x - eps, *clip), torch.clamp(x + eps, *clip)


def cross_entropy_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext,
                       label_smoothing: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy of the clean logits."""
    logits = model(x)
    return F.cross_entropy(logits, y, label_smoothing=label_smoothing), logits


def offset_cross_entropy(logits: torch.Tensor, y: torch.Tensor, offset: float = math.sqrt(2.0),
                         temperature: float = 0.25) -> torch.Tensor:
    r""":math:`\tau\,\mathrm{CE}((\text{logits} - o\,e_y)/\tau,\ y)` (mean over the batch)."""
    if not (temperature > 0):
        raise ValueError(f"temperature: must be > 0, got {temperature}")
    shifted = logits - offset * F.one_hot(y, logits.shape[-1]).to(logits.dtype)
    return F.cross_entropy(shifted / temperature, y) * temperature


def offset_cross_entropy_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext,
                              offset: float = math.sqrt(2.0), temperature: float = 0.25
                              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """havens2023 / SLL offset cross-entropy on clean logits (module docstring)."""
    logits = model(x)
    return offset_cross_entropy(logits, y, offset, temperature), logits


def worst_case_logits(y_lower: torch.Tensor, y_upper: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Worst-case logits :math:`\hat y_c = \underline y_c,\ \hat y_j = \bar y_j\ (j\ne c)`: every
    margin :math:`\hat y_c - \hat y_j = \underline y_c - \bar y_j` is a lower bound on the true one."""
    mask = F.one_hot(y, y_upper.shape[-1]).bool()
    return torch.where(mask, y_lower, y_upper)


def ibp_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext,
             clip: Tuple[float, float] = (0.0, 1.0)) -> Tuple[torch.Tensor, torch.Tensor]:
    r""":math:`\kappa\,\mathrm{CE}(f(x)) + (1 - \kappa)\,\mathrm{CE}(\hat y)` over the ℓ∞ ball of
    radius ε (pixel units, clipped to ``clip``); ε = 0 or κ = 1 reduce to clean CE."""
    logits = model(x)
    clean = F.cross_entropy(logits, y)
    if ctx.eps <= 0 or ctx.kappa >= 1:
        return clean, logits
    if str(ctx.norm) != "inf":
        raise ValueError(f"ibp loss: only the inf-norm ball is supported, got norm {ctx.norm!r}")
    base = unwrap(model)
    if not hasattr(base, "interval_logits"):
        raise TypeError(f"ibp loss: model {type(base).__name__} has no interval_logits(lower, upper)")
    ylo, yhi = base.interval_logits(*_box(x, ctx.eps, clip))
    robust = F.cross_entropy(worst_case_logits(ylo, yhi, y), y)
    return ctx.kappa * clean + (1.0 - ctx.kappa) * robust, logits


def _prepare(model: nn.Module, ctx: LossContext) -> nn.Module:
    base = unwrap(model)
    if str(ctx.norm) != "inf":
        raise ValueError(f"ℓ∞ losses: norm must be 'inf', got {ctx.norm!r}")
    if not hasattr(base, "interval_margins"):
        raise TypeError(f"model {type(base).__name__} has no interval_margins(lower, upper, y)")
    if hasattr(base, "set_training_eps"):
        base.set_training_eps(ctx.eps)
    return base


def ibp_elided_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext,
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


def cerdeq_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext, *,
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


def inclusion_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext,
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


def offset_ce_border_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext,
                          offset: float = math.sqrt(2.0), temperature: float = 0.25, l1: float = 0.1
                          ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Offset CE (havens2023 / SLL) + ``l1`` × the §4.1 border penalty (kernel mass outside the
    support recorded at conversion; 0 for models without recorded supports)."""
    logits = model(x)
    return offset_cross_entropy(logits, y, offset, temperature) + l1 * border_penalty(model), logits


def lipschitz_margin_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: LossContext,
                          eps: float = 0.5, temperature: float = 1.0, l1: float = 0.0
                          ) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Lipschitz-margin cross-entropy (Tsuzuku et al. 2018; the GloRo form of Leino et al. 2021 with
    per-pair constants): every wrong logit is raised by :math:`\varepsilon K_{yj}`, with
    :math:`K_{yj}` the ℓ2 Lipschitz constant of the margin :math:`f_y - f_j` in raw pixels that the
    certifiers of this package prove, computed differentiably:

    * Lip-MonDEQ (``DenseDEQClassifier``, layer with ``lip``): :math:`\|g_y - g_j\|_2\cdot\mathrm{lip}`
      (x ↦ z is ``lip``-Lipschitz after Normalize, pabbaraju2021 Thm 1) — the ``deq`` certifier's
      folded factor;
    * LBEN (``DenseDEQClassifier``, layer with a prescribed ``L``): :math:`\sqrt2 L` (havens2023
      Prop 2.2; the certifier may prove a smaller per-pair factor);
    * ``ConvClassifier`` (SLL stack or conv LBEN body, linear head ``h``):
      :math:`\|h_y - h_j\|_2\cdot L_{\rm body}` (``L_body`` = 1 for SLL, the LBEN's ``L``) — ``conv_l2``'s factor;

    each times the Normalize factor :math:`\max_c 1/\sigma_c`. Loss:
    :math:`\tau\,\mathrm{CE}((\text{logits} + \varepsilon K_{y\cdot}(1 - e_y))/\tau) + l_1\cdot`
    :func:`border_penalty`. It pushes every margin towards the radius-ε certificate, which a fixed
    offset cannot do when the readout is free (margins and K grow together). ``eps`` in [0, 1] pixel
    units. Returns the clean logits."""
    if not (eps >= 0 and temperature > 0 and l1 >= 0):
        raise ConfigError(f"lipschitz_margin: need eps >= 0, temperature > 0, l1 >= 0, got {eps}, {temperature}, {l1}")
    logits = model(x)
    onehot = F.one_hot(y, logits.shape[-1]).to(logits.dtype)
    K = margin_lipschitz_factors(model, y).to(logits.dtype)
    shifted = logits + eps * K * (1 - onehot)
    loss = F.cross_entropy(shifted / temperature, y) * temperature
    if l1 > 0:
        loss = loss + l1 * border_penalty(model)
    return loss, logits
