"""TTS engines, by name. `TTS_ENGINES.get("espeak")` returns the engine class (imported only then)."""

from zbb.registry import Registry
from zbb.tts.base import Synthesis, TTSEngine, WordSpan

TTS_ENGINES: Registry = Registry("TTS engine")
TTS_ENGINES.register("hibari", "zbb.tts.hibari:HibariEngine")
TTS_ENGINES.register("espeak", "zbb.tts.espeak:EspeakEngine")
TTS_ENGINES.register("coqui", "zbb.tts.coqui:CoquiEngine")
TTS_ENGINES.register("openai", "zbb.tts.openai_compat:OpenAISpeechEngine")

__all__ = ["TTS_ENGINES", "Synthesis", "TTSEngine", "WordSpan"]
