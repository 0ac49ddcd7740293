"""Proofs on finite matrices of any magnitude (issue 15 item 7): ``verified.verified_pd`` and the checks
built on it return a status for every finite matrix — entries near 1e154 used to overflow ‖S‖_F and the
shifts (``NonFiniteError: abs_err / shift must be finite``) — and the answer is scale-covariant:
a matrix and its multiple by a power of two above 2⁴⁰⁰ get the same status and margins in ratio."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory import spectrum, verified
from deqtheory.certificates import Status

matrices = st.integers(1, 6).flatmap(lambda n: st.lists(
    st.floats(-1, 1, allow_nan=False), min_size=n * n, max_size=n * n).map(lambda v: np.array(v).reshape(n, n)))


CASES = {"diag 1e307": np.diag([1.5, -1.0, 0.5]) * 1e307,          # shift -inf: NonFiniteError before
         "full 1e240": np.full((4, 4), 1e240),                          # eigh: LinAlgError before
         "full 1e260": np.full((4, 4), 1e260),
         "diag 1e154": np.diag([3.0, -2.0, 1.0]) * 1e154}


@pytest.mark.parametrize("W", list(CASES.values()), ids=list(CASES))
def test_adjoint_contractive_near_overflow_returns_a_status(W):
    """Valid finite W with huge entries raised NonFiniteError / LinAlgError; now a proof on W/2^k."""
    c = spectrum.check_adjoint_contractive(W)
    assert c.status is Status.REFUTED                       # |||W|||_2 >> 1, proved with the witness v
    assert c.margin < 0 and math.isfinite(c.stats["norm2_absW"])
    assert c.verify(W=W).status in (Status.REFUTED, Status.INCONCLUSIVE)   # the verifier never raises either


@pytest.mark.parametrize("e", [154, 200, 300])
def test_verified_pd_of_nonsymmetric_huge_matrix(e):
    """u·‖sym(A)‖_F overflowed for entries ≥ 1e154 (NonFiniteError: abs_err must be finite)."""
    A = np.array([[2.0, 1.0], [0.0, 3.0]]) * 10.0 ** e
    c = verified.verified_pd(A)
    assert c.certified and 0 < c.margin <= float(np.linalg.eigvalsh(0.5 * (A + A.T))[0])


def test_small_contractive_matrix_is_unchanged_bit_for_bit():
    """Scaling applies only above 2⁴⁰⁰: ordinary matrices take the old path (bit-identical margins)."""
    W = np.array([[0.2, -0.1], [0.05, 0.3]])
    c = spectrum.check_adjoint_contractive(W)
    assert c.certified and "scaled_by" not in c.stats


@settings(max_examples=40)
@given(A=matrices, k=st.integers(401, 1000), j=st.integers(401, 1000), shift=st.floats(-2, 2))
def test_verified_pd_is_scale_covariant_above_2_400(A, k, j, shift):
    amax = float(np.max(np.abs(A)))
    if amax == 0 or math.ldexp(amax, max(k, j)) >= 1.7e308:
        return
    ck, cj = verified.verified_pd(np.ldexp(A, k)), verified.verified_pd(np.ldexp(A, j))
    assert ck.status is cj.status
    if math.isfinite(ck.margin):
        assert math.ldexp(ck.margin, -k) == math.ldexp(cj.margin, -j)
        lam = float(np.linalg.eigvalsh(0.5 * (A + A.T))[0])
        assert math.ldexp(ck.margin, -k) <= lam + 1e-12 * max(1.0, abs(lam))   # a lower bound on λ_min
    sk = verified.verified_pd_at_shift(np.ldexp(A, k), math.ldexp(shift, k))
    sj = verified.verified_pd_at_shift(np.ldexp(A, j), math.ldexp(shift, j))
    assert sk.status is sj.status


def test_subnormal_rounding_in_the_scaling_is_accounted_for():
    """Entries that become subnormal when divided by 2^k lose bits; the proof's abs_err covers them."""
    A = np.array([[2.0 ** 1000, 0.0], [0.0, 3 * 2.0 ** -1074 * 2.0 ** 60]])
    c = verified.verified_pd(A)
    assert c.status is not Status.CERTIFIED or c.margin <= 3 * 2.0 ** -1014
    assert c.tolerance["abs_err"] == 0.0 and c.stats["scaled_by"] == "2^1001"
