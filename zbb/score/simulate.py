"""Simulated listeners: reference runs that miss the first d ms of every interruption.

A listener that misses d ms hears a claim word when at least `HEARD_FRACTION` of it (by the dataset's
`claim_words` timings) lies after the interruption's onset + d. With the default 0.5 (its midpoint is after the
cut) a 200 ms miss loses short subjects but not long ones, so the curve falls gradually; 1.0 would be the
strict "word starts after onset + d" rule, under which any d > 0 loses every subject (the subject word starts
exactly at the onset, zero buffer). If it heard the subject it answers the claim correctly, phrased
like a model would ("yes, submarine travels under the sea" / "no, that's not right about the submarine");
otherwise it asks back ("sorry, what was that?"). The miss applies to `interrupt`; `no_interrupt` is heard fully;
in `interrupt_buffered` the spoken filler absorbs the miss (the onset is the filler's onset).

The listeners write ordinary transcript submissions (meta.json + responses.jsonl), scored by the normal loader
and scorer with provenance kind "simulation". They bound what a model that answers perfectly but suffers d ms
of state inertia could score, and check the whole pipeline end to end.
"""

from __future__ import annotations

import functools
import json
import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from zbb.conditions import INTERRUPT, INTERRUPT_BUFFERED
from zbb.io import atomic_write_json, atomic_write_text
from zbb.records import Clip, Response, RunMeta, RunResult, WordTiming
from zbb.score.normalise import contains_subject, normalise

if TYPE_CHECKING:
    from zbb.dataset import ZbbDataset
    from zbb.score.judge import Judge

DELAYS_MS: tuple[int, ...] = (0, 200, 400, 600)
#: Share of a word that must fall after the cut for the listener to catch it.
HEARD_FRACTION = 0.5
#: Recorded in each listener's `decoding`; bumped whenever the listener's replies change, so `zbb demo` rescores.
#: 2: the subject counts as heard only when its own words are (not an alias inside the description), and an
#: ask-back never echoes words the judge reads as a stance.
LISTENER_VERSION = 2

_YES = ("yes, {s} {d}", "yeah, that's right, {s} {d}", "yes, that's true about the {s}")
_NO = ("no, that's not right about the {s}", "no, that's not true, not the {s}", "nope, the {s}? that's wrong")
_LOST = (
    "sorry, what was that?",
    "sorry, I didn't catch that, could you say it again?",
    "what?",
    "sorry, what {heard}?",
)


def _pick(options: tuple[str, ...], clip: Clip, delay_ms: int) -> str:
    return options[zlib.crc32(f"{clip.id}/{clip.condition}/{delay_ms}".encode()) % len(options)]


def listening_start_s(clip: Clip, delay_ms: int) -> float:
    """From when (seconds from the start of the row audio) the listener hears the user on this row."""
    if clip.condition == INTERRUPT:
        return clip.onset_s + delay_ms / 1000
    if clip.condition == INTERRUPT_BUFFERED and clip.buffer_onset_s is not None:
        return clip.buffer_onset_s + delay_ms / 1000
    return float("-inf")  # no_interrupt: the listener is listening when the claim starts


def _word_heard(word: WordTiming, start: float, fraction: float) -> bool:
    """At least `fraction` of the word lies after `start` (1 µs slack for rounded times)."""
    return word.end - max(word.start, start) >= fraction * (word.end - word.start) - 1e-6


def heard_words(clip: Clip, delay_ms: int, fraction: float = HEARD_FRACTION) -> list[str]:
    """The claim words of which at least `fraction` lies after the listener starts hearing."""
    start = listening_start_s(clip, delay_ms)
    if clip.claim_words:
        return [w.word for w in clip.claim_words if _word_heard(w, start, fraction)]
    # No word times: all we know is where the subject starts (the claim's onset, zero buffer).
    return clip.text.split() if clip.onset_s >= start - 1e-6 else []


def heard_subject(clip: Clip, delay_ms: int, fraction: float = HEARD_FRACTION) -> bool:
    """The listener heard the subject itself: every word of it, the first words of the claim. Not "some spelling of
    the subject occurs among the heard words": a description may hold an alias of the subject ("Blueberry is a
    small blue berry", alias "blue berry"), and hearing the description is not hearing the first word."""
    start = listening_start_s(clip, delay_ms)
    if clip.claim_words:
        subject = clip.claim_words[: len(clip.subject.split())]
        return all(_word_heard(w, start, fraction) for w in subject)
    return clip.onset_s >= start - 1e-6


@functools.cache
def _rule_judge() -> Judge:
    from zbb.score.judge import make_judge

    return make_judge("rule")


def _asks_back(clip: Clip, reply: str) -> bool:
    """`reply` names no form of the subject and the default judge reads it as no answer (an echoed description
    word such as "sure" in "makes sure players follow the rules" would read as agreeing)."""
    from zbb.score.judge import JudgeInput

    text = normalise(reply)
    if contains_subject(clip.subject, text, clip.aliases):
        return False
    row = JudgeInput(clip.id, clip.condition, clip.text, clip.subject, clip.description, reply, text, clip.aliases)
    return _rule_judge().judge_many([row])[0].stance == "no_answer"


def listener_reply(clip: Clip, delay_ms: int) -> str:
    if heard_subject(clip, delay_ms):
        template = _pick(_YES if clip.label else _NO, clip, delay_ms)
        return template.format(s=clip.subject.lower(), d=clip.description.rstrip(".?!").lower())
    template = _pick(_LOST, clip, delay_ms)
    # Echo back only description words it caught ("sorry, what flies in the clouds?"), never the confirmation
    # ("right?"), which would read as an answer; and never an echo that names the subject or reads as a stance.
    description = set(normalise(clip.description).split())
    words = heard_words(clip, delay_ms)
    heard = " ".join([w for w in (normalise(w) for w in words) if w and w in description][:6])
    if "{heard}" in template and not (heard and _asks_back(clip, template.format(heard=heard))):
        template = _LOST[0]
    return template.format(heard=heard)


def listener_meta(delay_ms: int, dataset: ZbbDataset | None = None) -> RunMeta:
    return RunMeta(
        model=f"Simulated listener (misses {delay_ms} ms)",
        model_family="simulation",
        decoding={"missed_ms": delay_ms, "listener": LISTENER_VERSION},
        dataset=getattr(dataset, "fingerprint", None) or None,
        notes=(
            f"Misses the first {delay_ms} ms after the interruption onset: hears a claim word when at least "
            f"{HEARD_FRACTION:.0%} of it falls after the cut (no_interrupt: everything; interrupt_buffered: the cut "
            "starts at the filler onset); answers correctly if it heard the subject's own words, "
            "otherwise asks back. A reference for what d ms of state inertia costs."
        ),
    )


def simulate_responses(clips: list[Clip], delay_ms: int) -> list[Response]:
    return [Response(id=c.id, condition=c.condition, response=listener_reply(c, delay_ms)) for c in clips]


def write_submission(dataset: ZbbDataset, out_dir: str | os.PathLike, delay_ms: int) -> Path:
    """Write one listener's transcript submission folder (meta.json + responses.jsonl) for every dataset row."""
    folder = Path(out_dir)
    clips = [c for cond in dataset.conditions() for c in dataset.clips(cond)]
    atomic_write_json(
        folder / "meta.json", {k: v for k, v in listener_meta(delay_ms, dataset).to_dict().items() if v is not None}
    )
    lines = (
        json.dumps({"id": r.id, "condition": r.condition, "response": r.response}, ensure_ascii=False)
        for r in simulate_responses(clips, delay_ms)
    )
    atomic_write_text(folder / "responses.jsonl", "\n".join(lines) + "\n")
    return folder


def simulate_all(
    dataset: ZbbDataset | str | os.PathLike, out_dir: str | os.PathLike, delays_ms: tuple[int, ...] = DELAYS_MS
) -> list[Path]:
    """One submission folder per delay under `out_dir` (`listener-<d>ms/`). `dataset`: folder, Hub id or ZbbDataset."""
    ds = _open(dataset)
    return [write_submission(ds, Path(out_dir) / f"listener-{d}ms", d) for d in delays_ms]


def _open(dataset: ZbbDataset | str | os.PathLike) -> ZbbDataset:
    from zbb.dataset import ZbbDataset, open_dataset  # noqa: F811 - at run time, not only for the checker

    return dataset if isinstance(dataset, ZbbDataset) else open_dataset(dataset)


def _without_date(data: object) -> object:
    if isinstance(data, dict) and isinstance(data.get("provenance"), dict):
        data = {**data, "provenance": {k: v for k, v in data["provenance"].items() if k != "scored_at"}}
    return data


def save_if_changed(result: RunResult, path: str | os.PathLike) -> bool:
    """Save `result` at `path` unless the file there already holds the same result apart from `scored_at` (then it
    is left as it is, so re-scoring an unchanged run does not rewrite a committed file for its date). True when
    written."""
    from zbb.results import RESULT_KIND, save_result

    path = Path(path)
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None  # missing or unreadable: written afresh
    new = json.loads(json.dumps({"kind": RESULT_KIND, **result.to_dict()}))
    if old is not None and _without_date(old) == _without_date(new):
        return False
    save_result(result, path)
    return True


def score_simulations(
    dataset: ZbbDataset | str | os.PathLike,
    submission_dirs: list[Path],
    results_dir: str | os.PathLike = "submissions",
    *,
    judge: str = "rule",
    log: Callable[[str], object] | None = None,
) -> list[Path]:
    """Score listener submissions with the normal loader and scorer (provenance "simulation"); save the results
    as `<results_dir>/<run_id>.json` and return their paths. A file that already holds the same result apart from
    its date is kept (`save_if_changed`); `log` hears "wrote PATH" or "kept PATH (...)" for each."""
    from zbb.score.scorer import score_submission

    ds = _open(dataset)
    paths = []
    for folder in submission_dirs:
        result = score_submission(folder, ds, judge=judge, provenance_kind="simulation")
        path = Path(results_dir) / f"{result.run_id}.json"
        written = save_if_changed(result, path)
        if log is not None:
            log(f"wrote {path}" if written else f"kept {path} (unchanged apart from scored_at)")
        paths.append(path)
    return paths


def simulate_and_score(
    dataset: ZbbDataset | str | os.PathLike,
    work_dir: str | os.PathLike,
    results_dir: str | os.PathLike = "submissions",
    delays_ms: tuple[int, ...] = DELAYS_MS,
    *,
    judge: str = "rule",
) -> list[Path]:
    """The demo's path: write the listeners' submissions under `work_dir`, score them into `results_dir`."""
    ds = _open(dataset)
    return score_simulations(ds, simulate_all(ds, work_dir, delays_ms), results_dir, judge=judge)


def curve_table(results: Sequence[RunResult]) -> str:
    """Markdown table: missed ms vs IWOR and correctness per condition, from scored listener results."""
    rows = sorted(results, key=lambda r: r.meta.decoding.get("missed_ms", 0))
    conds = [c for c in ("no_interrupt", "interrupt", "interrupt_buffered") if any(c in r.aggregates for r in rows)]
    head = ["missed ms"] + [f"{c} IWOR / correct" for c in conds]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [str(r.meta.decoding.get("missed_ms"))]
        for c in conds:
            a = r.aggregates.get(c)
            cells.append("-" if a is None else f"{a.iwor.rate:.2f} / {a.correctness.rate:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
