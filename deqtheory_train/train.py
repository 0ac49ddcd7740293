r"""Training building blocks: the loss context, learning-rate and ε/κ schedules, optimizers, one training
step, evaluation, DistributedDataParallel helpers.

Everything that changes during a run is a **pure function of the step counter** (learning rate,
ε, κ, data order), so a checkpoint of (model, optimizer moments, RNG states, counters) resumes a
run bit for bit; there is no stateful ``torch.optim.lr_scheduler`` object.

Losses live in :mod:`deqtheory_train.losses` (the table of names is
:data:`deqtheory_train.registry.LOSSES`); a loss has the signature
``fn(model, x, y, ctx: LossContext, **kwargs) -> (loss, logits)``.

Schedules
---------
Learning rate ``lr(step) = lr₀ · factor(step)``: ``constant``; ``step`` (multiply by ``gamma`` at
each epoch in ``milestones``; wei2022 App. B: 5e-4, ×0.2 at epochs 120 and 280; jafarpour2022 §7:
5e-4 → 1e-4 at epoch 30 is ``gamma=0.2, milestones=[30]``); ``triangular`` (linear warm-up from
``start_factor`` to 1 over ``warmup_epochs``, then linear decay to ``end_factor`` at the last step —
the one-cycle schedule of the SLL / LBEN code); ``cosine``. Optional ``warmup_epochs`` for step/cosine.

ε and κ ramps (:class:`Ramp`): value ``start_value`` before ``start_epoch``, then over
``ramp_epochs`` to ``end_value``; shape ``linear`` (jafarpour2022 §7: ε, κ linear over epochs
11–20) or ``smooth`` (Xu et al. 2020, used by wei2022 App. B and li2022 §4: on the normalised ramp
time t ∈ [0, 1] a degree-4 monomial :math:`a t^4` up to t = 1/4, then linear with continuous slope:
:math:`a(m^4 + 4m^3(t - m))`, :math:`a = 1/(m^4 + 4m^3(1 - m))`, m = 1/4). Time is measured in
fractional epochs ``global_step / steps_per_epoch``.
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import take_batch

__all__ = [
    "LossContext", "LossFn", "Ramp", "LRSchedule",
    "build_optimizer", "set_lr", "collect_solve_stats", "DistInfo", "dist_info", "init_distributed",
    "all_reduce_sum", "all_gather_floats", "gather_to_main", "unwrap", "train_step", "evaluate",
]


# ----------------------------------------------------------------------------------------------
# Loss context
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class LossContext:
    """What a loss may depend on besides (model, x, y): current ε (pixel units), κ, counters, norm."""

    eps: float = 0.0
    kappa: float = 1.0
    epoch: float = 0.0
    step: int = 0
    norm: str = "inf"


LossFn = Callable[..., Tuple[torch.Tensor, torch.Tensor]]


# ----------------------------------------------------------------------------------------------
# Schedules
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Ramp:
    """A value ramped from ``start_value`` to ``end_value`` over ``[start_epoch, start_epoch + ramp_epochs]``
    (fractional epochs); ``shape`` ∈ {linear, smooth} (module docstring)."""

    start_value: float = 0.0
    end_value: float = 0.0
    start_epoch: float = 0.0
    ramp_epochs: float = 0.0
    shape: str = "linear"

    def __post_init__(self) -> None:
        if self.shape not in ("linear", "smooth"):
            raise ValueError(f"ramp shape: expected linear|smooth, got {self.shape!r}")
        if self.ramp_epochs < 0 or self.start_epoch < 0:
            raise ValueError("ramp: start_epoch and ramp_epochs must be >= 0")

    def fraction(self, t: float) -> float:
        """Normalised progress in [0, 1] at fractional epoch ``t``."""
        if t <= self.start_epoch:
            return 0.0
        if self.ramp_epochs == 0:
            return 1.0
        s = min(1.0, (t - self.start_epoch) / self.ramp_epochs)
        if self.shape == "linear":
            return s
        m = 0.25
        a = 1.0 / (m ** 4 + 4 * m ** 3 * (1 - m))
        return a * s ** 4 if s < m else min(1.0, a * (m ** 4 + 4 * m ** 3 * (s - m)))

    def __call__(self, t: float) -> float:
        return self.start_value + (self.end_value - self.start_value) * self.fraction(t)


@dataclasses.dataclass(frozen=True)
class LRSchedule:
    """``lr(step) = lr · factor(step)`` (module docstring); ``total_steps`` = epochs × steps_per_epoch."""

    lr: float
    name: str = "constant"
    steps_per_epoch: int = 1
    total_steps: int = 1
    milestones: Tuple[float, ...] = ()
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    start_factor: float = 0.0
    end_factor: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in ("constant", "step", "triangular", "cosine"):
            raise ValueError(f"schedule: expected constant|step|triangular|cosine, got {self.name!r}")
        if not (self.lr > 0) or self.steps_per_epoch < 1 or self.total_steps < 1:
            raise ValueError("schedule: lr > 0, steps_per_epoch >= 1 and total_steps >= 1 required")

    def factor(self, step: int) -> float:
        t = step / self.steps_per_epoch                       # fractional epoch at the start of the step
        w = self.warmup_epochs
        if self.name == "triangular":
            ws = w * self.steps_per_epoch
            if step < ws:
                return self.start_factor + (1 - self.start_factor) * step / ws
            rest = max(1.0, self.total_steps - ws)
            return 1 + (self.end_factor - 1) * min(1.0, (step - ws) / rest)
        if w > 0 and t < w:
            return self.start_factor + (1 - self.start_factor) * t / w
        if self.name == "constant":
            return 1.0
        if self.name == "step":
            return self.gamma ** sum(1 for m in self.milestones if t >= m)
        # cosine from the end of warm-up to the last step
        p = min(1.0, max(0.0, (step - w * self.steps_per_epoch) / max(1.0, self.total_steps - w * self.steps_per_epoch)))
        return self.end_factor + (1 - self.end_factor) * 0.5 * (1 + math.cos(math.pi * p))

    def __call__(self, step: int) -> float:
        return self.lr * self.factor(step)


def build_optimizer(params: Iterable[torch.nn.Parameter], name: str = "adam", *, lr: float,
                    betas: Sequence[float] = (0.9, 0.999), weight_decay: float = 0.0, eps: float = 1e-8,
                    momentum: float = 0.0, nesterov: bool = False) -> torch.optim.Optimizer:
    """``adam`` | ``adamw`` | ``sgd`` (the papers use Adam)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    raise ValueError(f"optimizer: expected adam|adamw|sgd, got {name!r}")


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for g in opt.param_groups:
        g["lr"] = lr


# ----------------------------------------------------------------------------------------------
# Fixed-point statistics
# ----------------------------------------------------------------------------------------------

def _stat_value(stats: Any, keys: Sequence[str]) -> Optional[float]:
    for k in keys:
        v = stats.get(k) if isinstance(stats, Mapping) else getattr(stats, k, None)
        if v is not None:
            try:
                return float(v)
            except (TypeError, ValueError):
                return None
    return None


def collect_solve_stats(model: nn.Module) -> Dict[str, float]:
    """Fixed-point statistics of the last forward (and backward) pass.

    Protocol, per submodule, first match wins:

    1. ``last_info`` with ``.forward`` / ``.backward`` statistics objects (the
       :class:`deqtheory_train.solvers.DEQInfo` of the DEQ layers);
    2. ``last_solve_stats`` or ``last_stats`` — one statistics object or Mapping (forward only).

    A statistics object holds ``iterations`` (or ``forward_iterations`` / ``nstep``) and optionally
    ``residual``. Returns ``{"fp_iters", "fp_residual", "bw_iters"}`` (max over submodules; keys
    only when present); ``{}`` for explicit models."""
    it: List[float] = []
    res: List[float] = []
    bw: List[float] = []
    for m in unwrap(model).modules():
        fwd = bwd = None
        info = getattr(m, "last_info", None)
        if info is not None and hasattr(info, "forward"):
            fwd, bwd = info.forward, getattr(info, "backward", None)
        else:
            for name in ("last_solve_stats", "last_stats"):
                try:
                    fwd = getattr(m, name, None)
                except (AttributeError, RuntimeError):
                    fwd = None
                if fwd is not None:
                    break
        if fwd is not None:
            v = _stat_value(fwd, ("iterations", "forward_iterations", "nstep"))
            if v is not None:
                it.append(v)
            r = _stat_value(fwd, ("residual", "forward_residual", "rel_residual"))
            if r is not None:
                res.append(r)
            b = _stat_value(fwd, ("backward_iterations",))
            if b is not None:
                bw.append(b)
        if bwd is not None:
            b = _stat_value(bwd, ("iterations",))
            if b is not None:
                bw.append(b)
    out: Dict[str, float] = {}
    if it:
        out["fp_iters"] = max(it)
    if res:
        out["fp_residual"] = max(res)
    if bw:
        out["bw_iters"] = max(bw)
    return out


# ----------------------------------------------------------------------------------------------
# Distributed
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    """Rank/world size from the ``torchrun`` environment (RANK, WORLD_SIZE, LOCAL_RANK); 1 process otherwise."""
    ws = int(os.environ.get("WORLD_SIZE", "1"))
    if ws <= 1:
        return DistInfo()
    return DistInfo(int(os.environ.get("RANK", "0")), ws, int(os.environ.get("LOCAL_RANK", "0")))


def init_distributed(info: DistInfo) -> torch.device:
    """Initialise the process group (nccl when CUDA is available, gloo otherwise) and pick the device."""
    import torch.distributed as dist
    use_cuda = torch.cuda.is_available()
    if info.enabled and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(info.local_rank)
        return torch.device("cuda", info.local_rank)
    return torch.device("cpu")


def all_reduce_sum(values: Sequence[float], info: DistInfo, device: torch.device) -> List[float]:
    """Sum a few float64 numbers over ranks (identity without DDP)."""
    if not info.enabled:
        return [float(v) for v in values]
    import torch.distributed as dist
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return [float(v) for v in t.cpu()]


def all_gather_floats(values: Sequence[float], info: DistInfo, device: torch.device) -> List[List[float]]:
    """Every rank's ``values`` (same length on all ranks), indexed by rank (``[values]`` without DDP)."""
    if not info.enabled:
        return [[float(v) for v in values]]
    import torch.distributed as dist
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    out = [torch.empty_like(t) for _ in range(info.world_size)]
    dist.all_gather(out, t)
    return [[float(v) for v in o.cpu()] for o in out]


def gather_to_main(obj: Any, info: DistInfo) -> Optional[List[Any]]:
    """Every rank's ``obj`` on rank 0 (a list indexed by rank), ``None`` on the others; ``[obj]``
    without DDP. A collective: every rank must call it."""
    if not info.enabled:
        return [obj]
    import torch.distributed as dist
    out: Optional[List[Any]] = [None] * info.world_size if info.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper."""
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model


# ----------------------------------------------------------------------------------------------
# Steps
# ----------------------------------------------------------------------------------------------

def train_step(model: nn.Module, opt: torch.optim.Optimizer, loss_fn: LossFn, loss_kwargs: Mapping[str, Any],
               x: torch.Tensor, y: torch.Tensor, ctx: LossContext, *, grad_clip: Optional[float] = None
               ) -> Dict[str, float]:
    """One optimizer step on this rank's share of the global batch. Returns local sums
    (``loss_sum`` = mean loss × local batch size, ``correct``, ``count``) for exact all-reduction,
    the pre-clipping gradient norm, and fixed-point statistics."""
    model.train()
    opt.zero_grad(set_to_none=True)
    loss, logits = loss_fn(model, x, y, ctx, **dict(loss_kwargs))
    if not torch.isfinite(loss):
        raise FloatingPointError(f"non-finite training loss {float(loss)} at step {ctx.step}")
    loss.backward()
    out: Dict[str, float] = {}
    if grad_clip is not None:
        out["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(model.parameters(), float(grad_clip)))
    opt.step()
    n = int(y.shape[0])
    out.update(loss_sum=float(loss.detach()) * n, correct=float((logits.detach().argmax(-1) == y).sum()),
               count=float(n))
    out.update(collect_solve_stats(model))
    return out


@torch.no_grad()
def evaluate(model: nn.Module, x: Any, y: Any, *, batch_size: int, device: torch.device,
             info: DistInfo = DistInfo(), dtype: torch.dtype = torch.float32) -> Dict[str, float]:
    """Clean cross-entropy and accuracy on (x, y); under DDP each rank takes indices ``rank::world``
    and the sums are all-reduced, so every rank returns the metrics of the whole set. ``x``, ``y``:
    numpy arrays, or tensors already on the device (:func:`deqtheory_train.data.to_device_arrays`;
    batches are then gathered there by :func:`deqtheory_train.data.take_batch`)."""
    model.eval()
    idx = np.arange(info.rank, len(y), info.world_size)
    loss_sum = correct = 0.0
    iters: List[float] = []
    for s in range(0, len(idx), batch_size):
        j = idx[s:s + batch_size]
        xb, yb = take_batch(x, y, j, device, dtype)
        logits = model(xb)
        loss_sum += float(F.cross_entropy(logits, yb, reduction="sum"))
        correct += float((logits.argmax(-1) == yb).sum())
        st = collect_solve_stats(model)
        if "fp_iters" in st:
            iters.append(st["fp_iters"])
    loss_sum, correct, count = all_reduce_sum([loss_sum, correct, float(len(idx))], info, device)
    out = {"loss": loss_sum / max(count, 1.0), "acc": correct / max(count, 1.0), "count": count}
    if iters:
        out["fp_iters"] = max(iters)
    return out
