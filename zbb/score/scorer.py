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
from zbb.records import Clip, ItemScore, Provenance, Response, RunMeta, RunResult
from zbb.score.judge import Judge, JudgeInput, is_correct, make_judge
from zbb.score.metrics import aggregates_by_condition, breakdowns
from zbb.score.normalise import contains_subject, normalise_many, normaliser_id
from zbb.timing import ItemTiming

if TYPE_CHECKING:
    from zbb.dataset import ZbbDataset

Key = tuple[str, str]
TIMING_FIELDS = tuple(f.name for f in dataclasses.fields(ItemTiming))
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

    unknown = sorted(k for k in by_key if k not in clip_by_key or k[1] not in wanted)
    if unknown:
        raise SubmissionError(
            "responses for rows the dataset does not have",
            [Problem(f"[{c}/{i}]", f"no such row in the scored conditions {sorted(wanted)}") for i, c in unknown],
        )
    rows = [c for k, c in clip_by_key.items() if k[1] in wanted]
    if not rows:
        raise SubmissionError(
            "nothing to score", [Problem("responses", f"no dataset rows in conditions {sorted(wanted) or '(none)'}")]
        )
    missing = [k for k in ((c.id, c.condition) for c in rows) if k not in by_key]
    if missing and not allow_partial:
        raise SubmissionError(
            f"the submission lacks {len(missing)} of {len(rows)} rows (score anyway with "
            "--allow-partial: missing rows count as wrong)",
            [Problem(f"[{c}/{i}]", "no response for this row") for i, c in missing],
        )
    if missing and notes is not None:
        notes(f"--allow-partial: {len(missing)} of {len(rows)} rows have no response and are scored as wrong")

    judge_obj = make_judge(judge, **dict(judge_options or {}))
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
    verdict_by_key = {(j.id, j.condition): (j, v) for j, v in zip(inputs, verdicts, strict=True)}

    timings = timings or {}
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
                source=by_key[key].source,
                **common,
            )
        )

    from zbb import __version__

    provenance = Provenance(
        kind=provenance_kind,  # type: ignore[arg-type]
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
    return RunResult(
        meta=meta,
        provenance=provenance,
        aggregates=aggregates_by_condition(items),
        breakdowns=breakdowns(items),
        items=tuple(items),
    )


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
) -> RunResult:
    """Load a submission (folder, zip or FDB run folder) and score it against `dataset` (folder, Hub id or an
    open ZbbDataset). Loader warnings and partial-scoring notes go to `notes`."""
    from zbb.dataset import ZbbDataset, open_dataset
    from zbb.submission import load_submission

    ds = dataset if isinstance(dataset, ZbbDataset) else open_dataset(dataset)
    sub = load_submission(path, ds, asr=asr, allow_partial=allow_partial)
    if notes is not None:
        for w in sub.warnings:
            notes(f"warning: {w}")
    conditions = {c for (_, c) in sub.responses} | {c for (_, c) in sub.missing}
    clips = [clip for cond in ds.conditions() if cond in conditions for clip in ds.clips(cond)]
    return score_responses(
        sub.responses,
        clips,
        meta=sub.meta,
        judge=judge,
        judge_options=judge_options,
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
