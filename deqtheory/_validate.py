"""Input validation shared by every public function (one validator per kind of argument).

Every validator returns a new float64 array (or float) and raises a subclass of
:class:`deqtheory.errors.DEQInputError` whose message names the argument and its shape.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from .errors import DomainError, DTypeError, EmptyArrayError, InexactValueError, NonFiniteError, ShapeError

__all__ = ["as_exact_float64", "as_array", "as_matrix", "as_square", "as_vector", "as_scalar", "as_positive_diagonal"]


def _describe(a: Any) -> str:
    shape = getattr(a, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else f"type {type(a).__name__}"


def as_exact_float64(name: str, arr: np.ndarray) -> np.ndarray:
    r"""``arr`` as a new float64 array, only when the cast is exact: :math:`\mathrm{fl}_{64}(a_i) = a_i`
    for every entry (compared by casting back to the stored dtype). Bool, float16/32/64 and
    (u)int8–32 are exact by construction; int64/uint64 beyond :math:`2^{53}` and ``longdouble``
    entries that round (or overflow / underflow) raise :class:`InexactValueError` naming the array,
    its dtype and the first offending index. NaN/Inf are left to the finiteness check."""
    dt = arr.dtype
    exact_kind = dt.kind == "b" or (dt.kind in "iu" and dt.itemsize <= 4) or (dt.kind == "f" and dt.itemsize <= 8)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = arr.astype(np.float64, copy=True)
        if exact_kind or arr.size == 0:
            return out
        if dt.kind in "iu":
            lo, hi = (0.0, 2.0 ** (8 * dt.itemsize)) if dt.kind == "u" else \
                (-(2.0 ** (8 * dt.itemsize - 1)), 2.0 ** (8 * dt.itemsize - 1))
            inrange = (out >= lo) & (out < hi)
            back = np.where(inrange, out, 0.0).astype(dt)
            bad = ~inrange | (back != arr)
        else:  # longdouble / float128 (and any wider real float)
            back = out.astype(dt)
            bad = (back != arr) & ~(np.isnan(arr) & np.isnan(out))
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        val = str(arr[idx]) if dt.kind in "iu" else np.format_float_scientific(arr[idx], unique=True)
        raise InexactValueError(
            f"{name}: dtype {dt} entry {idx} = {val} is not exactly representable in float64 "
            f"(it would be rounded to {float(out[idx])!r}; {int(np.count_nonzero(bad))} such entr"
            f"{'y' if np.count_nonzero(bad) == 1 else 'ies'} in {_describe(arr)}); store the model as float64")
    return out


def as_array(name: str, a: Any, *, ndim: Optional[int] = None, check_finite: bool = True,
             allow_empty: bool = False) -> np.ndarray:
    """Convert ``a`` to a float64 array, checking dtype, dimensions, emptiness, exactness of the cast
    (:func:`as_exact_float64`: the array analysed is the array stored) and finiteness."""
    if a is None:
        raise DTypeError(f"{name}: expected an array, got None")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists etc.
        raise ShapeError(f"{name}: cannot be converted to an array ({exc})") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name}: dtype {arr.dtype} is not real numeric ({_describe(arr)})")
    if ndim is not None and arr.ndim != ndim:
        raise ShapeError(f"{name}: expected a {ndim}-d array, got {_describe(arr)}")
    if not allow_empty and arr.size == 0:
        raise EmptyArrayError(f"{name}: array is empty ({_describe(arr)})")
    arr = as_exact_float64(name, arr)
    if check_finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"{name}: {bad} non-finite entr{'y' if bad == 1 else 'ies'} (NaN/Inf) in {_describe(arr)}")
    return arr


def as_matrix(name: str, a: Any, *, shape: Optional[Sequence[Optional[int]]] = None,
              check_finite: bool = True) -> np.ndarray:
    """A 2-d float64 array; ``shape`` may fix either dimension (``None`` = free)."""
    arr = as_array(name, a, ndim=2, check_finite=check_finite)
    if shape is not None:
        for axis, want in enumerate(shape):
            if want is not None and arr.shape[axis] != want:
                raise ShapeError(
                    f"{name}: expected shape {tuple('*' if s is None else s for s in shape)}, got {arr.shape}")
    return arr


def as_square(name: str, a: Any, *, n: Optional[int] = None, check_finite: bool = True) -> np.ndarray:
    """A square 2-d float64 array (optionally of order ``n``)."""
    arr = as_matrix(name, a, check_finite=check_finite)
    if arr.shape[0] != arr.shape[1]:
        raise ShapeError(f"{name}: expected a square matrix, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ShapeError(f"{name}: expected shape ({n}, {n}), got {arr.shape}")
    return arr


def as_vector(name: str, a: Any, *, n: Optional[int] = None, check_finite: bool = True) -> np.ndarray:
    """A 1-d float64 array (optionally of length ``n``)."""
    arr = as_array(name, a, ndim=1, check_finite=check_finite)
    if n is not None and arr.shape[0] != n:
        raise ShapeError(f"{name}: expected shape ({n},), got {arr.shape}")
    return arr


def as_scalar(name: str, v: Any, *, positive: bool = False, nonnegative: bool = False,
              upper: Optional[float] = None, strict_upper: bool = False) -> float:
    """A finite real scalar, optionally constrained to ``> 0`` / ``>= 0`` / ``< upper``."""
    if isinstance(v, (bool, np.bool_)):
        raise DTypeError(f"{name}: expected a real number, got bool")
    if isinstance(v, np.ndarray):
        if v.size != 1:
            raise ShapeError(f"{name}: expected a scalar, got shape {v.shape}")
        v = v.reshape(())[()]
    if isinstance(v, (complex, np.complexfloating)):
        raise DTypeError(f"{name}: expected a real number, got complex {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise DTypeError(f"{name}: expected a real number, got {type(v).__name__}") from None
    if not math.isfinite(x):
        raise NonFiniteError(f"{name}: must be finite, got {x}")
    if positive and not x > 0:
        raise DomainError(f"{name}: must be > 0, got {x}")
    if nonnegative and not x >= 0:
        raise DomainError(f"{name}: must be >= 0, got {x}")
    if upper is not None:
        if strict_upper and not x < upper:
            raise DomainError(f"{name}: must be < {upper}, got {x}")
        if not strict_upper and not x <= upper:
            raise DomainError(f"{name}: must be <= {upper}, got {x}")
    return x


def as_positive_weights(name: str, w: Any, n: int) -> np.ndarray:
    """A vector of ``n`` positive weights, or ones when ``w`` is None. :class:`DomainError` names the
    first non-positive entry; :class:`ShapeError` for a wrong length."""
    if w is None:
        return np.ones(n)
    w = as_vector(name, w, n=n)
    if np.any(w <= 0):
        i = int(np.argmin(w))
        raise DomainError(f"{name}: entries must be > 0, entry {i} is {w[i]} (shape {w.shape})")
    return w


def as_positive_diagonal(name: str, d: Any, *, n: Optional[int] = None) -> np.ndarray:
    """The positive diagonal of a diagonal matrix, given as a vector or as a diagonal matrix.

    Returns the 1-d vector of diagonal entries. Raises :class:`DomainError` if an entry is <= 0
    and :class:`ShapeError` if a matrix argument has non-zero off-diagonal entries.
    """
    arr = as_array(name, d)
    if arr.ndim == 2:
        if arr.shape[0] != arr.shape[1]:
            raise ShapeError(f"{name}: expected a square diagonal matrix or a vector, got shape {arr.shape}")
        off = arr - np.diag(np.diag(arr))
        if np.any(off != 0):
            raise ShapeError(f"{name}: matrix of shape {arr.shape} is not diagonal")
        arr = np.diag(arr).copy()
    elif arr.ndim != 1:
        raise ShapeError(f"{name}: expected a vector or a diagonal matrix, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ShapeError(f"{name}: expected {n} diagonal entries, got shape {arr.shape}")
    if np.any(arr <= 0):
        i = int(np.argmin(arr))
        raise DomainError(f"{name}: diagonal must be positive, entry {i} is {arr[i]} (shape {arr.shape})")
    return arr
