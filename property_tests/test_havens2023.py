"""havens2023 catalogue checks not owned by the SDP / conversion modules: App. A (1-Lipschitz
MonDEQ / G-MonDEQ recipes), the Schur-complement form of (4) (§2.2), eq. (2) vs eq. (7), and the tight
witnesses of Prop 2.2 / Thm 3.1 (through the library's certificates)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from deqtheory import bounds
from deqtheory.parametrizations import GMonDEQ, LBEN, MonDEQ
from deqtheory.parametrizations.gmondeq import GMonDEQParams
from deqtheory.parametrizations.lben import LBENParams
from deqtheory.parametrizations.mondeq import MonDEQParams
from deqtheory.sdp import lipschitz_certificate, sdp_wellposed
from deqtheory.solvers import solve
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 6)


def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _empirical_lipschitz(W, U, rng, pairs=30, Lambda=None):
    """Largest ‖z*(x) − z*(x')‖ / ‖x − x'‖ over random pairs (fixed points to residual ≤ 1e-11;
    PR in the Λ-metric when W is only Λ-monotone, e.g. G-MonDEQ with Λ = Φ⁻¹)."""
    d = U.shape[1]
    best = 0.0
    for _ in range(pairs):
        x = rng.standard_normal(d)
        dx = rng.standard_normal(d) * 10.0 ** rng.uniform(-3, 0)
        r1 = solve(W, U, None, x, method="pr", tol=1e-11, Lambda=Lambda)
        r2 = solve(W, U, None, x + dx, method="pr", tol=1e-11, Lambda=Lambda)
        assert r1.converged and r2.converged
        best = max(best, np.linalg.norm(r1.z - r2.z) / np.linalg.norm(dx))
    return best


@pytest.mark.theorem("havens2023:appA")
@given(seeds, sizes, st.floats(0.05, 2.0))
@settings(max_examples=scaled(15))
def test_appA_mondeq_with_U_equal_m_times_orthogonal_is_1_lipschitz(seed, n, m):
    """App. A: MonDEQ (5) with U = mP, P orthogonal, is ‖U‖₂/m = 1-Lipschitz from x to z (checked on
    the model: pairs of tightly solved fixed points, and by the proved bound of pabbaraju2021 Thm 1)."""
    rng = np.random.default_rng(seed)
    p = MonDEQParams(A=rng.standard_normal((n, n)) / np.sqrt(n), B=rng.standard_normal((n, n)) / np.sqrt(n))
    W = MonDEQ(m).forward(p)
    U = m * _orthogonal(rng, n)
    bound = bounds.pabbaraju_lipschitz(W, U)
    assert bound.certified and bound.value <= 1 + 1e-9
    assert _empirical_lipschitz(W, U, rng) <= 1 + 1e-9


@pytest.mark.theorem("havens2023:appA")
@given(seeds, sizes, st.floats(0.05, 2.0), st.floats(0.25, 4.0))
@settings(max_examples=scaled(15))
def test_appA_gmondeq_recipe_phi_at_least_1_over_Lm_and_UtU_below_I(seed, n, m, L):
    """App. A: G-MonDEQ (6) with Φ_ii ≥ 1/(Lm) and UᵀU ⪯ I is L-Lipschitz from x to z (since
    ‖Φ⁻¹U‖₂/m ≤ ‖Φ⁻¹‖‖U‖/m ≤ L, havens2023 Thm 3.3); checked on the model."""
    rng = np.random.default_rng(seed)
    phi = (1.0 / (L * m)) * np.exp(rng.uniform(0, 1.5, n))
    p = GMonDEQParams.from_phi(rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal((n, n)) / np.sqrt(n), phi)
    W = GMonDEQ(m).forward(p)
    U = _orthogonal(rng, n)[:, : max(1, n - 1)] * rng.uniform(0.5, 1.0)   # UᵀU ⪯ I
    b = bounds.havens_gmondeq_lipschitz(W, U, phi)
    assert b.certified and b.value <= L * (1 + 1e-9)
    assert _empirical_lipschitz(W, U, rng, Lambda=1.0 / phi) <= L * (1 + 1e-9)


@pytest.mark.theorem("havens2023:sec2.2.schur")
@given(seeds, sizes, st.integers(1, 4), st.integers(1, 4), st.floats(0.3, 5.0))
@settings(max_examples=scaled(25))
def test_schur_form_of_4_has_the_same_sign_as_4(seed, n, d, p, L):
    """§2.2: (4) ⇔ [[2Λ − ΛW − WᵀΛ − GᵀG/L, ΛU], [UᵀΛ, L·I]] ≻ 0 ⇔ the 3-block form
    [[2Λ − ΛW − WᵀΛ, ΛU, Gᵀ], [UᵀΛ, L·I, 0], [G, 0, L·I]] ≻ 0 (Schur complements of L·I ≻ 0).
    Checked: the three smallest eigenvalues have the same sign, over W scaled across the boundary."""
    rng = np.random.default_rng(seed)
    lam = np.exp(rng.uniform(-1, 1, n))
    U = rng.standard_normal((n, d)) / np.sqrt(n)
    G = rng.standard_normal((p, n)) / np.sqrt(n)
    A = rng.standard_normal((n, n))
    for s in (0.05, 0.3, 1.0, 3.0):
        W = np.eye(n) - s * (A @ A.T + np.eye(n)) / n + 0.5 * (A - A.T) / n - 0.3 * np.eye(n)
        Lm = np.diag(lam)
        core = 2 * Lm - Lm @ W - W.T @ Lm
        f4 = core - G.T @ G / L - Lm @ U @ U.T @ Lm / L
        f2 = np.block([[core - G.T @ G / L, Lm @ U], [U.T @ Lm, L * np.eye(d)]])
        f3 = np.block([[core, Lm @ U, G.T], [U.T @ Lm, L * np.eye(d), np.zeros((d, p))],
                       [G, np.zeros((p, d)), L * np.eye(p)]])
        e = [np.linalg.eigvalsh(0.5 * (F + F.T))[0] for F in (f4, f2, f3)]
        scale = 1e-9 * (1 + max(np.abs(np.linalg.eigvalsh(0.5 * (f3 + f3.T)))))
        if min(abs(x) for x in e) > scale:
            assert len({x > 0 for x in e}) == 1, e


@pytest.mark.theorem("havens2023:eq2")
@given(seeds, sizes, st.integers(1, 3), st.integers(1, 3))
@settings(max_examples=scaled(20))
def test_eq2_and_eq7_describe_the_same_set_with_S_transposed(seed, n, d, p):
    """eq. (2) prints the skew part as S − Sᵀ, eq. (7) as Sᵀ − S. Both parametrize the same set: the
    eq. (2) matrix at S equals the eq. (7) matrix (deqtheory.parametrizations.LBEN) at Sᵀ; and for a
    non-symmetric S the two printed formulas differ at the same S (so the convention matters)."""
    rng = np.random.default_rng(seed)
    L, eps = 1.0 + rng.uniform(), 0.1
    psi = np.exp(rng.uniform(-1, 1, n))
    G = rng.standard_normal((p, n))
    U = rng.standard_normal((n, d))
    V = rng.standard_normal((n, n))
    S = rng.standard_normal((n, n))
    Pi = np.diag(1 / psi)
    inner2 = (G.T @ G + Pi @ U @ U.T @ Pi) / (2 * L) + V.T @ V + S - S.T + eps * np.eye(n)
    W2 = np.eye(n) - np.diag(psi) @ inner2
    lben = LBEN(L=L, eps=eps)
    W7_T = lben.forward(LBENParams.from_psi(psi, G, U, V, S.T))
    W7 = lben.forward(LBENParams.from_psi(psi, G, U, V, S))
    assert np.allclose(W2, W7_T, rtol=1e-12, atol=1e-12 * (1 + np.abs(W2).max()))
    if n > 1 and np.abs(S - S.T).max() > 1e-6:
        assert not np.allclose(W2, W7)
    assert lben.contains(W7_T, G=G, U=U).certified


# ---------------------------------------------------------------- tight witnesses (App. A, Prop 2.2, Thm 3.1)

@pytest.mark.theorem("havens2023:appA")
@given(seeds, sizes, st.floats(0.05, 2.0))
@settings(max_examples=scaled(10))
def test_appA_mondeq_recipe_is_attained(seed, n, m):
    """App. A's 1-Lipschitz MonDEQ is exactly 1-Lipschitz for A = B = 0: W = (1 − m)I, U = mP and, all units
    active (b large), z*(x) = P x + b/m, so ‖z*(x) − z*(x′)‖ = ‖x − x′‖ (ratio ≥ 0.999 against the proved bound)."""
    rng = np.random.default_rng(seed)
    W, U = (1 - m) * np.eye(n), m * _orthogonal(rng, n)
    bound = bounds.pabbaraju_lipschitz(W, U)
    assert bound.certified and bound.value <= 1 + 1e-9
    x, dx = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    b = np.full(n, 4.0 * m * np.sqrt(n))                       # Ux + b > 0 for ‖x‖∞ ≤ 2
    z1, z2 = (bounds.solve_relu_fixed_point(W, U @ xx + b).z for xx in (x, x + dx))
    reached("havens2023:appA", np.linalg.norm(z1 - z2) / np.linalg.norm(dx) / bound.value)


def check_lmi_family(seed, strict):
    """havens2023 (4) / (10) on their equality family: W = (1 − m)I, U = uQ, G = gP (Q, P signed permutations).
    With Λ = (g/u)I the left side of (4)/(10) is 2(g m/u)(1 − L*/L)·I, L* = gu/m: zero at L = L* (only the
    non-strict (10) holds) and ≻ 0 above. All units active, y is affine with ‖GU/m‖₂ = L*, so the model is
    exactly L*-Lipschitz. The library certifies L = L*(1 + 2⁻¹⁰) — (4) with Λ given (``strict``), or (10)
    with well-posedness proved by ``sdp_wellposed`` — and the attained ratio is ‖Δy‖/(L‖Δx‖) = 1/(1 + 2⁻¹⁰).
    A W that is not well posed (2I) is refused by ``sdp_wellposed`` and by the non-strict certificate."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    m, u, g = rng.uniform(0.1, 1.0), rng.uniform(0.2, 2.0), rng.uniform(0.2, 2.0)
    Q = np.eye(n)[rng.permutation(n)] * rng.choice([-1.0, 1.0], n)
    P = np.eye(n)[rng.permutation(n)] * rng.choice([-1.0, 1.0], n)
    W, U, G = (1 - m) * np.eye(n), u * Q, g * P
    cert = lipschitz_certificate(W, U, G, g * u / m * (1 + 2.0 ** -10), strict=strict, lam=np.full(n, g / u))
    assert cert.certified, cert.message
    L = float(cert.witness["L"])
    x1, x2 = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    b = np.full(n, 4.0 * u)                                   # Ux + b > 0 for ‖x‖∞ ≤ 1: all active
    y1, y2 = (G @ bounds.solve_relu_fixed_point(W, U @ xx + b).z for xx in (x1, x2))
    ratio = np.linalg.norm(y1 - y2) / (L * np.linalg.norm(x1 - x2))
    assert ratio <= 1 + 1e-9, ratio
    if not strict:
        bad = 2.0 * np.eye(n)
        assert not sdp_wellposed(bad).certified
        assert not lipschitz_certificate(bad, U, G, 10.0 * L, strict=False, lam=np.full(n, g / u)).certified
    return ratio


@pytest.mark.theorem("havens2023:prop2.2", "havens2023:thm3.1")
@given(seeds, st.booleans())
@settings(max_examples=scaled(8), deadline=None)
def test_lipschitz_lmi_attained(seed, strict):
    """Tight witness for Prop 2.2 (strict (4)) and Thm 3.1 (non-strict (10)): the certified L is attained up to
    the factor 1 + 2⁻¹⁰ (ratio ≥ 0.999), so a certificate with a smaller L fails."""
    reached("havens2023:prop2.2" if strict else "havens2023:thm3.1", check_lmi_family(seed, strict))
