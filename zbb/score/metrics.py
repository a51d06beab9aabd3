"""Metrics: pure functions over lists of `ItemScore`, returning counts and rates (corpus figures from counts).

Compute once, derive many: `aggregate` turns one condition's item scores into a `ConditionAggregate`; gaps,
recovery and paired comparisons are thin functions over aggregates or items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from zbb.conditions import CONDITIONS, INTERRUPT, INTERRUPT_BUFFERED, NO_INTERRUPT
from zbb.errors import ZbbError
from zbb.records import ConditionAggregate, ItemScore, Rate, RunResult, Timing, ValidInterruptions
from zbb.stats import PairedComparison, paired_comparison, rate_of, recovery


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    higher_is_better: bool
    flag: Callable[[ItemScore], bool]  # the per-row outcome whose mean is the metric


METRICS: dict[str, Metric] = {
    "correctness": Metric("correctness", "the response is right about the claim", True, lambda s: s.correct),
    "iwor": Metric(
        "iwor", "initial-word occurrence: the subject word occurs in the response", True, lambda s: s.subject_hit
    ),
    "no_answer": Metric(
        "no_answer", "the response takes no stance on the claim", False, lambda s: s.stance == "no_answer"
    ),
}

BREAKDOWN_AXES: tuple[str, ...] = ("category", "voice", "label")
INTERRUPT_CONDITIONS = (INTERRUPT, INTERRUPT_BUFFERED)  # the model is meant to be talking at the onset


def _metric(name: str) -> Metric:
    if name not in METRICS:
        raise ZbbError(f"unknown metric {name!r}; available: {', '.join(METRICS)}")
    return METRICS[name]


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


_TIMING_FIELDS = (
    "takeover",
    "latency_s",
    "stop_latency_s",
    "answer_latency_s",
    "claim_stop_latency_s",
    "talking_at_onset",
)


def _mean_n(values: Iterable[float | None]) -> tuple[float | None, int]:
    present = [v for v in values if v is not None]
    return _mean(present), len(present)


def timing_of(items: Sequence[ItemScore]) -> Timing | None:
    """Timing over the rows that have any (None when no row has): rates and means, each mean with its n.

    FDB's latency averages over take-over rows and its stop latency over rows with an overlap (as FDB's scripts
    do); zbb's answer latency over take-over rows, its claim stop latency over every row with audio."""
    measured = [s for s in items if any(getattr(s, f) is not None for f in _TIMING_FIELDS)]
    if not measured:
        return None
    takeovers = [s.takeover for s in measured if s.takeover is not None]
    onsets = [s.talking_at_onset for s in measured if s.talking_at_onset is not None]
    latency, latency_n = _mean_n(s.latency_s for s in measured if s.takeover)
    stop, stop_n = _mean_n(s.stop_latency_s for s in measured)
    answer, answer_n = _mean_n(s.answer_latency_s for s in measured)
    claim_stop, claim_stop_n = _mean_n(s.claim_stop_latency_s for s in measured)
    return Timing(
        n_measured=len(measured),
        takeover=rate_of(takeovers) if takeovers else None,
        latency_s=latency,
        latency_n=latency_n,
        stop_latency_s=stop,
        stop_latency_n=stop_n,
        answer_latency_s=answer,
        answer_latency_n=answer_n,
        claim_stop_latency_s=claim_stop,
        claim_stop_latency_n=claim_stop_n,
        talking_at_onset=rate_of(onsets) if onsets else None,
    )


def valid_interruptions_of(items: Sequence[ItemScore]) -> ValidInterruptions | None:
    """Correctness and IWOR on the interrupt rows where the model was talking at the claim's onset; None for a
    condition without interruptions or without audio (nothing says whether the model was talking)."""
    if not any(s.condition in INTERRUPT_CONDITIONS and s.talking_at_onset is not None for s in items):
        return None
    valid = [s for s in items if s.condition in INTERRUPT_CONDITIONS and s.talking_at_onset]
    return ValidInterruptions(
        n=len(valid),
        correctness=rate_of([s.correct for s in valid]),
        iwor=rate_of([s.subject_hit for s in valid]),
    )


def aggregate(items: Sequence[ItemScore]) -> ConditionAggregate:
    """Corpus figures of a set of scored rows (normally one condition of one run)."""
    return ConditionAggregate(
        n=len(items),
        correctness=rate_of([s.correct for s in items]),
        iwor=rate_of([s.subject_hit for s in items]),
        no_answer=rate_of([s.stance == "no_answer" for s in items]),
        timing=timing_of(items),
        missing=sum(s.missing for s in items),
        valid_interruptions=valid_interruptions_of(items),
    )


def _by_condition(items: Iterable[ItemScore]) -> dict[str, list[ItemScore]]:
    groups: dict[str, list[ItemScore]] = defaultdict(list)
    for s in items:
        groups[s.condition].append(s)
    order = {c: i for i, c in enumerate(CONDITIONS)}
    return {c: groups[c] for c in sorted(groups, key=lambda c: (order.get(c, len(order)), c))}


def aggregates_by_condition(items: Iterable[ItemScore]) -> dict[str, ConditionAggregate]:
    return {c: aggregate(rows) for c, rows in _by_condition(items).items()}


def breakdowns(
    items: Iterable[ItemScore], axes: Sequence[str] = BREAKDOWN_AXES
) -> dict[str, dict[str, dict[str, ConditionAggregate]]]:
    """Per condition, per axis (category, voice, label), per value: the aggregate of those rows."""
    out: dict[str, dict[str, dict[str, ConditionAggregate]]] = {}
    for condition, rows in _by_condition(items).items():
        out[condition] = {}
        for axis in axes:
            groups: dict[str, list[ItemScore]] = defaultdict(list)
            for s in rows:
                value = getattr(s, axis)
                if value is None:
                    continue
                groups[str(value).lower() if isinstance(value, bool) else str(value)].append(s)
            if groups:
                out[condition][axis] = {v: aggregate(groups[v]) for v in sorted(groups)}
    return out


def metric_value(agg: ConditionAggregate, metric: str = "correctness") -> float:
    rate: Rate | None = getattr(agg, _metric(metric).name)
    if rate is None:
        raise ZbbError(f"this aggregate has no {metric!r} figure")
    return rate.rate


def _gap(result: RunResult, high: str, low: str, metric: str) -> float | None:
    if high not in result.aggregates or low not in result.aggregates:
        return None
    return metric_value(result.aggregates[high], metric) - metric_value(result.aggregates[low], metric)


def inertia_gap(result: RunResult, metric: str = "correctness") -> float | None:
    """no_interrupt - interrupt: what abrupt interruption costs (None when a condition is absent)."""
    return _gap(result, NO_INTERRUPT, INTERRUPT, metric)


def buffer_gap(result: RunResult, metric: str = "correctness") -> float | None:
    """interrupt_buffered - interrupt: how much a spoken filler before the claim hides inertia."""
    return _gap(result, INTERRUPT_BUFFERED, INTERRUPT, metric)


def recovery_of(unsteered: RunResult, steered: RunResult, metric: str = "correctness") -> float | None:
    """(steer - interrupt) / (no_interrupt - interrupt), the paper's recovery (None without a gap or a figure)."""
    u, s = unsteered.aggregates, steered.aggregates
    if NO_INTERRUPT not in u or INTERRUPT not in u or INTERRUPT not in s:
        return None
    return recovery(
        metric_value(s[INTERRUPT], metric), metric_value(u[INTERRUPT], metric), metric_value(u[NO_INTERRUPT], metric)
    )


def compare_runs(
    a: RunResult,
    b: RunResult,
    metric: str = "correctness",
    condition: str = INTERRUPT,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
) -> PairedComparison:
    """B minus A on the rows both runs scored in `condition`, matched by (id, condition): exact McNemar p-value
    and a paired bootstrap interval of the difference. Needs per-item scores (not paper-reported results)."""
    m = _metric(metric)
    for name, run in (("A", a), ("B", b)):
        if not run.items:
            raise ZbbError(
                f"compare_runs: run {name} ({run.meta.model}, {run.provenance.kind}) has no per-item "
                "scores; paired comparison needs items"
            )
    rows_a = {(s.id, s.condition): m.flag(s) for s in a.items if s.condition == condition}
    rows_b = {(s.id, s.condition): m.flag(s) for s in b.items if s.condition == condition}
    shared = sorted(rows_a.keys() & rows_b.keys())
    if not shared:
        raise ZbbError(
            f"compare_runs: runs {a.meta.model!r} and {b.meta.model!r} share no {condition!r} rows "
            f"(A has {len(rows_a)}, B has {len(rows_b)})"
        )
    return paired_comparison(
        [rows_a[k] for k in shared], [rows_b[k] for k in shared], n_resamples=n_resamples, seed=seed
    )
