"""Certificates: the result of every check in :mod:`deqtheory`.

A :class:`Certificate` is never a bare bool. It carries

* ``status`` — a :class:`Status` whose members carry their own message;
* ``margin`` — the quantity the check proved (e.g. a lower bound on λ_min of an LMI
  matrix, ``1 - ‖·‖``, ``1 - μ``); by convention ``margin > 0`` is what *certified* means;
* ``witness`` — the object that makes the claim re-checkable (Γ, Λ, η, a vector, ...);
* ``tolerance``, ``residuals``, ``stats`` — how it was computed;
* ``verify(**problem)`` — recompute the certificate from the witness with numpy alone
  (dispatch through :func:`register_verifier`).

Only a *verified* margin (computed with the verified positive-definiteness test of
:mod:`deqtheory.verified` or an equivalent rounding-error bound) may carry
``Status.CERTIFIED``.
"""
from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Callable, Dict, Mapping

import numpy as np

__all__ = ["MessageEnum", "Status", "Certificate", "register_verifier", "verifier_for", "to_jsonable"]


class MessageEnum(enum.Enum):
    """Base of every status enum of :mod:`deqtheory`: members are ``(value, message)`` pairs;
    ``value`` is the machine name (JSON), ``message`` the human one."""

    def __new__(cls, value: str, message: str):
        obj = object.__new__(cls)
        obj._value_ = value
        obj.message = message
        return obj

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


class Status(MessageEnum):
    """Outcome of a check. ``value`` is the machine name, ``message`` the human one."""

    CERTIFIED = ("certified", "the condition holds; the margin was proved from the witness")
    REFUTED = ("refuted", "the condition fails; a counter-witness is attached")
    INCONCLUSIVE = ("inconclusive", "neither proved nor disproved within the tolerances used")
    SOLVER_ERROR = ("solver_error", "the numerical solver failed; nothing is claimed")
    NONFINITE_INPUT = ("nonfinite_input", "the input contains NaN or Inf; nothing is claimed")
    NOT_APPLICABLE = ("not_applicable", "the condition does not apply to this model")

    @property
    def ok(self) -> bool:
        """True only for :attr:`CERTIFIED`."""
        return self is Status.CERTIFIED

    @property
    def is_failure(self) -> bool:
        """True for statuses that mean 'the computation itself failed'."""
        return self in (Status.SOLVER_ERROR, Status.NONFINITE_INPUT)


_VERIFIERS: Dict[str, Callable[..., "Certificate"]] = {}


def register_verifier(condition: str) -> Callable[[Callable[..., "Certificate"]], Callable[..., "Certificate"]]:
    """Decorator: register ``fn(cert, **problem) -> Certificate`` as the verifier of ``condition``
    (a name of :data:`deqtheory.conditions.CONDITIONS`; legacy names are refused)."""
    from .conditions import CONDITIONS

    if condition not in CONDITIONS:
        raise KeyError(f"condition {condition!r} is not in deqtheory.conditions.CONDITIONS")

    def deco(fn: Callable[..., "Certificate"]) -> Callable[..., "Certificate"]:
        _VERIFIERS[condition] = fn
        return fn

    return deco


def verifier_for(condition: str) -> Callable[..., "Certificate"]:
    """The verifier of ``condition`` (legacy names map to their current name, see
    :mod:`deqtheory.conditions`; the modules that hold verifiers are imported on first need, so a
    certificate read from a file verifies without the caller importing anything first)."""
    from .conditions import CONDITIONS, canonical

    name = canonical(condition)
    if name not in _VERIFIERS and name in CONDITIONS:
        _import_verifier_modules()
    try:
        return _VERIFIERS[name]
    except KeyError:
        raise KeyError(f"no verifier registered for condition {condition!r}; "
                       f"known: {sorted(_VERIFIERS)}") from None


def _import_verifier_modules() -> None:
    """Import every module named in the ``module`` column of :mod:`deqtheory.conditions` (each
    registers its verifiers at import); ``tests/test_conditions.py`` checks the two lists agree."""
    from . import bounds, conv_ibp, conv_nemon, convert, explicit, graph, intervals, linalg, sdp, spectrum, verified  # noqa: F401
    from .parametrizations import cerdeq, gmondeq, ibp, lben, mondeq, noneuclidean  # noqa: F401
    from .sdp import conv  # noqa: F401


@dataclasses.dataclass(frozen=True)
class Certificate:
    """Result of checking one condition. Frozen; arrays in ``witness`` are not copied."""

    condition: str
    status: Status
    margin: float = float("nan")
    witness: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    tolerance: Mapping[str, float] = dataclasses.field(default_factory=dict)
    residuals: Mapping[str, float] = dataclasses.field(default_factory=dict)
    stats: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    message: str = ""

    @property
    def certified(self) -> bool:
        return self.status is Status.CERTIFIED

    def __bool__(self) -> bool:
        raise TypeError("a Certificate is not a bool: test `cert.certified` or `cert.status`")

    def verify(self, **problem: Any) -> "Certificate":
        """Re-check the witness against ``problem`` (e.g. ``W=...``) with numpy alone.

        Returns a fresh certificate whose margin was recomputed from the witness.
        """
        return verifier_for(self.condition)(self, **problem)

    def replace(self, **changes: Any) -> "Certificate":
        return dataclasses.replace(self, **changes)

    def to_dict(self, *, arrays: bool = True) -> Dict[str, Any]:
        """JSON-ready dict. Arrays become nested lists (or are summarised when ``arrays=False``)."""
        return {
            "condition": self.condition,
            "status": self.status.value,
            "margin": to_jsonable(self.margin),
            "witness": {k: to_jsonable(v) if arrays else _summary(v) for k, v in self.witness.items()},
            "tolerance": {k: to_jsonable(v) for k, v in self.tolerance.items()},
            "residuals": {k: to_jsonable(v) for k, v in self.residuals.items()},
            "stats": {k: to_jsonable(v) for k, v in self.stats.items()},
            "message": self.message,
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def _summary(v: Any) -> Any:
    if isinstance(v, np.ndarray) and v.size > 8:
        return {"shape": list(v.shape), "min": float(np.min(v)), "max": float(np.max(v))}
    return to_jsonable(v)


def to_jsonable(v: Any) -> Any:
    """Convert numpy scalars/arrays, enums and nested containers to JSON-compatible values.

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"`` (strict JSON)."""
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if np.isnan(x):
            return "nan"
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(v, np.ndarray):
        return to_jsonable(v.tolist())
    if isinstance(v, Mapping):
        return {str(k): to_jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x) for x in v]
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return to_jsonable(dataclasses.asdict(v))
    return v
