r"""The numpy re-check of convolutional ℓ∞ certifications (``deqtheory-train certify --witness`` of the
``conv_linf`` certifier): outward-rounded boxes of every classifier stage, the conv DEQ's lifted box from a
stored lifted point, matrix-free; used by :mod:`deqtheory.classifier_certificate` (which reads the file
and decides the claims).

**The model** (:func:`conv_chain`): a :class:`deqtheory.pipeline.Pipeline` whose stages are any of
Normalize, Conv2d, BatchNorm, AvgPool2d, Flatten, ChannelPad, ReLU, Linear and conv DEQ stages of a kind in
:data:`CONV_LIFTS` (any number, in sequence), ending in a Linear head (folded into the margins,
:func:`deqtheory.intervals.margin_lower_bounds`). Each DEQ is ``z = ReLU(K ⋆ z + U ⋆ x + b)`` with circular
cross-correlations on its N × N grid and K = the stage's ``W_kernel()`` — the kernel deqtheory computes
from the stored parameters, the one the certifier proved its constants on.

**One table** (:data:`CONV_LIFTS`): file kind → the lifted kernel on ``[z̄; z̲]`` (IBP ``[[K₊, K₋], [K₋, K₊]]``,
wei2022 eq. 3.3; Metzler :func:`deqtheory.conv_nemon.metzler_lift_kernel`, jafarpour2022 eq. 6), the
certificate that gives the monotonicity margin m of the lift (``conv_ibp_monotone``) and the one that gives
(μ, η) of its weighted ℓ∞ contraction (``conv_abs_contraction`` / ``conv_mu_inf``). A new kernel kind is one
row.

**Rounding model (one rule).** :func:`conv_box` is the only linear interval rule: the centre/radius form
of a cross-correlation (zero padding and stride, or circular) of a box by a kernel ``K`` plus ``b``: with
``c̃ = fl((lo + hi)/2)`` and ``r ≥ max(hi − c̃, c̃ − lo)`` (each subtraction one ulp up), every exact
``K ⋆ x + b`` over the box lies in ``s ± w``, ``s = fl(K ⋆ c̃ + b)``, ``w = ⌈fl(|K| ⋆ r) + INFLATE·γ_{T+3}
·fl(|K| ⋆ (|c̃| + r) + |b|) + TINY⌉``, T = c_in·k_h·k_w the products per output: the float sums obey
``|fl(Σ) − Σ| ≤ γ_T Σ|terms|`` in any order (Higham eq. 3.5; BLAS, FMA included), so
``|K⋆c̃ + b − s| ≤ γ_{T+1}(|K||c̃| + |b|)`` and ``|K|r ≤ fl(|K|r) + γ_T|K|r``; the rounding of
``|c̃| + r`` and of the allowance itself is covered by γ_{T+3} ≥ γ_{T+1} + 2u and INFLATE; ``s − w`` and
``s + w`` are rounded one ulp outward. Linear stages are the 1 × 1 case; AvgPool2d sums with a kernel of
ones (exact) and divides by k² one ulp outward; |K| applications (the residual allowance, ``|L̂|ρ``) are
the upper end of the same rule on a degenerate box. BatchNorm (eval) and Normalize are interval arithmetic
with one ulp outward per IEEE operation (:func:`stage_box`).

**One conv DEQ** (:meth:`ConvDEQStage.box`), given the stored lifted point ``ẑ = [z̄; z̲]`` (trusted as a
point only): ``[v̲, v̄] ∋ U ⋆ x + b`` over the input box (:func:`conv_box`, circular) and ``v̂ = [v̄; v̲]``;
the exact residual ``r = ẑ − ReLU(L ⋆ ẑ + v̂)`` lies in ``[ẑ − ReLU(s̄), ẑ − ReLU(s̲)]`` for
``[s̲, s̄] = conv_box(L, v̂, ẑ, ẑ)`` (ReLU is monotone), so ``ρ = ⌈max |·|⌉ ≥ |r|``; ``A ≥ |L̂|ρ`` is the
upper end of ``conv_box(|L|, ρ)``; the error bound ``e ≥ |ẑ − ẑ*|`` is :func:`fixed_point_error`
(the bound of :func:`deqtheory.bounds.fixed_point_error_bound` and of the torch certifier's
``error_bound`` with |W|ρ given matrix-free), and ``[max(z̲ − e, 0), z̄ + e]`` contains every z*(x′)
(wei2022 Prop 3.2 / jafarpour2022 Thm 6.3, the lift's constants re-verified on the file's kernel).
The clean pass is the same on the degenerate input box with ``ẑ = [z; z]``.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import conv_nemon as _cnemon
from . import formats as _fm
from . import intervals as _iv
from . import pipeline as _pl
from .bounds import _down as _downf
from .certificates import Certificate
from .errors import DomainError, ShapeError
from .verified import INFLATE, UNIT_ROUNDOFF, gamma

__all__ = ["CONV_LIFTS", "ConvLift", "ConvDEQStage", "ConvChain", "conv_chain", "conv_box", "correlate",
           "stage_box", "normalize_box", "fixed_point_error", "ibp_lift_kernel"]

_U = UNIT_ROUNDOFF
TINY = 2.0 ** -1000
Arr = np.ndarray


def _down(a: Any) -> Arr:
    return np.nextafter(a, -np.inf)


def _up(a: Any) -> Arr:
    return np.nextafter(a, np.inf)


# ----------------------------------------------------------------------------------------------
# the one linear interval rule
# ----------------------------------------------------------------------------------------------

def correlate(x: Arr, K: Arr, *, stride: int = 1, padding: int = 0, circular: bool = False) -> Arr:
    """Float cross-correlation of ``x`` (B, c_in, H, W) with ``K`` (c_out, c_in, kh, kw): zero ``padding``
    and ``stride`` (``torch.nn.functional.conv2d``), or circular with origin ``(k − 1)//2`` and stride 1
    (:func:`deqtheory.circulant.conv2d_circular`). One c_out × c_in product per tap, accumulated: each output
    is a float sum of c_in·kh·kw products (in some order); memory O(B × state), no im2col copy."""
    co, ci, kh, kw = K.shape
    if x.ndim != 4 or x.shape[1] != ci:
        raise ShapeError(f"x: expected (B, {ci}, H, W) for a kernel of shape {K.shape}, got {x.shape}")
    if circular:
        oh, ow = (kh - 1) // 2, (kw - 1) // 2
        x = np.pad(x, ((0, 0), (0, 0), (oh, kh - 1 - oh), (ow, kw - 1 - ow)), mode="wrap")
    elif padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
    y = np.zeros((co, x.shape[0], Ho, Wo))
    for a in range(kh):
        for b in range(kw):
            xs = x[:, :, a:a + stride * (Ho - 1) + 1:stride, b:b + stride * (Wo - 1) + 1:stride]
            y += np.tensordot(K[:, :, a, b], xs, axes=([1], [1]))
    return y.transpose(1, 0, 2, 3)


def conv_box(K: Arr, b: Optional[Arr], lo: Arr, hi: Arr, **kw: Any) -> Tuple[Arr, Arr]:
    """A box containing ``K ⋆ x + b`` for every real ``x`` in ``[lo, hi]`` (B, c_in, H, W) (module
    docstring: the centre/radius form with its rounding allowance); ``b`` broadcastable to the output
    (per channel ``(1, c_out, 1, 1)`` or per pixel) or None; ``kw`` as :func:`correlate`."""
    T = K.shape[1] * K.shape[2] * K.shape[3]
    with np.errstate(over="ignore", invalid="ignore"):
        c = (lo + hi) * 0.5
        r = np.maximum(_up(hi - c), _up(c - lo))
        Ka = np.abs(K)
        s = correlate(c, K, **kw)
        a = correlate(r, Ka, **kw)
        q = correlate(np.abs(c) + r, Ka, **kw)
        if b is not None:
            s, q = s + b, q + np.abs(b)
        w = _up(a + (INFLATE * gamma(T + 3) * q + TINY))
        return _down(s - w), _up(s + w)


def _upper(K: Arr, x: Arr, **kw: Any) -> Arr:
    """A proved upper bound on ``K ⋆ x`` (the upper end of :func:`conv_box` on the degenerate box)."""
    return conv_box(K, None, x, x, **kw)[1]


# ----------------------------------------------------------------------------------------------
# the other stages
# ----------------------------------------------------------------------------------------------

def normalize_box(st: _pl.Normalize, lo: Arr, hi: Arr) -> Tuple[Arr, Arr]:
    r"""Exact (x − μ)/σ over [lo, hi] (batched, (B, C, …) or channel-major rows) ⊆ [t̃(lo) − a, t̃(hi) + a],
    a = (1+10⁻⁶)γ₃|t̃| + tiny: the two roundings give t̃ = t(1+δ₁)(1+δ₂), |t̃ − t| ≤ γ₂|t| ≤ γ₃|t̃| (monotone
    in x since σ > 0)."""
    tl, th = st(lo), st(hi)
    al = INFLATE * gamma(3) * np.abs(tl) + TINY
    ah = INFLATE * gamma(3) * np.abs(th) + TINY
    return _down(tl - al), _up(th + ah)


def _batchnorm_box(st: _pl.BatchNorm, lo: Arr, hi: Arr) -> Tuple[Arr, Arr]:
    """Eval BatchNorm ``(x − μ)·s + β``, ``s = w/√(var + eps)`` enclosed by one ulp outward per correctly
    rounded operation, then interval arithmetic one ulp outward per operation (channels on axis 1)."""
    C = st.mean.shape[0]
    if lo.ndim < 2 or lo.shape[1] != C:
        raise ShapeError(f"BatchNorm: expected (B, {C}, ...), got {lo.shape}")
    vl, vh = _down(st.var + st.eps), _up(st.var + st.eps)
    if not np.all(vl > 0):
        raise DomainError("BatchNorm: var + eps is not provably positive")
    rl, rh = _down(np.sqrt(vl)), _up(np.sqrt(vh))
    w = np.ones(C) if st.weight is None else st.weight
    beta = np.zeros(C) if st.bias is None else st.bias
    cand = np.stack([w / rl, w / rh])
    shp = (1, C) + (1,) * (lo.ndim - 2)
    sl, sh = _down(cand.min(0)).reshape(shp), _up(cand.max(0)).reshape(shp)
    mu, beta = st.mean.reshape(shp), beta.reshape(shp)
    al, ah = _down(lo - mu), _up(hi - mu)
    prods = np.stack([al * sl, al * sh, ah * sl, ah * sh])
    return _down(_down(prods.min(0)) + beta), _up(_up(prods.max(0)) + beta)


def _avgpool_box(st: _pl.AvgPool2d, lo: Arr, hi: Arr) -> Tuple[Arr, Arr]:
    """Window sums by :func:`conv_box` with a kernel of ones (per channel), then ÷ k² one ulp outward."""
    if lo.ndim != 4:
        raise ShapeError(f"AvgPool2d: expected (B, C, H, W), got {lo.shape}")
    B, C, H, W = lo.shape
    ones = np.ones((1, 1, st.k, st.k))
    sl, sh = conv_box(ones, None, lo.reshape(B * C, 1, H, W), hi.reshape(B * C, 1, H, W), stride=st.stride,
                      padding=st.padding)
    k2 = float(st.k * st.k)
    return _down(sl / k2).reshape(B, C, *sl.shape[2:]), _up(sh / k2).reshape(B, C, *sh.shape[2:])


def _linear_box(st: _pl.Linear, lo: Arr, hi: Arr) -> Tuple[Arr, Arr]:
    """``x Wᵀ + b`` as the 1 × 1 case of :func:`conv_box` (rows (B, d))."""
    B, d = lo.shape[0], st.W.shape[1]
    if lo.reshape(B, -1).shape[1] != d:
        raise ShapeError(f"Linear: expected (B, {d}), got {lo.shape}")
    b = None if st.b is None else st.b[None, :, None, None]
    sl, sh = conv_box(st.W[:, :, None, None], b, lo.reshape(B, d, 1, 1), hi.reshape(B, d, 1, 1))
    return sl.reshape(B, -1), sh.reshape(B, -1)


def stage_box(st: Any, lo: Arr, hi: Arr) -> Tuple[Arr, Arr]:
    """A box containing the exact image of ``[lo, hi]`` (a batch) under one pipeline stage (not a model
    stage): the rules of the module docstring."""
    if isinstance(st, _pl.Normalize):
        return normalize_box(st, lo, hi)
    if isinstance(st, _pl.Flatten):
        return lo.reshape(lo.shape[0], -1), hi.reshape(hi.shape[0], -1)
    if isinstance(st, _pl.ReLU):
        return np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    if isinstance(st, _pl.ChannelPad):
        return st(lo), st(hi)
    if isinstance(st, _pl.Linear):
        return _linear_box(st, lo, hi)
    if isinstance(st, _pl.Conv2d):
        b = None if st.b is None else st.b[None, :, None, None]
        return conv_box(st.K, b, lo, hi, stride=st.stride, padding=st.padding)
    if isinstance(st, _pl.BatchNorm):
        return _batchnorm_box(st, lo, hi)
    if isinstance(st, _pl.AvgPool2d):
        return _avgpool_box(st, lo, hi)
    raise DomainError(f"stage {type(st).__name__}: no numpy box rule")


# ----------------------------------------------------------------------------------------------
# the fixed-point error bound (matrix-free)
# ----------------------------------------------------------------------------------------------

def fixed_point_error(rho: Arr, Arho: Arr, *, m: Optional[float] = None, mu: Optional[float] = None,
                      eta: Optional[Arr] = None) -> Arr:
    r"""Rows (B, n): a componentwise bound on :math:`|\hat z - z^\star|` for the fixed point of
    :math:`z = \mathrm{ReLU}(Wz + v)`, from proved ``rho`` ≥ |r| (the residual of ẑ) and ``Arho`` ≥ |W|ρ —
    the bound of :func:`deqtheory.bounds.fixed_point_error_bound` (``docs/bounds.md``) with |W|ρ supplied
    matrix-free, in the rounding of the torch certifier's batched ``error_bound``:

    * ``m`` (proved sym(I − W) ⪰ mI): :math:`|\hat z_i - z^\star_i| \le \min(\rho_i, \|\rho\|_2) + \|A\rho\|_2/m`;
    * ``mu``, ``eta`` (proved μ∞,[η]⁻¹(W) ≤ μ < 1, η > 0 per coordinate): with
      :math:`r_w = \max\rho/\eta`, :math:`a_w = \max A\rho/\eta`,
      :math:`|\hat z_i - z^\star_i| \le \min(\eta_i r_w/(1-\mu),\ \rho_i + \eta_i a_w/(1-\mu),\
      \eta_i(r_w + a_w/(1-\mu)))`.

    +inf where neither is given."""
    n = rho.shape[1]
    g = 1 + gamma(n + 1)
    e = np.full_like(rho, math.inf)
    if m is not None and m > 0:
        rho2 = np.linalg.norm(rho, axis=1) * g
        t = np.linalg.norm(Arho, axis=1) * g / m * (1 + 4 * _U)
        e = np.minimum(e, _up((rho + t[:, None]) * (1 + 2 * _U)))
        e = np.minimum(e, _up((rho2 + t) * (1 + 2 * _U))[:, None])
    if mu is not None and eta is not None and mu < 1:
        om = _downf(1.0 - max(mu, 0.0))
        rw = _up((rho / eta).max(axis=1) * (1 + 2 * _U))
        aw = _up((Arho / eta).max(axis=1) * (1 + 2 * _U))
        b1 = rw / om * (1 + 2 * _U)
        b2 = (rw + aw / om) * (1 + 4 * _U)
        c = np.minimum(eta * b1[:, None], rho + eta * (aw / om * (1 + 2 * _U))[:, None])
        c = np.minimum(c, eta * b2[:, None])
        e = np.minimum(e, _up(c * (1 + 4 * _U)))
    return np.where(np.isnan(e), math.inf, e)


# ----------------------------------------------------------------------------------------------
# the conv DEQ stage and the lift table
# ----------------------------------------------------------------------------------------------

def ibp_lift_kernel(K: Arr) -> Arr:
    r"""The (2c, 2c, kh, kw) kernel ``[[K₊, K₋], [K₋, K₊]]`` of the IBP lift on ``[z̄; z̲]`` (wei2022 eq. 3.3;
    equal to Ŵ of the materialised W when k ≤ N: no two taps alias)."""
    Kp, Km = np.maximum(K, 0.0), np.minimum(K, 0.0)
    return np.concatenate([np.concatenate([Kp, Km], 1), np.concatenate([Km, Kp], 1)], 0)


@dataclasses.dataclass(frozen=True)
class ConvLift:
    """One row of :data:`CONV_LIFTS`: the lifted kernel of a DEQ kind and the conditions whose
    certificates give the lift's monotonicity margin ``m`` and its weighted ℓ∞ contraction (μ, η)."""

    name: str
    kernel: Callable[[Arr], Arr]
    monotone: Optional[str]
    contraction: Optional[str]


_IBP = ConvLift("ibp", ibp_lift_kernel, "conv_ibp_monotone", "conv_abs_contraction")
#: file kind of a conv DEQ stage → its lift (the one dispatch of the re-check)
CONV_LIFTS: Dict[str, ConvLift] = {
    "conv_ibp_mondeq": _IBP,
    "conv_ibp_mondeq_gamma": _IBP,
    "conv_noneuclidean": ConvLift("metzler", _cnemon.metzler_lift_kernel, None, "conv_mu_inf"),
}


class ConvDEQStage:
    """One conv DEQ stage of the file: its kernels, its lift (:data:`CONV_LIFTS`) and, once
    :meth:`use` has been given its re-verified certificates, its box map (module docstring)."""

    def __init__(self, obj: Any, kind: str) -> None:
        self.kind = kind
        self.lift = CONV_LIFTS[kind]
        self.K = np.asarray(obj.W_kernel(), dtype=np.float64)
        self.U = np.asarray(obj.U, dtype=np.float64)
        self.b = np.asarray(obj.b, dtype=np.float64)
        self.N = int(obj.N)
        self.c = self.K.shape[0]
        self.L = self.lift.kernel(self.K)
        self.Labs = np.abs(self.L)
        self.size = self.c * self.N * self.N
        self.m: Optional[float] = None
        self.mu: Optional[float] = None
        self.eta: Optional[Arr] = None

    def use(self, proved: Mapping[str, Certificate]) -> None:
        """Take m from the re-verified monotonicity certificate and (μ, η) from the contraction one."""
        cm = proved.get(self.lift.monotone) if self.lift.monotone else None
        if cm is not None:
            self.m = _downf(float(cm.margin))
        cc = proved.get(self.lift.contraction) if self.lift.contraction else None
        if cc is not None and "eta" in cc.witness and "mu" in cc.witness:
            self.mu = float(cc.witness["mu"])
            eta = np.asarray(cc.witness["eta"], dtype=np.float64).reshape(-1)
            self.eta = np.tile(np.repeat(eta, self.N * self.N), 2)       # [z̄; z̲], channel-major

    @property
    def valid(self) -> bool:
        return (self.m is not None and self.m > 0) or self.mu is not None

    def box(self, lo: Arr, hi: Arr, zl: Arr) -> Tuple[Arr, Arr, List[Optional[str]]]:
        """Boxes (B, c, N, N) containing z*(x′) for every x′ whose DEQ input lies in [lo, hi], from the stored
        lifted points ``zl`` (B, 2c·N²); per row the reason it failed (None: proved)."""
        B, c, N = lo.shape[0], self.c, self.N
        if lo.shape[1:] != (self.U.shape[1], N, N):
            raise ShapeError(f"conv DEQ: expected inputs (B, {self.U.shape[1]}, {N}, {N}), got {lo.shape}")
        why: List[Optional[str]] = [None] * B
        if not self.valid:
            inf = np.full((B, c, N, N), math.inf)
            return -inf, inf, ["no condition on the lift re-verified"] * B
        vl, vh = conv_box(self.U, self.b[None, :, None, None], lo, hi, circular=True)
        vhat = np.concatenate([vh, vl], axis=1)
        z = np.where(np.isfinite(zl), zl, 0.0).reshape(B, 2 * c, N, N)
        sl, sh = conv_box(self.L, vhat, z, z, circular=True)
        with np.errstate(invalid="ignore", over="ignore"):
            rho = np.maximum(_up(np.abs(z - np.maximum(sh, 0.0))), _up(np.abs(z - np.maximum(sl, 0.0))))
            Arho = _upper(self.Labs, rho, circular=True)
            e = fixed_point_error(rho.reshape(B, -1), Arho.reshape(B, -1), m=self.m, mu=self.mu,
                                  eta=self.eta).reshape(z.shape)
            zu = _up(z[:, :c] + e[:, :c])
            zlo = np.maximum(_down(z[:, c:] - e[:, c:]), 0.0)
        for i in range(B):
            if not np.all(np.isfinite(zl[i])):
                why[i] = "stored lifted point is not finite"
            elif not (np.all(np.isfinite(zu[i])) and np.all(np.isfinite(zlo[i]))):
                why[i] = "fixed-point error bound is not finite"
            elif np.any(zlo[i] > zu[i]):
                why[i] = "widened lifted box is empty"
        return zlo, zu, why


@dataclasses.dataclass
class ConvChain:
    """A conv ℓ∞ classifier file as a chain: ``stages`` (pipeline stages and :class:`ConvDEQStage`), the
    folded head ``G``, ``b_y``; ``deqs`` the DEQ stages in order. Witness layout: ``z`` per image is the
    concatenation over ``deqs`` of the clean ẑ (c, N, N) flattened, ``z_lift`` per image and ε that of the
    lifted [z̄; z̲] (2c, N, N) flattened (:attr:`sizes`)."""

    stages: List[Any]
    G: Arr
    b_y: Arr

    @property
    def deqs(self) -> List[ConvDEQStage]:
        return [s for s in self.stages if isinstance(s, ConvDEQStage)]

    @property
    def sizes(self) -> List[int]:
        return [d.size for d in self.deqs]

    def use(self, proved: Mapping[str, Certificate]) -> None:
        """Give each DEQ its re-verified certificates, named ``<condition>@<DEQ index>``; a certificate whose
        condition is not the one its name says is ignored (a ``conv_mu_inf`` proof of the Metzler lift says
        nothing about the IBP lift)."""
        for k, d in enumerate(self.deqs):
            d.use({c.condition: c for name, c in proved.items() if name == f"{c.condition}@{k}"})

    def margins(self, lo: Arr, hi: Arr, points: Sequence[Arr], labels: Arr) -> Tuple[Arr, List[Optional[str]]]:
        """Proved lower bounds (B, p) on the margins f_y − f_j over the input box [lo, hi] (B, …), from the
        stored lifted points (one (B, 2c·N²) array per DEQ); per row why it failed (None: proved)."""
        B = lo.shape[0]
        why: List[Optional[str]] = [None] * B
        k = 0
        for st in self.stages:
            if isinstance(st, ConvDEQStage):
                lo, hi, w = st.box(lo, hi, points[k])
                why = [a or (None if b is None else f"DEQ {k}: {b}") for a, b in zip(why, w)]
                k += 1
            else:
                lo, hi = stage_box(st, lo, hi)
        lo, hi = lo.reshape(B, -1), hi.reshape(B, -1)
        p = self.G.shape[0]
        out = np.full((B, p), -math.inf)
        for i in range(B):
            if why[i] is None and not (np.all(np.isfinite(lo[i])) and np.all(np.isfinite(hi[i]))
                                       and np.all(lo[i] <= hi[i])):
                why[i] = "the head's input box is not finite or empty"
            if why[i] is None:
                out[i] = _iv.margin_lower_bounds(self.G, self.b_y, _iv.Box(lo[i], hi[i]), int(labels[i]))
        return out, why

    def split(self, Z: Arr, lifted: bool) -> List[Arr]:
        """Per-DEQ pieces of witness rows ``Z`` (B, Σ sizes) — as lifted points (``[z; z]`` when not
        ``lifted``); ``ShapeError`` when the row length is not the layout's."""
        f = 2 if lifted else 1
        total = f * sum(self.sizes)
        if Z.ndim != 2 or Z.shape[1] != total:
            raise ShapeError(f"witness {'z_lift' if lifted else 'z'}: expected rows of {total} entries (DEQ state "
                             f"sizes {self.sizes}{', doubled' if lifted else ''}), got shape {Z.shape}")
        out, o = [], 0
        for s in self.sizes:
            piece = Z[:, o:o + f * s]
            out.append(piece if lifted else np.concatenate([piece, piece], axis=1))
            o += f * s
        return out


def conv_chain(obj: Any) -> "ConvChain | str":
    """The :class:`ConvChain` of a model file object, or why the conv re-check does not apply (a string)."""
    if not isinstance(obj, _pl.Pipeline):
        return f"model of kind {_fm.kind_of(obj)!r} is not a classifier pipeline"
    stages = list(obj.stages)
    if not stages or not isinstance(stages[-1], _pl.Linear):
        return "the pipeline does not end in a Linear head"
    head = stages.pop()
    out: List[Any] = []
    for st in stages:
        if isinstance(st, tuple(_pl.STAGES.values())):
            out.append(st)
            continue
        kind = _fm.kind_of(st)
        if kind not in CONV_LIFTS:
            return f"model stage of kind {kind!r} has no numpy conv lift (CONV_LIFTS)"
        out.append(ConvDEQStage(st, kind))
    if not any(isinstance(s, ConvDEQStage) for s in out):
        return "no conv DEQ stage"
    b_y = np.zeros(head.W.shape[0]) if head.b is None else head.b
    return ConvChain(out, head.W, b_y)
