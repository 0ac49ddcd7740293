"""Unit tests of deqtheory.parametrizations: ONE contract test over all families, plus the
hyper-parameter domain, the outside-the-set behaviour and reference examples from the papers."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from deqtheory.certificates import Status
from deqtheory.errors import DomainError
from deqtheory.parametrizations import (FAMILIES, CerDEQ, GMonDEQ, IBPMonDEQ, IBPMonDEQGamma, LBEN,
                                        MonDEQ, NonEuclidean, OutsideSetError, eq12_as_printed)


def _rel(A, B):
    return float(np.linalg.norm(A - B) / max(1.0, np.linalg.norm(B)))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_contract(family):
    """geotorch-style contract: sample ∈ set, contains certifies (and re-verifies from its witness),
    the analytic witness is certified, right_inverse round-trips, and forward of randomly perturbed
    free parameters is still certified to lie in the set; a matrix far outside is rejected."""
    p = FAMILIES[family]()
    rng = np.random.default_rng(zlib.crc32(family.encode()))
    for n in (1, 3, 5):
        prm = p.sample(rng, n)
        W = p.forward(prm)
        assert W.shape == (n, n) and W.dtype == np.float64
        ctx = p.context(prm)
        cert = p.contains(W, **ctx)
        assert cert.status is Status.CERTIFIED, (family, n, cert.message)
        assert cert.margin > 0
        again = cert.verify(W=W, **ctx)
        assert again.status is Status.CERTIFIED, again.message
        dc = p.defining_condition(prm)
        assert dc.status is Status.CERTIFIED, (family, dc.message)
        # round trip W -> params -> W
        prm2 = p.right_inverse(W, **ctx)
        assert isinstance(prm2, p.params_type)
        W2 = p.forward(prm2)
        assert _rel(W2, W) < 1e-9, (family, n, _rel(W2, W))
        # gradient-free random perturbations of every free parameter stay in the set
        for _ in range(3):
            prm3 = prm.perturbed(rng, 0.2)
            W3 = p.forward(prm3)
            c3 = p.contains(W3, **p.context(prm3))
            assert c3.status is Status.CERTIFIED, (family, n, c3.message)
    # far outside every set: 3I (I − W = −2I, |W| = 3I, μ = 3, √n·W not orthogonal)
    Wout = 3.0 * np.eye(4)
    assert not p.contains(Wout).certified
    with pytest.raises(OutsideSetError):
        p.right_inverse(Wout)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_metric_is_a_monotonicity_weight(family):
    """``metric(params)`` is None or a positive diagonal Φ with sym(Φ⁻¹(I − W)) ≻ 0 (proved by
    bounds.monotone_margin with that weight) — the claim the certifiers rely on when they use it."""
    from deqtheory.bounds import monotone_margin

    p = FAMILIES[family]()
    rng = np.random.default_rng(zlib.crc32(b"metric" + family.encode()))
    expected = {"gmondeq", "lben"}
    for n in (1, 4):
        prm = p.sample(rng, n)
        phi = p.metric(prm)
        assert (phi is not None) == (family in expected), family
        if phi is not None:
            assert phi.shape == (n,) and np.all(phi > 0)
            assert monotone_margin(p.forward(prm), phi).certified, family


@pytest.mark.parametrize("make", [
    lambda: MonDEQ(m=0.0), lambda: MonDEQ(m=-1.0), lambda: GMonDEQ(m=0.0),
    lambda: LBEN(L=0.0), lambda: LBEN(L=-1.0), lambda: LBEN(eps=-0.1),
    lambda: IBPMonDEQ(m=1.0), lambda: IBPMonDEQ(m=-0.1), lambda: IBPMonDEQGamma(gamma=1.0),
    lambda: NonEuclidean(gamma=1.0), lambda: CerDEQ(n_iter=0),
])
def test_hyperparameter_domain(make):
    with pytest.raises(DomainError):
        make()


def test_params_are_validated_and_frozen():
    p = MonDEQ(m=0.5)
    prm = p.sample(np.random.default_rng(0), 3)
    with pytest.raises(Exception):
        prm.A[0, 0] = 1.0          # read-only arrays
    with pytest.raises(Exception):
        prm.A = np.zeros((3, 3))   # frozen dataclass
    bad = prm.replace(A=np.zeros((2, 4)))
    with pytest.raises(ValueError):
        p.forward(bad)
    with pytest.raises(ValueError):
        prm.replace(B=np.full((3, 3), np.nan))


def test_ibp_needs_abs_condition_counterexample():
    """wei2022 §3.2: I − W ≻ 0 does not imply I − |W| ≻ 0. W skew: sym(I − W) = I, but
    sym(I − |W|) has eigenvalue 1 − 1.5 < 0 → the IBP set rejects it (REFUTED with witness)."""
    W = np.array([[0.0, 1.5], [-1.5, 0.0]])
    assert MonDEQ(m=0.5).contains(W).certified
    c = IBPMonDEQ(m=0.0).contains(W)
    assert c.status is Status.REFUTED
    v = c.witness["v"]
    assert v @ ((np.eye(2) - np.abs(W)) @ v) < 0
    with pytest.raises(OutsideSetError):
        IBPMonDEQ(m=0.0).right_inverse(W)
    assert not IBPMonDEQGamma(m=0.0, gamma=None).contains(W).certified


@pytest.mark.theorem("wei2022:example3.6")
def test_wei2022_example_3_6():
    """W = [[0, 1.9], [0.05, 0]] = D^{-1/2} M D^{-1/2} with M = W, D = I (r(M) = (0.975, 0.975) < 1),
    ‖W‖₂ = 1.9: the Thm 3.1 set is not contained in the unit ball."""
    W = np.array([[0.0, 1.9], [0.05, 0.0]])
    assert abs(np.linalg.norm(W, 2) - 1.9) < 1e-12
    p = IBPMonDEQ(m=0.0)
    assert p.contains(W).certified
    prm = p.right_inverse(W)
    assert _rel(p.forward(prm), W) < 1e-12


@pytest.mark.theorem("jafarpour2022:eq12")
def test_eq12_printed_counterexample():
    """jafarpour2022 (12) as printed, T = [[0,1],[0,0]], η = (1,2), γ = 0: μ∞,[η]⁻¹(W) = 3 > γ.
    Corrected form [η]T[η]⁻¹ − diag(|T|𝟙) + γI: μ = 0 = γ."""
    T = np.array([[0.0, 1.0], [0.0, 0.0]])
    eta = np.array([1.0, 2.0])

    def mu(W):  # jafarpour2022 §3 definition, dense oracle
        n = W.shape[0]
        return max(W[i, i] + sum(abs(W[i, j]) * eta[j] / eta[i] for j in range(n) if j != i) for i in range(n))

    assert mu(eq12_as_printed(T, eta, 0.0)) == pytest.approx(3.0)
    p = NonEuclidean(gamma=0.0)
    from deqtheory.parametrizations import NonEuclideanParams
    W = p.forward(NonEuclideanParams(T=T, log_eta=np.log(eta)))
    assert mu(W) == pytest.approx(0.0, abs=1e-15)


def test_ibp_paper_form_round_trip_and_zero_row():
    """wei2022 §4 training form: right_inverse_paper recovers an M up to a positive factor; a
    vanishing row+column of M makes D singular (DomainError)."""
    p = IBPMonDEQ(m=0.1)
    rng = np.random.default_rng(3)
    M = rng.standard_normal((4, 4))
    W = p.forward_paper(M)
    M2 = p.right_inverse_paper(W)
    assert _rel(p.forward_paper(M2), W) < 1e-12
    ratio = M2 / M
    assert np.allclose(ratio, ratio[0, 0], rtol=1e-9) and ratio[0, 0] > 0
    M[1, :] = 0.0
    M[:, 1] = 0.0
    with pytest.raises(DomainError):
        p.forward_paper(M)
    with pytest.raises(OutsideSetError):      # strictly inside, not on the boundary
        p.right_inverse_paper(0.5 * W)


def test_gamma_variant_cond_bound_enforced():
    """IBPMonDEQGamma(γ): a W that needs κ(Γ) ≥ γ is not certified (wei2022 §4 κ(Γ) < γ) but is in
    the plain Thm 3.3 set (gamma=None)."""
    # W = Γ W' Γ⁻¹ with W' strictly upper triangular 2×2 and κ(Γ) = 100: |W| nilpotent, so any Λ
    # with Λ(I − |W|) ≻ 0 needs Λ₁Λ₂ ≥ (Λ₁w/2)², i.e. κ(Λ) ≥ w²/4 — here w = 100·0.9.
    W = np.array([[0.0, 90.0], [0.0, 0.0]])
    assert IBPMonDEQGamma(m=0.0, gamma=None).contains(W).certified
    assert not IBPMonDEQGamma(m=0.0, gamma=3.0).contains(W).certified
    with pytest.raises(OutsideSetError):
        IBPMonDEQGamma(m=0.0, gamma=3.0).right_inverse(W)
    prm = IBPMonDEQGamma(m=0.0, gamma=None).right_inverse(W)
    assert _rel(IBPMonDEQGamma(m=0.0, gamma=None).forward(prm), W) < 1e-10


def test_lben_skew_sign_and_context():
    """havens2023 eq. (7) sign: the skew part of Λ(I − W) is Sᵀ − S (Λ = Ψ⁻¹)."""
    p = LBEN(L=1.5, eps=0.2)
    prm = p.sample(np.random.default_rng(5), 4)
    W = p.forward(prm)
    lam = 1.0 / prm.psi
    X = lam[:, None] * (np.eye(4) - W)
    assert np.allclose((X - X.T) / 2, prm.S.T - prm.S, atol=1e-12)
    assert set(p.context(prm)) == {"G", "U"}
