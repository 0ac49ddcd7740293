"""Typed errors and warnings of :mod:`deqtheory`.

Three levels of failure (following scipy's ``_asarray_validated`` / geotorch's
``exceptions.py``):

* **bad input** — a subclass of :class:`DEQInputError` (itself a ``ValueError``).
  Messages name the argument and, where it matters, the offending shape.
* **mathematical failure** — :class:`DEQLinAlgError` (a
  ``numpy.linalg.LinAlgError``), e.g. a factorization that cannot exist.
* **numerical caution** — :class:`IllConditionedWarning`.

An *infeasible* condition is never an exception: it is a result with status
``REFUTED`` or ``INCONCLUSIVE`` (see :mod:`deqtheory.certificates`).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "DEQInputError",
    "ShapeError",
    "NonFiniteError",
    "DTypeError",
    "InexactValueError",
    "EmptyArrayError",
    "DomainError",
    "ModelFileError",
    "DEQLinAlgError",
    "IllConditionedWarning",
    "ConvergenceWarning",
]


class DEQInputError(ValueError):
    """Base class of every bad-input error raised by :mod:`deqtheory`."""


class ShapeError(DEQInputError):
    """An array has the wrong number of dimensions or an inconsistent shape."""


class NonFiniteError(DEQInputError):
    """An array contains NaN or ±Inf."""


class DTypeError(DEQInputError):
    """An array has a dtype that is not real floating point / integer / bool."""


class InexactValueError(DTypeError):
    """An array's stored values are not exactly representable in float64 (an integer beyond 2**53, a
    ``longdouble`` entry that rounds): analysing the rounded array would certify a different model."""


class EmptyArrayError(DEQInputError):
    """An array has a zero-length axis."""


class DomainError(DEQInputError):
    """A scalar or array lies outside its mathematical domain
    (m <= 0, L <= 0, eps < 0, a non-positive diagonal where a positive one is required, ...)."""


class ModelFileError(DEQInputError):
    """A model / certificate file cannot be read: not an npz, truncated, missing arrays."""


class DEQLinAlgError(np.linalg.LinAlgError):
    """A mathematical failure (e.g. the matrix has no factorization of the required kind)."""


class IllConditionedWarning(UserWarning):
    """The computation succeeded but its accuracy may be poor."""


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before reaching its tolerance."""
