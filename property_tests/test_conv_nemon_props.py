"""Theorem-catalogue property tests for the convolutional NEMON (deqtheory.conv_nemon; the project's own claims
jafarpour2022:eq12.conv and jafarpour2022:thm6.3.conv).

Independent oracles (never the code under test): dense materialisations by ``circulant.conv_matrix``, the
dense corrected eq. (12) written out on the materialised T̃ and η̃, ``deqtheory.linalg.mu_inf`` on dense
matrices, ``deqtheory.intervals.metzler_lift`` of the materialised W, and exact rational sums
(``fractions.Fraction``) of the Metzler mass. Sizes: c ≤ 3, N ≤ 5, k = 1..N (odd and even, N = k included).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import conv_nemon as cn
from deqtheory import intervals, linalg
from deqtheory.certificates import Status
from deqtheory.circulant import conv_matrix
from deqtheory.errors import ShapeError

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
SHAPES = [(c, N, k) for c in (1, 2, 3) for N in (1, 2, 3, 4, 5) for k in range(1, N + 1) if c * N * N <= 48]
SHAPE = st.sampled_from(SHAPES)


def _dense_eq12(T, eta, gamma, N):
    """The corrected eq. (12) on the materialised conv T and per-pixel η (dense oracle)."""
    Tm = conv_matrix(T, N)
    et = np.repeat(eta, N * N)
    return (et[:, None] * Tm) / et[None, :] - np.diag(np.abs(Tm).sum(axis=1)) + gamma * np.eye(Tm.shape[0]), et


def _exact_metzler_mass(K):
    c = K.shape[0]
    o = ((K.shape[2] - 1) // 2, (K.shape[3] - 1) // 2)
    A = []
    for a in range(c):
        row = []
        for b in range(c):
            taps = [(t, Fraction(float(K[a, b][t]))) for t in np.ndindex(K.shape[2:])]
            row.append(sum((x if (a == b and t == o) else abs(x)) for t, x in taps))
        A.append(row)
    return A


@pytest.mark.theorem("jafarpour2022:eq12.conv")
@settings(max_examples=60, deadline=None)
@given(SHAPE, SEEDS, st.floats(-2.0, 0.95), st.floats(0.1, 3.0))
def test_conv_nemon_kernel_is_the_dense_eq12_and_mu_le_gamma(shape, seed, gamma, scale):
    c, N, k = shape
    rng = np.random.default_rng(seed)
    fam = cn.ConvNonEuclidean(gamma=gamma)
    p = fam.sample(rng, c, k, N, scale=scale)
    K = fam.forward(p)
    W = conv_matrix(K, N)
    Wd, et = _dense_eq12(p.T, p.eta, gamma, N)
    assert np.allclose(W, Wd, rtol=0, atol=1e-12 * max(1.0, float(np.abs(Wd).max())))
    mu = linalg.mu_inf(W, et)
    o = ((k - 1) // 2,) * 2
    d = np.array([p.T[i, i][o] for i in range(c)])
    expected = gamma + float(np.max(2 * np.minimum(d, 0.0)))
    tol = 1e-12 * max(1.0, float(np.abs(W).sum(axis=1).max()) * float(p.eta.max() / p.eta.min()))
    assert abs(mu - expected) <= tol
    assert mu <= gamma + tol


@pytest.mark.theorem("jafarpour2022:thm6.3.conv")
@settings(max_examples=60, deadline=None)
@given(SHAPE, SEEDS, st.floats(0.2, 3.0))
def test_mu_inf_of_W_and_of_the_metzler_lift_from_the_metzler_mass(shape, seed, scale):
    """Any kernel (not only NEMON ones): the lift kernel materialises to metzler_lift(W); μ∞ of W and of the
    lift with [η̃; η̃] equal max_c (A_M η)_c/η_c and are ≤ the certified μ, which equals μ∞(W) at its η up to
    rounding (so a certified μ halved or doubled fails)."""
    c, N, k = shape
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((c, c, k, k)) * scale / (k * math.sqrt(c))
    W = conv_matrix(K, N)
    L = conv_matrix(cn.metzler_lift_kernel(K), N)
    assert np.array_equal(L, intervals.metzler_lift(W))
    eta = rng.uniform(0.2, 5.0, size=c)
    et = np.repeat(eta, N * N)
    A = cn.metzler_mass(K)
    want = float(np.max(A @ eta / eta))
    assert abs(linalg.mu_inf(W, et) - want) <= 1e-12 * max(1.0, abs(want)) * 10
    assert abs(linalg.mu_inf(L, np.concatenate([et, et])) - want) <= 1e-12 * max(1.0, abs(want)) * 10
    cert = cn.conv_mu_inf(K, N, eta=eta)
    mu_c = float(cert.witness["mu"])
    e = np.repeat(np.asarray(cert.witness["eta"]), N * N)
    assert linalg.mu_inf(W, e) <= mu_c and linalg.mu_inf(L, np.concatenate([e, e])) <= mu_c
    exact = linalg.mu_inf(W, e)                # and μ_c is that measure, rounded up by a few ulps only (two-sided)
    assert mu_c <= exact + 1e-12 * max(1.0, float(np.abs(W).sum(axis=1).max()))
    assert mu_c <= want + 1e-9 * max(1.0, abs(want))          # never worse than the given η (up to rounding)
    assert cert.certified == (mu_c < 1.0)
    again = cert.verify(K=K)
    assert again.status is cert.status and again.witness["mu"] == cert.witness["mu"]


@pytest.mark.theorem("jafarpour2022:thm6.3.conv")
@settings(max_examples=60, deadline=None)
@given(SHAPE, SEEDS, st.sampled_from([1e-8, 1.0, 1e8]))
def test_metzler_mass_upper_bounds_the_exact_rational_mass(shape, seed, mag):
    c, N, k = shape
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((c, c, k, k)) * mag
    up = cn.metzler_mass_upper(K)
    ex = _exact_metzler_mass(K)
    for a in range(c):
        for b in range(c):
            assert Fraction(float(up[a, b])) >= ex[a][b]
            assert abs(float(up[a, b]) - float(ex[a][b])) <= 1e-12 * float(np.abs(K[a, b]).sum()) + 1e-300


@pytest.mark.theorem("jafarpour2022:thm6.3.conv")
def test_verifier_refuses_a_perturbed_eta_or_a_smaller_recorded_mu_and_kernels_larger_than_the_grid():
    rng = np.random.default_rng(3)
    fam = cn.ConvNonEuclidean(gamma=0.0)
    p = fam.sample(rng, 3, 3, 4)
    K = fam.forward(p)
    cert = cn.conv_mu_inf(K, 4, eta=p.eta)
    assert cert.certified and cert.verify(K=K).certified
    lower = cert.replace(witness={**cert.witness, "mu": float(cert.witness["mu"]) - 1e-3})
    assert lower.verify(K=K).status is Status.INCONCLUSIVE
    bad_eta = cert.replace(witness={**cert.witness, "eta": -np.asarray(cert.witness["eta"])})
    assert bad_eta.verify(K=K).status is Status.INCONCLUSIVE
    # a much worse η proves a larger μ than the one recorded: refused
    skew = cert.replace(witness={**cert.witness, "eta": np.array([1.0, 1e-6, 1e6])})
    assert skew.verify(K=K).status is Status.INCONCLUSIVE
    with pytest.raises(ShapeError):
        cn.conv_mu_inf(K, 2)


@pytest.mark.theorem("jafarpour2022:thm6.3.conv")
@settings(max_examples=60, deadline=None)
@given(SHAPE, SEEDS, st.floats(0.2, 6.0))
def test_refuted_means_no_weights_work_and_certified_means_the_dense_abscissa_is_below_one(shape, seed, scale):
    """REFUTED ⇒ the dense spectral abscissa of the materialised Metzler majorant (= inf over all per-pixel
    weights of μ∞(W)) is ≥ 1, and of the lift's too; CERTIFIED ⇒ it is < 1; a clear abscissa > 1.01 is REFUTED."""
    c, N, k = shape
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((c, c, k, k)) * scale / (k * math.sqrt(c))
    W = conv_matrix(K, N)
    alpha_W = float(np.max(np.linalg.eigvals(linalg.metzler_majorant(W)).real))
    alpha_L = float(np.max(np.linalg.eigvals(linalg.metzler_majorant(intervals.metzler_lift(W))).real))
    assert abs(alpha_W - alpha_L) <= 1e-9 * max(1.0, abs(alpha_W))
    cert = cn.conv_mu_inf(K, N)
    if cert.status is Status.REFUTED:
        assert alpha_W >= 1.0 - 1e-9
        assert cert.verify(K=K).status is Status.REFUTED
        assert cert.replace(witness={**cert.witness, "v": np.zeros(c)}).verify(K=K).status is Status.INCONCLUSIVE
    elif cert.certified:
        assert alpha_W < 1.0
    if alpha_W > 1.01:
        assert cert.status is Status.REFUTED


@pytest.mark.theorem("jafarpour2022:thm6.3.conv")
def test_a_large_positive_origin_tap_is_refuted():
    K = np.zeros((2, 2, 3, 3))
    K[0, 0, 1, 1] = 1.5
    K[1, 0, 0, 0] = 0.3
    cert = cn.conv_mu_inf(K, 3)
    assert cert.status is Status.REFUTED and float(cert.witness["mu"]) >= 1.5
    assert cert.verify(K=K).status is Status.REFUTED
    K[0, 0, 1, 1] = 0.999
    assert cn.conv_mu_inf(K, 3).certified
