r"""CerDEQ weight orthogonalization (li2022 §3.3: Björck orthogonalization, eqs. (6)–(7), Lemma 3.3, Prop 3.4).

Given a raw (trained) weight ``V`` (n×n; li2022 allows m×n with m ≤ n, a DEQ's W is square):

1. **pre-scaling** so that all singular values are ≤ 1 (li2022: σ_max ≤ √(mn)‖V‖_max):
   :math:`Y_0 = V/(\sqrt{mn}\,\|V\|_{\max})` (= V/(n‖V‖_max) for square V);
2. **order-2 Björck** with :math:`A_0 = Y_0^\top` and (li2022 (6)–(7))

   .. math:: A_{k+1} = \tfrac{15}{8}A_k - \tfrac54 A_k(A_k^\top A_k) + \tfrac38 A_k(A_k^\top A_k)(A_k^\top A_k),

   i.e. each singular value follows :math:`p(\sigma) = \sigma(\tfrac{15}{8} - \tfrac54\sigma^2 + \tfrac38\sigma^4)`;
   :math:`p'(\sigma) = \tfrac{15}{8}(1-\sigma^2)^2 \ge 0` and :math:`p(1) = 1`, so :math:`[0,1]` is mapped into
   itself monotonically and σ → 1 (Lemma 3.3: converges to the polar factor when
   :math:`\|I - Y_0Y_0^\top\|_2 < 1`, i.e. Y₀ of full rank here);
3. **post-scaling** by 1/√n: :math:`W = A_K^\top/\sqrt n`. By li2022 Prop 3.2,
   :math:`\|\widehat W\|_2 = \max(\|W\|_2, \||W|\|_2) \le \|W\|_F = \|A_K\|_F/\sqrt n \le 1`.

**Note (reported).** The √n scaling gives :math:`\|\widehat W\|_2 \le 1`, *not* < 1: for an exactly
orthogonal O with :math:`|O_{ij}| = 1/\sqrt n` (a normalized Hadamard matrix) :math:`\||O|/\sqrt n\|_2 = 1`,
and Björck iterates approach it, so there is no uniform contraction margin; contractivity of the
adjoint DEQ must be *checked* (``deqtheory.spectrum.check_adjoint_contractive``), not assumed.

Set (contains): near-orthogonality ``‖I − n WᵀW‖₂ ≤ tol`` (√n W orthogonal up to tol). Right
inverse: ``V = √n W`` — exact only in the limit K → ∞ (the image of a finite-K map is not
characterized by a theorem); ``right_inverse`` therefore checks ``forward(V) ≈ W`` and raises
:class:`OutsideSetError` otherwise.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

import numpy as np

from .._validate import as_array, as_matrix, as_scalar
from ..certificates import Certificate, Status, register_verifier
from ..errors import DomainError, ShapeError
from ..linalg import frobenius_upper
from ..verified import INFLATE, UNIT_ROUNDOFF, gamma as _gam, product_error_bound, verified_pd
from .base import OutsideSetError, Params, Parametrization, _check_n, _conditioned, _fro, _sq

__all__ = ["CerDEQ", "CerDEQParams", "bjorck_order2", "bjorck_poly", "conv_cerdeq_kernel"]



@dataclasses.dataclass(frozen=True, eq=False)
class CerDEQParams(Params):
    """V: (n, n) raw (unconstrained, scale-free) weight."""

    SHAPES = {"V": ("n", "n")}

    V: np.ndarray


def bjorck_poly(sigma: Any) -> np.ndarray:
    r"""The scalar map of one order-2 Björck step on singular values:
    :math:`p(\sigma) = \sigma(15/8 - 5/4\,\sigma^2 + 3/8\,\sigma^4)`."""
    s = np.asarray(sigma, dtype=np.float64)
    s2 = s * s
    return s * (15.0 / 8.0 - 1.25 * s2 + 0.375 * s2 * s2)


def bjorck_order2(W: Any, n_iter: int) -> np.ndarray:
    r"""li2022 (6)–(7): ``A₀ = Wᵀ``, K = ``n_iter`` order-2 steps; returns ``A_Kᵀ`` (same shape as W).

    No scaling is applied here (see :meth:`CerDEQ.prescale`)."""
    W = as_matrix("W", W)
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise DomainError(f"n_iter: expected a non-negative integer, got {n_iter!r}")
    A = W.T.copy()
    for _ in range(int(n_iter)):
        AtA = A.T @ A
        A = 1.875 * A - 1.25 * (A @ AtA) + 0.375 * (A @ AtA) @ AtA
    return A.T


def conv_cerdeq_kernel(V: Any, n_iter: int = 5) -> np.ndarray:
    r"""li2022 §3.3 for a convolution (the reference recipe of the conv CerDEQ layer,
    :class:`deqtheory_train.layers.conv_cerdeq.ConvCerDEQ`): the kernel ``V`` (c_out, c_in, kh, kw) read as
    the m × n matrix :math:`\tilde V` (m = c_out rows, n = c_in·kh·kw: "output channel number and input channel
    number multiplying the kernel size"), pre-scaled :math:`Y_0 = \tilde V/(\sqrt{mn}\|V\|_{\max})`,
    ``n_iter`` order-2 Björck steps (:func:`bjorck_order2`: the rows become near-orthonormal) and post-scaled
    by :math:`1/\sqrt n`, reshaped back. A row of an exactly orthonormal O has
    :math:`\ell_1 \le \sqrt n\,\ell_2 = \sqrt n` (li2022 eq. 32), so every row of O/√n has ℓ1 mass ≤ 1
    (catalogue ``li2022:sec3.3.conv``) — a boundary,
    not a contraction margin: the certifier proves the Perron bound of the computed kernel instead
    (:func:`deqtheory.conv_ibp.conv_abs_contraction`). ``ShapeError`` unless V is 4-d with m ≤ n."""
    V = as_array("V", V, ndim=4)
    m, n = V.shape[0], int(np.prod(V.shape[1:]))
    if m > n:
        raise ShapeError(f"V: expected c_out <= c_in*kh*kw (rows can be orthonormal), got shape {V.shape}")
    Y0, _ = CerDEQ.prescale(V.reshape(m, n))
    return (bjorck_order2(Y0, n_iter) / math.sqrt(n)).reshape(V.shape)


class CerDEQ(Parametrization):
    r"""CerDEQ: ``W = Björck_K(V/(√(mn)‖V‖_max)) / √n`` (li2022 §3.3).

    Parameters
    ----------
    n_iter : int ≥ 1 — Björck iterations K (li2022 §4.1 uses 5; that many only orthogonalize
        well-conditioned V — the pre-scaling shrinks singular values to ≈ 1/√n, and p grows small
        σ by 15/8 per step, so K ≈ log_{15/8}(n·κ(V)) + 5 is needed for near-orthogonality).
    """

    family = "cerdeq"
    params_type = CerDEQParams

    def __init__(self, n_iter: int = 30):
        if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or int(n_iter) < 1:
            raise DomainError(f"n_iter: expected a positive integer, got {n_iter!r}")
        self.n_iter = int(n_iter)

    @staticmethod
    def prescale(V: Any) -> "tuple[np.ndarray, float]":
        r"""``(Y₀, c)`` with ``c = √(mn)‖V‖_max`` and ``Y₀ = V/c`` (σ_max(Y₀) ≤ 1). ``DomainError`` if V = 0."""
        V = as_matrix("V", V)
        mx = float(np.max(np.abs(V)))
        if mx == 0:
            raise DomainError(f"V: is zero (shape {V.shape}); the pre-scaling is undefined")
        c = math.sqrt(V.shape[0] * V.shape[1]) * mx
        return V / c, c

    def forward(self, params: CerDEQParams) -> np.ndarray:
        n = self._validate(params)
        Y0, _ = self.prescale(params.V)
        return bjorck_order2(Y0, self.n_iter) / math.sqrt(n)

    def forward_error_bound(self, params: CerDEQParams) -> float:
        r"""``math.inf``: no a-priori bound is claimed. Björck is self-correcting, but its rounding
        errors are amplified by up to 15/8 per step on small singular values, and the exact K-step
        value is not the object of interest — certify the computed output with :meth:`contains`
        (near-orthogonality) or ``deqtheory.spectrum.check_adjoint_contractive`` instead."""
        self._validate(params)
        return math.inf

    def orthogonality_defect_upper(self, W: Any) -> float:
        r"""Rigorous upper bound on :math:`\|I - nW^\top W\|_2`:
        :math:`\|\mathrm{fl}(I - n\,\mathrm{fl}(W^\top W))\|_F(1+\gamma) + n\,\gamma_{n+1}\||W|^\top|W|\|_F + u(1 + n\|W^\top W\|_F)`."""
        W = _sq("W", W)
        n = W.shape[0]
        WtW = W.T @ W
        E = np.eye(n) - n * WtW
        return INFLATE * (frobenius_upper(E) + n * product_error_bound(W.T, W)
                        + 2 * UNIT_ROUNDOFF * (1.0 + n * _fro(WtW)))

    def contains(self, W: Any, tol: Optional[float] = None) -> Certificate:
        r"""Certify near-orthogonality ``‖I − nWᵀW‖₂ ≤ tol`` (default ``tol = 1e-6``); margin =
        ``tol − ub``. ``residuals['adjoint_norm_upper']`` = ‖W‖_F(1+γ) ≥ ‖Ŵ‖₂ (li2022 Prop 3.2/3.4)."""
        W = _sq("W", W)
        t = 1e-6 if tol is None else as_scalar("tol", tol, nonnegative=True)
        ub = self.orthogonality_defect_upper(W)
        margin = t - ub
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("cerdeq_orthogonal", status, margin=margin, witness={"n": W.shape[0]},
                           tolerance={"tol": t},
                           residuals={"orthogonality_defect_upper": ub, "adjoint_norm_upper": frobenius_upper(W)},
                           message=f"||I - n W^T W||_2 <= {ub:.3e} (tol {t:.1e})")

    def right_inverse(self, W: Any, *, tol: Optional[float] = None) -> CerDEQParams:
        r"""``V = √n W`` (the polar factor of an orthogonal matrix is itself, and the pre-scaling is
        scale-free); checked: raises :class:`OutsideSetError` unless ``‖forward(V) − W‖_F ≤ tol``
        (default ``1e-8``)."""
        W = _sq("W", W)
        n = W.shape[0]
        t = 1e-8 if tol is None else as_scalar("tol", tol, nonnegative=True)
        if not np.any(W != 0):
            raise OutsideSetError("W = 0 is not in the image")
        V = math.sqrt(n) * W
        err = _fro(self.forward(CerDEQParams(V=V)) - W)
        if not err <= t:
            raise OutsideSetError(f"forward(sqrt(n) W) differs from W by {err:.3e} > tol = {t:.1e}: "
                                  "sqrt(n) W is not (numerically) orthogonal / K too small")
        return CerDEQParams(V=V)

    def sample(self, rng: np.random.Generator, n: int, *, cond: float = 10.0, scale: float = 1.0) -> CerDEQParams:
        """V with singular values log-uniform in [scale/cond, scale]."""
        n = _check_n(n)
        return CerDEQParams(V=_conditioned(rng, n, n, scale / float(cond), scale))

    def defining_condition(self, params: CerDEQParams) -> Certificate:
        r"""li2022 Lemma 3.3's hypothesis for the pre-scaled ``Y₀``: ``‖I − Y₀Y₀ᵀ‖₂ < 1``.

        σ_max(Y₀) ≤ ‖Y₀‖_F ≤ n‖Y₀‖_max ≤ 1 + 2u, and λ_min(Y₀ᵀY₀) ≥ lb (verified_pd with the product
        rounding bound). Then ‖I − Y₀Y₀ᵀ‖₂ ≤ max(1 − lb, (1+2u)² − 1); ``margin`` = 1 − that bound
        (> 0 ⇔ Lemma 3.3 applies: the Björck iterates converge to the polar factor).
        ``residuals``: orthogonality defect of √n·W and the Prop 3.2/3.4 bound ‖Ŵ‖₂ ≤ ‖W‖_F."""
        n = self._validate(params)
        Y0, c = self.prescale(params.V)
        smax_ub = float(np.linalg.norm(Y0)) * (1 + _gam(n * n + 2))
        pd = verified_pd(Y0.T @ Y0, abs_err=product_error_bound(Y0.T, Y0), refute=False, name="Y0^T Y0")
        lb = max(float(pd.margin), 0.0) if np.isfinite(pd.margin) else 0.0
        bound = max(1.0 - lb, smax_ub ** 2 - 1.0)
        margin = 1.0 - bound
        W = self.forward(params)
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("cerdeq_defining", status, margin=margin,
                           witness={"prescale": c, "n_iter": self.n_iter},
                           residuals={"sigma_max_upper": smax_ub, "sigma_min_sq_lower": lb,
                                      "orthogonality_defect_upper": self.orthogonality_defect_upper(W),
                                      "adjoint_norm_upper": frobenius_upper(W)},
                           message="li2022 Lemma 3.3 hypothesis ||I - Y0 Y0^T||_2 < 1 for the pre-scaled weight")


@register_verifier("cerdeq_orthogonal")
def _verify_cerdeq(cert: Certificate, *, W: Any) -> Certificate:
    """Recompute the near-orthogonality bound with the recorded tol."""
    return CerDEQ().contains(W, tol=cert.tolerance["tol"])
