"""Structured shortcuts of deqtheory.sdp.ipm against their dense definitions (the Schur matrix is
checked in tests/test_sdp.py)."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory.sdp import ipm


def _problem(rng, n=7, N=11, dvec=None):
    B = rng.normal(size=(N, n))
    C = rng.normal(size=(N, N))
    C = C + C.T
    d = np.concatenate([np.zeros(n), np.ones(N - n)]) if dvec is None else dvec
    return ipm.StructuredLMI(C=C, B=B, dvec=d, b=rng.normal(size=n + 1), Al=np.zeros((0, n + 1)), cl=np.zeros(0))


@pytest.mark.parametrize("kind", ["minL", "neg_identity", "zero_tau"])
def test_dSY_equals_dense_product(kind):
    rng = np.random.default_rng(3)
    N, n = 11, 7
    dvec = {"minL": None, "neg_identity": -np.ones(N), "zero_tau": np.zeros(N)}[kind]
    P = _problem(rng, n, N, dvec)
    A = rng.normal(size=(N, N))
    Y = A @ A.T + np.eye(N)
    dy = rng.normal(size=n + 1)
    ref = P.dS(dy) @ Y
    got = P.dSY(dy, Y, Y @ P.B)
    assert np.abs(got - ref).max() <= 1e-12 * max(1.0, np.abs(ref).max())

