"""Unit tests of deqtheory.parametrizations.dag_lben (DAG-LBEN: block strictly lower LBEN weights).

The oracles here are independent of the code under test: dense loops for lowblk, a plain block
forward substitution for the DEQ, the Fourier-domain kernel of P for the convolution statement."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory import errors
from deqtheory.certificates import Status
from deqtheory.circulant import (conv_matrix, freq_adjoint, freq_identity, freq_matmul, freq_to_kernel,
                                 kernel_to_freq, matrix_to_kernel)
from deqtheory.parametrizations import (DAGLBEN, LBEN, block_strictly_lower, dag_lben, dag_lben_to_lben_params,
                                        is_block_strictly_lower)
from deqtheory.parametrizations.base import lambda_min_certificate
from deqtheory.parametrizations.lben import lben_lhs

BLOCKS = [(1,), (4,), (1, 1, 1, 1), (2, 3), (1, 2, 1, 3), (3, 1, 2)]


def _case(seed, blocks, *, p=2, d=3, k=None, L=1.5, eps=0.1, weighted=True, scale=1.0):
    rng = np.random.default_rng(seed)
    n = sum(blocks)
    k = n if k is None else k
    G = scale * rng.standard_normal((p, n))
    Ut = scale * rng.standard_normal((n, d))
    V = scale * rng.standard_normal((k, n)) / np.sqrt(n)
    q = rng.uniform(0.3, 3.0, n) if weighted else None
    return dag_lben(G, Ut, V, blocks=blocks, L=L, eps=eps, q=q), rng


def _lowblk_oracle(A, blocks):
    n = A.shape[0]
    lab = []
    for b, s in enumerate(blocks):
        lab += [b] * s
    out = np.zeros_like(A)
    for i in range(n):
        for j in range(n):
            if lab[i] > lab[j]:
                out[i, j] = A[i, j]
    return out


def _solve_dag(W, U, b, x, blocks):
    """Exact fixed point of z = φ(Wz + Ux + b) by block forward substitution; φ = identity on
    block 0 and ReLU on the other blocks. Reads only W's strictly-lower blocks."""
    z = np.zeros(W.shape[0])
    a = 0
    for kb, s in enumerate(blocks):
        v = W[a:a + s, :a] @ z[:a] + U[a:a + s] @ x + b[a:a + s]
        z[a:a + s] = v if kb == 0 else np.maximum(v, 0.0)
        a += s
    return z


def _phi(v, blocks):
    out = np.maximum(v, 0.0)
    out[:blocks[0]] = v[:blocks[0]]
    return out


def _lmi_cert(W, lam, G, U, L, eps):
    lhs, err = lben_lhs(W, lam, G, U, L)
    return lambda_min_certificate("dag_lben_lmi4", lhs, threshold=2 * eps, tol=None, abs_err=err, strict=False,
                                  witness={}, name="LHS(4)"), lhs


# ----------------------------------------------------------------------------------- (a)
@pytest.mark.theorem("havens2023:dag.lben")
@pytest.mark.parametrize("blocks", BLOCKS)
def test_W_is_block_strictly_lower(blocks):
    r, _ = _case(1, blocks)
    assert isinstance(r, DAGLBEN) and r.W.shape == (r.n, r.n) and r.U.shape == (r.n, 3)
    assert is_block_strictly_lower(r.W, blocks)
    assert np.array_equal(r.W, _lowblk_oracle(r.W, blocks))
    # nilpotent: W^(K+1) = 0 exactly in structure
    Wp = np.linalg.matrix_power(r.W, len(blocks))
    assert np.all(Wp == 0.0)
    if len(blocks) == 1:
        assert np.all(r.W == 0.0)


def test_block_strictly_lower_matches_loops():
    rng = np.random.default_rng(2)
    for blocks in BLOCKS:
        A = rng.standard_normal((sum(blocks),) * 2)
        assert np.array_equal(block_strictly_lower(A, blocks), _lowblk_oracle(A, blocks))


def test_is_block_strictly_lower_rejects_entries_on_or_above_the_block_diagonal():
    blocks = (2, 1, 2)
    W = _lowblk_oracle(np.ones((5, 5)), blocks)
    assert is_block_strictly_lower(W, blocks)
    W2 = W.copy()
    W2[0, 1] = 1e-3        # inside diagonal block 0
    assert not is_block_strictly_lower(W2, blocks)
    assert is_block_strictly_lower(W2, blocks, tol=1e-3)
    W3 = W.copy()
    W3[2, 4] = -0.5        # above the block diagonal
    assert not is_block_strictly_lower(W3, blocks)
    assert not is_block_strictly_lower(np.eye(5), (1,) * 5)


def test_lam_is_the_scaled_gershgorin_sum_and_D_is_psd():
    blocks = (2, 3, 1)
    r, _ = _case(3, blocks)
    n = r.n
    lab = np.repeat(np.arange(len(blocks)), blocks)
    for i in range(n):
        want = sum(abs(r.P[i, j]) * r.q[j] / r.q[i] for j in range(n) if lab[j] == lab[i])
        assert r.lam[i] == pytest.approx(want, rel=1e-13)
    assert np.all(r.lam >= np.diag(r.P) * (1 - 1e-14))
    assert float(np.linalg.eigvalsh(r.D)[0]) >= -1e-12 * float(np.abs(r.P).max())
    # P as documented
    Q = (r.G.T @ r.G + r.Ut @ r.Ut.T) / r.L
    assert np.allclose(r.P, Q / 2 + r.V.T @ r.V + r.eps * np.eye(n), rtol=0, atol=1e-13 * np.abs(r.P).max())
    assert np.allclose(r.U * r.lam[:, None], r.Ut, rtol=1e-14, atol=0)
    assert np.array_equal(r.P, r.P.T)


def test_default_weights_are_ones():
    rng = np.random.default_rng(4)
    G, Ut, V = rng.standard_normal((2, 5)), rng.standard_normal((5, 2)), rng.standard_normal((3, 5))
    a = dag_lben(G, Ut, V, blocks=(2, 3))
    b = dag_lben(G, Ut, V, blocks=[2, 3], q=np.ones(5))
    assert np.array_equal(a.lam, b.lam) and np.array_equal(a.W, b.W)
    assert a.L == 1.0 and a.eps == 0.0 and a.blocks == (2, 3)
    with pytest.raises(ValueError):
        a.W[0, 0] = 1.0            # read-only


# ----------------------------------------------------------------------------------- (b)
@pytest.mark.theorem("havens2023:dag.lben")
@pytest.mark.parametrize("blocks", BLOCKS)
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_lben_forward_of_equivalent_params_equals_W(blocks, eps):
    r, _ = _case(5, blocks, eps=eps, L=0.7)
    prm = dag_lben_to_lben_params(r)
    assert prm.V.shape == (r.V.shape[0] + r.n, r.n)
    assert np.allclose(np.exp(-prm.log_psi), r.lam, rtol=1e-14, atol=0)
    W7 = LBEN(L=r.L, eps=r.eps).forward(prm)
    scale = 1.0 + float(np.max(np.abs(r.P) / r.lam[:, None]))
    assert float(np.max(np.abs(W7 - r.W))) <= 1e-10 * scale
    # the defining condition of the eq. (7) family holds at these parameters (ε > 0 is strict)
    if eps > 0:
        assert LBEN(L=r.L, eps=r.eps).defining_condition(prm).certified


def test_to_lben_params_type_error():
    with pytest.raises(TypeError):
        dag_lben_to_lben_params(np.eye(2))


# ----------------------------------------------------------------------------------- (c)
@pytest.mark.theorem("havens2023:dag.lben")
@pytest.mark.parametrize("blocks", BLOCKS)
@pytest.mark.parametrize("eps,k", [(0.0, 1), (0.0, None), (0.2, 2), (1.0, None)])
def test_lmi4_holds_with_witness_lam(blocks, eps, k):
    r, _ = _case(6, blocks, eps=eps, k=k, L=2.0)
    cert, lhs = _lmi_cert(r.W, r.lam, r.G, r.U, r.L, r.eps)
    assert cert.status is Status.CERTIFIED, cert.message
    # the identity LHS(4) = 2(VᵀV + εI) + 2D
    rhs = 2 * (r.V.T @ r.V + r.eps * np.eye(r.n)) + 2 * r.D
    assert np.allclose(lhs, rhs, rtol=0, atol=1e-11 * max(1.0, np.abs(rhs).max()))
    assert r.certify().certified


@pytest.mark.theorem("havens2023:dag.lben")
def test_negative_control_halving_lam_on_one_block_fails():
    """λ halved on a size-1 block i (Ũ row i = 0, G column i large, V small): the (i, i) entry of
    LHS(4) becomes λ_i − (GᵀG)_ii/L = (VᵀV)_ii + ε − (GᵀG)_ii/(2L) < 0, so (4) must fail."""
    rng = np.random.default_rng(7)
    blocks = (2, 1, 2)
    i, n, L, eps = 2, 5, 1.0, 0.01
    G = 0.1 * rng.standard_normal((3, n))
    G[:, i] = 3.0 + rng.uniform(size=3)
    Ut = rng.standard_normal((n, 2))
    Ut[i] = 0.0
    V = 0.05 * rng.standard_normal((n, n))
    r = dag_lben(G, Ut, V, blocks=blocks, L=L, eps=eps)
    assert _lmi_cert(r.W, r.lam, r.G, r.U, L, eps)[0].certified
    a = float(G[:, i] @ G[:, i]) / L
    v = float(V[:, i] @ V[:, i])
    assert a / 2 > v + eps + 1.0                 # the construction forces the failure
    lam2 = r.lam.copy()
    lam2[i] *= 0.5
    cert, lhs = _lmi_cert(r.W, lam2, r.G, r.U, L, eps)
    assert lhs[i, i] == pytest.approx(v + eps - a / 2, rel=1e-10)
    assert cert.status is Status.REFUTED, cert.message
    assert not LBEN(L=L, eps=eps).contains(r.W, G=r.G, U=r.U, Lambda=lam2).certified


# ----------------------------------------------------------------------------------- (d)
@pytest.mark.theorem("havens2023:dag.lben")
@pytest.mark.parametrize("blocks,L,eps", [((2, 3, 2), 1.0, 0.0), ((1, 1, 1, 1, 1), 0.5, 0.1),
                                          ((3, 4), 3.0, 0.0), ((2, 2, 2, 2), 1.0, 0.5)])
def test_empirical_lipschitz_by_exact_forward_substitution(blocks, L, eps):
    r, rng = _case(8, blocks, L=L, eps=eps, d=3, p=3, k=2, scale=2.0)
    b = rng.standard_normal(r.n)
    best = 0.0
    for t in range(200):
        x1 = 3 * rng.standard_normal(3)
        dx = rng.standard_normal(3) * 10.0 ** rng.uniform(-4, 1)
        x2 = x1 + dx
        z1 = _solve_dag(r.W, r.U, b, x1, blocks)
        z2 = _solve_dag(r.W, r.U, b, x2, blocks)
        for z, x in ((z1, x1), (z2, x2)):          # exact fixed points
            res = np.linalg.norm(z - _phi(r.W @ z + r.U @ x + b, blocks))
            assert res <= 1e-12 * (1 + np.linalg.norm(z))
        ratio = np.linalg.norm(r.G @ (z1 - z2)) / np.linalg.norm(x1 - x2)
        assert ratio <= L * (1 + 1e-9), (t, ratio, L)
        best = max(best, ratio)
    assert best > 0.0
    # all-identity activation: the map is linear, y = G(I − W)⁻¹U x, so its spectral norm is ≤ L
    T = r.G @ np.linalg.solve(np.eye(r.n) - r.W, r.U)
    assert np.linalg.norm(T, 2) <= L * (1 + 1e-9)


# ----------------------------------------------------------------------------------- (e)
@pytest.mark.theorem("havens2023:dag.lben")
@pytest.mark.parametrize("N,ksize", [(3, 3), (4, 3), (5, 1)])
def test_conv_lam_is_constant_per_channel_and_equals_kernel_l1(N, ksize):
    """G, Ũ, V circular convolutions, blocks = whole channels, q constant per channel: λ is
    constant over each channel's pixels and λ_c = Σ_{c'∈block(c)} ‖p_cc'‖₁ q_c'/q_c with p the
    (wrapped, full-support) kernel of P, computed independently in the Fourier domain."""
    rng = np.random.default_rng(9 + N)
    c, c_in, c_out, c_v = 3, 2, 2, 2
    L, eps = 1.3, 0.05
    KG = rng.standard_normal((c_out, c, ksize, ksize))
    KU = rng.standard_normal((c, c_in, ksize, ksize))
    KV = rng.standard_normal((c_v, c, ksize, ksize)) * 0.5
    G, Ut, V = conv_matrix(KG, N), conv_matrix(KU, N), conv_matrix(KV, N)
    qc = rng.uniform(0.5, 2.0, c)
    chan_blocks = [[0], [1, 2]]
    n2 = N * N
    r = dag_lben(G, Ut, V, blocks=(n2, 2 * n2), L=L, eps=eps, q=np.repeat(qc, n2))
    # kernel of P in the Fourier domain
    Gh, Uh, Vh = kernel_to_freq(KG, N), kernel_to_freq(KU, N), kernel_to_freq(KV, N)
    Ph = ((freq_matmul(freq_adjoint(Gh), Gh) + freq_matmul(Uh, freq_adjoint(Uh))) / (2 * L)
          + freq_matmul(freq_adjoint(Vh), Vh) + eps * freq_identity(N, c))
    pk = freq_to_kernel(Ph)                         # (c, c, N, N)
    lam = r.lam.reshape(c, n2)
    scale = float(np.max(lam))
    for grp in chan_blocks:
        for ch in grp:
            assert float(np.ptp(lam[ch])) <= 1e-12 * scale
            want = sum(np.abs(pk[ch, c2]).sum() * qc[c2] / qc[ch] for c2 in grp)
            assert lam[ch] == pytest.approx(np.full(n2, want), rel=1e-10)
    # W and U are convolutions again (so the torch layer can keep them as kernels)
    assert is_block_strictly_lower(r.W, r.blocks)
    KW = matrix_to_kernel(r.W, c, c, N)             # raises DomainError if W is not a convolution
    KUu = matrix_to_kernel(r.U, c, c_in, N)
    assert np.all(KW[0] == 0) and np.all(KW[1:, 1:] == 0)
    assert np.allclose(conv_matrix(KUu, N), r.U, rtol=0, atol=1e-13 * np.abs(r.U).max())


# ----------------------------------------------------------------------------------- (f)
_G, _Ut, _V = np.ones((2, 4)), np.ones((4, 3)), np.ones((2, 4))

BAD = [
    ("G 1-d", lambda: dag_lben(np.ones(4), _Ut, _V, blocks=(4,)), errors.ShapeError, ["G", "(4,)"]),
    ("Ut wrong rows", lambda: dag_lben(_G, np.ones((5, 3)), _V, blocks=(4,)), errors.ShapeError, ["Ut", "(5, 3)"]),
    ("V wrong cols", lambda: dag_lben(_G, _Ut, np.ones((2, 3)), blocks=(4,)), errors.ShapeError, ["V", "(2, 3)"]),
    ("G NaN", lambda: dag_lben(np.full((2, 4), np.nan), _Ut, _V, blocks=(4,)), errors.NonFiniteError, ["G"]),
    ("blocks sum", lambda: dag_lben(_G, _Ut, _V, blocks=(2, 3)), errors.ShapeError, ["blocks", "(2, 3)", "4"]),
    ("blocks zero", lambda: dag_lben(_G, _Ut, _V, blocks=(4, 0)), errors.DomainError, ["blocks", "entry 1"]),
    ("blocks negative", lambda: dag_lben(_G, _Ut, _V, blocks=(5, -1)), errors.DomainError, ["blocks", "-1"]),
    ("blocks float", lambda: dag_lben(_G, _Ut, _V, blocks=(2.0, 2)), errors.DTypeError, ["blocks", "entry 0"]),
    ("blocks int", lambda: dag_lben(_G, _Ut, _V, blocks=4), errors.DTypeError, ["blocks"]),
    ("blocks empty", lambda: dag_lben(_G, _Ut, _V, blocks=()), errors.EmptyArrayError, ["blocks"]),
    ("L zero", lambda: dag_lben(_G, _Ut, _V, blocks=(4,), L=0.0), errors.DomainError, ["L", "> 0"]),
    ("L negative", lambda: dag_lben(_G, _Ut, _V, blocks=(4,), L=-1.0), errors.DomainError, ["L"]),
    ("eps negative", lambda: dag_lben(_G, _Ut, _V, blocks=(4,), eps=-1e-3), errors.DomainError, ["eps", ">= 0"]),
    ("q length", lambda: dag_lben(_G, _Ut, _V, blocks=(4,), q=np.ones(3)), errors.ShapeError, ["q", "(3,)"]),
    ("q non-positive", lambda: dag_lben(_G, _Ut, _V, blocks=(4,), q=np.array([1.0, 0.0, 1.0, 1.0])),
     errors.DomainError, ["q", "entry 1"]),
    ("overflow", lambda: dag_lben(np.full((2, 4), 1e200), _Ut, _V, blocks=(4,)), errors.NonFiniteError, ["P"]),
    ("lowblk non-square", lambda: block_strictly_lower(np.ones((3, 4)), (3,)), errors.ShapeError, ["A", "(3, 4)"]),
    ("lowblk blocks sum", lambda: block_strictly_lower(np.ones((3, 3)), (1, 1)), errors.ShapeError, ["blocks", "(3, 3)"]),
    ("is_lower tol", lambda: is_block_strictly_lower(np.eye(2), (1, 1), tol=-1.0), errors.DomainError, ["tol"]),
    ("is_lower non-square", lambda: is_block_strictly_lower(np.ones((2, 3)), (2,)), errors.ShapeError, ["W", "(2, 3)"]),
]


@pytest.mark.parametrize("name,fn,exc,words", BAD, ids=[b[0] for b in BAD])
def test_typed_errors(name, fn, exc, words):
    with pytest.raises(exc) as ei:
        fn()
    msg = str(ei.value)
    for w in words:
        assert w in msg, (name, msg)
