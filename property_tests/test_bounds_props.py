"""Property tests for deqtheory.bounds: every Lipschitz / perturbation bound is checked on the model
itself — tight fixed-point solves (residual <= 1e-10), random input pairs, Jacobian norms
J = (I - DW)^{-1} D U at random points, and adversarial pairs found by projected gradient ascent
on ||f(x') - f(x)|| — and must never be exceeded. Certificates are checked for soundness by
sampling/attacking inputs in the certified ball."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from deqtheory.bounds import (certify_l2_lipschitz, certify_linf_lipschitz, el_ghaoui_linf_lipschitz,
                              fixed_point_error_bound, havens_gmondeq_lipschitz, jafarpour_linf_lipschitz,
                              l2_certified_radius, pabbaraju_lipschitz, pabbaraju_perturbation, residual_bound,
                              solve_relu_fixed_point)
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached
from deqtheory.testing.oracles import unique_fixed_point
from deqtheory.intervals import Box, certify_linf_box, interval_bounds, margin_lower_bounds, output_box

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
REL = 1e-9      # relative slack for float evaluation of empirical quantities (solves at residual <= 1e-12)


# ---------------------------------------------------------------- model builders (by construction)

def mondeq(rng, n, m):
    """MonDEQ (havens2023 eq. 5): W = (1-m)I - A^T A + B - B^T."""
    A = rng.standard_normal((n, n)) * rng.uniform(0.1, 1.0) / np.sqrt(n)
    B = rng.standard_normal((n, n)) * rng.uniform(0.0, 1.5) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def gmondeq(rng, n, m):
    """G-MonDEQ (havens2023 eq. 6): W = I - Phi(A^T A + B^T - B + mI)."""
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    phi = np.exp(rng.uniform(-1.5, 0.5, n))
    return np.eye(n) - phi[:, None] * (A.T @ A + B.T - B + m * np.eye(n)), phi


def mu_model(rng, n, gam):
    """mu_inf,[eta]^-1(W) <= gam by construction: W = [eta] T [eta]^-1 - diag(|T| 1) + gam I
    (jafarpour2022 eq. 12 with the weights in the convention of its §3 — see docs/bounds.md)."""
    T = rng.standard_normal((n, n)) * rng.uniform(0.1, 1.0)
    eta = np.exp(rng.uniform(-1, 1, n))
    return eta[:, None] * T / eta[None, :] - np.diag(np.abs(T).sum(1)) + gam * np.eye(n)


class Net:
    def __init__(self, W, U, b, G, b_y, lam=None):
        self.W, self.U, self.b, self.G, self.b_y, self.lam = W, U, b, G, b_y, lam

    def z(self, x):
        s = solve_relu_fixed_point(self.W, self.U @ x + self.b, lam=self.lam)
        assert s.residual_norm <= 1e-10 * (1 + np.abs(s.z).max())
        return s.z

    def f(self, x, out=True):
        z = self.z(x)
        return self.G @ z + self.b_y if out else z

    def jac(self, x, out=True):
        z = self.z(x)
        D = ((self.W @ z + self.U @ x + self.b) > 0).astype(float)
        J = np.linalg.solve(np.eye(len(z)) - D[:, None] * self.W, D[:, None] * self.U)
        return self.G @ J if out else J


def _opnorm(J, p):
    return np.linalg.norm(J, 2) if p == 2 else np.abs(J).sum(1).max()


def empirical_lipschitz(net, rng, d, p, out=True, n_pairs=12, n_jac=12, n_attack=3, steps=12):
    """Largest observed ||f(x)-f(x')||_p / ||x-x'||_p (pairs + attacks) and ||J||_p (random points)."""
    best = 0.0
    for _ in range(n_jac):
        best = max(best, _opnorm(net.jac(rng.standard_normal(d) * 2, out), p))
    for _ in range(n_pairs):
        x = rng.standard_normal(d) * 2
        xp = x + rng.standard_normal(d) * 10 ** rng.uniform(-3, 0)
        best = max(best, np.linalg.norm(net.f(x, out) - net.f(xp, out), p) / np.linalg.norm(x - xp, p))
    for _ in range(n_attack):  # projected gradient ascent on ||f(x') - f(x)||_p over a small ball
        x = rng.standard_normal(d) * 2
        rad = 10 ** rng.uniform(-2, 0)
        fx = net.f(x, out)
        xp = x + rad * rng.standard_normal(d) / np.sqrt(d)
        for _ in range(steps):
            df = net.f(xp, out) - fx
            J = net.jac(xp, out)
            if p == 2:
                g = J.T @ df / max(np.linalg.norm(df), 1e-300)
                xp = xp + 0.5 * rad * g / max(np.linalg.norm(g), 1e-300)
                dx = xp - x
                if np.linalg.norm(dx) > rad:
                    xp = x + dx * rad / np.linalg.norm(dx)
            else:
                k = int(np.argmax(np.abs(df)))
                g = np.sign(df[k]) * J[k]
                xp = np.clip(xp + 0.5 * rad * np.sign(g), x - rad, x + rad)
            if np.linalg.norm(xp - x, p) > 0:
                best = max(best, np.linalg.norm(net.f(xp, out) - fx, p) / np.linalg.norm(xp - x, p))
    return best


# ---------------------------------------------------------------- Lipschitz bounds

@pytest.mark.theorem("pabbaraju2021:thm1")
@settings(max_examples=scaled(8))
@given(SEEDS)
def test_pabbaraju_thm1_never_exceeded(seed):
    """pabbaraju2021 Thm 1: ||z*(x) - z*(x')||_2 <= ||U||_2/m ||x - x'||_2, and ||G||_2||U||_2/m for y;
    checked against pairs, Jacobian norms and gradient-ascent attacks."""
    rng = np.random.default_rng(seed)
    n, d, p = int(rng.integers(2, 9)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    W = mondeq(rng, n, rng.uniform(0.05, 2.0))
    net = Net(W, rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((p, n)), rng.standard_normal(p))
    Lz = pabbaraju_lipschitz(W, net.U)
    Ly = pabbaraju_lipschitz(W, net.U, net.G)
    assert Lz.certified and Ly.certified
    assert empirical_lipschitz(net, rng, d, 2, out=False) <= Lz.value * (1 + REL)
    assert empirical_lipschitz(net, rng, d, 2, out=True) <= Ly.value * (1 + REL)


@pytest.mark.theorem("havens2023:thm3.3")
@settings(max_examples=scaled(8))
@given(SEEDS)
def test_havens_gmondeq_never_exceeded(seed):
    """havens2023 Thm 3.3: the G-MonDEQ W = I - Phi(A^T A + B^T - B + mI) is ||Phi^-1 U||_2/m-Lipschitz
    from x to z (checked on pairs, Jacobians, attacks); the bound is <= ||Phi^-1 U||_2/m."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 8)), int(rng.integers(1, 4))
    m = rng.uniform(0.1, 1.0)
    W, phi = gmondeq(rng, n, m)
    U = rng.standard_normal((n, d))
    net = Net(W, U, rng.standard_normal(n), np.eye(n), np.zeros(n), lam=1 / phi)
    L = havens_gmondeq_lipschitz(W, U, phi)
    assert L.certified
    assert L.value <= np.linalg.norm(U / phi[:, None], 2) / m * (1 + 1e-7)
    assert empirical_lipschitz(net, rng, d, 2, out=False) <= L.value * (1 + REL)


@pytest.mark.theorem("jafarpour2022:thm6.1")
@settings(max_examples=scaled(8))
@given(SEEDS)
def test_jafarpour_thm61_never_exceeded(seed):
    """jafarpour2022 Thm 6.1(1): Lip_inf(f_N) <= (eta_max/eta_min)||U||_inf||C||_inf/(1 - mu^+)
    (printed) and the weighted form ||C[eta]||_inf ||[eta]^-1 U||_inf/(1 - mu^+); both checked on
    pairs, l_inf Jacobian norms and sign-gradient attacks. Thm 6.1(2): f(x') in f(x) +- xi."""
    rng = np.random.default_rng(seed)
    n, d, p = int(rng.integers(2, 9)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    W = mu_model(rng, n, rng.uniform(-1.0, 0.9))
    net = Net(W, rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((p, n)), rng.standard_normal(p))
    Lz = jafarpour_linf_lipschitz(W, net.U)
    Ly = jafarpour_linf_lipschitz(W, net.U, net.G)
    assert Lz.certified and Ly.certified
    assert Ly.details["weighted"] <= Ly.details["printed"] * (1 + 1e-12)
    emp_z = empirical_lipschitz(net, rng, d, np.inf, out=False)
    emp_y = empirical_lipschitz(net, rng, d, np.inf, out=True)
    assert emp_z <= Lz.value * (1 + REL)
    assert emp_y <= Ly.value * (1 + REL) and emp_y <= Ly.details["printed"] * (1 + REL)
    x = rng.standard_normal(d)
    xp = x + rng.uniform(-0.3, 0.3, d)
    xi = Ly.details["printed"] * np.abs(x - xp).max()
    assert np.all(np.abs(net.f(xp) - net.f(x)) <= xi * (1 + REL) + 1e-12)


@pytest.mark.theorem("jafarpour2022:remark6.2")
@settings(max_examples=scaled(20))
@given(SEEDS)
def test_remark62_mu_below_norm_and_sharper_than_el_ghaoui(seed):
    """jafarpour2022 Remark 6.2.1: mu_inf(W) <= ||W||_inf for every W, hence with eta = 1 Thm 6.1(1) is
    never larger than the El Ghaoui bound ||U||_inf||C||_inf/(1 - ||W||_inf); both are valid bounds."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 9)), int(rng.integers(1, 4))
    W = rng.standard_normal((n, n))
    mu = np.max(np.diag(W) + np.abs(W - np.diag(np.diag(W))).sum(1))
    assert mu <= np.abs(W).sum(1).max() * (1 + 1e-14)   # equality when diag(W) >= 0 (float sums)
    W = W / np.abs(W).sum(1).max() * rng.uniform(0.05, 0.95)          # ||W||_inf < 1
    U, G = rng.standard_normal((n, d)), rng.standard_normal((2, n))
    eg = el_ghaoui_linf_lipschitz(W, U, G)
    j1 = jafarpour_linf_lipschitz(W, U, G, np.ones(n), form="printed")
    assert eg.certified and j1.certified
    assert j1.value <= eg.value * (1 + 1e-12)
    net = Net(W, U, rng.standard_normal(n), G, np.zeros(2))
    emp = empirical_lipschitz(net, rng, d, np.inf, n_pairs=4, n_jac=6, n_attack=1, steps=6)
    assert emp <= j1.value * (1 + REL)


@pytest.mark.theorem("pabbaraju2021:thm2")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_pabbaraju_thm2_never_exceeded(seed):
    """pabbaraju2021 Thm 2: ||z(W,U,b) - z(W~,U~,b~)||_2 <= ||W-W~|| ||Ux+b||/(m m~) + (||(U-U~)x|| + ||b-b~||)/m~
    for monotone W, W~ (random and ascent-chosen perturbation sizes)."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 5))
    W = mondeq(rng, n, rng.uniform(0.1, 1.5))
    U, b, x = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    for scale in (1e-4, 1e-2, 1e-1):
        dW = rng.standard_normal((n, n)) * scale * rng.integers(0, 2)
        W2 = W + dW
        U2 = U + rng.standard_normal((n, d)) * scale * rng.integers(0, 2)
        b2 = b + rng.standard_normal(n) * scale * rng.integers(0, 2)
        r = pabbaraju_perturbation(W, U, b, W2, U2, b2, x)
        if not r.certified:   # W2 left the monotone cone: nothing claimed
            assert np.linalg.eigvalsh(np.eye(n) - 0.5 * (W2 + W2.T))[0] < 1e-6
            continue
        z1 = Net(W, U, b, np.eye(n), np.zeros(n)).z(x)
        z2 = Net(W2, U2, b2, np.eye(n), np.zeros(n)).z(x)
        assert np.linalg.norm(z1 - z2) <= r.value * (1 + REL) + 1e-12


# ---------------------------------------------------------------- fixed-point error bound

@settings(max_examples=scaled(25))
@given(SEEDS, st.sampled_from(["2", "inf"]), st.floats(min_value=-12, max_value=0, allow_nan=False))
def test_fixed_point_error_bound_sound(seed, norm, logscale):
    """For monotone W (l2) or mu_inf(W) < 1 (l_inf), every approximate point z~ satisfies
    |z~ - z*| <= componentwise bound and ||z~ - z*|| <= value, z* from the exact activation-pattern
    solve (n <= 6). Also z~ = iterates of the forward iteration (not just random perturbations)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    W = mondeq(rng, n, rng.uniform(0.05, 1.0)) if norm == "2" else mu_model(rng, n, rng.uniform(-1, 0.9))
    v = rng.standard_normal(n) * 3
    zs = unique_fixed_point(W, v)
    cands = [zs + 10 ** logscale * rng.standard_normal(n), np.maximum(zs + 10 ** logscale * rng.standard_normal(n), 0)]
    z = np.zeros(n)
    alpha = 1 / (1 - min(np.min(np.diag(W)), 0)) if norm == "inf" else 0.5 * np.linalg.eigvalsh(np.eye(n) - 0.5 * (W + W.T))[0] / np.linalg.norm(np.eye(n) - W, 2) ** 2
    for _ in range(5):
        z = (1 - alpha) * z + alpha * np.maximum(W @ z + v, 0) if norm == "inf" else np.maximum(z - alpha * ((np.eye(n) - W) @ z - v), 0)
        cands.append(z.copy())
    for zt in cands:
        r, delta = residual_bound(W, v, zt)
        e = fixed_point_error_bound(W, r, norm, residual_err=delta)
        assert e.certified
        err = np.abs(zt - zs)
        assert np.all(err <= e.componentwise + 1e-13)
        assert (np.linalg.norm(err) if norm == "2" else err.max()) <= e.value + 1e-13


# ---------------------------------------------------------------- certificates

def _predict(net, x):
    return int(np.argmax(net.f(x)))


@pytest.mark.theorem("pabbaraju2021:sec5.3")
@settings(max_examples=scaled(8))
@given(SEEDS, st.sampled_from(["folded", "sqrt2", "paper"]))
def test_l2_certificate_sound(seed, form):
    """pabbaraju2021 §5.3 l2 margin certificate (all forms: per-pair folded, sqrt(2) L eps, 2 L eps):
    where certified, no input in the l2 ball (random points, boundary points, margin-gradient attack)
    changes the prediction."""
    rng = np.random.default_rng(seed)
    n, d, p = int(rng.integers(2, 8)), int(rng.integers(1, 5)), int(rng.integers(2, 5))
    W = mondeq(rng, n, rng.uniform(0.5, 3.0))
    net = Net(W, rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((p, n)), rng.standard_normal(p))
    for _ in range(3):
        x = rng.standard_normal(d)
        c = _predict(net, x)
        y = net.f(x)
        clean = y[c] - np.max(np.delete(y, c))
        Ly = pabbaraju_lipschitz(W, net.U, net.G).value
        eps = clean / Ly * rng.uniform(0.05, 1.2)          # around the certifiable radius
        cert = certify_l2_lipschitz(W, net.U, net.b, net.G, net.b_y, x, c, eps, form=form)
        if not cert.certified:
            continue
        for _ in range(10):
            u = rng.standard_normal(d)
            u /= np.linalg.norm(u)
            assert _predict(net, x + eps * rng.uniform(0, 1) ** (1 / d) * u) == c
            assert _predict(net, x + eps * u) == c
        xp = x.copy()
        for _ in range(8):   # attack: descend the worst pairwise margin inside the ball
            yy = net.f(xp)
            j = int(np.argmax(np.where(np.arange(p) == c, -np.inf, yy)))
            g = (net.G[c] - net.G[j]) @ net.jac(xp, out=False)
            xp = xp - 0.3 * eps * g / max(np.linalg.norm(g), 1e-300)
            if np.linalg.norm(xp - x) > eps:
                xp = x + (xp - x) * eps / np.linalg.norm(xp - x)
            assert _predict(net, xp) == c


@pytest.mark.theorem("jafarpour2022:eq13")
@settings(max_examples=scaled(8))
@given(SEEDS, st.sampled_from(["printed", "folded"]))
def test_linf_lipschitz_certificate_sound(seed, form):
    """jafarpour2022 eq. (13) (and the folded per-pair variant): where certified, no input of the
    l_inf ball (random points, vertices, sign-gradient attack) changes the prediction."""
    rng = np.random.default_rng(seed)
    n, d, p = int(rng.integers(2, 8)), int(rng.integers(1, 5)), int(rng.integers(2, 5))
    W = mu_model(rng, n, rng.uniform(-1.0, 0.5))
    net = Net(W, rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((p, n)), rng.standard_normal(p))
    L = jafarpour_linf_lipschitz(W, net.U, net.G).details["printed"]
    for _ in range(3):
        x = rng.standard_normal(d)
        c = _predict(net, x)
        y = net.f(x)
        clean = y[c] - np.max(np.delete(y, c))
        eps = clean / (2 * L) * rng.uniform(0.05, 3.0)
        cert = certify_linf_lipschitz(W, net.U, net.b, net.G, net.b_y, x, c, eps, form=form)
        if not cert.certified:
            continue
        for _ in range(10):
            assert _predict(net, x + rng.uniform(-eps, eps, d)) == c
            assert _predict(net, x + eps * rng.choice([-1.0, 1.0], d)) == c
        xp = x.copy()
        for _ in range(8):
            yy = net.f(xp)
            j = int(np.argmax(np.where(np.arange(p) == c, -np.inf, yy)))
            g = (net.G[c] - net.G[j]) @ net.jac(xp, out=False)
            xp = np.clip(xp - 0.3 * eps * np.sign(g), x - eps, x + eps)
            assert _predict(net, xp) == c


# ---------------------------------------------------------------- tight witnesses for the error bound and the radius

def check_error_bound_tight(seed, norm, bound=fixed_point_error_bound):
    """The fixed-point error bound on its equality family: W = (1 − m)I (sym(I − W) = mI, μ∞(W) = 1 − m),
    v > 0 so every unit is active near z*, z̃ = z* + e: the residual is r = m·e exactly, so
    ‖z̃ − z*‖ = ‖r‖/m, which is what pabbaraju2021 Thm 1 with U = I (ℓ2: ‖r‖ + ‖Wr‖/m = ‖r‖/m) and
    jafarpour2022 Thm 5.1 (ℓ∞: ‖r‖∞/(1 − μ)) give. Returns actual/bound (≈ 1)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    m = rng.uniform(0.05, 0.95)
    W = (1 - m) * np.eye(n)
    v = np.abs(rng.standard_normal(n)) + 1.0
    zs = v / m
    e = rng.standard_normal(n) * 10 ** rng.uniform(-6, -2)
    zt = zs + e
    r, delta = residual_bound(W, v, zt)
    eb = bound(W, r, norm, residual_err=delta)
    assert eb.certified
    err = np.abs(zt - zs)
    assert np.all(err <= np.asarray(eb.componentwise) * (1 + 1e-9))
    actual = np.linalg.norm(err) if norm == "2" else err.max()
    assert actual <= eb.value * (1 + 1e-9), (actual, eb.value)
    return actual / eb.value


@pytest.mark.theorem("pabbaraju2021:thm1", "jafarpour2022:thm5.1")
@settings(max_examples=scaled(15))
@given(SEEDS, st.sampled_from(["2", "inf"]))
def test_fixed_point_error_bound_attained(seed, norm):
    """fixed_point_error_bound is attained (ratio ≥ 0.99) on the scalar monotone family, in both norms; in ℓ∞ it is
    jafarpour2022 Thm 5.1's contraction factor 1 − α(1 − μ⁺) at α = 1 that is attained."""
    ratio = check_error_bound_tight(seed, norm)
    assert ratio >= 0.99
    if norm == "inf":
        reached("jafarpour2022:thm5.1", ratio)


def check_l2_radius_tight(seed, radius=l2_certified_radius):
    """pabbaraju2021 §5.3 (and its √2 form): a DEQ with W = (1 − m)I, U = u·Q (Q orthogonal), G = [g; −g] is
    affine near x (all units active) with y₀ − y₁ = 2g·U(x)/m, and the proved L = ‖G‖‖U‖/m equals its exact
    Lipschitz constant √2·u‖g‖/m. The certified radius margin/(√2L) then equals the exact distance to the
    decision boundary: moving by 0.999·radius along the worst direction keeps the class, by 1.001·radius
    flips it. Returns the exact radius / certified radius (≈ 1)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    m, u = rng.uniform(0.1, 1.0), rng.uniform(0.2, 2.0)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    g = rng.standard_normal(n)
    W, U, G = (1 - m) * np.eye(n), u * Q, np.vstack([g, -g])
    x = rng.standard_normal(n) * 0.1
    b = np.full(n, 10.0 * u)                     # Ux + b > 0 on the whole segment below: all active
    L = pabbaraju_lipschitz(W, U, G)
    assert L.certified and L.value == pytest.approx(math.sqrt(2) * u * np.linalg.norm(g) / m, rel=1e-9)

    def logits(xx):
        return G @ ((U @ xx + b) / m)

    y = logits(x)
    c = int(np.argmax(y))
    margin = float(y[c] - y[1 - c])
    r = radius(margin, L.value)
    worst = -(G[c] - G[1 - c]) @ U
    worst /= np.linalg.norm(worst)
    true_r = margin / (np.linalg.norm((G[c] - G[1 - c]) @ U) / m)
    assert r <= true_r * (1 + 1e-12), (r, true_r)
    inside = logits(x + 0.999 * r * worst)
    assert inside[c] > inside[1 - c]
    return true_r / r


@pytest.mark.theorem("pabbaraju2021:sec5.3")
@settings(max_examples=scaled(15))
@given(SEEDS)
def test_l2_certified_radius_is_exact_on_tight_family(seed):
    """The √2 certified radius equals the exact robust radius (ratio ≥ 0.999) on a DEQ whose proved L is exact;
    the printed form margin/(2L) is sound and smaller by 1/√2."""
    reached("pabbaraju2021:sec5.3", 1.0 / check_l2_radius_tight(seed), slack=1e-12)
    assert check_l2_radius_tight(seed, radius=lambda mg, L: l2_certified_radius(mg, L, "paper")) == \
        pytest.approx(math.sqrt(2), rel=1e-6)


@pytest.mark.theorem("pabbaraju2021:sec5.3", "pabbaraju2021:thm1")
def test_error_bound_and_radius_catch_mutants():
    """Mutation demonstration: the error bound × 0.5 and the certified radius × 2 are rejected."""
    from deqtheory.testing.mutants import assert_caught

    def half_bound(*a, **k):
        eb = fixed_point_error_bound(*a, **k)
        return dataclasses.replace(eb, value=eb.value * 0.5, componentwise=np.asarray(eb.componentwise) * 0.5)

    for seed in (0, 1, 2):
        assert_caught(check_error_bound_tight, seed, "2", bound=half_bound)
        assert_caught(check_l2_radius_tight, seed, radius=lambda mg, L: 2 * l2_certified_radius(mg, L))


# ---------------------------------------------------------------- tight witnesses shared by the ℓ∞ bounds and the boxes

def stochastic_family(seed):
    """A DEQ on which every ℓ∞ bound and every interval box of the catalogue is exact: W = wP with P doubly
    stochastic (W ≥ 0, every row and column sum w < 1, so μ∞(W) = ‖W‖∞ = ρ(|W|) = w and ‖Ŵ‖₂ ≤ w), U = 𝟙aᵀ,
    b = β𝟙, G = [g; −g] with g ≥ 0. Every unit has the pre-activation aᵀx + β, so where it is positive
    z*(x) = (aᵀx + β)𝟙/(1 − w) and the logit margin is 2(g·𝟙)(aᵀx + β)/(1 − w); z* is monotone (W ≥ 0), so the
    exact box over [x̲, x̄] is [z*(x_lo), z*(x_hi)] with x_lo/hi = x ∓ ε·sign(a)."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    w = rng.uniform(0.1, 0.9)
    P = sum(np.eye(n)[rng.permutation(n)] * c for c in rng.dirichlet(np.ones(3)))
    a = rng.standard_normal(d)
    a[np.abs(a) < 0.1] = 0.1
    g = np.abs(rng.standard_normal(n)) + 0.05
    x = rng.standard_normal(d)
    beta = float(np.abs(a) @ np.abs(x)) + rng.uniform(0.5, 2.0)      # aᵀx + β ≥ 0.5: all active at x
    return dict(W=w * P, U=np.outer(np.ones(n), a), b=np.full(n, beta), G=np.vstack([g, -g]), b_y=np.zeros(2),
                w=w, a=a, beta=beta, g=g, x=x, n=n, d=d)


def _z_active(f, x):
    s = float(f["a"] @ x + f["beta"])
    assert s >= -1e-12 * f["beta"], s
    return np.full(f["n"], max(s, 0.0) / (1 - f["w"]))


def _width(box):
    return float(np.sum(np.asarray(box.upper) - np.asarray(box.lower)))


def check_stochastic_family(seed):
    """Ratios (smaller side / larger side, each ≤ 1) that the family of :func:`stochastic_family` reaches for
    the bounds of jafarpour2022 Thm 6.1, Remark 6.2 (El Ghaoui), eq. (13), eq. (14), eq. (1) / Thm 6.3 (the
    Metzler box), eq. (10) (margin lower bounds), eq. (11) (inclusion loss), Remark 6.4.4 (Metzler ⊆ IBP),
    wei2022 Prop 3.2 (IBP box) and li2022 Prop 3.1 (adjoint-DEQ box). Each also asserts its bound holds."""
    f = stochastic_family(seed)
    W, U, b, G, b_y, x, a, n = f["W"], f["U"], f["b"], f["G"], f["b_y"], f["x"], f["a"], f["n"]
    s = np.sign(a)
    out = {}
    # Thm 6.1 / Remark 6.2: Lip∞ = ‖G‖∞‖U‖∞/(1 − w) exactly, attained by the pair x, x − t·sign(a)
    L = jafarpour_linf_lipschitz(W, U, G, np.ones(n), form="printed")
    eg = el_ghaoui_linf_lipschitz(W, U, G)
    assert L.certified and eg.certified
    t = 0.25 * (a @ x + f["beta"]) / np.abs(a).sum()
    dq = np.max(np.abs(G @ (_z_active(f, x) - _z_active(f, x - t * s)))) / t
    out["jafarpour2022:thm6.1"] = dq / L.value
    out["jafarpour2022:remark6.2"] = L.value / eg.value       # μ∞(W) = ‖W‖∞ for W ≥ 0: the two coincide
    assert dq <= eg.value * (1 + 1e-9)
    # eq. (13) / (14): the exact ℓ∞ robust radius is r = margin/(2L) (the margin reaches 0 at x − r·sign(a))
    margin = float(G[0] @ _z_active(f, x) - G[1] @ _z_active(f, x))
    r = margin / (2 * dq)
    y_edge = G @ _z_active(f, x - r * s)
    assert abs(y_edge[0] - y_edge[1]) <= 1e-9 * margin       # not robust beyond r (a tie at distance r)
    for tid, cert in (("jafarpour2022:eq13", lambda e: certify_linf_lipschitz(W, U, b, G, b_y, x, 0, e,
                                                                              eta=np.ones(n))),
                      ("jafarpour2022:eq14", lambda e: certify_linf_box(W, U, b, G, b_y, x, 0, e))):
        assert not cert(r * 1.0001).certified
        best = max((fr for fr in (0.9, 0.99, 0.999, 0.9999) if cert(r * fr).certified), default=0.0)
        out[tid] = best
    # boxes over [x − ε, x + ε] (all units active on it): exact box [z*(x_lo), z*(x_hi)]
    eps = 0.4 * (a @ x + f["beta"]) / np.abs(a).sum()
    xb = Box.ball(x, eps)
    z_lo, z_hi = _z_active(f, x - eps * s), _z_active(f, x + eps * s)
    exact = float(np.sum(z_hi - z_lo))
    boxes = {}
    for method in ("metzler", "ibp"):
        ib = interval_bounds(W, U, b, xb, method)
        assert ib.certified
        assert np.all(ib.box.lower <= z_lo) and np.all(z_hi <= ib.box.upper)
        boxes[method] = ib.box
    out["wei2022:prop3.2"] = out["li2022:prop3.1"] = exact / _width(boxes["ibp"])
    out["jafarpour2022:remark6.4.4"] = _width(boxes["metzler"]) / _width(boxes["ibp"])
    yb = output_box(G, b_y, boxes["metzler"])
    y_lo, y_hi = np.minimum(G @ z_lo, G @ z_hi), np.maximum(G @ z_lo, G @ z_hi)
    assert np.all(yb.lower <= y_lo) and np.all(y_hi <= yb.upper)
    out["jafarpour2022:eq1"] = out["jafarpour2022:thm6.3"] = float(np.sum(y_hi - y_lo)) / _width(yb)
    # eq. (10): m̲ ≤ m(x′); the exact minimum over the box is at x_lo; ratio of the drops from m(x)
    mlb = margin_lower_bounds(G, b_y, boxes["metzler"], 0)[1]
    m_lo = float(G[0] @ z_lo - G[1] @ z_lo)
    assert mlb <= m_lo
    out["jafarpour2022:eq10"] = (margin - m_lo) / (margin - mlb)
    # eq. (11): ℒ(f(x′), 0) ≤ ℒ(−m̲, 0) (cross-entropy); equality at x_lo up to the rounding of m̲
    def ce(y):                                   # −log softmax(y)₀ = log(1 + Σ_{j≠0} e^{y_j − y_0}), stably
        return float(np.log1p(np.sum(np.exp(y[1:] - y[0]))))

    lb = ce(-np.array([0.0, mlb]))
    assert ce(G @ z_lo) <= lb * (1 + 1e-12)
    out["jafarpour2022:eq11"] = ce(G @ z_lo) / lb
    return out


STOCHASTIC_FAMILY_IDS = ("jafarpour2022:thm6.1", "jafarpour2022:remark6.2", "jafarpour2022:eq13", "jafarpour2022:eq14",
                         "wei2022:prop3.2", "li2022:prop3.1", "jafarpour2022:remark6.4.4", "jafarpour2022:eq1",
                         "jafarpour2022:thm6.3", "jafarpour2022:eq10", "jafarpour2022:eq11")


@pytest.mark.theorem("jafarpour2022:thm6.1", "jafarpour2022:remark6.2", "jafarpour2022:eq13", "jafarpour2022:eq14",
                     "wei2022:prop3.2", "li2022:prop3.1", "jafarpour2022:remark6.4.4", "jafarpour2022:eq1",
                     "jafarpour2022:thm6.3", "jafarpour2022:eq10", "jafarpour2022:eq11")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_linf_bounds_and_boxes_attained_on_stochastic_family(seed):
    """Tight witness for the ℓ∞ Lipschitz bounds, the ℓ∞ certificates and the interval boxes: on the family of
    :func:`stochastic_family` each bound is attained up to rounding (ratio ≥ 0.999; the certificates certify
    0.999 of the exact robust radius and never 1.0001 of it), so a constant halved or a box shrunk fails."""
    ratios = check_stochastic_family(seed)
    assert set(ratios) == set(STOCHASTIC_FAMILY_IDS)
    for tid, ratio in ratios.items():
        reached(tid, ratio)


def check_gmondeq_attained(seed, bound=havens_gmondeq_lipschitz):
    """havens2023 Thm 3.3 on its equality family: A = B = 0, so W = I − mΦ (diagonal) and, all units active,
    z*(x) = Φ⁻¹(Ux + b)/m: the Lipschitz constant x → z is ‖Φ⁻¹U‖₂/m exactly, attained along the top right
    singular vector of Φ⁻¹U. Returns actual/bound."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    m = rng.uniform(0.1, 1.0)
    phi = rng.uniform(0.3, 3.0, n)
    W, U = np.eye(n) - m * np.diag(phi), rng.standard_normal((n, d))
    x = rng.standard_normal(d)
    b = np.abs(U) @ np.abs(x) + 1.0 + np.abs(U).sum(1)                   # Ux′ + b > 0 for ‖x′ − x‖∞ ≤ 1
    v = np.linalg.svd(U / phi[:, None])[2][0]
    z1, z2 = (solve_relu_fixed_point(W, U @ xx + b).z for xx in (x, x + 0.5 * v))
    actual = np.linalg.norm(z1 - z2) / 0.5
    L = bound(W, U, phi)
    assert L.certified and actual <= L.value * (1 + 1e-9), (actual, L.value)
    return actual / L.value


@pytest.mark.theorem("havens2023:thm3.3")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_havens_gmondeq_bound_attained(seed):
    """Tight witness for havens2023 Thm 3.3 (ratio ≥ 0.999 on the diagonal G-MonDEQ family)."""
    reached("havens2023:thm3.3", check_gmondeq_attained(seed))
