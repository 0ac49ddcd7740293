r"""The one place where the certifiers read numpy arrays out of torch layers — always through the
bridge :func:`deqtheory_train.export.to_deqtheory`, so that what is certified is exactly the exported
model (the object :func:`deqtheory.formats.save_model` writes, hence the file ``deqtheory-train export``
writes and ``deqtheory check`` re-proves).

* dense DEQ layers: ``to_deqtheory(layer)`` → its family object → the materialized arrays
  ``formats.TABLE[kind].arrays(obj)`` (``W`` = the family's float64 formula on the stored parameters,
  as ``deqtheory check`` computes it from the file, bit for bit) and the family weight Φ / Ψ;
* SLL layers: the :class:`deqtheory.explicit.ResidualLayer` of the file (for the Thm-3 certificate);
* conv LBEN bodies: the eq. (7) :class:`~deqtheory_train.layers.conv.ConvLBEN` that the bridge exports;
* conv IBP-MonDEQ layers: ``to_deqtheory(layer)`` (a :class:`deqtheory.formats.ConvIBPMonDEQNet`) and its
  W kernel by deqtheory's float64 formula on the stored parameters (:class:`ConvArrays`)."""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

import numpy as np
from torch import nn

from deqtheory import formats as _fm

from ..export import to_deqtheory

__all__ = ["DenseArrays", "dense_arrays", "ConvArrays", "conv_arrays", "sll_layer", "conv_body_as_lben"]


@dataclasses.dataclass(frozen=True)
class DenseArrays:
    r"""The exported model of one dense DEQ layer: ``obj`` (``to_deqtheory(layer)``), its file ``kind``,
    the materialized float64 ``W``, ``U`` (effective: CerDEQ's ``diag(s)U₀``), ``b``, ``G``, ``b_y`` (None
    without a readout), and ``phi``: the family's metric Φ with sym(Φ⁻¹(I − W)) ≻ 0 by construction
    (``Parametrization.metric``: G-MonDEQ Φ, havens2023 eq. 6; LBEN Ψ, eq. 7), else ``None``."""

    obj: Any
    kind: str
    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    G: Optional[np.ndarray]
    b_y: Optional[np.ndarray]
    phi: Optional[np.ndarray]


def dense_arrays(layer: nn.Module) -> DenseArrays:
    """:class:`DenseArrays` of a dense DEQ layer, through the bridge and the formats table."""
    obj = to_deqtheory(layer)
    kind = _fm.kind_of(obj)
    a = _fm.TABLE[kind].arrays(obj, "")
    own = lambda v: None if v is None else np.array(v, dtype=np.float64)  # noqa: E731 - writable copies
    family = getattr(obj, "family", None)          # FamilyNet / LBENNet; a plain DEQ has no family
    return DenseArrays(obj, kind, *(own(a[k]) for k in ("W", "U", "b", "G", "b_y")),
                       None if family is None else own(family.metric(obj.params)))


@dataclasses.dataclass(frozen=True)
class ConvArrays:
    r"""The exported model of one circular-convolution DEQ layer: ``obj`` (``to_deqtheory(layer)``), its
    file ``kind``, the float64 W kernel ``K`` (c, c, k, k) computed by deqtheory from the stored
    parameters (``obj.W_kernel()``), the injection kernel ``U`` (c, c_in, k_U, k_U), the bias ``b`` (c,)
    and the grid ``N``: ``z = ReLU(K ⋆ z + U ⋆ x + b)`` with circular cross-correlations on N × N."""

    obj: Any
    kind: str
    K: np.ndarray
    U: np.ndarray
    b: np.ndarray
    N: int


def conv_arrays(layer: nn.Module) -> ConvArrays:
    """:class:`ConvArrays` of a conv ℓ∞ DEQ layer, through the bridge."""
    obj = to_deqtheory(layer)
    own = lambda v: np.array(v, dtype=np.float64)  # noqa: E731 - writable copies
    return ConvArrays(obj, _fm.kind_of(obj), own(obj.W_kernel()), own(obj.U), own(obj.b), int(obj.N))


def sll_layer(mod: nn.Module) -> Any:
    """The :class:`deqtheory.explicit.ResidualLayer` of an SLL layer, as exported (for its Thm-3 certificate)."""
    return to_deqtheory(mod).layers[0]


def conv_body_as_lben(body: nn.Module) -> nn.Module:
    """A ConvDAGLBEN as the eq. (7) ConvLBEN it is exported and certified as (float64,
    :meth:`~deqtheory_train.layers.conv_dag.ConvDAGLBEN.as_conv_lben`); other bodies unchanged."""
    from ..layers.conv_dag import ConvDAGLBEN
    return body.as_conv_lben() if isinstance(body, ConvDAGLBEN) else body
