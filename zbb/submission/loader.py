"""Load a submission (folder or .zip) against a dataset: check everything, then transcribe audio if there is any.

Three layouts are accepted (docs/SUBMISSION.md):

    meta.json + responses.jsonl                     transcripts, one line per (id, condition)
    meta.json + audio/<condition>/<id>.wav          the model's output channel, time-locked to the user audio
    meta.json + [<condition>/]<id>/output.wav       Full-Duplex-Bench run folders (+ optional output.json)

Checking is one pass that collects every problem; a submission with any problem raises `SubmissionError`
listing all of them, so nothing half-loaded ever reaches the scorer.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from zbb.conditions import check_names
from zbb.errors import AudioError, Problem, SubmissionError
from zbb.gcpause import gc_paused
from zbb.io import JsonInputError, jsonl_line, jsonl_objects_at, read_json
from zbb.records import Clip, Response, RunMeta, WordTiming
from zbb.submission.files import FileTooLarge, Limits, SubmissionFiles
from zbb.timing import ItemTiming, item_timing, segments_from_runs, vad_segments_from_runs, voiced_runs

if TYPE_CHECKING:
    from zbb.asr.base import AsrEngine
    from zbb.dataset import ZbbDataset

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
FDB_FILES = ("output.wav", "output.json")
# FDB sample files, and what FDB's scripts write, that may sit beside outputs
FDB_IGNORED = (
    "input.wav",
    "interrupt.json",
    "clean_input.wav",
    "metadata.json",
    "rating.json",
    "latency_intervals.json",
)
LENGTH_TOLERANCE_S = 0.1  # output audio may differ this much from the user audio before a warning
# Output audio longer than the user audio by more than max(MIN_S, SHARE x its length) is refused from its header.
LENGTH_REFUSE_MIN_S = 5.0
LENGTH_REFUSE_SHARE = 0.5
MAX_CHANNELS = 2
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 384_000
ASR_MARGIN_S = 0.3  # decode this much before the first and past the last voiced sample

Key = tuple[str, str]  # (id, condition)
#: Where each row was given: a file, or (an int) the line of responses.jsonl, made a location only when shown (a
#: "file:line" string per row was a quarter of a million-row submission's memory while it loaded).
Seen = dict[Key, str | int]


def _place(files: SubmissionFiles, at: str | int) -> str:
    return f"{files.where('responses.jsonl')}:{at}" if isinstance(at, int) else at


@dataclass
class Submission:
    """A checked submission, ready to score. `responses`/`timings` are keyed by (id, condition)."""

    source: str
    layout: str  # "transcript" | "audio" | "fdb"
    meta: RunMeta
    responses: Mapping[Key, Response]  # transcripts: read from the checked file's text when asked for
    timings: dict[Key, ItemTiming] = field(default_factory=dict)
    missing: list[Key] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    asr: str | None = None  # engine + model id when audio was transcribed here
    asr_grade: str | None = None  # "reference" | "indicative" (the weakest engine used); None: no ASR here

    def conditions(self) -> list[str]:
        return sorted({c for _, c in self.responses})


@dataclass
class _AudioRow:
    key: Key
    rel: str  # output audio file
    json_rel: str | None  # FDB output.json beside it (its words are used instead of ASR)


@dataclass
class _Inspection:
    """Everything learnt from one checking pass."""

    layout: str = "transcript"
    meta: RunMeta | None = None
    lines: Mapping[Key, Response] = field(default_factory=dict)
    words: dict[Key, tuple[WordTiming, ...]] = field(default_factory=dict)  # of the lines that give word times
    word_rows: dict[Key, Clip] = field(default_factory=dict)  # the dataset rows of those lines
    audio: dict[Key, _AudioRow] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    missing: list[Key] = field(default_factory=list)
    stopped: bool = False  # checking stopped at Limits.max_problems


# ------------------------------------------------------------------------------------------------ JSON files
def _read_text(files: SubmissionFiles, rel: str, problems: list[Problem]) -> str | None:
    where = files.where(rel)
    try:
        data = files.read(rel)
    except FileTooLarge as exc:
        problems.append(Problem(where, str(exc)))
        return None
    except OSError as exc:
        problems.append(Problem(where, f"unreadable ({exc})"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(f"{where}:{line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")
        )
        return None


def _read_meta(files: SubmissionFiles, ins: _Inspection) -> None:
    from pydantic import ValidationError

    from zbb.submission.schema import MetaModel, describe_errors

    if "meta.json" not in files.paths():
        ins.problems.append(Problem(files.name, 'no meta.json (expected {"model": ..., ...}; see docs/SUBMISSION.md)'))
        return
    text = _read_text(files, "meta.json", ins.problems)
    if text is None:
        return
    where = files.where("meta.json")
    try:
        data = read_json(text, where)
    except JsonInputError as exc:
        ins.problems.append(Problem(exc.where, exc.message))
        return
    if not isinstance(data, dict):
        ins.problems.append(Problem(where, f"expected a JSON object, got {type(data).__name__}"))
        return
    try:
        ins.meta = MetaModel.model_validate(data).to_record()
    except ValidationError as exc:
        ins.problems.extend(Problem(where, m) for m in describe_errors(exc))


def _shown(text: str, limit: int = 80) -> str:
    """Untrusted text as it appears in a message: repr, cut to `limit` characters."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def _as_item(text: str) -> str:
    """An id or condition from a submission as a message shows it where it names the row: as given when every
    character is printable, else escaped (`_shown`), so that no line break, terminal escape or bidi control in it
    can forge or hide lines of the error."""
    return text if text.isprintable() else _shown(text)


class JsonlResponses(Mapping[Key, Response]):
    """The responses of a checked responses.jsonl by (id, condition), each read from the file's text when asked
    for. Only the text and where each row's line starts are kept: a Response per row, held from loading to
    scoring, took several times the memory of its line (a million-row submission). A line is read back with plain
    `json.loads`: the loader has already checked it (strict JSON, the schema), and its word times are kept apart
    (`words`, the few lines that give them), so reading it back costs a JSON parse, not a second validation."""

    def __init__(self, text: str, name: str, words: Mapping[Key, tuple[WordTiming, ...]]):
        self._text = text
        self._name = name
        self._words = words
        self._at: dict[Key, int] = {}

    def add(self, key: Key, offset: int) -> None:
        self._at[key] = offset

    def __getitem__(self, key: Key) -> Response:
        import json

        reply = json.loads(jsonl_line(self._text, self._at[key]))["response"]
        return Response(id=key[0], condition=key[1], response=reply.strip(), words=self._words.get(key))

    def __contains__(self, key: object) -> bool:
        return key in self._at

    def __iter__(self) -> Iterator[Key]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


#: The start of a line that holds more than whitespace (a blank line holds no row: zbb.io.jsonl_objects skips it).
_ROW_LINE = re.compile(r"^[^\S\n]*\S", re.M)


def _rows_in(text: str) -> int:
    """How many lines of `text` are not blank (whitespace only), without a list of its lines."""
    return sum(1 for _ in _ROW_LINE.finditer(text))


@gc_paused()  # a record or two per line, no cycles: see zbb/gcpause.py
def _read_responses(files: SubmissionFiles, ins: _Inspection, seen: Seen) -> None:
    from pydantic import ValidationError

    from zbb.submission.schema import MAX_ID_CHARS, MAX_NAME_CHARS, ResponseLine, describe_errors

    text = _read_text(files, "responses.jsonl", ins.problems)
    if text is None:
        return
    base = files.where("responses.jsonl")
    lines = text.count("\n") + (not text.endswith("\n"))
    # Counted before parsing (refusing costs no more than reading); blank lines, which hold no row, are counted
    # out only when the quick count is over the limit.
    if lines > files.limits.max_rows and (rows := _rows_in(text)) > files.limits.max_rows:
        ins.problems.append(
            Problem(
                base,
                f"holds {rows} rows (non-blank lines); the limit is {files.limits.max_rows} rows "
                "(Limits.max_rows; zbb score/validate --max-rows raises it)",
            )
        )
        return
    cap = files.limits.max_reply_chars
    kept = ins.lines = JsonlResponses(text, base, ins.words)
    if not text or text.isspace():  # only blank lines: refused naming the file (was "nothing to score", validate OK)
        ins.problems.append(Problem(base, "holds no rows; expected one JSON object per row (see docs/SUBMISSION.md)"))
        return
    for lineno, offset, data in jsonl_objects_at(text, base, ins.problems, max_problems=files.limits.max_problems):
        if _stopped(files, ins):
            return
        where = f"{base}:{lineno}"
        raw_id, raw_condition = data.get("id"), data.get("condition")
        item = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID_CHARS else None
        label = f"{where} [{_as_item(item)}]" if item else where
        if item and isinstance(raw_condition, str) and len(raw_condition) <= MAX_NAME_CHARS:
            seen.setdefault((item, raw_condition), lineno)  # present, if bad: not also reported missing
        reply = data.get("response")
        if isinstance(reply, str) and len(reply) > cap:
            ins.problems.append(
                Problem(label, f"response is {len(reply)} characters; the limit is {cap} (Limits.max_reply_chars)")
            )
            continue
        try:
            line = ResponseLine.model_validate(data)
        except ValidationError as exc:
            ins.problems.extend(Problem(label, m) for m in describe_errors(exc))
            continue
        key = (line.id, line.condition)
        if seen.get(key, lineno) != lineno:
            ins.problems.append(
                Problem(
                    f"{where} [{_as_item(line.id)}]",
                    f"duplicate row ({_as_item(line.id)}, {_as_item(line.condition)}); first given at "
                    f"{_place(files, seen[key])}",
                )
            )
            continue
        kept.add((line.id, sys.intern(line.condition)), offset)  # one string per condition, not one per row
        if line.words is not None:
            ins.words[key] = tuple(w.to_record() for w in line.words)


def _stopped(files: SubmissionFiles, ins: _Inspection) -> bool:
    """Whether enough problems were found to stop checking (Limits.max_problems)."""
    if len(ins.problems) < files.limits.max_problems:
        return False
    if not ins.stopped:
        ins.stopped = True
        ins.problems.append(
            Problem(
                files.name,
                f"checking stopped after {files.limits.max_problems} problems (Limits.max_problems); "
                "fix these and check again",
            )
        )
    return True


# ----------------------------------------------------------------------------------------------- layout
def _classify(
    files: SubmissionFiles, ins: _Inspection, condition: str | None, dataset_conditions: list[str], seen: Seen
) -> None:
    """Sort every path into a layout; unknown files are warnings, mixed layouts a problem."""
    layouts: set[str] = set()
    fdb_rows: dict[Key, dict[str, str]] = {}
    bare_fdb: list[str] = []
    for rel in files.paths():
        parts = PurePosixPath(rel).parts
        suffix = PurePosixPath(rel).suffix.lower()
        if rel == "meta.json":
            continue
        if rel == "responses.jsonl":
            layouts.add("transcript")
        elif len(parts) == 3 and parts[0] == "audio" and suffix in AUDIO_SUFFIXES:
            layouts.add("audio")
            key = (PurePosixPath(parts[2]).stem, parts[1])
            if key in seen:
                ins.problems.append(
                    Problem(files.where(rel), f"duplicate row {key}: also given as {_place(files, seen[key])}")
                )
                continue
            seen[key] = files.where(rel)
            ins.audio[key] = _AudioRow(key=key, rel=rel, json_rel=None)
        elif parts[-1] in FDB_FILES and len(parts) in (2, 3):
            layouts.add("fdb")
            if len(parts) == 3:
                key = (parts[1], parts[0])
            else:
                bare_fdb.append(rel)
                cond = condition or (dataset_conditions[0] if len(dataset_conditions) == 1 else None)
                if cond is None:
                    continue
                key = (parts[0], cond)
            fdb_rows.setdefault(key, {})[parts[-1]] = rel
        elif parts[-1] in FDB_IGNORED or rel.lower() in ("readme.md", "readme.txt", "license"):
            continue
        else:
            ins.warnings.append(
                Problem(
                    files.where(rel),
                    "ignored: not part of any submission layout "
                    "(meta.json, responses.jsonl, audio/<condition>/<id>.wav, <id>/output.wav)",
                )
            )
    if bare_fdb and condition is None and len(dataset_conditions) != 1:
        ins.problems.append(
            Problem(
                files.where(bare_fdb[0]),
                f"{len(bare_fdb)} FDB run file(s) sit in <id>/ folders "
                "without a condition level: pass the condition (--condition "
                f"{'|'.join(dataset_conditions)}) or put them under <condition>/<id>/",
            )
        )
    for key, found in sorted(fdb_rows.items()):
        rel = found.get("output.wav") or found["output.json"]
        ins.audio[key] = _AudioRow(key=key, rel=found.get("output.wav", ""), json_rel=found.get("output.json"))
        seen[key] = files.where(rel)
    if len(layouts) > 1:
        ins.problems.append(
            Problem(
                files.name,
                f"mixes layouts {sorted(layouts)}; a submission holds exactly one of "
                "responses.jsonl, audio/<condition>/<id>.wav or FDB <id>/output.wav folders",
            )
        )
    elif not layouts and "meta.json" in files.paths() and not files.problems:
        ins.problems.append(
            Problem(
                files.name,
                "no responses: expected responses.jsonl, audio/<condition>/<id>.wav or FDB <id>/output.wav folders",
            )
        )
    ins.layout = next(iter(layouts)) if len(layouts) == 1 else "transcript"


#: Unknown ids and conditions get a did-you-mean for the first few only: a search per line made refusing a file of
#: unknown ids take far longer than checking a valid one.
MAX_SUGGESTIONS = 5


def _suggest(word: str, choices: Collection[str], budget: list[int]) -> str:
    """A did-you-mean for `word` among `choices`, while `budget` lasts. `choices` are sorted here, only then: sorting
    a condition's ids for every unknown id was 40% of refusing a file of unknown ids (20k-row dataset)."""
    if budget[0] <= 0:
        return ""
    budget[0] -= 1
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _longest_output_s(clip: Clip) -> float:
    """How long a model's output on `clip` may run: its output channel is time-locked to the user audio; some
    slack (as for output audio, refused past the same point) for runs that kept generating a little longer."""
    return clip.duration_s + max(LENGTH_REFUSE_MIN_S, LENGTH_REFUSE_SHARE * clip.duration_s)


def _word_time_problem(words: tuple[WordTiming, ...] | None, clip: Clip) -> str | None:
    """Why a row's word times cannot be on this clip (past the end of any output on it), or None."""
    limit = _longest_output_s(clip)
    for w in words or ():
        if w.end > limit or w.start > limit:
            return (
                f"word {_shown(w.word, 40)} at {w.start:g}-{w.end:g} s is outside the clip (the user audio is "
                f"{clip.duration_s:g} s; output may run to {limit:g} s); word times are seconds from the start "
                "of the row's user audio"
            )
    return None


def _check_against_dataset(
    dataset: ZbbDataset, ins: _Inspection, seen: Seen, allow_partial: bool, files: SubmissionFiles
) -> None:
    conditions = dataset.conditions()
    answered: dict[str, set[str]] = {}
    row_ids: dict[str, set[str]] = {}  # per condition, built once: a set per response line made checking quadratic
    budget = [MAX_SUGGESTIONS]
    # the rows whose lines give word times, read in one pass per condition (not every row of it kept as a Clip)
    for cond in sorted({c for (_, c) in ins.words} & set(conditions)):
        found = dataset.rows_by_id(cond, [i for (i, c) in ins.words if c == cond])
        ins.word_rows.update(((i, cond), clip) for i, clip in found.items())
    for (item, cond), at in sorted(seen.items()):
        if _stopped(files, ins):
            return
        where = _place(files, at)
        if cond not in conditions:
            hint = _suggest(cond, conditions, budget)
            ins.problems.append(
                Problem(
                    f"{where} [{_as_item(item)}]",
                    f"unknown condition {_shown(cond)}; the dataset has {', '.join(conditions)}.{hint}",
                )
            )
            continue
        if cond not in row_ids:
            row_ids[cond] = set(dataset.row_ids(cond))  # the id column only: a Clip per row is far larger
        ids = row_ids[cond]
        if item not in ids:
            hint = _suggest(item, ids, budget)
            ins.problems.append(
                Problem(
                    f"{where} [{_as_item(item)}]",
                    f"unknown id {_shown(item)}: not a row of condition {cond!r} in dataset {dataset.source}.{hint}",
                )
            )
            continue
        words = ins.words.get((item, cond))
        why = _word_time_problem(words, ins.word_rows[(item, cond)]) if words is not None else None
        if why:
            ins.problems.append(Problem(f"{where} [{_as_item(item)}]", why))
        answered.setdefault(cond, set()).add(item)
    for cond, got in sorted(answered.items()):
        lacking = [i for i in dataset.row_ids(cond) if i not in got]
        if not lacking:
            continue
        ins.missing.extend((i, cond) for i in lacking)
        shown = ", ".join(lacking[:10]) + (f", ... ({len(lacking)} in all)" if len(lacking) > 10 else "")
        message = (
            f"condition {cond!r}: {len(lacking)} of {len(lacking) + len(got)} rows missing ({shown}); "
            "answer every row of a condition you submit, or pass --allow-partial to score them as wrong"
        )
        (ins.warnings if allow_partial else ins.problems).append(Problem(f"{dataset.source} [{cond}]", message))


def _check_dataset_ref(meta: RunMeta | None, dataset: ZbbDataset, ins: _Inspection, where: str) -> None:
    if meta is None or not meta.dataset:
        return
    ref = meta.dataset
    known = {dataset.fingerprint, dataset.source, str(dataset.root)}
    if dataset.revision:
        known |= {dataset.revision, f"{dataset.source}@{dataset.revision}"}
    if ref in known or (len(ref) >= 8 and dataset.fingerprint.startswith(ref)):
        return
    ins.warnings.append(
        Problem(
            where,
            f"meta.json says the outputs were made on dataset {ref!r}, but it is being "
            f"checked against {dataset.source} (fingerprint {dataset.fingerprint})",
        )
    )


def _inspect(files: SubmissionFiles, dataset: ZbbDataset, *, condition: str | None, allow_partial: bool) -> _Inspection:
    ins = _Inspection()
    ins.problems.extend(files.problems)
    if files.problems and not files.paths():
        return ins  # the whole submission was refused (not a zip, too big): the rest would only be noise
    _read_meta(files, ins)
    seen: Seen = {}
    _classify(files, ins, condition, dataset.conditions(), seen)
    if len(ins.audio) > files.limits.max_rows:
        ins.problems.append(
            Problem(
                files.name,
                f"holds {len(ins.audio)} audio rows; the limit is {files.limits.max_rows} "
                "(Limits.max_rows; zbb score/validate --max-rows raises it)",
            )
        )
        ins.audio = {}
    if ins.layout == "transcript" and "responses.jsonl" in files.paths():
        _read_responses(files, ins, seen)
    if not _stopped(files, ins):
        _check_against_dataset(dataset, ins, seen, allow_partial, files)
    _check_dataset_ref(ins.meta, dataset, ins, files.where("meta.json"))
    return ins


# -------------------------------------------------------------------------------------------------- audio
@dataclass
class _Loaded:
    """One output channel after checks: what timing and ASR need, not the whole signal."""

    segments: list[tuple[int, int]]
    sample_rate: int
    window: np.ndarray | None  # 16 kHz, from the claim's onset to the end of the last voiced span
    fdb_words: tuple[WordTiming, ...] | None
    fdb_text: str | None
    window_start_s: float = 0.0  # where `window` starts, seconds from the start of the user audio
    fdb_segments: list[tuple[int, int]] | None = None  # zbb.timing.vad_segments, for FDB's stop latency


def _fdb_json(
    files: SubmissionFiles, rel: str, problems: list[Problem]
) -> tuple[str, tuple[WordTiming, ...] | None] | None:
    from pydantic import BaseModel, ConfigDict, FiniteFloat, ValidationError

    from zbb.submission.schema import describe_errors

    class Chunk(BaseModel):
        # FDB's files come from other tools, which add fields of their own: extra keys are ignored here.
        model_config = ConfigDict(extra="ignore")
        text: str
        timestamp: tuple[FiniteFloat, FiniteFloat | None]

    class Output(BaseModel):
        model_config = ConfigDict(extra="ignore")
        text: str
        chunks: list[Chunk] | None = None

    text = _read_text(files, rel, problems)
    if text is None:
        return None
    where = files.where(rel)
    try:
        parsed = Output.model_validate(read_json(text, where))
    except JsonInputError as exc:
        problems.append(Problem(exc.where, exc.message))
        return None
    except ValidationError as exc:
        problems.extend(Problem(where, f"FDB output.json: {m}") for m in describe_errors(exc))
        return None
    if parsed.chunks is None:
        return parsed.text, None
    words = tuple(
        WordTiming(
            word=c.text.strip(),
            start=c.timestamp[0],
            end=c.timestamp[1] if c.timestamp[1] is not None else c.timestamp[0],
        )
        for c in parsed.chunks
        if c.text.strip()
    )
    return parsed.text, words


def _load_audio_row(
    files: SubmissionFiles,
    row: _AudioRow,
    clip: Clip,
    *,
    want_window: bool,
    problems: list[Problem],
    warnings: list[Problem],
) -> _Loaded | None:
    from zbb.asr.base import ASR_SAMPLE_RATE
    from zbb.audio import read_audio, resample, samples_at

    fdb_text = fdb_words = None
    if row.json_rel:
        parsed = _fdb_json(files, row.json_rel, problems)
        if parsed is None:
            return None
        fdb_text, fdb_words = parsed
        where_json = f"{files.where(row.json_rel)} [{clip.id}]"
        cap = files.limits.max_reply_chars
        why = _word_time_problem(fdb_words, clip)
        size = max(len(fdb_text), sum(len(w.word) + 1 for w in fdb_words or ()))
        if size > cap:
            why = f"text is {size} characters; the limit is {cap} (Limits.max_reply_chars)"
        if why:
            problems.append(Problem(where_json, why))
            return None
        if fdb_words is None:
            warnings.append(
                Problem(
                    files.where(row.json_rel),
                    "no word chunks: the whole text is taken as the response and no timing is measured",
                )
            )
    if not row.rel:
        return _Loaded([], 0, None, fdb_words, fdb_text)
    where = f"{files.where(row.rel)} [{clip.id}]"
    try:
        data = files.read(row.rel)
        sr, expected, header_frames = _check_audio_header(data, clip, where)
        samples, _ = read_audio(data, where=where, frames=expected)  # decode no more than the user audio's length
    except (AudioError, FileTooLarge) as exc:
        message = re.sub(r"Error opening <_io\.BytesIO object at 0x[0-9a-f]+>: ", "", str(exc))
        problems.append(Problem(where, message.removeprefix(f"{where}: ")))
        return None
    except OSError as exc:
        problems.append(Problem(where, f"unreadable ({exc})"))
        return None
    # An output of exact digital zeros is an ordinary row: the model said nothing (FDB's own inference scripts
    # write zeros for silence), so it takes no turn and was not talking.
    if abs(header_frames - expected) > LENGTH_TOLERANCE_S * sr:
        action = "padded with silence" if header_frames < expected else "trimmed"
        warnings.append(
            Problem(
                where,
                f"output audio is {header_frames / sr:.3f} s but the user audio is "
                f"{clip.duration_s:.3f} s; {action} to match (FDB convention: same length)",
            )
        )
    if len(samples) < expected:
        samples = np.concatenate([samples, np.zeros(expected - len(samples), dtype=np.float32)])
    samples = samples[:expected]
    runs = voiced_runs(samples, sr)  # one pass over the signal for both segmentations
    segments = segments_from_runs(runs, sr, len(samples))
    fdb_segments = vad_segments_from_runs(runs, sr, len(samples))
    window = None
    if want_window and fdb_text is None:
        # Decode only from the onset to the end of the voiced spans after it (plus a margin): silence holds no
        # words, and pocketsphinx invents some in long silences.
        onset = samples_at(clip.onset_s, sr)
        after = [(max(s, onset), e) for s, e in segments if e > onset]
        if after:
            start = max(onset, after[0][0] - int(ASR_MARGIN_S * sr))
            stop = min(len(samples), after[-1][1] + int(ASR_MARGIN_S * sr))
            window = resample(samples[start:stop], sr, ASR_SAMPLE_RATE)
            window_start_s = start / sr
        else:
            window, window_start_s = np.zeros(0, np.float32), onset / sr
        return _Loaded(segments, sr, window, fdb_words, fdb_text, window_start_s, fdb_segments)
    return _Loaded(segments, sr, window, fdb_words, fdb_text, fdb_segments=fdb_segments)


def _check_audio_header(data: bytes, clip: Clip, where: str) -> tuple[int, int, int]:
    """Check an output audio file from its header alone, before decoding anything: channels, sample rate and
    length against the user audio. Returns (sample rate, samples to decode, samples in the file); raises
    AudioError."""
    import soundfile as sf

    from zbb.audio import samples_at

    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"unreadable audio ({exc})") from None
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise AudioError(f"audio has {info.channels} channels; expected the model's output channel (mono)")
    if not MIN_SAMPLE_RATE <= info.samplerate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"sample rate {info.samplerate} Hz; expected {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz (24000 for Moshi)"
        )
    seconds = info.frames / info.samplerate
    allowed = _longest_output_s(clip)
    if seconds > allowed:
        raise AudioError(
            f"output audio is {seconds:.3f} s (from its header) but the user audio is {clip.duration_s:.3f} s; "
            "expected the same length (FDB convention: time-locked to the user audio); not decoded"
        )
    return int(info.samplerate), samples_at(clip.duration_s, info.samplerate), int(info.frames)


def _check_rows(
    files: SubmissionFiles, dataset: ZbbDataset, ins: _Inspection, *, want_window: bool
) -> dict[Key, _Loaded]:
    loaded: dict[Key, _Loaded] = {}
    known = {cond: set(dataset.row_ids(cond)) for cond in dataset.conditions()}
    for key, row in sorted(ins.audio.items()):
        item, cond = key
        if item not in known.get(cond, ()):
            continue  # already a problem
        if _stopped(files, ins):
            break
        got = _load_audio_row(
            files, row, dataset.clip(cond, item), want_window=want_window, problems=ins.problems, warnings=ins.warnings
        )
        if got is not None:
            loaded[key] = got
    return loaded


# --------------------------------------------------------------------------------------------- public API
@dataclass
class Check:
    """The outcome of checking a submission without transcribing: problems (refusals), warnings, rows found."""

    problems: list[Problem]
    warnings: list[Problem]
    layout: str
    rows: dict[str, int]  # condition -> rows answered

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_condition(condition: str | None, dataset: ZbbDataset) -> None:
    """A `condition` the dataset lacks is refused (with a did-you-mean) before any file is read, for every layout:
    it was ignored where the rows name their own condition, so a typo passed as OK."""
    if condition is not None:
        check_names([condition], dataset.conditions())


def check_submission(
    path: str | os.PathLike,
    dataset: ZbbDataset,
    *,
    allow_partial: bool = False,
    limits: Limits | None = None,
    condition: str | None = None,
) -> Check:
    """Check everything a load would, except transcription: files, JSON, ids, coverage, and every audio file
    (readable, not silent, no NaN, length)."""
    _check_condition(condition, dataset)
    with SubmissionFiles(path, limits) as files:
        ins = _inspect(files, dataset, condition=condition, allow_partial=allow_partial)
        if ins.audio:
            _check_rows(files, dataset, ins, want_window=False)
    rows: dict[str, int] = {}
    for _, cond in [*ins.lines, *ins.audio]:
        rows[cond] = rows.get(cond, 0) + 1
    return Check(problems=ins.problems, warnings=ins.warnings, layout=ins.layout, rows=rows)


def validate_submission(
    path: str | os.PathLike,
    dataset: ZbbDataset,
    *,
    allow_partial: bool = False,
    limits: Limits | None = None,
    condition: str | None = None,
) -> list[Problem]:
    """Every problem of a submission (empty when it would load), without transcribing or scoring."""
    return check_submission(path, dataset, allow_partial=allow_partial, limits=limits, condition=condition).problems


def load_submission(
    path: str | os.PathLike,
    dataset: ZbbDataset,
    *,
    asr: str | AsrEngine = "pocketsphinx",
    allow_partial: bool = False,
    limits: Limits | None = None,
    condition: str | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> Submission:
    """Check a submission against `dataset` and return its responses (audio transcribed with `asr` from each
    claim's onset on). Raises SubmissionError listing every problem; nothing partial is returned.

    `asr` is an engine name, "name:model" (e.g. "whisper:large-v3", "nemo:/models/parakeet.nemo") or an engine
    object. `condition` names the condition of FDB run folders given without a condition level.
    """
    _check_condition(condition, dataset)
    with SubmissionFiles(path, limits) as files:
        ins = _inspect(files, dataset, condition=condition, allow_partial=allow_partial)
        loaded = _check_rows(files, dataset, ins, want_window=not ins.problems) if ins.audio else {}
        source = files.name
    if ins.problems or ins.meta is None:
        raise SubmissionError(f"{source}: submission refused", ins.problems)
    timings: dict[Key, ItemTiming] = {}
    asr_label = None
    for key, words in ins.words.items():
        timings[key] = _item_timing(ins.word_rows[key], words=words)
    responses: Mapping[Key, Response] = ins.lines
    asr_grade = None
    if loaded:
        transcribed: dict[Key, Response] = {}
        asr_label, asr_grade = _transcribe(
            loaded, dataset, asr, transcribed, timings, workers=workers, progress=progress
        )
        responses = transcribed
    return Submission(
        source=source,
        layout=ins.layout,
        meta=ins.meta,
        responses=responses,
        timings=timings,
        missing=ins.missing,
        warnings=ins.warnings,
        asr=asr_label,
        asr_grade=asr_grade,
    )


def _item_timing(clip: Clip, **measured: Any) -> ItemTiming:
    """zbb.timing.item_timing at the row's reference points: the claim's onset and the times `zbb export` writes into
    FDB's `interrupt.json`."""
    from zbb.builder.export import fdb_timestamp

    start, end = fdb_timestamp(clip)
    return item_timing(onset_s=clip.onset_s, end_s=end, start_s=start, duration_s=clip.duration_s, **measured)


def _transcribe(
    loaded: dict[Key, _Loaded],
    dataset: ZbbDataset,
    asr: str | AsrEngine,
    responses: dict[Key, Response],
    timings: dict[Key, ItemTiming],
    *,
    workers: int | None,
    progress: bool,
) -> tuple[str | None, str | None]:
    """Fill responses and timings of audio rows: FDB output.json words where given, else ASR on the windows.
    Returns the ASR label and grade (None, None when no ASR ran here)."""
    from zbb.asr import asr_grade_of, make_asr
    from zbb.errors import EngineError

    to_decode = [k for k, v in loaded.items() if v.window is not None and v.window.size]
    engine = make_asr(asr) if to_decode else None
    transcripts = {}
    if engine is not None:
        windows = [w for k in to_decode if (w := loaded[k].window) is not None]
        got = engine.transcribe_many(windows, workers=workers, progress=progress)
        if len(got) != len(to_decode):
            raise EngineError(f"{engine.describe()}: returned {len(got)} transcripts for {len(to_decode)} windows")
        transcripts = dict(zip(to_decode, got, strict=True))
    engine_name = engine.name if engine else (asr.partition(":")[0] if isinstance(asr, str) else asr.name)
    labels = set()
    for key, row in loaded.items():
        item, cond = key
        clip = dataset.clip(cond, item)
        if row.fdb_text is not None:
            labels.add("fdb output.json")
            words = tuple(w for w in row.fdb_words if w.start >= clip.onset_s) if row.fdb_words is not None else None
            text = " ".join(w.word for w in words) if words is not None else row.fdb_text.strip()
            source = "fdb-json"
        else:
            transcript = transcripts.get(key)
            text = transcript.text if transcript else ""
            offset = row.window_start_s
            words = tuple(
                WordTiming(word=w.word, start=round(offset + w.start, 6), end=round(offset + w.end, 6))
                for w in (transcript.words if transcript else ())
            )
            if text and not words:
                words = None  # an engine that gave text without word times: timing comes from the audio alone
            source = f"asr:{engine_name}"
        responses[key] = Response(id=item, condition=cond, response=text, words=words, source=source)
        timings[key] = _item_timing(
            clip,
            words=row.fdb_words if row.fdb_text is not None else words,  # FDB crops its own words at the end
            segments=row.segments if row.sample_rate else None,
            fdb_segments=row.fdb_segments if row.sample_rate else None,
            sample_rate=row.sample_rate or None,
        )
    grade = None
    if engine is not None:
        labels.add(engine.describe())
        grade = asr_grade_of(engine)
    return " + ".join(sorted(labels)) or None, grade
