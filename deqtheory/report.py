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

Further sections (SDP conditions, Lipschitz bounds) are added by :func:`register_section`
so that later modules slot in without changing this one.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from ._validate import as_matrix, as_square, as_vector
from .certificates import Certificate, Status, to_jsonable
from .errors import ShapeError

__all__ = ["CheckReport", "check_model", "CONDITIONS", "validate_deq_arrays"]


def _conditions() -> Dict[str, Callable[[np.ndarray], Certificate]]:
    from . import graph, linalg, spectrum

    return {
        "monotone": linalg.check_monotone,
        "ibp_wellposed": linalg.check_ibp_wellposed,
        "adjoint_contractive": spectrum.check_adjoint_contractive,
        "mu_inf": linalg.check_mu_inf,
        "pf_abs": linalg.check_pf_abs,
        "feedforward": graph.is_feedforward,
    }


CONDITIONS: Tuple[str, ...] = ("monotone", "ibp_wellposed", "adjoint_contractive", "mu_inf", "pf_abs",
                               "feedforward")


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


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """All certificates for one model, plus the model's shape and timings."""

    model: Mapping[str, Any]
    conditions: Mapping[str, Certificate]
    sections: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    timings: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "model": to_jsonable(dict(self.model)),
            "conditions": {k: c.to_dict() for k, c in self.conditions.items()},
        }
        for name, sec in self.sections.items():
            d[name] = {k: (v.to_dict() if isinstance(v, Certificate) else to_jsonable(v)) for k, v in sec.items()
                       if not k.startswith("_")}
        d["timings_s"] = to_jsonable(dict(self.timings))
        return d

    def format_table(self) -> str:
        """Human-readable report (one line per condition)."""
        lines = []
        m = self.model
        lines.append(f"model {m.get('path', '<arrays>')}: kind={m.get('kind', 'deq')} n={m.get('n')} "
                     f"d={m.get('d')} p={m.get('p')}")
        w = max([len(k) for k in self.conditions] + [10])
        lines.append(f"  {'condition':<{w}}  {'status':<13} {'margin':>12}  detail")
        for name, c in self.conditions.items():
            lines.append(f"  {name:<{w}}  {c.status.value:<13} {_fmt(c.margin):>12}  {c.message}")
        for sec_name, sec in self.sections.items():
            lines.append(f"  [{sec_name}]")
            for k, v in sec.items():
                if k.startswith("_"):
                    continue
                if isinstance(v, Certificate):
                    extra = ""
                    if "L" in v.witness:
                        extra = f"L = {_fmt(v.witness['L'])}  "
                    lines.append(f"  {k:<{w}}  {v.status.value:<13} {_fmt(v.margin):>12}  {extra}{v.message}")
                elif isinstance(v, Mapping) and "status" in v:
                    lines.append(f"  {k:<{w}}  {str(v['status']):<13} {_fmt(v.get('margin')):>12}  "
                                 f"L = {_fmt(v.get('L'))}  {v.get('detail', '')}")
                else:
                    lines.append(f"  {k:<{w}}  {v}")
        return "\n".join(lines)


def _fmt(x: Any) -> str:
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not np.isfinite(xf):
        return str(xf)
    return f"{xf:.6g}"


_SECTIONS: Dict[str, Callable[[Mapping[str, Optional[np.ndarray]], Mapping[str, Certificate], Mapping[str, Any]],
                              Mapping[str, Any]]] = {}


def register_section(name: str):
    """Register ``fn(arrays, conditions, options) -> {key: Certificate | value}`` as a report section."""

    def deco(fn):
        _SECTIONS[name] = fn
        return fn

    return deco


def check_model(W: Any, U: Any = None, b: Any = None, G: Any = None, b_y: Any = None, *,
                path: Optional[str] = None, kind: str = "deq", only: Optional[List[str]] = None,
                options: Optional[Mapping[str, Any]] = None) -> CheckReport:
    """Run every condition on a DEQ and return a :class:`CheckReport`.

    Conditions that raise a mathematical error are reported with status ``SOLVER_ERROR``
    (the report never crashes on a valid model); bad input raises a typed ``ValueError``.
    """
    arrays = validate_deq_arrays(W, U, b, G, b_y, source=path or "")
    Wm = arrays["W"]
    n = Wm.shape[0]
    model = {"path": path, "kind": kind, "n": n,
             "d": arrays["U"].shape[1] if arrays["U"] is not None else n,
             "p": arrays["G"].shape[0] if arrays["G"] is not None else n}
    conds: Dict[str, Certificate] = {}
    timings: Dict[str, float] = {}
    table = _conditions()
    for name in CONDITIONS:
        if only is not None and name not in only:
            continue
        t0 = time.perf_counter()
        try:
            conds[name] = table[name](Wm)
        except (np.linalg.LinAlgError, ArithmeticError, RuntimeError) as exc:
            conds[name] = Certificate(name, Status.SOLVER_ERROR, message=f"{type(exc).__name__}: {exc}")
        timings[name] = time.perf_counter() - t0
    opts = dict(options or {})
    if opts.get("sdp", True) and (only is None or "sdp_wellposed" in only):
        from .sdp import sdp_wellposed

        t0 = time.perf_counter()
        try:
            conds["sdp_wellposed"] = sdp_wellposed(Wm, **_backend(opts))
        except (np.linalg.LinAlgError, ArithmeticError, RuntimeError) as exc:
            conds["sdp_wellposed"] = Certificate("sdp_wellposed", Status.SOLVER_ERROR,
                                                 message=f"{type(exc).__name__}: {exc}")
        timings["sdp_wellposed"] = time.perf_counter() - t0
    sections: Dict[str, Mapping[str, Any]] = {}
    for sec_name, fn in _SECTIONS.items():
        t0 = time.perf_counter()
        sections[sec_name] = fn(arrays, conds, opts)
        timings[sec_name] = time.perf_counter() - t0
    return CheckReport(model=model, conditions=conds, sections=sections, timings=timings)


def _backend(opts: Mapping[str, Any]) -> Dict[str, Any]:
    return {"backend": opts["backend"]} if opts.get("backend") else {}


def _bound_entry(res: Any, detail: str) -> Dict[str, Any]:
    """A closed-form bound (``bounds.BoundResult``) as a report entry."""
    st = Status.CERTIFIED if res.certificate.certified and np.isfinite(res.value) else Status.INCONCLUSIVE
    return {"L": res.value, "status": st.value, "margin": res.certificate.margin, "theorem": res.theorem,
            "norm": res.norm, "detail": f"{res.theorem}: {detail}"}


@register_section("lipschitz")
def _lipschitz_section(arrays: Mapping[str, Optional[np.ndarray]], conds: Mapping[str, Certificate],
                       opts: Mapping[str, Any]) -> Dict[str, Any]:
    """ℓ2 Lipschitz constant of x ↦ y by SDP (havens2023 (10), minimal L) and every closed-form bound
    that applies (pabbaraju2021 Thm 1, havens2023 Thm 3.3 with Φ = Γ⁻¹ from (3), jafarpour2022 Thm 6.1 ℓ∞)."""
    from . import bounds

    W = arrays["W"]
    n = W.shape[0]
    U = arrays["U"] if arrays["U"] is not None else np.eye(n)
    G = arrays["G"] if arrays["G"] is not None else np.eye(n)
    out: Dict[str, Any] = {}
    analytic: Dict[str, Any] = {}
    mono = conds.get("monotone")
    r = bounds.pabbaraju_lipschitz(W, U, G)
    analytic["pabbaraju2021:thm1"] = _bound_entry(r, "||G||_2 ||U||_2 / m with m the proved monotonicity margin")
    wp = conds.get("sdp_wellposed")
    if wp is not None and wp.certified and "gamma" in wp.witness:
        gam = np.asarray(wp.witness["gamma"], dtype=float)
        r2 = bounds.havens_gmondeq_lipschitz(W, U, 1.0 / gam, G)
        analytic["havens2023:thm3.3"] = _bound_entry(r2, "||G||_2 ||Phi^-1 U||_2 / m with Phi = Gamma^-1 from (3)")
    best = min(analytic.values(), key=lambda e: e["L"] if e["status"] == "certified" else np.inf)
    out["l2_analytic"] = {**best, "bounds": analytic}
    if opts.get("sdp", True):
        from .sdp import min_lipschitz

        wellposed = mono if (mono is not None and mono.certified) else (wp if wp is not None and wp.certified else None)
        try:
            cert = min_lipschitz(W, U, G, wellposed=wellposed, **_backend(opts))
        except (np.linalg.LinAlgError, ArithmeticError, RuntimeError) as exc:
            cert = Certificate("l2_sdp", Status.SOLVER_ERROR, message=f"{type(exc).__name__}: {exc}")
        out["l2_sdp"] = {"L": cert.witness.get("L", float("nan")), "status": cert.status.value,
                         "margin": cert.margin,
                         "wellposed_condition": cert.witness.get("wellposed_condition"),
                         "detail": cert.message, "certificate": cert.to_dict(arrays=False)}
        out["_l2_sdp_certificate"] = cert
    rl = bounds.jafarpour_linf_lipschitz(W, U, G)
    out["linf"] = _bound_entry(rl, "linf Lipschitz bound from mu_inf,[eta]^-1(W) < 1")
    return out
