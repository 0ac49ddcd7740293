r"""LBEN parametrization (Revay et al. 2020; havens2023 eq. (7)).

.. math:: W = I - \Psi\Big(\frac{1}{2L}G^\top G + \frac{1}{2L}\Psi^{-1}UU^\top\Psi^{-1} + V^\top V
          + S^\top - S + \varepsilon I\Big), \qquad \Psi = \mathrm{diag}(\psi) \succ 0.

**Sign convention.** havens2023 prints the skew term with opposite signs in its introduction
(eq. (2): ``S − Sᵀ``) and in §2.3 (eq. (7): ``Sᵀ − S``). The two are the same set (replace ``S``
by ``Sᵀ``); this project uses eq. (7), so the skew part of :math:`\Lambda(I - W)` is
:math:`S^\top - S`.

With :math:`\Lambda = \Psi^{-1}`, havens2023 Prop. 2.2 / (4):

.. math:: 2\Lambda - \Lambda W - W^\top\Lambda - \tfrac1L G^\top G - \tfrac1L \Lambda UU^\top\Lambda
          = 2V^\top V + 2\varepsilon I \succeq 2\varepsilon I,

so the DEQ ``z = σ(Wz + Ux + b)``, ``y = Gz`` is well-posed and L-Lipschitz for ε > 0.
Here ``G`` (p×n) and ``U`` (n×d) are the DEQ's output and input matrices: they enter ``W`` and
the set depends on them (:meth:`LBEN.context`). ``Ψ`` is stored as ``log_psi``.

Set for fixed ``(G, U, L, ε)``: :math:`\{W : \exists\Lambda\in\mathbb{D}_+,\ \text{LHS(4)} \succeq 2\varepsilon I\}`
(closed; equality when ``V`` is rank deficient). Right inverse: given Λ (from a small SDP if not
supplied), ``VᵀV = sym(Λ(I − W)) − GᵀG/(2L) − ΛUUᵀΛ/(2L) − εI``, ``S = −skew(Λ(I − W))/2``, ``Ψ = Λ⁻¹``.
``ε = 0`` is allowed (the non-strict variant, havens2023 Thm 3.1 / (10)).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional

import numpy as np

from .._validate import as_matrix, as_positive_diagonal, as_scalar
from ..certificates import Certificate, Status, register_verifier
from ..verified import INFLATE, UNIT_ROUNDOFF, product_error_bound, sum_error_bound
from . import _multipliers
from .base import (OutsideSetError, Params, Parametrization, _check_n, _conditioned, _fro, _sq, default_tol,
                   diagonal_witness, exp_of, lambda_min_certificate, psd_factor, skew, sym)

__all__ = ["LBEN", "LBENParams"]



@dataclasses.dataclass(frozen=True, eq=False)
class LBENParams(Params):
    """log_psi: (n,), G: (p, n), U: (n, d), V: (k, n), S: (n, n)."""

    SHAPES = {"S": ("n", "n"), "log_psi": ("n",), "G": (None, "n"), "U": ("n", None), "V": (None, "n")}

    log_psi: np.ndarray
    G: np.ndarray
    U: np.ndarray
    V: np.ndarray
    S: np.ndarray

    psi = exp_of("log_psi")

    @classmethod
    def from_psi(cls, psi: Any, G: Any, U: Any, V: Any, S: Any) -> "LBENParams":
        return cls(log_psi=np.log(as_positive_diagonal("psi", psi)), G=G, U=U, V=V, S=S)


def lben_lhs(W: np.ndarray, lam: np.ndarray, G: np.ndarray, U: np.ndarray, L: float) -> "tuple[np.ndarray, float]":
    r"""Left side of havens2023 (4) for diagonal Λ = diag(lam), and a bound on its rounding error:
    :func:`deqtheory.sdp.lmi.lipschitz_lmi_matrix` (the one assembler), arguments in LBEN order."""
    from ..sdp.lmi import lipschitz_lmi_matrix

    return lipschitz_lmi_matrix(W, U, G, lam, L)


class LBEN(Parametrization):
    r"""LBEN: havens2023 eq. (7); condition (4) with Λ = Ψ⁻¹, left side ``2VᵀV + 2εI``.

    Parameters
    ----------
    L : float > 0 — prescribed Lipschitz bound (``DomainError`` if ≤ 0).
    eps : float ≥ 0 — ε (``DomainError`` if < 0).
    """

    family = "lben"
    params_type = LBENParams

    def __init__(self, L: float = 1.0, eps: float = 0.1):
        self.L = as_scalar("L", L, positive=True)
        self.eps = as_scalar("eps", eps, nonnegative=True)

    def context(self, params: LBENParams) -> Dict[str, np.ndarray]:
        return {"G": params.G, "U": params.U}

    def _parts(self, params: LBENParams):
        n = params.S.shape[0]
        psi = params.psi
        G, U, V, S = params.G, params.U, params.V, params.S
        GtG = G.T @ G
        VtV = V.T @ V
        K = S.T - S
        X = ((GtG / (2 * self.L) + VtV) + K) + self.eps * np.eye(n)
        UUt = U @ U.T
        Y = UUt / ((2 * self.L) * psi[None, :])      # Ψ · Ψ⁻¹UUᵀΨ⁻¹/(2L) = UUᵀΨ⁻¹/(2L)
        PX = psi[:, None] * X
        return psi, GtG, VtV, K, X, UUt, Y, PX

    def forward(self, params: LBENParams) -> np.ndarray:
        n = self._validate(params)
        _, _, _, _, _, _, Y, PX = self._parts(params)
        return (np.eye(n) - PX) - Y

    def metric(self, params: LBENParams) -> np.ndarray:
        """Ψ (sym(Ψ⁻¹(I − W)) ≻ 0 by construction)."""
        return params.psi

    def forward_error_bound(self, params: LBENParams) -> float:
        r"""First-order bound on :math:`\|\mathrm{fl}(W)-W\|_2` summing the product bounds
        (:func:`~deqtheory.verified.product_error_bound`) of GᵀG, VᵀV, UUᵀ, one rounding per
        scaling/division, and the recursive-summation bounds (:func:`~deqtheory.verified.sum_error_bound`)."""
        n = self._validate(params)
        psi, GtG, VtV, K, X, UUt, Y, PX = self._parts(params)
        G, U, V, S = params.G, params.U, params.V, params.S
        u = UNIT_ROUNDOFF
        dX = ((product_error_bound(G.T, G) + 2 * u * _fro(GtG)) / (2 * self.L)
              + product_error_bound(V.T, V) + u * _fro(np.abs(S) + np.abs(S.T))
              + 2 * sum_error_bound(GtG / (2 * self.L), VtV, K, self.eps * np.eye(n)))
        dY = (product_error_bound(U, U.T) / (2 * self.L * float(np.min(psi))) + 3 * u * _fro(Y))
        e = float(np.max(psi)) * dX + u * _fro(PX) + dY + 2 * sum_error_bound(np.eye(n), PX, Y)
        return INFLATE * e

    def _ctx(self, W: np.ndarray, G: Any, U: Any):
        n = W.shape[0]
        G = np.zeros((1, n)) if G is None else as_matrix("G", G, shape=(None, n))
        U = np.zeros((n, 1)) if U is None else as_matrix("U", U, shape=(n, None))
        return G, U

    def _find_lambda(self, W, G, U) -> Optional[np.ndarray]:
        return _multipliers.sdp_diag_lben(W, G, U, self.L, self.eps)

    def contains(self, W: Any, tol: Optional[float] = None, *, G: Any = None, U: Any = None,
                 Lambda: Any = None) -> Certificate:
        r"""Certify ``LHS(4)(Λ) ⪰ (2ε − tol) I`` for a positive diagonal Λ (witness ``Lambda``;
        found by a small SDP if omitted). ``G``/``U`` default to zero (then the set is the
        Λ-monotone set ``sym(Λ(I − W)) ⪰ εI``). ``margin = lb − 2ε + tol`` with ``lb`` a proved
        lower bound on λ_min(LHS(4)). Default ``tol``: see :func:`~.base.lambda_min_certificate`.
        """
        W = _sq("W", W)
        G, U = self._ctx(W, G, U)
        W, lam, none = diagonal_witness(W, "Lambda", Lambda, lambda w: self._find_lambda(w, G, U), "lben_lmi4",
                                        "no diagonal Lambda found for havens2023 (4)")
        if none is not None:
            return none
        lhs, err = lben_lhs(W, lam, G, U, self.L)
        t = None if tol is None else as_scalar("tol", tol, nonnegative=True)
        return lambda_min_certificate("lben_lmi4", lhs, threshold=2 * self.eps, tol=t, abs_err=err,
                                      strict=False, witness={"Lambda": lam, "L": self.L, "eps": self.eps},
                                      name="LHS(4)")

    def right_inverse(self, W: Any, *, G: Any = None, U: Any = None, Lambda: Any = None,
                      tol: Optional[float] = None) -> LBENParams:
        W = _sq("W", W)
        n = W.shape[0]
        G, U = self._ctx(W, G, U)
        lam = self._find_lambda(W, G, U) if Lambda is None else as_positive_diagonal("Lambda", Lambda, n=n)
        if lam is None:
            raise OutsideSetError("no diagonal Lambda satisfying havens2023 (4) was found")
        X = lam[:, None] * (np.eye(n) - W)                     # Λ(I − W)
        LU = lam[:, None] * U
        VtV = sym(X) - (G.T @ G) / (2 * self.L) - (LU @ LU.T) / (2 * self.L) - self.eps * np.eye(n)
        t = default_tol(_fro(X), n) if tol is None else as_scalar("tol", tol, nonnegative=True)
        V = psd_factor(VtV, tol=t, name="V^T V")
        S = -skew(X) / 2.0                                       # Sᵀ − S = skew(Λ(I − W))
        return LBENParams(log_psi=-np.log(lam), G=G, U=U, V=V, S=S)

    def sample(self, rng: np.random.Generator, n: int, *, p: int = 2, d: int = 3, cond: float = 10.0,
               scale: float = 1.0, psi_range: float = 4.0) -> LBENParams:
        """V (n, n) with singular values in [scale/cond, scale]; G (p, n), U (n, d), S Gaussian;
        Ψ log-uniform in [1/psi_range, psi_range]."""
        n = _check_n(n)
        p = _check_n(p)
        d = _check_n(d)
        V = _conditioned(rng, n, n, scale / float(cond), scale)
        G = rng.standard_normal((p, n)) * scale / np.sqrt(n)
        U = rng.standard_normal((n, d)) * scale / np.sqrt(d)
        S = rng.standard_normal((n, n)) * scale / np.sqrt(n)
        log_psi = rng.uniform(-np.log(psi_range), np.log(psi_range), size=n)
        return LBENParams(log_psi=log_psi, G=G, U=U, V=V, S=S)

    def defining_condition(self, params: LBENParams) -> Certificate:
        r"""havens2023 §2.3: (4) holds with Λ = Ψ⁻¹ and its left side equals ``2VᵀV + 2εI``.

        ``margin = 2ε − 2‖Λ‖₂δ`` (δ = :meth:`forward_error_bound`): a proved lower bound on
        λ_min(LHS(4)) at the computed W (the G/U terms do not depend on W). ``residuals['identity']``
        = ‖LHS(4) − (2VᵀV + 2εI)‖_F in floating point.
        """
        n = self._validate(params)
        W = self.forward(params)
        lam = 1.0 / params.psi
        lhs, _ = lben_lhs(W, lam, params.G, params.U, self.L)
        rhs = 2 * params.V.T @ params.V + 2 * self.eps * np.eye(n)
        d = self.forward_error_bound(params)
        margin = 2 * self.eps - 2 * float(np.max(lam)) * d
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("lben_defining", status, margin=margin, witness={"Lambda": lam, "L": self.L},
                           tolerance={"forward_error_bound": d},
                           residuals={"identity": _fro(lhs - rhs), "identity_scale": _fro(rhs)},
                           message="LHS(4) = 2 V^T V + 2 eps I with Lambda = Psi^-1 (havens2023 eq. 7 / Prop 2.2)")


@register_verifier("lben_lmi4")
def _verify_lben(cert: Certificate, *, W: Any, G: Any = None, U: Any = None) -> Certificate:
    """Re-prove havens2023 (4) ⪰ (2ε − tol)I with the recorded witness Λ, L, ε and tol."""
    return LBEN(L=cert.witness["L"], eps=cert.witness["eps"]).contains(
        W, tol=cert.tolerance["tol"], G=G, U=U, Lambda=cert.witness["Lambda"])
