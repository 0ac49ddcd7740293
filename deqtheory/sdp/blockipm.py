r"""Primal–dual interior-point method for LMIs with a block-diagonal (Hermitian) PSD cone.

Used by the symmetry-reduced convolutional SDPs of :mod:`deqtheory.sdp.conv`: ``K`` Hermitian blocks
of a common size ``m`` (one per representative frequency), coupled only through a few real
variables :math:`y = (\lambda, \tau) \in \mathbb R^{n+1}`:

.. math::
    \max_y\; b^\top y\quad\text{s.t.}\quad S_r(y) = C_r + \sum_{i<n}\lambda_i A_{r,i} + \tau D \succeq 0\;(r<K),
    \qquad s(y) = c_\ell + A_\ell y \ge 0,

with :math:`A_{r,i} = e_i b_{r,i}^H + b_{r,i} e_i^H` (:math:`b_{r,i}` = column i of the complex
``(m, n)`` matrix :math:`B_r`) and ``D = diag(dvec)`` (real). For the μ-form of (10) on frequency ω,
:math:`B_r = [I - \hat W(\omega)^H;\ \hat U(\omega)^H]`, :math:`C_r = \mathrm{diag}(-\hat G^H\hat G, 0)`,
``D = diag(0, I)`` (the complex analogue of :func:`deqtheory.sdp.problems.structured_min_l`).

The inner product on Hermitian matrices is the real one, :math:`\langle A, Z\rangle = \mathrm{Re\,tr}(AZ)`;
everything else is the method of :mod:`deqtheory.sdp.ipm` (HKM direction, Mehrotra
predictor–corrector, dual iterate kept exactly feasible) with the Schur matrix summed over blocks:

.. math:: H_{ij} = \sum_r \mathrm{Re}\big[(P_r^\top\circ Q_r) + (B_r^HX_rB_r)\circ Y_{r,nn}^\top
          + X_{r,nn}\circ(B_r^HY_rB_r)^\top + P_r\circ Q_r^\top\big]_{ij},

:math:`P_r = (X_rB_r)_{1:n,:}`, :math:`Q_r = (Y_rB_r)_{1:n,:}`, :math:`Y_r = S_r^{-1}` — the four
rank-one products of :math:`\mathrm{tr}(A_iXA_jY)` as in :mod:`deqtheory.sdp.ipm`, with conjugates
(X, Y Hermitian). Cost per iteration O(K m²(m + n)) — O(N² c³)-type for an N×N grid, c channels —
all as batched (K, m, m) array operations. Step lengths are exact (batched eigenvalues of the
small blocks). Checked against the dense definition in tests/test_sdp_conv.py.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Optional

import numpy as np
import scipy.linalg as sla

from .ipm import (IPMResult, IPMStatus, LMIData, _dual_start, _finish, _max_step_lp, _primal_start, _record, _step,
                  schur_matrix_dense)

__all__ = ["BlockLMI", "solve_blocks", "block_schur_matrix", "block_schur_matrix_dense"]


def _h(A: np.ndarray) -> np.ndarray:
    """Conjugate transpose of each block."""
    return np.conj(np.swapaxes(A, -1, -2))


def _herm(A: np.ndarray) -> np.ndarray:
    return 0.5 * (A + _h(A))


@dataclasses.dataclass(frozen=True)
class BlockLMI(LMIData):
    """Data: ``C`` (K, m, m) Hermitian, ``B`` (K, m, n), ``dvec`` (m,), ``b`` (n+1,), ``Al`` (q, n+1), ``cl`` (q,)."""

    @property
    def m(self) -> int:
        return self.C.shape[1]

    @property
    def K(self) -> int:
        return self.C.shape[0]

    def dS(self, dy: np.ndarray, const: bool = False) -> np.ndarray:
        n = self.n
        Bl = self.B * dy[:n][None, None, :]
        out = self.C.copy() if const else np.zeros_like(self.C)
        out[:, :, :n] += Bl
        out[:, :n, :] += _h(Bl)
        idx = np.arange(self.m)
        out[:, idx, idx] += dy[n] * self.dvec
        return out

    def S(self, y: np.ndarray) -> np.ndarray:
        return self.dS(y, const=True)

    def A(self, Z: np.ndarray) -> np.ndarray:
        """𝒜(Z)_i = Σ_r Re tr(A_{r,i} Z_r) (Z_r need not be Hermitian)."""
        n = self.n
        out = np.empty(n + 1)
        out[:n] = np.real(np.einsum("rki,rki->i", np.conj(self.B), Z[:, :, :n])
                          + np.einsum("rik,rki->i", Z[:, :n, :], self.B))
        out[n] = float(np.real(np.einsum("k,rkk->", self.dvec, Z)))
        return out


def block_schur_matrix(P: BlockLMI, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """H_ij = Σ_r Re tr(A_{r,i} X_r A_{r,j} Y_r) from the structure (module docstring)."""
    n = P.n
    B = P.B
    d = P.dvec
    XB = X @ B
    YB = Y @ B
    Pm = XB[:, :n, :]
    Qm = YB[:, :n, :]
    BXB = _h(B) @ XB
    BYB = _h(B) @ YB
    T = (np.swapaxes(Pm, 1, 2) * Qm + Pm * np.swapaxes(Qm, 1, 2)
         + BXB * np.swapaxes(Y[:, :n, :n], 1, 2) + X[:, :n, :n] * np.swapaxes(BYB, 1, 2))
    H = np.empty((n + 1, n + 1))
    H[:n, :n] = np.real(np.sum(T, axis=0))
    col = np.real(np.einsum("rik,k,rki->i", X[:, :n, :], d, YB) + np.einsum("rki,k,rki->i", np.conj(XB), d, Y[:, :, :n]))
    H[:n, n] = col
    H[n, :n] = col
    H[n, n] = float(np.real(np.einsum("k,l,rkl,rkl->", d, d, X, np.conj(Y))))
    return 0.5 * (H + H.T)


#: Dense oracle (tests only): :func:`deqtheory.sdp.ipm.schur_matrix_dense` serves both cones.
block_schur_matrix_dense = schur_matrix_dense


def _chol(S: np.ndarray) -> Optional[np.ndarray]:
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        return None


def _max_step(Lc: np.ndarray, D: np.ndarray) -> float:
    """Largest α with L_rL_r^H + αD_r ⪰ 0 for all r (exact, batched small eigenproblems)."""
    Li = np.linalg.inv(Lc)
    T = _herm(Li @ D @ _h(Li))
    lmin = float(np.min(np.linalg.eigvalsh(T)))
    return math.inf if lmin >= 0 else -1.0 / lmin


def _inner(A: np.ndarray, B: np.ndarray) -> float:
    """Σ_r Re tr(A_r B_r) for Hermitian blocks."""
    return float(np.real(np.sum(A * np.conj(B))))


def solve_blocks(P: BlockLMI, y0: np.ndarray, *, tol: float = 1e-9, max_iter: int = 100) -> IPMResult:
    """HKM Mehrotra predictor–corrector from the strictly feasible dual point ``y0`` (block cone)."""
    t0 = time.perf_counter()
    start = _dual_start(P, y0, _chol, t0)
    if isinstance(start, IPMResult):
        return start
    y, S, s, LS = start
    Y = _herm(np.linalg.inv(S))
    q = s.shape[0]
    Ntot = P.K * P.m + q
    mu0 = Ntot / max(float(np.real(np.trace(Y, axis1=1, axis2=2).sum())) + float(np.sum(1.0 / s)), 1e-300)
    X, x, LX, bnorm, history = _primal_start(P, Y, s, mu0, _chol)
    status = IPMStatus.MAX_ITER
    best = None
    it = 0
    for it in range(1, max_iter + 1):
        gap = _inner(X, S) + float(x @ s)
        mu = gap / Ntot
        best, stop = _record(P, y, X, x, gap, P.A(X), _inner(P.C, X), bnorm, history, tol, LX)
        if stop is not None:
            status = stop
            break
        H = block_schur_matrix(P, X, Y) + P.Al.T @ ((x / s)[:, None] * P.Al)
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
            dX = _herm(T - X - X @ dSY)
            dx = t - x - x * ds / s
            return dy, dS, ds, dX, dx, dSY

        dy, dS, ds, dX, dx, dSY = direction(0.0, None, None)
        ap = min(1.0, _max_step(LX, dX), _max_step_lp(x, dx))
        ad = min(1.0, _max_step(LS, dS), _max_step_lp(s, ds))
        mu_aff = (_inner(X + ap * dX, S + ad * dS) + float((x + ap * dx) @ (s + ad * ds))) / Ntot
        sigma = min(1.0, max(0.0, (mu_aff / mu) ** 3))
        R = dX @ dSY
        r = dx * ds / s
        dy, dS, ds, dX, dx, _ = direction(sigma * mu, R, r)
        ap = min(_max_step(LX, dX), _max_step_lp(x, dx))
        ad = min(_max_step(LS, dS), _max_step_lp(s, ds))
        nxt = _step(P, y, X, x, dy, dX, dx, ap, ad, _chol, lambda A, dA, a: _herm(A + a * dA))
        if nxt is None:
            status = IPMStatus.NUMERICAL
            break
        y, S, s, LS, X, x, LX = nxt
        Y = _herm(np.linalg.inv(S))
    return _finish(P, best, status, y, X, it, t0, history)
