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
y_i by the *exact real-arithmetic* function defined by the exported model — the DEQ arrays of
``to_deqtheory(layer)`` materialized by ``deqtheory.formats.TABLE[kind].arrays`` (W by deqtheory's
float64 formula on the stored parameters: exactly the W that ``deqtheory check`` computes from the
file ``deqtheory-train export`` writes) and the stored weights of the other blocks — and x_i itself
is classified y_i with a positive exact margin. Every constant comes from :mod:`deqtheory` (proved
on those float64 arrays):

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
allowance ``INFLATE·γ_k·(sum of absolute values)`` (:data:`deqtheory.verified.INFLATE` = 1 + 10⁻⁶) (as :func:`deqtheory.bounds.residual_bound`):
the injection ``Ux + b`` (γ_{d+2}), the residual (γ_{n+2}, plus 2u|r̃|), the lifted residual
(γ_{2n+2}), the margins (γ_{n+5}), affine boxes (γ_{2d+2}) and the SLL ``T`` (2γ_{d+k+3}); results
are then moved one ulp outward. Transcendental parameter maps (``exp(log_q)``, ``sigmoid``) are
taken at their computed float value (that value *is* the parameter of the certified model).

Layout (each module one concept; arrows point down the list):

* :mod:`.results` — :class:`Perturbation`, :class:`CertificationResult`, :class:`CertifyOutput`;
* :mod:`.boxes` — the interval rules shared with the ℓ∞ training losses (affine box, folded
  margins, lifts; ``sound=True`` rounds outward) and the rounding helpers;
* :mod:`.layer_arrays` — the one place that reads numpy arrays out of torch layers;
* :mod:`.blocks` — pre-DEQ interval transformers + ℓ2 constants, :class:`Readout`, :func:`model_blocks`;
* :mod:`.deq` — the constants of a dense DEQ layer and the batched fixed-point error bound;
* :mod:`.driver` — the one batch × ε loop (:func:`~.driver.run_certifier`) and the ℓ2 decisions;
* :mod:`.dense` — :class:`CertificationPlan`, :func:`prepare`, :func:`certify_batch`,
  :func:`certified_accuracy`, the registry certifiers ``deq*`` / ``deq_linf``;
* :mod:`.conv_l2` — :class:`ConvCertificationPlan` (conv SLL / conv LBEN, FFT rounding model), ``conv_l2``.
* :mod:`.conv_blocks` — sound rules of explicit Conv2d / circular conv / BatchNorm (eval) / AvgPool blocks
  (direct convolutions, the γ_k model);
* :mod:`.conv_linf` — :class:`~.conv_linf.ConvLinfPlan`, the matrix-free ℓ∞ certifier of conv IBP-MonDEQ /
  conv NEMON chains, ``conv_linf`` (imported by the registry, not here: it imports the conv layers).
"""
from __future__ import annotations

from .blocks import Readout, model_blocks
from .conv_l2 import ConvCertificationPlan, _block_error_gain, _ConvLBENCert, certify_conv
from .dense import (DEFAULT_SOLVER, CertificationPlan, certified_accuracy, certify_batch, certify_deq, certify_linf,
                    prepare)
from .results import CertificationResult, CertifyOutput, Perturbation

__all__ = ["Perturbation", "CertificationResult", "CertifyOutput", "CertificationPlan", "ConvCertificationPlan",
           "Readout", "prepare", "certify_batch", "certified_accuracy", "certify_deq", "certify_linf", "certify_conv",
           "model_blocks", "DEFAULT_SOLVER"]
