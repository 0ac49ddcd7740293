"""Unit tests for deqtheory.convert: V factor regression, printed-vs-corrected S, errors, conv support."""
from __future__ import annotations

import numpy as np
import pytest

from deqtheory import convert as cv
from deqtheory import explicit as ex
from deqtheory import explicit_conv as ec
from deqtheory.errors import DomainError, DTypeError
from deqtheory.parametrizations.lben import LBEN, LBENParams


def test_lben_forward_uses_VtV_not_VV_regression():
    """One public LBEN code forms V·V instead of VᵀV (PSD only while V is symmetric). The returned
    V is not symmetric, V·V's symmetric part is indefinite, and the W we return is the formula
    with VᵀV: replacing VᵀV by V·V changes W."""
    rng = np.random.default_rng(3)
    net = ex.random_sll_stack(rng, 3, [4, 3])
    conv = cv.sll_to_lben(net)
    V = conv.V
    assert np.linalg.eigvalsh(V.T @ V)[0] >= -1e-12
    # a trained (perturbed) V stays PSD through VᵀV but not through V·V
    Vt = V + 0.5 * rng.normal(size=V.shape)
    assert np.linalg.eigvalsh(Vt.T @ Vt)[0] >= -1e-12
    VV = Vt @ Vt
    assert np.linalg.eigvalsh(0.5 * (VV + VV.T))[0] < -1e-3
    p = conv.params
    psi = p.psi
    W_vtv = np.eye(conv.n) - psi[:, None] * (p.G.T @ p.G / 2 + Vt.T @ Vt + p.S.T - p.S) - (p.U @ p.U.T) / (2 * psi[None, :])
    W_vv = np.eye(conv.n) - psi[:, None] * (p.G.T @ p.G / 2 + VV + p.S.T - p.S) - (p.U @ p.U.T) / (2 * psi[None, :])
    W = LBEN(L=1.0, eps=0.0).forward(LBENParams(log_psi=p.log_psi, G=p.G, U=p.U, V=Vt, S=p.S))
    assert np.allclose(W, W_vtv, atol=1e-12)
    assert not np.allclose(W, W_vv, atol=1e-3)


@pytest.mark.theorem("havens2023:thm3.5")
def test_thm35_printed_S_half_M_fails_corrected_half_MT_works():
    """Thm 3.5 prints S = ½M; with eq. (7)'s skew term Sᵀ − S the reconstruction needs S = ½Mᵀ."""
    rng = np.random.default_rng(5)
    net = ex.random_sll_stack(rng, 3, [3, 2])
    conv = cv.sll_to_lben(net)
    M_T = 2 * conv.S                      # returned S = ½Mᵀ
    printed = LBENParams(log_psi=conv.params.log_psi, G=conv.G, U=conv.U, V=conv.V, S=0.5 * M_T.T)
    W_printed = LBEN(L=1.0, eps=0.0).forward(printed)
    assert np.max(np.abs(W_printed - conv.W_source)) > 1e-3
    assert np.max(np.abs(conv.W - conv.W_source)) <= 1e-12 * max(1, np.max(np.abs(conv.W_source)))


def test_indefinite_source_raises():
    """An SLL layer violating WᵀW ⪯ T gives an indefinite ½(M + Mᵀ): refused, never clipped silently."""
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 2))
    T = ex.sll_T(W)
    layer = ex.ResidualLayer(W, T)
    object.__setattr__(layer, "T", 0.3 * T)   # corrupt after validation
    with pytest.raises(DomainError, match="indefinite"):
        cv.sll_to_lben(ex.ResidualStack((layer,)))


def test_mondeq_L_below_prescribed_raises_and_type_errors():
    rng = np.random.default_rng(0)
    A, B, U = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    with pytest.raises(DomainError):
        cv.mondeq_to_lben(A, B, 0.5, U, L=0.5 * np.linalg.norm(U, 2) / 0.5)
    with pytest.raises(DomainError):
        cv.mondeq_to_lben(A, B, 0.5, np.zeros((3, 2)))
    with pytest.raises(DTypeError):
        cv.sll_to_lben("not a stack")
    with pytest.raises(DTypeError):
        cv.conv_sll_to_lben(ex.random_sll_stack(rng, 2, [2]))


def test_certificate_tight_sll_needs_tilt_and_verifies():
    """An exactly tight SLL (k_n = 1, T = WᵀW) makes (10) singular off the range of GᵀG + ΛUUᵀΛ:
    the analytic Λ cannot be strict at any L'; the tilted Λ certifies L' ≤ 1 + 1e-9."""
    rng = np.random.default_rng(0)
    net = ex.random_sll_stack(rng, 1, [1, 1])
    conv = cv.sll_to_lben(net)
    c0, L0 = cv.certify_lben_lipschitz(conv.W, conv.U, conv.G, conv.lam, 1.0)
    assert not c0.certified and L0 == np.inf
    assert conv.certificate.certified and conv.L_certified <= 1 + 1e-9
    assert conv.certificate.stats["tilt"] > 0
    assert conv.certificate.verify(W=conv.W, U=conv.U, G=conv.G).certified


def test_certificate_cross_checked_by_sdp_module():
    """deqtheory.sdp.lipschitz_certificate (given witness only) agrees with our certificate."""
    from deqtheory.sdp import lipschitz_certificate

    rng = np.random.default_rng(2)
    conv = cv.aol_to_lben(ex.random_aol_net(rng, [3, 4, 2]))
    c = lipschitz_certificate(conv.W, conv.U, conv.G, conv.L_certified, lam=conv.certificate.witness["lam"])
    assert c.certified


def test_conv_support_records_source_kernel_support():
    """The conv LBEN records where the source W kernel was structurally nonzero: Kᵀ blocks have the
    kernel's s×s support, 𝒦_nᵀ𝒦_j blocks (2s−1)² — the complement is the ℓ1 border (§4.1)."""
    rng = np.random.default_rng(0)
    N = 7
    st = ec.random_conv_sll_stack(rng, 1, [1, 1], N, s=3)
    m = cv.conv_sll_to_lben(st)
    assert m.support[1, 0].sum() == 9 and m.support[2, 1].sum() == 25 and m.support[2, 0].sum() == 9
    assert not m.support[0].any() and not m.support[1, 1].any()
    assert m.kernel_sizes == ((3, 3), (3, 3))


def test_conv_sll_T_equals_dense_sll_T():
    """Conv SLL T (per channel, Gram taps folded mod N) = dense eq. (9) of the materialized matrix."""
    from deqtheory import circulant as ci

    rng = np.random.default_rng(4)
    for N in (2, 3, 5):
        K = rng.normal(size=(2, 3, 3, 3)) if N >= 3 else rng.normal(size=(2, 3, 2, 2))
        q = rng.uniform(0.5, 2, size=3)
        Tc = ec.conv_sll_T(K, q, N)
        Td = ex.sll_T(ci.conv_matrix(K, N), np.repeat(q, N * N))
        assert np.allclose(np.repeat(Tc, N * N), Td, rtol=1e-12, atol=0)
