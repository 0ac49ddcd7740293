r"""Small searches for diagonal multipliers used by ``contains`` / ``right_inverse``.

Only *candidate* witnesses are produced here; every claim is then proved with
:func:`deqtheory.verified.verified_pd` (or an explicit rounding allowance) by the caller.

* :func:`mmatrix_multiplier` — for a nonsingular M-matrix ``A = cI − N`` (N ≥ 0), the classical
  constructive witness ``Λ = diag(y/x)`` with ``x = A⁻¹𝟙``, ``y = A⁻ᵀ𝟙``: ΛA + AᵀΛ is a symmetric
  Z-matrix with ``(ΛA + AᵀΛ)x = Λ(Ax) + Aᵀy = (y/x)∘𝟙 + 𝟙 > 0`` (Λx = y), hence PD (Plemmons 1977, M-matrix
  characterizations). No solver needed.
* :func:`sdp_diag_monotone` — max t s.t. sym(diag(g)(I − W)) ⪰ tI, Σg = n, g ≥ 0 (havens2023 (3)).
* :func:`sdp_diag_lben` — max t ≤ 1 s.t. the Schur complement form of havens2023 (4) minus 2εI ⪰ tI.

The two SDPs use cvxpy (Clarabel, falling back to SCS); they are tiny helpers for ``contains``
when no witness is supplied — the project's full SDP machinery is ``deqtheory.sdp``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["mmatrix_multiplier", "sdp_diag_monotone", "sdp_diag_lben"]


def mmatrix_multiplier(A: np.ndarray) -> Optional[np.ndarray]:
    """Λ (vector) with sym(ΛA) ≻ 0 for a nonsingular M-matrix A, or ``None`` if the solves fail
    or do not give positive vectors (then A is, numerically, not a nonsingular M-matrix)."""
    n = A.shape[0]
    one = np.ones(n)
    try:
        x = np.linalg.solve(A, one)
        y = np.linalg.solve(A.T, one)
    except np.linalg.LinAlgError:
        return None
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0) and np.all(y > 0)):
        return None
    lam = y / x
    return lam / np.max(lam)


def _solve(prob) -> bool:
    import cvxpy as cp
    for solver in ("CLARABEL", "SCS"):
        if solver not in cp.installed_solvers():
            continue
        try:
            prob.solve(solver=solver)
        except (cp.error.SolverError, ArithmeticError, ValueError):
            continue
        if prob.status in ("optimal", "optimal_inaccurate"):
            return True
    return False


def sdp_diag_monotone(W: np.ndarray, *, box: Optional["tuple[float, float]"] = None) -> Optional[np.ndarray]:
    """A diagonal g > 0 (vector) approximately maximizing λ_min(sym(diag(g)(I − W))).

    Normalization Σ g = n, g ≥ 0; or, with ``box=(lo, hi)``, ``lo ≤ g ≤ hi`` and t ≤ 1 instead.
    ``None`` if the solver fails or the optimal t is ≤ 0."""
    import cvxpy as cp
    n = W.shape[0]
    X = np.eye(n) - W
    g = cp.Variable(n)
    t = cp.Variable()
    GX = cp.diag(g) @ X
    S = (GX + GX.T) / 2
    if box is None:
        cons = [S - t * np.eye(n) >> 0, cp.sum(g) == n, g >= 0]
    else:
        cons = [S - t * np.eye(n) >> 0, g >= box[0], g <= box[1], t <= 1]
    prob = cp.Problem(cp.Maximize(t), cons)
    if not _solve(prob) or g.value is None or t.value is None or not t.value > 0:
        return None
    gv = np.asarray(g.value, dtype=float)
    if not np.all(gv > 0):
        return None
    return gv


def sdp_diag_lben(W: np.ndarray, G: np.ndarray, U: np.ndarray, L: float, eps: float) -> Optional[np.ndarray]:
    r"""Λ (vector) approximately maximizing t ≤ 1 subject to

    .. math:: \begin{bmatrix} 2\Lambda - \Lambda W - W^\top\Lambda - G^\top G/L - 2\varepsilon I - tI & \Lambda U\\
              U^\top\Lambda & L I\end{bmatrix} \succeq 0,

    the Schur-complement form of havens2023 (4) with the LBEN margin 2εI. ``None`` on failure."""
    import cvxpy as cp
    n = W.shape[0]
    d = U.shape[1]
    lam = cp.Variable(n)
    t = cp.Variable()
    Lm = cp.diag(lam)
    top = 2 * Lm - Lm @ W - W.T @ Lm - (G.T @ G) / L - (2 * eps) * np.eye(n) - t * np.eye(n)
    top = (top + top.T) / 2
    LU = Lm @ U
    Mblk = cp.bmat([[top, LU], [LU.T, L * np.eye(d)]])
    prob = cp.Problem(cp.Maximize(t), [(Mblk + Mblk.T) / 2 >> 0, lam >= 0, t <= 1])
    if not _solve(prob) or lam.value is None or t.value is None:
        return None
    lv = np.asarray(lam.value, dtype=float)
    if not np.all(lv > 0):
        return None
    return lv
