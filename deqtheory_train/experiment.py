r"""Experiments: config schema, model and certifier registries, pickle-free checkpoints, the
training driver (:func:`run_experiment`) and the certification driver (:func:`certify_model`).

Config schema (JSON, or TOML on Python ≥ 3.11; unknown keys are errors)::

    {
      "name": "mlp_mnist",                 # run name (default output dir runs/<name>)
      "seed": 0,
      "epochs": 10,
      "dtype": "float32",                  # or "float64"
      "norm": "inf",                       # threat model of the training ε ("inf" | "2")
      "model":     {"builder": "mlp", "kwargs": {"hidden": [128], "normalize": {"mean": [0.1307], "std": [0.3081]}}},
      "data":      {"dataset": "mnist", "kwargs": {}, "train_split": "train", "test_split": "test",
                    "train_subset": null, "test_subset": null, "batch_size": 128, "eval_batch_size": 1000},
      "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.999], "weight_decay": 0.0, "eps": 1e-8},
      "schedule":  {"name": "step", "milestones": [120, 280], "gamma": 0.2, "warmup_epochs": 0,
                    "start_factor": 0.0, "end_factor": 0.0},
      "grad_clip": 10.0,                   # max ℓ2 gradient norm, or null
      "loss":      {"name": "ibp", "kwargs": {}},
      "eps_schedule":   {"end_value": 0.1, "start_epoch": 1, "ramp_epochs": 79, "shape": "smooth"},
      "kappa_schedule": {"start_value": 1.0, "end_value": 0.5, "start_epoch": 1, "ramp_epochs": 79},
      "checkpoint": {"every_steps": 500},  # plus one at every epoch end
      "log": {"every_steps": 50, "progress": true, "plot_every_epochs": 1},
      "eval": {"every_epochs": 1},
      "certify": {"certifier": null, "norm": "2", "eps": [0.1, 0.3], "max_samples": null, "at_end": true},
      "paper": [{"label": "havens2023 Table 1", "norm": "2", "eps": [1.58], "certified_accuracy": [0.0]}],
      "notes": "free text"
    }

``batch_size`` is the **global** batch size (divided evenly over DDP ranks; see
:func:`deqtheory_train.data.batch_indices`). ``eps_schedule``/``kappa_schedule`` are
:class:`deqtheory_train.train.Ramp` fields (ε defaults to 0, κ to 1). ``paper`` holds reference
numbers (fractions in [0, 1]) drawn over the certified-accuracy plot.

Model builders (:func:`register_model`) have the signature
``builder(input_shape: (C, H, W), num_classes: int, **kwargs) -> nn.Module``; the module maps raw
[0, 1] pixels (N, C, H, W) to logits (N, p) — normalisation lives *inside* the model (use
:class:`deqtheory_train.data.Normalize`), so ε is always in pixel units. Optional protocol:
``interval_logits(lower, upper)`` (IBP training loss), ``last_solve_stats`` on submodules (progress
bars; see :func:`deqtheory_train.train.collect_solve_stats`), ``default_certifier`` (a name).

Certifiers (:func:`register_certifier`) have the signature
``fn(model, x: ndarray (N, C, H, W), y: ndarray (N,), *, norm: str, eps: Sequence[float], **kw)
-> CertifyOutput``; ``certified[i, k]`` may be True only if *proved* that every x' with
‖x' − x_i‖ ≤ eps[k] (ℓ∞: intersected with [0, 1]^d) is classified y_i by the exact real-arithmetic
function defined by the stored parameters.

Checkpoints are single ``.npz`` files read with ``allow_pickle=False``: tensors as arrays, everything
else (config, counters, RNG states, optimizer hyper-parameters) as a JSON document stored in the
uint8 array ``__meta__``. Loading an untrusted checkpoint cannot run code.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import pathlib
import random
import tempfile
import time
import zipfile
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from . import data as D
from . import train as T

__all__ = [
    "ConfigError", "CheckpointError", "load_config", "validate_config", "bundled_configs",
    "register_model", "build_model", "available_models", "register_certifier", "get_certifier",
    "available_certifiers", "CertifyOutput", "MLP", "certify_mlp", "save_checkpoint", "load_checkpoint",
    "state_to_tree", "tree_to_state", "run_experiment", "certify_model", "load_model_file",
    "summarize_certification",
]

CONFIG_DIR = pathlib.Path(__file__).with_name("configs")
HANG_ENV = "DEQTHEORY_TRAIN_TEST_HANG_AFTER_STEP"   # fault injection for the kill/resume test


class ConfigError(ValueError):
    """A config is malformed (unknown key, wrong type, inconsistent values)."""


class CheckpointError(ValueError):
    """A checkpoint or model file is missing, corrupt, or does not match the run."""


# ----------------------------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------------------------

_DEFAULTS: Dict[str, Any] = {
    "name": "run", "seed": 0, "epochs": 1, "dtype": "float32", "norm": "inf",
    "model": {"builder": None, "kwargs": {}},
    "data": {"dataset": None, "kwargs": {}, "train_split": "train", "test_split": "test",
             "train_subset": None, "test_subset": None, "batch_size": 128, "eval_batch_size": 1000},
    "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.999], "weight_decay": 0.0, "eps": 1e-8,
                  "momentum": 0.0, "nesterov": False},
    "schedule": {"name": "constant", "milestones": [], "gamma": 0.1, "warmup_epochs": 0.0,
                 "start_factor": 0.0, "end_factor": 0.0},
    "grad_clip": None,
    "loss": {"name": "ce", "kwargs": {}},
    "eps_schedule": {"start_value": 0.0, "end_value": 0.0, "start_epoch": 0.0, "ramp_epochs": 0.0, "shape": "linear"},
    "kappa_schedule": {"start_value": 1.0, "end_value": 1.0, "start_epoch": 0.0, "ramp_epochs": 0.0, "shape": "linear"},
    "checkpoint": {"every_steps": 0},
    "log": {"every_steps": 50, "progress": True, "plot_every_epochs": 1},
    "eval": {"every_epochs": 1},
    "certify": {"certifier": None, "norm": "2", "eps": [], "max_samples": None, "at_end": False, "kwargs": {}},
    "paper": [],
    "notes": "",
}
_FREE_DICTS = {"model.kwargs", "data.kwargs", "loss.kwargs", "certify.kwargs"}


def _merge(defaults: Mapping[str, Any], given: Mapping[str, Any], path: str) -> Dict[str, Any]:
    if not isinstance(given, Mapping):
        raise ConfigError(f"{path or 'config'}: expected an object, got {type(given).__name__}")
    out = copy.deepcopy(dict(defaults))
    for k, v in given.items():
        p = f"{path}.{k}" if path else k
        if k not in defaults:
            raise ConfigError(f"{p}: unknown key (known: {', '.join(sorted(defaults))})")
        d = defaults[k]
        if isinstance(d, dict) and p not in _FREE_DICTS:
            out[k] = _merge(d, v, p)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _req(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_config(cfg: Mapping[str, Any]) -> Dict[str, Any]:
    """Fill defaults, reject unknown keys, check types and ranges. Returns the resolved config
    (a plain JSON-serialisable dict; this is what checkpoints store)."""
    c = _merge(_DEFAULTS, cfg, "")
    _req(isinstance(c["name"], str) and c["name"] != "", "name: non-empty string required")
    _req(isinstance(c["seed"], int) and not isinstance(c["seed"], bool) and c["seed"] >= 0, "seed: int >= 0")
    _req(isinstance(c["epochs"], int) and c["epochs"] >= 1, "epochs: int >= 1")
    _req(c["dtype"] in ("float32", "float64"), "dtype: float32|float64")
    _req(str(c["norm"]) in ("inf", "2"), "norm: 'inf'|'2'")
    c["norm"] = str(c["norm"])
    _req(isinstance(c["model"]["builder"], str), "model.builder: the name of a registered model builder")
    _req(isinstance(c["data"]["dataset"], str), "data.dataset: the name of a registered dataset")
    for k in ("batch_size", "eval_batch_size"):
        _req(isinstance(c["data"][k], int) and c["data"][k] >= 1, f"data.{k}: int >= 1")
    for k in ("train_subset", "test_subset"):
        v = c["data"][k]
        _req(v is None or (isinstance(v, int) and v >= 1), f"data.{k}: null or int >= 1")
    o = c["optimizer"]
    _req(o["name"] in ("adam", "adamw", "sgd"), "optimizer.name: adam|adamw|sgd")
    _req(_num(o["lr"]) and o["lr"] > 0, "optimizer.lr: > 0")
    _req(isinstance(o["betas"], (list, tuple)) and len(o["betas"]) == 2 and all(_num(b) and 0 <= b < 1 for b in o["betas"]),
         "optimizer.betas: two numbers in [0, 1)")
    s = c["schedule"]
    _req(s["name"] in ("constant", "step", "triangular", "cosine"), "schedule.name: constant|step|triangular|cosine")
    _req(all(_num(m) and m >= 0 for m in s["milestones"]), "schedule.milestones: numbers >= 0 (epochs)")
    _req(c["grad_clip"] is None or (_num(c["grad_clip"]) and c["grad_clip"] > 0), "grad_clip: null or > 0")
    _req(isinstance(c["loss"]["name"], str), "loss.name: string")
    for k in ("eps_schedule", "kappa_schedule"):
        r = c[k]
        _req(all(_num(r[f]) for f in ("start_value", "end_value", "start_epoch", "ramp_epochs")), f"{k}: numeric fields")
        _req(r["shape"] in ("linear", "smooth"), f"{k}.shape: linear|smooth")
        _req(r["start_epoch"] >= 0 and r["ramp_epochs"] >= 0, f"{k}: start_epoch, ramp_epochs >= 0")
    _req(c["eps_schedule"]["start_value"] >= 0 and c["eps_schedule"]["end_value"] >= 0, "eps_schedule: values >= 0")
    _req(isinstance(c["checkpoint"]["every_steps"], int) and c["checkpoint"]["every_steps"] >= 0, "checkpoint.every_steps: int >= 0")
    _req(isinstance(c["log"]["every_steps"], int) and c["log"]["every_steps"] >= 0, "log.every_steps: int >= 0")
    _req(isinstance(c["log"]["plot_every_epochs"], int) and c["log"]["plot_every_epochs"] >= 0,
         "log.plot_every_epochs: int >= 0 (0: only at the end)")
    _req(isinstance(c["eval"]["every_epochs"], int) and c["eval"]["every_epochs"] >= 1, "eval.every_epochs: int >= 1")
    ce = c["certify"]
    ce["norm"] = str(ce["norm"])
    _req(ce["norm"] in ("inf", "2"), "certify.norm: 'inf'|'2'")
    _req(isinstance(ce["eps"], list) and all(_num(e) and e >= 0 for e in ce["eps"]), "certify.eps: list of numbers >= 0")
    _req(isinstance(c["paper"], list), "paper: a list of {label, norm, eps, certified_accuracy}")
    return c


def bundled_configs() -> Dict[str, pathlib.Path]:
    """Configs shipped in ``deqtheory_train/configs`` by name (file stem)."""
    return {p.stem: p for p in sorted(CONFIG_DIR.glob("*.json"))} | {p.stem: p for p in sorted(CONFIG_DIR.glob("*.toml"))}


def load_config(path_or_name: "str | os.PathLike[str]") -> Dict[str, Any]:
    """Read a JSON/TOML config file (or the name of a bundled config) and validate it."""
    p = pathlib.Path(path_or_name)
    if not p.exists():
        b = bundled_configs()
        if str(path_or_name) in b:
            p = b[str(path_or_name)]
        else:
            raise ConfigError(f"{path_or_name}: no such file or bundled config (bundled: {', '.join(b)})")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix == ".toml":
            import tomllib  # Python >= 3.11
            raw = tomllib.loads(text)
        else:
            raw = json.loads(text)
    except (ValueError, ImportError) as exc:
        raise ConfigError(f"{p}: cannot parse ({exc})") from None
    return validate_config(raw)


def _config_fingerprint(cfg: Mapping[str, Any]) -> str:
    c = {k: v for k, v in cfg.items() if k not in ("epochs", "notes", "paper", "log", "certify")}
    return hashlib.sha256(json.dumps(c, sort_keys=True).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------
# Registries
# ----------------------------------------------------------------------------------------------

_MODELS: Dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str, builder: Optional[Callable[..., nn.Module]] = None, *, overwrite: bool = False) -> Any:
    """Register ``builder(input_shape, num_classes, **kwargs) -> nn.Module``; usable as a decorator."""
    def deco(f: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _MODELS and not overwrite:
            raise ValueError(f"model {name!r} already registered")
        _MODELS[name] = f
        return f
    return deco(builder) if builder is not None else deco


_PLUGINS = ("deqtheory_train.models", "deqtheory_train.models_linf", "deqtheory_train.certify")


def _load_plugins() -> None:
    """Import the modules that register DEQ builders, losses and certifiers (lazily: they import
    this module). A plugin module that does not exist (yet) is skipped."""
    import importlib
    for mod in _PLUGINS:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def available_models() -> Tuple[str, ...]:
    _load_plugins()
    return tuple(sorted(_MODELS))


def build_model(builder: str, input_shape: Sequence[int], num_classes: int, **kwargs: Any) -> nn.Module:
    if builder not in _MODELS:
        _load_plugins()
    try:
        f = _MODELS[builder]
    except KeyError:
        raise ConfigError(f"model.builder: unknown {builder!r}; known: {', '.join(available_models())}") from None
    return f(tuple(int(s) for s in input_shape), int(num_classes), **kwargs)


@dataclasses.dataclass
class CertifyOutput:
    """Per-sample results of a certifier. ``certified[i, k]``: proved robust at ``eps[k]`` (implies
    ``correct[i]``); ``radius[i]``: a proved lower bound on the certified radius (0 if none / NaN
    if the certifier does not compute radii); ``details``: JSON-serialisable extras (bounds used)."""

    correct: np.ndarray
    certified: np.ndarray
    radius: Optional[np.ndarray] = None
    details: Dict[str, Any] = dataclasses.field(default_factory=dict)


CertifierFn = Callable[..., CertifyOutput]
_CERTIFIERS: Dict[str, CertifierFn] = {}


def register_certifier(name: str, fn: Optional[CertifierFn] = None, *, overwrite: bool = False) -> Any:
    """Register a certifier ``fn(model, x, y, *, norm, eps, **kw) -> CertifyOutput`` (decorator too)."""
    def deco(f: CertifierFn) -> CertifierFn:
        if name in _CERTIFIERS and not overwrite:
            raise ValueError(f"certifier {name!r} already registered")
        _CERTIFIERS[name] = f
        return f
    return deco(fn) if fn is not None else deco


def get_certifier(name: str) -> CertifierFn:
    if name not in _CERTIFIERS:
        _load_plugins()
    try:
        return _CERTIFIERS[name]
    except KeyError:
        raise ValueError(f"certifier: unknown {name!r}; known: {', '.join(available_certifiers())}") from None


def available_certifiers() -> Tuple[str, ...]:
    _load_plugins()
    return tuple(sorted(_CERTIFIERS))


# ----------------------------------------------------------------------------------------------
# Built-in model: MLP baseline
# ----------------------------------------------------------------------------------------------

class MLP(nn.Module):
    r"""Flatten → optional :class:`~deqtheory_train.data.Normalize` → (Linear → ReLU)ᵏ → Linear.

    The explicit baseline of the framework (and of its tests): its sound certificates come from
    :func:`certify_mlp`. ``interval_logits`` is plain (float, unsound) IBP used only by the ``ibp``
    training loss."""

    default_certifier = "mlp"

    def __init__(self, input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (128,),
                 normalize: Optional[Mapping[str, Sequence[float]]] = None) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        d = int(np.prod(self.input_shape))
        self.norm = D.Normalize(**normalize) if normalize else None
        widths = [d] + [int(h) for h in hidden]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.out = nn.Linear(widths[-1], int(num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm is not None:
            x = self.norm(x)
        h = x.flatten(1)
        for lin in self.hidden:
            h = torch.relu(lin(h))
        return self.out(h)

    def interval_logits(self, lower: torch.Tensor, upper: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.norm is not None:   # σ > 0: the standardisation is increasing coordinatewise
            lower, upper = self.norm(lower), self.norm(upper)
        lo, hi = lower.flatten(1), upper.flatten(1)
        layers = list(self.hidden) + [self.out]
        for k, lin in enumerate(layers):
            c, r = (hi + lo) / 2, (hi - lo) / 2
            c = lin(c)
            r = r @ lin.weight.abs().t()
            lo, hi = c - r, c + r
            if k < len(layers) - 1:
                lo, hi = torch.relu(lo), torch.relu(hi)
        return lo, hi

    def float64_layers(self) -> List[Tuple[np.ndarray, np.ndarray]]:
        """[(W, b)] of all Linear layers as float64 (exact copies of the stored values)."""
        return [(lin.weight.detach().double().cpu().numpy(), lin.bias.detach().double().cpu().numpy())
                for lin in list(self.hidden) + [self.out]]


register_model("mlp", MLP)


# --- sound certification of the MLP (numpy, float64, rounding accounted for) ------------------

_U = 2.0 ** -53
_INFLATE = 1.0 + 1e-6


def _gamma(k: int) -> float:
    from deqtheory.verified import gamma
    return gamma(k)


def _affine_boxes(W: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    r"""Batched :func:`deqtheory.intervals.affine_box`: rows of ``lo, hi`` (N, d) → the box of
    :math:`Wx + b`, :math:`\bar v = W_+\bar x + W_-\underline x + b`, widened by
    :math:`(1+10^{-6})\gamma_{2d+2}(|W|\max(|\underline x|,|\bar x|) + |b|)` plus one ulp outward."""
    d = W.shape[1]
    Wp, Wm = np.maximum(W, 0.0), np.minimum(W, 0.0)
    up = hi @ Wp.T + lo @ Wm.T + b
    dn = lo @ Wp.T + hi @ Wm.T + b
    err = _INFLATE * _gamma(2 * d + 2) * (np.maximum(np.abs(lo), np.abs(hi)) @ np.abs(W).T + np.abs(b)) + 2.0 ** -1022
    return np.nextafter(dn - err, -np.inf), np.nextafter(up + err, np.inf)


def _margin_lower(G: np.ndarray, by: np.ndarray, lo: np.ndarray, hi: np.ndarray, labels: np.ndarray) -> np.ndarray:
    r"""Batched :func:`deqtheory.intervals.margin_lower_bounds`: (N, p) lower bounds on
    :math:`(g_c - g_j)^\top z + b_c - b_j` over the box, entry c = +inf."""
    C = G[labels][:, None, :] - G[None, :, :]                      # (N, p, n)
    c0 = by[labels][:, None] - by[None, :]                          # (N, p)
    Cp, Cm = np.maximum(C, 0.0), np.minimum(C, 0.0)
    m = np.einsum("npk,nk->np", Cp, lo) + np.einsum("npk,nk->np", Cm, hi) + c0
    az = np.maximum(np.abs(lo), np.abs(hi))
    err = _INFLATE * _gamma(G.shape[1] + 5) * (np.einsum("npk,nk->np", np.abs(C), az) + np.abs(c0)) + 2.0 ** -1022
    out = np.nextafter(m - err, -np.inf)
    out[np.arange(len(labels)), labels] = np.inf
    return out


def _normalize_box(model: MLP, lo: np.ndarray, hi: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Box of ``(x − μ)/σ`` (exact real arithmetic, stored float32 μ, σ) rounded outward."""
    if model.norm is None:
        return lo, hi
    mean, std = model.norm.affine()
    C = len(mean)
    N = lo.shape[0]
    lo4, hi4 = lo.reshape((N, C, -1)), hi.reshape((N, C, -1))
    m, s = mean.reshape(1, C, 1), std.reshape(1, C, 1)
    a = (lo4 - m) / s
    bb = (hi4 - m) / s
    da = 3 * _U * np.abs(a) + 2.0 ** -1022        # two roundings: relative error ≤ (1+u)² − 1 < 3u
    db = 3 * _U * np.abs(bb) + 2.0 ** -1022
    return (np.nextafter(a - da, -np.inf).reshape(N, -1), np.nextafter(bb + db, np.inf).reshape(N, -1))


def _mlp_margins(model: MLP, lo: np.ndarray, hi: np.ndarray, labels: np.ndarray) -> np.ndarray:
    lo, hi = _normalize_box(model, lo.reshape(len(lo), -1), hi.reshape(len(hi), -1))
    layers = model.float64_layers()
    for W, b in layers[:-1]:
        lo, hi = _affine_boxes(W, b, lo, hi)
        lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    G, by = layers[-1]
    return _margin_lower(G, by, lo, hi, labels)


def _up(x: float) -> float:
    return float(np.nextafter(x * (1 + 4 * _U), np.inf))


def mlp_lipschitz_bounds(model: MLP) -> Tuple[float, np.ndarray]:
    r"""Proved ℓ2 bounds: (global L ≥ Lip of x ↦ logits, K (p, p) with K[c, j] ≥ Lip of
    x ↦ f_c(x) − f_j(x)), both w.r.t. raw pixels:
    :math:`L = s\,\prod_{k}\|W_k\|_2`, :math:`K_{cj} = s\,\|g_c - g_j\|_2\prod_{k<L}\|W_k\|_2`
    with :math:`s = \max_c 1/\sigma_c` (ReLU is 1-Lipschitz). Spectral norms from
    :func:`deqtheory.linalg.norm2_upper_bound`; products rounded up."""
    from deqtheory.linalg import norm2_upper_bound
    layers = model.float64_layers()
    s = model.norm.lipschitz_factor("2") if model.norm is not None else 1.0
    prod = s
    for W, _ in layers[:-1]:
        prod = _up(prod * norm2_upper_bound(W))
    G = layers[-1][0]
    L = _up(prod * norm2_upper_bound(G))
    diff = G[:, None, :] - G[None, :, :]
    n = G.shape[1]
    rown = np.sqrt(np.sum(diff * diff, axis=-1)) * (1 + _gamma(n + 4))      # ‖g_c − g_j‖₂, rounded up
    K = np.nextafter(np.nextafter(rown, np.inf) * prod * (1 + 4 * _U), np.inf)
    return L, K


@register_certifier("mlp")
def certify_mlp(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                batch_size: int = 500, clip: bool = True) -> CertifyOutput:
    r"""Sound certificates for :class:`MLP` (float64 numpy, rounding errors bounded).

    * clean correctness: lower bounds :math:`\underline m_j` on the exact margins
      :math:`f_c(x) - f_j(x)` from a zero-width box propagated with outward rounding; ``correct`` iff
      all :math:`\underline m_j > 0` (a sample that is correct only up to rounding counts as wrong).
    * ℓ2: certified at ε iff :math:`\underline m_j > K_{cj}\,\varepsilon` for all j ≠ c with
      :math:`K` from :func:`mlp_lipschitz_bounds` (margin-over-Lipschitz, pabbaraju2021 §5 /
      havens2023 §2 "certified radius m/(√2 L)" in its per-pair form); radius = min_j m̲_j / K_cj.
    * ℓ∞: interval bound propagation (wei2022 eq. 2.3, last layer folded as in jafarpour2022
      eq. 10) on :math:`[x - ε, x + ε] ∩ [0, 1]^d` (``clip``); certified iff min_j m̲_j > 0.
    """
    base = T.unwrap(model)
    if not isinstance(base, MLP):
        raise TypeError(f"certifier 'mlp' needs an MLP, got {type(base).__name__}")
    norm = str(norm)
    if norm not in ("2", "inf"):
        raise ValueError(f"norm: expected '2' or 'inf', got {norm!r}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    N, E = len(y), len(eps)
    correct = np.zeros(N, dtype=bool)
    cert = np.zeros((N, E), dtype=bool)
    radius = np.zeros(N)
    details: Dict[str, Any] = {"certifier": "mlp", "norm": norm}
    if norm == "2":
        L, K = mlp_lipschitz_bounds(base)
        details["lipschitz_l2_upper_bound"] = L
    for s0 in range(0, N, batch_size):
        sl = slice(s0, min(N, s0 + batch_size))
        xb, yb = x[sl], y[sl]
        m0 = _mlp_margins(base, xb, xb, yb)
        ok = np.min(m0, axis=1) > 0
        correct[sl] = ok
        if norm == "2":
            Ky = K[yb]                                            # (n, p), row c of K
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.where(Ky > 0, m0 / Ky, np.inf)
            q[np.arange(len(yb)), yb] = np.inf
            r = np.nextafter(np.min(q, axis=1) * (1 - 4 * _U), -np.inf)
            radius[sl] = np.where(ok, np.maximum(r, 0.0), 0.0)
            for k, e in enumerate(eps):
                need = np.nextafter(Ky * float(e) * (1 + 2 * _U), np.inf)
                need[np.arange(len(yb)), yb] = -np.inf
                cert[sl, k] = ok & np.all(m0 > need, axis=1)
        else:
            radius[sl] = np.nan
            for k, e in enumerate(eps):
                lo = np.nextafter(xb - float(e), -np.inf) if e > 0 else xb
                hi = np.nextafter(xb + float(e), np.inf) if e > 0 else xb
                if clip:                              # x ∈ [0, 1]^d (ArrayDataset invariant)
                    lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 1.0)
                m = _mlp_margins(base, lo, hi, yb)
                cert[sl, k] = ok & (np.min(m, axis=1) > 0)
    return CertifyOutput(correct, cert, radius if norm == "2" else None, details)


# ----------------------------------------------------------------------------------------------
# Pickle-free checkpoints
# ----------------------------------------------------------------------------------------------

def state_to_tree(obj: Any, arrays: Dict[str, np.ndarray], prefix: str) -> Any:
    """Split a nested state (dicts, lists, tuples, tensors, arrays, scalars) into a JSON tree and
    ``arrays``; tensors/arrays become ``{"__array__": key, "torch": bool}``; dicts with non-string
    keys become ``{"__items__": [[k, v], ...]}``; tuples ``{"__tuple__": [...]}``."""
    if isinstance(obj, torch.Tensor):
        key = prefix
        arrays[key] = obj.detach().cpu().contiguous().numpy()
        return {"__array__": key, "torch": True}
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise CheckpointError(f"{prefix}: object arrays cannot be checkpointed")
        arrays[prefix] = obj
        return {"__array__": prefix, "torch": False}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: state_to_tree(v, arrays, f"{prefix}/{k}") for k, v in obj.items()}
        return {"__items__": [[state_to_tree(k, arrays, f"{prefix}/k{i}"), state_to_tree(v, arrays, f"{prefix}/{i}")]
                              for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, tuple):
        return {"__tuple__": [state_to_tree(v, arrays, f"{prefix}/{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [state_to_tree(v, arrays, f"{prefix}/{i}") for i, v in enumerate(obj)]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        if isinstance(obj, float) and not math.isfinite(obj):
            return {"__float__": repr(obj)}
        return obj
    raise CheckpointError(f"{prefix}: cannot checkpoint a value of type {type(obj).__name__}")


def tree_to_state(tree: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`state_to_tree`."""
    if isinstance(tree, dict):
        if "__array__" in tree:
            try:
                a = arrays[tree["__array__"]]
            except KeyError:
                raise CheckpointError(f"checkpoint: array {tree['__array__']!r} missing") from None
            return torch.from_numpy(np.array(a)) if tree.get("torch") else np.array(a)
        if "__items__" in tree:
            return {tree_to_state(k, arrays): tree_to_state(v, arrays) for k, v in tree["__items__"]}
        if "__tuple__" in tree:
            return tuple(tree_to_state(v, arrays) for v in tree["__tuple__"])
        if "__float__" in tree:
            return float(tree["__float__"])
        return {k: tree_to_state(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [tree_to_state(v, arrays) for v in tree]
    return tree


def save_checkpoint(path: "str | os.PathLike[str]", arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    """Write ``arrays`` + JSON ``meta`` to one ``.npz`` atomically: temp file in the same directory,
    flush, fsync, ``os.replace``, fsync of the directory. A crash leaves the old file or the new one."""
    p = pathlib.Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(arrays)
    if "__meta__" in payload:
        raise CheckpointError("arrays: the key '__meta__' is reserved")
    payload["__meta__"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=str(p.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(str(p.parent), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - directories cannot be fsynced on some filesystems
        pass


def load_checkpoint(path: "str | os.PathLike[str]") -> Tuple[Dict[str, np.ndarray], Dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint` (``allow_pickle=False``)."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint")
    try:
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        raise CheckpointError(f"{p}: unreadable without pickle ({exc})") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{p}: corrupt checkpoint ({type(exc).__name__}: {exc})") from None
    if "__meta__" not in arrays or arrays["__meta__"].dtype != np.uint8:
        raise CheckpointError(f"{p}: no __meta__ record")
    try:
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except ValueError as exc:
        raise CheckpointError(f"{p}: bad __meta__ JSON ({exc})") from None
    return arrays, meta


def _rng_state(arrays: Dict[str, np.ndarray]) -> Dict[str, Any]:
    py = random.getstate()
    npst = np.random.get_state()
    arrays["rng/numpy_keys"] = np.asarray(npst[1])
    arrays["rng/torch"] = torch.get_rng_state().numpy()
    n_cuda = 0
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            arrays[f"rng/cuda{i}"] = s.cpu().numpy()
        n_cuda = torch.cuda.device_count()
    return {"python": [py[0], list(py[1]), py[2]], "numpy": [npst[0], int(npst[2]), int(npst[3]), float(npst[4])],
            "cuda_devices": n_cuda}


def _set_rng_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    py = meta["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = meta["numpy"]
    np.random.set_state((n[0], np.asarray(arrays["rng/numpy_keys"], dtype=np.uint32), n[1], n[2], n[3]))
    torch.set_rng_state(torch.from_numpy(np.array(arrays["rng/torch"])))
    if torch.cuda.is_available() and meta.get("cuda_devices", 0) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([torch.from_numpy(np.array(arrays[f"rng/cuda{i}"]))
                                      for i in range(torch.cuda.device_count())])


def _model_arrays(model: nn.Module) -> Dict[str, np.ndarray]:
    return {f"model/{k}": v.detach().cpu().contiguous().numpy() for k, v in T.unwrap(model).state_dict().items()}


def _load_model_arrays(model: nn.Module, arrays: Mapping[str, np.ndarray], where: str) -> None:
    sd = {k[len("model/"):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("model/")}
    try:
        T.unwrap(model).load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{where}: model arrays do not match the model ({exc})") from None


def load_model_file(path: "str | os.PathLike[str]", *, device: "torch.device | str" = "cpu"
                    ) -> Tuple[nn.Module, Dict[str, Any]]:
    """Rebuild the model of a checkpoint / ``model.npz`` from its stored config and load its weights."""
    arrays, meta = load_checkpoint(path)
    cfg = validate_config(meta["config"])
    shape, ncls = meta["input_shape"], meta["num_classes"]
    model = build_model(cfg["model"]["builder"], shape, ncls, **cfg["model"]["kwargs"])
    model.to(dtype=getattr(torch, cfg["dtype"]))
    _load_model_arrays(model, arrays, str(path))
    model.to(device)
    model.eval()
    return model, meta


# ----------------------------------------------------------------------------------------------
# Metrics log
# ----------------------------------------------------------------------------------------------

def _truncate_metrics(path: pathlib.Path, step: int, epoch: int) -> None:
    """Keep the records of steps ≤ ``step`` and epoch records of epochs ≤ ``epoch`` (a killed run
    may have logged past its checkpoint) and drop a torn last line."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if int(rec.get("step", 0)) <= step and not (rec.get("kind") == "epoch" and rec.get("epoch", 0) > epoch):
            keep.append(json.dumps(rec, sort_keys=True))
    path.write_text("".join(k + "\n" for k in keep), encoding="utf-8")


class _Log:
    def __init__(self, path: pathlib.Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled

    def write(self, rec: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
            f.flush()


def read_metrics(path: "str | os.PathLike[str]") -> List[Dict[str, Any]]:
    """All records of a metrics.jsonl file."""
    out = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def _load_data(cfg: Mapping[str, Any]) -> Tuple[D.ArrayDataset, D.ArrayDataset]:
    dc = cfg["data"]
    tr = D.load_dataset(dc["dataset"], dc["train_split"], **dc["kwargs"]).subset(dc["train_subset"])
    te = D.load_dataset(dc["dataset"], dc["test_split"], **dc["kwargs"]).subset(dc["test_subset"])
    return tr, te


def _plot_curves(out: pathlib.Path, cfg: Mapping[str, Any]) -> None:
    from .plots import plot_training_curves
    plot_training_curves(read_metrics(out / "metrics.jsonl"), out / "curves.png", title=cfg["name"])


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_experiment(cfg: Mapping[str, Any], out_dir: "str | os.PathLike[str]", *, resume: bool = False,
                   epochs: Optional[int] = None, max_steps: Optional[int] = None,
                   progress: Optional[bool] = None, device: Optional[str] = None) -> Dict[str, Any]:
    """Train ``cfg`` into ``out_dir`` (``checkpoint.npz``, ``metrics.jsonl``, ``config.json``,
    ``model.npz``, ``curves.png``, ``summary.json``; ``certify.json``/``certify.png`` if
    ``certify.at_end``). Under ``torchrun`` (WORLD_SIZE > 1) runs DDP; only rank 0 writes files.

    ``resume``: continue from ``out_dir/checkpoint.npz`` exactly (model, Adam moments, RNG states,
    epoch/step counters, epoch accumulators; data order is a function of (seed, epoch)); the config
    must match the checkpoint's except for ``epochs``/``log``/``certify``/``paper``/``notes``.
    ``max_steps``: stop (with a checkpoint) after this many optimizer steps in total.
    Returns the summary dict (final test metrics, steps, status)."""
    cfg = validate_config(cfg)
    if epochs is not None:
        if epochs < 1:
            raise ConfigError("epochs: >= 1")
        cfg["epochs"] = int(epochs)
    info = T.dist_info()
    dev = torch.device(device) if device else T.init_distributed(info)
    if device and info.enabled:
        T.init_distributed(info)
    dtype = getattr(torch, cfg["dtype"])
    out = pathlib.Path(out_dir)
    ckpt_path = out / "checkpoint.npz"
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
    if ckpt_path.exists() and not resume:
        raise CheckpointError(f"{ckpt_path} exists: pass --resume to continue it or choose another --out")

    _seed_all(cfg["seed"])
    train_ds, test_ds = _load_data(cfg)
    model = build_model(cfg["model"]["builder"], train_ds.input_shape, train_ds.num_classes, **cfg["model"]["kwargs"])
    model.to(device=dev, dtype=dtype)
    opt = T.build_optimizer(model.parameters(), cfg["optimizer"]["name"], lr=cfg["optimizer"]["lr"],
                            betas=cfg["optimizer"]["betas"], weight_decay=cfg["optimizer"]["weight_decay"],
                            eps=cfg["optimizer"]["eps"], momentum=cfg["optimizer"]["momentum"],
                            nesterov=cfg["optimizer"]["nesterov"])
    B = cfg["data"]["batch_size"]
    if B % info.world_size:
        raise ConfigError(f"data.batch_size {B} must be divisible by the number of processes {info.world_size}")
    spe = len(train_ds) // B
    if spe < 1:
        raise ConfigError(f"data.batch_size {B} exceeds the training set size {len(train_ds)}")
    sc = cfg["schedule"]
    lr_at = T.LRSchedule(cfg["optimizer"]["lr"], sc["name"], spe, cfg["epochs"] * spe, tuple(sc["milestones"]),
                         sc["gamma"], sc["warmup_epochs"], sc["start_factor"], sc["end_factor"])
    eps_at = T.Ramp(**cfg["eps_schedule"])
    kappa_at = T.Ramp(**cfg["kappa_schedule"])
    loss_fn = T.get_loss(cfg["loss"]["name"])

    epoch, step_in_epoch, gstep = 0, 0, 0
    acc = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0}
    if resume and ckpt_path.exists():
        arrays, meta = load_checkpoint(ckpt_path)
        if meta.get("fingerprint") != _config_fingerprint(cfg):
            raise CheckpointError(f"{ckpt_path}: written by a different config (only epochs/log/certify/"
                                  "paper/notes may change on --resume)")
        _load_model_arrays(model, arrays, str(ckpt_path))
        opt.load_state_dict(tree_to_state(meta["optimizer"], arrays))
        _set_rng_state(meta["rng"], arrays)
        epoch, step_in_epoch, gstep = meta["epoch"], meta["step_in_epoch"], meta["global_step"]
        acc = dict(meta["epoch_accumulators"])
        if info.is_main:
            _truncate_metrics(out / "metrics.jsonl", gstep, epoch)
    if info.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP
        model = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    base = T.unwrap(model)
    if info.is_main:
        (out / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log = _Log(out / "metrics.jsonl", info.is_main)
    show = cfg["log"]["progress"] if progress is None else progress
    hang_after = int(os.environ.get(HANG_ENV, "0") or 0)

    def checkpoint(ep: int, sie: int) -> None:
        if not info.is_main:
            return
        arrays: Dict[str, np.ndarray] = _model_arrays(base)
        meta = {"format": "deqtheory_train.checkpoint/1", "config": cfg, "fingerprint": _config_fingerprint(cfg),
                "epoch": ep, "step_in_epoch": sie, "global_step": gstep, "epoch_accumulators": acc,
                "optimizer": state_to_tree(opt.state_dict(), arrays, "optim"), "rng": _rng_state(arrays),
                "input_shape": list(train_ds.input_shape), "num_classes": train_ds.num_classes,
                "world_size": info.world_size, "torch": torch.__version__}
        save_checkpoint(ckpt_path, arrays, meta)

    from tqdm import tqdm
    t0 = time.time()
    stopped = False
    last_eval: Dict[str, float] = {}
    while epoch < cfg["epochs"] and not stopped:
        perm = D.epoch_permutation(len(train_ds), cfg["seed"], epoch)
        bar = tqdm(total=spe, initial=step_in_epoch, desc=f"epoch {epoch + 1}/{cfg['epochs']}",
                   disable=not (show and info.is_main), leave=False, dynamic_ncols=True)
        for i, idx in D.batch_indices(perm, B, rank=info.rank, world_size=info.world_size, start=step_in_epoch):
            t = gstep / spe
            lr = lr_at(gstep)
            T.set_lr(opt, lr)
            ctx = T.LossContext(eps=eps_at(t), kappa=kappa_at(t), epoch=t, step=gstep, norm=cfg["norm"])
            xb = torch.from_numpy(train_ds.x[idx]).to(device=dev, dtype=dtype)
            yb = torch.from_numpy(train_ds.y[idx]).to(dev)
            st = T.train_step(model, opt, loss_fn, cfg["loss"]["kwargs"], xb, yb, ctx, grad_clip=cfg["grad_clip"])
            ls, cor, cnt = T.all_reduce_sum([st["loss_sum"], st["correct"], st["count"]], info, dev)
            acc = {"loss_sum": acc["loss_sum"] + ls, "correct": acc["correct"] + cor, "count": acc["count"] + cnt}
            gstep += 1
            step_in_epoch = i + 1
            post = {"loss": f"{ls / cnt:.4f}", "acc": f"{cor / cnt:.3f}"}
            if ctx.eps:
                post["eps"] = f"{ctx.eps:.4g}"
            if "fp_iters" in st:
                post["fp_it"] = f"{st['fp_iters']:.0f}"
            bar.set_postfix(post, refresh=False)
            bar.update(1)
            every = cfg["log"]["every_steps"]
            if every and gstep % every == 0:
                rec = {"kind": "step", "step": gstep, "epoch": t, "lr": lr, "eps": ctx.eps, "kappa": ctx.kappa,
                       "loss": ls / cnt, "acc": cor / cnt}
                rec.update({k: st[k] for k in ("fp_iters", "fp_residual", "bw_iters", "grad_norm") if k in st})
                log.write(rec)
            ck = cfg["checkpoint"]["every_steps"]
            if (ck and gstep % ck == 0 and step_in_epoch < spe) or (max_steps is not None and gstep >= max_steps):
                checkpoint(epoch, step_in_epoch)
            if hang_after and gstep == hang_after and info.is_main:
                (out / "HANG").write_text(str(gstep))
                while True:             # fault injection: wait to be killed (tests only)
                    time.sleep(0.05)
            if max_steps is not None and gstep >= max_steps and step_in_epoch < spe:
                stopped = True
                break
        bar.close()
        if stopped:
            break
        epoch += 1
        step_in_epoch = 0
        rec = {"kind": "epoch", "epoch": epoch, "step": gstep, "lr": lr_at(max(gstep - 1, 0)),
               "eps": eps_at(gstep / spe), "kappa": kappa_at(gstep / spe),
               "train_loss": acc["loss_sum"] / max(acc["count"], 1.0),
               "train_acc": acc["correct"] / max(acc["count"], 1.0), "wall_time": time.time() - t0}
        if epoch % cfg["eval"]["every_epochs"] == 0 or epoch == cfg["epochs"]:
            last_eval = T.evaluate(base, test_ds.x, test_ds.y, batch_size=cfg["data"]["eval_batch_size"],
                                   device=dev, info=info, dtype=dtype)
            rec.update({"test_loss": last_eval["loss"], "test_acc": last_eval["acc"]})
            if "fp_iters" in last_eval:
                rec["test_fp_iters"] = last_eval["fp_iters"]
        log.write(rec)
        acc = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0}
        checkpoint(epoch, 0)
        if max_steps is not None and gstep >= max_steps:
            stopped = epoch < cfg["epochs"]
        pe = cfg["log"]["plot_every_epochs"]
        if info.is_main and pe and epoch % pe == 0:
            _plot_curves(out, cfg)

    if info.is_main and (out / "metrics.jsonl").exists():
        _plot_curves(out, cfg)
    summary: Dict[str, Any] = {"name": cfg["name"], "status": "stopped" if stopped else "finished",
                               "epoch": epoch, "global_step": gstep, "world_size": info.world_size}
    if not stopped:
        if not last_eval:
            last_eval = T.evaluate(base, test_ds.x, test_ds.y, batch_size=cfg["data"]["eval_batch_size"],
                                   device=dev, info=info, dtype=dtype)
        summary.update({"test_loss": last_eval["loss"], "test_acc": last_eval["acc"]})
        if info.is_main:
            meta = {"format": "deqtheory_train.model/1", "config": cfg, "input_shape": list(train_ds.input_shape),
                    "num_classes": train_ds.num_classes, "global_step": gstep, "epoch": epoch}
            save_checkpoint(out / "model.npz", _model_arrays(base), meta)
            ce = cfg["certify"]
            if ce["at_end"] and ce["eps"]:
                res = certify_model(base, test_ds, certifier=ce["certifier"], norm=ce["norm"], eps=ce["eps"],
                                    max_samples=ce["max_samples"], **ce["kwargs"])
                _write_certify_outputs(res, out / "certify.json", out / "certify.png", cfg)
                summary["certified_accuracy"] = res["certified_accuracy"]
                log.write({"kind": "certify", "step": gstep, **{k: res[k] for k in ("norm", "eps", "certified_accuracy", "clean_accuracy")}})
    if info.is_main:
        (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if info.enabled:
        import torch.distributed as dist
        dist.barrier()
    return summary


# ----------------------------------------------------------------------------------------------
# Certification driver
# ----------------------------------------------------------------------------------------------

def summarize_certification(outp: CertifyOutput, eps: Sequence[float], norm: str, name: str) -> Dict[str, Any]:
    """Aggregate per-sample results: clean accuracy, certified accuracy per ε (fractions)."""
    N = len(outp.correct)
    cert = np.asarray(outp.certified, dtype=bool)
    if cert.shape != (N, len(eps)):
        raise ValueError(f"certifier {name}: certified has shape {cert.shape}, expected {(N, len(eps))}")
    if np.any(cert & ~np.asarray(outp.correct, dtype=bool)[:, None]):
        raise ValueError(f"certifier {name}: certified a misclassified sample")
    res: Dict[str, Any] = {"certifier": name, "norm": str(norm), "eps": [float(e) for e in eps], "n": int(N),
                           "clean_accuracy": float(np.mean(outp.correct)) if N else 0.0,
                           "certified_accuracy": [float(v) for v in (cert.mean(axis=0) if N else np.zeros(len(eps)))],
                           "details": outp.details}
    if outp.radius is not None:
        r = np.asarray(outp.radius, dtype=np.float64)
        res["median_certified_radius"] = float(np.median(r)) if N else 0.0
    return res


def certify_model(model: nn.Module, dataset: D.ArrayDataset, *, certifier: Optional[str], norm: str,
                  eps: Sequence[float], max_samples: Optional[int] = None, **kwargs: Any) -> Dict[str, Any]:
    """Run a registered certifier (default: the model's ``default_certifier``) on the first
    ``max_samples`` examples of ``dataset``; returns :func:`summarize_certification`'s dict."""
    base = T.unwrap(model)
    name = certifier or getattr(base, "default_certifier", None)
    if not name:
        raise ValueError(f"no certifier given and {type(base).__name__} has no default_certifier")
    ds = dataset.subset(max_samples)
    t0 = time.time()
    outp = get_certifier(name)(base, ds.x, ds.y, norm=str(norm), eps=list(eps), **kwargs)
    res = summarize_certification(outp, eps, norm, name)
    res["seconds"] = time.time() - t0
    return res


def _write_certify_outputs(res: Mapping[str, Any], json_path: Optional[pathlib.Path], png_path: Optional[pathlib.Path],
                           cfg: Optional[Mapping[str, Any]]) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(res, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if png_path is not None:
        from .plots import plot_certified_accuracy
        paper = [p for p in (cfg or {}).get("paper", []) if str(p.get("norm", res["norm"])) == res["norm"]]
        plot_certified_accuracy(res, png_path, paper=paper, title=(cfg or {}).get("name"))


def format_table(res: Mapping[str, Any]) -> str:
    """Plain-text table of a certification result."""
    lines = [f"certifier {res['certifier']}  norm l{res['norm']}  n={res['n']}  clean acc {100 * res['clean_accuracy']:.2f}%",
             f"{'eps':>12}  {'certified acc':>14}"]
    for e, a in zip(res["eps"], res["certified_accuracy"]):
        lines.append(f"{e:>12.6g}  {100 * a:>13.2f}%")
    return "\n".join(lines)
