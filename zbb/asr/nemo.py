"""NVIDIA NeMo ASR, by default nvidia/parakeet-tdt-0.6b-v2 (the paper's ASR): `--asr nemo[:<model id or .nemo>]`.

Optional extra `zbb[nemo]` (torch + NeMo). A Hub model id needs the weights in the local cache (or network);
a path to a `.nemo` file is restored directly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from zbb.asr.base import AsrWord, Transcript
from zbb.errors import EngineError

DEFAULT_MODEL = "nvidia/parakeet-tdt-0.6b-v2"


class NemoEngine:
    name = "nemo"
    grade = "reference"  # the paper's ASR family (parakeet)

    def __init__(self, model: str | None = None, batch_size: int = 16):
        try:
            import nemo.collections.asr  # noqa: F401
        except ImportError as exc:
            raise EngineError("the nemo ASR needs NeMo: pip install 'zbb[nemo]'") from exc
        self.model_name = model or DEFAULT_MODEL
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self) -> Any:  # a NeMo ASRModel (an optional, untyped dependency)
        if self._model is None:
            from nemo.collections.asr.models import ASRModel

            try:
                if self.model_name.endswith(".nemo") or os.path.isfile(self.model_name):
                    self._model = ASRModel.restore_from(self.model_name)
                else:
                    self._model = ASRModel.from_pretrained(self.model_name)
            except (OSError, RuntimeError, ValueError, FileNotFoundError) as exc:
                raise EngineError(f"nemo: cannot load {self.model_name!r} ({exc})") from exc
            self._model.eval()
        return self._model

    def describe(self) -> str:
        from importlib.metadata import version

        return f"nemo {version('nemo_toolkit')} {self.model_name}"

    def transcribe_many(
        self, windows: Sequence[np.ndarray], *, workers: int | None = None, progress: bool = False
    ) -> list[Transcript]:
        model = self._load()
        audio = [np.asarray(w, dtype=np.float32) for w in windows]
        hyps = model.transcribe(audio, batch_size=self.batch_size, timestamps=True, verbose=progress)
        out = []
        for hyp in hyps:
            stamps = (getattr(hyp, "timestamp", None) or {}).get("word", [])
            words = [
                AsrWord(word=str(s["word"]), start=round(float(s["start"]), 3), end=round(float(s["end"]), 3))
                for s in stamps
                if str(s.get("word", "")).strip()
            ]
            out.append(Transcript(text=str(getattr(hyp, "text", "")).strip(), words=tuple(words)))
        return out
