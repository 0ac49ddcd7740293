r"""Model files for every family: one ``kind`` per family, ``.npz`` without pickles (docs/formats.md).

:func:`save_model` writes a model object, :func:`read_model` reads it back as an object,
:func:`load_model` materializes *any* supported file as DEQ arrays
``{"kind", "W", "U", "b", "G", "b_y", "identity_mask"}`` (used by ``deqtheory check``), and
:func:`evaluate` runs a model on a batch of inputs (explicit nets directly; DEQs by a fixed-point
solve whose residual and status are returned).

Kinds (keys: docs/formats.md): ``deq``, ``mondeq``, ``gmondeq``, ``lben``, ``sll``, ``cpl``, ``aol``,
``sandwich``, ``conv_sll``, ``conv_cpl``, ``conv_lben``. Layer lists are stored with indexed keys
(``W_0``, ``W_1``, …) and a scalar ``depth``; complex frequency blocks as ``<name>_re`` / ``<name>_im``.
Missing keys raise :class:`deqtheory.errors.ModelFileError` naming the file, the kind and the key.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import convert as _cv
from . import explicit as _ex
from . import explicit_conv as _ec
from .errors import DEQInputError, DomainError, ModelFileError, ShapeError
from .io import load_npz, save_npz
from .parametrizations.lben import LBEN, LBENParams

__all__ = ["KINDS", "MonDEQNet", "GMonDEQNet", "LBENNet", "save_model", "read_model", "load_model", "evaluate",
           "to_lben", "MAX_DENSE_N"]

KINDS = ("deq", "mondeq", "gmondeq", "lben", "sll", "cpl", "aol", "sandwich", "conv_sll", "conv_cpl", "conv_lben")

#: largest state dimension that :func:`load_model` materializes densely for convolutional kinds
MAX_DENSE_N = 4096


@dataclasses.dataclass(frozen=True, eq=False)
class MonDEQNet:
    """MonDEQ file content (havens2023 eq. 5): ``W = (1−m)I − AᵀA + B − Bᵀ``; ``G=None`` = identity."""

    A: np.ndarray
    B: np.ndarray
    m: float
    U: np.ndarray
    G: Optional[np.ndarray] = None
    b: Optional[np.ndarray] = None
    b_y: Optional[np.ndarray] = None

    def W(self) -> np.ndarray:
        n = self.B.shape[0]
        return ((1.0 - self.m) * np.eye(n) - self.A.T @ self.A) + (self.B - self.B.T)


@dataclasses.dataclass(frozen=True, eq=False)
class GMonDEQNet:
    """G-MonDEQ file content (havens2023 eq. 6): ``W = I − Φ(AᵀA + Bᵀ − B + mI)``, Φ = exp(log_phi)."""

    A: np.ndarray
    B: np.ndarray
    log_phi: np.ndarray
    m: float
    U: np.ndarray
    G: Optional[np.ndarray] = None
    b: Optional[np.ndarray] = None
    b_y: Optional[np.ndarray] = None

    def W(self) -> np.ndarray:
        n = self.B.shape[0]
        phi = np.exp(self.log_phi)
        return np.eye(n) - phi[:, None] * ((self.A.T @ self.A + (self.B.T - self.B)) + self.m * np.eye(n))


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

    def W(self) -> np.ndarray:
        return LBEN(L=self.L, eps=self.eps).forward(self.params)


# ----------------------------------------------------------------------------------------------
# save
# ----------------------------------------------------------------------------------------------

def _ri(prefix: str, A: np.ndarray, out: Dict[str, Any]) -> None:
    out[prefix + "_re"] = np.ascontiguousarray(A.real)
    out[prefix + "_im"] = np.ascontiguousarray(A.imag)


def _layers_out(out: Dict[str, Any], layers, fields) -> None:
    out["depth"] = np.asarray(len(layers))
    for i, l in enumerate(layers):
        for f, key in fields:
            out[f"{key}_{i}"] = getattr(l, f)


def save_model(path: "str | os.PathLike[str]", model: Any) -> str:
    """Write ``model`` to ``path``; returns the kind written. Accepts :class:`deqtheory.model.DEQ`,
    :class:`MonDEQNet`, :class:`GMonDEQNet`, :class:`LBENNet`, :class:`deqtheory.convert.Conversion`
    (→ ``lben``), :class:`deqtheory.explicit.ResidualStack` (``sll``/``cpl``), ``AOLNet``,
    ``SandwichNet``, :class:`deqtheory.explicit_conv.ConvResidualStack` (``conv_sll``/``conv_cpl``),
    :class:`deqtheory.convert.ConvLBEN` (``conv_lben``)."""
    from .model import DEQ

    out: Dict[str, Any] = {}
    if isinstance(model, DEQ):
        kind = "deq"
        out.update(W=model.W, U=model.U, b=model.b, G=model.G, b_y=model.b_y)
        if model.identity_mask.any():
            out["identity_mask"] = model.identity_mask
    elif isinstance(model, MonDEQNet):
        kind = "mondeq"
        out.update(A=model.A, B=model.B, m=np.asarray(float(model.m)), U=model.U, G=model.G, b=model.b, b_y=model.b_y)
    elif isinstance(model, GMonDEQNet):
        kind = "gmondeq"
        out.update(A=model.A, B=model.B, log_phi=model.log_phi, m=np.asarray(float(model.m)), U=model.U, G=model.G,
                   b=model.b, b_y=model.b_y)
    elif isinstance(model, (LBENNet, _cv.Conversion)):
        if isinstance(model, _cv.Conversion):
            model = LBENNet(model.params, model.L, model.eps, model.b, model.b_y, model.identity_mask,
                            model.L_certified, None if model.blocks is None else np.asarray(model.blocks),
                            model.source)
        kind = "lben"
        p = model.params
        out.update(log_psi=p.log_psi, G=p.G, U=p.U, V=p.V, S=p.S, L=np.asarray(float(model.L)),
                   eps=np.asarray(float(model.eps)), b=model.b, b_y=model.b_y)
        if model.identity_mask is not None and np.any(model.identity_mask):
            out["identity_mask"] = np.asarray(model.identity_mask, bool)
        if model.L_certified is not None:
            out["L_certified"] = np.asarray(float(model.L_certified))
        if model.blocks is not None:
            out["blocks"] = np.asarray(model.blocks, dtype=np.int64)
        if model.source:
            out["source"] = np.asarray(model.source)
    elif isinstance(model, _ex.ResidualStack):
        kind = "cpl" if {l.kind for l in model.layers} == {"cpl"} else "sll"
        _layers_out(out, model.layers, (("W", "W"), ("T", "T"), ("b", "b")))
    elif isinstance(model, _ex.AOLNet):
        kind = "aol"
        out["depth"] = np.asarray(len(model.weights))
        for i, (w, b) in enumerate(zip(model.weights, model.biases)):
            out[f"W_{i}"], out[f"b_{i}"] = w, b
        out.update(W_out=model.out_weight, b_out=model.out_bias)
    elif isinstance(model, _ex.SandwichNet):
        kind = "sandwich"
        out["depth"] = np.asarray(model.depth)
        for i in range(model.depth):
            out[f"A_{i}"], out[f"B_{i}"], out[f"phi_{i}"], out[f"b_{i}"] = model.A[i], model.B[i], model.phi[i], model.b[i]
        out.update(B_out=model.B_out, b_out=model.b_out, L=np.asarray(float(model.L)))
    elif isinstance(model, _ec.ConvResidualStack):
        kind = "conv_cpl" if {l.kind for l in model.layers} == {"cpl"} else "conv_sll"
        out["N"] = np.asarray(model.N)
        _layers_out(out, model.layers, (("K", "K"), ("T", "T"), ("b", "b")))
    elif isinstance(model, _cv.ConvLBEN):
        kind = "conv_lben"
        out.update(N=np.asarray(model.N), channels=np.asarray(model.channels, dtype=np.int64), log_psi=model.log_psi,
                   b=model.b, b_y=model.b_y, identity_mask=np.asarray(model.identity_mask, bool),
                   L=np.asarray(float(model.L)), eps=np.asarray(float(model.eps)))
        for name in ("V_hat", "S_hat", "G_hat", "U_hat"):
            _ri(name, getattr(model, name), out)
        if model.support is not None:
            out["support"] = np.asarray(model.support, bool)
        if model.kernel_sizes:
            out["kernel_sizes"] = np.asarray(model.kernel_sizes, dtype=np.int64)
    else:
        raise DomainError(f"model: cannot save an object of type {type(model).__name__}")
    save_npz(path, {k: v for k, v in out.items() if v is not None}, kind=kind)
    return kind


# ----------------------------------------------------------------------------------------------
# read
# ----------------------------------------------------------------------------------------------

class _File:
    def __init__(self, path: str):
        self.path = os.fspath(path)
        self.data = load_npz(self.path)
        kind = self.data.get("kind", "deq")
        if not isinstance(kind, str) or kind not in KINDS:
            raise ModelFileError(f"{self.path}: unknown kind {kind!r}; expected one of {KINDS}")
        self.kind = kind

    def req(self, key: str) -> Any:
        if key not in self.data:
            raise ModelFileError(f"{self.path}: kind {self.kind!r} needs array {key!r}; found {sorted(self.data)}")
        return self.data[key]

    def opt(self, key: str) -> Any:
        return self.data.get(key)

    def scalar(self, key: str, integer: bool = False) -> Any:
        v = np.asarray(self.req(key))
        if v.size != 1:
            raise ModelFileError(f"{self.path}:{key}: expected a scalar, got shape {v.shape}")
        f = float(v.reshape(-1)[0])
        if integer:
            if f != int(f) or f < 0:
                raise ModelFileError(f"{self.path}:{key}: expected a non-negative integer, got {f}")
            return int(f)
        return f

    def cplx(self, key: str) -> np.ndarray:
        return np.asarray(self.req(key + "_re")) + 1j * np.asarray(self.req(key + "_im"))

    def mask(self, key: str = "identity_mask") -> Optional[np.ndarray]:
        v = self.opt(key)
        if v is None:
            return None
        v = np.asarray(v)
        if not np.all((v == 0) | (v == 1)):
            raise ModelFileError(f"{self.path}:{key}: expected booleans (0/1), shape {v.shape}")
        return v.astype(bool)


def read_model(path: "str | os.PathLike[str]") -> Tuple[str, Any]:
    """Read a model file: ``(kind, object)`` — a :class:`deqtheory.model.DEQ`, :class:`MonDEQNet`,
    :class:`GMonDEQNet`, :class:`LBENNet`, an explicit net (``ResidualStack``, ``AOLNet``,
    ``SandwichNet``, ``ConvResidualStack``) or a :class:`deqtheory.convert.ConvLBEN`.

    Bad input raises the usual typed error; its message always names the file."""
    p = os.fspath(path)
    try:
        return _read_model(path)
    except DEQInputError as exc:
        if p in str(exc):
            raise
        raise type(exc)(f"{p}: {exc}") from None


def _read_model(path: "str | os.PathLike[str]") -> Tuple[str, Any]:
    from .model import DEQ

    f = _File(path)
    k = f.kind
    if k == "deq":
        return k, DEQ(f.req("W"), f.opt("U"), f.opt("b"), f.opt("G"), f.opt("b_y"), identity_mask=f.mask())
    if k == "mondeq":
        return k, MonDEQNet(f.req("A"), f.req("B"), f.scalar("m"), f.req("U"), f.opt("G"), f.opt("b"), f.opt("b_y"))
    if k == "gmondeq":
        return k, GMonDEQNet(f.req("A"), f.req("B"), f.req("log_phi"), f.scalar("m"), f.req("U"), f.opt("G"),
                             f.opt("b"), f.opt("b_y"))
    if k == "lben":
        params = LBENParams(log_psi=f.req("log_psi"), G=f.req("G"), U=f.req("U"), V=f.req("V"), S=f.req("S"))
        lc = f.scalar("L_certified") if "L_certified" in f.data else None
        src = f.opt("source")
        return k, LBENNet(params, f.scalar("L"), f.scalar("eps"), f.opt("b"), f.opt("b_y"), f.mask(), lc,
                          f.opt("blocks"), src if isinstance(src, str) else "")
    if k in ("sll", "cpl"):
        depth = f.scalar("depth", integer=True)
        layers = tuple(_ex.ResidualLayer(f.req(f"W_{i}"), f.req(f"T_{i}"), f.opt(f"b_{i}"), kind=k) for i in range(depth))
        return k, _ex.ResidualStack(layers)
    if k == "aol":
        depth = f.scalar("depth", integer=True)
        return k, _ex.AOLNet(tuple(f.req(f"W_{i}") for i in range(depth)), tuple(f.req(f"b_{i}") for i in range(depth)),
                             f.req("W_out"), f.opt("b_out"))
    if k == "sandwich":
        depth = f.scalar("depth", integer=True)
        g = lambda key: tuple(f.req(f"{key}_{i}") for i in range(depth))  # noqa: E731
        return k, _ex.SandwichNet(g("A"), g("B"), g("phi"), g("b"), f.req("B_out"), f.opt("b_out"), L=f.scalar("L"))
    if k in ("conv_sll", "conv_cpl"):
        depth = f.scalar("depth", integer=True)
        N = f.scalar("N", integer=True)
        kk = k[5:]
        layers = tuple(_ec.ConvResidualLayer(f.req(f"K_{i}"), f.req(f"T_{i}"), f.opt(f"b_{i}"), N, kind=kk)
                       for i in range(depth))
        return k, _ec.ConvResidualStack(layers)
    # conv_lben
    ks = f.opt("kernel_sizes")
    m = _cv.ConvLBEN(N=f.scalar("N", integer=True), channels=tuple(int(c) for c in np.asarray(f.req("channels")).reshape(-1)),
                     log_psi=f.req("log_psi"), V_hat=f.cplx("V_hat"), S_hat=f.cplx("S_hat"), G_hat=f.cplx("G_hat"),
                     U_hat=f.cplx("U_hat"), b=f.req("b"), b_y=f.req("b_y"), identity_mask=f.mask(),
                     L=f.scalar("L"), eps=f.scalar("eps"), support=f.mask("support"),
                     kernel_sizes=() if ks is None else tuple(tuple(int(v) for v in r) for r in np.asarray(ks).reshape(-1, 2)))
    C = m.C
    N = m.N
    for name, shp in (("V_hat", (N, N, None, C)), ("S_hat", (N, N, C, C)), ("G_hat", (N, N, None, C)),
                      ("U_hat", (N, N, C, None))):
        a = getattr(m, name)
        if a.ndim != 4 or any(s is not None and a.shape[i] != s for i, s in enumerate(shp)):
            raise ShapeError(f"{f.path}:{name}: expected shape {shp} (None = any), got {a.shape}")
    if m.identity_mask is None or m.identity_mask.shape != (C,) or m.b.shape != (C,) or m.log_psi.shape != (C,):
        raise ShapeError(f"{f.path}: identity_mask, b, log_psi must have shape ({C},)")
    return k, m


# ----------------------------------------------------------------------------------------------
# materialize / convert / evaluate
# ----------------------------------------------------------------------------------------------

def _form_arrays(form: "_ex.DEQForm") -> Dict[str, Any]:
    return {"W": form.W, "U": form.U, "b": form.b, "G": form.G, "b_y": form.b_y, "identity_mask": form.identity_mask}


def _deq_arrays(kind: str, obj: Any, path: str = "") -> Dict[str, Any]:
    from .model import DEQ

    if isinstance(obj, DEQ):
        a = {"W": obj.W, "U": obj.U, "b": obj.b, "G": obj.G, "b_y": obj.b_y, "identity_mask": obj.identity_mask}
    elif isinstance(obj, (MonDEQNet, GMonDEQNet)):
        a = {"W": obj.W(), "U": obj.U, "b": obj.b, "G": obj.G, "b_y": obj.b_y, "identity_mask": None}
    elif isinstance(obj, LBENNet):
        a = {"W": obj.W(), "U": obj.params.U, "b": obj.b, "G": obj.params.G, "b_y": obj.b_y,
             "identity_mask": obj.identity_mask}
    elif isinstance(obj, _ex.ResidualStack):
        a = _form_arrays(_ex.sll_to_deq(obj))
    elif isinstance(obj, _ex.AOLNet):
        a = _form_arrays(_ex.aol_to_deq(obj))
    elif isinstance(obj, _ex.SandwichNet):
        a = _form_arrays(_ex.sandwich_to_deq(obj))
    elif isinstance(obj, _ec.ConvResidualStack):
        n = obj.d + sum(l.k for l in obj.layers) * obj.N ** 2
        _dense_guard(n, path)
        a = _form_arrays(_ex.sll_to_deq(obj.to_dense()))
    elif isinstance(obj, _cv.ConvLBEN):
        _dense_guard(obj.C * obj.N ** 2, path)
        a = obj.dense()
    else:  # pragma: no cover - read_model returns only the types above
        raise DomainError(f"model: unsupported object {type(obj).__name__}")
    return {"kind": kind, **a}


def _dense_guard(n: int, path: str) -> None:
    if n > MAX_DENSE_N:
        raise DomainError(f"{path}: convolutional model with state dimension {n} > {MAX_DENSE_N}: dense "
                          f"materialization refused (use a smaller grid, or formats.MAX_DENSE_N)")


def load_model(path: "str | os.PathLike[str]") -> Dict[str, Any]:
    """Any supported model file as DEQ arrays ``{"kind", "W", "U", "b", "G", "b_y", "identity_mask"}``
    (absent arrays → ``None``). Explicit nets use their exact DEQ embeddings (havens2023 eq. 14,
    App. D); LBEN files are materialized with eq. (7); convolutional kinds densely (state dimension
    ≤ :data:`MAX_DENSE_N`)."""
    kind, obj = read_model(path)
    return _deq_arrays(kind, obj, os.fspath(path))


def to_lben(kind: str, obj: Any) -> Any:
    """Convert a read model to LBEN: a :class:`deqtheory.convert.Conversion` (dense kinds) or a
    :class:`deqtheory.convert.ConvLBEN` (``conv_sll``/``conv_cpl``)."""
    if kind == "mondeq":
        return _cv.mondeq_to_lben(obj.A, obj.B, obj.m, obj.U, obj.G, obj.b, obj.b_y)
    if kind == "gmondeq":
        return _cv.gmondeq_to_lben(obj.A, obj.B, np.exp(obj.log_phi), obj.m, obj.U, obj.G, obj.b, obj.b_y)
    if kind in ("sll", "cpl"):
        return _cv.sll_to_lben(obj)
    if kind == "aol":
        return _cv.aol_to_lben(obj)
    if kind == "sandwich":
        return _cv.sandwich_to_lben(obj)
    if kind in ("conv_sll", "conv_cpl"):
        return _cv.conv_sll_to_lben(obj)
    raise DomainError(f"kind: no LBEN conversion from {kind!r} (supported: mondeq, gmondeq, sll, cpl, aol, sandwich, "
                      f"conv_sll, conv_cpl)")


def _solve_dense(a: Dict[str, Any], X: np.ndarray, tol: Optional[float], lam: Optional[np.ndarray]):
    """Fixed point of a dense DEQ: exact DAG solve on W with rounding-level entries snapped to 0
    when that W is feed-forward (converted explicit nets), else PR in the Λ-metric (LBEN) or
    ``auto``; the residual is always recomputed with the stored W."""
    from . import graph, solvers

    W = np.asarray(a["W"])
    n = W.shape[0]
    U = a["U"]
    mask = a.get("identity_mask")
    tol_v = tol
    snap = 64 * n * 2.0 ** -53 * float(np.max(np.abs(W))) if W.size else 0.0
    Ws = np.where(np.abs(W) <= snap, 0.0, W)
    if graph.is_feedforward(Ws).certified:
        r = solvers.solve(Ws, U, a["b"], X, method="exact_dag", tol=tol_v, identity_mask=mask)
        res = solvers.fixed_point_residual(W, U, a["b"], r.z, X, identity_mask=mask)
        rmax = float(np.max(res))
        if rmax <= r.tol:
            return r.z, rmax, r.tol, "converged", "exact_dag" + ("" if snap == 0 or np.array_equal(Ws, W) else "(snapped)")
    if lam is not None:
        r = solvers.solve(W, U, a["b"], X, method="pr", tol=tol_v, Lambda=lam, max_iter=200_000, identity_mask=mask)
    else:
        r = solvers.solve(W, U, a["b"], X, method="auto", tol=tol_v, max_iter=200_000, identity_mask=mask)
    return r.z, r.residual, r.tol, r.status.value, r.method


def evaluate(path_or_model: Any, X: Any, *, tol: Optional[float] = None) -> Tuple[np.ndarray, Dict[str, Any]]:
    """Evaluate a model file (or ``(kind, object)`` from :func:`read_model`) on inputs ``X``.

    Explicit nets: direct evaluation (``status = "explicit"``, residual 0). DEQs (``deq``,
    ``mondeq``, ``gmondeq``, ``lben``): fixed point to residual ``tol`` (default
    ``1e-12·max(1, max‖Ux + b‖)``), then ``y = Gz + b_y``. Conv kinds take images ``(B, c, N, N)``
    (or flattened ``(B, c N²)``, answered flattened). Returns ``(Y, info)`` with ``info`` =
    ``{"kind", "status", "residual", "tol", "method"}``."""
    kind, obj = read_model(path_or_model) if not isinstance(path_or_model, tuple) else path_or_model
    X = np.asarray(X, dtype=float)
    if not np.all(np.isfinite(X)):
        from .errors import NonFiniteError

        raise NonFiniteError(f"X: non-finite entries in shape {X.shape}")
    info: Dict[str, Any] = {"kind": kind}
    if kind in ("sll", "cpl", "aol", "sandwich"):
        return np.asarray(obj(X)), {**info, "status": "explicit", "residual": 0.0, "tol": 0.0, "method": "explicit"}
    if kind in ("conv_sll", "conv_cpl", "conv_lben"):
        c_in = obj.c if kind != "conv_lben" else obj.c_in
        N = obj.N
        flat = X.ndim in (1, 2) and X.shape[-1] == c_in * N * N
        Xi = X.reshape(X.shape[:-1] + (c_in, N, N)) if flat else X
        if kind == "conv_lben":
            r = obj.solve(Xi, method="dag", tol=tol)
            if not r.converged:
                r = obj.solve(Xi, method="pr", tol=r.tol, max_iter=100_000)
            Y = obj.output(r.z)
            info.update(status=r.status, residual=r.residual, tol=r.tol, method=r.method)
        else:
            Y = obj(Xi)
            info.update(status="explicit", residual=0.0, tol=0.0, method="explicit")
        return (Y.reshape(Y.shape[:-3] + (-1,)) if flat else Y), info
    a = _deq_arrays(kind, obj)
    n = a["W"].shape[0]
    U = np.eye(n) if a["U"] is None else np.asarray(a["U"])
    b = np.zeros(n) if a["b"] is None else np.asarray(a["b"])
    a = {**a, "U": U, "b": b}
    if X.ndim not in (1, 2) or X.shape[-1] != U.shape[1]:
        raise ShapeError(f"X: expected shape ({U.shape[1]},) or (batch, {U.shape[1]}), got {X.shape}")
    if tol is None:
        V = np.atleast_2d(X) @ U.T + b
        tol = 1e-12 * max(1.0, float(np.max(np.sqrt(np.sum(V * V, axis=1)))))
    lam = None
    if isinstance(obj, LBENNet):
        lam = np.exp(-obj.params.log_psi)          # Λ = Ψ⁻¹: Λ-monotone (havens2023 eq. 7)
    elif isinstance(obj, GMonDEQNet):
        lam = np.exp(-obj.log_phi)                 # Γ = Φ⁻¹ (havens2023 §2.3)
    z, res, t, status, method = _solve_dense(a, X, tol, lam)
    G = np.eye(n) if a["G"] is None else np.asarray(a["G"])
    by = np.zeros(G.shape[0]) if a["b_y"] is None else np.asarray(a["b_y"])
    Y = np.asarray(z) @ G.T + by
    return Y, {**info, "status": status, "residual": float(res), "tol": float(t), "method": method}
