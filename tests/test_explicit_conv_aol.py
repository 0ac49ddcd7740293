"""The numpy circular-conv AOL layer (deqtheory.explicit_conv.ConvAOLLayer): its scaling D against the
dense AOL eq. 8 of the materialized matrix, the proved ‖M_{K̃D}‖₂ ≤ 1 on random kernels and grids,
the map against its dense matrix and DEQ embedding, typed errors."""
import numpy as np
import pytest

from deqtheory import circulant as circ
from deqtheory import explicit as ex
from deqtheory import explicit_conv as ec
from deqtheory.errors import ShapeError

EPS = np.finfo(float).eps


def test_gram_kernel_is_the_unaliased_gram_of_the_conv_matrix():
    """On a grid N ≥ 2s − 1 nothing aliases: every tap of P is an entry of M_K̃ᵀ M_K̃."""
    rng = np.random.default_rng(0)
    K = rng.normal(size=(3, 2, 3, 3))
    N = 6
    M = circ.conv_matrix(K, N)
    G = M.T @ M
    P = ec.conv_aol_gram(K)
    assert P.shape == (2, 2, 5, 5)
    for a in range(2):
        for b in range(2):
            for dh in range(-2, 3):
                for dw in range(-2, 3):
                    # row (a, pixel 0), column (b, pixel −δ): the tap t + δ of channel a meets t of b
                    col = b * N * N + (-dh % N) * N + (-dw % N)
                    assert abs(G[a * N * N, col] - P[a, b, dh + 2, dw + 2]) <= 1e-12 * np.abs(G).max()


@pytest.mark.parametrize("N", [6, 9])
def test_scaling_equals_dense_aol_of_the_conv_matrix_without_aliasing(N):
    """N ≥ 2s − 1: D repeated over pixels is the dense AOL scaling (eq. 8) of M_K̃."""
    rng = np.random.default_rng(N)
    K = rng.normal(size=(2, 3, 3, 3))
    D = ec.conv_aol_scaling(K)
    assert np.allclose(np.repeat(D, N * N), ex.aol_scaling(circ.conv_matrix(K, N)), rtol=1e-13, atol=0)


@pytest.mark.parametrize("seed", range(6))
def test_effective_conv_matrix_has_norm_at_most_one(seed):
    """The claim of the module docstring, on small grids too (N between s and 2s − 2: aliasing)."""
    rng = np.random.default_rng(seed)
    s = int(rng.choice([1, 2, 3]))
    co, ci = (int(v) for v in rng.integers(1, 4, size=2))
    N = int(rng.integers(s, 7))
    ci = 3 if seed == 5 else ci
    K = rng.normal(size=(co, ci, s, s)) * rng.uniform(0.01, 10.0)
    if seed == 5:
        K[:, 0] = 0.0                        # a zero input channel: D = 0 there (footnote 2)
    layer = ec.ConvAOLLayer(K, rng.normal(size=co), N)
    M, _ = layer.to_dense()
    nrm = np.linalg.norm(M, 2)
    assert nrm <= 1.0 + 64 * EPS * (ci * s * s + 1), nrm
    assert nrm >= 0.5                        # not vacuous: AOL is tight up to a modest factor
    if seed == 5:
        assert layer.D[0] == 0.0 and np.all(layer.D[1:] > 0)


def test_map_matches_dense_matrix_and_deq_embedding():
    rng = np.random.default_rng(7)
    N = 5
    layer = ec.ConvAOLLayer(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), N)
    X = rng.normal(size=(4, 2, N, N))
    Y = layer(X)
    M, b = layer.to_dense()
    assert Y.shape == (4, 3, N, N)
    assert np.max(np.abs(Y.reshape(4, -1) - (X.reshape(4, -1) @ M.T + b))) <= 1e-13
    assert np.array_equal(layer(X[0]), Y[0])
    f = layer.to_deq()
    assert np.all(f.identity_mask) and not np.any(f.W)
    z = X.reshape(4, -1) @ f.U.T + f.b                         # W = 0, φ = identity: z = Ux + b
    assert np.array_equal(z @ f.G.T + f.b_y, X.reshape(4, -1) @ M.T + b)
    assert layer.lipschitz_bound() == 1.0


def test_bad_shapes_raise_typed_errors():
    with pytest.raises(ShapeError, match="larger than"):
        ec.ConvAOLLayer(np.ones((1, 1, 5, 5)), None, 3)
    with pytest.raises(ShapeError):
        ec.ConvAOLLayer(np.ones((2, 1, 3, 3)), np.ones(3), 4)
    layer = ec.ConvAOLLayer(np.ones((2, 1, 3, 3)), None, 4)
    with pytest.raises(ShapeError, match=r"\(1, 4, 4\)"):
        layer(np.ones((2, 2, 4, 4)))
    with pytest.raises(ShapeError):
        ec.conv_aol_scaling(np.ones((3, 3)))
