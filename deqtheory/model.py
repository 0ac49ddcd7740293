r"""The ReLU deep equilibrium model :math:`z = \sigma(Wz + Ux + b)`, :math:`y = Gz + b_y`, :math:`\sigma = \mathrm{ReLU}`.

Conventions (docs/conventions.md): linear maps act on column vectors; ``W`` is (n, n), ``U`` is
(n, d), ``b`` is (n,), ``G`` is (p, n), ``b_y`` is (p,). A batch of inputs is an array ``X`` of
shape (batch, d), giving ``Z`` (batch, n) and ``Y`` (batch, p). Defaults: ``U = None`` means the
identity (so d = n, the input is injected unchanged), ``b`` and ``b_y`` default to zeros, ``G =
None`` means the identity (so p = n and the output is z itself). The defaults are materialised
(``model.U`` is always an array) so every downstream formula sees explicit matrices.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Optional

import numpy as np

from . import solvers
from ._validate import as_array, as_matrix, as_square, as_vector
from .errors import ConvergenceWarning, ShapeError

__all__ = ["DEQ", "dimension"]


def dimension(array: str, axis: int, doc: str) -> property:
    """A read-only ``int`` property: ``getattr(self, array).shape[axis]`` (the shape accessors of the
    model dataclasses: ``DEQ.n``, ``ConvResidualLayer.c``, …)."""
    return property(lambda self: int(getattr(self, array).shape[axis]), doc=doc)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True, eq=False)
class DEQ:
    r"""A validated, immutable ReLU DEQ :math:`z^\star = \mathrm{ReLU}(Wz^\star + Ux + b)`, :math:`y = Gz^\star + b_y`.

    Parameters
    ----------
    W : (n, n) array.  U : (n, d) array or ``None`` (identity, d = n).  b : (n,) or ``None`` (zeros).
    G : (p, n) array or ``None`` (identity, p = n).  b_y : (p,) or ``None`` (zeros).
    identity_mask : bool (n,) or ``None`` (all False) — coordinates whose activation is the
        identity instead of ReLU, :math:`z = \phi(Wz + Ux + b)` with :math:`\phi_i = \mathrm{id}` where
        True (havens2023 eq. 13 / footnote 3, the SLL → LBEN skip block). Stored as a read-only
        bool array (all False by default); every solver method honours it.

    All arrays are copied to read-only float64 arrays. Bad shapes / NaN / Inf / non-numeric dtypes
    raise the typed errors of :mod:`deqtheory.errors` naming the argument and its shape.

    >>> import numpy as np
    >>> model = DEQ(np.array([[0.5, 0.0], [0.3, 0.2]]), G=np.array([[1.0, -1.0]]))
    >>> (model.n, model.d, model.p)
    (2, 2, 1)
    >>> res = model.solve(np.array([1.0, 2.0]))
    >>> res.converged and model.fixed_point_residual(res.z, np.array([1.0, 2.0])) <= res.tol
    True
    """

    W: np.ndarray
    U: Optional[np.ndarray] = None
    b: Optional[np.ndarray] = None
    G: Optional[np.ndarray] = None
    b_y: Optional[np.ndarray] = None
    identity_mask: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        W = as_square("W", self.W)
        n = W.shape[0]
        U = np.eye(n) if self.U is None else as_matrix("U", self.U, shape=(n, None))
        b = np.zeros(n) if self.b is None else as_vector("b", self.b, n=n)
        G = np.eye(n) if self.G is None else as_matrix("G", self.G, shape=(None, n))
        p = G.shape[0]
        b_y = np.zeros(p) if self.b_y is None else as_vector("b_y", self.b_y, n=p)
        for name, arr in (("W", W), ("U", U), ("b", b), ("G", G), ("b_y", b_y)):
            object.__setattr__(self, name, _readonly(arr))
        m = solvers.as_identity_mask(self.identity_mask, n)
        mask = np.zeros(n, dtype=bool) if m is None else np.array(m, dtype=bool)
        mask.setflags(write=False)
        object.__setattr__(self, "identity_mask", mask)

    @property
    def _mask(self) -> Optional[np.ndarray]:
        return self.identity_mask if self.identity_mask.any() else None

    # shapes -------------------------------------------------------------------------------------
    n = dimension("W", 0, "Hidden width (order of W).")
    d = dimension("U", 1, "Input dimension (columns of U).")
    p = dimension("G", 0, "Output dimension (rows of G).")

    def __repr__(self) -> str:
        return f"DEQ(n={self.n}, d={self.d}, p={self.p})"

    # computation --------------------------------------------------------------------------------
    def injection(self, x: Any) -> np.ndarray:
        """:math:`v = Ux + b`: (n,) for x (d,), (batch, n) for X (batch, d)."""
        X = self._inputs(x)
        return X @ self.U.T + self.b

    def solve(self, x: Any, method: str = "auto", tol: Optional[float] = None, max_iter: Optional[int] = None,
              **options: Any) -> solvers.FixedPointResult:
        """Fixed point(s) for ``x`` (d,) or ``X`` (batch, d); see :func:`deqtheory.solvers.solve`
        for ``method`` (default ``"auto"``), ``tol`` (residual tolerance) and ``options``."""
        options.setdefault("identity_mask", self._mask)
        return solvers.solve(self.W, self.U, self.b, x, method=method, tol=tol, max_iter=max_iter, **options)

    def output(self, z: Any) -> np.ndarray:
        """:math:`y = Gz + b_y` for z (n,) or Z (batch, n)."""
        Z = as_array("z", z)
        if Z.ndim not in (1, 2) or Z.shape[-1] != self.n:
            raise ShapeError(f"z: expected shape ({self.n},) or (batch, {self.n}), got {Z.shape}")
        return Z @ self.G.T + self.b_y

    def __call__(self, x: Any, method: str = "auto", tol: Optional[float] = None,
                 max_iter: Optional[int] = None, **options: Any) -> np.ndarray:
        """:math:`y = Gz^\\star(x) + b_y`. Emits :class:`~deqtheory.errors.ConvergenceWarning` (with the
        solver's message) when the fixed point was not found to tolerance; use :meth:`solve` to get
        the status as a value."""
        res = self.solve(x, method=method, tol=tol, max_iter=max_iter, **options)
        if not res.converged:
            warnings.warn(res.message, ConvergenceWarning, stacklevel=2)
        return self.output(res.z)

    def fixed_point_residual(self, z: Any, x: Any, norm: Any = 2) -> "float | np.ndarray":
        r""":math:`\|z - \phi(Wz + Ux + b)\|` per sample (ℓ2, or ℓ∞ with ``norm="inf"``; φ = ReLU
        except the identity on ``identity_mask``); a float for a single input."""
        return solvers.fixed_point_residual(self.W, self.U, self.b, z, x, norm=norm, identity_mask=self._mask)

    def _inputs(self, x: Any) -> np.ndarray:
        X = as_array("x", x)
        if X.ndim not in (1, 2) or X.shape[-1] != self.d:
            raise ShapeError(f"x: expected shape ({self.d},) or (batch, {self.d}) to match U of shape "
                             f"{self.U.shape}, got {X.shape}")
        return X
