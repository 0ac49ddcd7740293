r"""The bridge torch → :mod:`deqtheory`: one verb, :func:`to_deqtheory`, for every layer family and
classifier of :mod:`deqtheory_train`, returning the objects that :func:`deqtheory.formats.save_model`
writes (docs/formats.md), so that ``deqtheory check | eval | convert`` re-check a trained model
without torch.

=====================================================  ==========================================  ==================
torch module                                           deqtheory object                            file kind
=====================================================  ==========================================  ==================
MonDEQLayer / LipMonDEQLayer / GMonDEQLayer            :class:`deqtheory.formats.FamilyNet`        = ``layer.kind``
IBPMonDEQLayer (±Γ) / CerDEQLayer / NEMONLayer         :class:`deqtheory.formats.FamilyNet`        = ``layer.kind``
LBENLayer                                              :class:`deqtheory.formats.LBENNet`          ``lben``
ConvMonDEQ (needs ``N``)                               :class:`deqtheory.formats.ConvMonDEQNet`    ``conv_mondeq``
ConvIBPMonDEQ (±Γ)                                     :class:`deqtheory.formats.ConvIBPMonDEQNet`  = ``layer.kind``
ConvNEMON                                              :class:`deqtheory.formats.ConvNonEuclideanNet`  ``conv_noneuclidean``
ConvCerDEQ                                             :class:`deqtheory.formats.ConvKernelDEQNet`  ``conv_kernel_deq``
ConvLBEN / ConvDAGLBEN (its eq. 7 ``as_conv_lben()``)  :class:`deqtheory.convert.ConvLBEN`         ``conv_lben``
SLLLinear / CPLLinear (or a list of them)              :class:`deqtheory.explicit.ResidualStack`   ``sll`` / ``cpl``
SLLConv2d / CPLConv2d (or a list; needs ``N``)         :class:`deqtheory.explicit_conv.ConvResidualStack`  ``conv_sll`` / ``conv_cpl``
AOLConv2d (needs ``N``)                                :class:`deqtheory.explicit_conv.ConvAOLLayer`  ``conv_aol``
AOLMLP / SandwichMLP                                   ``AOLNet`` / ``SandwichNet``                ``aol`` / ``sandwich``
parametrize.*Weight (all but LBENWeight)               the family's params dataclass               (a component)
nn.Sequential, DenseDEQClassifier, LinfDEQClassifier,  :class:`deqtheory.pipeline.Pipeline`        ``classifier``
ConvClassifier
=====================================================  ==========================================  ==================

What is exported is the model **as stored**: free parameters (float32 or float64, converted to float64
exactly), the Normalize's ``mean``/``std`` as stored (no folding into ``U``), biases. Derived
quantities that the torch forward computes from them with a non-polynomial map are exported at their
computed float value, because that value *is* the model the torch layer runs (and certifies): the
Lip-MonDEQ ``U = lip·m·V/(σ_max(V)(1 + slack))``, CerDEQ's BN scale ``s = s_max·sigmoid(θ)``, SLL's
``q = exp(log_q)``; the SLL ``T`` is eq. 9 on those values evaluated in float64 (for float64 layers the
layer's own ``T``). CPL layers get deqtheory's *proved* normaliser
``T ≥ ‖W‖₂²`` (:func:`deqtheory.explicit.cpl_layer`, :func:`deqtheory.explicit_conv.conv_cpl_layer`;
relative excess ≤ 1e-6 dense, 1e-10 conv, over the eval-mode ``‖W‖₂²`` the torch layer divides by),
so the file is 1-Lipschitz by construction and converts to LBEN. The dense
families' ``W`` is recomputed by :mod:`deqtheory.parametrizations` from the parameters (float64,
same formula, rounding-level differences from the torch ``W``); :mod:`deqtheory_train.certify`
certifies that very ``W`` (it reads every layer through this module, ``certify/layer_arrays.py``). A
conv LBEN is stored by the DFT blocks of its kernels (:func:`deqtheory.circulant.kernel_to_freq`, the
``conv_lben`` kind).

Classifiers: ``Normalize`` → :class:`deqtheory.pipeline.Normalize`, ``Flatten``, ``Linear``, ``ReLU``,
``ChannelPad`` → the pipeline stages; a dense DEQ followed by ``Readout(layer)`` keeps its ``G``, ``b_y``
(the stage outputs ``Gz + b_y``), one followed by a ``Linear`` head is exported without them (``z``).
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from deqtheory import circulant as _circ
from deqtheory import convert as _cv
from deqtheory import explicit as _ex
from deqtheory import explicit_conv as _ec
from deqtheory import formats as _fm
from deqtheory import pipeline as _pl
from deqtheory.errors import DomainError

from .layers.conv import ConvLBEN, ConvMonDEQ
from .layers.conv_cerdeq import ConvCerDEQ
from .layers.conv_dag import ConvDAGLBEN
from .layers.conv_linf import ConvIBPMonDEQ
from .layers.conv_nemon import ConvNEMON
from .layers.dense import CerDEQLayer, DenseDEQLayer, LBENLayer, LipMonDEQLayer
from .layers.explicit import (AOLMLP, AOLConv2d, CPLConv2d, CPLLinear, SandwichMLP, SLLConv2d, SLLLinear, sll_T_conv,
                              sll_T_dense)
from .parametrize import LBENWeight, _WeightBase

__all__ = ["to_deqtheory", "to_numpy"]


def to_numpy(t: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    """Detached float64 numpy copy (any device); ``None`` stays ``None``."""
    return None if t is None else t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()


# ----------------------------------------------------------------------------------------------
# dense DEQ layers
# ----------------------------------------------------------------------------------------------

def _params(w: nn.Module, **layer_tensors: torch.Tensor) -> Any:
    """The deqtheory params dataclass of a parametrization module (``w.params_type`` with the numpy
    copies of ``w.fields``; LBEN adds the layer's ``G``, ``U``)."""
    return w.params_type(**{k: to_numpy(getattr(w, k)) for k in w.fields},
                         **{k: to_numpy(t) for k, t in layer_tensors.items()})


def _dense_layer(layer: nn.Module, readout: bool = True) -> Any:

    G, b_y = (to_numpy(layer.G), to_numpy(layer.b_y)) if readout else (None, None)
    mask = layer.solver_options.get("identity_mask")
    with torch.no_grad():
        if isinstance(layer, LBENLayer):
            if not readout:
                raise DomainError("LBENLayer: its W depends on G; export it with its readout")
            m = None if mask is None else np.asarray(to_numpy(torch.as_tensor(mask)), bool)
            return _fm.LBENNet(_params(layer.W_param, G=layer.G, U=layer.U), layer.L, layer.W_param.fam.eps,
                               to_numpy(layer.b), b_y, m)
        if mask is not None:
            raise DomainError(f"{type(layer).__name__}: identity_mask is stored only by the lben kind")
        cer = isinstance(layer, CerDEQLayer)
        net = _fm.FamilyNet(layer.family(), _params(layer.W_param),
                            to_numpy(layer.U0 if cer else layer.input_matrix()), G, to_numpy(layer.b), b_y,
                            scale=to_numpy(layer.bn_scale()) if cer else None,
                            lip=layer.lip if isinstance(layer, LipMonDEQLayer) else None)
    if net.kind != layer.kind:  # pragma: no cover - guards the "layer kind = file kind" rule
        raise DomainError(f"{type(layer).__name__}: layer kind {layer.kind!r} differs from file kind {net.kind!r}")
    return net


# ----------------------------------------------------------------------------------------------
# explicit layers
# ----------------------------------------------------------------------------------------------

def _residual_layer(mod: nn.Module, N: Optional[int]) -> Any:

    with torch.no_grad():
        # SLL: T of eq. 9 evaluated in float64 on the stored parameters, q = exp(log_q) at its computed
        # value in the layer's dtype (for float64 layers: the layer's own T, bit for bit)
        q = torch.exp(mod.log_q.detach()).to(torch.float64) if isinstance(mod, (SLLLinear, SLLConv2d)) else None
        if isinstance(mod, SLLLinear):
            W = mod.weight.detach().to(torch.float64)
            return _ex.ResidualLayer(to_numpy(W), to_numpy(sll_T_dense(W, q)), to_numpy(mod.bias), kind="sll")
        if isinstance(mod, CPLLinear):
            return _ex.cpl_layer(to_numpy(mod.weight), b=to_numpy(mod.bias))
        if N is None:
            raise DomainError(f"N: {type(mod).__name__} is convolutional; pass the grid size N")
        w = to_numpy(mod.kernel)       # the torch kernel reads the state: K = its adjoint (exact permutation)
        K = _circ.adjoint_kernel(w) if max(w.shape[2:]) + 1 - max(w.shape[2:]) % 2 <= int(N) else _circ.adjoint_kernel(w, int(N))
        if isinstance(mod, SLLConv2d):
            T = sll_T_conv(mod.kernel.detach().to(torch.float64), q)
            return _ec.ConvResidualLayer(K, to_numpy(T), to_numpy(mod.bias), int(N), kind="sll")
        return _ec.conv_cpl_layer(K, int(N), b=to_numpy(mod.bias))


def _residual_stack(layers: Sequence[nn.Module], N: Optional[int]) -> Any:

    out = []
    for i, l in enumerate(layers):
        if not isinstance(l, (SLLLinear, CPLLinear, SLLConv2d, CPLConv2d)):
            raise DomainError(f"layers[{i}]: expected an SLL/CPL layer, got {type(l).__name__}")
        out.append(_residual_layer(l, N))
    conv = [isinstance(l, _ec.ConvResidualLayer) for l in out]
    if all(conv):
        return _ec.ConvResidualStack(tuple(out))
    if any(conv):
        raise DomainError("layers: dense and convolutional residual layers cannot share one stack")
    return _ex.ResidualStack(tuple(out))


def _aol(net: nn.Module) -> Any:
    ls = list(net.layers)
    return _ex.AOLNet(tuple(to_numpy(l.weight) for l in ls[:-1]), tuple(to_numpy(l.bias) for l in ls[:-1]),
                      to_numpy(ls[-1].weight), to_numpy(ls[-1].bias))


def _conv_aol(mod: nn.Module, N: Optional[int]) -> Any:
    """:class:`deqtheory.explicit_conv.ConvAOLLayer` of the free kernel K̃ (D is recomputed by the numpy
    :func:`deqtheory.explicit_conv.conv_aol_scaling`, the same formula as the torch layer's)."""
    if N is None:
        raise DomainError("N: AOLConv2d works on any grid; pass the grid size N")
    return _ec.ConvAOLLayer(to_numpy(mod.weight), to_numpy(mod.bias), int(N))


def _sandwich(net: nn.Module) -> Any:
    """:class:`deqtheory.explicit.SandwichNet` whose ``A, B, B_out`` are the *numpy*
    :func:`deqtheory.explicit.cayley_stiefel` of the same free parameters."""
    AB = [_ex.cayley_stiefel(to_numpy(X), to_numpy(Y)) for X, Y in zip(net.X, net.Y)]
    B_out = _ex.cayley_stiefel(to_numpy(net.X_out), to_numpy(net.Y_out))[1]
    return _ex.SandwichNet(tuple(a for a, _ in AB), tuple(b for _, b in AB),
                           tuple(to_numpy(torch.exp(lp)) for lp in net.log_phi), tuple(to_numpy(b) for b in net.b),
                           B_out, to_numpy(net.b_out), L=net.L)


# ----------------------------------------------------------------------------------------------
# convolutional DEQs
# ----------------------------------------------------------------------------------------------

def _conv_mondeq(mod: nn.Module, N: Optional[int]) -> Any:
    if N is None:
        raise DomainError("N: ConvMonDEQ works on any grid; pass the grid size N")
    return _fm.ConvMonDEQNet(to_numpy(mod.A), to_numpy(mod.B), to_numpy(mod.U), to_numpy(mod.bias), mod.m, int(N))


def _conv_ibp_mondeq(mod: ConvIBPMonDEQ) -> Any:
    """Float64 copies of ``M, log_slack, U, bias`` (and ``beta``), the current ``m``, ``N`` and γ: the file's
    W kernel is :mod:`deqtheory.conv_ibp`'s float64 formula on them (the torch ``weight_kernel`` mirrors it)."""
    net = _fm.ConvIBPMonDEQNet(to_numpy(mod.M), to_numpy(mod.log_slack), to_numpy(mod.U), to_numpy(mod.bias), mod.m,
                               mod.N, beta=to_numpy(mod.beta), gamma=mod.gamma)
    if net.kind != mod.kind:  # pragma: no cover - guards the "layer kind = file kind" rule
        raise DomainError(f"ConvIBPMonDEQ: layer kind {mod.kind!r} differs from file kind {net.kind!r}")
    return net


def _conv_nemon(mod: ConvNEMON) -> Any:
    """Float64 copies of ``T, log_eta, U, bias``, γ and ``N``: the file's W kernel is
    :mod:`deqtheory.conv_nemon`'s float64 formula on them (the torch ``weight_kernel`` mirrors it)."""
    return _fm.ConvNonEuclideanNet(to_numpy(mod.T), to_numpy(mod.log_eta), to_numpy(mod.U), to_numpy(mod.bias),
                                   mod.gamma, mod.N)


def _conv_cerdeq(mod: ConvCerDEQ) -> Any:
    """The **computed** kernels ``K = s·O/√n`` and ``U = s·U₀`` as float64 copies (Björck in floating point
    defines no exact model: the file's kernel is the one the torch layer ran, bit for bit in float64), the
    bias, ``N`` and the layer's provenance text."""
    with torch.no_grad():
        return _fm.ConvKernelDEQNet(to_numpy(mod.weight_kernel()), to_numpy(mod.U), to_numpy(mod.bias), mod.N,
                                    provenance=mod.provenance())


def _conv_lben(mod: nn.Module) -> Any:

    if isinstance(mod, ConvDAGLBEN):
        mod = mod.as_conv_lben()        # the eq. (7) ConvLBEN that deqtheory_train.certify certifies
    N, C = mod.N, mod.channels
    f = lambda t: _circ.kernel_to_freq(to_numpy(t), N)  # noqa: E731
    mask = np.arange(C) < mod.identity_channels
    return _cv.ConvLBEN(N=N, channels=tuple(mod.blocks) if mod.blocks else (C,), log_psi=to_numpy(mod.log_psi),
                        V_hat=f(mod.V), S_hat=f(mod.S), G_hat=f(mod.G), U_hat=f(mod.U), b=to_numpy(mod.bias),
                        b_y=to_numpy(mod.bias_y), identity_mask=mask, L=mod.L, eps=mod.eps)


# ----------------------------------------------------------------------------------------------
# classifiers
# ----------------------------------------------------------------------------------------------

def _is_normalize(m: nn.Module) -> bool:
    return type(m).__name__ == "Normalize" and hasattr(m, "affine")


def _explicit_conv_stage(m: nn.Module) -> Any:
    """``nn.Conv2d`` (zero padding, square kernel, groups 1, no dilation) → :class:`deqtheory.pipeline.Conv2d`;
    ``nn.BatchNorm1d/2d`` → :class:`~deqtheory.pipeline.BatchNorm` with its running statistics (the eval-mode
    function, whatever the module's mode); ``nn.AvgPool2d`` (no ceil mode / divisor override, padding
    counted) → :class:`~deqtheory.pipeline.AvgPool2d`. Anything else is a ``DomainError`` naming it."""
    name = type(m).__name__
    if isinstance(m, nn.Conv2d):
        k, s_, p_, d_ = (tuple(int(v) for v in (a if isinstance(a, tuple) else (a, a))) if not isinstance(a, str)
                         else a for a in (m.kernel_size, m.stride, m.padding, m.dilation))
        if (isinstance(p_, str) or m.groups != 1 or d_ != (1, 1) or k[0] != k[1] or s_[0] != s_[1] or p_[0] != p_[1]
                or (m.padding_mode != "zeros" and p_ != (0, 0))):
            raise DomainError(f"{name}: only square kernels, equal strides/paddings, zero padding, groups=1 and "
                              f"dilation 1 are exported (got kernel {m.kernel_size}, stride {m.stride}, padding "
                              f"{m.padding}, groups {m.groups}, dilation {m.dilation}, {m.padding_mode})")
        return _pl.Conv2d(to_numpy(m.weight), None if m.bias is None else to_numpy(m.bias), s_[0], p_[0])
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if not m.track_running_stats or m.running_mean is None:
            raise DomainError(f"{name}: no running statistics (track_running_stats=False): not a fixed function")
        return _pl.BatchNorm(to_numpy(m.running_mean), to_numpy(m.running_var), float(m.eps),
                             to_numpy(m.weight) if m.affine else None, to_numpy(m.bias) if m.affine else None)
    k, s_, p_ = (int(a) if isinstance(a, int) else int(a[0]) for a in (m.kernel_size, m.stride or m.kernel_size,
                                                                      m.padding))
    if m.ceil_mode or m.divisor_override is not None or (p_ and not m.count_include_pad) or \
            any(isinstance(a, tuple) and len(set(a)) > 1 for a in (m.kernel_size, m.stride, m.padding)):
        raise DomainError(f"{name}: ceil_mode, divisor_override, uncounted padding and non-square windows are not "
                          "exported")
    return _pl.AvgPool2d(k, s_, p_)


def _stages(mods: List[nn.Module], N: Optional[int]) -> List[Any]:

    residual = (SLLLinear, CPLLinear, SLLConv2d, CPLConv2d)
    out: List[Any] = []
    i = 0
    while i < len(mods):
        m = mods[i]
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        if isinstance(m, nn.Identity):
            pass
        elif _is_normalize(m):
            out.append(_pl.Normalize(*m.affine()))
        elif isinstance(m, nn.Flatten):
            out.append(_pl.Flatten())
        elif isinstance(m, nn.ReLU):
            out.append(_pl.ReLU())
        elif isinstance(m, nn.Linear):
            out.append(_pl.Linear(to_numpy(m.weight), to_numpy(m.bias)))
        elif type(m).__name__ == "ChannelPad":
            out.append(_pl.ChannelPad(m.c_in, m.c))
        elif isinstance(m, (nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.AvgPool2d)):
            out.append(_explicit_conv_stage(m))
        elif isinstance(m, DenseDEQLayer):
            ro = nxt is not None and type(nxt).__name__ == "Readout" and getattr(nxt, "layer", None) is m
            out.append(_dense_layer(m, readout=ro))
            i += int(ro)
        elif isinstance(m, residual):
            j = i
            while j < len(mods) and isinstance(mods[j], residual):
                j += 1
            out.append(_residual_stack(mods[i:j], N))
            i = j - 1
        else:
            out.append(to_deqtheory(m, N=N))
        i += 1
    return out


def _flat(mods: Sequence[nn.Module]) -> List[nn.Module]:
    out: List[nn.Module] = []
    for m in mods:
        out.extend(_flat(list(m)) if isinstance(m, nn.Sequential) else [m])
    return out


def _conv_classifier(model: nn.Module) -> Any:
    body = model.body
    N = getattr(body, "N", None) or int(round((model.head.in_features // int(model.pad.c)) ** 0.5))
    mods = [model.norm, model.pad] + (list(body) if isinstance(body, nn.ModuleList) else [body])
    st = _stages(mods + [nn.Flatten(), model.head], N)
    return _pl.Pipeline(tuple(st), (int(model.pad.c_in), N, N))


# ----------------------------------------------------------------------------------------------
# the verb
# ----------------------------------------------------------------------------------------------

def to_deqtheory(module: Any, *, N: Optional[int] = None) -> Any:
    """The :mod:`deqtheory` object of a torch layer, layer list or classifier (module docstring table);
    ``N``: the grid of convolutional modules that work on any grid (ConvMonDEQ, SLLConv2d, CPLConv2d,
    AOLConv2d).
    Every array is a float64 copy; ``formats.save_model(path, to_deqtheory(module))`` writes it."""

    m = getattr(module, "module", module)       # DDP / DataParallel
    if isinstance(m, LBENWeight):
        raise DomainError("module: the LBEN parameters include the layer's G and U; export the LBENLayer")
    if isinstance(m, _WeightBase):
        return _params(m)
    if isinstance(m, DenseDEQLayer):
        return _dense_layer(m, readout=m.G is not None)
    if isinstance(m, (SLLLinear, CPLLinear, SLLConv2d, CPLConv2d)):
        return _residual_stack([m], N)
    if isinstance(m, (list, tuple, nn.ModuleList)):
        return _residual_stack(list(m), N)
    if isinstance(m, AOLMLP):
        return _aol(m)
    if isinstance(m, AOLConv2d):
        return _conv_aol(m, N)
    if isinstance(m, SandwichMLP):
        return _sandwich(m)
    if isinstance(m, ConvMonDEQ):
        return _conv_mondeq(m, N)
    if isinstance(m, (ConvLBEN, ConvDAGLBEN)):
        return _conv_lben(m)
    if isinstance(m, ConvIBPMonDEQ):
        return _conv_ibp_mondeq(m)
    if isinstance(m, ConvNEMON):
        return _conv_nemon(m)
    if isinstance(m, ConvCerDEQ):
        return _conv_cerdeq(m)
    if all(hasattr(m, a) for a in ("norm", "pad", "body", "head")):
        return _conv_classifier(m)
    if hasattr(m, "certify_blocks"):
        return _pl.Pipeline(tuple(_stages(_flat(m.certify_blocks()), N)))
    if isinstance(m, nn.Sequential):
        return _pl.Pipeline(tuple(_stages(_flat(list(m)), N)))
    raise DomainError(f"module: no deqtheory export for {type(m).__name__}")
