r"""Pickle-free checkpoints and model files.

A checkpoint is one ``.npz`` file read with ``allow_pickle=False``: tensors as arrays, everything else
(config, counters, RNG states, optimizer hyper-parameters) as a JSON document stored in the uint8
array ``__meta__``. Loading an untrusted checkpoint cannot run code. Formats:
``deqtheory_train.checkpoint/1`` (``checkpoint.npz``: model, optimizer tree, RNG states, counters) and
``deqtheory_train.model/1`` (``model.npz``: model arrays ``model/<state_dict key>`` + config). Files
are written atomically with :func:`deqtheory.io.atomic_write`.
"""
from __future__ import annotations

import json
import math
import os
import pathlib
import random
from typing import Any, Dict, Mapping, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from deqtheory.io import atomic_write

from ..errors import CheckpointError, ConfigError
from ..registry import build_model
from ..train import unwrap
from .config import validate_config

__all__ = ["state_to_tree", "tree_to_state", "save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state", "rank_rng_prefix",
           "model_arrays", "load_model_arrays", "load_model_file", "build_model_from_config"]


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
    """Write ``arrays`` + JSON ``meta`` to one ``.npz`` atomically (:func:`deqtheory.io.atomic_write`:
    a crash leaves the old file or the new one)."""
    p = pathlib.Path(path)
    payload = dict(arrays)
    if "__meta__" in payload:
        raise CheckpointError("arrays: the key '__meta__' is reserved")
    payload["__meta__"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    atomic_write(p, lambda fh: np.savez(fh, **payload))


def load_checkpoint(path: "str | os.PathLike[str]") -> Tuple[Dict[str, np.ndarray], Dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint` (``allow_pickle=False``)."""
    from deqtheory.errors import DEQInputError
    from deqtheory.io import json_object, load_npz_raw

    p = pathlib.Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint")
    try:
        arrays = load_npz_raw(p)          # headers checked first: a forged shape allocates nothing
    except DEQInputError as exc:
        raise CheckpointError(f"corrupt checkpoint: {exc}") from None
    if "__meta__" not in arrays or arrays["__meta__"].dtype != np.uint8:
        raise CheckpointError(f"{p}: no __meta__ record")
    try:
        meta = json_object(f"{p}:__meta__", arrays.pop("__meta__"))
    except DEQInputError as exc:
        raise CheckpointError(f"bad __meta__ record: {exc}") from None
    return arrays, meta


def rng_state(arrays: Dict[str, np.ndarray], prefix: str = "rng") -> Dict[str, Any]:
    """This process's RNG states (Python, numpy, torch, every CUDA device): the arrays go into ``arrays``
    under ``prefix/…``, the rest is returned as JSON-able meta."""
    py = random.getstate()
    npst = np.random.get_state()
    arrays[f"{prefix}/numpy_keys"] = np.asarray(npst[1])
    arrays[f"{prefix}/torch"] = torch.get_rng_state().numpy()
    n_cuda = 0
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            arrays[f"{prefix}/cuda{i}"] = s.cpu().numpy()
        n_cuda = torch.cuda.device_count()
    return {"python": [py[0], list(py[1]), py[2]], "numpy": [npst[0], int(npst[2]), int(npst[3]), float(npst[4])],
            "cuda_devices": n_cuda}


def set_rng_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], prefix: str = "rng") -> None:
    """Restore what :func:`rng_state` saved under ``prefix``."""
    py = meta["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = meta["numpy"]
    np.random.set_state((n[0], np.asarray(arrays[f"{prefix}/numpy_keys"], dtype=np.uint32), n[1], n[2], n[3]))
    torch.set_rng_state(torch.from_numpy(np.array(arrays[f"{prefix}/torch"])))
    if torch.cuda.is_available() and meta.get("cuda_devices", 0) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([torch.from_numpy(np.array(arrays[f"{prefix}/cuda{i}"]))
                                      for i in range(torch.cuda.device_count())])


def rank_rng_prefix(rank: int) -> str:
    """Where rank ``rank``'s RNG state lives in a checkpoint: ``rng`` for rank 0 (the single-process
    layout), ``rng/rank<r>`` for the others."""
    return "rng" if rank == 0 else f"rng/rank{rank}"


def model_arrays(model: nn.Module) -> Dict[str, np.ndarray]:
    return {f"model/{k}": v.detach().cpu().contiguous().numpy() for k, v in unwrap(model).state_dict().items()}


def load_model_arrays(model: nn.Module, arrays: Mapping[str, np.ndarray], where: str) -> None:
    sd = {k[len("model/"):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("model/")}
    try:
        unwrap(model).load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{where}: model arrays do not match the model ({exc})") from None


def load_model_file(path: "str | os.PathLike[str]", *, device: "torch.device | str" = "cpu"
                    ) -> Tuple[nn.Module, Dict[str, Any]]:
    """Rebuild the model of a checkpoint / ``model.npz`` from its stored config and load its weights."""
    arrays, meta = load_checkpoint(path)
    missing = [k for k in ("config", "input_shape", "num_classes") if k not in meta]
    if missing:
        raise CheckpointError(f"{path}: __meta__ lacks {missing}: not a model file of deqtheory-train run")
    cfg = validate_config(meta["config"])
    model = build_model_from_config(cfg, meta["input_shape"], meta["num_classes"])
    model.to(dtype=getattr(torch, cfg["dtype"]))
    load_model_arrays(model, arrays, str(path))
    model.to(device)
    model.eval()
    return model, meta


def build_model_from_config(cfg: Mapping[str, Any], input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """``registry.build_model`` of ``cfg["model"]``; a string ``init_from`` (the path of a source run's
    ``model.npz``) is loaded with :func:`load_model_file` and passed to the builder as a model."""
    kw = dict(cfg["model"]["kwargs"])
    src = kw.get("init_from")
    if src is not None:
        if not isinstance(src, str):
            raise ConfigError("model.kwargs.init_from: the path of the source run's model.npz")
        if not pathlib.Path(src).exists():
            raise ConfigError(f"model.kwargs.init_from: {src} does not exist (run the source config first)")
        kw["init_from"], _ = load_model_file(src)
    return build_model(cfg["model"]["builder"], input_shape, num_classes, **kw)

