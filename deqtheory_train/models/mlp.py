r"""The explicit baseline: :class:`MLP` (Flatten → optional Normalize → (Linear → ReLU)ᵏ → Linear),
its proved ℓ2 Lipschitz bounds (:func:`mlp_lipschitz_bounds`) and its sound certifier
(:class:`MLPPlan`, registry certifier ``mlp`` = :func:`certify_mlp`).

The certifier propagates boxes through the stored layers with the shared outward-rounded rules of
:mod:`deqtheory_train.certify.blocks` / :mod:`deqtheory_train.certify.boxes` (wei2022 eq. 2.3, last
layer folded as in jafarpour2022 eq. 10) and runs in the one batch × ε loop
:func:`deqtheory_train.certify.driver.run_certifier`:

* clean correctness: lower bounds m̲_j on the exact margins f_c(x) − f_j(x) from a zero-width box;
  ``correct`` iff all m̲_j > 0 (a sample correct only up to rounding counts as wrong);
* ℓ2: certified at ε iff m̲_j > K_cj ε for all j ≠ c with K from :func:`mlp_lipschitz_bounds`
  (margin-over-Lipschitz, pabbaraju2021 §5 / havens2023 §2 in its per-pair form); radius min_j m̲_j/K_cj;
* ℓ∞: the box ``[x − ε, x + ε] ∩ [0, 1]^d`` (``clip``) propagated; certified iff min_j m̲_j > 0.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from deqtheory.linalg import norm2_upper_bound
from deqtheory.verified import UNIT_ROUNDOFF, gamma

from ..certify.blocks import Block, flatten_block, linear_block, normalize_block, relu_block
from ..certify.boxes import affine_box, as_f64, folded_margins, input_box, to_numpy64
from ..certify.driver import run_certifier
from ..certify.results import CertifyOutput, Perturbation
from ..data import Normalize
from ..train import unwrap
from .common import relu_stack

__all__ = ["MLP", "MLPPlan", "mlp_lipschitz_bounds", "certify_mlp"]

_U = UNIT_ROUNDOFF


class MLP(nn.Module):
    r"""Flatten → optional :class:`~deqtheory_train.data.Normalize` → (Linear → ReLU)ᵏ → Linear.

    ``interval_logits`` is plain (float, unsound) IBP used only by the ``ibp`` training loss; the
    certificates come from :func:`certify_mlp`."""

    default_certifier = "mlp"

    def __init__(self, input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (128,),
                 normalize: Optional[Mapping[str, Sequence[float]]] = None) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        d = int(np.prod(self.input_shape))
        self.norm = Normalize(**normalize) if normalize else None
        widths = [d] + [int(h) for h in hidden]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.out = nn.Linear(widths[-1], int(num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(relu_stack(self.norm, self.hidden, x))

    def interval_logits(self, lower: torch.Tensor, upper: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.norm is not None:   # σ > 0: the standardisation is increasing coordinatewise
            lower, upper = self.norm(lower), self.norm(upper)
        lo, hi = lower.flatten(1), upper.flatten(1)
        layers = list(self.hidden) + [self.out]
        for k, lin in enumerate(layers):
            lo, hi = affine_box(lin.weight, lin.bias, lo, hi, sound=False)
            if k < len(layers) - 1:
                lo, hi = torch.relu(lo), torch.relu(hi)
        return lo, hi

    def float64_layers(self) -> List[Tuple[np.ndarray, np.ndarray]]:
        """[(W, b)] of all Linear layers as float64 (exact copies of the stored values)."""
        return [(lin.weight.detach().double().cpu().numpy(), lin.bias.detach().double().cpu().numpy())
                for lin in list(self.hidden) + [self.out]]


def _up(x: float) -> float:
    return float(np.nextafter(x * (1 + 4 * _U), np.inf))


def mlp_lipschitz_bounds(model: MLP) -> Tuple[float, np.ndarray]:
    r"""Proved ℓ2 bounds: (global L ≥ Lip of x ↦ logits, K (p, p) with K[c, j] ≥ Lip of
    x ↦ f_c(x) − f_j(x)), both w.r.t. raw pixels:
    :math:`L = s\,\prod_{k}\|W_k\|_2`, :math:`K_{cj} = s\,\|g_c - g_j\|_2\prod_{k<L}\|W_k\|_2`
    with :math:`s = \max_c 1/\sigma_c` (ReLU is 1-Lipschitz). Spectral norms from
    :func:`deqtheory.linalg.norm2_upper_bound`; products rounded up."""
    layers = model.float64_layers()
    s = model.norm.lipschitz_factor("2") if model.norm is not None else 1.0
    prod = s
    for W, _ in layers[:-1]:
        prod = _up(prod * norm2_upper_bound(W))
    G = layers[-1][0]
    L = _up(prod * norm2_upper_bound(G))
    diff = G[:, None, :] - G[None, :, :]
    n = G.shape[1]
    rown = np.sqrt(np.sum(diff * diff, axis=-1)) * (1 + gamma(n + 4))      # ‖g_c − g_j‖₂, rounded up
    K = np.nextafter(np.nextafter(rown, np.inf) * prod * (1 + 4 * _U), np.inf)
    return L, K


class MLPPlan:
    """The :mod:`deqtheory_train.certify.driver` plan of an :class:`MLP` (float64, CPU)."""

    def __init__(self, model: MLP) -> None:
        if not isinstance(model, MLP):
            raise TypeError(f"certifier 'mlp' needs an MLP, got {type(model).__name__}")
        self.model = model
        self.device = torch.device("cpu")
        self.blocks: List[Block] = [normalize_block(model.norm)] if model.norm is not None else []
        self.blocks.append(flatten_block())
        for lin in model.hidden:
            self.blocks += [linear_block(lin), relu_block()]
        self.G, self.b_y = as_f64(to_numpy64(model.out.weight)), as_f64(to_numpy64(model.out.bias))
        self.p = int(self.G.shape[0])
        self._K: Optional[torch.Tensor] = None
        self.constants: Dict[str, Any] = {}

    def info(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        return dict(self.constants), {"blocks": [{"block": b.name, **b.provenance} for b in self.blocks],
                                      "lipschitz": "mlp_lipschitz_bounds (products of norm2_upper_bound)"}

    def _margins(self, lo: torch.Tensor, hi: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        for bl in self.blocks:
            lo, hi = bl.box(lo, hi)
        return folded_margins(self.G, self.b_y, lo, hi, labels, sound=True)

    def clean(self, x: torch.Tensor, labels: torch.Tensor) -> Dict[str, Any]:
        m = self._margins(x, x, labels)
        return {"margins": m, "correct": m.amin(dim=1) > 0, "stats": None}

    def l2_factors(self, labels: torch.Tensor) -> torch.Tensor:
        if self._K is None:
            L, K = mlp_lipschitz_bounds(self.model)
            self.constants["lipschitz_l2_upper_bound"] = L
            self._K = as_f64(K)
        return self._K[labels]

    def interval_margins(self, x: torch.Tensor, labels: torch.Tensor, pert: Perturbation) -> Dict[str, Any]:
        lo, hi = input_box(x, pert.eps, pert.domain)
        return {"margins": self._margins(lo, hi, labels), "valid": True, "stats": None}


def certify_mlp(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                batch_size: int = 500, clip: bool = True) -> CertifyOutput:
    """Registry certifier ``mlp`` (module docstring)."""
    plan = MLPPlan(unwrap(model))
    details: Dict[str, Any] = {}
    if str(norm) == "2":
        plan.l2_factors(torch.zeros(0, dtype=torch.long))
        details["lipschitz_l2_upper_bound"] = plan.constants["lipschitz_l2_upper_bound"]
    return run_certifier(plan, x, y, name="mlp", norm=norm, eps=eps, batch_size=batch_size, clip=clip,
                         details=details)
