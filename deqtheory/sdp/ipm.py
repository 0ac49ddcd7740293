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
:math:`B^\top XB` and :math:`B^\top YB` are symmetric: only their block-lower triangles are
computed (blocks of 64 columns, about 30 % fewer flops for these two products). The linear part
:math:`A_\ell^\top\mathrm{diag}(x/s)A_\ell` is summed over the nonzeros of each row of
:math:`A_\ell` ([I, 0] for λ ≥ 0), not by a dense (n+1)×q×(n+1) product.
The formula is checked against the dense definition in tests/test_sdp.py (and, with small blocks,
in tests/test_sdp_ipm_speed.py).

**Per iteration** (N³-type work only): XB, BᵀY and the two block-triangular n×N×n products of
the Schur matrix; per direction ΔS·Y from the structure (an N×n×N product with Y's first n rows,
plus Λ·BᵀY) and X·(ΔS·Y); the Mehrotra term R = ΔX_p·(ΔS_p·Y) reusing the predictor's ΔS·Y;
Choleskys of X and S and S⁻¹ by potri. Inner products with ΔS use
:math:`\langle Z, \Delta S\rangle = \mathcal A(Z)^\top\Delta y` and the corrector's right-hand
side uses :math:`\mathcal A(\sigma\mu Y - R) = \sigma\mu\mathcal A(Y) - \mathcal A(R)` (O(Nn), no
N×N temporaries).

Step lengths: maximal steps from the smallest eigenvalue of :math:`L^{-1}\Delta L^{-\top}` (L the
Cholesky factor) by Lanczos on the operator (two BLAS triangular solves and one product with the
dense ΔX or ΔS per step; 15 steps for the corrector, 6 for the predictor, whose steps only set σ;
always from the same fixed start vector — starting from the previous minimal Ritz vector gave
*more* iterations on benchmarks/sdp.py; exact for N ≤ 30; never an N³ eigendecomposition),
damped by :math:`0.9 + 0.09\min(\alpha_p, \alpha_d)` (as in SDPT3).
Stopping: relative gap :math:`(\langle X,S\rangle + x^\top s)/(1+|b^\top y|)` and relative primal
infeasibility both ``≤ tol``.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Any, Callable, Optional, Tuple

import numpy as np
import scipy.linalg as sla

from ..certificates import MessageEnum

__all__ = ["IPMStatus", "IPMResult", "LMIData", "StructuredLMI", "solve_structured", "schur_matrix_dense"]


class IPMStatus(MessageEnum):
    """Outcome of :func:`solve_structured`."""

    OPTIMAL = ("optimal", "converged: duality gap and residuals below tolerance")
    MAX_ITER = ("max_iter", "the iteration budget ran out before convergence")
    NUMERICAL = ("numerical_stall", "the Newton system became too ill-conditioned to make progress")
    START_INFEASIBLE = ("start_infeasible", "no strictly feasible starting point was found")


@dataclasses.dataclass(frozen=True)
class LMIData:
    """The data both interior-point solvers share: constant term ``C``, structure ``B`` (last axis
    n), ``dvec`` (the diagonal of D), objective ``b`` (n+1,), linear inequalities ``Al`` (q, n+1),
    ``cl`` (q,)."""

    C: np.ndarray
    B: np.ndarray
    dvec: np.ndarray
    b: np.ndarray
    Al: np.ndarray
    cl: np.ndarray

    @property
    def n(self) -> int:
        return self.B.shape[-1]

    def slack(self, y: np.ndarray) -> np.ndarray:
        return self.cl + self.Al @ y


@dataclasses.dataclass(frozen=True)
class StructuredLMI(LMIData):
    """Data of one problem of the family above (dense N×N cone). ``Al`` is (q, n+1), ``cl`` is (q,)."""

    @property
    def N(self) -> int:
        return self.C.shape[0]

    @functools.cached_property
    def _Bt(self) -> np.ndarray:
        """Bᵀ, C-ordered (row-block updates and products without strided transposes)."""
        return np.ascontiguousarray(self.B.T)

    def S(self, y: np.ndarray) -> np.ndarray:
        """S(y) = C + Σ λ_i A_i + τ D (exactly the matrix the constraint asks to be PSD)."""
        n, N = self.n, self.N
        lam, tau = y[:n], y[n]
        S = np.array(self.C, dtype=np.float64, order="C", copy=True)
        S[:, :n] += self.B * lam[None, :]
        S[:n, :] += self._Bt * lam[:, None]
        S.reshape(-1)[::N + 1] += tau * self.dvec
        return S

    def dS(self, dy: np.ndarray) -> np.ndarray:
        """𝒜*(Δy) (no constant term)."""
        n, N = self.n, self.N
        out = np.zeros((N, N))
        out[:, :n] = self.B * dy[:n][None, :]
        out[:n, :] += self._Bt * dy[:n][:, None]
        out.reshape(-1)[::N + 1] += dy[n] * self.dvec
        return out

    def A(self, Z: np.ndarray) -> np.ndarray:
        """𝒜(Z)_i = tr(A_i Z) for a (not necessarily symmetric) Z."""
        n = self.n
        out = np.empty(n + 1)
        out[:n] = np.einsum("ki,ki->i", self.B, Z[:, :n]) + np.einsum("ik,ik->i", Z[:n, :], self._Bt)
        out[n] = float(self.dvec @ np.diagonal(Z))
        return out

    @functools.cached_property
    def _dnz(self) -> Tuple[np.ndarray, np.ndarray]:
        """(indices, values) of the nonzero entries of ``dvec``."""
        nz = np.flatnonzero(self.dvec)
        return nz, self.dvec[nz]

    def dSY(self, dy: np.ndarray, Y: np.ndarray, YB: np.ndarray) -> np.ndarray:
        """𝒜*(Δy)·Y from the structure: (BΛ)Y[:n,:] + rows :n += Λ(YB)ᵀ + rows of D (one N×n×N product)."""
        return self._dSY_t(dy, Y, YB.T)

    def _dSY_t(self, dy: np.ndarray, Y: np.ndarray, YBt: np.ndarray) -> np.ndarray:
        """:meth:`dSY` with ``YBt`` = (YB)ᵀ = BᵀY (C-ordered for symmetric Y: no strided transpose)."""
        n = self.n
        lam = dy[:n]
        out = (self.B * lam[None, :]) @ Y[:n, :]
        out[:n, :] += lam[:, None] * YBt
        nz, dn = self._dnz
        if nz.size and dy[n] != 0.0:
            out[nz, :] += (dy[n] * dn)[:, None] * Y[nz, :]
        return out


@dataclasses.dataclass(frozen=True)
class IPMResult:
    """Outcome of :func:`solve_structured` / :func:`deqtheory.sdp.blockipm.solve_blocks`: the dual
    iterate ``y`` (feasible; the best one when OPTIMAL), primal ``X``, ``status``, ``iterations``,
    the duality ``gap`` and ``rel_gap`` = gap/(1 + |bᵀy|), ``primal_infeasibility``, both objectives,
    wall ``time`` (s) and ``history`` of (rel_gap, primal infeasibility, dual objective) per iteration.
    Nothing here is a proof: certificates are re-proved from ``y`` by verified Cholesky."""

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
    (O(Nn), no N³ product). X and Y must be symmetric."""
    return _schur(P, X, Y, XB)[0]


def _hadamard_sandwiches(P: StructuredLMI, X: np.ndarray, Y: np.ndarray, XB: np.ndarray, YBt: np.ndarray) -> np.ndarray:
    """(BᵀXB)∘Y_nn + X_nn∘(BᵀYB), symmetric: only the block-lower triangle of the two n×N×n
    products is computed (``_SCHUR_BLOCK`` columns a block; about 30 % fewer flops than two full
    products), the strictly upper blocks are copied from it."""
    n = P.n
    B, Bt = P.B, P._Bt
    nb = max(1, min(8, n // _SCHUR_BLOCK))
    T = np.empty((n, n))
    if nb == 1:
        np.matmul(Bt, XB, out=T)
        T *= Y[:n, :n]
        M = YBt @ B
        M *= X[:n, :n]
        T += M
        return T
    cuts = [round(i * n / nb) for i in range(nb + 1)]
    for i in range(nb):
        r = slice(cuts[i], cuts[i + 1])
        e = cuts[i + 1]
        Ti = T[r, :e]
        np.matmul(Bt[r], XB[:, :e], out=Ti)
        Ti *= Y[r, :e]
        M = YBt[r] @ B[:, :e]
        M *= X[r, :e]
        Ti += M
    for i in range(nb - 1):
        r = slice(cuts[i], cuts[i + 1])
        e = cuts[i + 1]
        T[r, e:] = T[e:, r].T
    return T


def _schur(P: StructuredLMI, X: np.ndarray, Y: np.ndarray, XB: Optional[np.ndarray] = None):
    """:func:`schur_matrix` and the products XB, (YB)ᵀ = BᵀY (reused by the search direction).

    Only the nonzero entries of ``dvec`` enter the τ row (min-L: d of N)."""
    n = P.n
    if XB is None:
        XB = X @ P.B
    YBt = P._Bt @ Y                   # (YB)ᵀ = BᵀY (Y symmetric), C-ordered
    H = np.empty((n + 1, n + 1))
    M = XB[:n, :] * YBt[:, :n]        # P∘Qᵀ;  Pᵀ∘Q + P∘Qᵀ = M + Mᵀ
    Hn = H[:n, :n]
    np.add(M, M.T, out=Hn)
    Hn += _hadamard_sandwiches(P, X, Y, XB, YBt)
    nz, dn = P._dnz
    if nz.size:
        col = np.einsum("ik,ik->i", X[:n, nz] * dn, YBt[:, nz]) + dn @ (XB[nz, :] * Y[nz, :n])
        H[n, n] = float(dn @ ((X[np.ix_(nz, nz)] * Y[np.ix_(nz, nz)]) @ dn))
    else:
        col = np.zeros(n)
        H[n, n] = 0.0
    H[:n, n] = col
    H[n, :n] = col
    return H, XB, YBt


def schur_matrix_dense(P: LMIData, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Dense oracle for :func:`schur_matrix` (and the block Schur matrix of
    :mod:`deqtheory.sdp.blockipm`): materialise every A_i and sum Re tr(A_i X A_j Y) over the
    blocks (tests only; O(n²N³))."""
    n = P.n
    mats = []
    for i in range(n + 1):
        e = np.zeros(n + 1)
        e[i] = 1.0
        mats.append(P.dS(e))
    H = np.empty((n + 1, n + 1))
    for i in range(n + 1):
        for j in range(n + 1):
            H[i, j] = float(np.real(np.sum(np.trace(mats[i] @ X @ mats[j] @ Y, axis1=-2, axis2=-1))))
    return H


#: Column block of the block-triangular n×N×n products of the Schur matrix (:func:`_hadamard_sandwiches`).
_SCHUR_BLOCK = 64


class _LinearTerm:
    """The linear inequalities' part :math:`A_\\ell^\\top \\mathrm{diag}(w) A_\\ell` of the Schur matrix.

    ``Al`` is usually very sparse ([I, 0] for λ ≥ 0): the sum over rows r of w_r a_r a_rᵀ is then
    accumulated from the products of the nonzeros of each row (bincount) instead of a dense
    (n+1)×q×(n+1) product."""

    def __init__(self, Al: np.ndarray):
        self.Al = Al
        m = Al.shape[1]
        self.m = m
        rows, cols = np.nonzero(Al)           # row-major order: grouped by row
        counts = np.bincount(rows, minlength=Al.shape[0])
        npairs = int(np.sum(counts.astype(np.int64) ** 2))
        self.sparse = npairs <= 4 * m * m
        if self.sparse:
            # all ordered pairs (a, b) of nonzeros within one row, vectorised
            vals = Al[rows, cols]
            starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)[:-1]])
            rep = counts[rows]                                     # partners of each nonzero
            a = np.repeat(np.arange(rows.size), rep)
            b = starts[rows[a]] + (np.arange(a.size) - np.repeat(np.cumsum(rep) - rep, rep))
            self.prow = rows[a]
            self.pidx = cols[a] * m + cols[b]
            self.pval = vals[a] * vals[b]

    def add_to(self, H: np.ndarray, w: np.ndarray) -> None:
        if self.Al.shape[0] == 0:
            return
        if self.sparse:
            H += np.bincount(self.pidx, weights=w[self.prow] * self.pval, minlength=self.m * self.m).reshape(self.m, self.m)
        else:
            H += self.Al.T @ (w[:, None] * self.Al)


#: Up to this order L⁻¹DL⁻ᵀ is formed explicitly and Lanczos runs to the full dimension (exact);
#: above, the operator is only applied (two BLAS triangular solves per step, O(N²)).
_EXACT_MAX_N = 30
_LANCZOS_STEPS = 30
#: Lanczos steps inside :func:`solve_structured` (corrector / predictor). The Ritz estimate minus
#: its residual bound errs towards shorter steps; 15 / 6 steps give the same iteration counts as
#: 30 / 12 on benchmarks/sdp.py (n = 64 … 1024), at half the cost.
_CORRECTOR_STEPS = 15
_PREDICTOR_STEPS = 6


def _lanczos_min(matvec: Callable[[np.ndarray], np.ndarray], N: int, steps: int) -> float:
    """Smallest eigenvalue estimate of a symmetric operator: Lanczos with full reorthogonalisation
    from a fixed start vector, minus the residual bound |β_m s_m| of the smallest Ritz pair
    (so the estimate errs towards *smaller* eigenvalues, i.e. shorter steps)."""
    m = min(steps, N)
    V = np.empty((m + 1, N))
    v = np.cos(0.7 * np.arange(N) + 0.3)      # deterministic, not aligned with coordinate axes
    np.multiply(v, 1.0 / math.sqrt(float(v @ v)), out=V[0])
    alpha = np.zeros(m)
    beta = np.zeros(m)
    k = 0
    for k in range(m):
        w = matvec(V[k])
        Vk = V[:k + 1]
        c = Vk @ w
        alpha[k] = c[k]
        w -= c @ Vk
        w -= (Vk @ w) @ Vk   # twice is enough (Giraud et al. 2005)
        beta[k] = bk = math.sqrt(float(w @ w))
        if bk <= 1e-13 * max(1.0, abs(alpha[k])):
            break
        np.multiply(w, 1.0 / bk, out=V[k + 1])
    k += 1
    if k == 1:
        return float(alpha[0]) - float(beta[0])
    # tridiagonal eigenproblem by LAPACK stev directly (scipy's eigh_tridiagonal wrapper costs
    # more than the LAPACK call at these sizes)
    theta, s, info = sla.lapack.dstev(alpha[:k], beta[:k - 1], compute_v=1)
    if info != 0:
        theta, s = sla.eigh_tridiagonal(alpha[:k], beta[:k - 1])
    return float(theta[0]) - abs(float(beta[k - 1] * s[-1, 0]))


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

        def mv(v: np.ndarray) -> np.ndarray:      # L⁻¹ D L⁻ᵀ v
            return trsv(LF, gemv(1.0, Dt, trsv(LF, v, lower=1, trans=1)), lower=1, trans=0, overwrite_x=1)

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


# ----------------------------------------------------------------------------------------------
# Pieces of the predictor–corrector loop shared with :mod:`deqtheory.sdp.blockipm`
# ----------------------------------------------------------------------------------------------

def _dual_start(P: Any, y0: np.ndarray, chol: Callable, t0: float):
    """(y, S, s, L_S) at the dual start, or an IPMResult START_INFEASIBLE when S(y0) is not PD or
    a slack is ≤ 0."""
    y = np.array(y0, dtype=np.float64)
    S = P.S(y)
    s = P.slack(y)
    LS = chol(S)
    if LS is None or np.any(s <= 0):
        return IPMResult(y, np.zeros_like(S), IPMStatus.START_INFEASIBLE, 0, math.inf, math.inf, math.inf,
                         float(P.b @ y), math.nan, time.perf_counter() - t0, ())
    return y, S, s, LS


def _primal_start(P: Any, Y: np.ndarray, s: np.ndarray, mu0: float, chol: Callable):
    """X = μ₀Y (plus :func:`_meet_trace_row`), x = μ₀/s, its Cholesky factor, ‖b‖ scale and an empty history."""
    x = mu0 / s
    X = _meet_trace_row(P, mu0 * Y, x)
    return X, x, chol(X), 1.0 + float(np.linalg.norm(P.b)), []


#: :func:`_meet_trace_row` acts only when ⟨D, X⟩ is below this fraction of its target (measured: 0.3–0.4 on
#: well-conditioned problems, where the shift costs two extra iterations; below 0.03 on every stalled one).
_TRACE_ROW_FRACTION = 0.1


def _meet_trace_row(P: Any, X: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""When D ⪰ 0 (the μ-form of (10): D = diag(0, I_d)), add the PSD mass ``gap·diag(d)/‖d‖²`` to X so that
    the τ row of the primal constraint, :math:`\langle D, X\rangle + (A_\ell^\top x)_\tau = -b_\tau`, holds
    at the start (split evenly over the blocks of a block cone). Without it X = μ₀S⁻¹ has
    :math:`\langle D, X\rangle \approx \mu_0 d/L_0^2 \ll 1` when the anchor L₀ is large (W close to I: small
    monotonicity margin): the first Newton steps then have to grow X's μ block by orders of magnitude, the
    step lengths collapse and the dual objective diverges (``numerical_stall``; issue 15 item 4 — 28 of 40
    small MonDEQs with m ≤ 1/16, none after). X stays ≻ 0; the other rows are untouched (⟨A_i, diag(0, ·)⟩ = 0
    for the μ-form, whose D vanishes on the multiplier block). Only when ⟨D, X⟩ is below
    :data:`_TRACE_ROW_FRACTION` of its target."""
    d = np.asarray(P.dvec, dtype=float)
    if not (np.all(d >= 0) and np.any(d > 0)):
        return X
    n = P.n
    target = -float(P.b[n]) - float(P.Al[:, n] @ x)
    gap = target - float(P.A(X)[n])
    if not gap > (1.0 - _TRACE_ROW_FRACTION) * target:
        return X
    E = np.diag(d / float(d @ d)) * gap
    if X.ndim == 3:
        return X + (E / X.shape[0])[None, :, :]
    return X + E


def _record(P: Any, y: np.ndarray, X: np.ndarray, x: np.ndarray, gap: float, AX: np.ndarray, CX: float,
            bnorm: float, history: list, tol: float, LX: Optional[np.ndarray]) -> Tuple[tuple, Optional[IPMStatus]]:
    """Objectives, relative gap and primal infeasibility of the iterate (appended to ``history``).
    Returns (best-so-far tuple, stop): stop = OPTIMAL when both are ≤ ``tol``, NUMERICAL when X has
    no Cholesky factor ``LX``, else None (iterate on)."""
    rp = -P.b - AX - P.Al.T @ x
    dobj = float(P.b @ y)
    pobj = CX + float(P.cl @ x)
    rel_gap = gap / (1.0 + abs(dobj))
    pinf = float(np.linalg.norm(rp)) / bnorm
    history.append((rel_gap, pinf, dobj))
    best = (y.copy(), X, gap, rel_gap, pinf, dobj, pobj)
    if rel_gap <= tol and pinf <= tol:
        return best, IPMStatus.OPTIMAL
    return best, (IPMStatus.NUMERICAL if LX is None else None)


def _dual_step(P: Any, y: np.ndarray, dy: np.ndarray, ad: float, chol: Callable):
    """y + a_d Δy, halving a_d until S(y) is PD (Cholesky) and the slacks are positive."""
    y_new = y + ad * dy
    S_new = P.S(y_new)
    s_new = P.slack(y_new)
    LS_new = chol(S_new)
    while (LS_new is None or np.any(s_new <= 0)) and ad > 1e-12:
        ad *= 0.5
        y_new = y + ad * dy
        S_new = P.S(y_new)
        s_new = P.slack(y_new)
        LS_new = chol(S_new)
    return y_new, S_new, s_new, LS_new, ad


def _primal_step(X: np.ndarray, x: np.ndarray, dX: np.ndarray, dx: np.ndarray, ap: float, chol: Callable,
                 combine: Callable):
    """combine(X, ΔX, a_p), halving a_p until it is PD (Cholesky) and x + a_p Δx > 0."""
    X_new = combine(X, dX, ap)
    x_new = x + ap * dx
    LX_new = chol(X_new)
    while (LX_new is None or np.any(x_new <= 0)) and ap > 1e-12:
        ap *= 0.5
        X_new = combine(X, dX, ap)
        x_new = x + ap * dx
        LX_new = chol(X_new)
    return X_new, x_new, LX_new, ap


def _step(P: Any, y: np.ndarray, X: np.ndarray, x: np.ndarray, dy: np.ndarray, dX: np.ndarray, dx: np.ndarray,
          ap: float, ad: float, chol: Callable, combine: Callable):
    """Damped step (0.9 + 0.09 min(1, a_p, a_d), as in SDPT3) with both line searches; the new
    (y, S, s, L_S, X, x, L_X), or None when a step length collapsed (NUMERICAL)."""
    damp = 0.9 + 0.09 * min(1.0, ap, ad)
    ap = min(1.0, damp * ap)
    ad = min(1.0, damp * ad)
    y_new, S_new, s_new, LS_new, ad = _dual_step(P, y, dy, ad, chol)
    if LS_new is None or ad <= 1e-12:
        return None
    X_new, x_new, LX_new, ap = _primal_step(X, x, dX, dx, ap, chol, combine)
    if ap < 1e-12 and ad < 1e-12:
        return None
    return y_new, S_new, s_new, LS_new, X_new, x_new, LX_new


def _finish(P: Any, best: Optional[tuple], status: IPMStatus, y: np.ndarray, X: np.ndarray, it: int,
            t0: float, history: list) -> IPMResult:
    if best is None:  # max_iter < 1
        return IPMResult(y, X, IPMStatus.MAX_ITER, 0, math.inf, math.inf, math.inf, float(P.b @ y), math.nan,
                         time.perf_counter() - t0, ())
    yb, Xb, gap, rel_gap, pinf, dobj, pobj = best
    if status is not IPMStatus.OPTIMAL:
        # report the current (feasible) dual iterate
        yb = y
    return IPMResult(yb, Xb, status, it, gap, rel_gap, pinf, float(P.b @ yb), pobj,
                     time.perf_counter() - t0, tuple(history))


def _axpy_inplace(X: np.ndarray, dX: np.ndarray, a: float) -> np.ndarray:
    out = dX * a
    out += X
    return out


def solve_structured(P: StructuredLMI, y0: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100) -> IPMResult:
    """Run the HKM Mehrotra predictor–corrector from the strictly feasible dual point ``y0``.

    Per iteration (see the module docstring): Choleskys of X and S (LAPACK potrf), S⁻¹ by potri,
    the Schur matrix (O(N²n), also giving XB and BᵀY) and its Cholesky, per direction ΔS·S⁻¹ from
    the structure and X·(ΔS·S⁻¹), one product for the Mehrotra term (reusing the predictor's
    ΔS·S⁻¹), four step lengths (Lanczos above N = 30). Steps that would leave the cone (Cholesky
    fails) are halved.
    """
    t0 = time.perf_counter()
    n, N = P.n, P.N
    Al = P.Al
    lin = _LinearTerm(Al)
    potrf, potrs = sla.lapack.dpotrf, sla.lapack.dpotrs
    start = _dual_start(P, y0, _chol, t0)
    if isinstance(start, IPMResult):
        return start
    y, S, s, LS = start
    Y = _chol_inverse(LS)
    q = s.shape[0]
    mu0 = 1.0 / max(float(np.trace(Y)) + float(np.sum(1.0 / s)), 1e-300) * (N + q)
    X, x, LX, bnorm, history = _primal_start(P, Y, s, mu0, _chol)
    status = IPMStatus.MAX_ITER
    best = None
    it = 0
    for it in range(1, max_iter + 1):
        XS = float(np.vdot(X, S))
        gap = XS + float(x @ s)
        mu = gap / (N + q)
        AX = P.A(X)
        best, stop = _record(P, y, X, x, gap, AX, float(np.vdot(P.C, X)), bnorm, history, tol, LX)
        if stop is not None:
            status = stop
            break
        H, XB, YBt = _schur(P, X, Y)
        lin.add_to(H, x / s)
        H = 0.5 * (H + H.T)
        cH, info = potrf(H.T, lower=1, clean=0, overwrite_a=1)     # symmetric: H.T is the F-ordered H
        if info != 0:
            status = IPMStatus.NUMERICAL
            break
        AY = P.A(Y)

        def direction(sig_mu: float, R: Optional[np.ndarray], r: Optional[np.ndarray]):
            # ΔX = sym(σμY − R − X − X ΔS Y) = σμY − X − sym(X ΔS Y + R)   (X, Y symmetric)
            if R is None:   # predictor: σμ = 0, R = 0
                t = -x if r is None else -x - r
                rhs = P.b + Al.T @ (t + x)
            else:
                t = sig_mu / s - r - x
                rhs = P.b + (sig_mu * AY - P.A(R)) + Al.T @ (t + x)     # 𝒜(σμY − R), linear
            dy, info = potrs(cH, rhs, lower=1)
            if info != 0:
                raise np.linalg.LinAlgError(f"dpotrs failed (info={info})")
            ds = Al @ dy
            dSY = P._dSY_t(dy, Y, YBt)
            K = X @ dSY
            if R is not None:
                K += R
            dX = np.add(K, K.T, out=R if R is not None else None)
            dX *= -0.5
            dX -= X
            if R is not None:
                dX += sig_mu * Y
            dx = t - x * ds / s
            return dy, ds, dX, dx, dSY

        def steps(dy, ds, dX, dx, nsteps):
            dS = P.dS(dy)     # formed once: one gemv per Lanczos step is cheaper than two with B
            ap = min(_max_step(LX, dX, nsteps), _max_step_lp(x, dx))
            ad = min(_max_step(LS, dS, nsteps), _max_step_lp(s, ds))
            return ap, ad

        # predictor; its step lengths only set σ: a cheaper (6-step, conservative) Lanczos estimate
        dy, ds, dX, dx, dSY = direction(0.0, None, None)
        ap, ad = steps(dy, ds, dX, dx, _PREDICTOR_STEPS)
        ap = min(1.0, ap)
        ad = min(1.0, ad)
        # ⟨X + a_p ΔX, S + a_d ΔS⟩ expanded (no N×N temporaries; ⟨Z, ΔS⟩ = 𝒜(Z)·Δy)
        mu_aff = (XS + ad * float(AX @ dy) + ap * float(np.vdot(dX, S))
                  + ap * ad * float(P.A(dX) @ dy) + float((x + ap * dx) @ (s + ad * ds))) / (N + q)
        sigma = min(1.0, max(0.0, (mu_aff / mu) ** 3))
        # corrector (Mehrotra term R = ΔX ΔS S⁻¹ reuses ΔS S⁻¹)
        R = dX @ dSY
        r = dx * ds / s
        del dX, dSY
        dy, ds, dX, dx, _ = direction(sigma * mu, R, r)
        del R
        ap, ad = steps(dy, ds, dX, dx, _CORRECTOR_STEPS)
        nxt = _step(P, y, X, x, dy, dX, dx, ap, ad, _chol, _axpy_inplace)
        if nxt is None:
            status = IPMStatus.NUMERICAL
            break
        y, S, s, LS, X, x, LX = nxt
        Y = _chol_inverse(LS)
    return _finish(P, best, status, y, X, it, t0, history)
