"""The model check report behind ``deqtheory check``: every decidable condition, one certificate each.

Conditions (each a :class:`~deqtheory.certificates.Certificate` keyed by its name):

============================ ==================================================== =====================
name                         claim                                                margin
============================ ==================================================== =====================
``monotone``                 I − W ⪰ mI with m > 0 (MonDEQ well-posedness)          proved m
``ibp_wellposed``            sym(I − |W|) ≻ 0 (wei2022 Thm 3.1 / Lemma 3.4)         proved λ_min
``adjoint_contractive``      ‖[[W₊, W₋],[W₋, W₊]]‖₂ < 1 (li2022 Prop 3.2)           1 − proved bound
``mu_inf``                   min_η μ∞,[η]⁻¹(W) < 1 (jafarpour2022 Thm 4.1)          1 − μ (witness η)
``pf_abs``                   λ_pf(|W|) < 1                                         1 − proved bound
``feedforward``              W nilpotent up to permutation (a DAG)                 1 if DAG
============================ ==================================================== =====================

plus ``sdp_wellposed`` (havens2023 (3) by SDP). Every row is about the **stored** model: for a parametric
file (W computed from stored parameters, ``options["W_error"]`` > 0) each certificate proved on fl(W) is
restated for the exact W by :func:`deqtheory.conditions_stored.stored_condition` (``sdp_wellposed`` proves
its LMI for every W within ``W_error``). The rows come from the table of conditions
(:mod:`deqtheory.conditions`: claim, catalogue ids, check, verifier). Then a typed
:class:`LipschitzSection`: the ℓ2 SDP certificate (``lipschitz_lmi``), the closed-form ℓ2 bounds
and the ℓ∞ bound — each bound reuses the certificates proved above (nothing is proved twice).

Input is validated once: :func:`check_deq` takes a :class:`~deqtheory.model.DEQ` (built by the CLI
from ``deqtheory.formats.load_model``); its ``identity_mask`` is carried through: every condition
whose proof assumes ReLU everywhere is reported NOT_APPLICABLE on a masked model (today all report
conditions hold for any activation slope-restricted on [0, 1], see ``Condition.activation``).
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ._validate import as_matrix, as_square, as_vector
from .certificates import Certificate, Status, to_jsonable
from .verified import round_up
from .conditions import CONDITIONS as TABLE
from .conditions import REPORT_CONDITIONS, Activation
from .conditions_stored import stored_condition, unbounded_condition
from .errors import DTypeError

__all__ = ["CheckReport", "ClassifierSection", "BoundEntry", "LipschitzSection", "check_model", "check_deq", "deq_from_arrays",
           "check_conv_ibp", "MATRIX_FREE_KINDS",
           "CONDITIONS", "validate_deq_arrays", "VACUOUS_L", "is_vacuous"]


def _checks() -> Dict[str, Callable[..., Certificate]]:
    """The check function of every report condition, from the table of :mod:`deqtheory.conditions`."""
    from . import graph, linalg, sdp, spectrum

    modules = {"deqtheory.linalg": linalg, "deqtheory.graph": graph, "deqtheory.spectrum": spectrum,
               "deqtheory.sdp": sdp}
    return {name: getattr(modules[TABLE[name].module], TABLE[name].check) for name in REPORT_CONDITIONS}


#: The closed-form conditions of the report, in order (``sdp_wellposed`` runs after them unless
#: ``options["sdp"]`` is false).
CONDITIONS: Tuple[str, ...] = tuple(c for c in REPORT_CONDITIONS if c != "sdp_wellposed")


def validate_deq_arrays(W: Any, U: Any = None, b: Any = None, G: Any = None, b_y: Any = None,
                        *, source: str = "") -> Dict[str, Optional[np.ndarray]]:
    """Validate the arrays of a DEQ z = σ(Wz + Ux + b), y = Gz + b_y and return them as float64.

    Shapes: W (n, n), U (n, d), b (n,), G (p, n), b_y (p,). ``source`` prefixes names in messages.
    """
    pre = f"{source}:" if source else ""
    W = as_square(pre + "W", W)
    n = W.shape[0]
    out: Dict[str, Optional[np.ndarray]] = {"W": W, "U": None, "b": None, "G": None, "b_y": None}
    if U is not None:
        out["U"] = as_matrix(pre + "U", U, shape=(n, None))
    if b is not None:
        out["b"] = as_vector(pre + "b", b, n=n)
    if G is not None:
        out["G"] = as_matrix(pre + "G", G, shape=(None, n))
    if b_y is not None:
        p = out["G"].shape[0] if out["G"] is not None else n
        out["b_y"] = as_vector(pre + "b_y", b_y, n=p)
    return out


#: A Lipschitz bound ``L`` of x ↦ y is marked **vacuous** when ``L > VACUOUS_L = 2^24``. Rule: a logit
#: margin M certifies at most the radius M/L (ℓ2 gives M/(√2 L), ℓ∞ M/(2L), both smaller), so for
#: L > 2^24 a unit margin certifies a radius below 2^-24 — under the float32 resolution (the dtype models
#: are trained and images stored in) of an input scaled to [0, 1]: no perturbation an input can
#: represent is certified. The bound is still proved (its status is unchanged); the mark says it is useless.
VACUOUS_L = 2.0 ** 24


def is_vacuous(L: Any) -> bool:
    """``L`` is a finite proved bound above :data:`VACUOUS_L` (see there)."""
    try:
        return bool(np.isfinite(float(L)) and float(L) > VACUOUS_L)
    except (TypeError, ValueError):
        return False


#: the table's legend for the number column of the conditions (one meaning for every row)
SLACK_LEGEND = ("slack = a proved lower bound on how much the condition's inequality holds by, in its own units "
                "(m for monotone; lambda_min for ibp_wellposed / sdp_wellposed; 1 - proved bound for "
                "adjoint_contractive / mu_inf / pf_abs; +1 / -1 for feedforward); > 0 proves the condition; "
                "every row is about the stored model (a parametric file: the exact W of its parameters, "
                "within model W_error of the computed W; a NOTE under the model line names a kind whose W is "
                "computed with no proved bound, whose rows are about that computed W)")
#: and of the Lipschitz rows: the number column is the proved constant L
L_LEGEND = (f"L = the proved Lipschitz constant of x -> y (vacuous: L > 2^24, a unit logit margin certifies a radius "
            f"below float32 resolution of inputs in [0, 1]); 'uses' = the slack of the certificate it rests on")


def _fmt(x: Any) -> str:
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not np.isfinite(xf):
        return str(xf)
    return f"{xf:.6g}"


@dataclasses.dataclass(frozen=True)
class BoundEntry:
    """A closed-form bound of the report: proved value ``L`` (``inf`` when its assumption was not
    proved), ``status``, the ``margin`` of the assumption's certificate, the catalogue ``theorem``,
    the ``norm`` and a one-line ``detail``; ``bounds`` (only for ``l2_analytic``): every candidate."""

    L: float
    status: Status
    margin: float
    theorem: str
    norm: str
    detail: str
    bounds: Mapping[str, "BoundEntry"] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, res: Any, detail: str) -> "BoundEntry":
        """From a :class:`deqtheory.bounds.BoundResult`."""
        st = Status.CERTIFIED if res.certificate.certified and np.isfinite(res.value) else Status.INCONCLUSIVE
        return cls(res.value, st, res.certificate.margin, res.theorem, res.norm, f"{res.theorem}: {detail}")

    def to_dict(self) -> Dict[str, Any]:
        d = {"L": self.L, "status": self.status.value, "margin": self.margin, "theorem": self.theorem,
             "norm": self.norm, "detail": self.detail}
        if self.bounds:
            d["bounds"] = {k: b.to_dict() for k, b in self.bounds.items()}
        return to_jsonable(d)


@dataclasses.dataclass(frozen=True)
class LipschitzSection:
    """Lipschitz constants of x ↦ y: ``l2_sdp`` (the ``lipschitz_lmi`` certificate of the minimal L
    of havens2023 (10), ``None`` with ``sdp=False``), ``l2_analytic`` (the best closed-form ℓ2
    bound, all candidates in ``l2_analytic.bounds``), ``linf`` (jafarpour2022 Thm 6.1)."""

    l2_analytic: BoundEntry
    linf: BoundEntry
    l2_sdp: Optional[Certificate] = None

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"l2_analytic": self.l2_analytic.to_dict()}
        if self.l2_sdp is not None:
            c = self.l2_sdp
            d["l2_sdp"] = to_jsonable({"L": c.witness.get("L", float("nan")), "status": c.status.value,
                                       "margin": c.margin, "wellposed_condition": c.witness.get("wellposed_condition"),
                                       **self._sdp_optimality(), "detail": self._sdp_detail()}
                                      ) | {"certificate": c.to_dict(arrays=False)}
        d["linf"] = self.linf.to_dict()
        return d

    def _sdp_optimality(self) -> Dict[str, Any]:
        """How good the ``l2_sdp`` L is: ``minimal`` (proved within ``gap_rel`` of a refuted ``L_lower``,
        :mod:`deqtheory.sdp.minimal`), the ``backend`` and ``source`` that won, and the comparison with
        the best closed-form bound: ``best_L`` = min(l2_sdp L, l2_analytic L) and ``best_source``."""
        c = self.l2_sdp
        st = c.stats
        L = float(c.witness.get("L", float("nan"))) if c.certified else float("inf")
        La = float(self.l2_analytic.L) if self.l2_analytic.status is Status.CERTIFIED else float("inf")
        best, src = (L, "l2_sdp") if L <= La else (La, "l2_analytic")
        return {"minimal": bool(st.get("minimal", False)), "L_lower": st.get("L_lower", 0.0),
                "gap_rel": st.get("gap_rel", 1.0), "backend": st.get("backend"), "source": st.get("source"),
                "best_L": best, "best_source": src}

    def _sdp_detail(self) -> str:
        """The ``l2_sdp`` row's detail: minimal or not (gap, backend) first, then the certificate's message."""
        c = self.l2_sdp
        if not c.certified:
            return c.message
        o = self._sdp_optimality()
        head = (f"[minimal, gap {o['gap_rel']:.1e}, {o['source']}]" if o["minimal"] else
                f"[NOT minimal: gap {o['gap_rel']:.1e} to the proved lower bound {_fmt(o['L_lower'])}, {o['source']}]")
        if o["best_source"] == "l2_analytic":
            head += f" [the closed-form l2_analytic L = {_fmt(o['best_L'])} is smaller: it is the best l2 bound]"
        return f"{head} {c.message}"

    def rows(self) -> List[Tuple[str, Status, float, float, str]]:
        """(name, status, margin, L, detail) for the table."""
        out = [("l2_analytic", self.l2_analytic.status, self.l2_analytic.margin, self.l2_analytic.L,
                self.l2_analytic.detail)]
        if self.l2_sdp is not None:
            c = self.l2_sdp
            out.append(("l2_sdp", c.status, c.margin, c.witness.get("L", float("nan")), self._sdp_detail()))
        out.append(("linf", self.linf.status, self.linf.margin, self.linf.L, self.linf.detail))
        return out


@dataclasses.dataclass(frozen=True)
class ClassifierSection:
    r"""For a ``classifier`` file (:class:`deqtheory.pipeline.Pipeline`): the conditions and the
    Lipschitz section above are those of the **model stage**; ``before`` / ``after`` are proved
    Lipschitz constants of the stages around it (norm → constant, ``"2"`` and ``"inf"``), so the whole
    classifier x ↦ logits is Lipschitz with ``before · L · after`` (``classifier_L``, rounded up)."""

    stages: Tuple[str, ...]
    model_stage: int
    before: Mapping[str, float]
    after: Mapping[str, float]

    @classmethod
    def of(cls, pipeline: Any, kind_of: Callable[[Any], str]) -> "ClassifierSection":
        st = pipeline.stages
        k = st.index(pipeline.model_stage())
        pairs = {nm: pipeline.stage_lipschitz(nm) for nm in ("2", "inf")}
        return cls(tuple(kind_of(s) for s in st), k, {nm: p[0] for nm, p in pairs.items()},
                   {nm: p[1] for nm, p in pairs.items()})

    def classifier_L(self, L: float, norm: str) -> float:
        """A proved bound for the whole classifier from a proved bound ``L`` of the model stage."""
        return round_up(self.before[norm] * float(L) * self.after[norm])

    def to_dict(self) -> Dict[str, Any]:
        return to_jsonable({"stages": list(self.stages), "model_stage": self.model_stage,
                            "lipschitz_before": dict(self.before), "lipschitz_after": dict(self.after)})


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """All certificates for one model: ``model`` (path, kind, n, d, p, masked coordinates),
    ``conditions`` (name → :class:`~deqtheory.certificates.Certificate`, names from
    :mod:`deqtheory.conditions`), ``lipschitz`` (:class:`LipschitzSection`, ``None`` when skipped by
    ``only``), ``timings`` (seconds)."""

    model: Mapping[str, Any]
    conditions: Mapping[str, Certificate]
    lipschitz: Optional[LipschitzSection] = None
    timings: Mapping[str, float] = dataclasses.field(default_factory=dict)
    classifier: Optional[ClassifierSection] = None
    #: a classifier with several DEQ stages: (stage index, report) of each DEQ stage before the last one
    earlier_stages: Tuple[Tuple[int, "CheckReport"], ...] = ()

    def with_classifier(self, section: ClassifierSection,
                        earlier: Sequence[Tuple[int, "CheckReport"]] = ()) -> "CheckReport":
        """This report, about the (last) model stage of a classifier file described by ``section``;
        ``earlier``: the reports of its other DEQ stages (several DEQs in sequence), by stage index."""
        return dataclasses.replace(self, classifier=section, earlier_stages=tuple(earlier))

    def _classifier_rows(self) -> List[Tuple[str, Status, float, str]]:
        out: List[Tuple[str, Status, float, str]] = []
        if self.classifier is None or self.lipschitz is None:
            return out
        for name, st, _, L, _ in self.lipschitz.rows():
            norm = "inf" if name == "linf" else "2"
            if st is Status.CERTIFIED and np.isfinite(L):
                out.append((name, st, self.classifier.classifier_L(L, norm),
                            f"= {_fmt(self.classifier.before[norm])} (stages before) x {_fmt(L)} (model stage) "
                            f"x {_fmt(self.classifier.after[norm])} (stages after)"))
        return out

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "model": to_jsonable(dict(self.model)),
            "conditions": {k: c.to_dict() for k, c in self.conditions.items()},
        }
        if self.lipschitz is not None:
            d["lipschitz"] = _mark_vacuous(self.lipschitz.to_dict())
        if self.classifier is not None:
            d["classifier"] = self.classifier.to_dict() | {
                "lipschitz": _mark_vacuous({name: {"L": L, "status": st.value} for name, st, L, _ in self._classifier_rows()})}
        if self.earlier_stages:
            d["earlier_deq_stages"] = [{"stage": k, **r.to_dict()} for k, r in self.earlier_stages]
        d["timings_s"] = to_jsonable(dict(self.timings))
        return d

    def format_table(self) -> str:
        """Human-readable report: one line per condition (column ``slack``, :data:`SLACK_LEGEND`), one per
        Lipschitz bound (column ``L``, :data:`L_LEGEND`; vacuous bounds marked), each number column
        with one meaning."""
        lines = []
        m = self.model
        lines.append(f"model {m.get('path', '<arrays>')}: kind={m.get('kind', 'deq')} n={m.get('n')} "
                     f"d={m.get('d')} p={m.get('p')}" + (f" identity-masked={m['masked']}" if m.get("masked") else ""))
        if m.get("rows_about"):
            lines.append(f"  NOTE: {m['rows_about']}")
        w = max([len(k) for k in self.conditions] + [15])
        lines.append(f"  {'condition':<{w}}  {'status':<13} {'slack':>12}  detail")
        for name, c in self.conditions.items():
            lines.append(f"  {name:<{w}}  {c.status.value:<13} {_fmt(c.margin):>12}  {c.message}")
        lines.append(f"  ({SLACK_LEGEND})")
        if self.lipschitz is not None:
            lines.append(f"  {'lipschitz bound':<{w}}  {'status':<13} {'L':>12}  detail")
            for k, st, margin, L, detail in self.lipschitz.rows():
                uses = "LMI (4)" if k == "l2_sdp" else "assumption"
                lines.append(f"  {k:<{w}}  {st.value:<13} {_fmt(L):>12}  {_vacuous_mark(st, L)}"
                             f"[uses: {uses} slack {_fmt(margin)}] {detail}")
            lines.append(f"  ({L_LEGEND})")
        if self.classifier is not None:
            c = self.classifier
            rows = self._classifier_rows()
            tail = ("the whole classifier x -> logits:" if rows else
                    "no Lipschitz constant of the whole classifier (no Lipschitz section for this model stage)")
            lines.append(f"  [classifier] stages {' -> '.join(c.stages)}: the rows above are about stage "
                         f"{c.model_stage} ({c.stages[c.model_stage]}); {tail}")
            for k, st, L, detail in rows:
                lines.append(f"  {k:<{w}}  {st.value:<13} {_fmt(L):>12}  {_vacuous_mark(st, L)}{detail}")
        for k, r in self.earlier_stages:
            lines.append(f"  [classifier] DEQ stage {k} ({self.classifier.stages[k] if self.classifier else '?'}), "
                         f"before the one above — its own conditions:")
            lines.extend("    " + line for line in r.format_table().splitlines())
        return "\n".join(lines)


def _vacuous_mark(st: Status, L: Any) -> str:
    return "VACUOUS (L > 2^24) " if st is Status.CERTIFIED and is_vacuous(L) else ""


def _mark_vacuous(d: Dict[str, Any]) -> Dict[str, Any]:
    """``vacuous: true/false`` on every Lipschitz entry of a report dict that carries an ``L``."""
    for v in d.values():
        if isinstance(v, dict) and "L" in v:
            v["vacuous"] = v.get("status") == Status.CERTIFIED.value and is_vacuous(v["L"])
    return d


def _guarded(name: str, fn: Callable[[], Certificate]) -> Certificate:
    """Run one check; a mathematical failure becomes a SOLVER_ERROR certificate (never a crash)."""
    try:
        return fn()
    except (np.linalg.LinAlgError, ArithmeticError, RuntimeError) as exc:
        return Certificate(name, Status.SOLVER_ERROR, message=f"{type(exc).__name__}: {exc}")


def check_deq(model: Any, *, path: Optional[str] = None, kind: str = "deq", only: Optional[List[str]] = None,
              options: Optional[Mapping[str, Any]] = None) -> CheckReport:
    """Run every condition of the table on a validated :class:`~deqtheory.model.DEQ` and return a
    :class:`CheckReport` (see the module docstring). ``only``: names of conditions to run (the
    Lipschitz section runs when ``only`` is None or names ``"lipschitz"``); ``options``: ``sdp``
    (default True), ``backend`` (SDP backend), ``W_error`` / ``W_margin`` (a parametric file: a proved bound
    on ‖W_exact − W‖₂ for the W computed from its stored parameters, and the family's exact monotonicity
    margin, from :func:`deqtheory.formats.deq_arrays`): every row is then proved for the stored model, not
    only for the computed W (:mod:`deqtheory.conditions_stored`; ``sdp_wellposed`` and ``l2_sdp`` prove their
    LMIs for every W within ``W_error``; ``l2_analytic`` and ``linf`` use the stored model's margins)."""
    from .model import DEQ

    if not isinstance(model, DEQ):
        raise DTypeError(f"model: expected a deqtheory.model.DEQ, got {type(model).__name__}")
    W = model.W
    mask = np.asarray(model.identity_mask, dtype=bool)
    masked = int(mask.sum())
    info = {"path": path, "kind": kind, "n": model.n, "d": model.d, "p": model.p, "masked": masked}
    opts = dict(options or {})
    w_bound = opts.get("W_error")            # a float, or a RoundingBound (entrywise bound, or `unproved`)
    w_bound = 0.0 if w_bound is None else w_bound
    w_error = float(w_bound)
    checks = _checks()
    conds: Dict[str, Certificate] = {}
    timings: Dict[str, float] = {}
    names = list(CONDITIONS) + (["sdp_wellposed"] if opts.get("sdp", True) else [])
    for name in names:
        if only is not None and name not in only:
            continue
        t0 = time.perf_counter()
        if masked and TABLE[name].activation is Activation.RELU:
            conds[name] = Certificate(name, Status.NOT_APPLICABLE,
                                      message=f"{TABLE[name].activation.message} ({masked} identity coordinates)")
        elif name == "sdp_wellposed":     # the LMI proof itself covers every W within w_error
            conds[name] = _guarded(name, lambda: checks[name](W, w_error=w_error, **_backend(opts))
                                   if math.isfinite(w_error) else unbounded_condition(checks[name](W, **_backend(opts))))
        else:                             # proved on fl(W), then restated for the stored model
            conds[name] = _guarded(name, lambda: stored_condition(checks[name](W), W, w_bound, opts.get("W_margin")))
        timings[name] = time.perf_counter() - t0
    if w_error:
        info["W_error"] = w_error
    for key in ("U_error", "G_error"):
        if opts.get(key):
            info[key] = float(opts[key])
    if getattr(w_bound, "unproved", ""):
        info["rows_about"] = w_bound.unproved
    lip = None
    if only is None or "lipschitz" in only:
        t0 = time.perf_counter()
        lip = _lipschitz_section(model, conds, opts)
        timings["lipschitz"] = time.perf_counter() - t0
    return CheckReport(model=info, conditions=conds, lipschitz=lip, timings=timings)


#: file kinds whose conditions are proved matrix-free (:func:`check_conv_ibp`), never on a dense W
MATRIX_FREE_KINDS = ("conv_ibp_mondeq", "conv_ibp_mondeq_gamma", "conv_noneuclidean", "conv_kernel_deq")


def _matrix_free_checks(net: Any) -> Dict[str, Any]:
    """condition → ``(K, N) ↦ Certificate`` proved for the stage ``net`` (the one dispatch of matrix-free kinds)."""
    from . import conv_ibp, conv_nemon
    from .formats import kind_of

    if kind_of(net) == "conv_noneuclidean":          # the NEMON's own η is the first candidate weight
        return {"conv_mu_inf": lambda K, N, S: conv_nemon.conv_mu_inf(K, N, eta=net.eta, mass_error=S)}
    return {"conv_ibp_monotone": lambda K, N, S: conv_ibp.conv_ibp_margin(K, N, mass_error=S),
            "conv_abs_contraction": lambda K, N, S: conv_ibp.conv_abs_contraction(K, N, mass_error=S)}


def check_conv_ibp(net: Any, *, path: Optional[str] = None, kind: str = "conv_ibp_mondeq") -> CheckReport:
    """The conditions of a circular-convolution DEQ of :data:`MATRIX_FREE_KINDS`, proved on c × c matrices
    of its W kernel ``net.W_kernel()`` (the W of the stored parameters) without forming the cN² × cN² W.
    Conv IBP-MonDEQ (:class:`deqtheory.formats.ConvIBPMonDEQNet`, :mod:`deqtheory.conv_ibp`):
    ``conv_ibp_monotone`` (sym(I − |W|) ⪰ mI, so W and its IBP lift are m-monotone) and
    ``conv_abs_contraction`` (the lift is a weighted-ℓ∞ contraction). Conv NEMON
    (:class:`deqtheory.formats.ConvNonEuclideanNet`, :mod:`deqtheory.conv_nemon`): ``conv_mu_inf``
    (μ∞ of W and of its Metzler lift < 1). A stored kernel (:class:`deqtheory.formats.ConvKernelDEQNet`, e.g.
    li2022's conv CerDEQ): the two IBP conditions above, proved on the stored K. No Lipschitz section (the ℓ2 SDP needs the dense W).

    Every row is about the stored model: for a kernel computed from parameters,
    :func:`deqtheory.formats.kernel_rounding` bounds |K_exact − K̂| tap by tap (𝓔), and each condition is proved
    with its masses widened by S = Σ_taps 𝓔 rounded up (``mass_error``,
    :func:`deqtheory.conv_ibp.with_mass_error`: |K_exact| ≤ |K̂| + 𝓔, so A_exact ≤ A_up + S for the |·| and the
    Metzler masses, and ≥ A_low − S for refutations); ``model["kernel_error"]`` records max 𝓔."""
    from .conv_ibp import abs_mass_upper
    from .formats import kernel_rounding

    K = net.W_kernel()
    c, N = int(K.shape[0]), int(net.N)
    E = kernel_rounding(net)
    S = abs_mass_upper(E) if E is not None and np.all(np.isfinite(E)) and np.any(E) else None
    if E is not None and not np.all(np.isfinite(E)):
        S = np.full((c, c), np.inf)
    info = {"path": path, "kind": kind, "n": c * N * N, "d": int(net.U.shape[1]) * N * N, "p": None, "masked": 0,
            "channels": c, "grid": N, "matrix_free": True,
            **({} if S is None else {"kernel_error": float(np.max(E))})}
    conds: Dict[str, Certificate] = {}
    timings: Dict[str, float] = {}
    for name, fn in _matrix_free_checks(net).items():
        t0 = time.perf_counter()
        conds[name] = _guarded(name, lambda fn=fn: fn(K, N, S))
        timings[name] = time.perf_counter() - t0
    return CheckReport(model=info, conditions=conds, lipschitz=None, timings=timings)


def deq_from_arrays(arrays: Mapping[str, Any], *, source: str = "") -> Any:
    """The one validation of a model read from a file: a :class:`~deqtheory.model.DEQ` from the dict
    of :func:`deqtheory.formats.load_model` (``identity_mask`` kept); typed errors are prefixed with
    ``source`` (``"model.npz:U: ..."``)."""
    from .errors import DEQInputError
    from .model import DEQ

    try:
        return DEQ(arrays["W"], arrays.get("U"), arrays.get("b"), arrays.get("G"), arrays.get("b_y"),
                   identity_mask=arrays.get("identity_mask"))
    except DEQInputError as exc:
        if not source:
            raise
        raise type(exc)(f"{source}:{exc}") from None


def check_model(W: Any, U: Any = None, b: Any = None, G: Any = None, b_y: Any = None, *,
                identity_mask: Any = None, path: Optional[str] = None, kind: str = "deq",
                only: Optional[List[str]] = None, options: Optional[Mapping[str, Any]] = None) -> CheckReport:
    """:func:`check_deq` on arrays: validates them once into a :class:`~deqtheory.model.DEQ`
    (typed ``ValueError`` subclasses naming the array and its shape for bad input)."""
    model = deq_from_arrays({"W": W, "U": U, "b": b, "G": G, "b_y": b_y, "identity_mask": identity_mask},
                            source=path or "")
    return check_deq(model, path=path, kind=kind, only=only, options=options)


def _backend(opts: Mapping[str, Any]) -> Dict[str, Any]:
    return {"backend": opts["backend"]} if opts.get("backend") else {}


def _given(conds: Mapping[str, Certificate], name: str) -> Optional[Certificate]:
    c = conds.get(name)
    return c if c is not None and c.certified else None


def _widen(x: float, e: float) -> float:
    """x + e rounded up (x itself when e = 0: an upper bound on a norm widened by a rounding bound)."""
    return round_up(x + e) if e else x


def _stored_pabbaraju(U: np.ndarray, G: Optional[np.ndarray], m: float, w_error: float,
                      ug: Tuple[float, float] = (0.0, 0.0)) -> BoundEntry:
    """pabbaraju2021 Thm 1 on the stored model of a parametric file: ‖G‖₂‖U‖₂/m with m the stored model's
    proved margin (the ``monotone`` row, :mod:`deqtheory.conditions_stored`), norms proved, rounded up;
    ``inf`` when no margin is proved. ``ug`` = (U_error, G_error): the norms are of the stored U and G,
    ‖U_exact‖₂ ≤ ‖fl(U)‖₂ + U_error (likewise G)."""
    from .bounds import norm2_upper

    detail = (f"pabbaraju2021:thm1: ||G||_2 ||U||_2 / m with m = {m:.6g} proved for the stored parameters "
              f"(W computed from them, rounding <= {w_error:.3g}"
              + (f"; U, G rounding <= {ug[0]:.3g}, {ug[1]:.3g})" if any(ug) else ")"))
    if not m > 0:
        return BoundEntry(np.inf, Status.INCONCLUSIVE, -np.inf, "pabbaraju2021:thm1", "2", detail)
    nG = 1.0 if G is None else _widen(norm2_upper(G), ug[1])
    L = round_up(nG * _widen(norm2_upper(U), ug[0]) / m)
    return BoundEntry(L, Status.CERTIFIED if math.isfinite(L) else Status.INCONCLUSIVE, m, "pabbaraju2021:thm1",
                      "2", detail)


def _lipschitz_section(model: Any, conds: Mapping[str, Certificate], opts: Mapping[str, Any]) -> LipschitzSection:
    """ℓ2 Lipschitz constant of x ↦ y by SDP (havens2023 (10), minimal L) and every closed-form bound
    that applies (pabbaraju2021 Thm 1, havens2023 Thm 3.3 with Φ = Γ⁻¹ from (3), jafarpour2022 Thm 6.1
    ℓ∞), each reusing the certificate proved above (``monotone``, ``sdp_wellposed``, ``mu_inf``)."""
    from . import bounds

    W, U, G = model.W, model.U, model.G
    mono = _given(conds, "monotone")
    w_bound = opts.get("W_error") or 0.0
    w_error = float(w_bound)
    ug = (float(opts.get("U_error") or 0.0), float(opts.get("G_error") or 0.0))
    analytic: Dict[str, BoundEntry] = {}
    if w_error or any(ug):
        from .linalg import monotone_parameter

        analytic["pabbaraju2021:thm1"] = _stored_pabbaraju(U, G, -np.inf if mono is None else monotone_parameter(mono),
                                                           w_error, ug)
    else:
        r = bounds.pabbaraju_lipschitz(W, U, G, monotone=mono)
        analytic["pabbaraju2021:thm1"] = BoundEntry.of(r, "||G||_2 ||U||_2 / m with m the proved monotonicity margin")
    wp = _given(conds, "sdp_wellposed")
    if wp is not None and "gamma" in wp.witness:
        gam = np.asarray(wp.witness["gamma"], dtype=float)
        r2 = bounds.havens_gmondeq_lipschitz(W, U, 1.0 / gam, G)
        if (w_error or any(ug)) and r2.certificate.certified:
            # sym(Γ(I − W)) moves by at most max(γ)·‖W_exact − fl(W)‖₂; ‖ΓU‖₂ by max(γ)·U_error; ‖G‖₂ by G_error
            m2 = bounds._down(float(r2.details["m"]) - round_up(float(np.max(gam)) * w_error)) if w_error else \
                float(r2.details["m"])
            nPU = _widen(float(r2.details["norm2_PhiinvU"]), round_up(float(np.max(gam)) * ug[0]) if ug[0] else 0.0)
            L2 = round_up(_widen(float(r2.details["norm2_G"] or 1.0), ug[1]) * nPU / m2) if m2 > 0 else np.inf
            r2 = dataclasses.replace(r2, value=L2)
        analytic["havens2023:thm3.3"] = BoundEntry.of(r2, "||G||_2 ||Phi^-1 U||_2 / m with Phi = Gamma^-1 from (3)"
                                                      + (" (m lowered by the rounding of W from the stored parameters)"
                                                         if w_error else "")
                                                      + (" (norms raised by the rounding of U, G from the stored arrays)"
                                                         if any(ug) else ""))
    best = min(analytic.values(), key=lambda e: e.L if e.status is Status.CERTIFIED else np.inf)
    l2_sdp = None
    if opts.get("sdp", True):
        from .sdp import min_lipschitz

        wellposed = mono if mono is not None else wp
        l2_sdp = _guarded("lipschitz_lmi", lambda: min_lipschitz(W, U, G, wellposed=wellposed, w_error=w_error,
                                                                 **_ug_kwargs(ug), **_backend(opts))
                          if math.isfinite(w_error + sum(ug)) else
                          _unbounded_lmi(min_lipschitz(W, U, G, wellposed=wellposed, **_backend(opts)), ug))
    rl = bounds.jafarpour_linf_lipschitz(W, U, G, mu_inf=_given(conds, "mu_inf"))
    if w_error:
        rl = _stored_linf(rl, W, w_bound)
    if any(ug):
        rl = _stored_ug_linf(rl, U, G, ug)
    return LipschitzSection(l2_analytic=dataclasses.replace(best, bounds=analytic),
                            linf=BoundEntry.of(rl, "linf Lipschitz bound from mu_inf,[eta]^-1(W) < 1"
                                               + (" (mu raised by the rounding of W from the stored parameters)"
                                                  if w_error else "")
                                               + (" (norms raised by the rounding of U, G from the stored arrays)"
                                                  if any(ug) else "")),
                            l2_sdp=l2_sdp)


def _unbounded_lmi(cert: Certificate, ug: Tuple[float, float]) -> Certificate:
    """:func:`deqtheory.conditions_stored.unbounded_condition` for the LMI row; when U or G (not only W) could not
    be bounded, a NOT_APPLICABLE "U = 0 or G = 0" about the computed arrays is not about the stored model either."""
    if math.isfinite(sum(ug)):
        return unbounded_condition(cert)
    return cert.replace(status=Status.INCONCLUSIVE, margin=-math.inf,
                        tolerance={**dict(cert.tolerance), "U_error": ug[0], "G_error": ug[1]},
                        message=(f"{cert.message} -- for the computed U, G only: computing them from the stored data "
                                 "overflowed or underflowed (U_error / G_error = inf), so not proved for the stored "
                                 "model"))


def _ug_kwargs(ug: Tuple[float, float]) -> Dict[str, float]:
    return {"u_error": ug[0], "g_error": ug[1]} if any(ug) else {}


def _stored_ug_linf(rl: Any, U: np.ndarray, G: Optional[np.ndarray], ug: Tuple[float, float]) -> Any:
    r"""jafarpour2022 Thm 6.1 (both forms of :func:`deqtheory.bounds.jafarpour_linf_lipschitz`) with the ℓ∞ norms
    of the stored U, G: ‖ΔU‖∞ ≤ √d‖ΔU‖₂ ≤ √d·U_error (d columns), ‖[η]⁻¹ΔU‖∞ ≤ √d·U_error/min η,
    ‖ΔG[η]‖∞ ≤ √n·G_error·max η (n columns), ‖ΔG‖∞ ≤ √n·G_error; the denominator 1 − μ⁺ is the one ``rl``
    was proved with (``details["mu_upper"]``: the stored model's μ when W is computed). Rounded up."""
    from .bounds import _down, norm_inf_upper

    if not (rl.certificate.certified and np.isfinite(rl.value)):
        return rl
    e = np.asarray(rl.details["eta"], dtype=np.float64)
    den = _down(1.0 - max(float(rl.details["mu_upper"]), 0.0))
    if not den > 0:
        return dataclasses.replace(rl, value=np.inf)
    su = round_up(math.sqrt(U.shape[1]) * (1.0 + 1e-15) * ug[0])
    sg = 0.0 if G is None else round_up(math.sqrt(G.shape[1]) * (1.0 + 1e-15) * ug[1])
    ratio = round_up(float(np.max(e)) / float(np.min(e)))
    nG = 1.0 if G is None else _widen(norm_inf_upper(G), sg)
    printed = round_up(round_up(ratio * _widen(norm_inf_upper(U), su)) * nG / den)
    nUw = _widen(norm_inf_upper(U / e[:, None]), round_up(su / float(np.min(e))) if su else 0.0)
    nGw = round_up(float(np.max(e))) if G is None else _widen(norm_inf_upper(G * e[None, :]),
                                                               round_up(sg * float(np.max(e))) if sg else 0.0)
    weighted = round_up(round_up(nUw * nGw) / den * (1.0 + 1e-15))
    return dataclasses.replace(rl, value=min(printed, weighted, np.inf),
                               details={**dict(rl.details), "printed": printed, "weighted": weighted,
                                        "U_error": ug[0], "G_error": ug[1]})


def _stored_linf(rl: Any, W: np.ndarray, w_error: Any) -> Any:
    r"""jafarpour2022 Thm 6.1 for the stored model: the bound is N/(1 − μ⁺) with N a proved numerator that
    does not involve W (‖G[η]‖∞‖[η]⁻¹U‖∞ or the printed form), so with μ_st ≥ μ_∞,[η]⁻¹(W_exact) from
    :func:`deqtheory.conditions_stored.stored_condition` (μ raised by max_i(|E|η)_i/η_i) the bound is
    L_fl·(1 − μ_fl⁺)/(1 − μ_st⁺), both denominators rounded down as in Thm 6.1's code, the quotient rounded
    up (L_fl·den_fl ≥ N exactly). Not certified when μ_st ≥ 1."""
    from .bounds import _down

    cert = stored_condition(rl.certificate, W, w_error)
    if not (rl.certificate.certified and cert.certified and np.isfinite(rl.value)):
        return dataclasses.replace(rl, value=np.inf, certificate=cert)
    den_fl = _down(1.0 - max(float(rl.details["mu_upper"]), 0.0))
    den_st = _down(1.0 - max(float(cert.stats["upper_bound"]), 0.0))
    L = round_up(float(rl.value) * den_fl / den_st) if den_st > 0 else np.inf
    return dataclasses.replace(rl, value=L, certificate=cert, details={**dict(rl.details), "mu_upper": cert.stats["upper_bound"],
                                                                         "mu_upper_computed_W": rl.details["mu_upper"]})
