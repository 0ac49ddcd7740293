r"""Verified positive definiteness in floating point.

:func:`verified_pd` returns a *proved* lower bound on :math:`\lambda_{\min}` of the
symmetric part of a matrix, using a floating-point Cholesky factorization of the
shifted matrix :math:`B = \mathrm{fl}(S - tI)` and a rigorous backward-error bound
(Demmel 1989; Higham, *Accuracy and Stability*, Thm 10.3; Rump, BIT 46 (2006) 433–452):

If floating-point Cholesky of the symmetric :math:`n\times n` matrix :math:`B` runs to
completion, the computed factor satisfies :math:`\tilde R^\top\tilde R = B + \Delta B` with
:math:`|\Delta B| \le \gamma_{n+1}|\tilde R^\top||\tilde R|`. Since
:math:`\|\tilde r_i\|^2 = B_{ii} + \Delta B_{ii} \le B_{ii}/(1-\gamma_{n+1})`,

.. math:: \|\Delta B\|_2 \le \frac{\gamma_{n+1}}{1-\gamma_{n+1}}\,\mathrm{tr}(B),

and :math:`\tilde R^\top\tilde R \succeq 0` gives :math:`\lambda_{\min}(B) \ge -\|\Delta B\|_2`.
Hence

.. math:: \lambda_{\min}(A_{\rm exact}) \ge t - \underbrace{\Big(c\,\mathrm{tr}(B) + u\max_i|B_{ii}|
          + \delta_{\rm sym} + \delta_{\rm underflow} + \texttt{abs\_err}\Big)}_{\text{loss}},

where :math:`u = 2^{-53}`, :math:`\gamma_k = ku/(1-ku)`, ``abs_err`` bounds
:math:`\|A_{\rm exact}-A\|_2` (supplied by the caller when :math:`A` was itself computed in
floating point, see :func:`product_error_bound`), :math:`\delta_{\rm sym} = u\|S\|_F` covers
forming :math:`S = (A+A^\top)/2`, :math:`u\max|B_{ii}|` covers rounding in the shift, and
:math:`\delta_{\rm underflow} = 4n(2(n+1)+\max_i B_{ii})\eta` with
:math:`\eta = 2^{-1074}` is Rump's underflow term.

Assumptions (documented in ``docs/conventions.md``): IEEE binary64 with round-to-nearest;
LAPACK ``potrf`` satisfies the componentwise bound above (it does for any summation order
and for blocked variants with FMA); to leave room for blocked implementations we use
:math:`c = 2\gamma_{n+1}/(1-2\gamma_{n+1})`, twice the textbook constant, and inflate the
loss by a further factor :math:`1 + 10^{-6}` to absorb rounding in evaluating the bound itself.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import scipy.linalg

from ._validate import as_square, as_scalar
from .certificates import Certificate, Status, register_verifier

__all__ = ["UNIT_ROUNDOFF", "INFLATE", "round_up", "gamma", "verified_pd", "verified_pd_at_shift", "product_error_bound",
           "sum_error_bound", "verified_lambda_min", "pd_as_condition", "refute_quadratic"]

UNIT_ROUNDOFF = 2.0 ** -53
_ETA = 2.0 ** -1074
#: The one safety factor of the project: every a-priori rounding-error allowance (γ_k·Σ|terms| and the
#: like) is multiplied by it before it enters a claim, so that the few roundings of the allowance's own
#: computation (each a relative 2⁻⁵³) can never make it smaller than the bound it stands for.
#: Both packages import it from here (docs/certificates.md).
INFLATE = 1.0 + 1e-6
_INFLATE = INFLATE


def round_up(x: float) -> float:
    """A float ≥ the exact value of a non-negative scalar computed with a few roundings: ``x(1+8u)``,
    then one ulp up (``inf`` stays ``inf``). The one scalar round-up of the library; use it for every
    reported bound that is a short product or quotient of proved quantities."""
    if not math.isfinite(x):
        return math.inf
    return float(np.nextafter(x * (1.0 + 8 * UNIT_ROUNDOFF), np.inf))


def gamma(k: int) -> float:
    r"""Higham's :math:`\gamma_k = ku/(1-ku)` for binary64."""
    ku = k * UNIT_ROUNDOFF
    if ku >= 1:
        return math.inf
    return ku / (1.0 - ku)


def product_error_bound(A: np.ndarray, B: np.ndarray) -> float:
    r"""Bound on :math:`\|\mathrm{fl}(AB) - AB\|_2` for a float64 product: :math:`\gamma_k\||A||B|\|_F`,
    with :math:`k` the inner dimension (Higham eq. 3.13)."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    k = A.shape[-1] if A.ndim else 1
    AB = np.abs(A) @ np.abs(B) if A.ndim and B.ndim else np.abs(A * B)
    return _INFLATE * gamma(k + 1) * float(np.linalg.norm(AB))


def sum_error_bound(*terms: np.ndarray) -> float:
    r"""Bound on :math:`\|\mathrm{fl}(\sum_i T_i) - \sum_i T_i\|_2` for exactly representable terms:
    :math:`\gamma_{m-1}\|\sum_i |T_i|\|_F` (recursive summation of m terms)."""
    if len(terms) <= 1:
        return 0.0
    acc = sum(np.abs(np.asarray(t, dtype=np.float64)) for t in terms)
    return _INFLATE * gamma(len(terms)) * float(np.linalg.norm(acc))


#: matrices with an entry above this are scaled by a power of two before the proof (:func:`_unit_scale`)
_BIG = 2.0 ** 400


def _unit_scale(A: np.ndarray, abs_err: float) -> "tuple[np.ndarray, float, float]":
    r"""``(A/s, err, s)`` with :math:`s = 2^k` and :math:`\max|A/s| < 1` when :math:`\max|A| > 2^{400}`
    (else ``(A, abs_err, 1)``): above that, squares and sums in the error bounds (‖S‖_F, tr) and the
    shifts overflow near 1e154 and the proof would fail with an exception. Dividing by a power of two
    is exact except for entries that become subnormal, each off by at most :math:`\eta/2`, so
    :math:`\|A/s - \mathrm{fl}(A/s)\|_2 \le \|\cdot\|_F \le n\eta/2`;
    ``err`` = abs_err/s + nη rounded up. A proof about A/s is then a proof about A:
    :math:`\lambda_{\min}(\mathrm{sym}A) = s\,\lambda_{\min}(\mathrm{sym}(A/s))`."""
    amax = float(np.max(np.abs(A))) if A.size else 0.0
    if not amax > _BIG:
        return A, abs_err, 1.0
    s = math.ldexp(1.0, math.frexp(amax)[1])
    err = float(np.nextafter(np.nextafter(abs_err / s, np.inf) + A.shape[0] * _ETA, np.inf))
    return A / s, err, s


def _rescaled(c: Certificate, s: float, abs_err: float, name: str) -> Certificate:
    """A ``"pd"`` certificate proved on ``A/s`` restated for ``A`` (margin, shift and λ estimates × s)."""
    k = int(math.log2(s))
    wit = dict(c.witness)
    if "shift" in wit:
        wit["shift"] = float(wit["shift"]) * s
    stats = {key: (float(v) * s if key in ("lambda_min_estimate", "lambda_min_upper_bound") else v)
             for key, v in c.stats.items()}
    stats["scaled_by"] = f"2^{k}"
    margin = c.margin * s
    if c.status is Status.REFUTED:
        msg = f"proved lambda_min(sym({name})) <= {stats['lambda_min_upper_bound']:.6g} < 0 (witness v)"
    elif margin > -math.inf:
        msg = f"proved lambda_min(sym({name})) >= {margin:.6g}"
    else:
        msg = f"could not prove sym({name}) positive definite"
    return c.replace(margin=margin, witness=wit, stats=stats,
                     tolerance={**dict(c.tolerance), "abs_err": abs_err},
                     message=f"{msg} (proved on {name}/2^{k}: exact power-of-two scaling, subnormal rounding bounded)")


def refute_quadratic(B: Any, v: Any, abs_err: float = 0.0) -> "tuple[bool, float]":
    r"""Proved upper bound on :math:`v^\top \mathrm{sym}(B_{\rm exact}) v`; True if it is < 0 (then
    :math:`\mathrm{sym}(B_{\rm exact})` is not positive semidefinite, witness ``v``).

    The allowance is :math:`\gamma_{2n+2}|v|^\top|S||v| + (\texttt{abs\_err} + u\|S\|_F)\|v\|^2` with
    :math:`S = \mathrm{fl}(\mathrm{sym}\,B)` (the :math:`u\|S\|_F` term covers forming :math:`S`; 0
    when :math:`B` is exactly symmetric), inflated by :data:`INFLATE`, the sum rounded up. Matrices
    above :math:`2^{400}` are first scaled exactly (:func:`_unit_scale`), so nothing overflows; a bound
    that still overflows (a huge witness ``v``) is ``inf``: not refuted. The one quadratic-form
    refutation of the library (:func:`verified_pd`, ``linalg``, ``spectrum``, ``conv_ibp``)."""
    B = np.asarray(B, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    Bs, err, s = _unit_scale(B, float(abs_err))
    n = Bs.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        if np.array_equal(Bs, Bs.T):
            S, sym_err = Bs, 0.0
        else:
            S = 0.5 * (Bs + Bs.T)
            sym_err = UNIT_ROUNDOFF * float(np.linalg.norm(S))
        q = float(v @ (S @ v))
        av = np.abs(v)
        bound = _INFLATE * (gamma(2 * n + 2) * float(av @ (np.abs(S) @ av)) + (err + sym_err) * float(v @ v))
        ub = float(np.nextafter(q + bound, np.inf)) * s
    if not math.isfinite(ub):
        return False, math.inf
    return ub < 0, ub


def _cholesky_ok(B: np.ndarray) -> bool:
    try:
        scipy.linalg.cholesky(B, lower=False, check_finite=False, overwrite_a=True)
    except np.linalg.LinAlgError:
        return False
    return True


def _loss(S: np.ndarray, t: float, abs_err: float, sym_err: float) -> float:
    n = S.shape[0]
    d = np.diag(S) - t
    c = 2 * gamma(n + 1) / (1 - 2 * gamma(n + 1))
    tr = float(np.sum(np.maximum(d, 0.0)))
    dmax = float(np.max(np.abs(d))) if n else 0.0
    under = 4 * n * (2 * (n + 1) + max(dmax, 0.0)) * _ETA
    return _INFLATE * (c * tr + UNIT_ROUNDOFF * dmax + sym_err + under) + abs_err


def _symmetric_part(A: np.ndarray) -> "tuple[np.ndarray, float]":
    if np.array_equal(A, A.T):
        return A, 0.0
    S = 0.5 * (A + A.T)
    return S, UNIT_ROUNDOFF * float(np.linalg.norm(S))


def verified_pd_at_shift(A: Any, shift: float, *, abs_err: float = 0.0, name: str = "A") -> Certificate:
    """Try to prove ``λ_min(sym(A_exact)) >= shift - loss`` with one Cholesky of ``sym(A) - shift·I``.

    Returns a certificate whose ``margin`` is the proved lower bound on λ_min (``-inf`` when the
    Cholesky fails) and whose status is CERTIFIED iff that bound is > 0.
    """
    A = as_square(name, A)
    abs_err = as_scalar("abs_err", abs_err, nonnegative=True)
    t = as_scalar("shift", shift)
    As, err, s = _unit_scale(A, abs_err)
    if s != 1.0:
        return _rescaled(verified_pd_at_shift(As, t / s, abs_err=err, name=name), s, abs_err, name)
    S, sym_err = _symmetric_part(A)
    B = S.copy()
    B[np.diag_indices_from(B)] -= t
    ok = _cholesky_ok(B)
    if not ok:
        return Certificate("pd", Status.INCONCLUSIVE, margin=-math.inf, witness={"shift": t},
                           tolerance={"abs_err": abs_err}, stats={"n": A.shape[0]},
                           message=f"Cholesky of sym({name}) - {t:.6g} I failed")
    lb = t - _loss(S, t, abs_err, sym_err)
    status = Status.CERTIFIED if lb > 0 else Status.INCONCLUSIVE
    return Certificate("pd", status, margin=lb, witness={"shift": t},
                       tolerance={"abs_err": abs_err, "sym_err": sym_err},
                       stats={"n": A.shape[0]},
                       message=f"proved lambda_min(sym({name})) >= {lb:.6g}")


def verified_pd(A: Any, *, abs_err: float = 0.0, refute: bool = True, name: str = "A") -> Certificate:
    r"""Verified test of :math:`\mathrm{sym}(A) \succ 0`, where :math:`\mathrm{sym}(A) = (A+A^\top)/2`.

    Parameters
    ----------
    A : (n, n) array — the matrix as computed; only its symmetric part is tested.
    abs_err : float — a bound on :math:`\|A_{\rm exact} - A\|_2` when ``A`` is the floating-point
        image of an exact matrix (e.g. ``2Γ - ΓW - WᵀΓ``); see :func:`product_error_bound`.
    refute : bool — if the estimate says "not PD", try to *prove* it with the eigenvector
        ``v`` as witness (:math:`v^\top A v < 0` with its rounding error accounted for).

    Returns
    -------
    Certificate with ``condition="pd"``. ``margin`` is a **proved** lower bound on
    :math:`\lambda_{\min}` (it may be negative: it is still a valid bound, useful for
    non-strict inequalities). Status: CERTIFIED iff margin > 0; REFUTED (witness ``v``) iff
    :math:`\lambda_{\min} < 0` was proved; otherwise INCONCLUSIVE.

    >>> import numpy as np
    >>> c = verified_pd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> c.certified and 0.99 < c.margin <= 1.0
    True
    """
    A = as_square(name, A)
    abs_err = as_scalar("abs_err", abs_err, nonnegative=True)
    As, err, s = _unit_scale(A, abs_err)
    if s != 1.0:
        return _rescaled(verified_pd(As, abs_err=err, refute=refute, name=name), s, abs_err, name)
    n = A.shape[0]
    S, sym_err = _symmetric_part(A)
    w, V = np.linalg.eigh(S)
    lam = float(w[0])
    scale = float(np.max(np.abs(w))) if n else 0.0
    attempts = []
    best: Optional[Certificate] = None
    # Candidate shifts, from tight to safe. Each attempt is one Cholesky (O(n^3/3)).
    loss0 = _loss(S, lam, abs_err, sym_err)
    tiny = 64 * n * UNIT_ROUNDOFF * max(scale, 1e-300)
    cands: Sequence[float]
    if lam > 0:
        cands = [lam - 2 * loss0 - tiny, 0.5 * lam, 0.1 * lam, -loss0 - tiny]
    else:
        cands = [lam - 2 * loss0 - tiny - 1e-6 * abs(lam), lam * 2 - 1e-3 * max(scale, 1.0)]
    for t in cands:
        c = verified_pd_at_shift(S, t, abs_err=abs_err + sym_err, name=name)
        attempts.append(t)
        if c.margin > -math.inf:
            if best is None or c.margin > best.margin:
                best = c
            if c.certified or lam <= 0:
                break
    stats = {"n": n, "lambda_min_estimate": lam, "cholesky_attempts": len(attempts)}
    tol = {"abs_err": abs_err, "sym_err": sym_err, "unit_roundoff": UNIT_ROUNDOFF}
    if best is not None and best.certified:
        return best.replace(stats=stats, tolerance=tol)
    margin = best.margin if best is not None else -math.inf
    witness = dict(best.witness) if best is not None else {}
    if refute and lam < 0:
        v = V[:, 0]
        ok, q_ub = refute_quadratic(A, v, abs_err)
        if ok:
            ub = q_ub / float(v @ v) * (1 - 4 * (n + 1) * UNIT_ROUNDOFF)   # ub < 0: towards 0 is the safe side
            witness.update({"v": v})
            return Certificate("pd", Status.REFUTED, margin=margin, witness=witness, tolerance=tol,
                               stats={**stats, "lambda_min_upper_bound": ub},
                               message=f"proved lambda_min(sym({name})) <= {ub:.6g} < 0 (witness v)")
    return Certificate("pd", Status.INCONCLUSIVE, margin=margin, witness=witness, tolerance=tol, stats=stats,
                       message=f"could not prove sym({name}) positive definite (estimate {lam:.3g})")


def verified_lambda_min(A: Any, *, abs_err: float = 0.0) -> float:
    """A proved lower bound on λ_min(sym(A_exact)) (``-inf`` if none could be proved)."""
    return verified_pd(A, abs_err=abs_err, refute=False).margin


@register_verifier("pd")
def _verify_pd(cert: Certificate, *, A: Any, abs_err: float = 0.0) -> Certificate:
    if "v" in cert.witness and cert.status is Status.REFUTED:
        return verified_pd(A, abs_err=abs_err)
    return verified_pd_at_shift(A, float(cert.witness.get("shift", 0.0)), abs_err=abs_err)


def pd_as_condition(c: Certificate, condition: str, *, certified: str, refuted: str, otherwise: str,
                    witness: Optional[Mapping[str, Any]] = None,
                    stats: Optional[Mapping[str, Any]] = None) -> Certificate:
    """A ``"pd"`` certificate of :func:`verified_pd` restated as the certificate of ``condition``
    (same status, margin, tolerance; the message chosen by status; witness/stats default to the
    pd certificate's)."""
    msg = {Status.CERTIFIED: certified, Status.REFUTED: refuted}.get(c.status, otherwise)
    return Certificate(condition, c.status, margin=c.margin, witness=dict(c.witness if witness is None else witness),
                       tolerance=dict(c.tolerance), stats=dict(c.stats if stats is None else stats), message=msg)
