"""Property tests of DAG-LBEN (deqtheory.parametrizations.dag_lben), the project's own claim
``havens2023:dag.lben``: over random shapes, block partitions, scales, L, ε and weights q,
(a) W is block strictly lower triangular, (b) the equivalent eq. (7) LBEN parameters reproduce W,
(c) havens2023 (4) holds with the analytic witness Λ = diag(λ) (verified Cholesky), and its left
side is 2(VᵀV + εI) + 2(Λ − blkdiag(P))."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory.certificates import Status
from deqtheory.parametrizations import LBEN, dag_lben, dag_lben_to_lben_params, is_block_strictly_lower
from deqtheory.parametrizations.base import lambda_min_certificate
from deqtheory.parametrizations.lben import lben_lhs
from deqtheory.testing import scaled

seeds = st.integers(min_value=0, max_value=2**32 - 1)
block_lists = st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=4)
small = st.integers(min_value=1, max_value=4)


def _lowblk_mask(blocks):
    lab = np.repeat(np.arange(len(blocks)), blocks)
    return lab[:, None] > lab[None, :]


@pytest.mark.theorem("havens2023:dag.lben")
@given(seed=seeds, blocks=block_lists, p=small, d=small, k=small,
       L=st.floats(min_value=0.1, max_value=10.0), eps=st.floats(min_value=0.0, max_value=1.0),
       log_scale=st.floats(min_value=-2.0, max_value=2.0), weighted=st.booleans())
@settings(max_examples=scaled(40))
def test_dag_lben_structure_equivalence_and_lmi4(seed, blocks, p, d, k, L, eps, log_scale, weighted):
    rng = np.random.default_rng(seed)
    n = sum(blocks)
    s = 10.0 ** log_scale
    G = s * rng.standard_normal((p, n))
    Ut = s * rng.standard_normal((n, d))
    V = s * rng.standard_normal((k, n))
    q = np.exp(rng.uniform(-1.5, 1.5, n)) if weighted else None
    r = dag_lben(G, Ut, V, blocks=blocks, L=L, eps=eps, q=q)

    # (a) block strictly lower (exact zeros on and above the block diagonal), W = −2Λ⁻¹lowblk(P)
    assert is_block_strictly_lower(r.W, blocks)
    assert np.all(r.W[~_lowblk_mask(blocks)] == 0.0)
    assert np.allclose(r.lam[:, None] * r.W, -2 * np.where(_lowblk_mask(blocks), r.P, 0.0),
                       rtol=0, atol=1e-14 * max(1e-300, float(np.abs(r.P).max())))

    # (b) the eq. (7) LBEN with the equivalent parameters reproduces W
    prm = dag_lben_to_lben_params(r)
    W7 = LBEN(L=L, eps=eps).forward(prm)
    scale = 1.0 + float(np.max(np.abs(r.P) / r.lam[:, None]))
    assert float(np.max(np.abs(W7 - r.W))) <= 1e-10 * scale

    # (c) (4) with witness λ, proved by the verified Cholesky test (closed condition: default tol)
    lhs, err = lben_lhs(r.W, r.lam, r.G, r.U, L)
    cert = lambda_min_certificate("dag_lben_lmi4", lhs, threshold=2 * eps, tol=None, abs_err=err, strict=False,
                                  witness={}, name="LHS(4)")
    assert cert.status is Status.CERTIFIED, cert.message
    rhs = 2 * (r.V.T @ r.V + eps * np.eye(n)) + 2 * r.D
    assert np.allclose(lhs, rhs, rtol=0, atol=1e-11 * max(1.0, float(np.abs(rhs).max())))
    assert float(np.linalg.eigvalsh(r.D)[0]) >= -1e-12 * max(1e-300, float(np.abs(r.P).max()))
