r"""Refutation of (3): a certificate that *no* diagonal Γ ≻ 0 satisfies :math:`2\Gamma-\Gamma W-W^\top\Gamma\succ 0`.

Theorem of alternatives (derived here; Boyd & Vandenberghe §5.9.4 for the general form): with
:math:`A_i = e_i a_i^\top + a_i e_i^\top`, :math:`a_i = e_i - W_{i,:}^\top`, we have
:math:`M(\gamma) = \sum_i \gamma_i A_i` and :math:`\langle A_i, Z\rangle = 2((I-W)Z)_{ii}`. If
:math:`Z = VV^\top \ne 0` and :math:`((I-W)Z)_{ii} \le 0` for every i, then for every γ ≥ 0,
:math:`\langle M(\gamma), Z\rangle \le 0`, impossible if :math:`M(\gamma)\succ 0` (then
:math:`\langle M, Z\rangle > 0`). The dual variable of the LMI at an optimum with t* < 0 is such a Z.

Rounding: :math:`d_i = \sum_k ((I-W)V)_{ik}V_{ik}` is computed with
:math:`|\hat d_i - d_i| \le \gamma_{2n+3}\sum_k (( |I|+|W|)|V|)_{ik}|V_{ik}|` (Higham §3.5: one
subtraction for I − W, a length-n dot product, then a length-r dot product); Z = VVᵀ is PSD
exactly by construction and nonzero iff V ≠ 0.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import as_matrix, as_square
from ..certificates import Certificate, Status
from ..errors import ShapeError
from ..verified import INFLATE, gamma

__all__ = ["verify_wellposed_refutation", "factor_psd"]


def factor_psd(X: np.ndarray, rel: float = 1e-12) -> np.ndarray:
    """V with VVᵀ ≈ X (eigenvectors of the clipped spectrum, tiny eigenvalues dropped)."""
    w, Q = np.linalg.eigh(0.5 * (X + X.T))
    keep = w > rel * max(float(np.max(w)), 0.0)
    return Q[:, keep] * np.sqrt(w[keep])[None, :]


def verify_wellposed_refutation(W: Any, V: Any, *, w_error: float = 0.0) -> Certificate:
    """CERTIFIED-as-REFUTED check: status REFUTED iff the alternative above is proved for Z = VVᵀ.
    ``w_error``: a proved bound on ‖W_exact − W‖₂; each d_i then moves by at most ‖Δ‖₂‖V‖_F‖V_{i,:}‖₂."""
    W = as_square("W", W)
    n = W.shape[0]
    V = as_matrix("V", V)
    if V.shape[0] != n:
        raise ShapeError(f"V: expected shape ({n}, r), got {V.shape}")
    R = np.eye(n) - W
    d = np.sum((R @ V) * V, axis=1)
    err = INFLATE * gamma(2 * n + 3 + V.shape[1]) * np.sum(((np.eye(n) + np.abs(W)) @ np.abs(V)) * np.abs(V), axis=1)
    if w_error:
        err = err + INFLATE * float(w_error) * float(np.linalg.norm(V)) * np.linalg.norm(V, axis=1)
    worst = float(np.max(d + err))
    nonzero = bool(np.any(V != 0))
    if nonzero and worst <= 0:
        return Certificate("sdp_wellposed", Status.REFUTED, margin=-math.inf, witness={"V": V},
                           residuals={"max_diag_bound": worst},
                           message="proved: no diagonal Γ ≻ 0 satisfies havens2023 (3) "
                                   "(Z = VVᵀ ⪰ 0, diag((I−W)Z) ≤ 0)")
    return Certificate("sdp_wellposed", Status.INCONCLUSIVE, margin=-math.inf, witness={"V": V},
                       residuals={"max_diag_bound": worst},
                       message=f"refutation witness not proved (max upper bound of diag((I−W)Z) = {worst:.3g})")
