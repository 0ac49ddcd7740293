r"""The certification plan of dense DEQ classifiers (``pre-blocks → dense DEQ → linear head``):
:class:`CertificationPlan` (decomposed model + cached proved constants), :func:`prepare`,
:func:`certify_batch` (one batch, one perturbation) and :func:`certified_accuracy` (a loader).
Theorems, rounding model and the accepted models: the module docstring of :mod:`deqtheory_train.certify`."""
from __future__ import annotations

import math
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from deqtheory.errors import DomainError

from ..layers.dense import DenseDEQLayer
from ..solvers import SolverStatus, fixed_point
from ..train import unwrap
from .blocks import Block, Readout, lipschitz_product, model_blocks, pre_block
from .boxes import DT, INFLATE, TINY, UROUND, affine_box, as_f64, down, folded_margins, input_box, gamma, point_margins, to_numpy64, up
from .deq import DEQConstants, error_bound, residual_rho
from .driver import certify_plan_batch, l2_need, plan_inputs, run_certifier
from .results import CertificationResult, CertifyOutput, Perturbation, stats_dict

__all__ = ["CertificationPlan", "prepare", "certify_batch", "certified_accuracy", "certify_deq", "certify_linf",
           "DEFAULT_SOLVER"]

DEFAULT_SOLVER: Dict[str, Any] = {"f_tol": 1e-10, "f_stop_mode": "rel", "f_max_iter": 5000}


class CertificationPlan:
    """A model decomposed into pre-blocks, one dense DEQ layer and a linear head, with its proved
    constants cached (build with :func:`prepare`; reuse across batches)."""

    def __init__(self, model: nn.Module, *, factor: str = "folded", interval: str = "auto",
                 solver_options: Optional[Mapping[str, Any]] = None, sdp: bool = False,
                 device: Any = None) -> None:
        if factor not in ("folded", "sqrt2", "paper"):
            raise DomainError(f"factor: expected 'folded', 'sqrt2' or 'paper', got {factor!r}")
        if interval not in ("auto", "ibp", "metzler"):
            raise DomainError(f"interval: expected 'auto', 'ibp' or 'metzler', got {interval!r}")
        self.model = model
        self.factor = factor
        self.device = torch.device("cpu") if device is None else torch.device(device)
        mods = model_blocks(model)
        deq_idx = [i for i, m in enumerate(mods) if isinstance(m, DenseDEQLayer)]
        if len(deq_idx) != 1:
            raise DomainError(f"model: expected exactly one dense DEQ layer, found {len(deq_idx)}")
        k = deq_idx[0]
        layer = mods[k]
        tail = [m for m in mods[k + 1:] if not isinstance(m, nn.Identity)]
        if len(tail) == 1 and isinstance(tail[0], Readout) and tail[0].layer is layer:
            if layer.G is None:
                raise DomainError("Readout: the DEQ layer has no readout (p=None)")
            head = (to_numpy64(layer.G), to_numpy64(layer.b_y))
            head_is_readout = True
        elif len(tail) == 1 and isinstance(tail[0], nn.Linear):
            lin = tail[0]
            head = (to_numpy64(lin.weight), np.zeros(lin.out_features) if lin.bias is None else to_numpy64(lin.bias))
            head_is_readout = False
        else:
            raise DomainError("model: the DEQ layer must be followed by exactly one head (Readout(layer) or "
                              f"nn.Linear); got {[type(m).__name__ for m in tail]}")
        self.pre: List[Block] = [bl for bl in (pre_block(m) for m in mods[:k]) if bl is not None]
        self.deq = DEQConstants(layer, head, head_is_readout, sdp=sdp)
        self.G = as_f64(self.deq.Gn)
        self.b_y = as_f64(self.deq.byn)
        self.p = self.G.shape[0]
        self.lip_pre = lipschitz_product(self.pre)
        opts = {"f_solver": layer.solver_options.get("f_solver", "pr"), **DEFAULT_SOLVER}
        for key in ("alpha", "memory"):
            if layer.solver_options.get(key) is not None:
                opts[key] = layer.solver_options[key]
        if solver_options:
            opts.update(dict(solver_options))
        self.solver_options = opts
        if interval == "auto":
            interval = "ibp" if self.deq.kind in ("ibp_mondeq", "ibp_mondeq_gamma", "cerdeq") else "metzler"
        self.interval = interval
        # folded head: C[c, j] = g_c − g_j (p, p, n), c0[c, j] = b_c − b_j
        self.C = self.G[:, None, :] - self.G[None, :, :]
        self.c0 = self.b_y[:, None] - self.b_y[None, :]
        self.Cabs = self.C.abs()
        self.Cnorm = up(torch.linalg.vector_norm(self.C, dim=-1) * (1 + gamma(self.deq.n + 4)))

    # -- provenance ----------------------------------------------------------------------------
    def info(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        consts = {"lipschitz_pre": self.lip_pre, "factor": self.factor, "interval": self.interval,
                  **self.deq.constants}
        prov = {"pre_blocks": [{"block": b.name, "lip2": b.lip2, **b.provenance} for b in self.pre],
                **self.deq.provenance, "solver_options": {k: v for k, v in self.solver_options.items()}}
        return consts, prov

    def certificates(self) -> Dict[str, Any]:
        """The :class:`deqtheory.certificates.Certificate` of every constant proved so far, by name
        (names of :data:`deqtheory.classifier_certificate.CERTIFICATE_TARGETS`)."""
        return dict(self.deq.certificates)

    def witness_meta(self) -> Dict[str, Any]:
        """What a numpy re-check must know about how this plan decided (see
        :mod:`deqtheory.classifier_certificate`): the lift used for ℓ∞ and the ℓ2 factor."""
        return {"interval": self.interval, "factor": self.factor, "kind": self.deq.kind}

    # -- building blocks -----------------------------------------------------------------------
    def pre_box(self, lo: torch.Tensor, hi: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        for bl in self.pre:
            lo, hi = bl.box(lo, hi)
        lo, hi = lo.reshape(lo.shape[0], -1), hi.reshape(hi.shape[0], -1)
        if lo.shape[1] != self.deq.d:
            raise DomainError(f"x: the pre-blocks produce {lo.shape[1]} features, the DEQ expects {self.deq.d}")
        return lo, hi

    def inputs(self, x: Any, y: Any) -> Tuple[torch.Tensor, torch.Tensor]:
        """``x`` as float64 and ``y`` as long labels on the plan's device (:func:`.driver.plan_inputs`)."""
        return plan_inputs(x, y, self.device, self.p)

    def _solve(self, M: torch.Tensor, v: torch.Tensor, solver: Optional[str] = None):
        opts = dict(self.solver_options)
        if solver is not None and solver != opts.get("f_solver"):
            opts["f_solver"] = solver
            opts.pop("alpha", None)
        return fixed_point(M, v, **opts)

    def clean(self, x: torch.Tensor, labels: torch.Tensor) -> Dict[str, Any]:
        """Clean pass: proved lower bounds on the exact margins at x and the point error."""
        dq = self.deq
        dev = self.device
        lo, hi = self.pre_box(x, x)
        c = (lo + hi) / 2
        ein = torch.linalg.vector_norm(torch.maximum(hi - c, c - lo), dim=1)     # ‖x_exact − c‖₂ (exact ≤)
        # round up, but keep exact zeros (no pre-block rounding): a zero radius must not become the
        # smallest subnormal, or an infinite L_z (W not l2-monotone) would void every certificate.
        ein = torch.where(ein > 0, up(ein * (1 + gamma(dq.d + 2))), ein)
        W, Um, b = dq.W.to(dev), dq.U.to(dev), dq.b.to(dev)
        v = c @ Um.T + b
        dv = INFLATE * gamma(dq.d + 2) * (c.abs() @ Um.abs().T + b.abs()) + TINY
        z, st = self._solve(W, v)
        _, rho = residual_rho(W, dq.absW.to(dev), v, z, dv)
        pt = dq.point()
        e = error_bound(dq.absW.to(dev), rho, pt["m"], pt["mu"], pt["eta"], pt["contraction"])
        if bool((ein > 0).any()):
            # input uncertainty from rounding in the pre-blocks: ‖z*(x) − z*(c)‖₂ ≤ L_z ‖x − c‖₂
            Lz = dq.l2()["L_z"]
            e = up(e + (Lz * ein * (1 + 4 * UROUND))[:, None])
        e2 = up(torch.linalg.vector_norm(e, dim=1) * (1 + gamma(dq.n + 1)))
        C, c0, Cabs = self.C.to(dev)[labels], self.c0.to(dev)[labels], self.Cabs.to(dev)[labels]   # (B, p, n)
        werr = torch.minimum(torch.einsum("bpn,bn->bp", Cabs, e), self.Cnorm.to(dev)[labels] * e2[:, None])
        m_low = point_margins(C, c0, z, werr, labels)
        ok = st.status is SolverStatus.CONVERGED
        finite = torch.isfinite(z).all(dim=1) & torch.isfinite(e2)
        correct = (m_low.amin(dim=1) > 0) & finite & ok if self.p > 1 else finite & ok
        return {"z": z, "e": e, "e2": e2, "margins": m_low, "correct": correct, "stats": st}

    def l2_factors(self, labels: torch.Tensor) -> torch.Tensor:
        """K (B, p): K[i, j] ≥ Lip₂(x ↦ f_{y_i}(x) − f_j(x)) for the chosen ``factor``."""
        c = self.deq.l2()
        Lz, Ly = c["L_z"], c["L_y"]
        dev = self.device
        if self.factor == "folded":
            pair = self.Cnorm.to(dev)[labels] * Lz if math.isfinite(Lz) else torch.full(
                (len(labels), self.p), math.inf, dtype=DT, device=dev)
            glob = math.sqrt(2.0) * (1 + 2 * UROUND) * Ly
            K = torch.minimum(pair, torch.full_like(pair, glob))
        else:
            f = math.sqrt(2.0) * (1 + 2 * UROUND) if self.factor == "sqrt2" else 2.0
            K = torch.full((len(labels), self.p), f * Ly, dtype=DT, device=dev)
        return up(K * self.lip_pre * (1 + 8 * UROUND))

    def interval_margins(self, x: torch.Tensor, labels: torch.Tensor, pert: Perturbation) -> Dict[str, Any]:
        """ℓ∞: the widened lifted box of z* over the perturbation set and the folded margins."""
        dq = self.deq
        dev = self.device
        lo, hi = input_box(x, pert.eps, pert.domain)
        lo, hi = self.pre_box(lo, hi)
        vlo, vhi = affine_box(dq.U.to(dev), dq.b.to(dev), lo, hi)
        lf = dq.lift(self.interval)
        B, n = x.shape[0], dq.n
        if not lf.valid:
            inf = torch.full((B, n), math.inf, dtype=DT, device=dev)
            m = torch.full((B, self.p), -math.inf, dtype=DT, device=dev)
            return {"lower": -inf, "upper": inf, "margins": m, "stats": None, "valid": False, "zhat": None}
        vhat = torch.cat([vhi, vlo], dim=1)
        M = lf.M.to(dev)
        zh, st = self._solve(M, vhat, lf.solver)
        _, rho = residual_rho(M, lf.absM.to(dev), vhat, zh)
        e = error_bound(lf.absM.to(dev), rho, lf.m, lf.mu, lf.eta)
        zu = up(zh[:, :n] + e[:, :n])
        zl = down(zh[:, n:] - e[:, n:]).clamp(min=0.0)
        bad = ~(torch.isfinite(zu).all(dim=1) & torch.isfinite(zl).all(dim=1) & (zl <= zu).all(dim=1))
        zl_s = torch.where(bad[:, None], torch.zeros_like(zl), zl)
        zu_s = torch.where(bad[:, None], torch.zeros_like(zu), zu)
        m = folded_margins(self.G.to(dev), self.b_y.to(dev), zl_s, zu_s, labels, sound=True)
        m[bad] = -math.inf
        ar = torch.arange(B, device=dev)
        m[ar, labels] = math.inf
        if st.status is not SolverStatus.CONVERGED:
            m[:] = torch.where(torch.isinf(m) & (m > 0), m, torch.full_like(m, -math.inf))
        return {"lower": zl, "upper": zu, "margins": m, "stats": st, "valid": True, "zhat": zh}


def prepare(model: nn.Module, **kw: Any) -> CertificationPlan:
    """Decompose ``model`` and set up its proved constants (see :class:`CertificationPlan`;
    keywords ``factor``, ``interval``, ``solver_options``, ``sdp``, ``device``)."""
    return CertificationPlan(model, **kw)


def certify_batch(model: Union[nn.Module, CertificationPlan], x: Any, y: Any, perturbation: Perturbation,
                  **kw: Any) -> CertificationResult:
    """Certify a batch: ``x`` (B, ...) raw inputs, ``y`` (B,) labels. ``model`` may be a prepared
    :class:`CertificationPlan` (reuses its constants); other keywords go to :func:`prepare`."""
    t0 = time.perf_counter()
    plan = model if isinstance(model, CertificationPlan) else prepare(model, **kw)
    if not isinstance(perturbation, Perturbation):
        raise DomainError(f"perturbation: expected a Perturbation, got {type(perturbation).__name__}")
    x, labels = plan.inputs(x, y)
    B, dev = x.shape[0], plan.device
    with torch.no_grad():
        r = certify_plan_batch(plan, x, labels, norm=perturbation.norm, eps=[perturbation.eps],
                               domain=perturbation.domain)
    cl = r["clean"]
    certified = r["certified"][:, 0]
    solver = {"clean": stats_dict(cl["stats"])}
    zl = zu = None
    if perturbation.norm == "2":
        radius = r["radius"]
        margins = torch.nan_to_num(cl["margins"] - l2_need(r["K"], labels, perturbation.eps), nan=-math.inf)
        margins[torch.arange(B, device=dev), labels] = math.inf
    else:
        iv = r["intervals"][0]
        solver["interval"] = stats_dict(iv["stats"])
        margins = iv["margins"]
        radius = torch.full((B,), math.nan, dtype=DT, device=dev)
        zl, zu = iv["lower"].cpu(), iv["upper"].cpu()
    consts, prov = plan.info()
    return CertificationResult(perturbation=perturbation, labels=labels.cpu(), certified=certified.cpu(),
                               correct=cl["correct"].cpu(), clean_margins=cl["margins"].cpu(), margins=margins.cpu(),
                               radius=radius.cpu(), fixed_point_error=cl["e2"].cpu(), z_lower=zl, z_upper=zu,
                               constants=consts, provenance=prov, solver=solver,
                               seconds=time.perf_counter() - t0)


def _batches(loader: Any) -> Iterable[Tuple[Any, Any]]:
    if hasattr(loader, "x") and hasattr(loader, "y") and not hasattr(loader, "__iter__"):
        yield loader.x, loader.y
        return
    if isinstance(loader, tuple) and len(loader) == 2 and not isinstance(loader[0], tuple):
        yield loader
        return
    for item in loader:
        yield item[0], item[1]


def certified_accuracy(model: Union[nn.Module, CertificationPlan], loader: Any,
                       perturbation: Union[Perturbation, Sequence[Perturbation]], *,
                       max_samples: Optional[int] = None, **kw: Any) -> Dict[str, Any]:
    """Certified accuracy over ``loader`` (an iterable of ``(x, y)`` batches, or one ``(x, y)`` pair).

    Returns a table-like dict: ``norm``, ``eps`` (list), ``n``, ``clean_accuracy``,
    ``certified_accuracy`` (list, one per perturbation), ``median_certified_radius`` (ℓ2),
    ``constants``, ``provenance``, ``solver`` (statuses / max iterations), ``seconds``.
    All perturbations must share the norm (and domain); the clean pass runs once per batch."""
    perts = [perturbation] if isinstance(perturbation, Perturbation) else list(perturbation)
    if not perts:
        raise DomainError("perturbation: need at least one")
    if len({(p.norm, p.domain) for p in perts}) != 1:
        raise DomainError("perturbation: all entries must share norm and domain")
    t0 = time.perf_counter()
    plan = model if isinstance(model, CertificationPlan) else prepare(model, **kw)
    norm, eps = perts[0].norm, [p.eps for p in perts]
    n = n_correct = 0
    n_cert = np.zeros(len(perts), dtype=np.int64)
    radii: List[torch.Tensor] = []
    statuses: Dict[str, int] = {}
    max_it = 0
    for xb, yb in _batches(loader):
        xb, yb = torch.as_tensor(xb), torch.as_tensor(yb)
        if max_samples is not None:
            if n >= max_samples:
                break
            xb, yb = xb[: max_samples - n], yb[: max_samples - n]
        x, labels = plan.inputs(xb, yb)
        with torch.no_grad():
            r = certify_plan_batch(plan, x, labels, norm=norm, eps=eps, domain=perts[0].domain)
        n_correct += int(r["correct"].sum())
        n_cert += r["certified"].sum(dim=0).cpu().numpy()
        if r["radius"] is not None:
            radii.append(r["radius"].cpu())
        for key, st in [("clean", r["clean"]["stats"])] + [("interval", iv["stats"]) for iv in r["intervals"]]:
            if st is not None:
                statuses[f"{key}:{st.status.value}"] = statuses.get(f"{key}:{st.status.value}", 0) + 1
                max_it = max(max_it, int(st.iterations))
        n += int(yb.shape[0])
    consts, prov = plan.info()
    out: Dict[str, Any] = {"norm": norm, "eps": eps, "n": n,
                           "clean_accuracy": n_correct / n if n else 0.0,
                           "certified_accuracy": [int(c) / n if n else 0.0 for c in n_cert],
                           "constants": consts, "provenance": prov,
                           "solver": {"statuses": statuses, "max_iterations": max_it},
                           "seconds": time.perf_counter() - t0}
    if norm == "2":
        r = torch.cat(radii) if radii else torch.zeros(0, dtype=DT)
        out["median_certified_radius"] = float(r.median()) if r.numel() else 0.0
    return out


def certify_deq(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                batch_size: int = 500, clip: bool = True, witness: bool = False, **kw: Any) -> CertifyOutput:
    """Registry certifier ``deq`` (and ``deq_ibp``, ``deq_metzler``, ``deq_sqrt2`` with fixed keywords)
    for dense DEQ stacks: :func:`~deqtheory_train.certify.driver.run_certifier` on :func:`prepare`'s
    plan. ℓ∞ boxes are intersected with [0, 1]^d when ``clip``; ``witness``: also return the proofs
    (:class:`~deqtheory_train.certify.results.CertifyOutput`). Other keywords go to :func:`prepare`."""
    plan = prepare(unwrap(model), **kw)
    return run_certifier(plan, x, y, name="deq", norm=norm, eps=eps, batch_size=batch_size, clip=clip,
                         witness=witness)


def certify_linf(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                 batch_size: int = 500, clip: bool = True, witness: bool = False, **kw: Any) -> CertifyOutput:
    """Registry certifier ``deq_linf``: :func:`certify_deq` for ℓ∞ with
    :meth:`~deqtheory_train.certify.deq.DEQConstants.add_linf_lipschitz` applied to the plan
    (identical results when L_{x→z} is already finite); ℓ2 is :func:`certify_deq`."""
    if str(norm) != "inf":
        return certify_deq(model, x, y, norm=norm, eps=eps, batch_size=batch_size, clip=clip, witness=witness, **kw)
    plan = prepare(unwrap(model), **kw)
    plan.deq.add_linf_lipschitz()
    return run_certifier(plan, x, y, name="deq_linf", norm="inf", eps=eps, batch_size=batch_size, clip=clip,
                         witness=witness)
