r"""IBP-MonDEQ M-matrix parametrizations (wei2022 eq. (3.4), Thm 3.1; eq. (3.7), Thm 3.3; §4).

**Thm 3.1 / eq. (3.4).** :math:`W = D^{-1/2} M D^{-1/2}` with ``D`` diagonal,
:math:`D_{ii} > r_i(M) := \big((|M|\mathbb 1)_i + (|M|^\top\mathbb 1)_i\big)/2`. Then (wei2022 (3.9))

.. math:: I - \mathrm{sym}|W| = D^{-1/2}\big(D - \mathrm{sym}|M|\big)D^{-1/2} \succ 0,

because :math:`D - \mathrm{sym}|M|` is symmetric strictly diagonally dominant; by Lemma 3.4 this is
:math:`I_{2n} - \widehat W \succ 0` for the IBP lift. "A ≻ 0" means sym(A) ≻ 0 (wei2022 §2).

**With m (wei2022 §4).** The paper trains with :math:`d = (|M| + |M|^\top)\mathbb 1/(2(1-m))`,
:math:`m \in (0,1)`. Then :math:`D^{-1}\mathrm{sym}|M|` has all row sums :math:`1-m`, so
:math:`\lambda_{\max}(\mathrm{sym}|W|) = 1 - m` **exactly** (Perron vector :math:`D^{1/2}\mathbb 1`):
the paper's training form lies on the boundary :math:`\mathrm{sym}(I - |W|) \succeq mI` with equality.
:class:`IBPMonDEQ` uses the unconstrained form

.. math:: d = \frac{r(M)}{1-m} + e^{s}, \qquad s = \texttt{log\_slack} \in \mathbb R^n,

whose image is exactly :math:`\{W : \lambda_{\max}(\mathrm{sym}|W|) < 1 - m\}` (``m = 0``: exactly the
Thm 3.1 set); the paper's form is the limit ``s → −∞`` and is available as
:meth:`IBPMonDEQ.forward_paper` / :meth:`IBPMonDEQ.right_inverse_paper`.

**Converse (constructive).** If :math:`\lambda_{\max}(S) < 1 - m`, :math:`S = \mathrm{sym}|W|`, then
:math:`(1-m)I - S` is a nonsingular symmetric M-matrix, :math:`e = ((1-m)I - S)^{-1}\mathbb 1 \ge \mathbb 1/(1-m) > 0`
and with :math:`E = \mathrm{diag}(e)`, :math:`M = EWE`, :math:`D = E^2`:
:math:`d_i - r_i(M)/(1-m) = e_i\,((1-m)e - Se)_i/(1-m) = e_i/(1-m) > 0`. (wei2022's proof takes
"a diagonal E with E(I − sym|W|)E SDD" from M-matrix theory; this e is such an E.)

**Γ-variant, Thm 3.3 / eq. (3.7).** :math:`W = \Gamma D^{-1/2} M D^{-1/2}\Gamma^{-1}`, Γ positive
diagonal; with :math:`\Lambda = \Gamma^{-2}`: :math:`\Lambda - \Lambda|W| = \Gamma^{-1}(I - |W'|)\Gamma^{-1} \succ 0`
(wei2022 App. A). Training form (§4): :math:`\Gamma = \mathrm{diag}(\frac{\gamma-1}{\gamma}\mathrm{sigmoid}(\beta) + \frac1\gamma)`,
so :math:`\Gamma_{ii} \in (1/\gamma, 1)` and :math:`\kappa(\Gamma) < \gamma`. Converse: for
:math:`A = (1-m)I - |W|` a nonsingular M-matrix, :math:`\Lambda = \mathrm{diag}(y/x)` with
:math:`x = A^{-1}\mathbb 1`, :math:`y = A^{-\top}\mathbb 1` gives :math:`\mathrm{sym}(\Lambda A) \succ 0`;
:math:`\Gamma = \Lambda^{-1/2}` (rescaled: W does not change when Γ is scaled).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

import numpy as np

from .._validate import as_positive_diagonal, as_scalar
from ..certificates import Certificate, Status, register_verifier
from ..errors import DomainError
from ..verified import INFLATE, UNIT_ROUNDOFF, gamma as _gam, sum_error_bound
from . import _multipliers
from .base import (OutsideSetError, Params, Parametrization, _check_n, _fro, _sq, default_tol, diagonal_witness,
                   lambda_min_certificate, sym)

__all__ = ["IBPMonDEQ", "IBPMonDEQParams", "IBPMonDEQGamma", "IBPMonDEQGammaParams", "row_col_mass"]



def row_col_mass(M: np.ndarray) -> np.ndarray:
    r""":math:`r(M) = (|M|\mathbb 1 + |M|^\top\mathbb 1)/2` (the bound of wei2022 Thm 3.1)."""
    A = np.abs(M)
    return 0.5 * (A.sum(axis=1) + A.sum(axis=0))


@dataclasses.dataclass(frozen=True, eq=False)
class IBPMonDEQParams(Params):
    """M: (n, n) unconstrained; log_slack: (n,), slack = exp(log_slack) > 0."""

    SHAPES = {"M": ("n", "n"), "log_slack": ("n",)}

    M: np.ndarray
    log_slack: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class IBPMonDEQGammaParams(Params):
    """M: (n, n), log_slack: (n,), beta: (n,) (Γ from β, see :class:`IBPMonDEQGamma`)."""

    SHAPES = {"M": ("n", "n"), "log_slack": ("n",), "beta": ("n",)}

    M: np.ndarray
    log_slack: np.ndarray
    beta: np.ndarray


def _check_m(m: Any) -> float:
    m = as_scalar("m", m, nonnegative=True)
    if not m < 1:
        raise DomainError(f"m: must be in [0, 1), got {m}")
    return m


class IBPMonDEQ(Parametrization):
    r"""wei2022 Thm 3.1 / eq. (3.4) with margin m: ``W = D^{-1/2} M D^{-1/2}``, ``d = r(M)/(1−m) + exp(log_slack)``.

    Set: ``λ_max(sym|W|) < 1 − m`` i.e. ``sym(I − |W|) ≻ mI`` (m = 0: Thm 3.1 exactly).

    Parameters
    ----------
    m : float in [0, 1) (``DomainError`` otherwise). wei2022 uses m = 0.1 (DEQ-3) and 0.5 (DEQ-7).
    """

    family = "ibp_mondeq"
    params_type = IBPMonDEQParams

    def __init__(self, m: float = 0.0):
        self.m = _check_m(m)

    def d(self, params: IBPMonDEQParams) -> np.ndarray:
        """The diagonal of D."""
        return row_col_mass(params.M) / (1.0 - self.m) + np.exp(params.log_slack)

    @staticmethod
    def _scale(M: np.ndarray, d: np.ndarray) -> np.ndarray:
        s = 1.0 / np.sqrt(d)
        return (s[:, None] * M) * s[None, :]

    def forward(self, params: IBPMonDEQParams) -> np.ndarray:
        self._validate(params)
        return self._scale(params.M, self.d(params))

    # -- wei2022 §4 training form ---------------------------------------------------------
    def paper_d(self, M: Any) -> np.ndarray:
        r"""wei2022 §4: :math:`d = (|M| + |M|^\top)\mathbb 1/(2(1-m))`. Raises ``DomainError`` if some
        :math:`d_i = 0` (row and column i of M vanish: D is singular) or if ``m = 0``."""
        M = _sq("M", M)
        if self.m == 0:
            raise DomainError("m: the wei2022 §4 training form needs m in (0, 1), got 0")
        d = row_col_mass(M) / (1.0 - self.m)
        if np.any(d <= 0):
            i = int(np.argmin(d))
            raise DomainError(f"M: row and column {i} vanish, so d_{i} = 0 in the wei2022 §4 form (shape {M.shape})")
        return d

    def forward_paper(self, M: Any) -> np.ndarray:
        """wei2022 §4: ``W = D^{-1/2} M D^{-1/2}`` with ``d`` = :meth:`paper_d` (λ_max(sym|W|) = 1 − m exactly)."""
        M = _sq("M", M)
        return self._scale(M, self.paper_d(M))

    def right_inverse_paper(self, W: Any, *, tol: Optional[float] = None) -> np.ndarray:
        r"""M with ``forward_paper(M) == W``: exists iff λ_max(sym|W|) = 1 − m with a positive Perron
        vector e; then ``M = diag(e) W diag(e)`` (M is unique up to a positive factor; ‖e‖₂ = 1).
        Raises :class:`OutsideSetError` otherwise (|λ_max − (1 − m)| > tol or e not positive)."""
        W = _sq("W", W)
        n = W.shape[0]
        S = sym(np.abs(W))
        w, V = np.linalg.eigh(S)
        t = default_tol(_fro(S), n) if tol is None else as_scalar("tol", tol, nonnegative=True)
        if abs(w[-1] - (1.0 - self.m)) > t:
            raise OutsideSetError(f"lambda_max(sym|W|) = {w[-1]:.6g} != 1 - m = {1 - self.m:.6g}: "
                                  "not in the image of the wei2022 §4 form")
        e = V[:, -1] * np.sign(np.sum(V[:, -1]))
        if not np.all(e > 0):
            raise OutsideSetError("the Perron vector of sym|W| is not positive (reducible |W|)")
        return (e[:, None] * W) * e[None, :]

    # -- contract -------------------------------------------------------------------------
    def forward_error_bound(self, params: IBPMonDEQParams) -> float:
        r"""Frobenius bound :math:`\gamma_{8}\|W\|_F` on :math:`\|\mathrm{fl}(W) - D^{-1/2}MD^{-1/2}\|_F`
        (D the computed diagonal; sqrt, reciprocal and two products per entry)."""
        self._validate(params)
        return INFLATE * _gam(8) * _fro(self.forward(params))

    def contains(self, W: Any, tol: Optional[float] = None) -> Certificate:
        r"""Certify ``sym(I − |W|) ≻ mI``: strictly for ``m = 0`` (Thm 3.1: I − |W| ≻ 0), and up to
        ``tol`` for ``m > 0`` (``λ_min ≥ m − tol``; the closure contains the §4 training form, where
        equality holds). ``margin = lb − m + tol``; ``residuals['lambda_min_lower_bound'] = lb``
        (lb > 0 proves I − |W| ≻ 0, hence I₂ₙ − Ŵ ≻ 0 by wei2022 Lemma 3.4)."""
        W = _sq("W", W)
        n = W.shape[0]
        X = np.eye(n) - np.abs(W)
        strict = self.m == 0
        t = 0.0 if strict else (None if tol is None else as_scalar("tol", tol, nonnegative=True))
        return lambda_min_certificate("ibp_mmatrix", X, threshold=self.m, tol=t,
                                      abs_err=sum_error_bound(np.eye(n), W), strict=strict,
                                      witness={"m": self.m}, name="I - |W|")

    def right_inverse(self, W: Any) -> IBPMonDEQParams:
        """Constructive converse of Thm 3.1 (see module docstring): e = ((1−m)I − sym|W|)⁻¹𝟙."""
        W = _sq("W", W)
        n = W.shape[0]
        c = 1.0 - self.m
        S = sym(np.abs(W))
        A = c * np.eye(n) - S
        try:
            e = np.linalg.solve(A, np.ones(n))
        except np.linalg.LinAlgError:
            raise OutsideSetError("(1 - m) I - sym|W| is singular") from None
        if not (np.all(np.isfinite(e)) and np.all(e > 0)):
            raise OutsideSetError("((1 - m) I - sym|W|)^{-1} 1 is not positive: lambda_max(sym|W|) >= 1 - m")
        M = (e[:, None] * W) * e[None, :]
        slack = e * e - row_col_mass(M) / c
        if not np.all(slack > 0):
            raise OutsideSetError("W is (numerically) on the boundary lambda_max(sym|W|) = 1 - m; "
                                  "use right_inverse_paper for the wei2022 §4 form")
        return IBPMonDEQParams(M=M, log_slack=np.log(slack))

    def sample(self, rng: np.random.Generator, n: int, *, scale: float = 1.0,
               slack_range: "tuple[float, float]" = (0.1, 1.0)) -> IBPMonDEQParams:
        """M Gaussian·scale/√n; slack_i = u_i·mean(r(M))/(1−m) with u_i uniform in ``slack_range``
        (controls how far from the boundary λ_max(sym|W|) = 1 − m the sample is)."""
        n = _check_n(n)
        M = rng.standard_normal((n, n)) * scale / np.sqrt(n)
        base = float(np.mean(row_col_mass(M))) / (1.0 - self.m)
        slack = rng.uniform(*slack_range, size=n) * max(base, 1e-300)
        return IBPMonDEQParams(M=M, log_slack=np.log(slack))

    def _proved_ratio(self, params: Any) -> float:
        r"""min_i σ_i/d_i with σ_i = (1−m)·slack_i·(1−u) − r_i·γ_{2n+4} a proved lower bound on
        (1−m)d_i − r_i(M) for the computed d."""
        n = params.M.shape[0]
        r = row_col_mass(params.M)
        d = self.d(params)
        slack = np.exp(params.log_slack)
        sig = (1.0 - self.m) * slack * (1 - 4 * UNIT_ROUNDOFF) - r * _gam(2 * n + 6)
        return float(np.min(sig / d))

    def defining_condition(self, params: IBPMonDEQParams) -> Certificate:
        r"""wei2022 (3.9) with m: ``I − m I − sym|W| = D^{-1/2}((1−m)D − sym|M|)D^{-1/2}`` and
        ``(1−m)D − sym|M|`` is diagonally dominant with row excess ``(1−m)·slack``, so (Gershgorin)

        λ_min(sym(I − |W|)) ≥ m + min_i (1−m) slack_i / d_i.

        ``margin`` = that bound minus the forward rounding (Frobenius) bound: a proved lower bound on
        λ_min(sym(I − |fl W|)) (> 0 ⇒ Thm 3.1's conclusion I − |W| ≻ 0)."""
        self._validate(params)
        ratio = self._proved_ratio(params)
        dW = self.forward_error_bound(params)
        margin = self.m + ratio - dW
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("ibp_mondeq_defining", status, margin=margin,
                           witness={"d": self.d(params), "m": self.m},
                           tolerance={"forward_error_bound": dW},
                           residuals={"excess_over_m": ratio - dW},
                           message="D - sym|M| strictly diagonally dominant (wei2022 Thm 3.1, eq. 3.9)")


class IBPMonDEQGamma(Parametrization):
    r"""wei2022 Thm 3.3 / eq. (3.7) with margin m: ``W = Γ D^{-1/2} M D^{-1/2} Γ^{-1}``.

    ``Γ = diag((γ−1)/γ·sigmoid(β) + 1/γ)`` (wei2022 §4; κ(Γ) < γ) when ``gamma`` is given,
    ``Γ = diag(exp(β))`` (plain Thm 3.3) when ``gamma=None``; ``D`` as in :class:`IBPMonDEQ`.
    Set: ∃Λ ∈ 𝔻₊ (κ(Λ) < γ² when ``gamma`` is set) with ``sym(Λ((1 − m)I − |W|)) ≻ 0``; the
    witness for forward(params) is Λ = Γ⁻² (wei2022 App. A, proof of Thm 3.3).

    Parameters
    ----------
    m : float in [0, 1); gamma : float > 1 or None (wei2022 uses γ = 3).
    """

    family = "ibp_mondeq_gamma"
    params_type = IBPMonDEQGammaParams

    def __init__(self, m: float = 0.0, gamma: Optional[float] = 3.0):
        self.m = _check_m(m)
        if gamma is not None:
            gamma = as_scalar("gamma", gamma)
            if not gamma > 1:
                raise DomainError(f"gamma: must be > 1, got {gamma}")
        self.gamma = gamma
        self._inner = IBPMonDEQ(m=self.m)

    def Gamma(self, beta: Any) -> np.ndarray:
        """The diagonal of Γ from β."""
        beta = np.asarray(beta, dtype=np.float64)
        if self.gamma is None:
            return np.exp(beta)
        g = self.gamma
        sig = 0.5 * (1.0 + np.tanh(0.5 * beta))   # sigmoid without overflow
        return (g - 1.0) / g * sig + 1.0 / g

    def _beta(self, Gamma: np.ndarray) -> np.ndarray:
        if self.gamma is None:
            return np.log(Gamma)
        g = self.gamma
        p = (Gamma - 1.0 / g) * g / (g - 1.0)
        return np.log(p) - np.log1p(-p)

    def _Wp(self, params: IBPMonDEQGammaParams) -> np.ndarray:
        return self._inner.forward(IBPMonDEQParams(M=params.M, log_slack=params.log_slack))

    def forward(self, params: IBPMonDEQGammaParams) -> np.ndarray:
        self._validate(params)
        g = self.Gamma(params.beta)
        return (g[:, None] * self._Wp(params)) / g[None, :]

    def forward_error_bound(self, params: IBPMonDEQGammaParams) -> float:
        r"""Frobenius bound :math:`\gamma_{12}\|W\|_F` (relative rounding per entry)."""
        self._validate(params)
        return INFLATE * _gam(12) * _fro(self.forward(params))

    def _find_lambda(self, W: np.ndarray) -> Optional[np.ndarray]:
        n = W.shape[0]
        c = 1.0 - self.m
        A = c * np.eye(n) - np.abs(W)
        lam = _multipliers.mmatrix_multiplier(A)
        if lam is not None and (self.gamma is None or np.max(lam) / np.min(lam) < self.gamma ** 2 * (1 - 1e-6)):
            return lam
        if self.gamma is None:
            return None
        return _multipliers.sdp_diag_monotone(np.abs(W) / c, box=(1.0, self.gamma ** 2 * (1 - 1e-3)))

    def contains(self, W: Any, tol: Optional[float] = None, *, Lambda: Any = None) -> Certificate:
        r"""Certify ``sym(Λ((1 − m)I − |W|)) ≻ 0`` (strict; ``tol`` unused) for a positive diagonal
        Λ (witness ``Lambda``; else the M-matrix witness Λ = diag(y/x), falling back to a small
        SDP with κ(Λ) ≤ γ²). ``margin`` = proved lower bound on λ_min(sym(Λ((1 − m)I − |W|)));
        status is INCONCLUSIVE when κ(Λ) ≥ γ² (wei2022 §4 bound on κ(Γ))."""
        W, lam, none = diagonal_witness(W, "Lambda", Lambda, self._find_lambda, "ibp_gamma_mmatrix",
                                        "no diagonal Lambda found (wei2022 Thm 3.3)")
        if none is not None:
            return none
        n = W.shape[0]
        c = 1.0 - self.m
        X = lam[:, None] * (c * np.eye(n) - np.abs(W))
        err = INFLATE * (float(np.max(lam)) * sum_error_bound(c * np.eye(n), W) + UNIT_ROUNDOFF * _fro(X)
                       + UNIT_ROUNDOFF * c * float(np.max(lam)))
        cert = lambda_min_certificate("ibp_gamma_mmatrix", X, threshold=0.0, tol=0.0, abs_err=err,
                                      strict=True, witness={"Lambda": lam, "m": self.m, "gamma": self.gamma},
                                      name="Lambda((1-m)I - |W|)",
                                      stats={"cond_Lambda": float(np.max(lam) / np.min(lam))})
        if self.gamma is not None and cert.certified and not np.max(lam) / np.min(lam) < self.gamma ** 2:
            return cert.replace(status=Status.INCONCLUSIVE, margin=-abs(cert.margin),
                                message=cert.message + f"; but cond(Lambda) >= gamma^2 = {self.gamma ** 2:.6g}")
        return cert

    def right_inverse(self, W: Any, *, Lambda: Any = None) -> IBPMonDEQGammaParams:
        """wei2022 App. A (converse of Thm 3.3): Γ = Λ^{-1/2} (rescaled into (1/γ, 1)), then the
        Thm 3.1 converse on W' = Γ⁻¹WΓ."""
        W = _sq("W", W)
        n = W.shape[0]
        lam = self._find_lambda(W) if Lambda is None else as_positive_diagonal("Lambda", Lambda, n=n)
        if lam is None:
            raise OutsideSetError("no diagonal Lambda with sym(Lambda((1-m)I - |W|)) > 0 (and cond < gamma^2)")
        G0 = 1.0 / np.sqrt(lam)
        if self.gamma is None:
            G = G0 / np.max(G0)
        else:
            kappa = float(np.max(G0) / np.min(G0))
            if not kappa < self.gamma:
                raise OutsideSetError(f"cond(Gamma) = {kappa:.6g} >= gamma = {self.gamma:.6g}")
            G = G0 / math.sqrt(float(np.max(G0) * np.min(G0))) / math.sqrt(self.gamma)
        beta = self._beta(G)
        g = self.Gamma(beta)                        # the Γ forward() will use
        Wp = (W * g[None, :]) / g[:, None]          # W' = Γ⁻¹ W Γ
        inner = self._inner.right_inverse(Wp)
        return IBPMonDEQGammaParams(M=inner.M, log_slack=inner.log_slack, beta=beta)

    def sample(self, rng: np.random.Generator, n: int, *, scale: float = 1.0,
               slack_range: "tuple[float, float]" = (0.1, 1.0), beta_scale: float = 1.0) -> IBPMonDEQGammaParams:
        n = _check_n(n)
        p = self._inner.sample(rng, n, scale=scale, slack_range=slack_range)
        beta = rng.standard_normal(n) * beta_scale
        return IBPMonDEQGammaParams(M=p.M, log_slack=p.log_slack, beta=beta)

    def defining_condition(self, params: IBPMonDEQGammaParams) -> Certificate:
        r"""wei2022 App. A: with Λ = Γ⁻², ``Λ((1−m)I − |W|) = Γ⁻¹((1−m)I − |W'|)Γ⁻¹`` so
        λ_min(sym(·)) ≥ min_i((1−m)slack_i/d_i)/max(Γ)². ``margin`` = that minus max(Λ)·δ_F
        (δ_F = :meth:`forward_error_bound`). ``stats['cond_Gamma']`` < γ (wei2022 §4)."""
        self._validate(params)
        g = self.Gamma(params.beta)
        ratio = self._inner._proved_ratio(IBPMonDEQParams(M=params.M, log_slack=params.log_slack))
        lam = g ** -2.0
        dW = self.forward_error_bound(params)
        margin = ratio * float(np.min(lam)) * (1 - 8 * UNIT_ROUNDOFF) - float(np.max(lam)) * dW
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("ibp_gamma_defining", status, margin=margin,
                           witness={"Lambda": lam, "Gamma": g, "m": self.m},
                           tolerance={"forward_error_bound": dW},
                           stats={"cond_Gamma": float(np.max(g) / np.min(g))},
                           message="Lambda - Lambda|W| = Gamma^-1 (I - |W'|) Gamma^-1 with Lambda = Gamma^-2 "
                                   "(wei2022 Thm 3.3, App. A)")


@register_verifier("ibp_mmatrix")
def _verify_ibp(cert: Certificate, *, W: Any) -> Certificate:
    """Recompute ``IBPMonDEQ(m).contains(W, tol)``."""
    return IBPMonDEQ(m=cert.witness["m"]).contains(W, tol=cert.tolerance["tol"])


@register_verifier("ibp_gamma_mmatrix")
def _verify_ibp_gamma(cert: Certificate, *, W: Any) -> Certificate:
    """Re-prove sym(Λ((1 − m)I − |W|)) ≻ 0 with the recorded Λ (and κ(Λ) < γ²)."""
    return IBPMonDEQGamma(m=cert.witness["m"], gamma=cert.witness["gamma"]).contains(W, Lambda=cert.witness["Lambda"])
