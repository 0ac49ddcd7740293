"""Theorem-catalogue property tests for the sound interval rule of a convolution computed in float64
(``wei2022:eq2.3.conv``, the project's claim behind deqtheory_train/certify/conv_blocks.py and the
matrix-free certifier): wei2022 eq. (2.3) applied to a convolution, computed by direct convolution with
the allowance ``INFLATE·γ_{2T+2}(|K| ⋆ max(|x̲|,|x̄|) + |b|) + TINY`` and one ulp outward, contains the
exact box.

Oracle: exact rational arithmetic (``fractions.Fraction``) on the stored float64 values — never the code
under test. Inputs mix magnitudes 1e-8 … 1e8 and signs, so that float sums cancel.
"""
from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory_train.certify.conv_blocks import circular_conv_box, conv_box

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _mixed(rng, shape):
    return rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, size=shape)


def _exact_bounds(K, b, lo, hi, stride, pad, circular):
    """Exact [min, max] of the conv over the box: per output, Σ K₊·lo + K₋·hi (min) etc., in Fractions."""
    co, ci, kh, kw = K.shape
    H, W = lo.shape[1:]
    oh, ow = (kh - 1) // 2, (kw - 1) // 2
    Ho, Wo = (H, W) if circular else ((H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1)
    out_lo = np.empty((co, Ho, Wo), dtype=object)
    out_hi = np.empty((co, Ho, Wo), dtype=object)
    for o, i0, j0 in itertools.product(range(co), range(Ho), range(Wo)):
        s_lo = s_hi = Fraction(float(b[o]))
        for c, a, bb in itertools.product(range(ci), range(kh), range(kw)):
            if circular:
                i, j = (i0 + a - oh) % H, (j0 + bb - ow) % W
            else:
                i, j = i0 * stride + a - pad, j0 * stride + bb - pad
                if not (0 <= i < H and 0 <= j < W):
                    continue
            k = Fraction(float(K[o, c, a, bb]))
            x_lo, x_hi = Fraction(float(lo[c, i, j])), Fraction(float(hi[c, i, j]))
            s_lo += min(k * x_lo, k * x_hi)
            s_hi += max(k * x_lo, k * x_hi)
        out_lo[o, i0, j0], out_hi[o, i0, j0] = s_lo, s_hi
    return out_lo, out_hi


@pytest.mark.theorem("wei2022:eq2.3.conv")
@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, circular=st.booleans(), stride=st.sampled_from([1, 2]), width=st.sampled_from([0.0, 1e-3, 1.0]))
def test_float_conv_box_contains_the_exact_conv_box(seed, circular, stride, width):
    rng = np.random.default_rng(seed)
    ci, co, k, N = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 4)), 4
    K, b = _mixed(rng, (co, ci, k, k)), _mixed(rng, (co,))
    lo = _mixed(rng, (1, ci, N, N))
    hi = lo + width * np.abs(_mixed(rng, lo.shape))
    Kt, bt, lt, ht = (torch.tensor(a, dtype=torch.float64) for a in (K, b, lo, hi))
    if circular:
        flo, fhi = circular_conv_box(Kt, bt, lt, ht)
        stride, pad = 1, 0
    else:
        pad = k // 2
        flo, fhi = conv_box(Kt, bt, lt, ht, stride=stride, padding=pad)
    elo, ehi = _exact_bounds(K, b, lo[0], hi[0], stride, pad, circular)
    assert flo.shape[1:] == elo.shape
    for idx in np.ndindex(elo.shape):
        assert Fraction(float(flo[(0,) + idx])) <= elo[idx]
        assert ehi[idx] <= Fraction(float(fhi[(0,) + idx]))
