"""Shared pytest set-up: Hypothesis profiles and a seeded RNG fixture.

Profiles (choose with the environment variable ``DEQTHEORY_HYPOTHESIS_PROFILE``):

* ``ci`` (default) — derandomized, no deadline, modest example counts;
* ``thorough`` — ≥ 10× the examples, still derandomized-off so it explores new inputs.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=20, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", derandomize=False, deadline=None, max_examples=200, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("DEQTHEORY_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng() -> np.random.Generator:
    """One seeded generator per test (float64 everywhere)."""
    return np.random.default_rng(20221121)


pytest_plugins = ["deqtheory.testing.pytest_plugin"]
