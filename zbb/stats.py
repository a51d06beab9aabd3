"""Statistics for rates and paired runs: Wilson intervals, exact McNemar (both closed formulas, no scipy), and
the paired bootstrap (scipy, imported only when a comparison needs it)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from zbb.records import Rate


def wilson(k: int, n: int, confidence: float = 0.95) -> Rate:
    """k successes in n trials as a `Rate` with its Wilson score interval (the interval of a 0/0 rate is [0, 1]).

    The closed formula (Newcombe 1998), computed as `scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`
    computes it, bounds pinned to 0 at k = 0 and to 1 at k = n (tested equal on many (k, n)); importing
    scipy.stats for it cost every CLI run about a second.
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"wilson: need 0 <= k <= n, got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"wilson: confidence must be between 0 and 1, got {confidence}")
    if n == 0:
        return Rate(k=0, n=0, rate=0.0, ci_low=0.0, ci_high=1.0)
    z = _z(confidence)
    p = k / n
    denom = 2 * (n + z * z)
    center = (2 * n * p + z * z) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z * z)
    low = 0.0 if k == 0 else center - delta
    high = 1.0 if k == n else center + delta
    return Rate(k=k, n=n, rate=p, ci_low=low, ci_high=high)


@functools.lru_cache(maxsize=16)
def _z(confidence: float) -> float:
    """The two-sided standard normal quantile of `confidence` (1.959963984540054 at 0.95)."""
    return NormalDist().inv_cdf(0.5 + 0.5 * confidence)


def rate_of(flags: Sequence[bool], confidence: float = 0.95) -> Rate:
    return wilson(int(sum(bool(f) for f in flags)), len(flags), confidence)


@dataclass(frozen=True)
class PairedComparison:
    """Run B minus run A on the same rows: discordant counts, exact McNemar p-value, paired bootstrap CI."""

    n: int
    a_rate: float
    b_rate: float
    diff: float  # b_rate - a_rate
    a_only: int  # rows right in A, wrong in B
    b_only: int  # rows right in B, wrong in A
    mcnemar_p: float  # exact two-sided (binomial on the discordant pairs)
    ci_low: float  # paired bootstrap percentile interval of diff
    ci_high: float

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts (1.0 when there are none): the binomial(m, 1/2)
    tail, doubled. Integer arithmetic, so the leaderboard can call it without importing scipy (~1 s of start-up)."""
    m = a_only + b_only
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(min(a_only, b_only) + 1))
    return min(1.0, 2 * tail / 2**m)


def paired_comparison(
    a: Sequence[bool], b: Sequence[bool], *, n_resamples: int = 2000, seed: int = 0, confidence: float = 0.95
) -> PairedComparison:
    """Compare two runs' per-row outcomes on the same rows, in the same order."""
    if len(a) != len(b):
        raise ValueError(f"paired_comparison: runs must cover the same rows, got {len(a)} and {len(b)}")
    if not a:
        raise ValueError("paired_comparison: no shared rows")
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    a_only = int(np.sum((x == 1) & (y == 0)))
    b_only = int(np.sum((x == 0) & (y == 1)))
    diff = float(y.mean() - x.mean())
    if np.all(x == y) or np.ptp(y - x) == 0:  # the difference never varies: the interval is the point
        low = high = diff
    else:
        from scipy import stats as _st

        res = _st.bootstrap(
            (x, y),
            lambda u, v, axis=-1: v.mean(axis=axis) - u.mean(axis=axis),
            paired=True,
            vectorized=True,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return PairedComparison(
        n=len(x),
        a_rate=float(x.mean()),
        b_rate=float(y.mean()),
        diff=diff,
        a_only=a_only,
        b_only=b_only,
        mcnemar_p=mcnemar_exact(a_only, b_only),
        ci_low=low,
        ci_high=high,
    )


def recovery(steered: float, interrupt: float, no_interrupt: float) -> float | None:
    """(steered - interrupt) / (no_interrupt - interrupt); None when there is no inertia gap to recover."""
    gap = no_interrupt - interrupt
    if abs(gap) < 1e-12:
        return None
    return (steered - interrupt) / gap
