"""Brute-force oracles for tests: exact answers for small problems, independent of the library's solvers."""
from __future__ import annotations

import itertools
from typing import Any, List

import numpy as np

__all__ = ["enumerate_fixed_points", "unique_fixed_point", "exact_conv_box"]


def enumerate_fixed_points(W: Any, v: Any, tol: float = 1e-10) -> List[np.ndarray]:
    """All fixed points of z = ReLU(Wz + v) by enumeration of the 2ⁿ activation patterns.

    For each active set S, z_S solves (I − W_SS) z_S = v_S (patterns with a singular system are
    skipped), z = 0 off S; the pattern is kept when z_S ≥ 0 and the inactive pre-activations are ≤ 0,
    both up to ``tol · (1 + max|Wz + v|)``. Duplicates (within 1e-8) are merged. Exponential in n:
    for n ≲ 12."""
    W = np.asarray(W, dtype=float)
    v = np.asarray(v, dtype=float)
    n = W.shape[0]
    sols: List[np.ndarray] = []
    for k in range(n + 1):
        for S in itertools.combinations(range(n), k):
            S = list(S)
            z = np.zeros(n)
            if S:
                M = np.eye(k) - W[np.ix_(S, S)]
                if abs(np.linalg.det(M)) < 1e-12:
                    continue
                z[S] = np.linalg.solve(M, v[S])
            pre = W @ z + v
            scale = tol * (1 + np.abs(pre).max())
            inactive = [i for i in range(n) if i not in S]
            if np.all(z[S] >= -scale) and np.all(pre[inactive] <= scale):
                z = np.maximum(z, 0)
                if not any(np.allclose(z, s, atol=1e-8) for s in sols):
                    sols.append(z)
    return sols


def unique_fixed_point(W: Any, v: Any, tol: float = 1e-11) -> np.ndarray:
    """The fixed point of z = ReLU(Wz + v) for a well-posed W (monotone, μ∞ < 1, ...), by
    :func:`enumerate_fixed_points`; raises ``AssertionError`` unless exactly one pattern solution exists
    (so a test built on it also checks uniqueness)."""
    sols = enumerate_fixed_points(W, v, tol=tol)
    if len(sols) != 1:
        raise AssertionError(f"expected exactly one fixed point, found {len(sols)}")
    return sols[0]


def exact_conv_box(K: Any, b: Any, lo: Any, hi: Any, *, stride: int = 1, padding: int = 0,
                   circular: bool = False) -> "tuple[np.ndarray, np.ndarray]":
    """The exact box ``[min, max]`` of ``y = K ⋆ x + b`` over ``lo ≤ x ≤ hi`` (one image ``(c_in, H, W)``) in
    rational arithmetic (``fractions.Fraction`` on the stored float64 values): cross-correlation with zero
    padding ``padding`` and ``stride``, or circular with origin ``(k−1)//2`` (``circular=True``, stride 1).
    Object arrays ``(c_out, H_out, W_out)`` of Fractions; ``lo = hi`` gives the exact convolution."""
    from fractions import Fraction

    K, lo, hi = (np.asarray(a, dtype=np.float64) for a in (K, lo, hi))
    co, ci, kh, kw = K.shape
    H, W = lo.shape[1:]
    oh, ow = (kh - 1) // 2, (kw - 1) // 2
    Ho, Wo = (H, W) if circular else ((H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1)
    out_lo = np.empty((co, Ho, Wo), dtype=object)
    out_hi = np.empty((co, Ho, Wo), dtype=object)
    for o, i0, j0 in itertools.product(range(co), range(Ho), range(Wo)):
        s_lo = s_hi = Fraction(0) if b is None else Fraction(float(np.asarray(b)[o]))
        for c, a, bb in itertools.product(range(ci), range(kh), range(kw)):
            if circular:
                i, j = (i0 + a - oh) % H, (j0 + bb - ow) % W
            else:
                i, j = i0 * stride + a - padding, j0 * stride + bb - padding
                if not (0 <= i < H and 0 <= j < W):
                    continue
            k = Fraction(float(K[o, c, a, bb]))
            p, q = k * Fraction(float(lo[c, i, j])), k * Fraction(float(hi[c, i, j]))
            s_lo, s_hi = s_lo + min(p, q), s_hi + max(p, q)
        out_lo[o, i0, j0], out_hi[o, i0, j0] = s_lo, s_hi
    return out_lo, out_hi
