r"""Model files for every family: one ``kind`` per family, ``.npz`` without pickles (docs/formats.md).

:func:`save_model` writes a model object, :func:`read_model` reads it back as an object,
:func:`load_model` materializes *any* supported file as DEQ arrays
``{"kind", "W", "U", "b", "G", "b_y", "identity_mask"}`` (used by ``deqtheory check``), and
:func:`evaluate` runs a model on a batch of inputs (explicit nets directly; DEQs by a fixed-point
solve whose residual and status are returned); :func:`to_lben` converts a read model to LBEN.

Every kind is dispatched through **one table** (:data:`TABLE`: kind → :class:`KindSpec` with its
object type, writer, reader, materializer, evaluator and LBEN conversion). Kinds (keys:
docs/formats.md): ``deq``, the dense families ``mondeq``, ``lipmondeq``, ``gmondeq``, ``lben``,
``ibp_mondeq``, ``ibp_mondeq_gamma``, ``noneuclidean``, ``cerdeq``; the explicit nets ``sll``, ``cpl``,
``aol``, ``sandwich``; the convolutional ``conv_sll``, ``conv_cpl``, ``conv_aol``, ``conv_lben``, ``conv_mondeq``, ``conv_ibp_mondeq``,
``conv_ibp_mondeq_gamma``, ``conv_noneuclidean``, ``conv_kernel_deq``; and
``classifier`` (:class:`deqtheory.pipeline.Pipeline`: pre-stages, one model stage, head). Layer lists
are stored with indexed keys (``W_0``, ``W_1``, …) and a scalar ``depth``; complex frequency blocks as
``<name>_re`` / ``<name>_im``; the stages of a classifier under ``s<i>/`` with their own ``kind``.
Missing keys raise :class:`deqtheory.errors.ModelFileError` naming the file, the kind and the key.
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np

from . import convert as _cv
from . import explicit as _ex
from . import explicit_conv as _ec
from . import parametrizations as _dp
from . import pipeline as _pl
from ._validate import as_matrix, as_positive_diagonal, as_scalar, as_vector
from .errors import DEQInputError, DomainError, DTypeError, ModelFileError, NonFiniteError, ShapeError
from .io import MAX_ARRAY_ELEMENTS, load_npz, save_npz
from .model import dimension
from .parametrizations.lben import LBEN, LBENParams
from .solvers import SolverStatus

__all__ = ["KINDS", "TABLE", "deq_arrays", "KindSpec", "FamilyNet", "MonDEQNet", "GMonDEQNet", "LBENNet", "ConvMonDEQNet",
           "ConvIBPMonDEQNet", "ConvNonEuclideanNet", "ConvKernelDEQNet",
           "save_model", "read_model", "load_model", "stored_rounding", "kernel_rounding", "evaluate", "to_lben", "kind_of", "MAX_DENSE_N"]

#: largest state dimension that :func:`load_model` materializes densely for convolutional kinds
MAX_DENSE_N = 4096

_TRAINING_HINT = ("a deqtheory-train model file (arrays '__meta__', 'model/...'), not a deqtheory model file; "
                  "run `deqtheory-train export RUN/model.npz -o model.npz` first (deqtheory cannot import torch)")


# ----------------------------------------------------------------------------------------------
# file contents of the dense families
# ----------------------------------------------------------------------------------------------

#: kind → (family class, names of its hyper-parameters); the parameters are the family's params dataclass
_FAMILIES: Dict[str, Tuple[type, Tuple[str, ...]]] = {
    "mondeq": (_dp.MonDEQ, ("m",)),
    "lipmondeq": (_dp.MonDEQ, ("m",)),
    "gmondeq": (_dp.GMonDEQ, ("m",)),
    "ibp_mondeq": (_dp.IBPMonDEQ, ("m",)),
    "ibp_mondeq_gamma": (_dp.IBPMonDEQGamma, ("m", "gamma")),
    "noneuclidean": (_dp.NonEuclidean, ("gamma",)),
    "cerdeq": (_dp.CerDEQ, ("n_iter",)),
}


@dataclasses.dataclass(frozen=True, eq=False)
class FamilyNet:
    r"""A dense DEQ stored by a family's free parameters (docs/parametrizations.md):
    :math:`W = \mathrm{diag}(s)\,\mathrm{family}(\mathrm{params})`, :math:`U_{\rm eff} = \mathrm{diag}(s)U`,
    ``y = Gz + b_y`` (``G=None`` = identity). ``scale`` ``s`` (n,) > 0 is CerDEQ's BN replacement
    (li2022 §3.5; ``None`` = 1); ``lip`` (``lipmondeq`` only) is the claimed bound ``‖U‖₂ ≤ lip·m``.
    Field names of ``params`` and the family's hyper-parameters are also attributes (``net.A``, ``net.m``)."""

    family: _dp.Parametrization
    params: _dp.Params
    U: np.ndarray
    G: Optional[np.ndarray] = None
    b: Optional[np.ndarray] = None
    b_y: Optional[np.ndarray] = None
    scale: Optional[np.ndarray] = None
    lip: Optional[float] = None

    def __post_init__(self) -> None:
        n = self.family.forward(self.params).shape[0]
        object.__setattr__(self, "U", as_matrix("U", self.U, shape=(n, None)))
        if self.G is not None:
            object.__setattr__(self, "G", as_matrix("G", self.G, shape=(None, n)))
        if self.b is not None:
            object.__setattr__(self, "b", as_vector("b", self.b, n=n))
        if self.b_y is not None:
            object.__setattr__(self, "b_y", as_vector("b_y", self.b_y, n=n if self.G is None else self.G.shape[0]))
        if self.scale is not None:
            object.__setattr__(self, "scale", as_positive_diagonal("scale", self.scale, n=n))
        if self.lip is not None:
            object.__setattr__(self, "lip", as_scalar("lip", self.lip, positive=True))

    def __getattr__(self, name: str) -> Any:
        if name in ("family", "params") or name.startswith("__"):
            raise AttributeError(name)
        if hasattr(self.params, name):
            return getattr(self.params, name)
        if hasattr(self.family, name):
            return getattr(self.family, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def kind(self) -> str:
        return "lipmondeq" if self.lip is not None else self.family.family

    def W(self) -> np.ndarray:
        W = self.family.forward(self.params)
        return W if self.scale is None else self.scale[:, None] * W

    def U_eff(self) -> np.ndarray:
        return self.U if self.scale is None else self.scale[:, None] * self.U


class MonDEQNet(FamilyNet):
    """MonDEQ file content (havens2023 eq. 5): ``W = (1−m)I − AᵀA + B − Bᵀ``; with ``lip`` the kind
    ``lipmondeq`` (pabbaraju2021: ``‖U‖₂ ≤ lip·m``, so x ↦ z is ``lip``-Lipschitz)."""

    def __init__(self, A: Any, B: Any, m: float, U: Any, G: Any = None, b: Any = None, b_y: Any = None, *,
                 lip: Optional[float] = None) -> None:
        super().__init__(_dp.MonDEQ(m=m), _dp.MonDEQParams(A=A, B=B), U, G, b, b_y, lip=lip)


class GMonDEQNet(FamilyNet):
    """G-MonDEQ file content (havens2023 eq. 6): ``W = I − Φ(AᵀA + Bᵀ − B + mI)``, Φ = exp(log_phi)."""

    def __init__(self, A: Any, B: Any, log_phi: Any, m: float, U: Any, G: Any = None, b: Any = None,
                 b_y: Any = None) -> None:
        super().__init__(_dp.GMonDEQ(m=m), _dp.GMonDEQParams(A=A, B=B, log_phi=log_phi), U, G, b, b_y)


@dataclasses.dataclass(frozen=True, eq=False)
class LBENNet:
    """LBEN file content (havens2023 eq. 7): parameters, biases, identity mask, and (optional) the
    certified constant ``L_certified`` and layer ``blocks`` recorded by a conversion."""

    params: LBENParams
    L: float
    eps: float
    b: Optional[np.ndarray] = None
    b_y: Optional[np.ndarray] = None
    identity_mask: Optional[np.ndarray] = None
    L_certified: Optional[float] = None
    blocks: Optional[np.ndarray] = None
    source: str = ""

    @property
    def family(self) -> LBEN:
        """The :class:`~deqtheory.parametrizations.LBEN` family (L, ε) of the stored parameters."""
        return LBEN(L=self.L, eps=self.eps)

    def W(self) -> np.ndarray:
        return self.family.forward(self.params)


@dataclasses.dataclass(frozen=True, eq=False)
class ConvMonDEQNet:
    r"""Convolutional MonDEQ on an ``N × N`` grid (Winston & Kolter 2020 §5; havens2023 eq. 5 with
    circular convolutions, :func:`deqtheory.circulant.conv2d_circular` convention):
    :math:`W = (1-m)I - \mathcal A^\top\mathcal A + \mathcal B - \mathcal B^\top`, ``A`` (c_a, c, k, k),
    ``B`` (c, c, k, k), ``U`` (c, c_in, k, k), per-channel bias ``b`` (c,); ``z = ReLU(Wz + Ux + b)`` is
    the output (no readout)."""

    A: np.ndarray
    B: np.ndarray
    U: np.ndarray
    b: np.ndarray
    m: float
    N: int

    def __post_init__(self) -> None:
        from ._validate import as_array

        N = int(as_scalar("N", self.N, positive=True))
        B = as_array("B", self.B, ndim=4)
        c = B.shape[0]
        if B.shape[1] != c:
            raise ShapeError(f"B: expected (c, c, k, k), got {B.shape}")
        A, U = as_array("A", self.A, ndim=4), as_array("U", self.U, ndim=4)
        if A.shape[1] != c or U.shape[0] != c:
            raise ShapeError(f"A, U: expected (c_a, {c}, k, k) and ({c}, c_in, k, k), got {A.shape}, {U.shape}")
        for name, v in (("A", A), ("B", B), ("U", U)):
            object.__setattr__(self, name, v)
        object.__setattr__(self, "b", as_vector("b", self.b, n=c))
        object.__setattr__(self, "m", as_scalar("m", self.m, positive=True))
        object.__setattr__(self, "N", N)

    c = dimension("B", 0, "State channels.")
    c_in = dimension("U", 1, "Input channels.")

    def dense(self) -> Dict[str, Any]:
        """``W, U, b`` of the materialized DEQ (channel-major vectors) via
        :func:`deqtheory.circulant.conv_matrix`; ``G``, ``b_y`` = identity / zeros."""
        from .circulant import conv_matrix

        MA, MB = conv_matrix(self.A, self.N), conv_matrix(self.B, self.N)
        n = MB.shape[0]
        W = (1.0 - self.m) * np.eye(n) - MA.T @ MA + MB - MB.T
        return {"W": W, "U": conv_matrix(self.U, self.N), "b": np.repeat(self.b, self.N * self.N), "G": None,
                "b_y": None, "identity_mask": None}


def _conv_state(net: Any, kname: str) -> Tuple[int, np.ndarray, np.ndarray]:
    """Validate the grid ``N``, the square-channel state kernel ``kname`` (c, c, k, k) and the injection
    kernel ``U`` (c, c_in, kU, kU) of a circular-conv DEQ (k, kU ≤ N); returns ``(N, K, U)``."""
    from ._validate import as_array
    from .circulant import _as_grid, _as_kernel

    N = _as_grid("N", net.N)
    K = _as_kernel(kname, as_array(kname, getattr(net, kname), ndim=4), N)
    c = K.shape[0]
    if K.shape[1] != c:
        raise ShapeError(f"{kname}: expected (c, c, k, k), got {K.shape}")
    U = _as_kernel("U", as_array("U", net.U, ndim=4), N)
    if U.shape[0] != c:
        raise ShapeError(f"U: expected ({c}, c_in, k, k) for {kname} of shape {K.shape}, got {U.shape}")
    return N, K, U


class _ConvKernelDEQ:
    """``z = ReLU(W ⋆ z + U ⋆ x + b)`` with circular convolutions on the N × N grid, W from a kernel
    parametrization (``family``, ``params``): the shared :meth:`W_kernel` and :meth:`dense`."""

    def W_kernel(self) -> np.ndarray:
        """The W kernel (c, c, k, k) by the family's float64 formula on the stored parameters (every
        certificate is proved on exactly this kernel)."""
        return self.family.forward(self.params)

    def dense(self) -> Dict[str, Any]:
        """``W, U, b`` of the materialized DEQ (channel-major vectors) via
        :func:`deqtheory.circulant.conv_matrix`; ``G``, ``b_y`` = identity / zeros. Small grids only
        (:data:`MAX_DENSE_N` is enforced by :func:`load_model`)."""
        from .circulant import conv_matrix

        return {"W": conv_matrix(self.W_kernel(), self.N), "U": conv_matrix(self.U, self.N),
                "b": np.repeat(self.b, self.N * self.N), "G": None, "b_y": None, "identity_mask": None}


@dataclasses.dataclass(frozen=True, eq=False)
class ConvIBPMonDEQNet(_ConvKernelDEQ):
    r"""Convolutional IBP-MonDEQ on an ``N × N`` grid (wei2022 eq. 3.4 / 3.7 with per-channel D and
    margin m, §4; :mod:`deqtheory.conv_ibp`): ``M`` (c, c, k, k), ``log_slack`` (c,), ``U`` (c, c_in, kU, kU),
    per-channel bias ``b`` (c,), circular convolutions (:func:`deqtheory.circulant.conv2d_circular`);
    ``z = ReLU(Wz + Ux + b)`` is the output (no readout). ``beta`` (c,) given: the Γ-variant
    (:class:`~deqtheory.conv_ibp.ConvIBPMonDEQGamma` with ``gamma``; ``gamma=None``: Γ = exp(β));
    ``gamma`` without ``beta`` is refused. Kernels larger than the grid raise ``ShapeError``."""

    M: np.ndarray
    log_slack: np.ndarray
    U: np.ndarray
    b: np.ndarray
    m: float
    N: int
    beta: Optional[np.ndarray] = None
    gamma: Optional[float] = None

    def __post_init__(self) -> None:
        N, M, U = _conv_state(self, "M")
        c = M.shape[0]
        if self.beta is None and self.gamma is not None:
            raise DomainError("gamma: given without beta (gamma belongs to the Gamma-variant, "
                              "kind conv_ibp_mondeq_gamma)")
        object.__setattr__(self, "M", M)
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "N", N)
        for name in ("log_slack", "b") + (() if self.beta is None else ("beta",)):
            object.__setattr__(self, name, as_vector(name, getattr(self, name), n=c))
        object.__setattr__(self, "m", self.family.m)
        object.__setattr__(self, "gamma", getattr(self.family, "gamma", None))

    c = dimension("M", 0, "State channels.")
    c_in = dimension("U", 1, "Input channels.")

    @property
    def kind(self) -> str:
        return "conv_ibp_mondeq" if self.beta is None else "conv_ibp_mondeq_gamma"

    @property
    def family(self) -> Any:
        """The parametrization of the stored parameters (:class:`~deqtheory.conv_ibp.ConvIBPMonDEQ`, or the
        Γ-variant when ``beta`` is set)."""
        from . import conv_ibp

        if self.beta is None:
            return conv_ibp.ConvIBPMonDEQ(m=self.m)
        return conv_ibp.ConvIBPMonDEQGamma(m=self.m, gamma=self.gamma)

    @property
    def params(self) -> Any:
        from . import conv_ibp

        if self.beta is None:
            return conv_ibp.ConvIBPMonDEQParams(M=self.M, log_slack=self.log_slack)
        return conv_ibp.ConvIBPMonDEQGammaParams(M=self.M, log_slack=self.log_slack, beta=self.beta)


@dataclasses.dataclass(frozen=True, eq=False)
class ConvNonEuclideanNet(_ConvKernelDEQ):
    r"""Convolutional non-Euclidean DEQ (NEMON) on an ``N × N`` grid (jafarpour2022 eq. 12, corrected, with a
    conv T and per-channel η; :mod:`deqtheory.conv_nemon`): ``T`` (c, c, k, k), ``log_eta`` (c,), ``U``
    (c, c_in, kU, kU), per-channel bias ``b`` (c,), ``gamma`` < 1; circular convolutions,
    ``z = ReLU(Wz + Ux + b)`` is the output (no readout). Kind ``conv_noneuclidean``."""

    T: np.ndarray
    log_eta: np.ndarray
    U: np.ndarray
    b: np.ndarray
    gamma: float
    N: int

    kind = "conv_noneuclidean"

    def __post_init__(self) -> None:
        N, T, U = _conv_state(self, "T")
        for name, v in (("T", T), ("U", U), ("N", N)):
            object.__setattr__(self, name, v)
        for name in ("log_eta", "b"):
            object.__setattr__(self, name, as_vector(name, getattr(self, name), n=T.shape[0]))
        object.__setattr__(self, "gamma", self.family.gamma)

    c = dimension("T", 0, "State channels.")
    c_in = dimension("U", 1, "Input channels.")

    @property
    def eta(self) -> np.ndarray:
        return np.exp(self.log_eta)

    @property
    def family(self) -> Any:
        """:class:`~deqtheory.conv_nemon.ConvNonEuclidean` with the stored γ (``DomainError`` for γ ≥ 1)."""
        from .conv_nemon import ConvNonEuclidean

        return ConvNonEuclidean(gamma=self.gamma)

    @property
    def params(self) -> Any:
        from .conv_nemon import ConvNonEuclideanParams

        return ConvNonEuclideanParams(T=self.T, log_eta=self.log_eta)


@dataclasses.dataclass(frozen=True, eq=False)
class ConvKernelDEQNet(_ConvKernelDEQ):
    r"""A circular-convolution DEQ stored by its **computed** kernels: ``K`` (c, c, k, k) the W kernel, ``U``
    (c, c_in, kU, kU), per-channel bias ``b`` (c,), grid ``N``; ``z = ReLU(K ⋆ z + U ⋆ x + b)`` is the output.
    For any conv DEQ whose kernel comes from a float algorithm that defines no exact model (li2022's
    Björck-orthogonalised conv CerDEQ: :class:`deqtheory_train.layers.conv_cerdeq.ConvCerDEQ`): the stored
    float64 kernel *is* the model, and its well-posedness is **checked** (``deqtheory check``:
    :func:`deqtheory.conv_ibp.conv_abs_contraction` / ``conv_ibp_margin`` on K), never guaranteed by
    construction. ``provenance``: free text (JSON) saying how K was computed; no proof reads it.
    Kind ``conv_kernel_deq``."""

    K: np.ndarray
    U: np.ndarray
    b: np.ndarray
    N: int
    provenance: str = ""

    kind = "conv_kernel_deq"

    def __post_init__(self) -> None:
        N, K, U = _conv_state(self, "K")
        for name, v in (("K", K), ("U", U), ("N", N)):
            object.__setattr__(self, name, v)
        object.__setattr__(self, "b", as_vector("b", self.b, n=K.shape[0]))
        if not isinstance(self.provenance, str):
            raise DomainError(f"provenance: expected a string, got {type(self.provenance).__name__}")

    c = dimension("K", 0, "State channels.")
    c_in = dimension("U", 1, "Input channels.")

    def W_kernel(self) -> np.ndarray:
        """The stored W kernel (every certificate is proved on exactly this array)."""
        return self.K


# ----------------------------------------------------------------------------------------------
# file views
# ----------------------------------------------------------------------------------------------

class _File:
    """The arrays of a file (or of one stage of a ``classifier`` file, keys under ``prefix``)."""

    def __init__(self, path: str, data: Dict[str, Any], kind: str, prefix: str = ""):
        self.path, self.data, self.kind, self.prefix = path, data, kind, prefix

    @classmethod
    def open(cls, path: "str | os.PathLike[str]") -> "_File":
        p = os.fspath(path)
        data = load_npz(p)
        if "__meta__" in data or any(k.startswith("model/") for k in data):
            raise ModelFileError(f"{p}: {_TRAINING_HINT}")
        f = cls(p, data, "")
        f.kind = f.kind_at("")
        return f

    def kind_at(self, prefix: str) -> str:
        kind = self.data.get(prefix + "kind", "deq")
        if not isinstance(kind, str) or kind not in TABLE or (TABLE[kind].stage and not prefix):
            raise ModelFileError(f"{self.path}: unknown kind {kind!r} at {prefix + 'kind'!r}; expected one of {KINDS}")
        return kind

    def sub(self, prefix: str) -> "_File":
        full = self.prefix + prefix
        return _File(self.path, self.data, self.kind_at(full), full)

    def has(self, key: str) -> bool:
        return self.prefix + key in self.data

    def req(self, key: str) -> Any:
        """The numeric array ``key`` (text members are refused: a model array is never a string)."""
        v = self._get(key)
        if isinstance(v, (str, list)):
            raise DTypeError(f"{self.path}:{self.prefix + key}: expected a numeric array, got text {v!r:.60}")
        return v

    def _get(self, key: str) -> Any:
        k = self.prefix + key
        if k not in self.data:
            raise ModelFileError(f"{self.path}: kind {self.kind!r} needs array {k!r}; found {sorted(self.data)}")
        return self.data[k]

    def opt(self, key: str) -> Any:
        return self.req(key) if self.has(key) else None

    def scalar(self, key: str, integer: bool = False) -> Any:
        """One finite real number (``integer``: a non-negative integer); typed errors name ``file:key``."""
        f = as_scalar(f"{self.path}:{self.prefix + key}", self.req(key))   # finite, real, one element
        if integer:
            if f != int(f) or f < 0:
                raise ModelFileError(f"{self.path}:{self.prefix + key}: expected a non-negative integer, got {f}")
            return int(f)
        return f

    def grid_n(self) -> int:
        """The grid size ``N`` of a conv kind, refused (before any layer is built) when a per-frequency
        array :math:`c_{out} c_{in} N^2` (channels from the file's 4-d kernels / ``channels``) would
        exceed :data:`deqtheory.io.MAX_ARRAY_ELEMENTS` elements."""
        N = self.scalar("N", integer=True)
        ch = [int(np.prod(np.shape(v)[:2])) for k, v in self.data.items()
              if k.startswith(self.prefix) and np.ndim(v) == 4]
        if self.has("channels"):
            c = [int(x) for x in np.asarray(self.req("channels")).reshape(-1)]
            ch.append(max(c) ** 2 if c else 1)
        per = max(ch + [1]) * N * N
        if per > MAX_ARRAY_ELEMENTS:
            raise DomainError(f"{self.path}:{self.prefix}N: grid N = {N} needs arrays of {per} elements, above the "
                              f"limit of {MAX_ARRAY_ELEMENTS} (io.MAX_ARRAY_ELEMENTS); refused before allocating")
        return N

    def opt_scalar(self, key: str) -> Optional[float]:
        return self.scalar(key) if self.has(key) else None

    def text(self, key: str) -> str:
        v = self._get(key) if self.has(key) else None
        return v if isinstance(v, str) else ""

    def cplx(self, key: str) -> np.ndarray:
        return np.asarray(self.req(key + "_re")) + 1j * np.asarray(self.req(key + "_im"))

    def mask(self, key: str = "identity_mask") -> Optional[np.ndarray]:
        v = self.opt(key)
        if v is None:
            return None
        v = np.asarray(v)
        if not np.all((v == 0) | (v == 1)):
            raise ModelFileError(f"{self.path}:{self.prefix + key}: expected booleans (0/1), shape {v.shape}")
        return v.astype(bool)

    def indexed(self, key: str, depth: int, optional: bool = False) -> tuple:
        get = self.opt if optional else self.req
        return tuple(get(f"{key}_{i}") for i in range(depth))


def _f(x: Any) -> np.ndarray:
    return np.asarray(float(x))


def _ri(prefix: str, A: np.ndarray, out: Dict[str, Any]) -> None:
    out[prefix + "_re"] = np.ascontiguousarray(A.real)
    out[prefix + "_im"] = np.ascontiguousarray(A.imag)


def _indexed_out(out: Dict[str, Any], **lists: Any) -> Dict[str, Any]:
    depth = {len(v) for v in lists.values()}
    out["depth"] = np.asarray(depth.pop() if depth else 0)
    for key, vals in lists.items():
        for i, v in enumerate(vals):
            out[f"{key}_{i}"] = v
    return out


# ----------------------------------------------------------------------------------------------
# writers / readers, one pair per kind
# ----------------------------------------------------------------------------------------------

def _w_deq(m: Any) -> Dict[str, Any]:
    out = dict(W=m.W, U=m.U, b=m.b, G=m.G, b_y=m.b_y)
    if m.identity_mask.any():
        out["identity_mask"] = m.identity_mask
    return out


def _r_deq(f: _File) -> Any:
    from .model import DEQ

    return DEQ(f.req("W"), f.opt("U"), f.opt("b"), f.opt("G"), f.opt("b_y"), identity_mask=f.mask())


def _w_family(m: FamilyNet) -> Dict[str, Any]:
    _, hyper = _FAMILIES[m.kind]
    out: Dict[str, Any] = dict(m.params.arrays())
    for h in hyper:
        v = getattr(m.family, h)
        if v is not None:
            out[h] = _f(v)
    out.update(U=m.U, G=m.G, b=m.b, b_y=m.b_y, scale=m.scale, lip=None if m.lip is None else _f(m.lip))
    return out


def _r_family(f: _File) -> FamilyNet:
    fam_cls, hyper = _FAMILIES[f.kind]
    params = fam_cls.params_type(**{fl.name: f.req(fl.name) for fl in dataclasses.fields(fam_cls.params_type)})
    # n_iter is an integer; IBP-MonDEQ-Γ without gamma is the plain Thm 3.3 Γ = exp(β)
    kw = {h: f.scalar(h, integer=True) if h == "n_iter" else
          (f.opt_scalar(h) if f.kind == "ibp_mondeq_gamma" and h == "gamma" else f.scalar(h)) for h in hyper}
    fam = fam_cls(**kw)
    lip = f.scalar("lip") if f.kind == "lipmondeq" else None
    return FamilyNet(fam, params, f.req("U"), f.opt("G"), f.opt("b"), f.opt("b_y"), scale=f.opt("scale"), lip=lip)


def _w_lben(m: Any) -> Dict[str, Any]:
    if isinstance(m, _cv.Conversion):
        m = LBENNet(m.params, m.L, m.eps, m.b, m.b_y, m.identity_mask, m.L_certified,
                    None if m.blocks is None else np.asarray(m.blocks), m.source)
    p = m.params
    out = dict(log_psi=p.log_psi, G=p.G, U=p.U, V=p.V, S=p.S, L=_f(m.L), eps=_f(m.eps), b=m.b, b_y=m.b_y)
    if m.identity_mask is not None and np.any(m.identity_mask):
        out["identity_mask"] = np.asarray(m.identity_mask, bool)
    if m.L_certified is not None:
        out["L_certified"] = _f(m.L_certified)
    if m.blocks is not None:
        out["blocks"] = np.asarray(m.blocks, dtype=np.int64)
    if m.source:
        out["source"] = np.asarray(m.source)
    return out


def _r_lben(f: _File) -> LBENNet:
    params = LBENParams(log_psi=f.req("log_psi"), G=f.req("G"), U=f.req("U"), V=f.req("V"), S=f.req("S"))
    return LBENNet(params, f.scalar("L"), f.scalar("eps"), f.opt("b"), f.opt("b_y"), f.mask(),
                   f.opt_scalar("L_certified"), f.opt("blocks"), f.text("source"))


def _w_residual(m: Any) -> Dict[str, Any]:
    return _indexed_out({}, W=[l.W for l in m.layers], T=[l.T for l in m.layers], b=[l.b for l in m.layers])


def _r_residual(f: _File) -> Any:
    d = f.scalar("depth", integer=True)
    return _ex.ResidualStack(tuple(_ex.ResidualLayer(W, T, b, kind=f.kind) for W, T, b in
                                   zip(f.indexed("W", d), f.indexed("T", d), f.indexed("b", d, optional=True))))


def _w_aol(m: Any) -> Dict[str, Any]:
    return {**_indexed_out({}, W=m.weights, b=m.biases), "W_out": m.out_weight, "b_out": m.out_bias}


def _r_aol(f: _File) -> Any:
    d = f.scalar("depth", integer=True)
    return _ex.AOLNet(f.indexed("W", d), f.indexed("b", d), f.req("W_out"), f.opt("b_out"))


def _w_sandwich(m: Any) -> Dict[str, Any]:
    out = _indexed_out({}, A=m.A, B=m.B, phi=m.phi, b=m.b)
    return {**out, "B_out": m.B_out, "b_out": m.b_out, "L": _f(m.L)}


def _r_sandwich(f: _File) -> Any:
    d = f.scalar("depth", integer=True)
    return _ex.SandwichNet(f.indexed("A", d), f.indexed("B", d), f.indexed("phi", d), f.indexed("b", d),
                           f.req("B_out"), f.opt("b_out"), L=f.scalar("L"))


def _w_conv_residual(m: Any) -> Dict[str, Any]:
    out = _indexed_out({}, K=[l.K for l in m.layers], T=[l.T for l in m.layers], b=[l.b for l in m.layers])
    return {**out, "N": np.asarray(m.N)}


def _r_conv_residual(f: _File) -> Any:
    d, N = f.scalar("depth", integer=True), f.grid_n()
    return _ec.ConvResidualStack(tuple(_ec.ConvResidualLayer(K, T, b, N, kind=f.kind[5:]) for K, T, b in
                                       zip(f.indexed("K", d), f.indexed("T", d), f.indexed("b", d, optional=True))))


def _w_conv_aol(m: Any) -> Dict[str, Any]:
    return {"K": m.K, "b": m.b, "N": np.asarray(m.N)}


def _r_conv_aol(f: _File) -> Any:
    return _ec.ConvAOLLayer(f.req("K"), f.opt("b"), f.grid_n())


def _w_conv_lben(m: Any) -> Dict[str, Any]:
    out = dict(N=np.asarray(m.N), channels=np.asarray(m.channels, dtype=np.int64), log_psi=m.log_psi, b=m.b,
               b_y=m.b_y, identity_mask=np.asarray(m.identity_mask, bool), L=_f(m.L), eps=_f(m.eps))
    for name in ("V_hat", "S_hat", "G_hat", "U_hat"):
        _ri(name, getattr(m, name), out)
    if m.support is not None:
        out["support"] = np.asarray(m.support, bool)
    if m.kernel_sizes:
        out["kernel_sizes"] = np.asarray(m.kernel_sizes, dtype=np.int64)
    return out


def _r_conv_lben(f: _File) -> Any:
    ks = f.opt("kernel_sizes")
    m = _cv.ConvLBEN(N=f.grid_n(), channels=tuple(int(c) for c in np.asarray(f.req("channels")).reshape(-1)),
                     log_psi=f.req("log_psi"), V_hat=f.cplx("V_hat"), S_hat=f.cplx("S_hat"), G_hat=f.cplx("G_hat"),
                     U_hat=f.cplx("U_hat"), b=f.req("b"), b_y=f.req("b_y"), identity_mask=f.mask(),
                     L=f.scalar("L"), eps=f.scalar("eps"), support=f.mask("support"),
                     kernel_sizes=() if ks is None else tuple(tuple(int(v) for v in r) for r in np.asarray(ks).reshape(-1, 2)))
    C, N = m.C, m.N
    for name, shp in (("V_hat", (N, N, None, C)), ("S_hat", (N, N, C, C)), ("G_hat", (N, N, None, C)),
                      ("U_hat", (N, N, C, None))):
        a = getattr(m, name)
        if a.ndim != 4 or any(s is not None and a.shape[i] != s for i, s in enumerate(shp)):
            raise ShapeError(f"{f.path}:{f.prefix}{name}: expected shape {shp} (None = any), got {a.shape}")
    if m.identity_mask is None or m.identity_mask.shape != (C,) or m.b.shape != (C,) or m.log_psi.shape != (C,):
        raise ShapeError(f"{f.path}: {f.prefix}identity_mask, b, log_psi must have shape ({C},)")
    return m


def _w_conv_mondeq(m: ConvMonDEQNet) -> Dict[str, Any]:
    return dict(A=m.A, B=m.B, U=m.U, b=m.b, m=_f(m.m), N=np.asarray(m.N))


def _r_conv_mondeq(f: _File) -> ConvMonDEQNet:
    return ConvMonDEQNet(f.req("A"), f.req("B"), f.req("U"), f.req("b"), f.scalar("m"), f.grid_n())


def _w_conv_ibp(m: ConvIBPMonDEQNet) -> Dict[str, Any]:
    out = dict(M=m.M, log_slack=m.log_slack, U=m.U, b=m.b, m=_f(m.m), N=np.asarray(m.N))
    if m.beta is not None:
        out["beta"] = m.beta
        if m.gamma is not None:
            out["gamma"] = _f(m.gamma)
    return out


def _w_conv_nemon(m: ConvNonEuclideanNet) -> Dict[str, Any]:
    return dict(T=m.T, log_eta=m.log_eta, U=m.U, b=m.b, gamma=_f(m.gamma), N=np.asarray(m.N))


def _r_conv_nemon(f: _File) -> ConvNonEuclideanNet:
    return ConvNonEuclideanNet(f.req("T"), f.req("log_eta"), f.req("U"), f.req("b"), f.scalar("gamma"), f.grid_n())


def _w_conv_kernel(m: ConvKernelDEQNet) -> Dict[str, Any]:
    return dict(K=m.K, U=m.U, b=m.b, N=np.asarray(m.N), provenance=np.asarray(m.provenance))


def _r_conv_kernel(f: _File) -> ConvKernelDEQNet:
    return ConvKernelDEQNet(f.req("K"), f.req("U"), f.req("b"), f.grid_n(), provenance=f.text("provenance"))


def _r_conv_ibp(f: _File) -> ConvIBPMonDEQNet:
    gam = f.kind == "conv_ibp_mondeq_gamma"
    return ConvIBPMonDEQNet(f.req("M"), f.req("log_slack"), f.req("U"), f.req("b"), f.scalar("m"), f.grid_n(),
                            beta=f.req("beta") if gam else None, gamma=f.opt_scalar("gamma") if gam else None)


def _w_pipeline(m: "_pl.Pipeline") -> Dict[str, Any]:
    out: Dict[str, Any] = {"depth": np.asarray(len(m.stages))}
    if m.input_shape is not None:
        out["input_shape"] = np.asarray(m.input_shape, dtype=np.int64)
    for i, st in enumerate(m.stages):
        k = kind_of(st)
        if k == "classifier":
            raise DomainError(f"stages[{i}]: a classifier cannot be nested in a classifier")
        out[f"s{i}/kind"] = np.asarray(k)
        for key, v in TABLE[k].write(st).items():
            out[f"s{i}/{key}"] = v
    return out


def _r_pipeline(f: _File) -> "_pl.Pipeline":
    d = f.scalar("depth", integer=True)
    shp = f.opt("input_shape")
    stages = []
    for i in range(d):
        g = f.sub(f"s{i}/")
        stages.append(TABLE[g.kind].read(g))
    return _pl.Pipeline(tuple(stages), None if shp is None else tuple(int(s) for s in np.asarray(shp).reshape(-1)))


def _w_stage(m: Any) -> Dict[str, Any]:
    return m.arrays()


def _r_stage(cls: type) -> Callable[[_File], Any]:
    return lambda f: cls(**{fl.name: (f.req(fl.name) if fl.default is dataclasses.MISSING else f.opt(fl.name))
                            for fl in dataclasses.fields(cls)})


# ----------------------------------------------------------------------------------------------
# materializers (dense DEQ arrays) and evaluators
# ----------------------------------------------------------------------------------------------

def _form_arrays(form: "_ex.DEQForm") -> Dict[str, Any]:
    return {"W": form.W, "U": form.U, "b": form.b, "G": form.G, "b_y": form.b_y, "identity_mask": form.identity_mask}


def _dense_guard(n: int, path: str) -> None:
    if n > MAX_DENSE_N:
        raise DomainError(f"{path}: convolutional model with state dimension {n} > {MAX_DENSE_N}: dense "
                          f"materialization refused (use a smaller grid, or formats.MAX_DENSE_N)")


def _a_deq(m: Any, path: str) -> Dict[str, Any]:
    return {"W": m.W, "U": m.U, "b": m.b, "G": m.G, "b_y": m.b_y, "identity_mask": m.identity_mask}


def _a_family(m: FamilyNet, path: str) -> Dict[str, Any]:
    W = m.W()
    return {"W": W, "U": m.U_eff(), "b": m.b, "G": m.G, "b_y": m.b_y, "identity_mask": None,
            **stored_rounding(m, W)}


def _a_lben(m: LBENNet, path: str) -> Dict[str, Any]:
    W = m.W()
    return {"W": W, "U": m.params.U, "b": m.b, "G": m.params.G, "b_y": m.b_y, "identity_mask": m.identity_mask,
            **stored_rounding(m, W)}


def stored_rounding(m: Any, W: Optional[np.ndarray] = None) -> Dict[str, Any]:
    r"""``{"W_error", "W_margin", "U_error", "G_error"}`` of a model object: ``U_error`` / ``G_error``
    (:func:`_ug_rounding`) are proved bounds on ‖U_exact − fl(U)‖₂ and ‖G_exact − fl(G)‖₂ for the kinds whose
    U or G is computed from stored arrays (SLL/CPL's G, AOL's first and last scaled weights, Sandwich's
    √(2L) blocks, CerDEQ's row-scaled U), ``0.0`` where U and G are stored arrays. The W part
    (:func:`_w_rounding`): for a parametric model
    (:class:`FamilyNet`, :class:`LBENNet`, :class:`ConvMonDEQNet`) a proved bound on ‖W_exact − fl(W)‖₂ and the
    family's exact monotonicity margin; for the explicit kinds' DEQ embeddings (SLL/CPL, AOL, Sandwich, conv
    SLL/CPL) and the matrix-free conv kinds' dense W a :class:`~deqtheory.conditions_stored.RoundingBound`
    with an entrywise bound (zero on structural zeros; ``inf`` where a step overflowed); for ``conv_lben`` a
    zero bound marked ``unproved`` (inverse FFT: the rows are about the computed W, and say so); ``0.0`` /
    ``None`` for every kind whose W is stored (the stored W is the model).
    ``W``: the computed ``m.W()`` when the caller has it (else it is computed). The one source of these
    numbers: :func:`deq_arrays` (``deqtheory check``) and the certifier of :mod:`deqtheory_train` use it."""
    return {**_stored_w_rounding(m, W), **_ug_rounding(m)}


def _stored_w_rounding(m: Any, W: Optional[np.ndarray]) -> Dict[str, Any]:
    if isinstance(m, FamilyNet):
        return _w_rounding(m.family, m.params, m.W() if W is None else W, m.scale,
                           m.family.m if m.kind in ("mondeq", "lipmondeq") and m.scale is None else None)
    if isinstance(m, LBENNet):
        return _w_rounding(m.family, m.params, m.W() if W is None else W)
    if isinstance(m, ConvMonDEQNet):
        return _conv_mondeq_rounding(m)
    if isinstance(m, _cv.ConvLBEN):
        from .conditions_stored import RoundingBound
        return {"W_error": RoundingBound(0.0, unproved=_CONV_LBEN_UNPROVED), "W_margin": None}
    if isinstance(m, _ConvKernelDEQ):
        E = kernel_rounding(m)
        if E is None:
            return {"W_error": 0.0, "W_margin": None}
        from .circulant import conv_matrix
        return _entrywise_rounding(conv_matrix(E, m.N))     # every entry of the dense W is one tap (k ≤ N)
    for typ, fn in _EXPLICIT_ROUNDING:
        if isinstance(m, typ):
            return _entrywise_rounding(fn(m))
    return {"W_error": 0.0, "W_margin": None}


# ---- the explicit kinds' DEQ embeddings: entrywise bounds on the computed blocks ------------------------
#
# Rounding model (binary64, Higham ch. 3, with underflow): one rounded operation on a real x gives
# x̂ with |x̂ − x| ≤ u|x̂|/(1 − u)·… ≤ γ₁|x̂| + η/2 (η = 2⁻¹⁰⁷⁴). A block fl(X̂Ŷ) of inner dimension k from
# factors X̂, Ŷ that are each one rounding (or exactly) of the real X, Y satisfies, entrywise,
#   |XY − fl(X̂Ŷ)| ≤ |XY − X̂Ŷ| + |X̂Ŷ − fl(X̂Ŷ)| ≤ (2γ₁ + γ₁² + γ_k)|X̂||Ŷ| + η(k + |X̂|𝟙 + 𝟙ᵀ|Ŷ| + 1)/…
#                  ≤ γ_{k+2}|X̂||Ŷ| + η(k + 1 + (|X̂|𝟙)_i + (𝟙ᵀ|Ŷ|)_j)               (_product_entry_error)
# (γ_a + γ_b + γ_aγ_b ≤ γ_{a+b}); the float |X̂||Ŷ| is inflated by INFLATE (≫ its own γ_k rounding).
# Blocks that are stored arrays or structural zeros get 𝓔 = 0 (exact in any arithmetic), so the
# feed-forward structure is proved for the stored model (:mod:`deqtheory.conditions_stored`).

def _product_entry_error(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """𝓔 ≥ |XY − fl(X̂Ŷ)| entrywise (comment above), X̂ = ``X``, Ŷ = ``Y`` as computed."""
    from .verified import INFLATE, _ETA, gamma

    aX, aY = np.abs(X), np.abs(Y)
    k = X.shape[1]
    with np.errstate(over="ignore"):
        E = INFLATE * gamma(k + 2) * (aX @ aY)
        return E + INFLATE * _ETA * ((k + 1) + aX.sum(axis=1)[:, None] + aY.sum(axis=0)[None, :])


def _entrywise_rounding(E: np.ndarray) -> Dict[str, Any]:
    r"""``W_error`` = ‖𝓔‖_F rounded up (≥ ‖E‖₂ for |E| ≤ 𝓔), carrying 𝓔
    (:class:`deqtheory.conditions_stored.RoundingBound`); ``0.0`` when every block is exact."""
    from .conditions_stored import RoundingBound

    E = np.where(np.isnan(E), np.inf, E)          # a step overflowed: unbounded (the rows say so)
    delta = _norm_bound(E)
    return {"W_error": RoundingBound(delta, E) if delta else 0.0, "W_margin": None}


def _norm_bound(E: Optional[np.ndarray]) -> float:
    """‖𝓔‖_F rounded up (≥ ‖E‖₂ for |E| ≤ 𝓔; ``inf`` where a step overflowed); 0.0 for no / a zero bound."""
    from .verified import INFLATE, round_up

    if E is None:
        return 0.0
    E = np.where(np.isnan(E), np.inf, E)
    if not np.any(E):
        return 0.0
    with np.errstate(over="ignore"):
        return round_up(INFLATE * float(np.linalg.norm(E)))


def _one_rounding_error(X: np.ndarray, rounds: int = 1, eta_scale: Any = 1.0) -> np.ndarray:
    r"""𝓔 ≥ |X_exact − X̂| for X̂ = ``X`` computed from stored reals by ``rounds`` rounded operations per entry,
    each multiplicative (X_exact = X̂·Π(1 + δ)^{±1}, |δ| ≤ u) up to underflow: γ_{2·rounds}|X̂| + η·``eta_scale``
    (the underflow terms carried through the later operations), inflated; exact zeros of ``X`` whose
    ``eta_scale`` is 0 stay 0."""
    from .verified import INFLATE, _ETA, gamma

    with np.errstate(over="ignore", invalid="ignore"):
        return INFLATE * (gamma(2 * rounds) * np.abs(X) + _ETA * (1.0 + np.asarray(eta_scale, dtype=float)))


def _ug_rounding(m: Any) -> Dict[str, float]:
    r"""``{"U_error", "G_error"}``: proved bounds on ‖U_exact − fl(U)‖₂, ‖G_exact − fl(G)‖₂ (‖𝓔‖_F rounded up,
    𝓔 entrywise) of the DEQ arrays :func:`deq_arrays` gives, U_exact / G_exact those of the stored model in
    exact arithmetic; ``0.0`` where they are stored arrays or structural zeros / identities.

    * SLL/CPL (dense and conv via ``to_dense``, :func:`deqtheory.explicit.sll_to_deq`): U = [I; 0] exact;
      G's block k is P̂_k = fl((−2W_k)/T_k), one rounding (−2W_k exact): γ₁|P̂| + η/2 ≤ :func:`_one_rounding_error`.
    * AOL (:func:`deqtheory.explicit.aol_to_deq`): U's first block W̃₀D₀ and G's block W̃_lD_l
      (:func:`_aol_weight_error`, which bounds the scaling D too).
    * Sandwich (:func:`deqtheory.explicit.sandwich_to_deq`): U₀ = fl(fl(ŝB₀)/φ₀) with ŝ = fl(√(2L)) (2L exact):
      three multiplicative roundings, underflow η(1 + ŝ/φ_i)·2; G = fl(fl(ŝB_out)Ŷ), Ŷ = fl(A_{N−1}ᵀφ): the
      product bound of :func:`_product_entry_error` with the factor X̂ = fl(ŝB_out) two roundings from
      √(2L)B_out — counted as γ_{k+6}|X̂||Ŷ| (doubled unit count) plus the η terms.
    * CerDEQ's row scale (:class:`FamilyNet` with ``scale``): U = fl(s_iU_ij), one rounding."""
    zero = {"U_error": 0.0, "G_error": 0.0}
    if isinstance(m, _ec.ConvResidualStack):
        m = m.to_dense()
    if isinstance(m, _ex.ResidualStack):
        EG = np.concatenate([_one_rounding_error(-2.0 * l.W / l.T[None, :]) for l in m.layers], axis=1)
        return {"U_error": 0.0, "G_error": _norm_bound(EG)}
    if isinstance(m, _ex.AOLNet):
        return {"U_error": _norm_bound(_aol_weight_error(m.weights[0])), "G_error": _norm_bound(_aol_weight_error(m.out_weight))}
    if isinstance(m, _ex.SandwichNet):
        from .verified import INFLATE, _ETA, gamma

        s = math.sqrt(2 * m.L)
        U0 = s * m.B[0] / m.phi[0][:, None]
        EU = _one_rounding_error(U0, 3, (1.0 + s) / m.phi[0][:, None])
        X, Y = s * m.B_out, m.A[-1].T * m.phi[-1][None, :]
        aX, aY = np.abs(X), np.abs(Y)
        k = X.shape[1]
        with np.errstate(over="ignore", invalid="ignore"):
            EG = INFLATE * (gamma(k + 6) * (aX @ aY) + _ETA * ((k + 1) * (1.0 + s) + aX.sum(axis=1)[:, None]
                                                             + (1.0 + s) * aY.sum(axis=0)[None, :]))
        return {"U_error": _norm_bound(EU), "G_error": _norm_bound(EG)}
    if isinstance(m, _ec.ConvAOLLayer):
        return {"U_error": _norm_bound(_conv_aol_u_error(m)), "G_error": 0.0}
    if isinstance(m, FamilyNet) and m.scale is not None:
        return {"U_error": _norm_bound(_one_rounding_error(m.U_eff()) * (m.U != 0)), "G_error": 0.0}
    return zero


def _sll_entry_error(stack: "_ex.ResidualStack") -> np.ndarray:
    r""":func:`deqtheory.explicit.sll_to_deq`: block (n+1, k+1), k < n, is fl(W_nᵀ P̂_k) with
    P̂_k = fl((−2W_k)/T_k) (one rounding; −2W_k is exact) — the real block is W_nᵀ(−2W_kT_k⁻¹) of the stored
    W, T. Blocks W_nᵀ (stored), the identity-activation rows and everything on or above the block
    diagonal are exact."""
    sizes = [stack.d] + [l.k for l in stack.layers]
    blocks = _ex._blocks_from_sizes(sizes)
    E = np.zeros((blocks[-1][1],) * 2)
    P = [-2.0 * l.W / l.T[None, :] for l in stack.layers]
    for i, l in enumerate(stack.layers):
        s, e = blocks[i + 1]
        for k in range(i):
            sk, ek = blocks[k + 1]
            E[s:e, sk:ek] = _product_entry_error(l.W.T, P[k])
    return E


def _feedforward_entry_error(sizes: "list[int]", errs: "list[np.ndarray]") -> np.ndarray:
    """𝓔 of :func:`deqtheory.explicit.feedforward_to_deq`: block (k, k−1) gets ``errs[k-1]``, every other
    block is a structural zero."""
    blocks = _ex._blocks_from_sizes(sizes)
    E = np.zeros((blocks[-1][1],) * 2)
    for k, err in enumerate(errs, start=1):
        (s, e), (sp, ep) = blocks[k], blocks[k - 1]
        E[s:e, sp:ep] = err
    return E


def _aol_scaling_deviation(Wt: np.ndarray) -> np.ndarray:
    r"""δD ≥ |D_exact − D̂| per column for :func:`deqtheory.explicit.aol_scaling`,
    :math:`D_i = s_i^{-1/2}`, :math:`s_i = \sum_j |\tilde W^\top\tilde W|_{ij}`. The computed ŝ (a product of
    inner dimension m, then k non-negative terms) satisfies :math:`|\hat s - s| \le a = \gamma_k\hat s +
    \gamma_{m+1}(|\tilde W|^\top|\tilde W|\mathbb 1) + (m + 1)k\eta` (inflated), and :math:`s \ge
    \|\tilde W_{:,i}\|^2 \ge c_{\rm lo}` (the computed squared norm lowered by γ_{m+1} and η·m); so
    :math:`s \in [\max(\hat s - a, c_{\rm lo}), \hat s + a]`, D_exact in the image under :math:`s^{-1/2}`
    (evaluated with a relative allowance 8u outward), and δD its distance to D̂. A zero column has
    D_exact = D̂ = 0 and every weight entry in it is 0: δD = 0 there."""
    from .verified import INFLATE, UNIT_ROUNDOFF, _ETA, gamma

    m, k = Wt.shape
    aW = np.abs(Wt)
    s_hat = np.abs(Wt.T @ Wt).sum(axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        a = INFLATE * (gamma(k) * s_hat + gamma(m + 1) * (aW.T @ aW).sum(axis=1) + (m + 1) * k * _ETA)
        col = (Wt * Wt).sum(axis=0)
        c_lo = np.maximum(col * (1.0 - INFLATE * gamma(m + 1)) - m * _ETA, 0.0)
    return np.where(np.any(Wt != 0, axis=0), _inv_sqrt_deviation(s_hat, a, c_lo, _ex.aol_scaling(Wt)), 0.0)


def _inv_sqrt_deviation(s_hat: np.ndarray, a: np.ndarray, c_lo: np.ndarray, D_hat: np.ndarray) -> np.ndarray:
    r"""δD ≥ |s^{-1/2} − D̂| for every s ∈ [max(ŝ − a, c_lo), ŝ + a] (the interval step of
    :func:`_aol_scaling_deviation`, shared with the conv AOL scaling)."""
    from .verified import UNIT_ROUNDOFF

    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        s_lo = np.maximum(s_hat - a, c_lo)
        s_hi = s_hat + a
        D_hi = np.where(s_lo > 0, 1.0 / np.sqrt(s_lo), np.inf) * (1.0 + 8 * UNIT_ROUNDOFF)
        D_lo = (1.0 / np.sqrt(s_hi)) * (1.0 - 8 * UNIT_ROUNDOFF)
        return np.maximum(D_hi - D_hat, D_hat - D_lo) * (1.0 + 8 * UNIT_ROUNDOFF)


def _conv_aol_u_error(m: "_ec.ConvAOLLayer") -> np.ndarray:
    r"""𝓔 ≥ |U_exact − fl(U)| for ``conv_aol``'s U = 𝓜_{K̃D} (:meth:`deqtheory.explicit_conv.ConvAOLLayer.to_deq`):
    the tap bound of K̃D placed by :func:`deqtheory.circulant.conv_matrix` (every entry of U is one tap, k ≤ N).
    D_a = s_a^{-1/2}, s_a = Σ_{b,δ}|P[a,b,δ]| (:func:`deqtheory.explicit_conv.conv_aol_gram`, each P entry an inner
    product of r ≤ c_out·kh·kw terms, J = c_in(2kh − 1)(2kw − 1) entries per sum): |ŝ − s| ≤ a = γ_J ŝ +
    γ_{r+1}Σ|K||K| + (J + 1)rη, s_a ≥ Σ K[:, a]² (the origin tap P[a, a, 0]) — the interval of
    :func:`_inv_sqrt_deviation`; then |K̃|δD + γ₁|fl(K̃D)| + η per nonzero tap, inflated."""
    from .verified import INFLATE, _ETA, gamma
    from .circulant import conv_matrix

    K = m.K
    co, ci, kh, kw = K.shape
    r, J = co * kh * kw, ci * (2 * kh - 1) * (2 * kw - 1)
    with np.errstate(over="ignore", invalid="ignore"):
        s_hat = np.abs(_ec.conv_aol_gram(K)).sum(axis=(1, 2, 3))
        Pabs = _ec.conv_aol_gram(np.abs(K)).sum(axis=(1, 2, 3))        # Σ_{b,δ} Σ|K||K| (non-negative terms)
        a = INFLATE * (gamma(J) * s_hat + gamma(r + 1) * Pabs + (J + 1) * r * _ETA)
        col = (K * K).sum(axis=(0, 2, 3))
        c_lo = np.maximum(col * (1.0 - INFLATE * gamma(r + 1)) - r * _ETA, 0.0)
        dev = np.where(np.any(K != 0, axis=(0, 2, 3)), _inv_sqrt_deviation(s_hat, a, c_lo, m.D), 0.0)
        E = INFLATE * (np.abs(K) * dev[None, :, None, None] + gamma(1) * np.abs(m.effective_kernel) + _ETA)
    E = np.where(K != 0, E, 0.0)
    if not np.all(np.isfinite(E)):                                   # a step underflowed / overflowed: unbounded
        return np.full((co * m.N ** 2, ci * m.N ** 2), np.inf)
    return conv_matrix(E, m.N)


def _aol_weight_error(Wt: np.ndarray) -> np.ndarray:
    """𝓔 for :func:`deqtheory.explicit.aol_weight` fl(W̃_ij D̂_j): |W̃_ij|δD_j + the product's rounding
    γ₁|fl(W̃_ij D̂_j)| + η/2, inflated (∞·0 = 0: a zero entry is exact)."""
    from .verified import INFLATE, _ETA, gamma

    dev = _aol_scaling_deviation(Wt)
    with np.errstate(over="ignore", invalid="ignore"):
        E = INFLATE * (np.abs(Wt) * dev[None, :] + gamma(1) * np.abs(_ex.aol_weight(Wt)) + _ETA)
    return np.where(Wt != 0, E, 0.0)


def _aol_entry_error(net: "_ex.AOLNet") -> np.ndarray:
    r""":func:`deqtheory.explicit.aol_to_deq`: block (k, k−1) = W̃_kD_k (:func:`_aol_weight_error`), k ≥ 1."""
    return _feedforward_entry_error([w.shape[0] for w in net.weights],
                                    [_aol_weight_error(w) for w in net.weights[1:]])


def _sandwich_entry_error(net: "_ex.SandwichNet") -> np.ndarray:
    r""":func:`deqtheory.explicit.sandwich_to_deq`: block (n, n−1) = 2·fl(X̂Ŷ) with X̂ = fl(B_n/φ_n),
    Ŷ = fl(A_{n−1}ᵀφ_{n−1}) (one rounding each; ×2 exact): 2·:func:`_product_entry_error`."""
    errs = [2.0 * _product_entry_error(net.B[n] / net.phi[n][:, None], net.A[n - 1].T * net.phi[n - 1][None, :])
            for n in range(1, net.depth)]
    return _feedforward_entry_error([B.shape[0] for B in net.B], errs)


# ---- the matrix-free conv kinds: a tap-wise bound on the W kernel computed from the parameters ----------
#
# Every step of the families' forward formulas acts on positive quantities or is one rounded operation per
# tap, so the computed kernel has a *relative* error per tap: |K̂ − K| ≤ γ_J|K| ≤ γ_{2J}|K̂| (J the count of
# unit roundoffs below; |K| ≤ |K̂|/(1 − γ_J)), plus 4η per tap for underflow. exp and tanh (numpy's libm) are
# counted as 4 roundings each (their documented accuracy is below 4 ulp).

def _ibp_scale_units(c: int, k2: int) -> int:
    r"""Roundings (in u) of s = 1/√d, d = r/(1 − m) + exp(log_slack), r = ½(A𝟙 + Aᵀ𝟙), A = Σ_taps |M|
    (:meth:`deqtheory.conv_ibp.ConvIBPMonDEQ.forward`): A ≤ k² − 1, r ≤ (k² − 1) + (c − 1) + 1, r/(1 − m) ≤ +2,
    exp 4, the sum 1, √ ½·(that) + 1, the reciprocal 1 — at most k² + c + 9."""
    return k2 + c + 9


def kernel_rounding(net: Any) -> Optional[np.ndarray]:
    r"""A tap-wise bound 𝓔 ≥ |K_exact − K̂| (c, c, kh, kw) on the W kernel ``net.W_kernel()`` computed from the
    stored parameters of a matrix-free conv kind, K_exact being the kernel the same formula gives in exact real
    arithmetic (docs/formats.md: the stored model); ``None`` for :class:`ConvKernelDEQNet` (the stored kernel is
    the model). ``inf`` taps where a step overflows or underflows to 0 (then nothing is proved).

    * :class:`ConvIBPMonDEQNet` (d ≥ 2⁻¹⁰⁰⁰, else ``inf``): W = (s_o M) s_i with s of
      :func:`_ibp_scale_units` J_s: J = 2J_s + 2; the
      Γ-variant multiplies by Γ_o/Γ_i with Γ = exp(β) (4 units) or ((γ−1)/γ)·½(1 + tanh(β/2)) + 1/γ (all terms
      positive; tanh's absolute error 4u is at most 4uγ relative to Γ ≥ 1/γ: ⌈6γ⌉ + 4 units): J += 2J_Γ + 2.
    * :class:`ConvNonEuclideanNet`: off the origin taps (η_o T)/η_i: J = 2 + 2·4; the origin tap of channel c is
      ((η_cT)/η_c − s_c) + γ with the exact value T − s_c + γ, s_c = Σ|T[c]| (c·k² non-negative terms):
      𝓔 = γ_{2J}|T_o| + γ_{2ck²}ŝ_c + γ₂(|fl(x − ŝ)| + |K̂_o|) + 4η (each inflated)."""
    from .verified import INFLATE, _ETA, gamma

    if isinstance(net, ConvKernelDEQNet):
        return None
    K = np.asarray(net.W_kernel(), dtype=np.float64)
    c, k2 = K.shape[0], K.shape[2] * K.shape[3]
    if isinstance(net, ConvIBPMonDEQNet):
        J = 2 * _ibp_scale_units(c, k2) + 2
        if net.beta is not None:
            JG = 4 if net.gamma is None else int(math.ceil(6.0 * float(net.gamma))) + 4
            J += 2 * JG + 2
        d = net.family.d(net.params)        # d normal: its subnormal-range terms are ≤ 2⁻⁷⁴ u relative
        ok = bool(np.all(np.isfinite(d)) and np.all(d >= 2.0 ** -1000))
        with np.errstate(over="ignore"):
            E = INFLATE * (gamma(2 * J) * np.abs(K) + 4 * _ETA)
        return E if ok and np.all(np.isfinite(E)) else np.full(K.shape, np.inf)
    if isinstance(net, ConvNonEuclideanNet):
        from .conv_nemon import _diag_index

        T = net.T
        ok = bool(np.all(np.isfinite(net.eta)) and np.all(net.eta > 0))
        with np.errstate(over="ignore", invalid="ignore"):
            E = INFLATE * (gamma(20) * np.abs(K) + 4 * _ETA)
            idx = _diag_index(K)
            s_hat = np.abs(T).reshape(c, -1).sum(axis=1)
            x = (net.eta * T[idx]) / net.eta
            E[idx] = INFLATE * (gamma(20) * np.abs(T[idx]) + gamma(2 * c * k2) * s_hat
                                + gamma(2) * (np.abs(x - s_hat) + np.abs(K[idx])) + 4 * _ETA)
        return E if ok and np.all(np.isfinite(E)) else np.full(K.shape, np.inf)
    raise DTypeError(f"kernel_rounding: expected a matrix-free conv net, got {type(net).__name__}")


#: explicit kinds whose DEQ embedding is computed from the stored arrays: type → 𝓔 of that W
_EXPLICIT_ROUNDING: "tuple[tuple[type, Callable[[Any], np.ndarray]], ...]" = (
    (_ex.ResidualStack, _sll_entry_error),
    (_ec.ConvResidualStack, lambda m: _sll_entry_error(m.to_dense())),
    (_ex.AOLNet, _aol_entry_error),
    (_ex.SandwichNet, _sandwich_entry_error),
)


def _a_explicit(to_deq: Callable[[Any], "_ex.DEQForm"]) -> Callable[[Any, str], Dict[str, Any]]:
    """The dense arrays of an explicit kind's DEQ embedding with its :func:`stored_rounding`."""
    return lambda m, path: {**_form_arrays(to_deq(m)), **stored_rounding(m)}


#: why a conv_lben file's rows are about its computed W (``model.rows_about`` of ``deqtheory check``)
_CONV_LBEN_UNPROVED = ("conv_lben: W is the inverse FFT of the W spectrum computed from the stored spectra "
                       "(numpy's FFT has no proved error bound here), so every row is about that computed W, not "
                       "the exact W of the stored spectra (they differ by FFT rounding, ~1e-16 relative)")


def _conv_mondeq_rounding(m: "ConvMonDEQNet") -> Dict[str, Any]:
    r""":meth:`ConvMonDEQNet.dense` computes :math:`\mathrm{fl}(((cI - \mathrm{fl}(\mathcal A^\top\mathcal A))
    + \mathcal B) - \mathcal B^\top)`, :math:`c = \mathrm{fl}(1 - m)`, with :math:`\mathcal A, \mathcal B` from
    :func:`deqtheory.circulant.conv_matrix` (exact: every entry is one kernel tap, k ≤ N). So
    :math:`\|W_{\rm exact} - \mathrm{fl}(W)\|_2 \le u|1 - m| + \gamma_k\||\mathcal A|^\top|\mathcal A|\|_F
    + \gamma_4\|\,|cI| + |\mathrm{fl}(\mathcal A^\top\mathcal A)| + |\mathcal B| + |\mathcal B^\top|\,\|_F`
    (Higham 3.13 for the product, recursive summation of the four computed terms), inflated; ``W_margin`` =
    m (sym(I − W) = mI + 𝒜ᵀ𝒜 ⪰ mI on the stored kernels)."""
    from .circulant import conv_matrix
    from .verified import INFLATE, UNIT_ROUNDOFF, product_error_bound, sum_error_bound

    MA, MB = conv_matrix(m.A, m.N), conv_matrix(m.B, m.N)
    c = 1.0 - m.m
    AtA = MA.T @ MA
    e = (UNIT_ROUNDOFF * abs(1.0 - m.m) + product_error_bound(MA.T, MA)
         + sum_error_bound(c * np.eye(MB.shape[0]), AtA, MB, MB.T))
    return {"W_error": INFLATE * e, "W_margin": float(m.m)}


def _w_rounding(family: Any, params: Any, W: np.ndarray, scale: Optional[np.ndarray] = None,
                margin: Optional[float] = None) -> Dict[str, Any]:
    r"""For a W computed from stored parameters (the model the file defines is the *exact* W of those
    parameters, docs/formats.md): ``W_error`` — a proved bound on ‖W_exact − fl(W)‖₂
    (:meth:`~deqtheory.parametrizations.base.Parametrization.forward_error_bound`; with CerDEQ's ``scale``
    s, ‖s‖∞ times it plus the rounding u‖fl(W)‖_F of the row scaling, inflated) — and ``W_margin``, a
    monotonicity margin the family proves exactly on the stored parameters (MonDEQ: sym(I − W) = mI + AᵀA
    ⪰ mI, so the stored m), or ``None``. A family that claims no a-priori bound (``inf``: CerDEQ, whose
    model is the computed Björck output itself) gets ``W_error`` 0: its computed W is the model."""
    from .verified import INFLATE, UNIT_ROUNDOFF

    e = float(family.forward_error_bound(params))
    if not np.isfinite(e):
        return {"W_error": 0.0, "W_margin": None}
    if scale is not None:
        e = INFLATE * (float(np.max(scale)) * e + UNIT_ROUNDOFF * float(np.linalg.norm(W)))
    return {"W_error": e, "W_margin": None if margin is None else float(margin)}


def _a_conv_residual(m: Any, path: str) -> Dict[str, Any]:
    _dense_guard(m.d + sum(l.k for l in m.layers) * m.N ** 2, path)
    dense = m.to_dense()
    return {**_form_arrays(_ex.sll_to_deq(dense)), **_entrywise_rounding(_sll_entry_error(dense)), **_ug_rounding(dense)}


def _a_conv_aol(m: Any, path: str) -> Dict[str, Any]:
    _dense_guard(m.c_out * m.N ** 2, path)
    return {**_form_arrays(m.to_deq()), **_ug_rounding(m)}


def _a_conv_lben(m: Any, path: str) -> Dict[str, Any]:
    _dense_guard(m.C * m.N ** 2, path)
    return {**m.dense(), **stored_rounding(m)}


def _a_conv_mondeq(m: "ConvMonDEQNet | _ConvKernelDEQ", path: str) -> Dict[str, Any]:
    _dense_guard(m.c * m.N ** 2, path)
    return {**m.dense(), **stored_rounding(m)}


def _a_pipeline(m: "_pl.Pipeline", path: str) -> Dict[str, Any]:
    st = m.model_stage()
    return TABLE[kind_of(st)].arrays(st, path)


def _info(status: Optional[SolverStatus] = None, residual: float = 0.0, tol: float = 0.0,
          method: str = "explicit") -> Dict[str, Any]:
    """The JSON-ready record of one evaluation: ``status`` the solver's status value (``"explicit"`` for
    a direct evaluation, ``status=None``), ``ok`` whether the output may be used (explicit, or the
    fixed point converged), the residual, the tolerance and the method."""
    return {"status": "explicit" if status is None else status.value,
            "ok": status is None or status is SolverStatus.CONVERGED,
            "residual": float(residual), "tol": float(tol), "method": method}


def _e_explicit(m: Any, X: np.ndarray, tol: Optional[float]) -> Tuple[np.ndarray, Dict[str, Any]]:
    return np.asarray(m(X)), _info()


def _images(c_in: int, N: int, run: Callable[[np.ndarray], Tuple[np.ndarray, Dict[str, Any]]]):
    """Conv kinds take images ``(B, c, N, N)`` or flattened ``(B, c N²)`` (answered flattened)."""
    def ev(X: np.ndarray) -> Tuple[np.ndarray, Dict[str, Any]]:
        flat = X.ndim in (1, 2) and X.shape[-1] == c_in * N * N
        Y, info = run(X.reshape(X.shape[:-1] + (c_in, N, N)) if flat else X)
        return (Y.reshape(Y.shape[:-3] + (-1,)) if flat else Y), info
    return ev


def _e_conv_residual(m: Any, X: np.ndarray, tol: Optional[float]):
    return _images(m.c, m.N, lambda Xi: (m(Xi), _info()))(X)


def _e_conv_aol(m: Any, X: np.ndarray, tol: Optional[float]):
    return _images(m.c_in, m.N, lambda Xi: (m(Xi), _info()))(X)


def _e_conv_lben(m: Any, X: np.ndarray, tol: Optional[float]):
    def run(Xi):
        r = m.solve(Xi, method="dag", tol=tol)
        if not r.converged:
            r = m.solve(Xi, method="pr", tol=r.tol, max_iter=100_000)
        return m.output(r.z), _info(r.status, r.residual, r.tol, r.method)
    return _images(m.c_in, m.N, run)(X)


def _e_conv_mondeq(m: "ConvMonDEQNet | _ConvKernelDEQ", X: np.ndarray, tol: Optional[float]):
    def run(Xi):
        Y, info = _e_dense(m.dense(), None, Xi.reshape(Xi.shape[:-3] + (-1,)), tol)
        return Y.reshape(Y.shape[:-1] + (m.c, m.N, m.N)), info
    return _images(m.c_in, m.N, run)(X)


def _e_dense(a: Dict[str, Any], lam: Optional[np.ndarray], X: np.ndarray, tol: Optional[float]):
    """Fixed point of dense DEQ arrays to residual ``tol`` (default ``1e-12·max(1, max‖Ux + b‖)``), then
    ``y = Gz + b_y``; ``lam``: a metric Λ in which W is monotone (PR in that metric)."""
    n = a["W"].shape[0]
    U = np.eye(n) if a["U"] is None else np.asarray(a["U"])
    b = np.zeros(n) if a["b"] is None else np.asarray(a["b"])
    a = {**a, "U": U, "b": b}
    if X.ndim not in (1, 2) or X.shape[-1] != U.shape[1]:
        raise ShapeError(f"X: expected shape ({U.shape[1]},) or (batch, {U.shape[1]}), got {X.shape}")
    if tol is None:
        V = np.atleast_2d(X) @ U.T + b
        tol = 1e-12 * max(1.0, float(np.max(np.sqrt(np.sum(V * V, axis=1)))))
    z, res, t, status, method = _solve_dense(a, X, tol, lam)
    G = np.eye(n) if a["G"] is None else np.asarray(a["G"])
    by = np.zeros(G.shape[0]) if a["b_y"] is None else np.asarray(a["b_y"])
    return np.asarray(z) @ G.T + by, _info(status, res, t, method)


def _e_deq(metric: Callable[[Any], Optional[np.ndarray]] = lambda m: None):
    def ev(m: Any, X: np.ndarray, tol: Optional[float]):
        return _e_dense(TABLE[kind_of(m)].arrays(m, ""), metric(m), X, tol)
    return ev


def _e_pipeline(m: "_pl.Pipeline", X: np.ndarray, tol: Optional[float]):
    info = _info()
    if m.input_shape is not None and X.ndim == 2 and X.shape[1] == int(np.prod(m.input_shape)):
        X = X.reshape((X.shape[0],) + tuple(m.input_shape))
    for st in m.stages:
        X, i = TABLE[kind_of(st)].evaluate(st, X, tol)
        if i["method"] != "explicit":          # the model stage's solve speaks for the pipeline
            info = i
    return X, info


def _solve_dense(a: Dict[str, Any], X: np.ndarray, tol: Optional[float], lam: Optional[np.ndarray]):
    """Fixed point of a dense DEQ: exact DAG solve on W with rounding-level entries snapped to 0
    when that W is feed-forward (converted explicit nets), else PR in the Λ-metric (LBEN) or
    ``auto``; the residual is always recomputed with the stored W."""
    from . import solvers

    W = np.asarray(a["W"])
    U = a["U"]
    mask = a.get("identity_mask")
    r = _cv.snapped_dag_solve(W, U, a["b"], X, tol=tol, identity_mask=mask)
    if r is not None:
        return r.z, r.residual, r.tol, SolverStatus.CONVERGED, r.method
    if lam is not None:
        r = solvers.solve(W, U, a["b"], X, method="pr", tol=tol, Lambda=lam, max_iter=200_000, identity_mask=mask)
    else:
        r = solvers.solve(W, U, a["b"], X, method="auto", tol=tol, max_iter=200_000, identity_mask=mask)
    return r.z, r.residual, r.tol, r.status, r.method


# ----------------------------------------------------------------------------------------------
# LBEN conversions
# ----------------------------------------------------------------------------------------------

def _l_mondeq(m: FamilyNet, **kw: Any) -> Any:
    return _cv.mondeq_to_lben(m.A, m.B, m.m, m.U, m.G, m.b, m.b_y, **kw)


def _l_gmondeq(m: FamilyNet, **kw: Any) -> Any:
    return _cv.gmondeq_to_lben(m.A, m.B, np.exp(m.log_phi), m.m, m.U, m.G, m.b, m.b_y, **kw)


def _l_pipeline(m: "_pl.Pipeline", **kw: Any) -> Any:
    st = m.model_stage()
    return to_lben(kind_of(st), st, **kw)


# ----------------------------------------------------------------------------------------------
# the table
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class KindSpec:
    """One file kind: ``type`` (and ``match``) select the objects it writes; ``write(obj) -> arrays``;
    ``read(view) -> obj``; ``arrays(obj, path) -> dense DEQ arrays`` (None: no DEQ materialization);
    ``evaluate(obj, X, tol) -> (Y, info)``; ``lben(obj)`` the LBEN conversion (None: none);
    ``stage``: a classifier stage only (not a file of its own)."""

    kind: str
    type: Any
    write: Callable[[Any], Dict[str, Any]]
    read: Callable[[_File], Any]
    arrays: Optional[Callable[[Any, str], Dict[str, Any]]]
    evaluate: Callable[[Any, np.ndarray, Optional[float]], Tuple[np.ndarray, Dict[str, Any]]]
    lben: Optional[Callable[[Any], Any]] = None
    match: Callable[[Any], bool] = lambda m: True
    stage: bool = False


def _residual_kind(m: Any) -> str:
    return "cpl" if {l.kind for l in m.layers} == {"cpl"} else "sll"


def _table() -> Dict[str, KindSpec]:
    from .model import DEQ

    fam = lambda k: (lambda m: m.kind == k)  # noqa: E731
    gmetric = _e_deq(lambda m: np.exp(-m.log_phi))   # Γ = Φ⁻¹ (havens2023 §2.3)
    specs = [
        KindSpec("deq", DEQ, _w_deq, _r_deq, _a_deq, _e_deq()),
        KindSpec("mondeq", FamilyNet, _w_family, _r_family, _a_family, _e_deq(), _l_mondeq, fam("mondeq")),
        KindSpec("lipmondeq", FamilyNet, _w_family, _r_family, _a_family, _e_deq(), _l_mondeq, fam("lipmondeq")),
        KindSpec("gmondeq", FamilyNet, _w_family, _r_family, _a_family, gmetric, _l_gmondeq, fam("gmondeq")),
        KindSpec("lben", (LBENNet, _cv.Conversion), _w_lben, _r_lben, _a_lben,
                 _e_deq(lambda m: np.exp(-m.params.log_psi))),       # Λ = Ψ⁻¹ (havens2023 eq. 7)
        *[KindSpec(k, FamilyNet, _w_family, _r_family, _a_family, _e_deq(), None, fam(k))
          for k in ("ibp_mondeq", "ibp_mondeq_gamma", "noneuclidean", "cerdeq")],
        *[KindSpec(k, _ex.ResidualStack, _w_residual, _r_residual, _a_explicit(_ex.sll_to_deq),
                   _e_explicit, _cv.sll_to_lben, (lambda m, k=k: _residual_kind(m) == k)) for k in ("sll", "cpl")],
        KindSpec("aol", _ex.AOLNet, _w_aol, _r_aol, _a_explicit(_ex.aol_to_deq), _e_explicit,
                 _cv.aol_to_lben),
        KindSpec("sandwich", _ex.SandwichNet, _w_sandwich, _r_sandwich,
                 _a_explicit(_ex.sandwich_to_deq), _e_explicit, _cv.sandwich_to_lben),
        *[KindSpec("conv_" + k, _ec.ConvResidualStack, _w_conv_residual, _r_conv_residual, _a_conv_residual,
                   _e_conv_residual, _cv.conv_sll_to_lben, (lambda m, k=k: _residual_kind(m) == k))
          for k in ("sll", "cpl")],
        KindSpec("conv_aol", _ec.ConvAOLLayer, _w_conv_aol, _r_conv_aol, _a_conv_aol, _e_conv_aol),
        KindSpec("conv_lben", _cv.ConvLBEN, _w_conv_lben, _r_conv_lben, _a_conv_lben, _e_conv_lben),
        KindSpec("conv_mondeq", ConvMonDEQNet, _w_conv_mondeq, _r_conv_mondeq, _a_conv_mondeq, _e_conv_mondeq),
        *[KindSpec(k, ConvIBPMonDEQNet, _w_conv_ibp, _r_conv_ibp, _a_conv_mondeq, _e_conv_mondeq, None, fam(k))
          for k in ("conv_ibp_mondeq", "conv_ibp_mondeq_gamma")],
        KindSpec("conv_noneuclidean", ConvNonEuclideanNet, _w_conv_nemon, _r_conv_nemon, _a_conv_mondeq,
                 _e_conv_mondeq),
        KindSpec("conv_kernel_deq", ConvKernelDEQNet, _w_conv_kernel, _r_conv_kernel, _a_conv_mondeq, _e_conv_mondeq),
        KindSpec("classifier", _pl.Pipeline, _w_pipeline, _r_pipeline, _a_pipeline, _e_pipeline, _l_pipeline),
        *[KindSpec(k, cls, _w_stage, _r_stage(cls), None, lambda m, X, tol: (m(X), _info()), stage=True)
          for k, cls in _pl.STAGES.items()],
    ]
    return {s.kind: s for s in specs}


#: kind → :class:`KindSpec` (the only place kinds are dispatched)
TABLE: Dict[str, KindSpec] = _table()
KINDS = tuple(k for k, s in TABLE.items() if not s.stage)


def kind_of(model: Any) -> str:
    """The file kind of a model object (``DomainError`` if no kind writes it)."""
    for spec in TABLE.values():
        if isinstance(model, spec.type) and spec.match(model):
            return spec.kind
    raise DomainError(f"model: cannot save an object of type {type(model).__name__}")


# ----------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------

def save_model(path: "str | os.PathLike[str]", model: Any) -> str:
    """Write ``model`` to ``path``; returns the kind written. Accepts every object of :data:`TABLE`:
    :class:`deqtheory.model.DEQ`, :class:`FamilyNet` (:class:`MonDEQNet`, :class:`GMonDEQNet`, …),
    :class:`LBENNet`, :class:`deqtheory.convert.Conversion` (→ ``lben``), the explicit nets,
    :class:`deqtheory.explicit_conv.ConvResidualStack`, :class:`deqtheory.convert.ConvLBEN`,
    :class:`ConvMonDEQNet`, :class:`ConvIBPMonDEQNet`, :class:`ConvNonEuclideanNet`, :class:`ConvKernelDEQNet`,
    :class:`deqtheory.pipeline.Pipeline` (``classifier``), ``(kind, obj)``, or a
    dict of materialized DEQ arrays ``W`` (required), ``U``, ``b``, ``G``, ``b_y``, ``identity_mask``
    (written as kind ``deq``; any ``kind`` entry of the dict is ignored: the arrays are the materialized DEQ)."""
    if isinstance(model, tuple) and len(model) == 2 and isinstance(model[0], str):
        model = model[1]
    if isinstance(model, Mapping):            # materialized DEQ arrays (e.g. from export.to_deqtheory → formats.TABLE[kind].arrays) → deq
        from .model import DEQ

        if "W" not in model:
            raise ModelFileError(f"model: a dict needs the DEQ array 'W' (kind deq); got keys {sorted(model)}")
        model = DEQ(model["W"], *(model.get(k) for k in ("U", "b", "G", "b_y")),
                    identity_mask=model.get("identity_mask"))
    kind = kind_of(model)
    if TABLE[kind].stage:
        raise DomainError(f"model: a {type(model).__name__} is a classifier stage; wrap it in a deqtheory.pipeline.Pipeline")
    out = TABLE[kind].write(model)
    save_npz(path, {k: v for k, v in out.items() if v is not None}, kind=kind)
    return kind


def read_model(path: "str | os.PathLike[str]") -> Tuple[str, Any]:
    """Read a model file: ``(kind, object)`` (the object types of :data:`TABLE`).

    Bad input raises the usual typed error; its message always names the file. A training file of
    ``deqtheory-train`` raises :class:`ModelFileError` saying to run ``deqtheory-train export``."""
    p = os.fspath(path)
    try:
        f = _File.open(p)
        return f.kind, TABLE[f.kind].read(f)
    except DEQInputError as exc:
        if p in str(exc):
            raise
        raise type(exc)(f"{p}: {exc}") from None


def deq_arrays(kind: str, obj: Any, path: str = "") -> Dict[str, Any]:
    """The DEQ arrays ``{"kind", "W", "U", "b", "G", "b_y", "identity_mask"}`` of a model object read by
    :func:`read_model` (see :func:`load_model`; ``path`` only names the file in messages)."""
    arrays = TABLE[kind].arrays
    if arrays is None:  # pragma: no cover - stage kinds are never files
        raise DomainError(f"{path}: kind {kind!r} has no DEQ materialization")
    return {"kind": kind, **arrays(obj, path)}


def load_model(path: "str | os.PathLike[str]") -> Dict[str, Any]:
    """Any supported model file as DEQ arrays ``{"kind", "W", "U", "b", "G", "b_y", "identity_mask"}``
    (absent arrays → ``None``). Explicit nets use their exact DEQ embeddings (havens2023 eq. 14,
    App. D); LBEN files are materialized with eq. (7); convolutional kinds densely (state dimension
    ≤ :data:`MAX_DENSE_N`); a ``classifier`` by its model stage (``kind`` stays ``"classifier"``)."""
    kind, obj = read_model(path)
    return deq_arrays(kind, obj, os.fspath(path))


def to_lben(kind: str, obj: Any, *, allow_projection: bool = False) -> Any:
    """Convert a read model to LBEN: a :class:`deqtheory.convert.Conversion` (dense kinds) or a
    :class:`deqtheory.convert.ConvLBEN` (``conv_sll``/``conv_cpl``); a ``classifier`` converts its model stage.
    A dense source that violates its conversion's hypothesis beyond rounding raises :class:`DomainError`
    unless ``allow_projection`` (then ``Conversion.exact`` is False and ``projection`` says by how much)."""
    spec = TABLE.get(kind)
    if spec is None or spec.lben is None:
        have = [k for k, s in TABLE.items() if s.lben is not None]
        raise DomainError(f"kind: no LBEN conversion from {kind!r} (supported: {', '.join(have)})")
    if allow_projection and spec.type is not _ec.ConvResidualStack:
        return spec.lben(obj, allow_projection=True)
    return spec.lben(obj)


def evaluate(path_or_model: Any, X: Any, *, tol: Optional[float] = None) -> Tuple[np.ndarray, Dict[str, Any]]:
    """Evaluate a model file (or ``(kind, object)`` from :func:`read_model`) on inputs ``X``.

    Explicit nets: direct evaluation (``status = "explicit"``, residual 0). DEQs: fixed point to
    residual ``tol`` (default ``1e-12·max(1, max‖Ux + b‖)``), then ``y = Gz + b_y`` (LBEN, G-MonDEQ:
    Peaceman–Rachford in their Λ-metric). Conv kinds take images ``(B, c, N, N)`` (or flattened
    ``(B, c N²)``, answered flattened). A ``classifier`` runs its stages in order. Returns ``(Y, info)``
    with ``info`` = ``{"kind", "status", "ok", "residual", "tol", "method"}`` (``status``: a
    :class:`~deqtheory.solvers.SolverStatus` value or ``"explicit"``; ``ok``: the output may be used)."""
    kind, obj = read_model(path_or_model) if not isinstance(path_or_model, tuple) else path_or_model
    X = np.asarray(X, dtype=float)
    if not np.all(np.isfinite(X)):
        raise NonFiniteError(f"X: non-finite entries in shape {X.shape}")
    Y, info = TABLE[kind].evaluate(obj, X, tol)
    return Y, {"kind": kind, **info}
