"""Unit tests for deqtheory.bounds: closed forms against hand computations, rounding-aware residual
bounds against exact rational arithmetic, the fixed-point error bound against an
activation-pattern oracle, and bad input."""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from deqtheory import errors
from deqtheory.bounds import (adjoint_contraction, certify_l2_lipschitz, certify_linf_lipschitz,
                              el_ghaoui_linf_lipschitz, fixed_point_error_bound, havens_gmondeq_lipschitz,
                              jafarpour_linf_lipschitz, l2_certified_radius, monotone_margin, norm2_upper,
                              norm_inf_upper, pabbaraju_lipschitz, pabbaraju_perturbation, residual_bound,
                              solve_relu_fixed_point)
from deqtheory.certificates import Status
from deqtheory.testing.oracles import unique_fixed_point


def mondeq_W(rng, n, m):
    A, B = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal((n, n)) / np.sqrt(n)
    return (1 - m) * np.eye(n) - A.T @ A + B - B.T


def lam_min_sym(A):
    return float(np.linalg.eigvalsh(0.5 * (A + A.T))[0])


# ---------------------------------------------------------------- constants

def test_norm_upper_bounds(rng):
    A = rng.standard_normal((5, 3))
    s = np.linalg.norm(A, 2)
    assert s <= norm2_upper(A) <= s * (1 + 1e-8)
    i = np.abs(A).sum(1).max()
    assert i <= norm_inf_upper(A) <= i * (1 + 1e-8)


def test_monotone_margin_matches_lambda_min(rng):
    W = mondeq_W(rng, 6, 0.3)
    c = monotone_margin(W)
    lm = lam_min_sym(np.eye(6) - W)
    assert c.certified and lm - 1e-9 <= c.margin <= lm and c.margin >= 0.3 - 1e-12
    phi = rng.uniform(0.5, 2.0, 6)
    cp = monotone_margin(W, phi)
    lmp = lam_min_sym((np.eye(6) - W) / phi[:, None])
    assert lmp - 1e-9 <= cp.margin <= lmp
    assert cp.verify(W=W).certified
    bad = monotone_margin(2 * np.eye(3))
    assert bad.status is Status.REFUTED


# ---------------------------------------------------------------- Lipschitz closed forms

def test_pabbaraju_thm1_closed_form(rng):
    n, d, p = 6, 4, 3
    W, U, G = mondeq_W(rng, n, 0.5), rng.standard_normal((n, d)), rng.standard_normal((p, n))
    lm = lam_min_sym(np.eye(n) - W)
    expect = np.linalg.norm(U, 2) / lm
    r = pabbaraju_lipschitz(W, U)
    assert r.certified and r.theorem == "pabbaraju2021:thm1" and r.norm == "2"
    assert expect <= r.value <= expect * (1 + 1e-8)
    ry = pabbaraju_lipschitz(W, U, G)
    assert np.linalg.norm(G, 2) * expect <= ry.value <= np.linalg.norm(G, 2) * expect * (1 + 1e-8)
    nm = pabbaraju_lipschitz(1.5 * np.eye(n), U)                  # I - W = -0.5 I: no bound
    assert not nm.certified and nm.value == math.inf


def test_havens_thm33_reduces_to_pabbaraju(rng):
    n, d = 5, 3
    W, U = mondeq_W(rng, n, 0.4), rng.standard_normal((n, d))
    a = havens_gmondeq_lipschitz(W, U, np.ones(n)).value
    b = pabbaraju_lipschitz(W, U).value
    assert abs(a - b) <= 1e-8 * b
    # G-MonDEQ eq. 6: W = I - Phi(A^T A + B^T - B + mI); bound <= ||Phi^-1 U|| / m
    m = 0.3
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    phi = rng.uniform(0.2, 1.0, n)
    Wg = np.eye(n) - phi[:, None] * (A.T @ A + B.T - B + m * np.eye(n))
    r = havens_gmondeq_lipschitz(Wg, U, phi)
    assert r.certified and r.theorem == "havens2023:thm3.3"
    assert r.value <= np.linalg.norm(U / phi[:, None], 2) / m * (1 + 1e-8)


def test_pabbaraju_thm2_zero_perturbation_and_formula(rng):
    n, d = 5, 3
    W, U, b, x = mondeq_W(rng, n, 0.5), rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    assert pabbaraju_perturbation(W, U, b, W, U, b, x).value <= 1e-300
    W2 = W + 0.01 * rng.standard_normal((n, n))
    r = pabbaraju_perturbation(W, U, b, W2, U, b, x)
    m1, m2 = lam_min_sym(np.eye(n) - W), lam_min_sym(np.eye(n) - W2)
    f1 = np.linalg.norm(W - W2, 2) * np.linalg.norm(U @ x + b) / (m1 * m2)
    assert f1 * (1 - 1e-9) <= r.details["ordering_1"] <= f1 * (1 + 1e-7)
    assert r.value == min(r.details["ordering_1"], r.details["ordering_2"])


def test_jafarpour_thm61_forms(rng):
    n, d, p = 6, 3, 2
    W = 0.3 * rng.standard_normal((n, n)) / np.sqrt(n) - 0.8 * np.eye(n)
    U, G = rng.standard_normal((n, d)), rng.standard_normal((p, n))
    r = jafarpour_linf_lipschitz(W, U, G)
    assert r.certified and r.details["weighted"] <= r.details["printed"] * (1 + 1e-12)
    assert r.value == min(r.details["weighted"], r.details["printed"])
    ones = jafarpour_linf_lipschitz(W, U, G, np.ones(n), form="printed")
    mu = max(np.max(np.diag(W) + np.abs(W - np.diag(np.diag(W))).sum(1)), 0.0)
    expect = np.abs(U).sum(1).max() * np.abs(G).sum(1).max() / (1 - mu)
    assert expect <= ones.value <= expect * (1 + 1e-8)
    with pytest.raises(errors.DomainError, match="form"):
        jafarpour_linf_lipschitz(W, U, form="nope")
    assert not jafarpour_linf_lipschitz(2 * np.eye(n), U).certified


def test_el_ghaoui_and_adjoint(rng):
    n = 4
    W = 0.2 * rng.standard_normal((n, n))
    U = rng.standard_normal((n, 2))
    W = W / (np.abs(W).sum(1).max() / 0.7)                       # ||W||_inf = 0.7
    eg = el_ghaoui_linf_lipschitz(W, U)
    assert eg.certified and eg.value >= np.abs(U).sum(1).max() / 0.3
    assert not el_ghaoui_linf_lipschitz(3 * W, U).certified
    ac = adjoint_contraction(W / np.linalg.norm(np.abs(W), 2) * 0.9)
    assert ac.certificate.certified and 0.9 <= ac.value <= 0.9 + 1e-8
    assert ac.details["lipschitz"] >= 10.0 - 1e-6


def test_l2_certified_radius():
    assert l2_certified_radius(1.0, 2.0) == pytest.approx(1 / (2 * math.sqrt(2)), rel=1e-12)
    assert l2_certified_radius(1.0, 2.0) <= 1 / (2 * math.sqrt(2))
    assert l2_certified_radius(1.0, 2.0, "paper") == pytest.approx(0.25, rel=1e-12)
    assert l2_certified_radius(-1.0, 2.0) == 0.0
    with pytest.raises(errors.DomainError):
        l2_certified_radius(1.0, 0.0)
    with pytest.raises(errors.DomainError, match="form"):
        l2_certified_radius(1.0, 1.0, "x")


def test_certify_l2_forms_are_ordered(rng):
    n, d, p = 6, 3, 4
    W, U, b = mondeq_W(rng, n, 1.0), rng.standard_normal((n, d)), rng.standard_normal(n)
    G, b_y = rng.standard_normal((p, n)), rng.standard_normal(p)
    x = rng.standard_normal(d)
    z = unique_fixed_point(W, U @ x + b)
    c = int(np.argmax(G @ z + b_y))
    ms = {f: certify_l2_lipschitz(W, U, b, G, b_y, x, c, 0.05, form=f).margin for f in ("folded", "sqrt2", "paper")}
    assert ms["folded"] >= ms["sqrt2"] >= ms["paper"]
    y = G @ z + b_y
    clean = y[c] - np.max(np.delete(y, c))
    assert abs(certify_l2_lipschitz(W, U, b, G, b_y, x, c, 0.0).margin - clean) < 1e-9
    cert = certify_l2_lipschitz(W, U, b, G, b_y, x, c, 0.05)
    assert cert.verify(W=W, U=U, b=b, G=G, b_y=b_y, x=x).margin == cert.margin
    with pytest.raises(errors.DomainError, match="label"):
        certify_l2_lipschitz(W, U, b, G, b_y, x, p, 0.1)
    with pytest.raises(errors.DomainError, match="eps"):
        certify_l2_lipschitz(W, U, b, G, b_y, x, 0, -0.1)


def test_certify_linf_lipschitz_forms(rng):
    n, d, p = 5, 3, 3
    W = 0.3 * rng.standard_normal((n, n)) / np.sqrt(n) - 0.5 * np.eye(n)
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    G, b_y = rng.standard_normal((p, n)), rng.standard_normal(p)
    x = rng.standard_normal(d)
    z = unique_fixed_point(W, U @ x + b)
    c = int(np.argmax(G @ z + b_y))
    a = certify_linf_lipschitz(W, U, b, G, b_y, x, c, 0.01, form="printed")
    f = certify_linf_lipschitz(W, U, b, G, b_y, x, c, 0.01, form="folded")
    assert f.margin >= a.margin
    assert a.verify(W=W, U=U, b=b, G=G, b_y=b_y, x=x).margin == a.margin


# ---------------------------------------------------------------- residuals and fixed-point error

def test_residual_bound_contains_exact_residual(rng):
    """Exact rational arithmetic on the stored floats (fractions.Fraction) as the oracle."""
    n = 4
    for _ in range(5):
        W = rng.standard_normal((n, n)) * 10 ** rng.uniform(-3, 3)
        v = rng.standard_normal(n) * 10 ** rng.uniform(-3, 3)
        z = np.abs(rng.standard_normal(n))
        r, delta = residual_bound(W, v, z)
        for i in range(n):
            pre = sum(Fraction(W[i, j]) * Fraction(z[j]) for j in range(n)) + Fraction(v[i])
            exact = Fraction(z[i]) - max(pre, Fraction(0))
            assert abs(exact - Fraction(r[i])) <= Fraction(delta[i])


def test_fixed_point_error_bound_scalar_by_hand():
    # z = relu(w z + v), w = -1, v = 2: z* = 1. m = 2 (I - W = 2), mu = -1.
    W, v = np.array([[-1.0]]), np.array([2.0])
    zt = np.array([1.1])
    r, delta = residual_bound(W, v, zt)                         # r = 1.1 - relu(0.9) = 0.2
    e2 = fixed_point_error_bound(W, r, "2", residual_err=delta)
    # ||r|| + ||W r|| / m = 0.2 + 0.2 / 2 = 0.3 >= true error 0.1
    assert 0.3 <= e2.value <= 0.3 * (1 + 1e-9)
    ei = fixed_point_error_bound(W, r, "inf", residual_err=delta)
    # min(||r|| / (1 - mu+), ||r|| + ||Wr|| / (1 - mu+)) = min(0.2, 0.4)
    assert 0.2 <= ei.value <= 0.2 * (1 + 1e-9)
    assert ei.certified and e2.certified


def test_fixed_point_error_bound_refuses_without_assumption():
    W = np.array([[0.0, 2.0], [2.0, 0.0]])                      # not monotone, mu_inf = 2
    r = np.array([1e-8, 0.0])
    for nrm in ("2", "inf"):
        e = fixed_point_error_bound(W, r, nrm)
        assert not e.certified and e.value == math.inf and np.all(np.isinf(e.componentwise))
    with pytest.raises(errors.DomainError, match="norm"):
        fixed_point_error_bound(W, r, "1")
    with pytest.raises(errors.ShapeError):
        fixed_point_error_bound(W, np.zeros(3), "2")
    with pytest.raises(errors.DomainError):
        fixed_point_error_bound(W, r, "2", residual_err=-1.0)


def test_fixed_point_error_bound_vs_pattern_oracle(rng):
    """Perturbed approximations of the exact fixed point are within the bound (both norms)."""
    n = 5
    for k in range(10):
        W = mondeq_W(rng, n, 0.2) if k % 2 else 0.4 * rng.standard_normal((n, n)) / np.sqrt(n) - 0.3 * np.eye(n)
        v = rng.standard_normal(n)
        zs = unique_fixed_point(W, v)
        for scale in (1e-2, 1e-6, 1e-10):
            zt = zs + scale * rng.standard_normal(n)
            r, delta = residual_bound(W, v, zt)
            for nrm in ("2", "inf"):
                e = fixed_point_error_bound(W, r, nrm, residual_err=delta)
                if not e.certified:
                    continue
                err = np.abs(zt - zs)
                assert np.all(err <= e.componentwise + 1e-14)
                tru = np.linalg.norm(err) if nrm == "2" else err.max()
                assert tru <= e.value + 1e-14


def test_fixed_point_error_bound_contraction_option(rng):
    """li2022-style: with c >= ||W||_2 proved (< 1), ||z~ - z*||_2 <= ||r||_2 / (1 - c)."""
    n = 5
    A = rng.standard_normal((n, n))
    W = 0.6 * A / np.linalg.norm(A, 2)                            # ||W||_2 = 0.6
    c = float(np.linalg.norm(W, 2)) * (1 + 1e-12)
    v = rng.standard_normal(n)
    zs = unique_fixed_point(W, v)
    zt = zs + 1e-4 * rng.standard_normal(n)
    r, delta = residual_bound(W, v, zt)
    e = fixed_point_error_bound(W, r, "2", residual_err=delta, contraction=c)
    assert e.certified and np.linalg.norm(zt - zs) <= e.value
    assert e.value <= (np.linalg.norm(r) + np.linalg.norm(delta)) / (1 - c) * (1 + 1e-9)


def test_solver_matches_pattern_oracle(rng):
    for k in range(6):
        n = 6
        W = mondeq_W(rng, n, 0.1) if k % 2 else 0.3 * rng.standard_normal((n, n)) - 1.5 * np.eye(n)
        v = rng.standard_normal(n)
        s = solve_relu_fixed_point(W, v)
        assert s.converged and s.residual_norm <= 1e-12
        np.testing.assert_allclose(s.z, unique_fixed_point(W, v), atol=1e-10)
    # Lambda-monotone (not monotone) W: solved after the Lambda^(1/2) rescaling
    phi = np.array([0.05, 1.0, 3.0, 0.5])
    A = rng.standard_normal((4, 4))
    Wg = np.eye(4) - phi[:, None] * (A.T @ A + 0.2 * np.eye(4))
    v = rng.standard_normal(4)
    s = solve_relu_fixed_point(Wg, v, lam=1 / phi)
    np.testing.assert_allclose(s.z, unique_fixed_point(Wg, v), atol=1e-9)


def test_bad_input_bounds():
    with pytest.raises(errors.ShapeError, match="U"):
        pabbaraju_lipschitz(np.eye(3) * 0.5, np.ones((4, 2)))
    with pytest.raises(errors.DomainError, match="phi"):
        havens_gmondeq_lipschitz(np.eye(3) * 0.5, np.ones((3, 2)), np.array([1.0, 0.0, 1.0]))
    with pytest.raises(errors.NonFiniteError, match="W"):
        monotone_margin(np.array([[np.nan]]))
    with pytest.raises(errors.ShapeError, match="x"):
        pabbaraju_perturbation(np.eye(2) * 0.5, np.ones((2, 2)), np.zeros(2), np.eye(2) * 0.5,
                               np.ones((2, 2)), np.zeros(2), np.zeros(3))


def test_jafarpour_weighted_form_without_G_is_invariant_to_eta_scaling():
    """Regression: with G = None (the map to z*) the weighted Thm 6.1 bound must not depend on the
    scale of η (it used ‖G[η]‖∞ := 1, which undercounts by max η when η is not normalised)."""
    import numpy as np
    from deqtheory import bounds

    rng = np.random.default_rng(7)
    n, d = 5, 3
    W = 0.15 * rng.standard_normal((n, n))
    U = rng.standard_normal((n, d))
    eta = np.exp(rng.uniform(-1, 1, n))
    a = bounds.jafarpour_linf_lipschitz(W, U, eta=eta, form="weighted")
    b = bounds.jafarpour_linf_lipschitz(W, U, eta=100.0 * eta, form="weighted")
    c = bounds.jafarpour_linf_lipschitz(W, U, G=np.eye(n), eta=100.0 * eta, form="weighted")
    assert a.certified and b.certified
    assert abs(a.value - b.value) <= 1e-9 * a.value
    assert abs(b.value - c.value) <= 1e-9 * c.value
