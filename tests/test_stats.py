"""Statistics the scorer relies on (zbb/stats.py), checked against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from zbb.stats import mcnemar_exact, paired_comparison, rate_of, recovery, wilson


def test_wilson_matches_the_formula():
    # k=28, n=100, z=1.959964: centre (p + z^2/2n)/(1 + z^2/n), half-width z/(1+z^2/n) sqrt(p(1-p)/n + z^2/4n^2)
    k, n, z = 28, 100, 1.959963984540054
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    r = wilson(k, n)
    assert (r.k, r.n, r.rate) == (28, 100, 0.28)
    assert r.ci_low == pytest.approx(centre - half, abs=1e-9) and r.ci_high == pytest.approx(centre + half, abs=1e-9)
    assert r.ci_low == pytest.approx(0.2014, abs=1e-4) and r.ci_high == pytest.approx(0.3749, abs=1e-4)


def test_wilson_edges():
    assert (wilson(0, 10).ci_low, wilson(10, 10).ci_high) == (0.0, 1.0)
    assert wilson(0, 0).rate == 0.0 and (wilson(0, 0).ci_low, wilson(0, 0).ci_high) == (0.0, 1.0)
    with pytest.raises(ValueError, match="k=5, n=3"):
        wilson(5, 3)
    assert rate_of([True, False, True, True]).k == 3


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_wilson_equals_scipy_on_many_counts(confidence):
    # zbb computes the closed formula itself (no scipy import at scoring); it must agree with scipy's Wilson
    # interval wherever zbb uses it: every k of small n, and a spread of k for large n.
    from scipy.stats import binomtest

    cases = [(k, n) for n in range(1, 41) for k in range(n + 1)]
    cases += [(k, n) for n in (99, 100, 653, 1306, 3918, 1_000_000) for k in {0, 1, 2, n // 3, n // 2, n - 1, n}]
    for k, n in cases:
        ours = wilson(k, n, confidence)
        ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        assert ours.ci_low == pytest.approx(float(ci.low), rel=1e-12, abs=1e-15), (k, n)
        assert ours.ci_high == pytest.approx(float(ci.high), rel=1e-12, abs=1e-15), (k, n)
        assert 0.0 <= ours.ci_low <= ours.rate <= ours.ci_high <= 1.0


def test_wilson_refuses_a_confidence_outside_0_1():
    with pytest.raises(ValueError, match="confidence"):
        wilson(1, 2, confidence=1.0)


def test_mcnemar_exact_hand_computed():
    # b=1, c=9: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024
    assert mcnemar_exact(1, 9) == pytest.approx(2 * (1 + 10) / 2**10) == pytest.approx(0.021484375)
    assert mcnemar_exact(9, 1) == pytest.approx(0.021484375)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == pytest.approx(1.0)


def test_paired_comparison_counts_and_interval_contains_the_difference():
    a = [True] * 10 + [False] * 10 + [True, False] * 5  # 15 / 30
    b = [True] * 10 + [True] * 8 + [False] * 2 + [True, False] * 5
    cmp = paired_comparison(a, b, n_resamples=2000, seed=1)
    assert (cmp.n, cmp.a_only, cmp.b_only) == (30, 0, 8)
    assert cmp.diff == pytest.approx(8 / 30)
    assert cmp.ci_low <= cmp.diff <= cmp.ci_high and cmp.ci_low > 0
    assert cmp.mcnemar_p == pytest.approx(2 / 2**8)


def test_paired_comparison_refuses_mismatched_runs():
    with pytest.raises(ValueError, match="same rows, got 2 and 3"):
        paired_comparison([True, False], [True, False, True])


def test_recovery():
    assert recovery(0.45, 0.28, 0.49) == pytest.approx(17 / 21)
    assert recovery(0.5, 0.3, 0.3) is None


@pytest.mark.parametrize("a_only, b_only", [(0, 5), (3, 3), (7, 2), (1, 30), (40, 55), (250, 310)])
def test_integer_mcnemar_matches_scipys_exact_binomial_test(a_only, b_only):
    from scipy.stats import binomtest

    expected = binomtest(min(a_only, b_only), a_only + b_only, 0.5).pvalue
    assert mcnemar_exact(a_only, b_only) == pytest.approx(expected, rel=1e-9)
