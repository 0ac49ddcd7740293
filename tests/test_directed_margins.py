"""Margins of the form ``1 - bound`` are rounded toward safety (issue 15 item 2): the reported margin is
never above the exact ``1 - upper_bound`` (checked in exact rational arithmetic), and never 1.0 when
a non-zero entry makes the exact margin smaller than 1."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from deqtheory.linalg import check_mu_inf, check_pf_abs, one_minus_down

TINY = [
    np.array([[1e-320]]),
    np.array([[0.0, 1e-303], [0.0, 0.0]]),
    np.array([[5e-324, 0.0], [0.0, 1e-310]]),
    np.array([[0.0, 2.0 ** -60], [2.0 ** -70, 0.0]]),
]


@pytest.mark.parametrize("check", [check_mu_inf, check_pf_abs], ids=["mu_inf", "pf_abs"])
@pytest.mark.parametrize("W", TINY, ids=[f"tiny{i}" for i in range(len(TINY))])
def test_margin_below_one_and_below_exact_one_minus_bound(check, W):
    c = check(W)
    assert c.certified
    assert c.margin < 1.0
    ub = c.stats["upper_bound"]
    assert ub > 0
    assert Fraction(c.margin) <= 1 - Fraction(ub)


@pytest.mark.parametrize("check", [check_mu_inf, check_pf_abs], ids=["mu_inf", "pf_abs"])
def test_margin_is_a_proved_lower_bound_on_random_matrices(check):
    rng = np.random.default_rng(15)
    for _ in range(30):
        n = int(rng.integers(1, 6))
        W = rng.standard_normal((n, n)) * 10.0 ** rng.uniform(-300, -1) / n
        c = check(W)
        if np.isfinite(c.margin):
            assert Fraction(c.margin) <= 1 - Fraction(c.stats["upper_bound"])


@pytest.mark.parametrize("b", [0.0, 1e-320, 2.0 ** -53, 2.0 ** -54, 0.1, 1 / 3, 0.75, 1.0, 1.5, -1e-300, -0.1, 1e300, 3.0])
def test_one_minus_down_is_the_largest_float_not_above_exact(b):
    m = one_minus_down(b)
    exact = 1 - Fraction(b)
    assert Fraction(m) <= exact
    assert Fraction(float(np.nextafter(m, np.inf))) > exact


def test_one_minus_down_infinite_bound():
    assert one_minus_down(float("inf")) == -float("inf")
    assert one_minus_down(float("nan")) == -float("inf")
