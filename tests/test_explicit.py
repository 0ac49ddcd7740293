"""Unit tests for deqtheory.explicit: explicit 1-Lipschitz nets and their exact DEQ embeddings.

Oracles are independent of the code under test: loop implementations of the printed formulas,
naive fixed-point iteration of the DEQ, finite differences, the verified Cholesky of
deqtheory.verified for every (semi)definiteness claim.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from deqtheory import explicit as ex
from deqtheory.certificates import Status
from deqtheory.errors import DomainError, DTypeError, NonFiniteError, ShapeError
from deqtheory.verified import UNIT_ROUNDOFF, product_error_bound, sum_error_bound, verified_pd

RTOL_FWD = 1e-12


def relu(v):
    return np.maximum(v, 0.0)


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def naive_fixed_point(form, x):
    """Oracle: plain iteration z <- phi(Wz + Ux + b) from 0, #blocks + 1 times (W nilpotent => exact)."""
    z = np.zeros(form.n)
    for _ in range(len(form.blocks) + 1):
        v = form.W @ z + form.U @ x + form.b
        z = np.where(form.identity_mask, v, relu(v))
    return form.G @ z + form.b_y, z


def nonstrict_tol(*terms, abs_err=0.0):
    """What 'PSD up to rounding' may lose for a matrix formed from ``terms``:
    2·abs_err + 128 (n+1) u Σ‖term‖_F (documented in docs/explicit.md)."""
    n = np.asarray(terms[0]).shape[0]
    scale = sum(float(np.linalg.norm(np.asarray(t))) for t in terms)
    return 2 * abs_err + 128 * (n + 1) * UNIT_ROUNDOFF * max(scale, 1e-300)


def lmi_tol(form):
    """nonstrict_tol for the LMI (10) matrix of a form with its analytic Λ, L."""
    lam, L = form.lam, form.L
    LU = lam[:, None] * form.U
    _, err = ex.lmi10_matrix(form)
    return nonstrict_tol(2 * np.diag(lam), 2 * lam[:, None] * form.W, form.G.T @ form.G / L, LU @ LU.T / L,
                         abs_err=err)


def assert_lipschitz(f, form, L, rng, d, *, pairs=40, ascent_starts=3, ascent_steps=25):
    """‖f(x)-f(x')‖ <= L‖x-x'‖ on random pairs, ‖J(x)‖₂ <= L (J checked against finite differences),
    and after gradient ascent on the ratio. Returns the largest ratio seen."""
    best = 0.0
    slack = L * (1 + 1e-9)
    X = rng.normal(size=(pairs, d)) * 2
    Xp = X + rng.normal(size=(pairs, d)) * rng.choice([1e-3, 0.1, 1.0, 5.0], size=(pairs, 1))
    r = np.linalg.norm(f(X) - f(Xp), axis=1) / np.linalg.norm(X - Xp, axis=1)
    best = max(best, float(np.max(r)))
    assert np.all(r <= slack), (np.max(r), L)
    for x in X[:8]:
        J = ex.deqform_jacobian(form, x)
        h = 1e-7
        Jfd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(d)], axis=1)
        assert np.allclose(J, Jfd, atol=1e-5 * max(1.0, L)), np.max(np.abs(J - Jfd))
        nJ = float(np.linalg.norm(J, 2))
        best = max(best, nJ)
        assert nJ <= slack, (nJ, L)
    for s in range(ascent_starts):
        x = X[s]
        xp = Xp[s].copy()
        for _ in range(ascent_steps):
            dx = xp - x
            df = f(xp) - f(x)
            nd, nf = np.linalg.norm(dx), np.linalg.norm(df)
            if nf == 0 or nd < 1e-9:
                break
            ratio = nf / nd
            best = max(best, ratio)
            assert ratio <= slack, (ratio, L)
            J = ex.deqform_jacobian(form, xp)
            g = J.T @ df / (nf * nd) - nf * dx / nd ** 3
            gn = np.linalg.norm(g)
            if gn == 0:
                break
            xp = xp + 0.2 * nd * g / gn
    return best


# --------------------------------------------------------------------------- SLL / CPL


@pytest.mark.theorem("havens2023:eq9")
def test_sll_T_matches_eq9_loop(rng):
    W = rng.normal(size=(5, 4))
    q = rng.uniform(0.2, 3.0, size=4)
    T = ex.sll_T(W, q)
    for i in range(4):
        s = 0.0
        for j in range(4):
            s += abs(sum(W[r, i] * W[r, j] for r in range(5))) * q[j] / q[i]
        assert math.isclose(T[i], s, rel_tol=1e-13)
    assert np.allclose(ex.sll_T(W), np.abs(W.T @ W).sum(axis=1), rtol=1e-14)


@pytest.mark.theorem("havens2023:eq9")
def test_sll_T_dominates_WtW_proved(rng):
    """WᵀW ⪯ T (eq. 9) via the verified Cholesky; report the proved λ_min bound (≥ −tiny)."""
    for trial in range(5):
        W = rng.normal(size=(6, 4)) * 10 ** rng.uniform(-2, 2)
        q = rng.uniform(0.2, 3.0, size=4)
        T = ex.sll_T(W, q)
        WtW = W.T @ W
        S = np.diag(T) - WtW
        err = product_error_bound(W.T, W) + sum_error_bound(np.diag(T), WtW)
        c = verified_pd(S, abs_err=err)
        tol = nonstrict_tol(np.diag(T), WtW, abs_err=err)
        assert c.margin >= -tol, c
        cert = ex.sll_layer(W, q).tw_certificate()
        assert cert.margin >= -tol
        again = cert.verify(W=W)
        assert again.margin == cert.margin and again.status is cert.status
    # equality case: orthogonal columns and q = 1 give T = diag(WᵀW), i.e. T − WᵀW = 0 exactly
    Q, _ = np.linalg.qr(rng.normal(size=(6, 3)))
    W = Q * np.array([1.0, 2.0, 3.0])
    cert = ex.sll_layer(W).tw_certificate()
    assert cert.status is not Status.REFUTED
    assert -nonstrict_tol(np.diag(ex.sll_T(W)), W.T @ W, abs_err=cert.tolerance['abs_err']) <= cert.margin <= 1e-12


def test_tw_certificate_certifies_strict_case_and_residual_layer_rejects_bad_T(rng):
    W = rng.normal(size=(4, 3))
    T = ex.sll_T(W) * 1.5
    c = ex.ResidualLayer(W, T).tw_certificate()
    assert c.status is Status.CERTIFIED and c.margin > 0
    lam_true = float(np.linalg.eigvalsh(np.diag(T) - W.T @ W)[0])
    assert c.margin <= lam_true
    with pytest.raises(DomainError):
        ex.ResidualLayer(W, ex.sll_T(W) * 0.5)


@pytest.mark.parametrize("kind", ["sll", "cpl"])
def test_residual_stack_is_1_lipschitz(rng, kind):
    st = ex.random_sll_stack(rng, 4, [3, 5, 2], kind=kind, scale=1.5)
    form = ex.sll_to_deq(st)
    best = assert_lipschitz(st, form, st.lipschitz_bound(), rng, 4)
    assert 0.2 < best <= 1.0 + 1e-9


def test_cpl_T_is_squared_norm_upper_bound(rng):
    for _ in range(5):
        W = rng.normal(size=(5, 3)) * 10 ** rng.uniform(-3, 3)
        T = ex.cpl_T(W)
        s = np.linalg.svd(W, compute_uv=False)[0]
        assert np.all(T == T[0])
        assert T[0] >= s * s and T[0] <= s * s * (1 + 1e-9)
        c = ex.cpl_layer(W).tw_certificate()
        assert c.margin > -nonstrict_tol(np.diag(T), W.T @ W, abs_err=c.tolerance['abs_err'])


def test_residual_layer_forward_matches_formula(rng):
    W = rng.normal(size=(4, 3))
    q = rng.uniform(0.5, 2, 3)
    b = rng.normal(size=3)
    l = ex.sll_layer(W, q, b)
    x = rng.normal(size=4)
    T = ex.sll_T(W, q)
    want = x - 2 * W @ np.diag(1 / T) @ relu(W.T @ x + b)
    assert np.allclose(l(x), want, rtol=1e-14, atol=1e-14)
    assert np.allclose(l(x[None, :])[0], want, rtol=1e-14, atol=1e-14)


def _printed_eq14(st):
    """W, U, G of havens2023 eq. (14) / App. C, built block by block from the printed display."""
    d = st.d
    Ws = [l.W for l in st.layers]
    Ts = [np.diag(l.T) for l in st.layers]
    N = len(Ws)
    sizes = [d] + [w.shape[1] for w in Ws]
    off = np.concatenate([[0], np.cumsum(sizes)])
    n = off[-1]
    W = np.zeros((n, n))
    for r in range(1, N + 1):            # block row r holds x~_r = σ(W_{r-1}ᵀ x_{r-1} + b_{r-1})
        Wr = Ws[r - 1]
        W[off[r]:off[r + 1], off[0]:off[1]] = Wr.T
        for c in range(1, r):            # -2 W_{r-1}ᵀ W_{c-1} T_{c-1}⁻¹
            W[off[r]:off[r + 1], off[c]:off[c + 1]] = -2 * Wr.T @ Ws[c - 1] @ np.linalg.inv(Ts[c - 1])
    U = np.zeros((n, d)); U[:d] = np.eye(d)
    G = np.hstack([np.eye(d)] + [-2 * Ws[k] @ np.linalg.inv(Ts[k]) for k in range(N)])
    lam = np.concatenate([np.ones(d)] + [2 / st.layers[k].T for k in range(N)])
    return W, U, G, lam


@pytest.mark.theorem("havens2023:eq14")
def test_sll_to_deq_matches_printed_eq14_and_eq13(rng):
    st = ex.random_sll_stack(rng, 3, [2, 4, 3, 2])
    form = ex.sll_to_deq(st)
    W, U, G, lam = _printed_eq14(st)
    assert np.allclose(form.W, W, rtol=1e-13, atol=1e-13)
    assert np.array_equal(form.U, U) and np.allclose(form.G, G, rtol=1e-14, atol=1e-15)
    assert np.allclose(form.lam, lam, rtol=1e-15)
    assert form.identity_mask[:3].all() and not form.identity_mask[3:].any()
    X = rng.normal(size=(10, 3)) * 3
    Y = ex.deqform_forward(form, X)
    assert rel_err(Y, st(X)) <= RTOL_FWD
    for x in X[:4]:
        y_naive, _ = naive_fixed_point(form, x)
        assert rel_err(y_naive, st(x)) <= RTOL_FWD


@pytest.mark.theorem("havens2023:eq15")
@pytest.mark.theorem("havens2023:appC")
def test_sll_lambda_eq15_satisfies_lmi10(rng):
    """Λ = blkdiag(I, 2T₀⁻¹, …) satisfies the non-strict (10) with L = 1 (proved λ_min ≥ −tiny)."""
    for kind in ("sll", "cpl"):
        st = ex.random_sll_stack(rng, 4, [3, 5, 2], kind=kind)
        form = ex.sll_to_deq(st)
        cert = ex.check_lmi10(form)
        S, _ = ex.lmi10_matrix(form)
        assert cert.status is not Status.REFUTED
        assert cert.margin >= -lmi_tol(form), cert.margin
        assert cert.margin <= 1e-12          # the skip block is exactly zero: (10) is tight
        again = cert.verify(form=form)
        assert again.margin == cert.margin


@pytest.mark.theorem("havens2023:eq21")
def test_appC_block_diagonal_is_4T_not_2T(rng):
    """(21): after cancellation the LMI matrix is blkdiag(0, 4(T⁻¹ − T⁻¹WᵀWT⁻¹), …) — twice the printed blocks."""
    st = ex.random_sll_stack(rng, 3, [2, 3])
    form = ex.sll_to_deq(st)
    S, _ = ex.lmi10_matrix(form)
    blocks = form.blocks
    for i, (s, e) in enumerate(blocks):
        for j, (s2, e2) in enumerate(blocks):
            if i != j:
                assert np.max(np.abs(S[s:e, s2:e2])) <= 1e-12
    assert np.max(np.abs(S[:3, :3])) <= 1e-13
    for k, l in enumerate(st.layers):
        s, e = blocks[k + 1]
        Ti = np.diag(1 / l.T)
        printed = 2 * Ti - 2 * Ti @ l.W.T @ l.W @ Ti
        assert np.allclose(S[s:e, s:e], 2 * printed, rtol=1e-12, atol=1e-13)
        assert not np.allclose(S[s:e, s:e], printed, rtol=1e-6)


@pytest.mark.theorem("havens2023:eq16")
@pytest.mark.theorem("havens2023:thm3.5")
def test_thm35_VtV_blocks_eq16_and_lben_reconstruction(rng):
    st = ex.random_sll_stack(rng, 3, [4, 2, 3])
    form = ex.sll_to_deq(st)
    p = ex.lben_from_deqform(form)
    n = form.n
    lam = form.lam
    VtV = p.V.T @ p.V
    # eq. 16: leading zero block, then 2T_n⁻¹ − 2T_n⁻¹W_nᵀW_nT_n⁻¹ for n = 0..N-1 (printed range 1..N-1 omits n = 0)
    assert np.max(np.abs(VtV[:3, :3])) <= 1e-12
    for k, l in enumerate(st.layers):
        s, e = form.blocks[k + 1]
        Ti = np.diag(1 / l.T)
        assert np.allclose(VtV[s:e, s:e], 2 * Ti - 2 * Ti @ l.W.T @ l.W @ Ti, rtol=1e-10, atol=1e-12)
    assert p.residual <= 1e-12
    # eq. (7) (project convention, skew term Sᵀ − S) reproduces W with S = ½Mᵀ ...
    Psi = np.diag(p.psi)
    Psii = np.diag(1 / p.psi)

    def eq7(S):
        return np.eye(n) - Psi @ (p.G.T @ p.G / 2 + Psii @ p.U @ p.U.T @ Psii / 2 + VtV + S.T - S)

    assert np.allclose(eq7(p.S), form.W, atol=1e-11)
    # ... while Thm 3.5's printed S = ½M (i.e. p.S.T) does not (it fits eq. (2)'s S − Sᵀ)
    assert np.max(np.abs(eq7(p.S.T) - form.W)) > 1e-3


# --------------------------------------------------------------------------- AOL


@pytest.mark.theorem("havens2023:eq8")
def test_aol_scaling_eq8_and_footnote2(rng):
    Wt = rng.normal(size=(5, 4))
    Wt[:, 2] = 0.0
    D = ex.aol_scaling(Wt)
    for i in range(4):
        s = sum(abs(float(Wt[:, i] @ Wt[:, j])) for j in range(4))
        assert (D[i] == 0.0) if s == 0 else math.isclose(D[i], s ** -0.5, rel_tol=1e-14)
    assert D[2] == 0.0
    for _ in range(5):
        W = ex.aol_weight(rng.normal(size=(rng.integers(1, 7), rng.integers(1, 7))) * 10 ** rng.uniform(-3, 3))
        S = np.eye(W.shape[1]) - W.T @ W
        err = product_error_bound(W.T, W) + sum_error_bound(np.eye(W.shape[1]), W.T @ W)
        c = verified_pd(S, abs_err=err)
        assert c.margin >= -nonstrict_tol(np.eye(W.shape[1]), W.T @ W, abs_err=err), c     # ‖W̃D‖₂ ≤ 1


@pytest.mark.theorem("havens2023:appD1")
def test_aol_embedding_appD1(rng):
    net = ex.random_aol_net(rng, [3, 5, 4, 6, 2], zero_column=True)
    form = ex.aol_to_deq(net)
    eff = net.effective_weights
    # printed App. D.1: W block subdiagonal W_jD_j (j = 1..l-1), U = [W_0D_0; 0], G = [0, …, W_lD_l]
    sizes = [w.shape[0] for w in eff[:-1]]
    off = np.concatenate([[0], np.cumsum(sizes)])
    W = np.zeros((off[-1], off[-1]))
    for j in range(1, len(sizes)):
        W[off[j]:off[j + 1], off[j - 1]:off[j]] = eff[j]
    assert np.array_equal(form.W, W)
    assert np.array_equal(form.U[:5], eff[0]) and not form.U[5:].any()
    assert np.array_equal(form.G[:, off[-2]:], eff[-1]) and not form.G[:, :off[-2]].any()
    X = rng.normal(size=(9, 3))
    assert rel_err(ex.deqform_forward(form, X), net(X)) <= RTOL_FWD
    y_naive, _ = naive_fixed_point(form, X[0])
    assert rel_err(y_naive, net(X[0])) <= RTOL_FWD
    cert = ex.check_lmi10(form)                 # Λ = I, L = 1
    S, _ = ex.lmi10_matrix(form)
    assert np.array_equal(form.lam, np.ones(form.n))
    assert cert.margin >= -lmi_tol(form)
    assert_lipschitz(net, form, 1.0, rng, 3)


def test_aol_lmi_is_tight_for_orthogonal_weights(rng):
    """With square orthogonal-like AOL weights (W̃ orthogonal ⇒ D = I) (10) is singular: margin ≈ 0."""
    Q1, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    Q2, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    Q3, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    net = ex.AOLNet((Q1, Q2), (np.zeros(3), np.zeros(3)), Q3)
    assert np.allclose(net.effective_weights[0], Q1, atol=1e-6)  # D ≈ diag(Σ|QᵀQ|)^(-1/2) ≈ I
    form = ex.aol_to_deq(net)
    cert = ex.check_lmi10(form)
    assert abs(cert.margin) <= 1e-5


# --------------------------------------------------------------------------- Sandwich


def test_cayley_stiefel_orthogonality(rng):
    for p, m in [(1, 1), (3, 2), (4, 7), (6, 1)]:
        A, B = ex.cayley_stiefel(rng.normal(size=(p, p)) * 3, rng.normal(size=(m, p)) * 3)
        assert A.shape == (p, p) and B.shape == (p, m)
        assert np.allclose(A @ A.T + B @ B.T, np.eye(p), atol=1e-12)
        Q = np.vstack([A.T, B.T])
        assert np.allclose(Q.T @ Q, np.eye(p), atol=1e-12)
    # Y = 0 gives the classical Cayley transform of the skew matrix X − Xᵀ
    X = rng.normal(size=(3, 3))
    A, B = ex.cayley_stiefel(X, np.zeros((2, 3)))
    K = X - X.T
    assert np.allclose(A.T, np.linalg.solve(np.eye(3) + K, np.eye(3) - K), atol=1e-13) and not B.any()


@pytest.mark.theorem("havens2023:sec2.4.sandwich")
@pytest.mark.parametrize("p_out", [2, 7])
@pytest.mark.parametrize("L", [1.0, 3.0])
def test_sandwich_is_L_lipschitz(rng, p_out, L):
    """B_out wide (B Bᵀ = I, BᵀB ≠ I: the printed B_NᵀB_N = I fails) or tall: still L-Lipschitz."""
    net = ex.random_sandwich_net(rng, 4, [5, 3], p_out, L=L)
    Bo = net.B_out
    if p_out < 3:
        assert not np.allclose(Bo.T @ Bo, np.eye(3))
    form = ex.sandwich_to_deq(net)
    best = assert_lipschitz(net, form, L, rng, 4)
    assert best > 0.05 * L


@pytest.mark.theorem("havens2023:sec2.4.sandwich")
def test_sandwich_misread_constraint_counterexample():
    """AᵀA + BᵀB = I (columns of [A; B] orthonormal) does *not* give a 1-Lipschitz layer; AAᵀ + BBᵀ = I does."""
    A = np.array([[1.0, 0.0], [0.0, 0.0]])
    B = np.array([[0.0, 1.0], [0.0, 0.0]])
    assert np.allclose(A.T @ A + B.T @ B, np.eye(2))
    layer = lambda x: math.sqrt(2) * A.T @ relu(math.sqrt(2) * B @ x)   # Φ = I, b = 0
    x, xp = np.array([0.0, 0.0]), np.array([0.0, 1.0])
    assert np.linalg.norm(layer(xp) - layer(x)) / np.linalg.norm(xp - x) == pytest.approx(2.0)
    with pytest.raises(DomainError):
        ex.SandwichNet((A,), (B,), (np.ones(2),), (np.zeros(2),), np.eye(2))


@pytest.mark.theorem("havens2023:eq22")
@pytest.mark.theorem("havens2023:appD2")
def test_sandwich_embedding_eq22_and_lmi(rng):
    L = 2.5
    net = ex.random_sandwich_net(rng, 3, [4, 2, 5], 2, L=L)
    form = ex.sandwich_to_deq(net)
    P = [np.diag(p) for p in net.phi]
    Pi = [np.diag(1 / p) for p in net.phi]
    # printed (22) and the U, G of App. D.2
    off = np.concatenate([[0], np.cumsum([len(p) for p in net.phi])])
    W = np.zeros((off[-1], off[-1]))
    for k in range(1, 3):
        W[off[k]:off[k + 1], off[k - 1]:off[k]] = 2 * Pi[k] @ net.B[k] @ net.A[k - 1].T @ P[k - 1]
    assert np.allclose(form.W, W, rtol=1e-13, atol=1e-14)
    assert np.allclose(form.U[:4], math.sqrt(2 * L) * Pi[0] @ net.B[0], rtol=1e-14) and not form.U[4:].any()
    assert np.allclose(form.G[:, off[2]:], math.sqrt(2 * L) * net.B_out @ net.A[2].T @ P[2], rtol=1e-13)
    assert np.allclose(form.lam, np.concatenate([p ** 2 for p in net.phi]), rtol=1e-15)
    X = rng.normal(size=(8, 3))
    assert rel_err(ex.deqform_forward(form, X), net(X)) <= RTOL_FWD
    y_naive, _ = naive_fixed_point(form, X[1])
    assert rel_err(y_naive, net(X[1])) <= RTOL_FWD
    cert = ex.check_lmi10(form)
    S, _ = ex.lmi10_matrix(form)
    assert cert.margin >= -lmi_tol(form)
    assert form.L == L


@pytest.mark.theorem("havens2023:eq23")
def test_sandwich_analytic_V_corrected_eq23(rng):
    net = ex.random_sandwich_net(rng, 3, [4, 3, 5], 5, L=1.0)   # tall B_out: B_outᵀB_out = I
    form = ex.sandwich_to_deq(net)
    S, _ = ex.lmi10_matrix(form)
    V = ex.sandwich_analytic_V(net)
    assert np.allclose(V.T @ V, S / 2, atol=1e-12)
    # printed (23): +B_{n+1}ᵀΦ_{n+1} and a last row [A_{N-1}ᵀΦ_{N-1}] (its B_NᵀΦ_N block has no column)
    off = np.concatenate([[0], np.cumsum([len(p) for p in net.phi])])
    rows = []
    for k in range(3):
        r = np.zeros((net.A[k].shape[1], off[-1]))
        r[:, off[k]:off[k + 1]] = net.A[k].T * net.phi[k]
        if k < 2:
            r[:, off[k + 1]:off[k + 2]] = net.B[k + 1].T * net.phi[k + 1]
        rows.append(r)
    Vp = np.vstack(rows)
    assert np.max(np.abs(Vp.T @ Vp - S / 2)) > 1e-2
    # the LBEN reconstruction of App. D.2 (with S = ½Mᵀ under eq. 7) reproduces W
    p = ex.lben_from_deqform(form)
    assert p.residual <= 1e-12
    Psi, Psii = np.diag(p.psi), np.diag(1 / p.psi)
    Wrec = np.eye(form.n) - Psi @ (p.G.T @ p.G / 2 + Psii @ p.U @ p.U.T @ Psii / 2 + p.V.T @ p.V + p.S.T - p.S)
    assert np.allclose(Wrec, form.W, atol=1e-10)


# --------------------------------------------------------------------------- wei2022 Prop 3.7


@pytest.mark.theorem("wei2022:prop3.7")
def test_prop37_embedding(rng):
    net = ex.random_relu_net(rng, [3, 4, 4, 4, 4], scale=2.0)
    emb = ex.relu_net_to_ibp_deq(net)
    form = emb.form
    # W = M, block strictly lower triangular (subdiagonal A_i)
    assert np.array_equal(form.W, emb.M)
    assert not np.triu(form.W).any()
    # W = Γ D^{-1/2} M D^{-1/2} Γ^{-1} (eq. 3.7) up to rounding
    Wp = (emb.Gamma / np.sqrt(emb.D))[:, None] * emb.M * (1 / (np.sqrt(emb.D) * emb.Gamma))[None, :]
    assert np.allclose(Wp, emb.M, rtol=1e-13, atol=1e-13 * np.max(np.abs(emb.M)))
    # D_ii > (|M|1 + |M|ᵀ1)_i / 2, strictly, with a margin far above rounding
    absM = np.abs(emb.M)
    need = (absM.sum(axis=1) + absM.sum(axis=0)) / 2
    assert np.all(emb.D - need > 1e-6 * emb.D)
    # Thm 3.3 consequence: Λ = Γ⁻² gives Λ − Λ|W| ≻ 0 (verified)
    lam = emb.Gamma ** -2.0
    A = np.diag(lam) - lam[:, None] * np.abs(form.W)
    c = verified_pd(A, abs_err=2 * UNIT_ROUNDOFF * float(np.linalg.norm(lam[:, None] * np.abs(form.W))))
    assert c.status is Status.CERTIFIED
    # the last block of z* is z_L(x)
    X = rng.normal(size=(6, 3))
    _, Z = ex.deqform_forward(form, X, return_z=True)
    s, e = form.blocks[-1]
    assert rel_err(Z[:, s:e], net(X)) <= RTOL_FWD
    assert rel_err(ex.deqform_forward(form, X), net(X)) <= RTOL_FWD
    _, z_naive = naive_fixed_point(form, X[0])
    assert rel_err(z_naive[s:e], net(X[0])) <= RTOL_FWD


@pytest.mark.theorem("wei2022:prop3.7")
def test_prop37_needs_gamma_and_printed_gamma_recursion_is_wrong(rng):
    """For large weights I − |W| is not PD (Thm 3.1 alone cannot embed the net) while Λ = Γ⁻² works;
    the printed recursion γ_iβ_i^{-1/2}β_{i-1}^{-1}γ_{i-1}^{-1} = 1 does not give W = M."""
    net = ex.random_relu_net(rng, [2, 3, 3, 3], scale=4.0)
    emb = ex.relu_net_to_ibp_deq(net)
    W = emb.form.W
    c = verified_pd(np.eye(W.shape[0]) - np.abs(W))
    assert c.status is Status.REFUTED
    lam = emb.Gamma ** -2.0
    c2 = verified_pd(np.diag(lam) - lam[:, None] * np.abs(W),
                     abs_err=2 * UNIT_ROUNDOFF * float(np.linalg.norm(lam[:, None] * np.abs(W))))
    assert c2.status is Status.CERTIFIED
    b = emb.betas
    g = [1.0]
    for i in range(1, len(b)):
        g.append(g[-1] * math.sqrt(b[i]) * b[i - 1])   # printed: γ_i = γ_{i-1} β_i^{1/2} β_{i-1}
    blocks = emb.form.blocks
    Gam = np.concatenate([np.full(e - s, g[i]) for i, (s, e) in enumerate(blocks)])
    Wp = (Gam / np.sqrt(emb.D))[:, None] * emb.M * (1 / (np.sqrt(emb.D) * Gam))[None, :]
    assert not np.allclose(Wp, emb.M, rtol=1e-3)


def test_relu_net_lipschitz_bound_is_upper(rng):
    net = ex.random_relu_net(rng, [3, 5, 4], scale=1.0)
    Lb = net.lipschitz_bound()
    form = ex.feedforward_to_deq(net.weights, net.biases)
    best = assert_lipschitz(net, form, Lb, rng, 3, ascent_starts=2)
    assert best <= Lb
    prod = np.prod([np.linalg.norm(w, 2) for w in net.weights])
    assert prod <= Lb <= prod * (1 + 1e-9)


# --------------------------------------------------------------------------- validation


def test_bad_inputs_raise_typed_errors(rng):
    W = rng.normal(size=(3, 2))
    with pytest.raises(NonFiniteError):
        ex.sll_layer(np.array([[np.nan, 1.0], [0.0, 1.0]]))
    with pytest.raises(DomainError):
        ex.sll_layer(W, q=np.array([1.0, -1.0]))
    with pytest.raises(DomainError):                         # zero column: T_i = 0 not invertible
        ex.sll_layer(np.array([[1.0, 0.0], [2.0, 0.0]]))
    with pytest.raises(ShapeError):
        ex.sll_layer(W, b=np.zeros(3))
    with pytest.raises(ShapeError):
        ex.ResidualStack(())
    with pytest.raises(DTypeError):
        ex.ResidualStack(np.zeros(3))
    with pytest.raises(ShapeError):
        ex.ResidualStack((ex.sll_layer(W), ex.sll_layer(rng.normal(size=(4, 2)))))
    st = ex.ResidualStack((ex.sll_layer(W),))
    with pytest.raises(ShapeError):
        st(np.zeros((2, 4)))
    with pytest.raises(DTypeError):
        st("abc")
    with pytest.raises(DomainError):
        ex.cpl_layer(np.zeros((2, 2)))
    A, B = ex.cayley_stiefel(np.zeros((2, 2)), rng.normal(size=(3, 2)))
    with pytest.raises(DomainError):                         # ‖B_out‖ > 1
        ex.SandwichNet((A,), (B,), (np.ones(2),), (np.zeros(2),), 2 * np.eye(2))
    with pytest.raises(DomainError):                         # Φ must be positive
        ex.SandwichNet((A,), (B,), (np.array([1.0, 0.0]),), (np.zeros(2),), np.eye(2))
    with pytest.raises(ShapeError):
        ex.SandwichNet((A,), (B,), (np.ones(2),), (np.zeros(2), np.zeros(2)), np.eye(2))
    with pytest.raises(DomainError):
        ex.SandwichNet((A,), (B,), (np.ones(2),), (np.zeros(2),), np.eye(2), L=0.0)
    with pytest.raises(ShapeError):
        ex.AOLNet((), (), np.eye(2))
    with pytest.raises(ShapeError):
        ex.ReLUNet((np.eye(2), np.eye(3)))
    with pytest.raises(DomainError):
        ex.relu_net_to_ibp_deq(ex.ReLUNet((np.eye(2),)), slack=1.0)
    with pytest.raises(DomainError):                          # not strictly block lower triangular
        ex.DEQForm(np.eye(2), np.eye(2), np.zeros(2), np.eye(2), np.zeros(2), np.zeros(2, bool), ((0, 1), (1, 2)))
    with pytest.raises(ShapeError):
        ex.DEQForm(np.zeros((2, 2)), np.eye(2), np.zeros(2), np.eye(2), np.zeros(2), np.zeros(2, bool), ((0, 1),))
    with pytest.raises(DomainError):                          # no analytic Λ to check
        ex.check_lmi10(ex.relu_net_to_ibp_deq(ex.ReLUNet((np.eye(2),))).form)


def test_dataclasses_are_frozen(rng):
    st = ex.random_sll_stack(rng, 2, [2])
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.layers[0].W = np.eye(2)
    form = ex.sll_to_deq(st)
    with pytest.raises(dataclasses.FrozenInstanceError):
        form.W = np.eye(4)


def test_lmi10_refutes_wrong_L(rng):
    """The check can fail: for a Sandwich net with prescribed L, claiming L/4 is refuted."""
    net = ex.random_sandwich_net(rng, 3, [3, 3], 3, L=1.0)
    form = ex.sandwich_to_deq(net)
    c = ex.check_lmi10(form, L=0.25)
    assert c.status is Status.REFUTED and "v" in c.witness
