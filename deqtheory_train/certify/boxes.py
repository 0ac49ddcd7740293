r"""Interval rules in torch, shared by the sound certifiers and the (float, differentiable) ℓ∞
training losses: the affine box, the folded margins, the IBP / Metzler lifts, and the rounding
helpers of every certifier.

* Affine box (wei2022 eq. 2.3, batched :func:`deqtheory.intervals.affine_box`): rows ``x Wᵀ + b``
  over ``[x̲, x̄]`` lie in ``[W₊x̲ + W₋x̄ + b, W₊x̄ + W₋x̲ + b]``. With ``sound=True`` the box is
  rounded outward by ``INFLATE·γ_{2d+2}(max(|x̲|,|x̄|)|W|ᵀ + |b|) + TINY`` and one ulp (the γ_k
  summation assumption of :mod:`deqtheory_train.certify`); with ``sound=False`` it is the float
  centre/radius form ``c Wᵀ + b ± r|W|ᵀ`` (differentiable, for training only — never a claim).
* Folded margins (jafarpour2022 eq. 10, wei2022 App. B): for the readout ``y = Gz + b_y`` and a box
  ``[z̲, z̄]``, ``m̲_j = (g_y − g_j)₊ᵀz̲ + (g_y − g_j)₋ᵀz̄ + b_y,y − b_y,j`` ≤ f_y − f_j. ``sound=True``
  lowers it by ``INFLATE·γ_{n+5}(|g_y − g_j|ᵀmax(|z̲|,|z̄|) + |b_y,y − b_y,j|) + TINY`` and one ulp and
  puts +inf at entry y; ``sound=False`` keeps entry y = 0 (the training loss uses CE(−m̲, y)).
* Lifts on ``[z̄; z̲]``: IBP ``[[W₊, W₋], [W₋, W₊]]`` (wei2022 eq. 3.3) and Metzler
  ``[[⌈W⌉ᴹ, ⌊W⌋ᴹ], [⌊W⌋ᴹ, ⌈W⌉ᴹ]]`` (jafarpour2022 eq. 6) — torch mirrors of
  :func:`deqtheory.intervals.ibp_lift` / :func:`deqtheory.intervals.metzler_lift` (tested equal).

The rounding constants are :data:`deqtheory.verified.INFLATE`, :data:`~deqtheory.verified.UNIT_ROUNDOFF`
and :func:`~deqtheory.verified.gamma` (one home in ``deqtheory``).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Tuple

import numpy as np
import torch

from deqtheory import bounds as _bounds
from deqtheory.verified import INFLATE, UNIT_ROUNDOFF, gamma

__all__ = ["U", "INFLATE", "TINY", "DT", "gamma", "down", "up", "upf", "downf", "as_f64", "to_numpy64",
           "input_box", "affine_box", "op_box", "folded_margins", "point_margins", "ibp_lift_t", "metzler_lift_t"]

UROUND = UNIT_ROUNDOFF
TINY = 2.0 ** -1000          # absolute underflow allowance (≫ n·2⁻¹⁰⁷⁴ for any n we handle)
DT = torch.float64


def down(t: torch.Tensor) -> torch.Tensor:
    """One ulp towards −∞ (elementwise)."""
    return torch.nextafter(t, torch.full_like(t, -math.inf))


def up(t: torch.Tensor) -> torch.Tensor:
    """One ulp towards +∞ (elementwise)."""
    return torch.nextafter(t, torch.full_like(t, math.inf))


def upf(x: float) -> float:
    return _bounds._up(float(x))


def downf(x: float) -> float:
    return _bounds._down(float(x))


def as_f64(a: Any, device: Any = None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=DT, device=device)


def to_numpy64(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy().copy()


def input_box(x: torch.Tensor, eps: float, domain: Optional[Tuple[float, float]] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``[x − ε, x + ε]`` rounded outward (exact when ε = 0), intersected with ``domain = (lo, hi)``."""
    lo = down(x - eps) if eps > 0 else x
    hi = up(x + eps) if eps > 0 else x
    if domain is not None:
        lo = lo.clamp(min=domain[0])
        hi = hi.clamp(max=domain[1])
        hi = torch.maximum(hi, lo)
    return lo, hi


def affine_box(Wt: torch.Tensor, b: Optional[torch.Tensor], lo: torch.Tensor, hi: torch.Tensor, *,
               sound: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Box of rows ``x Wᵀ + b`` over ``[lo, hi]``, ``Wt`` (out, in) (module docstring).
    ``sound``: outward rounded (certificates); otherwise float and differentiable (training)."""
    if not sound:
        c, r = (hi + lo) / 2, (hi - lo) / 2
        c = c @ Wt.T
        if b is not None:
            c = c + b
        r = r @ Wt.abs().T
        return c - r, c + r
    Wp, Wm = Wt.clamp(min=0), Wt.clamp(max=0)
    Wa = Wt.abs()
    return op_box(lambda x: x @ Wp.T, lambda x: x @ Wm.T, lambda x: x @ Wa.T, Wt.shape[1], b, lo, hi)


def op_box(pos: Any, neg: Any, absop: Any, terms: int, b: Optional[torch.Tensor], lo: torch.Tensor,
           hi: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Sound box of a linear map ``x ↦ Lx + b`` over ``[lo, hi]``, given ``pos`` = (x ↦ L₊x),
    ``neg`` = (x ↦ L₋x), ``absop`` = (x ↦ |L|x), each output a float sum of at most ``terms`` products
    (a matmul, a direct convolution, a pooling sum), and ``b`` broadcastable to the output (or None):
    ``[L₊lo + L₋hi + b, L₊hi + L₋lo + b]`` widened by ``INFLATE·γ_{2·terms+2}(|L| max(|lo|, |hi|) + |b|)
    + TINY`` and one ulp (the γ_k summation assumption of :mod:`deqtheory_train.certify`: the two sums
    and the bias are ≤ 2·terms + 2 float operations on the same terms; INFLATE covers the rounding of
    the float ``|L| max(|lo|,|hi|)`` itself)."""
    hi_ = pos(hi) + neg(lo)
    lo_ = pos(lo) + neg(hi)
    ax = absop(torch.maximum(lo.abs(), hi.abs()))
    if b is not None:
        hi_, lo_, ax = hi_ + b, lo_ + b, ax + b.abs()
    err = INFLATE * gamma(2 * int(terms) + 2) * ax + TINY
    return down(lo_ - err), up(hi_ + err)


def folded_margins(G: torch.Tensor, b_y: torch.Tensor, zl: torch.Tensor, zu: torch.Tensor, y: torch.Tensor, *,
                   sound: bool = False) -> torch.Tensor:
    r"""(B, p) lower bounds m̲_j on f_y − f_j over the box [zl, zu] (module docstring); ``sound``:
    rounded down with entry y = +inf, otherwise float with entry y = 0."""
    C = G[y][:, None, :] - G[None, :, :]                         # (B, p, n)
    c0 = b_y[y][:, None] - b_y[None, :]
    m = torch.einsum("bpn,bn->bp", C.clamp(min=0), zl) + torch.einsum("bpn,bn->bp", C.clamp(max=0), zu) + c0
    if not sound:
        return m
    az = torch.maximum(zl.abs(), zu.abs())
    rnd = INFLATE * gamma(G.shape[1] + 5) * (torch.einsum("bpn,bn->bp", C.abs(), az) + c0.abs()) + TINY
    m = down(m - rnd)
    m[torch.arange(len(y), device=m.device), y] = math.inf
    return m


def point_margins(C: torch.Tensor, c0: torch.Tensor, z: torch.Tensor, werr: torch.Tensor, y: torch.Tensor
                  ) -> torch.Tensor:
    r"""Proved lower bounds on the exact margins ``(g_y − g_j)ᵀz* + b_y,y − b_y,j`` at a computed point
    ``z`` (rows), given ``C`` (B, p, n) = g_y − g_j, ``c0`` (B, p) and ``werr`` (B, p) ≥
    |(g_y − g_j)ᵀ(z − z*)|: the float margin minus ``INFLATE·γ_{n+5}(|C||z| + |c0|) + TINY`` and
    ``werr·(1 + γ_{n+2})``, one ulp down; NaN → −inf; entry y = +inf."""
    n = C.shape[-1]
    mc = torch.einsum("bpn,bn->bp", C, z) + c0
    rnd = INFLATE * gamma(n + 5) * (torch.einsum("bpn,bn->bp", C.abs(), z.abs()) + c0.abs()) + TINY
    werr = torch.nan_to_num(werr, nan=math.inf)
    m_low = down(mc - rnd - up(werr * (1 + gamma(n + 2))))
    m_low = torch.nan_to_num(m_low, nan=-math.inf)
    m_low[torch.arange(len(y), device=m_low.device), y] = math.inf
    return m_low


def ibp_lift_t(W: torch.Tensor) -> torch.Tensor:
    r"""wei2022 eq. 3.3: :math:`\widehat W = [[W_+, W_-], [W_-, W_+]]` acting on :math:`[\bar z; \underline z]`."""
    Wp = W.clamp(min=0)
    Wm = W - Wp
    return torch.cat([torch.cat([Wp, Wm], 1), torch.cat([Wm, Wp], 1)], 0)


def metzler_lift_t(W: torch.Tensor) -> torch.Tensor:
    r"""jafarpour2022 eq. 6 on :math:`[\bar z; \underline z]`: the off-diagonal negative part
    :math:`\lfloor W\rfloor^{\rm Mzl}` couples the bounds, the rest (diagonal included) stays."""
    eye = torch.eye(W.shape[0], dtype=torch.bool, device=W.device)
    off_neg = (W < 0) & ~eye
    B = torch.where(off_neg, W, torch.zeros_like(W))
    A = W - B
    return torch.cat([torch.cat([A, B], 1), torch.cat([B, A], 1)], 0)
