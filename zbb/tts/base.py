"""The TTS engine interface: text + voice in, mono float32 samples with word spans (in samples) out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class WordSpan:
    """A synthesised word; `start`/`end` are sample indices from the start of its `Synthesis.samples`."""

    word: str
    start: int
    end: int


@dataclass(frozen=True)
class Synthesis:
    """One synthesised utterance. `words` may be empty when the engine reports no timings (the builder then
    aligns them itself)."""

    samples: np.ndarray  # float32, mono, in [-1, 1]
    sample_rate: int
    words: tuple[WordSpan, ...] = ()

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])


class TTSEngine(Protocol):
    """What the builder needs from a TTS engine. Engines are constructed from keyword options (CLI flags/env)."""

    name: str

    def voices(self) -> list[str]:
        """Voice names this engine can use (the builder assigns them to items by seed)."""

    def synthesize(self, text: str, voice: str) -> Synthesis:
        """Speak `text` in `voice`; raise zbb.errors.EngineError on failure."""

    def describe(self) -> str:
        """Engine, version and model id, for the dataset card and provenance."""
