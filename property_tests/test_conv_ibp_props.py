"""Theorem-catalogue property tests for the convolutional IBP-MonDEQ (deqtheory.conv_ibp; the project's own
claims wei2022:sec3.conv.lift / sec3.conv.param / sec3.conv.contraction).

Independent oracles (never the code under test): dense materialisations by ``circulant.conv_matrix``, dense
``eigvalsh`` / ``eigvals``, the IBP lift built by hand from W₊ and W₋, exact rational sums
(``fractions.Fraction``) for the rounding of Σ_taps |K|, and the lifted fixed-point iteration written out.
Sizes: c ≤ 3, N ≤ 5, k = 1..N (odd and even, N = k included).
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import conv_ibp as ci
from deqtheory.certificates import Status
from deqtheory.circulant import conv_matrix
from deqtheory.errors import ShapeError
from deqtheory.testing.tightness import reached

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
#: (c, N, k) with k = 1..N, odd and even k, N = k
SHAPES = [(c, N, k) for c in (1, 2, 3) for N in (1, 2, 3, 4, 5) for k in range(1, N + 1) if c * N * N <= 48]


def lam_max_sym(X):
    return float(np.linalg.eigvalsh((X + X.T) / 2)[-1])


def lift(W):
    P, Q = np.maximum(W, 0.0), np.minimum(W, 0.0)
    return np.block([[P, Q], [Q, P]])


def kernel(rng, c, k, scale=1.0):
    return rng.standard_normal((c, c, k, k)) * scale / (k * math.sqrt(c))


def exact_mass(K):
    c_out, c_in = K.shape[:2]
    return [[sum(Fraction(abs(float(x))) for x in K[o, i].ravel()) for i in range(c_in)] for o in range(c_out)]


# --------------------------------------------------------------------------------------------- claim 1, 2

@pytest.mark.theorem("wei2022:sec3.conv.lift")
@pytest.mark.parametrize("c,N,k", SHAPES)
def test_abs_W_is_conv_of_abs_K_and_acts_on_constants_by_A(c, N, k):
    """(abs) |W| = conv(|K|) exactly for k ≤ N; |W| lift(v) = lift(A v) for channel-constant vectors."""
    rng = np.random.default_rng(1000 * c + 10 * N + k)
    K = kernel(rng, c, k)
    W = conv_matrix(K, N)
    assert np.array_equal(np.abs(W), conv_matrix(np.abs(K), N))
    A = np.abs(K).sum(axis=(2, 3))
    v = rng.uniform(0.1, 1.0, size=c)
    lhs = np.abs(W) @ np.repeat(v, N * N)
    assert np.allclose(lhs, np.repeat(A @ v, N * N), rtol=1e-13, atol=1e-14)


@pytest.mark.theorem("wei2022:sec3.conv.lift")
@pytest.mark.parametrize("c,N,k", SHAPES)
def test_lambda_max_sym_abs_W_equals_that_of_sym_A_and_bounds_the_lift(c, N, k):
    """(spectrum) λ_max(sym|W|) = λ_max(sym A); (lift) λ_min(sym(I − Ŵ)) = 1 − λ_max(sym A) and
    λ_min(sym(I − W)) ≥ 1 − λ_max(sym A), all by dense eigvalsh."""
    rng = np.random.default_rng(7 + 1000 * c + 10 * N + k)
    K = kernel(rng, c, k)
    W = conv_matrix(K, N)
    A = np.abs(K).sum(axis=(2, 3))
    lam = lam_max_sym(A)
    tol = 1e-12 * max(1.0, lam)
    assert abs(lam_max_sym(np.abs(W)) - lam) <= tol
    n = W.shape[0]
    assert abs(-lam_max_sym(lift(W) - np.eye(2 * n)) - (1 - lam)) <= tol
    assert -lam_max_sym(W - np.eye(n)) >= 1 - lam - tol


@settings(max_examples=25, deadline=None)
@given(SEEDS, st.sampled_from(SHAPES), st.floats(0.2, 1.8))
@pytest.mark.theorem("wei2022:sec3.conv.lift")
def test_margin_certificate_is_sound_and_tight(seed, shape, lam):
    """conv_ibp_margin (K scaled to λ_max(sym A) ≈ lam): a CERTIFIED margin m satisfies
    m ≤ λ_min(sym(I − Ŵ)) (dense) and is within 1e-9 of 1 − λ_max(sym A); REFUTED only when
    λ_max(sym|W|) > 1; every certificate re-verifies from K."""
    c, N, k = shape
    rng = np.random.default_rng(seed)
    K = kernel(rng, c, k)
    K = K * (lam / lam_max_sym(np.abs(K).sum(axis=(2, 3))))
    W = conv_matrix(K, N)
    true_m = 1.0 - lam_max_sym(np.abs(W))
    cert = ci.conv_ibp_margin(K, N)
    if cert.certified:
        assert cert.margin <= -lam_max_sym(lift(W) - np.eye(2 * W.shape[0])) + 1e-12
        assert cert.margin <= true_m + 1e-12 and cert.margin >= true_m - 1e-9
        assert np.all(cert.witness["A"] >= np.abs(K).sum(axis=(2, 3)))
        if true_m > 1e-6:                       # the proved margin attains 1 − λ_max(sym|W|) up to rounding
            reached("wei2022:sec3.conv.lift", cert.margin / true_m)
    elif cert.status is Status.REFUTED:
        assert true_m < 0
        v = np.repeat(cert.witness["v"], N * N)
        assert v @ (np.eye(W.shape[0]) - np.abs(W)) @ v < 0
    else:
        assert abs(true_m) < 1e-9
    again = cert.verify(K=K)
    assert again.status is cert.status and (not cert.certified or again.margin == cert.margin)


@pytest.mark.theorem("wei2022:sec3.conv.lift")
@pytest.mark.parametrize("c,N,k", [(1, 1, 1), (2, 3, 2), (3, 4, 3), (2, 4, 4)])
def test_margin_certificate_fails_when_it_should(c, N, k):
    """Scaled so λ_max(sym A) = 0.95 the margin is CERTIFIED (≈ 0.05); at 1.05 it is REFUTED (and the
    refutation re-verifies); a perturbed witness shift or a kernel it was not proved for is refused."""
    rng = np.random.default_rng(c + N + k)
    K0 = kernel(rng, c, k)
    lam0 = lam_max_sym(np.abs(K0).sum(axis=(2, 3)))
    good = ci.conv_ibp_margin(K0 * (0.95 / lam0), N)
    assert good.certified and abs(good.margin - 0.05) < 1e-9
    bad = ci.conv_ibp_margin(K0 * (1.05 / lam0), N)
    assert bad.status is Status.REFUTED and bad.margin <= 0
    assert bad.verify(K=K0 * (1.05 / lam0)).status is Status.REFUTED
    assert bad.verify(K=K0 * (0.95 / lam0)).status is not Status.REFUTED
    forged = good.replace(witness={**good.witness, "shift": 0.2})
    assert not forged.verify(K=K0 * (0.95 / lam0)).certified
    assert not good.verify(K=K0 * (1.05 / lam0)).certified


@settings(max_examples=40, deadline=None)
@given(SEEDS, st.integers(1, 5), st.integers(1, 3))
@pytest.mark.theorem("wei2022:sec3.conv.lift")
def test_abs_mass_bounds_enclose_the_exact_sums(seed, k, c):
    """A_low ≤ Σ_taps |K| ≤ A_up against exact rational sums, also for terms of very different magnitude
    (where float summation rounds) and subnormal taps; A_up − A is a few ulps."""
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((c, c, k, k)) * 10.0 ** rng.integers(-20, 20, size=(c, c, k, k))
    K.ravel()[0] = 5e-324
    up, low = ci.abs_mass_upper(K), ci.abs_mass_lower(K)
    ex = exact_mass(K)
    for o in range(c):
        for i in range(c):
            assert Fraction(float(low[o, i])) <= ex[o][i] <= Fraction(float(up[o, i]))
            assert float(up[o, i]) <= float(ex[o][i]) * (1 + 64 * k * k * 2.0 ** -53) + 1e-300


# --------------------------------------------------------------------------------------------- parametrization

@settings(max_examples=25, deadline=None)
@given(SEEDS, st.sampled_from([(c, N, k) for c, N, k in SHAPES if N >= 2]), st.sampled_from([0.0, 0.1, 0.5]),
       st.booleans())
@pytest.mark.theorem("wei2022:sec3.conv.param")
def test_per_channel_D_keeps_a_convolution_inside_the_set(seed, shape, m, use_gamma):
    """The kernel materialises to D̃^{-1/2}M̃D̃^{-1/2} (Γ̃…Γ̃⁻¹ for the Γ-variant), with d from the dense
    formula on the c × c matrix A_M; λ_max(sym|W|) < 1 − m (plain) and ρ(|W|) < 1 − m (both)."""
    c, N, k = shape
    rng = np.random.default_rng(seed)
    fam = ci.ConvIBPMonDEQGamma(m=m, gamma=3.0) if use_gamma else ci.ConvIBPMonDEQ(m=m)
    p = fam.sample(rng, c, k, N, slack_range=(1e-3, 1.0), beta_scale=3.0) if use_gamma else \
        fam.sample(rng, c, k, N, slack_range=(1e-3, 1.0))
    Wk = fam.forward(p)
    AM = np.abs(p.M).sum(axis=(2, 3))
    d = (AM.sum(axis=0) + AM.sum(axis=1)) / 2 / (1 - m) + np.exp(p.log_slack)
    s = np.repeat(1.0 / np.sqrt(d), N * N)
    Wd = s[:, None] * conv_matrix(p.M, N) * s[None, :]
    if use_gamma:
        g = np.repeat((2.0 / 3.0) / (1 + np.exp(-p.beta)) + 1.0 / 3.0, N * N)
        Wd = g[:, None] * Wd / g[None, :]
    W = conv_matrix(Wk, N)
    assert np.allclose(W, Wd, rtol=1e-12, atol=1e-15)
    rho = float(np.max(np.abs(np.linalg.eigvals(np.abs(W)))))
    assert rho < 1 - m
    if not use_gamma:
        assert lam_max_sym(np.abs(W)) < 1 - m
        # tight witness: with the slack s → 0 (e^-40) the bound λ_max(sym|W|) ≤ 1 − m is attained
        p0 = dataclasses.replace(p, log_slack=np.full_like(p.log_slack, -40.0))
        reached("wei2022:sec3.conv.param", lam_max_sym(np.abs(conv_matrix(fam.forward(p0), N))) / (1 - m),
                slack=1e-11)


@pytest.mark.theorem("wei2022:sec3.conv.param")
def test_gamma_variant_can_leave_the_symmetric_set_but_not_the_contraction_set():
    """A strongly skewed Γ makes λ_max(sym|W|) > 1 (conv_ibp_margin REFUTED) while ρ(|W|) = ρ(|W'|) < 1 − m
    (conv_abs_contraction CERTIFIED)."""
    rng = np.random.default_rng(3)
    M = np.zeros((2, 2, 3, 3))
    M[0, 1] = np.abs(rng.standard_normal((3, 3)))
    M[1, 0] = np.abs(rng.standard_normal((3, 3)))
    fam = ci.ConvIBPMonDEQGamma(m=0.1, gamma=1e4)
    p = ci.ConvIBPMonDEQGammaParams(M=M, log_slack=np.full(2, -8.0), beta=np.array([30.0, -30.0]))
    K = fam.forward(p)
    W = conv_matrix(K, 4)
    assert lam_max_sym(np.abs(W)) > 1
    assert float(np.max(np.abs(np.linalg.eigvals(np.abs(W))))) < 0.9
    assert ci.conv_ibp_margin(K, 4).status is Status.REFUTED
    cert = ci.conv_abs_contraction(K, 4)
    assert cert.certified and cert.witness["mu"] < 0.9 + 1e-9


# --------------------------------------------------------------------------------------------- claim 3

@settings(max_examples=25, deadline=None)
@given(SEEDS, st.sampled_from(SHAPES), st.floats(0.2, 1.8))
@pytest.mark.theorem("wei2022:sec3.conv.contraction")
def test_weighted_linf_norms_of_W_and_the_lift_are_below_mu(seed, shape, target):
    """For a CERTIFIED conv_abs_contraction (K scaled to ρ(A) ≈ target): dense ‖|W|‖ = ‖W‖ (weights η̃),
    ‖|Ŵ|‖ and μ_∞(Ŵ) (weights [η̃; η̃]) are ≤ μ, ‖|W|‖ equals max_c (Aη)_c/η_c; ρ(A) ≤ λ_max(sym A); REFUTED only
    when ρ(|W|) ≥ 1."""
    c, N, k = shape
    rng = np.random.default_rng(seed)
    K = kernel(rng, c, k)
    K = K * (target / float(np.max(np.abs(np.linalg.eigvals(np.abs(K).sum(axis=(2, 3)))))))
    W = conv_matrix(K, N)
    A = np.abs(K).sum(axis=(2, 3))
    rho = float(np.max(np.abs(np.linalg.eigvals(A))))
    assert rho <= lam_max_sym(A) + 1e-12
    cert = ci.conv_abs_contraction(K, N)
    if cert.certified:
        eta, mu = cert.witness["eta"], cert.witness["mu"]
        et = np.repeat(eta, N * N)
        nW = float(np.max((np.abs(W) @ et) / et))
        assert abs(nW - float(np.max((A @ eta) / eta))) <= 1e-12 * max(1.0, nW)
        assert nW <= mu and cert.margin <= 1 - nW
        reached("wei2022:sec3.conv.contraction", nW / mu)   # η near the Perron vector of A: ‖|W|‖ ≈ μ
        e2 = np.concatenate([et, et])
        Wh = lift(W)
        assert float(np.max((np.abs(Wh) @ e2) / e2)) <= mu
        Mz = np.abs(Wh - np.diag(np.diag(Wh))) + np.diag(np.diag(Wh))      # Metzler majorant: mu_inf(Ŵ)
        assert float(np.max((Mz @ e2) / e2)) <= mu
        assert rho <= mu
        assert cert.verify(K=K).certified
    elif cert.status is Status.REFUTED:
        assert float(np.max(np.abs(np.linalg.eigvals(np.abs(W))))) >= 1 - 1e-12
    else:
        assert abs(rho - 1) < 1e-9


@settings(max_examples=15, deadline=None)
@given(SEEDS, st.sampled_from([(c, N, k) for c, N, k in SHAPES if N >= 2]), st.floats(0.3, 0.95))
@pytest.mark.theorem("wei2022:sec3.conv.contraction")
def test_a_posteriori_bound_of_the_lifted_fixed_point(seed, shape, rho):
    """‖ẑ − z*‖_{∞,[η̃;η̃]} ≤ contraction_error_bound(cert, ‖r‖) for a crude ẑ (3 steps) of the lifted
    map z ↦ ReLU(Ŵz + v̂), z* from 2000 steps of the same contraction (K scaled to ρ(A) = rho)."""
    c, N, k = shape
    rng = np.random.default_rng(seed)
    K = kernel(rng, c, k)
    K = K * (rho / float(np.max(np.abs(np.linalg.eigvals(np.abs(K).sum(axis=(2, 3)))))))
    cert = ci.conv_abs_contraction(K, N)
    assert cert.certified
    Wh = lift(conv_matrix(K, N))
    v = rng.standard_normal(Wh.shape[0])
    F = lambda z: np.maximum(Wh @ z + v, 0.0)  # noqa: E731
    z = np.zeros_like(v)
    for _ in range(3):
        z = F(z)
    zs = z.copy()
    for _ in range(2000):
        zs = F(zs)
    e2 = np.concatenate([np.repeat(cert.witness["eta"], N * N)] * 2)
    r = float(np.max(np.abs(z - F(z)) / e2)) * (1 + 1e-12)
    assert float(np.max(np.abs(z - zs) / e2)) <= ci.contraction_error_bound(cert, r) * (1 + 1e-9) + 1e-15


@pytest.mark.theorem("wei2022:sec3.conv.contraction")
def test_contraction_certificate_fails_when_it_should():
    """ρ(A) = 1.1 ⇒ REFUTED (re-verified); ρ(A) = 0.9 ⇒ CERTIFIED with μ ≈ 0.9; a perturbed η, a smaller
    recorded μ, a non-positive η are refused by the verifier."""
    rng = np.random.default_rng(11)
    K0 = kernel(rng, 3, 3)
    rho0 = float(np.max(np.abs(np.linalg.eigvals(np.abs(K0).sum(axis=(2, 3))))))
    bad = ci.conv_abs_contraction(K0 * (1.1 / rho0), 4)
    assert bad.status is Status.REFUTED and bad.verify(K=K0 * (1.1 / rho0)).status is Status.REFUTED
    K = K0 * (0.9 / rho0)
    good = ci.conv_abs_contraction(K, 4)
    assert good.certified and abs(good.witness["mu"] - 0.9) < 1e-9
    eta = good.witness["eta"]
    far = eta * np.array([1.0, 50.0, 1.0])
    assert not good.replace(witness={**good.witness, "eta": far}).verify(K=K).certified
    low = good.replace(witness={**good.witness, "mu": good.witness["mu"] * (1 - 1e-6)})
    assert not low.verify(K=K).certified
    neg = good.replace(witness={**good.witness, "eta": -eta})
    assert not neg.verify(K=K).certified
    assert ci.contraction_error_bound(bad, 1.0) == math.inf


@pytest.mark.theorem("wei2022:sec3.conv.lift")
@pytest.mark.parametrize("f", [ci.conv_ibp_margin, ci.conv_abs_contraction])
def test_kernels_larger_than_the_grid_are_refused(f):
    """k > N would alias taps (|W| ≠ conv(|K|)): refused with a ShapeError naming the shape."""
    with pytest.raises(ShapeError, match=r"\(2, 2, 4, 4\)"):
        f(np.ones((2, 2, 4, 4)), 3)
    with pytest.raises(ShapeError, match=r"\(2, 2, 2, 4\)"):
        f(np.ones((2, 2, 2, 4)), 3)
