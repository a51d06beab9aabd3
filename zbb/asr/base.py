"""The ASR engine interface: 16 kHz mono windows in, words timed from each window's start out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

ASR_SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AsrWord:
    """A recognised word; `start`/`end` in seconds from the start of the decoded window."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    """What an engine heard in one window."""

    text: str
    words: tuple[AsrWord, ...] = ()


ASR_GRADES = ("reference", "indicative")


class AsrEngine(Protocol):
    """What the submission loader needs from an ASR engine (constructed with an optional model name/path).

    `grade` is "reference" when the engine (with its model) is fit to produce reference results (parakeet,
    whisper large), "indicative" when its errors are large enough to move the scores (pocketsphinx)."""

    name: str
    grade: str

    def describe(self) -> str:
        """Engine, version and model id, for provenance (e.g. "pocketsphinx 5.1.1 en-us")."""

    def transcribe_many(
        self, windows: Sequence[np.ndarray], *, workers: int | None = None, progress: bool = False
    ) -> list[Transcript]:
        """Transcribe 16 kHz float32 windows, in order; raise zbb.errors.EngineError on failure."""


def make_asr(spec: str | AsrEngine) -> AsrEngine:
    """An engine from "name" or "name:model" (model name or local path), or an engine object passed through."""
    if not isinstance(spec, str):
        return spec
    from zbb.asr import ASR_ENGINES

    name, _, model = spec.partition(":")
    cls = ASR_ENGINES.get(name)
    return cls(model=model or None)


def asr_grade_of(engine: object) -> str:
    """The engine's declared grade; an engine that declares none is not known to be fit as a reference."""
    grade = getattr(engine, "grade", None)
    return grade if grade in ASR_GRADES else "indicative"


def words_text(words: Sequence[AsrWord]) -> str:
    return " ".join(w.word for w in words)


def to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
