"""``deqtheory-train export``: a training model file → a :mod:`deqtheory` model file, through the one
bridge :func:`deqtheory_train.export.to_deqtheory` (the file is what ``deqtheory check | eval | convert``
read, and what :mod:`deqtheory_train.certify` certifies)."""
from __future__ import annotations

import json
import os
from typing import Any, Dict

import numpy as np

from deqtheory import formats as _fm
from deqtheory import pipeline as _pl
from deqtheory.errors import DomainError

from ..export import to_deqtheory
from .checkpoint import load_model_file

__all__ = ["export_file", "format_summary"]


def export_file(source: "str | os.PathLike[str]", output: "str | os.PathLike[str]") -> Dict[str, Any]:
    """``deqtheory-train export``: load a training model file (``RUN_DIR`` or ``RUN/model.npz`` /
    ``checkpoint.npz``), :func:`to_deqtheory`, write ``output`` with :func:`deqtheory.formats.save_model`.
    Returns a summary ``{"source", "output", "kind", "stages": [{"kind", "shapes"}], "notes", "next"}``,
    ``next`` = the deqtheory commands that apply to the file (``check`` when its DEQ stage can be
    materialized densely, ``convert`` when it has an LBEN conversion, ``eval``)."""
    src = os.fspath(source)
    if os.path.isdir(src):
        src = os.path.join(src, "model.npz")
    model, _ = load_model_file(src)
    obj = to_deqtheory(model)
    kind = _fm.save_model(output, obj)
    stages = obj.stages if isinstance(obj, _pl.Pipeline) else (obj,)
    summ = []
    for st in stages:
        arrays = _fm.TABLE[_fm.kind_of(st)].write(st)
        summ.append({"kind": _fm.kind_of(st),
                     "shapes": {k: list(np.shape(v)) for k, v in arrays.items() if v is not None and np.ndim(v) > 0}})
    out = os.fspath(output)
    nxt = []
    try:
        _fm.load_model(out)                 # materializable: deqtheory check proves its conditions
        nxt.append(f"deqtheory check {out}")
    except DomainError as exc:
        summ.append({"note": f"deqtheory check: {exc}"})
    stage = obj.model_stage() if isinstance(obj, _pl.Pipeline) else obj
    if _fm.TABLE[_fm.kind_of(stage)].lben is not None:
        nxt.append(f"deqtheory convert {out} -o {out[:-4] if out.endswith('.npz') else out}_lben.npz")
    nxt.append(f"deqtheory eval {out} X.npy -o Y.npy")
    return {"source": src, "output": out, "kind": kind, "stages": [s for s in summ if "kind" in s],
            "notes": [s["note"] for s in summ if "note" in s], "next": nxt}


def format_summary(s: Dict[str, Any], as_json: bool = False) -> str:
    """The text (or JSON) that ``deqtheory-train export`` prints."""
    if as_json:
        return json.dumps(s, indent=2)
    lines = [f"{s['source']} -> {s['output']} (kind {s['kind']})"]
    for i, st in enumerate(s["stages"]):
        shp = ", ".join(f"{k} {tuple(v)}" for k, v in st["shapes"].items())
        lines.append(f"  stage {i}: {st['kind']}" + (f" [{shp}]" if shp else ""))
    lines += [f"  note: {n}" for n in s["notes"]]
    lines += [f"next: {c}" for c in s["next"]]
    return "\n".join(lines)
