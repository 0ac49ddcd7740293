r"""MonDEQ parametrization (Winston & Kolter 2020; havens2023 eq. (5)).

.. math:: W = (1-m)I - A^\top A + B - B^\top, \qquad m > 0,

so that :math:`I - W = mI + A^\top A + (B^\top - B)` and

.. math:: \mathrm{sym}(I - W) = mI + A^\top A \succeq mI

(the skew part :math:`B^\top - B` of :math:`I - W` drops out of the symmetric part). The set
parametrized is exactly :math:`\{W : \mathrm{sym}(I-W) \succeq mI\}` (closed: equality when
``AᵀA`` is singular). Sign convention: havens2023 eq. (5) (``+B − Bᵀ`` in ``W``); wei2022 §2 writes
``AAᵀ`` for ``AᵀA`` (same set).

Right inverse: ``A = F`` with ``FᵀF = sym(I − W) − mI`` (eigh with clipping, never indefinite),
``B = (W − Wᵀ)/4`` (then ``B − Bᵀ = (W − Wᵀ)/2 = skew(W)``).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

import numpy as np

from .._validate import as_scalar
from ..certificates import Certificate, Status, register_verifier
from ..verified import INFLATE, UNIT_ROUNDOFF, product_error_bound, sum_error_bound
from .base import (Params, Parametrization, _check_n, _conditioned, _fro, _sq,
                   default_tol, lambda_min_certificate, psd_factor, sym)

__all__ = ["MonDEQ", "MonDEQParams"]



@dataclasses.dataclass(frozen=True, eq=False)
class MonDEQParams(Params):
    """A: (k, n), B: (n, n)."""

    SHAPES = {"B": ("n", "n"), "A": (None, "n")}

    A: np.ndarray
    B: np.ndarray


class MonDEQ(Parametrization):
    r"""MonDEQ: ``W = (1−m)I − AᵀA + B − Bᵀ`` (havens2023 eq. (5)); set ``sym(I − W) ⪰ mI``.

    Parameters
    ----------
    m : float > 0 — monotonicity parameter (``DomainError`` otherwise).

    >>> import numpy as np
    >>> p = MonDEQ(m=0.5)
    >>> prm = p.sample(np.random.default_rng(0), 4)
    >>> W = p.forward(prm)
    >>> bool(np.linalg.eigvalsh(np.eye(4) - (W + W.T) / 2).min() >= 0.5 - 1e-12)
    True
    """

    family = "mondeq"
    params_type = MonDEQParams

    def __init__(self, m: float = 1.0):
        self.m = as_scalar("m", m, positive=True)

    def forward(self, params: MonDEQParams) -> np.ndarray:
        n = self._validate(params)
        A, B = params.A, params.B
        return ((1.0 - self.m) * np.eye(n) - A.T @ A) + (B - B.T)

    def forward_error_bound(self, params: MonDEQParams) -> float:
        r""":math:`\|\mathrm{fl}(W)-W\|_2 \le u|1-m| + \gamma_{k+1}\||A|^\top|A|\|_F + u\||B|+|B|^\top\|_F
        + \gamma_3\|\,|1-m|I + |A^\top A| + |B-B^\top|\,\|_F` (first order, inflated by 1 + 10⁻⁶)."""
        n = self._validate(params)
        A, B = params.A, params.B
        c = 1.0 - self.m
        AtA = A.T @ A
        K = B - B.T
        e = (UNIT_ROUNDOFF * abs(c) + product_error_bound(A.T, A)
             + UNIT_ROUNDOFF * _fro(np.abs(B) + np.abs(B.T))
             + sum_error_bound(c * np.eye(n), AtA, K) * 2.0)
        return INFLATE * e

    def right_inverse(self, W: Any, *, tol: Optional[float] = None) -> MonDEQParams:
        W = _sq("W", W)
        n = W.shape[0]
        X = sym(np.eye(n) - W) - self.m * np.eye(n)
        t = default_tol(_fro(np.eye(n) - W), n) if tol is None else as_scalar("tol", tol, nonnegative=True)
        A = psd_factor(X, tol=t, name="sym(I - W) - m I")
        B = (W - W.T) / 4.0
        return MonDEQParams(A=A, B=B)

    def contains(self, W: Any, tol: Optional[float] = None) -> Certificate:
        r"""Certify ``sym(I − W) ⪰ (m − tol) I`` (proved with :func:`~deqtheory.verified.verified_pd`).

        When ``m − tol > 0`` this is a monotonicity proof and the certificate is the one
        monotonicity certificate, :func:`deqtheory.linalg.check_monotone` at level ``m − tol``
        (condition ``"monotone"``; ``margin`` = proved lower bound on ``λ_min(sym(I − W)) − (m − tol)``).
        When ``tol ≥ m`` (huge or nearly singular W) only membership of the MonDEQ set up to ``tol``
        is claimed — condition ``"mondeq_monotone"`` (:func:`~.base.lambda_min_certificate`, same
        margin), which does **not** prove well-posedness. Default ``tol``:
        ``default_tol(‖I − W‖_F, n) + 4·abs_err``, recorded in ``tolerance["tol"]``.
        """
        from ..linalg import check_monotone

        W = _sq("W", W)
        n = W.shape[0]
        abs_err = sum_error_bound(np.eye(n), W)
        t = (default_tol(_fro(np.eye(n) - W), n) + 4.0 * abs_err if tol is None
             else as_scalar("tol", tol, nonnegative=True))
        if self.m - t > 0:
            c = check_monotone(W, m=self.m - t)
            return c.replace(tolerance={**dict(c.tolerance), "tol": t, "m_family": self.m})
        return lambda_min_certificate("mondeq_monotone", np.eye(n) - W, threshold=self.m, tol=t, abs_err=abs_err,
                                      strict=False, witness={"m": self.m}, name="I - W")

    def sample(self, rng: np.random.Generator, n: int, *, rank: Optional[int] = None,
               cond: float = 10.0, scale: float = 1.0) -> MonDEQParams:
        """A: (rank, n) with singular values in [scale/cond, scale]; B Gaussian · scale/√n."""
        n = _check_n(n)
        k = n if rank is None else _check_n(rank)
        A = _conditioned(rng, k, n, scale / float(cond), scale)
        B = rng.standard_normal((n, n)) * scale / np.sqrt(n)
        return MonDEQParams(A=A, B=B)

    def defining_condition(self, params: MonDEQParams) -> Certificate:
        r"""havens2023 (5): ``sym(I − W) = mI + AᵀA ⪰ mI`` exactly.

        For the computed ``W``: λ_min(sym(I − fl W)) ≥ m − δ with δ = :meth:`forward_error_bound`;
        ``margin = m − δ`` (> 0 proves ``I − fl(W)`` monotone). ``residuals['identity']`` is
        ‖sym(I − fl W) − mI − fl(AᵀA)‖_F (≤ δ·√n up to rounding).
        """
        n = self._validate(params)
        W = self.forward(params)
        d = self.forward_error_bound(params)
        ident = _fro(sym(np.eye(n) - W) - self.m * np.eye(n) - params.A.T @ params.A)
        margin = self.m - d
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("mondeq_defining", status, margin=margin,
                           witness={"A": params.A, "m": self.m},
                           tolerance={"forward_error_bound": d},
                           residuals={"identity": ident},
                           message="sym(I - W) = m I + A^T A (havens2023 eq. 5)")


@register_verifier("mondeq_monotone")
def _verify_mondeq(cert: Certificate, *, W: Any, **_: Any) -> Certificate:
    """Recompute the MonDEQ membership up to the recorded tol (``tol ≥ m`` case of ``contains``)."""
    W = _sq("W", W)
    n = W.shape[0]
    return lambda_min_certificate("mondeq_monotone", np.eye(n) - W, threshold=cert.witness["m"],
                                  tol=cert.tolerance["tol"], abs_err=sum_error_bound(np.eye(n), W), strict=False,
                                  witness={"m": cert.witness["m"]}, name="I - W")
