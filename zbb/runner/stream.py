"""Streaming a batch of user-audio rows through a full-duplex model, frame by frame, optionally steered (torch).

Timing follows Full-Duplex-Bench's Moshi client: frames of `frame_size` samples go in one per model step; the
model's audio for step k is written one frame later (output frame k+1: one frame of silence comes first, as a live
system plays a frame after it has heard one), and the output is trimmed to the input's length. As in moshi's own
`run_inference.py` the first frame is fed twice, since LMGen replaces the user codes of its first step with
initial tokens. Step k (the step that hears input frame k) is the step the steering schedule counts.

Per step the loop does what the bare model loop does (encode, LMGen step, decode) plus, when steering, one
device-to-device copy of that step's [B] coefficients into the hook's preallocated tensor (onsets and the fade are
worked out before the loop; the detector is causal, so that finds what it would live). Outputs accumulate in
preallocated device tensors, so nothing waits on the device until the batch ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from zbb.errors import RunnerError
from zbb.runner.backends import Backend
from zbb.steering.hook import SteeringHook
from zbb.steering.onset import EnergyOnsetConfig, EnergyOnsetDetector
from zbb.steering.schedule import FadeSchedule
from zbb.steering.vector import PerceptionVector

#: moshi's text stream: 0 = end of padding (EPAD), 3 = padding; neither is a word.
TEXT_PAD_IDS = (0, 3)


@dataclass(frozen=True)
class Steering:
    """What a steered pass applies: the vector at its layer, the fade, and where onsets come from."""

    vector: PerceptionVector
    schedule: FadeSchedule
    onset: str = "energy"  # "energy" (causal detector on the user audio) or "oracle" (the dataset's onset_s)
    onset_config: EnergyOnsetConfig = EnergyOnsetConfig()


@dataclass
class StreamOutput:
    """One row's result: `audio` at the model's rate, as long as the input; text tokens as (frame, token id).

    `tokens` [F, 1 + dep_q] holds every token LMGen returned at the step that heard input frame k (text first,
    then the model's audio codebooks; -1 where it returned none).
    """

    audio: np.ndarray
    text_tokens: list[tuple[int, int]]
    tokens: np.ndarray
    onset_frame: int | None  # the frame steering started from (None: unsteered, or no onset found)


def encode_batch(backend: Backend, audio: torch.Tensor) -> torch.Tensor:
    """Mimi codes [B, K, F] of audio [B, 1, F * frame_size], encoded causally, one frame at a time."""
    mimi, n = backend.mimi, backend.frame_size
    frames = audio.shape[-1] // n
    codes = []
    with torch.no_grad(), mimi.streaming(audio.shape[0]):
        for k in range(frames):
            codes.append(mimi.encode(audio[:, :, k * n : (k + 1) * n]))
    return torch.cat(codes, dim=-1)


def pad_batch(rows: Sequence[np.ndarray], frame_size: int) -> np.ndarray:
    """Rows of float samples into one [B, F * frame_size] array, zero-padded to whole frames of the longest."""
    if not rows:
        raise RunnerError("an empty batch")
    frames = max(-(-len(r) // frame_size) for r in rows)
    out = np.zeros((len(rows), frames * frame_size), dtype=np.float32)
    for b, r in enumerate(rows):
        out[b, : len(r)] = r
    return out


def find_onsets(
    audio: np.ndarray,
    frame_size: int,
    sample_rate: int,
    steering: Steering,
    oracle_onsets: Sequence[int | None] | None = None,
) -> list[int | None]:
    """Each row's onset frame: the causal energy detector fed frame by frame, or the given oracle frames.

    The detector decides at frame k from frames 0..k only, so running it over the whole input before the model
    loop gives exactly the onsets it would find live.
    """
    B, total = audio.shape
    if steering.onset == "oracle":
        if oracle_onsets is None or len(oracle_onsets) != B:
            raise RunnerError("oracle onsets need one onset frame per batch row")
        return list(oracle_onsets)
    detector = EnergyOnsetDetector(B, frame_size / sample_rate, steering.onset_config)
    for k in range(total // frame_size):
        detector.push(audio[:, k * frame_size : (k + 1) * frame_size])
        if all(o is not None for o in detector.onsets):
            break
    return list(detector.onsets)


def stream_batch(
    backend: Backend,
    lm_gen: Any,
    audio: np.ndarray,
    lengths: Sequence[int],
    *,
    seed: int,
    steering: Steering | None = None,
    oracle_onsets: Sequence[int | None] | None = None,
    codes: torch.Tensor | None = None,
) -> list[StreamOutput]:
    """Run one batch: `audio` [B, F * frame_size] from `pad_batch`, `lengths` the true sample counts.

    `codes` (from `encode_batch`) may be passed to reuse one encoding for several passes (unsteered and steered).
    The global torch seed is set to `seed` first, so passes over the same batch draw the same random numbers and
    differ only where steering changed the model.
    """
    B, total = audio.shape
    n = backend.frame_size
    F = total // n
    device = backend.device
    if codes is None:
        codes = encode_batch(backend, torch.from_numpy(audio).to(device)[:, None, :])

    hook = None
    onsets: list[int | None] = [None] * B
    if steering is not None:
        layer = backend.layer(steering.vector.layer, base=steering.vector.layer_base)
        if steering.vector.dim != backend.dim:
            raise RunnerError(
                f"perception vector has width {steering.vector.dim}, but {backend.model_id} has width {backend.dim}"
            )
        onsets = find_onsets(audio, n, backend.sample_rate, steering, oracle_onsets)
        # Every step's coefficients go to the device up front: a step then copies one row device-to-device,
        # with no host round trip inside the loop (and nothing a captured CUDA graph could miss).
        table = torch.tensor([steering.schedule.coefficients(k, onsets) for k in range(F)], dtype=torch.float32)
        coefficients = table.to(device)
        hook = SteeringHook(layer, steering.vector, B, device=device)

    pcm = torch.zeros(B, F + 1, n, device=device)  # output frame 0 stays silent (see the module docstring)
    generated = torch.full((B, F, 1 + backend.lm.dep_q), -1, dtype=torch.long, device=device)
    torch.manual_seed(seed)
    try:
        with torch.no_grad(), backend.mimi.streaming(B), lm_gen.streaming(B):
            lm_gen.step(codes[:, :, :1])  # the first frame twice (see the module docstring)
            for k in range(F):
                if hook is not None:
                    hook.coef.copy_(coefficients[k])
                tokens = lm_gen.step(codes[:, :, k : k + 1])
                if tokens is None:
                    continue
                generated[:, k] = tokens[:, :, 0]
                pcm[:, k + 1] = backend.mimi.decode(tokens[:, 1:])[:, 0, :n]
    finally:
        if hook is not None:
            hook.remove()

    flat = pcm.reshape(B, -1).float().cpu().numpy()
    all_ids = generated.cpu().numpy()
    outputs = []
    for b in range(B):
        ids = [(k, int(t)) for k, t in enumerate(all_ids[b, :, 0]) if int(t) >= 0 and int(t) not in TEXT_PAD_IDS]
        used = onsets[b] if steering is not None else None
        outputs.append(
            StreamOutput(audio=flat[b, : lengths[b]].copy(), text_tokens=ids, tokens=all_ids[b], onset_frame=used)
        )
    return outputs


def bare_step_loop(backend: Backend, lm_gen: Any, audio: np.ndarray, *, seed: int) -> np.ndarray:
    """The floor `stream_batch` is measured against: encode, LMGen step, decode per frame, nothing else."""
    B, total = audio.shape
    n = backend.frame_size
    x = torch.from_numpy(audio).to(backend.device)[:, None, :]
    out = []
    torch.manual_seed(seed)
    with torch.no_grad(), backend.mimi.streaming(B), lm_gen.streaming(B):
        for k in range(total // n):
            codes = backend.mimi.encode(x[:, :, k * n : (k + 1) * n])
            if k == 0:
                lm_gen.step(codes)
            tokens = lm_gen.step(codes)
            if tokens is not None:
                out.append(backend.mimi.decode(tokens[:, 1:]))
    return torch.cat(out, dim=-1).cpu().numpy() if out else np.zeros((B, 1, 0), dtype=np.float32)
