"""Unit tests for deqtheory.spectrum: the IBP lift and its block-spectrum facts (dense oracles)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import block_diag, hadamard

from deqtheory import errors, spectrum as S
from deqtheory.certificates import Status


def test_ibp_lift_layout_and_interval_soundness(rng):
    """Ŵ acts on [z̄; z̲] (upper first): for z̲ ≤ z ≤ z̄, (Ŵ[z̄;z̲])_upper ≥ Wz ≥ (Ŵ[z̄;z̲])_lower."""
    W = rng.standard_normal((4, 4))
    Wh = S.ibp_lift(W)
    assert Wh.shape == (8, 8)
    assert np.array_equal(Wh[:4, :4], np.maximum(W, 0)) and np.array_equal(Wh[:4, 4:], np.minimum(W, 0))
    assert np.array_equal(Wh[4:, :4], np.minimum(W, 0)) and np.array_equal(Wh[4:, 4:], np.maximum(W, 0))
    lo = rng.standard_normal(4)
    hi = lo + rng.uniform(0, 1, 4)
    zh = Wh @ np.concatenate([hi, lo])
    for _ in range(20):
        z = lo + rng.uniform(0, 1, 4) * (hi - lo)
        assert np.all(zh[:4] >= W @ z - 1e-12) and np.all(zh[4:] <= W @ z + 1e-12)
    assert S.ibp_lift(rng.standard_normal((2, 5))).shape == (4, 10)


def test_lift_transform_block_diagonalises(rng):
    for m, n in [(3, 3), (2, 5)]:
        W = rng.standard_normal((m, n))
        Qm, Qn = S.lift_transform(m), S.lift_transform(n)
        assert np.allclose(Qm @ Qm.T, np.eye(2 * m)) and np.allclose(Qm, Qm.T)
        assert np.allclose(Qm @ S.ibp_lift(W) @ Qn, block_diag(W, np.abs(W)), atol=1e-14)
    with pytest.raises(errors.DomainError):
        S.lift_transform(0)


def test_prop_3_2_printed_form_is_false_corrected_form_holds():
    """li2022 Prop 3.2 prints ‖Ŵ‖₂ = max(‖W‖₂, ‖Wᵀ‖₂) (= ‖W‖₂). Counterexample: the orthogonal
    W = [[1, 1], [1, −1]]/√2 has ‖W‖₂ = 1 but ‖Ŵ‖₂ = ‖|W|‖₂ = √2."""
    W = np.array([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2)
    dense = np.linalg.norm(S.ibp_lift(W), 2)
    printed = max(np.linalg.norm(W, 2), np.linalg.norm(W.T, 2))
    assert printed == pytest.approx(1.0) and dense == pytest.approx(math.sqrt(2))
    assert S.lift_spectral_norm(W) == pytest.approx(dense, rel=1e-14)
    c = S.check_adjoint_contractive(W / 1.2)       # ‖W/1.2‖₂ < 1 but ‖Ŵ/1.2‖₂ = 1.18
    assert c.status is Status.REFUTED and c.verify(W=W / 1.2).status is Status.REFUTED


def test_prop_3_4_hadamard_attains_sqrt_m():
    """The √m upper bound of li2022 Prop 3.4 is attained (|O| rank one); so scaling by √n gives
    ‖Ŵ‖₂ = 1, not < 1, and the adjoint DEQ is then not certified contractive."""
    H = hadamard(4) / 2.0
    b = S.orthogonal_lift_bounds(H)
    assert b.value == pytest.approx(2.0, rel=1e-14) and b.upper_m == 2.0
    c = S.check_adjoint_contractive(H / math.sqrt(4))
    assert not c.certified and c.margin <= 0
    O = hadamard(4)[:2] / 2.0                       # 2 x 4 row-orthogonal
    b = S.orthogonal_lift_bounds(O)
    assert b.lower <= b.value <= b.upper_m <= b.upper_n
    with pytest.raises(errors.ShapeError):
        S.orthogonal_lift_bounds(O.T)
    with pytest.raises(errors.DomainError, match="row-orthogonal"):
        S.orthogonal_lift_bounds(2 * O)


def test_check_adjoint_contractive_vs_dense(rng):
    W = rng.standard_normal((5, 5)) * 0.1
    c = S.check_adjoint_contractive(W)
    dense = np.linalg.norm(S.ibp_lift(W), 2)
    assert c.certified
    assert 1 - c.margin >= dense - 1e-15 and 1 - c.margin - dense < 1e-12
    assert c.stats["norm2_absW"] == pytest.approx(dense, rel=1e-13)
    r = c.verify(W=W)
    assert r.certified and r.margin == pytest.approx(c.margin, abs=1e-15)


def test_spectral_radius_and_sigma_bound(rng):
    W = rng.standard_normal((5, 5))
    rho_dense = np.max(np.abs(np.linalg.eigvals(S.ibp_lift(W))))
    assert S.lift_spectral_radius(W) == pytest.approx(rho_dense, rel=1e-10)
    assert S.lift_spectral_radius(W) >= np.max(np.abs(np.linalg.eigvals(W))) - 1e-12
    # equality for nonnegative W (wei2022 §3.1 "always larger" is only ≥)
    P = np.abs(W)
    assert S.lift_spectral_radius(P) == pytest.approx(np.max(np.abs(np.linalg.eigvals(P))), rel=1e-12)
    # σ_max ≤ √(mn)‖W‖_max, with equality for a rank-one ±c matrix
    A = rng.standard_normal((3, 7))
    assert np.linalg.norm(A, 2) <= S.sigma_max_bound(A)
    s, t = np.sign(rng.standard_normal(3)), np.sign(rng.standard_normal(7))
    R = 0.3 * np.outer(s, t)
    assert np.linalg.norm(R, 2) == pytest.approx(S.sigma_max_bound(R), rel=1e-14)


def test_block_lift_eigvals_known():
    A = np.diag([1.0, 2.0])
    B = np.diag([3.0, 5.0])
    ev = S.block_lift_eigvals(A, B)
    assert np.allclose(np.sort(ev.real), [-3.0, -2.0, 4.0, 7.0]) and np.allclose(ev.imag, 0)
    with pytest.raises(errors.ShapeError):
        S.block_lift(np.eye(2), np.eye(3))


@pytest.mark.parametrize("fn", [S.ibp_lift, S.lift_spectral_norm, S.check_adjoint_contractive, S.lift_eigvals,
                                S.lift_sym_eigvals, S.sigma_max_bound])
@pytest.mark.parametrize("bad, exc", [
    (np.array([[np.inf]]), errors.NonFiniteError), (np.zeros((0, 2)), errors.EmptyArrayError),
    (np.ones(3), errors.ShapeError), (np.array([["a"]]), errors.DTypeError),
])
def test_bad_input(fn, bad, exc):
    with pytest.raises(exc):
        fn(bad)


def test_check_adjoint_contractive_requires_square():
    with pytest.raises(errors.ShapeError, match=r"\(2, 3\)"):
        S.check_adjoint_contractive(np.ones((2, 3)))
