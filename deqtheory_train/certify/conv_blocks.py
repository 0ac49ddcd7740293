r"""Sound interval transformers of the explicit convolutional blocks around a conv DEQ: ``nn.Conv2d``
(zero padding, any stride / dilation, ``groups=1``), circular convolutions, ``nn.BatchNorm2d`` / ``nn.BatchNorm1d`` in eval
mode, ``nn.AvgPool2d``; :func:`linf_block` dispatches every module of a conv ℓ∞ model's
``certify_blocks()`` list that is not a DEQ (the dense ones — ``Normalize``, ``Flatten``, ``Linear``,
``ReLU``, ``Identity`` — come from :mod:`.blocks`).

Rounding model (the assumption of :mod:`deqtheory_train.certify`, stated for convolutions): every
quantity that enters a claim is computed by **direct** convolution in float64 (``F.conv2d``: on the
CPU an im2col + GEMM, on CUDA with cuDNN disabled inside the certifier — never an FFT or Winograd
algorithm), so each output is a float sum of at most ``c_in·k_h·k_w`` products and the textbook
bound ``|fl(Σ) − Σ| ≤ γ_T Σ|terms|`` holds for any summation order. Zero padding adds exact zeros and
circular padding copies entries, so neither rounds. The boxes are :func:`.boxes.op_box` with
``terms = c_in·k_h·k_w``.

* Conv2d ``y = K ⋆ x + b``: ``[K₊⋆lo + K₋⋆hi + b, K₊⋆hi + K₋⋆lo + b]`` widened by
  ``INFLATE·γ_{2T+2}(|K| ⋆ max(|lo|,|hi|) + |b|) + TINY``, one ulp out (T = c_in k_h k_w).
* BatchNorm2d (eval): ``y = (x − μ_c)·s_c + β_c`` with ``s_c = γ_c/√(var_c + ε)`` — the exact real
  ``s_c`` is enclosed by directed rounding of each IEEE operation (``var + ε``, ``√``, ``/`` are correctly
  rounded, so one ulp outward per operation encloses the exact value), and the box is interval
  arithmetic with one ulp outward per operation. A BN in training mode, or without running statistics,
  is refused (it is not a function of one input).
* AvgPool2d (``padding = 0`` or ``count_include_pad=True``, no ``divisor_override``, no ceil mode):
  nonnegative weights 1/k², so ``[pool(lo), pool(hi)]`` widened by ``INFLATE·γ_{k²+1}·pool(max(|lo|,|hi|))
  + TINY`` and one ulp.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from deqtheory.errors import DomainError

from ..fft import conv2d_circular
from .blocks import Block, pre_block
from .boxes import INFLATE, TINY, as_f64, down, gamma, op_box, to_numpy64, up

__all__ = ["conv_box", "circular_conv_box", "conv2d_block", "batchnorm_block", "avgpool_block", "linf_block",
           "direct_conv"]


def direct_conv():
    """Context in which every convolution is a direct sum of products (cuDNN off; a no-op on the CPU)."""
    return torch.backends.cudnn.flags(enabled=False)


def conv_box(K: torch.Tensor, b: Optional[torch.Tensor], lo: torch.Tensor, hi: torch.Tensor, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sound box of the zero-padded cross-correlation ``F.conv2d(x, K, b, stride, padding, dilation)``
    over ``[lo, hi]`` (module docstring). ``K``, ``b`` float64 on the device of ``lo``."""
    Kp, Km, Ka = K.clamp(min=0), K.clamp(max=0), K.abs()
    kw = {"stride": stride, "padding": padding, "dilation": dilation}
    T = K.shape[1] * K.shape[2] * K.shape[3]
    bb = None if b is None else b.view(1, -1, 1, 1)
    with direct_conv():
        return op_box(lambda x: F.conv2d(x, Kp, **kw), lambda x: F.conv2d(x, Km, **kw),
                      lambda x: F.conv2d(x, Ka, **kw), T, bb, lo, hi)


def circular_conv_box(K: torch.Tensor, b: Optional[torch.Tensor], lo: torch.Tensor, hi: torch.Tensor
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sound box of the circular cross-correlation :func:`deqtheory_train.fft.conv2d_circular` (+ b per
    channel) over ``[lo, hi]``: circular padding copies entries, then a valid direct convolution."""
    Kp, Km, Ka = K.clamp(min=0), K.clamp(max=0), K.abs()
    T = K.shape[1] * K.shape[2] * K.shape[3]
    bb = None if b is None else b.view(1, -1, 1, 1)
    with direct_conv():
        return op_box(lambda x: conv2d_circular(Kp, x), lambda x: conv2d_circular(Km, x),
                      lambda x: conv2d_circular(Ka, x), T, bb, lo, hi)


def conv2d_block(mod: nn.Conv2d) -> Block:
    """The sound interval transformer of an explicit ``nn.Conv2d`` (zero padding, ``groups=1``)."""
    if mod.groups != 1:
        raise DomainError(f"Conv2d: groups={mod.groups} is not supported (groups=1 only)")
    if mod.padding_mode != "zeros" and any(int(p) for p in _pair(mod.padding)):
        raise DomainError(f"Conv2d: padding_mode={mod.padding_mode!r} is not supported (zeros only)")
    if isinstance(mod.padding, str):
        raise DomainError(f"Conv2d: padding={mod.padding!r} is not supported (give explicit integers)")
    K = as_f64(to_numpy64(mod.weight))
    b = None if mod.bias is None else as_f64(to_numpy64(mod.bias))
    kw = {"stride": mod.stride, "padding": mod.padding, "dilation": mod.dilation}

    def box(lo, hi):
        return conv_box(K.to(lo.device), None if b is None else b.to(lo.device), lo, hi, **kw)

    return Block("conv2d", box, math.inf, {"rule": "conv_box (direct conv, gamma_{2T+2}, T = c_in k_h k_w)",
                                           "shape": list(K.shape), **{k: list(_pair(v)) for k, v in kw.items()}})


def _pair(v: Any) -> Tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else tuple(int(a) for a in v)


def batchnorm_block(mod: "nn.BatchNorm1d | nn.BatchNorm2d") -> Block:
    """Eval-mode ``nn.BatchNorm2d`` / ``nn.BatchNorm1d`` by interval arithmetic with directed rounding
    (module docstring); channels on dimension 1."""
    name = type(mod).__name__
    if mod.training:
        raise DomainError(f"{name}: certify in eval mode (model.eval()); in training mode the output "
                          "depends on the batch")
    if not mod.track_running_stats or mod.running_mean is None or mod.running_var is None:
        raise DomainError(f"{name}: no running statistics (track_running_stats=False) - not a fixed function")
    mu = as_f64(to_numpy64(mod.running_mean))
    var = as_f64(to_numpy64(mod.running_var))
    C = mu.shape[0]
    w = as_f64(to_numpy64(mod.weight)) if mod.affine else torch.ones(C, dtype=mu.dtype)
    beta = as_f64(to_numpy64(mod.bias)) if mod.affine else torch.zeros(C, dtype=mu.dtype)
    eps = float(mod.eps)
    # s = w / sqrt(var + eps), enclosed: each correctly rounded op moved one ulp outward
    vl, vh = down(var + eps), up(var + eps)
    if not bool((vl > 0).all()):
        raise DomainError(f"{name}: running_var + eps is not provably positive")
    rl, rh = down(torch.sqrt(vl)), up(torch.sqrt(vh))
    cand = torch.stack([w / rl, w / rh])
    sl, sh = down(cand.amin(0)), up(cand.amax(0))

    def box(lo, hi):
        dev = lo.device
        shp = (1, C) + (1,) * (lo.ndim - 2)
        sh_, sl_ = sh.to(dev).view(shp), sl.to(dev).view(shp)
        m_ = mu.to(dev).view(shp)
        al, ah = down(lo - m_), up(hi - m_)
        prods = torch.stack([al * sl_, al * sh_, ah * sl_, ah * sh_])
        pl, ph = down(prods.amin(0)), up(prods.amax(0))
        b_ = beta.to(dev).view(shp)
        return down(pl + b_), up(ph + b_)

    return Block(name.lower(), box, math.inf, {"rule": "interval arithmetic, one ulp outward per IEEE operation",
                                                "eps": eps, "channels": C})


def avgpool_block(mod: nn.AvgPool2d) -> Block:
    """``nn.AvgPool2d`` (nonnegative weights): sound box (module docstring)."""
    if mod.ceil_mode or mod.divisor_override is not None:
        raise DomainError("AvgPool2d: ceil_mode and divisor_override are not supported")
    pad = _pair(mod.padding)
    if any(pad) and not mod.count_include_pad:
        raise DomainError("AvgPool2d: padding with count_include_pad=False is not supported")
    k = _pair(mod.kernel_size)
    kw = {"kernel_size": mod.kernel_size, "stride": mod.stride, "padding": mod.padding}
    T = k[0] * k[1]

    def box(lo, hi):
        plo, phi = F.avg_pool2d(lo, **kw), F.avg_pool2d(hi, **kw)
        err = INFLATE * gamma(T + 1) * F.avg_pool2d(torch.maximum(lo.abs(), hi.abs()), **kw) + TINY
        return down(plo - err), up(phi + err)

    return Block("avgpool2d", box, math.inf, {"rule": "nonnegative weights, gamma_{k^2+1}", "kernel": list(k)})


def linf_block(m: nn.Module) -> Optional[Block]:
    """The sound interval transformer of one explicit module of a conv ℓ∞ model (``None`` for
    ``nn.Identity``); DEQ layers are handled by the plan, not here."""
    if isinstance(m, nn.Conv2d):
        return conv2d_block(m)
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return batchnorm_block(m)
    if isinstance(m, nn.AvgPool2d):
        return avgpool_block(m)
    return pre_block(m)
