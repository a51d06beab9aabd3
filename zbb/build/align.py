"""Word timings for engines that report none: pocketsphinx forced alignment of the known claim text.

Used only when a `Synthesis` has no `words`. The aligner places the words it can, in order; when it stops short
(it does on some synthetic voices), the remaining words share the rest of the utterance in proportion to their
letters. The subject (first word) must be placed by the aligner itself, else the item fails with EngineError.
The dataset card states this source.
"""
from __future__ import annotations

import re

import numpy as np

from zbb.errors import EngineError
from zbb.tts.base import WordSpan

ALIGN_RATE = 16000
_FRAME_S = 0.01  # pocketsphinx reports frames of 10 ms
_SKIP = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"}


def align_words(samples: np.ndarray, sample_rate: int, text: str, *, where: str) -> tuple[WordSpan, ...]:
    """Spans (samples at `sample_rate`, from the first sample) of every word of `text` in `samples`."""
    from pocketsphinx import Decoder

    from zbb.audio import resample

    words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", text)
    decoder = Decoder(loglevel="FATAL")  # a fresh decoder per call: alignment state must not leak between items
    spoken = [w.lower() for w in words]
    missing = [w for w in spoken if decoder.lookup_word(w) is None]
    if missing:
        raise EngineError(f"{where}: cannot align words {missing} (not in the pocketsphinx dictionary); "
                          "use an engine with word timings")
    pcm = (np.clip(resample(samples, sample_rate, ALIGN_RATE), -1, 1) * 32767).astype(np.int16)
    decoder.set_align_text(" ".join(spoken))
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    segments = [s for s in (decoder.seg() or ()) if s.word not in _SKIP]
    placed: list[WordSpan] = []
    n = samples.shape[0]
    scale = sample_rate * _FRAME_S
    for word, seg in zip(words, segments):
        if seg.word.split("(")[0] != word.lower():
            break
        start = min(int(round(seg.start_frame * scale)), n)
        placed.append(WordSpan(word, start, max(min(int(round((seg.end_frame + 1) * scale)), n), start)))
    if not placed:
        raise EngineError(f"{where}: forced alignment could not place the first word {words[0]!r}; "
                          "use an engine with word timings")
    rest = words[len(placed):]
    cursor, letters = placed[-1].end, sum(len(w) for w in rest)
    for i, word in enumerate(rest):
        end = n if i == len(rest) - 1 else cursor + (n - placed[-1].end) * len(word) // letters
        placed.append(WordSpan(word, cursor, end))
        cursor = end
    return tuple(placed)
