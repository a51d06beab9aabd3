"""The records that flow through zbb: bank items, built clips, submission responses, item scores, run results.

Each is a frozen dataclass with `to_dict`/`from_dict` (plain JSON types). Times inside the builder are integer
sample counts; these records sit at the edges, so their time fields are seconds, and each field says what the
seconds are relative to.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from zbb.errors import ZbbError


def _convert(tp: Any, value: Any) -> Any:
    """Turn a JSON value back into `tp` (dataclasses, lists/tuples/dicts of them, optionals)."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], value) if len(non_none) == 1 else value
    if dataclasses.is_dataclass(tp):
        record_type: Any = tp  # a Record subclass (every record dataclass mixes in Record)
        return record_type.from_dict(value)
    if origin in (list, tuple) and args:
        items = [_convert(args[0], v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict and len(args) == 2:
        return {k: _convert(args[1], v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """Resolved field types of a record class (resolving them is the slow part of from_dict)."""
    return typing.get_type_hints(cls)


class Record:
    """Mixin: `to_dict` gives plain JSON types; `from_dict` rebuilds, refusing unknown keys with their names."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if not isinstance(data, dict):
            raise ZbbError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        hints = _hints(typing.cast(type, cls))
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ZbbError(f"{cls.__name__}: unknown field(s) {unknown}; expected some of {sorted(fields)}")
        missing = [
            n
            for n, f in fields.items()
            if n not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise ZbbError(f"{cls.__name__}: missing field(s) {missing}")
        return cls(**{k: _convert(hints[k], v) for k, v in data.items()})


# --------------------------------------------------------------------------------------------- dataset side
@dataclass(frozen=True)
class BankItem(Record):
    """One claim of the bank: `<Subject> <description>, <confirmation>?`.

    `label` is True when the claim is true. `confirmation` None lets the builder pick one by seed. `aliases` are
    other accepted spellings of the subject ("donut" for doughnut, "sea gull" for seagull): IWOR counts them as
    the subject.
    """

    id: str
    subject: str
    description: str
    label: bool
    category: str = "uncategorised"
    confirmation: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class WordTiming(Record):
    """A word with its time span; `start`/`end` in seconds from the start of the user audio (row audio)."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Clip(Record):
    """One dataset row (without its audio bytes): a claim rendered in one condition.

    All `*_s` fields are seconds from the start of the row's user audio. `(id, condition)` is the row key;
    the same `id` appears in every condition.
    """

    id: str
    condition: str
    subject: str
    description: str
    label: bool
    category: str
    text: str  # the spoken claim, subject first: "Submarine flies in the clouds, right?"
    onset_s: float  # first sample of the claim (of the subject word, zero buffer)
    subject_end_s: float  # end of the subject word (engine word timings)
    end_s: float  # last sample of the claim
    duration_s: float  # length of the whole user audio
    context_text: str  # what the user said before the claim (greeting or long-talk prompt)
    buffer_text: str  # filler before the claim ("" unless interrupt_buffered)
    buffer_onset_s: float | None  # where the filler starts (interrupt_buffered only)
    voice: str
    tts_engine: str
    claim_words: tuple[WordTiming, ...] = ()  # every claim word with its span
    aliases: tuple[str, ...] = ()  # other accepted spellings of the subject (bank column; absent in old datasets)


# ------------------------------------------------------------------------------------------ submission side
@dataclass(frozen=True)
class Response(Record):
    """What a model said on one row, after the claim's onset.

    `words` times are seconds from the start of the row's user audio. `source` says where the text came from:
    "transcript" (submitted text), "asr:<engine>" (transcribed here from submitted audio), "fdb-json".
    """

    id: str
    condition: str
    response: str
    words: tuple[WordTiming, ...] | None = None
    source: str = "transcript"


@dataclass(frozen=True)
class Steering(Record):
    """Activation-steering settings of a run (the paper's perception vector: layer, alpha, span dT)."""

    method: str = "perception-vector"
    layer: int | None = None
    alpha: float | None = None
    span: int | None = None
    vector_sha256: str | None = None
    layer_base: int | None = None  # how `layer` counts: 0 (layers[layer]) or 1 (the first block is layer 1)
    onset: str | None = None  # where steering starts: "energy" (detector on the user audio) or "oracle" (onset_s)


@dataclass(frozen=True)
class RunMeta(Record):
    """What a submission says about itself (`meta.json`); validated by pydantic at the submission boundary."""

    model: str
    model_id: str | None = None
    revision: str | None = None
    steering: Steering | None = None
    decoding: dict[str, Any] = field(default_factory=dict)
    dataset: str | None = None
    notes: str = ""
    model_family: str | None = None
    model_url: str | None = None
    paper_url: str | None = None
    backend: str | None = None  # the `zbb run` backend that produced the outputs (moshi, personaplex, tiny)


# --------------------------------------------------------------------------------------------- result side
ProvenanceKind = Literal["reproduced", "self-reported", "paper-reported", "simulation"]


@dataclass(frozen=True)
class Rate(Record):
    """k successes out of n with a Wilson 95% interval (rate = k/n; all None-free when n > 0)."""

    k: int
    n: int
    rate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Timing(Record):
    """Timing figures for one condition, from audio or word times (None where not measurable); seconds.

    Full-Duplex-Bench's figures, computed as FDB's code does (`zbb.fdb_timing`): `takeover` (TOR), `latency_s`
    (mean over TOR rows) and `stop_latency_s` (mean over rows where the model talked over the user's
    interruption speech). zbb's own: `answer_latency_s` (first answer word after the model stopped - claim end)
    and `claim_stop_latency_s` (talk after the claim's onset, 0 when silent). Every mean states its n.
    `talking_at_onset` counts rows where the model was speaking when the claim started.
    """

    n_measured: int = 0
    takeover: Rate | None = None
    latency_s: float | None = None
    stop_latency_s: float | None = None
    talking_at_onset: Rate | None = None
    latency_n: int = 0
    stop_latency_n: int = 0
    answer_latency_s: float | None = None
    answer_latency_n: int = 0
    claim_stop_latency_s: float | None = None
    claim_stop_latency_n: int = 0


@dataclass(frozen=True)
class ValidInterruptions(Record):
    """Correctness and IWOR on the interrupt rows where the model was talking at the claim's onset (a model that
    had already stopped was not interrupted); `n` counts those rows."""

    n: int
    correctness: Rate
    iwor: Rate


@dataclass(frozen=True)
class ConditionAggregate(Record):
    """Corpus figures of one run on one condition."""

    n: int
    correctness: Rate
    iwor: Rate
    no_answer: Rate | None = None
    timing: Timing | None = None
    missing: int = 0  # rows scored as wrong because the submission lacked them (--allow-partial)
    valid_interruptions: ValidInterruptions | None = None  # interrupt conditions with audio only


@dataclass(frozen=True)
class ItemScore(Record):
    """One scored row: what was said, how it was read, and the verdicts."""

    id: str
    condition: str
    response: str
    normalised: str
    stance: str  # "affirm" | "deny" | "no_answer" (judge's reading of the response)
    correct: bool
    subject_hit: bool  # IWOR: the subject word occurs in the normalised response
    judge_reason: str = ""
    missing: bool = False  # the submission had no output for this row (scored wrong, --allow-partial)
    label: bool | None = None
    category: str | None = None
    voice: str | None = None
    takeover: bool | None = None  # FDB TOR (zbb.timing.ItemTiming says what each timing field is)
    latency_s: float | None = None  # FDB latency
    stop_latency_s: float | None = None  # FDB v1.5 stop latency
    talking_at_onset: bool | None = None
    source: str = "transcript"
    answer_latency_s: float | None = None  # zbb: first answer word after the model stopped - claim end
    claim_stop_latency_s: float | None = None  # zbb: talk after the claim's onset


@dataclass(frozen=True)
class Provenance(Record):
    """Where a result's numbers come from: enough to reproduce them."""

    kind: ProvenanceKind
    zbb_version: str
    dataset: str | None = None  # Hub id or local folder the rows came from
    dataset_fingerprint: str | None = None
    dataset_revision: str | None = None
    normaliser: str | None = None  # e.g. "zbb-en-1 (whisper_normalizer 0.1.15 EnglishTextNormalizer)"
    judge: str | None = None  # e.g. "rule-v2" or "openai:gpt-4.1-mini zbb-judge-prompt-v2"
    asr: str | None = None  # e.g. "pocketsphinx 5.1.1 en-us" or None for transcripts
    # "reference" for an ASR fit to be a reference (parakeet, whisper large), "indicative" for a weak one
    # (pocketsphinx: WER 0.4-0.9); None when the replies came as transcripts.
    asr_grade: str | None = None
    scored_at: str | None = None  # ISO 8601 date-time (UTC)
    source_url: str | None = None  # paper or submission link
    # Board uploads: who uploaded (Hugging Face user name when signed in; None for local or maintainer files)
    # and the sha256 of the uploaded submission files (so the same upload is not stored twice).
    uploader: str | None = None
    submission_sha256: str | None = None


@dataclass(frozen=True)
class RunResult(Record):
    """One run of one model (steered or not) on ZBB: the unit stored in submissions/ and shown on the board.

    `aggregates` is keyed by condition. A steered run normally holds only `interrupt`; the leaderboard pairs
    it with the unsteered run of the same `meta.model`. `breakdowns[condition][axis][value]` (axis: category,
    voice, label) holds per-group aggregates. `items` is empty for paper-reported results.
    """

    meta: RunMeta
    provenance: Provenance
    aggregates: dict[str, ConditionAggregate]
    breakdowns: dict[str, dict[str, dict[str, ConditionAggregate]]] = field(default_factory=dict)
    items: tuple[ItemScore, ...] = ()
    schema_version: int = 2  # 2: FDB-exact timing under FDB's names, zbb's variants renamed

    @property
    def steered(self) -> bool:
        return self.meta.steering is not None

    @property
    def run_id(self) -> str:
        """A stable, file-name-safe id: model, steering settings and provenance kind (any Unicode name works)."""
        tag = "unsteered"
        if self.meta.steering is not None:
            s = self.meta.steering
            tag = f"steer-L{s.layer}-a{s.alpha}-s{s.span}"
        return "--".join(slug(part) for part in (self.meta.model, tag, self.provenance.kind))


def slug(text: str, max_chars: int = 60) -> str:
    """A file-name-safe, lower-case ASCII form of `text`: letters, digits, '.', '_' and '-', starting with a letter
    or digit. Text that does not survive that intact (non-ASCII, over `max_chars`, or nothing left) gets a short
    hash of the original, so different names keep different slugs ("模型" -> "3f9a1c2e")."""
    import hashlib
    import re
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._]+", "-", plain)).lower().lstrip("-._").rstrip("-")
    lossy = not text.isascii() or not out or len(out) > max_chars
    if not lossy:
        return out
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    out = out[:max_chars].rstrip("-._")
    return f"{out}-{digest}" if out else digest
