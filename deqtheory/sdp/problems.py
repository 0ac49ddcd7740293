r"""Builders of the three SDPs as :class:`~deqtheory.sdp.ipm.StructuredLMI` instances and as cvxpy
problems. Both backends solve *the same* optimisation problem (same normalisation), so they can be
compared number to number.

Normalisations (the LMIs are homogeneous in the multiplier, so a scale must be fixed):

* (3) well-posedness: :math:`\max t` s.t. :math:`2\Gamma-\Gamma W-W^\top\Gamma \succeq tI`,
  :math:`\gamma \ge 0`, :math:`\sum_i\gamma_i \le n` (i.e. tr Γ ≤ n; active at the optimum when
  t* > 0). t* > 0 ⇔ (3) is feasible; t* is the margin of the trace-normalised multiplier.
* (10) minimal L ("μ-form" of FACTS.md): with :math:`P = L\Lambda`, :math:`\mu = L^2`,
  :math:`\min\mu` s.t. :math:`\begin{bmatrix}2P-PW-W^\top P-G^\top G & PU\\ U^\top P & \mu I_d\end{bmatrix}\succeq 0`,
  :math:`p \ge 0`. (Multiply (10) by L and take the Schur complement of μI.) Not homogeneous
  (the GᵀG term fixes the scale). Λ = P/L, L = √μ.
* (4) at a fixed L: :math:`\max t` s.t. :math:`F(\lambda, L) \succeq tI`, :math:`\lambda\ge 0`
  (F of :mod:`deqtheory.sdp.lmi`; not homogeneous either: the :math:`LI` and G blocks fix the scale).
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .ipm import StructuredLMI

__all__ = ["structured_wellposed", "structured_min_l", "structured_strict", "cvx_wellposed",
           "cvx_min_l", "cvx_strict"]


def wellposed_constraints(n: int) -> "tuple[np.ndarray, np.ndarray, np.ndarray]":
    """(Al, cl, b) of the well-posedness SDP in y = (γ, t): γ ≥ 0, Σγ ≤ n, maximise t (shared by
    the dense and the frequency-block forms)."""
    Al = np.zeros((n + 1, n + 1))
    Al[:n, :n] = np.eye(n)
    Al[n, :n] = -1.0
    cl = np.zeros(n + 1)
    cl[n] = float(n)
    b = np.zeros(n + 1)
    b[n] = 1.0
    return Al, cl, b


def structured_wellposed(W: np.ndarray) -> StructuredLMI:
    n = W.shape[0]
    Al, cl, b = wellposed_constraints(n)
    return StructuredLMI(C=np.zeros((n, n)), B=np.eye(n) - W.T, dvec=-np.ones(n), b=b, Al=Al, cl=cl)


def structured_min_l(W: np.ndarray, U: np.ndarray, G: np.ndarray) -> StructuredLMI:
    n, d = U.shape
    N = n + d
    C = np.zeros((N, N))
    C[:n, :n] = -(G.T @ G)
    B = np.vstack([np.eye(n) - W.T, U.T])
    dvec = np.concatenate([np.zeros(n), np.ones(d)])
    b = np.zeros(n + 1)
    b[n] = -1.0
    Al = np.hstack([np.eye(n), np.zeros((n, 1))])
    return StructuredLMI(C=C, B=B, dvec=dvec, b=b, Al=Al, cl=np.zeros(n))


def structured_strict(W: np.ndarray, U: np.ndarray, G: np.ndarray, L: float) -> StructuredLMI:
    n, d = U.shape
    p = G.shape[0]
    N = n + d + p
    C = np.zeros((N, N))
    C[:n, n + d:] = G.T
    C[n + d:, :n] = G
    idx = np.arange(n, N)
    C[idx, idx] = L
    B = np.vstack([np.eye(n) - W.T, U.T, np.zeros((p, n))])
    b = np.zeros(n + 1)
    b[n] = 1.0
    Al = np.hstack([np.eye(n), np.zeros((n, 1))])
    return StructuredLMI(C=C, B=B, dvec=-np.ones(N), b=b, Al=Al, cl=np.zeros(n))


# ------------------------------------------------------------------------------------ cvxpy

def _cp():
    import cvxpy as cp  # imported lazily: building cvxpy problems is the slow part anyway
    return cp


def _m_expr(cp, W: np.ndarray, v):
    n = W.shape[0]
    VW = cp.multiply(cp.reshape(v, (n, 1), order="F") @ np.ones((1, n)), W)
    return 2 * cp.diag(v) - VW - VW.T


def cvx_wellposed(W: np.ndarray) -> Tuple[Any, Dict[str, Any]]:
    cp = _cp()
    n = W.shape[0]
    g = cp.Variable(n)
    t = cp.Variable()
    M = _m_expr(cp, W, g)
    lmi = 0.5 * (M + M.T) - t * np.eye(n) >> 0
    prob = cp.Problem(cp.Maximize(t), [lmi, g >= 0, cp.sum(g) <= n])
    return prob, {"gamma": g, "t": t, "lmi": lmi}


def cvx_min_l(W: np.ndarray, U: np.ndarray, G: np.ndarray) -> Tuple[Any, Dict[str, Any]]:
    cp = _cp()
    n, d = U.shape
    pv = cp.Variable(n)
    mu = cp.Variable()
    M = _m_expr(cp, W, pv) - G.T @ G
    PU = cp.multiply(cp.reshape(pv, (n, 1), order="F") @ np.ones((1, d)), U)
    S = cp.bmat([[0.5 * (M + M.T), PU], [PU.T, mu * np.eye(d)]])
    lmi = 0.5 * (S + S.T) >> 0
    prob = cp.Problem(cp.Minimize(mu), [lmi, pv >= 0])
    return prob, {"p": pv, "mu": mu, "lmi": lmi}


def cvx_strict(W: np.ndarray, U: np.ndarray, G: np.ndarray, L: float) -> Tuple[Any, Dict[str, Any]]:
    cp = _cp()
    n, d = U.shape
    p = G.shape[0]
    lam = cp.Variable(n)
    t = cp.Variable()
    M = _m_expr(cp, W, lam)
    LU = cp.multiply(cp.reshape(lam, (n, 1), order="F") @ np.ones((1, d)), U)
    F = cp.bmat([[0.5 * (M + M.T), LU, G.T],
                 [LU.T, L * np.eye(d), np.zeros((d, p))],
                 [G, np.zeros((p, d)), L * np.eye(p)]])
    lmi = 0.5 * (F + F.T) - t * np.eye(n + d + p) >> 0
    prob = cp.Problem(cp.Maximize(t), [lmi, lam >= 0])
    return prob, {"lam": lam, "t": t, "lmi": lmi}
