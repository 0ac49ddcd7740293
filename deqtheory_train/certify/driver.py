r"""The one batch × ε loop of every certifier.

A *plan* (:class:`~deqtheory_train.certify.dense.CertificationPlan`,
:class:`~deqtheory_train.certify.conv_l2.ConvCertificationPlan`,
:class:`~deqtheory_train.models.mlp.MLPPlan`) provides

* ``device``; ``info() -> (constants, provenance)``;
* ``clean(x, labels) -> {"margins", "correct", "stats"}`` — proved lower bounds m̲ (B, p) on the exact
  margins f_y(x) − f_j(x) at x (entry y = +inf) and ``correct`` (all m̲_j > 0, solve converged);
* ℓ2: ``l2_factors(labels) -> K`` (B, p), K_yj ≥ Lip₂(x ↦ f_y − f_j);
* ℓ∞: ``interval_margins(x, labels, perturbation) -> {"margins", "valid", "stats"}`` — proved lower
  bounds on min over the perturbation set of f_y − f_j.

Decisions (:func:`l2_need`, :func:`l2_radius`): ℓ2-certified at ε iff correct and
m̲_j > ⌈K_yj ε (1 + 2u)⌉ for all j ≠ y (ε = 0: iff correct); radius ⌊min_j m̲_j/K_yj (1 − 4u)⌋₊ when
correct, else 0. ℓ∞-certified at ε iff correct, the box is valid and all interval margins are > 0.
The clean pass runs once per batch for all ε.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from deqtheory.errors import DomainError

from .boxes import DT, UROUND, down, up
from .results import CertifyOutput, Perturbation, jsonable

__all__ = ["l2_need", "l2_radius", "plan_inputs", "certify_plan_batch", "run_certifier"]


def plan_inputs(x: Any, y: Any, device: Any, p: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``x`` as float64 and ``y`` as long labels on ``device``, checked against each other and against the
    ``p`` classes (the ``inputs`` method of every plan)."""
    x = torch.as_tensor(x).detach().to(device=device, dtype=DT)
    labels = torch.as_tensor(y).detach().to(device=device, dtype=torch.long).reshape(-1)
    if x.shape[0] != labels.shape[0]:
        raise DomainError(f"x, y: batch sizes differ ({x.shape[0]} vs {labels.shape[0]})")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= p):
        raise DomainError(f"y: labels must be in [0, {p})")
    return x, labels


def l2_need(K: torch.Tensor, labels: torch.Tensor, eps: float) -> torch.Tensor:
    """⌈K ε (1 + 2u)⌉ with −inf at the label entries (no constraint)."""
    need = up(K * float(eps) * (1 + 2 * UROUND))
    need[torch.arange(len(labels), device=need.device), labels] = -math.inf
    return need


def l2_radius(margins: torch.Tensor, correct: torch.Tensor, K: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Certified ℓ2 radius per sample (0 where not correct)."""
    q = torch.where(K > 0, margins / K, torch.full_like(K, math.inf))
    q[torch.arange(len(labels), device=q.device), labels] = math.inf
    zero = torch.zeros(len(labels), dtype=DT, device=margins.device)
    return torch.where(correct, down(q.amin(dim=1) * (1 - 4 * UROUND)).clamp(min=0.0), zero)


def certify_plan_batch(plan: Any, x: torch.Tensor, labels: torch.Tensor, *, norm: str, eps: Sequence[float],
                       domain: Optional[Tuple[float, float]] = None) -> Dict[str, Any]:
    """One batch at every ε: ``correct`` (B,), ``certified`` (B, E), ``radius`` (B,) or None (ℓ∞),
    ``clean`` (the clean-pass dict), ``intervals`` (ℓ∞: the interval dict per ε), ``K`` (ℓ2)."""
    cl = plan.clean(x, labels)
    correct = cl["correct"]
    cols: List[torch.Tensor] = []
    out: Dict[str, Any] = {"clean": cl, "correct": correct, "radius": None, "intervals": [], "K": None}
    if norm == "2":
        K = plan.l2_factors(labels)
        out["K"] = K
        out["radius"] = l2_radius(cl["margins"], correct, K, labels)
        for e in eps:
            cols.append(correct & (cl["margins"] > l2_need(K, labels, e)).all(dim=1) if e > 0 else correct.clone())
    else:
        for e in eps:
            iv = plan.interval_margins(x, labels, Perturbation("inf", float(e), domain))
            out["intervals"].append(iv)
            cols.append(correct & (iv["margins"] > 0).all(dim=1) & bool(iv["valid"]))
    B = labels.shape[0]
    out["certified"] = torch.stack(cols, dim=1) if cols else torch.zeros((B, 0), dtype=torch.bool, device=correct.device)
    return out


def _count(statuses: Dict[str, int], iters: List[int], key: str, st: Any) -> None:
    if st is None:
        return
    name = f"{key}:{st.status.value}"
    statuses[name] = statuses.get(name, 0) + 1
    iters.append(int(st.iterations))


def _witness_rows(plan: Any, r: Dict[str, Any], norm: str) -> Dict[str, np.ndarray]:
    """The per-image witnesses of one batch (see :class:`~.results.CertifyOutput`)."""
    cl = r["clean"]
    rows = {"z": cl["z"], "clean_margins": cl["margins"]}
    if cl.get("e2") is not None:
        rows["fixed_point_error"] = cl["e2"]
    if norm == "inf":
        B = cl["z"].shape[0]
        nan = torch.full((B, 2 * cl["z"].shape[1]), math.nan, dtype=DT, device=cl["z"].device)
        rows["z_lift"] = torch.stack([nan if iv["zhat"] is None else iv["zhat"] for iv in r["intervals"]], dim=1)
        rows["interval_margins"] = torch.stack([iv["margins"] for iv in r["intervals"]], dim=1)
    return {k: v.detach().cpu().numpy() for k, v in rows.items()}


def run_certifier(plan: Any, x: Any, y: Any, *, name: str, norm: str, eps: Sequence[float], batch_size: int = 500,
                  clip: bool = True, details: Optional[Mapping[str, Any]] = None,
                  witness: bool = False) -> CertifyOutput:
    """The registry-certifier loop over ``x`` (N, ...) raw inputs, ``y`` (N,) labels in batches of
    ``batch_size``; ℓ∞ boxes are intersected with [0, 1]^d when ``clip`` (the dataset invariant).
    ``details``: extra JSON entries (the plan's constants/provenance and solver counts are added).
    ``witness``: also hand out the proofs (``certificates``, per-image ``witness``, ``meta``); only
    plans with ``certificates()`` (the dense DEQ plan, the conv ℓ∞ plan) have them, others raise
    ``DomainError``."""
    if witness and not hasattr(plan, "certificates"):
        raise DomainError(f"certifier {name}: {type(plan).__name__} hands out no witnesses (only the dense DEQ "
                          "plan and the conv l_inf plan do; see docs/certify.md)")
    norm = str(norm)
    if norm not in ("2", "inf"):
        raise DomainError(f"norm: expected '2' or 'inf', got {norm!r}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    N, E = len(y), len(eps)
    if x.shape[0] != N:
        raise DomainError(f"x, y: batch sizes differ ({x.shape[0]} vs {N})")
    if N and (int(y.min()) < 0 or int(y.max()) >= plan.p):
        raise DomainError(f"y: labels must be in [0, {plan.p})")
    correct = np.zeros(N, dtype=bool)
    cert = np.zeros((N, E), dtype=bool)
    radius = np.zeros(N)
    statuses: Dict[str, int] = {}
    iters: List[int] = []
    parts: List[Dict[str, np.ndarray]] = []
    dev = plan.device
    for s0 in range(0, N, batch_size):
        sl = slice(s0, min(N, s0 + batch_size))
        xb = torch.as_tensor(x[sl], dtype=DT, device=dev)
        lb = torch.as_tensor(y[sl], device=dev)
        with torch.no_grad():
            r = certify_plan_batch(plan, xb, lb, norm=norm, eps=eps, domain=(0.0, 1.0) if clip else None)
        correct[sl] = r["correct"].cpu().numpy()
        cert[sl] = r["certified"].cpu().numpy()
        if r["radius"] is not None:
            radius[sl] = r["radius"].cpu().numpy()
        if witness:
            parts.append(_witness_rows(plan, r, norm))
        _count(statuses, iters, "clean", r["clean"].get("stats"))
        for iv in r["intervals"]:
            _count(statuses, iters, "interval", iv.get("stats"))
    consts, prov = plan.info()
    det: Dict[str, Any] = {"certifier": name, "norm": norm, **dict(details or {}),
                           "constants": jsonable(consts), "provenance": jsonable(prov),
                           "solver": {"statuses": statuses, "max_iterations": max(iters) if iters else 0}}
    out = CertifyOutput(correct, cert, radius if norm == "2" else None, det)
    if witness:
        out.certificates = plan.certificates()
        out.meta = {**plan.witness_meta(), "clip": bool(clip)}
        out.witness = {k: np.concatenate([pt[k] for pt in parts]) for k in parts[0]} if parts else {}
    return out
