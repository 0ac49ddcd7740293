"""Unit tests for deqtheory.intervals: boxes, affine boxes, IBP / Metzler lifts, output boxes and
margins, with brute-force oracles (vertex enumeration, activation-pattern enumeration)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from deqtheory import errors
from deqtheory.certificates import Status
from deqtheory.intervals import (Box, affine_box, certify_linf_box, ibp_box, ibp_lift, interval_bounds,
                                 lifted_box, margin_lower_bounds, metzler_box, metzler_lift, output_box)


# ---------------------------------------------------------------- oracles / constructors

def pattern_fixed_point(M, v):
    """All solutions of z = relu(Mz + v) by enumerating activation patterns (tiny n only)."""
    n = len(v)
    sols = []
    for bits in itertools.product([False, True], repeat=n):
        S = np.array(bits)
        z = np.zeros(n)
        if S.any():
            try:
                z[S] = np.linalg.solve(np.eye(S.sum()) - M[np.ix_(S, S)], v[S])
            except np.linalg.LinAlgError:
                continue
        pre = M @ z + v
        tol = 1e-11 * (1 + np.abs(pre).max())
        if np.all(z[S] >= -tol) and np.all(pre[~S] <= tol) and np.all(np.abs(z[S] - pre[S]) <= tol):
            if not any(np.allclose(z, s, atol=1e-10) for s in sols):
                sols.append(z)
    return sols


def wei_W(rng, n, slack=0.2):
    """wei2022 Thm 3.1 parametrization W = D^-1/2 M D^-1/2 with D_ii = (1+slack)(|M|1 + |M|^T 1)_i / 2."""
    M = rng.standard_normal((n, n))
    D = (1 + slack) * (np.abs(M).sum(1) + np.abs(M).sum(0)) / 2
    s = 1 / np.sqrt(D)
    return s[:, None] * M * s[None, :]


# ---------------------------------------------------------------- Box

def test_box_validation():
    with pytest.raises(errors.DomainError, match="lower"):
        Box(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    with pytest.raises(errors.ShapeError):
        Box(np.zeros(2), np.zeros(3))
    with pytest.raises(errors.NonFiniteError):
        Box(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(errors.ShapeError):
        Box(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(errors.DomainError, match="eps"):
        Box.ball(np.zeros(2), -0.1)
    b = Box(np.array([-np.inf, 0.0]), np.array([0.0, np.inf]))  # unbounded sides are allowed
    assert b.dim == 2
    with pytest.raises(errors.DomainError):
        b.sample(np.random.default_rng(0), 3)


def test_box_is_frozen_and_copied():
    lo = np.zeros(2)
    b = Box(lo, np.ones(2))
    lo[0] = 5.0
    assert b.lower[0] == 0.0
    with pytest.raises(ValueError):
        b.lower[0] = 1.0
    with pytest.raises(Exception):
        b.lower = np.ones(2)


def test_box_ball_contains_sample_widen(rng):
    c = rng.standard_normal(4)
    b = Box.ball(c, 0.25)
    assert np.all(b.lower <= c - 0.25) and np.all(b.upper >= c + 0.25)
    S = b.sample(rng, 50)
    assert b.contains(S).all() and b.contains(c)
    assert not b.contains(c + 0.3)
    w = b.widen(0.1)
    assert w.contains_box(b) and not b.contains_box(w)
    with pytest.raises(errors.DomainError):
        b.widen(-1.0)


# ---------------------------------------------------------------- affine_box

def test_affine_box_is_tight_and_contains_vertices(rng):
    n, d = 5, 4
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    box = Box.ball(rng.standard_normal(d), 0.3)
    vb = affine_box(U, b, box)
    V = np.array([U @ np.array(c) + b for c in itertools.product(*zip(box.lower, box.upper))])
    assert vb.contains(V).all()
    np.testing.assert_allclose(vb.lower, V.min(0), rtol=0, atol=1e-13)
    np.testing.assert_allclose(vb.upper, V.max(0), rtol=0, atol=1e-13)


def test_affine_box_bad_input(rng):
    box = Box.ball(np.zeros(3), 0.1)
    with pytest.raises(errors.ShapeError, match="U"):
        affine_box(np.ones((2, 4)), None, box)
    with pytest.raises(errors.ShapeError, match="b"):
        affine_box(np.ones((2, 3)), np.ones(3), box)
    with pytest.raises(errors.DomainError):
        affine_box(np.ones((2, 3)), None, (np.zeros(3), np.ones(3)))


# ---------------------------------------------------------------- lifts

def test_lifts_structure(rng):
    W = rng.standard_normal((5, 5))
    n = 5
    Wi, Wm = ibp_lift(W), metzler_lift(W)
    for L in (Wi, Wm):
        A, B = L[:n, :n], L[:n, n:]
        np.testing.assert_array_equal(A + B, W)                   # split of W, exact
        np.testing.assert_array_equal(L[n:, n:], A)
        np.testing.assert_array_equal(L[n:, :n], B)
    np.testing.assert_array_equal(Wi[:n, :n], np.maximum(W, 0))
    off = ~np.eye(n, dtype=bool)
    A = Wm[:n, :n]
    assert np.all(A[off] >= 0)                                    # Metzler
    np.testing.assert_array_equal(np.diag(A), np.diag(W))         # keeps the whole diagonal
    assert np.all(np.diag(Wm[:n, n:]) == 0)
    W2 = np.abs(W)
    W2[off] = W[off]                                              # nonnegative diagonal: splits agree
    np.testing.assert_array_equal(ibp_lift(W2), metzler_lift(W2))


# ---------------------------------------------------------------- lifted fixed points

@pytest.mark.parametrize("method", ["ibp", "metzler"])
def test_lifted_box_matches_pattern_oracle(rng, method):
    """n = 3 (lift of size 6, 64 patterns): the exact lifted fixed point lies within the error bound."""
    for _ in range(5):
        W = wei_W(rng, 3)
        c = rng.standard_normal(3)
        vb = Box(c - 0.3, c + 0.3)
        ib = lifted_box(W, vb, method)
        assert ib.certified
        M = ibp_lift(W) if method == "ibp" else metzler_lift(W)
        sols = pattern_fixed_point(M, np.concatenate([vb.upper, vb.lower]))
        assert len(sols) == 1
        zs = sols[0]
        z_approx = np.concatenate([ib.upper_approx, ib.lower_approx])
        assert np.all(np.abs(z_approx - zs) <= ib.error + 1e-15)
        assert np.all(ib.box.upper >= zs[:3]) and np.all(ib.box.lower <= zs[3:])
        assert np.max(ib.error) < 1e-10                            # tight solve, tiny widening


@pytest.mark.parametrize("method", ["ibp", "metzler"])
def test_degenerate_box_collapses_to_fixed_point(rng, method):
    """For v_lower = v_upper the lifted fixed point is [z*(v); z*(v)]."""
    W = wei_W(rng, 6)
    v = rng.standard_normal(6)
    ib = lifted_box(W, Box(v, v), method)
    zs = pattern_fixed_point(W, v)
    assert len(zs) == 1
    assert ib.box.contains(zs[0])
    assert np.max(ib.box.width) < 1e-10


def test_metzler_never_looser_than_ibp_unit(rng):
    n = 6
    W = wei_W(rng, n)
    W[np.diag_indices(n)] = -np.abs(np.diag(W)) - 0.3            # negative diagonal: splits differ
    vb = Box.ball(rng.standard_normal(n), 0.2)
    a, b = ibp_box(W, vb), metzler_box(W, vb)
    if a.certified and b.certified:
        assert np.all(b.upper_approx <= a.upper_approx + a.error[:n] + b.error[:n])
        assert np.all(b.lower_approx >= a.lower_approx - a.error[n:] - b.error[n:])
    assert b.certified


def test_uncertified_gives_trivial_box():
    W = np.array([[-3.0]])                                        # IBP lift [[0,-3],[-3,0]] not monotone, mu = 3
    ib = ibp_box(W, Box(np.array([1.0]), np.array([1.0])))
    assert not ib.certified
    assert ib.certificate.status is Status.INCONCLUSIVE
    assert np.all(np.isinf(ib.box.lower)) and np.all(np.isinf(ib.box.upper))
    mb = metzler_box(W, Box(np.array([1.0]), np.array([1.0])))
    assert mb.certified
    assert mb.box.contains(np.array([0.25]))                      # z = relu(1 - 3z) = 1/4


def test_lifted_box_bad_input(rng):
    W = wei_W(rng, 3)
    with pytest.raises(errors.ShapeError):
        lifted_box(W, Box(np.zeros(2), np.ones(2)))
    with pytest.raises(errors.DomainError, match="method"):
        lifted_box(W, Box(np.zeros(3), np.ones(3)), "nope")
    with pytest.raises(errors.DomainError, match="conditions"):
        lifted_box(W, Box(np.zeros(3), np.ones(3)), conditions=("bogus",))
    with pytest.raises(errors.DomainError):
        lifted_box(W, Box(np.full(3, -np.inf), np.ones(3)))
    with pytest.raises(errors.NonFiniteError):
        lifted_box(np.full((3, 3), np.nan), Box(np.zeros(3), np.ones(3)))


def test_box_certificate_verify_roundtrip(rng):
    W = wei_W(rng, 4)
    ib = metzler_box(W, Box.ball(rng.standard_normal(4), 0.1))
    again = ib.certificate.verify(W=W)
    assert again.certified and again.condition == "intervals.metzler_box"


# ---------------------------------------------------------------- outputs and margins

def test_output_box_and_margins_vs_vertices(rng):
    n, p = 4, 3
    G, b_y = rng.standard_normal((p, n)), rng.standard_normal(p)
    zb = Box(np.abs(rng.standard_normal(n)), np.abs(rng.standard_normal(n)) + 2.0)
    Z = np.array(list(itertools.product(*zip(zb.lower, zb.upper))))
    Y = Z @ G.T + b_y
    ob = output_box(G, b_y, zb)
    assert ob.contains(Y).all()
    np.testing.assert_allclose(ob.lower, Y.min(0), atol=1e-12)
    np.testing.assert_allclose(ob.upper, Y.max(0), atol=1e-12)
    for c in range(p):
        m = margin_lower_bounds(G, b_y, zb, c)
        assert m[c] == math.inf
        true_min = (Y[:, [c]] - Y).min(0)
        for j in range(p):
            if j == c:
                continue
            assert m[j] <= true_min[j]
            assert m[j] >= true_min[j] - 1e-12                    # folded margin is exact over a box
            assert m[j] >= ob.lower[c] - ob.upper[j] - 1e-12      # never worse than the output box


def test_margins_with_infinite_box():
    G = np.array([[1.0, 0.0], [0.0, 1.0]])
    zb = Box(np.array([0.0, -np.inf]), np.array([1.0, np.inf]))
    m = margin_lower_bounds(G, None, zb, 0)
    assert m[1] == -math.inf
    G2 = np.array([[1.0, 0.0], [0.0, 0.0]])                       # infinite coordinate has zero weight
    m2 = margin_lower_bounds(G2, None, zb, 0)
    assert np.isfinite(m2[1]) and m2[1] <= 0.0


def test_margin_bad_label(rng):
    with pytest.raises(errors.DomainError, match="label"):
        margin_lower_bounds(np.ones((2, 3)), None, Box(np.zeros(3), np.ones(3)), 2)


def test_certify_linf_box_eps_zero_and_nonvacuous(rng):
    """At eps = 0 the certificate margin equals the clean logit margin (up to the tiny widening);
    on a well-conditioned model some inputs are certified at a small eps."""
    n, d, p = 6, 3, 3
    W = wei_W(rng, n, slack=0.5)
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    G, b_y = rng.standard_normal((p, n)), rng.standard_normal(p)
    certified = 0
    for _ in range(10):
        x = rng.standard_normal(d)
        z = pattern_fixed_point(W, U @ x + b)[0]
        y = G @ z + b_y
        c = int(np.argmax(y))
        clean = y[c] - np.max(np.delete(y, c))
        cert0 = certify_linf_box(W, U, b, G, b_y, x, c, 0.0)
        assert abs(cert0.margin - clean) < 1e-9
        cert = certify_linf_box(W, U, b, G, b_y, x, c, 0.01)
        assert cert.margin <= clean + 1e-12
        certified += cert.certified
        assert cert.verify(W=W, U=U, b=b, G=G, b_y=b_y, x=x).status is cert.status
    assert certified >= 3


def test_interval_bounds_ibp_equals_lifted_of_affine(rng):
    n, d = 4, 3
    W, U, b = wei_W(rng, n), rng.standard_normal((n, d)), rng.standard_normal(n)
    xb = Box.ball(rng.standard_normal(d), 0.05)
    a = interval_bounds(W, U, b, xb, "ibp")
    c = ibp_box(W, affine_box(U, b, xb))
    np.testing.assert_array_equal(a.box.lower, c.box.lower)
    np.testing.assert_array_equal(a.box.upper, c.box.upper)
