"""Symmetry-reduced SDP for circular convolutions equals the dense SDP (deqtheory.sdp.conv)."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory.circulant import conv_matrix, kernel_to_freq
from deqtheory.sdp import lipschitz_certificate, min_lipschitz
from deqtheory.sdp.conv import (conv_min_lipschitz, expand_channel_multiplier, freq_blocks_direct,
                                representative_frequencies)


def _kernels(rng, c, ci, co, k, scale=0.15):
    KW = scale * rng.standard_normal((c, c, k, k))
    return KW, rng.standard_normal((c, ci, k, k)), rng.standard_normal((co, c, k, k))


def test_direct_blocks_match_circulant_fft(rng):
    K = rng.standard_normal((2, 3, 3, 3))
    N = 5
    om = representative_frequencies(N)
    direct, err = freq_blocks_direct(K, N, om)
    fft = kernel_to_freq(K, N)[om[:, 0], om[:, 1]]
    assert np.all(np.abs(direct - fft) <= err[None] + 1e-13)
    assert len(om) == (N * N + 1) // 2


@pytest.mark.theorem("havens2023:appE.symmetry")
@pytest.mark.parametrize("N,k", [(3, 3), (4, 2)])
def test_reduced_l_equals_dense_l(rng, N, k):
    """Channel-constant Λ loses nothing (group averaging) and the DFT splits the LMI: reduced L* = dense L*."""
    c, ci, co = 2, 1, 2
    KW, KU, KG = _kernels(rng, c, ci, co, k)
    W, U, G = conv_matrix(KW, N), conv_matrix(KU, N), conv_matrix(KG, N)
    dense = min_lipschitz(W, U, G, backend="structured")
    red = conv_min_lipschitz(KW, KU, KG, N)
    assert dense.certified and red.certified, (dense.message, red.message)
    Ld, Lr = dense.witness["L"], red.witness["L"]
    assert abs(Lr - Ld) <= 1e-6 * Ld
    # the reduced witness, expanded to pixels, is a dense certificate too (dense oracle)
    lam = expand_channel_multiplier(red.witness["lam_c"], N)
    assert lipschitz_certificate(W, U, G, Lr * (1 + 1e-9), lam=lam).certified
    assert red.verify(KW=KW, KU=KU, KG=KG).certified
    # perturbed reduced witness is rejected
    bad = red.replace(witness={**dict(red.witness), "L": Ld * (1 - 1e-3)})
    assert not bad.verify(KW=KW, KU=KU, KG=KG).certified


def test_block_schur_matrix_matches_dense(rng):
    """Σ_r Re tr(A_{r,i} X_r A_{r,j} Y_r) from the structure equals the dense definition (complex blocks)."""
    from deqtheory.sdp.blockipm import BlockLMI, block_schur_matrix, block_schur_matrix_dense
    K, m, n = 3, 5, 3

    def rc(*s):
        return rng.standard_normal(s) + 1j * rng.standard_normal(s)

    C = rc(K, m, m)
    C = C + np.conj(np.swapaxes(C, 1, 2))
    P = BlockLMI(C=C, B=rc(K, m, n), dvec=np.r_[np.zeros(n), np.ones(m - n)], b=np.zeros(n + 1),
                 Al=np.zeros((0, n + 1)), cl=np.zeros(0))
    X = rc(K, m, m)
    X = X @ np.conj(np.swapaxes(X, 1, 2))
    Y = rc(K, m, m)
    Y = Y @ np.conj(np.swapaxes(Y, 1, 2))
    H = block_schur_matrix(P, X, Y)
    np.testing.assert_allclose(H, block_schur_matrix_dense(P, X, Y), rtol=1e-10, atol=1e-9)
    # 𝒜 is the adjoint of 𝒜*: Σ_r Re tr(𝒜*(y)_r Z_r) = yᵀ𝒜(Z)
    y = rng.standard_normal(n + 1)
    Z = rc(K, m, m)
    lhs = float(np.real(sum(np.trace(P.dS(y)[r] @ Z[r]) for r in range(K))))
    assert abs(lhs - y @ P.A(Z)) <= 1e-10 * (1 + abs(lhs))


@pytest.mark.parametrize("N,c,ci,co,seed", [(4, 2, 1, 2, 1), (5, 3, 2, 2, 2)])
def test_structured_reduced_agrees_with_cvxpy(N, c, ci, co, seed):
    """Block interior-point path = Clarabel on the same reduced SDP (≤ 1e-6 relative), both verified."""
    rng = np.random.default_rng(seed)
    KW, KU, KG = _kernels(rng, c, ci, co, 3)
    a = conv_min_lipschitz(KW, KU, KG, N)
    b = conv_min_lipschitz(KW, KU, KG, N, backend="clarabel")
    assert a.certified and b.certified, (a.message, b.message)
    assert a.stats["backend"] == "structured" and a.stats["anchor"] in ("identity", "reduced (3)")
    assert abs(a.witness["L"] - b.witness["L"]) <= 1e-6 * b.witness["L"]
    assert a.verify(KW=KW, KU=KU, KG=KG).certified


def test_structured_reduced_with_wellposedness_solve():
    """A kernel for which Γ = I fails (2I − Ŵ − Ŵᴴ not ⪰ 0 at some ω), so the reduced (3) is solved
    first for the anchor; result agrees with Clarabel and with the dense SDP on the expanded problem."""
    rng = np.random.default_rng(12)
    c, N = 3, 6
    KW = 0.25 * rng.standard_normal((c, c, 3, 3))
    KW[:, :, 1, 1] += np.diag(rng.uniform(-2, 0.5, c))
    KU = rng.standard_normal((c, 1, 3, 3))
    KG = rng.standard_normal((2, c, 3, 3))
    a = conv_min_lipschitz(KW, KU, KG, N)
    assert a.certified and a.stats["anchor"] == "reduced (3)"
    b = conv_min_lipschitz(KW, KU, KG, N, backend="clarabel")
    assert b.certified and abs(a.witness["L"] - b.witness["L"]) <= 1e-6 * b.witness["L"]
    W, U, G = conv_matrix(KW, N), conv_matrix(KU, N), conv_matrix(KG, N)
    lam = expand_channel_multiplier(a.witness["lam_c"], N)
    assert lipschitz_certificate(W, U, G, a.witness["L"] * (1 + 1e-6), lam=lam).certified


def test_reduced_not_wellposed_is_inconclusive():
    """Ŵ(0) with an eigenvalue > 1: (3) infeasible ⇒ no L can be certified (never CERTIFIED)."""
    c, N = 2, 4
    KW = np.zeros((c, c, 3, 3))
    KW[:, :, 1, 1] = 1.5 * np.eye(c)
    KU = np.ones((c, 1, 3, 3))
    KG = np.ones((1, c, 3, 3))
    a = conv_min_lipschitz(KW, KU, KG, N)
    assert not a.certified and a.status.value == "inconclusive"
