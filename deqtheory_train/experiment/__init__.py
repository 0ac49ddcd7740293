r"""Experiments: configs (:mod:`.config`), pickle-free checkpoints and model files (:mod:`.checkpoint`),
the metrics log (:mod:`.metrics`), certification of a trained model (:mod:`.certification`) and the
training run loop (:mod:`.run`). The name tables (model builders, losses, certifiers) are
:mod:`deqtheory_train.registry`; this package re-exports what the CLI and the tests use.
"""
from __future__ import annotations

from typing import Tuple

from ..certify.results import CertifyOutput
from ..errors import CheckpointError, ConfigError
from ..models.mlp import MLP, certify_mlp, mlp_lipschitz_bounds
from ..registry import CERTIFIERS, MODELS, build_model, get_certifier
from .certification import certify_model, describe_sample, format_table, summarize_certification, write_certify_outputs
from .checkpoint import (build_model_from_config, load_checkpoint, load_model_file, save_checkpoint, state_to_tree,
                         tree_to_state)
from .config import CONFIG_DIR, bundled_configs, load_config, validate_config
from .metrics import read_metrics
from .run import HANG_ENV, HIDE_ENV, RunStatus, run_experiment

__all__ = [
    "ConfigError", "CheckpointError", "CONFIG_DIR", "load_config", "validate_config", "bundled_configs",
    "build_model", "build_model_from_config", "available_models", "get_certifier", "available_certifiers",
    "CertifyOutput", "MLP", "certify_mlp", "mlp_lipschitz_bounds", "save_checkpoint", "load_checkpoint",
    "state_to_tree", "tree_to_state", "run_experiment", "RunStatus", "HANG_ENV", "HIDE_ENV", "certify_model",
    "load_model_file", "describe_sample", "summarize_certification", "write_certify_outputs", "format_table", "read_metrics",
]


def available_models() -> Tuple[str, ...]:
    return tuple(sorted(MODELS))


def available_certifiers() -> Tuple[str, ...]:
    return tuple(sorted(CERTIFIERS))
