r"""Pre-DEQ blocks of a certified model: interval transformers with outward rounding and proved ℓ2
Lipschitz constants (``nn.Flatten``, :class:`~deqtheory_train.data.Normalize`, ``nn.Linear``,
``nn.ReLU``, ``nn.Identity``, :class:`~deqtheory_train.layers.explicit.SLLLinear`,
:class:`~deqtheory_train.layers.explicit.CPLLinear`), the :class:`Readout` head, and
:func:`model_blocks` (the block list of a supported model). Rounding model: module docstring of
:mod:`deqtheory_train.certify`.

* Normalize ``(x − μ_c)/σ_c``: two roundings, relative error < 3u; ℓ2 constant max_c 1/σ_c.
* Linear: :func:`~deqtheory_train.certify.boxes.affine_box`; ℓ2 constant the proved ‖W‖₂.
* SLL ``x − 2W T⁻¹σ(Wᵀx + b)`` (havens2023 eq. 9) with T enclosed in [T̃ − dT, T̃ + dT]: ℓ2 constant 1;
  CPL: max(1, 2σ̄²/s² − 1) with s the eval-mode normaliser.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List

import torch
from torch import nn

from deqtheory import bounds as _bounds
from deqtheory.errors import DomainError

from ..layers.dense import DenseDEQLayer
from ..layers.explicit import CPLLinear, SLLLinear
from .boxes import DT, INFLATE, TINY, UROUND, affine_box, as_f64, down, downf, gamma, to_numpy64, up, upf
from .layer_arrays import sll_layer

__all__ = ["Readout", "Block", "pre_block", "model_blocks", "is_normalize", "normalize_block", "linear_block",
           "relu_block", "flatten_block", "lipschitz_product"]


class Readout(nn.Module):
    """``z ↦ layer.readout(z)`` — put it after a dense DEQ layer in an ``nn.Sequential`` to use the
    layer's own ``G``/``b_y`` as the head."""

    def __init__(self, layer: DenseDEQLayer) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layer.readout(z)




@dataclasses.dataclass
class Block:
    name: str
    box: Any                       # (lo, hi) -> (lo, hi), flattened or shaped
    lip2: float                    # proved ℓ2 Lipschitz constant
    provenance: Dict[str, Any]


def flatten_block() -> Block:
    return Block("flatten", lambda lo, hi: (lo.reshape(lo.shape[0], -1), hi.reshape(hi.shape[0], -1)), 1.0,
                  {"lipschitz": "exact (reshape)"})


def normalize_block(mod: nn.Module) -> Block:
    mean, std = mod.affine()
    C = len(mean)
    m = as_f64(mean).view(1, C, -1)
    s = as_f64(std).view(1, C, -1)

    def box(lo, hi):
        shp = lo.shape
        lo3, hi3 = lo.reshape(shp[0], C, -1), hi.reshape(shp[0], C, -1)
        a, bb = (lo3 - m.to(lo.device)) / s.to(lo.device), (hi3 - m.to(lo.device)) / s.to(lo.device)
        # two roundings: relative error ≤ (1+u)² − 1 < 3u
        return (down(a - 3 * UROUND * a.abs() - TINY).reshape(shp), up(bb + 3 * UROUND * bb.abs() + TINY).reshape(shp))

    return Block("normalize", box, float(mod.lipschitz_factor("2")), {"lipschitz": "max_c 1/sigma_c (rounded up)"})


def linear_block(mod: nn.Linear) -> Block:
    W = as_f64(to_numpy64(mod.weight))
    b = None if mod.bias is None else as_f64(to_numpy64(mod.bias))
    nW = _bounds.norm2_upper(W.numpy())

    def box(lo, hi):
        return affine_box(W.to(lo.device), None if b is None else b.to(lo.device), lo, hi)

    return Block("linear", box, nW, {"lipschitz": "deqtheory.linalg.norm2_upper_bound(W)"})


def relu_block() -> Block:
    return Block("relu", lambda lo, hi: (lo.clamp(min=0), hi.clamp(min=0)), 1.0, {"lipschitz": "exact (ReLU)"})


def _residual_box(W: torch.Tensor, b: torch.Tensor, T: torch.Tensor, dT: torch.Tensor):
    r"""Box transformer of ``x − 2W T⁻¹σ(Wᵀx + b)`` (W (d, k)) with the exact ``T`` known to lie in
    ``[T̃ − dT, T̃ + dT]`` (T̃ − dT > 0 required)."""
    Tlo, Thi = down(T - dT), up(T + dT)
    if not bool((Tlo > 0).all()):
        raise DomainError("residual layer: T is not provably positive (zero column of W?)")
    k = W.shape[1]

    def box(lo, hi):
        Wd = W.to(lo.device)
        plo, phi_ = affine_box(Wd.T, b.to(lo.device), lo, hi)
        hlo, hhi = plo.clamp(min=0), phi_.clamp(min=0)
        slo = down(hlo / Thi.to(lo.device) * (1 - 2 * UROUND))
        shi = up(hhi / Tlo.to(lo.device) * (1 + 2 * UROUND))
        tlo, thi = affine_box(Wd, None, slo, shi)                      # box of W s
        olo = lo - 2.0 * thi
        ohi = hi - 2.0 * tlo
        return down(olo - UROUND * olo.abs() - TINY), up(ohi + UROUND * ohi.abs() + TINY)

    return box


def _sll_block(mod: SLLLinear) -> Block:
    W = as_f64(to_numpy64(mod.weight))
    q = as_f64(to_numpy64(torch.exp(mod.log_q.detach())))       # q := the float value of exp(log_q)
    b = as_f64(to_numpy64(mod.bias))
    d, k = W.shape
    G = W.T @ W
    T = (G.abs() @ q) / q
    S = ((W.abs().T @ W.abs()) @ q) / q
    dT = 2 * INFLATE * gamma(d + k + 3) * S + TINY
    cert = sll_layer(mod).tw_certificate()
    return Block("sll", _residual_box(W, b, T, dT), 1.0,
                  {"lipschitz": "1: havens2023 eq. 9 T (exact formula in W, q) dominates W^T W by Gershgorin",
                   "tw_certificate": f"{cert.condition}: {cert.status.value} (margin {cert.margin:.3g}, exported T)"})


def _cpl_block(mod: CPLLinear) -> Block:
    W = as_f64(to_numpy64(mod.weight))
    b = as_f64(to_numpy64(mod.bias))
    was = mod.training
    mod.eval()
    with torch.no_grad():
        s = float(mod.sigma().detach().double())          # the eval-mode normaliser of the deployed model
    mod.train(was)
    T = torch.full((W.shape[1],), s * s, dtype=DT)
    dT = 2 * UROUND * T + TINY
    sig_up = _bounds.norm2_upper(W.numpy())
    lip = max(1.0, upf(2.0 * upf(sig_up * sig_up) / downf(s * s * (1 - 2 * UROUND)) - 1.0))
    return Block("cpl", _residual_box(W, b, T, dT), lip,
                  {"lipschitz": "max(1, 2 sigma_up^2 / s^2 - 1), sigma_up = norm2_upper_bound(W), s = eval-mode norm"})


def model_blocks(model: nn.Module) -> List[nn.Module]:
    """The module list of a supported model (see the module docstring)."""
    if hasattr(model, "certify_blocks"):
        mods = list(model.certify_blocks())
    elif isinstance(model, DenseDEQLayer):
        mods = [model, Readout(model)]
    elif isinstance(model, nn.Sequential):
        mods = list(model)
    else:
        raise DomainError(f"model: unsupported type {type(model).__name__} (expected a dense DEQ layer, an "
                          "nn.Sequential of supported blocks, or a module with certify_blocks())")
    out: List[nn.Module] = []
    for m in mods:
        if isinstance(m, nn.Sequential):
            out.extend(model_blocks(m))
        else:
            out.append(m)
    return out


def is_normalize(m: nn.Module) -> bool:
    return type(m).__name__ == "Normalize" and hasattr(m, "affine") and hasattr(m, "lipschitz_factor")


def pre_block(m: nn.Module) -> "Block | None":
    """The interval transformer of one supported pre-DEQ module (``None`` for ``nn.Identity``)."""
    if isinstance(m, nn.Flatten):
        return flatten_block()
    if is_normalize(m):
        return normalize_block(m)
    if isinstance(m, nn.Linear):
        return linear_block(m)
    if isinstance(m, nn.ReLU):
        return relu_block()
    if isinstance(m, nn.Identity):
        return None
    if isinstance(m, SLLLinear):
        return _sll_block(m)
    if isinstance(m, CPLLinear):
        return _cpl_block(m)
    raise DomainError(f"model: unsupported pre-DEQ block {type(m).__name__}")


def lipschitz_product(blocks: List["Block"]) -> float:
    """Product of the blocks' proved ℓ2 constants, rounded up."""
    lp = 1.0
    for bl in blocks:
        lp = upf(lp * bl.lip2)
    return lp
