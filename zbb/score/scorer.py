"""Scoring: per-row verdicts (stance, correctness, subject hit) and the run's aggregates, with provenance.

`score_responses` works on records in memory (the dataset rows and the responses); `score_submission` loads a
submission folder/zip/FDB run through `zbb.submission` and scores it. Neither decodes any dataset audio.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from zbb.errors import Problem, SubmissionError
from zbb.gcpause import gc_paused
from zbb.records import Clip, ItemScore, Provenance, Response, RunMeta, RunResult
from zbb.score.judge import Judge, JudgeInput, Verdict, is_correct, make_judge
from zbb.score.metrics import ScoreColumns
from zbb.score.normalise import contains_subject, normalise_many, normaliser_id
from zbb.timing import ItemTiming

if TYPE_CHECKING:
    from zbb.dataset import ZbbDataset
    from zbb.submission import Submission
    from zbb.submission.files import Limits

Key = tuple[str, str]
#: rows normalised and judged at a time (see score_responses)
SCORE_CHUNK_ROWS = 50_000
TIMING_FIELDS = tuple(f.name for f in dataclasses.fields(ItemTiming))
#: Most rows a refusal lists (its summary gives the count): a million unknown rows make no readable message.
MAX_LISTED = 1000
MISSING_REASON = "missing: the submission has no output for this row (scored as wrong)"


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _index_responses(responses: Iterable[Response] | Mapping[Key, Response]) -> dict[Key, Response]:
    if isinstance(responses, Mapping):
        return dict(responses)
    out: dict[Key, Response] = {}
    duplicates: list[Problem] = []
    for r in responses:
        key = (r.id, r.condition)
        if key in out:
            duplicates.append(Problem(f"[{r.condition}/{r.id}]", "duplicate response for this row"))
        out[key] = r
    if duplicates:
        raise SubmissionError("responses hold duplicate rows", duplicates)
    return out


def _expect_rows(judge_obj: Judge, total: int) -> None:
    """Tell a judge that shows progress (the openai judge) how many rows it judges in all, over every chunk."""
    expect = getattr(judge_obj, "expect_rows", None)
    if callable(expect):
        expect(total)


def _judge_chunk(
    judge_obj: Judge, rows: list[Clip], by_key: Mapping[Key, Response]
) -> dict[Key, tuple[JudgeInput, Verdict]]:
    """Normalise and judge the rows among `rows` that `by_key` (their responses) answers: (judge input, verdict)
    by row key."""
    answered = [c for c in rows if (c.id, c.condition) in by_key]
    said = [by_key[(c.id, c.condition)].response for c in answered]
    inputs = [
        JudgeInput(
            id=c.id,
            condition=c.condition,
            claim=c.text,
            subject=c.subject,
            description=c.description,
            response=text,
            normalised=norm,
            aliases=c.aliases,
        )
        for c, text, norm in zip(answered, said, normalise_many(said), strict=True)
    ]
    verdicts = judge_obj.judge_many(inputs)
    if len(verdicts) != len(inputs):
        raise SubmissionError(
            "judge returned the wrong number of verdicts",
            [Problem(judge_obj.id, f"expected {len(inputs)} verdicts, got {len(verdicts)}")],
        )
    return {(j.id, j.condition): (j, v) for j, v in zip(inputs, verdicts, strict=True)}


def _score_chunk(
    judge_obj: Judge, rows: list[Clip], by_key: Mapping[Key, Response], timings: Mapping[Key, Any]
) -> list[ItemScore]:
    """The item scores of `rows` (a chunk): answered rows normalised and judged together, the others missing."""
    # The chunk's responses, each read once (a submission's responses may be read from its file when asked for).
    said = {key: by_key[key] for key in ((c.id, c.condition) for c in rows) if key in by_key}
    verdict_by_key = _judge_chunk(judge_obj, rows, said)
    items: list[ItemScore] = []
    for c in rows:
        key = (c.id, c.condition)
        t = timings.get(key)
        timing = {f: getattr(t, f, None) for f in TIMING_FIELDS}
        common: dict[str, Any] = dict(
            id=c.id, condition=c.condition, label=c.label, category=c.category, voice=c.voice, **timing
        )
        if key not in verdict_by_key:
            items.append(
                ItemScore(
                    response="",
                    normalised="",
                    stance="no_answer",
                    correct=False,
                    subject_hit=False,
                    judge_reason=MISSING_REASON,
                    missing=True,
                    source="missing",
                    **common,
                )
            )
            continue
        j, v = verdict_by_key[key]
        items.append(
            ItemScore(
                response=j.response,
                normalised=j.normalised,
                stance=v.stance,
                correct=is_correct(v.stance, c.label),
                subject_hit=contains_subject(c.subject, j.normalised, c.aliases),
                judge_reason=v.reason,
                source=said[key].source,
                **common,
            )
        )
    return items


def _check_coverage(
    by_key: Mapping[Key, Response],
    row_keys: Iterable[Key],
    has_row: Callable[[Key], bool],
    wanted: set[str],
    *,
    allow_partial: bool,
    notes: Callable[[str], None] | None,
) -> None:
    """Refuse responses for rows the dataset lacks (`has_row`) or outside the `wanted` conditions, and a
    submission lacking some of `row_keys` (the scored rows, in order) unless `allow_partial`."""
    unknown = sorted(k for k in by_key if k[1] not in wanted or not has_row(k))
    if unknown:
        raise SubmissionError(
            f"responses for {len(unknown)} rows the dataset does not have",
            [
                Problem(f"[{c}/{i}]", f"no such row in the scored conditions {sorted(wanted)}")
                for i, c in unknown[:MAX_LISTED]
            ],
        )
    rows = 0
    missing: list[Key] = []
    for key in row_keys:
        rows += 1
        if key not in by_key:
            missing.append(key)
    if not rows:
        raise SubmissionError(
            "nothing to score", [Problem("responses", f"no dataset rows in conditions {sorted(wanted) or '(none)'}")]
        )
    if missing and not allow_partial:
        raise SubmissionError(
            f"the submission lacks {len(missing)} of {rows} rows (score anyway with "
            "--allow-partial: missing rows count as wrong)",
            [Problem(f"[{c}/{i}]", "no response for this row") for i, c in missing[:MAX_LISTED]],
        )
    if missing and notes is not None:
        notes(f"--allow-partial: {len(missing)} of {rows} rows have no response and are scored as wrong")


def _provenance(
    judge_obj: Judge,
    dataset: ZbbDataset | None,
    kind: str,
    *,
    asr: str | None,
    asr_grade: str | None,
    source_url: str | None,
) -> Provenance:
    from zbb import __version__

    return Provenance(
        kind=kind,  # type: ignore[arg-type]
        zbb_version=__version__,
        dataset=getattr(dataset, "source", None),
        dataset_fingerprint=getattr(dataset, "fingerprint", None) or None,
        dataset_revision=getattr(dataset, "revision", None),
        normaliser=normaliser_id(),
        judge=judge_obj.id,
        asr=asr,
        asr_grade=asr_grade,
        scored_at=_utc_now(),
        source_url=source_url,
    )


@gc_paused()  # many long-lived records per row, no cycles: see zbb/gcpause.py
def score_responses(
    responses: Iterable[Response] | Mapping[Key, Response],
    clips: Iterable[Clip],
    *,
    meta: RunMeta,
    judge: str | Judge = "rule",
    judge_options: Mapping[str, Any] | None = None,
    provenance_kind: str = "self-reported",
    dataset: ZbbDataset | None = None,
    timings: Mapping[Key, Any] | None = None,
    conditions: Iterable[str] | None = None,
    allow_partial: bool = False,
    asr: str | None = None,
    asr_grade: str | None = None,
    source_url: str | None = None,
    notes: Callable[[str], None] | None = None,
) -> RunResult:
    """Score `responses` against the dataset rows `clips`.

    The scored conditions are `conditions`, or else those the responses cover; every row of those conditions in
    `clips` must have a response, unless `allow_partial` (then a missing row is scored wrong, counted in
    `ConditionAggregate.missing`, and reported through `notes`). A response for a row the dataset lacks is an
    error. `timings` maps (id, condition) to an object with the fields of zbb.timing.ItemTiming. `dataset` (a
    ZbbDataset) fills the dataset provenance. `provenance_kind` is "self-reported" unless the board's maintainers
    scored a model's raw outputs themselves ("reproduced"). `asr_grade` says whether the ASR that produced the
    replies is fit to be a reference ("reference" | "indicative"; None for transcripts).
    """
    by_key = _index_responses(responses)
    clip_by_key: dict[Key, Clip] = {}
    for c in clips:
        clip_by_key[(c.id, c.condition)] = c
    wanted = set(conditions) if conditions is not None else {cond for (_, cond) in by_key}
    _check_coverage(
        by_key,
        (k for k in clip_by_key if k[1] in wanted),
        clip_by_key.__contains__,
        wanted,
        allow_partial=allow_partial,
        notes=notes,
    )
    rows = [c for k, c in clip_by_key.items() if k[1] in wanted]
    judge_obj = make_judge(judge, **dict(judge_options or {}))
    _expect_rows(judge_obj, sum(1 for c in rows if (c.id, c.condition) in by_key))
    # In chunks, so that judge inputs and verdicts exist for one chunk at a time: memory beyond the rows, the
    # responses and the result's items stays bounded however many rows a submission has.
    items: list[ItemScore] = []
    for start in range(0, len(rows), SCORE_CHUNK_ROWS):
        items.extend(_score_chunk(judge_obj, rows[start : start + SCORE_CHUNK_ROWS], by_key, timings or {}))
    columns = ScoreColumns.of(items)
    return RunResult(
        meta=meta,
        provenance=_provenance(
            judge_obj, dataset, provenance_kind, asr=asr, asr_grade=asr_grade, source_url=source_url
        ),
        aggregates=columns.aggregates_by_condition(),
        breakdowns=columns.breakdowns(),
        items=tuple(items),
    )


def _load(
    path: str | os.PathLike,
    dataset: ZbbDataset | str | os.PathLike,
    *,
    asr: str,
    allow_partial: bool,
    notes: Callable[[str], None] | None,
    limits: Limits | None,
    condition: str | None = None,
) -> tuple[ZbbDataset, Submission, list[str]]:
    """The dataset, the loaded submission (loader warnings sent to `notes`) and the conditions to score, in
    dataset order."""
    from zbb.dataset import ZbbDataset, open_dataset
    from zbb.submission import load_submission

    ds = dataset if isinstance(dataset, ZbbDataset) else open_dataset(dataset)
    sub = load_submission(path, ds, asr=asr, allow_partial=allow_partial, limits=limits, condition=condition)
    if notes is not None:
        for w in sub.warnings:
            notes(f"warning: {w}")
    answered = {c for (_, c) in sub.responses} | {c for (_, c) in sub.missing}
    return ds, sub, [cond for cond in ds.conditions() if cond in answered]


def score_submission(
    path: str | os.PathLike,
    dataset: ZbbDataset | str | os.PathLike,
    *,
    judge: str | Judge = "rule",
    asr: str = "pocketsphinx",
    allow_partial: bool = False,
    judge_options: Mapping[str, Any] | None = None,
    provenance_kind: str = "self-reported",
    notes: Callable[[str], None] | None = None,
    limits: Limits | None = None,
    condition: str | None = None,
) -> RunResult:
    """Load a submission (folder, zip or FDB run folder) and score it against `dataset` (folder, Hub id or an
    open ZbbDataset). Loader warnings and partial-scoring notes go to `notes`; `limits` caps the submission
    (zbb.submission.Limits: rows, file sizes); `condition` names the condition of FDB run folders given without a
    condition level. `score_submission_to_file` writes the result as it scores."""
    judge_obj = make_judge(judge, **dict(judge_options or {}))  # a judge that cannot run says so before loading
    ds, sub, conditions = _load(
        path, dataset, asr=asr, allow_partial=allow_partial, notes=notes, limits=limits, condition=condition
    )
    clips = [clip for cond in conditions for clip in ds.clips(cond)]
    return score_responses(
        sub.responses,
        clips,
        meta=sub.meta,
        judge=judge_obj,  # made above: its options are spent
        provenance_kind=provenance_kind,
        dataset=ds,
        timings=sub.timings,
        conditions=conditions,
        allow_partial=allow_partial,
        asr=sub.asr,
        asr_grade=sub.asr_grade,
        source_url=sub.meta.paper_url,
        notes=notes,
    )


@gc_paused()  # as score_responses
def score_submission_to_file(
    path: str | os.PathLike,
    dataset: ZbbDataset | str | os.PathLike,
    out: str | os.PathLike,
    *,
    judge: str | Judge = "rule",
    asr: str = "pocketsphinx",
    allow_partial: bool = False,
    judge_options: Mapping[str, Any] | None = None,
    provenance_kind: str = "self-reported",
    notes: Callable[[str], None] | None = None,
    limits: Limits | None = None,
    condition: str | None = None,
) -> RunResult:
    """`score_submission`, writing the result file `out` as it scores (what `zbb score` does): the same file
    `save_result(score_submission(...), out)` writes, in memory that does not grow with the result.

    The dataset rows are read a chunk at a time, each chunk's item scores go straight into the file, and the
    aggregates come from compact columns (`ScoreColumns`). What stays per row is the loaded submission (checked
    whole before anything is scored; a transcript submission keeps its file's text and where each row's line is,
    and reads a chunk's responses from it), the dataset's row ids and those columns. `out` is replaced only by a
    complete file. Returns the result without its items.
    """
    from zbb.dataset import ZbbDataset
    from zbb.results import ResultWriter, check_result_path

    # Before any work: a folder, a device or a file of the submission or dataset given as `out` is refused now,
    # not after every row has been transcribed and scored.
    local = dataset.root if isinstance(dataset, ZbbDataset) else dataset
    check_result_path(out, keep=[path, *([local] if os.path.exists(local) else [])])
    judge_obj = make_judge(judge, **dict(judge_options or {}))  # a judge that cannot run says so before loading
    ds, sub, conditions = _load(
        path, dataset, asr=asr, allow_partial=allow_partial, notes=notes, limits=limits, condition=condition
    )
    by_key, timings = sub.responses, sub.timings
    row_sets = {cond: set(ds.row_ids(cond)) for cond in conditions}
    _check_coverage(
        by_key,
        ((i, cond) for cond in conditions for i in ds.row_ids(cond)),
        lambda k: k[0] in row_sets.get(k[1], ()),
        set(conditions),
        allow_partial=allow_partial,
        notes=notes,
    )
    row_sets.clear()  # only the check needs them
    _expect_rows(judge_obj, len(by_key))
    columns = ScoreColumns()
    with ResultWriter(out) as writer:
        for cond in conditions:
            for rows in ds.iter_clips(cond, SCORE_CHUNK_ROWS):
                items = _score_chunk(judge_obj, rows, by_key, timings)
                writer.add(items)
                columns.add(items)
                del rows, items  # before the next chunk is read: one chunk's records in memory at a time
        result = RunResult(
            meta=sub.meta,
            provenance=_provenance(
                judge_obj, ds, provenance_kind, asr=sub.asr, asr_grade=sub.asr_grade, source_url=sub.meta.paper_url
            ),
            aggregates=columns.aggregates_by_condition(),
            breakdowns=columns.breakdowns(),
        )
        writer.finish(result)
    return result
