"""Certification of a trained model on a dataset through a registered certifier, and its outputs
(``certify.json``, ``certify.png``, the plain-text table)."""
from __future__ import annotations

import json
import pathlib
import time
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np
from torch import nn

from deqtheory.io import atomic_write

from .. import data as D
from ..certify.results import CertifyOutput
from ..registry import get_certifier
from ..train import unwrap

__all__ = ["summarize_certification", "certify_model", "write_certify_outputs", "format_table"]


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
    base = unwrap(model)
    name = certifier or getattr(base, "default_certifier", None)
    if not name:
        raise ValueError(f"no certifier given and {type(base).__name__} has no default_certifier")
    ds = dataset.subset(max_samples)
    t0 = time.time()
    outp = get_certifier(name)(base, ds.x, ds.y, norm=str(norm), eps=list(eps), **kwargs)
    res = summarize_certification(outp, eps, norm, name)
    res["seconds"] = time.time() - t0
    return res


def write_certify_outputs(res: Mapping[str, Any], json_path: Optional[pathlib.Path], png_path: Optional[pathlib.Path],
                           cfg: Optional[Mapping[str, Any]]) -> None:
    if json_path is not None:
        text = (json.dumps(res, indent=2, sort_keys=True) + "\n").encode("utf-8")
        atomic_write(json_path, lambda fh: fh.write(text))
    if png_path is not None:
        from ..plots import plot_certified_accuracy
        paper = [p for p in (cfg or {}).get("paper", []) if str(p.get("norm", res["norm"])) == res["norm"]]
        plot_certified_accuracy(res, png_path, paper=paper, title=(cfg or {}).get("name"))


def format_table(res: Mapping[str, Any]) -> str:
    """Plain-text table of a certification result."""
    lines = [f"certifier {res['certifier']}  norm l{res['norm']}  n={res['n']}  clean acc {100 * res['clean_accuracy']:.2f}%",
             f"{'eps':>12}  {'certified acc':>14}"]
    for e, a in zip(res["eps"], res["certified_accuracy"]):
        lines.append(f"{e:>12.6g}  {100 * a:>13.2f}%")
    return "\n".join(lines)
