"""ASR engines, by name: `make_asr("pocketsphinx")`, `make_asr("whisper:large-v3")`, `make_asr("nemo")`.

Every engine transcribes 16 kHz mono float32 windows into words timed in seconds from the window's start.
Heavy backends import only when an engine is made (`import zbb.asr` loads none of them).
"""

from zbb.asr.base import ASR_GRADES, ASR_SAMPLE_RATE, AsrEngine, AsrWord, Transcript, asr_grade_of, make_asr
from zbb.registry import Registry

ASR_ENGINES: Registry = Registry("ASR engine")
ASR_ENGINES.register("pocketsphinx", "zbb.asr.sphinx:PocketsphinxEngine")
ASR_ENGINES.register("whisper", "zbb.asr.whisper:WhisperEngine")
ASR_ENGINES.register("openai", "zbb.asr.openai_compat:OpenAITranscriptionEngine")
ASR_ENGINES.register("nemo", "zbb.asr.nemo:NemoEngine")

__all__ = [
    "ASR_ENGINES",
    "ASR_GRADES",
    "ASR_SAMPLE_RATE",
    "AsrEngine",
    "AsrWord",
    "Transcript",
    "asr_grade_of",
    "make_asr",
]
