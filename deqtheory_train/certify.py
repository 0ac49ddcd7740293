r"""Sound certification of torch DEQ classifiers (ℓ2 Lipschitz margins, ℓ∞ interval fixed points).

Model: a stack ``pre-blocks → DEQ → linear head`` where the DEQ is a dense layer of
:mod:`deqtheory_train.layers.dense` (z = σ(Wz + Ux + b), σ = ReLU), the head is the layer's own
readout (``y = Gz + b_y``, wrap it in :class:`Readout` inside an ``nn.Sequential``) or an
``nn.Linear``, and the pre-blocks are any of ``nn.Flatten``, :class:`~deqtheory_train.data.Normalize`,
``nn.Linear``, ``nn.ReLU``, ``nn.Identity``, :class:`~deqtheory_train.layers.explicit.SLLLinear`,
:class:`~deqtheory_train.layers.explicit.CPLLinear`. Accepted models: a bare dense DEQ layer with
``p`` (logits = its readout), an ``nn.Sequential`` of the above (nested Sequentials are flattened),
or any module with a ``certify_blocks()`` method returning that list.

What is certified. ``certified[i]`` is True only if it is **proved** that every x′ in the
perturbation set of x_i (ℓ2 ball, or ℓ∞ box intersected with ``Perturbation.domain``) is classified
y_i by the *exact real-arithmetic* function defined by the stored parameters (the effective
matrices ``layer.export_deq()`` — W as the parametrization computes it in the layer's dtype — and
the stored weights of the other blocks), and x_i itself is classified y_i with a positive exact
margin. Every constant comes from :mod:`deqtheory` (proved on the exported float64 arrays):

* ℓ2 (pabbaraju2021 §5.3, havens2023 §2.3): certified iff, for all j ≠ y,
  ``m̲_j > K_yj · ε`` where ``m̲_j`` is a proved lower bound on the exact margin
  ``f_y(x) − f_j(x)`` and ``K_yj ≥ Lip₂(x ↦ f_y − f_j)``. Default ``factor="folded"``:
  ``K_yj = ℓ_pre · min(‖g_y − g_j‖₂ · L_{x→z}, √2 · L_{x→y})`` (the tightest sound per-pair factor;
  each term is used only when its constant is proved); ``"sqrt2"``: ``√2 · L`` with one global
  ``L ≥ Lip₂(x ↦ y)`` (SLL / Havens protocol); ``"paper"``: ``2L`` (Pabbaraju's notebook).
  ``ℓ_pre`` = product of the pre-blocks' ℓ2 Lipschitz constants (SLL: 1 exactly, havens2023 eq. 9
  + Gershgorin; CPL: max(1, 2σ̄²/s² − 1); Linear: proved ‖W‖₂; Normalize: max 1/σ_c).
  ``L_{x→z}``: :func:`deqtheory.bounds.pabbaraju_lipschitz` (‖U‖₂/m) and, for Λ-monotone
  families (G-MonDEQ Φ, LBEN Ψ), :func:`deqtheory.bounds.havens_gmondeq_lipschitz` (‖Φ⁻¹U‖₂/m_Φ);
  ``L_{x→y}``: ‖G‖₂·L_{x→z}, and for LBEN the prescribed L verified by
  :func:`deqtheory.sdp.lipschitz_certificate` with the analytic witness Λ = Ψ⁻¹ (havens2023 Prop 2.2);
  optionally (``sdp=True``) :func:`deqtheory.sdp.min_lipschitz`.
* ℓ∞ (wei2022 eq. 3.3/3.6 — IBP fixed point; jafarpour2022 eq. 6 / Thm 6.3 — embedded Metzler
  network): boxes are propagated through the pre-blocks (outward rounded), then
  ``[v̲, v̄] = U₊[x̲,x̄] + U₋[x̄,x̲] + b`` and the lifted DEQ ``ẑ = σ(M̂ẑ + [v̄; v̲])`` (a DEQ with the
  2n × 2n matrix M̂, solved by :func:`deqtheory_train.solvers.fixed_point`); the last layer is folded
  into ``e_y − e_j`` (margins ``(g_y − g_j)₊ᵀz̲ + (g_y − g_j)₋ᵀz̄ + b_y,y − b_y,j``). Certified iff all
  are > 0. The lifted box is valid only under a proved condition on M̂ (``sym(I − M̂) ≻ 0`` via
  :func:`deqtheory.bounds.monotone_margin`, or μ∞,[η̂]⁻¹(M̂) < 1 via
  :func:`deqtheory.bounds.mu_inf_bound`); ``interval="auto"`` uses the IBP lift for IBP-MonDEQ and
  CerDEQ layers (the papers' certificate) and the Metzler lift otherwise (never looser,
  jafarpour2022 Remark 6.4.4).

**Approximate fixed points.** A solve returns ẑ with residual r = ẑ − F(ẑ). Per sample we bound
|ẑ − z*| componentwise with the formula of :func:`deqtheory.bounds.fixed_point_error_bound`
(applied batched in torch, constants proved once by deqtheory): with ρ ≥ |r_exact|,
ℓ2/monotone ``ρ_i + ‖|W|ρ‖₂/m``, contraction ``‖ρ‖₂/(1 − c)``, ℓ∞ ``η_i·min(max ρ/η /(1−μ),
…)`` — the componentwise minimum over every proved condition. For a Λ-monotone W
(sym(Λ(I − W)) ⪰ m_Λ I) the ℓ2 form is used with ``m = m_Λ / max Λ`` (same proof as pabbaraju2021
Thm 1: m_Λ‖Δ‖² ≤ ΔᵀΛδ ≤ max Λ ‖Δ‖‖δ‖). Margins are lowered and boxes widened by this bound, so
the certificate holds for the exact z*. A batch whose solve status is not CONVERGED certifies
nothing (``status`` recorded), and a non-finite sample is never correct.

**Floating-point rounding** (documented assumption). All certification arithmetic is torch float64
on CPU/GPU; we assume IEEE binary64 round-to-nearest and that torch's matmul/sum of k terms obeys the
textbook bound |fl(Σ) − Σ| ≤ γ_k Σ|terms| (true for any summation order, blocked or not, without
FMA-induced anomalies; FMA only tightens it). Every float quantity that enters a claim gets an
allowance ``(1 + 10⁻⁶)·γ_k·(sum of absolute values)`` (as :func:`deqtheory.bounds.residual_bound`):
the injection ``Ux + b`` (γ_{d+2}), the residual (γ_{n+2}, plus 2u|r̃|), the lifted residual
(γ_{2n+2}), the margins (γ_{n+5}), affine boxes (γ_{2d+2}) and the SLL ``T`` (2γ_{d+k+3}); results
are then moved one ulp outward. Transcendental parameter maps (``exp(log_q)``, ``sigmoid``) are
taken at their computed float value (that value *is* the parameter of the certified model).
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from deqtheory import bounds as _bounds
from deqtheory import intervals as _iv
from deqtheory.errors import DomainError
from deqtheory.verified import UNIT_ROUNDOFF, gamma

from .layers.dense import DenseDEQLayer
from .layers.explicit import CPLLinear, SLLLinear
from .solvers import SolverStatus, fixed_point

__all__ = ["Perturbation", "CertificationResult", "CertificationPlan", "Readout", "prepare", "certify_batch",
           "certified_accuracy", "certify_deq", "model_blocks", "DEFAULT_SOLVER"]

_U = UNIT_ROUNDOFF
_INFLATE = 1.0 + 1e-6
_TINY = 2.0 ** -1000          # absolute underflow allowance (≫ n·2⁻¹⁰⁷⁴ for any n we handle)
_DT = torch.float64

DEFAULT_SOLVER: Dict[str, Any] = {"f_tol": 1e-10, "f_stop_mode": "rel", "f_max_iter": 5000}


# ----------------------------------------------------------------------------------------------
# Public data types
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Perturbation:
    """Threat model: ``norm`` ``"2"`` (ball ‖x′ − x‖₂ ≤ eps) or ``"inf"`` (box ‖x′ − x‖∞ ≤ eps,
    intersected with ``domain = (lo, hi)`` when given, e.g. ``(0, 1)`` for pixels). ε is in the
    units of the model's raw input (normalisation inside the model is accounted for)."""

    norm: str
    eps: float
    domain: Optional[Tuple[float, float]] = None

    def __post_init__(self) -> None:
        nm = str(self.norm)
        if nm in ("l2", "L2"):
            nm = "2"
        if nm in ("linf", "Linf", "inf"):
            nm = "inf"
        if nm not in ("2", "inf"):
            raise DomainError(f"norm: expected '2' or 'inf', got {self.norm!r}")
        object.__setattr__(self, "norm", nm)
        e = float(self.eps)
        if not (math.isfinite(e) and e >= 0):
            raise DomainError(f"eps: expected a finite number >= 0, got {self.eps!r}")
        object.__setattr__(self, "eps", e)
        if self.domain is not None:
            lo, hi = (float(t) for t in self.domain)
            if not lo <= hi:
                raise DomainError(f"domain: expected (lo, hi) with lo <= hi, got {self.domain!r}")
            object.__setattr__(self, "domain", (lo, hi))


@dataclasses.dataclass
class CertificationResult:
    """Per-batch certification output (tensors on CPU, float64).

    * ``certified`` (B,) bool — proved robust (implies ``correct``);
    * ``correct`` (B,) bool — x itself provably classified ``labels`` (exact margin > 0);
    * ``clean_margins`` (B, p) — proved lower bounds on the exact margins f_y(x) − f_j(x)
      (entry y = +inf);
    * ``margins`` (B, p) — proved lower bounds on min over the perturbation set of f_y − f_j
      (ℓ2: clean_margins − K_yj ε; ℓ∞: folded interval margins);
    * ``radius`` (B,) — ℓ2 certified radius min_j m̲_j / K_yj (0 if not correct); NaN for ℓ∞;
    * ``fixed_point_error`` (B,) — proved ℓ2 bound on ‖ẑ − z*‖ of the clean solve;
    * ``z_lower``, ``z_upper`` (B, n) — ℓ∞ only: the widened box containing z*(x′) for all x′;
    * ``constants`` / ``provenance`` — the constants used and where their proofs come from;
    * ``solver`` — statistics of the solves (status, iterations, residuals)."""

    perturbation: Perturbation
    labels: torch.Tensor
    certified: torch.Tensor
    correct: torch.Tensor
    clean_margins: torch.Tensor
    margins: torch.Tensor
    radius: torch.Tensor
    fixed_point_error: torch.Tensor
    z_lower: Optional[torch.Tensor] = None
    z_upper: Optional[torch.Tensor] = None
    constants: Dict[str, Any] = dataclasses.field(default_factory=dict)
    provenance: Dict[str, Any] = dataclasses.field(default_factory=dict)
    solver: Dict[str, Any] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    @property
    def certified_accuracy(self) -> float:
        return float(self.certified.double().mean()) if self.n else 0.0

    @property
    def clean_accuracy(self) -> float:
        return float(self.correct.double().mean()) if self.n else 0.0


class Readout(nn.Module):
    """``z ↦ layer.readout(z)`` — put it after a dense DEQ layer in an ``nn.Sequential`` to use the
    layer's own ``G``/``b_y`` as the head."""

    def __init__(self, layer: DenseDEQLayer) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layer.readout(z)


# ----------------------------------------------------------------------------------------------
# Rounding helpers (torch, float64)
# ----------------------------------------------------------------------------------------------

def _down(t: torch.Tensor) -> torch.Tensor:
    return torch.nextafter(t, torch.full_like(t, -math.inf))


def _upt(t: torch.Tensor) -> torch.Tensor:
    return torch.nextafter(t, torch.full_like(t, math.inf))


def _upf(x: float) -> float:
    return _bounds._up(float(x))


def _downf(x: float) -> float:
    return _bounds._down(float(x))


def _t(a: Any, device: Any = None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=_DT, device=device)


def _np64(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy().copy()


def _affine_box(Wt: torch.Tensor, b: Optional[torch.Tensor], lo: torch.Tensor, hi: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Box of rows ``x Wᵀ + b`` over ``[lo, hi]`` (wei2022 eq. 2.3), ``Wt`` (out, in), rounded outward
    by ``(1+1e-6)γ_{2d+2}(max(|lo|,|hi|)|W|ᵀ + |b|)`` + one ulp (batched
    :func:`deqtheory.intervals.affine_box`)."""
    d = Wt.shape[1]
    Wp, Wm = Wt.clamp(min=0), Wt.clamp(max=0)
    up = hi @ Wp.T + lo @ Wm.T
    dn = lo @ Wp.T + hi @ Wm.T
    ax = torch.maximum(lo.abs(), hi.abs()) @ Wt.abs().T
    if b is not None:
        up, dn, ax = up + b, dn + b, ax + b.abs()
    err = _INFLATE * gamma(2 * d + 2) * ax + _TINY
    return _down(dn - err), _upt(up + err)


# ----------------------------------------------------------------------------------------------
# Pre-DEQ blocks: interval transformers with outward rounding + ℓ2 Lipschitz constants
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Block:
    name: str
    box: Any                       # (lo, hi) -> (lo, hi), flattened or shaped
    lip2: float                    # proved ℓ2 Lipschitz constant
    provenance: Dict[str, Any]


def _flatten_block() -> _Block:
    return _Block("flatten", lambda lo, hi: (lo.reshape(lo.shape[0], -1), hi.reshape(hi.shape[0], -1)), 1.0,
                  {"lipschitz": "exact (reshape)"})


def _normalize_block(mod: nn.Module) -> _Block:
    mean, std = mod.affine()
    C = len(mean)
    m = _t(mean).view(1, C, -1)
    s = _t(std).view(1, C, -1)

    def box(lo, hi):
        shp = lo.shape
        lo3, hi3 = lo.reshape(shp[0], C, -1), hi.reshape(shp[0], C, -1)
        a, bb = (lo3 - m.to(lo.device)) / s.to(lo.device), (hi3 - m.to(lo.device)) / s.to(lo.device)
        # two roundings: relative error ≤ (1+u)² − 1 < 3u
        return (_down(a - 3 * _U * a.abs() - _TINY).reshape(shp), _upt(bb + 3 * _U * bb.abs() + _TINY).reshape(shp))

    return _Block("normalize", box, float(mod.lipschitz_factor("2")), {"lipschitz": "max_c 1/sigma_c (rounded up)"})


def _linear_block(mod: nn.Linear) -> _Block:
    W = _t(_np64(mod.weight))
    b = None if mod.bias is None else _t(_np64(mod.bias))
    nW = _bounds.norm2_upper(W.numpy())

    def box(lo, hi):
        return _affine_box(W.to(lo.device), None if b is None else b.to(lo.device), lo, hi)

    return _Block("linear", box, nW, {"lipschitz": "deqtheory.linalg.norm2_upper_bound(W)"})


def _relu_block() -> _Block:
    return _Block("relu", lambda lo, hi: (lo.clamp(min=0), hi.clamp(min=0)), 1.0, {"lipschitz": "exact (ReLU)"})


def _residual_box(W: torch.Tensor, b: torch.Tensor, T: torch.Tensor, dT: torch.Tensor):
    r"""Box transformer of ``x − 2W T⁻¹σ(Wᵀx + b)`` (W (d, k)) with the exact ``T`` known to lie in
    ``[T̃ − dT, T̃ + dT]`` (T̃ − dT > 0 required)."""
    Tlo, Thi = _down(T - dT), _upt(T + dT)
    if not bool((Tlo > 0).all()):
        raise DomainError("residual layer: T is not provably positive (zero column of W?)")
    k = W.shape[1]

    def box(lo, hi):
        Wd = W.to(lo.device)
        plo, phi_ = _affine_box(Wd.T, b.to(lo.device), lo, hi)
        hlo, hhi = plo.clamp(min=0), phi_.clamp(min=0)
        slo = _down(hlo / Thi.to(lo.device) * (1 - 2 * _U))
        shi = _upt(hhi / Tlo.to(lo.device) * (1 + 2 * _U))
        tlo, thi = _affine_box(Wd, None, slo, shi)                      # box of W s
        olo = lo - 2.0 * thi
        ohi = hi - 2.0 * tlo
        return _down(olo - _U * olo.abs() - _TINY), _upt(ohi + _U * ohi.abs() + _TINY)

    return box


def _sll_block(mod: SLLLinear) -> _Block:
    W = _t(_np64(mod.weight))
    q = _t(_np64(torch.exp(mod.log_q.detach())))       # q := the float value of exp(log_q)
    b = _t(_np64(mod.bias))
    d, k = W.shape
    G = W.T @ W
    T = (G.abs() @ q) / q
    S = ((W.abs().T @ W.abs()) @ q) / q
    dT = 2 * _INFLATE * gamma(d + k + 3) * S + _TINY
    cert = mod.to_numpy().tw_certificate()
    return _Block("sll", _residual_box(W, b, T, dT), 1.0,
                  {"lipschitz": "1: havens2023 eq. 9 T (exact formula in W, q) dominates W^T W by Gershgorin",
                   "tw_certificate": f"{cert.condition}: {cert.status.value} (margin {cert.margin:.3g}, float T)"})


def _cpl_block(mod: CPLLinear) -> _Block:
    W = _t(_np64(mod.weight))
    b = _t(_np64(mod.bias))
    was = mod.training
    mod.eval()
    with torch.no_grad():
        s = float(mod.sigma().detach().double())          # the eval-mode normaliser of the deployed model
    mod.train(was)
    T = torch.full((W.shape[1],), s * s, dtype=_DT)
    dT = 2 * _U * T + _TINY
    sig_up = _bounds.norm2_upper(W.numpy())
    lip = max(1.0, _upf(2.0 * _upf(sig_up * sig_up) / _downf(s * s * (1 - 2 * _U)) - 1.0))
    return _Block("cpl", _residual_box(W, b, T, dT), lip,
                  {"lipschitz": "max(1, 2 sigma_up^2 / s^2 - 1), sigma_up = norm2_upper_bound(W), s = eval-mode norm"})


def model_blocks(model: nn.Module) -> List[nn.Module]:
    """The module list of a supported model (see the module docstring)."""
    if hasattr(model, "certify_blocks"):
        mods = list(model.certify_blocks())
    elif isinstance(model, DenseDEQLayer):
        mods = [model, Readout(model)]
    elif isinstance(model, nn.Sequential):
        mods = list(model)
    else:
        raise DomainError(f"model: unsupported type {type(model).__name__} (expected a dense DEQ layer, an "
                          "nn.Sequential of supported blocks, or a module with certify_blocks())")
    out: List[nn.Module] = []
    for m in mods:
        if isinstance(m, nn.Sequential):
            out.extend(model_blocks(m))
        else:
            out.append(m)
    return out


def _is_normalize(m: nn.Module) -> bool:
    return type(m).__name__ == "Normalize" and hasattr(m, "affine") and hasattr(m, "lipschitz_factor")


# ----------------------------------------------------------------------------------------------
# DEQ constants (proved once by deqtheory on the exported arrays)
# ----------------------------------------------------------------------------------------------

def _cert_info(c: Any) -> Dict[str, Any]:
    return {"condition": c.condition, "status": c.status.value, "margin": float(c.margin), "message": c.message}


def _bound_info(r: Any) -> Dict[str, Any]:
    return {"value": float(r.value), "theorem": r.theorem, **_cert_info(r.certificate)}


def _family_weight(layer: DenseDEQLayer) -> Optional[np.ndarray]:
    """Φ with sym(Φ⁻¹(I − W)) ≻ 0 by construction: G-MonDEQ Φ (havens2023 eq. 6), LBEN Ψ (eq. 7)."""
    kind = getattr(layer, "kind", "")
    try:
        if kind == "gmondeq":
            return np.asarray(layer.export_params().phi, dtype=np.float64)
        if kind == "lben":
            return np.asarray(layer.export_params().psi, dtype=np.float64)
    except Exception:  # pragma: no cover - defensive: an unexpected params object
        return None
    return None


@dataclasses.dataclass
class _Lift:
    method: str
    M: torch.Tensor               # (2n, 2n)
    absM: torch.Tensor
    m: Optional[float]            # proved sym(I − M̂) ⪰ mI
    mu: Optional[float]           # proved μ∞,[η̂]⁻¹(M̂) ≤ mu < 1
    eta: Optional[torch.Tensor]
    solver: str
    provenance: Dict[str, Any]

    @property
    def valid(self) -> bool:
        return self.m is not None or self.mu is not None


class _DEQ:
    """Exported arrays of one dense DEQ layer (float64) and the constants proved on them."""

    def __init__(self, layer: DenseDEQLayer, head: Tuple[np.ndarray, np.ndarray], head_is_readout: bool,
                 sdp: bool = False) -> None:
        if layer.solver_options.get("identity_mask") is not None:
            raise DomainError("certification: layers with an identity_mask are not supported (deqtheory bounds "
                              "assume sigma = ReLU on every coordinate)")
        e = layer.export_deq()
        self.layer = layer
        self.kind = e["kind"]
        self.Wn, self.Un, self.bn = e["W"], e["U"], e["b"]
        self.n, self.d = self.Wn.shape[0], self.Un.shape[1]
        self.W, self.U, self.b = _t(self.Wn), _t(self.Un), _t(self.bn)
        self.absW = self.W.abs()
        self.Gn, self.byn = head
        self.head_is_readout = head_is_readout
        self.sdp = sdp
        self.provenance: Dict[str, Any] = {"export": f"{type(layer).__name__}.export_deq() (kind {self.kind})"}
        self.constants: Dict[str, Any] = {}
        self._point: Optional[Dict[str, Any]] = None
        self._l2: Optional[Dict[str, Any]] = None
        self._lifts: Dict[str, _Lift] = {}
        self.phi = _family_weight(layer)

    # -- error-bound conditions for the point fixed point ----------------------------------------
    def point(self) -> Dict[str, Any]:
        if self._point is not None:
            return self._point
        out: Dict[str, Any] = {"m": None, "mu": None, "eta": None, "contraction": None}
        cm = _bounds.monotone_margin(self.Wn)
        self.provenance["monotone"] = _cert_info(cm)
        ms = []
        if cm.certified:
            ms.append(_downf(cm.margin))
        if self.phi is not None:
            cw = _bounds.monotone_margin(self.Wn, self.phi)
            self.provenance["monotone_weighted"] = {**_cert_info(cw), "phi": "family weight (G-MonDEQ Phi / LBEN Psi)"}
            if cw.certified:
                # sym(Φ⁻¹(I − W)) ⪰ m_Φ I ⇒ ‖Δ‖ ≤ max(Φ⁻¹)‖δ‖/m_Φ: effective m = m_Φ · min Φ
                ms.append(_downf(_downf(cw.margin) * float(np.min(self.phi))))
        if ms:
            out["m"] = max(ms)
        else:
            cu = _bounds.mu_inf_bound(self.Wn)
            self.provenance["mu_inf"] = _cert_info(cu)
            if cu.certified and "eta" in cu.witness:
                out["mu"] = float(_bounds._mu_upper_from_cert(cu))
                out["eta"] = _t(cu.witness["eta"])
        self.constants["fixed_point_m"] = out["m"]
        self.constants["fixed_point_mu"] = out["mu"]
        self._point = out
        return out

    # -- ℓ2 Lipschitz constants ------------------------------------------------------------------
    def l2(self) -> Dict[str, Any]:
        if self._l2 is not None:
            return self._l2
        Lz = math.inf
        r = _bounds.pabbaraju_lipschitz(self.Wn, self.Un)
        self.provenance["L_x_to_z"] = _bound_info(r)
        if r.certified:
            Lz = r.value
        if self.phi is not None:
            r2 = _bounds.havens_gmondeq_lipschitz(self.Wn, self.Un, self.phi)
            self.provenance["L_x_to_z_weighted"] = _bound_info(r2)
            if r2.certified and r2.value < Lz:
                Lz = r2.value
        nG = _bounds.norm2_upper(self.Gn)
        Ly = _upf(nG * Lz) if math.isfinite(Lz) else math.inf
        self.provenance["L_x_to_y"] = {"value": Ly, "how": "norm2_upper_bound(G) * L_x_to_z"}
        if self.kind == "lben" and self.head_is_readout:
            from deqtheory.sdp import lipschitz_certificate
            L = float(self.layer.L)
            c = lipschitz_certificate(self.Wn, self.Un, self.Gn, L, lam=1.0 / self.phi)
            self.provenance["L_x_to_y_lben"] = {**_cert_info(c), "L": L,
                                                "witness": "analytic Lambda = Psi^-1 (havens2023 eq. 7 / Prop 2.2)"}
            if c.certified and L < Ly:
                Ly = L
        if self.sdp:
            from deqtheory.sdp import min_lipschitz
            c = min_lipschitz(self.Wn, self.Un, self.Gn)
            self.provenance["L_x_to_y_sdp"] = _cert_info(c)
            if c.certified and float(c.witness["L"]) < Ly:
                Ly = float(c.witness["L"])
        self._l2 = {"L_z": Lz, "L_y": Ly}
        self.constants.update({"L_x_to_z": Lz, "L_x_to_y": Ly})
        return self._l2

    # -- lifted systems --------------------------------------------------------------------------
    def lift(self, method: str) -> _Lift:
        if method in self._lifts:
            return self._lifts[method]
        Mn = _iv.ibp_lift(self.Wn) if method == "ibp" else _iv.metzler_lift(self.Wn)
        prov: Dict[str, Any] = {"lift": "wei2022 eq. 3.3 (IBP)" if method == "ibp" else "jafarpour2022 eq. 6 (Metzler)"}
        cm = _bounds.monotone_margin(Mn)
        prov["monotone"] = _cert_info(cm)
        m = _downf(cm.margin) if cm.certified else None
        mu = eta = None
        cu = _bounds.mu_inf_bound(Mn)
        prov["mu_inf"] = _cert_info(cu)
        if cu.certified and "eta" in cu.witness:
            mu = float(_bounds._mu_upper_from_cert(cu))
            eta = _t(cu.witness["eta"])
        solver = "pr" if m is not None else "alpha_avg"
        M = _t(Mn)
        lf = _Lift(method, M, M.abs(), m, mu, eta, solver, prov)
        self._lifts[method] = lf
        self.provenance[f"lift_{method}"] = prov
        self.constants[f"lift_{method}_m"] = m
        self.constants[f"lift_{method}_mu"] = mu
        return lf


def _error_bound(absM: torch.Tensor, rho: torch.Tensor, m: Optional[float], mu: Optional[float],
                 eta: Optional[torch.Tensor], contraction: Optional[float] = None) -> torch.Tensor:
    r"""Batched componentwise bound on |ẑ − z*| (rows), the formula of
    :func:`deqtheory.bounds.fixed_point_error_bound` with ρ ≥ |r_exact| (already inflated).
    +inf where no condition is proved."""
    N = rho.shape[1]
    Arho = (rho @ absM.T) * (1.0 + gamma(N + 1))
    e = torch.full_like(rho, math.inf)
    if m is not None:
        rho2 = torch.linalg.vector_norm(rho, dim=1) * (1 + gamma(N + 1))
        t = torch.linalg.vector_norm(Arho, dim=1) * (1 + gamma(N + 1)) / m * (1 + 4 * _U)
        e = torch.minimum(e, _upt((rho + t[:, None]) * (1 + 2 * _U)))
        e = torch.minimum(e, _upt((rho2 + t) * (1 + 2 * _U))[:, None].expand_as(e))
    if contraction is not None and contraction < 1:
        rho2 = torch.linalg.vector_norm(rho, dim=1) * (1 + gamma(N + 1))
        e = torch.minimum(e, _upt(rho2 / _downf(1.0 - contraction) * (1 + 2 * _U))[:, None].expand_as(e))
    if mu is not None and eta is not None:
        et = eta.to(rho.device)
        om = _downf(1.0 - max(mu, 0.0))
        rw = _upt((rho / et).amax(dim=1) * (1 + 2 * _U))
        aw = _upt((Arho / et).amax(dim=1) * (1 + 2 * _U))
        b1 = rw / om * (1 + 2 * _U)
        b2 = (rw + aw / om) * (1 + 4 * _U)
        c = torch.minimum(et * b1[:, None], rho + et * (aw / om * (1 + 2 * _U))[:, None])
        c = torch.minimum(c, et * b2[:, None])
        e = torch.minimum(e, _upt(c * (1 + 4 * _U)))
    return e


def _residual_rho(M: torch.Tensor, absM: torch.Tensor, v: torch.Tensor, z: torch.Tensor,
                  dv: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Rows: float residual r̃ = z − relu(z Mᵀ + v) and ρ ≥ |r_exact| (batched
    :func:`deqtheory.bounds.residual_bound`: (1+1e-6)(γ_{N+2}(|M||z| + |v|) + 2u|r̃|); plus ``dv``, a
    bound on |v_exact − v|, since relu is 1-Lipschitz)."""
    N = M.shape[0]
    r = z - torch.relu(z @ M.T + v)
    delta = _INFLATE * (gamma(N + 2) * (z.abs() @ absM.T + v.abs()) + 2 * _U * r.abs())
    rho = r.abs() + delta
    if dv is not None:
        rho = rho + dv
    return r, _upt(rho * (1 + 2 * _U) + _TINY)


# ----------------------------------------------------------------------------------------------
# The plan: decomposed model + cached constants
# ----------------------------------------------------------------------------------------------

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
            head = (_np64(layer.G), _np64(layer.b_y))
            head_is_readout = True
        elif len(tail) == 1 and isinstance(tail[0], nn.Linear):
            lin = tail[0]
            head = (_np64(lin.weight), np.zeros(lin.out_features) if lin.bias is None else _np64(lin.bias))
            head_is_readout = False
        else:
            raise DomainError("model: the DEQ layer must be followed by exactly one head (Readout(layer) or "
                              f"nn.Linear); got {[type(m).__name__ for m in tail]}")
        self.pre: List[_Block] = []
        for m in mods[:k]:
            if isinstance(m, nn.Flatten):
                self.pre.append(_flatten_block())
            elif _is_normalize(m):
                self.pre.append(_normalize_block(m))
            elif isinstance(m, nn.Linear):
                self.pre.append(_linear_block(m))
            elif isinstance(m, nn.ReLU):
                self.pre.append(_relu_block())
            elif isinstance(m, nn.Identity):
                continue
            elif isinstance(m, SLLLinear):
                self.pre.append(_sll_block(m))
            elif isinstance(m, CPLLinear):
                self.pre.append(_cpl_block(m))
            else:
                raise DomainError(f"model: unsupported pre-DEQ block {type(m).__name__}")
        self.deq = _DEQ(layer, head, head_is_readout, sdp=sdp)
        self.G = _t(self.deq.Gn)
        self.b_y = _t(self.deq.byn)
        self.p = self.G.shape[0]
        lp = 1.0
        for bl in self.pre:
            lp = _upf(lp * bl.lip2)
        self.lip_pre = lp
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
        self.Cnorm = _upt(torch.linalg.vector_norm(self.C, dim=-1) * (1 + gamma(self.deq.n + 4)))

    # -- provenance ----------------------------------------------------------------------------
    def info(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        consts = {"lipschitz_pre": self.lip_pre, "factor": self.factor, "interval": self.interval,
                  **self.deq.constants}
        prov = {"pre_blocks": [{"block": b.name, "lip2": b.lip2, **b.provenance} for b in self.pre],
                **self.deq.provenance, "solver_options": {k: v for k, v in self.solver_options.items()}}
        return consts, prov

    # -- building blocks -----------------------------------------------------------------------
    def pre_box(self, lo: torch.Tensor, hi: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        for bl in self.pre:
            lo, hi = bl.box(lo, hi)
        lo, hi = lo.reshape(lo.shape[0], -1), hi.reshape(hi.shape[0], -1)
        if lo.shape[1] != self.deq.d:
            raise DomainError(f"x: the pre-blocks produce {lo.shape[1]} features, the DEQ expects {self.deq.d}")
        return lo, hi

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
        ein = torch.where(ein > 0, _upt(ein * (1 + gamma(dq.d + 2))), ein)
        W, U, b = dq.W.to(dev), dq.U.to(dev), dq.b.to(dev)
        v = c @ U.T + b
        dv = _INFLATE * gamma(dq.d + 2) * (c.abs() @ U.abs().T + b.abs()) + _TINY
        z, st = self._solve(W, v)
        _, rho = _residual_rho(W, dq.absW.to(dev), v, z, dv)
        pt = dq.point()
        e = _error_bound(dq.absW.to(dev), rho, pt["m"], pt["mu"], pt["eta"], pt["contraction"])
        if bool((ein > 0).any()):
            # input uncertainty from rounding in the pre-blocks: ‖z*(x) − z*(c)‖₂ ≤ L_z ‖x − c‖₂
            Lz = dq.l2()["L_z"]
            e = _upt(e + (Lz * ein * (1 + 4 * _U))[:, None])
        e2 = _upt(torch.linalg.vector_norm(e, dim=1) * (1 + gamma(dq.n + 1)))
        C, c0, Cabs = self.C.to(dev)[labels], self.c0.to(dev)[labels], self.Cabs.to(dev)[labels]   # (B, p, n)
        mc = torch.einsum("bpn,bn->bp", C, z) + c0
        rnd = _INFLATE * gamma(dq.n + 5) * (torch.einsum("bpn,bn->bp", Cabs, z.abs()) + c0.abs()) + _TINY
        werr = torch.minimum(torch.einsum("bpn,bn->bp", Cabs, e), self.Cnorm.to(dev)[labels] * e2[:, None])
        werr = torch.nan_to_num(werr, nan=math.inf)
        m_low = _down(mc - rnd - _upt(werr * (1 + gamma(dq.n + 2))))
        m_low = torch.nan_to_num(m_low, nan=-math.inf)
        ar = torch.arange(len(labels), device=dev)
        m_low[ar, labels] = math.inf
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
                (len(labels), self.p), math.inf, dtype=_DT, device=dev)
            glob = math.sqrt(2.0) * (1 + 2 * _U) * Ly
            K = torch.minimum(pair, torch.full_like(pair, glob))
        else:
            f = math.sqrt(2.0) * (1 + 2 * _U) if self.factor == "sqrt2" else 2.0
            K = torch.full((len(labels), self.p), f * Ly, dtype=_DT, device=dev)
        return _upt(K * self.lip_pre * (1 + 8 * _U))

    def interval_margins(self, x: torch.Tensor, labels: torch.Tensor, pert: Perturbation) -> Dict[str, Any]:
        """ℓ∞: the widened lifted box of z* over the perturbation set and the folded margins."""
        dq = self.deq
        dev = self.device
        eps = pert.eps
        lo = _down(x - eps) if eps > 0 else x
        hi = _upt(x + eps) if eps > 0 else x
        if pert.domain is not None:
            lo = lo.clamp(min=pert.domain[0])
            hi = hi.clamp(max=pert.domain[1])
            hi = torch.maximum(hi, lo)
        lo, hi = self.pre_box(lo, hi)
        vlo, vhi = _affine_box(dq.U.to(dev), dq.b.to(dev), lo, hi)
        lf = dq.lift(self.interval)
        B, n = x.shape[0], dq.n
        if not lf.valid:
            inf = torch.full((B, n), math.inf, dtype=_DT, device=dev)
            m = torch.full((B, self.p), -math.inf, dtype=_DT, device=dev)
            return {"lower": -inf, "upper": inf, "margins": m, "stats": None, "valid": False}
        vhat = torch.cat([vhi, vlo], dim=1)
        M = lf.M.to(dev)
        zh, st = self._solve(M, vhat, lf.solver)
        _, rho = _residual_rho(M, lf.absM.to(dev), vhat, zh)
        e = _error_bound(lf.absM.to(dev), rho, lf.m, lf.mu, lf.eta)
        zu = _upt(zh[:, :n] + e[:, :n])
        zl = _down(zh[:, n:] - e[:, n:]).clamp(min=0.0)
        C, c0, Cabs = self.C.to(dev)[labels], self.c0.to(dev)[labels], self.Cabs.to(dev)[labels]
        Cp, Cm = C.clamp(min=0), C.clamp(max=0)
        bad = ~(torch.isfinite(zu).all(dim=1) & torch.isfinite(zl).all(dim=1) & (zl <= zu).all(dim=1))
        zl_s = torch.where(bad[:, None], torch.zeros_like(zl), zl)
        zu_s = torch.where(bad[:, None], torch.zeros_like(zu), zu)
        m = torch.einsum("bpn,bn->bp", Cp, zl_s) + torch.einsum("bpn,bn->bp", Cm, zu_s) + c0
        az = torch.maximum(zl_s.abs(), zu_s.abs())
        rnd = _INFLATE * gamma(n + 5) * (torch.einsum("bpn,bn->bp", Cabs, az) + c0.abs()) + _TINY
        m = _down(m - rnd)
        m[bad] = -math.inf
        ar = torch.arange(B, device=dev)
        m[ar, labels] = math.inf
        if st.status is not SolverStatus.CONVERGED:
            m[:] = torch.where(torch.isinf(m) & (m > 0), m, torch.full_like(m, -math.inf))
        return {"lower": zl, "upper": zu, "margins": m, "stats": st, "valid": True}


def prepare(model: nn.Module, **kw: Any) -> CertificationPlan:
    """Decompose ``model`` and set up its proved constants (see :class:`CertificationPlan`;
    keywords ``factor``, ``interval``, ``solver_options``, ``sdp``, ``device``)."""
    return CertificationPlan(model, **kw)


def _stats_dict(st: Any) -> Optional[Dict[str, Any]]:
    if st is None:
        return None
    return {"method": st.method, "status": st.status.value, "iterations": st.iterations, "residual": st.residual,
            "rel_residual": st.rel_residual, "tol": st.tol, "time": st.time}


def certify_batch(model: Union[nn.Module, CertificationPlan], x: Any, y: Any, perturbation: Perturbation,
                  **kw: Any) -> CertificationResult:
    """Certify a batch: ``x`` (B, ...) raw inputs, ``y`` (B,) labels. ``model`` may be a prepared
    :class:`CertificationPlan` (reuses its constants); other keywords go to :func:`prepare`."""
    t0 = time.perf_counter()
    plan = model if isinstance(model, CertificationPlan) else prepare(model, **kw)
    if not isinstance(perturbation, Perturbation):
        raise DomainError(f"perturbation: expected a Perturbation, got {type(perturbation).__name__}")
    dev = plan.device
    x = torch.as_tensor(x).detach().to(device=dev, dtype=_DT)
    labels = torch.as_tensor(y).detach().to(device=dev, dtype=torch.long).reshape(-1)
    if x.shape[0] != labels.shape[0]:
        raise DomainError(f"x, y: batch sizes differ ({x.shape[0]} vs {labels.shape[0]})")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= plan.p):
        raise DomainError(f"y: labels must be in [0, {plan.p})")
    with torch.no_grad():
        cl = plan.clean(x, labels)
        solver = {"clean": _stats_dict(cl["stats"])}
        B = x.shape[0]
        zl = zu = None
        if perturbation.norm == "2":
            K = plan.l2_factors(labels)
            ar = torch.arange(B, device=dev)
            need = _upt(K * perturbation.eps * (1 + 2 * _U))
            need[ar, labels] = -math.inf
            mw = cl["margins"] - need
            mw = torch.nan_to_num(mw, nan=-math.inf)
            mw[ar, labels] = math.inf
            q = torch.where(K > 0, cl["margins"] / K, torch.full_like(K, math.inf))
            q[ar, labels] = math.inf
            radius = torch.where(cl["correct"], _down(q.amin(dim=1) * (1 - 4 * _U)).clamp(min=0.0),
                                 torch.zeros(B, dtype=_DT, device=dev))
            certified = cl["correct"] & (cl["margins"] > need).all(dim=1)
            if perturbation.eps == 0:
                certified = cl["correct"].clone()
            margins = mw
        else:
            iv = plan.interval_margins(x, labels, perturbation)
            solver["interval"] = _stats_dict(iv["stats"])
            margins = iv["margins"]
            certified = cl["correct"] & (margins > 0).all(dim=1) & bool(iv["valid"])
            radius = torch.full((B,), math.nan, dtype=_DT, device=dev)
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
        xb, yb = item[0], item[1]
        yield xb, yb


def certified_accuracy(model: Union[nn.Module, CertificationPlan], loader: Any,
                       perturbation: Union[Perturbation, Sequence[Perturbation]], *,
                       max_samples: Optional[int] = None, **kw: Any) -> Dict[str, Any]:
    """Certified accuracy over ``loader`` (an iterable of ``(x, y)`` batches, or one ``(x, y)`` pair).

    Returns a table-like dict: ``norm``, ``eps`` (list), ``n``, ``clean_accuracy``,
    ``certified_accuracy`` (list, one per perturbation), ``median_certified_radius`` (ℓ2),
    ``constants``, ``provenance``, ``solver`` (worst statuses / max iterations), ``seconds``.
    All perturbations must share the norm (and domain)."""
    perts = [perturbation] if isinstance(perturbation, Perturbation) else list(perturbation)
    if not perts:
        raise DomainError("perturbation: need at least one")
    if len({(p.norm, p.domain) for p in perts}) != 1:
        raise DomainError("perturbation: all entries must share norm and domain")
    t0 = time.perf_counter()
    plan = model if isinstance(model, CertificationPlan) else prepare(model, **kw)
    n = 0
    n_correct = 0
    n_cert = [0] * len(perts)
    radii: List[torch.Tensor] = []
    statuses: Dict[str, int] = {}
    max_it = 0
    for xb, yb in _batches(loader):
        xb = torch.as_tensor(xb)
        yb = torch.as_tensor(yb)
        if max_samples is not None:
            if n >= max_samples:
                break
            xb, yb = xb[: max_samples - n], yb[: max_samples - n]
        for k, p in enumerate(perts):
            if p.norm == "2" and k > 0:       # ℓ2: one pass gives the radius; reuse it
                res_k = res0
                cert = res_k.correct & (res_k.radius > p.eps) if p.eps > 0 else res_k.correct
                # radius > eps ⇔ margins > K eps (up to the rounding in the radius, which is downward)
                n_cert[k] += int(cert.sum())
                continue
            res = certify_batch(plan, xb, yb, p)
            if k == 0:
                res0 = res
                n_correct += int(res.correct.sum())
                if p.norm == "2":
                    radii.append(res.radius)
                for key, st in res.solver.items():
                    if st is not None:
                        statuses[f"{key}:{st['status']}"] = statuses.get(f"{key}:{st['status']}", 0) + 1
                        max_it = max(max_it, int(st["iterations"]))
            n_cert[k] += int(res.certified.sum())
        n += int(yb.shape[0])
    consts, prov = plan.info()
    out: Dict[str, Any] = {"norm": perts[0].norm, "eps": [p.eps for p in perts], "n": n,
                           "clean_accuracy": n_correct / n if n else 0.0,
                           "certified_accuracy": [c / n if n else 0.0 for c in n_cert],
                           "constants": consts, "provenance": prov,
                           "solver": {"statuses": statuses, "max_iterations": max_it},
                           "seconds": time.perf_counter() - t0}
    if perts[0].norm == "2":
        r = torch.cat(radii) if radii else torch.zeros(0, dtype=_DT)
        out["median_certified_radius"] = float(r.median()) if r.numel() else 0.0
    return out


# ----------------------------------------------------------------------------------------------
# Registry (deqtheory_train.experiment certifiers)
# ----------------------------------------------------------------------------------------------

def certify_deq(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                batch_size: int = 500, clip: bool = True, **kw: Any):
    """Registry certifier ``fn(model, x, y, *, norm, eps, **kw) -> CertifyOutput`` for DEQ stacks
    (see :func:`deqtheory_train.experiment.register_certifier`). ℓ∞ boxes are intersected with
    [0, 1]^d when ``clip`` (the dataset invariant). Other keywords go to :func:`prepare`."""
    from .experiment import CertifyOutput
    from . import train as _T

    base = _T.unwrap(model)
    plan = prepare(base, **kw)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    N, E = len(y), len(eps)
    correct = np.zeros(N, dtype=bool)
    cert = np.zeros((N, E), dtype=bool)
    radius = np.zeros(N)
    norm = str(norm)
    for s0 in range(0, N, batch_size):
        sl = slice(s0, min(N, s0 + batch_size))
        if norm == "2":
            r = certify_batch(plan, x[sl], y[sl], Perturbation("2", 0.0))
            correct[sl] = r.correct.numpy()
            radius[sl] = r.radius.numpy()
            K = plan.l2_factors(torch.as_tensor(y[sl]))
            for k, e in enumerate(eps):
                need = _upt(K * float(e) * (1 + 2 * _U))
                need[torch.arange(len(need)), torch.as_tensor(y[sl])] = -math.inf
                cert[sl, k] = (r.correct & (r.clean_margins > need).all(dim=1)).numpy() if e > 0 else r.correct.numpy()
        else:
            for k, e in enumerate(eps):
                r = certify_batch(plan, x[sl], y[sl], Perturbation("inf", float(e), (0.0, 1.0) if clip else None))
                correct[sl] = r.correct.numpy()
                cert[sl, k] = r.certified.numpy()
            if E == 0:
                r = certify_batch(plan, x[sl], y[sl], Perturbation("inf", 0.0))
                correct[sl] = r.correct.numpy()
    consts, prov = plan.info()
    details = {"certifier": "deq", "norm": norm, "constants": _jsonable(consts), "provenance": _jsonable(prov)}
    return CertifyOutput(correct, cert, radius if norm == "2" else None, details)


def _jsonable(o: Any) -> Any:
    if isinstance(o, Mapping):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, torch.Tensor):
        return o.detach().cpu().tolist()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return o


def _register() -> None:
    try:
        from .experiment import register_certifier
    except Exception:  # pragma: no cover - experiment unavailable
        return
    import functools

    for name, kw in (("deq", {}), ("deq_ibp", {"interval": "ibp"}), ("deq_metzler", {"interval": "metzler"}),
                     ("deq_sqrt2", {"factor": "sqrt2"})):
        register_certifier(name, functools.partial(certify_deq, **kw), overwrite=True)


_register()


# ----------------------------------------------------------------------------------------------
# Convolutional models (ℓ2): conv SLL stacks and conv LBEN (havens2023 §4.1)
# ----------------------------------------------------------------------------------------------
#
# Model: ``deqtheory_train.models.ConvClassifier`` = Normalize → ChannelPad → body → Flatten → Linear,
# body = SLLConv2d stack (explicit) or one ConvLBEN (identity activation on its first channels).
#
# * SLL body: rigorous interval propagation of the (tiny) rounding box through every layer with
#   spatial circular convolutions (sums of c·k² products: the γ_k assumption of this module),
#   exact T of havens2023 eq. 9 (conv form) enclosed in [T̃ − dT, T̃ + dT]; Lipschitz 1 (exact theorem).
# * ConvLBEN body: L = the layer's prescribed L **exactly** — with Λ = Ψ⁻¹ the parametrization (7)
#   gives sym(Λ(I − W)) = GᵀG/2L + ΛUUᵀΛ/2L + VᵀV + εI ⪰ GᵀG/2L + ΛUUᵀΛ/2L identically, and the
#   slope restriction of φ ∈ {ReLU, id} gives ‖GΔz‖² ≤ 2L‖UᵀΛΔz‖‖Δx‖ − ‖UᵀΛΔz‖² ≤ L²‖Δx‖²
#   (havens2023 Prop 2.2 / Thm 3.1 with the non-strict (4); well-posedness from m_Λ > 0 below).
#   Fixed-point error (the widening): with P(ω) = ĜᴴĜ/2L + ΛÛÛᴴΛ/2L + V̂ᴴV̂ + εI and
#   m_Λ ≤ min_ω λ_min(P(ω)) proved, two fixed points with injections differing by δ satisfy
#   m_Λ‖Δ‖² ≤ ΔᵀΛ(I − W)Δ ≤ ΔᵀΛδ ≤ max(Λ)‖Δ‖‖δ‖ (φ slope-restricted on [0, 1] coordinatewise, the
#   identity channels included); ẑ − r = z*(v + Wr) hence ‖ẑ − z*‖₂ ≤ ‖r‖₂ + ‖W‖₂‖r‖₂ · max(Λ)/m_Λ.
#   This is the Λ-metric monotonicity argument of pabbaraju2021 Thm 1 / havens2023 Thm 3.3.
#   With channel blocks (converted SLLs, DAG-LBENs: W nearly block strictly lower triangular) the
#   smaller of that and ‖ẑ − z*‖₂ ≤ ‖a‖₂‖r‖₂ is used, a ≥ 1 + Ma verified, M_kj ≥ ‖W_kj‖₂
#   (`_block_error_gain`: coordinatewise |e| ≤ |We| + |r| propagated through the blocks).
#   **FFT assumption** (documented, not proved here): torch's FFTs (pocketfft) satisfy the Cooley–Tukey
#   bound of Higham (2002, Thm 24.2), ‖fl(Fx) − Fx‖₂ ≤ τ‖x‖₂ for the unitary 2-D DFT of length n = N²,
#   used with a 10× safety factor: τ = 10·(⌈log₂ n⌉ + 1)·η, η = u + γ₄(√2 + u); LAPACK's Hermitian
#   eigvalsh is backward stable with |λ̃ − λ| ≤ 64·C·u·‖P‖_F. Every FFT-computed quantity that enters
#   a claim (kernel spectra, Wz, Ux, Gz) carries an allowance derived from τ.
# * ConvDAGLBEN body (deqtheory_train.layers.conv_dag): certified as the eq. (7) ConvLBEN that
#   ``to_lben()`` materialises in float64 — every claim above is about that ConvLBEN (its kernels
#   define the certified model; it equals the DAG-LBEN's function up to float64 rounding of the
#   conversion) and is proved for it exactly as for any ConvLBEN.

_CONV_TAU_SAFETY = 10.0


def _fft_tau(n: int) -> float:
    eta = _U + gamma(4) * (math.sqrt(2.0) + _U)
    return _CONV_TAU_SAFETY * (math.ceil(math.log2(max(n, 2))) + 1) * eta


def _box_mid_rad(lo: torch.Tensor, hi: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    c = (lo + hi) / 2
    r = _upt(torch.maximum(hi - c, c - lo).clamp(min=0) * (1 + 2 * _U) + _TINY)
    return c, r


def _sllconv_box(mod: nn.Module):
    """Box transformer of ``x − 2 M_Kᵀ T⁻¹ σ(M_K x + b)`` (SLLConv2d, spatial circular convs)."""
    from . import fft as _fft
    from .layers.explicit import sll_T_conv
    K = mod.kernel.detach().to(torch.float64).cpu()
    h, c, k, _ = K.shape
    q = torch.exp(mod.log_q.detach().to(torch.float64)).cpu()
    b = mod.bias.detach().to(torch.float64).cpu()
    Ka = K.abs()
    T = sll_T_conv(K, q)
    S = sll_T_conv(Ka, q)                                  # same formula on |K|: dominates every |term|
    dT = 2 * _INFLATE * gamma(c * k * k + h * (2 * k - 1) ** 2 + 4) * S + _TINY
    Tlo, Thi = _down(T - dT), _upt(T + dT)
    if not bool((Tlo > 0).all()):
        raise DomainError("SLLConv2d: T is not provably positive (zero kernel channel?)")
    g_in, g_out = gamma(c * k * k + 2), gamma(h * k * k + 2)

    def box(lo, hi):
        cx, rx = _box_mid_rad(lo, hi)
        pre = _fft.conv2d_circular(K, cx, b)
        rp = _fft.conv2d_circular(Ka, rx) + _INFLATE * g_in * (_fft.conv2d_circular(Ka, cx.abs()) + b.abs()[:, None, None]) + _TINY
        hlo, hhi = _down(pre - rp).clamp(min=0), _upt(pre + rp).clamp(min=0)
        slo = _down(hlo / Thi[:, None, None] * (1 - 2 * _U))
        shi = _upt(hhi / Tlo[:, None, None] * (1 + 2 * _U))
        cs, rs = _box_mid_rad(slo, shi)
        t = _fft.conv2d_circular_adjoint(K, cs)
        rt = _fft.conv2d_circular_adjoint(Ka, rs) + _INFLATE * g_out * _fft.conv2d_circular_adjoint(Ka, cs.abs()) + _TINY
        olo = lo - 2.0 * (t + rt)
        ohi = hi - 2.0 * (t - rt)
        return _down(olo - 2 * _U * olo.abs() - _TINY), _upt(ohi + 2 * _U * ohi.abs() + _TINY)

    return box


def _block_error_gain(What: torch.Tensor, blocks: Optional[Sequence[int]], dW: float) -> Optional[float]:
    r"""``g`` with ‖z − z*‖₂ ≤ g·ρ for every z whose exact residual ‖z − φ(Wz + v)‖₂ is ≤ ρ, from the
    channel-block structure of W (useful when W is (nearly) block strictly lower triangular, e.g. a
    converted SLL or a DAG-LBEN); ``None`` when there are no blocks or the check fails.

    Proof. φ acts coordinatewise with slopes in [0, 1], so e = z − z* satisfies
    |e| ≤ |We| + |r| coordinatewise, hence b_k = ‖e_k‖ ≤ Σ_j M_kj b_j + ρ with
    M_kj ≥ ‖W_kj‖₂ (exact W; here max_ω ‖Ŵ_kj(ω)‖_F of the computed blocks, enlarged for rounding,
    plus dW ≥ ‖W − Ŵ‖₂ ≥ ‖W_kj − Ŵ_kj‖₂). If a > 0 satisfies a ≥ 1 + Ma (verified below with the
    rounding of the sums bounded by γ), then ρ(M) < 1 (Collatz–Wielandt), (I − M)⁻¹ = Σ Mⁿ ≥ 0 and
    b ≤ ρ(I − M)⁻¹1 ≤ ρa, so ‖e‖₂ ≤ ρ‖a‖₂. The same a makes z ↦ φ(Wz + v) a contraction in the
    weighted norm max_k ‖x_k‖/a_k, so z* exists and is unique."""
    if blocks is None:
        return None
    e = np.concatenate([[0], np.cumsum(blocks)]).astype(int)
    K = len(blocks)
    M = np.empty((K, K))
    with torch.no_grad():
        for k in range(K):
            for j in range(K):
                blk = What[..., e[k]:e[k + 1], e[j]:e[j + 1]]
                nf = float(torch.linalg.matrix_norm(blk, ord="fro").max()) if blk.numel() else 0.0
                M[k, j] = _upf(nf * (1 + 1e-6) + dW)
    a = np.ones(K)
    for _ in range(4 * K + 50):
        a = 1.0 + M @ a
        if not np.all(np.isfinite(a)) or a.max() > 1e12:
            return None
    a = a * (1 + 1e-9)
    t = (1.0 + M @ a) * (1 + gamma(K + 2))        # ≥ the exact 1 + Ma (nonnegative terms)
    if not np.all(t <= a):
        return None
    return _upf(float(np.sqrt(np.sum(a * a))) * (1 + gamma(K + 2)))


class _ConvLBENCert:
    """Proved constants of one ConvLBEN (float64 copies of its parameters) and its clean solve."""

    def __init__(self, layer: nn.Module, solver_options: Optional[Mapping[str, Any]] = None) -> None:
        import copy
        from . import fft as _fft
        self.fft = _fft
        lay = copy.deepcopy(layer).to(torch.float64).cpu().eval()
        self.layer = lay
        N, C = lay.N, lay.channels
        self.N, self.C = N, C
        L, eps = float(lay.L), float(lay.eps)
        self.L = L
        self.tau = _fft_tau(N * N)
        H = _fft.freq_adjoint
        with torch.no_grad():
            Gh, Uh, Vh, Sh = (_fft.kernel_to_freq(getattr(lay, n), N) for n in ("G", "U", "V", "S"))
            # kernel-spectrum errors (unnormalised DFT = N × unitary): ‖ΔK̂(ω)‖_F ≤ τ N ‖K‖_F
            dK = {n: _upf(self.tau * N * float(torch.linalg.vector_norm(getattr(lay, n))) * (1 + 1e-6))
                  for n in ("G", "U", "V", "S")}
            nF = {n: _upf(float(torch.linalg.matrix_norm(A, ord="fro").max()) * (1 + 1e-6))
                  for n, A in (("G", Gh), ("U", Uh), ("V", Vh), ("S", Sh))}
            psi = torch.exp(lay.log_psi.detach())
            lam = 1.0 / psi
            lmax = _upf(float(lam.max()) * (1 + 4 * _U))
            pmax = _upf(float(psi.max()) * (1 + 4 * _U))
            lc = lam.to(Gh.dtype)
            LU = lc[:, None] * Uh                                                  # ΛÛ (rows scaled)
            P = (H(Gh) @ Gh) / (2 * L) + (LU @ H(LU)) / (2 * L) + H(Vh) @ Vh
            P = P + eps * torch.eye(C, dtype=P.dtype)
            ev = torch.linalg.eigvalsh(P)
            lam_min = float(ev.min())
            PF = float(torch.linalg.matrix_norm(P, ord="fro").max())
            g2 = gamma(2 * C + 8)

            def quad(n: str, scale: float) -> float:   # ‖X̂ᴴX̂_exact − X̂ᴴX̂_computed‖₂ bound
                return scale * (2 * nF[n] * dK[n] + dK[n] ** 2 + 4 * g2 * nF[n] ** 2)
            dP = (quad("G", 1 / (2 * L)) + quad("U", lmax * lmax / (2 * L)) + quad("V", 1.0)
                  + 64 * C * _U * PF + 4 * _U * abs(eps))
            self.m_lam = _downf(lam_min - _upf(dP * 1.01))
            # W blocks (computed) and a bound on their error
            self.What = lay.W_freq()
            WF = float(torch.linalg.matrix_norm(self.What, ord="fro").max())
            dW = (pmax * (quad("G", 1 / (2 * L)) + quad("V", 1.0) + 2 * (dK["S"] + 2 * g2 * nF["S"]) + 2 * g2 * abs(eps) + 4 * g2 * PF)
                  + lmax * quad("U", 1.0) / (2 * L) + 4 * g2 * (1 + WF))
            self.dW = _upf(dW * 1.01)
            self.W2 = _upf(WF * (1 + 1e-6) + self.dW)                 # ≥ ‖W‖₂ (exact)
            self.G2 = _upf(nF["G"] + dK["G"])
            self.U2 = _upf(nF["U"] + dK["U"])
            self.capply = _upf(2 * self.tau + 4 * gamma(2 * C + 4) * math.sqrt(C) + 4 * _U)
            self.dK = dK
        self.m_eff = _downf(self.m_lam / lmax) if self.m_lam > 0 else None
        self.block_gain = _block_error_gain(self.What, lay.blocks, self.dW)
        opts = {"f_solver": "pr", "f_tol": 1e-11, "f_stop_mode": "rel", "f_max_iter": 3000,
                "alpha": lay.solver_options.get("alpha")}     # the layer's PR step (any α > 0 converges)
        if lay.solver_options.get("f_solver") == "dag":        # exact one-pass solve where W is nilpotent
            opts["f_solver"] = "dag"
            try:
                lay._dag_plan()
            except DomainError:
                opts["f_solver"] = "pr"
        opts.update(solver_options or {})
        lay.solver_options = {**lay.solver_options, **opts}
        self.constants = {"L_body": L, "m_lambda": self.m_lam, "m_eff": self.m_eff, "W2_upper": self.W2,
                          "dW": self.dW, "fft_tau": self.tau, "lambda_min_float": lam_min,
                          "block_error_gain": self.block_gain}
        self.provenance = {
            "L_body": "ConvLBEN.L exactly: eq. (7) with Lambda = Psi^-1 gives the non-strict LMI (4) identically "
                      "(havens2023 Prop 2.2 / Thm 3.1; identity channels are slope-restricted on [0, 1])",
            "m_lambda": "min_w lambda_min(G^H G/2L + Lam U U^H Lam/2L + V^H V + eps I) - perturbation bound "
                        "(FFT assumption, Higham Thm 24.2 x10; eigvalsh 64 C u ||P||_F)",
            "widening": "||z - z*|| <= ||r|| + ||W||_2 ||r|| max(Lambda)/m_Lambda (Lambda-metric monotonicity); "
                        "with channel blocks also <= ||a||_2 ||r|| for a verified a >= 1 + M a, M_kj >= ||W_kj||_2 "
                        "(block-triangular propagation; the smaller of the two is used)",
        }

    def fixed_point_error(self, rho: torch.Tensor) -> torch.Tensor:
        """Upper bound on ‖z − z*‖₂ for a computed ``z`` whose exact residual ‖z − φ(Wz + v)‖₂ is ≤ ``rho``
        (per sample): the smaller of the Λ-monotonicity bound and the block-propagation bound."""
        if self.m_eff is None:
            ez = torch.full_like(rho, math.inf)
        else:
            ez = _upt(rho + self.W2 * rho / self.m_eff * (1 + 1e-6))
        if self.block_gain is not None:
            ez = torch.minimum(ez, _upt(rho * self.block_gain * (1 + 1e-6)))
        return ez

    def output(self, xin: torch.Tensor) -> Dict[str, Any]:
        """Clean solve at ``xin`` (exact input); ``y`` computed readout and ``ey`` ≥ ‖y − y*‖₂ per sample."""
        lay, fft = self.layer, self.fft
        B = xin.shape[0]
        with torch.no_grad():
            z = lay(xin)
            st = lay.last_stats
            v = lay.injection(xin)
            Wz = fft.fft_apply(self.What, z)
            pre = Wz + v
            mask = lay.identity_mask()
            phi = torch.where(mask, pre, pre.clamp(min=0)) if mask is not None else pre.clamp(min=0)
            r = z - phi
            nrm = lambda t: torch.linalg.vector_norm(t.reshape(B, -1), dim=1)
            xn, zn = nrm(xin), nrm(z)
            bnorm = float(torch.linalg.vector_norm(lay.bias)) * self.N
            d_wz = (self.dW + self.capply * self.W2) * zn
            d_v = (self.dK["U"] + self.capply * self.U2) * xn + 2 * _U * bnorm
            rho = _upt((nrm(r) * (1 + 2 * _U) + d_wz + d_v + 2 * _U * (nrm(Wz) + nrm(v))) * (1 + 1e-6) + _TINY)
            ez = self.fixed_point_error(rho)
            y = lay.readout(z)
            by = float(torch.linalg.vector_norm(lay.bias_y)) * self.N
            d_y = (self.dK["G"] + self.capply * self.G2) * zn + 2 * _U * (nrm(y) + by)
            ey = _upt(self.G2 * ez + d_y * (1 + 1e-6) + _TINY)
        ok = st is not None and st.status is SolverStatus.CONVERGED
        if not ok:
            ey = torch.full_like(ey, math.inf)
        return {"y": y, "ey": ey, "stats": st, "converged": ok}


class ConvCertificationPlan:
    """ℓ2 plan for ``deqtheory_train.models.ConvClassifier`` (SLL stack or ConvLBEN body)."""

    def __init__(self, model: nn.Module, *, solver_options: Optional[Mapping[str, Any]] = None) -> None:
        from .layers.conv import ConvLBEN
        from .layers.conv_dag import ConvDAGLBEN
        from .layers.explicit import SLLConv2d
        for a in ("norm", "pad", "body", "head"):
            if not hasattr(model, a):
                raise DomainError(f"model: expected a ConvClassifier (norm, pad, body, head), missing {a!r}")
        self.model = model
        self.pre: List[_Block] = []
        if _is_normalize(model.norm):
            self.pre.append(_normalize_block(model.norm))
        elif not isinstance(model.norm, nn.Identity):
            raise DomainError(f"model.norm: unsupported {type(model.norm).__name__}")
        self.lip_pre = 1.0
        for bl in self.pre:
            self.lip_pre = _upf(self.lip_pre * bl.lip2)
        self.c_pad = int(model.pad.c)
        body = model.body
        if isinstance(body, ConvDAGLBEN):        # certified as its eq. (7) materialisation (float64)
            body = body.to_lben()
        if isinstance(body, ConvLBEN):
            self.kind = "conv_dag_lben" if body is not model.body else "conv_lben"
            self.lben = _ConvLBENCert(body, solver_options)
            self.L_body = self.lben.L
            self.sll = None
        else:
            layers = list(model.body)
            if not layers or not all(isinstance(l, SLLConv2d) for l in layers):
                raise DomainError("model.body: expected SLLConv2d layers, one ConvLBEN or one ConvDAGLBEN")
            self.kind = "conv_sll"
            self.sll = [_sllconv_box(l) for l in layers]
            self.L_body = 1.0
            self.lben = None
        Hm = model.head.weight.detach().to(torch.float64).cpu()
        hb = model.head.bias.detach().to(torch.float64).cpu() if model.head.bias is not None else torch.zeros(Hm.shape[0], dtype=_DT)
        self.H, self.hb = Hm, hb
        self.p = Hm.shape[0]
        self.C = Hm[:, None, :] - Hm[None, :, :]
        self.c0 = hb[:, None] - hb[None, :]
        D = Hm.shape[1]
        self.Cnorm = _upt(torch.linalg.vector_norm(self.C, dim=-1) * (1 + gamma(D + 4)))
        self.D = D

    def info(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        consts: Dict[str, Any] = {"lipschitz_pre": self.lip_pre, "L_body": self.L_body, "kind": self.kind}
        prov: Dict[str, Any] = {"pre_blocks": [{"block": b.name, "lip2": b.lip2, **b.provenance} for b in self.pre],
                                "pad": "zero channels (isometry)", "head": "folded pairwise ||h_y - h_j||_2"}
        if self.lben is not None:
            consts.update(self.lben.constants)
            prov.update(self.lben.provenance)
        else:
            prov["L_body"] = "1: SLL conv layers with the exact eq. 9 T (Gershgorin), havens2023 Thm 3 / Araujo et al."
        return consts, prov

    def factors(self, labels: torch.Tensor) -> torch.Tensor:
        return _upt(self.Cnorm[labels] * _upf(self.lip_pre * self.L_body) * (1 + 8 * _U))

    def clean(self, x: torch.Tensor, labels: torch.Tensor) -> Dict[str, Any]:
        B = x.shape[0]
        lo, hi = x, x
        for bl in self.pre:
            lo, hi = bl.box(lo, hi)
        if self.c_pad > lo.shape[1]:
            z = lo.new_zeros((B, self.c_pad - lo.shape[1]) + tuple(lo.shape[2:]))
            lo, hi = torch.cat([lo, z], 1), torch.cat([hi, z], 1)
        stats = None
        converged = True
        if self.sll is not None:
            for box in self.sll:
                lo, hi = box(lo, hi)
            yc, yr = _box_mid_rad(lo, hi)
            yc, yr = yc.reshape(B, -1), yr.reshape(B, -1)
            werr_fn = lambda C, Cabs: torch.einsum("bpn,bn->bp", Cabs, yr)
        else:
            xc, xr = _box_mid_rad(lo, hi)
            ein = torch.linalg.vector_norm(xr.reshape(B, -1), dim=1)
            out = self.lben.output(xc)
            stats, converged = out["stats"], out["converged"]
            yc = out["y"].reshape(B, -1)
            ey = _upt(out["ey"] + self.L_body * ein * (1 + 4 * _U))
            werr_fn = lambda C, Cabs: self.Cnorm[labels] * ey[:, None]
        C, c0 = self.C[labels], self.c0[labels]
        Cabs = C.abs()
        mc = torch.einsum("bpn,bn->bp", C, yc) + c0
        rnd = _INFLATE * gamma(self.D + 5) * (torch.einsum("bpn,bn->bp", Cabs, yc.abs()) + c0.abs()) + _TINY
        werr = torch.nan_to_num(werr_fn(C, Cabs), nan=math.inf)
        m_low = _down(mc - rnd - _upt(werr * (1 + gamma(self.D + 2))))
        m_low = torch.nan_to_num(m_low, nan=-math.inf)
        ar = torch.arange(B)
        m_low[ar, labels] = math.inf
        correct = (m_low.amin(dim=1) > 0) & torch.isfinite(yc).all(dim=1) & bool(converged)
        return {"margins": m_low, "correct": correct, "stats": stats, "converged": converged}


def certify_conv(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                 batch_size: int = 250, solver_options: Optional[Mapping[str, Any]] = None, **_: Any):
    """Registry certifier ``conv_l2`` for ``ConvClassifier`` models (ℓ2 only; see the section comment).
    Certified at ε iff correct and m̲_j > ℓ_pre · L_body · ‖h_y − h_j‖₂ · ε for all j ≠ y."""
    from .experiment import CertifyOutput
    from . import train as _T

    if str(norm) != "2":
        raise DomainError("conv_l2: only the l2 threat model is supported for conv models")
    base = _T.unwrap(model)
    plan = ConvCertificationPlan(base, solver_options=solver_options)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    N, E = len(y), len(eps)
    correct = np.zeros(N, dtype=bool)
    cert = np.zeros((N, E), dtype=bool)
    radius = np.zeros(N)
    iters: List[int] = []
    statuses: Dict[str, int] = {}
    for s0 in range(0, N, batch_size):
        sl = slice(s0, min(N, s0 + batch_size))
        xb = torch.as_tensor(x[sl], dtype=_DT)
        lb = torch.as_tensor(y[sl])
        with torch.no_grad():
            cl = plan.clean(xb, lb)
        st = cl["stats"]
        if st is not None:
            iters.append(int(st.iterations))
            statuses[st.status.value] = statuses.get(st.status.value, 0) + 1
        K = plan.factors(lb)
        ar = torch.arange(len(lb))
        q = torch.where(K > 0, cl["margins"] / K, torch.full_like(K, math.inf))
        q[ar, lb] = math.inf
        rad = torch.where(cl["correct"], _down(q.amin(dim=1) * (1 - 4 * _U)).clamp(min=0.0), torch.zeros(len(lb), dtype=_DT))
        correct[sl] = cl["correct"].numpy()
        radius[sl] = rad.numpy()
        for k, e in enumerate(eps):
            need = _upt(K * float(e) * (1 + 2 * _U))
            need[ar, lb] = -math.inf
            cert[sl, k] = (cl["correct"] & (cl["margins"] > need).all(dim=1)).numpy() if e > 0 else cl["correct"].numpy()
    consts, prov = plan.info()
    details = {"certifier": "conv_l2", "norm": "2", "constants": _jsonable(consts), "provenance": _jsonable(prov),
               "solver": {"statuses": statuses, "max_iterations": max(iters) if iters else 0}}
    return CertifyOutput(correct, cert, radius, details)


def _register_conv() -> None:
    try:
        from .experiment import register_certifier
    except Exception:  # pragma: no cover
        return
    register_certifier("conv_l2", certify_conv, overwrite=True)


_register_conv()
