r"""Model builders of the ℓ2 certified-training pipelines (havens2023 §4, Table 1).

Registered with :func:`deqtheory_train.experiment.register_model` on import (``experiment``
imports this module lazily, so ``deqtheory-train list`` shows them):

* ``lipmondeq`` — Normalize → Flatten → :class:`~deqtheory_train.layers.dense.LipMonDEQLayer`
  (m = 1, ‖U‖₂ ≤ lip·m, havens2023 §4.2 "spectral normalization on U and m = 1") → its readout.
* ``lben_from_lipmondeq`` — the LBEN of havens2023 Thm 3.2 (general G): ``init_from`` (a
  ``model.npz`` of a ``lipmondeq`` run) is converted with :func:`deqtheory.convert.mondeq_to_lben`
  and loaded into an :class:`~deqtheory_train.layers.dense.LBENLayer` by
  :meth:`LBENLayer.from_conversion`; before fine-tuning its function equals the source's.
* ``convsll`` — Normalize → channel zero-padding (an ℓ2 isometry) → ``depth`` ×
  :class:`~deqtheory_train.layers.explicit.SLLConv2d` (circular padding) → Flatten → Linear head.
* ``convlben_from_sll`` — ``init_from`` a ``convsll`` run; the SLL stack becomes one
  :class:`~deqtheory_train.layers.conv.ConvLBEN` by :meth:`ConvLBEN.from_sll` (havens2023 Thm 3.5,
  §4.1), the Normalize / padding / head are copied. The kernel supports at conversion are stored as
  buffers (``support_<name>``) for the §4.1 ℓ1 border penalty (loss ``offset_ce_border``).
* ``convlben_dag_from_sll`` — as ``convlben_from_sll``, but the body is a
  :class:`~deqtheory_train.layers.conv_dag.ConvDAGLBEN` (:meth:`ConvDAGLBEN.from_sll`): an LBEN
  whose ``W`` stays block strictly lower triangular while it is fine-tuned, so each step is one
  exact forward substitution with autograd; certified as its eq. (7) ``ConvLBEN`` (``to_lben``).

All conv models are :class:`ConvClassifier` s, certified by the ``conv_l2`` certifier of
:mod:`deqtheory_train.certify` (ℓ2 only). ``init_from`` is read whenever the model is built, also
when a ``model.npz`` of the fine-tuned run is loaded for certification (its weights are then
overwritten by the stored ones): keep the source run's ``model.npz`` in place.
"""
from __future__ import annotations

import math
import pathlib
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import data as D
from . import train as T
from .experiment import ConfigError, load_model_file, register_model
from .layers.conv import ConvLBEN
from .layers.conv_dag import ConvDAGLBEN
from .layers.dense import LBENLayer, LipMonDEQLayer
from .layers.explicit import SLLConv2d

__all__ = ["ChannelPad", "ConvClassifier", "build_lipmondeq", "build_lben_from_lipmondeq", "build_convsll",
           "build_convlben_from_sll", "build_convlben_dag_from_sll", "border_penalty",
           "lben_from_lipmondeq_model", "convlben_from_sll_model", "convlben_dag_from_sll_model"]

_SOLVER_KW = ("f_solver", "f_tol", "f_max_iter", "f_stop_mode", "b_solver", "b_tol", "b_max_iter",
              "b_stop_mode", "grad", "alpha")


def _solver_kw(kw: Mapping[str, Any]) -> Dict[str, Any]:
    bad = set(kw) - set(_SOLVER_KW)
    if bad:
        raise ConfigError(f"model.kwargs: unknown key(s) {sorted(bad)}")
    return dict(kw)


def _normalize(normalize: Optional[Mapping[str, Sequence[float]]]) -> nn.Module:
    return D.Normalize(**normalize) if normalize else nn.Identity()


def _source(init_from: Any) -> nn.Module:
    if not isinstance(init_from, str):
        raise ConfigError("model.kwargs.init_from: the path of the source run's model.npz")
    p = pathlib.Path(init_from)
    if not p.exists():
        raise ConfigError(f"model.kwargs.init_from: {p} does not exist (run the source config first)")
    model, _ = load_model_file(p)
    return model


# ----------------------------------------------------------------------------------------------
# (a) Lip-MonDEQ → LBEN (dense)
# ----------------------------------------------------------------------------------------------

class DenseDEQClassifier(nn.Sequential):
    """``nn.Sequential(Normalize, Flatten, layer, Readout(layer))`` with ``default_certifier = "deq"``."""

    default_certifier = "deq"

    @property
    def deq(self) -> nn.Module:
        return self[2]


def _dense_classifier(norm: nn.Module, layer: nn.Module) -> DenseDEQClassifier:
    from .certify import Readout
    return DenseDEQClassifier(norm, nn.Flatten(), layer, Readout(layer))


@register_model("lipmondeq", overwrite=True)
def build_lipmondeq(input_shape: Tuple[int, ...], num_classes: int, *, width: int = 200, m: float = 1.0,
                    lip: float = 1.0, normalize: Optional[Mapping[str, Sequence[float]]] = None, seed: int = 0,
                    **solver: Any) -> DenseDEQClassifier:
    """Lip-MonDEQ (pabbaraju2021; havens2023 Table 1 row (1)): x ↦ z is ``lip``-Lipschitz (after Normalize)."""
    d = int(np.prod(input_shape))
    layer = LipMonDEQLayer(d, int(width), int(num_classes), m=m, lip=lip, seed=seed, **_solver_kw(solver))
    return _dense_classifier(_normalize(normalize), layer)


@register_model("lben_from_lipmondeq", overwrite=True)
def build_lben_from_lipmondeq(input_shape: Tuple[int, ...], num_classes: int, *, init_from: str,
                              **solver: Any) -> DenseDEQClassifier:
    """LBEN initialised from a trained Lip-MonDEQ by havens2023 Thm 3.2 (general G, L = ‖G‖₂‖U‖₂/m)."""
    return lben_from_lipmondeq_model(_source(init_from), **solver)


def lben_from_lipmondeq_model(src: nn.Module, **solver: Any) -> DenseDEQClassifier:
    """The conversion of :func:`build_lben_from_lipmondeq` applied to an in-memory ``lipmondeq``
    model (the LBEN gets the dtype of the source's parameters)."""
    from deqtheory import convert

    layer = src[2] if isinstance(src, nn.Sequential) and len(src) > 2 else None
    if not isinstance(layer, LipMonDEQLayer):
        raise ConfigError(f"init_from: expected a lipmondeq model, got {type(src).__name__}")
    e = layer.export_deq()
    pr = layer.export_params()
    conv = convert.mondeq_to_lben(pr.A, pr.B, layer.m, e["U"], e["G"], e["b"], e["b_y"])
    opts = {k: v for k, v in layer.solver_options.items() if k in _SOLVER_KW}
    opts.update(_solver_kw(solver))
    lben = LBENLayer.from_conversion(conv, dtype=layer.b.dtype, **opts)
    lben.conversion_info = {"L": conv.L, "L_certified": conv.L_certified, "W_rel": conv.residuals.get("W_rel"),
                            "certificate": conv.certificate.status.value}
    norm = src[0]
    return _dense_classifier(norm, lben)


# ----------------------------------------------------------------------------------------------
# (b) conv SLL → conv LBEN
# ----------------------------------------------------------------------------------------------

class ChannelPad(nn.Module):
    """``(B, c_in, N, N) → (B, c, N, N)``: zero channels appended (an ℓ2 isometry, Lipschitz 1)."""

    def __init__(self, c_in: int, c: int) -> None:
        super().__init__()
        if c < c_in:
            raise ConfigError(f"channels: {c} < input channels {c_in}")
        self.c_in, self.c = int(c_in), int(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.c == self.c_in:
            return x
        z = x.new_zeros((x.shape[0], self.c - self.c_in) + tuple(x.shape[2:]))
        return torch.cat([x, z], dim=1)


class ConvClassifier(nn.Module):
    r"""``Normalize → ChannelPad → body → Flatten → Linear``. ``body`` is an ``nn.ModuleList`` of
    :class:`SLLConv2d` (explicit, 1-Lipschitz) or one :class:`ConvLBEN` (output = its readout
    ``Gz* + b_y``, L-Lipschitz). Certified by ``conv_l2`` (:mod:`deqtheory_train.certify`)."""

    default_certifier = "conv_l2"

    def __init__(self, norm: nn.Module, pad: ChannelPad, body: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.norm, self.pad, self.body, self.head = norm, pad, body, head

    @property
    def is_lben(self) -> bool:
        return isinstance(self.body, (ConvLBEN, ConvDAGLBEN))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pad(self.norm(x))
        if isinstance(self.body, ConvDAGLBEN):
            return self.body.forward_readout(h)
        if isinstance(self.body, ConvLBEN):
            return self.body.readout(self.body(h))
        for layer in self.body:
            h = layer(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))

    @property
    def last_solve_stats(self):
        return getattr(self.body, "last_stats", None) if self.is_lben else None

    def border_penalty(self) -> torch.Tensor:
        """Σ |kernel entries outside the support recorded at conversion| (havens2023 §4.1); 0 for SLL."""
        return border_penalty(self)


def border_penalty(model: nn.Module) -> torch.Tensor:
    base = T.unwrap(model)
    body = getattr(base, "body", None)
    tot = None
    if isinstance(body, (ConvLBEN, ConvDAGLBEN)):
        for name in ("G", "U", "V", "S", "Ut"):
            mask = getattr(base, f"support_{name}", None)
            if mask is None:
                continue
            term = (getattr(body, name).abs() * (~mask).to(getattr(body, name).dtype)).sum()
            tot = term if tot is None else tot + term
    if tot is None:
        p = next(base.parameters())
        return p.new_zeros(())
    return tot


@register_model("convsll", overwrite=True)
def build_convsll(input_shape: Tuple[int, ...], num_classes: int, *, channels: int = 4, hidden: int = 8,
                  depth: int = 3, kernel_size: int = 3, normalize: Optional[Mapping[str, Sequence[float]]] = None,
                  seed: int = 0) -> ConvClassifier:
    """Conv SLL (havens2023 §4.2 row (2), small): ``depth`` circular-padding SLL conv layers on
    ``channels`` state channels (input zero-padded), ``hidden`` inner channels, ``kernel_size`` taps."""
    c_in, N = int(input_shape[0]), int(input_shape[-1])
    g = torch.Generator().manual_seed(seed)
    layers = nn.ModuleList(SLLConv2d(channels, hidden, kernel_size) for _ in range(int(depth)))
    with torch.no_grad():
        for l in layers:
            l.kernel.copy_(torch.randn(l.kernel.shape, generator=g) * math.sqrt(2.0 / (channels * kernel_size ** 2 + hidden)))
    head = nn.Linear(channels * N * N, int(num_classes))
    return ConvClassifier(_normalize(normalize), ChannelPad(c_in, channels), layers, head)


@register_model("convlben_dag_from_sll", overwrite=True)
def build_convlben_dag_from_sll(input_shape: Tuple[int, ...], num_classes: int, *, init_from: str,
                                support_tol: float = 1e-7) -> ConvClassifier:
    """Conv DAG-LBEN initialised from a trained ``convsll``: :meth:`ConvDAGLBEN.from_sll` (the
    :meth:`ConvLBEN.from_sll` conversion, then its DAG parameters ``G, Ũ = ΛU, V``). Fine-tuning keeps
    ``W`` block strictly lower triangular, so every step is one exact forward substitution with
    autograd (no fixed-point iterations). ``support_tol`` as :func:`build_convlben_from_sll`."""
    return convlben_dag_from_sll_model(_source(init_from), support_tol=support_tol)


def convlben_dag_from_sll_model(src: nn.Module, *, support_tol: float = 1e-7) -> ConvClassifier:
    """The conversion of :func:`build_convlben_dag_from_sll` for an in-memory ``convsll`` model
    (converted in float64, then cast to the source's dtype)."""
    import copy
    src = copy.deepcopy(src)
    if not isinstance(src, ConvClassifier) or src.is_lben:
        raise ConfigError(f"init_from: expected a convsll model, got {type(src).__name__}")
    N = int(round((src.head.in_features // src.pad.c) ** 0.5))
    dt = src.head.weight.dtype
    dag = ConvDAGLBEN.from_sll([l.to(torch.float64) for l in src.body], N).to(dt)
    model = ConvClassifier(src.norm, src.pad, dag, src.head)
    for name in ("G", "Ut", "V"):
        K = getattr(dag, name).detach()
        model.register_buffer(f"support_{name}", K.abs() > support_tol * K.abs().max())
    return model


@register_model("convlben_from_sll", overwrite=True)
def build_convlben_from_sll(input_shape: Tuple[int, ...], num_classes: int, *, init_from: str,
                            support_tol: float = 1e-7, **solver: Any) -> ConvClassifier:
    """Conv LBEN initialised from a trained ``convsll`` by :meth:`ConvLBEN.from_sll` (havens2023
    Thm 3.5 per frequency). Solver for fine-tuning: PR with α = 1 (``f_solver="pr", alpha=1``; the
    converted W is nilpotent, PR converges for any α > 0 on a Ψ⁻¹-monotone W, and α = 1 needs ~18×
    fewer iterations than α = 1/‖I − W‖₂ near the conversion). ``support_tol``: kernel entries with
    ``|K| > support_tol·max|K|`` at conversion form the support kept free of the ℓ1 penalty."""
    return convlben_from_sll_model(_source(init_from), support_tol=support_tol, **solver)


def convlben_from_sll_model(src: nn.Module, *, support_tol: float = 1e-7, **solver: Any) -> ConvClassifier:
    """The conversion of :func:`build_convlben_from_sll` applied to an in-memory ``convsll`` model
    (converted in float64, then cast to the source's dtype)."""
    import copy
    src = copy.deepcopy(src)
    if not isinstance(src, ConvClassifier) or src.is_lben:
        raise ConfigError(f"init_from: expected a convsll model, got {type(src).__name__}")
    N = int(src.head.in_features // src.pad.c) ** 0.5
    N = int(round(N))
    dt = src.head.weight.dtype
    # PR converges for every α > 0 on a Ψ⁻¹-monotone W; α = 1 suits the (nearly) nilpotent converted W:
    # 4 PR iterations to relative residual 1e-5 on an MNIST batch vs 72 at the Euclidean default α = 1/‖I − W‖₂
    opts = {"f_solver": "pr", "alpha": 1.0, "f_tol": 1e-6, "f_stop_mode": "rel", "f_max_iter": 300}
    opts.update(_solver_kw(solver))
    src64 = [l.to(torch.float64) for l in src.body]
    lben = ConvLBEN.from_sll(src64, N, **opts).to(dt)
    model = ConvClassifier(src.norm, src.pad, lben, src.head)
    for name in ("G", "U", "V", "S"):
        K = getattr(lben, name).detach()
        model.register_buffer(f"support_{name}", K.abs() > support_tol * K.abs().max())
    return model


@T.register_loss("offset_ce_border", overwrite=True)
def offset_ce_border_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: T.LossContext,
                          offset: float = math.sqrt(2.0), temperature: float = 0.25, l1: float = 0.1
                          ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Offset CE (havens2023 / SLL) + ``l1`` × the §4.1 border penalty (kernel mass outside the
    support recorded at conversion; 0 for models without recorded supports)."""
    logits = model(x)
    return T.offset_cross_entropy(logits, y, offset, temperature) + l1 * border_penalty(model), logits


@T.register_loss("lipschitz_margin", overwrite=True)
def lipschitz_margin_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ctx: T.LossContext,
                          eps: float = 0.5, temperature: float = 1.0, l1: float = 0.0
                          ) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Lipschitz-margin cross-entropy (Tsuzuku et al. 2018; the GloRo form of Leino et al. 2021 with
    per-pair constants): every wrong logit is raised by :math:`arepsilon K_{yj}`, with
    :math:`K_{yj}` the ℓ2 Lipschitz constant of the margin :math:`f_y - f_j` in raw pixels that the
    certifiers of this package prove, computed differentiably:

    * Lip-MonDEQ (``DenseDEQClassifier``, layer with ``lip``): :math:`\|g_y - g_j\|_2\cdot\mathrm{lip}`
      (x ↦ z is ``lip``-Lipschitz after Normalize, pabbaraju2021 Thm 1) — the ``deq`` certifier's
      folded factor;
    * LBEN (``DenseDEQClassifier``, layer with a prescribed ``L``): :math:`\sqrt2 L` (havens2023
      Prop 2.2; the certifier may prove a smaller per-pair factor);
    * ``ConvClassifier`` (SLL stack or conv LBEN body, linear head ``h``):
      :math:`\|h_y - h_j\|_2\cdot L_{
m body}` (``L_body`` = 1 for SLL, the LBEN's ``L``) — ``conv_l2``'s factor;

    each times the Normalize factor :math:`\max_c 1/\sigma_c`. Loss:
    :math:`	au\,\mathrm{CE}((	ext{logits} + arepsilon K_{y\cdot}(1 - e_y))/	au) + l_1\cdot`
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


def _pair_norms(H: torch.Tensor) -> torch.Tensor:
    """``‖h_c − h_j‖₂`` for all pairs of rows (p × p; indexed by the labels afterwards, so the
    (B, p, D) difference tensor is never formed)."""
    return torch.linalg.vector_norm(H[:, None, :] - H[None, :, :], dim=-1)


def margin_lipschitz_factors(model: nn.Module, y: torch.Tensor) -> torch.Tensor:
    r"""``K`` (B, p): the ℓ2 Lipschitz constant (raw pixels) of each margin ``f_{y_i} − f_j`` used by
    :func:`lipschitz_margin_loss` (see there for the per-model formulas); differentiable in the
    readout/head. ``K[i, y_i]`` is the pair with itself (0 for per-pair factors)."""
    base = T.unwrap(model)
    if isinstance(base, DenseDEQClassifier):
        layer, norm = base.deq, base[0]
        if hasattr(layer, "lip") and getattr(layer, "G", None) is not None:
            G = layer.G
            K = _pair_norms(G)[y] * float(layer.lip)
        elif isinstance(layer, LBENLayer):
            K = torch.full((len(y), layer.p), math.sqrt(2.0) * float(layer.L), dtype=layer.b.dtype, device=y.device)
        else:
            raise ConfigError(f"lipschitz_margin: no Lipschitz factor for a {type(layer).__name__} layer")
    elif isinstance(base, ConvClassifier):
        norm = base.norm
        Hh = base.head.weight
        Lb = float(base.body.L) if base.is_lben else 1.0
        K = _pair_norms(Hh)[y] * Lb
    else:
        raise ConfigError(f"lipschitz_margin: expects a DenseDEQClassifier or ConvClassifier, got {type(base).__name__}")
    factor = float(norm.lipschitz_factor()) if hasattr(norm, "lipschitz_factor") else 1.0
    return K * factor
