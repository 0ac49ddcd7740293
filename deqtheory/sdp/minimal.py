r"""How close a proved L of havens2023 (10) is to the minimal one: proved lower bounds and closed-form witnesses.

:func:`deqtheory.sdp.min_lipschitz` proves an *upper* bound L' (a witness (Λ, L') with F(Λ, L') ≻ 0).
A solver that stalls can return a feasible but terrible point, so "the minimal L" is never taken from
the solver's word. This module supplies the two other sides:

* **A proved lower bound** :math:`L_{\rm low}` on the minimal L of (10) from the dual matrix of the
  μ-form (:mod:`deqtheory.sdp.problems`). For the μ-form matrix
  :math:`S(P, \mu) = \begin{bmatrix} M(P) - G^\top G & PU\\ U^\top P & \mu I\end{bmatrix}` and the block
  matrix F of :mod:`deqtheory.sdp.lmi`, :math:`S(L\Lambda, L^2) = L\,\big[\text{Schur complement of the }
  LI_p\text{ block of } F(\Lambda, L)\big]`. So a dual matrix :math:`X = V_XV_X^\top` of the μ-form gives
  the candidate :math:`V = [V_X;\; -G V_{X,1}/L]` for F, with
  :math:`\langle F(\Lambda, L), VV^\top\rangle = \langle S(L\Lambda, L^2), X\rangle / L`;
  :func:`deqtheory.sdp.lmi.verify_lipschitz_refutation` then *proves* (numpy only, rounding bounded)
  that no diagonal Λ ⪰ 0 satisfies (10) at L. Since both sides of that proof increase with L, (10) is
  refuted at every L'' ≤ L too: the minimal L of (10) is > L. The rescaling of
  :func:`deqtheory.sdp.min_lipschitz` (U = αŨ, G = βG̃, L = αβL̃) maps V̂ = [V₁; V₂; V₃] of the scaled
  problem to [V₁; V₂/α; V₃/α] (congruence diag(I, I/α, I/α)).
* **The closed-form witness** of the well-posedness certificate: with
  :math:`2\Gamma - \Gamma W - W^\top\Gamma \succeq t I` (t > 0), Λ = cΓ and c = ‖G‖₂/‖ΓU‖₂ make F(Λ, L) ≻ 0 for
  every L > 2‖G‖₂‖ΓU‖₂/t (Schur complement) — for Γ = I and t = 2m this is pabbaraju2021 Thm 1's
  ‖U‖₂‖G‖₂/m, for Γ from (3) havens2023 Thm 3.3's bound. Proving it as an LMI witness means the
  reported L of (10) is never above the closed-form bound (up to the relative 10⁻¹⁰ … 10⁻² step
  needed to prove strict definiteness in floating point).

The reported L is **minimal** (``stats["minimal"]``) only when the proved gap
:math:`(L' - L_{\rm low})/L'` is at most :data:`MINIMAL_GAP`; a stalled solve never passes that test,
because the gap is proved, not taken from the solver.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Tuple

import numpy as np

from ..certificates import Certificate, Status
from .lmi import LIPSCHITZ_LMI, verify_lipschitz_refutation, verify_lipschitz_witness
from .refute import factor_psd

__all__ = ["MINIMAL_GAP", "proved_lower_bound", "closed_form_witness", "relative_gap"]

#: A proved L is reported minimal when (L − L_low)/L ≤ this, with L_low a proved (refuted) lower bound.
MINIMAL_GAP = 1e-6

#: Relative steps below the solver's optimum at which a refutation is tried (smallest first).
_LOWER_STEPS = tuple(10.0 ** (-k / 2) for k in range(20, 0, -1)) + (0.5,)
#: Relative steps above the closed-form value at which its witness is tried (smallest first).
_CLOSED_FORM_STEPS = (0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2)


def relative_gap(L_upper: float, L_lower: float) -> float:
    """(L_upper − L_lower)/L_upper, in [0, 1] (1 when no lower bound was proved)."""
    if not (L_upper > 0 and math.isfinite(L_upper)):
        return 1.0
    return min(1.0, max(0.0, (L_upper - max(L_lower, 0.0)) / L_upper))


def proved_lower_bound(W: np.ndarray, U: np.ndarray, G: np.ndarray, X: Optional[np.ndarray], L_scaled: float,
                       alpha: float, beta: float, w_error: float = 0.0, u_error: float = 0.0,
                       g_error: float = 0.0) -> Tuple[float, Optional[Certificate]]:
    r"""The largest L = αβ·L̃(1 − δ), δ in :data:`_LOWER_STEPS`, at which the dual matrix ``X`` of the
    scaled μ-form (order n + d; U/α, G/β) *proves* that (10) has no diagonal Λ ⪰ 0 (see the module
    docstring), for every W, U, G within ``w_error``, ``u_error``, ``g_error`` of the given ones (the stored
    model). Returns (L_low, the REFUTED certificate) or (0.0, None) when nothing was proved."""
    if X is None or not (L_scaled > 0 and math.isfinite(L_scaled)):
        return 0.0, None
    X = np.asarray(X, dtype=float)
    n, d = U.shape
    if X.shape != (n + d, n + d) or not np.all(np.isfinite(X)):
        return 0.0, None
    V = factor_psd(X)
    if V.shape[1] == 0:
        return 0.0, None
    V1, V2 = V[:n], V[n:]
    GV1 = (G / beta) @ V1
    for step in _LOWER_STEPS:
        Lt = L_scaled * (1.0 - step)
        Vo = np.vstack([V1, V2 / alpha, -GV1 / (Lt * alpha)])
        L = Lt * alpha * beta
        if not (L > 0 and math.isfinite(L)):
            continue
        ref = verify_lipschitz_refutation(W, U, G, L, Vo, condition=LIPSCHITZ_LMI, w_error=w_error,
                                          u_error=u_error, g_error=g_error)
        if ref.status is Status.REFUTED:
            return L, ref
    return 0.0, None


def closed_form_witness(W: np.ndarray, U: np.ndarray, G: np.ndarray, gamma: np.ndarray,
                        w_error: float = 0.0) -> Optional[Certificate]:
    r"""Prove (4) with Λ = cΓ, c = ‖G‖₂/‖ΓU‖₂, at L = 2‖G‖₂‖ΓU‖₂/t·(1 + δ) (t the smallest eigenvalue of
    2Γ − ΓW − WᵀΓ, estimated; δ in :data:`_CLOSED_FORM_STEPS`, smallest first; ``w_error`` as in
    :func:`deqtheory.sdp.lmi.verify_lipschitz_witness`). The CERTIFIED
    certificate of :func:`deqtheory.sdp.lmi.verify_lipschitz_witness`, or None (t ≤ 0 or not proved)."""
    g = np.asarray(gamma, dtype=float)
    if g.ndim != 1 or g.shape[0] != W.shape[0] or not np.all(g > 0):
        return None
    GW = g[:, None] * W
    t = float(np.linalg.eigvalsh(np.diag(2.0 * g) - GW - GW.T)[0])
    nG = float(np.linalg.norm(G, 2))
    nGU = float(np.linalg.norm(g[:, None] * U, 2))
    if not (t > 0 and nG > 0 and nGU > 0):
        return None
    lam = (nG / nGU) * g
    base = 2.0 * nG * nGU / t
    for step in _CLOSED_FORM_STEPS:
        cert = verify_lipschitz_witness(W, U, G, lam, base * (1.0 + step), condition=LIPSCHITZ_LMI, w_error=w_error)
        if cert.certified:
            return cert
    return None


def lower_bound_summary(L_lower: float, ref: Optional[Any]) -> str:
    """One phrase for messages: the proved lower bound or its absence."""
    if ref is None or not L_lower > 0:
        return "no lower bound proved"
    return f"(10) refuted at L = {L_lower:.10g} (dual witness)"
