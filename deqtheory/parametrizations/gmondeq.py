r"""Generalized MonDEQ (G-MonDEQ) parametrization (Revay et al. 2020; havens2023 eq. (6)).

.. math:: W = I - \Phi\,(A^\top A + B^\top - B + mI), \qquad \Phi = \mathrm{diag}(\varphi) \succ 0,\ m > 0.

With :math:`\Gamma = \Phi^{-1}` the left side of havens2023 (3) is

.. math:: 2\Gamma - \Gamma W - W^\top\Gamma = (A^\top A + B^\top - B + mI) + (A^\top A + B - B^\top + mI)
          = 2A^\top A + 2mI \succ 0

(havens2023 §2.3, "Prop. 2.1 with Γ = Φ⁻¹"). Sign convention: eq. (6) (skew part of
:math:`\Gamma(I - W)` is :math:`B^\top - B`). ``Φ`` is stored as ``log_phi`` (unconstrained).

Set: over all ``(A, B, Φ)`` the image is exactly :math:`\{W : \exists\Gamma \in \mathbb{D}_+,\
2\Gamma - \Gamma W - W^\top\Gamma \succ 0\}` — (3) is homogeneous in Γ, so any feasible Γ can be
scaled until :math:`\mathrm{sym}(\Gamma(I-W)) \succeq mI`. Right inverse: given such Γ (found by a
small SDP when not supplied), scale it, ``AᵀA = sym(Γ(I − W)) − mI``, ``B = −skew(Γ(I − W))/2``,
``Φ = Γ⁻¹``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

import numpy as np

from .._validate import as_positive_diagonal, as_scalar
from ..certificates import Certificate, Status, register_verifier
from ..verified import INFLATE, UNIT_ROUNDOFF, product_error_bound, sum_error_bound, verified_pd
from . import _multipliers
from .base import (OutsideSetError, Params, Parametrization, _check_n, _conditioned, _fro, _sq, default_tol,
                   diagonal_witness, exp_of, lambda_min_certificate, psd_factor, skew, sym)

__all__ = ["GMonDEQ", "GMonDEQParams"]



@dataclasses.dataclass(frozen=True, eq=False)
class GMonDEQParams(Params):
    """A: (k, n), B: (n, n), log_phi: (n,) with Φ = diag(exp(log_phi))."""

    SHAPES = {"B": ("n", "n"), "A": (None, "n"), "log_phi": ("n",)}

    A: np.ndarray
    B: np.ndarray
    log_phi: np.ndarray

    phi = exp_of("log_phi")

    @classmethod
    def from_phi(cls, A: Any, B: Any, phi: Any) -> "GMonDEQParams":
        """Build from a positive diagonal Φ (vector or diagonal matrix)."""
        return cls(A=A, B=B, log_phi=np.log(as_positive_diagonal("phi", phi)))


def _gamma_lhs(W: np.ndarray, g: np.ndarray) -> "tuple[np.ndarray, float]":
    """``X = Γ(I − W)`` (sym(X) is half the left side of (3)) and a bound on its rounding error."""
    n = W.shape[0]
    IW = np.eye(n) - W
    X = g[:, None] * IW
    err = INFLATE * (float(np.max(np.abs(g))) * sum_error_bound(np.eye(n), W) + UNIT_ROUNDOFF * _fro(X))
    return X, err


class GMonDEQ(Parametrization):
    r"""G-MonDEQ: ``W = I − Φ(AᵀA + Bᵀ − B + mI)`` (havens2023 eq. (6)); set: (3) feasible.

    Parameters
    ----------
    m : float > 0.
    """

    family = "gmondeq"
    params_type = GMonDEQParams

    def __init__(self, m: float = 1.0):
        self.m = as_scalar("m", m, positive=True)

    def _inner(self, params: GMonDEQParams) -> np.ndarray:
        n = params.B.shape[0]
        A, B = params.A, params.B
        return (A.T @ A + (B.T - B)) + self.m * np.eye(n)

    def forward(self, params: GMonDEQParams) -> np.ndarray:
        n = self._validate(params)
        return np.eye(n) - params.phi[:, None] * self._inner(params)

    def metric(self, params: GMonDEQParams) -> np.ndarray:
        """Φ (sym(Φ⁻¹(I − W)) ≻ 0 by construction)."""
        return params.phi

    def forward_error_bound(self, params: GMonDEQParams) -> float:
        r"""With :math:`X = A^\top A + B^\top - B + mI` and Φ the computed diagonal:
        :math:`\|\Phi\|(\gamma_{k+1}\||A|^\top|A|\|_F + u\||B|+|B^\top|\|_F + 2\gamma_3\|\,|A^\top A|+|B^\top-B|+mI\|_F)
        + u\|\Phi X\|_F + \gamma_2\|I + |\Phi X|\|_F`."""
        n = self._validate(params)
        A, B = params.A, params.B
        phi = params.phi
        AtA = A.T @ A
        K = B.T - B
        dX = (product_error_bound(A.T, A) + UNIT_ROUNDOFF * _fro(np.abs(B) + np.abs(B.T))
              + 2.0 * sum_error_bound(AtA, K, self.m * np.eye(n)))
        PX = phi[:, None] * self._inner(params)
        e = float(np.max(phi)) * dX + UNIT_ROUNDOFF * _fro(PX) + sum_error_bound(np.eye(n), PX)
        return INFLATE * e

    def _find_gamma(self, W: np.ndarray) -> Optional[np.ndarray]:
        n = W.shape[0]
        if verified_pd(np.eye(n) - W, refute=False).certified:
            return np.ones(n)
        return _multipliers.sdp_diag_monotone(W)

    def contains(self, W: Any, tol: Optional[float] = None, *, Gamma: Any = None) -> Certificate:
        r"""Certify havens2023 (3): ``2Γ − ΓW − WᵀΓ ≻ 0`` for some positive diagonal Γ.

        ``Gamma`` (vector or diagonal matrix) is the witness; if omitted, Γ = I is tried, then a
        small SDP. ``margin`` = proved lower bound on λ_min(sym(Γ(I − W))) (half the left side of
        (3)); (3) is strict and homogeneous in Γ, so ``tol`` is not used.
        """
        W, g, none = diagonal_witness(W, "Gamma", Gamma, self._find_gamma, "gmondeq_lmi3",
                                      "no diagonal Gamma found for havens2023 (3)")
        if none is not None:
            return none
        X, err = _gamma_lhs(W, g)
        return lambda_min_certificate("gmondeq_lmi3", X, threshold=0.0, tol=0.0, abs_err=err,
                                      strict=True, witness={"Gamma": g}, name="Gamma (I - W)")

    def right_inverse(self, W: Any, *, Gamma: Any = None, tol: Optional[float] = None) -> GMonDEQParams:
        W = _sq("W", W)
        n = W.shape[0]
        g = self._find_gamma(W) if Gamma is None else as_positive_diagonal("Gamma", Gamma, n=n)
        if g is None:
            raise OutsideSetError("no diagonal Gamma with 2Gamma - Gamma W - W^T Gamma > 0 was found")
        X, _ = _gamma_lhs(W, g)
        lam = float(np.linalg.eigvalsh(sym(X))[0])
        if not lam > 0:
            raise OutsideSetError(f"sym(Gamma (I - W)) is not positive definite (lambda_min = {lam:.3e})")
        if lam < self.m:  # rescale Γ so that sym(Γ(I − W)) ⪰ mI (homogeneity of (3))
            g = g * (self.m / lam) * (1.0 + 1e-3)
            X, _ = _gamma_lhs(W, g)
        S = sym(X) - self.m * np.eye(n)
        t = default_tol(_fro(X), n) if tol is None else as_scalar("tol", tol, nonnegative=True)
        A = psd_factor(S, tol=t, name="sym(Gamma (I - W)) - m I")
        B = -skew(X) / 2.0
        return GMonDEQParams(A=A, B=B, log_phi=-np.log(g))

    def sample(self, rng: np.random.Generator, n: int, *, cond: float = 10.0, scale: float = 1.0,
               phi_range: float = 4.0) -> GMonDEQParams:
        """A (n, n) with singular values in [scale/cond, scale], B Gaussian·scale/√n,
        Φ log-uniform in [1/phi_range, phi_range]."""
        n = _check_n(n)
        A = _conditioned(rng, n, n, scale / float(cond), scale)
        B = rng.standard_normal((n, n)) * scale / np.sqrt(n)
        log_phi = rng.uniform(-np.log(phi_range), np.log(phi_range), size=n)
        return GMonDEQParams(A=A, B=B, log_phi=log_phi)

    def defining_condition(self, params: GMonDEQParams) -> Certificate:
        r"""havens2023 §2.3: (3) holds with Γ = Φ⁻¹ and its left side equals ``2AᵀA + 2mI``.

        For the computed W, λ_min(2Γ − Γ fl(W) − fl(W)ᵀΓ) ≥ 2m − 2‖Γ‖₂δ (δ =
        :meth:`forward_error_bound`); that is the ``margin``. ``residuals['identity']`` =
        ‖(2Γ − ΓW − WᵀΓ) − (2AᵀA + 2mI)‖_F evaluated in floating point.
        """
        n = self._validate(params)
        W = self.forward(params)
        g = 1.0 / params.phi
        lhs = 2 * np.diag(g) - g[:, None] * W - W.T * g[None, :]
        rhs = 2 * params.A.T @ params.A + 2 * self.m * np.eye(n)
        d = self.forward_error_bound(params)
        margin = 2 * self.m - 2 * float(np.max(g)) * d
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("gmondeq_defining", status, margin=margin, witness={"Gamma": g},
                           tolerance={"forward_error_bound": d},
                           residuals={"identity": _fro(lhs - rhs), "identity_scale": _fro(rhs)},
                           message="2Gamma - Gamma W - W^T Gamma = 2 A^T A + 2 m I with Gamma = Phi^-1 "
                                   "(havens2023 eq. 6 / Prop 2.1)")


@register_verifier("gmondeq_lmi3")
def _verify_gmondeq(cert: Certificate, *, W: Any) -> Certificate:
    """Re-prove havens2023 (3) with the recorded witness Γ."""
    return GMonDEQ(m=1.0).contains(W, Gamma=cert.witness["Gamma"])
