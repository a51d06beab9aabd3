"""Coqui TTS (`pip install zbb[coqui]`): any model name from its catalogue, or a local model folder.

`model` is a catalogue name ("tts_models/en/vctk/vits") or a folder holding `model.pth`/`config.json`
(for weights you already have: nothing is downloaded then). Multi-speaker models expose their speakers as
voices. Coqui reports no word timings: the builder aligns the claim itself (see zbb.builder.align).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zbb.errors import EngineError
from zbb.tts.base import Synthesis

DEFAULT_MODEL = "tts_models/en/vctk/vits"


class CoquiEngine:
    name = "coqui"

    def __init__(self, model: str | None = None, device: str = "cpu"):
        try:
            from TTS.api import TTS
        except ImportError as exc:
            raise EngineError("the coqui engine needs the Coqui TTS package: pip install 'zbb[coqui]'") from exc
        self.model = model or DEFAULT_MODEL
        path = Path(self.model)
        try:
            if path.is_dir():
                self._tts = TTS(model_path=str(path / "model.pth"), config_path=str(path / "config.json"))
            else:
                self._tts = TTS(self.model)
            self._tts.to(device)
        except Exception as exc:  # Coqui raises many types for a bad name, missing files or no network
            raise EngineError(f"coqui: cannot load model {self.model!r} ({exc})") from exc

    def voices(self) -> list[str]:
        speakers = getattr(self._tts, "speakers", None) or []
        return [str(s).strip() for s in speakers] or ["default"]

    def describe(self) -> str:
        from importlib.metadata import version

        return f"coqui-tts {version('TTS')} {self.model}"

    def synthesize(self, text: str, voice: str) -> Synthesis:
        speaker = None if voice == "default" else voice
        try:
            wav = self._tts.tts(text=text, speaker=speaker)
        except Exception as exc:  # reported with the item by the builder's retry loop
            raise EngineError(f"coqui: synthesis failed for {text!r} (voice {voice!r}): {exc}") from exc
        rate = int(self._tts.synthesizer.output_sample_rate)
        return Synthesis(samples=np.asarray(wav, dtype=np.float32), sample_rate=rate, words=())
