"""Certificate files (``.npz``, never pickles; format documented in docs/sdp.md).

* one float64 array ``witness.<key>`` per array-valued witness entry (``gamma``, ``lam``, ``V``);
* a 0-d string array ``meta``: JSON with ``format`` (``"deqtheory-certificate/1"``), ``condition``,
  ``status`` (Status value), ``margin``, ``witness_scalars`` (non-array witness entries: ``L``,
  ``wellposed_condition``, ...), ``tolerance``, ``residuals``, ``stats``, ``message``.
  Non-finite floats are the strings "nan", "inf", "-inf" (:func:`deqtheory.certificates.to_jsonable`).

Loading uses :func:`deqtheory.io.load_npz` (``allow_pickle=False``) and never trusts the stored
status: re-check with ``cert.verify(W=..., U=..., G=...)``.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Dict

import numpy as np

from ..certificates import Certificate, Status, to_jsonable, verifier_for
from ..errors import ModelFileError
from ..io import load_npz, save_npz

__all__ = ["save_certificate", "load_certificate", "FORMAT"]

FORMAT = "deqtheory-certificate/1"


def save_certificate(path: "str | os.PathLike[str]", cert: Certificate) -> None:
    """Write ``cert`` to ``path`` (.npz)."""
    if not isinstance(cert, Certificate):
        from ..errors import DTypeError
        raise DTypeError(f"cert: expected a Certificate, got {type(cert).__name__}")
    arrays: Dict[str, Any] = {}
    scalars: Dict[str, Any] = {}
    for k, v in cert.witness.items():
        if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
            arrays[f"witness.{k}"] = np.asarray(v, dtype=np.float64)
        else:
            scalars[k] = to_jsonable(v)
    meta = {"format": FORMAT, "condition": cert.condition, "status": cert.status.value,
            "margin": to_jsonable(cert.margin), "witness_scalars": scalars,
            "tolerance": to_jsonable(dict(cert.tolerance)), "residuals": to_jsonable(dict(cert.residuals)),
            "stats": to_jsonable(dict(cert.stats)), "message": cert.message}
    arrays["meta"] = np.asarray(json.dumps(meta))
    save_npz(path, arrays)


def _num(v: Any) -> Any:
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def load_certificate(path: "str | os.PathLike[str]") -> Certificate:
    """Read a certificate written by :func:`save_certificate`. Raises :class:`ModelFileError` naming the
    file if it is malformed: ``meta`` not a JSON object, unknown format / status, or a condition
    that has no registered verifier."""
    data = load_npz(path, required=("meta",))
    p = os.fspath(path)
    try:
        meta = json.loads(data["meta"])
        if not isinstance(meta, dict):
            raise ModelFileError(f"{p}:meta: expected a JSON object, got a JSON {type(meta).__name__}")
        if meta.get("format") != FORMAT:
            raise ModelFileError(f"{p}: unknown certificate format {meta.get('format')!r}")
        status = Status(meta["status"])
        condition = meta["condition"]
        if not isinstance(condition, str):
            raise ModelFileError(f"{p}:meta: condition must be a string, got {condition!r}")
        try:
            verifier_for(condition)
        except KeyError as exc:
            raise ModelFileError(f"{p}: {exc.args[0]}") from None
        for key in ("witness_scalars", "tolerance", "residuals", "stats"):
            if not isinstance(meta.get(key, {}), dict):
                raise ModelFileError(f"{p}:meta: {key} must be a JSON object, got {type(meta[key]).__name__}")
        witness: Dict[str, Any] = {k: _num(v) for k, v in meta.get("witness_scalars", {}).items()}
        for k, v in data.items():
            if k.startswith("witness."):
                witness[k[len("witness."):]] = np.asarray(v, dtype=np.float64)
        margin = _num(meta.get("margin", math.nan))
        return Certificate(condition, status, margin=float(margin), witness=witness,
                           tolerance={k: _num(v) for k, v in meta.get("tolerance", {}).items()},
                           residuals={k: _num(v) for k, v in meta.get("residuals", {}).items()},
                           stats={k: _num(v) for k, v in meta.get("stats", {}).items()},
                           message=str(meta.get("message", "")))
    except (KeyError, TypeError, ValueError, AttributeError, json.JSONDecodeError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{p}: malformed certificate metadata ({type(exc).__name__}: {exc})") from None
