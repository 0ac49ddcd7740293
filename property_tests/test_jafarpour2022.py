"""Property tests for the numbered claims of jafarpour2022 (Jafarpour, Davydov, Abate, Bullo & Coogan,
"Robust training and verification of implicit neural networks: a non-Euclidean contractive approach";
file 004).

Model (4): z = Φ(Wz + Ux + b), y = Cz + c with each φ_i weakly increasing and non-expansive. The
library implements ReLU; where a claim is stated for every such activation, we also check it with tanh
and leaky-ReLU (the fixed points then come from the α-average iteration / Newton written here, since the
library is ReLU-only). Fixed points are solved to residual ≤ 1e-10.

Conventions: ‖x‖_{∞,[η]⁻¹} = max_i |x_i|/η_i; μ_{∞,[η]⁻¹}(A) = max_i A_ii + Σ_{j≠i} (η_j/η_i)|A_ij|;
the paper stacks the embedded state lower-first [z̲; z̄] (eq. 6), the library upper-first [z̄; z̲].
W with μ_{∞,[η]⁻¹}(W) ≤ γ is built by the corrected eq. (12): W = [η]T[η]⁻¹ − diag(|T|𝟙) + γI.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from deqtheory import graph, linalg, solvers
from deqtheory.bounds import (solve_relu_fixed_point, certify_linf_lipschitz, jafarpour_linf_lipschitz, mu_inf_bound,
                              pabbaraju_lipschitz)
from deqtheory.intervals import (Box, affine_box, certify_linf_box, interval_bounds, margin_lower_bounds,
                                 metzler_box, metzler_lift, output_box)
from deqtheory.parametrizations import MonDEQ, NonEuclidean
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
RES = 1e-10


# ------------------------------------------------------------------------------------------ helpers

def wnorm(x, eta):
    return np.max(np.abs(x) / eta, axis=-1)


def mu_W(rng, n, gamma=None):
    """(W, η, γ) with μ_{∞,[η]⁻¹}(W) ≤ γ (corrected eq. 12, project parametrization)."""
    gamma = rng.uniform(-1.0, 0.9) if gamma is None else gamma
    p = NonEuclidean(gamma=gamma)
    prm = p.sample(rng, n, scale=rng.uniform(0.2, 1.5), eta_range=4.0)
    return p.forward(prm), np.asarray(prm.eta), gamma


def relu(u):
    return np.maximum(u, 0.0)


ACTS = {
    "relu": (relu, lambda u: (u > 0).astype(float)),
    "tanh": (np.tanh, lambda u: 1.0 - np.tanh(u) ** 2),
    "leaky": (lambda u: np.where(u > 0, u, 0.1 * u), lambda u: np.where(u > 0, 1.0, 0.1)),
}


def solve_act(W, v, act, z0=None):
    """z = φ(Wz + v) for a slope-[0,1] activation: damped Newton on z − φ(Wz + v) (I − DW is invertible
    under either well-posedness condition used here), α-average iteration as fallback."""
    phi, dphi = ACTS[act]
    n = W.shape[0]
    z = np.zeros(n) if z0 is None else np.array(z0, dtype=float)
    F = lambda z: z - phi(W @ z + v)
    r = F(z)
    for _ in range(100):
        if np.max(np.abs(r)) <= 1e-13 * (1 + np.max(np.abs(z))):
            break
        J = np.eye(n) - dphi(W @ z + v)[:, None] * W
        step = np.linalg.solve(J, r)
        t = 1.0
        while t > 1e-6:
            zn = z - t * step
            rn = F(zn)
            if np.linalg.norm(rn) < (1 - 1e-4 * t) * np.linalg.norm(r):
                break
            t /= 2
        z, r = zn, rn
    assert np.max(np.abs(r)) <= RES * (1 + np.max(np.abs(z))), np.max(np.abs(r))
    return z


def fixed_point(W, U, b, x):
    """Fixed point to residual ≤ 1e-10, polished by active-set Newton (deqtheory.bounds) so that its
    distance to the exact fixed point is at rounding level: containment checks compare against
    boxes that are tight to ~1e-15, and a residual-1e-12 iterate can sit 1e-12 outside them."""
    res = solvers.solve(W, U, b, x, method="auto", tol=1e-12, max_iter=200000)
    assert res.converged and res.residual <= RES, res.message
    z = np.asarray(res.z)
    v = W @ np.zeros(W.shape[0]) + U @ x + b
    pol = solve_relu_fixed_point(W, v, z0=z, tol=1e-15)
    r_old = float(np.max(np.abs(z - np.maximum(W @ z + v, 0.0))))
    return pol.z if pol.residual_norm < r_old else z


def jac(W, U, b, x, z, act="relu"):
    D = ACTS[act][1](W @ z + U @ x + b)
    return np.linalg.solve(np.eye(W.shape[0]) - D[:, None] * W, D[:, None] * U)


def model(rng, n=None, d=None, q=None):
    n = int(rng.integers(1, 8)) if n is None else n
    d = int(rng.integers(1, 4)) if d is None else d
    q = int(rng.integers(2, 5)) if q is None else q
    W, eta, gamma = mu_W(rng, n)
    return W, eta, rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal((q, n)), rng.standard_normal(q)


def ce(logits, y):
    """Cross-entropy ℒ(logits, y) = logsumexp(logits) − logits_y (stable)."""
    s = np.max(logits)
    return float(s + np.log(np.sum(np.exp(logits - s))) - logits[y])


def box_points(rng, box, k):
    """Uniform samples plus up to 16 vertices of the box."""
    pts = list(box.sample(rng, k))
    r = box.dim
    verts = list(itertools.product([0, 1], repeat=r)) if r <= 4 else [tuple(rng.integers(0, 2, r)) for _ in range(16)]
    for s in verts:
        pts.append(np.where(np.array(s) == 1, box.upper, box.lower))
    return pts


# ------------------------------------------------------------------------------------------ §3 definitions

@pytest.mark.theorem("jafarpour2022:sec3.defs")
@settings(max_examples=scaled(20))
@given(SEEDS)
def test_sec3_mu_inf_is_the_induced_measure(seed):
    """§3: μ_{∞,[η]⁻¹}(A) = max_i A_ii + Σ_{j≠i}(η_j/η_i)|A_ij| is the matrix measure induced by
    ‖x‖_{∞,[η]⁻¹} = max_i|x_i|/η_i, i.e. lim_{h↓0}(‖I + hA‖_{∞,[η]⁻¹} − 1)/h, where the induced norm is
    computed independently as the max over the vertices η⊙s, s ∈ {±1}ⁿ, of the unit ball. The project's
    linalg.mu_inf, mu_inf_upper (≥), graph.mu_inf_weighted agree; check_mu_inf certifies iff μ < 1 (away
    from 1). μ₂(A) = ½λ_max(A + Aᵀ) = lim (‖I + hA‖₂ − 1)/h (linalg.mu2)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    A = rng.standard_normal((n, n)) * rng.uniform(0.1, 3)
    eta = np.exp(rng.uniform(-1.5, 1.5, n))
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))

    def induced(M):                      # sup_{‖x‖≤1} ‖Mx‖, attained at a vertex of the box [−η, η]
        return float(np.max(wnorm((S * eta) @ M.T, eta)))

    prev = math.inf
    for k in range(4, 40, 4):
        h = 2.0 ** -k
        q = (induced(np.eye(n) + h * A) - 1.0) / h
        assert q <= prev + 1e-6 * (1 + abs(q))         # difference quotient is non-increasing in h ↓ 0
        prev = q
        if h * np.max(np.abs(np.diag(A))) <= 1:        # then the quotient equals μ exactly (up to rounding)
            mu_true = q
            break
    mu = linalg.mu_inf(A, eta)
    tol = 1e-9 * (1 + np.abs(A).sum(1).max() * eta.max() / eta.min())
    assert abs(mu - mu_true) <= tol
    assert linalg.mu_inf_upper(A, eta) >= mu_true - 1e-12
    assert abs(graph.mu_inf_weighted(A, eta) - mu) <= tol
    # the induced norm itself is ‖[η]⁻¹A[η]‖∞
    assert induced(A) == pytest.approx(np.abs(A * eta[None, :] / eta[:, None]).sum(1).max(), rel=1e-12, abs=1e-14)
    # certificate consistent with the definition
    shift = rng.uniform(-0.5, 0.5)
    A2 = A + (1 - mu + shift) * np.eye(n)          # μ(A2) = 1 + shift
    c = linalg.check_mu_inf(A2, eta)
    assert c.certified == (linalg.mu_inf(A2, eta) < 1) or abs(shift) < 1e-9
    # μ₂ as a limit
    h = 1e-7
    q2 = (np.linalg.norm(np.eye(n) + h * A, 2) - 1) / h
    assert linalg.mu2(A) == pytest.approx(q2, abs=1e-5 * (1 + np.linalg.norm(A, 2)) ** 2)


@pytest.mark.theorem("jafarpour2022:sec3.defs")
@settings(max_examples=scaled(20))
@given(SEEDS)
def test_sec3_splits_and_alpha_average(seed):
    """§3: [B]⁺ = max(B, 0), [B]⁻ = min(B, 0); ⌈A⌉^Mzl keeps A_ij ≥ 0 and the whole diagonal, ⌊A⌋^Mzl = A − ⌈A⌉^Mzl
    (entrywise definitions vs linalg.pos/neg/metzler_split); the α-average map F_α = (1 − α)x + αF(x)
    is what the project's "alpha_avg" solver iterates (one step compared)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    A = rng.standard_normal((n, n)) * (rng.random((n, n)) < 0.7)
    P, N = linalg.pos(A), linalg.neg(A)
    Mz, Nz = linalg.metzler_split(A)
    for i in range(n):
        for j in range(n):
            assert P[i, j] == max(A[i, j], 0.0) and N[i, j] == min(A[i, j], 0.0)
            assert Mz[i, j] == (A[i, j] if (A[i, j] >= 0 or i == j) else 0.0)
    assert np.array_equal(Nz, A - Mz)
    W, eta, _ = mu_W(rng, n)
    v, z0 = rng.standard_normal(n), rng.standard_normal(n)
    alpha = rng.uniform(0.05, 1.0) / (1 - min(np.min(np.diag(W)), 0.0))
    res = solvers.solve_injection(W, v, method="alpha_avg", alpha=alpha, eta=eta, z0=z0, max_iter=1, tol=1e-300)
    assert np.allclose(res.z, (1 - alpha) * z0 + alpha * relu(W @ z0 + v), rtol=1e-14, atol=1e-14)


# ------------------------------------------------------------------------------------------ eq. (1)

@pytest.mark.theorem("jafarpour2022:eq1")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_eq1_embedded_inclusion_function_encloses_image(seed):
    """(1): an inclusion function F (items 1–2 of §3: F̲(y,y) ≥ F̲(x̲,x̄), F̄(y,y) ≤ F̄(x̲,x̄) for y in the box, and
    F̲(x,x) = F̄(x,x) = f(x) — the OCR shows 'F̲(x,x) = F(x,x)') satisfies f([x̲,x̄]) ⊆ [F̲(x̲,x̄), F̄(x̲,x̄)].
    Checked for the embedded-network inclusion function G_N (Thm 6.3(3); library interval_bounds +
    output_box): both items (point boxes collapse to f(x) within the proved widening; nested boxes give
    nested output boxes) and the enclosure (samples, vertices, gradient search)."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    xb = Box.ball(rng.standard_normal(d), rng.uniform(0.01, 0.8))

    def G(box):
        ib = interval_bounds(W, U, b, box, "metzler")
        assert ib.certified
        return output_box(C, c, ib.box), float(np.max(ib.error))

    big, _ = G(xb)
    for x in box_points(rng, xb, 12):
        fx = C @ fixed_point(W, U, b, x) + c
        assert np.all(big.lower <= fx + 1e-12) and np.all(fx <= big.upper + 1e-12)
        pt, err = G(Box(x, x))                             # item 2: degenerate box → f(x)
        tol = 1e-9 * (1 + np.abs(fx).max())
        assert np.all(np.abs(pt.lower - fx) <= tol) and np.all(np.abs(pt.upper - fx) <= tol)
        assert np.all(pt.lower >= big.lower - 1e-12) and np.all(pt.upper <= big.upper + 1e-12)   # item 1
    sub = Box(xb.lower + rng.uniform(0, 0.5, d) * xb.width, xb.upper - rng.uniform(0, 0.5, d) * xb.width)
    small, _ = G(sub)
    assert np.all(small.lower >= big.lower - 1e-12) and np.all(small.upper <= big.upper + 1e-12)
    for i in range(C.shape[0]):                          # gradient search for extremes of f_i
        for sgn in (1.0, -1.0):
            x = xb.sample(rng, 1)[0]
            for _ in range(8):
                z = fixed_point(W, U, b, x)
                fx = C @ z + c
                assert big.lower[i] <= fx[i] + 1e-12 and fx[i] <= big.upper[i] + 1e-12
                g = C[i] @ jac(W, U, b, x, z)
                x = np.clip(x + sgn * 0.3 * xb.width * np.sign(g), xb.lower, xb.upper)


# ------------------------------------------------------------------------------------------ Thm 4.1

@pytest.mark.theorem("jafarpour2022:thm4.1")
@settings(max_examples=scaled(20))
@given(SEEDS, st.booleans())
def test_thm41_linear_maps_exact(seed, cube):
    """Thm 4.1 for f(x) = Ax + c, where both sides are exact: the tight inclusion function is the output box
    [A⁺x̲ + A⁻x̄ + c, A⁺x̄ + A⁻x̲ + c] (library output_box, also = min/max over the vertices), its width is
    |A|(x̄ − x̲), Lip_∞ = ‖A‖∞, and ‖F̄ − F̲‖∞ ≤ ‖A‖∞‖x̄ − x̲‖∞ with equality for cubes (x̄ − x̲ = 2ε𝟙)."""
    rng = np.random.default_rng(seed)
    q, r = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    A, c = rng.standard_normal((q, r)), rng.standard_normal(q)
    lo = rng.standard_normal(r)
    w = np.full(r, rng.uniform(0.01, 2)) if cube else rng.uniform(0.01, 2, r)
    xb = Box(lo, lo + w)
    ob = output_box(A, c, xb)
    V = np.array([np.where(np.array(s) == 1, xb.upper, xb.lower) for s in itertools.product([0, 1], repeat=r)])
    Y = V @ A.T + c
    assert np.allclose(ob.lower, Y.min(0), atol=1e-12) and np.allclose(ob.upper, Y.max(0), atol=1e-12)
    width = np.max(ob.upper - ob.lower)
    lip = np.abs(A).sum(1).max()
    assert width <= lip * np.max(w) * (1 + 1e-12) + 1e-12
    if cube:
        assert width == pytest.approx(lip * np.max(w), rel=1e-9)


def _affine_pattern_box(W, U, b, x, r):
    """A cube x ± r' (r' ≤ r, quartered until it holds) on which the activation pattern of the DEQ is
    constant: interval arithmetic on the pre-activation Wz + Ux + b over the library's certified
    (Metzler) z-box, each coordinate one-signed by ≥ 1e-9. On it f(x) = Cz*(x) + c is affine with the
    exact Jacobian J = C(I − DW)⁻¹DU. Returns (r', D)."""
    for _ in range(40):
        xb = Box.ball(x, r)
        ib = interval_bounds(W, U, b, xb, "metzler")
        assert ib.certified
        zl, zu = ib.box.lower, ib.box.upper
        lo = linalg.pos(W) @ zl + linalg.neg(W) @ zu + linalg.pos(U) @ xb.lower + linalg.neg(U) @ xb.upper + b
        hi = linalg.pos(W) @ zu + linalg.neg(W) @ zl + linalg.pos(U) @ xb.upper + linalg.neg(U) @ xb.lower + b
        if np.all((lo > 1e-9) | (hi < -1e-9)):
            return r, (lo > 1e-9).astype(float)
        r /= 4
    raise AssertionError("no box with a constant activation pattern (a pre-activation is 0 at x)")


def lip_inf_of_jacobian(J):
    """Lip∞ of an affine map with Jacobian J (eq. 2 on a box where f is affine): ‖J‖∞ = max row ℓ1 norm."""
    return float(np.abs(J).sum(axis=1).max())


def check_thm41_tight(seed, lip=lip_inf_of_jacobian):
    """Thm 4.1 with both sides exact, on a nonlinear DEQ: on a cube x ± r with one activation pattern,
    the tight inclusion width of output i is f_i(x + r s_i) − f_i(x − r s_i), s_i = sign(J_i) (every
    f_i(x ± r s_i) solved independently as a fixed point), and Lip∞ over the cube = ``lip(J)``.
    Asserts ‖F̄ − F̲‖∞ ≤ lip·‖x̄ − x̲‖∞ and returns the ratio (1 for cubes: the theorem is tight)."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    x = rng.standard_normal(U.shape[1])
    r, D = _affine_pattern_box(W, U, b, x, 10 ** rng.uniform(-2, -0.5))
    J = C @ np.linalg.solve(np.eye(W.shape[0]) - D[:, None] * W, D[:, None] * U)
    width = 0.0
    for i in range(C.shape[0]):
        s = np.where(J[i] >= 0, 1.0, -1.0)
        hi = C[i] @ fixed_point(W, U, b, x + r * s)
        lo = C[i] @ fixed_point(W, U, b, x - r * s)
        width = max(width, hi - lo)
    rhs = lip(J) * 2 * r
    assert width <= rhs * (1 + 1e-7) + 1e-12, (width, rhs)
    return width / rhs if rhs > 0 else 1.0


@pytest.mark.theorem("jafarpour2022:thm4.1", "jafarpour2022:eq2")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_thm41_tight_on_affine_pieces_of_a_deq(seed):
    """Thm 4.1 on a nonlinear DEQ, falsifiably: on a cube where the activation pattern is constant (proved by
    interval arithmetic), the exact tight inclusion width equals Lip∞·‖x̄ − x̲‖∞ (ratio ≥ 0.999 every draw), so
    a bound smaller by any factor is caught (test_thm41_catches_halved_lipschitz)."""
    reached("jafarpour2022:thm4.1", check_thm41_tight(seed), slack=1e-7)


@pytest.mark.theorem("jafarpour2022:thm4.1")
def test_thm41_catches_halved_lipschitz():
    """Mutation demonstration: the check above rejects Lip∞ × 0.5 and the signed row sum max_i Σ_j J_ij
    (the absolute value dropped) on fixed seeds."""
    from deqtheory.testing.mutants import assert_caught, scaled_output

    for seed in (0, 1, 2):
        assert_caught(check_thm41_tight, seed, lip=scaled_output(lip_inf_of_jacobian, 0.5))
    caught = 0
    for seed in range(6):
        try:
            check_thm41_tight(seed, lip=lambda J: float(np.max(J.sum(axis=1))))
        except AssertionError:
            caught += 1
    assert caught >= 1


@pytest.mark.theorem("jafarpour2022:thm4.1")
@settings(max_examples=scaled(6))
@given(SEEDS)
def test_thm41_deq_large_boxes_against_thm61(seed):
    """Thm 4.1 on boxes crossing activation boundaries (r = 1): an inner estimate of the tight width (samples,
    vertices, sign-gradient ascent/descent per output) never exceeds the proved Thm 6.1 bound ξ·‖x̄ − x̲‖∞
    (an upper bound on Lip∞ ≥ the box's Lip). Falsifiable: a model whose true width exceeded ξ·width fails."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    d = U.shape[1]
    xb = Box.ball(rng.standard_normal(d), 10 ** rng.uniform(-1.5, 0))
    L = jafarpour_linf_lipschitz(W, U, C).details["printed"]
    F = [C @ fixed_point(W, U, b, x) + c for x in box_points(rng, xb, 12)]
    for i in range(C.shape[0]):
        for sgn in (1.0, -1.0):
            x = np.array(xb.center, dtype=float)
            for _ in range(4):
                z = fixed_point(W, U, b, x)
                x = np.clip(x + sgn * xb.width * np.sign(C[i] @ jac(W, U, b, x, z)), xb.lower, xb.upper)
                F.append(C @ fixed_point(W, U, b, x) + c)
    F = np.array(F)
    width = np.max(F.max(0) - F.min(0))
    assert width <= L * np.max(xb.width) * (1 + 1e-9) + 1e-12


def _all_pattern_lip_inf(W, U, C):
    """max over all 2ⁿ diagonal patterns D ∈ {0,1}ⁿ of ‖C(I − DW)⁻¹DU‖∞: an upper bound of sup_{x∈Ω}‖Df(x)‖∞
    (every differentiable point has one of these Jacobians)."""
    n = W.shape[0]
    best = 0.0
    for bits in itertools.product([0.0, 1.0], repeat=n):
        D = np.array(bits)
        J = C @ np.linalg.solve(np.eye(n) - D[:, None] * W, D[:, None] * U)
        best = max(best, lip_inf_of_jacobian(J))
    return best


@pytest.mark.theorem("jafarpour2022:eq2")
@settings(max_examples=scaled(8))
@given(SEEDS)
def test_eq2_lipschitz_is_sup_of_jacobian_norm(seed):
    """(2) Lip∞(f) = sup_{x∈Ω}‖Df(x)‖∞ on a DEQ (n ≤ 6), both directions:
    (≥) at a random x (a differentiable point: its activation pattern is constant on a proved cube x ± r) the
    difference quotient ‖f(x + rs) − f(x − rs)‖∞/(2r), s = sign of the maximising row of Df(x), equals
    ‖Df(x)‖∞ (ratio ≥ 0.999), so Lip∞ ≥ ‖Df(x)‖∞ is attained;
    (≤) every difference quotient of far-apart pairs (crossing activation boundaries) is ≤ the maximum of
    ‖Df‖∞ over all activation patterns (a sound upper bound of the sup over Ω)."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng, n=int(rng.integers(1, 7)))
    d = U.shape[1]
    x = rng.standard_normal(d)
    r, D = _affine_pattern_box(W, U, b, x, 0.1)
    J = C @ np.linalg.solve(np.eye(W.shape[0]) - D[:, None] * W, D[:, None] * U)
    i = int(np.argmax(np.abs(J).sum(axis=1)))
    s = np.where(J[i] >= 0, 1.0, -1.0)
    q = np.max(np.abs(C @ (fixed_point(W, U, b, x + r * s) - fixed_point(W, U, b, x - r * s)))) / (2 * r)
    assert q == pytest.approx(lip_inf_of_jacobian(J), rel=1e-6, abs=1e-12)
    sup = _all_pattern_lip_inf(W, U, C)
    for _ in range(8):
        x1, x2 = 2 * rng.standard_normal(d), 2 * rng.standard_normal(d)
        dy = C @ (fixed_point(W, U, b, x1) - fixed_point(W, U, b, x2))
        assert np.max(np.abs(dy)) <= sup * np.max(np.abs(x1 - x2)) * (1 + 1e-9) + 1e-12


@pytest.mark.theorem("jafarpour2022:eq2")
def test_eq2_catches_l2_norm_in_place_of_linf():
    """Mutation demonstration: with ‖Df‖₂ in place of ‖Df‖∞ in (2) the tight check of Thm 4.1 fails on some seed."""
    caught = 0
    for seed in range(6):
        try:
            check_thm41_tight(seed, lip=lambda J: float(np.linalg.norm(J, 2)))
        except AssertionError:
            caught += 1
    assert caught >= 1


def tight_inclusion_on_pattern_cube(W, U, b, C, c, x, r, D, flip=1.0):
    """(3) on a cube where f is affine: F̲_i = min f_i = f_i(x − r s_i), F̄_i = max f_i = f_i(x + r s_i),
    s_i = sign(J_i) (``flip = −1`` is the sign-flipped mutant)."""
    J = C @ np.linalg.solve(np.eye(W.shape[0]) - D[:, None] * W, D[:, None] * U)
    lo, hi = np.empty(C.shape[0]), np.empty(C.shape[0])
    for i in range(C.shape[0]):
        s = flip * np.where(J[i] >= 0, 1.0, -1.0)
        lo[i] = C[i] @ fixed_point(W, U, b, x - r * s) + c[i]
        hi[i] = C[i] @ fixed_point(W, U, b, x + r * s) + c[i]
    return lo, hi


def check_eq3(seed, flip=1.0):
    """(3): the coordinatewise min/max box is an inclusion function (contains f at samples and vertices of the
    cube) and is contained in another inclusion function (the library's embedded-network box, Thm 6.3)."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    x = rng.standard_normal(U.shape[1])
    r, D = _affine_pattern_box(W, U, b, x, 10 ** rng.uniform(-2, -0.5))
    lo, hi = tight_inclusion_on_pattern_cube(W, U, b, C, c, x, r, D, flip)
    xb = Box.ball(x, r)
    tol = 1e-9 * (1 + np.abs(hi).max() + np.abs(lo).max())
    for xp in box_points(rng, xb, 12):
        y = C @ fixed_point(W, U, b, xp) + c
        assert np.all(lo - tol <= y) and np.all(y <= hi + tol)
    ob = output_box(C, c, interval_bounds(W, U, b, xb, "metzler").box)
    assert np.all(ob.lower <= lo + tol) and np.all(hi - tol <= ob.upper)


@pytest.mark.theorem("jafarpour2022:eq3")
@settings(max_examples=scaled(8))
@given(SEEDS)
def test_eq3_tight_inclusion_is_coordinatewise_min_max(seed):
    """(3) on a DEQ cube with a proved constant activation pattern: [min f_i, max f_i] (attained at vertices,
    so no smaller box is an inclusion) contains f everywhere sampled and lies inside the Thm 6.3 box."""
    check_eq3(seed)


@pytest.mark.theorem("jafarpour2022:eq3")
def test_eq3_catches_sign_flip():
    """Mutation demonstration: the vertex choice with the sign of J flipped (min and max swapped) is rejected."""
    from deqtheory.testing.mutants import assert_caught

    for seed in (0, 1, 2):
        assert_caught(check_eq3, seed, flip=-1.0)


# ------------------------------------------------------------------------------------------ Thm 5.1

@pytest.mark.theorem("jafarpour2022:thm5.1")
@settings(max_examples=scaled(10))
@given(SEEDS, st.sampled_from(["relu", "tanh", "leaky"]), st.floats(min_value=0.02, max_value=1.0, allow_nan=False))
def test_thm51_general_activations(seed, act, frac):
    """Thm 5.1 for any weakly increasing non-expansive φ (ReLU, tanh, leaky ReLU): if μ_{∞,[η]⁻¹}(W) < 1 then
    (2) for α ∈ (0, 1/(1 − min_i[W_ii]⁻)] the α-average map N_α is a contraction of ‖·‖_{∞,[η]⁻¹} (factor
    ≤ 1 − α(1 − μ⁺) on random and nearby pairs), and (1) the fixed point is unique: the iteration from five
    different starts reaches the same point, which solves z = φ(Wz + v) to residual ≤ 1e-10."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    W, eta, _ = mu_W(rng, n)
    mu = linalg.mu_inf(W, eta)
    assert mu < 1 and mu_inf_bound(W, eta).certified
    phi = ACTS[act][0]
    alpha = frac / (1 - min(np.min(np.diag(W)), 0.0))
    rate = 1 - alpha * (1 - max(mu, 0.0))
    v = rng.standard_normal(n) * 2
    N = lambda Z: (1 - alpha) * Z + alpha * phi(Z @ W.T + v)
    Z1 = rng.standard_normal((40, n)) * 3
    Z2 = Z1 + rng.standard_normal((40, n)) * rng.choice([1e-4, 1e-1, 3.0])
    assert np.all(wnorm(N(Z1) - N(Z2), eta) <= rate * wnorm(Z1 - Z2, eta) * (1 + 1e-12) + 1e-14)
    zs = solve_act(W, v, act)
    Z = rng.standard_normal((5, n)) * 5
    d0 = wnorm(Z - zs, eta)
    for k in range(1, 201):
        Z = N(Z)
    assert np.all(wnorm(Z - zs, eta) <= rate ** 200 * d0 * (1 + 1e-9) + 1e-9 * (1 + np.abs(zs).max()))
    if act == "relu":
        res = solvers.solve_injection(W, v, method="alpha_avg", eta=eta, tol=1e-12, max_iter=200000)
        assert res.converged and np.allclose(res.z, zs, atol=1e-9 * (1 + np.abs(zs).max()))


@pytest.mark.theorem("jafarpour2022:thm5.1")
def test_thm51_alpha_range_matters_witness():
    """The α-range in Thm 5.1(2) is needed for the contraction factor 1 − α(1 − μ⁺): W = [[−3]] (μ = −3),
    α_max = 1/(1 + 3) = 0.25. On the active region N_α(z) = (1 − 4α)z + αv: α = 0.475 gives ratio 0.9 >
    1 − α = 0.525, and α = 0.525 gives ratio 1.1 (no contraction)."""
    W = np.array([[-3.0]])
    v = np.array([100.0])
    for alpha, ratio in ((0.475, 0.9), (0.525, 1.1)):
        N = lambda z: (1 - alpha) * z + alpha * relu(W @ z + v)
        z1, z2 = np.array([1.0]), np.array([2.0])
        assert abs((N(z1) - N(z2))[0]) / 1.0 == pytest.approx(ratio, rel=1e-12)
        assert ratio > 1 - alpha
    # inside the range the bound holds
    alpha = 0.25
    N = lambda z: (1 - alpha) * z + alpha * relu(W @ z + v)
    assert abs((N(np.array([1.0])) - N(np.array([2.0])))[0]) <= 1 - alpha + 1e-15


# ------------------------------------------------------------------------------------------ Remark 5.2

@pytest.mark.theorem("jafarpour2022:remark5.2")
@settings(max_examples=scaled(20))
@given(SEEDS, st.floats(min_value=-1.0, max_value=0.95, allow_nan=False))
def test_remark52_part2_mu2_le_gamma_iff_monotone(seed, gamma):
    """Remark 5.2.2: I − ½(W + Wᵀ) ⪰ (1 − γ)I ⇔ μ₂(W) ≤ γ. Checked on MonDEQ matrices shifted so that μ₂(W)
    is γ ± δ: linalg.mu2 vs an eigenvalue oracle, and linalg.check_monotone(W, m = 1 − γ) certifies exactly
    when μ₂(W) < γ (and is not certified when μ₂(W) > γ)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    W0 = MonDEQ(m=0.5).forward(MonDEQ(m=0.5).sample(rng, n))
    delta = rng.uniform(1e-3, 0.3) * rng.choice([-1.0, 1.0])
    W = W0 + (gamma + delta - linalg.mu2(W0)) * np.eye(n)
    lam = np.linalg.eigvalsh(np.eye(n) - 0.5 * (W + W.T))[0]
    assert linalg.mu2(W) == pytest.approx(1 - lam, abs=1e-12)
    mono = lam >= 1 - gamma
    assert mono == (linalg.mu2(W) <= gamma)
    if 1 - gamma >= 0:
        c = linalg.check_monotone(W, m=1 - gamma)
        assert c.certified == (delta < 0)


@pytest.mark.theorem("jafarpour2022:remark5.2")
@settings(max_examples=scaled(20))
@given(SEEDS)
def test_remark52_part1_perron_weight_and_strictness(seed):
    """Remark 5.2.1: λ_pf(|W|) < 1 ⇒ μ_{∞,[η]⁻¹}(W) < 1 with η the (positive) Perron vector of |W| (then
    μ ≤ λ_pf(|W|)), and ‖W‖∞ < 1 ⇒ λ_pf(|W|) ≤ ‖W‖∞ < 1; the inclusion is strict: W = −2I has μ = −2 < 1
    while λ_pf(|W|) = ‖W‖∞ = 2."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    A = rng.uniform(0.05, 1, (n, n)) * rng.choice([-1.0, 1.0], (n, n))   # |W| positive ⇒ Perron vector > 0
    W = A / linalg.pf_eig(np.abs(A)) * rng.uniform(0.1, 0.99)
    rho = linalg.pf_eig(np.abs(W))
    evals, evecs = np.linalg.eig(np.abs(W))
    eta = np.abs(np.real(evecs[:, np.argmax(np.real(evals))]))
    assert np.all(eta > 0)
    assert linalg.mu_inf(W, eta) <= rho * (1 + 1e-9) + 1e-12 < 1 + 1e-12
    assert linalg.check_mu_inf(W).certified
    assert rho <= np.abs(W).sum(1).max() * (1 + 1e-12)
    W2 = -2 * np.eye(n)
    assert linalg.mu_inf(W2) == -2.0 and linalg.pf_eig(np.abs(W2)) == pytest.approx(2.0)
    assert linalg.check_mu_inf(W2).certified and not linalg.check_pf_abs(W2).certified


# ------------------------------------------------------------------------------------------ Thm 6.1 / Remark 6.2

@pytest.mark.theorem("jafarpour2022:thm6.1")
@settings(max_examples=scaled(6))
@given(SEEDS, st.sampled_from(["tanh", "leaky", "relu"]))
def test_thm61_both_parts_general_activation(seed, act):
    """Thm 6.1 (any weakly increasing non-expansive φ): (1) Lip_∞(f_N) ≤ (η_max/η_min)‖U‖∞‖C‖∞/(1 − μ⁺)
    — checked on ℓ∞ Jacobian norms C(I − DW)⁻¹DU at random points and on random slope matrices D ∈ [0,1],
    on pairs, and on sign-gradient attacks; (2) f_N(x′) ∈ f_N(x) ± ξ𝟙, ξ = L‖x − x′‖∞, at random and
    attacked x′. The bound (library jafarpour_linf_lipschitz, printed form) does not depend on φ."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    L = jafarpour_linf_lipschitz(W, U, C, eta, form="printed")
    assert L.certified
    Lv = L.value
    f = lambda x: C @ solve_act(W, U @ x + b, act) + c
    for _ in range(10):
        D = rng.uniform(0, 1, n) * (rng.random(n) < 0.8)
        J = C @ np.linalg.solve(np.eye(n) - D[:, None] * W, D[:, None] * U)
        assert np.abs(J).sum(1).max() <= Lv * (1 + 1e-9)
    for _ in range(3):
        x = rng.standard_normal(d) * 2
        fx = f(x)
        rad = 10 ** rng.uniform(-2, 0)
        xp = x + rng.uniform(-rad, rad, d)
        for _ in range(6):
            fp = f(xp)
            xi = Lv * np.max(np.abs(xp - x))
            assert np.all(np.abs(fp - fx) <= xi * (1 + 1e-9) + 1e-12)
            k = int(np.argmax(np.abs(fp - fx)))
            z = solve_act(W, U @ xp + b, act)
            g = np.sign(fp[k] - fx[k]) * (C @ jac(W, U, b, xp, z, act))[k]
            xp = np.clip(xp + 0.5 * rad * np.sign(g), x - rad, x + rad)


@pytest.mark.theorem("jafarpour2022:remark6.2")
@settings(max_examples=scaled(6))
@given(SEEDS, st.sampled_from(["tanh", "leaky"]))
def test_remark62_part2_pabbaraju_bound_holds_beyond_relu(seed, act):
    """Remark 6.2.2 claims Pabbaraju's ℓ2 bound is restricted to ReLU and 'cannot be extended'. Checked: the
    bound ‖U‖₂/m (library pabbaraju_lipschitz) holds for tanh and leaky-ReLU monDEQs — Jacobians at random and
    attacked points, all slope matrices D ∈ [0,1] sampled, and pairs of solved fixed points — so the claim is
    false as a statement about the bound (havens2023 Thm 3.1 proves it); only Pabbaraju's proof is ReLU-specific."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    m = rng.uniform(0.05, 1.0)
    W = MonDEQ(m=m).forward(MonDEQ(m=m).sample(rng, n, scale=rng.uniform(0.2, 1.5)))
    U, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    L = pabbaraju_lipschitz(W, U)
    assert L.certified and L.value <= np.linalg.norm(U, 2) / m * (1 + 1e-7)
    for _ in range(20):
        D = rng.uniform(0, 1, n)
        assert np.linalg.norm(np.linalg.solve(np.eye(n) - D[:, None] * W, D[:, None] * U), 2) <= L.value * (1 + 1e-9)
    z_of = lambda x: solve_act(W, U @ x + b, act)
    for _ in range(3):
        x = rng.standard_normal(d) * 2
        zx = z_of(x)
        rad = 10 ** rng.uniform(-2, 0.5)
        xp = x + rad * rng.standard_normal(d) / math.sqrt(d)
        for _ in range(6):
            zp = z_of(xp)
            assert np.linalg.norm(zp - zx) <= L.value * np.linalg.norm(xp - x) * (1 + 1e-9) + 1e-12
            J = jac(W, U, b, xp, zp, act)
            assert np.linalg.norm(J, 2) <= L.value * (1 + 1e-9)
            g = J.T @ (zp - zx)
            xp = xp + 0.5 * rad * g / max(np.linalg.norm(g), 1e-300)
            if np.linalg.norm(xp - x) > rad:
                xp = x + (xp - x) * rad / np.linalg.norm(xp - x)


# ------------------------------------------------------------------------------------------ eq. (6)

@pytest.mark.theorem("jafarpour2022:eq6")
@settings(max_examples=scaled(15))
@given(SEEDS)
def test_eq6_embedded_network_as_corrected(seed):
    """(6) with the misprint corrected (left side and output map act on [z̲; z̄], not [x̲; x̄]): the paper's
    lower-first map [Φ(⌈W⌉z̲ + ⌊W⌋z̄ + U⁺x̲ + U⁻x̄ + b); Φ(⌈W⌉z̄ + ⌊W⌋z̲ + U⁺x̄ + U⁻x̲ + b)] equals the library's
    upper-first metzler_lift map; its fixed point (library metzler_box) satisfies the corrected (6); the output
    map [[C⁺, C⁻],[C⁻, C⁺]][z̲; z̄] + c equals output_box; the embedded W has
    μ_{∞,[η;η]⁻¹} = μ_{∞,[η]⁻¹}(W) (why Thm 5.1's condition suffices); with W = 0, (6) is exact interval
    arithmetic (each bound attained at a vertex)."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    Mz, Nz = linalg.metzler_split(W)
    Up, Um = linalg.pos(U), linalg.neg(U)
    xb = Box.ball(rng.standard_normal(d), rng.uniform(0, 1))
    xl, xu = xb.lower, xb.upper

    def paper_map(zl, zu):
        return np.concatenate([relu(Mz @ zl + Nz @ zu + Up @ xl + Um @ xu + b),
                               relu(Mz @ zu + Nz @ zl + Up @ xu + Um @ xl + b)])

    Mh = metzler_lift(W)
    vb = affine_box(U, b, xb)
    for _ in range(5):
        zl, zu = rng.standard_normal(n), rng.standard_normal(n)
        lib = relu(Mh @ np.concatenate([zu, zl]) + np.concatenate([vb.upper, vb.lower]))
        pm = paper_map(zl, zu)
        assert np.allclose(pm[:n], lib[n:], atol=1e-12 * (1 + np.abs(pm).max())) and np.allclose(pm[n:], lib[:n], atol=1e-12 * (1 + np.abs(pm).max()))
    mb = metzler_box(W, vb)
    assert mb.certified
    zl, zu = mb.lower_approx, mb.upper_approx
    assert np.allclose(paper_map(zl, zu), np.concatenate([zl, zu]), atol=1e-9 * (1 + np.abs(zu).max()))
    Cp, Cm = linalg.pos(C), linalg.neg(C)
    yl, yu = Cp @ zl + Cm @ zu + c, Cm @ zl + Cp @ zu + c
    ob = output_box(C, c, Box(zl, zu))
    assert np.allclose(ob.lower, yl, atol=1e-12 * (1 + np.abs(yl).max())) and np.allclose(ob.upper, yu, atol=1e-12 * (1 + np.abs(yu).max()))
    assert linalg.mu_inf(Mh, np.concatenate([eta, eta])) == pytest.approx(linalg.mu_inf(W, eta), rel=1e-12, abs=1e-12)
    # W = 0: exact interval arithmetic of x ↦ relu(Ux + b)
    mb0 = metzler_box(np.zeros((n, n)), vb)
    V = np.array(box_points(rng, xb, 0))
    Z = relu(V @ U.T + b)
    assert np.allclose(mb0.lower_approx, Z.min(0), atol=1e-12 * (1 + np.abs(Z).max()))
    assert np.allclose(mb0.upper_approx, Z.max(0), atol=1e-12 * (1 + np.abs(Z).max()))


# ------------------------------------------------------------------------------------------ Remark 6.4.1–2

@pytest.mark.theorem("jafarpour2022:remark6.4.1")
@settings(max_examples=scaled(10))
@given(SEEDS, st.sampled_from(["relu", "tanh"]))
def test_remark641_forward_euler_and_contracting_ode(seed, act):
    """Remark 6.4.1: N_α(z) = z + α(−z + N(z)) is the forward-Euler step of ż = −z + N(z) (same for the embedded
    map with the library's metzler_lift); μ_{∞,[η]⁻¹}(W) < 1 makes the ODE contracting: for every slope matrix
    D ∈ [0,1], μ_{∞,[η]⁻¹}(−I + DW) ≤ −(1 − μ⁺), and Euler trajectories with a small step h from two initial
    states satisfy ‖x(t) − y(t)‖ ≤ e^{−(1−μ⁺)t}‖x(0) − y(0)‖ (weighted norm)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    W, eta, _ = mu_W(rng, n)
    mu = linalg.mu_inf(W, eta)
    phi = ACTS[act][0]
    v = rng.standard_normal(n)
    alpha = rng.uniform(0.05, 1) / (1 - min(np.min(np.diag(W)), 0.0))
    z = rng.standard_normal(n)
    Nz = phi(W @ z + v)
    assert np.allclose(z + alpha * (-z + Nz), (1 - alpha) * z + alpha * Nz, rtol=1e-14, atol=1e-14)
    Mh = metzler_lift(W)
    p = rng.standard_normal(2 * n)
    vh = np.concatenate([v + 0.1, v - 0.1])
    NE = relu(Mh @ p + vh)
    res = solvers.solve_injection(Mh, vh, method="alpha_avg", alpha=alpha, z0=p, max_iter=1, tol=1e-300)
    assert np.allclose(res.z, p + alpha * (-p + NE), rtol=1e-13, atol=1e-13)
    for _ in range(10):
        D = rng.uniform(0, 1, n)
        assert linalg.mu_inf(-np.eye(n) + D[:, None] * W, eta) <= -(1 - max(mu, 0.0)) + 1e-12
    h = 0.1 / (1 - min(np.min(np.diag(W)), 0.0))
    x, y = rng.standard_normal(n) * 3, rng.standard_normal(n) * 3
    d0 = wnorm(x - y, eta)
    for k in range(1, 301):
        x = x + h * (-x + phi(W @ x + v))
        y = y + h * (-y + phi(W @ y + v))
        assert wnorm(x - y, eta) <= math.exp(-(1 - max(mu, 0.0)) * h * k) * d0 * (1 + 1e-9) + 1e-14


@pytest.mark.theorem("jafarpour2022:remark6.4.2")
@settings(max_examples=scaled(10))
@given(SEEDS)
def test_remark642_embedded_cost_two_passes(seed):
    """Remark 6.4.2 (evaluation cost; not a mathematical statement). Checked instead: (a) one embedded step
    costs two passes of the nominal network — in midpoint/radius form the lower and upper pre-activations are
    W c ∓ M r (+ U x_c ∓ |U| x_r + b) with M = ⌈W⌉^Mzl − ⌊W⌋^Mzl (linalg.metzler_majorant), i.e. two n×n and two
    n×r products, equal to the library's 2n×2n metzler_lift product; (b) both α-average iterations obey the
    same a-priori rate 1 − α(1 − μ⁺), so the embedded solve needs no more iterations than that bound gives."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    M = linalg.metzler_majorant(W)
    xb = Box.ball(rng.standard_normal(d), rng.uniform(0, 1))
    zl = rng.standard_normal(n)
    zu = zl + rng.uniform(0, 1, n)
    zc, zr = (zl + zu) / 2, (zu - zl) / 2
    xc, xr = (xb.lower + xb.upper) / 2, (xb.upper - xb.lower) / 2
    lo = W @ zc - M @ zr + U @ xc - np.abs(U) @ xr + b
    hi = W @ zc + M @ zr + U @ xc + np.abs(U) @ xr + b
    vb = affine_box(U, b, xb)
    lib = metzler_lift(W) @ np.concatenate([zu, zl]) + np.concatenate([vb.upper, vb.lower])
    tol = 1e-12 * (1 + np.abs(lib).max())
    assert np.allclose(hi, lib[:n], atol=tol) and np.allclose(lo, lib[n:], atol=tol)
    mu = linalg.mu_inf(W, eta)
    alpha = 1 / (1 - min(np.min(np.diag(W)), 0.0))
    rate = 1 - alpha * (1 - max(mu, 0.0))
    vh = np.concatenate([vb.upper, vb.lower])
    nom = solvers.solve(W, U, b, xc, method="alpha_avg", eta=eta, tol=1e-10, norm="inf", max_iter=100000)
    emb = solvers.solve_injection(metzler_lift(W), vh, method="alpha_avg", eta=np.concatenate([eta, eta]),
                                  tol=1e-10, norm="inf", max_iter=100000)
    assert nom.converged and emb.converged
    for res, v, e in ((nom, U @ xc + b, eta), (emb, vh, np.concatenate([eta, eta]))):
        # a-priori bound (z0 = 0, solver's default α = α_max): ‖z_k − z*‖_w ≤ rate^k‖z*‖_w,
        # ‖z*‖_w ≤ ‖N_α(0)‖_w/(α(1 − μ⁺)), ‖z_k − N(z_k)‖_w ≤ (1 + rate)‖z_k − z*‖_w/α, ‖·‖∞ ≤ η_max‖·‖_w
        r0 = float(np.max(relu(v) / e))
        if r0 == 0:
            assert res.iterations == 0
            continue
        c0 = e.max() * (1 + rate) / alpha * r0 / (1 - max(mu, 0.0))
        k_star = math.ceil(math.log(1e-10 / c0) / math.log(rate)) if c0 > 1e-10 else 0
        assert res.iterations <= max(k_star, 0)


# ------------------------------------------------------------------------------------------ eq. (8)

def _ce_ascent(W, U, b, C, c, label, x0, xb, iters):
    """Sign-gradient ascent of the cross-entropy ℒ(Cz*(x) + c, label) over the box ``xb`` from x0
    (step half the box width, gradient through the implicit Jacobian); returns the iterates."""
    x, pts = x0.copy(), []
    for _ in range(iters):
        z = fixed_point(W, U, b, x)
        lg = C @ z + c
        pr = np.exp(lg - lg.max())
        pr /= pr.sum()
        g = (pr - np.eye(len(lg))[label]) @ C @ jac(W, U, b, x, z)
        x = np.clip(x + 0.5 * xb.width * np.sign(g), xb.lower, xb.upper)
        pts.append(x.copy())
    return pts


@pytest.mark.theorem("jafarpour2022:eq8")
@settings(max_examples=scaled(30))
@given(SEEDS)
def test_eq8_cross_entropy_is_2_lipschitz_linf(seed):
    """Step behind (8): ℒ(z + δ, y) ≤ ℒ(z, y) + 2‖δ‖∞ for the cross-entropy (gradient softmax − e_y has ℓ1 norm
    ≤ 2; convexity — the printed reason — only gives a lower bound ℒ(z + δ) ≥ ℒ(z) + ∇ℒᵀδ, also checked).
    The constant 2 is sharp: z = (−K, 0), y = 0, δ = (−ξ, ξ) gives an increase → 2ξ."""
    rng = np.random.default_rng(seed)
    q = int(rng.integers(2, 8))
    z = rng.standard_normal(q) * rng.uniform(0.1, 10)
    y = int(rng.integers(0, q))
    xi = 10 ** rng.uniform(-3, 1)
    p = np.exp(z - z.max())
    p /= p.sum()
    g = p - np.eye(q)[y]
    for _ in range(20):
        dlt = rng.uniform(-xi, xi, q) if rng.random() < 0.5 else xi * rng.choice([-1.0, 1.0], q)
        assert ce(z + dlt, y) <= ce(z, y) + 2 * np.max(np.abs(dlt)) + 1e-12 * (1 + abs(ce(z, y)))
        assert ce(z + dlt, y) >= ce(z, y) + g @ dlt - 1e-12 * (1 + abs(ce(z, y)))
    dlt = -xi * np.sign(g) * (g != 0)                  # worst sign pattern
    assert ce(z + dlt, y) <= ce(z, y) + 2 * xi + 1e-12 * (1 + abs(ce(z, y)))
    K = 60.0
    zz, d2 = np.array([-K, 0.0]), np.array([-xi, xi])
    reached("jafarpour2022:eq8", (ce(zz + d2, 0) - ce(zz, 0)) / (2 * xi))


@pytest.mark.theorem("jafarpour2022:eq8")
@settings(max_examples=scaled(6))
@given(SEEDS)
def test_eq8_lipschitz_penalty_bounds_robust_loss_on_model(seed):
    """(8): with λ = 2ε, ℒ(f_N(x), ŷ) ≤ ℒ(f_N(x̂), ŷ) + λ·(η_max/η_min)‖U‖∞‖C‖∞/(1 − μ⁺) for every x in
    x̂ ± ε𝟙; checked against the worst loss found by box sampling and sign-gradient ascent on the loss."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    L = jafarpour_linf_lipschitz(W, U, C, eta, form="printed").details["printed"]
    xh = rng.standard_normal(d)
    yh = int(rng.integers(0, C.shape[0]))
    eps = 10 ** rng.uniform(-2, 0)
    base = ce(C @ fixed_point(W, U, b, xh) + c, yh)
    rhs = base + 2 * eps * L
    xb = Box.ball(xh, eps)
    worst = base
    for x in box_points(rng, xb, 10) + _ce_ascent(W, U, b, C, c, yh, xh, xb, 10):
        worst = max(worst, ce(C @ fixed_point(W, U, b, x) + c, yh))
    assert worst <= rhs * (1 + 1e-12) + 1e-12


# ------------------------------------------------------------------------------------------ eq. (10), (11)

def _eq10(C, c, label, zl, zu):
    q = C.shape[0]
    T = np.ones((q, 1)) @ np.eye(q)[label][None, :] - np.eye(q)     # m = T f = f_i 𝟙 − f
    TC = T @ C
    return linalg.pos(TC) @ zl + linalg.neg(TC) @ zu + T @ c, T


@pytest.mark.theorem("jafarpour2022:eq10")
@settings(max_examples=scaled(8))
@given(SEEDS)
def test_eq10_relative_classifier_lower_bound(seed):
    """(9)–(10): m^x(x′) = f_N(x′)_i𝟙 − f_N(x′) = T^x C z*_{x′} + T^x c, and
    m̲ = [T^xC]⁺z̲* + [T^xC]⁻z̄* + T^xc (z̲*, z̄* from the embedded network, library metzler box) satisfies
    m̲ ≤ m^x(x′) for every x′ in the box (samples, vertices, attack on each m_j); m̲ agrees with the library's
    margin_lower_bounds (rounded down) and is never looser than the output-box bound y̲_i − ȳ_j;
    m^x(x′)_j > 0 ∀j ≠ i ⇔ argmax f_N(x′) = i (no ties in the samples)."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    x = rng.standard_normal(d)
    i = int(np.argmax(C @ fixed_point(W, U, b, x) + c))
    xb = Box.ball(x, 10 ** rng.uniform(-2, 0))
    ib = interval_bounds(W, U, b, xb, "metzler")
    assert ib.certified
    mlow, T = _eq10(C, c, i, ib.box.lower, ib.box.upper)
    lib = margin_lower_bounds(C, c, ib.box, i)
    off = np.arange(C.shape[0]) != i
    assert np.all(lib[off] <= mlow[off] + 1e-12) and np.allclose(lib[off], mlow[off], atol=1e-9 * (1 + np.abs(mlow).max()))
    assert mlow[i] == 0
    ob = output_box(C, c, ib.box)
    assert np.all(mlow[off] >= (ob.lower[i] - ob.upper)[off] - 1e-12)
    pts = box_points(rng, xb, 12)
    for j in np.flatnonzero(off):                 # attack each margin
        xp = x.copy()
        for _ in range(6):
            z = fixed_point(W, U, b, xp)
            g = (C[i] - C[j]) @ jac(W, U, b, xp, z)
            xp = np.clip(xp - 0.5 * xb.width * np.sign(g), xb.lower, xb.upper)
            pts.append(xp.copy())
    for xp in pts:
        f = C @ fixed_point(W, U, b, xp) + c
        m = T @ f
        assert np.allclose(m, f[i] - f, atol=1e-12 * (1 + np.abs(f).max()))
        assert np.all(mlow <= m + 1e-9 * (1 + np.abs(f).max()))
        if np.min(np.abs(m[off])) > 1e-9:
            assert bool(np.all(m[off] > 0)) == (int(np.argmax(f)) == i)


@pytest.mark.theorem("jafarpour2022:eq11")
@settings(max_examples=scaled(8))
@given(SEEDS, st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
def test_eq11_inclusion_loss_upper_bounds_loss_in_box(seed, kappa):
    """(11): ℒ(f_N(x), ŷ) ≤ ℒ(−m̲, ŷ) for all x in [x̲, x̄] (Wong & Kolter Thm 2: ℒ is shift invariant so
    ℒ(f_N(x)) = ℒ(−m^x(x)), and increasing in the non-label logits, −m̲ ≥ −m^x(x)); checked at sampled,
    vertex and loss-ascent points with the library's embedded-network box. The (11) objective
    (1 − κ)ℒ(f_N(x̂)) + κℒ(−m̲) lies between the nominal loss and this upper bound."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    xh = rng.standard_normal(d)
    yh = int(rng.integers(0, C.shape[0]))
    xb = Box.ball(xh, 10 ** rng.uniform(-2, 0))
    ib = interval_bounds(W, U, b, xb, "metzler")
    assert ib.certified
    mlow, T = _eq10(C, c, yh, ib.box.lower, ib.box.upper)
    ub = ce(-mlow, yh)
    nominal = ce(C @ fixed_point(W, U, b, xh) + c, yh)
    obj = (1 - kappa) * nominal + kappa * ub
    assert nominal <= obj + 1e-12 and obj <= ub + 1e-12
    for xp in box_points(rng, xb, 10) + _ce_ascent(W, U, b, C, c, yh, xh, xb, 8):
        f = C @ fixed_point(W, U, b, xp) + c
        assert ce(f, yh) == pytest.approx(ce(-(T @ f), yh), rel=1e-12, abs=1e-12)
        assert ce(f, yh) <= ub + 1e-9 * (1 + abs(ub))


# ------------------------------------------------------------------------------------------ §8 definition, (13), (14)

@pytest.mark.theorem("jafarpour2022:sec8.def")
def test_sec8_printed_max_form_certifies_a_nonrobust_point():
    """§8 definition as printed: max_{v∈ℝ^r}{f_N(x′)_i − max_{j≠i} f_N(x′)_j | ‖x − x′‖∞ ≤ ε} ≥ 0 — v is unused,
    read as a max over x′ it holds as soon as one point of the ball is classified i. Witness DEQ (W = [[−0.5]]
    scalar hidden unit, y = (z, 0.5)): at x = 1.2 the label is 0, the ball of radius 1 contains x′ = 0.2 with
    label 1, so the max-form is ≥ 0 but the point is not robust; the corrected min over x′ is < 0, and
    neither certificate (13) nor (14) certifies it."""
    W, U, b = np.array([[-0.5]]), np.array([[1.0]]), np.zeros(1)
    C, c = np.array([[1.0], [0.0]]), np.array([0.0, 0.5])
    f = lambda x: C @ fixed_point(W, U, b, np.array([x])) + c       # z* = relu(x)/1.5
    x, eps = 1.2, 1.0
    marg = lambda xp: f(xp)[0] - f(xp)[1]
    grid = np.linspace(x - eps, x + eps, 201)
    vals = np.array([marg(t) for t in grid])
    assert vals.max() >= 0 and marg(x) > 0                    # printed max-form "certifies"
    assert vals.min() < 0 and marg(0.2) < 0                   # but the label flips inside the ball
    assert not certify_linf_box(W, U, b, C, c, np.array([x]), 0, eps).certified
    assert not certify_linf_lipschitz(W, U, b, C, c, np.array([x]), 0, eps).certified


@pytest.mark.theorem("jafarpour2022:sec8.def")
@pytest.mark.theorem("jafarpour2022:eq14")
@pytest.mark.theorem("jafarpour2022:eq13")
@settings(max_examples=scaled(8))
@given(SEEDS)
def test_certificates_imply_min_form_definition(seed):
    """§8 (min form, strict) with (13) and (14): whenever the library's (13) or (14) certificate is CERTIFIED,
    the corrected definition min_{‖x′−x‖∞≤ε} f_i(x′) − max_{j≠i} f_j(x′) > 0 holds at every sampled, vertex and
    attacked x′ (sign-gradient descent on the worst pairwise margin); and the (14) margin is a lower bound
    of that minimum."""
    rng = np.random.default_rng(seed)
    W, eta, U, b, C, c = model(rng)
    n, d = U.shape
    for _ in range(3):
        x = rng.standard_normal(d)
        f0 = C @ fixed_point(W, U, b, x) + c
        i = int(np.argmax(f0))
        eps = 10 ** rng.uniform(-3, -0.5)
        c14 = certify_linf_box(W, U, b, C, c, x, i, eps)
        c13 = certify_linf_lipschitz(W, U, b, C, c, x, i, eps)
        if not (c13.certified or c14.certified):
            continue
        xb = Box.ball(x, eps)
        pts = box_points(rng, xb, 10)
        xp = x.copy()
        for _ in range(8):
            z = fixed_point(W, U, b, xp)
            f = C @ z + c
            j = int(np.argmax(np.where(np.arange(len(f)) == i, -np.inf, f)))
            g = (C[i] - C[j]) @ jac(W, U, b, xp, z)
            xp = np.clip(xp - 0.5 * eps * np.sign(g), x - eps, x + eps)
            pts.append(xp.copy())
        for xp in pts:
            f = C @ fixed_point(W, U, b, xp) + c
            mn = f[i] - np.max(np.delete(f, i))
            assert mn > 0
            if c14.certified:
                assert c14.margin <= mn + 1e-9 * (1 + np.abs(f).max())
