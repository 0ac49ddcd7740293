r"""Classifier pipelines: pre-stages → one model stage → head, as one model file (kind ``classifier``).

A :class:`Pipeline` is a tuple of stages applied in order to a batch ``X`` (rows = samples):

* :class:`Normalize` — the exact per-channel affine map :math:`x \mapsto (x - \mu_c)/\sigma_c` with
  ``mean``/``std`` *as stored* (one subtraction and one division per entry, the operations of
  ``deqtheory_train.data.Normalize``); acts on ``(B, C, …)`` images or channel-major ``(B, C·HW)`` rows;
* :class:`Flatten` (``(B, …) → (B, D)``, C order), :class:`ChannelPad` (zero channels appended, an ℓ2
  isometry), :class:`Linear` (``x ↦ xWᵀ + b``), :class:`ReLU`;
* model stages: any object that :func:`deqtheory.formats.save_model` writes (a DEQ family, an explicit
  net, a conv SLL stack, a conv LBEN, …), evaluated by :func:`deqtheory.formats.evaluate` (a dense DEQ
  answers its readout ``y = Gz + b_y``).

:meth:`Pipeline.model_stage` is the last model stage (the one ``deqtheory check`` / ``convert``
act on); ``deqtheory eval`` runs the whole pipeline. ``input_shape`` (optional) lets flattened
inputs be reshaped to images before the first stage.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Tuple

import numpy as np

from ._validate import as_array, as_matrix, as_vector
from .errors import DomainError, DTypeError, ShapeError

__all__ = ["Normalize", "Flatten", "ChannelPad", "Linear", "ReLU", "Pipeline", "STAGES", "stages_lipschitz"]


def _fields(obj: Any) -> Dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


@dataclasses.dataclass(frozen=True, eq=False)
class Normalize:
    r"""Per-channel standardisation :math:`x \mapsto (x - \mu_c)/\sigma_c`, ``mean``, ``std`` (C,), σ > 0.
    ℓ2/ℓ∞ Lipschitz constant :math:`\max_c 1/\sigma_c`."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        mean = as_vector("mean", self.mean)
        std = as_vector("std", self.std, n=mean.shape[0])
        if not np.all(std > 0):
            raise DomainError(f"std: must be > 0, shape {std.shape}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    def arrays(self) -> Dict[str, Any]:
        return _fields(self)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        C = self.mean.shape[0]
        rows_ok = X.ndim == 2 and X.shape[1] % C == 0
        if not (rows_ok or (X.ndim > 2 and X.shape[1] == C)):
            raise ShapeError(f"X: expected (B, {C}, ...) images or (B, {C}·k) rows, got {X.shape}")
        X3 = X.reshape(X.shape[0], C, -1)
        return ((X3 - self.mean[None, :, None]) / self.std[None, :, None]).reshape(X.shape)


@dataclasses.dataclass(frozen=True, eq=False)
class Flatten:
    """``(B, …) → (B, D)`` (C order, channel-major for images)."""

    def arrays(self) -> Dict[str, Any]:
        return {}

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return X.reshape(X.shape[0], -1)


@dataclasses.dataclass(frozen=True, eq=False)
class ChannelPad:
    """``(B, c_in, N, N) → (B, c, N, N)``: zero channels appended (an ℓ2 isometry)."""

    c_in: int
    c: int

    def __post_init__(self) -> None:
        c_in, c = (int(np.asarray(v).reshape(-1)[0]) for v in (self.c_in, self.c))
        if not 1 <= c_in <= c:
            raise DomainError(f"c_in, c: need 1 <= c_in <= c, got {c_in}, {c}")
        object.__setattr__(self, "c_in", c_in)
        object.__setattr__(self, "c", c)

    def arrays(self) -> Dict[str, Any]:
        return {"c_in": np.asarray(self.c_in), "c": np.asarray(self.c)}

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 4 or X.shape[1] != self.c_in:
            raise ShapeError(f"X: expected (B, {self.c_in}, N, N), got {X.shape}")
        pad = np.zeros((X.shape[0], self.c - self.c_in) + X.shape[2:])
        return np.concatenate([X, pad], axis=1)


@dataclasses.dataclass(frozen=True, eq=False)
class Linear:
    """``x ↦ xWᵀ + b``, ``W`` (out, in), ``b`` (out,) or ``None`` (zeros)."""

    W: np.ndarray
    b: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        W = as_matrix("W", self.W)
        object.__setattr__(self, "W", W)
        if self.b is not None:
            object.__setattr__(self, "b", as_vector("b", self.b, n=W.shape[0]))

    def arrays(self) -> Dict[str, Any]:
        return _fields(self)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 2 or X.shape[1] != self.W.shape[1]:
            raise ShapeError(f"X: expected (B, {self.W.shape[1]}), got {X.shape}")
        Y = X @ self.W.T
        return Y if self.b is None else Y + self.b


@dataclasses.dataclass(frozen=True, eq=False)
class ReLU:
    """``x ↦ max(x, 0)``."""

    def arrays(self) -> Dict[str, Any]:
        return {}

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.maximum(X, 0.0)


#: stage kind → class (the stages that are not models)
STAGES = {"normalize": Normalize, "flatten": Flatten, "channel_pad": ChannelPad, "linear": Linear, "relu": ReLU}


@dataclasses.dataclass(frozen=True, eq=False)
class Pipeline:
    """A classifier: ``stages`` applied in order (module docstring); at least one model stage."""

    stages: Tuple[Any, ...]
    input_shape: Optional[Tuple[int, ...]] = None

    def __post_init__(self) -> None:
        if isinstance(self.stages, np.ndarray) or not isinstance(self.stages, (list, tuple)):
            raise DTypeError(f"stages: expected a list/tuple of stages, got {type(self.stages).__name__}")
        object.__setattr__(self, "stages", tuple(self.stages))
        if self.input_shape is not None:
            shp = tuple(int(s) for s in as_array("input_shape", np.asarray(self.input_shape, dtype=float), ndim=1))
            object.__setattr__(self, "input_shape", shp)
        self.model_stage()

    def model_stage(self) -> Any:
        """The last stage that is a model (not one of :data:`STAGES`)."""
        models = [s for s in self.stages if not isinstance(s, tuple(STAGES.values()))]
        if not models:
            raise ShapeError(f"stages: a classifier needs a model stage, got {[type(s).__name__ for s in self.stages]}")
        return models[-1]

    def stage_lipschitz(self, norm: str = "2") -> Tuple[float, float]:
        r"""Proved upper bounds ``(before, after)`` on the Lipschitz constants (:func:`stages_lipschitz`)
        of the stages before and after :meth:`model_stage`: the classifier is Lipschitz with
        ``before · L_model · after`` for any proved ``L_model`` of the model stage (rounded up)."""
        k = self.stages.index(self.model_stage())
        return stages_lipschitz(self.stages[:k], norm), stages_lipschitz(self.stages[k + 1:], norm)

    def __call__(self, X: Any, **kw: Any) -> np.ndarray:
        from .formats import evaluate

        return evaluate(("classifier", self), X, **kw)[0]


def stages_lipschitz(stages: Any, norm: str = "2") -> float:
    r"""A proved upper bound on the ℓ2 (``norm="2"``) or ℓ∞ (``"inf"``) Lipschitz constant of the
    composition of ``stages``: Normalize ``max 1/σ`` (the map is ``diag(1/σ)`` on the stored σ; the
    constant is rounded up), Linear ``‖W‖`` (:func:`deqtheory.linalg.norm2_upper_bound` /
    :func:`deqtheory.bounds.norm_inf_upper`), Flatten, ChannelPad (zero channels) and ReLU 1; ``inf``
    for a model stage (its constant is not closed-form here). Products are rounded up."""
    from .bounds import norm_inf_upper
    from .linalg import norm2_upper_bound
    from .verified import round_up as up

    if norm not in ("2", "inf"):
        raise DomainError(f"norm: expected '2' or 'inf', got {norm!r}")
    L = 1.0
    for st in stages:
        if isinstance(st, Normalize):
            L = up(L * up(float(np.max(1.0 / st.std))))
        elif isinstance(st, Linear):
            L = up(L * (norm2_upper_bound(st.W) if norm == "2" else norm_inf_upper(st.W)))
        elif not isinstance(st, (Flatten, ChannelPad, ReLU)):
            return float("inf")
    return L
