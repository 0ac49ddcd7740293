"""Hypothesis tests for deqtheory.explicit.

Inputs are valid by construction: Hypothesis draws integer seeds and small sizes, numpy's RNG
draws the parameters (SLL/CPL weights with positive q, AOL free weights, Sandwich layers through
the Cayley transform, plain ReLU nets).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import explicit as ex
from deqtheory.explicit_conv import ConvAOLLayer
from deqtheory.certificates import Status
from deqtheory.testing import scaled
from deqtheory.testing.tightness import reached
from deqtheory.verified import UNIT_ROUNDOFF, product_error_bound, sum_error_bound, verified_pd

seeds = st.integers(min_value=0, max_value=2 ** 32 - 1)
widths = st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3)
dims = st.integers(min_value=1, max_value=4)


def _tol(*terms, abs_err=0.0):
    n = np.asarray(terms[0]).shape[0]
    return 2 * abs_err + 128 * (n + 1) * UNIT_ROUNDOFF * max(sum(float(np.linalg.norm(t)) for t in terms), 1e-300)


def _lmi_tol(form):
    lam, L = form.lam, form.L
    LU = lam[:, None] * form.U
    _, err = ex.lmi10_matrix(form)
    return _tol(2 * np.diag(lam), 2 * lam[:, None] * form.W, form.G.T @ form.G / L, LU @ LU.T / L, abs_err=err)


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def _pair_ratios(f, rng, d, k=12):
    """‖f(X) − f(X')‖/‖X − X'‖ minus the floating-point slack of evaluating it: the two outputs are
    computed with relative error ~1e-13 (a few layers of products), which a 1e-3 perturbation of an
    exactly 1-Lipschitz (isometric) direction amplifies by ‖f(X)‖/‖X − X'‖."""
    X = rng.normal(size=(k, d)) * 2
    Xp = X + rng.normal(size=(k, d)) * rng.choice([1e-3, 0.3, 3.0], size=(k, 1))
    FX, FXp = f(X), f(Xp)
    dx = np.linalg.norm(X - Xp, axis=1)
    slack = 1e-13 * (np.linalg.norm(FX, axis=1) + np.linalg.norm(FXp, axis=1) + np.linalg.norm(X, axis=1)) / dx
    return np.linalg.norm(FX - FXp, axis=1) / dx - slack


def _jac_norms(form, rng, k=4):
    return [float(np.linalg.norm(ex.deqform_jacobian(form, x), 2)) for x in rng.normal(size=(k, form.d)) * 2]


@pytest.mark.theorem("havens2023:appC")
@pytest.mark.theorem("havens2023:eq15")
@settings(max_examples=scaled(20))
@given(seed=seeds, d=dims, ws=widths, kind=st.sampled_from(["sll", "cpl"]))
def test_sll_embedding_exact_and_lmi10(seed, d, ws, kind):
    """SLL/CPL: the eq. 13/14 DEQ reproduces the stack to 1e-12; WᵀW ⪯ T and (10) with Λ of eq. 15,
    L = 1 hold up to rounding (proved λ_min ≥ −tiny); the stack is 1-Lipschitz on pairs and Jacobians."""
    rng = np.random.default_rng(seed)
    net = ex.random_sll_stack(rng, d, ws, kind=kind, scale=10 ** rng.uniform(-1, 1))
    form = ex.sll_to_deq(net)
    X = rng.normal(size=(5, d))
    assert _rel(ex.deqform_forward(form, X), net(X)) <= 1e-12
    for l in net.layers:
        c = l.tw_certificate()
        assert c.status is not Status.REFUTED
        assert c.margin >= -_tol(np.diag(l.T), l.W.T @ l.W, abs_err=c.tolerance["abs_err"])
    cert = ex.check_lmi10(form)
    assert cert.status is not Status.REFUTED and cert.margin >= -_lmi_tol(form)
    assert np.all(_pair_ratios(net, rng, d) <= 1 + 1e-9)
    assert max(_jac_norms(form, rng)) <= 1 + 1e-9


@pytest.mark.theorem("havens2023:eq16")
@settings(max_examples=scaled(20))
@given(seed=seeds, d=dims, ws=widths)
def test_sll_lben_VtV_is_block_diagonal(seed, d, ws):
    """Thm 3.5 / eq. 16: ½(M + Mᵀ) = blkdiag(0, 2T_n⁻¹ − 2T_n⁻¹W_nᵀW_nT_n⁻¹ for n = 0..N−1)."""
    rng = np.random.default_rng(seed)
    net = ex.random_sll_stack(rng, d, ws)
    form = ex.sll_to_deq(net)
    p = ex.lben_from_deqform(form)
    want = np.zeros((form.n, form.n))
    for k, l in enumerate(net.layers):
        s, e = form.blocks[k + 1]
        Ti = np.diag(1 / l.T)
        want[s:e, s:e] = 2 * Ti - 2 * Ti @ l.W.T @ l.W @ Ti
    scale = max(1.0, float(np.max(np.abs(want))))
    assert np.max(np.abs(p.V.T @ p.V - want)) <= 1e-9 * scale


@pytest.mark.theorem("havens2023:eq8")
@pytest.mark.theorem("havens2023:appD1")
@settings(max_examples=scaled(20))
@given(seed=seeds, ds=st.lists(st.integers(min_value=1, max_value=5), min_size=3, max_size=5),
       zero=st.booleans())
def test_aol_norm_and_embedding(seed, ds, zero):
    """AOL: ‖W̃D‖₂ ≤ 1 (proved up to rounding); the App. D.1 DEQ reproduces the net; (10) holds with
    Λ = I, L = 1; the net is 1-Lipschitz on random pairs."""
    rng = np.random.default_rng(seed)
    net = ex.random_aol_net(rng, ds, zero_column=zero)
    for W in net.effective_weights:
        k = W.shape[1]
        err = product_error_bound(W.T, W) + sum_error_bound(np.eye(k), W.T @ W)
        c = verified_pd(np.eye(k) - W.T @ W, abs_err=err)
        assert c.margin >= -_tol(np.eye(k), W.T @ W, abs_err=err)
    form = ex.aol_to_deq(net)
    X = rng.normal(size=(5, ds[0]))
    assert _rel(ex.deqform_forward(form, X), net(X)) <= 1e-12
    cert = ex.check_lmi10(form)
    assert cert.status is not Status.REFUTED and cert.margin >= -_lmi_tol(form)
    assert np.all(_pair_ratios(net, rng, ds[0]) <= 1 + 1e-9)


@settings(max_examples=scaled(20))
@given(seed=seeds, p=st.integers(min_value=1, max_value=6), m=st.integers(min_value=1, max_value=6),
       scale=st.floats(min_value=1e-3, max_value=1e2, allow_nan=False, allow_infinity=False))
def test_cayley_stiefel_is_semi_orthogonal(seed, p, m, scale):
    """cayley_stiefel(X, Y) gives [A B] with A Aᵀ + B Bᵀ = I for any X, Y."""
    rng = np.random.default_rng(seed)
    A, B = ex.cayley_stiefel(scale * rng.normal(size=(p, p)), scale * rng.normal(size=(m, p)))
    assert np.allclose(A @ A.T + B @ B.T, np.eye(p), atol=1e-10)


@pytest.mark.theorem("havens2023:appD2")
@pytest.mark.theorem("havens2023:eq23")
@settings(max_examples=scaled(20))
@given(seed=seeds, d=dims, ws=widths, p_out=dims,
       L=st.floats(min_value=0.1, max_value=10.0, allow_nan=False, allow_infinity=False))
def test_sandwich_embedding_lmi_and_lipschitz(seed, d, ws, p_out, L):
    """Sandwich: the eq. 22 DEQ reproduces the net; (10) holds with Λ = diag(Φ_n²) and the prescribed L;
    VᵀV = ½(M + Mᵀ) for the corrected eq. 23; the net is L-Lipschitz on pairs and Jacobians."""
    rng = np.random.default_rng(seed)
    net = ex.random_sandwich_net(rng, d, ws, p_out, L=L)
    form = ex.sandwich_to_deq(net)
    X = rng.normal(size=(5, d))
    assert _rel(ex.deqform_forward(form, X), net(X)) <= 1e-12
    cert = ex.check_lmi10(form)
    assert cert.status is not Status.REFUTED and cert.margin >= -_lmi_tol(form)
    S, _ = ex.lmi10_matrix(form)
    V = ex.sandwich_analytic_V(net)
    assert np.max(np.abs(V.T @ V - S / 2)) <= 1e-10 * max(1.0, float(np.max(np.abs(S))))
    assert np.all(_pair_ratios(net, rng, d) <= L * (1 + 1e-9))
    assert max(_jac_norms(form, rng)) <= L * (1 + 1e-9)


def check_prop37(net, W, B, b, last, rng):
    """wei2022 Prop 3.7's conclusion for a candidate DEQ (W, B, b) of the net, independently of how the
    embedding is evaluated: W is nilpotent (Wᴸ = 0: so the fixed point exists and is unique), the block
    forward-substitution point z solves z = ReLU(Wz + Bx + b) with the **full** W (residual ≤ 1e-12 relative)
    — so an embedding with anything in the blocks that forward substitution does not read is rejected —
    and its last block equals the explicit net."""
    n = W.shape[0]
    assert np.max(np.abs(np.linalg.matrix_power(W, n))) == 0.0
    X = rng.normal(size=(4, B.shape[1]))
    for x in X:
        z = np.zeros(n)
        for _ in range(n + 1):                       # Picard iteration reaches the fixed point of a nilpotent W
            z = np.maximum(W @ z + B @ x + b, 0.0)
        r = np.max(np.abs(z - np.maximum(W @ z + B @ x + b, 0.0)))
        assert r <= 1e-12 * (1 + np.max(np.abs(z))), r
        assert _rel(z[last[0]:last[1]][None, :], net(x[None, :])) <= 1e-12


@pytest.mark.theorem("wei2022:prop3.7")
@settings(max_examples=scaled(20))
@given(seed=seeds, ds=st.lists(st.integers(min_value=1, max_value=4), min_size=2, max_size=5),
       scale=st.floats(min_value=0.1, max_value=5.0, allow_nan=False, allow_infinity=False))
def test_prop37_embedding_props(seed, ds, scale):
    """Prop 3.7: W = M = ΓD^{-1/2}MD^{-1/2}Γ⁻¹ (rounding), D_ii > (|M|1 + |M|ᵀ1)_i/2, Λ = Γ⁻² gives
    Λ − Λ|W| ≻ 0 (verified), and the last block of z* equals the explicit net — z* checked against the full W
    (Picard iteration and residual, not the block forward substitution that reads only the lower blocks)."""
    rng = np.random.default_rng(seed)
    net = ex.random_relu_net(rng, ds, scale=scale)
    emb = ex.relu_net_to_ibp_deq(net)
    M = emb.M
    Wp = (emb.Gamma / np.sqrt(emb.D))[:, None] * M * (1 / (np.sqrt(emb.D) * emb.Gamma))[None, :]
    assert np.max(np.abs(Wp - M)) <= 1e-12 * max(1.0, float(np.max(np.abs(M))))
    absM = np.abs(M)
    assert np.all(emb.D > (absM.sum(axis=1) + absM.sum(axis=0)) / 2)
    lam = emb.Gamma ** -2.0
    A = np.diag(lam) - lam[:, None] * absM
    c = verified_pd(A, abs_err=2 * UNIT_ROUNDOFF * float(np.linalg.norm(lam[:, None] * absM)))
    assert c.status is Status.CERTIFIED
    X = rng.normal(size=(4, ds[0]))
    _, Z = ex.deqform_forward(emb.form, X, return_z=True)
    s, e = emb.form.blocks[-1]
    assert _rel(Z[:, s:e], net(X)) <= 1e-12
    check_prop37(net, emb.form.W, emb.form.U, emb.form.b, (s, e), rng)


@pytest.mark.theorem("wei2022:prop3.7")
def test_prop37_catches_transposed_blocks():
    """Mutation demonstration: an embedding whose W also carries the transposed blocks (W + Wᵀ, a transpose
    confused in the assembly — invisible to block forward substitution) is rejected by the full-W check."""
    from deqtheory.testing.mutants import assert_caught

    for seed in range(3):
        rng = np.random.default_rng(seed)
        net = ex.random_relu_net(rng, [3, 3, 2], scale=1.0)
        form = ex.relu_net_to_ibp_deq(net).form
        s, e = form.blocks[-1]
        check_prop37(net, form.W, form.U, form.b, (s, e), np.random.default_rng(seed))
        assert_caught(check_prop37, net, form.W + form.W.T, form.U, form.b, (s, e), np.random.default_rng(seed))

@pytest.mark.theorem("havens2023:sec2.4.sandwich")
@settings(max_examples=scaled(15))
@given(seed=seeds, d=st.integers(1, 4), ws=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       p_out=st.integers(1, 5), L=st.floats(0.25, 4.0))
def test_sandwich_case_split_printed_hypotheses(seed, d, ws, p_out, L):
    """havens2023 §2.4 with the case split on the output width p and c_N = dim x_N. p ≥ c_N: the printed
    hypotheses hold (B_NᵀB_N = I, A_nA_nᵀ + B_nB_nᵀ = I, Φ_n > 0) and the net is L-Lipschitz; p < c_N:
    B_NᵀB_N = I is unsatisfiable (rank B_N ≤ p), and ‖B_N‖₂ = 1 (the generalisation the proof uses) still
    gives L. Checked on pairs and on Jacobians with an adversarial search (random starts, then steps along
    the top singular direction); the best ratio ‖J‖₂/L is recorded with hypothesis.target."""
    from hypothesis import target

    rng = np.random.default_rng(seed)
    net = ex.random_sandwich_net(rng, d, ws, p_out, L=L)
    cN = net.B_out.shape[1]
    for An, Bn in zip(net.A, net.B):
        assert np.allclose(An @ An.T + Bn @ Bn.T, np.eye(An.shape[0]), atol=1e-12)
    if p_out >= cN:
        assert np.allclose(net.B_out.T @ net.B_out, np.eye(cN), atol=1e-12)
    else:
        assert np.linalg.matrix_rank(net.B_out) <= p_out < cN
        assert np.linalg.norm(net.B_out, 2) <= 1 + 1e-12
    assert np.all(_pair_ratios(net, rng, d) <= L * (1 + 1e-9))
    form = ex.sandwich_to_deq(net)
    best = 0.0
    for x in rng.normal(size=(4, d)) * 2:
        for _ in range(4):
            J = ex.deqform_jacobian(form, x)
            _, s, Vt = np.linalg.svd(J)
            assert s[0] <= L * (1 + 1e-9)
            best = max(best, float(s[0]) / L)
            x = x + 0.5 * Vt[0] * rng.choice([-1.0, 1.0])
    target(best, label="sandwich max ||J||/L")


# ---------------------------------------------------------------- tight witnesses (eq. 8, eq. 9, §2.4 Sandwich)

@pytest.mark.theorem("havens2023:eq8", "havens2023:eq9", "havens2023:sec2.4.sandwich")
@settings(max_examples=scaled(15))
@given(seed=seeds, k=st.integers(min_value=1, max_value=6), L=st.floats(min_value=0.2, max_value=5.0))
def test_explicit_bounds_attained(seed, k, L):
    """Each ratio ≥ 0.999:
    (8) AOL: W̃ with orthogonal columns (W̃ = Q·diag(c)) gives W̃D = Q, ‖W̃D‖₂ = 1 (dense, and the conv AOL layer
        of deqtheory.explicit_conv with the 1×1 kernel W̃ on a 3×3 grid);
    (9) SLL: for W ≥ 0 and q the Perron vector of WᵀW, T = λ_max(WᵀW)·I, so WᵀW ⪯ T is attained;
    §2.4 Sandwich: one layer with A = B = I/√2, Φ > 0, B_out orthogonal and all units active is the affine map
    x ↦ L·B_out x + const, exactly L-Lipschitz."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.normal(size=(k, k)))[0]
    Wt = Q * rng.uniform(0.1, 10.0, k)[None, :]
    reached("havens2023:eq8", np.linalg.norm(ex.aol_weight(Wt), 2), slack=1e-12)
    conv = ConvAOLLayer(Wt[:, :, None, None], np.zeros(k), 3)      # 1×1 conv, same witness per pixel
    reached("havens2023:eq8", np.linalg.norm(conv.to_dense()[0], 2), slack=1e-12)
    W = np.abs(rng.normal(size=(k + 1, k))) + 0.01
    evals, evecs = np.linalg.eigh(W.T @ W)
    T = ex.sll_T(W, np.abs(evecs[:, -1]))
    reached("havens2023:eq9", evals[-1] / float(np.max(T)), slack=1e-12)
    phi = rng.uniform(0.2, 5.0, k)
    I2 = np.eye(k) / math.sqrt(2)
    net = ex.SandwichNet(A=(I2,), B=(I2,), phi=(phi,), b=(np.full(k, 30.0),), B_out=Q, L=L)
    x1, x2 = rng.uniform(-1, 1, (2, k))
    reached("havens2023:sec2.4.sandwich", np.linalg.norm(net(x1) - net(x2)) / (L * np.linalg.norm(x1 - x2)))
