r"""Closed-form Lipschitz, perturbation and fixed-point error bounds for ReLU DEQs.

Model and conventions (``docs/conventions.md``): :math:`z^\star = \sigma(Wz^\star + Ux + b)`,
:math:`y = Gz^\star + b_y`, :math:`\sigma = \mathrm{ReLU}`; ``W`` is (n, n), ``U`` (n, d), ``G``
(p, n). "Monotone with margin m" means :math:`\lambda_{\min}(\mathrm{sym}(I - W)) \ge m`
(:math:`\mathrm{sym}(A) = (A + A^\top)/2`); ``phi``-weighted: :math:`\mathrm{sym}(\Phi^{-1}(I-W)) \succeq mI`.
:math:`\mu_{\infty,[\eta]^{-1}}(W) = \max_i W_{ii} + \sum_{j\ne i}|W_{ij}|\eta_j/\eta_i` (jafarpour2022 §3).

Every bound is returned as a frozen :class:`BoundResult` (value, theorem, norm, the
:class:`~deqtheory.certificates.Certificate` proving the assumptions, details). The ``value`` is a
**rigorous upper bound** of the real-arithmetic expression on the stored float data: the
assumption constants (``m``, ``1 - μ``) are *proved* lower bounds, the norms proved upper bounds,
and the final quotient is rounded upward. When an assumption cannot be proved the value is ``inf``
and the certificate is not CERTIFIED — nothing is claimed.

Bounds implemented (paper, theorem):

* :func:`pabbaraju_lipschitz` — pabbaraju2021 Thm 1: :math:`\mathrm{Lip}_2(x\mapsto z^\star) \le \|U\|_2/m`,
  :math:`\mathrm{Lip}_2(x\mapsto y) \le \|G\|_2\|U\|_2/m`.
* :func:`pabbaraju_perturbation` — pabbaraju2021 Thm 2 (weights/bias perturbation).
* :func:`havens_gmondeq_lipschitz` — havens2023 Thm 3.3: :math:`\|\Phi^{-1}U\|_2/m` for
  :math:`W = I - \Phi(A^\top A + B^\top - B + mI)`.
* :func:`jafarpour_linf_lipschitz` — jafarpour2022 Thm 6.1 (and the tighter weighted form);
  :func:`el_ghaoui_linf_lipschitz` — the bound quoted in jafarpour2022 Remark 6.2.1.
* :func:`adjoint_contraction` — li2022 Prop 3.1 assumption :math:`\|\widehat W\|_2 < 1`.
* :func:`fixed_point_error_bound` — distance from an approximate fixed point to the exact one.
* :func:`l2_certified_radius`, :func:`certify_l2_lipschitz` — pabbaraju2021 §5.3 margin certificate
  (tightest sound form); :func:`certify_linf_lipschitz` — jafarpour2022 eq. (13).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Optional, Tuple

import numpy as np
import scipy.linalg

from ._validate import as_matrix, as_positive_diagonal, as_scalar, as_square, as_vector
from .certificates import Certificate, Status, register_verifier
from .conditions import canonical
from .errors import DomainError
from .linalg import norm2_upper_bound
from .verified import INFLATE, UNIT_ROUNDOFF, gamma, round_up

__all__ = [
    "BoundResult", "FixedPointErrorBound", "FixedPointSolution",
    "norm2_upper", "norm_inf_upper", "monotone_margin", "mu_inf_bound",
    "residual_bound", "fixed_point_error_bound", "solve_relu_fixed_point",
    "pabbaraju_lipschitz", "pabbaraju_perturbation", "havens_gmondeq_lipschitz",
    "jafarpour_linf_lipschitz", "el_ghaoui_linf_lipschitz", "adjoint_contraction",
    "l2_certified_radius", "certify_l2_lipschitz", "certify_linf_lipschitz",
]

_U = UNIT_ROUNDOFF


_up = round_up      # the library's one scalar round-up (deqtheory.verified.round_up)


def _down(x: float) -> float:
    if not math.isfinite(x):
        return x
    return float(np.nextafter(x * (1.0 - 8 * _U) if x > 0 else x * (1.0 + 8 * _U), -np.inf))


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------

class _ProvedValue:
    """``certified``: the assumption certificate is CERTIFIED and the proved ``value`` is finite."""

    @property
    def certified(self) -> bool:
        return self.certificate.certified and math.isfinite(self.value)


@dataclasses.dataclass(frozen=True)
class BoundResult(_ProvedValue):
    """A proved upper bound ``value`` (``inf`` when the assumptions could not be proved).

    Attributes: ``value`` (float), ``theorem`` (catalogue id such as ``"pabbaraju2021:thm1"``),
    ``norm`` (``"2"`` or ``"inf"``), ``certificate`` (the proof of the assumptions, e.g. the
    monotonicity margin; ``certificate.certified`` tells whether ``value`` is a guarantee),
    ``details`` (the constants that entered: ``m``, ``mu``, ``eta``, norms, ...)."""

    value: float
    theorem: str
    norm: str
    certificate: Certificate
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class FixedPointErrorBound(_ProvedValue):
    r"""Bound on the distance between an approximate fixed point :math:`\tilde z` and the exact one.

    ``value`` bounds :math:`\|\tilde z - z^\star\|` in ``norm`` (``"2"`` or ``"inf"``, the plain
    unweighted norm); ``componentwise[i]`` bounds :math:`|\tilde z_i - z^\star_i|`. Both are ``inf``
    when the contraction/monotonicity assumption was not proved (see ``certificate``)."""

    value: float
    componentwise: np.ndarray
    norm: str
    certificate: Certificate
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class FixedPointSolution:
    """Output of :func:`solve_relu_fixed_point`: ``z``, the float residual vector
    ``residual = z - relu(Mz + v)``, its sup-norm, iterations and the method that finished."""

    z: np.ndarray
    residual: np.ndarray
    residual_norm: float
    iterations: int
    method: str
    converged: bool


# ----------------------------------------------------------------------------------------------
# Rigorous norms and assumption constants
# ----------------------------------------------------------------------------------------------

#: A proved upper bound on ‖A‖₂ — :func:`deqtheory.linalg.norm2_upper_bound` (Jordan–Wielandt
#: matrix + :func:`~deqtheory.verified.verified_pd`), the one home; re-exported for callers.
norm2_upper = norm2_upper_bound


def norm_inf_upper(A: Any) -> float:
    r"""A proved upper bound on :math:`\|A\|_\infty = \max_i\sum_j|A_{ij}|` (row sums, rounded up by
    :math:`(1+\gamma_{k})`, k = number of columns)."""
    A = as_matrix("A", A)
    s = float(np.max(np.sum(np.abs(A), axis=1)))
    return _up(s * (1.0 + gamma(A.shape[1] + 1)))


def monotone_margin(W: Any, phi: Any = None) -> Certificate:
    r"""Proved monotonicity margin :math:`m` with :math:`\mathrm{sym}(\Phi^{-1}(I - W)) \succeq mI`
    (``phi=None``: :math:`\Phi = I`, the MonDEQ condition of pabbaraju2021 / Winston & Kolter).

    The one monotonicity certificate, :func:`deqtheory.linalg.check_monotone` (condition
    ``"monotone"``): ``margin`` is a proved lower bound on
    :math:`\lambda_{\min}(\mathrm{sym}(\Phi^{-1}(I-W)))`; CERTIFIED iff margin > 0. For the G-MonDEQ
    parametrization :math:`W = I - \Phi(A^\top A + B^\top - B + mI)` (havens2023 eq. 6) the margin
    is ≥ m (up to rounding)."""
    from .linalg import check_monotone

    return check_monotone(W, phi=phi)


def _proved_monotone(W: np.ndarray, phi: Optional[np.ndarray], given: Optional[Certificate]) -> Certificate:
    """Reuse a ``"monotone"`` certificate already proved for this W (and phi): re-verified from its
    witness (one Cholesky at the recorded shift), never trusted; prove afresh when none is given."""
    if given is None:
        return monotone_margin(W, phi)
    if canonical(given.condition) != "monotone":
        raise DomainError(f"monotone: expected a 'monotone' certificate, got {given.condition!r}")
    return given.verify(W=W, phi=phi)


def _proved_mu_inf(W: np.ndarray, eta: Any, given: Optional[Certificate]) -> Certificate:
    """Reuse a ``"mu_inf"`` certificate already proved for this W: re-verified from its witness η
    (Collatz–Wielandt bound, no LP), never trusted; prove afresh (:func:`mu_inf_bound`) when none."""
    if given is None:
        return mu_inf_bound(W, eta)
    if canonical(given.condition) != "mu_inf":
        raise DomainError(f"mu_inf: expected a 'mu_inf' certificate, got {given.condition!r}")
    return given.verify(W=W)


def mu_inf_bound(W: Any, eta: Any = None) -> Certificate:
    r"""Proved :math:`\mu_{\infty,[\eta]^{-1}}(W) < 1` (jafarpour2022 Thm 5.1) with witness ``eta``
    (optimised by :func:`deqtheory.linalg.min_mu_inf` when ``eta=None``). Delegates to
    :func:`deqtheory.linalg.check_mu_inf`; ``margin = 1 - μ̄`` with μ̄ a proved upper bound and
    ``stats["upper_bound"] = μ̄``."""
    from .linalg import check_mu_inf

    return check_mu_inf(as_square("W", W), eta)


def _assumed_m(cert: Certificate) -> float:
    """The proved m of an assumption certificate for the unweighted ℓ2 bounds: the monotonicity
    parameter of a (Φ = I) ``"monotone"`` certificate, else the margin of any other CERTIFIED one."""
    if not cert.certified:
        return -math.inf
    if canonical(cert.condition) == "monotone":
        if cert.witness.get("phi") is not None:
            return -math.inf
        from .linalg import monotone_parameter

        return monotone_parameter(cert)
    return float(cert.margin)


def _mu_upper_from_cert(cert: Certificate) -> float:
    ub = cert.stats.get("upper_bound", None)
    if ub is None:
        return 1.0 - cert.margin
    return float(ub)


# ----------------------------------------------------------------------------------------------
# Approximate fixed points and their error
# ----------------------------------------------------------------------------------------------

def residual_bound(W: Any, v: Any, z: Any) -> Tuple[np.ndarray, np.ndarray]:
    r"""The float residual :math:`\tilde r = \mathrm{fl}(z - \mathrm{relu}(Wz + v))` and a componentwise
    bound :math:`\delta` with :math:`|r_{\rm exact} - \tilde r| \le \delta`, where
    :math:`r_{\rm exact} = z - \mathrm{relu}(Wz + v)` in real arithmetic on the stored floats.

    :math:`|\mathrm{fl}(Wz + v) - (Wz + v)| \le \gamma_{n+1}(|W||z| + |v|)` (Higham eq. 3.5; ReLU is
    exact and 1-Lipschitz) and the final subtraction adds :math:`u|\tilde r|`; we use
    :math:`\delta = (1+10^{-6})(\gamma_{n+2}(|W||z|+|v|) + 2u|\tilde r|)` (the extra γ covers
    evaluating :math:`|W||z|` itself).
    """
    W = as_square("W", W)
    n = W.shape[0]
    v = as_vector("v", v, n=n)
    z = as_vector("z", z, n=n)
    r = z - np.maximum(W @ z + v, 0.0)
    delta = INFLATE * (gamma(n + 2) * (np.abs(W) @ np.abs(z) + np.abs(v)) + 2 * _U * np.abs(r))
    return r, delta


def fixed_point_error_bound(W: Any, residual: Any, norm: str = "2", *, residual_err: Any = 0.0,
                            m: Optional[float] = None, eta: Any = None,
                            contraction: Optional[float] = None,
                            certificate: Optional[Certificate] = None) -> FixedPointErrorBound:
    r"""Rigorous bound on :math:`\|\tilde z - z^\star\|` from the residual
    :math:`r = \tilde z - F(\tilde z)`, :math:`F(z) = \mathrm{relu}(Wz + v)`.

    Derivation (``docs/bounds.md``). Let :math:`p = F(\tilde z) = \tilde z - r`. Then
    :math:`p = \mathrm{relu}(Wp + (v + Wr))`: *p is the exact fixed point for the input*
    :math:`v' = v + Wr`. For the fixed point map :math:`v \mapsto z^\star(v)`:

    * ``norm="2"``: if :math:`\mathrm{sym}(I - W) \succeq mI`, :math:`m > 0`, then
      :math:`\|z^\star(v) - z^\star(v')\|_2 \le \|v - v'\|_2/m` (pabbaraju2021 Thm 1 with U = I; proof:
      for :math:`\Delta = D(W\Delta + \delta)` with D diagonal in [0,1],
      :math:`m\|\Delta\|^2 \le \Delta^\top(I-W)\Delta \le \langle\Delta,\delta\rangle`). Hence
      :math:`\|\tilde z - z^\star\|_2 \le \|r\|_2 + \|Wr\|_2/m` and componentwise
      :math:`|\tilde z_i - z^\star_i| \le |r_i| + \|Wr\|_2/m`.
      If instead ``contraction=c`` with :math:`c \ge \|W\|_2` proved (:math:`c<1`, li2022 Prop 3.1),
      F is a c-contraction and :math:`\|\tilde z - z^\star\|_2 \le \|r\|_2/(1-c)`; the smaller applies.
    * ``norm="inf"``: if :math:`\mu = \mu_{\infty,[\eta]^{-1}}(W) < 1`, the α-averaged map with
      :math:`\alpha = 1/(1-\min_i (W_{ii})_-)` is a :math:`(1-\alpha(1-\mu^+))`-contraction in
      :math:`\|\cdot\|_{\infty,[\eta]^{-1}}` (jafarpour2022 Thm 5.1) whose residual is :math:`\alpha r`, so
      :math:`\|\tilde z - z^\star\|_{\infty,[\eta]^{-1}} \le \|r\|_{\infty,[\eta]^{-1}}/(1-\mu^+)`; also
      :math:`\le \|r\|_{\infty,[\eta]^{-1}} + \|Wr\|_{\infty,[\eta]^{-1}}/(1-\mu^+)` via p. Componentwise
      :math:`|\tilde z_i - z^\star_i| \le \eta_i \cdot` (the smaller).

    Rounding: ``residual_err`` (scalar or vector, e.g. ``delta`` of :func:`residual_bound`) bounds
    :math:`|r_{\rm exact} - r|`; we use :math:`\rho = |r| + \delta \ge |r_{\rm exact}|` and
    :math:`\|Wr\| \le \||W|\rho\|`, rounded up. ``m`` / ``eta`` may be supplied (``m`` is then
    *trusted*: pass only proved values); otherwise they are proved here (:func:`monotone_margin`,
    :func:`mu_inf_bound`). ``certificate`` may pass an already proved assumption certificate.
    """
    W = as_square("W", W)
    n = W.shape[0]
    r = as_vector("residual", residual, n=n)
    d = np.asarray(residual_err, dtype=np.float64)
    if d.ndim == 0:
        d = np.full(n, float(as_scalar("residual_err", residual_err, nonnegative=True)))
    else:
        d = as_vector("residual_err", d, n=n)
        if np.any(d < 0):
            raise DomainError(f"residual_err: must be >= 0 (shape {d.shape})")
    rho = (np.abs(r) + d) * (1 + 2 * _U)
    Arho = (np.abs(W) @ rho) * (1.0 + gamma(n + 1))
    inf_vec = np.full(n, math.inf)
    if norm == "2":
        if certificate is None:
            if m is not None:
                mm = as_scalar("m", m, positive=True)
                certificate = Certificate("monotone", Status.CERTIFIED, margin=mm, witness={"m": 0.0},
                                          stats={"trusted": True},
                                          message="monotonicity margin supplied by the caller (trusted)")
            else:
                certificate = monotone_margin(W)
        m_proved = _assumed_m(certificate)
        rho2 = _up(float(np.linalg.norm(rho)) * (1 + gamma(n + 1)))
        best = math.inf
        comp = inf_vec.copy()
        if m_proved > 0:
            mm = _down(m_proved)
            t = _up(float(np.linalg.norm(Arho)) * (1 + gamma(n + 1)) / mm)
            best = _up(rho2 + t)
            comp = np.minimum(comp, (rho + t) * (1 + 2 * _U))
        if contraction is not None:
            c = as_scalar("contraction", contraction, nonnegative=True)
            if c < 1:
                v2 = _up(rho2 / _down(1.0 - c))
                if v2 < best:
                    best = v2
                comp = np.minimum(comp, v2)
                if not m_proved > 0:
                    certificate = Certificate("bounds.contraction", Status.CERTIFIED, margin=1.0 - c,
                                              witness={"contraction": c},
                                              message="contraction factor supplied by the caller (trusted)")
        comp = np.minimum(comp, best)
        return FixedPointErrorBound(value=best, componentwise=comp, norm="2", certificate=certificate,
                                    details={"residual_norm_upper": rho2,
                                             "m": m_proved if canonical(certificate.condition) == "monotone" else None})
    if norm == "inf":
        if certificate is None:
            certificate = mu_inf_bound(W, eta)
        if not (certificate.certified and "eta" in certificate.witness):
            return FixedPointErrorBound(math.inf, inf_vec, "inf", certificate, {})
        e = np.asarray(certificate.witness["eta"], dtype=np.float64)
        mu = _mu_upper_from_cert(certificate)
        one_minus = _down(1.0 - max(mu, 0.0))
        rw = _up(float(np.max(rho / e)) * (1 + 2 * _U))
        aw = _up(float(np.max(Arho / e)) * (1 + 2 * _U))
        b1 = _up(rw / one_minus)
        b2 = _up(rw + aw / one_minus)
        comp = np.minimum(e * b1, rho + e * _up(aw / one_minus)) * (1 + 4 * _U)
        comp = np.minimum(comp, e * b2 * (1 + 4 * _U))
        return FixedPointErrorBound(value=float(np.max(comp)), componentwise=comp, norm="inf",
                                    certificate=certificate,
                                    details={"mu_upper": mu, "eta": e, "weighted_bound": min(b1, b2)})
    raise DomainError(f"norm: must be '2' or 'inf', got {norm!r}")


# ----------------------------------------------------------------------------------------------
# A small exact-ish solver for z = relu(Mz + v) (private engine; see docs/bounds.md)
# ----------------------------------------------------------------------------------------------

def _pattern_newton(M: np.ndarray, v: np.ndarray, z: np.ndarray, max_iter: int = 60) -> Tuple[np.ndarray, int]:
    """Active-set (semismooth Newton) iteration: with S = {i: (Mz+v)_i > 0} solve
    z_S = (I - M_SS)^{-1} v_S, z_{S^c} = 0; stop when the pattern repeats. Returns the iterate with
    the smallest residual."""
    n = v.shape[0]
    best, best_res = z, float(np.max(np.abs(z - np.maximum(M @ z + v, 0.0)))) if n else 0.0
    prev = None
    it = 0
    for it in range(1, max_iter + 1):
        S = (M @ z + v) > 0
        key = S.tobytes()
        if key == prev:
            break
        prev = key
        zn = np.zeros(n)
        if np.any(S):
            try:
                zn[S] = np.linalg.solve(np.eye(int(S.sum())) - M[np.ix_(S, S)], v[S])
            except np.linalg.LinAlgError:
                break
        if not np.all(np.isfinite(zn)):
            break
        z = zn
        res = float(np.max(np.abs(z - np.maximum(M @ z + v, 0.0))))
        if res < best_res:
            best, best_res = z, res
    return best, it


def solve_relu_fixed_point(M: Any, v: Any, *, z0: Any = None, tol: float = 1e-13, max_iter: int = 20000,
                           lam: Any = None) -> FixedPointSolution:
    r"""Solve :math:`z = \mathrm{relu}(Mz + v)` to (near) machine precision.

    1. active-set Newton (exact for the activation pattern it lands on);
    2. if that did not reach ``tol`` (sup-norm residual relative to :math:`1+\|z\|_\infty`):
       Peaceman–Rachford splitting with :math:`\alpha = 1` and resolvent
       :math:`(I + (I - M))^{-1}` (converges whenever :math:`\mathrm{sym}(I - M) \succ 0`; with
       ``lam`` the problem is first rescaled by :math:`\Lambda^{1/2}` so that
       :math:`\mathrm{sym}(\Lambda(I - M)) \succ 0` suffices), interleaved with the α-averaged
       iteration :math:`\alpha = 1/(1-\min_i(M_{ii})_-)` (converges when μ∞ < 1);
    3. polish with active-set Newton.

    The result is *approximate*; use :func:`residual_bound` + :func:`fixed_point_error_bound` for a
    guarantee. (Private engine of this module and :mod:`deqtheory.intervals`; the general solvers
    live in :mod:`deqtheory.solvers`.)
    """
    M = as_square("M", M)
    n = M.shape[0]
    v = as_vector("v", v, n=n)
    tol = as_scalar("tol", tol, positive=True)
    if lam is not None:
        lm = as_positive_diagonal("lam", lam, n=n)
        s = np.sqrt(lm)
        Ms = (M * s[:, None]) / s[None, :]
        sol = solve_relu_fixed_point(Ms, v * s, z0=None if z0 is None else np.asarray(z0) * s,
                                     tol=tol, max_iter=max_iter)
        z = sol.z / s
        r = z - np.maximum(M @ z + v, 0.0)
        return FixedPointSolution(z, r, float(np.max(np.abs(r))), sol.iterations, sol.method + "+lam",
                                  sol.converged)

    def res_of(z):
        r = z - np.maximum(M @ z + v, 0.0)
        return r, float(np.max(np.abs(r)))

    def ok(z, rn):
        return rn <= tol * (1.0 + float(np.max(np.abs(z))))

    z = np.maximum(v, 0.0) if z0 is None else as_vector("z0", z0, n=n)
    z, k = _pattern_newton(M, v, z)
    r, rn = res_of(z)
    iters, method = k, "newton"
    if not ok(z, rn):
        # Peaceman–Rachford (Winston & Kolter 2020) interleaved with alpha-averaging.
        A = np.eye(n) - M
        lu = scipy.linalg.lu_factor(np.eye(n) + A)
        # Divergence guard: iterates this large cannot approach a fixed point of size ~‖v‖ and would
        # overflow (ℓ∞ norms of relu(Mz + v) grow at most by ‖M‖∞ per step).
        blowup = 1e100 * (1.0 + float(np.max(np.abs(v))) if n else 1.0)
        alpha = 1.0 / (1.0 - min(float(np.min(np.diag(M))), 0.0))
        u = z.copy()
        zz = z.copy()
        best, best_rn = z, rn
        for it in range(1, max_iter + 1):
            uh = 2 * zz - u
            zh = scipy.linalg.lu_solve(lu, uh + v)
            u = 2 * zh - uh
            zz = np.maximum(u, 0.0)
            if not np.all(np.isfinite(zz)) or float(np.max(np.abs(u))) > blowup:
                break  # diverging: the caller gets an unconverged result, never an overflow
            if it % 25 == 0:
                r_, rn_ = res_of(zz)
                if rn_ < best_rn:
                    best, best_rn = zz, rn_
                zp, _ = _pattern_newton(M, v, zz, max_iter=20)
                r2, rn2 = res_of(zp)
                if rn2 < best_rn:
                    best, best_rn = zp, rn2
                if ok(best, best_rn):
                    break
        iters += it
        z, method = best, "peaceman_rachford+newton"
        r, rn = res_of(z)
        if not ok(z, rn):
            za = z.copy()
            for it in range(1, max_iter + 1):
                za = (1 - alpha) * za + alpha * np.maximum(M @ za + v, 0.0)
                if not np.all(np.isfinite(za)) or float(np.max(np.abs(za))) > blowup:
                    break
                if it % 50 == 0:
                    zp, _ = _pattern_newton(M, v, za, max_iter=20)
                    for cand in (za, zp):
                        rc, rnc = res_of(cand)
                        if rnc < rn:
                            z, r, rn = cand, rc, rnc
                    if ok(z, rn):
                        break
            iters += it
            method = "averaged+newton"
    return FixedPointSolution(z=z, residual=r, residual_norm=rn, iterations=iters, method=method,
                              converged=ok(z, rn))


# ----------------------------------------------------------------------------------------------
# Lipschitz bounds
# ----------------------------------------------------------------------------------------------

def _nan_result(theorem: str, norm: str, cert: Certificate, **details: Any) -> BoundResult:
    return BoundResult(math.inf, theorem, norm, cert, dict(details))


def pabbaraju_lipschitz(W: Any, U: Any, G: Any = None, *, monotone: Optional[Certificate] = None) -> BoundResult:
    r"""pabbaraju2021 Thm 1: if :math:`\mathrm{sym}(I-W) \succeq mI`, :math:`m>0`, then
    :math:`\|z^\star(x) - z^\star(x')\|_2 \le \frac{\|U\|_2}{m}\|x-x'\|_2`; with ``G``,
    :math:`\mathrm{Lip}_2(x\mapsto Gz^\star + b_y) \le \|G\|_2\|U\|_2/m` (havens2023 §2.3).

    ``m`` is the proved margin of :func:`monotone_margin` (the largest provable, not a design
    hyper-parameter); norms are proved upper bounds. ``monotone``: a ``"monotone"`` certificate
    already proved for this W (e.g. by ``deqtheory check``) — re-verified from its witness instead
    of proved again. Returns ``BoundResult`` with ``theorem="pabbaraju2021:thm1"``, ``norm="2"``."""
    W = as_square("W", W)
    U = as_matrix("U", U, shape=(W.shape[0], None))
    cert = _proved_monotone(W, None, monotone)
    if not cert.certified:
        return _nan_result("pabbaraju2021:thm1", "2", cert)
    m = _down(_assumed_m(cert))
    nU = norm2_upper(U)
    nG = 1.0 if G is None else norm2_upper(as_matrix("G", G, shape=(None, W.shape[0])))
    val = _up(nG * nU / m)
    return BoundResult(val, "pabbaraju2021:thm1", "2", cert,
                       {"m": m, "norm2_U": nU, "norm2_G": None if G is None else nG})


def havens_gmondeq_lipschitz(W: Any, U: Any, phi: Any, G: Any = None, *,
                             monotone: Optional[Certificate] = None) -> BoundResult:
    r"""havens2023 Thm 3.3: for :math:`W = I - \Phi(A^\top A + B^\top - B + mI)` (eq. 6), the map
    :math:`x \mapsto z^\star` is :math:`\|\Phi^{-1}U\|_2/m`-Lipschitz (ℓ2); times :math:`\|G\|_2` for y.

    Stated for any ``W`` and positive diagonal ``phi`` with
    :math:`\mathrm{sym}(\Phi^{-1}(I-W)) \succeq mI`, m > 0 (proved here; for eq. 6 this is the m of
    the parametrization). Proof sketch: with :math:`\Delta = D(W\Delta + U\delta x)`,
    :math:`m\|\Delta\|^2 \le \Delta^\top\Phi^{-1}(I-W)\Delta \le \langle\Delta, \Phi^{-1}U\delta x\rangle`.
    ``phi = 1`` recovers :func:`pabbaraju_lipschitz`. ``monotone``: an already proved ``"monotone"``
    certificate for (W, phi), re-verified from its witness instead of proved again."""
    W = as_square("W", W)
    n = W.shape[0]
    U = as_matrix("U", U, shape=(n, None))
    ph = as_positive_diagonal("phi", phi, n=n)
    cert = _proved_monotone(W, ph, monotone)
    if not cert.certified:
        return _nan_result("havens2023:thm3.3", "2", cert)
    from .linalg import monotone_parameter

    m = _down(monotone_parameter(cert))
    PU = U / ph[:, None]
    nPU = _up(norm2_upper(PU) * (1 + 2 * _U) + gamma(2) * float(np.linalg.norm(PU)))
    nG = 1.0 if G is None else norm2_upper(as_matrix("G", G, shape=(None, n)))
    return BoundResult(_up(nG * nPU / m), "havens2023:thm3.3", "2", cert,
                       {"m": m, "norm2_PhiinvU": nPU, "norm2_G": None if G is None else nG})


def pabbaraju_perturbation(W: Any, U: Any, b: Any, W2: Any, U2: Any, b2: Any, x: Any) -> BoundResult:
    r"""pabbaraju2021 Thm 2 (weight perturbation). With :math:`I - W \succeq mI`,
    :math:`I - \tilde W \succeq \tilde m I` and :math:`z, \tilde z` the fixed points of
    :math:`(W,U,b)` and :math:`(\tilde W, \tilde U, \tilde b)` at input x:

    .. math:: \|z - \tilde z\|_2 \le \frac{\|W - \tilde W\|_2\|Ux + b\|_2}{m\tilde m}
              + \frac{\|(U - \tilde U)x\|_2 + \|b - \tilde b\|_2}{\tilde m}.

    Proof: z is the fixed point of the :math:`\tilde W` network with input
    :math:`(W-\tilde W)z + Ux + b`, so :math:`\|z-\tilde z\| \le \|(W-\tilde W)z + (U-\tilde U)x + b - \tilde b\|/\tilde m`,
    and :math:`\|z\| \le \|Ux+b\|/m` (Thm 1 with :math:`z^\star(0) = 0`). The statement is symmetric in
    the two networks, so we return the smaller of the two orderings (``details`` has both)."""
    W = as_square("W", W)
    n = W.shape[0]
    W2 = as_square("W2", W2, n=n)
    U = as_matrix("U", U, shape=(n, None))
    d = U.shape[1]
    U2 = as_matrix("U2", U2, shape=(n, d))
    b = as_vector("b", b, n=n)
    b2 = as_vector("b2", b2, n=n)
    x = as_vector("x", x, n=d)
    c1, c2 = monotone_margin(W), monotone_margin(W2)
    if not (c1.certified and c2.certified):
        bad = c1 if not c1.certified else c2
        return _nan_result("pabbaraju2021:thm2", "2", bad)
    m1, m2 = _down(c1.margin), _down(c2.margin)
    dW = norm2_upper(W - W2)
    dW = _up(dW + _U * float(np.linalg.norm(W - W2)))

    def vnorm(a):  # upper bound on ‖a_exact‖ for a = fl(Ax + b) computed with inner dimension d
        return float(np.linalg.norm(a))

    g = gamma(d + 2)
    v1 = U @ x + b
    v2 = U2 @ x + b2
    e1 = g * float(np.linalg.norm(np.abs(U) @ np.abs(x) + np.abs(b)))
    e2 = g * float(np.linalg.norm(np.abs(U2) @ np.abs(x) + np.abs(b2)))
    dU = U - U2                     # fl(U - U2) = (U - U2)(1 + d), |d| <= u
    dUx = dU @ x
    edU = g * float(np.linalg.norm(np.abs(dU) @ np.abs(x)))
    db = _up(float(np.linalg.norm(b - b2)) * (1 + 2 * _U))
    nv1, nv2, ndUx = _up(vnorm(v1) + e1), _up(vnorm(v2) + e2), _up(vnorm(dUx) + edU)
    first = _up(dW * nv1 / (m1 * m2) + (ndUx + db) / m2)      # ‖z‖ bounded with network 1
    second = _up(dW * nv2 / (m1 * m2) + (ndUx + db) / m1)     # ‖z̃‖ bounded with network 2
    cert = c1 if c1.margin <= c2.margin else c2
    return BoundResult(min(first, second), "pabbaraju2021:thm2", "2", cert,
                       {"m": m1, "m_perturbed": m2, "norm2_dW": dW, "ordering_1": first, "ordering_2": second})


def jafarpour_linf_lipschitz(W: Any, U: Any, G: Any = None, eta: Any = None, *,
                             form: str = "tightest", mu_inf: Optional[Certificate] = None) -> BoundResult:
    r"""jafarpour2022 Thm 6.1(1): if :math:`\mu = \mu_{\infty,[\eta]^{-1}}(W) < 1`,

    .. math:: \mathrm{Lip}_\infty(x \mapsto Gz^\star + b_y) \le \frac{\eta_{\max}}{\eta_{\min}}
              \frac{\|U\|_\infty\|G\|_\infty}{1 - \mu^+} \qquad(\text{``printed''}),

    (``G=None``: the map to :math:`z^\star`, :math:`\|G\|_\infty := 1`). The proof gives the sharper
    weighted form :math:`\|G[\eta]\|_\infty\|[\eta]^{-1}U\|_\infty/(1-\mu^+)` (``"weighted"``; with
    :math:`\Delta z = D(W\Delta z + U\Delta x)`, D ∈ [0,1] diagonal, the row i achieving
    :math:`\|\Delta z\|_{\infty,[\eta]^{-1}}` gives :math:`(1 - d_i\mu_i)|\Delta z_i|/\eta_i \le d_i|(U\Delta x)_i|/\eta_i`),
    which is never larger than the printed one. ``form="tightest"`` (default) returns the minimum;
    ``details`` holds both. ``eta=None``: η from :func:`deqtheory.linalg.min_mu_inf`. ``mu_inf``: a
    ``"mu_inf"`` certificate already proved for this W — its η is re-verified (no LP) and used.
    """
    W = as_square("W", W)
    n = W.shape[0]
    U = as_matrix("U", U, shape=(n, None))
    Gm = None if G is None else as_matrix("G", G, shape=(None, n))
    if form not in ("tightest", "printed", "weighted"):
        raise DomainError(f"form: must be 'tightest', 'printed' or 'weighted', got {form!r}")
    cert = _proved_mu_inf(W, eta, mu_inf)
    if not cert.certified:
        return _nan_result("jafarpour2022:thm6.1", "inf", cert)
    e = np.asarray(cert.witness["eta"], dtype=np.float64)
    mu = _mu_upper_from_cert(cert)
    den = _down(1.0 - max(mu, 0.0))
    ratio = _up(float(np.max(e)) / float(np.min(e)))
    nU = norm_inf_upper(U)
    nG = 1.0 if Gm is None else norm_inf_upper(Gm)
    printed = _up(ratio * nU * nG / den)
    nUw = norm_inf_upper(U / e[:, None])
    # G = None means the map to z* (G = I): ‖I·[η]‖∞ = max η (not 1 unless η is normalised).
    nGw = _up(float(np.max(e))) if Gm is None else norm_inf_upper(Gm * e[None, :])
    weighted = _up(nUw * nGw / den * (1 + 4 * _U))
    val = {"tightest": min(printed, weighted), "printed": printed, "weighted": weighted}[form]
    return BoundResult(val, "jafarpour2022:thm6.1", "inf", cert,
                       {"mu_upper": mu, "eta": e, "printed": printed, "weighted": weighted, "form": form})


def el_ghaoui_linf_lipschitz(W: Any, U: Any, G: Any = None) -> BoundResult:
    r"""The bound :math:`\|U\|_\infty\|G\|_\infty/(1 - \|W\|_\infty)` (El Ghaoui et al. 2021) quoted in
    jafarpour2022 Remark 6.2.1; valid when :math:`\|W\|_\infty < 1`. Since
    :math:`\mu_\infty(W) \le \|W\|_\infty`, Thm 6.1 with η = 1 is never worse (Remark 6.2.1)."""
    W = as_square("W", W)
    n = W.shape[0]
    U = as_matrix("U", U, shape=(n, None))
    nW = norm_inf_upper(W)
    ok = nW < 1
    cert = Certificate("bounds.norm_inf_lt1", Status.CERTIFIED if ok else Status.INCONCLUSIVE,
                       margin=1.0 - nW, stats={"norm_inf_upper": nW},
                       message=f"proved ||W||_inf <= {nW:.6g}" + (" < 1" if ok else " (not < 1)"))
    if not ok:
        return _nan_result("jafarpour2022:remark6.2", "inf", cert)
    nG = 1.0 if G is None else norm_inf_upper(as_matrix("G", G, shape=(None, n)))
    return BoundResult(_up(norm_inf_upper(U) * nG / _down(1.0 - nW)), "jafarpour2022:remark6.2", "inf", cert,
                       {"norm_inf_W": nW})


def adjoint_contraction(W: Any) -> BoundResult:
    r"""li2022 Prop 3.1 assumption: :math:`c = \|\widehat W\|_2 < 1` for the IBP lift
    :math:`\widehat W = \begin{psmallmatrix}W_+&W_-\\W_-&W_+\end{psmallmatrix}` (the "adjoint DEQ" (5)
    is then a c-contraction in ℓ2, its fixed point exists, is unique and bounds the DEQ's fixed
    points). ``value`` = proved upper bound on c (from
    :func:`deqtheory.spectrum.check_adjoint_contractive`, which uses :math:`\|\widehat W\|_2 = \||W|\|_2`);
    the adjoint map :math:`(\bar h, \underline h) \mapsto (\bar z^\star, \underline z^\star)` is then
    :math:`1/(1-c)`-Lipschitz (``details["lipschitz"]``)."""
    from .spectrum import check_adjoint_contractive

    W = as_square("W", W)
    cert = check_adjoint_contractive(W)
    c = _up(1.0 - float(cert.margin)) if math.isfinite(cert.margin) else math.inf
    lip = _up(1.0 / _down(1.0 - c)) if c < 1 else math.inf
    return BoundResult(c, "li2022:prop3.1", "2", cert, {"lipschitz": lip})


# ----------------------------------------------------------------------------------------------
# Margin certificates
# ----------------------------------------------------------------------------------------------

_FORMS_L2 = {"folded": None, "sqrt2": math.sqrt(2.0), "paper": 2.0}


def l2_certified_radius(margin: Any, L: Any, form: str = "sqrt2") -> float:
    r"""Certified ℓ2 radius from a top-1 logit margin and an ℓ2 Lipschitz bound L of :math:`x \mapsto y`.

    A pairwise difference :math:`y_c - y_j = (e_c - e_j)^\top y` is :math:`\sqrt2 L`-Lipschitz, so the
    prediction cannot change for :math:`\|\delta\|_2 < \mathrm{margin}/(\sqrt2 L)` (``"sqrt2"``,
    SLL/Havens; the tightest form that uses L only). ``"paper"``: pabbaraju2021 §5.3 / its notebook,
    via :math:`\|\cdot\|_\infty \le \|\cdot\|_2`, radius margin/(2L) (sound, looser).
    Returns 0 when margin ≤ 0; the radius is rounded down."""
    mg = as_scalar("margin", margin)
    L = as_scalar("L", L, positive=True)
    if form not in ("sqrt2", "paper"):
        raise DomainError(f"form: must be 'sqrt2' or 'paper', got {form!r}")
    if mg <= 0:
        return 0.0
    k = math.sqrt(2.0) if form == "sqrt2" else 2.0
    return _down(mg / (k * L) * (1 - 4 * _U))


def _logit_diffs(G: np.ndarray, b_y: np.ndarray, z: np.ndarray, label: int,
                 z_err: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    r"""Proved lower bounds on :math:`(g_c - g_j)^\top z^\star + b_{y,c} - b_{y,j}` for all j, given
    :math:`|\tilde z - z^\star| \le` ``z_err`` componentwise, and the difference rows."""
    D = G[label][None, :] - G                       # rows g_c - g_j (exact up to u|.|)
    db = b_y[label] - b_y
    val = D @ z + db
    n = G.shape[1]
    az = np.abs(z) + z_err
    err = INFLATE * (gamma(n + 3) * (np.abs(D) @ az + np.abs(db)) + (np.abs(D) * (1 + _U)) @ z_err)
    lo = val - err
    lo[label] = math.inf
    return lo, D


def _model(W, U, b, G, b_y, x):
    W = as_square("W", W)
    n = W.shape[0]
    U = as_matrix("U", U, shape=(n, None))
    b = np.zeros(n) if b is None else as_vector("b", b, n=n)
    G = as_matrix("G", G, shape=(None, n))
    b_y = np.zeros(G.shape[0]) if b_y is None else as_vector("b_y", b_y, n=G.shape[0])
    x = as_vector("x", x, n=U.shape[1])
    return W, U, b, G, b_y, x


def _solve_with_error(W, v, norm, *, certificate=None, lam=None):
    sol = solve_relu_fixed_point(W, v, lam=lam)
    r, delta = residual_bound(W, v, sol.z)
    eb = fixed_point_error_bound(W, r, norm, residual_err=delta, certificate=certificate)
    return sol, eb


def _query(eps: Any, label: Any, G: np.ndarray) -> Tuple[float, int, int]:
    """Validated (ε ≥ 0, label in [0, p), p) of a margin certificate."""
    eps = as_scalar("eps", eps, nonnegative=True)
    p = G.shape[0]
    label = int(label)
    if not 0 <= label < p:
        raise DomainError(f"label: must be in [0, {p}), got {label}")
    return eps, label, p


def _margin_certificate(condition: str, lo: np.ndarray, pen: np.ndarray, label: int, eb: FixedPointErrorBound,
                        sol: FixedPointSolution, witness: Mapping[str, Any], what: str) -> Certificate:
    """margin = min_{j≠label} (lo_j − pen_j) (``inf`` for one class); CERTIFIED iff > 0 and the
    fixed-point error bound was proved."""
    marg = lo - pen
    marg[label] = math.inf
    margin = float(np.min(marg)) if lo.shape[0] > 1 else math.inf
    st = Status.CERTIFIED if margin > 0 and eb.certified else Status.INCONCLUSIVE
    return Certificate(condition, st, margin=margin,
                       witness={**witness, "z": sol.z, "z_error": eb.componentwise, "pair_lower_bounds": lo},
                       tolerance={"residual": sol.residual_norm}, stats={"solver": sol.method},
                       message=f"{what}: margin {margin:.6g}")


def certify_l2_lipschitz(W: Any, U: Any, b: Any, G: Any, b_y: Any, x: Any, label: int, eps: Any, *,
                         form: str = "folded", phi: Any = None) -> Certificate:
    r"""ℓ2 robustness certificate at x with radius ε from the Lipschitz bound of x ↦ z
    (pabbaraju2021 Thm 1 / §5.3; havens2023 Thm 3.3 when ``phi`` is given).

    Let :math:`L_z = \|\Phi^{-1}U\|_2/m` and :math:`\underline{\Delta}_j` a proved lower bound on
    :math:`f(x)_c - f(x)_j` at the *exact* fixed point (the approximate fixed point is corrected by
    :func:`fixed_point_error_bound`). Certified iff ``margin > 0`` with

    * ``"folded"`` (default, tightest): :math:`\min_{j\ne c}\underline{\Delta}_j - \|g_c - g_j\|_2 L_z\varepsilon`;
    * ``"sqrt2"``: :math:`\min_j\underline{\Delta}_j - \sqrt2\|G\|_2L_z\varepsilon` (SLL / havens2023);
    * ``"paper"``: :math:`\min_j\underline{\Delta}_j - 2\|G\|_2L_z\varepsilon` (pabbaraju2021 §5.3 notebook).

    Since :math:`\|g_c - g_j\|_2 = \|G^\top(e_c - e_j)\|_2 \le \sqrt2\|G\|_2`, folded ≥ sqrt2 ≥ paper.
    Returns ``Certificate("bounds.l2_lipschitz")``; witness: label, eps, L_z, the lower bounds."""
    W, U, b, G, b_y, x = _model(W, U, b, G, b_y, x)
    eps, label, p = _query(eps, label, G)
    if form not in _FORMS_L2:
        raise DomainError(f"form: must be one of {sorted(_FORMS_L2)}, got {form!r}")
    lb = havens_gmondeq_lipschitz(W, U, phi) if phi is not None else pabbaraju_lipschitz(W, U)
    if not lb.certified:
        return Certificate("bounds.l2_lipschitz", Status.INCONCLUSIVE, margin=-math.inf,
                           witness={"label": label, "eps": eps}, message="Lipschitz assumption not proved: "
                           + lb.certificate.message)
    lam = None if phi is None else 1.0 / as_positive_diagonal("phi", phi, n=W.shape[0])
    v = U @ x + b
    sol = solve_relu_fixed_point(W, v, lam=lam)
    r, delta = residual_bound(W, v, sol.z)
    # error of the approximate fixed point: l2 (plain monotone W) or, failing that, l_inf (mu_inf < 1)
    eb = fixed_point_error_bound(W, r, "2", residual_err=delta,
                                 certificate=lb.certificate if phi is None else None)
    if not eb.certified:
        eb = fixed_point_error_bound(W, r, "inf", residual_err=delta)
    lo, D = _logit_diffs(G, b_y, sol.z, label, eb.componentwise)
    Lz = lb.value
    if form == "folded":
        dn = np.array([_up(float(np.linalg.norm(D[j])) * (1 + gamma(D.shape[1] + 1))) for j in range(p)])
        pen = dn * Lz * eps * (1 + 4 * _U)
    else:
        pen = np.full(p, _up(_FORMS_L2[form] * norm2_upper(G) * Lz * eps))
    return _margin_certificate("bounds.l2_lipschitz", lo, pen, label, eb, sol,
                               {"label": label, "eps": eps, "L_z": Lz, "form": form},
                               f"l2 margin certificate ({form})")


def certify_linf_lipschitz(W: Any, U: Any, b: Any, G: Any, b_y: Any, x: Any, label: int, eps: Any, *,
                           eta: Any = None, form: str = "printed") -> Certificate:
    r"""jafarpour2022 eq. (13): certified at x for :math:`\|x'-x\|_\infty \le \varepsilon` if

    .. math:: f(x)_c - \max_{j\ne c} f(x)_j - 2L\varepsilon > 0,\qquad
              L = \frac{\eta_{\max}}{\eta_{\min}}\frac{\|U\|_\infty\|G\|_\infty}{1-\mu^+} \ (\text{Thm 6.1}).

    ``form="printed"``: exactly (13) with the Thm 6.1 constant (``"tightest"`` Lipschitz form is used,
    which is ≤ the printed constant). ``form="folded"`` (sharper, derived): per pair j the penalty
    :math:`|g_c - g_j|^\top\eta \cdot \|[\eta]^{-1}U\|_\infty\varepsilon/(1-\mu^+)`, since
    :math:`|\Delta z_i| \le \eta_i\|[\eta]^{-1}U\|_\infty\varepsilon/(1-\mu^+)`. The logit margin is taken
    at the exact fixed point (approximation error bounded by :func:`fixed_point_error_bound`).
    The paper's "≥ 0" is made strict (> 0) so that ties never count as certified."""
    W, U, b, G, b_y, x = _model(W, U, b, G, b_y, x)
    eps, label, p = _query(eps, label, G)
    if form not in ("printed", "folded"):
        raise DomainError(f"form: must be 'printed' or 'folded', got {form!r}")
    lz = jafarpour_linf_lipschitz(W, U, None, eta)
    if not lz.certified:
        return Certificate("bounds.linf_lipschitz", Status.INCONCLUSIVE, margin=-math.inf,
                           witness={"label": label, "eps": eps}, message="mu_inf < 1 not proved")
    v = U @ x + b
    sol, eb = _solve_with_error(W, v, "inf", certificate=lz.certificate)
    lo, D = _logit_diffs(G, b_y, sol.z, label, eb.componentwise)
    e = lz.details["eta"]
    den = _down(1.0 - max(lz.details["mu_upper"], 0.0))
    if form == "printed":
        L = jafarpour_linf_lipschitz(W, U, G, mu_inf=lz.certificate).value
        pen = np.full(p, _up(2.0 * L * eps))
    else:
        nUw = norm_inf_upper(U / e[:, None])
        pen = (np.abs(D) @ e) * (1 + gamma(D.shape[1] + 2)) * nUw * eps / den * (1 + 8 * _U)
    return _margin_certificate("bounds.linf_lipschitz", lo, pen, label, eb, sol,
                               {"label": label, "eps": eps, "eta": e, "form": form},
                               f"linf Lipschitz certificate eq. (13) ({form})")


@register_verifier("bounds.l2_lipschitz")
def _verify_l2(cert: Certificate, *, W: Any, U: Any, b: Any = None, G: Any, b_y: Any = None, x: Any,
               phi: Any = None) -> Certificate:
    """Recompute the certificate from the problem (the witness z is re-checked through a fresh
    residual bound at the witness point, not trusted)."""
    W, U, b, G, b_y, x = _model(W, U, b, G, b_y, x)
    label, eps, form = int(cert.witness["label"]), float(cert.witness["eps"]), cert.witness.get("form", "folded")
    return certify_l2_lipschitz(W, U, b, G, b_y, x, label, eps, form=form, phi=phi)


@register_verifier("bounds.linf_lipschitz")
def _verify_linf(cert: Certificate, *, W: Any, U: Any, b: Any = None, G: Any, b_y: Any = None,
                 x: Any) -> Certificate:
    W, U, b, G, b_y, x = _model(W, U, b, G, b_y, x)
    return certify_linf_lipschitz(W, U, b, G, b_y, x, int(cert.witness["label"]), float(cert.witness["eps"]),
                                  eta=cert.witness.get("eta"), form=cert.witness.get("form", "printed"))
