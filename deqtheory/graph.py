r"""Dependency graph of a DEQ weight matrix: feedforward (DAG) detection, block-triangular order,
and the DAG weight vector :math:`\eta = (\delta, \delta^2, \dots)` of jafarpour2022 Remark 6.4.3.

Convention (stated once, used everywhere in this module)
--------------------------------------------------------
The fixed-point equation is :math:`z = \sigma(Wz + Ux + b)`, so unit ``i`` *reads* unit ``j``
iff :math:`W_{ij} \ne 0`. The **dependency graph** :math:`\mathcal G(W)` has the nodes
``0..n-1`` and the edge **j → i iff W[i, j] != 0** (exact zero test, no threshold), with the
edge attribute ``weight = W[i, j]``. A non-zero diagonal entry :math:`W_{ii}` is a self-loop
``i → i``.

Feedforward
    :math:`W` is *feedforward* iff :math:`\mathcal G(W)` is acyclic (a DAG; self-loops count
    as cycles). Equivalently there is a permutation ``order`` such that
    ``W[order][:, order]`` is **strictly lower triangular** (every unit reads only units that
    come earlier in ``order``). Such a :math:`W` is nilpotent (:math:`W^n = 0`), but the
    converse fails (``[[1, 1], [-1, -1]]`` is nilpotent with a cycle), so "nilpotent up to
    permutation" means *structurally* nilpotent: nilpotent for every choice of the non-zero
    values. The fixed point of a feedforward DEQ is unique and is computed exactly by one
    back-substitution pass in topological order (:func:`deqtheory.solvers.solve`,
    ``method="exact_dag"``).

Block-triangular order
    The strongly connected components (SCCs) of :math:`\mathcal G(W)`, listed in a topological
    order of the condensation, give a permutation making :math:`W` block lower triangular:
    :func:`topological_blocks`. The fixed point can then be computed one (small) block at a time
    (``method="block"`` in :mod:`deqtheory.solvers`).

Levels and η (jafarpour2022 Remark 6.4.3)
    For a DAG, ``level(i)`` is the length of the longest path ending at ``i`` (sources have
    level 0), and :math:`K = 1 + \max_i \mathrm{level}(i)` is the number of levels. We set

    .. math:: \eta_i = \delta^{\,K - \mathrm{level}(i)}, \qquad 0 < \delta \le 1,

    which is exactly the Remark's :math:`\eta = (\delta, \delta^2, \dots, \delta^K)\otimes\mathbb 1_n`
    for a :math:`K`-layer network written with a block *upper* triangular :math:`W` (block 1 =
    last layer = deepest level). For every edge j → i, :math:`\mathrm{level}(i) \ge
    \mathrm{level}(j) + 1`, hence :math:`\eta_j/\eta_i \le \delta` and, with
    :math:`\mu_{\infty,[\eta]^{-1}}(A) = \max_i A_{ii} + \sum_{j\ne i}(\eta_j/\eta_i)|A_{ij}|`
    (jafarpour2022 §3),

    .. math:: \mu_{\infty,[\eta]^{-1}}(W) \le \delta\,\|W\|_\infty ,

    so :math:`\mu < 1` for every :math:`\delta < \min(1, 1/\|W\|_\infty)`
    (:func:`dag_delta` returns :math:`\min(1, 1/(2\|W\|_\infty))`, giving :math:`\mu \le 1/2`).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import networkx as nx
import numpy as np

from ._validate import as_scalar, as_square
from .certificates import Certificate, Status, register_verifier
from .errors import DomainError
from .linalg import mu_inf, mu_inf_with_allowance

__all__ = ["dependency_graph", "strongly_connected_components", "topological_blocks", "is_feedforward",
           "topological_order", "dag_levels", "dag_delta", "dag_eta", "check_dag_mu_inf", "mu_inf_weighted"]


def dependency_graph(W: Any) -> nx.DiGraph:
    """The dependency graph of ``W``: nodes ``0..n-1``, edge ``j -> i`` iff ``W[i, j] != 0``.

    Edge attribute ``weight`` holds ``W[i, j]``; a non-zero diagonal entry gives a self-loop.

    >>> import numpy as np
    >>> sorted(dependency_graph(np.array([[0.0, 0.0], [2.0, 0.0]])).edges(data="weight"))
    [(0, 1, 2.0)]
    """
    W = as_square("W", W)
    return _graph(W)


def _graph(W: np.ndarray) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(W.shape[0]))
    rows, cols = np.nonzero(W)
    g.add_weighted_edges_from((int(j), int(i), float(W[i, j])) for i, j in zip(rows, cols))
    return g


def strongly_connected_components(W: Any) -> List[np.ndarray]:
    """The SCCs of the dependency graph, each a sorted index array, in the order of
    :func:`topological_blocks` (alias kept for readability)."""
    return topological_blocks(W)


def topological_blocks(W: Any) -> List[np.ndarray]:
    r"""SCCs of :math:`\mathcal G(W)` in a topological order of the condensation.

    Returns a list of sorted ``int`` index arrays ``B_0, B_1, ...`` such that
    ``W[B_k][:, B_l] == 0`` for every ``l > k``: block ``k`` reads only itself and earlier blocks,
    i.e. with ``perm = concatenate(blocks)``, ``W[perm][:, perm]`` is block lower triangular.
    Ties are broken by the smallest index in a block (deterministic output).
    """
    W = as_square("W", W)
    return _blocks(_graph(W))


def _blocks(g: nx.DiGraph) -> List[np.ndarray]:
    cond = nx.condensation(g)
    members = cond.graph["mapping"]  # node -> scc id
    comps: Dict[int, List[int]] = {}
    for node, c in members.items():
        comps.setdefault(c, []).append(node)
    key = {c: min(v) for c, v in comps.items()}
    order = nx.lexicographical_topological_sort(cond, key=lambda c: key[c])
    return [np.array(sorted(comps[c]), dtype=np.intp) for c in order]


def topological_order(W: Any) -> Optional[np.ndarray]:
    """A topological order of :math:`\\mathcal G(W)` (predecessors first) or ``None`` if it has a cycle."""
    W = as_square("W", W)
    g = _graph(W)
    if not nx.is_directed_acyclic_graph(g):
        return None
    return np.array(list(nx.lexicographical_topological_sort(g)), dtype=np.intp)


def _find_cycle(g: nx.DiGraph) -> List[int]:
    """Nodes ``[c0, c1, ..., ck-1]`` with edges c0 → c1 → ... → ck-1 → c0."""
    edges = nx.find_cycle(g)
    return [int(u) for u, _ in edges]


def is_feedforward(W: Any) -> Certificate:
    r"""Certificate ``"feedforward"``: is :math:`\mathcal G(W)` acyclic (W nilpotent up to permutation)?

    * CERTIFIED (margin ``1.0``): witness ``order`` (a permutation, predecessors first, such that
      ``W[order][:, order]`` is strictly lower triangular) and ``levels`` (longest-path level of
      every node, see :func:`dag_levels`).
    * REFUTED (margin ``-1.0``): witness ``cycle`` — nodes ``[c0, ..., ck-1]`` with
      ``W[c_{t+1}, c_t] != 0`` for all t (indices mod k); a self-loop is a cycle of length 1.

    The test is exact (comparisons of stored floats with zero), so no rounding allowance is needed.
    ``verify(W=...)`` re-checks the witness with numpy alone.
    """
    W = as_square("W", W)
    g = _graph(W)
    n = W.shape[0]
    if nx.is_directed_acyclic_graph(g):
        order = np.array(list(nx.lexicographical_topological_sort(g)), dtype=np.intp)
        levels = _levels(g, order)
        return Certificate("feedforward", Status.CERTIFIED, margin=1.0,
                           witness={"order": order, "levels": levels},
                           stats={"n": n, "edges": g.number_of_edges(), "depth": int(levels.max()) + 1 if n else 0},
                           message=f"W is feedforward: W[order][:, order] is strictly lower triangular "
                                   f"({int(levels.max()) + 1} levels)")
    cycle = _find_cycle(g)
    return Certificate("feedforward", Status.REFUTED, margin=-1.0, witness={"cycle": np.array(cycle, dtype=np.intp)},
                       stats={"n": n, "edges": g.number_of_edges()},
                       message=f"W has a cycle of length {len(cycle)} in its dependency graph"
                               + (" (a self-loop: W_ii != 0)" if len(cycle) == 1 else ""))


@register_verifier("feedforward")
def _verify_feedforward(cert: Certificate, *, W: Any) -> Certificate:
    W = as_square("W", W)
    n = W.shape[0]
    if "order" in cert.witness:
        order = np.asarray(cert.witness["order"], dtype=np.intp)
        if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
            return cert.replace(status=Status.INCONCLUSIVE, margin=float("nan"),
                                message="witness 'order' is not a permutation of range(n)")
        P = W[np.ix_(order, order)]
        if np.all(np.triu(P) == 0):
            return cert.replace(status=Status.CERTIFIED, margin=1.0,
                                message="verified: W[order][:, order] is strictly lower triangular")
        return cert.replace(status=Status.INCONCLUSIVE, margin=float("nan"),
                            message="witness 'order' does not make W strictly lower triangular")
    if "cycle" in cert.witness:
        c = np.asarray(cert.witness["cycle"], dtype=np.intp)
        if c.ndim == 1 and c.size >= 1 and np.all((c >= 0) & (c < n)):
            nxt = np.roll(c, -1)
            if np.all(W[nxt, c] != 0):
                return cert.replace(status=Status.REFUTED, margin=-1.0,
                                    message=f"verified: W has a cycle of length {c.size}")
        return cert.replace(status=Status.INCONCLUSIVE, margin=float("nan"),
                            message="witness 'cycle' is not a cycle of the dependency graph of W")
    return cert.replace(status=Status.INCONCLUSIVE, margin=float("nan"), message="no witness to verify")


def _levels(g: nx.DiGraph, order: np.ndarray) -> np.ndarray:
    lev = np.zeros(len(order), dtype=np.intp)
    for i in order:
        preds = list(g.predecessors(int(i)))
        if preds:
            lev[i] = 1 + max(int(lev[j]) for j in preds)
    return lev


def dag_levels(W: Any) -> np.ndarray:
    """Longest-path level of every node of the DAG :math:`\\mathcal G(W)` (sources: 0).

    Raises :class:`~deqtheory.errors.DomainError` if ``W`` is not feedforward."""
    W = as_square("W", W)
    g = _graph(W)
    if not nx.is_directed_acyclic_graph(g):
        raise DomainError(f"W (shape {W.shape}) is not feedforward: its dependency graph has a cycle "
                          f"{_find_cycle(g)}")
    order = np.array(list(nx.lexicographical_topological_sort(g)), dtype=np.intp)
    return _levels(g, order)


def dag_delta(W: Any) -> float:
    r""":math:`\delta = \min(1, 1/(2\|W\|_\infty))` (``1`` if ``W = 0``): with :func:`dag_eta` this gives
    :math:`\mu_{\infty,[\eta]^{-1}}(W) \le \delta\|W\|_\infty \le 1/2` for a feedforward ``W``."""
    W = as_square("W", W)
    r = float(np.max(np.sum(np.abs(W), axis=1)))
    return 1.0 if r == 0 else min(1.0, 1.0 / (2.0 * r))


def dag_eta(W: Any, delta: Optional[float] = None) -> np.ndarray:
    r"""The weight vector :math:`\eta_i = \delta^{K-\mathrm{level}(i)}` of jafarpour2022 Remark 6.4.3.

    ``delta`` in (0, 1] (default :func:`dag_delta`). For every edge j → i, :math:`\eta_j/\eta_i \le \delta`.
    Raises :class:`~deqtheory.errors.DomainError` if ``W`` is not feedforward or ``delta`` ∉ (0, 1].
    If δ^K underflows (very deep DAGs with tiny δ) a DomainError is raised instead of returning zeros.
    """
    W = as_square("W", W)
    lev = dag_levels(W)
    d = dag_delta(W) if delta is None else as_scalar("delta", delta, positive=True, upper=1.0)
    K = int(lev.max()) + 1
    eta = np.power(d, (K - lev).astype(np.float64))
    if not np.all(eta > 0) or not np.all(np.isfinite(eta)):
        raise DomainError(f"delta={d} with {K} levels underflows eta (shape {eta.shape}); use a larger delta")
    return eta


#: Alias of :func:`deqtheory.linalg.mu_inf` (the floating-point μ∞,[η]⁻¹(W); kept for callers).
mu_inf_weighted = mu_inf


def check_dag_mu_inf(W: Any, delta: Optional[float] = None) -> Certificate:
    r"""Certificate ``"dag_mu_inf"``: jafarpour2022 Remark 6.4.3 for a feedforward ``W``.

    With :math:`\eta` from :func:`dag_eta`, proves :math:`\mu_{\infty,[\eta]^{-1}}(W) < 1`
    (so Thm 5.1 applies: unique fixed point, α-average iteration contracts).
    ``margin = 1 − (μ_fl + allowance)`` where the allowance bounds the rounding error
    (``2 γ_{n+3} max_i(|W_ii| + Σ_j η_j/η_i |W_ij|)``); CERTIFIED iff margin > 0, otherwise
    INCONCLUSIVE (a larger μ for this η refutes nothing). NOT_APPLICABLE (witness ``cycle``) if
    ``W`` is not feedforward. Witness: ``eta``, ``delta``, ``levels``.
    """
    W = as_square("W", W)
    ff = is_feedforward(W)
    if not ff.certified:
        return Certificate("dag_mu_inf", Status.NOT_APPLICABLE, margin=float("nan"), witness=dict(ff.witness),
                           message="W is not feedforward (Remark 6.4.3 applies to DAGs only)")
    d = dag_delta(W) if delta is None else as_scalar("delta", delta, positive=True, upper=1.0)
    eta = dag_eta(W, d)
    mu, allowance = mu_inf_with_allowance(W, eta)
    margin = 1.0 - (mu + allowance)
    status = Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE
    r = float(np.max(np.sum(np.abs(W), axis=1)))
    return Certificate("dag_mu_inf", status, margin=margin,
                       witness={"eta": eta, "delta": d, "levels": ff.witness["levels"]},
                       tolerance={"rounding_allowance": allowance},
                       residuals={"mu": mu, "delta_times_norm_inf": d * r},
                       stats={"n": W.shape[0], "levels": int(ff.stats["depth"])},
                       message=f"mu_inf,[eta]^-1(W) <= {mu + allowance:.6g} with eta = delta^(K - level), "
                               f"delta = {d:.6g}")


@register_verifier("dag_mu_inf")
def _verify_dag_mu_inf(cert: Certificate, *, W: Any) -> Certificate:
    W = as_square("W", W)
    if "eta" not in cert.witness:
        return cert.replace(status=Status.INCONCLUSIVE, margin=float("nan"), message="no witness eta")
    eta = np.asarray(cert.witness["eta"], dtype=np.float64)
    if eta.shape != (W.shape[0],) or not np.all(eta > 0) or not np.all(np.isfinite(eta)):
        return cert.replace(status=Status.INCONCLUSIVE, margin=float("nan"),
                            message=f"witness eta has shape {eta.shape} or non-positive entries")
    mu, allowance = mu_inf_with_allowance(W, eta)
    margin = 1.0 - (mu + allowance)
    return cert.replace(status=Status.CERTIFIED if margin > 0 else Status.INCONCLUSIVE, margin=margin,
                        residuals={**dict(cert.residuals), "mu": mu},
                        message=f"verified: mu_inf,[eta]^-1(W) <= {mu + allowance:.6g}")
