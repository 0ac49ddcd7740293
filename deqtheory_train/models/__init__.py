"""Model builders, one module per family group: :mod:`.mlp` (explicit baseline and its certifier),
:mod:`.dense` (Lip-MonDEQ → LBEN), :mod:`.conv` (conv SLL → conv LBEN / DAG-LBEN), :mod:`.linf`
(IBP-MonDEQ, CerDEQ, NEMON, MonDEQ), :mod:`.conv_linf` (conv IBP-MonDEQ: wei2022 DEQ-3 / DEQ-7),
:mod:`.common` (builder helpers). The name → builder table is
:data:`deqtheory_train.registry.MODELS`."""
from __future__ import annotations

from .conv import (ChannelPad, ConvClassifier, border_penalty, build_convlben_dag_from_sll, build_convlben_from_sll,
                   build_convsll, convlben_dag_from_sll_model, convlben_from_sll_model)
from .conv_linf import ARCHS, ConvLinfClassifier, conv_linf_builder
from .dense import DenseDEQClassifier, build_lben_from_lipmondeq, build_lipmondeq, lben_from_lipmondeq_model
from .linf import FAMILIES, LinfDEQClassifier, linf_builder
from .margin_factors import margin_lipschitz_factors
from .mlp import MLP, MLPPlan, certify_mlp, mlp_lipschitz_bounds

__all__ = ["ChannelPad", "ConvClassifier", "border_penalty", "build_convsll", "build_convlben_from_sll",
           "build_convlben_dag_from_sll", "convlben_from_sll_model", "convlben_dag_from_sll_model",
           "DenseDEQClassifier", "build_lipmondeq", "build_lben_from_lipmondeq", "lben_from_lipmondeq_model",
           "FAMILIES", "LinfDEQClassifier", "linf_builder", "ARCHS", "ConvLinfClassifier", "conv_linf_builder", "MLP",
           "MLPPlan", "certify_mlp", "mlp_lipschitz_bounds", "margin_lipschitz_factors"]
