"""Property tests: every parametrization's forward output satisfies its defining condition (dense
numpy oracles, independent of the code under test), the analytic identities of the papers hold,
and the constructive converses round-trip on matrices built independently of the parametrization."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory.parametrizations import (CerDEQ, CerDEQParams, GMonDEQ, IBPMonDEQ, IBPMonDEQGamma, LBEN,
                                        MonDEQ, NonEuclidean, bjorck_order2, bjorck_poly, eq12_as_printed,
                                        row_col_mass)
from deqtheory.testing import scaled

seeds = st.integers(min_value=0, max_value=2**32 - 1)
dims = st.integers(min_value=1, max_value=6)
unit = st.floats(min_value=0.01, max_value=0.95, allow_nan=False, allow_infinity=False)


def lam_min_sym(X):
    return float(np.linalg.eigvalsh((X + X.T) / 2)[0])


def mu_inf_oracle(W, eta):
    """jafarpour2022 §3: μ∞,[η]⁻¹(W) = max_i W_ii + Σ_{j≠i} η_j/η_i |W_ij| (loops, no vectorization)."""
    n = W.shape[0]
    return max(W[i, i] + sum(eta[j] / eta[i] * abs(W[i, j]) for j in range(n) if j != i) for i in range(n))


def ibp_lift(W):
    P, N = np.maximum(W, 0), np.minimum(W, 0)
    return np.block([[P, N], [N, P]])


# --------------------------------------------------------------------------------- havens2023
@pytest.mark.theorem("havens2023:prop2.1")
@given(seed=seeds, n=dims, m=unit, rank=st.integers(min_value=1, max_value=6))
def test_mondeq_monotone(seed, n, m, rank):
    """havens2023 (5): sym(I − W) = mI + AᵀA ⪰ mI (Prop 2.1 with Γ = I), also for rank-deficient A."""
    rng = np.random.default_rng(seed)
    p = MonDEQ(m=m)
    prm = p.sample(rng, n, rank=rank)
    W = p.forward(prm)
    S = np.eye(n) - (W + W.T) / 2
    assert np.allclose(S - m * np.eye(n), prm.A.T @ prm.A, atol=1e-12)
    assert lam_min_sym(np.eye(n) - W) >= m - 1e-12
    assert p.contains(W).certified


@pytest.mark.theorem("havens2023:prop2.1")
@given(seed=seeds, n=dims, m=unit)
def test_gmondeq_lmi3_identity(seed, n, m):
    """havens2023 §2.3: for W of (6), 2Γ − ΓW − WᵀΓ with Γ = Φ⁻¹ equals 2AᵀA + 2mI ≻ 0."""
    rng = np.random.default_rng(seed)
    p = GMonDEQ(m=m)
    prm = p.sample(rng, n)
    W = p.forward(prm)
    Gam = np.diag(1.0 / prm.phi)
    lhs = 2 * Gam - Gam @ W - W.T @ Gam
    rhs = 2 * prm.A.T @ prm.A + 2 * m * np.eye(n)
    assert np.allclose(lhs, rhs, atol=1e-10 * max(1.0, np.abs(rhs).max()))
    assert lam_min_sym(lhs) >= 2 * m * (1 - 1e-9)
    assert p.contains(W, Gamma=1.0 / prm.phi).certified
    dc = p.defining_condition(prm)
    assert dc.certified and dc.margin <= lam_min_sym(lhs) + 1e-12   # a lower bound, never above truth


@pytest.mark.theorem("havens2023:prop2.2")
@given(seed=seeds, n=dims, L=st.floats(min_value=0.1, max_value=10.0), eps=st.floats(min_value=0.0, max_value=1.0),
       rank=st.integers(min_value=1, max_value=6))
def test_lben_lmi4_identity(seed, n, L, eps, rank):
    """havens2023 §2.3: for W of (7), (4) with Λ = Ψ⁻¹ has left side 2VᵀV + 2εI ⪰ 2εI."""
    rng = np.random.default_rng(seed)
    p = LBEN(L=L, eps=eps)
    prm = p.sample(rng, n)
    prm = prm.replace(V=prm.V[:rank])          # also rank-deficient V (equality in ⪰ 2εI)
    W = p.forward(prm)
    Lam = np.diag(1.0 / prm.psi)
    G, U, V = prm.G, prm.U, prm.V
    lhs = 2 * Lam - Lam @ W - W.T @ Lam - G.T @ G / L - Lam @ U @ U.T @ Lam / L
    rhs = 2 * V.T @ V + 2 * eps * np.eye(n)
    assert np.allclose(lhs, rhs, atol=1e-10 * max(1.0, np.abs(lhs).max(), np.abs(Lam).max() ** 2))
    assert lam_min_sym(lhs) >= 2 * eps - 1e-9 * max(1.0, np.abs(lhs).max())
    assert p.contains(W, G=G, U=U, Lambda=1.0 / prm.psi).certified


@given(seed=seeds, n=dims, m=unit)
def test_mondeq_right_inverse_of_independent_w(seed, n, m):
    """Converse of (5): any W with sym(I − W) ⪰ mI (built as mI + PSD + skew, independently)
    is reproduced by forward(right_inverse(W)); the factor A is never indefinite."""
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((n, n))
    K = rng.standard_normal((n, n))
    W = np.eye(n) - (m * np.eye(n) + R @ R.T / n + (K - K.T))
    p = MonDEQ(m=m)
    W2 = p.forward(p.right_inverse(W))
    assert np.allclose(W2, W, atol=1e-10 * max(1.0, np.abs(W).max()))


# ----------------------------------------------------------------------------------- wei2022
@pytest.mark.theorem("wei2022:thm3.1")
@given(seed=seeds, n=dims, m=st.floats(min_value=0.0, max_value=0.95))
def test_ibp_forward_satisfies_thm31(seed, n, m):
    """Thm 3.1 (⇒): D_ii > r_i(M) ⇒ I − |W| ≻ 0, with margin m: λ_min(sym(I − |W|)) > m, and
    (Lemma 3.4) I₂ₙ − Ŵ ≻ 0 for the IBP lift."""
    rng = np.random.default_rng(seed)
    p = IBPMonDEQ(m=m)
    prm = p.sample(rng, n)
    d = p.d(prm)
    assert np.all(d > row_col_mass(prm.M))
    W = p.forward(prm)
    assert np.allclose(W, np.diag(d ** -0.5) @ prm.M @ np.diag(d ** -0.5), atol=1e-14 * max(1, np.abs(W).max()))
    lm = lam_min_sym(np.eye(n) - np.abs(W))
    assert lm > m - 1e-12
    assert lam_min_sym(np.eye(2 * n) - ibp_lift(W)) > -1e-12 and lam_min_sym(np.eye(2 * n) - ibp_lift(W)) >= lm - 1e-12
    dc = p.defining_condition(prm)
    assert dc.certified and dc.margin <= lm + 1e-12


@given(seed=seeds, n=dims, m=st.floats(min_value=0.01, max_value=0.95))
def test_ibp_paper_training_form_equality(seed, n, m):
    """wei2022 §4: d = (|M| + |M|ᵀ)𝟙/(2(1 − m)) gives λ_max(sym|W|) = 1 − m *exactly* (Perron
    vector D^{1/2}𝟙); the closed contains() accepts it, the strict Thm 3.1 check with margin m cannot."""
    rng = np.random.default_rng(seed)
    p = IBPMonDEQ(m=m)
    M = rng.standard_normal((n, n))
    W = p.forward_paper(M)
    S = (np.abs(W) + np.abs(W).T) / 2
    lmax = float(np.linalg.eigvalsh(S)[-1])
    assert abs(lmax - (1 - m)) <= 1e-12
    d = p.paper_d(M)
    v = np.sqrt(d)
    assert np.allclose(S @ v, (1 - m) * v, atol=1e-12 * np.abs(v).max())
    assert p.contains(W).certified


@pytest.mark.theorem("wei2022:thm3.1")
@given(seed=seeds, n=dims, m=st.floats(min_value=0.0, max_value=0.9), rho=st.floats(min_value=0.05, max_value=0.95))
def test_ibp_converse_round_trip(seed, n, m, rho):
    """Thm 3.1 (⇐), constructive: for W with λ_max(sym|W|) = ρ(1 − m) < 1 − m (random signs and
    scaling, built independently), right_inverse gives (M, D) with D_ii > r_i(M)/(1 − m) ≥ r_i(M)
    and D^{-1/2} M D^{-1/2} = W."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    lam = float(np.linalg.eigvalsh((np.abs(B) + np.abs(B).T) / 2)[-1])
    W = B * (rho * (1 - m) / lam)
    p = IBPMonDEQ(m=m)
    prm = p.right_inverse(W)
    d = p.d(prm)
    assert np.all(d * (1 - m) > row_col_mass(prm.M))
    W2 = np.diag(d ** -0.5) @ prm.M @ np.diag(d ** -0.5)
    assert np.allclose(W2, W, atol=1e-9 * max(1.0, np.abs(W).max()))
    assert np.allclose(p.forward(prm), W, atol=1e-9 * max(1.0, np.abs(W).max()))


@pytest.mark.theorem("wei2022:thm3.3")
@given(seed=seeds, n=dims, m=st.floats(min_value=0.0, max_value=0.9), gamma=st.floats(min_value=1.5, max_value=10.0))
def test_ibp_gamma_forward_satisfies_thm33(seed, n, m, gamma):
    """Thm 3.3 (⇒) / App. A: W = ΓD^{-1/2}MD^{-1/2}Γ⁻¹ satisfies Λ((1 − m)I − |W|) ≻ 0 with Λ = Γ⁻²;
    κ(Γ) < γ (wei2022 §4)."""
    rng = np.random.default_rng(seed)
    p = IBPMonDEQGamma(m=m, gamma=gamma)
    prm = p.sample(rng, n, beta_scale=3.0)
    g = p.Gamma(prm.beta)
    assert np.all(g > 1 / gamma) and np.all(g < 1) and g.max() / g.min() < gamma
    W = p.forward(prm)
    Lam = np.diag(g ** -2.0)
    X = Lam @ ((1 - m) * np.eye(n) - np.abs(W))
    lm = lam_min_sym(X)
    assert lm > 0
    assert p.contains(W, Lambda=g ** -2.0).certified
    dc = p.defining_condition(prm)
    assert dc.certified and dc.margin <= lm + 1e-12


@pytest.mark.theorem("wei2022:thm3.3")
@given(seed=seeds, n=st.integers(min_value=2, max_value=6), m=st.floats(min_value=0.0, max_value=0.5),
       kappa=st.floats(min_value=1.0, max_value=50.0))
def test_ibp_gamma_converse_round_trip(seed, n, m, kappa):
    """Thm 3.3 (⇐): W = ΓW'Γ⁻¹ with λ_max(sym|W'|) < 1 − m and a random diagonal Γ of condition
    number κ (so that sym(I − |W|) need not be PD) is recovered by right_inverse (gamma=None)."""
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    lam = float(np.linalg.eigvalsh((np.abs(B) + np.abs(B).T) / 2)[-1])
    Wp = B * (0.8 * (1 - m) / lam)
    g = np.exp(rng.uniform(0, np.log(kappa), size=n))
    W = (g[:, None] * Wp) / g[None, :]
    p = IBPMonDEQGamma(m=m, gamma=None)
    c = p.contains(W)
    assert c.certified
    Lam = c.witness["Lambda"]
    assert lam_min_sym(np.diag(Lam) @ ((1 - m) * np.eye(n) - np.abs(W))) > 0
    prm = p.right_inverse(W)
    assert np.allclose(p.forward(prm), W, atol=1e-8 * max(1.0, np.abs(W).max()))


# ------------------------------------------------------------------------------ jafarpour2022
@pytest.mark.theorem("jafarpour2022:eq12")
@given(seed=seeds, n=dims, gamma=st.floats(min_value=-2.0, max_value=0.99))
def test_eq12_corrected_mu_le_gamma(seed, n, gamma):
    """(12) corrected, W = [η]T[η]⁻¹ − diag(|T|𝟙) + γI: μ∞,[η]⁻¹(W) = γ + max_i(T_ii − |T_ii|) ≤ γ."""
    rng = np.random.default_rng(seed)
    p = NonEuclidean(gamma=gamma)
    prm = p.sample(rng, n, eta_range=10.0)
    W = p.forward(prm)
    mu = mu_inf_oracle(W, prm.eta)
    dT = np.diag(prm.T)
    tol = 1e-12 * max(1.0, np.abs(W).sum(axis=1).max() * prm.eta.max() / prm.eta.min())
    assert mu <= gamma + tol
    assert abs(mu - (gamma + np.max(dT - np.abs(dT)))) <= tol
    assert p.contains(W, eta=prm.eta).certified


@pytest.mark.theorem("jafarpour2022:eq12")
@given(seed=seeds, n=st.integers(min_value=2, max_value=6), gamma=st.floats(min_value=-1.0, max_value=0.9))
def test_eq12_as_printed_is_wrong_when_eta_nonuniform(seed, n, gamma):
    """(12) as printed: the off-diagonal weights become (η_j/η_i)²|T_ij|, so
    μ∞,[η]⁻¹(W_printed) = γ + max_i(T_ii − |T_ii| + Σ_{j≠i}((η_j/η_i)² − 1)|T_ij|) — above γ as soon
    as some row has Σ_{j≠i}((η_j/η_i)² − 1)|T_ij| > |T_ii| − T_ii (here forced for row 0)."""
    rng = np.random.default_rng(seed)
    T = rng.standard_normal((n, n))
    T[0, 0] = abs(T[0, 0])
    eta = np.exp(rng.uniform(-1, 1, size=n))
    eta[0] = eta.min() / 2           # row 0 has every η_j/η_0 ≥ 2
    W = eq12_as_printed(T, eta, gamma)
    pred = gamma + max(T[i, i] - abs(T[i, i]) + sum(((eta[j] / eta[i]) ** 2 - 1) * abs(T[i, j])
                                                    for j in range(n) if j != i) for i in range(n))
    assert mu_inf_oracle(W, eta) == pytest.approx(pred, rel=1e-9, abs=1e-12)
    assert mu_inf_oracle(W, eta) > gamma


@pytest.mark.theorem("jafarpour2022:eq12")
@given(seed=seeds, n=dims, gamma=st.floats(min_value=-1.0, max_value=0.9), delta=st.floats(min_value=0.0, max_value=1.0))
def test_eq12_right_inverse_of_independent_w(seed, n, gamma, delta):
    """Converse: any W with μ∞,[η]⁻¹(W) = γ − δ for a known η (W random, diagonal shifted
    independently) is reproduced by forward(right_inverse(W, eta=η))."""
    rng = np.random.default_rng(seed)
    eta = np.exp(rng.uniform(-1, 1, size=n))
    W = rng.standard_normal((n, n))
    rows = [W[i, i] + sum(eta[j] / eta[i] * abs(W[i, j]) for j in range(n) if j != i) for i in range(n)]
    W = W - np.diag(np.array(rows) - (gamma - delta * rng.uniform(0, 1, size=n)))
    assert mu_inf_oracle(W, eta) <= gamma + 1e-12
    p = NonEuclidean(gamma=gamma)
    prm = p.right_inverse(W, eta=eta)
    assert np.allclose(p.forward(prm), W, atol=1e-10 * max(1.0, np.abs(W).max()))


# ------------------------------------------------------------------------------------ li2022
@pytest.mark.theorem("li2022:lemma3.3")
@given(sigma=st.floats(min_value=1e-3, max_value=np.sqrt(2) - 1e-6))
def test_bjorck_scalar_convergence(sigma):
    """Lemma 3.3 on one singular value: ‖I − WWᵀ‖₂ < 1 ⇔ σ ∈ (0, √2), and the order-2 map
    p(σ) = σ(15/8 − 5/4σ² + 3/8σ⁴) iterated converges to 1; p is increasing with p(1) = 1."""
    s = sigma
    for _ in range(40):
        s = float(bjorck_poly(s))
    assert abs(s - 1.0) < 1e-14
    assert 0 < bjorck_poly(min(sigma, 1.0)) <= 1.0


@pytest.mark.theorem("li2022:lemma3.3")
@settings(max_examples=scaled(15))
@given(seed=seeds, n=dims, smin=st.floats(min_value=0.05, max_value=1.0), smax=st.floats(min_value=1.0, max_value=1.41))
def test_bjorck_matrix_converges_to_polar_factor(seed, n, smin, smax):
    """Lemma 3.3: with ‖I − YYᵀ‖₂ < 1, the order-2 Björck iterates (eqs. 6–7, A₀ = Yᵀ) converge to
    the nearest orthogonal matrix, the polar factor U Vᵀ of Y (SVD oracle)."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = rng.uniform(smin, smax, size=n)
    Y = (U * s) @ V.T
    assert np.linalg.norm(np.eye(n) - Y @ Y.T, 2) < 1
    O = bjorck_order2(Y, 40)
    assert np.allclose(O, U @ V.T, atol=1e-12)


@pytest.mark.theorem("li2022:prop3.4")
@settings(max_examples=scaled(15))
@given(seed=seeds, n=dims, cond=st.floats(min_value=1.0, max_value=100.0))
def test_cerdeq_forward_near_orthogonal_and_adjoint_bound(seed, n, cond):
    """li2022 §3.3: pre-scaling by √(mn)‖V‖_max gives σ_max ≤ 1; after enough Björck steps √n·W is
    orthogonal; the √n post-scaling gives ‖[[W₊, W₋], [W₋, W₊]]‖₂ ≤ 1 (Prop 3.2 + 3.4)."""
    rng = np.random.default_rng(seed)
    p = CerDEQ(n_iter=40)
    prm = p.sample(rng, n, cond=cond)
    Y0, c = p.prescale(prm.V)
    assert np.linalg.norm(Y0, 2) <= 1 + 1e-12
    W = p.forward(prm)
    assert np.allclose(n * W.T @ W, np.eye(n), atol=1e-10)
    assert np.linalg.norm(ibp_lift(W), 2) <= 1 + 1e-10
    assert p.contains(W).certified


@pytest.mark.theorem("li2022:prop3.4")
def test_cerdeq_sqrt_n_scaling_is_not_strictly_contractive():
    """The √n post-scaling only gives ‖Ŵ‖₂ ≤ 1: O = H₄/2 (normalized Hadamard) is orthogonal and
    W = O/√4 has |W| = 𝟙𝟙ᵀ/4, so ‖Ŵ‖₂ = ‖|W|‖₂ = 1 (the upper bound of Prop 3.4 is attained);
    forward(H₄) approaches it as K grows."""
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=float)
    W = H / 4.0
    assert np.allclose(4 * W.T @ W, np.eye(4))
    assert abs(np.linalg.norm(ibp_lift(W), 2) - 1.0) < 1e-14
    norms = [np.linalg.norm(ibp_lift(CerDEQ(n_iter=k).forward(CerDEQParams(V=H))), 2) for k in (1, 3, 10)]
    assert norms[0] < norms[1] <= norms[2] <= 1 + 1e-14 and norms[2] > 1 - 1e-12


# ------------------------------------------------------------------- rounding bounds (oracle)
def _mp_forward(family, p, prm):
    """forward(params) in 40-digit arithmetic from the same float inputs (exp/sigmoid values taken
    as the floats forward() uses), as an mpmath matrix."""
    import mpmath as mp
    mp.mp.dps = 40
    M = lambda a: mp.matrix(np.asarray(a).tolist()) if np.asarray(a).ndim == 2 else mp.matrix([[x] for x in np.asarray(a)])
    if family == "mondeq":
        A, B = M(prm.A), M(prm.B)
        n = B.rows
        return (1 - mp.mpf(p.m)) * mp.eye(n) - A.T * A + B - B.T
    if family == "gmondeq":
        A, B = M(prm.A), M(prm.B)
        n = B.rows
        Phi = mp.diag([mp.mpf(x) for x in prm.phi])
        return mp.eye(n) - Phi * (A.T * A + B.T - B + mp.mpf(p.m) * mp.eye(n))
    if family == "lben":
        G, U, V, S = M(prm.G), M(prm.U), M(prm.V), M(prm.S)
        n = S.rows
        Psi = mp.diag([mp.mpf(x) for x in prm.psi])
        Pinv = mp.diag([1 / mp.mpf(x) for x in prm.psi])
        L = mp.mpf(p.L)
        X = G.T * G / (2 * L) + Pinv * U * U.T * Pinv / (2 * L) + V.T * V + S.T - S + mp.mpf(p.eps) * mp.eye(n)
        return mp.eye(n) - Psi * X
    if family == "noneuclidean":
        T = M(prm.T)
        n = T.rows
        E = mp.diag([mp.mpf(x) for x in prm.eta])
        Einv = mp.diag([1 / mp.mpf(x) for x in prm.eta])
        rows = mp.diag([sum(abs(T[i, j]) for j in range(n)) for i in range(n)])
        return E * T * Einv - rows + mp.mpf(p.gamma) * mp.eye(n)
    if family in ("ibp", "ibp_gamma"):
        Mm = M(prm.M)
        n = Mm.rows
        d = p.d(prm) if family == "ibp" else p._inner.d(prm)     # D is the computed diagonal (see docs)
        s = mp.diag([1 / mp.sqrt(mp.mpf(x)) for x in d])
        W = s * Mm * s
        if family == "ibp_gamma":
            g = p.Gamma(prm.beta)
            W = mp.diag([mp.mpf(x) for x in g]) * W * mp.diag([1 / mp.mpf(x) for x in g])
        return W
    raise AssertionError(family)


@pytest.mark.parametrize("family, make", [
    ("mondeq", lambda: MonDEQ(m=0.3)), ("gmondeq", lambda: GMonDEQ(m=0.7)), ("lben", lambda: LBEN(L=1.7, eps=0.3)),
    ("noneuclidean", lambda: NonEuclidean(gamma=-0.3)), ("ibp", lambda: IBPMonDEQ(m=0.2)),
    ("ibp_gamma", lambda: IBPMonDEQGamma(m=0.2, gamma=3.0)),
])
@settings(max_examples=scaled(5))
@given(seed=seeds, n=st.integers(min_value=1, max_value=5), scale=st.floats(min_value=0.1, max_value=30.0))
def test_forward_error_bound_is_an_upper_bound(family, make, seed, n, scale):
    """forward_error_bound(params) ≥ ‖fl(W) − W_exact‖_F (hence ≥ the 2-norm error) against a
    40-digit mpmath evaluation of the same formula — an upper bound must never be below truth."""
    import mpmath as mp
    p = make()
    prm = p.sample(np.random.default_rng(seed), n, scale=scale)
    W = p.forward(prm)
    We = _mp_forward(family, p, prm)
    err = mp.sqrt(sum((mp.mpf(W[i, j]) - We[i, j]) ** 2 for i in range(n) for j in range(n)))
    assert float(err) <= p.forward_error_bound(prm)
