r"""Result types of the certifiers: the threat model (:class:`Perturbation`), the per-batch result of
the dense plan (:class:`CertificationResult`), the per-sample output of every registered certifier
(:class:`CertifyOutput`), and their JSON forms."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
import torch

from deqtheory.errors import DomainError

__all__ = ["Perturbation", "CertificationResult", "CertifyOutput", "jsonable", "stats_dict"]


@dataclasses.dataclass(frozen=True)
class Perturbation:
    """Threat model: ``norm`` ``"2"`` (ball ‖x′ − x‖₂ ≤ eps) or ``"inf"`` (box ‖x′ − x‖∞ ≤ eps,
    intersected with ``domain = (lo, hi)`` when given, e.g. ``(0, 1)`` for pixels). ε is in the
    units of the model's raw input (normalisation inside the model is accounted for)."""

    norm: str
    eps: float
    domain: Optional[Tuple[float, float]] = None

    def __post_init__(self) -> None:
        nm = str(self.norm)
        if nm in ("l2", "L2"):
            nm = "2"
        if nm in ("linf", "Linf", "inf"):
            nm = "inf"
        if nm not in ("2", "inf"):
            raise DomainError(f"norm: expected '2' or 'inf', got {self.norm!r}")
        object.__setattr__(self, "norm", nm)
        e = float(self.eps)
        if not (math.isfinite(e) and e >= 0):
            raise DomainError(f"eps: expected a finite number >= 0, got {self.eps!r}")
        object.__setattr__(self, "eps", e)
        if self.domain is not None:
            lo, hi = (float(t) for t in self.domain)
            if not lo <= hi:
                raise DomainError(f"domain: expected (lo, hi) with lo <= hi, got {self.domain!r}")
            object.__setattr__(self, "domain", (lo, hi))


@dataclasses.dataclass
class CertificationResult:
    """Per-batch certification output (tensors on CPU, float64).

    * ``certified`` (B,) bool — proved robust (implies ``correct``);
    * ``correct`` (B,) bool — x itself provably classified ``labels`` (exact margin > 0);
    * ``clean_margins`` (B, p) — proved lower bounds on the exact margins f_y(x) − f_j(x)
      (entry y = +inf);
    * ``margins`` (B, p) — proved lower bounds on min over the perturbation set of f_y − f_j
      (ℓ2: clean_margins − K_yj ε; ℓ∞: folded interval margins);
    * ``radius`` (B,) — ℓ2 certified radius min_j m̲_j / K_yj (0 if not correct); NaN for ℓ∞;
    * ``fixed_point_error`` (B,) — proved ℓ2 bound on ‖ẑ − z*‖ of the clean solve;
    * ``z_lower``, ``z_upper`` (B, n) — ℓ∞ only: the widened box containing z*(x′) for all x′;
    * ``constants`` / ``provenance`` — the constants used and where their proofs come from;
    * ``solver`` — statistics of the solves (status, iterations, residuals)."""

    perturbation: Perturbation
    labels: torch.Tensor
    certified: torch.Tensor
    correct: torch.Tensor
    clean_margins: torch.Tensor
    margins: torch.Tensor
    radius: torch.Tensor
    fixed_point_error: torch.Tensor
    z_lower: Optional[torch.Tensor] = None
    z_upper: Optional[torch.Tensor] = None
    constants: Dict[str, Any] = dataclasses.field(default_factory=dict)
    provenance: Dict[str, Any] = dataclasses.field(default_factory=dict)
    solver: Dict[str, Any] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    @property
    def certified_accuracy(self) -> float:
        return float(self.certified.double().mean()) if self.n else 0.0

    @property
    def clean_accuracy(self) -> float:
        return float(self.correct.double().mean()) if self.n else 0.0


@dataclasses.dataclass
class CertifyOutput:
    """Per-sample results of a certifier. ``certified[i, k]``: proved robust at ``eps[k]`` (implies
    ``correct[i]``); ``radius[i]``: a proved lower bound on the certified radius (0 if none / NaN
    if the certifier does not compute radii); ``details``: JSON-serialisable extras (bounds used).

    With ``witness=True`` (dense DEQ plans, the conv ℓ∞ plan) also the proofs: ``certificates`` — the
    :class:`deqtheory.certificates.Certificate` of every proved constant, by name; ``witness`` — per-image
    arrays: ``z`` (N, n) the clean fixed points ẑ, ``clean_margins`` (N, p) the claimed lower bounds on
    the exact margins, ``fixed_point_error`` (N,) the claimed ‖ẑ − z*‖₂ bound (dense only), ℓ∞ also
    ``z_lift`` (N, E, 2n) the lifted fixed points [z̄; z̲] per ε and ``interval_margins`` (N, E, p) (conv: n
    is the sum of the DEQs' state sizes, layout of :class:`deqtheory.conv_certificate.ConvChain`); ``meta`` —
    the plan's decisions (lift, ℓ2 factor). :mod:`deqtheory.classifier_certificate` writes and re-checks them."""

    correct: np.ndarray
    certified: np.ndarray
    radius: Optional[np.ndarray] = None
    details: Dict[str, Any] = dataclasses.field(default_factory=dict)
    certificates: Optional[Dict[str, Any]] = None
    witness: Optional[Dict[str, np.ndarray]] = None
    meta: Dict[str, Any] = dataclasses.field(default_factory=dict)


def jsonable(o: Any) -> Any:
    """``o`` with tensors/arrays as lists, numpy scalars as Python numbers, non-finite floats as strings."""
    if isinstance(o, Mapping):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, torch.Tensor):
        return o.detach().cpu().tolist()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return o


def stats_dict(st: Any) -> Optional[Dict[str, Any]]:
    """JSON form of a :class:`deqtheory_train.solvers.SolverStats` (``status`` = the enum's value)."""
    if st is None:
        return None
    return {"method": st.method, "status": st.status.value, "iterations": st.iterations, "residual": st.residual,
            "rel_residual": st.rel_residual, "tol": st.tol, "time": st.time}
