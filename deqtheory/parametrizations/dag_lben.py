r"""DAG-LBEN: LBENs whose ``W`` is block strictly lower triangular (exact one-pass solve).

The state :math:`z\in\mathbb R^n` is split into consecutive blocks :math:`I_0, \dots, I_K` of sizes
``blocks = (n_0, …, n_K)`` (:math:`\sum_k n_k = n`). For an n×n matrix ``A``, ``lowblk(A)`` keeps
the blocks :math:`A_{I_kI_l}` with :math:`k > l` (strictly below the block diagonal) and zeros the
rest; ``blkdiag(A)`` keeps the diagonal blocks :math:`A_{I_kI_k}`.

Construction
------------
Given ``G`` (p×n), ``Ut`` = :math:`\tilde U = \Lambda U` (n×d), ``V`` (k×n), ``L > 0``, ``ε ≥ 0``
and positive weights ``q`` (n,) (default all ones):

.. math:: Q = \tfrac1L(G^\top G + \tilde U\tilde U^\top), \qquad P = \tfrac12 Q + V^\top V + \varepsilon I,

.. math:: \lambda_i = \sum_{j\in I_k} |P_{ij}|\,\frac{q_j}{q_i}\quad(i\in I_k), \qquad
          \Lambda = \mathrm{diag}(\lambda), \qquad W = -2\Lambda^{-1}\,\mathrm{lowblk}(P), \qquad
          U = \Lambda^{-1}\tilde U.

``λ`` is floored at ``1e-300`` so that Λ is invertible (only a zero row/column of ``P`` inside a
block can give ``λ_i = 0``; a larger λ keeps every guarantee below, see step 1).

Claim and proof
---------------
**1. Scaled Gershgorin / AOL bound:** :math:`D := \Lambda - \mathrm{blkdiag}(P) \succeq 0`. For a
symmetric ``A`` and ``q > 0``, :math:`x^\top Ax \le \sum_{ij}|A_{ij}||x_i||x_j| \le \sum_{ij}|A_{ij}|
\tfrac12(\tfrac{q_j}{q_i}x_i^2 + \tfrac{q_i}{q_j}x_j^2) = \sum_i x_i^2\sum_j|A_{ij}|q_j/q_i`
(AM–GM, then symmetry of ``|A|``), i.e. :math:`\mathrm{diag}(|A|q/q) \succeq A`. Apply it to each
:math:`P_{I_kI_k}`. Increasing λ (the floor) only adds a PSD diagonal to ``D``.

**2.** With :math:`M := \Lambda(I - W) = \Lambda + 2\,\mathrm{lowblk}(P)` and ``P`` symmetric
(:math:`P = \mathrm{blkdiag}(P) + \mathrm{lowblk}(P) + \mathrm{lowblk}(P)^\top`),

.. math:: \mathrm{sym}(M) = \Lambda + \mathrm{lowblk}(P) + \mathrm{lowblk}(P)^\top = P + D \succeq P.

**3. havens2023 (4)/(10) with witness Λ.** Since :math:`\Lambda U = \tilde U`,

.. math:: 2\Lambda - \Lambda W - W^\top\Lambda - \tfrac1L G^\top G - \tfrac1L\Lambda UU^\top\Lambda
          = 2(P + D) - Q = 2(V^\top V + \varepsilon I) + 2D \succeq 2\varepsilon I.

**4. Consequences.** ``W`` is block strictly lower triangular, hence nilpotent
(:math:`W^{K+1} = 0`), and ``z = φ(Wz + Ux + b)`` is solved exactly by one block forward substitution
:math:`z_{I_k} = \varphi(\sum_{l<k} W_{I_kI_l} z_{I_l} + U_{I_k}x + b_{I_k})` for *any* activation
(well-posedness needs no LMI here). For activations acting per coordinate with slopes in
:math:`[0, 1]` (ReLU, identity, leaky-ReLU, tanh, …; different coordinates may use different
ones), two solutions satisfy :math:`\Delta z_i = s_i\,\Delta v_i`, :math:`s_i\in[0,1]`,
:math:`\Delta v = W\Delta z + U\Delta x`, so :math:`\Delta z^\top\Lambda(\Delta v - \Delta z) \ge 0`.
With step 3 (ε ≥ 0) and :math:`2a^\top b \le \|a\|^2/L + L\|b\|^2`:

.. math:: \tfrac1L\|G\Delta z\|^2 + \tfrac1L\|U^\top\Lambda\Delta z\|^2
          \le 2\Delta z^\top\Lambda(I - W)\Delta z \le 2(U^\top\Lambda\Delta z)^\top\Delta x
          \le \tfrac1L\|U^\top\Lambda\Delta z\|^2 + L\|\Delta x\|^2,

i.e. :math:`\|G\Delta z\| \le L\|\Delta x\|`: ``x ↦ y = Gz`` is L-Lipschitz (havens2023 Prop. 2.2 /
Thm 3.1, the non-strict (10) for ε = 0).

**5. Equivalent eq. (7) parameters** (:func:`dag_lben_to_lben_params`; convention of
:mod:`.lben`, :math:`W = I - \Psi(\tfrac{1}{2L}G^\top G + \tfrac{1}{2L}\Psi^{-1}UU^\top\Psi^{-1} +
V'^\top V' + S'^\top - S' + \varepsilon I)`): :math:`\Psi = \Lambda^{-1}` (``log_psi = −log λ``), the
same ``G``, :math:`U = \Lambda^{-1}\tilde U`, :math:`V' = [V; D^{1/2}]` (``D^{1/2}`` the symmetric
PSD root of the block-diagonal ``D``, tiny negative rounding eigenvalues clipped to 0) and
:math:`S' = -\mathrm{lowblk}(P)`. Indeed the bracket is
:math:`\tfrac12Q + V^\top V + D + \varepsilon I + \mathrm{lowblk}(P) - \mathrm{lowblk}(P)^\top
= \Lambda + 2\,\mathrm{lowblk}(P)`, so ``I − Ψ(·) = −2Λ⁻¹lowblk(P) = W``. DAG-LBENs are therefore
LBENs (a subset of the eq. (7) image), with the DAG sparsity imposed by construction.

Floating point: ``P`` is symmetrized after forming it; the identities above then hold up to the
rounding of ``P``, ``λ`` and the divisions (steps 1–3 are checked in the tests with the verified
Cholesky test :func:`deqtheory.verified.verified_pd`, via :func:`.base.lambda_min_certificate`).

Circular convolutions
---------------------
If ``G``, ``Ũ``, ``V`` are multi-channel circular convolutions on an N×N grid
(:func:`deqtheory.circulant.conv_matrix`, channel-major flattening), then ``P`` is one too: its
(c, c') channel block is the N²×N² circulant of a full-support N×N kernel :math:`p_{cc'}` (the
kernel of :math:`\tfrac1{2L}(G^\top G + \tilde U\tilde U^\top) + V^\top V + \varepsilon I`, taps
*wrapped* mod N when the composed support exceeds the grid). Every row of a (doubly) circulant
block contains each tap of :math:`p_{cc'}` exactly once, so if the blocks are unions of whole
channels and ``q`` is constant over the pixels of each channel (``q_c``),

.. math:: \lambda_{(c, r, s)} = \lambda_c = \sum_{c'\in\text{block}(c)} \|p_{cc'}\|_1\,q_{c'}/q_c

is constant over the pixels of each channel — the per-channel multiplier that the convolutional
(torch) layer uses; ``W`` and ``U`` are then again convolutions.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from .._validate import as_matrix, as_positive_weights, as_scalar, as_square
from ..certificates import Certificate
from ..errors import DomainError, DTypeError, EmptyArrayError, NonFiniteError, ShapeError
from .lben import LBEN, LBENParams

__all__ = ["DAGLBEN", "dag_lben", "dag_lben_to_lben_params", "block_strictly_lower",
           "is_block_strictly_lower"]

#: floor on the multipliers λ (keeps Λ invertible; a larger λ keeps every guarantee)
LAM_FLOOR = 1e-300


# ----------------------------------------------------------------------------------- blocks
def _as_blocks(blocks: Any, n: Optional[int] = None, *, shape: Optional[Tuple[int, ...]] = None) -> Tuple[int, ...]:
    """A non-empty tuple of positive ints (summing to ``n`` when given)."""
    if isinstance(blocks, (bool, np.bool_, int, np.integer, float, np.floating, str, bytes)) or blocks is None:
        raise DTypeError(f"blocks: expected a sequence of positive integer block sizes, got "
                         f"{type(blocks).__name__} {blocks!r}")
    try:
        seq = list(blocks)
    except TypeError:
        raise DTypeError(f"blocks: expected a sequence of positive integer block sizes, got "
                         f"{type(blocks).__name__}") from None
    if not seq:
        raise EmptyArrayError("blocks: no block sizes given (length 0)")
    out = []
    for i, b in enumerate(seq):
        if isinstance(b, (bool, np.bool_)) or not isinstance(b, (int, np.integer)):
            raise DTypeError(f"blocks: entry {i} is {type(b).__name__} {b!r}, expected a positive integer")
        if int(b) < 1:
            raise DomainError(f"blocks: entry {i} is {int(b)}; block sizes must be >= 1")
        out.append(int(b))
    if n is not None and sum(out) != n:
        where = f"shape {shape}" if shape is not None else f"n = {n}"
        raise ShapeError(f"blocks: sizes {tuple(out)} sum to {sum(out)}, but the state dimension is {n} ({where})")
    return tuple(out)


def _labels(blocks: Tuple[int, ...]) -> np.ndarray:
    """Block index of every coordinate."""
    return np.repeat(np.arange(len(blocks)), blocks)


def _masks(blocks: Tuple[int, ...]) -> Tuple[np.ndarray, np.ndarray]:
    """(strictly-below-block-diagonal mask, block-diagonal mask), both (n, n) bool."""
    lab = _labels(blocks)
    return lab[:, None] > lab[None, :], lab[:, None] == lab[None, :]


def block_strictly_lower(A: Any, blocks: Sequence[int]) -> np.ndarray:
    r"""``lowblk(A)``: the blocks of the square ``A`` strictly below the block diagonal, zero elsewhere.

    ``blocks`` are the consecutive block sizes (positive integers summing to ``A.shape[0]``);
    :class:`ShapeError` (with the shape) if ``A`` is not square or the sizes do not add up.
    """
    A = as_square("A", A)
    blocks = _as_blocks(blocks, A.shape[0], shape=A.shape)
    low, _ = _masks(blocks)
    return np.where(low, A, 0.0)


def is_block_strictly_lower(W: Any, blocks: Sequence[int], tol: float = 0.0) -> bool:
    """``True`` iff every entry of ``W`` on or above the block diagonal has ``|W_ij| ≤ tol``."""
    W = as_square("W", W)
    blocks = _as_blocks(blocks, W.shape[0], shape=W.shape)
    tol = as_scalar("tol", tol, nonnegative=True)
    low, _ = _masks(blocks)
    rest = np.abs(W[~low])
    return bool(rest.size == 0 or float(np.max(rest)) <= tol)


# ----------------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, eq=False)
class DAGLBEN:
    r"""Result of :func:`dag_lben` (arrays read-only).

    ``W`` (n, n) block strictly lower, ``U`` = Λ⁻¹Ũ (n, d), ``lam`` the multipliers (witness Λ of
    havens2023 (4)), ``P`` = Q/2 + VᵀV + εI, the inputs ``G``, ``Ut``, ``V``, ``q``, and
    ``blocks``, ``L``, ``eps``.
    """

    W: np.ndarray
    U: np.ndarray
    lam: np.ndarray
    P: np.ndarray
    G: np.ndarray
    Ut: np.ndarray
    V: np.ndarray
    q: np.ndarray
    blocks: Tuple[int, ...]
    L: float
    eps: float

    def __post_init__(self) -> None:
        for name in ("W", "U", "lam", "P", "G", "Ut", "V", "q"):
            arr = np.array(getattr(self, name), dtype=np.float64, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "blocks", tuple(int(b) for b in self.blocks))

    @property
    def n(self) -> int:
        return int(self.W.shape[0])

    @property
    def offsets(self) -> Tuple[int, ...]:
        """Start index of every block, and ``n`` at the end (length K + 2)."""
        return tuple(int(o) for o in np.concatenate([[0], np.cumsum(self.blocks)]))

    @property
    def D(self) -> np.ndarray:
        """``Λ − blkdiag(P)`` (block diagonal, PSD up to rounding by the AOL bound)."""
        _, same = _masks(self.blocks)
        return np.diag(self.lam) - np.where(same, self.P, 0.0)

    def certify(self, tol: Optional[float] = None) -> Certificate:
        """havens2023 (4) ⪰ (2ε − tol)I with the witness Λ = diag(lam), proved by
        :meth:`LBEN.contains <deqtheory.parametrizations.lben.LBEN.contains>` (verified Cholesky)."""
        return LBEN(L=self.L, eps=self.eps).contains(self.W, tol=tol, G=self.G, U=self.U, Lambda=self.lam)


# ----------------------------------------------------------------------------------- construction
def dag_lben(G: Any, Ut: Any, V: Any, *, blocks: Sequence[int], L: float = 1.0, eps: float = 0.0,
             q: Any = None) -> DAGLBEN:
    r"""Build a DAG-LBEN (module docstring): ``W = −2Λ⁻¹lowblk(P)``, ``U = Λ⁻¹Ũ``.

    Parameters
    ----------
    G : (p, n) output matrix; ``n`` is read from it.
    Ut : (n, d) the product Ũ = ΛU.
    V : (k, n) free matrix (any k ≥ 1).
    blocks : consecutive block sizes (positive ints, sum n).
    L : float > 0 — Lipschitz bound x → y (``DomainError`` if ≤ 0).
    eps : float ≥ 0 — ε of havens2023 (4) (``DomainError`` if < 0).
    q : (n,) positive weights of the scaled Gershgorin bound (default ones).

    Raises
    ------
    ShapeError (with the offending shape), DomainError, DTypeError, EmptyArrayError, NonFiniteError
    (also when forming ``P`` overflows).
    """
    G = as_matrix("G", G)
    n = G.shape[1]
    Ut = as_matrix("Ut", Ut, shape=(n, None))
    V = as_matrix("V", V, shape=(None, n))
    blocks = _as_blocks(blocks, n, shape=G.shape)
    L = as_scalar("L", L, positive=True)
    eps = as_scalar("eps", eps, nonnegative=True)
    q = as_positive_weights("q", q, n)

    low, same = _masks(blocks)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below as NonFiniteError
        Q = (G.T @ G + Ut @ Ut.T) / L
        P = 0.5 * Q + V.T @ V + eps * np.eye(n)
        P = 0.5 * (P + P.T)                             # exactly symmetric: lowblk(P)ᵀ = upper part
        lam = (np.where(same, np.abs(P), 0.0) @ q) / q  # scaled Gershgorin row sums inside each block
        lam = np.maximum(lam, LAM_FLOOR)
        W = (-2.0 * np.where(low, P, 0.0)) / lam[:, None]
        U = Ut / lam[:, None]
    for name, arr in (("P", P), ("lam", lam), ("W", W), ("U", U)):
        if not np.all(np.isfinite(arr)):
            raise NonFiniteError(f"dag_lben: {name} (shape {arr.shape}) overflowed; rescale G, Ut, V or L")
    return DAGLBEN(W=W, U=U, lam=lam, P=P, G=G, Ut=Ut, V=V, q=q, blocks=blocks, L=L, eps=eps)


def _psd_root(X: np.ndarray) -> np.ndarray:
    """Symmetric PSD square root, negative (rounding) eigenvalues clipped to 0."""
    w, E = np.linalg.eigh(0.5 * (X + X.T))
    return (E * np.sqrt(np.clip(w, 0.0, None))[None, :]) @ E.T


def dag_lben_to_lben_params(result: DAGLBEN) -> LBENParams:
    r"""Equivalent havens2023 eq. (7) parameters (module docstring, step 5):
    ``log_psi = −log λ``, ``G``, ``U = Λ⁻¹Ũ``, ``V' = [V; D^{1/2}]``, ``S' = −lowblk(P)``, so that
    ``LBEN(result.L, result.eps).forward(params) == result.W`` up to rounding."""
    if not isinstance(result, DAGLBEN):
        raise TypeError(f"dag_lben_to_lben_params: expected DAGLBEN, got {type(result).__name__}")
    n = result.n
    D = result.D
    Dh = np.zeros((n, n))
    off = result.offsets
    for a, b in zip(off[:-1], off[1:]):
        Dh[a:b, a:b] = _psd_root(D[a:b, a:b])
    low, _ = _masks(result.blocks)
    return LBENParams(log_psi=-np.log(result.lam), G=result.G, U=result.U,
                      V=np.vstack([result.V, Dh]), S=-np.where(low, result.P, 0.0))
