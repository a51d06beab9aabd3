"""faster-whisper (CTranslate2) ASR: `--asr whisper:<model name or local folder>` (optional extra `zbb[whisper]`).

The model is loaded on first use; with no network, give a local CTranslate2 model folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from zbb.asr.base import AsrWord, Transcript
from zbb.errors import EngineError

DEFAULT_MODEL = "large-v3"


def whisper_grade(model: str) -> str:
    """Large (and turbo) whisper models are fit as a reference; the smaller ones make too many errors."""
    name = model.lower()
    return "reference" if "large" in name or "turbo" in name else "indicative"


class WhisperEngine:
    name = "whisper"
    grade = whisper_grade(DEFAULT_MODEL)  # per instance: the grade of the model it loads

    def __init__(self, model: str | None = None, device: str = "auto", compute_type: str = "default"):
        try:
            import faster_whisper  # noqa: F401
        except ImportError as exc:
            raise EngineError("the whisper ASR needs faster-whisper: pip install 'zbb[whisper]'") from exc
        self.model_name = model or os.environ.get("ZBB_ASR_MODEL") or DEFAULT_MODEL
        self.grade = whisper_grade(self.model_name)
        self.device, self.compute_type = device, compute_type
        self._model = None

    def _load(self) -> Any:  # faster_whisper.WhisperModel (an optional, untyped dependency)
        if self._model is None:
            from faster_whisper import WhisperModel

            try:
                self._model = WhisperModel(self.model_name, device=self.device, compute_type=self.compute_type)
            except (OSError, RuntimeError, ValueError) as exc:
                raise EngineError(
                    f"whisper: cannot load model {self.model_name!r} ({exc}); give a local model "
                    "folder with --asr whisper:/path/to/model when offline"
                ) from exc
        return self._model

    def describe(self) -> str:
        from importlib.metadata import version

        return f"faster-whisper {version('faster-whisper')} {self.model_name}"

    def transcribe_many(
        self, windows: Sequence[np.ndarray], *, workers: int | None = None, progress: bool = False
    ) -> list[Transcript]:
        model = self._load()
        out = []
        for window in windows:
            segments, _ = model.transcribe(
                np.asarray(window, dtype=np.float32),
                language="en",
                word_timestamps=True,
                beam_size=5,
                condition_on_previous_text=False,
            )
            words = [
                AsrWord(word=w.word.strip(), start=round(w.start, 3), end=round(w.end, 3))
                for seg in segments
                for w in (seg.words or ())
                if w.word.strip()
            ]
            out.append(Transcript(text=" ".join(w.word for w in words), words=tuple(words)))
        return out
