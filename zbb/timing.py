"""Timing of one row from the model's output audio and/or its word times (pure functions).

Inside, time is integer sample counts or 10 ms frames; results are seconds. Two families, side by side:

Full-Duplex-Bench's, computed as FDB's code does (`zbb.fdb_timing`, reference points `timestamp = [start, end]`
as `zbb export` writes them): `takeover` (TOR, from the words after `end`), `latency_s` (first word after `end`
- `end`, whatever the word, TOR = 1 rows) and `stop_latency_s` (overlap of the user's interruption speech and
the model's speech, from the user's speech onset, capped at its end; None without overlap).

zbb's own, more informative for ZBB:
- `answer_latency_s`: start of the first *answer* word - the claim's end (negative -> 0), on take-over rows.
  When the model was talking at the onset, the answer starts with the first word after it stopped (the words it
  carried on with are not an answer).
- `claim_stop_latency_s`: how long the model kept talking after the claim's onset before a pause (0 when it
  was silent at the onset).
- `talking_at_onset`: the model's output was voiced within `ONSET_WINDOW_S` before the claim's onset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zbb.fdb_timing import (
    VAD_MIN_SILENCE_S,
    VAD_MIN_SPEECH_S,
    cropped_words,
    fdb_latency,
    fdb_stop_latency,
    fdb_takeover,
)
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
    """Timing of one row (module docstring). Seconds; None where it cannot be measured (e.g. stop latency of a
    transcript without audio, or FDB's stop latency where the model did not talk over the user)."""

    takeover: bool | None = None  # FDB TOR: words after the interruption's end
    latency_s: float | None = None  # FDB: first word after the interruption's end - its end (>= 0), TOR rows
    stop_latency_s: float | None = None  # FDB v1.5: user/model speech overlap, from the user's speech onset
    answer_latency_s: float | None = None  # zbb: first answer word (after the model stopped) - claim end
    claim_stop_latency_s: float | None = None  # zbb: how long the model kept talking after the claim's onset
    talking_at_onset: bool | None = None  # the model was speaking when the claim started (needs audio)

    def to_dict(self) -> dict[str, bool | float | None]:
        return dataclasses.asdict(self)


def voiced_runs(samples: np.ndarray, sample_rate: int, threshold_dbfs: float = THRESHOLD_DBFS) -> list[tuple[int, int]]:
    """Runs of voiced FRAME_S frames as (start, end) frame indices (end exclusive): frames whose RMS exceeds
    `threshold_dbfs`. The one pass over the signal; `segments_from_runs` shapes the runs."""
    hop = max(1, int(round(FRAME_S * sample_rate)))
    n_frames = len(samples) // hop + (1 if len(samples) % hop else 0)
    if n_frames == 0:
        return []
    padded = np.zeros(n_frames * hop, dtype=np.float64)
    padded[: len(samples)] = samples
    rms = np.sqrt(np.mean(padded.reshape(n_frames, hop) ** 2, axis=1))
    voiced = rms > 10 ** (threshold_dbfs / 20)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], voiced.astype(np.int8), [0]))))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def segments_from_runs(
    runs: Sequence[tuple[int, int]],
    sample_rate: int,
    n_samples: int,
    *,
    min_pause_s: float = MIN_PAUSE_S,
    min_speech_s: float = MIN_SPEECH_S,
) -> list[tuple[int, int]]:
    """Voiced runs as (start, end) sample indices (end exclusive): runs closer than `min_pause_s` merge, and
    runs shorter than `min_speech_s` are dropped."""
    if not runs:
        return []
    hop = max(1, int(round(FRAME_S * sample_rate)))
    merged = [list(runs[0])]
    max_gap = int(round(min_pause_s / FRAME_S))
    for s, e in runs[1:]:
        if s - merged[-1][1] < max_gap:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    min_frames = int(round(min_speech_s / FRAME_S))
    return [(s * hop, min(e * hop, n_samples)) for s, e in merged if e - s >= min_frames]


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
    runs = voiced_runs(samples, sample_rate, threshold_dbfs)
    return segments_from_runs(runs, sample_rate, len(samples), min_pause_s=min_pause_s, min_speech_s=min_speech_s)


def vad_segments_from_runs(runs: Sequence[tuple[int, int]], sample_rate: int, n_samples: int) -> list[tuple[int, int]]:
    """Voiced spans cut the way Silero VAD's defaults cut speech, before its padding: silences of at least
    `VAD_MIN_SILENCE_S` split, speech shorter than `VAD_MIN_SPEECH_S` is dropped (energy-based). Feeds FDB's stop
    latency."""
    return segments_from_runs(
        runs, sample_rate, n_samples, min_pause_s=VAD_MIN_SILENCE_S, min_speech_s=VAD_MIN_SPEECH_S
    )


def vad_segments(samples: np.ndarray, sample_rate: int) -> list[tuple[int, int]]:
    """`vad_segments_from_runs` of the audio."""
    return vad_segments_from_runs(voiced_runs(samples, sample_rate), sample_rate, len(samples))


def talking_at(
    segments: Sequence[tuple[int, int]], onset: int, sample_rate: int, window_s: float = ONSET_WINDOW_S
) -> bool:
    """Whether a voiced segment covers any of the `window_s` before sample `onset`."""
    lo = onset - int(round(window_s * sample_rate))
    return any(s < onset and e > lo for s, e in segments)


def claim_stop_latency(
    segments: Sequence[tuple[int, int]], onset: int, sample_rate: int, window_s: float = ONSET_WINDOW_S
) -> float:
    """Seconds the model kept talking after `onset` (0 when it was not talking at the onset)."""
    lo = onset - int(round(window_s * sample_rate))
    for s, e in segments:
        if s < onset and e > lo:
            return max(0, e - onset) / sample_rate
    return 0.0


def takeover(words: Sequence[WordTiming]) -> bool:
    """zbb's take-over gate for the answer latency: FDB's rule applied to the words after the claim's onset."""
    if not words:
        return False
    spoken = max(w.end for w in words) - min(w.start for w in words)
    return not (spoken < TAKEOVER_MIN_S and len(words) <= TAKEOVER_MAX_BACKCHANNEL_WORDS)


def item_timing(
    *,
    onset_s: float,
    end_s: float,
    start_s: float | None = None,
    duration_s: float | None = None,
    words: Sequence[WordTiming] | None = None,
    samples: np.ndarray | None = None,
    sample_rate: int | None = None,
    segments: Sequence[tuple[int, int]] | None = None,
    fdb_segments: Sequence[tuple[int, int]] | None = None,
) -> ItemTiming:
    """Timing of one row from the model's words (seconds from the start of the user audio) and/or its output audio
    (time-locked to the user audio: give `samples`, or its `speech_segments` and `vad_segments` in samples as
    `segments` and `fdb_segments`, with `sample_rate`).

    `onset_s`/`end_s` are the claim's; `start_s` is where the user's interruption speech starts (FDB's
    `timestamp[0]`: the filler of a buffered row; default `onset_s`); `duration_s` the user audio's length
    (default: the samples'). Without words, take-over falls back to >= 1 s of voiced audio after the interruption's
    end (the word count is unknown).
    """
    start_s = onset_s if start_s is None else start_s
    if sample_rate is None:
        if samples is not None or segments is not None or fdb_segments is not None:
            raise ValueError("item_timing: output audio or its segments need sample_rate")
        sample_rate = 1  # unused: there is no audio
    if samples is not None:
        runs = voiced_runs(samples, sample_rate)
        segments = segments_from_runs(runs, sample_rate, len(samples))
        fdb_segments = vad_segments_from_runs(runs, sample_rate, len(samples))
        duration_s = len(samples) / sample_rate if duration_s is None else duration_s
    talking = claim_stop = fdb_stop = None
    after_stop_s = onset_s
    if segments is not None:
        onset = int(round(onset_s * sample_rate))
        talking = talking_at(segments, onset, sample_rate)
        claim_stop = round(claim_stop_latency(segments, onset, sample_rate), 6)
        after_stop_s = onset_s + claim_stop
    if fdb_segments is not None:
        speech = [(s / sample_rate, e / sample_rate) for s, e in fdb_segments]
        length = duration_s if duration_s is not None else max([end_s, *(e for _, e in speech)])
        fdb_stop = fdb_stop_latency((start_s, end_s), speech, length)
    if words is not None:
        after_end = cropped_words(words, end_s)
        latency = fdb_latency(after_end, end_s)
        response = [w for w in words if w.start >= onset_s]
        answer = None
        if takeover(response):
            fresh = [w for w in response if w.start >= after_stop_s] or response
            answer = round(max(0.0, min(w.start for w in fresh) - end_s), 6)
        return ItemTiming(
            takeover=fdb_takeover(after_end),
            latency_s=None if latency is None else round(latency, 6),
            answer_latency_s=answer,
            stop_latency_s=fdb_stop,
            claim_stop_latency_s=claim_stop,
            talking_at_onset=talking,
        )
    if segments is None:
        return ItemTiming()
    onset, end = int(round(onset_s * sample_rate)), int(round(end_s * sample_rate))
    after_end_voiced = [(max(s, end), e) for s, e in segments if e > end]
    took = sum(e - s for s, e in after_end_voiced) / sample_rate >= TAKEOVER_MIN_S
    latency = round(max(0.0, after_end_voiced[0][0] / sample_rate - end_s), 6) if took else None
    after = [(max(s, onset), e) for s, e in segments if e > onset]
    answer = None
    if sum(e - s for s, e in after) / sample_rate >= TAKEOVER_MIN_S:
        resume = int(round(after_stop_s * sample_rate))
        first = next((s for s, _ in after if s >= resume), after[0][0])
        answer = round(max(0.0, first / sample_rate - end_s), 6)
    return ItemTiming(
        takeover=took,
        latency_s=latency,
        answer_latency_s=answer,
        stop_latency_s=fdb_stop,
        claim_stop_latency_s=claim_stop,
        talking_at_onset=talking,
    )
