r"""Fixed-point solvers for the ReLU DEQ :math:`z = \sigma(Wz + Ux + b)`, :math:`\sigma = \mathrm{ReLU}`.

Every solver works on a batch: inputs ``X`` of shape ``(batch, d)`` give ``Z`` of shape
``(batch, n)`` (a 1-d ``x`` gives a 1-d ``z``). We write :math:`v = Ux + b` (the *injection*,
row ``V[k] = U @ X[k] + b``) and :math:`N(z) = \sigma(Wz + v)`.

Stopping criterion (all methods)
    the **fixed-point residual** of the returned point,

    .. math:: r(z) = \max_{k \in \text{batch}} \|z_k - \sigma(W z_k + v_k)\|,

    with :math:`\|\cdot\| = \ell_2` per sample (default, ``norm=2``) or :math:`\ell_\infty`
    (``norm="inf"``). ``status is CONVERGED`` ⇔ :math:`r(z) \le` ``tol`` for the returned
    ``z`` (the residual is recomputed from ``z`` before returning). Default
    ``tol = 1e-9 · max(1, max_k ‖v_k‖)`` (same norm); the value used is stored in the result.
    ``residual_history[k]`` is :math:`r` after ``k`` iterations (entry 0: the starting point).

Methods (``method=``)
    ``"fb"``  forward–backward / damped iteration (pabbaraju2021 eq. 3; wei2022 eq. A.1):
        :math:`z \leftarrow \sigma((1-\alpha)z + \alpha(Wz + v))`. With :math:`m = \lambda_{\min}
        (\mathrm{sym}(I-W))` and :math:`L = \|I-W\|_2` the linear part :math:`I - \alpha(I-W)` has
        :math:`\|\cdot\|_2 \le \rho = \sqrt{1 - 2\alpha m + \alpha^2 L^2}` (pabbaraju2021 Prop. 1),
        a contraction for :math:`0 < \alpha < 2m/L^2`. Default :math:`\alpha = m/L^2`
        (:math:`\rho = \sqrt{1 - m^2/L^2}`, the smallest bound). If :math:`m \le 0` the result
        has status ``NOT_MONOTONE`` and nothing is iterated, unless ``alpha`` is given (forced).
    ``"lambda_fb"``  the Λ-scaled iteration of wei2022 Lemma A.1, eq. (A.3):
        :math:`z \leftarrow \sigma((I - \alpha\Lambda)z + \alpha\Lambda(Wz + v))` for a positive
        diagonal Λ (``Lambda=``, default :math:`I`) with :math:`\mathrm{sym}(\Lambda - \Lambda W)
        \succ 0`. Same analysis with :math:`A = \Lambda(I - W)`: :math:`m_A = \lambda_{\min}
        (\mathrm{sym} A)`, :math:`L_A = \|A\|_2`, default :math:`\alpha = m_A/L_A^2`.
    ``"alpha_avg"``  the α-average iteration of jafarpour2022 Thm 5.1(2):
        :math:`z \leftarrow (1-\alpha)z + \alpha\sigma(Wz + v)` — averaging *after* σ, unlike
        ``"fb"``. If :math:`\mu = \mu_{\infty,[\eta]^{-1}}(W) < 1` (``eta=``, default ones), every
        :math:`\alpha \in (0, (1 - \min_i [W_{ii}]^-)^{-1}]` with :math:`[W_{ii}]^- = \min(W_{ii},0)`
        contracts :math:`\|\cdot\|_{\infty,[\eta]^{-1}}` with factor
        :math:`\rho = 1 - \alpha(1 - \max(\mu, 0))`; the default α is the largest one. If
        :math:`\mu \ge 1` the status is ``NOT_CONTRACTIVE`` unless ``alpha`` is forced.
    ``"pr"``  Peaceman–Rachford (Winston & Kolter 2020; iteration as unrolled in pabbaraju2021
        App. D.2), with :math:`V_\alpha = (I + \alpha(I - W))^{-1}` LU-factored once:

        .. math:: u^{k+1/2} = 2z^k - u^k,\quad z^{k+1/2} = V_\alpha(u^{k+1/2} + \alpha v),\quad
                  u^{k+1} = 2z^{k+1/2} - u^{k+1/2},\quad z^{k+1} = \sigma(u^{k+1}).

        (Expanding gives App. D.2's :math:`u^{k+1} = u^k - 2z^k + 4V_\alpha z^k - 2V_\alpha u^k +
        2\alpha V_\alpha v`.) :math:`V_\alpha` is LU-factored once and its inverse formed once from the factors
        and applied to the whole batch by one product per iteration. This is :math:`u \leftarrow R_A R_B u` with :math:`A(z) = (I-W)z - v`,
        :math:`B = N_{\mathbb R^n_{\ge 0}}` (normal cone), :math:`R = 2J - I`,
        :math:`J_B = \sigma`. Any :math:`\alpha > 0` converges when :math:`I - W` is strongly
        monotone; the same iteration converges for Λ-monotone (LBEN) :math:`W`
        (:math:`\mathrm{sym}(\Lambda(I-W)) \succ 0`), because in the inner product
        :math:`\langle x, y\rangle_\Lambda = x^\top\Lambda y` the operator :math:`A` is strongly
        monotone, the normal cone of the orthant is unchanged by a positive diagonal metric (so
        :math:`J_B` is still σ) and the resolvent :math:`(I+\alpha A)^{-1}` does not depend on the
        metric. So we use the *same* resolvent for both; ``Lambda=`` only changes the
        precondition check and the default :math:`\alpha = 1/L` with
        :math:`L = \|\Lambda^{1/2}(I-W)\Lambda^{-1/2}\|_2` (minimises the contraction bound
        :math:`\sqrt{(1 - 2\alpha m + \alpha^2L^2)/(1 + 2\alpha m + \alpha^2L^2)}` of :math:`R_A`).
    ``"anderson"``  Anderson acceleration (type II, memory ``memory``) of :math:`N`. No
        convergence guarantee: non-convergence is reported as ``MAX_ITERATIONS``/``DIVERGED``.
    ``"exact_dag"``  for feedforward (DAG) :math:`W` (:mod:`deqtheory.graph`): one pass of
        back-substitution level by level, exact up to rounding; ``NOT_FEEDFORWARD`` otherwise.
    ``"block"``  block-triangular solve: the SCCs of the dependency graph in topological order
        (:func:`deqtheory.graph.topological_blocks`), each block's small fixed point solved with
        ``method="auto"`` (singletons in closed form: :math:`z_i = \sigma(v_i')/(1 - W_{ii})` for
        :math:`W_{ii} < 1`).
    ``"auto"``  ``exact_dag`` if W is feedforward; else ``pr`` if :math:`m > 0` (monotone); else
        ``alpha_avg`` if :math:`\mu_{\infty}(W) < 1` (η = 1); else ``block`` if the dependency
        graph has more than one SCC; else ``anderson``. The method used is ``result.method``.
        ``alpha`` cannot be combined with ``auto`` / ``block`` / ``anderson`` / ``exact_dag``
        (:class:`DomainError`).

Identity mask (``identity_mask=``, bool (n,), default none)
    Every method solves :math:`z = \phi(Wz + v)` with :math:`\phi_i = \mathrm{id}` on masked
    coordinates and ReLU elsewhere (havens2023 eq. 13 / footnote 3: the SLL skip block). The
    identity is slope-restricted on [0, 1] like ReLU, and it is the resolvent (proximal map) of
    the zero function, just as ReLU is the resolvent of the indicator of :math:`\mathbb R_{\ge0}`;
    so for ``fb``/``lambda_fb``/``pr`` the splitting is the same with :math:`B = N_C`,
    :math:`C = \{z : z_i \ge 0 \text{ for unmasked } i\}` (a product of half-lines and lines, whose
    projection is φ in any diagonal metric) and every convergence statement above holds
    verbatim. ``alpha_avg`` (jafarpour2022 Thm 5.1 needs slopes in [0, 1]), ``exact_dag`` and
    ``block`` (singletons: :math:`z_i = \phi(v_i')/(1 - W_{ii})`) apply φ coordinate-wise; the
    residual and the a-posteriori bounds use φ.

The monotonicity / μ checks here are floating-point *estimates* used to choose a method and α;
they are not certificates (use ``deqtheory.linalg.check_monotone`` etc. for proofs). What a
result certifies is only its recomputed residual.

A-posteriori error bounds (``result.stats``), valid at the returned ``z`` for any method:

* ``error_bound_l2`` when :math:`m > 0`: :math:`\|z_k - z_k^\star\|_2 \le \|r_k\|_2(1 + \|W\|_2/m)`
  where :math:`r_k = z_k - N(z_k)`. Proof: :math:`w = N(z_k)` is the exact fixed point for the
  injection :math:`v + W r_k`, and the fixed point is :math:`1/m`-Lipschitz in :math:`v`
  (pabbaraju2021 Thm 1 with :math:`U = I`).
* ``error_bound_linf`` when :math:`\mu = \mu_{\infty,[\eta]^{-1}}(W) < 1` (alpha_avg):
  :math:`\|z_k - z_k^\star\|_{\infty} \le \eta_{\max}\|r_k\|_{\infty,[\eta]^{-1}}/(1 - \max(\mu,0))`
  (contraction of :math:`N_\alpha` with the largest α of Thm 5.1).

Both use floating-point estimates of m, ‖W‖₂, μ (not proved).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np
import scipy.linalg

from . import graph as _graph
from .certificates import MessageEnum, to_jsonable
from ._validate import as_array, as_matrix, as_positive_diagonal, as_scalar, as_square, as_vector
from .errors import DomainError, DTypeError, ShapeError

__all__ = ["SolverStatus", "FixedPointResult", "solve", "solve_injection", "fixed_point_residual",
           "monotonicity_parameters", "as_identity_mask", "METHODS"]

METHODS = ("fb", "lambda_fb", "alpha_avg", "pr", "anderson", "exact_dag", "block", "auto")


class SolverStatus(MessageEnum):
    """Outcome of a fixed-point solve. ``value`` is the machine name, ``message`` the human one."""

    CONVERGED = ("converged", "the fixed-point residual of the returned z is <= tol")
    MAX_ITERATIONS = ("max_iterations", "the iteration budget ran out before the residual reached tol")
    DIVERGED = ("diverged", "the residual grew beyond divergence_factor x max(initial residual, tol)")
    NONFINITE = ("nonfinite", "an iterate became NaN/Inf (overflow)")
    NOT_MONOTONE = ("not_monotone", "precondition failed: I - W (or Lambda(I - W)) is not strongly monotone "
                                    "(estimate); nothing was iterated - pass alpha= to force the iteration")
    NOT_CONTRACTIVE = ("not_contractive", "precondition failed: mu_inf,[eta]^-1(W) >= 1 (jafarpour2022 Thm 5.1 "
                                          "does not apply); nothing was iterated - pass alpha= to force")
    NOT_FEEDFORWARD = ("not_feedforward", "precondition failed: W has a cycle, the exact DAG solve does not apply")

    @property
    def converged(self) -> bool:
        return self is SolverStatus.CONVERGED

    @property
    def precondition_failed(self) -> bool:
        """True when the method's theory did not apply and nothing was iterated."""
        return self in (SolverStatus.NOT_MONOTONE, SolverStatus.NOT_CONTRACTIVE, SolverStatus.NOT_FEEDFORWARD)

    @property
    def is_failure(self) -> bool:
        """True when the iteration ran and failed numerically."""
        return self in (SolverStatus.DIVERGED, SolverStatus.NONFINITE)


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPointResult:
    """Result of a fixed-point solve (frozen; ``z`` is read-only).

    Attributes: ``z`` ((n,) or (batch, n)), ``status``, ``iterations`` (iterations performed; for
    ``block`` the sum over blocks), ``residual`` (r(z) of the returned z, max over the batch),
    ``residual_history`` (r after each iteration, entry 0 = start), ``time`` (wall seconds),
    ``method`` (the method actually used), ``alpha`` (step used; ``nan`` where none), ``tol``,
    ``norm`` (2 or inf), ``sample_residuals`` (per-sample residuals of ``z``), ``stats``.
    """

    z: np.ndarray
    status: SolverStatus
    iterations: int
    residual: float
    residual_history: np.ndarray
    time: float
    method: str
    alpha: float
    tol: float
    norm: float
    sample_residuals: np.ndarray
    stats: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def converged(self) -> bool:
        """``status is CONVERGED`` (which implies ``residual <= tol``)."""
        return self.status is SolverStatus.CONVERGED

    def to_dict(self, *, arrays: bool = True) -> Dict[str, Any]:
        """JSON-ready dict (``z`` and the history as lists when ``arrays``; enums by value)."""
        d = {"status": self.status.value, "method": self.method, "iterations": self.iterations,
             "residual": self.residual, "tol": self.tol, "norm": "l2" if self.norm == 2 else "linf",
             "alpha": self.alpha, "time": self.time, "converged": self.converged,
             "stats": {k: v for k, v in self.stats.items() if k != "certificate"}}
        if arrays:
            d.update({"z": self.z, "residual_history": self.residual_history,
                      "sample_residuals": self.sample_residuals})
        return to_jsonable(d)

    @property
    def message(self) -> str:
        return (f"{self.method}: {self.status.value} after {self.iterations} iterations, "
                f"residual {self.residual:.3g} (tol {self.tol:.3g}) - {self.status.message}")

    def __repr__(self) -> str:
        return (f"FixedPointResult(method={self.method!r}, status={self.status.value}, iterations={self.iterations}, "
                f"residual={self.residual:.3g}, tol={self.tol:.3g}, z.shape={self.z.shape})")


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------

def _norm_kind(norm: Any) -> float:
    if isinstance(norm, str):
        key = norm.lower()
        if key in ("2", "l2"):
            return 2.0
        if key in ("inf", "linf", "max"):
            return float("inf")
    elif not isinstance(norm, bool):
        try:
            f = float(norm)
        except (TypeError, ValueError):
            f = None
        if f == 2.0:
            return 2.0
        if f == float("inf"):
            return float("inf")
    raise DomainError(f"norm: expected 2 / 'l2' or np.inf / 'inf', got {norm!r}")


def _validate_problem(W: Any, U: Any, b: Any, x: Any) -> Tuple[np.ndarray, np.ndarray, bool]:
    """Return (W, V, was_1d) with V = X Uᵀ + b of shape (batch, n)."""
    W = as_square("W", W)
    n = W.shape[0]
    Um = np.eye(n) if U is None else as_matrix("U", U, shape=(n, None))
    d = Um.shape[1]
    bv = np.zeros(n) if b is None else as_vector("b", b, n=n)
    X = as_array("x", x)
    if X.ndim == 1:
        if X.shape[0] != d:
            raise ShapeError(f"x: expected shape ({d},) to match U of shape {Um.shape}, got {X.shape}")
        return W, (Um @ X + bv)[None, :], True
    if X.ndim == 2:
        if X.shape[1] != d:
            raise ShapeError(f"x: expected shape (batch, {d}) to match U of shape {Um.shape}, got {X.shape}")
        return W, X @ Um.T + bv, False
    raise ShapeError(f"x: expected a (d,) vector or a (batch, d) array, got shape {X.shape}")


def _sample_norms(R: np.ndarray, p: float) -> np.ndarray:
    if p == 2.0:
        return np.sqrt(np.sum(R * R, axis=1)) if R.shape[1] else np.zeros(R.shape[0])
    return np.max(np.abs(R), axis=1) if R.shape[1] else np.zeros(R.shape[0])


def _relu(A: np.ndarray) -> np.ndarray:
    return np.maximum(A, 0.0)


def _act(A: np.ndarray, mask: Optional[np.ndarray]) -> np.ndarray:
    r"""The activation φ: ReLU, except the identity on coordinates with ``mask`` True (``None`` = all ReLU)."""
    if mask is None:
        return np.maximum(A, 0.0)
    return np.where(mask, A, np.maximum(A, 0.0))


def _residuals(W: np.ndarray, V: np.ndarray, Z: np.ndarray, p: float, mask: Optional[np.ndarray] = None) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return _sample_norms(Z - _act(Z @ W.T + V, mask), p)


def _max_res(r: np.ndarray) -> float:
    if r.size == 0:
        return 0.0
    if not np.all(np.isfinite(r)):
        return float("inf") if not np.any(np.isnan(r)) else float("nan")
    return float(np.max(r))


def monotonicity_parameters(W: Any, Lambda: Any = None) -> Tuple[float, float]:
    r"""Floating-point estimates ``(m, L)`` of the strong-monotonicity and Lipschitz constants of
    :math:`I - W` — :math:`m = \lambda_{\min}(\mathrm{sym}(S))`, :math:`L = \|S\|_2` — with
    :math:`S = I - W`, or :math:`S = \Lambda^{1/2}(I - W)\Lambda^{-1/2}` (the Λ-metric, LBEN) when
    ``Lambda`` (positive diagonal) is given. Not a certificate."""
    W = as_square("W", W)
    n = W.shape[0]
    S = np.eye(n) - W
    if Lambda is not None:
        lam = as_positive_diagonal("Lambda", Lambda, n=n)
        s = np.sqrt(lam)
        S = (s[:, None] * S) / s[None, :]
    return _m_L(S)


def _m_L(S: np.ndarray) -> Tuple[float, float]:
    if S.shape[0] == 0:
        return 1.0, 0.0
    m = float(np.linalg.eigvalsh(0.5 * (S + S.T))[0])
    L = float(np.linalg.norm(S, 2))
    return m, L


from .linalg import mu_inf as _mu_inf  # μ∞,[η]⁻¹(W) = max_i W_ii + Σ_{j≠i} (η_j/η_i)|W_ij| (float estimate)


# ----------------------------------------------------------------------------------------------
# the iteration driver
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Run:
    Z: np.ndarray
    status: SolverStatus
    iterations: int
    history: List[float]


def _iterate(step: Callable[[], np.ndarray], W: np.ndarray, V: np.ndarray, Z0: np.ndarray, p: float,
             tol: float, max_iter: int, divergence_factor: float, mask: Optional[np.ndarray] = None) -> _Run:
    """Run ``Z = step()`` until r(Z) <= tol. ``step`` holds its own state and returns the iterate."""
    Z = Z0
    r0 = _max_res(_residuals(W, V, Z, p, mask))
    hist = [r0]
    if r0 <= tol:
        return _Run(Z, SolverStatus.CONVERGED, 0, hist)
    if not np.isfinite(r0):
        return _Run(Z, SolverStatus.NONFINITE, 0, hist)
    limit = divergence_factor * max(r0, tol)
    for k in range(1, max_iter + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            Z = step()
        r = _max_res(_residuals(W, V, Z, p, mask))
        hist.append(r)
        if not np.isfinite(r) or not np.all(np.isfinite(Z)):
            return _Run(Z, SolverStatus.NONFINITE, k, hist)
        if r <= tol:
            return _Run(Z, SolverStatus.CONVERGED, k, hist)
        if r > limit:
            return _Run(Z, SolverStatus.DIVERGED, k, hist)
    return _Run(Z, SolverStatus.MAX_ITERATIONS, max_iter, hist)


def _not_iterated(W: np.ndarray, V: np.ndarray, Z0: np.ndarray, p: float, status: SolverStatus,
                  mask: Optional[np.ndarray] = None) -> _Run:
    return _Run(Z0, status, 0, [_max_res(_residuals(W, V, Z0, p, mask))])


# ----------------------------------------------------------------------------------------------
# methods: each returns (_Run, alpha, stats)
# ----------------------------------------------------------------------------------------------

def _forward_backward(W, V, Z0, p, tol, max_iter, dfac, alpha, lam, identity_mask):
    """Forward–backward splitting z ← φ(Tz + αΛv) with T = I − αΛ(I − W) (``lam=None``: Λ = I and
    T = (1 − α)I + αW); α = m/L² of Λ(I − W) unless forced."""
    n = W.shape[0]
    A = np.eye(n) - W if lam is None else lam[:, None] * (np.eye(n) - W)  # Λ(I − W)
    m, L = _m_L(A)
    stats: Dict[str, Any] = {"m": m, "L": L}
    if lam is not None:
        stats["Lambda"] = lam
    if alpha is None:
        if not m > 0:
            return _not_iterated(W, V, Z0, p, SolverStatus.NOT_MONOTONE, identity_mask), float("nan"), stats
        alpha = m / (L * L)
    else:
        alpha = as_scalar("alpha", alpha, positive=True)
        stats["forced_alpha"] = True
    if m > 0:
        stats["alpha_max"] = 2 * m / (L * L)
        stats["contraction_bound"] = float(np.sqrt(max(0.0, 1 - 2 * alpha * m + alpha ** 2 * L ** 2)))
    if lam is None:
        T, aV = (1 - alpha) * np.eye(n) + alpha * W, alpha * V
    else:
        T, aV = np.eye(n) - alpha * A, alpha * V * lam[None, :]  # (I − αΛ) + αΛW
    TT = T.T.copy()
    state = {"Z": Z0}

    def step():
        state["Z"] = _act(state["Z"] @ TT + aV, identity_mask)
        return state["Z"]

    return _iterate(step, W, V, Z0, p, tol, max_iter, dfac, identity_mask), alpha, stats


def _fb(W, V, Z0, p, tol, max_iter, dfac, alpha=None, identity_mask=None, **_):
    return _forward_backward(W, V, Z0, p, tol, max_iter, dfac, alpha, None, identity_mask)


def _lambda_fb(W, V, Z0, p, tol, max_iter, dfac, alpha=None, Lambda=None, identity_mask=None, **_):
    n = W.shape[0]
    lam = np.ones(n) if Lambda is None else as_positive_diagonal("Lambda", Lambda, n=n)
    return _forward_backward(W, V, Z0, p, tol, max_iter, dfac, alpha, lam, identity_mask)


def _alpha_avg(W, V, Z0, p, tol, max_iter, dfac, alpha=None, eta=None, identity_mask=None, **_):
    n = W.shape[0]
    e = np.ones(n) if eta is None else as_positive_diagonal("eta", eta, n=n)
    mu = _mu_inf(W, e)
    amax = 1.0 / (1.0 - min(float(np.min(np.diag(W))), 0.0))
    stats: Dict[str, Any] = {"mu": mu, "eta": e, "alpha_max": amax}
    if alpha is None:
        if not mu < 1:
            return _not_iterated(W, V, Z0, p, SolverStatus.NOT_CONTRACTIVE, identity_mask), float("nan"), stats
        alpha = amax
    else:
        alpha = as_scalar("alpha", alpha, positive=True, upper=1.0)
        stats["forced_alpha"] = True
    if mu < 1 and alpha <= amax:
        stats["contraction_bound"] = 1.0 - alpha * (1.0 - max(mu, 0.0))
    WT = W.T.copy()
    state = {"Z": Z0}

    def step():
        Z = state["Z"]
        state["Z"] = (1 - alpha) * Z + alpha * _act(Z @ WT + V, identity_mask)
        return state["Z"]

    return _iterate(step, W, V, Z0, p, tol, max_iter, dfac, identity_mask), alpha, stats


def _pr(W, V, Z0, p, tol, max_iter, dfac, alpha=None, Lambda=None, identity_mask=None, **_):
    n = W.shape[0]
    if Lambda is None:
        m, L = _m_L(np.eye(n) - W)
        stats: Dict[str, Any] = {"m": m, "L": L}
    else:
        lam = as_positive_diagonal("Lambda", Lambda, n=n)
        s = np.sqrt(lam)
        m, L = _m_L((s[:, None] * (np.eye(n) - W)) / s[None, :])
        stats = {"m": m, "L": L, "Lambda": lam, "metric": "Lambda"}
    if alpha is None:
        if not m > 0:
            return _not_iterated(W, V, Z0, p, SolverStatus.NOT_MONOTONE, identity_mask), float("nan"), stats
        alpha = 1.0 / L
    else:
        alpha = as_scalar("alpha", alpha, positive=True)
        stats["forced_alpha"] = True
    if m > 0:
        q = 1 + alpha * alpha * L * L
        stats["contraction_bound"] = float(np.sqrt(max(0.0, (q - 2 * alpha * m) / (q + 2 * alpha * m))))
    M = np.eye(n) + alpha * (np.eye(n) - W)
    lu = scipy.linalg.lu_factor(M, check_finite=False)
    # The resolvent is factored once; its inverse is then formed once from the LU factors and
    # applied as one matrix product per iteration for the whole batch (same O(n²) work per
    # right-hand side as two triangular solves, far less call overhead). The residual of the
    # returned z is recomputed from W directly, so resolvent accuracy affects speed, not soundness.
    MinvT = scipy.linalg.lu_solve(lu, np.eye(n), check_finite=False).T.copy()
    aV = alpha * V
    state = {"U": Z0.copy(), "Z": _act(Z0, identity_mask)}  # u⁰ = z⁰; the iteration uses φ(u⁰) (= z⁰ when z⁰ >= 0)

    def step():
        u_half = 2 * state["Z"] - state["U"]
        z_half = (u_half + aV) @ MinvT
        state["U"] = 2 * z_half - u_half
        state["Z"] = _act(state["U"], identity_mask)
        return state["Z"]

    return _iterate(step, W, V, Z0, p, tol, max_iter, dfac, identity_mask), alpha, stats


def _anderson(W, V, Z0, p, tol, max_iter, dfac, memory=5, beta=1.0, reg=1e-10, identity_mask=None, **_):
    memory = int(memory)
    if memory < 1:
        raise DomainError(f"memory: must be >= 1, got {memory}")
    beta = as_scalar("beta", beta, positive=True)
    reg = as_scalar("reg", reg, nonnegative=True)
    B, n = Z0.shape
    WT = W.T.copy()

    def f(Z):
        return _act(Z @ WT + V, identity_mask)

    Xh = np.zeros((B, memory, n))  # ring buffer of iterates x_i
    Fh = np.zeros((B, memory, n))  # ... and of f(x_i)
    state = {"cnt": 0, "pos": 0}

    def push(Z, FZ):
        Xh[:, state["pos"]] = Z
        Fh[:, state["pos"]] = FZ
        state["pos"] = (state["pos"] + 1) % memory
        state["cnt"] = min(state["cnt"] + 1, memory)

    push(Z0, f(Z0))

    def step():
        nk = state["cnt"]
        if nk == 1:
            i = (state["pos"] - 1) % memory
            Znew = beta * Fh[:, i] + (1 - beta) * Xh[:, i]
        else:
            G = Fh[:, :nk] - Xh[:, :nk]  # (B, nk, n)
            GG = G @ np.swapaxes(G, 1, 2)  # (B, nk, nk)
            scale = np.trace(GG, axis1=1, axis2=2) / nk
            H = np.zeros((B, nk + 1, nk + 1))
            H[:, 0, 1:] = 1.0
            H[:, 1:, 0] = 1.0
            H[:, 1:, 1:] = GG + (reg * scale + 1e-300)[:, None, None] * np.eye(nk)[None]
            rhs = np.zeros((B, nk + 1, 1))
            rhs[:, 0, 0] = 1.0
            try:
                coef = np.linalg.solve(H, rhs)[:, 1:, 0]  # (B, nk), sums to 1
            except np.linalg.LinAlgError:
                coef = np.full((B, nk), 1.0 / nk)
            Znew = beta * np.einsum("bk,bkn->bn", coef, Fh[:, :nk]) \
                + (1 - beta) * np.einsum("bk,bkn->bn", coef, Xh[:, :nk])
        push(Znew, f(Znew))
        return Znew

    run = _iterate(step, W, V, Z0, p, tol, max_iter, dfac, identity_mask)
    return run, float("nan"), {"memory": memory, "beta": beta, "reg": reg}


def _exact_dag(W, V, Z0, p, tol, max_iter, dfac, identity_mask=None, **_):
    n = W.shape[0]
    ff = _graph.is_feedforward(W)
    if not ff.certified:
        return _not_iterated(W, V, Z0, p, SolverStatus.NOT_FEEDFORWARD, identity_mask), float("nan"), {"certificate": ff}
    lev = np.asarray(ff.witness["levels"])
    K = int(lev.max()) + 1 if n else 0
    Z = np.zeros_like(V)
    for level in range(K):
        idx = np.nonzero(lev == level)[0]
        Z[:, idx] = _act(Z @ W[idx].T + V[:, idx], None if identity_mask is None else identity_mask[idx])
    r = _max_res(_residuals(W, V, Z, p, identity_mask))
    r0 = _max_res(_residuals(W, V, Z0, p, identity_mask))
    status = SolverStatus.CONVERGED if r <= tol else (
        SolverStatus.NONFINITE if not np.isfinite(r) else SolverStatus.MAX_ITERATIONS)
    return _Run(Z, status, K, [r0, r]), float("nan"), {"levels": K, "certificate": ff}


def _block(W, V, Z0, p, tol, max_iter, dfac, Lambda=None, eta=None, identity_mask=None, **kw):
    n = W.shape[0]
    lam = None if Lambda is None else as_positive_diagonal("Lambda", Lambda, n=n)
    et = None if eta is None else as_positive_diagonal("eta", eta, n=n)
    blocks = _graph.topological_blocks(W)
    nb = len(blocks)
    sub_tol = tol / np.sqrt(nb) if p == 2.0 else tol
    Z = Z0.copy()
    total = 0
    statuses: List[str] = []
    methods: List[str] = []
    worst: Optional[SolverStatus] = None
    r0 = _max_res(_residuals(W, V, Z0, p, identity_mask))
    done = np.zeros(0, dtype=np.intp)
    for blk in blocks:
        # injection seen by the block: v_B + W[B, earlier] z_earlier (later blocks do not enter)
        Vb = V[:, blk] + Z[:, done] @ W[np.ix_(blk, done)].T
        Wbb = W[np.ix_(blk, blk)]
        done = np.concatenate([done, blk])
        bmask = None if identity_mask is None else identity_mask[blk]
        if blk.size == 1 and Wbb[0, 0] < 1:
            # z = φ(W_ii z + v') ⇔ z = φ(v')/(1 − W_ii) for W_ii < 1 (ReLU and identity alike)
            Z[:, blk] = _act(Vb, bmask) / (1.0 - Wbb[0, 0])
            statuses.append("converged")
            methods.append("closed_form")
            continue
        sub = dict(kw)
        if lam is not None:
            sub["Lambda"] = lam[blk]
        if et is not None:
            sub["eta"] = et[blk]
        sub["identity_mask"] = bmask
        run, _, _, used = _dispatch("auto", Wbb, Vb, Z0[:, blk], p, sub_tol, max_iter, dfac, sub, allow_block=False)
        Z[:, blk] = run.Z
        total += run.iterations
        statuses.append(run.status.value)
        methods.append(used)
        if run.status is not SolverStatus.CONVERGED and worst is None:
            worst = run.status
    r = _max_res(_residuals(W, V, Z, p, identity_mask))
    if r <= tol:
        status = SolverStatus.CONVERGED
    elif not np.isfinite(r):
        status = SolverStatus.NONFINITE
    else:
        status = worst if worst is not None else SolverStatus.MAX_ITERATIONS
    stats = {"blocks": nb, "block_sizes": [int(b.size) for b in blocks], "block_statuses": statuses,
             "block_methods": methods}
    return _Run(Z, status, total, [r0, r]), float("nan"), stats


_METHOD_FUNCS: Dict[str, Callable[..., Tuple[_Run, float, Dict[str, Any]]]] = {
    "fb": _fb, "lambda_fb": _lambda_fb, "alpha_avg": _alpha_avg, "pr": _pr, "anderson": _anderson,
    "exact_dag": _exact_dag, "block": _block,
}


def _auto_choice(W: np.ndarray, allow_block: bool = True, Lambda: Any = None) -> str:
    n = W.shape[0]
    if _graph.is_feedforward(W).certified:
        return "exact_dag"
    S = np.eye(n) - W
    if Lambda is not None:
        s = np.sqrt(as_positive_diagonal("Lambda", Lambda, n=n))
        S = (s[:, None] * S) / s[None, :]
    m, _ = _m_L(S)
    if m > 0:
        return "pr"
    if _mu_inf(W, np.ones(n)) < 1:
        return "alpha_avg"
    if allow_block and len(_graph.topological_blocks(W)) > 1:
        return "block"
    return "anderson"


def _dispatch(method: str, W, V, Z0, p, tol, max_iter, dfac, kw, allow_block=True):
    kw = dict(kw)
    used = _auto_choice(W, allow_block, kw.get("Lambda")) if method == "auto" else method
    if method == "auto":
        kw.pop("alpha", None)  # a step size is meaningful for one method only
        if used not in ("pr", "block"):
            kw.pop("Lambda", None)  # Λ is used by auto only through "pr" (Λ-metric)
        if used not in ("alpha_avg", "block"):
            kw.pop("eta", None)
    run, alpha, stats = _METHOD_FUNCS[used](W, V, Z0, p, tol, max_iter, dfac, **kw)
    return run, alpha, stats, used


# ----------------------------------------------------------------------------------------------
# public entry points
# ----------------------------------------------------------------------------------------------

def solve(W: Any, U: Any, b: Any, x: Any, *, method: str = "auto", tol: Optional[float] = None,
          max_iter: Optional[int] = None, alpha: Optional[float] = None, norm: Any = 2,
          z0: Any = None, Lambda: Any = None, eta: Any = None, memory: int = 5,
          divergence_factor: float = 1e6, identity_mask: Any = None) -> FixedPointResult:
    r"""Solve :math:`z = \mathrm{ReLU}(Wz + Ux + b)` for one input ``x`` (d,) or a batch (batch, d).

    Parameters
    ----------
    W : (n, n); U : (n, d) or ``None`` (identity, d = n); b : (n,) or ``None`` (zeros).
    x : (d,) or (batch, d).
    method : one of :data:`METHODS` (see the module docstring for the formulas).
    tol : residual tolerance (default ``1e-9 · max(1, max_k ‖v_k‖)``).
    max_iter : iteration budget (default 10000).
    alpha : step size for ``fb``, ``lambda_fb``, ``alpha_avg``, ``pr``; ``None`` = chosen from theory
        (and the precondition enforced); a given value forces the iteration even when the theory
        does not apply. Passing it with another method raises :class:`DomainError`.
    norm : 2 (per-sample ℓ2, default) or ``"inf"`` — the norm of the residual.
    z0 : starting point, (n,) or (batch, n) (default zeros).
    Lambda : positive diagonal Λ for ``lambda_fb`` (iteration A.3) and ``pr`` (Λ-metric check).
    eta : positive weights η for ``alpha_avg`` (default ones).
    memory : Anderson memory.
    divergence_factor : status DIVERGED once r > divergence_factor · max(r₀, tol).
    identity_mask : bool (n,) or ``None`` — coordinates whose activation is the identity instead
        of ReLU (φ_i = id where True; havens2023 footnote 3). ``None``/all-False: plain ReLU.

    Returns
    -------
    :class:`FixedPointResult` — ``status is CONVERGED`` ⇔ the recomputed residual of ``z`` ≤ ``tol``.

    >>> import numpy as np
    >>> W = np.array([[0.5, 0.2], [-0.2, 0.5]])
    >>> res = solve(W, None, None, np.array([1.0, -1.0]), method="pr")
    >>> res.converged and res.residual <= res.tol
    True
    """
    t0 = time.perf_counter()
    if not isinstance(method, str) or method not in METHODS:
        raise DomainError(f"method: expected one of {METHODS}, got {method!r}")
    W, V, one = _validate_problem(W, U, b, x)
    return _solve_validated(W, V, one, t0, method=method, tol=tol, max_iter=max_iter, alpha=alpha, norm=norm,
                            z0=z0, Lambda=Lambda, eta=eta, memory=memory, divergence_factor=divergence_factor,
                            identity_mask=identity_mask)


def solve_injection(W: Any, v: Any, **kw: Any) -> FixedPointResult:
    """Solve :math:`z = \\mathrm{ReLU}(Wz + v)` for an injection ``v`` (n,) or (batch, n); same options as :func:`solve`."""
    t0 = time.perf_counter()
    method = kw.pop("method", "auto")
    if not isinstance(method, str) or method not in METHODS:
        raise DomainError(f"method: expected one of {METHODS}, got {method!r}")
    W = as_square("W", W)
    n = W.shape[0]
    Varr = as_array("v", v)
    if Varr.ndim not in (1, 2) or Varr.shape[-1] != n:
        raise ShapeError(f"v: expected shape ({n},) or (batch, {n}), got {Varr.shape}")
    one = Varr.ndim == 1
    return _solve_validated(W, Varr[None, :] if one else Varr, one, t0, method=method, **kw)


def _solve_validated(W: np.ndarray, V: np.ndarray, one: bool, t0: float, *, method: str = "auto",
                     tol: Optional[float] = None, max_iter: Optional[int] = None, alpha: Any = None,
                     norm: Any = 2, z0: Any = None, Lambda: Any = None, eta: Any = None, memory: int = 5,
                     divergence_factor: float = 1e6, identity_mask: Any = None) -> FixedPointResult:
    n = W.shape[0]
    mask = as_identity_mask(identity_mask, n)
    B = V.shape[0]
    p = _norm_kind(norm)
    if tol is None:
        tol = 1e-9 * max(1.0, _max_res(_sample_norms(V, p)))
    else:
        tol = as_scalar("tol", tol, positive=True)
    if max_iter is None:
        max_iter = 10_000
    if isinstance(max_iter, (bool, np.bool_)) or int(max_iter) != max_iter or int(max_iter) < 0:
        raise DomainError(f"max_iter: expected a non-negative integer, got {max_iter!r}")
    max_iter = int(max_iter)
    dfac = as_scalar("divergence_factor", divergence_factor, positive=True)
    if z0 is None:
        Z0 = np.zeros((B, n))
    else:
        Z0 = as_array("z0", z0)
        if Z0.ndim == 1 and Z0.shape == (n,):
            Z0 = np.broadcast_to(Z0, (B, n)).copy()
        elif Z0.shape != (B, n):
            raise ShapeError(f"z0: expected shape ({n},) or ({B}, {n}), got {Z0.shape}")
    kw: Dict[str, Any] = {}
    if alpha is not None:
        kw["alpha"] = alpha
    if Lambda is not None:
        kw["Lambda"] = Lambda
    if eta is not None:
        kw["eta"] = eta
    if method in ("anderson", "auto", "block"):
        kw["memory"] = memory
    if method in ("auto", "block", "anderson", "exact_dag") and alpha is not None:
        raise DomainError(f"alpha: a step size is not used by method={method!r} (got alpha={alpha!r}); "
                          f"choose method='fb', 'lambda_fb', 'alpha_avg' or 'pr' to force a step size")
    if method in ("exact_dag",):
        kw = {}
    kw["identity_mask"] = mask
    run, a, stats, used = _dispatch(method, W, V, Z0, p, tol, max_iter, dfac, kw)
    Z = run.Z
    sample_res = _residuals(W, V, Z, p, mask)
    r = _max_res(sample_res)
    status = run.status
    # the returned status must agree with the recomputed residual
    if status is SolverStatus.CONVERGED and not r <= tol:
        status = SolverStatus.MAX_ITERATIONS
    stats = dict(stats)
    stats["requested_method"] = method
    stats.update(_error_bounds(W, V, Z, stats, mask))
    if mask is not None:
        stats["identity_coordinates"] = int(np.count_nonzero(mask))
    Zout = np.array(Z[0] if one else Z)
    Zout.setflags(write=False)
    hist = np.asarray(run.history, dtype=np.float64)
    hist.setflags(write=False)
    sample_res = np.array(sample_res)
    sample_res.setflags(write=False)
    return FixedPointResult(z=Zout, status=status, iterations=run.iterations, residual=r, residual_history=hist,
                            time=time.perf_counter() - t0, method=used, alpha=float(a), tol=float(tol), norm=p,
                            sample_residuals=sample_res, stats=stats)


def _error_bounds(W: np.ndarray, V: np.ndarray, Z: np.ndarray, stats: Mapping[str, Any],
                  mask: Optional[np.ndarray] = None) -> Dict[str, float]:
    out: Dict[str, float] = {}
    if not np.all(np.isfinite(Z)):
        return out
    with np.errstate(over="ignore", invalid="ignore"):
        R = Z - _act(Z @ W.T + V, mask)
    m = stats.get("m")
    if m is not None and "metric" not in stats and "Lambda" not in stats and m > 0:
        w2 = float(np.linalg.norm(W, 2)) if W.size else 0.0
        out["error_bound_l2"] = _max_res(_sample_norms(R, 2.0)) * (1.0 + w2 / m)
    mu = stats.get("mu")
    if mu is not None and mu < 1:
        e = np.asarray(stats["eta"])
        rw = _max_res(np.max(np.abs(R) / e[None, :], axis=1)) if R.shape[1] else 0.0
        out["error_bound_linf"] = float(np.max(e)) * rw / (1.0 - max(mu, 0.0))
    return out


def fixed_point_residual(W: Any, U: Any, b: Any, z: Any, x: Any, *, norm: Any = 2,
                         identity_mask: Any = None) -> "float | np.ndarray":
    r"""Per-sample residual :math:`\|z - \phi(Wz + Ux + b)\|` (ℓ2 or ℓ∞; φ = ReLU except the
    identity where ``identity_mask``); a float for 1-d ``x``."""
    W, V, one = _validate_problem(W, U, b, x)
    n = W.shape[0]
    Z = as_array("z", z)
    if one:
        if Z.shape != (n,):
            raise ShapeError(f"z: expected shape ({n},), got {Z.shape}")
        Z = Z[None, :]
    elif Z.shape != (V.shape[0], n):
        raise ShapeError(f"z: expected shape ({V.shape[0]}, {n}), got {Z.shape}")
    r = _residuals(W, V, Z, _norm_kind(norm), as_identity_mask(identity_mask, n))
    return float(r[0]) if one else r


def as_identity_mask(mask: Any, n: int) -> Optional[np.ndarray]:
    """Validate an identity mask: ``None`` or a bool-like (n,) array; returns ``None`` when no
    coordinate is masked (plain ReLU fast path), else a read-only bool (n,) array."""
    if mask is None:
        return None
    arr = np.asarray(mask)
    if arr.dtype == object or arr.dtype.kind not in "biu":
        raise DTypeError(f"identity_mask: expected a bool array of shape ({n},), got dtype {arr.dtype} shape {arr.shape}")
    if arr.shape != (n,):
        raise ShapeError(f"identity_mask: expected shape ({n},), got {arr.shape}")
    if arr.dtype.kind != "b" and not np.all((arr == 0) | (arr == 1)):
        raise DomainError(f"identity_mask: integer entries must be 0/1, shape {arr.shape}")
    out = arr.astype(bool)
    if not out.any():
        return None
    out.setflags(write=False)
    return out
