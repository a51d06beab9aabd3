"""Levels of the user channel: loudness per utterance (ITU-R BS.1770), a true-peak ceiling, and a room-tone floor.

Every utterance is normalised to one integrated loudness (pyloudnorm's BS.1770-4 meter), then turned down if its
true peak (4x oversampled, BS.1770 Annex 2) would pass the ceiling less the largest noise sample, so no row
sample reaches full scale once the floor is added. The floor is seeded room tone: white Gaussian noise through
a 2nd-order Butterworth low-pass at 300 Hz (the low rumble of a quiet room; it also keeps FLAC rows small),
scaled to an exact RMS and bounded at 4 sigma. One seeded minute of it is made once per process and each item's
floor is cut from it at places its seed picks. An item takes one floor long enough for all of its rows and every
row takes the window of it that lines up with the claim's onset, so the claim and the tail sit on the very same
noise in every condition.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np

from zbb.records import Record

NOISE_PEAK_SIGMAS = 4.0  # the floor never goes past this many RMS
NOISE_CORNER_HZ = 300.0  # low-pass corner of the room tone (2nd-order Butterworth)
OVERSAMPLE = 4  # true-peak measurement (BS.1770-4 Annex 2)
TONE_BANK_S = 60  # seconds of room tone every item's floor is cut from
TONE_BANK_SEED = 20261130


@dataclass(frozen=True)
class Levels(Record):
    """How loud the user channel is. None turns a part off (the v1 stimulus had none of them).

    `loudness_lufs`: integrated loudness of every utterance (LUFS); `true_peak_dbfs`: ceiling of every
    utterance's true peak plus the floor (dBFS); `noise_dbfs`: RMS of the room tone under the whole row (dBFS);
    `effort_db`: extra gain on the interruption (the claim and filler of the interrupt conditions), capped by
    the ceiling; 0 = off.
    """

    loudness_lufs: float | None = -23.0
    true_peak_dbfs: float | None = -1.0
    noise_dbfs: float | None = -58.0
    effort_db: float = 0.0

    @property
    def noise_rms(self) -> float:
        return 0.0 if self.noise_dbfs is None else 10 ** (self.noise_dbfs / 20)

    @property
    def ceiling(self) -> float | None:
        """Largest true peak an utterance may have (linear), leaving room for the floor's largest sample."""
        if self.true_peak_dbfs is None:
            return None
        return 10 ** (self.true_peak_dbfs / 20) - NOISE_PEAK_SIGMAS * self.noise_rms


#: v2 (natural voices): broadcast loudness (EBU R 128's -23 LUFS), -1 dBTP, room tone at -58 dBFS.
STIMULUS_V2 = Levels()
#: v1 (the espeak build): raw engine levels on digital silence.
LEGACY = Levels(loudness_lufs=None, true_peak_dbfs=None, noise_dbfs=None)


def default_levels(engine_name: str) -> Levels:
    """The levels a build uses unless told otherwise: v1 for espeak (so it reproduces the old stimulus)."""
    return LEGACY if engine_name == "espeak" else STIMULUS_V2


def true_peak(samples: np.ndarray) -> float:
    """Largest absolute value of `samples` 4x oversampled (linear), at least the largest sample."""
    from scipy.signal import resample_poly

    if samples.size == 0:
        return 0.0
    up = resample_poly(np.asarray(samples, dtype=np.float64), OVERSAMPLE, 1)
    return max(float(np.max(np.abs(up))), float(np.max(np.abs(samples))))


def loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS, BS.1770-4, pyloudnorm); utterances under 400 ms use one block of their length."""
    import pyloudnorm

    block = min(0.4, samples.shape[0] / sample_rate)
    meter = pyloudnorm.Meter(sample_rate, block_size=block)
    return float(meter.integrated_loudness(np.asarray(samples, dtype=np.float64)))


def limit(samples: np.ndarray, ceiling: float | None) -> np.ndarray:
    """`samples` turned down (never up) so that their true peak is at most `ceiling` (linear)."""
    if ceiling is None:
        return samples
    peak = true_peak(samples)
    if peak <= ceiling:
        return samples
    return (samples * np.float32(ceiling / peak)).astype(np.float32)


def normalise(samples: np.ndarray, sample_rate: int, levels: Levels) -> np.ndarray:
    """One utterance at the target loudness, then under the true-peak ceiling (float32)."""
    out = np.asarray(samples, dtype=np.float32)
    if levels.loudness_lufs is not None:
        measured = loudness(out, sample_rate)
        if np.isfinite(measured):
            out = (out * np.float32(10 ** ((levels.loudness_lufs - measured) / 20))).astype(np.float32)
    return limit(out, levels.ceiling)


def with_effort(pcm: np.ndarray, levels: Levels) -> np.ndarray:
    """int16 speech `pcm` raised by `levels.effort_db` and held under the ceiling (int16)."""
    from zbb.builder.splice import to_pcm16

    if levels.effort_db == 0:
        return pcm
    louder = pcm.astype(np.float32) / np.float32(32768) * np.float32(10 ** (levels.effort_db / 20))
    return to_pcm16(limit(louder, levels.ceiling))


def room_tone(n: int, seed: str, levels: Levels, sample_rate: int) -> np.ndarray:
    """`n` int16 samples of room tone at `levels.noise_dbfs` RMS (zeros when the floor is off).

    Windows of one seeded minute of tone (made once per process): `seed` picks where each window starts, so every
    item gets its own floor without drawing and filtering a row's worth of noise each time.
    """
    if levels.noise_dbfs is None or n == 0:
        return np.zeros(n, np.int16)
    bank = _tone_bank(levels.noise_dbfs, sample_rate)
    rng = random.Random(seed)
    pieces, left = [], n
    while left > 0:
        take = min(left, bank.shape[0] // 2)
        start = rng.randrange(bank.shape[0] - take + 1)
        pieces.append(bank[start : start + take])
        left -= take
    return np.concatenate(pieces) if len(pieces) > 1 else pieces[0].copy()


@functools.cache
def _tone_bank(noise_dbfs: float, sample_rate: int) -> np.ndarray:
    """TONE_BANK_S seconds of room tone at `noise_dbfs` RMS, int16, from a fixed seed (read-only)."""
    from scipy.signal import butter, lfilter

    from zbb.builder.splice import to_pcm16

    rms = 10 ** (noise_dbfs / 20)
    n = TONE_BANK_S * sample_rate
    white = np.random.default_rng(TONE_BANK_SEED).standard_normal(n + sample_rate // 10)
    b, a = butter(2, NOISE_CORNER_HZ / (sample_rate / 2))
    tone = lfilter(b, a, white)[sample_rate // 10 :]  # 100 ms more: the filter's start-up is cut off
    tone *= rms / float(np.sqrt(np.mean(np.square(tone))))
    bound = NOISE_PEAK_SIGMAS * rms
    bank = to_pcm16(np.clip(tone, -bound, bound).astype(np.float32))
    bank.flags.writeable = False
    return bank
