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



def _spd(rng, N):
    A = rng.normal(size=(N, N))
    return A @ A.T + np.eye(N)


@pytest.mark.parametrize("n, N, block", [(7, 11, 2), (9, 12, 2), (8, 8, 3), (6, 10, 100)])
def test_block_triangular_schur_matches_dense(monkeypatch, n, N, block):
    """The block-lower-triangular n×N×n products (uneven blocks included) against the dense oracle."""
    monkeypatch.setattr(ipm, "_SCHUR_BLOCK", block)
    rng = np.random.default_rng(5)
    P = _problem(rng, n, N, np.concatenate([np.zeros(n), np.ones(N - n)]) if N > n else -np.ones(N))
    X, Y = _spd(rng, N), _spd(rng, N)
    ref = ipm.schur_matrix_dense(P, X, Y)
    got = ipm.schur_matrix(P, X, Y)
    assert np.abs(got - ref).max() <= 1e-11 * np.abs(ref).max()


def test_block_triangular_schur_matches_full_products_large(monkeypatch):
    """n = 150 (two column blocks of 75): the block path equals the one-block path."""
    rng = np.random.default_rng(6)
    n, N = 150, 190
    P = _problem(rng, n, N)
    X, Y = _spd(rng, N), _spd(rng, N)
    got = ipm.schur_matrix(P, X, Y)
    monkeypatch.setattr(ipm, "_SCHUR_BLOCK", 10 ** 6)
    ref = ipm.schur_matrix(P, X, Y)
    assert np.abs(got - ref).max() <= 1e-12 * np.abs(ref).max()


@pytest.mark.parametrize("kind", ["identity", "identity_plus_dense_row", "random_sparse", "dense", "empty", "zero"])
def test_linear_term_matches_dense_product(kind):
    rng = np.random.default_rng(7)
    m = 9
    Al = {"identity": np.hstack([np.eye(m - 1), np.zeros((m - 1, 1))]),
          "identity_plus_dense_row": np.vstack([np.hstack([np.eye(m - 1), np.zeros((m - 1, 1))]), -np.ones((1, m))]),
          "random_sparse": rng.normal(size=(6, m)) * (rng.random((6, m)) < 0.4),
          "dense": rng.normal(size=(40, m)),
          "empty": np.zeros((0, m)),
          "zero": np.zeros((3, m))}[kind]
    w = rng.random(Al.shape[0])
    H = rng.normal(size=(m, m))
    ref = H + Al.T @ (w[:, None] * Al)
    ipm._LinearTerm(Al).add_to(H, w)
    assert np.abs(H - ref).max() <= 1e-13 * max(1.0, np.abs(ref).max())


def test_structured_operators_match_definitions():
    """S(y), 𝒜*(Δy), 𝒜(Z) (non-symmetric Z) and ⟨Z, 𝒜*(Δy)⟩ = 𝒜(Z)·Δy against dense A_i."""
    rng = np.random.default_rng(8)
    n, N = 6, 9
    P = _problem(rng, n, N, rng.normal(size=N))
    mats = []
    for i in range(n):
        A = np.zeros((N, N))
        A[i, :] += P.B[:, i]
        A[:, i] += P.B[:, i]
        mats.append(A)
    mats.append(np.diag(P.dvec))
    y = rng.normal(size=n + 1)
    dense = sum(yi * Ai for yi, Ai in zip(y, mats))
    np.testing.assert_allclose(P.S(y), P.C + dense, rtol=0, atol=1e-13)
    np.testing.assert_allclose(P.dS(y), dense, rtol=0, atol=1e-13)
    Z = rng.normal(size=(N, N))
    np.testing.assert_allclose(P.A(Z), [np.trace(Ai @ Z) for Ai in mats], rtol=0, atol=1e-12)
    assert abs(np.vdot(Z, P.dS(y)) - P.A(Z) @ y) <= 1e-12 * max(1.0, abs(np.vdot(Z, P.dS(y))))
