"""Unit tests for deqtheory.graph (dependency graph, feedforward certificate, blocks, DAG η)."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory import graph
from deqtheory.certificates import Status
from deqtheory.errors import DomainError, NonFiniteError, ShapeError


def random_dag(rng, n, density=0.5, scale=3.0):
    """A strictly lower triangular pattern, then a random symmetric permutation."""
    L = np.tril(rng.normal(size=(n, n)) * scale, -1) * (rng.random((n, n)) < density)
    p = rng.permutation(n)
    return L[np.ix_(p, p)]


def reachability(W):
    """Boolean R[i, j] = there is a path (length ≥ 0) j → … → i; dense oracle by repeated squaring."""
    n = W.shape[0]
    R = (np.eye(n) + (W != 0)).astype(bool)
    for _ in range(int(np.ceil(np.log2(max(n, 2)))) + 1):
        R = (R.astype(int) @ R.astype(int)) > 0
    return R


def test_edge_orientation_j_to_i_when_W_ij_nonzero():
    W = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 3.0]])
    g = graph.dependency_graph(W)
    assert set(g.edges()) == {(1, 0), (0, 2), (2, 2)}
    assert g.edges[1, 0]["weight"] == 2.0 and g.edges[0, 2]["weight"] == -1.0
    assert g.number_of_nodes() == 3


def test_edges_match_dense_pattern(rng):
    W = rng.normal(size=(6, 6)) * (rng.random((6, 6)) < 0.4)
    g = graph.dependency_graph(W)
    assert set(g.edges()) == {(int(j), int(i)) for i, j in zip(*np.nonzero(W))}


def test_feedforward_certificate_on_permuted_triangular(rng):
    W = random_dag(rng, 8)
    c = graph.is_feedforward(W)
    assert c.certified and c.margin > 0
    order = c.witness["order"]
    P = W[np.ix_(order, order)]
    assert np.all(np.triu(P) == 0)
    assert np.allclose(np.linalg.matrix_power(W, 8), 0)  # DAG ⇒ nilpotent
    assert c.verify(W=W).status is Status.CERTIFIED
    # levels: every edge j → i goes to a strictly deeper level
    lev = c.witness["levels"]
    for i, j in zip(*np.nonzero(W)):
        assert lev[i] >= lev[j] + 1


def test_self_loop_breaks_feedforward():
    W = np.array([[0.0, 0.0], [1.0, 0.5]])
    c = graph.is_feedforward(W)
    assert c.status is Status.REFUTED and c.margin < 0
    assert list(c.witness["cycle"]) == [1]
    assert c.verify(W=W).status is Status.REFUTED


def test_nilpotent_with_cycle_is_not_feedforward():
    """W² = 0 but the dependency graph has a cycle: 'nilpotent up to permutation' is structural."""
    W = np.array([[1.0, 1.0], [-1.0, -1.0]])
    assert np.allclose(W @ W, 0)
    c = graph.is_feedforward(W)
    assert c.status is Status.REFUTED
    assert c.verify(W=W).status is Status.REFUTED


def test_verifier_rejects_tampered_witnesses(rng):
    W = random_dag(rng, 6, density=0.9)
    c = graph.is_feedforward(W)
    bad = c.replace(witness={"order": c.witness["order"][::-1].copy()})
    assert bad.verify(W=W).status is Status.INCONCLUSIVE
    notperm = c.replace(witness={"order": np.zeros(6, dtype=int)})
    assert notperm.verify(W=W).status is Status.INCONCLUSIVE
    cyc = graph.is_feedforward(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert cyc.verify(W=np.array([[0.0, 1.0], [0.0, 0.0]])).status is Status.INCONCLUSIVE


def test_topological_blocks_are_sccs_in_block_lower_triangular_order(rng):
    n = 9
    W = rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.25)
    blocks = graph.topological_blocks(W)
    assert sorted(np.concatenate(blocks).tolist()) == list(range(n))
    for k, Bk in enumerate(blocks):
        for Bl in blocks[k + 1:]:
            assert np.all(W[np.ix_(Bk, Bl)] == 0)  # no reading from later blocks
    R = reachability(W)
    mutual = R & R.T
    for Bk in blocks:  # each block is exactly one mutual-reachability class
        for i in Bk:
            assert set(np.nonzero(mutual[i])[0].tolist()) == set(Bk.tolist())
    assert len(graph.strongly_connected_components(W)) == len(blocks)


def test_topological_order_none_for_cycles(rng):
    assert graph.topological_order(np.array([[0.0, 1.0], [1.0, 0.0]])) is None
    W = random_dag(rng, 5)
    o = graph.topological_order(W)
    assert np.all(np.triu(W[np.ix_(o, o)]) == 0)


def block_upper_ff(rng, k, n):
    """El Ghaoui's implicit form of a k-layer, width-n network: block (i, i+1) non-zero (upper)."""
    W = np.zeros((k * n, k * n))
    for i in range(k - 1):
        W[i * n:(i + 1) * n, (i + 1) * n:(i + 2) * n] = 4.0 * rng.normal(size=(n, n))
    return W


@pytest.mark.theorem("jafarpour2022:remark6.4.3")
def test_dag_eta_is_delta_powers_for_block_upper_feedforward(rng):
    k, n = 4, 3
    W = block_upper_ff(rng, k, n)
    delta = 0.1
    eta = graph.dag_eta(W, delta)
    expected = np.kron(delta ** np.arange(1, k + 1), np.ones(n))  # (δ, δ², …, δ^k) ⊗ 1_n
    assert np.allclose(eta, expected, rtol=1e-14)


@pytest.mark.theorem("jafarpour2022:remark6.4.3")
def test_dag_mu_inf_certificate_for_small_delta(rng):
    k, n = 5, 3
    W = block_upper_ff(rng, k, n)
    # the weights are large: with η = 1 the condition fails, so the δ-weights carry the claim
    off = np.abs(W)
    assert np.max(off.sum(axis=1)) > 1
    c = graph.check_dag_mu_inf(W)
    assert c.certified and c.margin >= 0.5 - 1e-12  # default δ gives μ ≤ 1/2
    assert c.residuals["mu"] <= c.residuals["delta_times_norm_inf"] * (1 + 1e-12)
    mu_direct = np.max((off @ c.witness["eta"]) / c.witness["eta"])
    assert c.residuals["mu"] == pytest.approx(mu_direct, rel=1e-14)
    assert c.verify(W=W).certified
    # a δ too large for this W: μ ≥ 1 for this η, reported as inconclusive (not refuted)
    big = graph.check_dag_mu_inf(W, delta=1.0)
    assert big.status is Status.INCONCLUSIVE and big.margin < 0


def test_dag_mu_inf_not_applicable_with_cycles():
    W = np.array([[0.0, 0.1], [0.1, 0.0]])
    c = graph.check_dag_mu_inf(W)
    assert c.status is Status.NOT_APPLICABLE
    with pytest.raises(DomainError, match="cycle"):
        graph.dag_eta(W)


def test_verifier_of_dag_mu_inf_rejects_bad_eta(rng):
    W = block_upper_ff(rng, 3, 2)
    c = graph.check_dag_mu_inf(W)
    assert c.replace(witness={"eta": np.ones(6)}).verify(W=W).status is Status.INCONCLUSIVE
    assert c.replace(witness={"eta": -np.ones(6)}).verify(W=W).status is Status.INCONCLUSIVE


def test_mu_inf_weighted_definition():
    W = np.array([[-1.0, 2.0], [0.5, 0.3]])
    eta = np.array([1.0, 0.25])
    # row 0: −1 + (0.25/1)·2 = −0.5 ; row 1: 0.3 + (1/0.25)·0.5 = 2.3
    assert graph.mu_inf_weighted(W, eta) == pytest.approx(2.3)
    assert graph.mu_inf_weighted(W) == pytest.approx(max(-1 + 2, 0.3 + 0.5))


def test_bad_input():
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        graph.is_feedforward(np.ones((2, 3)))
    with pytest.raises(NonFiniteError):
        graph.dependency_graph(np.array([[np.nan]]))
    with pytest.raises(DomainError, match="delta"):
        graph.dag_eta(np.zeros((2, 2)), delta=1.5)
    with pytest.raises(DomainError, match="delta"):
        graph.dag_eta(np.zeros((2, 2)), delta=0.0)


def test_zero_matrix_is_feedforward_with_one_level():
    c = graph.is_feedforward(np.zeros((3, 3)))
    assert c.certified and c.stats["depth"] == 1
    assert np.allclose(graph.dag_eta(np.zeros((3, 3))), 1.0)
