"""Theorem-catalogue property tests for the sound interval rule of a convolution computed in float64
(``wei2022:eq2.3.conv``, the project's claim behind deqtheory_train/certify/conv_blocks.py and the
matrix-free certifier): wei2022 eq. (2.3) applied to a convolution, computed by direct convolution with
the allowance ``INFLATE·γ_{2T+2}(|K| ⋆ max(|x̲|,|x̄|) + |b|) + TINY`` and one ulp outward, contains the
exact box.

Oracle: exact rational arithmetic (``fractions.Fraction``) on the stored float64 values — never the code
under test. Inputs mix magnitudes 1e-8 … 1e8 and signs, so that float sums cancel.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deqtheory.testing.oracles import exact_conv_box
from deqtheory.testing.tightness import reached
from deqtheory_train.certify.conv_blocks import circular_conv_box, conv_box

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _mixed(rng, shape):
    return rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, size=shape)


def check_conv_box(seed, circular, stride, width, draw=_mixed):
    """The float64 box of y = K ⋆ x + b over [x̲, x̄] against the exact rational box: containment for every
    output; returns Σ exact widths / Σ float widths (≤ 1)."""
    rng = np.random.default_rng(seed)
    ci, co, k, N = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 4)), 4
    K, b = draw(rng, (co, ci, k, k)), draw(rng, (co,))
    lo = draw(rng, (1, ci, N, N))
    hi = lo + width * np.abs(draw(rng, lo.shape))
    Kt, bt, lt, ht = (torch.tensor(a, dtype=torch.float64) for a in (K, b, lo, hi))
    if circular:
        flo, fhi = circular_conv_box(Kt, bt, lt, ht)
        stride, pad = 1, 0
    else:
        pad = k // 2
        flo, fhi = conv_box(Kt, bt, lt, ht, stride=stride, padding=pad)
    elo, ehi = exact_conv_box(K, b, lo[0], hi[0], stride=stride, padding=pad, circular=circular)
    assert flo.shape[1:] == elo.shape
    for idx in np.ndindex(elo.shape):
        assert Fraction(float(flo[(0,) + idx])) <= elo[idx]
        assert ehi[idx] <= Fraction(float(fhi[(0,) + idx]))
    exact = sum(ehi[idx] - elo[idx] for idx in np.ndindex(elo.shape))
    computed = sum(Fraction(float(fhi[(0,) + idx])) - Fraction(float(flo[(0,) + idx])) for idx in np.ndindex(elo.shape))
    return float(exact / computed) if computed > 0 else 1.0


@pytest.mark.theorem("wei2022:eq2.3.conv")
@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, circular=st.booleans(), stride=st.sampled_from([1, 2]), width=st.sampled_from([0.0, 1e-3, 1.0]))
def test_float_conv_box_contains_the_exact_conv_box(seed, circular, stride, width):
    """The float64 box contains the exact box (rational oracle), inputs of mixed magnitudes 1e-8 … 1e8; and on
    inputs of one scale (standard normal, box width ~|x|) it exceeds the exact box only by the rounding
    allowance: Σ exact widths / Σ float widths ≥ 0.999 (so a box shrunk about its centre fails)."""
    check_conv_box(seed, circular, stride, width)
    reached("wei2022:eq2.3.conv", check_conv_box(seed, circular, stride, 1.0, draw=lambda r, sh: r.standard_normal(sh)))
