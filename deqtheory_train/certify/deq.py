r"""Constants of one dense DEQ layer, proved once by :mod:`deqtheory` on its exported float64 arrays
(:class:`DEQConstants`: point fixed-point conditions, ℓ2 Lipschitz constants, the IBP / Metzler
lifted systems), and the batched a-posteriori fixed-point error bound (:func:`error_bound`,
:func:`residual_rho`: the formulas of :func:`deqtheory.bounds.fixed_point_error_bound` and
:func:`deqtheory.bounds.residual_bound` applied row-wise in torch). See the module docstring of
:mod:`deqtheory_train.certify` for the theorems and the rounding model."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from deqtheory import conditions as _conditions
from deqtheory import bounds as _bounds
from deqtheory import formats as _fm
from deqtheory import intervals as _iv
from deqtheory.conditions_stored import stored_condition as _stored_condition
from deqtheory.errors import DomainError

from ..layers.dense import DenseDEQLayer
from .boxes import INFLATE, TINY, UROUND, as_f64, downf, gamma, up, upf
from .layer_arrays import dense_arrays

__all__ = ["DEQConstants", "Lift", "error_bound", "residual_rho", "cert_info", "bound_info"]


def cert_info(c: Any) -> Dict[str, Any]:
    """Provenance of one proved constant: its condition (a row of :data:`deqtheory.conditions.CONDITIONS`,
    whose claim and catalogue entries are recorded with it), status, margin and message."""
    row = _conditions.condition(c.condition)
    return {"condition": row.name, "claim": row.claim, "catalogue": list(row.catalogue),
            "status": c.status.value, "margin": float(c.margin), "message": c.message}


def bound_info(r: Any) -> Dict[str, Any]:
    return {"value": float(r.value), "theorem": r.theorem, **cert_info(r.certificate)}


@dataclasses.dataclass
class Lift:
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


class DEQConstants:
    """Exported arrays of one dense DEQ layer (float64) and the constants proved on them."""

    def __init__(self, layer: DenseDEQLayer, head: Tuple[np.ndarray, np.ndarray], head_is_readout: bool,
                 sdp: bool = False) -> None:
        if layer.solver_options.get("identity_mask") is not None:
            raise DomainError("certification: layers with an identity_mask are not supported (deqtheory bounds "
                              "assume sigma = ReLU on every coordinate)")
        e = dense_arrays(layer)          # the exported model: deqtheory's W, bit-equal to `deqtheory check`'s
        self.layer = layer
        self.exported = e.obj          # to_deqtheory(layer): what `deqtheory-train export` writes
        self.kind = e.kind
        self.Wn, self.Un, self.bn = e.W, e.U, e.b
        self.n, self.d = self.Wn.shape[0], self.Un.shape[1]
        self.W, self.U, self.b = as_f64(self.Wn), as_f64(self.Un), as_f64(self.bn)
        self.absW = self.W.abs()
        self.Gn, self.byn = head
        self.head_is_readout = head_is_readout
        self.sdp = sdp
        self.provenance: Dict[str, Any] = {"export": f"to_deqtheory({type(layer).__name__}) -> formats.TABLE"
                                                     f"[{self.kind!r}].arrays (the exported model file's W, U, b)"}
        self.constants: Dict[str, Any] = {}
        #: the proofs behind the constants, by name (:data:`CERTIFICATE_TARGETS` says on which matrix)
        self.certificates: Dict[str, Any] = {}
        self._point: Optional[Dict[str, Any]] = None
        self._l2: Optional[Dict[str, Any]] = None
        self._lifts: Dict[str, Lift] = {}
        self.phi = e.phi
        self._rounding: Optional[Dict[str, Any]] = None

    def _stored(self, c: Any) -> Any:
        """``c`` (proved on the computed W) restated for the exported model's exact W
        (:func:`deqtheory.conditions_stored.stored_condition` with :func:`deqtheory.formats.stored_rounding`),
        every margin valid for the computed W too (``also_computed``: the fixed point is solved with it)."""
        if self._rounding is None:
            self._rounding = _fm.stored_rounding(self.exported, self.Wn)
        return _stored_condition(c, self.Wn, self._rounding["W_error"], self._rounding["W_margin"], also_computed=True)

    # -- error-bound conditions for the point fixed point ----------------------------------------
    def point(self) -> Dict[str, Any]:
        if self._point is not None:
            return self._point
        out: Dict[str, Any] = {"m": None, "mu": None, "eta": None, "contraction": None}
        # proved for the stored model (W_exact of the exported parameters, not only the computed W): the
        # very function `deqtheory check` uses, so the margin is the one its `monotone` row reports
        cm = self._stored(_bounds.monotone_margin(self.Wn))
        self.provenance["monotone"] = cert_info(cm)
        self.certificates["monotone"] = cm
        ms = []
        if cm.certified:
            ms.append(downf(cm.margin))
        if self.phi is not None:
            cw = self._stored(_bounds.monotone_margin(self.Wn, self.phi))
            self.provenance["monotone_weighted"] = {**cert_info(cw), "phi": "family weight (G-MonDEQ Phi / LBEN Psi)"}
            self.certificates["monotone_weighted"] = cw
            if cw.certified:
                # sym(Φ⁻¹(I − W)) ⪰ m_Φ I ⇒ ‖Δ‖ ≤ max(Φ⁻¹)‖δ‖/m_Φ: effective m = m_Φ · min Φ
                ms.append(downf(downf(cw.margin) * float(np.min(self.phi))))
        if ms:
            out["m"] = max(ms)
        else:
            cu = self._stored(_bounds.mu_inf_bound(self.Wn))
            self.provenance["mu_inf"] = cert_info(cu)
            self.certificates["mu_inf"] = cu
            if cu.certified and "eta" in cu.witness:
                out["mu"] = float(_bounds._mu_upper_from_cert(cu))
                out["eta"] = as_f64(cu.witness["eta"])
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
        self.provenance["L_x_to_z"] = bound_info(r)
        if r.certified:
            Lz = r.value
        if self.phi is not None:
            r2 = _bounds.havens_gmondeq_lipschitz(self.Wn, self.Un, self.phi)
            self.provenance["L_x_to_z_weighted"] = bound_info(r2)
            if r2.certified and r2.value < Lz:
                Lz = r2.value
        nG = _bounds.norm2_upper(self.Gn)
        Ly = upf(nG * Lz) if math.isfinite(Lz) else math.inf
        self.provenance["L_x_to_y"] = {"value": Ly, "how": "norm2_upper_bound(G) * L_x_to_z"}
        if self.kind == "lben" and self.head_is_readout:
            from deqtheory.sdp import lipschitz_certificate
            L = float(self.exported.L)
            c = lipschitz_certificate(self.Wn, self.Un, self.Gn, L, lam=1.0 / self.phi)
            self.provenance["L_x_to_y_lben"] = {**cert_info(c), "L": L,
                                                "witness": "analytic Lambda = Psi^-1 (havens2023 eq. 7 / Prop 2.2)"}
            self.certificates["L_x_to_y_lben"] = c
            if c.certified and L < Ly:
                Ly = L
        if self.sdp:
            from deqtheory.sdp import min_lipschitz
            c = min_lipschitz(self.Wn, self.Un, self.Gn)
            self.provenance["L_x_to_y_sdp"] = cert_info(c)
            self.certificates["L_x_to_y_sdp"] = c
            if c.certified and float(c.witness["L"]) < Ly:
                Ly = float(c.witness["L"])
        self._l2 = {"L_z": Lz, "L_y": Ly}
        self.constants.update({"L_x_to_z": Lz, "L_x_to_y": Ly})
        return self._l2


    def add_linf_lipschitz(self) -> None:
        r"""If no ℓ2 constant L_{x→z} was proved (NEMON: W not monotone in ℓ2), supply one from
        jafarpour2022 Thm 6.1 via :func:`deqtheory.bounds.jafarpour_linf_lipschitz` with G = I (a bound on
        ‖Δz*‖∞ for ‖Δx‖∞): ‖Δz‖₂ ≤ √n‖Δz‖∞ ≤ √n·Lip∞·‖Δx‖∞ ≤ √n·Lip∞·‖Δx‖₂. The clean pass multiplies
        L_{x→z} by its input-rounding radius; with L_{x→z} = inf a nonzero radius voids every certificate.
        No-op when L_{x→z} is already finite or the ℓ∞ bound is not certified."""
        c = self.l2()
        if math.isfinite(c["L_z"]):
            return
        r = _bounds.jafarpour_linf_lipschitz(self.Wn, self.Un, np.eye(self.n))
        if not r.certified or not math.isfinite(r.value):
            return
        Lz = float(np.nextafter(math.sqrt(self.n) * (1 + 1e-15) * r.value * (1 + 8 * UROUND), np.inf))
        self._l2 = {"L_z": Lz, "L_y": c["L_y"]}
        self.constants["L_x_to_z"] = Lz
        self.provenance["L_x_to_z_linf"] = {"value": Lz, "theorem": r.theorem,
                                           "how": "sqrt(n) * jafarpour_linf_lipschitz(W, U, G=I) (l_inf -> l_inf), "
                                                  "used only for the input-rounding term of the clean pass"}

    # -- lifted systems --------------------------------------------------------------------------
    def lift(self, method: str) -> Lift:
        if method in self._lifts:
            return self._lifts[method]
        Mn = _iv.ibp_lift(self.Wn) if method == "ibp" else _iv.metzler_lift(self.Wn)
        prov: Dict[str, Any] = {"lift": "wei2022 eq. 3.3 (IBP)" if method == "ibp" else "jafarpour2022 eq. 6 (Metzler)"}
        cm = _bounds.monotone_margin(Mn)
        prov["monotone"] = cert_info(cm)
        self.certificates[f"lift_{method}_monotone"] = cm
        m = downf(cm.margin) if cm.certified else None
        mu = eta = None
        cu = _bounds.mu_inf_bound(Mn)
        prov["mu_inf"] = cert_info(cu)
        self.certificates[f"lift_{method}_mu_inf"] = cu
        if cu.certified and "eta" in cu.witness:
            mu = float(_bounds._mu_upper_from_cert(cu))
            eta = as_f64(cu.witness["eta"])
        solver = "pr" if m is not None else "alpha_avg"
        M = as_f64(Mn)
        lf = Lift(method, M, M.abs(), m, mu, eta, solver, prov)
        self._lifts[method] = lf
        self.provenance[f"lift_{method}"] = prov
        self.constants[f"lift_{method}_m"] = m
        self.constants[f"lift_{method}_mu"] = mu
        return lf


def error_bound(absM: Any, rho: torch.Tensor, m: Optional[float], mu: Optional[float],
                 eta: Optional[torch.Tensor], contraction: Optional[float] = None) -> torch.Tensor:
    r"""Batched componentwise bound on |ẑ − z*| (rows), the formula of
    :func:`deqtheory.bounds.fixed_point_error_bound` with ρ ≥ |r_exact| (already inflated).
    +inf where no condition is proved. ``absM``: the dense |M| (N, N), or a callable ρ ↦ |M|ρ on rows
    (matrix-free; each output a float sum of at most N nonnegative products, e.g. a convolution by |K|)."""
    N = rho.shape[1]
    Arho = (absM(rho) if callable(absM) else rho @ absM.T) * (1.0 + gamma(N + 1))
    e = torch.full_like(rho, math.inf)
    if m is not None:
        rho2 = torch.linalg.vector_norm(rho, dim=1) * (1 + gamma(N + 1))
        t = torch.linalg.vector_norm(Arho, dim=1) * (1 + gamma(N + 1)) / m * (1 + 4 * UROUND)
        e = torch.minimum(e, up((rho + t[:, None]) * (1 + 2 * UROUND)))
        e = torch.minimum(e, up((rho2 + t) * (1 + 2 * UROUND))[:, None].expand_as(e))
    if contraction is not None and contraction < 1:
        rho2 = torch.linalg.vector_norm(rho, dim=1) * (1 + gamma(N + 1))
        e = torch.minimum(e, up(rho2 / downf(1.0 - contraction) * (1 + 2 * UROUND))[:, None].expand_as(e))
    if mu is not None and eta is not None:
        et = eta.to(rho.device)
        om = downf(1.0 - max(mu, 0.0))
        rw = up((rho / et).amax(dim=1) * (1 + 2 * UROUND))
        aw = up((Arho / et).amax(dim=1) * (1 + 2 * UROUND))
        b1 = rw / om * (1 + 2 * UROUND)
        b2 = (rw + aw / om) * (1 + 4 * UROUND)
        c = torch.minimum(et * b1[:, None], rho + et * (aw / om * (1 + 2 * UROUND))[:, None])
        c = torch.minimum(c, et * b2[:, None])
        e = torch.minimum(e, up(c * (1 + 4 * UROUND)))
    return e


def residual_rho(M: Any, absM: Any, v: torch.Tensor, z: torch.Tensor,
                  dv: Optional[torch.Tensor] = None, terms: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Rows: float residual r̃ = z − relu(z Mᵀ + v) and ρ ≥ |r_exact| (batched
    :func:`deqtheory.bounds.residual_bound`: (1+1e-6)(γ_{N+2}(|M||z| + |v|) + 2u|r̃|); plus ``dv``, a
    bound on |v_exact − v|, since relu is 1-Lipschitz). Matrix-free: ``M``, ``absM`` callables z ↦ Mz,
    z ↦ |M|z (any shape, direct sums of at most ``terms`` products each, e.g. convolutions)."""
    if callable(M):
        N = int(terms)
        r = z - torch.relu(M(z) + v)
        az = absM(z.abs())
    else:
        N = M.shape[0]
        r = z - torch.relu(z @ M.T + v)
        az = z.abs() @ absM.T
    delta = INFLATE * (gamma(N + 2) * (az + v.abs()) + 2 * UROUND * r.abs())
    rho = r.abs() + delta
    if dv is not None:
        rho = rho + dv
    return r, up(rho * (1 + 2 * UROUND) + TINY)
