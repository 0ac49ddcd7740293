"""Unit tests for deqtheory.linalg (parts, matrix measures, optimal η, Perron bounds, PSD factors, checks)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from deqtheory import errors, linalg as L
from deqtheory.certificates import Status


# ---------------------------------------------------------------- parts / split
def test_parts_and_identities(rng):
    W = rng.standard_normal((4, 6))
    P, N, A = L.pos(W), L.neg(W), L.absm(W)
    assert np.array_equal(P + N, W)
    assert np.array_equal(P - N, A)
    assert (P >= 0).all() and (N <= 0).all()
    S = rng.standard_normal((5, 5))
    assert np.allclose(L.sym(S), (S + S.T) / 2) and np.array_equal(L.sym(S), L.sym(S).T)


def test_metzler_split_keeps_whole_diagonal():
    W = np.array([[-2.0, -1.0, 3.0], [4.0, -0.5, -6.0], [0.0, 7.0, 1.0]])
    Mzl, non = L.metzler_split(W)
    assert np.array_equal(Mzl, [[-2.0, 0.0, 3.0], [4.0, -0.5, 0.0], [0.0, 7.0, 1.0]])
    assert np.array_equal(non, [[0.0, -1.0, 0.0], [0.0, 0.0, -6.0], [0.0, 0.0, 0.0]])
    assert np.array_equal(Mzl + non, W)
    # differs from the IBP split exactly on the (negative) diagonal
    assert not np.array_equal(Mzl, L.pos(W))
    off = ~np.eye(3, dtype=bool)
    assert np.array_equal(Mzl[off], L.pos(W)[off]) and np.array_equal(non[off], L.neg(W)[off])
    M = L.metzler_majorant(W)
    assert np.array_equal(M, Mzl - non)
    assert np.array_equal(np.diag(M), np.diag(W))


# ---------------------------------------------------------------- matrix measures
def _weighted_inf_norm(B, eta):
    return np.max(np.sum(np.abs(B) * eta[None, :], axis=1) / eta)


def test_mu_inf_matches_formula_and_limit_definition(rng):
    """μ(A) = lim_{h↓0} (‖I + hA‖ − 1)/h in the norm max_i |x_i|/η_i (independent oracle)."""
    n = 5
    W = rng.standard_normal((n, n))
    eta = rng.uniform(0.2, 3.0, n)
    loop = max(W[i, i] + sum(eta[j] / eta[i] * abs(W[i, j]) for j in range(n) if j != i) for i in range(n))
    assert L.mu_inf(W, eta) == pytest.approx(loop, rel=1e-13)
    h = 1e-7
    lim = (_weighted_inf_norm(np.eye(n) + h * W, eta) - 1) / h
    assert L.mu_inf(W, eta) == pytest.approx(lim, abs=1e-5)
    # similarity form: μ_∞([η]^{-1} W [η])
    B = W * eta[None, :] / eta[:, None]
    assert L.mu_inf(W, eta) == pytest.approx(np.max(np.diag(B) + np.sum(np.abs(B), 1) - np.abs(np.diag(B))))
    assert L.mu_inf(W) == pytest.approx(L.mu_inf(W, np.ones(n)))
    assert L.mu_inf_upper(W, eta) >= L.mu_inf(W, eta)
    assert L.mu_inf_upper(W, eta) - L.mu_inf(W, eta) < 1e-13 * (1 + np.abs(W).sum())


def test_mu2(rng):
    W = rng.standard_normal((6, 6))
    assert L.mu2(W) == pytest.approx(np.max(np.linalg.eigvalsh(W + W.T)) / 2)
    h = 1e-7  # limit definition with the 2-norm
    assert L.mu2(W) == pytest.approx((np.linalg.norm(np.eye(6) + h * W, 2) - 1) / h, abs=1e-5)
    assert L.mu2(W) >= np.max(np.linalg.eigvals(W).real) - 1e-12


# ---------------------------------------------------------------- min over eta
def test_min_mu_inf_irreducible_equals_abscissa_and_lp(rng):
    W = rng.standard_normal((6, 6)) * 0.4
    r = L.min_mu_inf(W)
    M = L.metzler_majorant(W)
    alpha = np.max(np.linalg.eigvals(M).real)
    assert r.method in ("perron", "resolvent")
    assert r.mu == pytest.approx(alpha, abs=1e-12)
    assert r.mu_upper >= r.mu and (r.eta > 0).all() and r.eta.max() == 1.0
    lp = L.min_mu_inf(W, method="lp")
    assert lp.method == "lp" and lp.mu == pytest.approx(alpha, abs=1e-6)
    assert lp.mu >= alpha - 1e-12
    res = L.min_mu_inf(W, method="resolvent")
    assert res.mu == pytest.approx(alpha, abs=1e-8)


def test_min_mu_inf_brute_force_n2():
    W = np.array([[0.3, -2.0], [0.1, -0.5]])
    f = lambda t: L.mu_inf(W, np.array([1.0, math.exp(t)]))
    bf = minimize_scalar(f, bounds=(-20, 20), method="bounded", options={"xatol": 1e-12}).fun
    r = L.min_mu_inf(W)
    assert r.mu <= bf + 1e-9
    # closed form: alpha of [[0.3, 2], [0.1, -0.5]]
    alpha = (0.3 - 0.5) / 2 + math.sqrt(((0.3 + 0.5) / 2) ** 2 + 0.2)
    assert r.mu == pytest.approx(alpha, abs=1e-12) and bf == pytest.approx(alpha, abs=1e-7)


def test_min_mu_inf_reducible_infimum_not_attained():
    """W = [[0,1],[0,0]]: μ_η = η_2/η_1 > 0 for every η, infimum 0 = α; we get arbitrarily close."""
    W = np.array([[0.0, 1.0], [0.0, 0.0]])
    r = L.min_mu_inf(W)
    assert 0 < r.mu < 1e-10 and (r.eta > 0).all()
    assert L.check_mu_inf(W).certified


def test_min_mu_inf_negative_diagonal_nemon():
    """NEMON-type W (very negative diagonal): μ < 1 although |W| has Perron root > 1."""
    W = np.array([[-5.0, 2.0], [3.0, -5.0]])
    c = L.check_mu_inf(W)
    assert c.certified and c.margin > 0
    assert L.check_pf_abs(W).status is Status.REFUTED
    assert L.check_ibp_wellposed(W).status is Status.REFUTED


def test_min_mu_inf_bad_method():
    with pytest.raises(errors.DomainError, match="method"):
        L.min_mu_inf(np.eye(2), method="nope")


# ---------------------------------------------------------------- Perron root
def test_pf_eig_and_bounds_known():
    A = np.array([[1.0, 2.0], [3.0, 2.0]])   # eigenvalues 4, -1
    assert L.pf_eig(A) == pytest.approx(4.0)
    up, lo = L.pf_upper_bound(A), L.pf_lower_bound(A)
    assert lo.bound <= 4.0 <= up.bound and up.bound - lo.bound < 1e-13
    # a given v gives the Collatz–Wielandt max ratio
    assert L.pf_upper_bound(A, v=[1.0, 1.0]).bound >= 5.0
    # reducible, nilpotent: rho = 0, upper bound tends to 0
    Z = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert 0.0 <= L.pf_upper_bound(Z).bound < 1e-4
    with pytest.raises(errors.DomainError, match="nonnegative"):
        L.pf_eig(-A)
    with pytest.raises(errors.DomainError):
        L.pf_lower_bound(A, v=[-1.0, 1.0])


def test_norm2_upper_bound(rng):
    for shape in [(3, 3), (2, 5), (6, 1)]:
        M = rng.standard_normal(shape)
        ub = L.norm2_upper_bound(M)
        s = np.linalg.norm(M, 2)
        assert s <= ub <= s * (1 + 1e-10)
    assert L.norm2_upper_bound(np.zeros((2, 2))) == 0.0


# ---------------------------------------------------------------- PSD factors
def test_psd_factor_exactly_singular_zero_block():
    """sym(M) with an exactly zero block (as in the SLL→LBEN conversion)."""
    A = np.zeros((5, 5))
    B = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
    A[2:, 2:] = B
    V = L.psd_factor(A)
    assert np.allclose(V.T @ V, A, atol=1e-14)
    assert np.min(np.linalg.eigvalsh(V.T @ V)) >= -1e-15
    S = L.psd_sqrt(A)
    assert np.array_equal(S, S.T) or np.allclose(S, S.T, atol=1e-15)
    assert np.allclose(S @ S, A, atol=1e-14) and np.min(np.linalg.eigvalsh(S)) >= -1e-15
    assert L.psd_factor(A, trim=True).shape == (3, 5)
    assert np.allclose(S[:2], 0) and np.allclose(S[:, :2], 0)


def test_psd_rounding_noise_is_clipped_but_indefinite_is_not(rng):
    C = rng.standard_normal((2, 6))
    A = C.T @ C                    # rank 2, eigenvalues ~±1e-16 below zero are noise
    V = L.psd_factor(A)
    assert np.allclose(V.T @ V, A, atol=1e-13)
    Ind = np.diag([1.0, -1e-3])
    with pytest.raises(errors.DEQLinAlgError, match="not positive semidefinite"):
        L.psd_sqrt(Ind)
    with pytest.warns(errors.IllConditionedWarning):
        V = L.psd_factor(Ind, on_indefinite="warn")
    assert np.allclose(V.T @ V, np.diag([1.0, 0.0]))
    with pytest.raises(errors.DomainError, match="symmetric"):
        L.psd_factor(np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(errors.DomainError, match="on_indefinite"):
        L.psd_factor(np.eye(2), on_indefinite="clip")


# ---------------------------------------------------------------- checks
def test_check_monotone_cases(rng):
    S = rng.standard_normal((4, 4))
    W = 0.5 * np.eye(4) + (S - S.T)          # sym(I - W) = 0.5 I
    c = L.check_monotone(W)
    assert c.certified and 0.5 - 1e-12 < c.margin <= 0.5
    assert c.verify(W=W).certified
    c2 = L.check_monotone(W, m=0.4)
    assert c2.certified and 0.1 - 1e-12 < c2.margin <= 0.1
    assert c2.verify(W=W).certified
    c3 = L.check_monotone(W, m=0.6)
    assert c3.status is Status.REFUTED and c3.margin < 0
    assert c3.verify(W=W).status is Status.REFUTED
    v = c3.witness["v"]
    assert v @ ((0.4 * np.eye(4) - W) @ v) < 0
    # exact boundary m = 0.5 is not certified (strict margin convention)
    assert not L.check_monotone(W, m=0.5).certified
    with pytest.raises(errors.DomainError):
        L.check_monotone(W, m=-1.0)


def test_check_ibp_wellposed_boundary_parametrization(rng):
    """wei2022 IBP-MonDEQ parametrization with D = (|M|1 + |M|ᵀ1)/(2(1−m)) gives
    λ_min(sym(I − |W|)) = m exactly: the margin must be ≤ m (up to the rounding in forming W)."""
    m = 0.1
    M = rng.standard_normal((6, 6))
    d = (np.abs(M).sum(1) + np.abs(M).sum(0)) / (2 * (1 - m))
    W = M / np.sqrt(d)[:, None] / np.sqrt(d)[None, :]
    c = L.check_ibp_wellposed(W)
    assert c.certified and m - 1e-9 < c.margin <= m + 1e-13
    assert c.verify(W=W).certified
    assert L.check_ibp_wellposed(2 * W).status is Status.REFUTED


def test_check_pf_abs_and_mu_inf_roundtrip(rng):
    W = rng.standard_normal((5, 5)) * 0.15
    for check in (L.check_pf_abs, L.check_mu_inf):
        c = check(W)
        assert c.certified and c.margin > 0
        r = c.verify(W=W)
        assert r.certified and r.margin == pytest.approx(c.margin, abs=1e-15)
    # tampered witness: eta = 1 cannot certify a W that needs a badly scaled weight
    W2 = np.array([[0.0, 10.0], [0.001, 0.0]])   # needs eta ~ (1, 0.01)
    c = L.check_mu_inf(W2)
    assert c.certified
    bad = c.replace(witness={"eta": np.ones(2)})
    assert not bad.verify(W=W2).certified
    assert not L.check_mu_inf(W2, eta=np.ones(2)).certified
    assert L.check_mu_inf(W2, eta=c.witness["eta"]).certified
    with pytest.raises(errors.DomainError, match="eta"):
        L.check_mu_inf(W2, eta=[1.0, 0.0])


def test_check_refutations_are_proofs():
    W = np.array([[0.9, 0.5], [0.5, 0.9]])
    c = L.check_pf_abs(W)                     # rho(|W|) = 1.4
    assert c.status is Status.REFUTED and c.stats["lower_bound"] >= 1
    assert c.verify(W=W).status is Status.REFUTED
    c = L.check_mu_inf(W)
    assert c.status is Status.REFUTED and c.verify(W=W).status is Status.REFUTED
    # exactly at the boundary rho = 1: never certified
    B = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert not L.check_pf_abs(B).certified and not L.check_mu_inf(B).certified


def test_remark_6_4_4_ibp_fixed_point_not_unique_under_mu_condition():
    """jafarpour2022 Remark 6.4.4: μ∞,[η]⁻¹(W) < 1 does not ensure well-posedness of the IBP
    fixed point. W = [[-3]]: μ = -3 < 1 but z = relu(Ŵ z + v), v = (1, 1) has three solutions."""
    W = np.array([[-3.0]])
    assert L.check_mu_inf(W).certified
    from deqtheory.spectrum import ibp_lift
    Wh = ibp_lift(W)
    v = np.ones(2)
    sols = [np.array([0.25, 0.25]), np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    for z in sols:
        assert np.allclose(np.maximum(Wh @ z + v, 0), z)
    assert L.check_ibp_wellposed(W).status is Status.REFUTED


@pytest.mark.parametrize("fn", [L.check_monotone, L.check_ibp_wellposed, L.check_pf_abs, L.check_mu_inf,
                                L.min_mu_inf, L.mu2, L.mu_inf, L.metzler_split, L.psd_sqrt])
@pytest.mark.parametrize("bad, exc", [
    (np.ones((2, 3)), errors.ShapeError), (np.array([[np.nan, 0.0], [0.0, 1.0]]), errors.NonFiniteError),
    (np.zeros((0, 0)), errors.EmptyArrayError), (np.eye(2) * 1j, errors.DTypeError), (np.ones(3), errors.ShapeError),
])
def test_bad_input(fn, bad, exc):
    with pytest.raises(exc):
        fn(bad)


def test_certificate_not_bool():
    with pytest.raises(TypeError):
        bool(L.check_monotone(np.zeros((2, 2))))
