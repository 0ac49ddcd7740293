r"""The tables of the training framework: model builders, losses and certifiers by name.

Plain dicts, built by importing the modules that define them (arrows point *down*: this module
imports the models, losses and certifiers; none of them imports this module or
:mod:`deqtheory_train.experiment`). Adding a family = one entry per table.

* :data:`MODELS` — ``builder(input_shape: (C, H, W), num_classes: int, **kwargs) -> nn.Module``; the
  module maps raw [0, 1] pixels (N, C, H, W) to logits (N, p); normalisation lives *inside* the model,
  so ε is always in pixel units. Optional protocol: ``interval_logits(lower, upper)`` (``ibp`` loss),
  ``last_solve_stats`` on submodules (progress bars), ``default_certifier`` (a name of :data:`CERTIFIERS`).
* :data:`LOSSES` — ``fn(model, x, y, ctx, **kwargs) -> (loss, logits)`` (:mod:`deqtheory_train.losses`).
* :data:`CERTIFIERS` — ``fn(model, x (N, C, H, W), y (N,), *, norm, eps, **kw) -> CertifyOutput``;
  ``certified[i, k]`` may be True only if *proved* that every x′ with ‖x′ − x_i‖ ≤ eps[k] (ℓ∞:
  intersected with [0, 1]^d) is classified y_i by the exact real-arithmetic function of the stored
  parameters.

:func:`accepted_kwargs` gives the keywords each entry accepts (from its signature), so a config is
checked when it is loaded.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from torch import nn

from . import losses as _L
from .certify import certify_conv, certify_deq, certify_linf
from .certify.conv_linf import certify_conv_linf
from .certify.dense import CertificationPlan
from .errors import ConfigError
from .models import conv as _conv
from .models.conv_linf import ARCHS, CERDEQ_ARCHS, conv_cerdeq_builder, conv_linf_builder
from .models import dense as _dense
from .models.common import SOLVER_KW
from .models.linf import FAMILIES, linf_builder
from .models.mlp import MLP, certify_mlp

__all__ = ["MODELS", "LOSSES", "CERTIFIERS", "build_model", "get_loss", "get_certifier", "accepted_kwargs"]

MODELS: Dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,
    "lipmondeq": _dense.build_lipmondeq,
    "lben_from_lipmondeq": _dense.build_lben_from_lipmondeq,
    "convsll": _conv.build_convsll,
    "convlben_from_sll": _conv.build_convlben_from_sll,
    "convlben_dag_from_sll": _conv.build_convlben_dag_from_sll,
    **{f"{fam}_linf": linf_builder(fam) for fam in FAMILIES},
    **{f"{arch}_linf": conv_linf_builder(arch) for arch in ARCHS},
    **{f"{arch}_linf": conv_cerdeq_builder(arch) for arch in CERDEQ_ARCHS},
}

LOSSES: Dict[str, Callable[..., Any]] = {
    "ce": _L.cross_entropy_loss,
    "offset_ce": _L.offset_cross_entropy_loss,
    "ibp": _L.ibp_loss,
    "ibp_elided": _L.ibp_elided_loss,
    "cerdeq": _L.cerdeq_loss,
    "inclusion": _L.inclusion_loss,
    "offset_ce_border": _L.offset_ce_border_loss,
    "lipschitz_margin": _L.lipschitz_margin_loss,
}

CERTIFIERS: Dict[str, Callable[..., Any]] = {
    "mlp": certify_mlp,
    "deq": certify_deq,
    "deq_ibp": functools.partial(certify_deq, interval="ibp"),
    "deq_metzler": functools.partial(certify_deq, interval="metzler"),
    "deq_sqrt2": functools.partial(certify_deq, factor="sqrt2"),
    "deq_linf": certify_linf,
    "conv_linf": certify_conv_linf,
    "conv_l2": certify_conv,
}

# Keywords forwarded through ``**kw``: to the layer's solver options (builders) or to
# :func:`deqtheory_train.certify.prepare` (the dense certifiers).
_PREPARE_KW = tuple(p for p in inspect.signature(CertificationPlan).parameters if p != "model")
_VAR_KW: Dict[Tuple[str, str], Tuple[str, ...]] = {
    **{("model", n): SOLVER_KW for n in ("lipmondeq", "lben_from_lipmondeq", "convlben_from_sll")},
    **{("certify", n): _PREPARE_KW for n in ("deq", "deq_ibp", "deq_metzler", "deq_sqrt2", "deq_linf")},
}
_TABLES = {"model": MODELS, "loss": LOSSES, "certify": CERTIFIERS}
_POSITIONAL = {"model": 2, "loss": 4, "certify": 3}       # (input_shape, num_classes) / (model, x, y, ctx) / (model, x, y)
_SUPPLIED = {"certify": ("norm", "eps")}                 # set by the config's certify.norm / certify.eps


def accepted_kwargs(kind: str, name: str) -> Optional[Tuple[str, ...]]:
    """The keyword names that ``kwargs`` of a ``kind`` (``"model"``, ``"loss"``, ``"certify"``) entry
    ``name`` may hold: its signature's keywords (after the positional inputs; minus those a
    :func:`functools.partial` fixes) plus the ones it forwards. ``None`` if unknown (no check)."""
    fn = _TABLES[kind][name]
    fixed = tuple(fn.keywords) if isinstance(fn, functools.partial) else ()
    params = list(inspect.signature(fn).parameters.values())[_POSITIONAL[kind]:]
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
             and p.name not in fixed and p.name not in _SUPPLIED.get(kind, ())]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        if (kind, name) not in _VAR_KW:
            return None
        names += [k for k in _VAR_KW[(kind, name)] if k not in fixed]
    return tuple(names)


def _lookup(kind: str, table: Dict[str, Any], name: str, err: type) -> Any:
    try:
        return table[name]
    except KeyError:
        raise err(f"{kind}: unknown {name!r}; known: {', '.join(sorted(table))}") from None


def build_model(builder: str, input_shape: Sequence[int], num_classes: int, **kwargs: Any) -> nn.Module:
    """``MODELS[builder](input_shape, num_classes, **kwargs)``; an unknown name is a :class:`ConfigError`."""
    f = _lookup("model.builder", MODELS, builder, ConfigError)
    return f(tuple(int(s) for s in input_shape), int(num_classes), **kwargs)


def get_loss(name: str) -> Callable[..., Any]:
    return _lookup("loss", LOSSES, name, ValueError)


def get_certifier(name: str) -> Callable[..., Any]:
    return _lookup("certifier", CERTIFIERS, name, ValueError)
