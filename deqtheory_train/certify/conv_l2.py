r"""ℓ2 certification of convolutional models (havens2023 §4.1): conv SLL stacks and conv LBENs.
Model: ``deqtheory_train.models.ConvClassifier`` = Normalize → ChannelPad → body → Flatten → Linear,
body = SLLConv2d stack (explicit) or one ConvLBEN (identity activation on its first channels).
* SLL body: rigorous interval propagation of the (tiny) rounding box through every layer with
  spatial circular convolutions (sums of c·k² products: the γ_k assumption of this module),
  exact T of havens2023 eq. 9 (conv form) enclosed in [T̃ − dT, T̃ + dT]; Lipschitz 1 (exact theorem).
* ConvLBEN body: L = the layer's prescribed L **exactly** — with Λ = Ψ⁻¹ the parametrization (7)
  gives sym(Λ(I − W)) = GᵀG/2L + ΛUUᵀΛ/2L + VᵀV + εI ⪰ GᵀG/2L + ΛUUᵀΛ/2L identically, and the
  slope restriction of φ ∈ {ReLU, id} gives ‖GΔz‖² ≤ 2L‖UᵀΛΔz‖‖Δx‖ − ‖UᵀΛΔz‖² ≤ L²‖Δx‖²
  (havens2023 Prop 2.2 / Thm 3.1 with the non-strict (4); well-posedness from m_Λ > 0 below).
  Fixed-point error (the widening): with P(ω) = ĜᴴĜ/2L + ΛÛÛᴴΛ/2L + V̂ᴴV̂ + εI and
  m_Λ ≤ min_ω λ_min(P(ω)) proved, two fixed points with injections differing by δ satisfy
  m_Λ‖Δ‖² ≤ ΔᵀΛ(I − W)Δ ≤ ΔᵀΛδ ≤ max(Λ)‖Δ‖‖δ‖ (φ slope-restricted on [0, 1] coordinatewise, the
  identity channels included); ẑ − r = z*(v + Wr) hence ‖ẑ − z*‖₂ ≤ ‖r‖₂ + ‖W‖₂‖r‖₂ · max(Λ)/m_Λ.
  This is the Λ-metric monotonicity argument of pabbaraju2021 Thm 1 / havens2023 Thm 3.3.
  With channel blocks (converted SLLs, DAG-LBENs: W nearly block strictly lower triangular) the
  smaller of that and ‖ẑ − z*‖₂ ≤ ‖a‖₂‖r‖₂ is used, a ≥ 1 + Ma verified, M_kj ≥ ‖W_kj‖₂
  (`_block_error_gain`: coordinatewise |e| ≤ |We| + |r| propagated through the blocks).
  **FFT assumption** (documented, not proved here): torch's FFTs (pocketfft) satisfy the Cooley–Tukey
  bound of Higham (2002, Thm 24.2), ‖fl(Fx) − Fx‖₂ ≤ τ‖x‖₂ for the unitary 2-D DFT of length n = N²,
  used with a 10× safety factor: τ = 10·(⌈log₂ n⌉ + 1)·η, η = u + γ₄(√2 + u); LAPACK's Hermitian
  eigvalsh is backward stable with |λ̃ − λ| ≤ 64·C·u·‖P‖_F. Every FFT-computed quantity that enters
  a claim (kernel spectra, Wz, Ux, Gz) carries an allowance derived from τ; Ux and Gz are computed
  by the certifier itself as FFT products with the spectra it bounded (never the layer's direct
  convolution of small kernels, whose error the FFT allowance was never shown to cover).
* **Devices** (``device=``, ``deqtheory-train certify --device``): every model constant above (T̃ and
  dT of each SLL layer, the kernel spectra and their errors, m_Λ, ‖W‖₂, the block error gain, the
  eq. (7) materialisation of a DAG-LBEN, the head) is computed once on the CPU — bit for bit what a
  CPU run computes — and moved to the device as it is. Per image, on the device: the SLL boxes by
  direct circular convolutions with cuDNN switched off (:func:`.conv_blocks.direct_conv`: the γ_k
  model in any summation order, no FFT / Winograd algorithm); the ConvLBEN's clean solve (not
  trusted) and the claimed Wz, Ux, Gz, residual and readout through ``torch.fft`` — on CUDA that is
  cuFFT, and the claim rests on the **same FFT assumption** (Cooley–Tukey bound, 10× factor) for
  cuFFT as for pocketfft; the per-frequency products are complex128 batched GEMMs (γ_k, any order).
  The direct route for the ConvLBEN was measured ~150× slower per convolution than the FFT on its
  full N × N kernels (docs/certify.md), so it is not taken.
* ConvDAGLBEN body (deqtheory_train.layers.conv_dag): certified as the eq. (7) ConvLBEN that
  ``as_conv_lben()`` materialises in float64 — every claim above is about that ConvLBEN (its kernels
  define the certified model; it equals the DAG-LBEN's function up to float64 rounding of the
  conversion) and is proved for it exactly as for any ConvLBEN.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from deqtheory.errors import DomainError

from .. import fft as _fft
from ..layers.conv import ConvLBEN
from ..layers.conv_dag import ConvDAGLBEN
from ..layers.explicit import SLLConv2d, sll_T_conv
from ..solvers import SolverStatus
from ..train import unwrap
from .blocks import Block, is_normalize, lipschitz_product, normalize_block
from .boxes import DT, INFLATE, TINY, UROUND, down, downf, gamma, point_margins, up, upf
from .conv_blocks import direct_conv
from .driver import run_certifier
from .layer_arrays import conv_body_as_lben
from .results import CertifyOutput

__all__ = ["ConvCertificationPlan", "certify_conv"]


_CONV_TAU_SAFETY = 10.0


def _fft_tau(n: int) -> float:
    eta = UROUND + gamma(4) * (math.sqrt(2.0) + UROUND)
    return _CONV_TAU_SAFETY * (math.ceil(math.log2(max(n, 2))) + 1) * eta


def _box_mid_rad(lo: torch.Tensor, hi: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    c = (lo + hi) / 2
    r = up(torch.maximum(hi - c, c - lo).clamp(min=0) * (1 + 2 * UROUND) + TINY)
    return c, r


def _sllconv_box(mod: nn.Module, device: torch.device):
    """Box transformer of ``x − 2 M_Kᵀ T⁻¹ σ(M_K x + b)`` (SLLConv2d, spatial circular convs): T and its
    enclosure are computed once on the CPU (model constants); the box runs on ``device`` with direct
    convolutions (cuDNN off: γ_k for any summation order)."""
    K = mod.kernel.detach().to(torch.float64).cpu()
    h, c, k, _ = K.shape
    q = torch.exp(mod.log_q.detach().to(torch.float64)).cpu()
    b = mod.bias.detach().to(torch.float64).cpu()
    Ka = K.abs()
    T = sll_T_conv(K, q)
    S = sll_T_conv(Ka, q)                                  # same formula on |K|: dominates every |term|
    dT = 2 * INFLATE * gamma(c * k * k + h * (2 * k - 1) ** 2 + 4) * S + TINY
    Tlo, Thi = down(T - dT), up(T + dT)
    if not bool((Tlo > 0).all()):
        raise DomainError("SLLConv2d: T is not provably positive (zero kernel channel?)")
    g_in, g_out = gamma(c * k * k + 2), gamma(h * k * k + 2)
    K, Ka, b, Tlo, Thi = (t.to(device) for t in (K, Ka, b, Tlo, Thi))

    def box(lo, hi):
        with direct_conv():
            cx, rx = _box_mid_rad(lo, hi)
            pre = _fft.conv2d_circular(K, cx, b)
            rp = _fft.conv2d_circular(Ka, rx) + INFLATE * g_in * (_fft.conv2d_circular(Ka, cx.abs()) + b.abs()[:, None, None]) + TINY
            hlo, hhi = down(pre - rp).clamp(min=0), up(pre + rp).clamp(min=0)
            slo = down(hlo / Thi[:, None, None] * (1 - 2 * UROUND))
            shi = up(hhi / Tlo[:, None, None] * (1 + 2 * UROUND))
            cs, rs = _box_mid_rad(slo, shi)
            t = _fft.conv2d_circular_adjoint(K, cs)
            rt = _fft.conv2d_circular_adjoint(Ka, rs) + INFLATE * g_out * _fft.conv2d_circular_adjoint(Ka, cs.abs()) + TINY
            olo = lo - 2.0 * (t + rt)
            ohi = hi - 2.0 * (t - rt)
            return down(olo - 2 * UROUND * olo.abs() - TINY), up(ohi + 2 * UROUND * ohi.abs() + TINY)

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
                M[k, j] = upf(nf * INFLATE + dW)
    a = np.ones(K)
    for _ in range(4 * K + 50):
        a = 1.0 + M @ a
        if not np.all(np.isfinite(a)) or a.max() > 1e12:
            return None
    a = a * (1 + 1e-9)
    t = (1.0 + M @ a) * (1 + gamma(K + 2))        # ≥ the exact 1 + Ma (nonnegative terms)
    if not np.all(t <= a):
        return None
    return upf(float(np.sqrt(np.sum(a * a))) * (1 + gamma(K + 2)))


class _ConvLBENCert:
    """Proved constants of one ConvLBEN (float64 copies of its parameters, computed once on the CPU) and
    its clean solve on ``device`` (the solve, Wz, Ux, Gz and the residual there; module docstring)."""

    def __init__(self, layer: nn.Module, solver_options: Optional[Mapping[str, Any]] = None,
                 device: Any = None) -> None:
        self.fft = _fft
        self.device = torch.device("cpu") if device is None else torch.device(device)
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
            dK = {n: upf(self.tau * N * float(torch.linalg.vector_norm(getattr(lay, n))) * INFLATE)
                  for n in ("G", "U", "V", "S")}
            nF = {n: upf(float(torch.linalg.matrix_norm(A, ord="fro").max()) * INFLATE)
                  for n, A in (("G", Gh), ("U", Uh), ("V", Vh), ("S", Sh))}
            psi = torch.exp(lay.log_psi.detach())
            lam = 1.0 / psi
            lmax = upf(float(lam.max()) * (1 + 4 * UROUND))
            pmax = upf(float(psi.max()) * (1 + 4 * UROUND))
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
                  + 64 * C * UROUND * PF + 4 * UROUND * abs(eps))
            self.m_lam = downf(lam_min - upf(dP * 1.01))
            # W blocks (computed) and a bound on their error
            self.What = lay.W_freq()
            WF = float(torch.linalg.matrix_norm(self.What, ord="fro").max())
            dW = (pmax * (quad("G", 1 / (2 * L)) + quad("V", 1.0) + 2 * (dK["S"] + 2 * g2 * nF["S"]) + 2 * g2 * abs(eps) + 4 * g2 * PF)
                  + lmax * quad("U", 1.0) / (2 * L) + 4 * g2 * (1 + WF))
            self.dW = upf(dW * 1.01)
            self.W2 = upf(WF * INFLATE + self.dW)                 # ≥ ‖W‖₂ (exact)
            self.G2 = upf(nF["G"] + dK["G"])
            self.U2 = upf(nF["U"] + dK["U"])
            self.capply = upf(2 * self.tau + 4 * gamma(2 * C + 4) * math.sqrt(C) + 4 * UROUND)
            self.dK = dK
            self.bnorm = float(torch.linalg.vector_norm(lay.bias)) * N        # ‖b‖₂ of the map (N² copies)
            self.by = float(torch.linalg.vector_norm(lay.bias_y)) * N
        self.m_eff = downf(self.m_lam / lmax) if self.m_lam > 0 else None
        self.block_gain = _block_error_gain(self.What, lay.blocks, self.dW)
        opts = {"f_solver": "pr", "f_tol": 1e-11, "f_stop_mode": "rel", "f_max_iter": 3000,
                "alpha": lay.solver_options.get("alpha")}     # the layer's PR step (any α > 0 converges)
        if lay.solver_options.get("f_solver") == "dag":        # one exact pass where W is nilpotent (CPU test)
            opts["f_solver"] = "dag"
            try:
                lay.dag_plan()
            except DomainError:
                opts["f_solver"] = "pr"
        opts.update(solver_options or {})
        lay.solver_options = {**lay.solver_options, **opts}
        # per-image work on the device: the spectra that enter a claim (computed above on the CPU, moved
        # as they are) and the layer (its solve is not trusted)
        dev = self.device
        self.What, self.Uh, self.Gh = self.What.to(dev), Uh.to(dev), Gh.to(dev)
        lay.to(dev)
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
            ez = up(rho + self.W2 * rho / self.m_eff * INFLATE)
        if self.block_gain is not None:
            ez = torch.minimum(ez, up(rho * self.block_gain * INFLATE))
        return ez

    def output(self, xin: torch.Tensor) -> Dict[str, Any]:
        """Clean solve at ``xin`` (exact input); ``y`` computed readout and ``ey`` ≥ ‖y − y*‖₂ per sample."""
        lay, fft = self.layer, self.fft
        B = xin.shape[0]
        with torch.no_grad():
            z = lay(xin)
            st = lay.last_stats
            v = fft.fft_apply(self.Uh, xin) + lay.bias[:, None, None]
            Wz = fft.fft_apply(self.What, z)
            pre = Wz + v
            mask = lay.identity_mask()
            phi = torch.where(mask, pre, pre.clamp(min=0)) if mask is not None else pre.clamp(min=0)
            r = z - phi
            nrm = lambda t: torch.linalg.vector_norm(t.reshape(B, -1), dim=1)
            xn, zn = nrm(xin), nrm(z)
            d_wz = (self.dW + self.capply * self.W2) * zn
            d_v = (self.dK["U"] + self.capply * self.U2) * xn + 2 * UROUND * self.bnorm
            rho = up((nrm(r) * (1 + 2 * UROUND) + d_wz + d_v + 2 * UROUND * (nrm(Wz) + nrm(v))) * INFLATE + TINY)
            ez = self.fixed_point_error(rho)
            y = fft.fft_apply(self.Gh, z) + lay.bias_y[:, None, None]
            d_y = (self.dK["G"] + self.capply * self.G2) * zn + 2 * UROUND * (nrm(y) + self.by)
            ey = up(self.G2 * ez + d_y * INFLATE + TINY)
        ok = st is not None and st.status is SolverStatus.CONVERGED
        if not ok:
            ey = torch.full_like(ey, math.inf)
        return {"y": y, "ey": ey, "stats": st, "converged": ok}


class ConvCertificationPlan:
    """ℓ2 plan for ``deqtheory_train.models.ConvClassifier`` (SLL stack or ConvLBEN body). The model's
    constants are computed once on the CPU; the per-image work runs on ``device`` (module docstring)."""

    def __init__(self, model: nn.Module, *, solver_options: Optional[Mapping[str, Any]] = None,
                 device: Any = None) -> None:
        for a in ("norm", "pad", "body", "head"):
            if not hasattr(model, a):
                raise DomainError(f"model: expected a ConvClassifier (norm, pad, body, head), missing {a!r}")
        self.model = model
        self.pre: List[Block] = []
        if is_normalize(model.norm):
            self.pre.append(normalize_block(model.norm))
        elif not isinstance(model.norm, nn.Identity):
            raise DomainError(f"model.norm: unsupported {type(model.norm).__name__}")
        self.lip_pre = lipschitz_product(self.pre)
        self.device = dev = torch.device("cpu") if device is None else torch.device(device)
        self.c_pad = int(model.pad.c)
        body = model.body
        if isinstance(body, ConvDAGLBEN):        # certified as its eq. (7) materialisation (float64, on the CPU)
            body = conv_body_as_lben(copy.deepcopy(body).cpu())
        if isinstance(body, ConvLBEN):
            self.kind = "conv_dag_lben" if body is not model.body else "conv_lben"
            self.lben = _ConvLBENCert(body, solver_options, dev)
            self.L_body = self.lben.L
            self.sll = None
        else:
            layers = list(model.body)
            if not layers or not all(isinstance(l, SLLConv2d) for l in layers):
                raise DomainError("model.body: expected SLLConv2d layers, one ConvLBEN or one ConvDAGLBEN")
            self.kind = "conv_sll"
            self.sll = [_sllconv_box(l, dev) for l in layers]
            self.L_body = 1.0
            self.lben = None
        Hm = model.head.weight.detach().to(torch.float64).cpu()
        hb = model.head.bias.detach().to(torch.float64).cpu() if model.head.bias is not None else torch.zeros(Hm.shape[0], dtype=DT)
        self.p = Hm.shape[0]
        C = Hm[:, None, :] - Hm[None, :, :]
        D = Hm.shape[1]
        Cnorm = up(torch.linalg.vector_norm(C, dim=-1) * (1 + gamma(D + 4)))
        c0 = hb[:, None] - hb[None, :]
        self.H, self.hb, self.C, self.c0, self.Cnorm = (t.to(dev) for t in (Hm, hb, C, c0, Cnorm))
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

    def l2_factors(self, labels: torch.Tensor) -> torch.Tensor:
        return up(self.Cnorm[labels] * upf(self.lip_pre * self.L_body) * (1 + 8 * UROUND))

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
            ey = up(out["ey"] + self.L_body * ein * (1 + 4 * UROUND))
            werr_fn = lambda C, Cabs: self.Cnorm[labels] * ey[:, None]
        C, c0 = self.C[labels], self.c0[labels]
        m_low = point_margins(C, c0, yc, werr_fn(C, C.abs()), labels)
        correct = (m_low.amin(dim=1) > 0) & torch.isfinite(yc).all(dim=1) & bool(converged)
        return {"margins": m_low, "correct": correct, "stats": stats, "converged": converged}


def certify_conv(model: nn.Module, x: np.ndarray, y: np.ndarray, *, norm: str, eps: Sequence[float],
                 batch_size: int = 250, solver_options: Optional[Mapping[str, Any]] = None,
                 device: Any = None) -> CertifyOutput:
    """Registry certifier ``conv_l2`` for ``ConvClassifier`` models (ℓ2 only; see the module docstring).
    Certified at ε iff correct and m̲_j > ℓ_pre · L_body · ‖h_y − h_j‖₂ · ε for all j ≠ y. ``device``:
    where the per-image work runs (default the CPU); the model's constants are computed on the CPU."""
    if str(norm) != "2":
        raise DomainError("conv_l2: only the l2 threat model is supported for conv models")
    plan = ConvCertificationPlan(unwrap(model), solver_options=solver_options, device=device)
    return run_certifier(plan, x, y, name="conv_l2", norm="2", eps=eps, batch_size=batch_size)
