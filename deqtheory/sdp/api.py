r"""Public SDP certificates: well-posedness (3), Lipschitz (4)/(10) at a given L, minimal L by (10).

Every function returns a :class:`~deqtheory.certificates.Certificate`; none returns a bool, and an
infeasible LMI or a failing solver is a *status*, never an exception (only bad input raises).

Soundness rule: ``Status.CERTIFIED`` only after :func:`deqtheory.sdp.lmi.verify_wellposed_witness`
/ :func:`~deqtheory.sdp.lmi.verify_lipschitz_witness` proved the LMI from the stored witness with
numpy alone (verified Cholesky + a rounding bound for forming the LMI matrix). A solver's output
is only a *search result*: when it fails verification we back off (see :func:`_backoff`) and report
the L that was actually proved.
"""
from __future__ import annotations

import math
import time
import warnings
from typing import Any, Dict, Optional, Tuple

import numpy as np

from .._validate import as_positive_diagonal, as_scalar, as_square
from ..certificates import Certificate, Status
from ..verified import gamma as _gamma
from ..verified import verified_pd_at_shift
from . import ipm as _ipm
from . import problems as _pb
from .lmi import (LIPSCHITZ_LMI, lipschitz_block_matrix, validate_problem, verify_lipschitz_refutation,
                  verify_lipschitz_witness, verify_wellposed_witness, w_error_term)
from . import minimal as _mn
from .refute import factor_psd, verify_wellposed_refutation

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "sdp_wellposed", "lipschitz_certificate", "min_lipschitz"]

#: Backends: the structured interior-point method of :mod:`deqtheory.sdp.ipm` and three cvxpy solvers.
BACKENDS = ("structured", "cvxopt", "clarabel", "scs")
#: Default backend (measured, docs/sdp.md and benchmarks/results/sdp.json): the structured IPM is the
#: fastest at every n we measured and the only one that reaches n = 1024; CVXOPT is the fastest
#: cvxpy backend.
DEFAULT_BACKEND = "structured"

#: Tolerance of the (3) solve made only to obtain a well-posedness witness / back-off anchor.
_ANCHOR_TOL = 1e-4

_CVX_SOLVER = {"cvxopt": "CVXOPT", "clarabel": "CLARABEL", "scs": "SCS"}


def _solver_options(backend: str, tol: float) -> Dict[str, Any]:
    if backend == "cvxopt":
        # CVXOPT stops with a singular KKT system ("SolverError") when asked for < 1e-8 (measured)
        t = max(tol, 1e-8)
        return {"abstol": t, "reltol": t, "feastol": t, "max_iters": 200}
    if backend == "clarabel":
        return {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol, "max_iter": 200}
    if backend == "scs":
        return {"eps_abs": max(tol, 1e-9), "eps_rel": max(tol, 1e-9), "max_iters": 200000}
    return {}


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        from ..errors import DomainError
        raise DomainError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    return backend


def _run_cvx(prob: Any, backend: str, tol: float) -> Tuple[str, Dict[str, Any]]:
    """Solve a cvxpy problem; return (outcome, stats) with outcome in optimal/inaccurate/infeasible/error."""
    import cvxpy as cp
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            prob.solve(solver=_CVX_SOLVER[backend], **_solver_options(backend, tol))
    except (cp.error.SolverError, ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        return "error", {"backend": backend, "time": time.perf_counter() - t0, "error": repr(exc)}
    st = prob.status
    stats = {"backend": backend, "time": time.perf_counter() - t0, "solver_status": str(st),
             "solver_warnings": [str(w.message) for w in caught]}
    ss = getattr(prob, "solver_stats", None)
    if ss is not None:
        stats["iterations"] = ss.num_iters
        stats["solve_time"] = ss.solve_time
    if st == cp.OPTIMAL:
        return "optimal", stats
    if st == cp.OPTIMAL_INACCURATE:
        return "inaccurate", stats
    if st in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE, cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
        return "infeasible", stats
    return "error", stats


def _gershgorin_lower(M: np.ndarray) -> float:
    """Gershgorin lower bound min_i (M_ii − Σ_{j≠i}|M_ij|) ≤ λ_min(M) (O(N²); used for start points)."""
    a = np.abs(M)
    return float(np.min(np.diag(M) + np.diag(a) - np.sum(a, axis=1)))


def _ipm_stats(r: _ipm.IPMResult) -> Dict[str, Any]:
    return {"backend": "structured", "time": r.time, "iterations": r.iterations,
            "solver_status": r.status.value, "rel_gap": r.rel_gap,
            "primal_infeasibility": r.primal_infeasibility}


def _ipm_outcome(r: _ipm.IPMResult) -> str:
    if r.status is _ipm.IPMStatus.OPTIMAL:
        return "optimal"
    if r.status is _ipm.IPMStatus.START_INFEASIBLE:
        return "error"
    return "inaccurate"


# ------------------------------------------------------------------------------------------ (3)

def _solve_wellposed(W: np.ndarray, backend: str, tol: float):
    """Return (outcome, gamma, t, Z, stats) for max t s.t. M(γ) ⪰ tI, γ ≥ 0, Σγ ≤ n."""
    n = W.shape[0]
    if backend == "structured":
        P = _pb.structured_wellposed(W)
        g = 0.5 * np.ones(n)
        M = 2 * np.diag(g) - g[:, None] * W - (g[:, None] * W).T
        y0 = np.concatenate([g, [_gershgorin_lower(M) - 1.0]])
        try:
            r = _ipm.solve_structured(P, y0, tol=tol)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            return "error", None, math.nan, None, {"backend": backend, "error": repr(exc)}
        return _ipm_outcome(r), r.y[:n], float(r.y[n]), r.X, _ipm_stats(r)
    prob, v = _pb.cvx_wellposed(W)
    outcome, stats = _run_cvx(prob, backend, tol)
    if outcome == "error" or v["gamma"].value is None:
        return ("error" if outcome != "infeasible" else outcome), None, math.nan, None, stats
    Z = v["lmi"].dual_value
    return outcome, np.asarray(v["gamma"].value, dtype=float).ravel(), float(v["t"].value), \
        (None if Z is None else np.asarray(Z, dtype=float)), stats


def sdp_wellposed(W: Any, *, backend: str = DEFAULT_BACKEND, tol: float = 1e-9, w_error: float = 0.0) -> Certificate:
    r"""Certificate for havens2023 Prop 2.1, eq. (3): ∃ diagonal Γ ≻ 0 with :math:`2\Gamma-\Gamma W-W^\top\Gamma\succ 0`.

    Solves :math:`\max t` s.t. :math:`2\Gamma-\Gamma W-W^\top\Gamma\succeq tI`, γ ≥ 0, tr Γ ≤ n
    (normalisation: the LMI is homogeneous in Γ; we store γ rescaled so that **tr Γ = n**, i.e.
    mean(γ) = 1). The certificate's ``margin`` is a *proved* lower bound on
    :math:`\lambda_{\min}(2\Gamma-\Gamma W-W^\top\Gamma)` for the stored γ; witness ``gamma`` (1-d).

    Statuses: CERTIFIED (margin > 0 proved); REFUTED (witness ``V``: Z = VVᵀ with
    diag((I−W)Z) ≤ 0 proved — then no diagonal Γ ≻ 0 works, see :mod:`deqtheory.sdp.refute`);
    INCONCLUSIVE (neither could be proved, e.g. t* ≈ 0); SOLVER_ERROR.
    Conventions: ΓW scales the rows of W; W acts on column vectors. ``w_error``: a proved bound on
    ‖W_exact − W‖₂ when the model's exact W is not the given float matrix (parametric files); every
    proof then covers W_exact (:func:`deqtheory.sdp.lmi.w_error_term`).

    >>> import numpy as np
    >>> c = sdp_wellposed(np.array([[0.5, 2.0], [0.0, 0.5]]))
    >>> c.certified and c.verify(W=np.array([[0.5, 2.0], [0.0, 0.5]])).certified
    True
    """
    W = as_square("W", W)
    backend = _check_backend(backend)
    tol = as_scalar("tol", tol, positive=True)
    n = W.shape[0]
    outcome, g, t, Z, stats = _solve_wellposed(W, backend, tol)
    base_tol = {"solver_tol": tol}
    if outcome == "error":
        return Certificate("sdp_wellposed", Status.SOLVER_ERROR, margin=math.nan, tolerance=base_tol, stats=stats,
                           message="solver failed on (3); nothing is claimed")
    if g is not None and np.all(np.isfinite(g)) and t > 0:
        g = np.maximum(g, 0.0)
        if np.sum(g) > 0:
            g = g * (n / float(np.sum(g)))
            v = verify_wellposed_witness(W, g, w_error=w_error)
            if v.certified:
                return v.replace(tolerance={**dict(v.tolerance), **base_tol},
                                 residuals={**dict(v.residuals), "t_solver": t},
                                 stats={**stats, **dict(v.stats)})
    if Z is not None and t <= 0:
        V = factor_psd(Z)
        if V.shape[1] > 0:
            ref = verify_wellposed_refutation(W, V, w_error=w_error)
            if ref.status is Status.REFUTED:
                return ref.replace(residuals={**dict(ref.residuals), "t_solver": t}, stats=stats,
                                   tolerance=base_tol)
    return Certificate("sdp_wellposed", Status.INCONCLUSIVE, margin=-math.inf,
                       witness={} if g is None else {"gamma": g}, tolerance=base_tol,
                       residuals={"t_solver": t}, stats=stats,
                       message=f"(3) neither proved nor refuted (solver margin t* = {t:.3g}, outcome {outcome})")


# ------------------------------------------------------------------------------- anchors, backoff

def _anchor(W: np.ndarray, U: np.ndarray, G: np.ndarray, g: np.ndarray, tg: float) -> Tuple[np.ndarray, float]:
    r"""A strictly feasible point of the block LMI F from a (3)-witness γ with M(γ) ⪰ t_γ I, t_γ > 0.

    With λ₀ = sγ, s = ‖G‖/‖ΓU‖: M(λ₀) ⪰ s t_γ I and GᵀG + Λ₀UUᵀΛ₀ ⪯ 2‖G‖² I, so F(λ₀, L) ≻ 0 for
    every L > 2‖G‖‖ΓU‖/t_γ; we take L₀ = 4‖G‖‖ΓU‖/t_γ (Schur complement)."""
    nG = float(np.linalg.norm(G, 2))
    nGU = float(np.linalg.norm(g[:, None] * U, 2))
    s = nG / nGU
    return s * g, 4.0 * nG * nGU / tg


def _quick_pd(F: np.ndarray, err: float) -> bool:
    """One verified Cholesky at a shift of twice the a-priori rounding loss (cheap pre-screen)."""
    N = F.shape[0]
    c = 2 * _gamma(N + 1) / (1 - 2 * _gamma(N + 1))
    shift = 2.0 * (c * float(np.sum(np.maximum(np.diag(F), 0))) + err) + 1e-300
    return verified_pd_at_shift(F, shift, abs_err=err).certified


def _backoff(W, U, G, lam, L, anchor: Optional[Tuple[np.ndarray, float]], condition: str, w_error: float = 0.0,
             ug: Tuple[float, float] = (0.0, 0.0)):
    r"""Smallest step along the segment (λ, L) → anchor (λ₀, L₀) whose block LMI is *proved* ≻ 0.

    F is affine in (λ, L), so F((1−θ)(λ,L) + θ(λ₀,L₀)) ⪰ (1−θ)F(λ,L) + θF(λ₀,L₀): moving towards a
    strictly feasible anchor makes a (near-)feasible witness strictly feasible. L is also bumped by a
    relative 10⁻¹² (the conversion P → Λ = P/L is not exact). Returns (certificate, θ) or (None, nan).
    ``ug`` = (U_error, G_error): the proof also covers every U, G within them (:func:`w_error_term`).
    """
    thetas = [0.0, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0]
    for th in thetas:
        if th > 0 and anchor is None:
            break
        if th == 0:
            lt, Lt = lam, L
        else:
            lt = (1 - th) * lam + th * anchor[0]
            Lt = (1 - th) * L + th * anchor[1]
        Lt = Lt * (1 + 1e-12)
        if np.any(lt <= 0) or not Lt > 0:
            continue
        F, err = lipschitz_block_matrix(W, U, G, lt, Lt)
        if not _quick_pd(F, err + w_error_term(lt, w_error, *ug)):
            continue
        cert = verify_lipschitz_witness(W, U, G, lt, Lt, condition=condition, w_error=w_error, u_error=ug[0],
                                        g_error=ug[1])
        if cert.certified:
            return cert, th
    return None, math.nan


# ------------------------------------------------------------------------------- well-posedness

def _wellposedness(W: np.ndarray, wellposed: Optional[Certificate], backend: str, tol: float, w_error: float = 0.0,
                   fallback: bool = False):
    """Return (source certificate or None, anchor γ/t or None, note). With ``fallback``, a (3) solve that
    fails (SOLVER_ERROR) on ``backend`` is retried on the other backends (:data:`_FALLBACKS`)."""
    own = None
    if wellposed is not None and not isinstance(wellposed, Certificate):
        from ..errors import DTypeError
        raise DTypeError(f"wellposed: expected a Certificate or None, got {type(wellposed).__name__}")
    if wellposed is not None and wellposed.certified and wellposed.condition == "sdp_wellposed" \
            and "gamma" in wellposed.witness:
        own = wellposed
    else:
        n = W.shape[0]
        ident = verify_wellposed_witness(W, np.ones(n), w_error=w_error)  # Γ = I works for every monotone W
        # Only *a* proved Γ is needed here (premise of Thm 3.1 and back-off anchor), not the
        # optimal one: solve (3) to a loose tolerance (about half the interior-point iterations).
        own = ident if ident.certified else sdp_wellposed(W, backend=backend, tol=max(tol, _ANCHOR_TOL),
                                                          w_error=w_error)
        if not own.certified and tol < _ANCHOR_TOL:   # t* may be tiny: retry at full accuracy
            own = sdp_wellposed(W, backend=backend, tol=tol, w_error=w_error)
        if fallback and own.status is Status.SOLVER_ERROR:
            for be in _FALLBACKS:
                if be != backend and (be == "structured" or n <= _FALLBACK_MAX_ORDER):
                    own = sdp_wellposed(W, backend=be, tol=tol, w_error=w_error)
                    if own.status is not Status.SOLVER_ERROR:
                        break
    source = wellposed if (wellposed is not None and wellposed.certified) else (own if own.certified else None)
    anchor = (np.asarray(own.witness["gamma"], dtype=float), float(own.margin)) if own.certified else None
    return source, anchor, own


def _wp_fields(source: Optional[Certificate]) -> Dict[str, Any]:
    if source is None:
        return {}
    out: Dict[str, Any] = {"wellposed_condition": source.condition}
    if source.condition == "sdp_wellposed" and "gamma" in source.witness:
        out["gamma"] = np.asarray(source.witness["gamma"], dtype=float)
        out["wellposed_margin"] = float(source.margin)
    return out


# --------------------------------------------------------------------------- (4)/(10) at given L

def _solve_strict(W, U, G, L, backend, tol):
    n = W.shape[0]
    if backend == "structured":
        P = _pb.structured_strict(W, U, G, L)
        lam0 = np.full(n, 1e-2 * max(float(np.linalg.norm(G, 2)), 1e-300) / max(float(np.linalg.norm(U, 2)), 1e-300))
        F, _ = lipschitz_block_matrix(W, U, G, lam0, L)
        y0 = np.concatenate([lam0, [_gershgorin_lower(F) - 1.0]])
        try:
            r = _ipm.solve_structured(P, y0, tol=tol)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            return "error", None, math.nan, {"backend": backend, "error": repr(exc)}, None
        return _ipm_outcome(r), r.y[:n], float(r.y[n]), _ipm_stats(r), r.X
    prob, v = _pb.cvx_strict(W, U, G, L)
    outcome, stats = _run_cvx(prob, backend, tol)
    if outcome in ("error", "infeasible") or v["lam"].value is None:
        return ("error" if outcome != "infeasible" else outcome), None, math.nan, stats, None
    Z = v["lmi"].dual_value
    return (outcome, np.asarray(v["lam"].value, dtype=float).ravel(), float(v["t"].value), stats,
            None if Z is None else np.asarray(Z, dtype=float))


def lipschitz_certificate(W: Any, U: Any, G: Any, L: Any, *, strict: bool = True, lam: Any = None,
                          wellposed: Optional[Certificate] = None, backend: str = DEFAULT_BACKEND,
                          tol: float = 1e-9) -> Certificate:
    c = _lipschitz_certificate(W, U, G, L, strict=strict, lam=lam, wellposed=wellposed, backend=backend, tol=tol)
    return c.replace(stats={**dict(c.stats), "lmi": "(4)" if strict else "(10)"})


def _lipschitz_certificate(W: Any, U: Any, G: Any, L: Any, *, strict: bool = True, lam: Any = None,
                           wellposed: Optional[Certificate] = None, backend: str = DEFAULT_BACKEND,
                           tol: float = 1e-9) -> Certificate:
    r"""Certificate that the DEQ z = σ(Wz + Ux + b), y = Gz + b_y is L-Lipschitz (ℓ2, x → y).

    * ``strict=True`` — havens2023 Prop 2.2, eq. (4) (condition ``"lipschitz_lmi"``, ``stats["lmi"] = "(4)"``): ∃ Λ ≻ 0
      diagonal with :math:`2\Lambda-\Lambda W-W^\top\Lambda-\tfrac1L G^\top G-\tfrac1L\Lambda UU^\top\Lambda\succ 0`;
      implies well-posedness and L-Lipschitz.
    * ``strict=False`` — havens2023 Thm 3.1, eq. (10) (condition ``"lipschitz_lmi"``, ``stats["lmi"] = "(10)"``): the
      same matrix ⪰ 0, valid **only for a well-posed model**; well-posedness comes from
      ``wellposed`` (a CERTIFIED certificate, e.g. ``"monotone"`` or ``"sdp_wellposed"``) or is
      computed with :func:`sdp_wellposed`; its source is recorded in ``witness["wellposed_condition"]``
      (and its Γ in ``witness["gamma"]`` for (3)).

    Both are checked in the block form :math:`F(\lambda, L)` (:mod:`deqtheory.sdp.lmi`). Floating
    point can only prove *strict* definiteness, so a CERTIFIED answer always proves F ≻ 0, i.e. (4)
    at this L (which implies (10)). Without ``lam`` we search the Λ maximising
    :math:`\lambda_{\min}(F(\lambda, L))`; with ``lam`` (a positive diagonal) we only verify it.
    ``margin`` = proved lower bound on :math:`\lambda_{\min}(F(\lambda, L))` (absolute scale: F
    contains the fixed blocks L·I and G).
    """
    W, U, G = validate_problem(W, U, G)
    L = as_scalar("L", L, positive=True)
    backend = _check_backend(backend)
    tol = as_scalar("tol", tol, positive=True)
    n = W.shape[0]
    condition = LIPSCHITZ_LMI
    wp_extra: Dict[str, Any] = {}
    if not strict:
        source, _, own = _wellposedness(W, wellposed, backend, tol)
        if source is None:
            return Certificate(condition, Status.INCONCLUSIVE, margin=-math.inf, stats={"wellposed_status": own.status.value},
                               message="havens2023 Thm 3.1 needs a well-posed model; well-posedness could not be "
                                       f"certified ({own.message})")
        wp_extra = _wp_fields(source)
    stats: Dict[str, Any] = {"backend": backend}
    t_solver = math.nan
    Z = None
    if lam is None:
        outcome, lam_s, t_solver, stats, Z = _solve_strict(W, U, G, L, backend, tol)
        if outcome == "error":
            return Certificate(condition, Status.SOLVER_ERROR, margin=math.nan, witness=wp_extra, stats=stats,
                               message="solver failed; nothing is claimed")
        if lam_s is None or not np.all(np.isfinite(lam_s)):
            return Certificate(condition, Status.INCONCLUSIVE, margin=-math.inf, witness=wp_extra, stats=stats,
                               message=f"solver returned no multiplier (outcome {outcome})")
        lam_v = np.maximum(lam_s, 0.0)
        if not np.all(lam_v > 0):
            lam_v = lam_v + 1e-300  # cannot be certified anyway; keep the shape
    else:
        lam_v = as_positive_diagonal("lam", lam, n=n)
    cert = verify_lipschitz_witness(W, U, G, lam_v, L, condition=condition)
    if not cert.certified and Z is not None and t_solver < 0:
        # the dual matrix of max t s.t. F(λ, L) ⪰ tI is a counter-witness (lmi.verify_lipschitz_refutation)
        V = factor_psd(Z)
        if V.shape[1] > 0:
            ref = verify_lipschitz_refutation(W, U, G, L, V, condition=condition)
            if ref.status is Status.REFUTED:
                return ref.replace(witness={**dict(ref.witness), **wp_extra},
                                   residuals={**dict(ref.residuals), "t_solver": t_solver},
                                   tolerance={"solver_tol": tol}, stats=stats)
    status = cert.status
    message = cert.message
    if not cert.certified and t_solver == t_solver and t_solver < 0:
        message = f"the LMI has no strictly feasible Λ at L = {L:.6g} (solver margin {t_solver:.3g}); " + message
    if not strict:
        message += f"; well-posedness from {wp_extra.get('wellposed_condition')!r} (havens2023 Thm 3.1)"
    return cert.replace(status=status, witness={**dict(cert.witness), **wp_extra},
                        residuals={**dict(cert.residuals), "t_solver": t_solver},
                        tolerance={**dict(cert.tolerance), "solver_tol": tol},
                        stats={**stats, **dict(cert.stats)}, message=message)


# --------------------------------------------------------------------------------------- min L

#: Backends tried after the requested one when its L is not proved minimal (cvxpy ones only up to
#: :data:`_FALLBACK_MAX_ORDER`; SCS is left out: first-order, its optimum is too loose to help).
_FALLBACKS = ("structured", "clarabel", "cvxopt")
#: Largest LMI order n + d for which the generic cvxpy backends are tried as fallbacks (measured:
#: about 10 s for Clarabel at n + d = 200 on one core).
_FALLBACK_MAX_ORDER = 200


def _solve_min_l(W, U, G, anchor, backend, tol):
    """Solve the μ-form on (W, U, G) (already scaled). Returns (outcome, lam, L, stats, L_lower_estimate, X)
    with X the dual (primal-side) matrix of the LMI, used for a proved lower bound."""
    n = W.shape[0]
    if backend == "structured":
        P = _pb.structured_min_l(W, U, G)
        lam0, L0 = anchor
        y0 = np.concatenate([L0 * lam0, [L0 * L0]])
        try:
            with np.errstate(all="ignore"):     # a breakdown is a status (NUMERICAL), never a warning
                r = _ipm.solve_structured(P, y0, tol=tol)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            return "error", None, math.nan, {"backend": backend, "error": repr(exc)}, math.nan, None
        mu = float(r.y[n])
        Ls = math.sqrt(mu) if mu > 0 else math.nan
        lower = math.sqrt(max(-r.primal_objective, 0.0)) if r.primal_objective == r.primal_objective else math.nan
        return _ipm_outcome(r), r.y[:n] / Ls, Ls, _ipm_stats(r), lower, r.X
    prob, v = _pb.cvx_min_l(W, U, G)
    outcome, stats = _run_cvx(prob, backend, tol)
    if outcome in ("error", "infeasible") or v["p"].value is None or v["mu"].value is None:
        return ("error" if outcome != "infeasible" else outcome), None, math.nan, stats, math.nan, None
    mu = float(v["mu"].value)
    Ls = math.sqrt(mu) if mu > 0 else math.nan
    Z = v["lmi"].dual_value
    return (outcome, np.asarray(v["p"].value, dtype=float).ravel() / Ls, Ls, stats, math.nan,
            None if Z is None else np.asarray(Z, dtype=float))


def _min_l_attempt(W, U, G, alpha, beta, anchor_s, backend, tol, w_error=0.0, ug=(0.0, 0.0)) -> Dict[str, Any]:
    """One backend's try: the solve, the back-off to a proved L' and the proved lower bound from its dual.

    Returns a dict: ``backend``, ``outcome``, ``cert`` (CERTIFIED or None), ``L_solver``, ``theta``,
    ``L_lower`` (proved, 0.0 if none), ``refutation`` (its certificate or None), ``stats``. With ``w_error`` /
    ``ug`` ≠ 0 (W, U, G computed from stored arrays) both the witness and the dual refutation are proved for every
    W, U, G within those errors (the stored model)."""
    Us, Gs = U / alpha, G / beta
    outcome, lam_s, L_s, stats, lower_s, X = _solve_min_l(W, Us, Gs, anchor_s, backend, tol)
    att: Dict[str, Any] = {"backend": backend, "outcome": outcome, "cert": None, "L_solver": math.nan,
                           "theta": math.nan, "L_lower": 0.0, "refutation": None, "stats": dict(stats)}
    if outcome == "error" or lam_s is None or not (L_s == L_s) or not np.all(np.isfinite(lam_s)):
        return att
    lam = np.maximum(lam_s, 0.0) * (beta / alpha)
    L_solver = L_s * alpha * beta
    anchor = (anchor_s[0] * (beta / alpha), anchor_s[1] * alpha * beta)
    t0 = time.perf_counter()
    cert, theta = _backoff(W, U, G, lam, L_solver, anchor, LIPSCHITZ_LMI, w_error, ug)
    L_low, ref = _mn.proved_lower_bound(W, U, G, X, L_s, alpha, beta, w_error, *ug)
    att.update(cert=cert, L_solver=L_solver, theta=theta, L_lower=L_low, refutation=ref, lam=lam)
    att["stats"].update({"L_solver": L_solver, "L_lower_estimate": lower_s * alpha * beta,
                         "verify_time": time.perf_counter() - t0, "anchor_L": anchor[1]})
    return att


def _attempt_summary(att: Dict[str, Any]) -> Dict[str, Any]:
    c = att["cert"]
    return {"backend": att["backend"], "outcome": att["outcome"],
            "solver_status": att["stats"].get("solver_status", att["stats"].get("error")),
            "L_solver": att["L_solver"], "L_proved": float(c.witness["L"]) if c is not None else math.inf,
            "backoff_theta": att["theta"], "L_lower": att["L_lower"]}


def _ug_widened(cert: Optional[Certificate], W, U, G, w_error: float, ug: Tuple[float, float]) -> Optional[Certificate]:
    """``cert`` (a proved witness (Λ, L) for W within ``w_error``) re-proved for every U, G within ``ug`` at the
    first L·(1 + δ), δ ∈ (0, 10⁻⁹, 10⁻⁶, 10⁻³), that verifies (raising L with Λ fixed only adds
    (L' − L)·diag(0, I, I), so the Schur complement of F grows); ``None`` when none does (or ``cert`` is None)."""
    if cert is None or not any(ug):
        return cert
    for step in (0.0, 1e-9, 1e-6, 1e-3):
        fresh = verify_lipschitz_witness(W, U, G, cert.witness["lam"], float(cert.witness["L"]) * (1.0 + step),
                                         condition=cert.condition, w_error=w_error, u_error=ug[0], g_error=ug[1])
        if fresh.certified:
            return fresh.replace(witness={**dict(cert.witness), **dict(fresh.witness)}, stats={**dict(cert.stats), **dict(fresh.stats)})
    return None


def min_lipschitz(W: Any, U: Any, G: Any, *, backend: str = DEFAULT_BACKEND,
                  wellposed: Optional[Certificate] = None, tol: float = 1e-9, fallback: bool = True,
                  w_error: float = 0.0, u_error: float = 0.0, g_error: float = 0.0) -> Certificate:
    c = _min_lipschitz(W, U, G, backend=backend, wellposed=wellposed, tol=tol, fallback=fallback, w_error=w_error,
                       u_error=u_error, g_error=g_error)
    return c.replace(stats={**dict(c.stats), "lmi": "(10) min L"})


def _min_lipschitz(W: Any, U: Any, G: Any, *, backend: str = DEFAULT_BACKEND,
                   wellposed: Optional[Certificate] = None, tol: float = 1e-9, fallback: bool = True,
                   w_error: float = 0.0, u_error: float = 0.0, g_error: float = 0.0) -> Certificate:
    r"""The smallest L certifiable by havens2023 Thm 3.1 / eq. (10) (condition ``"lipschitz_lmi"``, ``stats["lmi"] = "(10) min L"``).

    Solves :math:`\min\mu` over the "μ-form" (:mod:`deqtheory.sdp.problems`) — jointly linear in
    (P = LΛ, μ = L²) — on the rescaled data :math:`\tilde U = U/\|U\|_2`, :math:`\tilde G = G/\|G\|_2`
    (exact rescaling law: :math:`L(W, \alpha\tilde U, \beta\tilde G) = \alpha\beta L(W,\tilde U,\tilde G)`,
    :math:`\Lambda \mapsto (\beta/\alpha)\Lambda`), then **proves** F(Λ, L') ≻ 0 for a reported
    :math:`L' \ge L^*`: at the optimum (10) is only PSD, so we move along the segment to a strictly
    feasible anchor built from a (3)-witness Γ (see :func:`_anchor`) until the verified Cholesky
    succeeds.

    **Minimality is proved, never taken from the solver** (:mod:`deqtheory.sdp.minimal`): the dual
    matrix of the solve gives a refutation of (10) at some :math:`L_{\rm low} < L'` (re-checked with
    numpy), and the result is reported minimal (``stats["minimal"]``) only when
    :math:`(L' - L_{\rm low})/L' \le` ``MINIMAL_GAP`` (10⁻⁶). When the requested backend stalls, fails
    or leaves a larger gap (with ``w_error`` > 0: only when it did not converge), the others of
    ``("structured", "clarabel", "cvxopt")`` are tried in turn
    (``fallback=False`` turns this off; the cvxpy ones only for n + d ≤ 200), and the smallest proved
    L' and the largest proved L_low over all tries are kept. The closed-form witness Λ = cΓ of the
    well-posedness certificate (pabbaraju2021 Thm 1 for Γ = I, havens2023 Thm 3.3 otherwise) is
    proved too, so the reported L is never above ≈ 2‖G‖‖ΓU‖/t (``stats["source"]`` says which won).

    ``witness["L"]`` is the **proved** L'. ``stats``: ``minimal`` (bool), ``L_lower`` (proved lower
    bound on the minimal L of (10); 0.0 when none), ``gap_rel`` = (L' − L_low)/L', ``source``
    (``"sdp:<backend>"`` or ``"closed_form"``), ``backend`` (the backend of the winning solve),
    ``attempts`` (one summary per backend tried), ``L_solver`` (that solver's unproved optimum),
    ``backoff_rel`` = L'/L_solver − 1; ``L_lower_estimate`` a (not rigorous) lower estimate from the
    structured solver's primal objective.

    Well-posedness (the premise of Thm 3.1) is recorded as ``witness["wellposed_condition"]``: the
    given ``wellposed`` certificate if it is CERTIFIED, else (3) solved here (Γ stored in
    ``witness["gamma"]``). Since a proved F ≻ 0 is (4), the result is also valid by Prop 2.2.

    ``w_error``: a proved bound on ‖W_exact − W‖₂ when the model's exact W is not the float ``W`` given
    (a parametric file: W computed from stored parameters, :meth:`Parametrization.forward_error_bound`).
    Every proof (upper witness, refutation, closed-form witness, (3)) then covers every W' within that
    distance, so the result is about the stored model (``tolerance["W_error"]``, re-used by ``verify``).
    ``u_error`` / ``g_error``: the same for U and G (computed from stored arrays,
    :func:`deqtheory.formats.stored_rounding`): the upper witnesses (SDP back-off and closed form) are proved
    for every U, G within them (``tolerance["U_error"]`` / ``["G_error"]``, re-read by ``verify``); no lower
    bound is claimed then (the dual refutation is about the given U, G), so the result is not reported minimal.

    Statuses: CERTIFIED (possibly not minimal: see ``stats["minimal"]``); INCONCLUSIVE ((3) has no
    strictly feasible Γ — then no L can be proved in floating point — or verification failed);
    NOT_APPLICABLE (U = 0 or G = 0: y does not depend on x, L = 0 is not attained by a strict LMI);
    SOLVER_ERROR (every backend failed and no closed-form witness was proved).
    """
    W, U, G = validate_problem(W, U, G)
    backend = _check_backend(backend)
    tol = as_scalar("tol", tol, positive=True)
    alpha = float(np.linalg.norm(U, 2))
    beta = float(np.linalg.norm(G, 2))
    if (alpha == 0 and u_error) or (beta == 0 and g_error):
        return Certificate(LIPSCHITZ_LMI, Status.INCONCLUSIVE, margin=-math.inf,
                           tolerance={"U_error": float(u_error), "G_error": float(g_error)},
                           message="the computed U or G is 0 but the stored one is only known within "
                                   "U_error / G_error: no LMI witness is built, nothing is claimed")
    if alpha == 0 or beta == 0:
        return Certificate(LIPSCHITZ_LMI, Status.NOT_APPLICABLE, margin=math.nan,
                           message="U = 0 or G = 0: the output does not depend on x (Lipschitz constant 0)")
    w_error = as_scalar("w_error", w_error, nonnegative=True)
    ug = (as_scalar("u_error", u_error, nonnegative=True), as_scalar("g_error", g_error, nonnegative=True))
    source, anchor_g, own = _wellposedness(W, wellposed, backend, tol, w_error, fallback)
    wp_extra = _wp_fields(source)
    if anchor_g is None:
        status = Status.SOLVER_ERROR if own.status is Status.SOLVER_ERROR else Status.INCONCLUSIVE
        return Certificate(LIPSCHITZ_LMI, status, margin=-math.inf, witness=wp_extra,
                           stats={"wellposed_status": own.status.value},
                           message="(3) has no proved strictly feasible Γ, so (10) has no strictly feasible point "
                                   f"and no L can be proved in floating point ({own.message})")
    g, tg = anchor_g
    anchor_s = _anchor(W, U / alpha, G / beta, g, tg)
    order = [backend]
    if fallback:
        small = W.shape[0] + U.shape[1] <= _FALLBACK_MAX_ORDER
        order += [b for b in _FALLBACKS if b != backend and (b == "structured" or small)]
    attempts = []
    best, best_low = None, (0.0, None)
    for be in order:
        att = _min_l_attempt(W, U, G, alpha, beta, anchor_s, be, tol, w_error, ug)
        attempts.append(att)
        if att["cert"] is not None and (best is None or att["cert"].witness["L"] < best["cert"].witness["L"]):
            best = att
        if att["L_lower"] > best_low[0]:
            best_low = (att["L_lower"], att["refutation"])
        if best is not None and _mn.relative_gap(float(best["cert"].witness["L"]), best_low[0]) <= _mn.MINIMAL_GAP:
            break
        if (w_error or any(ug)) and att["outcome"] == "optimal" and att["cert"] is not None:
            break        # the gap comes from the rounding of W, U, G, which no other solver closes
    closed = _ug_widened(_mn.closed_form_witness(W, U, G, g, w_error), W, U, G, w_error, ug)
    summaries = [_attempt_summary(a) for a in attempts]
    stats: Dict[str, Any] = {} if best is None else dict(best["stats"])
    stats.update({"wellposed_condition": wp_extra.get("wellposed_condition"), "scale_U": alpha, "scale_G": beta,
                  "attempts": summaries, "backend": (best or attempts[0])["backend"]})
    L_sdp = float(best["cert"].witness["L"]) if best is not None else math.inf
    if closed is not None and float(closed.witness["L"]) < L_sdp:
        cert, src = closed, "closed_form"
        L_cf = float(closed.witness["L"])
        how = (f"closed-form witness Λ = cΓ of the well-posedness certificate (L = 2‖G‖‖ΓU‖/t), smaller than the "
               f"SDP's {L_sdp:.10g}" if best is not None else "closed-form witness Λ = cΓ (every SDP solve failed)")
        stats.update({"backoff_theta": best["theta"] if best else math.nan, "closed_form_L": L_cf})
    elif best is not None:
        cert, src = best["cert"], "sdp:" + best["backend"]
        how = (f"{best['backend']} solver optimum {best['L_solver']:.10g}, back-off "
               f"{float(cert.witness['L']) / best['L_solver'] - 1:.2e} relative")
        stats.update({"backoff_theta": best["theta"], "backoff_rel": float(cert.witness["L"]) / best["L_solver"] - 1.0,
                      "closed_form_L": math.inf if closed is None else float(closed.witness["L"])})
    else:
        failed = ", ".join(f"{s['backend']}: {s['outcome']}" for s in summaries)
        return Certificate(LIPSCHITZ_LMI, Status.SOLVER_ERROR, margin=math.nan, witness=wp_extra, stats=stats,
                           message=f"every solve of the min-L SDP failed or could not be verified ({failed}); "
                                   "nothing is claimed")
    Lp = float(cert.witness["L"])
    gap = _mn.relative_gap(Lp, best_low[0])
    minimal = gap <= _mn.MINIMAL_GAP
    stats.update({"minimal": minimal, "L_lower": best_low[0], "gap_rel": gap, "source": src})
    tried = " → ".join(f"{s['backend']} ({s['outcome']})" for s in summaries)
    head = (f"minimal L = {Lp:.10g} (proved gap {gap:.1e}: {_mn.lower_bound_summary(*best_low)}; {how})"
            if minimal else
            f"L = {Lp:.10g} proved, NOT proved minimal (gap {gap:.1e}: {_mn.lower_bound_summary(*best_low)}; "
            f"{how}; tried {tried})")
    return cert.replace(witness={**dict(cert.witness), **wp_extra},
                        tolerance={**dict(cert.tolerance), "solver_tol": tol},
                        stats={**stats, **dict(cert.stats)},
                        message=(f"{head}: " + cert.message +
                                 f"; well-posedness from {wp_extra.get('wellposed_condition')!r}"))
