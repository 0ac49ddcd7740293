r"""Elementary matrix functions and verified well-posedness conditions for DEQs.

Conventions (see ``docs/linalg.md`` and ``docs/conventions.md``)
-----------------------------------------------------------------
* :math:`W_+ = \max(W, 0)`, :math:`W_- = \min(W, 0)` elementwise, so :math:`W = W_+ + W_-` and
  :math:`|W| = W_+ - W_-` (wei2022 §3, jafarpour2022 §3 "[B]^+, [B]^-").
* :math:`\mathrm{sym}(A) = (A + A^\top)/2`.
* Metzler split (jafarpour2022 §3): :math:`\lceil W\rceil^{\rm Mzl}_{ij} = W_{ij}` if
  :math:`W_{ij}\ge 0` **or** :math:`i=j`, else 0; :math:`\lfloor W\rfloor^{\rm Mzl} = W -
  \lceil W\rceil^{\rm Mzl}`. The *whole diagonal* (also negative entries) stays in the Metzler part;
  this differs from the IBP split :math:`(W_+, W_-)` on the diagonal.
* Weighted norm :math:`\|x\|_{\infty,[\eta]^{-1}} = \max_i |x_i|/\eta_i` (:math:`\eta>0`) and its
  matrix measure (jafarpour2022 §3)

  .. math:: \mu_{\infty,[\eta]^{-1}}(W) = \max_i\Big(W_{ii} + \sum_{j\ne i}\frac{\eta_j}{\eta_i}|W_{ij}|\Big)
            = \max_i \frac{(M(W)\eta)_i}{\eta_i},\qquad M(W) = \mathrm{diag}(W) + |W - \mathrm{diag}(W)|,

  where :math:`M(W)` (:func:`metzler_majorant`) is a Metzler matrix.
* :math:`\mu_2(W) = \lambda_{\max}(\mathrm{sym}\,W)` (jafarpour2022 §3).

Every ``check_*`` function returns a :class:`~deqtheory.certificates.Certificate`; the status is
``CERTIFIED`` only when the margin was *proved* in floating point (positive definiteness through
:func:`deqtheory.verified.verified_pd`; scalar bounds through the documented rounding allowance of
:func:`_cw_bounds`). Bad input raises the typed errors of :mod:`deqtheory.errors`.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any, Optional, Tuple

import numpy as np

from ._validate import as_matrix, as_positive_diagonal, as_positive_weights, as_scalar, as_square, as_vector
from .certificates import Certificate, Status, register_verifier
from .errors import DEQLinAlgError, DomainError, IllConditionedWarning, NonFiniteError
from .verified import INFLATE, UNIT_ROUNDOFF, gamma, pd_as_condition, refute_quadratic, verified_pd, verified_pd_at_shift

__all__ = [
    "pos", "neg", "absm", "sym", "metzler_split", "metzler_majorant",
    "mu2", "mu_inf", "mu_inf_upper", "spectral_abscissa", "MuInfResult", "min_mu_inf",
    "pf_eig", "PFBound", "pf_upper_bound", "pf_lower_bound", "norm2_upper_bound",
    "psd_sqrt", "psd_factor",
    "check_monotone", "check_ibp_wellposed", "check_pf_abs", "check_mu_inf",
]

_U = UNIT_ROUNDOFF
_ETA = 2.0 ** -1074          # smallest subnormal


# ----------------------------------------------------------------------------------------------
# Elementary parts
# ----------------------------------------------------------------------------------------------

def pos(W: Any) -> np.ndarray:
    r"""Positive part :math:`W_+ = \max(W, 0)` (elementwise; any 2-d shape)."""
    return np.maximum(as_matrix("W", W), 0.0)


def neg(W: Any) -> np.ndarray:
    r"""Negative part :math:`W_- = \min(W, 0)` (elementwise; so :math:`W = W_+ + W_-`)."""
    return np.minimum(as_matrix("W", W), 0.0)


def absm(W: Any) -> np.ndarray:
    r"""Elementwise absolute value :math:`|W| = W_+ - W_-`."""
    return np.abs(as_matrix("W", W))


def sym(A: Any) -> np.ndarray:
    r"""Symmetric part :math:`\mathrm{sym}(A) = (A + A^\top)/2` of a square matrix."""
    A = as_square("A", A)
    return 0.5 * (A + A.T)


def metzler_split(W: Any) -> Tuple[np.ndarray, np.ndarray]:
    r"""Metzler / non-Metzler split of jafarpour2022 §3: returns ``(Mzl, nonMzl)`` with

    .. math:: (\lceil W\rceil^{\rm Mzl})_{ij} = \begin{cases} W_{ij} & W_{ij}\ge 0 \text{ or } i=j\\
              0 & \text{otherwise}\end{cases},\qquad \lfloor W\rfloor^{\rm Mzl} = W - \lceil W\rceil^{\rm Mzl}.

    ``Mzl`` is Metzler (off-diagonal entries ≥ 0) and keeps the **whole diagonal**, negative
    entries included; ``nonMzl`` holds the negative off-diagonal entries and has a zero diagonal.
    Hence ``Mzl + nonMzl == W`` exactly, ``Mzl <= pos(W)`` and ``neg(W) <= nonMzl``
    (jafarpour2022 Remark 6.4.4), with equality off the diagonal.

    >>> import numpy as np
    >>> Mzl, N = metzler_split(np.array([[-1.0, -2.0], [3.0, 0.5]]))
    >>> Mzl.tolist(), N.tolist()
    ([[-1.0, 0.0], [3.0, 0.5]], [[0.0, -2.0], [0.0, 0.0]])
    """
    W = as_square("W", W)
    off_neg = (W < 0) & ~np.eye(W.shape[0], dtype=bool)
    non = np.where(off_neg, W, 0.0)
    mzl = np.where(off_neg, 0.0, W)
    return mzl, non


def metzler_majorant(W: Any) -> np.ndarray:
    r"""The Metzler matrix :math:`M(W) = \mathrm{diag}(W) + |W - \mathrm{diag}(W)|
    = \lceil W\rceil^{\rm Mzl} - \lfloor W\rfloor^{\rm Mzl}` whose row sums weighted by
    :math:`\eta` give :math:`\mu_{\infty,[\eta]^{-1}}(W)` (see :func:`mu_inf`). Computed exactly."""
    W = as_square("W", W)
    M = np.abs(W)
    np.fill_diagonal(M, np.diag(W))
    return M


def mu2(W: Any) -> float:
    r""":math:`\mu_2(W) = \lambda_{\max}(\mathrm{sym}\,W) = \tfrac12\lambda_{\max}(W+W^\top)`
    (jafarpour2022 §3). Estimate via ``eigvalsh`` (not a proved bound; for a proved statement
    use :func:`check_monotone`: :math:`\mu_2(W) \le 1 - m \iff I - W \succeq mI`)."""
    W = as_square("W", W)
    return float(np.linalg.eigvalsh(0.5 * (W + W.T))[-1])


def mu_inf(W: Any, eta: Any = None) -> float:
    r"""Weighted :math:`\ell_\infty` matrix measure (jafarpour2022 §3)

    .. math:: \mu_{\infty,[\eta]^{-1}}(W) = \max_i\Big(W_{ii} + \sum_{j\ne i}\frac{\eta_j}{\eta_i}|W_{ij}|\Big),

    the matrix measure induced by :math:`\|x\|_{\infty,[\eta]^{-1}} = \max_i |x_i|/\eta_i`
    (equivalently :math:`\mu_\infty([\eta]^{-1} W [\eta])`). ``eta=None`` means :math:`\eta=\mathbb 1`.
    Plain floating-point value; :func:`mu_inf_upper` gives a proved upper bound.
    """
    W = as_square("W", W)
    e = as_positive_weights("eta", eta, W.shape[0])
    M = metzler_majorant(W)
    return float(np.max((M @ e) / e))


def _cw_bounds(N: np.ndarray, v: np.ndarray) -> Tuple[float, float]:
    r"""Rigorous bounds on :math:`\max_i (Nv)_i/v_i` (upper) and :math:`\min_{i: v_i>0}(Nv)_i/v_i`
    (lower) for a float matrix ``N`` and a float vector ``v >= 0``, in IEEE binary64.

    Rounding allowance: for every row, the computed inner product :math:`\hat s_i` satisfies
    :math:`|\hat s_i - s_i| \le \gamma_n a_i + n\eta_{\rm sub}` with :math:`a_i = \sum_j|N_{ij}|v_j`
    (Higham eq. 3.5, any summation order; :math:`n\eta_{\rm sub}` covers underflow of products,
    :math:`\eta_{\rm sub}=2^{-1074}`), and the computed :math:`\hat a_i` satisfies
    :math:`a_i \le (\hat a_i + n\eta_{\rm sub})/(1-\gamma_n)`. So with
    :math:`e_i = (1+10^{-6})\big[\gamma_n(\hat a_i + n\eta_{\rm sub})/(1-\gamma_n) + n\eta_{\rm sub}\big]`,
    :math:`s_i \in [\hat s_i - e_i, \hat s_i + e_i]`; the final additions and divisions are rounded
    outward with ``nextafter``. The upper bound is ``inf`` unless ``v > 0``.
    """
    n = N.shape[0]
    s = N @ v
    a = np.abs(N) @ v
    g = gamma(n + 1)
    e = INFLATE * (g * (a + n * _ETA) / (1.0 - g) + n * _ETA)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        hi = np.nextafter(np.nextafter(s + e, np.inf) / v, np.inf)
        lo = np.nextafter(np.nextafter(s - e, -np.inf) / v, -np.inf)
    pos_v = v > 0
    if not np.all(np.isfinite(s)) or not np.all(np.isfinite(e)):
        return math.inf, -math.inf
    upper = float(np.max(hi)) if np.all(pos_v) else math.inf
    if not np.all(np.isfinite(hi[pos_v])):
        upper = math.inf
    lo_sel = lo[pos_v]
    lower = float(np.min(lo_sel)) if lo_sel.size and np.all(np.isfinite(lo_sel)) else -math.inf
    return upper, lower


def mu_inf_with_allowance(W: Any, eta: Any = None) -> Tuple[float, float]:
    r"""``(μ, allowance)``: the floating-point :func:`mu_inf` and a rigorous bound on its rounding
    error (the gap to the proved upper bound :func:`mu_inf_upper`), so that
    :math:`\mu_{\infty,[\eta]^{-1}}(W) \le \mu + \text{allowance}` exactly."""
    mu = mu_inf(W, eta)
    return mu, max(mu_inf_upper(W, eta) - mu, 0.0)


def mu_inf_upper(W: Any, eta: Any = None) -> float:
    r"""A **proved** upper bound on :math:`\mu_{\infty,[\eta]^{-1}}(W)` for the float matrix ``W``
    and weight ``eta`` (exact real arithmetic on the stored values), using the rounding allowance
    of :func:`_cw_bounds` applied to :math:`\max_i (M(W)\eta)_i/\eta_i`."""
    W = as_square("W", W)
    e = as_positive_weights("eta", eta, W.shape[0])
    return _cw_bounds(metzler_majorant(W), e)[0]


def spectral_abscissa(A: Any) -> float:
    r""":math:`\alpha(A) = \max_k \mathrm{Re}\,\lambda_k(A)` (floating-point estimate via ``eigvals``)."""
    A = as_square("A", A)
    return float(np.max(np.linalg.eigvals(A).real))


# ----------------------------------------------------------------------------------------------
# Optimal weights eta
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class MuInfResult:
    r"""Result of :func:`min_mu_inf`.

    Attributes
    ----------
    mu : float — :math:`\mu_{\infty,[\eta]^{-1}}(W)` at ``eta`` (floating-point value).
    eta : (n,) array — positive weights, normalised to ``max(eta) == 1``.
    method : str — which candidate won: ``"perron"``, ``"resolvent"``, ``"lp"`` or ``"ones"``.
    mu_upper : float — proved upper bound on ``mu`` (:func:`mu_inf_upper`).
    abscissa : float — estimate of :math:`\alpha(M(W)) = \inf_{\eta>0}\mu_{\infty,[\eta]^{-1}}(W)`.
    """

    mu: float
    eta: np.ndarray
    method: str
    mu_upper: float
    abscissa: float

    @property
    def gap(self) -> float:
        """``mu - abscissa`` (≥ 0 up to rounding; small when ``eta`` is near optimal)."""
        return self.mu - self.abscissa


def _resolvent_candidates(N: np.ndarray, alpha: float):
    r"""Positive vectors :math:`v_\tau = (\tau I - N)^{-1}\mathbb 1` for :math:`\tau \downarrow \alpha(N)`.

    For a Metzler :math:`N` and :math:`\tau > \alpha(N)`, :math:`\tau I - N` is a nonsingular
    M-matrix, so :math:`(\tau I-N)^{-1} \ge 0` with positive diagonal and :math:`v_\tau > 0`;
    from :math:`Nv_\tau = \tau v_\tau - \mathbb 1`, :math:`\max_i (Nv_\tau)_i/(v_\tau)_i =
    \tau - 1/\max_i (v_\tau)_i < \tau`. This holds also when :math:`N` is reducible (where the
    infimum need not be attained)."""
    n = N.shape[0]
    scale = max(float(np.max(np.abs(N))), 1e-300) if n else 1.0
    for rel in (1e-1, 1e-3, 1e-5, 1e-7, 1e-9, 1e-11, 1e-13):
        tau = alpha + rel * scale
        try:
            v = np.linalg.solve(tau * np.eye(n) - N, np.ones(n))
        except np.linalg.LinAlgError:
            continue
        if np.all(np.isfinite(v)) and np.all(v > 0):
            yield v / np.max(v)


def _perron_vector(N: np.ndarray) -> Tuple[float, np.ndarray]:
    """Eigenvalue of max real part of the Metzler/nonnegative ``N`` and |eigenvector| (unit max)."""
    w, V = np.linalg.eig(N)
    k = int(np.argmax(w.real))
    v = np.abs(V[:, k])
    m = float(np.max(v))
    return float(w[k].real), (v / m if m > 0 else v)


def _lp_feasible_eta(N: np.ndarray, g: float, cap: float) -> Optional[np.ndarray]:
    r"""HiGHS LP: find :math:`\eta` with :math:`1 \le \eta \le` ``cap`` and :math:`(N - gI)\eta \le 0`."""
    from scipy.optimize import linprog

    n = N.shape[0]
    A = N - g * np.eye(n)
    res = linprog(c=np.ones(n), A_ub=A, b_ub=np.zeros(n), bounds=[(1.0, cap)] * n, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status != 0 or res.x is None:
        return None
    x = np.asarray(res.x, dtype=np.float64)
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        return None
    return x / np.max(x)


def _lp_search(N: np.ndarray, lo: float, hi: float, *, iters: int = 40, cap: float = 1e8) -> Optional[np.ndarray]:
    r"""Bisection on :math:`\gamma` with LP feasibility ("∃η>0: (N-γI)η ≤ 0"); the problem
    :math:`\min_\eta \mu_{\infty,[\eta]^{-1}}` is quasi-convex (its sublevel sets are these LP
    feasibility sets, convex in :math:`\eta`)."""
    best = None
    for _ in range(iters):
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            break
        mid = 0.5 * (lo + hi)
        x = _lp_feasible_eta(N, mid, cap)
        if x is None:
            lo = mid
        else:
            best, hi = x, mid
    return best


def min_mu_inf(W: Any, *, method: str = "auto") -> MuInfResult:
    r"""Weights :math:`\eta > 0` (approximately) minimising :math:`\mu_{\infty,[\eta]^{-1}}(W)`.

    **Theory.** :math:`\mu_{\infty,[\eta]^{-1}}(W) = \max_i (M\eta)_i/\eta_i` with the Metzler
    matrix :math:`M = M(W) = \mathrm{diag}(W) + |W-\mathrm{diag}(W)|` (:func:`metzler_majorant`).
    By the Collatz–Wielandt formula applied to the nonnegative :math:`M + cI`,

    .. math:: \inf_{\eta>0} \mu_{\infty,[\eta]^{-1}}(W) = \alpha(M) \quad(\text{spectral abscissa = Perron root of } M),

    attained at the Perron vector when :math:`M` is irreducible; when :math:`M` is reducible the
    infimum may not be attained (e.g. :math:`W = \begin{psmallmatrix}0&1\\0&0\end{psmallmatrix}`).
    Every :math:`\eta` gives :math:`\mu \ge \alpha(M)`.

    **Algorithm** (``method="auto"``): candidates are the Perron vector of :math:`M` (``"perron"``)
    and the resolvent vectors :math:`(\tau I - M)^{-1}\mathbb 1`, :math:`\tau \downarrow \alpha(M)`
    (``"resolvent"``, always positive, with :math:`\mu < \tau`, also for reducible :math:`M`);
    the best by *proved* upper bound wins. If that is still more than
    :math:`10^{-6}(1+|\alpha|)` above :math:`\alpha`, the quasi-convex problem is also solved by
    bisection on :math:`\gamma` with HiGHS LP feasibility checks (``"lp"``). ``method`` may force
    ``"perron"``, ``"resolvent"`` or ``"lp"``; ``eta = 1`` is always a candidate (``"ones"``).
    """
    W = as_square("W", W)
    if method not in ("auto", "perron", "resolvent", "lp"):
        raise DomainError(f"method: must be 'auto', 'perron', 'resolvent' or 'lp', got {method!r}")
    N = metzler_majorant(W)
    n = N.shape[0]
    alpha, pv = _perron_vector(N)
    ones = np.ones(n)
    cands = [("ones", ones)]
    if method in ("auto", "perron") and np.all(pv > 0):
        cands.append(("perron", pv))
    if method in ("auto", "resolvent"):
        cands.extend(("resolvent", v) for v in _resolvent_candidates(N, alpha))
    best_name, best_eta, best_ub = "ones", ones, _cw_bounds(N, ones)[0]
    for name, v in cands:
        ub = _cw_bounds(N, v)[0]
        if ub < best_ub:
            best_name, best_eta, best_ub = name, v, ub
    if method == "lp" or (method == "auto" and best_ub - alpha > 1e-6 * (1.0 + abs(alpha))):
        x = _lp_search(N, alpha - 1e-9 * (1.0 + abs(alpha)), best_ub)
        if x is not None:
            ub = _cw_bounds(N, x)[0]
            if ub < best_ub or method == "lp":
                best_name, best_eta, best_ub = "lp", x, ub
    mu = float(np.max((N @ best_eta) / best_eta))
    return MuInfResult(mu=mu, eta=best_eta, method=best_name, mu_upper=best_ub, abscissa=alpha)


# ----------------------------------------------------------------------------------------------
# Perron root
# ----------------------------------------------------------------------------------------------

def _as_nonnegative(name: str, A: Any) -> np.ndarray:
    A = as_square(name, A)
    if np.any(A < 0):
        i, j = np.unravel_index(int(np.argmin(A)), A.shape)
        raise DomainError(f"{name}: must be entrywise nonnegative, entry ({i}, {j}) is {A[i, j]} "
                          f"(shape {A.shape})")
    return A


def pf_eig(A: Any) -> float:
    r"""Perron root :math:`\lambda_{\rm pf}(A) = \rho(A)` of a nonnegative square matrix
    (floating-point estimate ``max |eigvals|``; see :func:`pf_upper_bound` for a proved bound).
    Raises :class:`~deqtheory.errors.DomainError` on a negative entry."""
    A = _as_nonnegative("A", A)
    return float(np.max(np.abs(np.linalg.eigvals(A))))


@dataclasses.dataclass(frozen=True)
class PFBound:
    """A proved bound on the Perron root and the Collatz–Wielandt vector that proves it."""

    bound: float
    v: np.ndarray
    method: str


def pf_upper_bound(A: Any, v: Any = None) -> PFBound:
    r"""Proved upper bound on :math:`\lambda_{\rm pf}(A)`, :math:`A \ge 0` (Collatz–Wielandt):

    .. math:: \lambda_{\rm pf}(A) \le \max_i \frac{(Av)_i}{v_i}\quad\text{for every } v > 0,

    evaluated with the outward-rounded allowance of :func:`_cw_bounds`. With ``v=None`` the best of
    the Perron vector and the resolvent vectors :math:`(\tau I - A)^{-1}\mathbb 1`,
    :math:`\tau\downarrow\rho(A)` is used (these are positive also for reducible :math:`A`).
    """
    A = _as_nonnegative("A", A)
    n = A.shape[0]
    if v is not None:
        vv = as_vector("v", v, n=n)
        return PFBound(_cw_bounds(A, vv)[0], vv, "given")
    rho, pv = _perron_vector(A)
    cands = [("ones", np.ones(n))]
    if np.all(pv > 0):
        cands.append(("perron", pv))
    cands.extend(("resolvent", x) for x in _resolvent_candidates(A, rho))
    best = None
    for name, x in cands:
        ub = _cw_bounds(A, x)[0]
        if best is None or ub < best.bound:
            best = PFBound(ub, x, name)
    return best


def pf_lower_bound(A: Any, v: Any = None) -> PFBound:
    r"""Proved lower bound on :math:`\lambda_{\rm pf}(A)` for :math:`A \ge 0` (subinvariance,
    Berman–Plemmons Thm 2.1.11): for :math:`v \ge 0, v \ne 0`, :math:`Av \ge s v \Rightarrow
    \rho(A) \ge s`, so :math:`\rho(A) \ge \min_{i: v_i>0}(Av)_i/v_i`. Default ``v``: the modulus
    of the eigenvector of the eigenvalue with largest real part (:math:`A|x| \ge |Ax| = \rho|x|`)."""
    A = _as_nonnegative("A", A)
    n = A.shape[0]
    if v is None:
        vv, how = _perron_vector(A)[1], "perron"
    else:
        vv, how = as_vector("v", v, n=n), "given"
        if np.any(vv < 0) or not np.any(vv > 0):
            raise DomainError(f"v: must be nonnegative and nonzero (shape {vv.shape})")
    return PFBound(_cw_bounds(A, vv)[1], vv, how)


# ----------------------------------------------------------------------------------------------
# Spectral norm upper bound
# ----------------------------------------------------------------------------------------------

def frobenius_upper(M: Any) -> float:
    r"""A proved upper bound on :math:`\|M\|_F \ge \|M\|_2` (cheap, O(mn)): the computed Frobenius norm
    times :math:`1 + 2\gamma_{mn+2}` (the sum of squares and the square root), rounded up; ``inf``
    on overflow. The fallback of :func:`norm2_upper_bound` and the allowance of the parametrizations'
    forward-error bounds."""
    M = np.asarray(M, dtype=np.float64)
    if M.size == 0:
        return 0.0
    fro = float(np.linalg.norm(M))
    if fro == 0.0 or not math.isfinite(fro):
        return fro if fro == 0.0 else math.inf
    return float(np.nextafter(fro * (1.0 + 2 * gamma(M.size + 2)), np.inf))


def norm2_upper_bound(M: Any) -> float:
    r"""A **proved** upper bound on :math:`\|M\|_2 = \sigma_{\max}(M)` for any (m, n) matrix.

    Jordan–Wielandt: :math:`J_s = \begin{psmallmatrix} sI_m & M \\ M^\top & sI_n\end{psmallmatrix}`
    has eigenvalues :math:`s \pm \sigma_k(M)` (and :math:`s`), so
    :math:`\lambda_{\min}(J_s) = s - \sigma_{\max}(M)` (when :math:`\min(m,n)\ge1`). ``J_s`` is formed
    exactly, :func:`~deqtheory.verified.verified_pd` proves :math:`\lambda_{\min}(J_s) \ge \ell`, and
    :math:`\sigma_{\max} \le s - \ell` (rounded up). Falls back to the outward-rounded Frobenius
    norm :math:`\|M\|_F(1+\gamma_{mn+2})` if no finite bound is proved.
    """
    M = as_matrix("M", M)
    m, n = M.shape
    fro_ub = frobenius_upper(M)
    if fro_ub == 0.0:
        return 0.0
    if m + n > 256 and 4 * min(m, n) <= max(m, n):
        return min(_norm2_gram_bound(M), fro_ub)
    s_hat = float(np.linalg.norm(M, 2))
    s = float(np.nextafter(s_hat * (1.0 + 1e-12), np.inf))
    J = np.zeros((m + n, m + n))
    J[:m, :m] = s * np.eye(m)
    J[m:, m:] = s * np.eye(n)
    J[:m, m:] = M
    J[m:, :m] = M.T
    lb = verified_pd(J, refute=False, name="[[sI, M], [M^T, sI]]").margin
    if not math.isfinite(lb):
        return fro_ub
    return min(float(np.nextafter(s - lb, np.inf)), fro_ub)


def _norm2_gram_bound(M: np.ndarray) -> float:
    r""":func:`norm2_upper_bound` for a wide or tall M (min(m, n) ≪ max(m, n)), through the small Gram matrix
    :math:`G = MM^\top` (or :math:`M^\top M`), k × k with k = min(m, n), instead of the (m + n)-square
    Jordan–Wielandt matrix. With :math:`\tilde G = fl(G)`, :math:`|\tilde G - G| \le \gamma_{K}|M||M|^\top`
    (K the inner dimension; Higham Thm 3.5), so :math:`\|\tilde G - G\|_2 \le \|\gamma_K|M||M|^\top\|_F`;
    the diagonal of :math:`tI - \tilde G` rounds by at most :math:`u\max_i|t - \tilde G_{ii}|`.
    :func:`~deqtheory.verified.verified_pd` with that ``abs_err`` proves
    :math:`\lambda_{\min}(tI - G) \ge \ell`, hence :math:`\sigma_{\max}(M)^2 \le t - \ell` (each operation
    rounded up). ``inf`` when nothing is proved (the caller takes the Frobenius bound)."""
    A = M if M.shape[0] <= M.shape[1] else M.T
    K = A.shape[1]
    G = A @ A.T
    aA = np.abs(A)
    E = frobenius_upper(aA @ aA.T) * INFLATE * gamma(K) if np.isfinite(G).all() else math.inf
    s_hat = float(np.linalg.norm(A, 2))
    t = float(np.nextafter(s_hat * s_hat * (1.0 + 1e-10), np.inf))
    B = -G
    B[np.diag_indices_from(B)] += t
    diag_err = float(np.max(np.abs(np.diag(B)))) * _U * INFLATE
    if not (math.isfinite(E) and math.isfinite(t)):
        return math.inf
    lb = verified_pd(B, abs_err=float(np.nextafter(E + diag_err, np.inf)), refute=False,
                     name="t I - M M^T").margin
    if not math.isfinite(lb):
        return math.inf
    sq = float(np.nextafter(t - lb, np.inf))
    return float(np.nextafter(math.sqrt(sq), np.inf)) if sq >= 0 else math.inf


# ----------------------------------------------------------------------------------------------
# PSD square roots and factors
# ----------------------------------------------------------------------------------------------

def _psd_eigh(A: Any, tol: Optional[float], on_indefinite: str, name: str):
    A = as_square(name, A)
    n = A.shape[0]
    if on_indefinite not in ("raise", "warn"):
        raise DomainError(f"on_indefinite: must be 'raise' or 'warn', got {on_indefinite!r}")
    scale = float(np.max(np.abs(A)))
    asym = float(np.max(np.abs(A - A.T)))
    rtol = 1e3 * n * _U if tol is None else as_scalar("tol", tol, nonnegative=True)
    if asym > max(rtol, 1e3 * n * _U) * scale:
        raise DomainError(f"{name}: must be symmetric, max|A - A^T| = {asym:.3g} (shape {A.shape})")
    S = 0.5 * (A + A.T)
    w, Q = np.linalg.eigh(S)
    norm = float(np.max(np.abs(w))) if n else 0.0
    if w[0] < -rtol * norm:
        msg = (f"{name}: not positive semidefinite, smallest eigenvalue {w[0]:.3g} < "
               f"-tol*||A||_2 = {-rtol * norm:.3g} (shape {A.shape})")
        if on_indefinite == "raise":
            raise DEQLinAlgError(msg)
        warnings.warn(msg + "; negative eigenvalues clipped to 0", IllConditionedWarning, stacklevel=3)
    return np.clip(w, 0.0, None), Q


def psd_sqrt(A: Any, *, tol: Optional[float] = None, on_indefinite: str = "raise") -> np.ndarray:
    r"""Symmetric PSD square root :math:`A^{1/2} = Q\,\mathrm{diag}(\sqrt{\max(\lambda_k, 0)})\,Q^\top`
    from ``eigh`` of :math:`\mathrm{sym}(A)` (so :math:`(A^{1/2})^\top A^{1/2} = A` up to rounding).

    Negative eigenvalues down to :math:`-\mathrm{tol}\cdot\|A\|_2` (default
    :math:`\mathrm{tol} = 10^3 n u`, :math:`u = 2^{-53}`) are rounding noise of a PSD matrix and are
    clipped to 0 — this handles exactly singular inputs (e.g. a zero block) without the loss of
    ``scipy.linalg.sqrtm``. A genuinely indefinite input (an eigenvalue below that) raises
    :class:`~deqtheory.errors.DEQLinAlgError` (``on_indefinite="raise"``, default) or warns with
    :class:`~deqtheory.errors.IllConditionedWarning` and clips (``"warn"``). A non-symmetric input
    (``max|A-Aᵀ| > tol·max|A|``) raises :class:`~deqtheory.errors.DomainError`.
    """
    w, Q = _psd_eigh(A, tol, on_indefinite, "A")
    R = Q * np.sqrt(w)
    return R @ Q.T


def psd_factor(A: Any, *, tol: Optional[float] = None, on_indefinite: str = "raise",
               trim: bool = False) -> np.ndarray:
    r"""A factor :math:`V` with :math:`V^\top V = A` (to rounding) for a symmetric PSD :math:`A`:
    :math:`V = \mathrm{diag}(\sqrt{\max(\lambda_k,0)})\,Q^\top` from ``eigh``. :math:`V^\top V` is
    PSD by construction (never indefinite, unlike products such as ``V @ V``); exactly singular
    :math:`A` is fine. ``trim=True`` drops the zero rows (shape ``(rank, n)``). Indefinite and
    non-symmetric input: as :func:`psd_sqrt`.
    """
    w, Q = _psd_eigh(A, tol, on_indefinite, "A")
    V = np.sqrt(w)[:, None] * Q.T
    if trim:
        V = V[w > 0]
    return V


# ----------------------------------------------------------------------------------------------
# Checks returning certificates
# ----------------------------------------------------------------------------------------------

#: Entries at or above this magnitude put the rounding-error analysis of a PD proof near overflow
#: (squares and norms of ~1e154 overflow binary64); a NonFiniteError / LinAlgError raised there is
#: reported as INCONCLUSIVE instead of propagating (issue 15 item 7).
_OVERFLOW_SCALE = 1e100


def _pd_guarded(pd: Any, B: np.ndarray, *args: Any, **kw: Any) -> Certificate:
    """``pd(B, ...)`` (:func:`verified_pd` or :func:`verified_pd_at_shift`), or an INCONCLUSIVE ``"pd"``
    certificate (margin ``-inf``, nothing claimed) when ``B``'s entries are so large that the
    floating-point proof overflows. Errors on matrices of ordinary scale propagate unchanged."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return pd(B, *args, **kw)
    except (NonFiniteError, np.linalg.LinAlgError) as exc:
        big = float(np.max(np.abs(B))) if B.size else 0.0
        if not big >= _OVERFLOW_SCALE:
            raise
        return Certificate("pd", Status.INCONCLUSIVE, margin=-math.inf, witness={},
                           stats={"lambda_min_estimate": math.nan, "max_abs_entry": big},
                           message=f"floating-point proof overflowed (max |entry| = {big:.3g}; "
                                   f"{type(exc).__name__}); nothing is claimed")


def _shifted_identity_minus(W: np.ndarray, c: float) -> Tuple[np.ndarray, float]:
    r"""``B = fl(c I - W)`` and a bound on :math:`\|B - (cI - W)\|_2`: only the diagonal is rounded,
    each by at most :math:`u|B_{ii}|`, so the error is a diagonal matrix of norm
    :math:`\le u\max_i|B_{ii}|` (inflated)."""
    B = -W
    B[np.diag_indices_from(B)] += c
    err = INFLATE * _U * float(np.max(np.abs(np.diag(B)))) * (1 + 2 * _U)
    return B, err


def _monotone_matrix(W: np.ndarray, m: float, phi: Optional[np.ndarray] = None) -> Tuple[np.ndarray, float]:
    r"""``B = fl(Φ⁻¹(I − W) − mI)`` (Φ = I when ``phi`` is None: ``fl((1 − m)I − W)``) and a bound on
    :math:`\|B - B_{\rm exact}\|_2`."""
    if phi is None:
        c = 1.0 - m
        # rounding of c = fl(1 - m) itself: at most u|c|; it enters the diagonal as a multiple of I.
        err_c = _U * abs(c) * (1 + 2 * _U) if m != 0.0 else 0.0
        B, err = _shifted_identity_minus(W, c)
        return B, err + INFLATE * err_c
    n = W.shape[0]
    B = (np.eye(n) - W) / phi[:, None]
    # ≤ 2 roundings per entry (subtraction, division): ‖·‖₂ ≤ γ₂‖B‖_F, rounded up
    err = float(np.nextafter(gamma(2) * float(np.linalg.norm(B)) * (1.0 + 8 * _U), np.inf))
    if m != 0.0:
        B[np.diag_indices_from(B)] -= m
        err += INFLATE * _U * float(np.max(np.abs(np.diag(B)))) * (1 + 2 * _U)
    return B, err


def check_monotone(W: Any, m: Optional[float] = None, *, phi: Any = None) -> Certificate:
    r"""Verified strong monotonicity :math:`\Phi^{-1}(I - W) \succeq mI`, i.e.
    :math:`\lambda_{\min}(\mathrm{sym}(\Phi^{-1}(I-W))) \ge m` — the one monotonicity certificate of
    :mod:`deqtheory` (condition ``"monotone"``). ``phi=None``: :math:`\Phi = I`, MonDEQ
    well-posedness (Winston & Kolter 2020; equivalently :math:`\mu_2(W) \le 1 - m`, jafarpour2022
    Remark 5.2.2); a positive diagonal ``phi``: the G-MonDEQ condition of havens2023 eq. (6) / Thm 3.3.
    "⪰" is in the sense of the symmetric part.

    * ``m=None``: proves :math:`\Phi^{-1}(I - W) \succ 0`; ``margin`` is a proved lower bound on
      :math:`\lambda_{\min}(\mathrm{sym}(\Phi^{-1}(I-W)))`, i.e. the proved monotonicity parameter.
    * ``m`` given (``m >= 0``): ``margin`` is a proved lower bound on
      :math:`\lambda_{\min}(\mathrm{sym}(\Phi^{-1}(I-W))) - m`.

    Method: :func:`~deqtheory.verified.verified_pd` of :math:`B = \mathrm{fl}(\Phi^{-1}(I - W) - mI)` with
    ``abs_err`` covering the rounding of forming B (see :func:`_monotone_matrix`).
    CERTIFIED iff margin > 0; REFUTED when a vector ``v`` with :math:`v^\top Bv < 0` is
    proved (witness ``v``); otherwise INCONCLUSIVE. Witness also holds ``m``, the Cholesky
    ``shift`` and ``phi`` (when given). Valid for any activation slope-restricted on [0, 1].
    """
    W = as_square("W", W)
    m_eff = 0.0 if m is None else as_scalar("m", m, nonnegative=True)
    ph = None if phi is None else as_positive_diagonal("phi", phi, n=W.shape[0])
    B, err = _monotone_matrix(W, m_eff, ph)
    name = "(1-m)I - W" if ph is None else "Phi^-1 (I - W) - mI"
    c = _pd_guarded(verified_pd, B, abs_err=err, name=name)
    witness = {"m": m_eff, **dict(c.witness)}
    if ph is not None:
        witness["phi"] = ph
    lhs = "I - W" if ph is None else "Phi^-1 (I - W)"
    what = f"{lhs} > 0" if m is None else f"{lhs} >= {m_eff:.6g} I"
    lam_lb = c.margin + m_eff
    est = c.stats.get('lambda_min_estimate', float('nan')) + m_eff
    return pd_as_condition(c, "monotone", certified=f"proved {what}: lambda_min(sym({lhs})) >= {lam_lb:.6g}",
                           refuted=f"refuted {what}: witness v with v^T ({name}) v < 0",
                           otherwise=f"could not prove {what} (lambda_min estimate {est:.3g})",
                           witness=witness, stats={**dict(c.stats), "lambda_min_lower_bound": lam_lb})


def monotone_parameter(cert: Certificate) -> float:
    r"""The proved monotonicity parameter :math:`m` (a lower bound on
    :math:`\lambda_{\min}(\mathrm{sym}(\Phi^{-1}(I-W)))`, rounded down) of a CERTIFIED ``"monotone"``
    certificate; ``-inf`` when it is not certified."""
    if not cert.certified:
        return -math.inf
    m = float(cert.witness.get("m", 0.0))
    if m == 0.0:
        return float(cert.margin)
    return float(np.nextafter((float(cert.margin) + m) * (1.0 - 4 * _U), -np.inf))


@register_verifier("monotone")
def _verify_monotone(cert: Certificate, *, W: Any, phi: Any = None, **_: Any) -> Certificate:
    W = as_square("W", W)
    m = float(cert.witness.get("m", 0.0))
    ph = cert.witness.get("phi", phi)
    ph = None if ph is None else as_positive_diagonal("phi", ph, n=W.shape[0])
    B, err = _monotone_matrix(W, m, ph)
    if cert.status is Status.REFUTED and "v" in cert.witness:
        ok, ub = _refute_quadratic(B, np.asarray(cert.witness["v"], dtype=np.float64), err)
        st = Status.REFUTED if ok else Status.INCONCLUSIVE
        return cert.replace(status=st, residuals={"vBv_upper_bound": ub},
                            message=("re-verified: " if ok else "witness does not refute: ") + cert.message)
    c = _pd_guarded(verified_pd_at_shift, B, float(cert.witness.get("shift", 0.0)), abs_err=err, name="(1-m)I - W")
    return cert.replace(condition="monotone", status=c.status, margin=c.margin,
                        message="re-verified from witness shift: " + c.message)


#: the one quadratic-form refutation (scaled for huge matrices): :func:`deqtheory.verified.refute_quadratic`
_refute_quadratic = refute_quadratic


def _ibp_matrix(W: np.ndarray) -> Tuple[np.ndarray, float]:
    return _shifted_identity_minus(np.abs(W), 1.0)


def check_ibp_wellposed(W: Any) -> Certificate:
    r"""Verified :math:`I - |W| \succ 0` in the sense :math:`\mathrm{sym}(I - |W|) \succ 0`
    (wei2022 Thm 3.1; by wei2022 Lemma 3.4, eq. (3.8), this is equivalent to
    :math:`I_{2n} - \widehat W \succ 0` for the IBP lift :math:`\widehat W =
    \begin{psmallmatrix}W_+&W_-\\W_-&W_+\end{psmallmatrix}`, so both the DEQ and its IBP fixed point
    equation (3.3) are well posed). ``margin`` = proved lower bound on
    :math:`\lambda_{\min}(\mathrm{sym}(I-|W|)) = 1 - \lambda_{\max}(\mathrm{sym}|W|)`.
    Note the IBP-MonDEQ parametrization can make this exactly 0 (not certifiable: strict).
    REFUTED with witness ``v`` (:math:`v^\top(I-|W|)v<0` proved)."""
    W = as_square("W", W)
    B, err = _ibp_matrix(W)
    c = _pd_guarded(verified_pd, B, abs_err=err, name="I - |W|")
    est = c.stats.get('lambda_min_estimate', float('nan'))
    return pd_as_condition(c, "ibp_wellposed", certified=f"proved lambda_min(sym(I - |W|)) >= {c.margin:.6g}",
                           refuted="refuted: witness v with v^T (I - |W|) v < 0",
                           otherwise=f"could not prove sym(I - |W|) > 0 (lambda_min estimate {est:.3g})")


@register_verifier("ibp_wellposed")
def _verify_ibp(cert: Certificate, *, W: Any) -> Certificate:
    W = as_square("W", W)
    B, err = _ibp_matrix(W)
    if cert.status is Status.REFUTED and "v" in cert.witness:
        ok, ub = _refute_quadratic(B, np.asarray(cert.witness["v"], dtype=np.float64), err)
        return cert.replace(status=Status.REFUTED if ok else Status.INCONCLUSIVE,
                            residuals={"vBv_upper_bound": ub})
    c = _pd_guarded(verified_pd_at_shift, B, float(cert.witness.get("shift", 0.0)), abs_err=err, name="I - |W|")
    return cert.replace(status=c.status, margin=c.margin, message="re-verified from witness shift: " + c.message)


def one_minus_down(b: float) -> float:
    r"""The largest float :math:`\le 1 - b` that this computation can prove: :math:`\mathrm{fl}(1-b)` when
    the subtraction is exact, else the next float below it (error-free TwoSum, Knuth: the rounding
    error of :math:`s = \mathrm{fl}(1 + (-b))` is :math:`r = (1 - (s - b')) + (-b - b')`,
    :math:`b' = s - 1`, exactly; :math:`r < 0` means :math:`s > 1 - b`). A margin ``1 - bound`` is
    thus never rounded up (e.g. ``b = 1e-320`` gives ``1 - 2**-53``, not ``1.0``)."""
    if not math.isfinite(b):
        return -math.inf if b > 0 or math.isnan(b) else math.inf
    s = 1.0 - b
    bb = s - 1.0
    r = (1.0 - (s - bb)) + (-b - bb)
    return float(np.nextafter(s, -np.inf)) if r < 0 else float(s)


def _cw_certificate(condition: str, N: np.ndarray, v_up: Optional[np.ndarray], v_low: Optional[np.ndarray],
                    label: str, stats: dict, up_key: str, refute_label: Optional[str] = None) -> Certificate:
    """Shared logic of check_pf_abs / check_mu_inf: upper CW bound < 1 ⇒ CERTIFIED;
    lower bound ≥ 1 ⇒ REFUTED; else INCONCLUSIVE. margin = 1 - upper bound, rounded down
    (:func:`one_minus_down`)."""
    ub = _cw_bounds(N, v_up)[0] if v_up is not None else math.inf
    margin = one_minus_down(ub)
    tol = {"unit_roundoff": _U, "gamma_n1": gamma(N.shape[0] + 1)}
    if ub < 1.0:
        return Certificate(condition, Status.CERTIFIED, margin=margin, witness={up_key: v_up}, tolerance=tol,
                           stats={**stats, "upper_bound": ub},
                           message=f"proved {label} <= {ub:.6g} < 1")
    lb = _cw_bounds(N, v_low)[1] if v_low is not None and np.any(v_low > 0) else -math.inf
    if lb >= 1.0:
        return Certificate(condition, Status.REFUTED, margin=margin, witness={"v": v_low}, tolerance=tol,
                           stats={**stats, "upper_bound": ub, "lower_bound": lb},
                           message=f"refuted: proved {refute_label or label} >= {lb:.6g} >= 1 (witness v)")
    w = {up_key: v_up} if v_up is not None else {}
    return Certificate(condition, Status.INCONCLUSIVE, margin=margin, witness=w, tolerance=tol,
                       stats={**stats, "upper_bound": ub, "lower_bound": lb},
                       message=f"could not prove {label} < 1 (proved bound {ub:.6g})")


def check_pf_abs(W: Any) -> Certificate:
    r"""Verified :math:`\lambda_{\rm pf}(|W|) < 1` (El Ghaoui et al. 2021 well-posedness,
    jafarpour2022 Remark 5.2.1). Witness ``v > 0`` with the Collatz–Wielandt bound
    :math:`\lambda_{\rm pf}(|W|) \le \max_i(|W|v)_i/v_i` evaluated with outward rounding;
    ``margin = 1 - bound``. REFUTED (witness ``v >= 0``) when
    :math:`\min_{i:v_i>0}(|W|v)_i/v_i \ge 1` is proved, i.e. :math:`\lambda_{\rm pf}(|W|)\ge 1`."""
    W = as_square("W", W)
    A = np.abs(W)
    up = pf_upper_bound(A)
    rho, pv = _perron_vector(A)
    return _cw_certificate("pf_abs", A, up.v, pv, "lambda_pf(|W|)",
                           {"n": A.shape[0], "lambda_pf_estimate": rho, "method": up.method}, "v")


@register_verifier("pf_abs")
def _verify_pf_abs(cert: Certificate, *, W: Any) -> Certificate:
    W = as_square("W", W)
    A = np.abs(W)
    v = cert.witness.get("v")
    v = None if v is None else as_vector("v", v, n=A.shape[0])
    if cert.status is Status.REFUTED:
        return _cw_certificate("pf_abs", A, None, v, "lambda_pf(|W|)", {"reverified": True}, "v")
    if v is None or np.any(v <= 0):
        return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf, message="witness v is not positive")
    return _cw_certificate("pf_abs", A, v, None, "lambda_pf(|W|)", {"reverified": True}, "v")


_MU_REFUTE = "inf over eta > 0 of mu_inf,[eta]^-1(W) = alpha(M(W))"


def check_mu_inf(W: Any, eta: Any = None) -> Certificate:
    r"""Verified :math:`\exists\eta>0:\ \mu_{\infty,[\eta]^{-1}}(W) < 1` (jafarpour2022 Thm 5.1:
    well-posedness and convergence of the α-averaged iteration; Thm 6.3 for the embedded network).

    Witness ``eta`` (from :func:`min_mu_inf`, or the given ``eta``); ``margin = 1 - μ̄`` where
    :math:`\bar\mu` is the proved upper bound :func:`mu_inf_upper` of
    :math:`\max_i (M(W)\eta)_i/\eta_i`. REFUTED (witness ``v >= 0``) when
    :math:`\min_{i:v_i>0}(M(W)v)_i/v_i \ge 1` is proved: then :math:`\alpha(M(W)) \ge 1` and
    :math:`\mu_{\infty,[\eta]^{-1}}(W) \ge 1` for **every** :math:`\eta>0` (for a given ``eta`` the
    refutation is still about all η).
    """
    W = as_square("W", W)
    N = metzler_majorant(W)
    if eta is None:
        res = min_mu_inf(W)
        e, how, alpha = res.eta, res.method, res.abscissa
    else:
        e, how, alpha = as_positive_weights("eta", eta, W.shape[0]), "given", _perron_vector(N)[0]
    pv = _perron_vector(N)[1]
    return _cw_certificate("mu_inf", N, e, pv, "mu_inf,[eta]^-1(W)",
                           {"n": N.shape[0], "method": how, "abscissa_estimate": alpha}, "eta", _MU_REFUTE)


@register_verifier("mu_inf")
def _verify_mu_inf(cert: Certificate, *, W: Any) -> Certificate:
    W = as_square("W", W)
    N = metzler_majorant(W)
    if cert.status is Status.REFUTED:
        v = as_vector("v", cert.witness["v"], n=N.shape[0])
        return _cw_certificate("mu_inf", N, None, v, "mu_inf,[eta]^-1(W)", {"reverified": True}, "eta",
                               _MU_REFUTE)
    e = cert.witness.get("eta")
    if e is None:
        return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf, message="no witness eta")
    e = as_vector("eta", e, n=N.shape[0])
    if np.any(e <= 0):
        return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf, message="witness eta is not positive")
    return _cw_certificate("mu_inf", N, e, None, "mu_inf,[eta]^-1(W)", {"reverified": True}, "eta")
