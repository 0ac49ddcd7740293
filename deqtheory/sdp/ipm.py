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
Cholesky factor) by Lanczos on the operator (two BLAS triangular solves per step; 15 steps for the
corrector, 6 for the predictor, whose steps only set σ; exact for N ≤ 30; never an N³
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

import numpy as np
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

    @property
    def _dnz(self) -> Tuple[np.ndarray, np.ndarray]:
        """(indices, values) of the nonzero entries of ``dvec``."""
        nz = np.flatnonzero(self.dvec)
        return nz, self.dvec[nz]

    def dSY(self, dy: np.ndarray, Y: np.ndarray, YB: np.ndarray) -> np.ndarray:
        """𝒜*(Δy)·Y from the structure: (BΛ)Y[:n,:] + rows :n += Λ(YB)ᵀ + rows of D (one N×n×N product)."""
        n = self.n
        lam = dy[:n]
        out = (self.B * lam[None, :]) @ Y[:n, :]
        out[:n, :] += lam[:, None] * YB.T
        nz, dn = self._dnz
        if nz.size and dy[n] != 0.0:
            out[nz, :] += (dy[n] * dn)[:, None] * Y[nz, :]
        return out


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
    return _schur(P, X, Y, XB)[0]


def _schur(P: StructuredLMI, X: np.ndarray, Y: np.ndarray, XB: Optional[np.ndarray] = None):
    """:func:`schur_matrix` and the products XB, YB (reused by the search direction).

    Only the nonzero entries of ``dvec`` enter the τ row (min-L: d of N)."""
    n = P.n
    B = P.B
    if XB is None:
        XB = X @ B
    YB = Y @ B
    Pm = XB[:n, :]
    Qm = YB[:n, :]
    H = np.empty((n + 1, n + 1))
    M = Pm * Qm.T                     # Pᵀ∘Q + P∘Qᵀ = M + Mᵀ
    Hn = H[:n, :n]
    np.add(M, M.T, out=Hn)
    M = B.T @ XB
    M *= Y[:n, :n]
    Hn += M
    M = B.T @ YB
    M *= X[:n, :n]
    Hn += M
    nz, dn = P._dnz
    if nz.size:
        col = np.einsum("ik,ki->i", X[:n, nz] * dn, YB[nz, :]) + dn @ (XB[nz, :] * Y[nz, :n])
        H[n, n] = float(dn @ ((X[np.ix_(nz, nz)] * Y[np.ix_(nz, nz)]) @ dn))
    else:
        col = np.zeros(n)
        H[n, n] = 0.0
    H[:n, n] = col
    H[n, :n] = col
    return H, XB, YB


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
#: Lanczos steps inside :func:`solve_structured` (corrector / predictor). The Ritz estimate minus
#: its residual bound errs towards shorter steps; 15 / 6 steps give the same iteration counts as
#: 30 / 12 on benchmarks/sdp.py (n = 64 … 1024), at half the cost.
_CORRECTOR_STEPS = 15
_PREDICTOR_STEPS = 6


def _lanczos_min(matvec, N: int, steps: int) -> float:
    """Smallest eigenvalue estimate of a symmetric operator: Lanczos with full reorthogonalisation
    from a fixed start vector, minus the residual bound |β_m s_m| of the smallest Ritz pair
    (so the estimate errs towards *smaller* eigenvalues, i.e. shorter steps)."""
    m = min(steps, N)
    V = np.empty((m + 1, N))
    v = np.cos(0.7 * np.arange(N) + 0.3)      # deterministic, not aligned with coordinate axes
    V[0] = v / math.sqrt(float(v @ v))
    alpha = np.zeros(m)
    beta = np.zeros(m)
    k = 0
    for k in range(m):
        w = matvec(V[k])
        Vk = V[:k + 1]
        c = Vk @ w
        alpha[k] = float(c[k])
        w -= c @ Vk
        w -= (Vk @ w) @ Vk   # twice is enough (Giraud et al. 2005)
        beta[k] = math.sqrt(float(w @ w))
        if beta[k] <= 1e-13 * max(1.0, abs(alpha[k])):
            break
        np.multiply(w, 1.0 / beta[k], out=V[k + 1])
    k += 1
    theta, s = sla.eigh_tridiagonal(alpha[:k], beta[:k - 1])
    return float(theta[0]) - abs(beta[k - 1] * s[-1, 0])


def _max_step(Lc: np.ndarray, D: np.ndarray, steps: int = 30) -> float:
    """Largest α ≤ ∞ with LLᵀ + αD ⪰ 0 (L lower Cholesky factor): α = −1/λ_min(L⁻¹DL⁻ᵀ).

    Lanczos (as in SDPT3's step-length routine) on L⁻¹DL⁻ᵀ: for N ≤ 30 formed explicitly, N steps
    (exact); above, ``steps`` (default 30) steps on the operator v ↦ L⁻¹D(L⁻ᵀv) (two BLAS ``trsv`` and one product per
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
        LF = Lc if Lc.flags.f_contiguous else np.asfortranarray(Lc)
        trsv = sla.blas.dtrsv
        # D is symmetric: a C-ordered D is handed to BLAS as its (F-ordered) transpose, no copy
        Dt = D.T if D.flags.c_contiguous else D
        gemv = sla.blas.dgemv

        def mv(v: np.ndarray) -> np.ndarray:
            u = trsv(LF, v, lower=1, trans=1)                           # L⁻ᵀ v
            return trsv(LF, gemv(1.0, Dt, u), lower=1, trans=0, overwrite_x=1)  # L⁻¹ D L⁻ᵀ v

        lmin = _lanczos_min(mv, N, steps)
    return math.inf if lmin >= 0 else -1.0 / lmin


def _chol_inverse(Lc: np.ndarray) -> np.ndarray:
    """(LLᵀ)⁻¹ from the lower Cholesky factor with LAPACK potri (⅔N³ flops instead of 2N³ for
    trtri + a product; 1.2 ms vs 1.8 ms at N = 320 with one BLAS thread).

    Precondition: ``Lc`` has exact zeros above the diagonal (as returned by ``np.linalg.cholesky``
    or :func:`_chol`)."""
    inv, info = sla.lapack.dpotri(Lc, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed (info={info})")
    out = inv + inv.T      # potri fills the lower triangle; the upper one keeps the factor's zeros
    out[np.diag_indices_from(out)] *= 0.5
    return out.T if out.flags.f_contiguous else out   # symmetric: hand out the C-ordered view


def _max_step_lp(v: np.ndarray, dv: np.ndarray) -> float:
    neg = dv < 0
    if not np.any(neg):
        return math.inf
    return float(np.min(-v[neg] / dv[neg]))


def _chol(A: np.ndarray) -> Optional[np.ndarray]:
    """Lower Cholesky factor of the symmetric ``A`` (F-ordered, exact zeros above the diagonal), or
    None when A is not numerically PD. LAPACK potrf directly: 4x faster than ``np.linalg.cholesky``
    at N = 320, and the factor is already in the order that trsv/potri want."""
    At = A.T if A.flags.c_contiguous else A      # symmetric: the transpose is the same matrix, F-ordered
    c, info = sla.lapack.dpotrf(At, lower=1, clean=1, overwrite_a=0)
    if info != 0 or not math.isfinite(float(c[-1, -1])):
        return None
    return c


def solve_structured(P: StructuredLMI, y0: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100) -> IPMResult:
    """Run the HKM Mehrotra predictor–corrector from the strictly feasible dual point ``y0``.

    Per iteration: Choleskys of X and S (LAPACK potrf), S⁻¹ by potri, the Schur matrix (O(N²n),
    also giving XB and YB), per direction ΔS·S⁻¹ from the structure (one N×n×N product with YB)
    and X·(ΔS·S⁻¹), one product for the Mehrotra term (reusing ΔS·S⁻¹), four step lengths
    (Lanczos above N = 30). Steps that would leave the cone (Cholesky fails) are halved.
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
        H, XB, YB = _schur(P, X, Y)
        H += P.Al.T @ ((x / s)[:, None] * P.Al)
        H = 0.5 * (H + H.T)
        try:
            cH = sla.cho_factor(H, check_finite=False)
        except np.linalg.LinAlgError:
            status = IPMStatus.NUMERICAL
            break

        def direction(sig_mu: float, R: Optional[np.ndarray], r: Optional[np.ndarray]):
            # ΔX = sym(σμY − R − X − X ΔS Y) = σμY − X − sym(X ΔS Y + R)   (X, Y symmetric)
            if R is None:   # predictor: σμ = 0, R = 0
                t = -x if r is None else -x - r
                rhs = P.b + P.Al.T @ (t + x)
            else:
                t = sig_mu / s - r - x
                rhs = P.b + P.A(sig_mu * Y - R) + P.Al.T @ (t + x)
            dy = sla.cho_solve(cH, rhs, check_finite=False)
            dS = P.dS(dy)
            ds = P.Al @ dy
            dSY = P.dSY(dy, Y, YB)
            K = X @ dSY
            if R is not None:
                K += R
            dX = K + K.T
            dX *= -0.5
            dX -= X
            if R is not None:
                dX += sig_mu * Y
            dx = t - x * ds / s
            return dy, dS, ds, dX, dx, dSY

        # predictor
        dy, dS, ds, dX, dx, dSY = direction(0.0, None, None)
        # predictor step lengths only set σ: a cheaper (6-step, conservative) Lanczos estimate
        ap = min(1.0, _max_step(LX, dX, _PREDICTOR_STEPS), _max_step_lp(x, dx))
        ad = min(1.0, _max_step(LS, dS, _PREDICTOR_STEPS), _max_step_lp(s, ds))
        # ⟨X + a_p ΔX, S + a_d ΔS⟩ expanded (no N×N temporaries)
        mu_aff = (float(np.vdot(X, S)) + ad * float(np.vdot(X, dS)) + ap * float(np.vdot(dX, S))
                  + ap * ad * float(np.vdot(dX, dS)) + float((x + ap * dx) @ (s + ad * ds))) / (N + q)
        sigma = min(1.0, max(0.0, (mu_aff / mu) ** 3))
        # corrector (Mehrotra term R = ΔX ΔS S⁻¹ reuses ΔS S⁻¹)
        R = dX @ dSY
        r = dx * ds / s
        dy, dS, ds, dX, dx, _ = direction(sigma * mu, R, r)
        del R, dSY
        ap = min(_max_step(LX, dX, _CORRECTOR_STEPS), _max_step_lp(x, dx))
        ad = min(_max_step(LS, dS, _CORRECTOR_STEPS), _max_step_lp(s, ds))
        damp = 0.9 + 0.09 * min(1.0, ap, ad)
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
