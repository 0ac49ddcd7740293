"""Errors of the training framework (the numerical input errors live in :mod:`deqtheory.errors`)."""
from __future__ import annotations

__all__ = ["ConfigError", "CheckpointError"]


class ConfigError(ValueError):
    """A config is malformed (unknown key, wrong type, inconsistent values, a keyword its builder,
    loss or certifier does not accept)."""


class CheckpointError(ValueError):
    """A checkpoint or model file is missing, corrupt, or does not match the run."""
