"""Certification of a trained model on a dataset through a registered certifier, and its outputs
(``certify.json``, ``certify.png``, the plain-text table)."""
from __future__ import annotations

import json
import pathlib
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

from deqtheory.io import atomic_write

from .. import data as D
from ..certify.results import CertifyOutput
from ..registry import get_certifier
from ..train import DistInfo, gather_to_main, unwrap
from .sharding import certifier_batch_size, merge_outputs, shard_indices

__all__ = ["describe_sample", "summarize_certification", "certify_model", "write_certify_outputs", "format_table", "WITNESS_CERTIFIERS",
           "DEVICE_CERTIFIERS", "RADIUS_SLACK", "save_witness"]

#: the registered certifiers that hand out their proofs (the dense DEQ plan and the conv ℓ∞ plan); see
#: docs/certify.md
WITNESS_CERTIFIERS = ("deq", "deq_ibp", "deq_metzler", "deq_sqrt2", "deq_linf", "conv_linf")
#: the registered certifiers that run on any torch device (their rounding model holds there: float64,
#: cuDNN off for every proved convolution, FFTs only inside the untrusted solver — except conv_l2's
#: ConvLBEN, whose claimed FFT products rest on the FFT assumption for cuFFT too; docs/certify.md)
DEVICE_CERTIFIERS = ("deq", "deq_ibp", "deq_metzler", "deq_sqrt2", "deq_linf", "conv_linf", "conv_l2")
#: relative amount by which a saved radius claim is below the certifier's radius (:func:`save_witness`)
RADIUS_SLACK = 1e-6


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


def save_witness(path: "str | pathlib.Path", model: nn.Module, outp: CertifyOutput, x: Any, y: Any, *, norm: str,
                 eps: Sequence[float], certifier: str) -> str:
    """Write the certification ``outp`` (made with ``witness=True``) of ``model`` on ``(x, y)`` as a
    :mod:`deqtheory.classifier_certificate` file, the exported model (:func:`deqtheory_train.export.to_deqtheory`)
    embedded with its sha256 (returned). Re-check: ``deqtheory verify-certification PATH``."""
    import os
    import tempfile

    from deqtheory.classifier_certificate import save_certification
    from deqtheory.formats import save_model

    from ..export import to_deqtheory

    if outp.witness is None or outp.certificates is None:
        raise ValueError(f"certifier {certifier}: the output carries no witnesses (run it with witness=True)")
    fd, tmp = tempfile.mkstemp(suffix=".npz")
    os.close(fd)
    try:
        save_model(tmp, to_deqtheory(unwrap(model)))
        with open(tmp, "rb") as fh:
            blob = fh.read()
    finally:
        os.unlink(tmp)
    domain = (0.0, 1.0) if str(norm) == "inf" and outp.meta.get("clip", True) else None
    # A radius r = m̲/K is claimed to the last bit; the numpy re-check rounds on its own (its m̲ and K
    # differ from torch's by ~1e-15 relative; ~1e-8 where the certifier reads W as a float32 layer
    # computes it and the file holds W recomputed in float64), so the file claims r(1 − RADIUS_SLACK).
    radius = None if outp.radius is None else np.nextafter(np.asarray(outp.radius) * (1 - RADIUS_SLACK), 0.0)
    return save_certification(path, model_npz=blob, X=x, labels=y, norm=str(norm), eps=eps, domain=domain,
                              certified=outp.certified, correct=outp.correct, radius=radius,
                              witness=outp.witness, certificates=outp.certificates,
                              meta={**outp.meta, "certifier": certifier})


def certify_model(model: nn.Module, dataset: D.ArrayDataset, *, certifier: Optional[str], norm: str,
                  eps: Sequence[float], max_samples: Optional[int] = None,
                  witness_path: "Optional[str | pathlib.Path]" = None, device: Any = None,
                  dist: Optional[DistInfo] = None, **kwargs: Any) -> Optional[Dict[str, Any]]:
    """Run a registered certifier (default: the model's ``default_certifier``) on the first
    ``max_samples`` examples of ``dataset``; returns :func:`summarize_certification`'s dict.
    ``witness_path``: also write the proofs there (:func:`save_witness`; certifiers of
    :data:`WITNESS_CERTIFIERS` only) and record ``witness`` / ``model_sha256`` in the dict. ``device``:
    where the certifier computes (:data:`DEVICE_CERTIFIERS`; the others run on the CPU only).

    ``dist``: under ``torchrun`` (``dist.enabled``; the process group initialised) every rank must call
    this; each certifies its shard of the certifier's batches (:mod:`.sharding`) and rank 0 gathers them,
    writes the witness file and returns the dict (the same numbers as one process; ``ranks`` records
    the world size); the other ranks return ``None``. ``device="cuda"`` means each rank's own GPU."""
    base = unwrap(model)
    name = certifier or getattr(base, "default_certifier", None)
    if not name:
        raise ValueError(f"no certifier given and {type(base).__name__} has no default_certifier")
    if witness_path is not None:
        if name not in WITNESS_CERTIFIERS:
            raise ValueError(f"certifier {name}: hands out no witnesses (only {', '.join(WITNESS_CERTIFIERS)}: the "
                             "dense DEQ plan and the conv l_inf plan; see docs/certify.md)")
        kwargs["witness"] = True
    if device is not None:
        if name not in DEVICE_CERTIFIERS and torch.device(device).type != "cpu":
            raise ValueError(f"certifier {name}: runs on the CPU only (device certifiers: "
                             f"{', '.join(DEVICE_CERTIFIERS)}; docs/certify.md)")
        if name in DEVICE_CERTIFIERS:
            kwargs["device"] = torch.device(device)
    sharded = dist is not None and dist.enabled
    if sharded and "device" in kwargs and kwargs["device"].type == "cuda" and kwargs["device"].index is None:
        kwargs["device"] = torch.device("cuda", dist.local_rank)
    ds = dataset.subset(max_samples)
    t0 = time.time()
    fn = get_certifier(name)
    if sharded:
        outp = _certify_sharded(fn, base, ds, dist, name=name, norm=str(norm), eps=list(eps), kwargs=kwargs)
        if outp is None:
            return None
    else:
        outp = fn(base, ds.x, ds.y, norm=str(norm), eps=list(eps), **kwargs)
    res = summarize_certification(outp, eps, norm, name)
    res["seconds"] = time.time() - t0
    res["device"] = str(kwargs.get("device", "cpu"))
    if sharded:
        res["ranks"] = dist.world_size
    if witness_path is not None:
        res["model_sha256"] = save_witness(witness_path, base, outp, ds.x, ds.y, norm=norm, eps=eps, certifier=name)
        res["witness"] = str(witness_path)
    return res


def _certify_sharded(fn: Any, base: nn.Module, ds: D.ArrayDataset, dist: DistInfo, *, name: str, norm: str,
                     eps: List[float], kwargs: Mapping[str, Any]) -> Optional[CertifyOutput]:
    """This rank's shard certified, then gathered on rank 0 (its merged output; ``None`` elsewhere). A
    rank whose certifier raises makes every rank raise the same ``ValueError`` (no rank is left waiting)."""
    import torch.distributed as tdist

    idx = shard_indices(len(ds.y), certifier_batch_size(fn, kwargs), dist.rank, dist.world_size)
    piece: Optional[Dict[str, Any]] = None
    err = ""
    if len(idx):
        try:
            piece = {"index": idx, "output": fn(base, ds.x[idx], ds.y[idx], norm=norm, eps=eps, **kwargs)}
        except (ValueError, ArithmeticError, RuntimeError) as exc:
            err = f"rank {dist.rank}: {exc}"
    errors: List[Any] = [None] * dist.world_size
    tdist.all_gather_object(errors, err)
    if any(errors):
        raise ValueError(f"certifier {name}: " + "; ".join(e for e in errors if e))
    pieces = gather_to_main(piece, dist)
    if not dist.is_main:
        return None
    return merge_outputs(pieces or [], len(ds.y), len(eps))


def write_certify_outputs(res: Mapping[str, Any], json_path: Optional[pathlib.Path], png_path: Optional[pathlib.Path],
                           cfg: Optional[Mapping[str, Any]]) -> None:
    if json_path is not None:
        text = (json.dumps(res, indent=2, sort_keys=True) + "\n").encode("utf-8")
        atomic_write(json_path, lambda fh: fh.write(text))
    if png_path is not None:
        from ..plots import plot_certified_accuracy
        paper = [p for p in (cfg or {}).get("paper", []) if str(p.get("norm", res["norm"])) == res["norm"]]
        plot_certified_accuracy(res, png_path, paper=paper, title=(cfg or {}).get("name"))


def describe_sample(dataset: str, split: str, n: int, split_size: int, test_subset: Optional[int],
                    max_samples: Optional[int]) -> str:
    """One line saying which examples a certification used: ``n`` of the ``split_size`` examples of
    ``dataset``/``split``, and why fewer (the config's ``data.test_subset``, ``--max-samples``)."""
    if n >= split_size:
        return f"{dataset} {split} split: all {split_size} examples"
    why = []
    if test_subset is not None and test_subset < split_size:
        why.append(f"the config's data.test_subset = {test_subset}")
    if max_samples is not None and max_samples < split_size:
        why.append(f"--max-samples {max_samples}")
    reason = " and ".join(why) or "the split is smaller"
    limited = max_samples is not None and max_samples < split_size
    full = f" (--split {split} certifies the whole split)" if test_subset is not None and not limited else ""
    return f"{dataset} {split} split: the first {n} of {split_size} examples, by {reason}{full}"


def format_table(res: Mapping[str, Any]) -> str:
    """Plain-text table of a certification result; the line ``data: …`` says which examples it used."""
    lines = [f"certifier {res['certifier']}  norm l{res['norm']}  n={res['n']}  clean acc {100 * res['clean_accuracy']:.2f}%"]
    if res.get("data"):
        lines.append(f"data: {res['data']}")
    lines.append(f"{'eps':>12}  {'certified acc':>14}")
    for e, a in zip(res["eps"], res["certified_accuracy"]):
        lines.append(f"{e:>12.6g}  {100 * a:>13.2f}%")
    return "\n".join(lines)
