"""Hypothesis tests for deqtheory.convert (havens2023 §3, App. C–E): every family → LBEN.

Inputs are valid by construction: Hypothesis draws integer seeds and small sizes; numpy draws the
parameters (MonDEQ with U rescaled to ‖U‖₂ ≤ m, SLL/CPL with positive q, AOL, Sandwich through the
Cayley transform, conv SLL with 3×3 kernels on 3×3 / 4×4 grids).

Acceptance checks per conversion: (a) the LBEN formula (eq. 7) applied to the returned parameters
reproduces the source's DEQ W to 1e-12 relative; (b) outputs at fixed points solved to residual
≤ 1e-12 agree with the source net to 1e-9 relative; (c) the certificate is CERTIFIED, re-verifies,
and L' ≤ L(1 + 1e-9); (d) VᵀV is PSD (proved λ_min ≥ −rounding), never V·V.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import convert as cv
from deqtheory import explicit as ex
from deqtheory import explicit_conv as ec
from deqtheory import solvers
from deqtheory.parametrizations.lben import LBEN
from deqtheory.testing import scaled
from deqtheory.verified import UNIT_ROUNDOFF, verified_lambda_min

seeds = st.integers(min_value=0, max_value=2 ** 32 - 1)
widths = st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3)


def _rel(a, b):
    return float(np.max(np.abs(a - b))) / max(1e-300, float(np.max(np.abs(b))))


def _solve(conv, X):
    """Fixed point of the converted DEQ (formats' solver: exact DAG on the rounding-snapped W when
    that is feed-forward, else PR in the certified Λ-metric); its residual is recomputed here with
    the stored W and the identity mask, independently of how z was found."""
    from deqtheory.formats import _solve_dense

    z, res, tol, status, _ = _solve_dense(conv.deq_arrays(), X, 1e-12, conv.certificate.witness["lam"])
    r = solvers.fixed_point_residual(conv.W, conv.U, conv.b, z, X, identity_mask=conv.identity_mask)
    assert status is solvers.SolverStatus.CONVERGED and float(np.max(r)) <= 1e-12
    return z @ conv.G.T + conv.b_y


def _acceptance(conv, Y_src, X, L):
    # (a) LBEN formula applied to the returned parameters = source W
    W_formula = LBEN(L=conv.L, eps=conv.eps).forward(conv.params)
    assert np.array_equal(W_formula, conv.W)
    assert float(np.linalg.norm(conv.W - conv.W_source)) <= 1e-12 * max(1.0, float(np.linalg.norm(conv.W_source)))
    # (b) same input-output map
    assert _rel(_solve(conv, X), Y_src) <= 1e-9
    # (c) certificate
    assert conv.certificate.certified
    assert conv.certificate.verify(W=conv.W, U=conv.U, G=conv.G).certified
    # Back-off L' = L(1 + δ): exactly tight models (SLL/CPL) are only PSD at L, so a floating-point
    # proof needs δ > 0; the δ reachable grows with the conditioning of Λ (rounding loss ~ u·n·cond),
    # and δ is searched on a decade grid (1e-15, 1e-14, …), hence the factor 10 over 1e-12·cond.
    lam = np.asarray(conv.certificate.witness["lam"], dtype=float)
    cond = float(np.max(lam) / np.min(lam))
    assert L <= conv.L_certified <= L * (1 + max(1e-9, 1e-11 * cond))
    # (d) VᵀV PSD (proved up to the rounding of forming it)
    V = conv.V
    VtV = V.T @ V
    assert verified_lambda_min(VtV) >= -64 * (V.shape[0] + 2) * UNIT_ROUNDOFF * max(1.0, float(np.sum(V * V)))


@pytest.mark.theorem("havens2023:thm3.2")
@given(seed=seeds, n=st.integers(1, 5), d=st.integers(1, 4), ratio=st.floats(0.05, 1.0))
@settings(max_examples=scaled(20))
def test_thm32_mondeq_to_lben(seed, n, d, ratio):
    """Thm 3.2: a MonDEQ with G = I, ‖U‖₂ ≤ m is exactly a 1-Lipschitz LBEN with Ψ = ‖U‖₂I, S = B/‖U‖₂,
    ε = 0 and VᵀV of eq. (11) (PSD), same input-output map."""
    rng = np.random.default_rng(seed)
    m = float(rng.uniform(0.2, 2.0))
    A, B, U = rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=(n, d))
    U *= ratio * m / np.linalg.norm(U, 2)
    conv = cv.mondeq_to_lben(A, B, m, U, L=1.0)
    u = np.linalg.norm(U, 2)
    assert np.allclose(conv.psi, u, rtol=1e-14)
    assert np.allclose(conv.S, B / u, rtol=1e-14, atol=0)
    eq11 = (m / u - 0.5) * np.eye(n) + A.T @ A / u - U @ U.T / (2 * u * u)
    assert _rel(conv.V.T @ conv.V, eq11) <= 1e-12 * max(1, np.linalg.norm(eq11)) / max(1e-300, np.max(np.abs(eq11)))
    X = rng.normal(size=(3, d))
    from deqtheory.model import DEQ

    src = DEQ(conv.W_source, U)
    r = src.solve(X, method="pr", tol=1e-12)
    _acceptance(conv, r.z, X, 1.0)


@pytest.mark.theorem("havens2023:thm3.2")
@given(seed=seeds, n=st.integers(1, 5), d=st.integers(1, 4), p=st.integers(1, 4))
@settings(max_examples=scaled(15))
def test_mondeq_general_G_to_lben(seed, n, d, p):
    """General-G form of Thm 3.2: Λ = (‖G‖₂/‖U‖₂)I, L = ‖G‖₂‖U‖₂/m gives an LBEN with the same map."""
    rng = np.random.default_rng(seed)
    m = float(rng.uniform(0.2, 2.0))
    A, B = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    U, G = rng.normal(size=(n, d)), rng.normal(size=(p, n))
    b, by = rng.normal(size=n), rng.normal(size=p)
    conv = cv.mondeq_to_lben(A, B, m, U, G, b, by)
    L = np.linalg.norm(G, 2) * np.linalg.norm(U, 2) / m
    assert conv.L == pytest.approx(L, rel=1e-14)
    X = rng.normal(size=(3, d))
    r = solvers.solve(conv.W_source, U, b, X, method="pr", tol=1e-12)
    _acceptance(conv, r.z @ G.T + by, X, L)


@pytest.mark.theorem("havens2023:thm3.4")
@given(seed=seeds, n=st.integers(1, 5), d=st.integers(1, 4), ratio=st.floats(0.05, 1.0))
@settings(max_examples=scaled(20))
def test_thm34_gmondeq_to_lben(seed, n, d, ratio):
    """Thm 3.4: G-MonDEQ with ‖Φ⁻¹U‖₂ ≤ m → 1-Lipschitz LBEN with Ψ = ‖Φ⁻¹U‖₂Φ, S = B/‖Φ⁻¹U‖₂, ε = 0,
    VᵀV as printed (PSD), same input-output map."""
    rng = np.random.default_rng(seed)
    m = float(rng.uniform(0.2, 2.0))
    A, B = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    phi = np.exp(rng.normal(scale=0.5, size=n))
    U = rng.normal(size=(n, d))
    U *= ratio * m / np.linalg.norm(U / phi[:, None], 2)
    conv = cv.gmondeq_to_lben(A, B, phi, m, U, L=1.0)
    w = np.linalg.norm(U / phi[:, None], 2)
    assert np.allclose(conv.psi, w * phi, rtol=1e-13)
    assert np.allclose(conv.S, B / w, rtol=1e-14, atol=0)
    PU = U / phi[:, None]
    printed = (m / w - 0.5) * np.eye(n) + A.T @ A / w - PU @ PU.T / (2 * w * w)
    assert float(np.max(np.abs(conv.V.T @ conv.V - printed))) <= 1e-12 * max(1.0, float(np.max(np.abs(printed))))
    X = rng.normal(size=(3, d))
    r = solvers.solve(conv.W_source, U, None, X, method="pr", Lambda=1 / phi, tol=1e-12, max_iter=200_000)
    _acceptance(conv, r.z, X, 1.0)


@pytest.mark.theorem("havens2023:sec3.1")
@given(seed=seeds, n=st.integers(1, 5), d=st.integers(1, 4))
@settings(max_examples=scaled(20))
def test_sec31_trivial_reparameterization_loses_L(seed, n, d):
    """§3.1: the trivial MonDEQ → LBEN map (Ψ = I, Revay Remark 2) needs L ≥ (1 + m²)/(2m)·… — with
    A = 0, G = I, ‖U‖₂ = m it needs exactly L = (1 + m²)/(2m) > 1 = ‖U‖₂/m (m ≠ 1), unbounded as
    m → 0; the Thm 3.2 multiplier Λ = I/‖U‖₂ keeps L = 1."""
    rng = np.random.default_rng(seed)
    m = float(rng.uniform(0.01, 0.9))
    U = rng.normal(size=(n, d))
    U *= m / np.linalg.norm(U, 2)
    A, B = np.zeros((n, n)), rng.normal(size=(n, n))
    L_triv = cv.trivial_mondeq_lben_L(A, B, m, U)
    assert L_triv == pytest.approx((1 + m * m) / (2 * m), rel=1e-10)
    assert L_triv > 1.0
    conv = cv.mondeq_to_lben(A, B, m, U, L=1.0)
    assert conv.L_certified <= 1 + 1e-9 and conv.certificate.certified


@pytest.mark.theorem("havens2023:thm3.5")
@pytest.mark.theorem("havens2023:appC")
@given(seed=seeds, d=st.integers(1, 4), ws=widths, kind=st.sampled_from(["sll", "cpl"]))
@settings(max_examples=scaled(20))
def test_thm35_sll_cpl_to_lben(seed, d, ws, kind):
    """Thm 3.5 / App. C: SLL and CPL stacks → 1-Lipschitz LBEN (Ψ = Λ⁻¹ of eq. 15, ε = 0,
    S = ½Mᵀ in the eq. 7 convention): same input-output map, L' ≤ 1 + 1e-9 certified."""
    rng = np.random.default_rng(seed)
    net = ex.random_sll_stack(rng, d, ws, kind=kind)
    conv = cv.sll_to_lben(net)
    assert conv.source == kind and conv.eps == 0.0
    X = rng.normal(size=(4, d))
    _acceptance(conv, net(X), X, 1.0)
    assert conv.identity_mask[:d].all() and not conv.identity_mask[d:].any()


@pytest.mark.theorem("havens2023:eq16")
@given(seed=seeds, d=st.integers(1, 4), ws=widths)
@settings(max_examples=scaled(15))
def test_eq16_VtV_blocks(seed, d, ws):
    """(16), index range corrected to n = 0..N−1: VᵀV = blkdiag(0, 2T_n⁻¹ − 2T_n⁻¹W_nᵀW_nT_n⁻¹)."""
    rng = np.random.default_rng(seed)
    net = ex.random_sll_stack(rng, d, ws)
    conv = cv.sll_to_lben(net)
    VtV = conv.V.T @ conv.V
    expect = np.zeros_like(VtV)
    scale = 1.0   # size of the terms: the blocks can cancel exactly (tight layers), so compare to them
    s = d
    for l in net.layers:
        Ti = 1.0 / l.T
        A, B = 2 * np.diag(Ti), 2 * (Ti[:, None] * (l.W.T @ l.W)) * Ti[None, :]
        expect[s:s + l.k, s:s + l.k] = A - B
        scale = max(scale, float(np.max(np.abs(A))), float(np.max(np.abs(B))))
        s += l.k
    assert float(np.max(np.abs(VtV - expect))) <= 1e-12 * scale


@pytest.mark.theorem("havens2023:appD1")
@given(seed=seeds, d=st.integers(1, 4), hs=st.lists(st.integers(1, 4), min_size=1, max_size=3), p=st.integers(1, 3))
@settings(max_examples=scaled(20))
def test_appD1_aol_to_lben(seed, d, hs, p):
    """App. D.1: AOL net → 1-Lipschitz LBEN with Ψ = I, same map, certified L' ≤ 1 + 1e-9."""
    rng = np.random.default_rng(seed)
    net = ex.random_aol_net(rng, [d, *hs, p])
    conv = cv.aol_to_lben(net)
    assert np.array_equal(conv.psi, np.ones(conv.n))
    X = rng.normal(size=(4, d))
    _acceptance(conv, net(X), X, 1.0)


@pytest.mark.theorem("havens2023:appD2")
@pytest.mark.theorem("havens2023:eq23")
@given(seed=seeds, d=st.integers(1, 4), ws=widths, p=st.integers(1, 3), L=st.sampled_from([0.5, 1.0, 3.0]),
       analytic=st.booleans())
@settings(max_examples=scaled(20))
def test_appD2_sandwich_to_lben(seed, d, ws, p, L, analytic):
    """App. D.2: Sandwich → L-Lipschitz LBEN with Λ = diag(Φ_n²); the corrected eq. (23) factor has
    V₂₃ᵀV₂₃ = ½(M + Mᵀ) and can be used as V."""
    rng = np.random.default_rng(seed)
    net = ex.random_sandwich_net(rng, d, ws, p, L=L)
    conv = cv.sandwich_to_lben(net, analytic_V=analytic)
    assert conv.residuals["eq23_rel"] <= 1e-12
    X = rng.normal(size=(4, d))
    _acceptance(conv, net(X), X, L)


@pytest.mark.theorem("havens2023:sec4.1")
@pytest.mark.theorem("havens2023:eq25")
@given(seed=seeds, N=st.integers(2, 4), c=st.integers(1, 2), ks=st.lists(st.integers(1, 2), min_size=1, max_size=2),
       kind=st.sampled_from(["sll", "cpl"]))
@settings(max_examples=scaled(8), deadline=None)
def test_conv_sll_to_conv_lben_matches_dense(seed, N, c, ks, kind):
    """§4.1 / App. E: conv SLL → conv LBEN by per-frequency blocks (eq. 25); its dense
    materialization equals the dense conversion of the dense SLL, V is a real convolution with
    VᵀV = ½(M + Mᵀ), outputs agree with the conv SLL, and (4) is certified per frequency."""
    rng = np.random.default_rng(seed)
    st_ = ec.random_conv_sll_stack(rng, c, ks, N, s=min(3, N), kind=kind)
    m = cv.conv_sll_to_lben(st_)
    dense_conv = cv.sll_to_lben(st_.to_dense())
    dn = m.dense()
    scale = max(1.0, float(np.max(np.abs(dense_conv.W))))
    assert float(np.max(np.abs(dn["W"] - dense_conv.W))) <= 1e-12 * scale
    assert float(np.max(np.abs(dn["G"] - dense_conv.G))) <= 1e-12
    assert np.array_equal(dn["identity_mask"], dense_conv.identity_mask)
    from deqtheory import circulant as ci

    Vd = ci.conv_matrix(ci.freq_to_kernel(m.V_hat), N)
    VtV_dense = dense_conv.V.T @ dense_conv.V
    assert float(np.max(np.abs(Vd.T @ Vd - VtV_dense))) <= 1e-11 * max(1.0, float(np.max(np.abs(VtV_dense))))
    X = rng.normal(size=(2, c, N, N))
    for method in ("dag", "pr"):
        r = m.solve(X, method=method, tol=1e-12)
        assert r.converged
        assert _rel(m.output(r.z), st_(X)) <= 1e-9
    cert, Lp = m.certificate()
    assert cert.certified and 1.0 <= Lp <= 1 + 1e-9
