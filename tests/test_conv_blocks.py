"""The rounding model of the conv ℓ∞ certifier's explicit blocks (deqtheory_train/certify/conv_blocks.py),
tested against exact sums: every box computed in float64 must contain the exact real result of the
stored float64 values (``fractions.Fraction`` for sums of products, ``mpmath`` at 80 digits for the
BatchNorm square root), also on inputs built to cancel catastrophically."""
from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import torch
from torch import nn

from deqtheory.errors import DomainError
from deqtheory.testing.oracles import exact_conv_box
from deqtheory_train.certify.conv_blocks import (avgpool_block, batchnorm_block, circular_conv_box, conv_box,
                                                 linf_block)

DT = torch.float64


def _exact_conv(K, b, x, stride, pad, circular=False):
    """Exact cross-correlation (Fractions) of float64 arrays: K (co, ci, kh, kw), x (ci, H, W)."""
    return exact_conv_box(K, b, x, x, stride=stride, padding=pad, circular=circular)[0]


def _cancelling(rng, shape):
    """Values of very different magnitudes and signs, so that float sums lose most digits."""
    mag = 10.0 ** rng.integers(-8, 9, size=shape)
    return rng.standard_normal(shape) * mag


def _contains(lo, hi, exact):
    lo, hi = lo.numpy(), hi.numpy()
    return all(Fraction(float(lo.flat[i])) <= e <= Fraction(float(hi.flat[i])) for i, e in enumerate(exact.flat))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("stride,pad", [(1, 1), (2, 1), (1, 0), (2, 0)])
def test_conv_box_contains_exact_conv_of_a_point(seed, stride, pad):
    rng = np.random.default_rng(seed)
    K = _cancelling(rng, (2, 3, 3, 3))
    b = _cancelling(rng, (2,))
    x = _cancelling(rng, (1, 3, 5, 5))
    xt = torch.tensor(x, dtype=DT)
    lo, hi = conv_box(torch.tensor(K), torch.tensor(b), xt, xt, stride=stride, padding=pad)
    exact = _exact_conv(K, b, x[0], stride, pad)
    assert lo.shape[1:] == exact.shape
    assert _contains(lo[0], hi[0], exact)
    # the allowance is a rounding bound, not a gross widening: relative to |K|*|x| + |b|
    ax = torch.nn.functional.conv2d(xt.abs(), torch.tensor(K).abs(), torch.tensor(b).abs(), stride=stride, padding=pad)
    assert float(((hi - lo) / ax).max()) < 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_circular_conv_box_contains_exact_circular_conv(seed):
    rng = np.random.default_rng(100 + seed)
    K = _cancelling(rng, (3, 2, 3, 3))
    b = _cancelling(rng, (3,))
    x = _cancelling(rng, (1, 2, 4, 4))
    xt = torch.tensor(x, dtype=DT)
    lo, hi = circular_conv_box(torch.tensor(K), torch.tensor(b), xt, xt)
    assert _contains(lo[0], hi[0], _exact_conv(K, b, x[0], 1, 0, circular=True))


@pytest.mark.parametrize("seed", range(4))
def test_conv_box_contains_every_corner_of_the_input_box(seed):
    """Exactness of the interval rule itself: on a box the exact conv of every corner lies inside."""
    rng = np.random.default_rng(200 + seed)
    K = rng.standard_normal((2, 1, 2, 2))
    lo_in = rng.standard_normal((1, 1, 3, 3))
    hi_in = lo_in + rng.uniform(0, 1, size=lo_in.shape)
    lo, hi = conv_box(torch.tensor(K), None, torch.tensor(lo_in), torch.tensor(hi_in), stride=1, padding=0)
    flat_lo, flat_hi = lo_in.ravel(), hi_in.ravel()
    for bits in itertools.islice(itertools.product((0, 1), repeat=flat_lo.size), 0, None, 37):
        corner = np.where(np.array(bits, dtype=bool), flat_hi, flat_lo).reshape(lo_in.shape)
        assert _contains(lo[0], hi[0], _exact_conv(K, None, corner[0], 1, 0))
    # and the rule is tight: some corner attains each bound up to rounding
    assert float((hi - lo).min()) > 0


def _bn(C, seed, affine=True):
    g = torch.Generator().manual_seed(seed)
    bn = nn.BatchNorm2d(C, affine=affine, eps=1e-5).double()
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(C, generator=g, dtype=DT) * 3)
        bn.running_var.copy_(torch.rand(C, generator=g, dtype=DT) * 1e-3 + 1e-6)
        if affine:
            bn.weight.copy_(torch.randn(C, generator=g, dtype=DT))
            bn.bias.copy_(torch.randn(C, generator=g, dtype=DT))
    return bn.eval()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_box_contains_exact_value(seed, affine):
    bn = _bn(3, seed, affine)
    x = torch.randn(2, 3, 2, 2, dtype=DT, generator=torch.Generator().manual_seed(seed)) * 5
    lo, hi = batchnorm_block(bn).box(x, x)
    bn.requires_grad_(False)
    mpmath.mp.dps = 80
    for n, c, i, j in itertools.product(range(2), range(3), range(2), range(2)):
        w = mpmath.mpf(float(bn.weight[c])) if affine else 1
        bb = mpmath.mpf(float(bn.bias[c])) if affine else 0
        v = (mpmath.mpf(float(x[n, c, i, j])) - mpmath.mpf(float(bn.running_mean[c]))) * w / mpmath.sqrt(
            mpmath.mpf(float(bn.running_var[c])) + mpmath.mpf(bn.eps)) + bb
        assert mpmath.mpf(float(lo[n, c, i, j])) <= v <= mpmath.mpf(float(hi[n, c, i, j]))
    # and it is the function torch computes, to rounding
    with torch.no_grad():
        assert torch.allclose(bn(x), (lo + hi) / 2, rtol=1e-12, atol=1e-12)


def test_batchnorm1d_box_contains_exact_value():
    bn2 = _bn(4, 3)
    bn1 = nn.BatchNorm1d(4).double().eval()
    bn1.load_state_dict(bn2.state_dict())
    x = torch.randn(5, 4, dtype=DT, generator=torch.Generator().manual_seed(3)) * 3
    lo, hi = batchnorm_block(bn1).box(x, x)
    lo2, hi2 = batchnorm_block(bn2).box(x[:, :, None, None], x[:, :, None, None])
    assert torch.equal(lo, lo2[:, :, 0, 0]) and torch.equal(hi, hi2[:, :, 0, 0])
    with torch.no_grad():          # torch's float result is within rounding of the (exactly enclosed) value
        assert torch.allclose(bn1(x), (lo + hi) / 2, rtol=1e-12, atol=1e-12)


def test_batchnorm_refused_in_training_mode_or_without_running_stats():
    bn = _bn(2, 0).train()
    with pytest.raises(DomainError, match="eval mode"):
        batchnorm_block(bn)
    with pytest.raises(DomainError, match="running statistics"):
        batchnorm_block(nn.BatchNorm2d(2, track_running_stats=False).double().eval())


@pytest.mark.parametrize("k,stride,pad", [(2, 2, 0), (4, 4, 0), (3, 1, 1)])
def test_avgpool_box_contains_exact_average(k, stride, pad):
    rng = np.random.default_rng(k)
    x = _cancelling(rng, (1, 2, 8, 8))
    xt = torch.tensor(x)
    pool = nn.AvgPool2d(k, stride, pad)
    lo, hi = avgpool_block(pool).box(xt, xt)
    Kavg = np.zeros((2, 2, k, k))
    Kavg[0, 0] = Kavg[1, 1] = 1.0
    exact = _exact_conv(Kavg, None, x[0], stride, pad)
    exact = np.vectorize(lambda e: e / (k * k), otypes=[object])(exact)
    assert _contains(lo[0], hi[0], exact)


def test_unsupported_blocks_are_refused_with_their_reason():
    with pytest.raises(DomainError, match="groups"):
        linf_block(nn.Conv2d(4, 4, 3, groups=2))
    with pytest.raises(DomainError, match="padding_mode"):
        linf_block(nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"))
    with pytest.raises(DomainError, match="ceil_mode"):
        linf_block(nn.AvgPool2d(2, ceil_mode=True))
    with pytest.raises(DomainError, match="unsupported"):
        linf_block(nn.MaxPool2d(2))
