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


def align_words(samples: np.ndarray, sample_rate: int, text: str, *, where: str) -> tuple[WordSpan, ...]:
    """Spans (samples at `sample_rate`, from the first sample) of every word of `text` in `samples`."""
    from pocketsphinx import Decoder

    from zbb.asr.base import to_int16
    from zbb.asr.sphinx import FRAME_S, words_from_segments
    from zbb.audio import resample

    words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", text)
    decoder = Decoder(loglevel="FATAL")  # a fresh decoder per call: alignment state must not leak between items
    spoken = [w.lower() for w in words]
    missing = [w for w in spoken if decoder.lookup_word(w) is None]
    if missing:
        raise EngineError(
            f"{where}: cannot align words {missing} (not in the pocketsphinx dictionary); "
            "use an engine with word timings"
        )
    pcm = to_int16(resample(samples, sample_rate, ALIGN_RATE))
    decoder.set_align_text(" ".join(spoken))
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    placed: list[WordSpan] = []
    n = samples.shape[0]
    scale = sample_rate * FRAME_S

    def to_sample(seconds: float) -> int:  # via the whole 10 ms frame, so spans land on the same sample as ever
        return min(int(round(round(seconds / FRAME_S) * scale)), n)

    for word, heard in zip(words, words_from_segments(decoder.seg()), strict=False):
        if heard.word != word.lower():
            break
        start = to_sample(heard.start)
        placed.append(WordSpan(word, start, max(to_sample(heard.end), start)))
    if not placed:
        raise EngineError(
            f"{where}: forced alignment could not place the first word {words[0]!r}; use an engine with word timings"
        )
    rest = words[len(placed) :]
    cursor, letters = placed[-1].end, sum(len(w) for w in rest)
    for i, word in enumerate(rest):
        end = n if i == len(rest) - 1 else cursor + (n - placed[-1].end) * len(word) // letters
        placed.append(WordSpan(word, cursor, end))
        cursor = end
    return tuple(placed)
