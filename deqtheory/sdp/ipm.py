r"""A structured primal–dual interior-point method for the diagonal-multiplier LMIs of havens2023.

Problem family (dual/"LMI" form), with one dense PSD block of order ``N`` and a few linear
inequalities:

.. math::
    \max_{y=(\lambda,\tau)\in\mathbb R^{n+1}}\; b^\top y\quad\text{s.t.}\quad
    S(y) = C + \sum_{i<n}\lambda_i A_i + \tau D \succeq 0,\qquad s(y) = c_\ell + A_\ell y \ge 0,

where :math:`A_i = J e_i b_i^\top + b_i e_i^\top J^\top` (``J`` = the first ``n`` coordinates of
:math:`\mathbb R^N`, :math:`b_i` = column ``i`` of an ``(N, n)`` matrix ``B``) and ``D = diag(dvec)``.
Every LMI of :mod:`deqtheory.sdp` has this form:

* (3):  ``B = I − Wᵀ`` (column i is :math:`e_i - W_{i,:}^\top`), ``D = −I``: :math:`S = M(\gamma) - tI`;
* (10), min L ("μ-form", P = LΛ, μ = L², FACTS.md): ``B = [I − Wᵀ; Uᵀ]``, ``C = diag(−GᵀG, 0)``,
  ``D = diag(0, I_d)``: :math:`S = \begin{bmatrix} M(P) - G^\top G & PU\\ U^\top P & \mu I\end{bmatrix}`;
* (4) at fixed L: ``B = [I − Wᵀ; Uᵀ; 0]``, ``C = [[0, 0, Gᵀ], [0, L I, 0], [G, 0, L I]]``, ``D = −I``.

Primal: :math:`\min \langle C, X\rangle + c_\ell^\top x` s.t. :math:`\mathcal A(X) + A_\ell^\top x = -b`,
:math:`X \succeq 0, x \ge 0`, with :math:`\mathcal A(X)_i = \mathrm{tr}(A_i X)`. We keep the dual
iterate exactly feasible (S is always *computed* as S(y) and kept ≻ 0), the primal infeasible-start.

**Search direction** (HKM; Helmberg–Rendl–Vanderbei–Wolkowicz 1996, Kojima–Shindoh–Hara 1997,
Monteiro 1997) with Mehrotra's predictor–corrector: with :math:`Y = S^{-1}`,

.. math:: \Delta X = \mathrm{sym}\big(\sigma\mu Y - X - X\,\Delta S\,Y - R\big),\quad \Delta S = \mathcal A^*(\Delta y),

and :math:`H\Delta y = b + \mathcal A(\sigma\mu Y - R) + A_\ell^\top(\sigma\mu/s - r)` where ``R``/``r`` are
the Mehrotra second-order terms (zero in the predictor) and the Schur matrix is
:math:`H_{ij} = \mathrm{tr}(A_i X A_j Y) + (A_\ell^\top \mathrm{diag}(x/s) A_\ell)_{ij}`.

**Structured Schur matrix** (the point of this module). For :math:`A_i = e_i b_i^\top + b_i e_i^\top`
and symmetric X, Y, expanding the four products,

.. math:: \mathrm{tr}(A_i X A_j Y) = (b_i^\top X e_j)(b_j^\top Y e_i) + (b_i^\top X b_j)(e_j^\top Y e_i)
          + (e_i^\top X e_j)(b_j^\top Y b_i) + (e_i^\top X b_j)(e_j^\top Y b_i).

With :math:`P = (XB)_{1:n,:}`, :math:`Q = (YB)_{1:n,:}` (so :math:`P_{ji} = e_j^\top X b_i`):

.. math:: H_{\lambda\lambda} = P^\top\circ Q + P\circ Q^\top + (B^\top X B)\circ Y_{nn} + X_{nn}\circ(B^\top Y B),

where ∘ is the elementwise product and :math:`X_{nn}` the leading n×n block. Each term costs
O(N²n) — one Newton step is O(N³) instead of the O(n²N³) of a generic solver. The τ column is
:math:`H_{i\tau} = \mathrm{tr}(A_i\,XDY)`, :math:`H_{\tau\tau} = d^\top(X\circ Y)d`.
The formula is checked against the dense definition in tests/test_sdp.py.

Step lengths: maximal steps from the smallest eigenvalue of :math:`L^{-1}\Delta L^{-\top}` (L the
Cholesky factor) by Lanczos on the operator (two BLAS triangular solves per step; 30 steps for the
corrector, 12 for the predictor, whose steps only set σ; exact for N ≤ 30; never an N³
eigendecomposition), damped by :math:`0.9 + 0.09\min(\alpha_p, \alpha_d)` (as in SDPT3).
Stopping: relative gap :math:`(\langle X,S\rangle + x^\top s)/(1+|b^\top y|)` and relative primal
infeasibility both ``≤ tol``.
"""
from __future__ import annotations

import dataclasses
import enum
import math
import time
from typing import Optional, Tuple

import os
import numpy as np
_DEBUG = bool(os.environ.get('IPM_DEBUG'))
import scipy.linalg as sla

__all__ = ["IPMStatus", "IPMResult", "StructuredLMI", "solve_structured", "schur_matrix_dense"]


class IPMStatus(enum.Enum):
    OPTIMAL = "optimal"
    MAX_ITER = "max_iter"
    NUMERICAL = "numerical_stall"
    START_INFEASIBLE = "start_infeasible"


@dataclasses.dataclass(frozen=True)
class StructuredLMI:
    """Data of one problem of the family above. ``Al`` is (q, n+1), ``cl`` is (q,)."""

    C: np.ndarray
    B: np.ndarray
    dvec: np.ndarray
    b: np.ndarray
    Al: np.ndarray
    cl: np.ndarray

    @property
    def n(self) -> int:
        return self.B.shape[1]

    @property
    def N(self) -> int:
        return self.C.shape[0]

    def S(self, y: np.ndarray) -> np.ndarray:
        """S(y) = C + Σ λ_i A_i + τ D (exactly the matrix the constraint asks to be PSD)."""
        n = self.n
        lam, tau = y[:n], y[n]
        S = self.C.copy()
        Bl = self.B * lam[None, :]
        S[:, :n] += Bl
        S[:n, :] += Bl.T
        S[np.diag_indices_from(S)] += tau * self.dvec
        return S

    def dS(self, dy: np.ndarray) -> np.ndarray:
        """𝒜*(Δy) (no constant term)."""
        n = self.n
        Bl = self.B * dy[:n][None, :]
        out = np.zeros_like(self.C)
        out[:, :n] += Bl
        out[:n, :] += Bl.T
        out[np.diag_indices_from(out)] += dy[n] * self.dvec
        return out

    def A(self, Z: np.ndarray) -> np.ndarray:
        """𝒜(Z)_i = tr(A_i Z) for a (not necessarily symmetric) Z."""
        n = self.n
        out = np.empty(n + 1)
        out[:n] = np.einsum("ki,ki->i", self.B, Z[:, :n]) + np.einsum("ik,ki->i", Z[:n, :], self.B)
        out[n] = float(self.dvec @ np.diag(Z))
        return out

    def slack(self, y: np.ndarray) -> np.ndarray:
        return self.cl + self.Al @ y


@dataclasses.dataclass(frozen=True)
class IPMResult:
    y: np.ndarray
    X: np.ndarray
    status: IPMStatus
    iterations: int
    gap: float
    rel_gap: float
    primal_infeasibility: float
    dual_objective: float
    primal_objective: float
    time: float
    history: Tuple[Tuple[float, float, float], ...]


def schur_matrix(P: StructuredLMI, X: np.ndarray, Y: np.ndarray, XB: Optional[np.ndarray] = None) -> np.ndarray:
    r"""H_ij = tr(A_i X A_j Y) for the structured basis (see the module docstring).

    The τ column is :math:`H_{i\tau} = \mathrm{tr}(A_i X D Y) = \sum_k X_{ik} d_k (YB)_{ki} + \sum_k (XB)_{ki} d_k Y_{ki}`
    (O(Nn), no N³ product)."""
    n = P.n
    B = P.B
    d = P.dvec
    if XB is None:
        XB = X @ B
    YB = Y @ B
    Pm = XB[:n, :]
    Qm = YB[:n, :]
    H = np.empty((n + 1, n + 1))
    H[:n, :n] = Pm.T * Qm + Pm * Qm.T + (B.T @ XB) * Y[:n, :n] + X[:n, :n] * (B.T @ YB)
    col = np.einsum("ik,k,ki->i", X[:n, :], d, YB) + np.einsum("ki,k,ki->i", XB, d, Y[:, :n])
    H[:n, n] = col
    H[n, :n] = col
    H[n, n] = float(d @ ((X * Y) @ d))
    return H


def schur_matrix_dense(P: StructuredLMI, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Dense oracle for :func:`schur_matrix`: materialise every A_i (tests only; O(n²N³))."""
    n = P.n
    mats = []
    for i in range(n + 1):
        e = np.zeros(n + 1)
        e[i] = 1.0
        mats.append(P.dS(e))
    H = np.empty((n + 1, n + 1))
    for i in range(n + 1):
        for j in range(n + 1):
            H[i, j] = np.trace(mats[i] @ X @ mats[j] @ Y)
    return H


#: Up to this order L⁻¹DL⁻ᵀ is formed explicitly and Lanczos runs to the full dimension (exact);
#: above, the operator is only applied (two BLAS triangular solves per step, O(N²)).
_EXACT_MAX_N = 30
_LANCZOS_STEPS = 30
_PREDICTOR_STEPS = 12


def _lanczos_min(matvec, N: int, steps: int) -> float:
    """Smallest eigenvalue estimate of a symmetric operator: Lanczos with full reorthogonalisation
    from a fixed start vector, minus the residual bound |β_m s_m| of the smallest Ritz pair
    (so the estimate errs towards *smaller* eigenvalues, i.e. shorter steps)."""
    m = min(steps, N)
    V = np.empty((m + 1, N))
    v = np.cos(0.7 * np.arange(N) + 0.3)      # deterministic, not aligned with coordinate axes
    v /= np.linalg.norm(v)
    V[0] = v
    alpha = np.zeros(m)
    beta = np.zeros(m)
    k = 0
    for k in range(m):
        w = matvec(V[k])
        alpha[k] = float(V[k] @ w)
        w = w - V[:k + 1].T @ (V[:k + 1] @ w)
        w = w - V[:k + 1].T @ (V[:k + 1] @ w)   # twice is enough (Giraud et al. 2005)
        beta[k] = float(np.linalg.norm(w))
        if beta[k] <= 1e-13 * max(1.0, abs(alpha[k])):
            break
        V[k + 1] = w / beta[k]
    k += 1
    theta, s = sla.eigh_tridiagonal(alpha[:k], beta[:k - 1])
    return float(theta[0]) - abs(beta[k - 1] * s[-1, 0])


def _max_step(Lc: np.ndarray, D: np.ndarray, steps: int = 30) -> float:
    """Largest α ≤ ∞ with LLᵀ + αD ⪰ 0 (L lower Cholesky factor): α = −1/λ_min(L⁻¹DL⁻ᵀ).

    Lanczos (as in SDPT3's step-length routine) on L⁻¹DL⁻ᵀ: for N ≤ 30 formed explicitly, N steps
    (exact); above, 30 steps on the operator v ↦ L⁻¹D(L⁻ᵀv) (two BLAS ``trsv`` and one product per
    step, O(N²); forming L⁻¹DL⁻ᵀ would cost 4N³). No eigendecomposition: LAPACK's threaded
    eigensolvers are very slow for small N on a loaded machine. An over-long step is caught by the Cholesky of the new iterate
    (backtracking in :func:`solve_structured`)."""
    N = Lc.shape[0]
    if N <= _EXACT_MAX_N:
        Li, info = sla.lapack.dtrtri(Lc, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"dtrtri failed (info={info})")
        T = Li @ D @ Li.T
        T = 0.5 * (T + T.T)
        lmin = _lanczos_min(lambda v: T @ v, N, N)
    else:
        LF = np.asfortranarray(Lc)
        trsv = sla.blas.dtrsv

        def mv(v: np.ndarray) -> np.ndarray:
            u = trsv(LF, v, lower=1, trans=1)         # L⁻ᵀ v
            return trsv(LF, D @ u, lower=1, trans=0)  # L⁻¹ D L⁻ᵀ v

        lmin = _lanczos_min(mv, N, steps)
    return math.inf if lmin >= 0 else -1.0 / lmin


def _chol_inverse(Lc: np.ndarray) -> np.ndarray:
    """(LLᵀ)⁻¹ from the lower Cholesky factor with LAPACK potri (⅔N³ flops instead of 2N³).

    Precondition: ``Lc`` has exact zeros above the diagonal (as returned by ``np.linalg.cholesky``)."""
    if Lc.shape[0] < 400:   # small: trtri + one product (potri is slow for small N with threaded BLAS)
        Li, info = sla.lapack.dtrtri(Lc, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"dtrtri failed (info={info})")
        out = Li.T @ Li
        return 0.5 * (out + out.T)
    inv, info = sla.lapack.dpotri(Lc, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed (info={info})")
    out = inv + inv.T      # potri fills the lower triangle; the upper one keeps the factor's zeros
    out[np.diag_indices_from(out)] *= 0.5
    return out


def _max_step_lp(v: np.ndarray, dv: np.ndarray) -> float:
    neg = dv < 0
    if not np.any(neg):
        return math.inf
    return float(np.min(-v[neg] / dv[neg]))


def _chol(A: np.ndarray) -> Optional[np.ndarray]:
    try:
        return np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None


def solve_structured(P: StructuredLMI, y0: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100) -> IPMResult:
    """Run the HKM Mehrotra predictor–corrector from the strictly feasible dual point ``y0``.

    Per iteration: Choleskys of X and S, S⁻¹ by potri, the Schur matrix (O(N²n)), two products
    X·(ΔS·S⁻¹) (predictor, corrector) and one for the Mehrotra term (reusing ΔS·S⁻¹), four step
    lengths (Lanczos for N ≥ 160). Steps that would leave the cone (Cholesky fails) are halved.
    """
    t0 = time.perf_counter()
    n, N = P.n, P.N
    y = np.array(y0, dtype=np.float64)
    S = P.S(y)
    s = P.slack(y)
    LS = _chol(S)
    if LS is None or np.any(s <= 0):
        return IPMResult(y, np.zeros_like(S), IPMStatus.START_INFEASIBLE, 0, math.inf, math.inf, math.inf,
                         float(P.b @ y), math.nan, time.perf_counter() - t0, ())
    Y = _chol_inverse(LS)
    q = s.shape[0]
    mu0 = 1.0 / max(float(np.trace(Y)) + float(np.sum(1.0 / s)), 1e-300) * (N + q)
    X = mu0 * Y
    x = mu0 / s
    _x0 = os.environ.get('IPM_X0')
    if _x0 == 'eye':
        X = (mu0 * (N + q) / (float(np.trace(S)) + float(np.sum(s)))) * np.eye(N) * float(os.environ.get('IPM_X0F', '1'))
        x = np.full(q, X[0, 0])
    elif _x0 == 'mix':
        c = mu0 * (N + q) / (float(np.trace(S)) + float(np.sum(s)))
        X = 0.5 * (X + c * np.eye(N)); x = 0.5 * (x + c)
    LX = _chol(X)
    bnorm = 1.0 + float(np.linalg.norm(P.b))
    history = []
    status = IPMStatus.MAX_ITER
    best = None
    it = 0
    for it in range(1, max_iter + 1):
        gap = float(np.vdot(X, S)) + float(x @ s)
        mu = gap / (N + q)
        rp = -P.b - P.A(X) - P.Al.T @ x
        dobj = float(P.b @ y)
        pobj = float(np.vdot(P.C, X)) + float(P.cl @ x)
        rel_gap = gap / (1.0 + abs(dobj))
        pinf = float(np.linalg.norm(rp)) / bnorm
        history.append((rel_gap, pinf, dobj))
        best = (y.copy(), X, gap, rel_gap, pinf, dobj, pobj)
        if rel_gap <= tol and pinf <= tol:
            status = IPMStatus.OPTIMAL
            break
        if LX is None:
            status = IPMStatus.NUMERICAL
            break
        H = schur_matrix(P, X, Y) + P.Al.T @ ((x / s)[:, None] * P.Al)
        H = 0.5 * (H + H.T)
        try:
            cH = sla.cho_factor(H, check_finite=False)
        except np.linalg.LinAlgError:
            status = IPMStatus.NUMERICAL
            break

        def direction(sig_mu: float, R: Optional[np.ndarray], r: Optional[np.ndarray]):
            T = sig_mu * Y if R is None else sig_mu * Y - R
            t = sig_mu / s if r is None else sig_mu / s - r
            rhs = P.b + P.A(T) + P.Al.T @ t
            dy = sla.cho_solve(cH, rhs, check_finite=False)
            dS = P.dS(dy)
            ds = P.Al @ dy
            dSY = dS @ Y
            dX = T - X - X @ dSY
            dX = 0.5 * (dX + dX.T)
            dx = t - x - x * ds / s
            return dy, dS, ds, dX, dx, dSY

        # predictor
        dy, dS, ds, dX, dx, dSY = direction(0.0, None, None)
        # predictor step lengths only set σ: a cheaper (12-step, conservative) Lanczos estimate
        ap = min(1.0, _max_step(LX, dX, _PREDICTOR_STEPS), _max_step_lp(x, dx))
        ad = min(1.0, _max_step(LS, dS, _PREDICTOR_STEPS), _max_step_lp(s, ds))
        # ⟨X + a_p ΔX, S + a_d ΔS⟩ expanded (no N×N temporaries)
        mu_aff = (float(np.vdot(X, S)) + ad * float(np.vdot(X, dS)) + ap * float(np.vdot(dX, S))
                  + ap * ad * float(np.vdot(dX, dS)) + float((x + ap * dx) @ (s + ad * ds))) / (N + q)
        _e = float(os.environ.get('IPM_EXPON', '3'))
        expon = max(_e, 3.0 * min(1.0, ap, ad) ** 2) if os.environ.get('IPM_SIGRULE') else 3.0
        sigma = min(1.0, max(0.0, (mu_aff / mu) ** expon))
        # corrector (Mehrotra term R = ΔX ΔS S⁻¹ reuses ΔS S⁻¹)
        R = dX @ dSY
        r = dx * ds / s
        dy, dS, ds, dX, dx, _ = direction(sigma * mu, R, r)
        del R, dSY
        ap = min(_max_step(LX, dX), _max_step_lp(x, dx))
        ad = min(_max_step(LS, dS), _max_step_lp(s, ds))
        _d0 = float(os.environ.get('IPM_D0', '0.9')); _d1 = float(os.environ.get('IPM_D1', '0.09'))
        damp = _d0 + _d1 * min(1.0, ap, ad)
        if _DEBUG:
            def ex(Lc, D):
                Li = sla.lapack.dtrtri(Lc, lower=1)[0]; T = Li @ D @ Li.T; l = np.linalg.eigvalsh(0.5*(T+T.T))[0]
                return math.inf if l >= 0 else -1/l
            print(f"it {it} sigma {sigma:.3e} ap {ap:.4f} (ex {ex(LX,dX):.4f} lp {_max_step_lp(x,dx):.4f}) ad {ad:.4f} (ex {ex(LS,dS):.4f} lp {_max_step_lp(s,ds):.4f}) damp {damp:.4f}")
        ap = min(1.0, damp * ap)
        ad = min(1.0, damp * ad)
        y_new = y + ad * dy
        S_new = P.S(y_new)
        s_new = P.slack(y_new)
        LS_new = _chol(S_new)
        while (LS_new is None or np.any(s_new <= 0)) and ad > 1e-12:
            ad *= 0.5
            y_new = y + ad * dy
            S_new = P.S(y_new)
            s_new = P.slack(y_new)
            LS_new = _chol(S_new)
        if LS_new is None or ad <= 1e-12:
            status = IPMStatus.NUMERICAL
            break
        X_new = X + ap * dX
        x_new = x + ap * dx
        LX_new = _chol(X_new)
        while (LX_new is None or np.any(x_new <= 0)) and ap > 1e-12:
            ap *= 0.5
            X_new = X + ap * dX
            x_new = x + ap * dx
            LX_new = _chol(X_new)
        if ap < 1e-12 and ad < 1e-12:
            status = IPMStatus.NUMERICAL
            break
        y, S, s, LS, X, x, LX = y_new, S_new, s_new, LS_new, X_new, x_new, LX_new
        Y = _chol_inverse(LS)
    if best is None:  # max_iter < 1
        return IPMResult(y, X, IPMStatus.MAX_ITER, 0, math.inf, math.inf, math.inf, float(P.b @ y), math.nan,
                         time.perf_counter() - t0, ())
    yb, Xb, gap, rel_gap, pinf, dobj, pobj = best
    if status is not IPMStatus.OPTIMAL:
        # report the current (feasible) dual iterate
        yb = y
    return IPMResult(yb, Xb, status, it, gap, rel_gap, pinf, float(P.b @ yb), pobj,
                     time.perf_counter() - t0, tuple(history))
