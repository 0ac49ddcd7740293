r"""Convolutional ℓ∞ certified-training models: wei2022's DEQ-3 and DEQ-7 (Table 1, App. B) around the
conv IBP-MonDEQ layer :class:`~deqtheory_train.layers.conv_linf.ConvIBPMonDEQ`.

:class:`ConvLinfClassifier` holds the architecture as data (``arch`` picks a row of :data:`ARCHS`,
every keyword given overrides it)::

    Normalize → (Conv2d → BN? → ReLU)*  [stem, zero padding k//2, stride s]
              → ConvIBPMonDEQ (circular, c channels, W kernel k, U kernel kU)
              → BN? → (Conv2d → BN? → ReLU)* → AvgPool2d? → Flatten → (Linear → BN1d? → ReLU)* → Linear

**Reading of wei2022 (App. B and its public code).** Table 1's ``Conv-128-3×3 → IBPMon-128-3×3`` is,
in the reference code, one layer whose input map is ``ReLU(BN(conv₃ₓ₃ x)) + b`` (conv with zero
padding, BN, ReLU, a post-activation bias) and whose W is the IBP-MonDEQ conv. Here the explicit part
is the stem (``Conv2d → BN → ReLU``) and the DEQ's U is a 1×1 conv initialised to the identity
(``u_init="identity"``), so the model at initialisation is the reference model (U then trains
freely: a superset). "BN after every linear layer except the last, none inside the DEQ, BN on the
DEQ's output" (wei2022 §4) is ``bn=True``; DEQ-3 pools 4×4 before FC-10; DEQ-7 is
``IBPMon-64 → BN → Conv-128-3×3-2 → BN → ReLU → (Conv-128-3×3-1 → BN → ReLU)×2 → FC-512 → BN → ReLU → FC-10``.
The DEQ uses circular padding with a per-channel D (the reference: zero padding with a per-pixel D),
so that W is one circular convolution solved by FFT resolvents (issue 13). Explicit weights and U
get Shi et al.'s IBP init N(0, 2π/fan_in²) (``init="ibp"``; wei2022 App. B for MNIST), M keeps
PyTorch's conv default (as the reference code).

============  ============================================================================  ========
arch          layers (28×28 input)                                                          m
============  ============================================================================  ========
``deq3``      Conv-128-3×3-1 → IBPMon-128-3×3 → BN → 4×4 avg pool → FC-10                    0.1
``deq7``      Conv-64-3×3-1 → IBPMon-64-3×3 → BN → Conv-128-3×3-2, Conv-128-3×3-1 ×2 → FC-512  0.5
              → FC-10 (BN after every conv/FC but the last)
``deq3_cpu``  Conv-32-3×3-2 (28 → 14) → IBPMon-32-3×3 on 14×14 → BN → 2×2 avg pool → FC-10    0.1
============  ============================================================================  ========

**BatchNorm decision.** In training mode BN is not a function of one input. The interval pass
(:meth:`ConvLinfClassifier.interval_bounds`) uses, for every BN, the batch statistics that the latest
training-mode ``forward`` computed on the clean batch (the loss calls ``model(x)`` first: the same
step's clean batch, as Shi et al. 2021 / auto_LiRPA and wei2022's code do; the statistics keep their
autograd graph); when no such statistics were recorded, the statistics of the box centres. In eval
mode BN is the affine map of its running statistics — what the certifier certifies.

Interval bounds in training are *float* IBP (centre/radius through convs and linear maps, the lifted
DEQ by :meth:`ConvIBPMonDEQ.lifted_solve` — for ``family="nemon"`` the conv NEMON's Metzler lift,
jafarpour2022 eq. 6, by :meth:`ConvNEMON.lifted_solve <deqtheory_train.layers.conv_nemon.ConvNEMON>`), differentiable; the last layer is folded into the margins
(wei2022 App. B "elide"). Certificates come from the sound certifier (``default_certifier``).

:class:`ConvCerDEQClassifier` (:data:`CERDEQ_ARCHS`) is li2022's CerDEQ: extractor convs (BN) feeding stacked conv
CerDEQs (:class:`~deqtheory_train.layers.conv_cerdeq.ConvCerDEQ`, downsampling by the extractor's stride) and a
linear CerDEQ (a 1 × 1 grid), then the head; several DEQs in sequence, certified by the same ``conv_linf``.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..certify.boxes import folded_margins
from ..data import Normalize
from ..layers.conv_cerdeq import ConvCerDEQ
from ..layers.conv_linf import ConvIBPMonDEQ
from ..layers.conv_nemon import ConvNEMON
from .linf import LinfDEQClassifier

__all__ = ["ARCHS", "ConvLinfClassifier", "conv_linf_builder", "ibp_init_", "CERDEQ_ARCHS", "ConvCerDEQClassifier",
           "conv_cerdeq_builder", "li2022_init_"]

#: The architectures (wei2022 Table 1 / App. B, and the CPU-sized DEQ-3); ``stem``/``post`` rows are
#: ``(out_channels, kernel, stride)`` of explicit convs (zero padding ``kernel//2``), ``fc`` the hidden
#: widths before the head, ``pool`` the average-pool size (0: none).
ARCHS: Dict[str, Dict[str, Any]] = {
    "deq3": dict(stem=[[128, 3, 1]], channels=128, kernel_size=3, u_kernel_size=1, u_init="identity",
                 post=[], pool=4, fc=[], bn=True, m=0.1),
    "deq7": dict(stem=[[64, 3, 1]], channels=64, kernel_size=3, u_kernel_size=1, u_init="identity",
                 post=[[128, 3, 2], [128, 3, 1], [128, 3, 1]], pool=0, fc=[512], bn=True, m=0.5),
    "deq3_cpu": dict(stem=[[32, 3, 2]], channels=32, kernel_size=3, u_kernel_size=1, u_init="identity",
                     post=[], pool=2, fc=[], bn=True, m=0.1),
}

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)


def _conv_rows(name: str, rows: Any) -> List[Tuple[int, int, int]]:
    out = []
    for r in rows:
        if len(r) != 3 or any(isinstance(v, bool) or int(v) != v or int(v) < 1 for v in r):
            raise ValueError(f"{name}: rows must be [out_channels, kernel, stride] positive integers, got {r!r}")
        out.append(tuple(int(v) for v in r))
    return out


def ibp_init_(modules: Sequence[nn.Module], init: str, generator: torch.Generator) -> None:
    r"""``init="ibp"``: Shi et al. (2021) IBP initialisation of every ``Conv2d``/``Linear`` in ``modules``,
    weights N(0, 2π/fan_in²) (fan_in = in_channels·k² or in_features), biases 0 (wei2022 App. B, MNIST);
    ``"default"``: PyTorch's initialisation is kept."""
    if init not in ("ibp", "default"):
        raise ValueError(f"init: expected 'ibp' or 'default', got {init!r}")
    if init == "ibp":
        _normal_init_(modules, generator, math.sqrt(2 * math.pi))


def _normal_init_(modules: Sequence[nn.Module], generator: torch.Generator, c: float) -> None:
    """Every ``Conv2d``/``Linear`` in ``modules``: weights N(0, (c/fan_in)²) (float64 draws), biases 0."""
    with torch.no_grad():
        for mod in modules:
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=generator, dtype=torch.float64)
                                 * (c / fan_in))
                mod.bias.zero_()


def _bn_affine(bn: nn.Module, mean: torch.Tensor, var: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(a, t)`` with ``BN(x) = a·x + t`` per channel for the given statistics."""
    a = torch.rsqrt(var + bn.eps)
    if bn.weight is not None:
        a = a * bn.weight
    t = -mean * a
    if bn.bias is not None:
        t = t + bn.bias
    return a, t


def _channel(t: torch.Tensor, ndim: int) -> torch.Tensor:
    return t.view(1, -1, *([1] * (ndim - 2)))


class ConvLinfClassifier(nn.Module):
    r"""Conv stem → conv IBP-MonDEQ → BN / explicit convs / pool / FC → linear head (module docstring).

    ``arch`` ∈ :data:`ARCHS`; each of ``stem``, ``channels``, ``kernel_size``, ``u_kernel_size``,
    ``u_init``, ``post``, ``pool``, ``fc``, ``bn``, ``m`` given overrides the row. ``gamma_variant``,
    ``gamma``: wei2022 eq. 3.7 (γ = 3). ``family="nemon"``: the DEQ is a conv NEMON
    (:class:`~deqtheory_train.layers.conv_nemon.ConvNEMON`, jafarpour2022 eq. 12 with a conv T, per-channel η,
    ``nemon_gamma`` = γ < 1; ``m``, ``gamma_variant`` and the m warm-up do not apply) and the float interval
    bounds use its Metzler lift (the embedded network, jafarpour2022 Thm 6.3). ``m_warmup_eps_train``: :meth:`set_training_eps` sets the DEQ's
    m to ``m + (0.99 − m)(1 − ε/ε_train)`` (wei2022 App. B), stored in the buffer ``m_current``.
    ``solver`` / ``lift_solver``: options of the DEQ's forward / lifted solves. The DEQ runs on the
    grid the stem produces.

    Protocol (as :class:`~deqtheory_train.models.linf.LinfDEQClassifier`): ``forward(x) → logits``,
    ``interval_bounds(lo, hi)``, ``interval_logits``, ``interval_margins(lo, hi, y)``,
    ``set_training_eps(eps)``, ``certify_blocks()``, ``default_certifier = "conv_linf"``.
    """

    default_certifier = "conv_linf"

    def __init__(self, input_shape: Sequence[int], num_classes: int, *, arch: str = "deq3",
                 stem: Optional[Sequence[Sequence[int]]] = None, channels: Optional[int] = None,
                 kernel_size: Optional[int] = None, u_kernel_size: Optional[int] = None, u_init: Optional[str] = None,
                 post: Optional[Sequence[Sequence[int]]] = None, pool: Optional[int] = None,
                 fc: Optional[Sequence[int]] = None, bn: Optional[bool] = None, m: Optional[float] = None,
                 gamma_variant: bool = False, gamma: float = 3.0, family: str = "ibp_mondeq",
                 nemon_gamma: float = 0.0,
                 normalize: Optional[Mapping[str, Sequence[float]]] = None, init: str = "ibp", seed: int = 0,
                 m_warmup_eps_train: Optional[float] = None, solver: Optional[Mapping[str, Any]] = None,
                 lift_solver: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"arch: expected one of {tuple(ARCHS)}, got {arch!r}")
        given = dict(stem=stem, channels=channels, kernel_size=kernel_size, u_kernel_size=u_kernel_size,
                     u_init=u_init, post=post, pool=pool, fc=fc, bn=bn, m=m)
        a = {k: (ARCHS[arch][k] if v is None else v) for k, v in given.items()}
        self.arch = arch
        self.input_shape = tuple(int(s) for s in input_shape)
        if len(self.input_shape) != 3 or self.input_shape[1] != self.input_shape[2]:
            raise ValueError(f"input_shape: expected (C, N, N), got {self.input_shape}")
        g = torch.Generator().manual_seed(int(seed))
        bn_on = bool(a["bn"])
        self.norm = Normalize(**normalize) if normalize else None
        c, n = self.input_shape[0], self.input_shape[1]
        pre: List[nn.Module] = []
        for co, k, s in _conv_rows("stem", a["stem"]):
            pre += [nn.Conv2d(c, co, k, stride=s, padding=k // 2)] + ([nn.BatchNorm2d(co)] if bn_on else []) + [nn.ReLU()]
            c, n = co, (n + 2 * (k // 2) - k) // s + 1
        self.pre = nn.ModuleList(pre)
        if family not in ("ibp_mondeq", "nemon"):
            raise ValueError(f"family: expected 'ibp_mondeq' or 'nemon', got {family!r}")
        if family == "nemon" and (gamma_variant or m_warmup_eps_train is not None):
            raise ValueError("family='nemon': gamma_variant and m_warmup_eps_train belong to the IBP-MonDEQ")
        self.family = family
        common = dict(u_kernel_size=int(a["u_kernel_size"]), u_init=a["u_init"], seed=int(seed), lift_solver=lift_solver,
                      **dict(solver or {}))
        if family == "nemon":
            self.layer = ConvNEMON(c, int(a["channels"]), n, int(a["kernel_size"]), gamma=nemon_gamma, **common)
        else:
            self.layer = ConvIBPMonDEQ(c, int(a["channels"]), n, int(a["kernel_size"]), m=float(a["m"]),
                                       gamma_variant=gamma_variant, gamma=gamma, **common)
        c = int(a["channels"])
        post_mods: List[nn.Module] = [nn.BatchNorm2d(c)] if bn_on else []
        for co, k, s in _conv_rows("post", a["post"]):
            post_mods += [nn.Conv2d(c, co, k, stride=s, padding=k // 2)] + ([nn.BatchNorm2d(co)] if bn_on else []) \
                + [nn.ReLU()]
            c, n = co, (n + 2 * (k // 2) - k) // s + 1
        p = int(a["pool"])
        if p > 0:
            post_mods.append(nn.AvgPool2d(p))
            n = n // p
        post_mods.append(nn.Flatten())
        d = c * n * n
        for h in a["fc"]:
            post_mods += [nn.Linear(d, int(h))] + ([nn.BatchNorm1d(int(h))] if bn_on else []) + [nn.ReLU()]
            d = int(h)
        self.post = nn.ModuleList(post_mods)
        self.head = nn.Linear(d, int(num_classes))
        ibp_init_([*self.pre, *self.post, self.head], init, g)
        self.m_warmup_eps_train = None if m_warmup_eps_train is None else float(m_warmup_eps_train)
        self.register_buffer("m_current", torch.tensor(float(getattr(self.layer, "m", 0.0)), dtype=torch.float64))
        self._bn_stats: Dict[int, Tuple[torch.Tensor, torch.Tensor]] = {}
        self.last_interval_info = None

    # -- m warm-up: the dense ℓ∞ classifier's (same buffer ``m_current``, same rule; ``family`` —
    # ``"ibp_mondeq"`` or ``"nemon"`` — marks the IBP-MonDEQ layer whose ``m`` it drives) ------------
    _sync_m = LinfDEQClassifier._sync_m
    set_training_eps = LinfDEQClassifier.set_training_eps

    # -- forward -------------------------------------------------------------------------------
    def _run(self, mods: Sequence[nn.Module], h: torch.Tensor) -> torch.Tensor:
        for mod in mods:
            if isinstance(mod, _BN) and mod.training:
                dims = [0] + list(range(2, h.ndim))
                self._bn_stats[id(mod)] = (h.mean(dims), h.var(dims, unbiased=False))
            h = mod(h)
        return h

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input (B, d)."""
        self._sync_m()
        if self.norm is not None:
            x = self.norm(x)
        return self._run(self.post, self.layer(self._run(self.pre, x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    # -- float interval bounds (training) --------------------------------------------------------
    def _box(self, mod: nn.Module, lo: torch.Tensor, hi: torch.Tensor, pre: list) -> Tuple[torch.Tensor, torch.Tensor]:
        if isinstance(mod, nn.ReLU):
            pre.append((lo, hi))
            return lo.clamp(min=0), hi.clamp(min=0)
        if isinstance(mod, (nn.Flatten, nn.AvgPool2d)):         # linear, nonnegative weights
            return mod(lo), mod(hi)
        if isinstance(mod, _BN):
            if mod.training:
                st = self._bn_stats.get(id(mod))
                if st is None:
                    c = (lo + hi) / 2
                    dims = [0] + list(range(2, c.ndim))
                    st = (c.mean(dims), c.var(dims, unbiased=False))
                a, t = _bn_affine(mod, *st)
            else:
                a, t = _bn_affine(mod, mod.running_mean, mod.running_var)
            a, t = _channel(a, lo.ndim), _channel(t, lo.ndim)
            c, r = a * (hi + lo) / 2 + t, a.abs() * (hi - lo) / 2
            return c - r, c + r
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            c, r = mod((hi + lo) / 2), (hi - lo) / 2
            if isinstance(mod, nn.Linear):
                r = r @ mod.weight.abs().T
            else:
                r = F.conv2d(r, mod.weight.abs(), None, mod.stride, mod.padding, mod.dilation, mod.groups)
            return c - r, c + r
        raise TypeError(f"no interval rule for {type(mod).__name__}")

    def interval_bounds(self, lower: torch.Tensor, upper: torch.Tensor) -> Dict[str, Any]:
        """Float interval bounds (training only): ``zl``, ``zu`` — the box of the head's input (B, d);
        ``deq`` — the box ``(zl, zu)`` of the DEQ's fixed point; ``pre`` — the pre-activation boxes of
        every ReLU (explicit layers, and the DEQ's ``Ŵẑ + v̂``); ``input`` — the normalised input box."""
        self._sync_m()
        lo, hi = lower, upper
        if self.norm is not None:                    # σ > 0: increasing coordinatewise
            lo, hi = self.norm(lo), self.norm(hi)
        inp = (lo, hi)
        pre: List[Tuple[torch.Tensor, torch.Tensor]] = []
        for mod in self.pre:
            lo, hi = self._box(mod, lo, hi, pre)
        zl, zu, dpre = self.layer.lifted_solve(*self.layer.injection_box(lo, hi), with_pre=True)
        self.last_interval_info = self.layer.last_lift_info
        pre.append(dpre)
        lo, hi = zl, zu
        for mod in self.post:
            lo, hi = self._box(mod, lo, hi, pre)
        return {"zl": lo, "zu": hi, "deq": (zl, zu), "pre": pre, "input": inp}

    def interval_logits(self, lower: torch.Tensor, upper: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(y_lower, y_upper) boxes of the logits (float; for the generic ``ibp`` loss)."""
        r = self.interval_bounds(lower, upper)
        return self._box(self.head, r["zl"], r["zu"], [])

    def interval_margins(self, lower: torch.Tensor, upper: torch.Tensor, y: torch.Tensor
                         ) -> Tuple[torch.Tensor, Dict[str, Any]]:
        """Folded margins m̲ (B, p) (entry y = 0) and the :meth:`interval_bounds` dict."""
        r = self.interval_bounds(lower, upper)
        return folded_margins(self.head.weight, self.head.bias, r["zl"], r["zu"], y, sound=False), r

    # -- certification -------------------------------------------------------------------------
    def certify_blocks(self) -> List[nn.Module]:
        """``[Normalize?, Conv2d, BatchNorm2d?, ReLU, …, ConvIBPMonDEQ, BatchNorm2d?, …, AvgPool2d?,
        Flatten, Linear, BatchNorm1d?, ReLU, …, Linear]`` — the modules themselves, in order (BN in
        eval mode is what is certified)."""
        self._sync_m()
        return ([self.norm] if self.norm is not None else []) + list(self.pre) + [self.layer] + list(self.post) \
            + [self.head]

    @property
    def last_solve_stats(self):
        return self.layer.last_stats


def conv_linf_builder(arch: str) -> Any:
    """The registry builder of ``arch``: ``ConvLinfClassifier(input_shape, num_classes, arch=arch, **kw)``."""
    if arch not in ARCHS:
        raise ValueError(f"arch: expected one of {tuple(ARCHS)}, got {arch!r}")
    return functools.partial(ConvLinfClassifier, arch=arch)


# ----------------------------------------------------------------------------------------------
# li2022's CerDEQ: stacked conv CerDEQs (downsampling) and a linear CerDEQ
# ----------------------------------------------------------------------------------------------

#: li2022 CerDEQ architectures (§4.1: "three DEQ layers … two convolutional DEQ layers for downsampling and one
#: linear DEQ layer"; BatchNorm in the extractor parts, §3.5). ``deqs`` rows ``[channels, kernel, stride]``: an
#: extractor ``Conv2d(kernel, stride, zero padding kernel//2)`` → ``BN?`` → conv CerDEQ with W kernel ``kernel`` on
#: the extractor's grid; ``linear`` widths: an extractor ``Conv2d`` over the whole grid (no padding: exactly a dense
#: map of the flattened features) → ``BN?`` → CerDEQ on a 1 × 1 grid with k = 1 (the dense CerDEQ); then Flatten →
#: linear head. li2022 does not print the channel numbers ("the same learnable parameters as CNN-7"): the
#: ``conv_cerdeq_cifar`` row is a choice (64 / 128 channels, 512 units).
CERDEQ_ARCHS: Dict[str, Dict[str, Any]] = {
    "conv_cerdeq_cifar": dict(deqs=[[64, 3, 2], [128, 3, 2]], linear=[512], bn=True),
    "conv_cerdeq_cpu": dict(deqs=[[16, 3, 2], [32, 3, 2]], linear=[100], bn=True),
}


def li2022_init_(modules: Sequence[nn.Module], generator: torch.Generator) -> None:
    r"""li2022 Prop 3.5 initialisation of DEQ extractors (every ``Conv2d``/``Linear`` in ``modules``): weights
    N(0, σ²) with σ = √(π/2)/n_u, n_u = fan_in (n_u·E|U| = 1; the σ as corrected in the catalogue
    ``li2022:prop3.5``), biases 0."""
    _normal_init_(modules, generator, math.sqrt(math.pi / 2))


class ConvCerDEQClassifier(nn.Module):
    r"""li2022's CerDEQ classifier (architecture as data: ``arch`` ∈ :data:`CERDEQ_ARCHS`, ``deqs`` / ``linear`` /
    ``bn`` given override the row)::

        Normalize → (Conv2d_s → BN? → ConvCerDEQ)*  [conv DEQs, downsampling by the extractor's stride]
                  → (Conv2d over the grid → BN? → ConvCerDEQ on 1 × 1)*  [linear DEQs] → Flatten → Linear

    Each DEQ is :class:`~deqtheory_train.layers.conv_cerdeq.ConvCerDEQ` with a 1 × 1 identity U₀ held fixed
    (``u_trainable=False``): the DEQ's injection is the explicit extractor before it (li2022's U), scaled by the
    §3.5 factor s. Downsampling is that extractor's stride — a zero-padded strided ``nn.Conv2d`` that the sound
    certifier, the float training boxes and the export already handle — rather than a strided injection inside
    the circular DEQ. Extractors get li2022's initialisation (:func:`li2022_init_`), the head Shi et al.'s IBP
    init; ``n_iter`` (K = 5), ``s_max``, ``s_init``, ``solver``, ``lift_solver`` go to every DEQ.

    Protocol (as :class:`ConvLinfClassifier`): ``forward``, ``interval_bounds`` (float IBP; BN in training mode
    uses the latest clean batch statistics), ``interval_logits``, ``interval_margins``, ``certify_blocks()``,
    ``default_certifier = "conv_linf"`` (every DEQ certified by its IBP lift's proved contraction)."""

    default_certifier = "conv_linf"

    def __init__(self, input_shape: Sequence[int], num_classes: int, *, arch: str = "conv_cerdeq_cifar",
                 deqs: Optional[Sequence[Sequence[int]]] = None, linear: Optional[Sequence[int]] = None,
                 bn: Optional[bool] = None, n_iter: int = 5, s_max: float = 0.999, s_init: float = 0.9,
                 normalize: Optional[Mapping[str, Sequence[float]]] = None, seed: int = 0,
                 solver: Optional[Mapping[str, Any]] = None, lift_solver: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__()
        if arch not in CERDEQ_ARCHS:
            raise ValueError(f"arch: expected one of {tuple(CERDEQ_ARCHS)}, got {arch!r}")
        row = CERDEQ_ARCHS[arch]
        a = {k: (row[k] if v is None else v) for k, v in dict(deqs=deqs, linear=linear, bn=bn).items()}
        self.arch = arch
        self.input_shape = tuple(int(s) for s in input_shape)
        if len(self.input_shape) != 3 or self.input_shape[1] != self.input_shape[2]:
            raise ValueError(f"input_shape: expected (C, N, N), got {self.input_shape}")
        widths = [int(h) for h in a["linear"]]
        if any(h < 1 for h in widths):
            raise ValueError(f"linear: widths must be positive integers, got {a['linear']!r}")
        g = torch.Generator().manual_seed(int(seed))
        self.norm = Normalize(**normalize) if normalize else None
        c, n = self.input_shape[0], self.input_shape[1]
        deq_kw = dict(n_iter=n_iter, s_max=s_max, s_init=s_init, u_kernel_size=1, u_init="identity",
                      u_trainable=False, lift_solver=lift_solver, **dict(solver or {}))
        blocks: List[nn.Module] = []
        extractors: List[nn.Module] = []
        rows = [(co, k, s, k // 2) for co, k, s in _conv_rows("deqs", a["deqs"])]
        for i, (co, k, s, p) in enumerate(rows + [(h, None, 1, 0) for h in widths]):
            k_ex = n if k is None else k                       # a linear DEQ's extractor spans the grid
            ex = nn.Conv2d(c, co, k_ex, stride=s, padding=p)
            c, n = co, (n + 2 * p - k_ex) // s + 1
            if n < 1 or (k is not None and k > n):
                raise ValueError(f"deqs: row {i} leaves a {n} x {n} grid for a {k} x {k} W kernel")
            blocks += [ex] + ([nn.BatchNorm2d(co)] if a["bn"] else []) \
                + [ConvCerDEQ(co, co, n, 1 if k is None else k, seed=int(seed) + i, **deq_kw)]
            extractors.append(ex)
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(c * n * n, int(num_classes))
        li2022_init_(extractors, g)
        ibp_init_([self.head], "ibp", g)
        self._bn_stats: Dict[int, Tuple[torch.Tensor, torch.Tensor]] = {}
        self.last_interval_info = None

    def deq_layers(self) -> List[nn.Module]:
        return [m for m in self.blocks if hasattr(m, "lifted_solve")]

    _run = ConvLinfClassifier._run
    _box = ConvLinfClassifier._box
    interval_logits = ConvLinfClassifier.interval_logits
    interval_margins = ConvLinfClassifier.interval_margins

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input (B, d)."""
        if self.norm is not None:
            x = self.norm(x)
        return self._run(self.blocks, x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def interval_bounds(self, lower: torch.Tensor, upper: torch.Tensor) -> Dict[str, Any]:
        """Float interval bounds (training only), keys as :meth:`ConvLinfClassifier.interval_bounds` (``deq``: the
        last DEQ's box); each DEQ's box is its lifted fixed point (``lifted_solve``), whose pre-activation box
        ``Ŵẑ + v̂`` joins ``pre``."""
        lo, hi = lower, upper
        if self.norm is not None:
            lo, hi = self.norm(lo), self.norm(hi)
        inp = (lo, hi)
        pre: List[Tuple[torch.Tensor, torch.Tensor]] = []
        deq = None
        for mod in self.blocks:
            if hasattr(mod, "lifted_solve"):
                lo, hi, dpre = mod.lifted_solve(*mod.injection_box(lo, hi), with_pre=True)
                self.last_interval_info = mod.last_lift_info
                pre.append(dpre)
                deq = (lo, hi)
            else:
                lo, hi = self._box(mod, lo, hi, pre)
        return {"zl": lo.flatten(1), "zu": hi.flatten(1), "deq": deq, "pre": pre, "input": inp}

    def certify_blocks(self) -> List[nn.Module]:
        """``[Normalize?, Conv2d, BatchNorm2d?, ConvCerDEQ, …, Flatten, Linear]`` — the modules themselves."""
        return ([self.norm] if self.norm is not None else []) + list(self.blocks) + [nn.Flatten(), self.head]


def conv_cerdeq_builder(arch: str) -> Any:
    """The registry builder of ``arch`` ∈ :data:`CERDEQ_ARCHS`."""
    if arch not in CERDEQ_ARCHS:
        raise ValueError(f"arch: expected one of {tuple(CERDEQ_ARCHS)}, got {arch!r}")
    return functools.partial(ConvCerDEQClassifier, arch=arch)
