r"""The ℓ2 Lipschitz constants of a model's margins f_y − f_j that the certifiers prove, computed
differentiably in torch (for the ``lipschitz_margin`` loss; see
:func:`deqtheory_train.losses.lipschitz_margin_loss` for the per-model formulas)."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ConfigError
from ..layers.dense import LBENLayer
from ..train import unwrap
from .conv import ConvClassifier
from .dense import DenseDEQClassifier

__all__ = ["margin_lipschitz_factors"]


def _pair_norms(H: torch.Tensor) -> torch.Tensor:
    """``‖h_c − h_j‖₂`` for all pairs of rows (p × p; indexed by the labels afterwards, so the
    (B, p, D) difference tensor is never formed)."""
    return torch.linalg.vector_norm(H[:, None, :] - H[None, :, :], dim=-1)


def margin_lipschitz_factors(model: nn.Module, y: torch.Tensor) -> torch.Tensor:
    r"""``K`` (B, p): the ℓ2 Lipschitz constant (raw pixels) of each margin ``f_{y_i} − f_j`` used by
    :func:`lipschitz_margin_loss` (see there for the per-model formulas); differentiable in the
    readout/head. ``K[i, y_i]`` is the pair with itself (0 for per-pair factors)."""
    base = unwrap(model)
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
