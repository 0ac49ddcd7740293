r"""Certification split across ranks (``torchrun``): which examples each rank certifies, and the
gathering of the per-rank :class:`~deqtheory_train.certify.results.CertifyOutput` into the one output of
a single process.

**Shards are the certifier's own batches.** The examples are cut into consecutive chunks of the
certifier's batch size ``B`` (the ``batch_size`` keyword, else the default of the registered function),
exactly the batches one process would form; chunk ``k`` goes to rank ``k mod world_size``. Each rank
therefore solves the same batches as one process (a batched fixed-point solve stops on the batch's
worst residual, so a different batching could change an example's ẑ), and the certified matrix, the
radii and the witnesses are those of one process. Ranks hold ⌈C/W⌉ or ⌊C/W⌋ of the C chunks, so no
rank waits at the gather for longer than one batch. Only the short last chunk can be smaller than ``B``
and it is the last batch of its rank too, so the batching is the same.

**Merging.** Per-example arrays are put back in dataset order. The model-level entries of ``details``
(constants, provenance, …) are proved by every rank on the same model: they must agree exactly, else
:class:`ShardMismatchError` (a proof file holds one set of certificates, so ranks that proved different
constants cannot share one). Solver counts are summed, the iteration maximum is the maximum.
"""
from __future__ import annotations

import functools
import inspect
import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from deqtheory.certificates import to_jsonable
from deqtheory.errors import DomainError

from ..certify.results import CertifyOutput, jsonable

__all__ = ["ShardMismatchError", "certifier_batch_size", "shard_indices", "merge_outputs"]

#: chunk size when a certifier has no ``batch_size`` keyword (then batching cannot change its results)
DEFAULT_CHUNK = 500


class ShardMismatchError(DomainError):
    """Ranks proved different model-level constants for the same model (the key is named)."""


def certifier_batch_size(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> int:
    """The batch size ``fn`` (a registered certifier, possibly a :func:`functools.partial`) will use:
    ``kwargs["batch_size"]``, else its signature's default, else :data:`DEFAULT_CHUNK`."""
    if kwargs.get("batch_size") is not None:
        b = int(kwargs["batch_size"])
    else:
        if isinstance(fn, functools.partial) and "batch_size" in fn.keywords:
            b = int(fn.keywords["batch_size"])
        else:
            p = inspect.signature(fn).parameters.get("batch_size")
            b = int(p.default) if p is not None and p.default is not inspect.Parameter.empty else DEFAULT_CHUNK
    if b < 1:
        raise DomainError(f"batch_size: expected a positive integer, got {b}")
    return b


def shard_indices(n: int, chunk: int, rank: int, world_size: int) -> np.ndarray:
    """Indices (ascending) of the examples rank ``rank`` of ``world_size`` certifies: the chunks
    ``k ≡ rank (mod world_size)`` of ``range(n)`` cut every ``chunk``."""
    if not (0 <= rank < world_size):
        raise DomainError(f"rank: expected 0 <= rank < world_size = {world_size}, got {rank}")
    starts = np.arange(0, n, chunk)[rank::world_size]
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(s, min(n, s + chunk), dtype=np.int64) for s in starts])


def _canonical(o: Any) -> str:
    """A text equal for equal values: tensors/arrays as lists, certificates as their full dicts."""
    return json.dumps(to_jsonable(jsonable(o)), sort_keys=True)


def merge_outputs(pieces: Sequence[Optional[Dict[str, Any]]], n: int, n_eps: int) -> CertifyOutput:
    """One :class:`CertifyOutput` for ``n`` examples from every rank's piece ``{"index": (k,) indices,
    "output": CertifyOutput}`` (``None``: a rank without examples). See the module docstring."""
    got = [p for p in pieces if p is not None and len(p["index"])]
    seen = np.zeros(n, dtype=np.int64)
    for p in got:
        seen[np.asarray(p["index"])] += 1
    if n and not np.all(seen == 1):
        raise ShardMismatchError(f"the ranks' shards do not cover the {n} examples exactly once")
    correct = np.zeros(n, dtype=bool)
    certified = np.zeros((n, n_eps), dtype=bool)
    radius: Optional[np.ndarray] = None
    if got and got[0]["output"].radius is not None:
        radius = np.zeros(n)
    for p in got:
        idx, o = np.asarray(p["index"]), p["output"]
        correct[idx] = np.asarray(o.correct, dtype=bool)
        certified[idx] = np.asarray(o.certified, dtype=bool).reshape(len(idx), n_eps)
        if radius is not None:
            radius[idx] = np.asarray(o.radius, dtype=np.float64)
    details = _merge_details([p["output"].details for p in got])
    out = CertifyOutput(correct, certified, radius, details)
    if got and got[0]["output"].witness is not None:
        first = got[0]["output"]
        for name, mine in (("certificates", lambda o: o.certificates), ("meta", lambda o: o.meta)):
            ref = _canonical(mine(first))
            for p in got[1:]:
                if _canonical(mine(p["output"])) != ref:
                    raise ShardMismatchError(f"the ranks' witness {name} differ: the ranks proved different "
                                             "model-level facts, which one proof file cannot hold")
        out.certificates, out.meta = first.certificates, first.meta
        out.witness = {}
        for k, a in first.witness.items():
            a = np.asarray(a)
            full = np.zeros((n,) + a.shape[1:], dtype=a.dtype)
            for p in got:
                full[np.asarray(p["index"])] = np.asarray(p["output"].witness[k])
            out.witness[k] = full
    return out


def _merge_details(dets: List[Mapping[str, Any]]) -> Dict[str, Any]:
    """Model-level entries must agree across ranks; ``solver`` counts are combined."""
    if not dets:
        return {}
    out: Dict[str, Any] = {k: v for k, v in dets[0].items() if k != "solver"}
    for d in dets[1:]:
        for k in set(out) | (set(d) - {"solver"}):
            if _canonical(out.get(k)) != _canonical(d.get(k)):
                raise ShardMismatchError(f"details[{k!r}] differs between ranks (model-level results must be "
                                         "the same on every rank)")
    solvers = [d["solver"] for d in dets if "solver" in d]
    if solvers:
        statuses: Dict[str, int] = {}
        for s in solvers:
            for k, v in s.get("statuses", {}).items():
                statuses[k] = statuses.get(k, 0) + int(v)
        out["solver"] = {**{k: v for k, v in solvers[0].items() if k not in ("statuses", "max_iterations")},
                         "statuses": statuses, "max_iterations": max(int(s.get("max_iterations", 0)) for s in solvers)}
    return out
