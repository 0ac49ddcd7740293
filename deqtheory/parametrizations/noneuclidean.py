r"""Non-Euclidean (weighted ℓ∞) parametrization (jafarpour2022 eq. (12); Jafarpour et al. 2021, App. B).

Weighted ℓ∞ matrix measure (jafarpour2022 §3), for η ∈ ℝⁿ₊, ``‖x‖_{∞,[η]⁻¹} = max_i |x_i|/η_i``:

.. math:: \mu_{\infty,[\eta]^{-1}}(A) = \max_i \Big(A_{ii} + \sum_{j\ne i}\frac{\eta_j}{\eta_i}|A_{ij}|\Big)
          = \mu_\infty\big([\eta]^{-1} A [\eta]\big).

**Printed vs corrected.** jafarpour2022 prints (12) as
:math:`W = [\eta]^{-1}T[\eta] - \mathrm{diag}(|T|\mathbb 1_n) + \gamma I_n` and claims
:math:`\mu_{\infty,[\eta]^{-1}}(W) \le \gamma`. With the paper's own definition of the measure this
is false (off-diagonal weights become :math:`(\eta_j/\eta_i)^2|T_{ij}|`; counterexample in
``docs/parametrizations.md`` and the property tests). The claim holds with the similarity the
other way round — this module implements the **corrected** form

.. math:: W = [\eta]\,T\,[\eta]^{-1} - \mathrm{diag}(|T|\mathbb 1_n) + \gamma I_n,

for which :math:`[\eta]^{-1}W[\eta] = T - \mathrm{diag}(|T|\mathbb 1) + \gamma I` and, row by row,
:math:`T_{ii} - |T_{ii}| + \gamma \le \gamma`: :math:`\mu_{\infty,[\eta]^{-1}}(W) = \gamma + \max_i 2\min(T_{ii},0) \le \gamma`
(equality as soon as some :math:`T_{ii} \ge 0` — the condition is closed). The diagonal term
subtracts the *whole* row mass :math:`\sum_j|T_{ij}|`, including :math:`|T_{ii}|`, which is what makes
the diagonal harmless. The printed form is kept as :func:`eq12_as_printed` for the record.

η is trained in jafarpour2022 (11) and stored here as ``log_eta``; γ ∈ (−∞, 1) is the
well-posedness hyper-parameter (μ ≤ γ < 1 ⇒ well-posed, jafarpour2022 Thm 5.1).

Right inverse (any W with μ_{∞,[η]⁻¹}(W) ≤ γ for some η): ``Ŵ = [η]⁻¹W[η]``, ``T_ij = Ŵ_ij``
(i ≠ j), ``T_ii = min(c_i, 0)/2`` with ``c_i = Ŵ_ii − γ + Σ_{j≠i}|Ŵ_ij| ≤ 0``. Without a given η,
η = ((γ + tol)I − M̃)⁻¹𝟙 with M̃ the Metzler majorant (diag W_ii, off-diagonal |W_ij|), positive
iff the spectral abscissa α(M̃) < γ + tol.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

import numpy as np

from .._validate import as_positive_diagonal, as_scalar
from ..certificates import Certificate, Status, register_verifier
from ..linalg import mu_inf_with_allowance
from ..verified import INFLATE, UNIT_ROUNDOFF, gamma as _gam
from .base import (OutsideSetError, Params, Parametrization, _check_n, _sq, exp_of)

__all__ = ["NonEuclidean", "NonEuclideanParams", "eq12_as_printed"]



@dataclasses.dataclass(frozen=True, eq=False)
class NonEuclideanParams(Params):
    """T: (n, n) unconstrained; log_eta: (n,) with η = exp(log_eta)."""

    SHAPES = {"T": ("n", "n"), "log_eta": ("n",)}

    T: np.ndarray
    log_eta: np.ndarray

    eta = exp_of("log_eta")


def eq12_as_printed(T: Any, eta: Any, gamma: float) -> np.ndarray:
    r"""jafarpour2022 (12) *as printed*: :math:`[\eta]^{-1}T[\eta] - \mathrm{diag}(|T|\mathbb 1) + \gamma I`.
    Does **not** satisfy μ_{∞,[η]⁻¹}(W) ≤ γ in general — kept only as evidence for the erratum."""
    T = _sq("T", T)
    eta = as_positive_diagonal("eta", eta, n=T.shape[0])
    gamma = as_scalar("gamma", gamma)
    return (T * eta[None, :]) / eta[:, None] - np.diag(np.abs(T).sum(axis=1)) + gamma * np.eye(T.shape[0])


class NonEuclidean(Parametrization):
    r"""jafarpour2022 (12), corrected: ``W = [η]T[η]⁻¹ − diag(|T|𝟙) + γI`` ⇒ ``μ_{∞,[η]⁻¹}(W) ≤ γ``.

    Parameters
    ----------
    gamma : float < 1 (``DomainError`` otherwise); jafarpour2022 uses γ = 0.
    """

    family = "noneuclidean"
    params_type = NonEuclideanParams

    def __init__(self, gamma: float = 0.0):
        self.gamma = as_scalar("gamma", gamma, upper=1.0, strict_upper=True)

    def forward(self, params: NonEuclideanParams) -> np.ndarray:
        n = self._validate(params)
        T, eta = params.T, params.eta
        return ((eta[:, None] * T) / eta[None, :] - np.diag(np.abs(T).sum(axis=1))) + self.gamma * np.eye(n)

    def forward_error_bound(self, params: NonEuclideanParams) -> float:
        r""":math:`\gamma_{n+6}(\|\,|[\eta]T[\eta]^{-1}| + \mathrm{diag}(|T|\mathbb 1) + |\gamma| I\|_F)`."""
        n = self._validate(params)
        T, eta = params.T, params.eta
        A = np.abs(T) * (eta[:, None] / eta[None, :])
        return INFLATE * _gam(n + 6) * float(np.linalg.norm(A + np.diag(np.abs(T).sum(axis=1)) + abs(self.gamma) * np.eye(n)))

    def _default_tol(self, W: np.ndarray) -> float:
        return 1e-9 * max(1.0, abs(self.gamma), float(np.max(np.abs(W).sum(axis=1))))

    def _find_eta(self, W: np.ndarray, t: float) -> Optional[np.ndarray]:
        n = W.shape[0]
        Mt = np.abs(W)
        Mt[np.diag_indices(n)] = np.diag(W)
        A = (self.gamma + t) * np.eye(n) - Mt
        try:
            eta = np.linalg.solve(A, np.ones(n))
        except np.linalg.LinAlgError:
            return None
        if not (np.all(np.isfinite(eta)) and np.all(eta > 0)):
            return None
        return eta / np.max(eta)

    def contains(self, W: Any, tol: Optional[float] = None, *, eta: Any = None) -> Certificate:
        r"""Certify ``μ_{∞,[η]⁻¹}(W) ≤ γ + tol`` for some η > 0 (witness ``eta``, else the M-matrix
        solve of the module docstring). ``margin = γ + tol − (μ + allowance)`` (allowance from
        :func:`deqtheory.linalg.mu_inf_with_allowance`). Default ``tol = 1e-9·max(1, |γ|, ‖W‖_∞)``."""
        W = _sq("W", W)
        n = W.shape[0]
        t = self._default_tol(W) if tol is None else as_scalar("tol", tol, nonnegative=True)
        e = self._find_eta(W, t) if eta is None else as_positive_diagonal("eta", eta, n=n)
        if e is None:
            return Certificate("mu_inf_le_gamma", Status.INCONCLUSIVE, margin=-np.inf,
                               tolerance={"tol": t},
                               message="no positive eta found: alpha(Metzler majorant) >= gamma + tol")
        mu, allow = mu_inf_with_allowance(W, e)
        margin = self.gamma + t - (mu + allow)
        if margin > 0:
            status = Status.CERTIFIED
        elif mu - allow > self.gamma + t and eta is not None:
            status = Status.REFUTED   # for this eta only; recorded in the message
        else:
            status = Status.INCONCLUSIVE
        return Certificate("mu_inf_le_gamma", status, margin=margin, witness={"eta": e, "gamma": self.gamma},
                           tolerance={"tol": t, "allowance": allow}, residuals={"mu": mu},
                           message=f"mu_inf,[eta]^-1(W) = {mu:.6g} (+- {allow:.2g}) vs gamma + tol = {self.gamma + t:.6g}"
                                   + (" (refuted for the given eta only)" if status is Status.REFUTED else ""))

    def right_inverse(self, W: Any, *, eta: Any = None, tol: Optional[float] = None) -> NonEuclideanParams:
        W = _sq("W", W)
        n = W.shape[0]
        t = self._default_tol(W) if tol is None else as_scalar("tol", tol, nonnegative=True)
        if eta is not None:
            cands = [as_positive_diagonal("eta", eta, n=n)]
        else:   # δ-solves with shrinking δ: the excess max(c) is O(δ); keep the best η
            cands = [e for e in (self._find_eta(W, t * f) for f in (1.0, 1e-2, 1e-4)) if e is not None]
        if not cands:
            raise OutsideSetError("no eta > 0 with mu_inf,[eta]^-1(W) <= gamma + tol")
        best = None
        for e in cands:
            le = np.log(e)
            e = np.exp(le)                                    # the η forward() will use
            What = (W * e[None, :]) / e[:, None]              # [η]⁻¹ W [η]
            off = np.abs(What)
            off[np.diag_indices(n)] = 0.0
            c = np.diag(What) - self.gamma + off.sum(axis=1)
            if best is None or np.max(c) < np.max(best[2]):
                best = (le, What, c)
        le, What, c = best
        scale = max(1.0, float(np.max(np.abs(What).sum(axis=1))), abs(self.gamma))
        if np.any(c > t * scale):
            raise OutsideSetError(f"mu_inf,[eta]^-1(W) exceeds gamma by {float(np.max(c)):.3e}")
        T = What.copy()
        T[np.diag_indices(n)] = np.minimum(c, 0.0) / 2.0
        return NonEuclideanParams(T=T, log_eta=le)

    def sample(self, rng: np.random.Generator, n: int, *, scale: float = 1.0, eta_range: float = 4.0) -> NonEuclideanParams:
        n = _check_n(n)
        T = rng.standard_normal((n, n)) * scale / np.sqrt(n)
        log_eta = rng.uniform(-np.log(eta_range), np.log(eta_range), size=n)
        return NonEuclideanParams(T=T, log_eta=log_eta)

    def defining_condition(self, params: NonEuclideanParams) -> Certificate:
        r"""Row identity of the corrected (12): ``[η]⁻¹W[η] = T − diag(|T|𝟙) + γI``, hence

        μ_{∞,[η]⁻¹}(W_exact) = γ + max_i (T_ii − |T_ii|) ≤ γ   (``residuals['exact_mu']``).

        For the computed W, μ is 1-Lipschitz in ‖·‖_{∞,[η]⁻¹} ≤ (η_max/η_min)√n‖·‖₂, so
        ``mu_upper_bound = exact_mu + (η_max/η_min)√n·δ`` (δ = :meth:`forward_error_bound`).
        ``margin = 1 − mu_upper_bound``: > 0 proves μ(fl W) < 1, jafarpour2022 Thm 5.1's
        well-posedness condition (γ < 1 leaves room for it)."""
        n = self._validate(params)
        W = self.forward(params)
        mu, allow = mu_inf_with_allowance(W, params.eta)
        dT = np.diag(params.T)
        exact = self.gamma + float(np.max(dT - np.abs(dT)))
        dW = self.forward_error_bound(params)
        ratio = float(np.max(params.eta) / np.min(params.eta))
        ub = exact + UNIT_ROUNDOFF * abs(exact) + ratio * np.sqrt(n) * dW * INFLATE
        margin = 1.0 - ub
        status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
        return Certificate("noneuclidean_defining", status, margin=margin,
                           witness={"eta": params.eta, "gamma": self.gamma},
                           tolerance={"forward_error_bound": dW, "allowance": allow},
                           residuals={"mu_computed": mu, "exact_mu": exact, "mu_upper_bound": ub},
                           message="[eta]^-1 W [eta] = T - diag(|T|1) + gamma I (jafarpour2022 eq. 12, corrected)")


@register_verifier("mu_inf_le_gamma")
def _verify_noneuclidean(cert: Certificate, *, W: Any) -> Certificate:
    """Recompute μ_{∞,[η]⁻¹}(W) with the recorded η, γ and tol."""
    return NonEuclidean(gamma=cert.witness["gamma"]).contains(W, tol=cert.tolerance["tol"], eta=cert.witness["eta"])
