"""Sample-exact splicing: trim synthesised speech to its sound, ramp the edges, lay it out on silence.

Everything here works in integer sample counts. Trimming keeps at most `ONSET_PAD_S` of quiet before the first
sound, so when a claim is placed at the interruption point its subject is the first thing heard (zero buffer).
Edge ramps are short raised-cosine fades (<= 2 ms): long enough to avoid a click, too short to be a soft onset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from zbb.tts.base import Synthesis, WordSpan

SOUND_DB = -40.0  # a sample is "sound" when louder than this relative to the utterance's peak ...
SOUND_FLOOR = 1e-3  # ... and louder than this absolute level (about -60 dBFS)
ONSET_PAD_S = 0.001  # quiet kept before the first sound
OFFSET_PAD_S = 0.010  # quiet kept after the last sound (lets the decay finish)
RAMP_IN_S = 0.001
RAMP_OUT_S = 0.002


@dataclass(frozen=True)
class Utterance:
    """Trimmed speech at the output rate; `words` are sample spans from the utterance's first sample."""

    samples: np.ndarray
    words: tuple[WordSpan, ...] = ()

    @property
    def n(self) -> int:
        return int(self.samples.shape[0])


def _ramp(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n, dtype=np.float64) + 0.5) / n)).astype(np.float32)


def sound_bounds(samples: np.ndarray) -> tuple[int, int] | None:
    """(first, last + 1) sample index of sound, by the threshold above; None when there is none."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    threshold = max(peak * 10 ** (SOUND_DB / 20), SOUND_FLOOR)
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return None
    return int(loud[0]), int(loud[-1]) + 1


def prepare(synthesis: Synthesis, sample_rate: int, *, where: str = "") -> Utterance:
    """Resample to `sample_rate`, trim leading/trailing silence, ramp both edges, and map word spans."""
    from zbb.audio import resample
    from zbb.errors import EngineError

    samples = resample(np.asarray(synthesis.samples, dtype=np.float32), synthesis.sample_rate, sample_rate)
    bounds = sound_bounds(samples)
    if bounds is None:
        raise EngineError(f"{where}: the engine returned silence (no sample above {SOUND_DB} dB of peak)")
    start = max(bounds[0] - round(ONSET_PAD_S * sample_rate), 0)
    stop = min(bounds[1] + round(OFFSET_PAD_S * sample_rate), samples.shape[0])
    out = samples[start:stop].copy()
    n_in, n_out = min(round(RAMP_IN_S * sample_rate), out.size), min(round(RAMP_OUT_S * sample_rate), out.size)
    out[:n_in] *= _ramp(n_in)
    out[out.size - n_out :] *= _ramp(n_out)[::-1]
    ratio = sample_rate / synthesis.sample_rate
    words = []
    for w in synthesis.words:
        s = min(max(round(w.start * ratio) - start, 0), out.size)
        e = min(max(round(w.end * ratio) - start, s), out.size)
        words.append(WordSpan(w.word, s, e))
    return Utterance(out, tuple(words))


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16, exactly as libsndfile converts floats when writing PCM_16 (x 32768, rounded
    half to even, clipped), so converting once per utterance gives the same file as encoding the float row."""
    return np.clip(np.rint(np.asarray(samples, dtype=np.float32) * np.float32(32768)), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class RowAudio:
    """A spliced row as its pieces in order, and where its parts start, in samples from the row's first sample.

    The pieces are kept apart (speech and silences) so a row can be streamed to the encoder without first being
    copied into one long array; `samples` joins them when a caller needs them whole.
    """

    pieces: tuple[np.ndarray, ...]
    onset: int  # first sample of the claim
    end: int  # one past the claim's last sample
    buffer_onset: int | None  # first sample of the filler (buffered rows)

    @property
    def n(self) -> int:
        return sum(int(p.shape[0]) for p in self.pieces)

    @property
    def samples(self) -> np.ndarray:
        return np.concatenate(self.pieces)


def silence(n: int, dtype: npt.DTypeLike) -> np.ndarray:
    """`n` zero samples: a read-only view of one shared buffer per dtype (rows are mostly silence)."""
    dtype = np.dtype(dtype)
    zeros = _ZEROS.get(dtype)
    if zeros is None or zeros.shape[0] < n:
        zeros = np.zeros(max(n, 16 * 24000), dtype)
        zeros.flags.writeable = False
        _ZEROS[dtype] = zeros
    return zeros[:n]


_ZEROS: dict[np.dtype, np.ndarray] = {}


def assemble(
    context: Utterance,
    claim: Utterance,
    *,
    lead_in: int,
    gap: int,
    tail: int,
    buffer: Utterance | None = None,
    buffer_gap: int = 0,
) -> RowAudio:
    """Lay out: lead_in, context, gap, [buffer, buffer_gap,] claim, tail — every offset an exact sample count."""
    dtype = claim.samples.dtype
    pieces: list[np.ndarray] = [silence(lead_in, dtype), context.samples, silence(gap, dtype)]
    cursor = lead_in + context.n + gap
    buffer_onset = None
    if buffer is not None:
        buffer_onset = cursor
        pieces += [buffer.samples, silence(buffer_gap, dtype)]
        cursor += buffer.n + buffer_gap
    onset = cursor
    pieces += [claim.samples, silence(tail, dtype)]
    return RowAudio(tuple(pieces), onset, onset + claim.n, buffer_onset)


def mix_floor(audio: RowAudio, floor: np.ndarray) -> RowAudio:
    """`audio` (int16 pieces) on top of `floor` (int16, as long as the row): one joined int16 row.

    Only the speech pieces are added (in int32, then clipped); the shared silence pieces leave the floor as it is.
    """
    if floor.shape[0] != audio.n:
        raise ValueError(f"mix_floor: the floor has {floor.shape[0]} samples, the row {audio.n}")
    row = floor.copy()
    cursor = 0
    for piece in audio.pieces:
        n = piece.shape[0]
        zeros = _ZEROS.get(piece.dtype)
        if n and not (zeros is not None and np.shares_memory(piece, zeros)):
            mixed = row[cursor : cursor + n].astype(np.int32) + piece
            row[cursor : cursor + n] = np.clip(mixed, -32768, 32767)
        cursor += n
    return RowAudio((row,), audio.onset, audio.end, audio.buffer_onset)


def encode_flac(pieces: tuple[np.ndarray, ...], sample_rate: int) -> bytes:
    """FLAC PCM_16 bytes of int16 `pieces` played in order, streamed to the encoder piece by piece.

    Gives the same bytes as `zbb.audio.encode` of the joined float row (the encoder frames its input itself).
    """
    import io

    import soundfile as sf

    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", sample_rate, 1, format="FLAC", subtype="PCM_16") as fh:
        for piece in pieces:
            if piece.dtype != np.int16:
                raise TypeError(f"encode_flac: expected int16 pieces, got {piece.dtype}")
            if piece.size:
                fh.write(piece)
    return buf.getvalue()
