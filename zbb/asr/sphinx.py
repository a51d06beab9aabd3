"""The embedded default ASR: CMU PocketSphinx with its bundled en-us model (no download, runs on a CPU).

It is a weak recogniser (word error rate around 0.7-0.9 on synthetic speech); it is the default only because it
needs nothing. The paper transcribes with nvidia/parakeet-tdt-0.6b-v2 (`--asr nemo`). Windows are decoded in a
process pool, one Decoder per process (a Decoder is not thread-safe and costs ~0.4 s to load).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from typing import Any

import numpy as np

from zbb.asr.base import ASR_SAMPLE_RATE, AsrWord, Transcript, to_int16, words_text
from zbb.errors import EngineError

FRAME_S = 0.01  # PocketSphinx segments count 10 ms frames
_FILLER = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+)$")  # <s>, </s>, <sil>, [NOISE], ++GARBAGE++
_VARIANT = re.compile(r"\(\d+\)$")  # pronunciation variants: can(2) -> can

_decoder = None  # one per worker process


def _get_decoder(hmm: str | None = None) -> Any:
    global _decoder
    if _decoder is None:
        from pocketsphinx import Decoder

        kwargs = {"samprate": ASR_SAMPLE_RATE, "loglevel": "FATAL"}
        if hmm:
            kwargs["hmm"] = hmm
        _decoder = Decoder(**kwargs)
    return _decoder


def decode_pcm(pcm: bytes, hmm: str | None = None) -> Transcript:
    """Decode one window of 16 kHz int16 PCM into words (in this process)."""
    decoder = _get_decoder(hmm)
    if not pcm:
        return Transcript(text="")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    words = words_from_segments(decoder.seg())
    return Transcript(text=words_text(words), words=tuple(words))


def words_from_segments(segments: Iterable[Any]) -> list[AsrWord]:
    """PocketSphinx segments as words, seconds from the start of the decoded audio: fillers (<s>, <sil>, [NOISE],
    ++GARBAGE++) dropped, pronunciation variants folded (can(2) -> can), 10 ms frames converted."""
    return [
        AsrWord(
            word=_VARIANT.sub("", seg.word),
            start=round(seg.start_frame * FRAME_S, 3),
            end=round((seg.end_frame + 1) * FRAME_S, 3),
        )
        for seg in segments or ()
        if not _FILLER.match(seg.word)
    ]


class PocketsphinxEngine:
    name = "pocketsphinx"
    grade = "indicative"  # WER 0.4-0.9 on synthetic speech: scores from it are not reference results

    def __init__(self, model: str | None = None):
        try:
            import pocketsphinx  # noqa: F401
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise EngineError("the pocketsphinx ASR needs `pip install pocketsphinx`") from exc
        if model and not os.path.isdir(model):
            raise EngineError(
                f"pocketsphinx: model {model!r} is not a folder holding an acoustic model "
                "(leave it out to use the bundled en-us model)"
            )
        self.model = model

    def describe(self) -> str:
        return f"pocketsphinx {version('pocketsphinx')} {self.model or 'en-us'}"

    def transcribe_many(
        self, windows: Sequence[np.ndarray], *, workers: int | None = None, progress: bool = False
    ) -> list[Transcript]:
        pcms = [to_int16(w).tobytes() for w in windows]
        workers = min(workers or os.cpu_count() or 1, len(pcms))
        from tqdm import tqdm

        bar = tqdm(total=len(pcms), desc="pocketsphinx", unit="row", disable=not progress)
        try:
            if workers <= 1:
                out = []
                for pcm in pcms:
                    out.append(decode_pcm(pcm, self.model))
                    bar.update()
                return out
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # Longest windows first so no worker is left with a long tail; results go back in input order.
            order = sorted(range(len(pcms)), key=lambda i: -len(pcms[i]))
            results: list[Transcript | None] = [None] * len(pcms)
            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = {pool.submit(decode_pcm, pcms[i], self.model): i for i in order}
                from concurrent.futures import as_completed

                for fut in as_completed(futures):
                    results[futures[fut]] = fut.result()
                    bar.update()
            return results  # type: ignore[return-value]
        except RuntimeError as exc:
            raise EngineError(f"pocketsphinx failed: {exc}") from exc
        finally:
            bar.close()
