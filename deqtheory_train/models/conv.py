r"""Convolutional ℓ2 model builders (havens2023 §4.1, Table 1 rows (2), (3)):

* ``convsll`` — Normalize → channel zero-padding (an ℓ2 isometry) → ``depth`` ×
  :class:`~deqtheory_train.layers.explicit.SLLConv2d` (circular padding) → Flatten → Linear head.
* ``convlben_from_sll`` — the source ``convsll`` model (``init_from``) becomes one
  :class:`~deqtheory_train.layers.conv.ConvLBEN` by :meth:`ConvLBEN.from_sll` (havens2023 Thm 3.5,
  §4.1); the Normalize / padding / head are copied. The kernel supports at conversion are stored as
  buffers (``support_<name>``) for the §4.1 ℓ1 border penalty (loss ``offset_ce_border``).
* ``convlben_dag_from_sll`` — as ``convlben_from_sll``, but the body is a
  :class:`~deqtheory_train.layers.conv_dag.ConvDAGLBEN` (:meth:`ConvDAGLBEN.from_sll`): an LBEN
  whose ``W`` stays block strictly lower triangular while it is fine-tuned, so each step is one
  exact forward substitution with autograd; certified as its eq. (7) ``ConvLBEN`` (``as_conv_lben``).

All are :class:`ConvClassifier` s, certified by the ``conv_l2`` certifier (ℓ2 only). ``init_from`` is
read whenever the model is built, also when a ``model.npz`` of the fine-tuned run is loaded for
certification (its weights are then overwritten by the stored ones): keep the source run's
``model.npz`` in place.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

from ..errors import ConfigError
from ..layers.conv import ConvLBEN
from ..layers.conv_dag import ConvDAGLBEN
from ..layers.explicit import SLLConv2d
from ..train import unwrap
from .common import normalize_or_identity, solver_kw, source_model

__all__ = ["ChannelPad", "ConvClassifier", "border_penalty", "build_convsll", "build_convlben_from_sll",
           "build_convlben_dag_from_sll", "convlben_from_sll_model", "convlben_dag_from_sll_model"]


class ChannelPad(nn.Module):
    """``(B, c_in, N, N) → (B, c, N, N)``: zero channels appended (an ℓ2 isometry, Lipschitz 1)."""

    def __init__(self, c_in: int, c: int) -> None:
        super().__init__()
        if c < c_in:
            raise ConfigError(f"channels: {c} < input channels {c_in}")
        self.c_in, self.c = int(c_in), int(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.c == self.c_in:
            return x
        z = x.new_zeros((x.shape[0], self.c - self.c_in) + tuple(x.shape[2:]))
        return torch.cat([x, z], dim=1)


class ConvClassifier(nn.Module):
    r"""``Normalize → ChannelPad → body → Flatten → Linear``. ``body`` is an ``nn.ModuleList`` of
    :class:`SLLConv2d` (explicit, 1-Lipschitz) or one :class:`ConvLBEN` (output = its readout
    ``Gz* + b_y``, L-Lipschitz). Certified by ``conv_l2`` (:mod:`deqtheory_train.certify`)."""

    default_certifier = "conv_l2"

    def __init__(self, norm: nn.Module, pad: ChannelPad, body: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.norm, self.pad, self.body, self.head = norm, pad, body, head

    @property
    def is_lben(self) -> bool:
        return isinstance(self.body, (ConvLBEN, ConvDAGLBEN))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pad(self.norm(x))
        if isinstance(self.body, ConvDAGLBEN):
            return self.body.forward_readout(h)
        if isinstance(self.body, ConvLBEN):
            return self.body.readout(self.body(h))
        for layer in self.body:
            h = layer(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))

    @property
    def last_solve_stats(self):
        return getattr(self.body, "last_stats", None) if self.is_lben else None

    def border_penalty(self) -> torch.Tensor:
        """Σ |kernel entries outside the support recorded at conversion| (havens2023 §4.1); 0 for SLL."""
        return border_penalty(self)


def border_penalty(model: nn.Module) -> torch.Tensor:
    base = unwrap(model)
    body = getattr(base, "body", None)
    tot = None
    if isinstance(body, (ConvLBEN, ConvDAGLBEN)):
        for name in ("G", "U", "V", "S", "Ut"):
            mask = getattr(base, f"support_{name}", None)
            if mask is None:
                continue
            term = (getattr(body, name).abs() * (~mask).to(getattr(body, name).dtype)).sum()
            tot = term if tot is None else tot + term
    if tot is None:
        p = next(base.parameters())
        return p.new_zeros(())
    return tot


def build_convsll(input_shape: Tuple[int, ...], num_classes: int, *, channels: int = 4, hidden: int = 8,
                  depth: int = 3, kernel_size: int = 3, normalize: Optional[Mapping[str, Sequence[float]]] = None,
                  seed: int = 0) -> ConvClassifier:
    """Conv SLL (havens2023 §4.2 row (2), small): ``depth`` circular-padding SLL conv layers on
    ``channels`` state channels (input zero-padded), ``hidden`` inner channels, ``kernel_size`` taps."""
    c_in, N = int(input_shape[0]), int(input_shape[-1])
    g = torch.Generator().manual_seed(seed)
    layers = nn.ModuleList(SLLConv2d(channels, hidden, kernel_size) for _ in range(int(depth)))
    with torch.no_grad():
        for l in layers:
            l.kernel.copy_(torch.randn(l.kernel.shape, generator=g) * math.sqrt(2.0 / (channels * kernel_size ** 2 + hidden)))
    head = nn.Linear(channels * N * N, int(num_classes))
    return ConvClassifier(normalize_or_identity(normalize), ChannelPad(c_in, channels), layers, head)


def build_convlben_dag_from_sll(input_shape: Tuple[int, ...], num_classes: int, *, init_from: nn.Module,
                                support_tol: float = 1e-7) -> ConvClassifier:
    """Conv DAG-LBEN initialised from a trained ``convsll``: :meth:`ConvDAGLBEN.from_sll` (the
    :meth:`ConvLBEN.from_sll` conversion, then its DAG parameters ``G, Ũ = ΛU, V``). Fine-tuning keeps
    ``W`` block strictly lower triangular, so every step is one exact forward substitution with
    autograd (no fixed-point iterations). ``support_tol`` as :func:`build_convlben_from_sll`."""
    return convlben_dag_from_sll_model(source_model(init_from), support_tol=support_tol)


def convlben_dag_from_sll_model(src: nn.Module, *, support_tol: float = 1e-7) -> ConvClassifier:
    """The conversion of :func:`build_convlben_dag_from_sll` for an in-memory ``convsll`` model
    (converted in float64, then cast to the source's dtype)."""
    src = copy.deepcopy(src)
    if not isinstance(src, ConvClassifier) or src.is_lben:
        raise ConfigError(f"init_from: expected a convsll model, got {type(src).__name__}")
    N = int(round((src.head.in_features // src.pad.c) ** 0.5))
    dt = src.head.weight.dtype
    dag = ConvDAGLBEN.from_sll([l.to(torch.float64) for l in src.body], N).to(dt)
    model = ConvClassifier(src.norm, src.pad, dag, src.head)
    for name in ("G", "Ut", "V"):
        K = getattr(dag, name).detach()
        model.register_buffer(f"support_{name}", K.abs() > support_tol * K.abs().max())
    return model


def build_convlben_from_sll(input_shape: Tuple[int, ...], num_classes: int, *, init_from: nn.Module,
                            support_tol: float = 1e-7, **solver: Any) -> ConvClassifier:
    """Conv LBEN initialised from a trained ``convsll`` by :meth:`ConvLBEN.from_sll` (havens2023
    Thm 3.5 per frequency). Solver for fine-tuning: PR with α = 1 (``f_solver="pr", alpha=1``; the
    converted W is nilpotent, PR converges for any α > 0 on a Ψ⁻¹-monotone W, and α = 1 needs ~18×
    fewer iterations than α = 1/‖I − W‖₂ near the conversion). ``support_tol``: kernel entries with
    ``|K| > support_tol·max|K|`` at conversion form the support kept free of the ℓ1 penalty."""
    return convlben_from_sll_model(source_model(init_from), support_tol=support_tol, **solver)


def convlben_from_sll_model(src: nn.Module, *, support_tol: float = 1e-7, **solver: Any) -> ConvClassifier:
    """The conversion of :func:`build_convlben_from_sll` applied to an in-memory ``convsll`` model
    (converted in float64, then cast to the source's dtype)."""
    src = copy.deepcopy(src)
    if not isinstance(src, ConvClassifier) or src.is_lben:
        raise ConfigError(f"init_from: expected a convsll model, got {type(src).__name__}")
    N = int(src.head.in_features // src.pad.c) ** 0.5
    N = int(round(N))
    dt = src.head.weight.dtype
    # PR converges for every α > 0 on a Ψ⁻¹-monotone W; α = 1 suits the (nearly) nilpotent converted W:
    # 4 PR iterations to relative residual 1e-5 on an MNIST batch vs 72 at the Euclidean default α = 1/‖I − W‖₂
    opts = {"f_solver": "pr", "alpha": 1.0, "f_tol": 1e-6, "f_stop_mode": "rel", "f_max_iter": 300}
    opts.update(solver_kw(solver))
    src64 = [l.to(torch.float64) for l in src.body]
    lben = ConvLBEN.from_sll(src64, N, **opts).to(dt)
    model = ConvClassifier(src.norm, src.pad, lben, src.head)
    for name in ("G", "U", "V", "S"):
        K = getattr(lben, name).detach()
        model.register_buffer(f"support_{name}", K.abs() > support_tol * K.abs().max())
    return model
