"""Audio in and out: reading with clear errors, resampling (soxr), encoding to bytes, sample/second conversion."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from zbb.errors import AudioError


def read_audio(
    source: str | os.PathLike | bytes,
    *,
    where: str | None = None,
    mono: bool = True,
    allow_silent: bool = True,
    frames: int | None = None,
) -> tuple[np.ndarray, int]:
    """Read WAV/FLAC/OGG/MP3 (path or bytes) as float32 samples in [-1, 1] and the sample rate.

    Only the first `frames` samples are decoded when given. Multi-channel audio is averaged to mono when `mono`.
    Raises AudioError naming `where` (or the path) when the file is unreadable, empty, holds NaN/inf, or (unless
    `allow_silent`) is all zeros.
    """
    label = where or (str(source) if not isinstance(source, bytes) else "<audio bytes>")
    try:
        data, sr = sf.read(
            io.BytesIO(source) if isinstance(source, bytes) else str(source),
            dtype="float32",
            always_2d=True,
            frames=-1 if frames is None else frames,
        )
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError, ValueError) as exc:
        raise AudioError(f"{label}: unreadable audio ({exc})") from exc
    if data.shape[0] == 0:
        raise AudioError(f"{label}: audio is empty (0 samples)")
    if not np.all(np.isfinite(data)):
        raise AudioError(f"{label}: audio holds NaN or infinite samples")
    samples = data.mean(axis=1) if mono else data
    if not allow_silent and not np.any(samples):
        raise AudioError(f"{label}: audio is silent (every sample is zero)")
    return np.ascontiguousarray(samples, dtype=np.float32), int(sr)


def resample(samples: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Resample mono float32 audio with soxr (high quality); a no-op when the rates match."""
    if sr_from == sr_to:
        return samples
    import soxr

    return soxr.resample(samples, sr_from, sr_to, quality="HQ").astype(np.float32, copy=False)


def encode(samples: np.ndarray, sample_rate: int, fmt: str = "FLAC", subtype: str | None = "PCM_16") -> bytes:
    """Encode mono float32 audio to an in-memory file (FLAC or WAV, 16-bit by default)."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0), sample_rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def write_audio(path: str | os.PathLike, samples: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> Path:
    """Write audio to `path` (format from the suffix) atomically."""
    from zbb.io import atomic_write_bytes

    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}.get(path.suffix.lower())
    if fmt is None:
        raise AudioError(f"{path}: unsupported audio suffix {path.suffix!r} (use .wav, .flac, .ogg or .mp3)")
    return atomic_write_bytes(path, encode(samples, sample_rate, fmt, subtype if fmt in ("WAV", "FLAC") else None))


def seconds(samples: int, sample_rate: int) -> float:
    """Sample count -> seconds, rounded to the microsecond so JSON/parquet values are stable."""
    return round(samples / sample_rate, 6)


def samples_at(seconds_: float, sample_rate: int) -> int:
    """Seconds -> nearest sample index."""
    return int(round(seconds_ * sample_rate))
