"""Metrics: pure functions over lists of `ItemScore`, returning counts and rates (corpus figures from counts).

Compute once, derive many: `aggregate` turns one condition's item scores into a `ConditionAggregate`; gaps,
recovery and paired comparisons are thin functions over aggregates or items.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from zbb.conditions import CONDITIONS, INTERRUPT, INTERRUPT_BUFFERED, NO_INTERRUPT
from zbb.errors import ZbbError
from zbb.records import ConditionAggregate, ItemScore, Rate, RunResult, Timing, ValidInterruptions
from zbb.stats import PairedComparison, paired_comparison, recovery, wilson


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


_TIMING_FLOATS = ("latency_s", "stop_latency_s", "answer_latency_s", "claim_stop_latency_s")
_TIMING_FLAGS = ("takeover", "talking_at_onset")  # True / False / None
_TRI_STATE = {None: -1, False: 0, True: 1}


def _mean_n(values: list[float]) -> tuple[float | None, int]:
    return _mean(values), len(values)


def _group_value(value: object) -> str:
    """A breakdown group's name: `str(value)`, booleans lower-case ("true", "false")."""
    return str(value).lower() if isinstance(value, bool) else str(value)


class ScoreColumns:
    """What the aggregates read of scored rows, as compact columns (about 60 bytes a row, no texts).

    Rows are added as they are scored (`add`), so a streamed run needs no list of every `ItemScore`; the
    aggregates come out the same as from the records: means are Python sums of the same floats in row order.
    `axes` are the `ItemScore` fields breakdowns group by.
    """

    def __init__(self, axes: Sequence[str] = BREAKDOWN_AXES):
        self.axes = tuple(axes)
        self._names: list[dict[str, int]] = [{} for _ in range(1 + len(self.axes))]  # condition, then axes
        self._codes = [array("i") for _ in self._names]  # -1: no value (an axis field that is None)
        self._flags = {f: array("b") for f in ("correct", "subject_hit", "no_answer", "missing", *_TIMING_FLAGS)}
        self._values = {f: array("d") for f in _TIMING_FLOATS}
        self._present = {f: array("b") for f in _TIMING_FLOATS}

    @classmethod
    def of(cls, items: Iterable[ItemScore], axes: Sequence[str] = BREAKDOWN_AXES) -> ScoreColumns:
        columns = cls(axes)
        columns.add(items)
        return columns

    def __len__(self) -> int:
        return len(self._codes[0])

    def add(self, items: Iterable[ItemScore]) -> None:
        fields = ("condition", *self.axes)
        flags, values, present = self._flags, self._values, self._present
        for s in items:
            for names, codes, f in zip(self._names, self._codes, fields, strict=True):
                value = getattr(s, f)
                if value is None and f != "condition":
                    codes.append(-1)
                    continue
                codes.append(names.setdefault(_group_value(value) if f != "condition" else value, len(names)))
            flags["correct"].append(bool(s.correct))
            flags["subject_hit"].append(bool(s.subject_hit))
            flags["no_answer"].append(s.stance == "no_answer")
            flags["missing"].append(bool(s.missing))
            for f in _TIMING_FLAGS:
                flags[f].append(_TRI_STATE[getattr(s, f)])
            for f in _TIMING_FLOATS:
                value = getattr(s, f)
                present[f].append(value is not None)
                values[f].append(0.0 if value is None else value)

    # ------------------------------------------------------------------------------------------ figures
    def _arrays(self) -> tuple[list[np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        codes = [np.frombuffer(c, np.int32) if len(c) else np.zeros(0, np.int32) for c in self._codes]
        flags = {f: np.frombuffer(a, np.int8) if len(a) else np.zeros(0, np.int8) for f, a in self._flags.items()}
        values = {f: np.frombuffer(a, np.float64) if len(a) else np.zeros(0) for f, a in self._values.items()}
        present = {
            f: np.frombuffer(a, np.int8).astype(bool) if len(a) else np.zeros(0, bool) for f, a in self._present.items()
        }
        return codes, flags, values, present

    def aggregate(self, rows: np.ndarray | None = None) -> ConditionAggregate:
        """The aggregate of the rows at indices `rows` (all rows when None), as `aggregate` defines it."""
        codes, flags, values, present = self._arrays()
        if rows is None:
            rows = np.arange(len(self))
        return self._aggregate(rows, self._interrupt(codes[0]), flags, values, present)

    def _interrupt(self, conditions: np.ndarray) -> np.ndarray:
        """Which rows (given their condition codes) are of an interrupt condition."""
        names = self._names[0]
        return np.isin(conditions, [names[c] for c in INTERRUPT_CONDITIONS if c in names])

    def _aggregate(
        self,
        rows: np.ndarray,
        interrupt: np.ndarray,
        flags: dict[str, np.ndarray],
        values: dict[str, np.ndarray],
        present: dict[str, np.ndarray],
    ) -> ConditionAggregate:
        n = len(rows)

        def rate(column: np.ndarray) -> Rate:
            return wilson(int(np.count_nonzero(column)), len(column))

        takeover, onset = flags["takeover"][rows], flags["talking_at_onset"][rows]
        there = {f: present[f][rows] for f in _TIMING_FLOATS}
        measured = (takeover >= 0) | (onset >= 0)
        for f in _TIMING_FLOATS:
            measured |= there[f]
        timing = None
        if measured.any():

            def mean_n(f: str, where: np.ndarray) -> tuple[float | None, int]:
                return _mean_n(values[f][rows][where & there[f]].tolist())

            latency, latency_n = mean_n("latency_s", measured & (takeover == 1))
            stop, stop_n = mean_n("stop_latency_s", measured)
            answer, answer_n = mean_n("answer_latency_s", measured)
            claim_stop, claim_stop_n = mean_n("claim_stop_latency_s", measured)
            timing = Timing(
                n_measured=int(np.count_nonzero(measured)),
                takeover=rate(takeover[takeover >= 0] == 1) if (takeover >= 0).any() else None,
                latency_s=latency,
                latency_n=latency_n,
                stop_latency_s=stop,
                stop_latency_n=stop_n,
                answer_latency_s=answer,
                answer_latency_n=answer_n,
                claim_stop_latency_s=claim_stop,
                claim_stop_latency_n=claim_stop_n,
                talking_at_onset=rate(onset[onset >= 0] == 1) if (onset >= 0).any() else None,
            )
        valid = None
        in_interrupt = interrupt[rows]
        if (in_interrupt & (onset >= 0)).any():
            talking = in_interrupt & (onset == 1)
            valid = ValidInterruptions(
                n=int(np.count_nonzero(talking)),
                correctness=rate(flags["correct"][rows][talking]),
                iwor=rate(flags["subject_hit"][rows][talking]),
            )
        return ConditionAggregate(
            n=n,
            correctness=rate(flags["correct"][rows]),
            iwor=rate(flags["subject_hit"][rows]),
            no_answer=rate(flags["no_answer"][rows]),
            timing=timing,
            missing=int(np.count_nonzero(flags["missing"][rows])),
            valid_interruptions=valid,
        )

    def _conditions(self, codes: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """(condition, its row indices), given the rows' condition codes, in CONDITIONS order, then other
        conditions by name."""
        order = {c: i for i, c in enumerate(CONDITIONS)}
        names = sorted(self._names[0], key=lambda c: (order.get(c, len(order)), c))
        return [(c, np.flatnonzero(codes == self._names[0][c])) for c in names]

    def aggregates_by_condition(self) -> dict[str, ConditionAggregate]:
        codes, flags, values, present = self._arrays()
        interrupt = self._interrupt(codes[0])
        return {c: self._aggregate(rows, interrupt, flags, values, present) for c, rows in self._conditions(codes[0])}

    def breakdowns(self) -> dict[str, dict[str, dict[str, ConditionAggregate]]]:
        """Per condition, per axis, per value (sorted): the aggregate of those rows; rows without a value are left
        out, and an axis no row has a value of."""
        codes, flags, values, present = self._arrays()
        interrupt = self._interrupt(codes[0])
        out: dict[str, dict[str, dict[str, ConditionAggregate]]] = {}
        for condition, rows in self._conditions(codes[0]):
            out[condition] = {}
            for axis, names, column in zip(self.axes, self._names[1:], codes[1:], strict=True):
                in_condition = column[rows]
                groups = {name: rows[in_condition == code] for name, code in names.items()}
                groups = {name: at for name, at in groups.items() if len(at)}
                if groups:
                    out[condition][axis] = {
                        v: self._aggregate(groups[v], interrupt, flags, values, present) for v in sorted(groups)
                    }
        return out


def timing_of(items: Sequence[ItemScore]) -> Timing | None:
    """Timing over the rows that have any (None when no row has): rates and means, each mean with its n.

    FDB's latency averages over take-over rows and its stop latency over rows with an overlap (as FDB's scripts
    do); zbb's answer latency over take-over rows, its claim stop latency over every row with audio."""
    return ScoreColumns.of(items).aggregate().timing


def valid_interruptions_of(items: Sequence[ItemScore]) -> ValidInterruptions | None:
    """Correctness and IWOR on the interrupt rows where the model was talking at the claim's onset; None for a
    condition without interruptions or without audio (nothing says whether the model was talking)."""
    return ScoreColumns.of(items).aggregate().valid_interruptions


def aggregate(items: Sequence[ItemScore]) -> ConditionAggregate:
    """Corpus figures of a set of scored rows (normally one condition of one run)."""
    return ScoreColumns.of(items).aggregate()


def aggregates_by_condition(items: Iterable[ItemScore]) -> dict[str, ConditionAggregate]:
    return ScoreColumns.of(items).aggregates_by_condition()


def breakdowns(
    items: Iterable[ItemScore], axes: Sequence[str] = BREAKDOWN_AXES
) -> dict[str, dict[str, dict[str, ConditionAggregate]]]:
    """Per condition, per axis (category, voice, label), per value: the aggregate of those rows."""
    return ScoreColumns.of(items, axes).breakdowns()


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
