r"""Classifier pipelines: pre-stages → one model stage → head, as one model file (kind ``classifier``).

A :class:`Pipeline` is a tuple of stages applied in order to a batch ``X`` (rows = samples):

* :class:`Normalize` — the exact per-channel affine map :math:`x \mapsto (x - \mu_c)/\sigma_c` with
  ``mean``/``std`` *as stored* (one subtraction and one division per entry, the operations of
  ``deqtheory_train.data.Normalize``); acts on ``(B, C, …)`` images or channel-major ``(B, C·HW)`` rows;
* :class:`Flatten` (``(B, …) → (B, D)``, C order), :class:`ChannelPad` (zero channels appended, an ℓ2
  isometry), :class:`Linear` (``x ↦ xWᵀ + b``), :class:`ReLU`;
* :class:`Conv2d` (zero-padded strided cross-correlation, the ``torch.nn.Conv2d`` convention),
  :class:`BatchNorm` (eval mode: ``(x − μ_c)/√(var_c + ε)·γ_c + β_c`` with the stored running statistics),
  :class:`AvgPool2d` (``k × k`` windows, zero padding counted);
* model stages: any object that :func:`deqtheory.formats.save_model` writes (a DEQ family, an explicit
  net, a conv SLL stack, a conv LBEN, …), evaluated by :func:`deqtheory.formats.evaluate` (a dense DEQ
  answers its readout ``y = Gz + b_y``).

:meth:`Pipeline.model_stage` is the last model stage (the one ``deqtheory check`` / ``convert``
act on); ``deqtheory eval`` runs the whole pipeline. ``input_shape`` (optional) lets flattened
inputs be reshaped to images before the first stage.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._validate import as_array, as_matrix, as_vector
from .errors import DomainError, DTypeError, ShapeError

__all__ = ["Normalize", "Flatten", "ChannelPad", "Linear", "ReLU", "Conv2d", "BatchNorm", "AvgPool2d", "Pipeline",
           "STAGES", "stages_lipschitz"]


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


def _ints(obj: Any, *names: str, minimum: int = 0) -> None:
    for name in names:
        v = np.asarray(getattr(obj, name)).reshape(-1)
        if v.size != 1 or not float(v[0]).is_integer() or int(v[0]) < minimum:
            raise DomainError(f"{name}: expected an integer >= {minimum}, got {getattr(obj, name)!r}")
        object.__setattr__(obj, name, int(v[0]))


def _windows(X: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    """``(B, C, Ho, Wo, k, k)`` windows of the zero-padded images ``X`` (B, C, H, W)."""
    if padding:
        X = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    V = np.lib.stride_tricks.sliding_window_view(X, (k, k), axis=(2, 3))
    return V[:, :, ::stride, ::stride]


@dataclasses.dataclass(frozen=True, eq=False)
class Conv2d:
    r"""Zero-padded strided cross-correlation ``y[o] = Σ_{i,a,b} K[o,i,a,b]·x[i, s·r + a − p, s·t + b − p] + b_o``
    (``torch.nn.Conv2d`` with square ``k``, ``stride`` s, ``padding`` p, no dilation, groups 1); ``K``
    (c_out, c_in, k, k), ``b`` (c_out,) or ``None``. Lipschitz: ℓ∞ ≤ max_o Σ_{i,taps}|K[o,i]|, ℓ1 ≤
    max_i Σ_{o,taps}|K[o,i]| (each tap sends an input pixel to at most one output), ℓ2 ≤ √(ℓ1·ℓ∞)."""

    K: np.ndarray
    b: Optional[np.ndarray] = None
    stride: int = 1
    padding: int = 0

    def __post_init__(self) -> None:
        K = as_array("K", self.K, ndim=4)
        if K.shape[2] != K.shape[3]:
            raise ShapeError(f"K: expected a square kernel (c_out, c_in, k, k), got {K.shape}")
        object.__setattr__(self, "K", K)
        if self.b is not None:
            object.__setattr__(self, "b", as_vector("b", self.b, n=K.shape[0]))
        _ints(self, "stride", minimum=1)
        _ints(self, "padding")

    def arrays(self) -> Dict[str, Any]:
        out = {"K": self.K, "stride": np.asarray(self.stride), "padding": np.asarray(self.padding)}
        if self.b is not None:
            out["b"] = self.b
        return out

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 4 or X.shape[1] != self.K.shape[1]:
            raise ShapeError(f"X: expected (B, {self.K.shape[1]}, H, W), got {X.shape}")
        V = _windows(X, self.K.shape[2], self.stride, self.padding)
        Y = np.einsum("bihwuv,oiuv->bohw", V, self.K, optimize=True)
        return Y if self.b is None else Y + self.b[None, :, None, None]

    def norms(self) -> Tuple[float, float]:
        """Proved (ℓ1, ℓ∞) operator-norm bounds (docstring), rounded up."""
        from .verified import round_up
        A = np.abs(self.K).sum(axis=(2, 3))
        T = self.K.shape[1] * self.K.shape[2] ** 2
        g = 1.0 + 1e-6 + 2 * T * 2.0 ** -53          # covers the float sums of ≤ c·k² terms
        return round_up(float(A.sum(axis=0).max()) * g), round_up(float(A.sum(axis=1).max()) * g)


@dataclasses.dataclass(frozen=True, eq=False)
class BatchNorm:
    r"""Eval-mode batch normalisation on channel 1: ``(x − mean_c)/√(var_c + eps)·weight_c + bias_c``
    (``torch.nn.BatchNorm1d/2d`` in eval mode with its running statistics; ``weight``/``bias`` None:
    not affine). Lipschitz (ℓ2 and ℓ∞): max_c |weight_c|/√(var_c + eps)."""

    mean: np.ndarray
    var: np.ndarray
    eps: float
    weight: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        mean = as_vector("mean", self.mean)
        C = mean.shape[0]
        var = as_vector("var", self.var, n=C)
        eps = float(np.asarray(self.eps).reshape(-1)[0])
        if not (np.all(var >= 0) and eps > 0):
            raise DomainError(f"var, eps: need var >= 0 and eps > 0 (shape {var.shape})")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "var", var)
        object.__setattr__(self, "eps", eps)
        for name in ("weight", "bias"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, as_vector(name, getattr(self, name), n=C))

    def arrays(self) -> Dict[str, Any]:
        out = {"mean": self.mean, "var": self.var, "eps": np.asarray(self.eps)}
        out.update({k: v for k in ("weight", "bias") if (v := getattr(self, k)) is not None})
        return out

    def __call__(self, X: np.ndarray) -> np.ndarray:
        C = self.mean.shape[0]
        if X.ndim < 2 or X.shape[1] != C:
            raise ShapeError(f"X: expected (B, {C}, ...), got {X.shape}")
        shp = (1, C) + (1,) * (X.ndim - 2)
        Y = (X - self.mean.reshape(shp)) / np.sqrt(self.var + self.eps).reshape(shp)
        if self.weight is not None:
            Y = Y * self.weight.reshape(shp)
        if self.bias is not None:
            Y = Y + self.bias.reshape(shp)
        return Y

    def lipschitz(self) -> float:
        from .verified import round_up
        w = np.ones_like(self.mean) if self.weight is None else np.abs(self.weight)
        return round_up(float(np.max(w / np.sqrt(self.var + self.eps))) * (1 + 1e-12))


@dataclasses.dataclass(frozen=True, eq=False)
class AvgPool2d:
    r"""Average over ``k × k`` windows with ``stride`` and zero ``padding`` (padding counted, as
    ``torch.nn.AvgPool2d(count_include_pad=True)``, no ceil mode). Lipschitz: ℓ∞ ≤ 1, ℓ2 ≤ ⌈k/s⌉/k."""

    k: int
    stride: int
    padding: int = 0

    def __post_init__(self) -> None:
        _ints(self, "k", "stride", minimum=1)
        _ints(self, "padding")

    def arrays(self) -> Dict[str, Any]:
        return {"k": np.asarray(self.k), "stride": np.asarray(self.stride), "padding": np.asarray(self.padding)}

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 4:
            raise ShapeError(f"X: expected (B, C, H, W), got {X.shape}")
        return _windows(X, self.k, self.stride, self.padding).mean(axis=(-2, -1))


#: stage kind → class (the stages that are not models)
STAGES = {"normalize": Normalize, "flatten": Flatten, "channel_pad": ChannelPad, "linear": Linear, "relu": ReLU,
          "conv2d": Conv2d, "batchnorm": BatchNorm, "avgpool2d": AvgPool2d}


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

    def model_stages(self) -> List[Any]:
        """Every stage that is a model (not one of :data:`STAGES`), in order (several DEQs in sequence)."""
        models = [s for s in self.stages if not isinstance(s, tuple(STAGES.values()))]
        if not models:
            raise ShapeError(f"stages: a classifier needs a model stage, got {[type(s).__name__ for s in self.stages]}")
        return models

    def model_stage(self) -> Any:
        """The last stage that is a model (not one of :data:`STAGES`)."""
        return self.model_stages()[-1]

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
    :func:`deqtheory.bounds.norm_inf_upper`), Conv2d / BatchNorm / AvgPool2d (their docstrings),
    Flatten, ChannelPad (zero channels) and ReLU 1; ``inf``
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
        elif isinstance(st, Conv2d):
            n1, ninf = st.norms()
            L = up(L * (up(float(np.sqrt(up(n1 * ninf)))) if norm == "2" else ninf))
        elif isinstance(st, BatchNorm):
            L = up(L * st.lipschitz())
        elif isinstance(st, AvgPool2d):
            L = up(L * (up(-(-st.k // st.stride) / st.k) if norm == "2" else 1.0))
        elif not isinstance(st, (Flatten, ChannelPad, ReLU)):
            return float("inf")
    return L
