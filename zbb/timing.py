"""FDB-style timing of one row from the model's output audio and/or its word times (pure functions).

Inside, time is integer sample counts or 10 ms frames; results are seconds. Definitions (after Full-Duplex-Bench):

- take-over: 0 when the model says nothing after the claim's onset, or speaks < 1 s with <= 3 words; else 1.
- response latency: start of the first response word - the claim's end (negative -> 0), only on take-over rows.
  When the model was talking at the onset, its first response word is the first one after it stopped (the
  words it carried on with are not a response).
- stop latency: how long the model kept talking after the claim's onset before a pause (0 when it was silent).
- talking at onset: the model's output was voiced within `ONSET_WINDOW_S` before the claim's onset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zbb.records import WordTiming

FRAME_S = 0.01  # voice-activity frame (10 ms)
THRESHOLD_DBFS = -40.0  # a frame is voiced when its RMS is above this
MIN_PAUSE_S = 0.4  # silences shorter than this are gaps between words, not pauses
MIN_SPEECH_S = 0.05  # voiced runs shorter than this are clicks
ONSET_WINDOW_S = 0.25  # "talking at onset": voiced within this long before the onset
TAKEOVER_MIN_S = 1.0  # FDB: < 1 s of speech with <= 3 words is a backchannel, not a take-over
TAKEOVER_MAX_BACKCHANNEL_WORDS = 3


@dataclass(frozen=True)
class ItemTiming:
    """Timing of one row. Seconds; None where it cannot be measured (e.g. a transcript without word times)."""

    takeover: bool | None = None
    latency_s: float | None = None  # first response word - claim end (>= 0), take-over rows only
    stop_latency_s: float | None = None  # how long the model kept talking after the claim's onset
    talking_at_onset: bool | None = None  # the model was speaking when the claim started (needs audio)

    def to_dict(self) -> dict:
        return {
            "takeover": self.takeover,
            "latency_s": self.latency_s,
            "stop_latency_s": self.stop_latency_s,
            "talking_at_onset": self.talking_at_onset,
        }


def speech_segments(
    samples: np.ndarray,
    sample_rate: int,
    *,
    threshold_dbfs: float = THRESHOLD_DBFS,
    min_pause_s: float = MIN_PAUSE_S,
    min_speech_s: float = MIN_SPEECH_S,
) -> list[tuple[int, int]]:
    """Voiced spans of mono audio as (start, end) sample indices (end exclusive), energy-based.

    Frames of FRAME_S are voiced when their RMS exceeds `threshold_dbfs`; voiced runs closer than `min_pause_s`
    merge, and runs shorter than `min_speech_s` are dropped.
    """
    hop = max(1, int(round(FRAME_S * sample_rate)))
    n_frames = len(samples) // hop + (1 if len(samples) % hop else 0)
    if n_frames == 0:
        return []
    padded = np.zeros(n_frames * hop, dtype=np.float64)
    padded[: len(samples)] = samples
    rms = np.sqrt(np.mean(padded.reshape(n_frames, hop) ** 2, axis=1))
    voiced = rms > 10 ** (threshold_dbfs / 20)
    if not voiced.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], voiced.astype(np.int8), [0]))))
    runs = [[int(s), int(e)] for s, e in zip(edges[::2], edges[1::2], strict=True)]  # frame indices, end exclusive
    merged = [runs[0]]
    max_gap = int(round(min_pause_s / FRAME_S))
    for s, e in runs[1:]:
        if s - merged[-1][1] < max_gap:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    min_frames = int(round(min_speech_s / FRAME_S))
    return [(s * hop, min(e * hop, len(samples))) for s, e in merged if e - s >= min_frames]


def talking_at(
    segments: Sequence[tuple[int, int]], onset: int, sample_rate: int, window_s: float = ONSET_WINDOW_S
) -> bool:
    """Whether a voiced segment covers any of the `window_s` before sample `onset`."""
    lo = onset - int(round(window_s * sample_rate))
    return any(s < onset and e > lo for s, e in segments)


def stop_latency(
    segments: Sequence[tuple[int, int]], onset: int, sample_rate: int, window_s: float = ONSET_WINDOW_S
) -> float:
    """Seconds the model kept talking after `onset` (0 when it was not talking at the onset)."""
    lo = onset - int(round(window_s * sample_rate))
    for s, e in segments:
        if s < onset and e > lo:
            return max(0, e - onset) / sample_rate
    return 0.0


def takeover(words: Sequence[WordTiming]) -> bool:
    """FDB take-over from the response words (those after the claim's onset)."""
    if not words:
        return False
    spoken = max(w.end for w in words) - min(w.start for w in words)
    return not (spoken < TAKEOVER_MIN_S and len(words) <= TAKEOVER_MAX_BACKCHANNEL_WORDS)


def item_timing(
    *,
    onset_s: float,
    end_s: float,
    words: Sequence[WordTiming] | None = None,
    samples: np.ndarray | None = None,
    sample_rate: int | None = None,
    segments: Sequence[tuple[int, int]] | None = None,
) -> ItemTiming:
    """Timing of one row from the model's words (seconds from the start of the user audio) and/or its output audio
    (time-locked to the user audio; give `samples`, or its `speech_segments` in samples, with `sample_rate`).

    Without words, take-over falls back to >= 1 s of voiced audio after the onset (the word count is unknown).
    """
    if sample_rate is None:
        if samples is not None or segments is not None:
            raise ValueError("item_timing: output audio or its segments need sample_rate")
        sample_rate = 1  # unused: there is no audio
    if samples is not None:
        segments = speech_segments(samples, sample_rate)
    talking = stop = None
    after_stop_s = onset_s
    if segments is not None:
        onset = int(round(onset_s * sample_rate))
        talking = talking_at(segments, onset, sample_rate)
        stop = round(stop_latency(segments, onset, sample_rate), 6)
        after_stop_s = onset_s + stop
    if words is not None:
        response = [w for w in words if w.start >= onset_s]
        took = takeover(response)
        latency = None
        if took:
            fresh = [w for w in response if w.start >= after_stop_s] or response
            latency = round(max(0.0, min(w.start for w in fresh) - end_s), 6)
        return ItemTiming(takeover=took, latency_s=latency, stop_latency_s=stop, talking_at_onset=talking)
    if segments is None:
        return ItemTiming()
    onset = int(round(onset_s * sample_rate))
    after = [(max(s, onset), e) for s, e in segments if e > onset]
    took = sum(e - s for s, e in after) / sample_rate >= TAKEOVER_MIN_S
    latency = None
    if took:
        resume = int(round(after_stop_s * sample_rate))
        first = next((s for s, _ in after if s >= resume), after[0][0])
        latency = round(max(0.0, first / sample_rate - end_s), 6)
    return ItemTiming(takeover=took, latency_s=latency, stop_latency_s=stop, talking_at_onset=talking)
