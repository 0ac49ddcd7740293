r"""Classifier certificates that re-check without torch: the witness file of ``deqtheory-train certify
--witness`` and its numpy re-check (:func:`recheck`; on the command line ``deqtheory verify-certification``,
:mod:`deqtheory.cli`).

**What a certification claims.** For a classifier file (:class:`deqtheory.pipeline.Pipeline`:
pre-stages → a dense DEQ z = σ(Wz + Ux + b) → head y = Gz + b_y), inputs X with labels y, a threat
model (norm ``"2"`` or ``"inf"``, radii ε_1 … ε_E, an optional domain box for ℓ∞), the claims are

* ``certified[i, k]`` — every x′ with ‖x′ − x_i‖ ≤ ε_k (ℓ∞: and x′ in the domain) is classified y_i by
  the exact real-arithmetic function of the stored arrays, and x_i with a positive exact margin;
* ``correct[i]`` (only where some ε is claimed) and ℓ2 ``radius[i]`` — the open ℓ2 ball of radius
  ``radius[i]`` is classified y_i.

**The witness file** (one pickle-free ``.npz``, :func:`save_certification`): ``X``, ``labels``,
``eps``, the claims, per image the clean fixed point ẑ (``z``), the claimed margin lower bounds and
fixed-point error bounds (reported, never trusted), for ℓ∞ the lifted fixed point [z̄; z̲] per ε
(``z_lift``); every proved constant as a :class:`~deqtheory.certificates.Certificate` with its
witness (``cert/<name>/…``, :data:`CERTIFICATE_TARGETS` says which matrix it is about); the exported
model file itself (``model_npz``, bytes) and its sha256 in ``__meta__`` (JSON).

**The re-check** (:func:`recheck`) trusts nothing of that but ẑ as a *point*:

1. the model is the embedded file, or the file given, whose sha256 must equal the recorded one;
2. every stored constant certificate is re-verified from its witness against the file's arrays
   (:meth:`Certificate.verify`; lifts: on :func:`~deqtheory.intervals.ibp_lift` /
   :func:`~deqtheory.intervals.metzler_lift` of the file's W); only re-verified ones are used; the ℓ2
   constants L_{x→z} are re-proved (:func:`~deqtheory.bounds.pabbaraju_lipschitz`,
   :func:`~deqtheory.bounds.havens_gmondeq_lipschitz`), ‖G‖₂ by :func:`~deqtheory.bounds.norm2_upper`;
3. per image: the pre-stages as a box containing the exact value (Normalize with its rounding
   allowance γ₃|t̃|, Linear by :func:`~deqtheory.intervals.affine_box`); ``[v̲, v̄]`` ∋ Ux + b
   (:func:`~deqtheory.intervals.affine_box`); with v = (v̲ + v̄)/2 and |v_exact − v| ≤ dv, the residual
   of ẑ (:func:`~deqtheory.bounds.residual_bound`, plus dv since ReLU is 1-Lipschitz), the fixed-point
   error (:func:`~deqtheory.bounds.fixed_point_error_bound`, componentwise minimum over the re-verified
   conditions), the box [ẑ − e, ẑ + e] ∋ z*, the folded margin lower bounds
   (:func:`~deqtheory.intervals.margin_lower_bounds`);
4. decisions: ℓ2 certified iff all m̲_j > ⌈K_yj ε(1 + 2u)⌉ with K_yj = ℓ_pre·min(‖g_y − g_j‖₂ L_{x→z},
   √2 L_{x→y}) (the tightest of the certifier's factors; it confirms claims made with the others),
   radius r iff ⌈K_yj r (1 + 2u)⌉ ≤ m̲_j; ℓ∞: the widened lifted box from the stored [z̄; z̲] (input
   [v̄; v̲] of the ℓ∞ box through the pre-stages), folded margins > 0.

**Conv ℓ∞ classifiers** (the ``conv_linf`` certifier; a pipeline whose DEQ stages all have a row in
:data:`deqtheory.conv_certificate.CONV_LIFTS`, any number in sequence, with conv / BatchNorm / pooling /
dense stages around them and a Linear head): the same file format — ``z`` and ``z_lift`` hold per DEQ (in
order) the clean point (c, N, N) and the lifted point [z̄; z̲] (2c, N, N), flattened and concatenated; the
certificates are named ``<condition>@<k>`` (:data:`CONV_CONDITIONS`) and re-verified on the W kernel of the
k-th DEQ stage of the file; the chain is re-proved by :mod:`deqtheory.conv_certificate` (its module
docstring: one centre/radius conv box rule with its rounding model, the residual by direct circular
convolution, the matrix-free error bound), batched by :data:`CONV_BATCH` images.

Not re-checked in numpy (reported as ``needs_torch``, never skipped silently): ℓ2 certifications of conv
models (their certifier works per frequency on the FFT of the conv operator; it hands out no witnesses
yet), conv DEQ kinds without a ``CONV_LIFTS`` row, explicit nets, and dense models with pre-stages other
than Normalize/Flatten/Linear/ReLU.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import tempfile
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import bounds as _bounds
from . import conv_certificate as _cc
from . import formats as _fm
from . import intervals as _iv
from . import pipeline as _pl
from .certificates import Certificate, MessageEnum, Status, to_jsonable
from .conditions import canonical
from .sdp import lmi as _lmi  # noqa: F401  (registers the verifiers of the x → y Lipschitz LMI certificates)
from .model import DEQ
from .errors import DEQInputError, DomainError, ModelFileError, ShapeError
from .io import atomic_write, check_npz_headers, json_object, load_npz_raw
from .verified import INFLATE, UNIT_ROUNDOFF, gamma, round_up

__all__ = ["FORMAT", "CERTIFICATE_TARGETS", "CERTIFICATE_CONDITIONS", "CONV_CONDITIONS", "certificate_target",
           "expected_conditions", "ClaimStatus", "Certification",
           "EpsResult", "RecheckReport",
           "save_certification", "load_certification", "recheck"]

FORMAT = "deqtheory-classifier-certification/1"
_U = UNIT_ROUNDOFF

#: certificate name → the matrix its condition is about: ``"W"`` (the DEQ's W), ``"WUG"`` (W, U and the
#: head G: an x → y Lipschitz LMI), ``"lift_ibp"`` / ``"lift_metzler"`` (the lifted 2n × 2n matrix).
CERTIFICATE_TARGETS: Dict[str, str] = {
    "monotone": "W", "monotone_weighted": "W", "mu_inf": "W",
    "L_x_to_y_lben": "WUG", "L_x_to_y_sdp": "WUG",
    "lift_ibp_monotone": "lift_ibp", "lift_ibp_mu_inf": "lift_ibp",
    "lift_metzler_monotone": "lift_metzler", "lift_metzler_mu_inf": "lift_metzler",
}
#: conditions of conv DEQ stages (from :data:`deqtheory.conv_certificate.CONV_LIFTS`): a certificate named
#: ``<condition>@<k>`` is about the W kernel of the k-th conv DEQ stage of the file (target ``"conv"``)
CONV_CONDITIONS = tuple(sorted({c for lf in _cc.CONV_LIFTS.values() for c in (lf.monotone, lf.contraction) if c}))


#: certificate name → the conditions a certificate stored under that name may have: a re-verified
#: certificate is used only for what its own condition proves (a valid ``mu_inf`` proof stored as
#: ``"monotone"`` would otherwise be read as an ℓ2 monotonicity margin).
CERTIFICATE_CONDITIONS: Dict[str, Tuple[str, ...]] = {
    "monotone": ("monotone",), "monotone_weighted": ("monotone",), "mu_inf": ("mu_inf",),
    "L_x_to_y_lben": ("lipschitz_lmi", "l2_sdp"), "L_x_to_y_sdp": ("lipschitz_lmi", "l2_sdp"),
    "lift_ibp_monotone": ("monotone",), "lift_ibp_mu_inf": ("mu_inf",),
    "lift_metzler_monotone": ("monotone",), "lift_metzler_mu_inf": ("mu_inf",),
}


def expected_conditions(name: str) -> Tuple[str, ...]:
    """The conditions a certificate stored as ``name`` may have (:data:`CERTIFICATE_CONDITIONS`; the
    ``<condition>@<k>`` conv names: that condition)."""
    base, _, k = name.rpartition("@")
    if base in CONV_CONDITIONS and k.isdigit():
        return (base,)
    return CERTIFICATE_CONDITIONS.get(name, ())


def certificate_target(name: str) -> Optional[str]:
    """What the certificate ``name`` is about (:data:`CERTIFICATE_TARGETS`, or ``"conv"`` for
    ``<condition>@<k>`` with a condition of :data:`CONV_CONDITIONS`); ``None`` if unknown."""
    base, _, k = name.rpartition("@")
    if base in CONV_CONDITIONS and k.isdigit():
        return "conv"
    return CERTIFICATE_TARGETS.get(name)


class ClaimStatus(MessageEnum):
    """Outcome of re-checking one claim: ``value`` the machine name, ``message`` the human one."""

    CONFIRMED = ("confirmed", "re-proved in numpy from the stored witness on the model file")
    NOT_CONFIRMED = ("not_confirmed", "the numpy re-check could not prove the claim")
    NEEDS_TORCH = ("needs_torch", "this part of the certification cannot be re-checked in numpy")
    MODEL_MISMATCH = ("model_mismatch", "the model file is not the one that was certified")


# ----------------------------------------------------------------------------------------------
# the file
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Certification:
    """A saved certification (:func:`load_certification`); fields as in the module docstring.
    ``witness``: ``z`` (N, n), ``clean_margins`` (N, p), ``fixed_point_error`` (N,), ℓ∞ ``z_lift``
    (N, E, 2n), ``interval_margins`` (N, E, p)."""

    X: np.ndarray
    labels: np.ndarray
    norm: str
    eps: np.ndarray
    domain: Optional[Tuple[float, float]]
    certified: np.ndarray
    correct: np.ndarray
    radius: Optional[np.ndarray]
    witness: Dict[str, np.ndarray]
    certificates: Dict[str, Certificate]
    model_npz: bytes
    meta: Dict[str, Any]

    @property
    def model_sha256(self) -> str:
        return str(self.meta["model_sha256"])


def _cert_arrays(name: str, c: Certificate) -> Dict[str, np.ndarray]:
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in c.witness.items()
              if isinstance(v, np.ndarray) or (isinstance(v, (list, tuple)) and len(v) and not isinstance(v[0], str))}
    scalars = {k: to_jsonable(v) for k, v in c.witness.items() if k not in arrays}
    head = {"condition": c.condition, "status": c.status.value, "margin": to_jsonable(c.margin),
            "witness": scalars, "stats": to_jsonable(dict(c.stats)), "message": c.message}
    out = {f"cert/{name}/__json__": np.asarray(json.dumps(head, sort_keys=True))}
    out.update({f"cert/{name}/witness/{k}": v for k, v in arrays.items()})
    return out


def _num(v: Any) -> Any:
    return float(v) if isinstance(v, str) and v in ("inf", "-inf", "nan") else v


def _cert_from(name: str, f: Mapping[str, np.ndarray], p: str = "") -> Certificate:
    from ._validate import as_array

    key = f"cert/{name}/__json__"
    if key not in f:
        raise ModelFileError(f"{p}: missing array {key!r}")
    head = json_object(f"{p}:{key}", f[key])
    pre = f"cert/{name}/witness/"
    try:
        wit: Dict[str, Any] = {k: _num(v) for k, v in head["witness"].items()}
        wit.update({k[len(pre):]: as_array(f"{p}:{k}", f[k], allow_empty=True, check_finite=False)
                    for k in f if k.startswith(pre)})
        return Certificate(head["condition"], Status(head["status"]), margin=float(_num(head["margin"])),
                           witness=wit, stats={k: _num(v) for k, v in head["stats"].items()}, message=str(head["message"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, DEQInputError):
            raise
        raise ModelFileError(f"{p}:{key}: malformed certificate record ({type(exc).__name__}: {exc})") from None


def save_certification(path: "str | os.PathLike[str]", *, model_npz: bytes, X: Any, labels: Any, norm: str,
                       eps: Sequence[float], domain: Optional[Tuple[float, float]], certified: Any, correct: Any,
                       radius: Any, witness: Mapping[str, Any], certificates: Mapping[str, Certificate],
                       meta: Optional[Mapping[str, Any]] = None) -> str:
    """Write a certification (module docstring) atomically; returns the model's sha256. ``model_npz``:
    the bytes of the exported model file (:func:`deqtheory.formats.save_model`)."""
    unknown = sorted(n for n in certificates if certificate_target(n) is None)
    if unknown:
        raise DomainError(f"certificates: no target known for {unknown} (CERTIFICATE_TARGETS, CONV_CONDITIONS)")
    sha = hashlib.sha256(model_npz).hexdigest()
    head = {"format": FORMAT, "norm": str(norm), "eps": [float(e) for e in eps],
            "domain": None if domain is None else [float(domain[0]), float(domain[1])], "model_sha256": sha,
            "certificates": sorted(certificates), **to_jsonable(dict(meta or {}))}
    arrays: Dict[str, np.ndarray] = {"__meta__": np.asarray(json.dumps(head, sort_keys=True)),
                                     "model_npz": np.frombuffer(model_npz, dtype=np.uint8),
                                     "X": np.asarray(X, dtype=np.float64), "labels": np.asarray(labels, dtype=np.int64),
                                     "eps": np.asarray(eps, dtype=np.float64),
                                     "certified": np.asarray(certified, dtype=bool),
                                     "correct": np.asarray(correct, dtype=bool)}
    if radius is not None:
        arrays["radius"] = np.asarray(radius, dtype=np.float64)
    arrays.update({f"witness/{k}": np.asarray(v, dtype=np.float64) for k, v in witness.items()})
    for name, c in certificates.items():
        arrays.update(_cert_arrays(name, c))
    atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))
    return sha


def _meta_field(p: str, meta: Mapping[str, Any], key: str, ok: Callable[[Any], bool], want: str) -> Any:
    v = meta.get(key)
    if not ok(v):
        raise ModelFileError(f"{p}:__meta__: {key} must be {want}, got {v!r}")
    return v


def load_certification(path: "str | os.PathLike[str]") -> Certification:
    """Read a file of :func:`save_certification` (``ModelFileError`` if it is not one; every member's
    header, dtype and shape checked by the shared readers of :mod:`deqtheory.io` / ``_validate``)."""
    from ._validate import as_array

    p = os.fspath(path)
    f = load_npz_raw(p)                      # sizes from the headers first: nothing huge is allocated
    if "__meta__" not in f:
        raise ModelFileError(f"{p}: no __meta__ entry: not a certification file")
    meta = json_object(f"{p}:__meta__", f["__meta__"])
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{p}: format {meta.get('format')!r}, expected {FORMAT!r}")
    for k in ("X", "labels", "eps", "certified", "correct", "model_npz", "witness/z"):
        if k not in f:
            raise ModelFileError(f"{p}: missing array {k!r}")
    norm = _meta_field(p, meta, "norm", lambda v: v in ("2", "inf"), "'2' or 'inf'")
    names = _meta_field(p, meta, "certificates", lambda v: isinstance(v, list) and all(
        isinstance(n, str) and certificate_target(n) is not None for n in v),
        f"a list of names from {sorted(CERTIFICATE_TARGETS)} or <condition>@<k> with a condition of "
        f"{list(CONV_CONDITIONS)}")
    dom = _meta_field(p, meta, "domain", lambda v: v is None or (isinstance(v, list) and len(v) == 2 and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)), "null or [lo, hi]")
    _meta_field(p, meta, "model_sha256", lambda v: isinstance(v, str), "a string")
    arr = {k: as_array(f"{p}:{k}", f[k], ndim=nd, allow_empty=True) for k, nd in
           (("labels", 1), ("eps", 1), ("certified", 2), ("correct", 1))}
    arr["X"] = as_array(f"{p}:X", f["X"], allow_empty=True)
    N, E = arr["labels"].shape[0], arr["eps"].shape[0]
    if arr["certified"].shape != (N, E) or arr["correct"].shape != (N,) or arr["X"].ndim < 1 or arr["X"].shape[0] != N:
        raise ShapeError(f"{p}: certified {arr['certified'].shape}, correct {arr['correct'].shape}, X {arr['X'].shape}: "
                         f"expected ({N}, {E}), ({N},), ({N}, ...)")
    if np.any(arr["labels"] != np.round(arr["labels"])) or np.any(arr["labels"] < 0) or np.any(arr["eps"] < 0):
        raise DomainError(f"{p}: labels must be non-negative integers and eps >= 0")
    if f["model_npz"].dtype != np.uint8 or f["model_npz"].ndim != 1:
        raise ModelFileError(f"{p}:model_npz: expected uint8 bytes, got dtype {f['model_npz'].dtype} shape {f['model_npz'].shape}")
    wit = {k[len("witness/"):]: as_array(f"{p}:{k}", v, allow_empty=True, check_finite=False)
           for k, v in f.items() if k.startswith("witness/")}
    radius = as_array(f"{p}:radius", f["radius"], ndim=1, allow_empty=True, check_finite=False) if "radius" in f else None
    for k, v in [(f"witness/{k}", v) for k, v in wit.items()] + ([("radius", radius)] if radius is not None else []):
        if v.ndim < 1 or v.shape[0] != N or (k in ("witness/z_lift", "witness/interval_margins")
                                             and (v.ndim != 3 or v.shape[1] != E)):
            raise ShapeError(f"{p}:{k}: shape {v.shape} does not match {N} images and {E} radii")
    certs = {n: _cert_from(n, f, p) for n in names}
    return Certification(X=arr["X"], labels=arr["labels"].astype(np.int64), norm=str(norm), eps=arr["eps"],
                         domain=None if dom is None else (float(dom[0]), float(dom[1])),
                         certified=arr["certified"] != 0, correct=arr["correct"] != 0, radius=radius, witness=wit,
                         certificates=certs, model_npz=f["model_npz"].tobytes(), meta=meta)


# ----------------------------------------------------------------------------------------------
# the re-check
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class EpsResult:
    """Re-check of the claims at one ε: ``claimed`` images, ``confirmed`` of them, ``unconfirmed`` the
    first few ``(index, reason)``; ``status`` CONFIRMED iff all claims are."""

    eps: float
    claimed: int
    confirmed: int
    status: ClaimStatus
    unconfirmed: List[Tuple[int, str]]

    def to_dict(self) -> Dict[str, Any]:
        return {"eps": self.eps, "claimed": self.claimed, "confirmed": self.confirmed,
                "not_confirmed": self.claimed - self.confirmed, "status": self.status.value,
                "first_unconfirmed": [{"index": i, "reason": r} for i, r in self.unconfirmed]}


@dataclasses.dataclass
class RecheckReport:
    """Result of :func:`recheck`: ``status`` (CONFIRMED iff every claim and every stored constant
    certificate re-verified), per-ε results, the radius claims (ℓ2), the constants (name → dict with the
    stored and re-verified status/margin) and ``notes`` (what was not re-checked and why)."""

    status: ClaimStatus
    model_sha256: str
    model_kind: str
    norm: str
    per_eps: List[EpsResult]
    radius: Optional[EpsResult]
    constants: Dict[str, Dict[str, Any]]
    notes: List[str]
    domain: Optional[Tuple[float, float]] = None

    @property
    def ok(self) -> bool:
        return self.status is ClaimStatus.CONFIRMED

    def to_dict(self) -> Dict[str, Any]:
        return {"status": self.status.value, "message": self.status.message, "model_sha256": self.model_sha256,
                "model_kind": self.model_kind, "norm": self.norm, "domain": self.domain, "per_eps": [r.to_dict() for r in self.per_eps],
                "radius": None if self.radius is None else self.radius.to_dict(),
                "constants": to_jsonable(self.constants), "notes": list(self.notes)}

    def format(self) -> str:
        lines = [f"certification re-check: {self.status.value} ({self.status.message})",
                 f"model sha256 {self.model_sha256}  kind {self.model_kind}  norm l{self.norm}"
                 + ("" if self.domain is None else f"  domain [{self.domain[0]:g}, {self.domain[1]:g}]")]
        for name, c in self.constants.items():
            lines.append(f"  constant {name:<22} stored {c['stored']:<12} re-verified {c['status']:<12} "
                         f"margin {c['margin']:.6g}")
        lines.append(f"{'eps':>12}  {'claimed':>8}  {'confirmed':>9}  {'not':>5}")
        for r in self.per_eps + ([self.radius] if self.radius is not None else []):
            tag = f"{r.eps:>12.6g}" if r is not self.radius else f"{'radius':>12}"
            lines.append(f"{tag}  {r.claimed:>8}  {r.confirmed:>9}  {r.claimed - r.confirmed:>5}")
            lines.extend(f"{'':>14}image {i}: {why}" for i, why in r.unconfirmed)
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def _pre_box(stages: Sequence[Any], lo: np.ndarray, hi: np.ndarray) -> _iv.Box:
    """A box containing the exact image of [lo, hi] (one sample, raw shape) under the pre-stages."""
    for st in stages:
        if isinstance(st, _pl.Normalize):
            lo, hi = (a[0] for a in _cc.normalize_box(st, lo[None], hi[None]))
        elif isinstance(st, _pl.Flatten):
            lo, hi = lo.reshape(-1), hi.reshape(-1)
        elif isinstance(st, _pl.ReLU):
            lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
        elif isinstance(st, _pl.Linear):
            bx = _iv.affine_box(st.W, st.b, _iv.Box(lo.reshape(-1), hi.reshape(-1)))
            lo, hi = bx.lower, bx.upper
        else:  # pragma: no cover - refused earlier by _unsupported_pre
            raise DomainError(f"pre-stage {type(st).__name__}: no numpy box rule")
    return _iv.Box(lo.reshape(-1), hi.reshape(-1))


@dataclasses.dataclass
class _Model:
    kind: str
    pre: Tuple[Any, ...]
    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    G: np.ndarray
    b_y: np.ndarray
    note: Optional[str] = None          # why the numpy re-check cannot redo this model (needs torch)


def _needs_torch(kind: str, note: str) -> _Model:
    e = np.zeros((0, 0))
    return _Model(kind, (), e, e, np.zeros(0), e, np.zeros(0), note=note)


def _split(kind: str, obj: Any, path: str) -> _Model:
    stages = tuple(obj.stages) if isinstance(obj, _pl.Pipeline) else (obj,)
    ms = obj.model_stage() if isinstance(obj, _pl.Pipeline) else obj
    k = next(i for i, s in enumerate(stages) if s is ms)
    mk = _fm.kind_of(ms)
    if not isinstance(ms, (DEQ, _fm.FamilyNet, _fm.LBENNet)):          # a dense DEQ stage (any family)
        return _needs_torch(mk, f"model stage of kind {mk!r}: its certifier (torch: the conv plan's per-frequency FFT "
                           f"bounds, or an explicit net's) hands out no numpy-checkable witness; every claim needs torch")
    pre, post = stages[:k], stages[k + 1:]
    a = _fm.TABLE[mk].arrays(ms, path)
    if a.get("identity_mask") is not None:
        return _needs_torch(mk, "identity_mask: the bounds assume sigma = ReLU on every coordinate")
    bad = [type(s).__name__ for s in pre if not isinstance(s, (_pl.Normalize, _pl.Flatten, _pl.Linear, _pl.ReLU))]
    if bad:
        return _needs_torch(mk, f"pre-stages {bad}: no numpy box rule here (the torch certifier's blocks); needs torch")
    G, b_y = a.get("G"), a.get("b_y")
    if len(post) == 1 and isinstance(post[0], _pl.Linear) and G is None:
        G, b_y = post[0].W, post[0].b
    elif post or G is None:
        raise DomainError(f"{path}: expected the DEQ's readout or one Linear head after it, got "
                          f"{[type(s).__name__ for s in post]}")
    n = a["W"].shape[0]
    b = np.zeros(n) if a.get("b") is None else np.asarray(a["b"], dtype=np.float64)
    b_y = np.zeros(G.shape[0]) if b_y is None else np.asarray(b_y, dtype=np.float64)
    return _Model(mk, pre, np.asarray(a["W"], np.float64), np.asarray(a["U"], np.float64), b,
                  np.asarray(G, np.float64), b_y)


def _target(model: _Model, target: str) -> Dict[str, Any]:
    if target == "W":
        return {"W": model.W}
    if target == "WUG":
        return {"W": model.W, "U": model.U, "G": model.G}
    lift = _iv.ibp_lift if target == "lift_ibp" else _iv.metzler_lift
    return {"W": lift(model.W)}


def _reverify(cert: Certificate, problem: Mapping[str, Any]) -> Certificate:
    try:
        return cert.verify(**problem)
    except (DEQInputError, KeyError, ValueError, np.linalg.LinAlgError) as exc:
        return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf, message=f"re-verification failed: {exc}")


class _Conditions:
    """The conditions re-verified on the file's arrays and the fixed-point error bound they give."""

    def __init__(self, certs: Mapping[str, Certificate], prefix: str, phi: Optional[np.ndarray]) -> None:
        self.mono = certs.get(prefix + "monotone")
        self.mu = certs.get(prefix + "mu_inf")
        self.m_weighted: Optional[float] = None
        cw = certs.get(prefix + "monotone_weighted")
        if cw is not None and phi is not None:
            # sym(Φ⁻¹(I − W)) ⪰ m_Φ I ⇒ the ℓ2 bound with m = m_Φ · min Φ (deqtheory_train.certify.deq)
            self.m_weighted = float(np.nextafter(cw.margin * (1 - 8 * _U) * float(np.min(phi)) * (1 - 4 * _U), 0.0))

    @property
    def any(self) -> bool:
        return self.mono is not None or self.mu is not None or self.m_weighted is not None

    def error(self, M: np.ndarray, v: np.ndarray, dv: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Componentwise bound on |z − z*(v_exact)| for |v_exact − v| ≤ dv (+inf without a condition).
        The stored z is data from the file: a bound that overflows (a z of 1e300) is +inf, nothing proved."""
        with np.errstate(over="ignore", invalid="ignore"):
            r, delta = _bounds.residual_bound(M, v, z)
            d = (delta + dv) * (1 + 2 * _U)
            e = np.full(M.shape[0], math.inf)
            if self.mono is not None:
                e = np.minimum(e, _bounds.fixed_point_error_bound(M, r, "2", residual_err=d,
                                                                  certificate=self.mono).componentwise)
            if self.m_weighted is not None and self.m_weighted > 0:
                e = np.minimum(e, _bounds.fixed_point_error_bound(M, r, "2", residual_err=d,
                                                                  m=self.m_weighted).componentwise)
            if self.mu is not None:
                e = np.minimum(e, _bounds.fixed_point_error_bound(M, r, "inf", residual_err=d,
                                                                  certificate=self.mu).componentwise)
        return np.where(np.isnan(e), math.inf, e)


def _v_point(model: _Model, box: _iv.Box) -> Tuple[np.ndarray, np.ndarray]:
    """v (float) and dv ≥ |Ux + b − v| for every exact x in ``box``."""
    vb = _iv.affine_box(model.U, model.b, box)
    v = vb.center
    dv = np.nextafter(np.maximum(vb.upper - v, v - vb.lower) * (1 + 2 * _U), np.inf)
    return v, dv


def _clean(model: _Model, cond: _Conditions, x: np.ndarray, z: np.ndarray, label: int
           ) -> Tuple[np.ndarray, Optional[str]]:
    """Proved margin lower bounds at x from the stored ẑ, or a reason why not."""
    n = model.W.shape[0]
    if z.shape != (n,) or not np.all(np.isfinite(z)):
        return np.full(model.G.shape[0], -math.inf), f"stored z has shape {z.shape} or non-finite entries (n = {n})"
    v, dv = _v_point(model, _pre_box(model.pre, x, x))
    e = cond.error(model.W, v, dv, z)
    if not np.all(np.isfinite(e)):
        return np.full(model.G.shape[0], -math.inf), "no fixed-point condition on W re-verified"
    m = _iv.margin_lower_bounds(model.G, model.b_y, _iv.Box(z, z).widen(e), label)
    return m, None


def _input_box(x: np.ndarray, eps: float, domain: Optional[Tuple[float, float]]) -> Tuple[np.ndarray, np.ndarray]:
    """[x − ε, x + ε] rounded outward (exact for ε = 0), intersected with the domain (the certifiers'
    ``input_box``)."""
    lo = np.nextafter(x - eps, -np.inf) if eps > 0 else x
    hi = np.nextafter(x + eps, np.inf) if eps > 0 else x
    if domain is not None:
        lo = np.maximum(lo, domain[0])
        hi = np.maximum(np.minimum(hi, domain[1]), lo)
    return lo, hi


def _linf_margins(model: _Model, cond: _Conditions, M: np.ndarray, x: np.ndarray, eps: float,
                  domain: Optional[Tuple[float, float]], zl: np.ndarray, label: int) -> Tuple[np.ndarray, Optional[str]]:
    n = model.W.shape[0]
    if zl.shape != (2 * n,) or not np.all(np.isfinite(zl)):
        return np.full(model.G.shape[0], -math.inf), "no finite lifted fixed point stored"
    vb = _iv.affine_box(model.U, model.b, _pre_box(model.pre, *_input_box(x, eps, domain)))
    vhat = np.concatenate([vb.upper, vb.lower])
    e = cond.error(M, vhat, np.zeros(2 * n), zl)
    if not np.all(np.isfinite(e)):
        return np.full(model.G.shape[0], -math.inf), "no condition on the lifted matrix re-verified"
    zu = np.nextafter(zl[:n] + e[:n] * (1 + 2 * _U), np.inf)
    zlo = np.maximum(np.nextafter(zl[n:] - e[n:] * (1 + 2 * _U), -np.inf), 0.0)
    if np.any(zlo > zu):
        return np.full(model.G.shape[0], -math.inf), "widened lifted box is empty"
    return _iv.margin_lower_bounds(model.G, model.b_y, _iv.Box(zlo, zu), label), None


def _l2_factors(model: _Model, certs: Mapping[str, Certificate], phi: Optional[np.ndarray],
                notes: List[str]) -> np.ndarray:
    """K (p, p): K[y, j] ≥ Lip₂(x ↦ f_y − f_j), re-proved on the file's arrays (module docstring)."""
    Lz = math.inf
    r = _bounds.pabbaraju_lipschitz(model.W, model.U)
    if r.certified:
        Lz = r.value
    if phi is not None:
        r2 = _bounds.havens_gmondeq_lipschitz(model.W, model.U, phi)
        if r2.certified:
            Lz = min(Lz, r2.value)
    Ly = round_up(_bounds.norm2_upper(model.G) * Lz) if math.isfinite(Lz) else math.inf
    for name in ("L_x_to_y_lben", "L_x_to_y_sdp"):
        c = certs.get(name)
        if c is not None and "L" in c.witness:
            Ly = min(Ly, float(c.witness["L"]))
    notes.append(f"l2: L_x_to_z = {Lz:.6g} (re-proved), L_x_to_y = {Ly:.6g}")
    C = model.G[:, None, :] - model.G[None, :, :]
    n = model.W.shape[0]
    cn = np.nextafter(np.linalg.norm(C, axis=-1) * (1 + gamma(n + 4)), np.inf)
    with np.errstate(invalid="ignore"):
        pair = np.where(np.isfinite(Lz), cn * Lz, math.inf)
    glob = math.sqrt(2.0) * (1 + 2 * _U) * Ly
    K = np.minimum(pair, glob) * _pl.stages_lipschitz(model.pre, "2") * (1 + 8 * _U)
    return np.nextafter(np.where(np.isnan(K), math.inf, K), np.inf)


def _result(eps: float, claimed: np.ndarray, bad: Dict[int, str], first: int) -> EpsResult:
    idx = np.flatnonzero(claimed)
    unconf = [(int(i), bad[int(i)]) for i in idx if int(i) in bad]
    status = ClaimStatus.CONFIRMED if not unconf else ClaimStatus.NOT_CONFIRMED
    return EpsResult(float(eps), int(idx.size), int(idx.size) - len(unconf), status, unconf[:first])


def _read_model(data: bytes) -> Tuple[str, Any, str]:
    fd, tmp = tempfile.mkstemp(suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        kind, obj = _fm.read_model(tmp)
        return kind, obj, tmp
    except BaseException:
        os.unlink(tmp)
        raise


def recheck(certification: "str | os.PathLike[str] | Certification", model: "str | os.PathLike[str] | None" = None,
            *, first: int = 5) -> RecheckReport:
    """Re-check a saved certification (module docstring) against the embedded model, or against the
    model file ``model`` (its sha256 must equal the recorded one: a different file gives
    ``MODEL_MISMATCH`` and checks nothing). ``first``: how many unconfirmed images to list per ε."""
    cf = certification if isinstance(certification, Certification) else load_certification(certification)
    sha = cf.model_sha256
    data = cf.model_npz
    if model is not None:
        with open(os.fspath(model), "rb") as fh:
            data = fh.read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha:
        what = f"model file {os.fspath(model)}" if model is not None else "the embedded model"
        return RecheckReport(ClaimStatus.MODEL_MISMATCH, sha, "?", cf.norm, [], None, {},
                             [f"{what} has sha256 {got}, the certification was made for {sha}"])
    kind, obj, tmp = _read_model(data)
    try:
        chain = _cc.conv_chain(obj)
        if isinstance(chain, _cc.ConvChain) and cf.norm == "inf":
            return _recheck_conv(cf, chain, obj.input_shape, sha, first)
        m = _split(kind, obj, tmp)
    finally:
        os.unlink(tmp)
    N, E = cf.certified.shape
    notes: List[str] = []
    if m.note is None:
        d_model = next((int(s.W.shape[1]) for s in m.pre if isinstance(s, _pl.Linear)), int(m.U.shape[1]))
        d_x = int(np.prod(cf.X.shape[1:], dtype=np.int64))
        if d_x != d_model:
            raise ShapeError(f"X: the stored images have shape {tuple(cf.X.shape[1:])} ({d_x} values each); the "
                             f"embedded model takes {d_model}")
    if m.note is not None:
        per = [EpsResult(float(e), int(cf.certified[:, k].sum()), 0,
                         ClaimStatus.NEEDS_TORCH if cf.certified[:, k].any() else ClaimStatus.CONFIRMED, [])
               for k, e in enumerate(cf.eps)]
        st = ClaimStatus.NEEDS_TORCH if cf.certified.any() else ClaimStatus.CONFIRMED
        return RecheckReport(st, sha, m.kind, cf.norm, per, None, {}, [m.note])
    consts, proved, failed = _reverify_all(cf.certificates, lambda name: _target(m, CERTIFICATE_TARGETS[name]))
    cw = cf.certificates.get("monotone_weighted")
    phi = None if cw is None or "phi" not in cw.witness else np.asarray(cw.witness["phi"], dtype=np.float64)
    point = _Conditions(proved, "", phi)
    labels = cf.labels.astype(np.int64)
    p = m.G.shape[0]
    if labels.size and (labels.min() < 0 or labels.max() >= p):
        raise DomainError(f"labels: must be in [0, {p}), got range [{labels.min()}, {labels.max()}]")
    need_any = cf.certified.any(axis=1) | (cf.radius is not None and np.asarray(cf.radius) > 0)
    Z = cf.witness["z"]
    if Z.shape[0] != N:
        raise ShapeError(f"witness z: expected {N} rows, got shape {Z.shape}")
    clean: Dict[int, np.ndarray] = {}
    clean_bad: Dict[int, str] = {}
    for i in np.flatnonzero(need_any):
        mg, why = _clean(m, point, cf.X[i], Z[i], int(labels[i]))
        others = np.delete(mg, labels[i])
        if why is None and p > 1 and not others.min() > 0:
            why = f"clean margin not proved positive (lower bound {others.min():.6g})"
        clean[int(i)] = mg
        if why is not None:
            clean_bad[int(i)] = why
    per: List[EpsResult] = []
    rad: Optional[EpsResult] = None
    if cf.norm == "2":
        K = _l2_factors(m, proved, phi, notes)
        for k, e in enumerate(cf.eps):
            bad = dict(clean_bad)
            for i in np.flatnonzero(cf.certified[:, k]):
                if int(i) in bad or e == 0:
                    continue
                y = int(labels[i])
                need = np.nextafter(K[y] * float(e) * (1 + 2 * _U), np.inf)
                ok = np.delete(clean[int(i)] > need, y)
                if not ok.all():
                    j = int(np.delete(np.arange(p), y)[np.argmin(ok)])
                    bad[int(i)] = f"margin lower bound {clean[int(i)][j]:.6g} to class {j} <= K*eps = {need[j]:.6g}"
            per.append(_result(e, cf.certified[:, k], bad, first))
        if cf.radius is not None:
            r = np.asarray(cf.radius, dtype=np.float64)
            bad = dict(clean_bad)
            for i in np.flatnonzero(r > 0):
                if int(i) in bad:
                    continue
                y = int(labels[i])
                need = np.nextafter(K[y] * r[i] * (1 + 2 * _U), np.inf)
                if not np.delete(need <= clean[int(i)], y).all():
                    bad[int(i)] = f"claimed radius {r[i]:.6g} > proved margin / K"
            rad = _result(math.nan, r > 0, bad, first)
    else:
        lift = str(cf.meta.get("interval", "metzler"))
        M = _iv.ibp_lift(m.W) if lift == "ibp" else _iv.metzler_lift(m.W)
        cond = _Conditions(proved, f"lift_{lift}_", None)
        ZL = cf.witness.get("z_lift")
        if ZL is None or ZL.shape[:2] != (N, E):
            raise ShapeError(f"witness z_lift: expected ({N}, {E}, 2n), got {None if ZL is None else ZL.shape}")
        for k, e in enumerate(cf.eps):
            bad = dict(clean_bad)
            for i in np.flatnonzero(cf.certified[:, k]):
                if int(i) in bad:
                    continue
                y = int(labels[i])
                mg, why = _linf_margins(m, cond, M, cf.X[i], float(e), cf.domain, ZL[i, k], y)
                others = np.delete(mg, y)
                if why is None and not others.min() > 0:
                    why = f"interval margin lower bound {others.min():.6g} <= 0"
                if why is not None:
                    bad[int(i)] = why
            per.append(_result(e, cf.certified[:, k], bad, first))
    return _report(cf, sha, m.kind, per, rad, consts, failed, notes, first)


def _report(cf: Certification, sha: str, kind: str, per: List[EpsResult], rad: Optional[EpsResult],
            consts: Dict[str, Dict[str, Any]], failed: bool, notes: List[str], first: int) -> RecheckReport:
    """The report: CONFIRMED iff every claim is, no certified constant failed and no claimed image is
    incorrect."""
    wrong = np.flatnonzero(cf.certified.any(axis=1) & ~cf.correct)
    if wrong.size:
        notes.append(f"images {wrong[:first].tolist()} are claimed certified but not correct")
    ok = not failed and not wrong.size and all(r.status is ClaimStatus.CONFIRMED for r in per) and (
        rad is None or rad.status is ClaimStatus.CONFIRMED)
    if failed:
        notes.append("a stored constant certificate claimed CERTIFIED did not re-verify on the model file")
    return RecheckReport(ClaimStatus.CONFIRMED if ok else ClaimStatus.NOT_CONFIRMED, sha, kind, cf.norm, per, rad,
                         consts, notes, cf.domain)


def _reverify_all(certs: Mapping[str, Certificate], problem: Any
                  ) -> Tuple[Dict[str, Dict[str, Any]], Dict[str, Certificate], bool]:
    """Re-verify every stored certificate on the file's arrays (``problem(name)`` → the verifier's
    keyword arguments): the constants' report, the re-verified ones by name, and whether one stored as
    CERTIFIED failed."""
    consts: Dict[str, Dict[str, Any]] = {}
    proved: Dict[str, Certificate] = {}
    failed = False
    for name, c in certs.items():
        if canonical(c.condition) not in expected_conditions(name):
            fresh = c.replace(status=Status.INCONCLUSIVE, margin=-math.inf,
                              message=f"stored as {name!r} but its condition is {c.condition!r} (expected one of "
                                      f"{list(expected_conditions(name))}): not used")
        else:
            try:
                fresh = _reverify(c, problem(name))
            except KeyError as exc:
                fresh = c.replace(status=Status.INCONCLUSIVE, margin=-math.inf,
                                  message=f"re-verification failed: {exc}")
        consts[name] = {"condition": c.condition, "stored": c.status.value, "status": fresh.status.value,
                        "margin": float(fresh.margin), "message": fresh.message}
        if fresh.certified:
            proved[name] = fresh
        elif c.certified:
            failed = True
    return consts, proved, failed


#: images per numpy batch of the conv re-check (memory O(batch × state))
CONV_BATCH = 64


def _conv_problem(chain: _cc.ConvChain, name: str) -> Dict[str, Any]:
    base, _, k = name.rpartition("@")
    if certificate_target(name) != "conv" or int(k) >= len(chain.deqs):
        raise KeyError(f"certificate {name!r}: the model has {len(chain.deqs)} conv DEQ stages")
    d = chain.deqs[int(k)]
    return {"K": d.K, "N": d.N}


def _recheck_conv(cf: Certification, chain: _cc.ConvChain, input_shape: Optional[Tuple[int, ...]], sha: str,
                  first: int) -> RecheckReport:
    """The ℓ∞ re-check of a conv classifier (:mod:`deqtheory.conv_certificate`): constants on the file's
    kernels, then per claimed image the clean chain from the stored ẑ and per ε the chain from the stored
    lifted points, margins > 0."""
    kind = "classifier[" + "+".join(d.kind for d in chain.deqs) + "]"
    consts, proved, failed = _reverify_all(cf.certificates, lambda name: _conv_problem(chain, name))
    chain.use(proved)
    N, E = cf.certified.shape
    labels = cf.labels.astype(np.int64)
    p = chain.G.shape[0]
    if labels.size and (labels.min() < 0 or labels.max() >= p):
        raise DomainError(f"labels: must be in [0, {p}), got range [{labels.min()}, {labels.max()}]")
    Z, ZL = cf.witness["z"], cf.witness.get("z_lift")
    if Z.shape[0] != N or ZL is None or ZL.shape[:2] != (N, E):
        raise ShapeError(f"witness z, z_lift: expected ({N}, n) and ({N}, {E}, 2n), got {Z.shape} and "
                         f"{None if ZL is None else ZL.shape}")
    X = cf.X if input_shape is None else cf.X.reshape((N,) + tuple(input_shape))

    def margins(idx: np.ndarray, eps: Optional[float], k: int) -> Dict[int, str]:
        bad: Dict[int, str] = {}
        for s0 in range(0, idx.size, CONV_BATCH):
            rows = idx[s0:s0 + CONV_BATCH]
            if eps is None:
                lo = hi = X[rows]
                pts = chain.split(Z[rows], lifted=False)
            else:
                lo, hi = _input_box(X[rows], eps, cf.domain)
                pts = chain.split(ZL[rows, k], lifted=True)
            mg, why = chain.margins(lo, hi, pts, labels[rows])
            for i, mi, w in zip(rows, mg, why):
                others = np.delete(mi, labels[i])
                if w is None and p > 1 and not others.min() > 0:
                    w = f"{'clean' if eps is None else 'interval'} margin lower bound {others.min():.6g} <= 0"
                if w is not None:
                    bad[int(i)] = w
        return bad

    clean_bad = margins(np.flatnonzero(cf.certified.any(axis=1)), None, -1)
    per: List[EpsResult] = []
    for k, e in enumerate(cf.eps):
        claimed = np.flatnonzero(cf.certified[:, k])
        bad = dict(clean_bad)
        bad.update(margins(np.array([i for i in claimed if int(i) not in clean_bad], dtype=np.int64), float(e), k))
        per.append(_result(e, cf.certified[:, k], bad, first))
    notes = [f"conv l_inf: {len(chain.deqs)} DEQ stage(s), lifts "
             f"{', '.join(d.lift.name for d in chain.deqs)}; clean pass from the stored z, eps from z_lift"]
    return _report(cf, sha, kind, per, None, consts, failed, notes, first)
