"""The compact-column aggregates (`ScoreColumns`, what a streamed run keeps per row) equal the list-of-records
definitions they replaced, on real scored rows and on generated item sets.

The reference below is the list-based code as it stood before the columns (the plain reading of each metric);
the columns must give the very same records, floats included (Python sums of the same floats in row order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from hypothesis import given
from hypothesis import strategies as st

from zbb.conditions import CONDITIONS, INTERRUPT, INTERRUPT_BUFFERED
from zbb.records import ConditionAggregate, ItemScore, Timing, ValidInterruptions
from zbb.score import metrics
from zbb.score.metrics import BREAKDOWN_AXES, ScoreColumns
from zbb.stats import rate_of

# ------------------------------------------------------------------------------ reference (list of records)
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
    return (sum(present) / len(present) if present else None), len(present)


def ref_timing(items: Sequence[ItemScore]) -> Timing | None:
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


def ref_valid(items: Sequence[ItemScore]) -> ValidInterruptions | None:
    interrupting = (INTERRUPT, INTERRUPT_BUFFERED)
    if not any(s.condition in interrupting and s.talking_at_onset is not None for s in items):
        return None
    valid = [s for s in items if s.condition in interrupting and s.talking_at_onset]
    return ValidInterruptions(
        n=len(valid), correctness=rate_of([s.correct for s in valid]), iwor=rate_of([s.subject_hit for s in valid])
    )


def ref_aggregate(items: Sequence[ItemScore]) -> ConditionAggregate:
    return ConditionAggregate(
        n=len(items),
        correctness=rate_of([s.correct for s in items]),
        iwor=rate_of([s.subject_hit for s in items]),
        no_answer=rate_of([s.stance == "no_answer" for s in items]),
        timing=ref_timing(items),
        missing=sum(s.missing for s in items),
        valid_interruptions=ref_valid(items),
    )


def _ref_by_condition(items: Iterable[ItemScore]) -> dict[str, list[ItemScore]]:
    groups: dict[str, list[ItemScore]] = defaultdict(list)
    for s in items:
        groups[s.condition].append(s)
    order = {c: i for i, c in enumerate(CONDITIONS)}
    return {c: groups[c] for c in sorted(groups, key=lambda c: (order.get(c, len(order)), c))}


def ref_breakdowns(items: Iterable[ItemScore], axes: Sequence[str] = BREAKDOWN_AXES) -> dict:
    out: dict = {}
    for condition, rows in _ref_by_condition(items).items():
        out[condition] = {}
        for axis in axes:
            groups: dict[str, list[ItemScore]] = defaultdict(list)
            for s in rows:
                value = getattr(s, axis)
                if value is None:
                    continue
                groups[str(value).lower() if isinstance(value, bool) else str(value)].append(s)
            if groups:
                out[condition][axis] = {v: ref_aggregate(groups[v]) for v in sorted(groups)}
    return out


# -------------------------------------------------------------------------------------------- generated items
_seconds = st.none() | st.floats(min_value=-5, max_value=30, allow_nan=False) | st.integers(0, 9)
_items = st.builds(
    ItemScore,
    id=st.sampled_from(["a", "b", "c", "d"]),
    condition=st.sampled_from([*CONDITIONS, "extra"]),
    response=st.just(""),
    normalised=st.just(""),
    stance=st.sampled_from(["affirm", "deny", "no_answer"]),
    correct=st.booleans(),
    subject_hit=st.booleans(),
    missing=st.booleans(),
    label=st.none() | st.booleans(),
    category=st.none() | st.sampled_from(["animals", "food", "True", ""]),
    voice=st.none() | st.sampled_from(["heart", "kore"]),
    takeover=st.none() | st.booleans(),
    latency_s=_seconds,
    stop_latency_s=_seconds,
    talking_at_onset=st.none() | st.booleans(),
    answer_latency_s=_seconds,
    claim_stop_latency_s=_seconds,
)


@given(st.lists(_items, max_size=40))
def test_columns_give_the_aggregates_and_breakdowns_of_the_records(items):
    assert metrics.aggregates_by_condition(items) == {c: ref_aggregate(r) for c, r in _ref_by_condition(items).items()}
    assert metrics.breakdowns(items) == ref_breakdowns(items)
    assert metrics.aggregate(items) == ref_aggregate(items)
    assert metrics.timing_of(items) == ref_timing(items)
    assert metrics.valid_interruptions_of(items) == ref_valid(items)


@given(st.lists(_items, max_size=30), st.integers(1, 7))
def test_columns_added_chunk_by_chunk_equal_one_pass(items, chunk):
    columns = ScoreColumns()
    for start in range(0, len(items), chunk):
        columns.add(items[start : start + chunk])
    assert len(columns) == len(items)
    assert columns.aggregates_by_condition() == metrics.aggregates_by_condition(items)
    assert columns.breakdowns() == ref_breakdowns(items)


def test_columns_equal_the_records_on_scored_rows():
    """Real scored rows (the small dataset's claims, replies judged by the rule judge) with timings."""
    from test_score_helpers import make_clips

    from zbb.records import Response, RunMeta
    from zbb.score.scorer import score_responses
    from zbb.timing import ItemTiming

    clips = make_clips()
    replies = ["yes, that's right", "no way", "hmm", "what?", "yes the " + clips[0].subject.lower()]
    responses = [Response(c.id, c.condition, replies[i % len(replies)]) for i, c in enumerate(clips)]
    timings = {
        (c.id, c.condition): ItemTiming(
            takeover=i % 3 != 0,
            latency_s=0.1 * i,
            stop_latency_s=None if i % 4 == 0 else 0.37 * i,
            answer_latency_s=0.2 + i / 7,
            claim_stop_latency_s=i / 3,
            talking_at_onset=None if i % 5 == 0 else i % 2 == 0,
        )
        for i, c in enumerate(clips)
    }
    result = score_responses(responses, clips, meta=RunMeta(model="m"), timings=timings)
    items = list(result.items)
    assert any(a.timing is not None and a.timing.latency_n > 1 for a in result.aggregates.values())
    assert result.aggregates == {c: ref_aggregate(r) for c, r in _ref_by_condition(items).items()}
    assert result.breakdowns == ref_breakdowns(items)
    assert result.breakdowns[INTERRUPT]["label"].keys() == {"true", "false"}
