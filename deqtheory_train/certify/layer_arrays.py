r"""The one place where the certifiers read numpy arrays out of torch layers (``export_deq``,
``export_params``, ``to_numpy``, ``to_lben``). When the torch → deqtheory bridge
(``deqtheory_train.export``) lands, switching the certifiers to it is an edit of this file only."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
from torch import nn

__all__ = ["deq_arrays", "family_weight", "sll_numpy", "conv_body_as_lben"]


def deq_arrays(layer: nn.Module) -> Dict[str, Any]:
    """``{"kind", "W", "U", "b", ...}`` float64 arrays of a dense DEQ layer (W as its parametrization
    computes it in the layer's dtype)."""
    return layer.export_deq()


def family_weight(layer: nn.Module) -> Optional[np.ndarray]:
    """Φ with sym(Φ⁻¹(I − W)) ≻ 0 by construction: G-MonDEQ Φ (havens2023 eq. 6), LBEN Ψ (eq. 7); else None."""
    kind = getattr(layer, "kind", "")
    if kind == "gmondeq":
        return np.asarray(layer.export_params().phi, dtype=np.float64)
    if kind == "lben":
        return np.asarray(layer.export_params().psi, dtype=np.float64)
    return None


def sll_numpy(mod: nn.Module) -> Any:
    """The deqtheory (numpy) form of an SLL layer (for its Thm-3 certificate)."""
    return mod.to_numpy()


def conv_body_as_lben(body: nn.Module) -> nn.Module:
    """A ConvDAGLBEN as the eq. (7) ConvLBEN it is certified as (float64 materialisation)."""
    return body.to_lben()
