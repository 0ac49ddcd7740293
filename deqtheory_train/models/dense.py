r"""Dense ℓ2 model builders (havens2023 §4, Table 1 rows (1), (4)):

* ``lipmondeq`` — Normalize → Flatten → :class:`~deqtheory_train.layers.dense.LipMonDEQLayer`
  (m = 1, ‖U‖₂ ≤ lip·m, havens2023 §4.2 "spectral normalization on U and m = 1") → its readout.
* ``lben_from_lipmondeq`` — the LBEN of havens2023 Thm 3.2 (general G): the source ``lipmondeq``
  model (``init_from``) is converted with :func:`deqtheory.convert.mondeq_to_lben` and loaded into an
  :class:`~deqtheory_train.layers.dense.LBENLayer` by :meth:`LBENLayer.from_conversion`; before
  fine-tuning its function equals the source's.

Both are :class:`DenseDEQClassifier` s, certified by the ``deq`` certifier.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Tuple

import numpy as np
from torch import nn

from deqtheory import formats

from ..certify.blocks import Readout
from ..errors import ConfigError
from ..export import to_deqtheory
from ..layers.dense import LBENLayer, LipMonDEQLayer
from .common import SOLVER_KW, normalize_or_identity, solver_kw, source_model

__all__ = ["DenseDEQClassifier", "build_lipmondeq", "build_lben_from_lipmondeq", "lben_from_lipmondeq_model"]


class DenseDEQClassifier(nn.Sequential):
    """``nn.Sequential(Normalize, Flatten, layer, Readout(layer))`` with ``default_certifier = "deq"``."""

    default_certifier = "deq"

    @property
    def deq(self) -> nn.Module:
        return self[2]


def _dense_classifier(norm: nn.Module, layer: nn.Module) -> DenseDEQClassifier:
    return DenseDEQClassifier(norm, nn.Flatten(), layer, Readout(layer))


def build_lipmondeq(input_shape: Tuple[int, ...], num_classes: int, *, width: int = 200, m: float = 1.0,
                    lip: float = 1.0, normalize: Optional[Mapping[str, Sequence[float]]] = None, seed: int = 0,
                    **solver: Any) -> DenseDEQClassifier:
    """Lip-MonDEQ (pabbaraju2021; havens2023 Table 1 row (1)): x ↦ z is ``lip``-Lipschitz (after Normalize)."""
    d = int(np.prod(input_shape))
    layer = LipMonDEQLayer(d, int(width), int(num_classes), m=m, lip=lip, seed=seed, **solver_kw(solver))
    return _dense_classifier(normalize_or_identity(normalize), layer)


def build_lben_from_lipmondeq(input_shape: Tuple[int, ...], num_classes: int, *, init_from: nn.Module,
                              **solver: Any) -> DenseDEQClassifier:
    """LBEN initialised from a trained Lip-MonDEQ by havens2023 Thm 3.2 (general G, L = ‖G‖₂‖U‖₂/m)."""
    return lben_from_lipmondeq_model(source_model(init_from), **solver)


def lben_from_lipmondeq_model(src: nn.Module, **solver: Any) -> DenseDEQClassifier:
    """The conversion of :func:`build_lben_from_lipmondeq` applied to an in-memory ``lipmondeq``
    model (the LBEN gets the dtype of the source's parameters)."""
    layer = src[2] if isinstance(src, nn.Sequential) and len(src) > 2 else None
    if not isinstance(layer, LipMonDEQLayer):
        raise ConfigError(f"init_from: expected a lipmondeq model, got {type(src).__name__}")
    conv = formats.to_lben("lipmondeq", to_deqtheory(layer))    # Thm 3.2 on the exported model
    opts = {k: v for k, v in layer.solver_options.items() if k in SOLVER_KW}
    opts.update(solver_kw(solver))
    lben = LBENLayer.from_conversion(conv, dtype=layer.b.dtype, **opts)
    lben.conversion_info = {"L": conv.L, "L_certified": conv.L_certified, "W_rel": conv.residuals.get("W_rel"),
                            "certificate": conv.certificate.status.value}
    norm = src[0]
    return _dense_classifier(norm, lben)
