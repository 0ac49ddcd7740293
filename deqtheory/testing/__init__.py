"""Testing helpers shared by the test suites and by users: Hypothesis profiles, strategies
(:mod:`deqtheory.testing.strategies`), brute-force oracles (:mod:`deqtheory.testing.oracles`).

``scaled(n)`` gives a per-test example count that follows the active profile:
``n`` under ``ci`` and ``10 n`` under ``thorough`` (environment variable
``DEQTHEORY_HYPOTHESIS_PROFILE``).
"""
from __future__ import annotations

import os

__all__ = ["profile_name", "scaled"]


def profile_name() -> str:
    return os.environ.get("DEQTHEORY_HYPOTHESIS_PROFILE", "ci")


def scaled(n: int) -> int:
    """Number of Hypothesis examples for a test whose CI budget is ``n``."""
    return int(n) * (10 if profile_name() == "thorough" else 1)
