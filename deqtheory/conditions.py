r"""The table of conditions: one name per claim, one home each.

Every certificate of :mod:`deqtheory` names the condition it proves (``Certificate.condition``).
This module is the single list of those names. Each :class:`Condition` says

* ``claim`` — the mathematical statement a CERTIFIED certificate proves (one line);
* ``catalogue`` — the theorem-catalogue ids it implements (:mod:`deqtheory.catalogue_entries`);
* ``module`` — the module that holds both the check and the registered verifier (imported on
  demand by :func:`deqtheory.certificates.verifier_for`, so a certificate read from a file can be
  re-checked without the caller importing anything first);
* ``check`` — for the conditions of ``deqtheory check`` (``report=True``): the function of ``module``
  that proves it from the validated weight matrix ``W`` of a :class:`~deqtheory.model.DEQ`;
* ``activation`` — what the proof assumes about φ in :math:`z = \phi(Wz + Ux + b)`:
  :attr:`Activation.SLOPE_01` (any activation slope-restricted on [0, 1]: ReLU *and* identity, so it
  holds for models with an ``identity_mask``) or :attr:`Activation.RELU` (ReLU at every coordinate;
  reported NOT_APPLICABLE for masked models);
* ``legacy`` — names under which earlier versions wrote the same claim; certificate files that
  carry them still verify (:func:`canonical`).

Plain data (frozen dataclasses in a read-only mapping), importable by ``deqtheory_train``.
"""
from __future__ import annotations

import dataclasses
import types
from typing import Mapping, Optional, Tuple

from .certificates import MessageEnum

__all__ = ["Activation", "Condition", "CONDITIONS", "LEGACY_NAMES", "REPORT_CONDITIONS", "canonical", "condition"]


class Activation(MessageEnum):
    """What a condition's proof assumes about the activation; ``message`` says it in words."""

    SLOPE_01 = ("slope_01", "any activation slope-restricted on [0, 1] (ReLU, identity): valid for masked models")
    RELU = ("relu", "ReLU at every coordinate: not applicable to models with an identity_mask")


@dataclasses.dataclass(frozen=True)
class Condition:
    """One row of the table (see the module docstring for the fields)."""

    name: str
    claim: str
    catalogue: Tuple[str, ...]
    module: str
    check: Optional[str] = None
    activation: Activation = Activation.SLOPE_01
    legacy: Tuple[str, ...] = ()
    report: bool = False


_S, _R = Activation.SLOPE_01, Activation.RELU

_ROWS: Tuple[Condition, ...] = (
    # -- the conditions of `deqtheory check`, in report order ----------------------------------------
    Condition("monotone", "sym(Phi^-1 (I - W)) >= m I with m > 0 proved (Phi = I unless witness phi): "
              "MonDEQ / G-MonDEQ well-posedness", ("wei2022:prop2.1", "havens2023:eq5", "pabbaraju2021:thm1"),
              "deqtheory.linalg", "check_monotone", _S, ("bounds.monotone",), report=True),
    Condition("ibp_wellposed", "sym(I - |W|) > 0: the DEQ and its IBP fixed-point equation are well posed",
              ("wei2022:thm3.1", "wei2022:lemma3.4"), "deqtheory.linalg", "check_ibp_wellposed", _S, report=True),
    Condition("adjoint_contractive", "||[[W+, W-], [W-, W+]]||_2 = || |W| ||_2 < 1",
              ("li2022:prop3.1", "li2022:prop3.2"), "deqtheory.spectrum", "check_adjoint_contractive", _S,
              report=True),
    Condition("mu_inf", "min over eta > 0 of mu_inf,[eta]^-1(W) < 1 (witness eta)",
              ("jafarpour2022:thm5.1",), "deqtheory.linalg", "check_mu_inf", _S, report=True),
    Condition("pf_abs", "lambda_pf(|W|) < 1 (witness v > 0, Collatz-Wielandt)", ("jafarpour2022:remark5.2",),
              "deqtheory.linalg", "check_pf_abs", _S, report=True),
    Condition("feedforward", "W is nilpotent up to a permutation (a DAG)", ("jafarpour2022:remark6.4.3",),
              "deqtheory.graph", "is_feedforward", _S, report=True),
    Condition("sdp_wellposed", "2 Gamma - Gamma W - W^T Gamma > 0 for a positive diagonal Gamma (eq. 3)",
              ("havens2023:prop2.1",), "deqtheory.sdp", "sdp_wellposed", _S, report=True),
    # -- Lipschitz constants -------------------------------------------------------------------------
    Condition("lipschitz_lmi", "a diagonal Lambda > 0 satisfies havens2023 (4) strictly at L (equivalently the "
              "Schur block form of (10)), so x -> y is well posed and L-Lipschitz in l2",
              ("havens2023:prop2.2", "havens2023:thm3.1", "havens2023:sec2.2.schur", "havens2023:eq7",
               "havens2023:appC"), "deqtheory.sdp", None, _S,
              ("lipschitz_strict", "lipschitz_nonstrict", "l2_sdp", "lmi10")),
    Condition("lben_conversion", "havens2023 (4) strictly for a converted LBEN at L' = L(1 + backoff)",
              ("havens2023:thm3.2", "havens2023:thm3.4", "havens2023:thm3.5", "havens2023:appD1",
               "havens2023:appD2"), "deqtheory.convert", None, _S),
    Condition("l2_sdp_conv", "(4) at every representative frequency of a circular-convolution DEQ",
              ("havens2023:appE.symmetry", "havens2023:eq25"), "deqtheory.sdp.conv", None, _S),
    Condition("bounds.l2_lipschitz", "l2 margin certificate at x with radius eps (Lipschitz bound of x -> z)",
              ("pabbaraju2021:sec5.3", "havens2023:thm3.3"), "deqtheory.bounds", None, _R),
    Condition("bounds.linf_lipschitz", "linf margin certificate at x with radius eps (jafarpour2022 eq. 13)",
              ("jafarpour2022:eq13", "jafarpour2022:thm6.1"), "deqtheory.bounds", None, _R),
    # -- interval boxes (ReLU-specific) --------------------------------------------------------------
    Condition("intervals.ibp_box", "the IBP fixed point encloses z*(v) for every v in the input box",
              ("wei2022:prop3.2", "li2022:prop3.1"), "deqtheory.intervals", None, _R),
    Condition("intervals.metzler_box", "the embedded (Metzler) fixed point encloses z*(v) on the input box",
              ("jafarpour2022:thm6.3",), "deqtheory.intervals", None, _R),
    Condition("intervals.linf_box", "linf margin certificate from an interval box (jafarpour2022 eq. 14)",
              ("jafarpour2022:eq14",), "deqtheory.intervals", None, _R),
    # -- structure -----------------------------------------------------------------------------------
    Condition("dag_mu_inf", "feed-forward W has mu_inf,[eta]^-1(W) < 1 with eta = delta^(K - level)",
              ("jafarpour2022:remark6.4.3",), "deqtheory.graph", None, _S),
    Condition("residual_tw", "T - W^T W >= 0 (SLL residual layer is 1-Lipschitz)", ("havens2023:eq9",),
              "deqtheory.explicit", None, _S),
    Condition("pd", "sym(A) > 0 with a proved lower bound on lambda_min (witness: Cholesky shift)", (),
              "deqtheory.verified", None, _S),
    # -- parametrization membership (with the family's tolerance) ------------------------------------
    Condition("mondeq_monotone", "MonDEQ set up to tol: sym(I - W) >= (m - tol) I with tol >= m, i.e. NOT a "
              "monotonicity proof (MonDEQ.contains gives 'monotone' whenever m > tol)", ("havens2023:eq5",),
              "deqtheory.parametrizations.mondeq", None, _S),
    Condition("lben_lmi4", "LBEN set: LHS(4)(Lambda) >= (2 eps - tol) I (a proof of (4) only when 2 eps > tol)",
              ("havens2023:eq7",), "deqtheory.parametrizations.lben", None, _S),
    Condition("gmondeq_lmi3", "havens2023 (3) with Gamma (G-MonDEQ set)", ("havens2023:eq6",),
              "deqtheory.parametrizations.gmondeq", None, _S),
    Condition("ibp_mmatrix", "IBP-MonDEQ set: sym((1 - m)I - |W|) >= -tol", ("wei2022:thm3.1",),
              "deqtheory.parametrizations.ibp", None, _S),
    Condition("ibp_gamma_mmatrix", "sym(Lambda((1 - m)I - |W|)) > 0 and kappa(Lambda) < gamma^2",
              ("wei2022:thm3.3",), "deqtheory.parametrizations.ibp", None, _S),
    Condition("mu_inf_le_gamma", "mu_inf,[eta]^-1(W) <= gamma + tol", ("jafarpour2022:eq12",),
              "deqtheory.parametrizations.noneuclidean", None, _S),
    # -- convolutional IBP-MonDEQ (matrix-free, from the c x c mass matrix A = sum_taps |K|) -----------
    Condition("conv_ibp_monotone", "sym(I - |W|) >= m I for the circular conv W of kernel K on the N x N grid "
              "(so the IBP lift and W are m-monotone)", ("wei2022:sec3.conv.lift", "wei2022:lemma3.4"),
              "deqtheory.conv_ibp", None, _S),
    Condition("conv_abs_contraction", "the circular conv W of kernel K on the N x N grid and its IBP lift are "
              "contractions of the weighted l_inf norm with weights eta (per channel): "
              "||W||_{inf,eta} <= || |W| ||_{inf,eta} <= mu < 1",
              ("wei2022:sec3.conv.contraction", "jafarpour2022:thm5.1"), "deqtheory.conv_ibp", None, _S),
    # -- convolutional non-Euclidean DEQ (matrix-free, from the c x c Metzler mass A_M) --------------
    Condition("conv_mu_inf", "mu_inf of the circular conv W of kernel K and of its Metzler lift, with per-channel "
              "weights eta, is <= mu < 1", ("jafarpour2022:thm6.3.conv", "jafarpour2022:thm5.1"),
              "deqtheory.conv_nemon", None, _S),
    Condition("cerdeq_orthogonal", "||I - Y0 Y0^T||_2 < 1 for the pre-scaled weight (li2022 Lemma 3.3)",
              ("li2022:lemma3.3",), "deqtheory.parametrizations.cerdeq", None, _S),
)

CONDITIONS: Mapping[str, Condition] = types.MappingProxyType({c.name: c for c in _ROWS})
LEGACY_NAMES: Mapping[str, str] = types.MappingProxyType({old: c.name for c in _ROWS for old in c.legacy})
REPORT_CONDITIONS: Tuple[str, ...] = tuple(c.name for c in _ROWS if c.report)


def canonical(name: str) -> str:
    """The current name of a condition (legacy names map to their replacement; others unchanged)."""
    return LEGACY_NAMES.get(name, name)


def condition(name: str) -> Condition:
    """The table row of ``name`` (legacy names accepted); ``KeyError`` naming the known ones."""
    try:
        return CONDITIONS[canonical(name)]
    except KeyError:
        raise KeyError(f"unknown condition {name!r}; known: {sorted(CONDITIONS)}") from None
