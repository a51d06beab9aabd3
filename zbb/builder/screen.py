"""An optional intelligibility screen: a real ASR transcribes every claim as built; subjects it misses are reported.

`zbb build --screen-asr whisper` (or nemo, openai) synthesises each planned claim exactly as the build will
(same engine, voice, trimming and level), transcribes it, and lists the items whose subject word is not in the
transcript; with `--screen-drop` the build leaves out those subjects (both claims, so every subject keeps its
TRUE/FALSE pair). pocketsphinx is refused: it mishears clean synthetic speech often enough that the screen would
mostly measure the recogniser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from zbb.errors import UnknownNameError, ZbbError
from zbb.records import Record

#: ASR engines too weak to say whether a listener would hear the subject.
TOO_WEAK = {"pocketsphinx": "pocketsphinx is too weak to screen clean speech; use whisper, nemo or openai"}

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


@dataclass(frozen=True)
class ScreenResult(Record):
    """One claim as the screening ASR heard it; `recognised` is True when the subject word is in `heard`."""

    id: str
    subject: str
    heard: str
    recognised: bool


def heard_subject(subject: str, transcript: str) -> bool:
    """True when every word of `subject` is a word of `transcript` (case and punctuation ignored)."""
    said = {w.lower() for w in _WORD.findall(transcript)}
    wanted = [w.lower() for w in _WORD.findall(subject)]
    return bool(wanted) and all(w in said for w in wanted)


def screening_asr(spec: Any) -> Any:
    """The ASR engine for the screen, from "name[:model]" or an engine object; weak engines are refused."""
    from zbb.asr import make_asr

    if isinstance(spec, str):
        name = spec.partition(":")[0]
        if name in TOO_WEAK:
            raise UnknownNameError(f"--screen-asr {spec}: {TOO_WEAK[name]}")
    elif getattr(spec, "name", None) in TOO_WEAK:
        raise UnknownNameError(f"screen ASR: {TOO_WEAK[spec.name]}")
    return make_asr(spec)


def screen_claims(
    claims: list[tuple[str, str, str, str]],
    speak: Callable[[str, str, str], np.ndarray],
    asr: Any,
    *,
    sample_rate: int,
    progress: bool = False,
) -> list[ScreenResult]:
    """Transcribe each `(id, subject, claim text, voice)` spoken by `speak(text, voice, where)` (float32 at
    `sample_rate`, as the build lays it out) and say whether its subject was heard."""
    from zbb.asr import ASR_SAMPLE_RATE
    from zbb.audio import resample

    if not claims:
        raise ZbbError("screen: no claims to screen")
    windows = [
        resample(speak(text, voice, f"item {id_}"), sample_rate, ASR_SAMPLE_RATE) for id_, _, text, voice in claims
    ]
    transcripts = asr.transcribe_many(windows, progress=progress)
    if len(transcripts) != len(claims):
        raise ZbbError(f"screen: the ASR returned {len(transcripts)} transcripts for {len(claims)} claims")
    return [
        ScreenResult(id_, subject, t.text, heard_subject(subject, t.text))
        for (id_, subject, _, _), t in zip(claims, transcripts, strict=True)
    ]
