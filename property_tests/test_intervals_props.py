"""Property tests for deqtheory.intervals: the IBP box (wei2022 Prop 3.2, li2022 Prop 3.1,
Example 3.6), the embedded Metzler network (jafarpour2022 Thm 6.3 parts 1–4, Remark 6.4.4) and the
eq. (14) certificate. Fixed points of sampled inputs come from tight solves (residual <= 1e-10)
whose own proved error bound is taken into account, so a reported violation is a real one."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from deqtheory.bounds import (adjoint_contraction, fixed_point_error_bound, monotone_margin, mu_inf_bound,
                              residual_bound, solve_relu_fixed_point)
from deqtheory.certificates import Status
from deqtheory.intervals import (Box, affine_box, certify_linf_box, ibp_box, ibp_lift, interval_bounds,
                                 metzler_box, metzler_lift, output_box)
from deqtheory.testing import scaled

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


# ---------------------------------------------------------------- builders (valid by construction)

def wei_W(rng, n, slack):
    """wei2022 Thm 3.1: W = D^-1/2 M D^-1/2, D_ii = (1+slack)(|M|1 + |M|^T 1)_i/2 ⇒ I - |W| ≻ 0."""
    M = rng.standard_normal((n, n)) * (rng.random((n, n)) < rng.uniform(0.3, 1.0))
    D = (1 + slack) * (np.abs(M).sum(1) + np.abs(M).sum(0)) / 2 + 1e-3
    s = 1 / np.sqrt(D)
    return s[:, None] * M * s[None, :]


def mu_model(rng, n, gam):
    """mu_inf,[eta]^-1(W) <= gam: W = [eta] T [eta]^-1 - diag(|T|1) + gam I (jafarpour2022 eq. 12, §3 weights)."""
    T = rng.standard_normal((n, n)) * rng.uniform(0.1, 1.5)
    eta = np.exp(rng.uniform(-1, 1, n))
    return eta[:, None] * T / eta[None, :] - np.diag(np.abs(T).sum(1)) + gam * np.eye(n)


def fixed_point_enclosure(W, v):
    """Tight solve of z = relu(Wz + v) and a proved enclosure [z - e, z + e] of the exact fixed point."""
    s = solve_relu_fixed_point(W, v)
    assert s.residual_norm <= 1e-10 * (1 + np.abs(s.z).max())
    r, delta = residual_bound(W, v, s.z)
    e = np.full(len(v), np.inf)
    for nrm in ("inf", "2"):
        eb = fixed_point_error_bound(W, r, nrm, residual_err=delta)
        if eb.certified:
            e = np.minimum(e, eb.componentwise)
    assert np.all(np.isfinite(e))
    return s.z, e


def sample_box_points(rng, box, k):
    """k uniform points plus k random vertices of the box."""
    P = box.sample(rng, k)
    V = np.where(rng.random((k, box.dim)) < 0.5, box.lower, box.upper)
    return np.vstack([P, V])


def assert_contained(box, W, V):
    """Every exact z*(v), v in rows of V, lies in box (no violation even after subtracting the
    proved solve error: a violation would need z - e > upper or z + e < lower)."""
    viol = 0
    for v in V:
        z, e = fixed_point_enclosure(W, v)
        viol += int(np.any(z - e > box.upper) or np.any(z + e < box.lower))
    assert viol == 0


def _assert_x_box_contains_samples(rng, W, d, *, radius_hi, k):
    """Random U (n, d), b and an ℓ∞ x-ball of radius ≤ ``radius_hi``: the "ibp" interval bounds of
    eq. (3.6) / (5) are certified and contain z*(Ux + b) for k sampled x (corners included)."""
    n = W.shape[0]
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    xb = Box.ball(rng.standard_normal(d), rng.uniform(0, radius_hi))
    ib = interval_bounds(W, U, b, xb, "ibp")
    assert ib.certified
    assert_contained(ib.box, W, [U @ x + b for x in sample_box_points(rng, xb, k)])


# ---------------------------------------------------------------- wei2022 / li2022

@pytest.mark.theorem("wei2022:prop3.2")
@settings(max_examples=scaled(12))
@given(SEEDS)
def test_prop32_ibp_box_contains_all_fixed_points(seed):
    """wei2022 Prop 3.2: if I - Ŵ ≻ 0, the IBP fixed point (3.3) satisfies
    z_lower <= z*(v) <= z_upper for every v in [v_lower, v_upper] (0 violations over uniform samples
    and vertices of the v-box); also for the x-box of eq. (3.6)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    W = wei_W(rng, n, rng.uniform(0.01, 1.0))
    assert monotone_margin(ibp_lift(W)).certified                     # the hypothesis of Prop 3.2
    c = rng.standard_normal(n) * 2
    rad = rng.uniform(0, 1.5, n)
    vb = Box(c - rad, c + rad)
    ib = ibp_box(W, vb, conditions=("monotone",))
    assert ib.certified
    assert_contained(ib.box, W, sample_box_points(rng, vb, 20))
    _assert_x_box_contains_samples(rng, W, int(rng.integers(1, 4)), radius_hi=0.5, k=10)


@pytest.mark.theorem("li2022:prop3.1")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_li_prop31_adjoint_deq_bounds(seed):
    """li2022 Prop 3.1: if ||Ŵ||_2 < 1 the adjoint DEQ (5) (input rows U+x̄ + U-x̲ + b and
    U+x̲ + U-x̄ + b — eq. (5) prints the first for both rows, corrected from the appendix proof) has a
    unique fixed point bounding z*(x) for all x in [x̲, x̄]. The proved bound on ||Ŵ||_2 is >= the
    float SVD value."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    A = rng.standard_normal((n, n))
    W = A / np.linalg.norm(np.abs(A), 2) * rng.uniform(0.1, 0.97)
    ac = adjoint_contraction(W)
    assert ac.certificate.certified and ac.value < 1
    assert ac.value >= np.linalg.norm(ibp_lift(W), 2) * (1 - 1e-12)
    _assert_x_box_contains_samples(rng, W, d, radius_hi=1.0, k=15)


@pytest.mark.theorem("li2022:prop3.1")
def test_li_eq5_printed_lower_input_is_not_a_lower_bound():
    """li2022 eq. (4)/(5) print the lower row's input as U+ x̄ + U- x̲ + b (same as the upper row).
    Counterexample W = 0, U = [1], b = 0, x in [-1, 1]: that "lower bound" is relu(1) = 1 > z*(0) = 0.
    With the appendix's h̲ = U- x̄ + U+ x̲ + b the bound is relu(-1) = 0, valid (and our box agrees)."""
    W, U = np.zeros((1, 1)), np.ones((1, 1))
    xl, xu = np.array([-1.0]), np.array([1.0])
    printed_lower = np.maximum(np.maximum(U, 0) @ xu + np.minimum(U, 0) @ xl, 0)
    z0 = fixed_point_enclosure(W, U @ np.zeros(1))[0]
    assert printed_lower[0] > z0[0]
    ib = interval_bounds(W, U, None, Box(xl, xu), "ibp")
    assert ib.certified and ib.box.lower[0] <= z0[0] <= ib.box.upper[0] and ib.box.lower[0] == 0.0


@pytest.mark.theorem("wei2022:example3.6")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_example36(seed):
    """wei2022 Example 3.6: W = [[0, 1.9], [0.05, 0]] = D^-1/2 M D^-1/2 with M = W, D = I satisfies
    (3.4) (D_ii = 1 > (|M|1 + |M|^T 1)_i/2 = 0.975) although ||W||_op = 1.9; hence I - Ŵ ≻ 0 and the
    IBP box is valid (sampled boxes). The paper's contrast claim "W = D^-1 M with D_ii >= (|M|1)_i
    implies ||W||_op <= 1" holds for the l_inf operator norm only (counterexample for l2 below)."""
    W = np.array([[0.0, 1.9], [0.05, 0.0]])
    assert abs(np.linalg.norm(W, 2) - 1.9) < 1e-12
    s = (np.abs(W).sum(1) + np.abs(W).sum(0)) / 2
    assert np.allclose(s, 0.975) and np.all(1.0 > s)
    assert monotone_margin(ibp_lift(W)).certified
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(2) * 3
    vb = Box(c - rng.uniform(0, 2, 2), c + rng.uniform(0, 2, 2))
    ib = ibp_box(W, vb)
    assert ib.certified
    assert_contained(ib.box, W, sample_box_points(rng, vb, 15))
    # the contrast claim: D_ii >= (|M|1)_i bounds ||D^-1 M||_inf, not ||D^-1 M||_2
    M = rng.standard_normal((3, 3))
    Wr = M / np.abs(M).sum(1)[:, None]
    assert np.abs(Wr).sum(1).max() <= 1 + 1e-12
    Mc = np.array([[1.0, 0.0], [1.0, 0.0]])                            # D = I, D_ii = (|M|1)_i = 1
    assert np.linalg.norm(Mc, 2) > 1.41                                  # = sqrt(2) > 1


# ---------------------------------------------------------------- jafarpour2022 Thm 6.3

def _wnorm(x, eta):
    return float(np.max(np.abs(x) / eta))


@pytest.mark.theorem("jafarpour2022:thm6.3")
@settings(max_examples=scaled(12))
@given(SEEDS)
def test_thm63_all_parts(seed):
    """jafarpour2022 Thm 6.3 with mu = mu_inf,[eta]^-1(W) < 1 and alpha in (0, 1/(1 - min_i (W_ii)_-)]:
    (1) the alpha-average embedded iteration is a (1 - alpha(1 - mu+))-contraction in
        ||.||_{inf, I2 ⊗ [eta]^-1} and converges to the embedded fixed point;
    (2) the alpha-average iteration of (4) is such a contraction in ||.||_{inf,[eta]^-1} and its fixed
        point z*(x) lies in [z̲*, z̄*] for every x in the box;
    (3) G̲ = C+ z̲* + C- z̄* + c <= min_box f_N and max_box f_N <= Ḡ (samples, vertices, and a
        projected-gradient search for the tight inclusion function (3));
    (4) f_N(x) in [G̲, Ḡ] for all x in the box."""
    rng = np.random.default_rng(seed)
    n, d, q = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    W = mu_model(rng, n, rng.uniform(-1.0, 0.95))
    cu = mu_inf_bound(W)
    assert cu.certified
    eta = np.asarray(cu.witness["eta"])
    mu = 1.0 - cu.margin
    U, b, C, c = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((q, n)), rng.standard_normal(q)
    xb = Box.ball(rng.standard_normal(d), rng.uniform(0, 0.8))
    vb = affine_box(U, b, xb)
    vhat = np.concatenate([vb.upper, vb.lower])
    amax = 1.0 / (1.0 - min(np.min(np.diag(W)), 0.0))
    alpha = amax * rng.uniform(0.05, 1.0)
    rate = 1 - alpha * (1 - max(mu, 0.0))
    ME = metzler_lift(W)
    ehat = np.concatenate([eta, eta])
    TE = lambda p: (1 - alpha) * p + alpha * np.maximum(ME @ p + vhat, 0)
    # part 1: contraction on random pairs, convergence to the computed embedded fixed point
    for _ in range(10):
        p1, p2 = rng.standard_normal(2 * n) * 3, rng.standard_normal(2 * n) * 3
        assert _wnorm(TE(p1) - TE(p2), ehat) <= rate * _wnorm(p1 - p2, ehat) * (1 + 1e-12) + 1e-14
    mb = metzler_box(W, vb)
    assert mb.certified
    pstar = np.concatenate([mb.upper_approx, mb.lower_approx])
    p = np.zeros(2 * n)
    d0 = _wnorm(p - pstar, ehat)
    for k in range(1, 31):
        p = TE(p)
        tol = 2 * _wnorm(mb.error, ehat) * (1 + 1e-9) + 1e-13
        assert _wnorm(p - pstar, ehat) <= rate ** k * (d0 + tol) + tol
    # part 2: contraction of N_alpha, z*(x) inside the box
    T = lambda z, v: (1 - alpha) * z + alpha * np.maximum(W @ z + v, 0)
    v0 = vb.sample(rng, 1)[0]
    for _ in range(10):
        z1, z2 = rng.standard_normal(n) * 3, rng.standard_normal(n) * 3
        assert _wnorm(T(z1, v0) - T(z2, v0), eta) <= rate * _wnorm(z1 - z2, eta) * (1 + 1e-12) + 1e-14
    X = sample_box_points(rng, xb, 12)
    assert_contained(mb.box, W, [U @ x + b for x in X])
    # parts 3 and 4: output inclusion
    ob = output_box(C, c, mb.box)
    F = np.array([C @ fixed_point_enclosure(W, U @ x + b)[0] + c for x in X])
    assert np.all(F >= ob.lower - 1e-12) and np.all(F <= ob.upper + 1e-12)
    for i in range(q):                 # projected gradient search for min / max of f_i over the box
        for sgn in (1.0, -1.0):
            x = xb.sample(rng, 1)[0]
            for _ in range(10):
                z, _ = fixed_point_enclosure(W, U @ x + b)
                Dg = ((W @ z + U @ x + b) > 0).astype(float)
                J = np.linalg.solve(np.eye(n) - Dg[:, None] * W, Dg[:, None] * U)
                g = C[i] @ J
                x = np.clip(x - sgn * 0.3 * xb.width * np.sign(g), xb.lower, xb.upper)
                fi = C[i] @ fixed_point_enclosure(W, U @ x + b)[0] + c[i]
                assert ob.lower[i] - 1e-12 <= fi <= ob.upper[i] + 1e-12


# ---------------------------------------------------------------- jafarpour2022 Remark 6.4.4

@pytest.mark.theorem("jafarpour2022:remark6.4.4")
@settings(max_examples=scaled(12))
@given(SEEDS)
def test_remark644_metzler_never_looser(seed):
    """jafarpour2022 Remark 6.4.4: ⌈W⌉Mzl <= W+ and W- <= ⌊W⌋Mzl, and the exact embedded (Metzler)
    box is contained in the exact IBP box whenever both are well posed (compared on the computed
    fixed points with their proved error bounds)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    W = wei_W(rng, n, rng.uniform(0.05, 1.0))
    W[np.diag_indices(n)] -= rng.uniform(0, 1, n) * (rng.random(n) < 0.7)   # some negative diagonal
    Mi, Mm = ibp_lift(W), metzler_lift(W)
    assert np.all(Mm[:n, :n] <= Mi[:n, :n]) and np.all(Mi[:n, n:] <= Mm[:n, n:])
    c = rng.standard_normal(n)
    vb = Box(c - rng.uniform(0, 1, n), c + rng.uniform(0, 1, n))
    a, b = ibp_box(W, vb), metzler_box(W, vb)
    assert b.certified
    if a.certified:
        assert np.all(b.upper_approx - b.error[:n] <= a.upper_approx + a.error[:n])
        assert np.all(b.lower_approx + b.error[n:] >= a.lower_approx - a.error[n:])
        assert np.all(b.box.width <= a.box.width + 2 * (a.error[:n] + a.error[n:] + b.error[:n] + b.error[n:]))


@pytest.mark.theorem("jafarpour2022:remark6.4.4")
def test_remark644_counterexample_ibp_ill_posed_metzler_valid():
    """mu_inf(W) < 1 does not make the IBP fixed point well posed (Remark 6.4.4, NEMON-type negative
    diagonal). W = [[-3]]: mu = -3. IBP (3.3) with v̲ = v̄ = 1 has three exact solutions (1, 0),
    (0, 1), (1/4, 1/4) — one with z̲ > z̄ — and the undamped IBP iteration from 0 is 2-periodic;
    the Metzler box is valid and exact (z* = 1/4). Also for a 3x3 W = -3I + E."""
    one = Fraction(1)
    for zu, zl in [(one, Fraction(0)), (Fraction(0), one), (Fraction(1, 4), Fraction(1, 4))]:
        # z̄ = relu(W+ z̄ + W- z̲ + v̄) = relu(-3 z̲ + 1), z̲ = relu(-3 z̄ + 1)
        assert zu == max(-3 * zl + 1, 0) and zl == max(-3 * zu + 1, 0)
    W = np.array([[-3.0]])
    assert mu_inf_bound(W).certified
    ib = ibp_box(W, Box(np.ones(1), np.ones(1)))
    assert not ib.certified and ib.certificate.stats["monotone_status"] == Status.REFUTED.value
    z = np.zeros(2)
    seq = []
    for _ in range(6):
        z = np.maximum(ibp_lift(W) @ z + 1.0, 0)
        seq.append(z.copy())
    assert np.array_equal(seq[0], seq[2]) and not np.array_equal(seq[0], seq[1])   # 2-cycle
    mb = metzler_box(W, Box(np.ones(1), np.ones(1)))
    assert mb.certified and mb.box.contains(np.array([0.25])) and mb.box.width[0] < 1e-12
    rng = np.random.default_rng(7)
    W3 = -3 * np.eye(3) + 0.3 * rng.standard_normal((3, 3)) * (1 - np.eye(3))
    assert mu_inf_bound(W3).certified
    vb = Box(np.ones(3) * 0.5, np.ones(3) * 1.5)
    assert not ibp_box(W3, vb).certified
    mb3 = metzler_box(W3, vb)
    assert mb3.certified
    assert_contained(mb3.box, W3, sample_box_points(rng, vb, 20))


# ---------------------------------------------------------------- certificate eq. (14)

@pytest.mark.theorem("jafarpour2022:eq14")
@settings(max_examples=scaled(10))
@given(SEEDS, st.sampled_from(["metzler", "ibp"]))
def test_eq14_certificate_sound(seed, method):
    """jafarpour2022 eq. (14) (and its IBP analogue, wei2022 §2): where min_j m̲_j > 0 on the box of
    [x - eps, x + eps], no sampled input of the ball (uniform points and vertices) changes the
    prediction."""
    rng = np.random.default_rng(seed)
    n, d, p = int(rng.integers(2, 8)), int(rng.integers(1, 4)), int(rng.integers(2, 5))
    W = mu_model(rng, n, rng.uniform(-1.0, 0.3)) if method == "metzler" else wei_W(rng, n, rng.uniform(0.1, 1.0))
    U, b, G, b_y = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((p, n)), rng.standard_normal(p)
    for _ in range(3):
        x = rng.standard_normal(d)
        y = G @ fixed_point_enclosure(W, U @ x + b)[0] + b_y
        c = int(np.argmax(y))
        eps = 10 ** rng.uniform(-3, -0.5)
        cert = certify_linf_box(W, U, b, G, b_y, x, c, eps, method=method)
        if not cert.certified:
            continue
        for xp in sample_box_points(rng, Box.ball(x, eps), 10):
            z, e = fixed_point_enclosure(W, U @ xp + b)
            yy = G @ z + b_y
            assert int(np.argmax(yy)) == c
