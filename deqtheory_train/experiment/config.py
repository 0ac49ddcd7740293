r"""Experiment configs: the schema (JSON, or TOML on Python ≥ 3.11; unknown keys are errors),
defaults, validation and the bundled configs. ::

    {
      "name": "mlp_mnist",                 # run name (default output dir runs/<name>)
      "seed": 0,
      "epochs": 10,
      "dtype": "float32",                  # or "float64"
      "norm": "inf",                       # threat model of the training ε ("inf" | "2")
      "model":     {"builder": "mlp", "kwargs": {"hidden": [128], "normalize": {"mean": [0.1307], "std": [0.3081]}}},
      "data":      {"dataset": "mnist", "kwargs": {}, "train_split": "train", "test_split": "test",
                    "train_subset": null, "test_subset": null, "batch_size": 128, "eval_batch_size": 1000,
                    "device_resident": null, "augment": null},   # augment e.g. {"crop": 4, "flip": true}
      "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.999], "weight_decay": 0.0, "eps": 1e-8},
      "schedule":  {"name": "step", "milestones": [120, 280], "gamma": 0.2, "warmup_epochs": 0,
                    "start_factor": 0.0, "end_factor": 0.0},
      "grad_clip": 10.0,                   # max ℓ2 gradient norm, or null
      "loss":      {"name": "ibp", "kwargs": {}},
      "eps_schedule":   {"end_value": 0.1, "start_epoch": 1, "ramp_epochs": 79, "shape": "smooth"},
      "kappa_schedule": {"start_value": 1.0, "end_value": 0.5, "start_epoch": 1, "ramp_epochs": 79},
      "checkpoint": {"every_steps": 500, "every_minutes": 10},  # plus one at every epoch end
      "log": {"every_steps": 50, "progress": null, "plot_every_epochs": 1},  # progress: null = auto
      "eval": {"every_epochs": 1},
      "certify": {"certifier": null, "norm": "2", "eps": [0.1, 0.3], "max_samples": null, "at_end": true},
      "paper": [{"label": "havens2023 Table 1", "norm": "2", "eps": [1.58], "certified_accuracy": [0.0]}],
      "notes": "free text"
    }

``batch_size`` is the **global** batch size (divided evenly over DDP ranks; see
:func:`deqtheory_train.data.batch_indices`). ``device_resident``: keep the train/test arrays on the
training device and index them there (``null``: when they fit the budget of
:func:`deqtheory_train.data.resident_fits` — 1 GiB on the CPU, a quarter of the GPU's memory);
it changes no number, only where batches are gathered. ``augment``: ``null`` or ``{"crop": P,
"flip": true}`` — per-sample random crop with zero padding P and horizontal flip of the training
batches, on the device (:func:`deqtheory_train.data.augment_batch`), drawn from a generator seeded by
(seed, rank, global step), so a resumed run augments as the uninterrupted one.
``eps_schedule``/``kappa_schedule`` are
:class:`deqtheory_train.train.Ramp` fields (ε defaults to 0, κ to 1). ``paper`` holds reference
numbers (fractions in [0, 1]) drawn over the certified-accuracy plot.

Names are checked against the tables of :mod:`deqtheory_train.registry` (``model.builder``,
``loss.name``, ``certify.certifier``, ``data.dataset``) and the free keyword dicts (``model.kwargs``,
``loss.kwargs``, ``certify.kwargs``, ``data.kwargs``) against the signatures of what they are passed to,
so a misspelt keyword is a :class:`ConfigError` naming it and the accepted ones, at load time.
"""
from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import os
import pathlib
from typing import Any, Dict, Mapping, Optional, Sequence

from .. import data as D
from .. import registry as R
from ..errors import ConfigError

__all__ = ["CONFIG_DIR", "validate_config", "load_config", "bundled_configs", "config_fingerprint"]

CONFIG_DIR = pathlib.Path(__file__).resolve().parent.parent / "configs"

_DEFAULTS: Dict[str, Any] = {
    "name": "run", "seed": 0, "epochs": 1, "dtype": "float32", "norm": "inf",
    "model": {"builder": None, "kwargs": {}},
    "data": {"dataset": None, "kwargs": {}, "train_split": "train", "test_split": "test",
             "train_subset": None, "test_subset": None, "batch_size": 128, "eval_batch_size": 1000,
             "device_resident": None, "augment": None},
    "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.999], "weight_decay": 0.0, "eps": 1e-8,
                  "momentum": 0.0, "nesterov": False},
    "schedule": {"name": "constant", "milestones": [], "gamma": 0.1, "warmup_epochs": 0.0,
                 "start_factor": 0.0, "end_factor": 0.0},
    "grad_clip": None,
    "loss": {"name": "ce", "kwargs": {}},
    "eps_schedule": {"start_value": 0.0, "end_value": 0.0, "start_epoch": 0.0, "ramp_epochs": 0.0, "shape": "linear"},
    "kappa_schedule": {"start_value": 1.0, "end_value": 1.0, "start_epoch": 0.0, "ramp_epochs": 0.0, "shape": "linear"},
    "checkpoint": {"every_steps": 0, "every_minutes": 10.0},
    "log": {"every_steps": 50, "progress": None, "plot_every_epochs": 1},
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
    _req(c["data"]["device_resident"] is None or isinstance(c["data"]["device_resident"], bool),
         f"data.device_resident: null (when it fits) | true | false, got {c['data']['device_resident']!r}")
    c["data"]["augment"] = D.check_augment(c["data"]["augment"])
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
    _req(_num(c["checkpoint"]["every_minutes"]) and c["checkpoint"]["every_minutes"] >= 0,
         "checkpoint.every_minutes: number >= 0 (0: no time-based checkpoints)")
    _req(isinstance(c["log"]["every_steps"], int) and c["log"]["every_steps"] >= 0, "log.every_steps: int >= 0")
    _req(c["log"]["progress"] is None or isinstance(c["log"]["progress"], bool),
         "log.progress: null (bars when stderr is a terminal) | true | false")
    _req(isinstance(c["log"]["plot_every_epochs"], int) and c["log"]["plot_every_epochs"] >= 0,
         "log.plot_every_epochs: int >= 0 (0: only at the end)")
    _req(isinstance(c["eval"]["every_epochs"], int) and c["eval"]["every_epochs"] >= 1, "eval.every_epochs: int >= 1")
    ce = c["certify"]
    ce["norm"] = str(ce["norm"])
    _req(ce["norm"] in ("inf", "2"), "certify.norm: 'inf'|'2'")
    _req(isinstance(ce["eps"], list) and all(_num(e) and e >= 0 for e in ce["eps"]), "certify.eps: list of numbers >= 0")
    _req(isinstance(c["paper"], list), "paper: a list of {label, norm, eps, certified_accuracy}")
    _check_names(c)
    return c


def _check_kwargs(where: str, given: Any, accepted: Optional[Sequence[str]]) -> None:
    _req(isinstance(given, Mapping), f"{where}: an object of keyword arguments")
    if accepted is None:
        return
    bad = sorted(set(given) - set(accepted))
    if bad:
        raise ConfigError(f"{where}: unknown key(s) {bad} (accepted: {', '.join(accepted) or 'none'})")


def _known(where: str, name: Any, table: Mapping[str, Any]) -> None:
    if name not in table:
        raise ConfigError(f"{where}: unknown {name!r}; known: {', '.join(sorted(table))}")


def _check_names(c: Mapping[str, Any]) -> None:
    """Names against :mod:`deqtheory_train.registry` / :data:`deqtheory_train.data.DATASETS`, keyword
    dicts against the signatures they are passed to."""
    b = c["model"]["builder"]
    _known("model.builder", b, R.MODELS)
    _check_kwargs("model.kwargs", c["model"]["kwargs"], R.accepted_kwargs("model", b))
    _known("loss.name", c["loss"]["name"], R.LOSSES)
    _check_kwargs("loss.kwargs", c["loss"]["kwargs"], R.accepted_kwargs("loss", c["loss"]["name"]))
    ds = c["data"]["dataset"]
    _known("data.dataset", ds, D.DATASETS)
    params = list(inspect.signature(D.DATASETS[ds]).parameters.values())[1:]
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        _check_kwargs("data.kwargs", c["data"]["kwargs"], [p.name for p in params])
    cert = c["certify"]["certifier"]
    if cert is not None:
        _req(isinstance(cert, str), "certify.certifier: null or the name of a certifier")
        _known("certify.certifier", cert, R.CERTIFIERS)
        _check_kwargs("certify.kwargs", c["certify"]["kwargs"], R.accepted_kwargs("certify", cert))


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


def config_fingerprint(cfg: Mapping[str, Any]) -> str:
    """Hash of the parts of a config that a resumed run must share with its checkpoint (not
    ``epochs``/``notes``/``paper``/``log``/``certify`` nor ``checkpoint.every_minutes`` nor
    ``data.device_resident``, which change nothing in the trained weights; ``data.augment`` only when
    set. Leaving the later additions out keeps older checkpoints' hashes)."""
    c = {k: v for k, v in cfg.items() if k not in ("epochs", "notes", "paper", "log", "certify")}
    if isinstance(c.get("checkpoint"), Mapping):
        c["checkpoint"] = {k: v for k, v in c["checkpoint"].items() if k != "every_minutes"}
    if isinstance(c.get("data"), Mapping):
        c["data"] = {k: v for k, v in c["data"].items()
                     if k != "device_resident" and not (k == "augment" and v is None)}
    return hashlib.sha256(json.dumps(c, sort_keys=True).encode()).hexdigest()[:16]
