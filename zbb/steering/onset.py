"""Finding the interruption onset in the incoming user audio, causally, one model frame at a time (numpy only).

`EnergyOnsetDetector` follows a batch of user streams frame by frame: a frame is speech when its RMS level is
above `threshold_db` (dBFS). A row is *armed* once the user has spoken (their earlier turn: the greeting or the
long-talk prompt) and then been silent for `min_gap_s`; the first speech frame after arming is the onset. It sees
each frame once and never looks ahead, as a live system would. `oracle_onset_frame` gives the frame holding the
dataset's `onset_s`, for ablations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zbb.errors import SteeringError

ONSET_MODES = ("energy", "oracle")


def frame_db(frames: np.ndarray) -> np.ndarray:
    """RMS level in dBFS of each row of `frames` [B, N] (float samples in [-1, 1]); silence is -inf."""
    x = np.asarray(frames, dtype=np.float64)
    rms = np.sqrt(np.mean(x * x, axis=-1))
    with np.errstate(divide="ignore"):
        return np.asarray(20.0 * np.log10(rms))


@dataclass(frozen=True)
class EnergyOnsetConfig:
    """Detector settings: speech above `threshold_db` dBFS; armed after `min_gap_s` of silence that follows speech."""

    threshold_db: float = -40.0
    min_gap_s: float = 1.0

    def gap_frames(self, frame_s: float) -> int:
        return max(1, math.ceil(self.min_gap_s / frame_s - 1e-9))


class EnergyOnsetDetector:
    """Causal per-frame onset detection for `batch_size` user streams. `onsets[b]` is the frame index or None."""

    def __init__(self, batch_size: int, frame_s: float, config: EnergyOnsetConfig | None = None):
        if batch_size < 1 or frame_s <= 0:
            raise SteeringError(f"need batch_size >= 1 and frame_s > 0; got {batch_size}, {frame_s}")
        self.config = config or EnergyOnsetConfig()
        self.gap = self.config.gap_frames(frame_s)
        self.frame = 0
        self.spoken = np.zeros(batch_size, dtype=bool)  # the earlier turn has started
        self.silent_run = np.zeros(batch_size, dtype=np.int64)  # silent frames since the last speech frame
        self.onsets: list[int | None] = [None] * batch_size

    def push(self, frames: np.ndarray) -> list[int | None]:
        """Take the next frame of every row ([B, frame_size] floats); returns the onsets found so far."""
        levels = frame_db(frames)
        if levels.shape != self.spoken.shape:
            raise SteeringError(f"expected {self.spoken.shape[0]} rows of audio, got {levels.shape}")
        speech = levels > self.config.threshold_db
        armed = self.spoken & (self.silent_run >= self.gap)
        for b in np.flatnonzero(armed & speech):
            if self.onsets[b] is None:
                self.onsets[b] = self.frame
        self.spoken |= speech
        self.silent_run = np.where(speech, 0, self.silent_run + 1)
        self.frame += 1
        return list(self.onsets)


def detect_onset(
    audio: np.ndarray, frame_size: int, sample_rate: int, config: EnergyOnsetConfig | None = None
) -> int | None:
    """The energy detector run over one whole signal: the onset frame index, or None."""
    samples = np.asarray(audio, dtype=np.float64).reshape(-1)
    n_frames = math.ceil(samples.size / frame_size)
    padded = np.zeros(n_frames * frame_size)
    padded[: samples.size] = samples
    detector = EnergyOnsetDetector(1, frame_size / sample_rate, config)
    for k in range(n_frames):
        detector.push(padded[None, k * frame_size : (k + 1) * frame_size])
        if detector.onsets[0] is not None:
            break
    return detector.onsets[0]


def oracle_onset_frame(onset_s: float, frame_size: int, sample_rate: int) -> int:
    """The frame holding `onset_s` (seconds from the start of the user audio)."""
    if not math.isfinite(onset_s) or onset_s < 0:
        raise SteeringError(f"onset_s must be a finite time >= 0; got {onset_s}")
    return int(round(onset_s * sample_rate)) // frame_size
