"""The probe's step loop: user audio (and, for dialogues, the model's own channel) through a moshi LMGen (torch).

Step convention (every curve and onset in zbb.probe uses it): code index j is audio frame j, samples
[j * frame_size, (j + 1) * frame_size). Step s feeds the user's codes of frame s - 1 (LMGen ignores the user codes
of its first step, so frame 0 is fed at steps 0 and 1, as moshi's own run_inference does), so at step s the model
has heard user frames < s; it then predicts its own text and audio of frame s and, where it has a head for it, the
user's frame s. S_gen(s) and S_perc(s) score those two predictions.

Teacher forcing (two-channel dialogues): the model's own channel is encoded with Mimi and its codes replace the
audio tokens the depformer would sample (LMGen's `depformer_replace_tokens`), so the transformer sees the real
conversation on both streams. The text stream is the model's own: sampled by LMGen (its inner monologue), since a
dialogue has no text aligned to the model's frames; `text_tokens[s]` is the token it chose at step s.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np

from zbb.errors import ProbeError
from zbb.probe.capture import LayerCapture
from zbb.probe.lens import own_codebooks


@dataclass
class StreamTrace:
    """What one batch left behind, on the model's device.

    `hidden` [B, T, L, D] float32 (None when no layer was asked for): the residual stream after each captured layer (L in `layer_positions` order) at
    each step. `text_tokens` [B, T]: the model's text token of frame s. `audio_tokens` [B, T, dep_q]: the
    depformer's tokens at step s (codebook k holds frame s - delay_k, as moshi delays it). `user_tokens` [B, T]:
    the user's first-codebook token of frame s (what step s would predict). `counts`: hook calls per layer.
    """

    hidden: Any
    text_tokens: Any
    audio_tokens: Any
    user_tokens: Any
    layer_positions: tuple[int, ...]
    counts: dict[int, int]
    steps: int


def stack_audio(rows: Sequence[np.ndarray], frame_size: int, frames: int | None = None) -> np.ndarray:
    """Rows of float samples as one [B, F * frame_size] float32 array, zero-padded to whole frames of the longest."""
    if not rows:
        raise ProbeError("an empty batch")
    n = frames if frames is not None else max(-(-len(r) // frame_size) for r in rows)
    out = np.zeros((len(rows), n * frame_size), dtype=np.float32)
    for b, r in enumerate(rows):
        out[b, : min(len(r), out.shape[1])] = r[: out.shape[1]]
    return out


def run_steps(
    backend: Any,
    user_audio: np.ndarray,
    layer_positions: Sequence[int],
    *,
    model_audio: np.ndarray | None = None,
    decoding: dict[str, Any] | None = None,
    seed: int = 0,
) -> StreamTrace:
    """Stream a batch [B, N] of user audio (N a multiple of the frame size) through `backend`, capturing layers.

    `model_audio` [B, N] teacher-forces the model's own audio stream (dialogues); None lets the model speak
    (ZBB rows). `decoding` are LMGen keyword arguments over the checkpoint's defaults; `seed` seeds torch's
    sampler for the batch.
    """
    import torch
    from moshi.utils.compile import no_compile, no_cuda_graph

    from zbb.runner.stream import encode_batch

    lm, frame = backend.lm, backend.frame_size
    if user_audio.ndim != 2 or user_audio.shape[1] % frame:
        raise ProbeError(f"user audio must be [B, N] with N a multiple of {frame}; got {user_audio.shape}")
    if model_audio is not None and model_audio.shape != user_audio.shape:
        raise ProbeError(f"model audio {model_audio.shape} and user audio {user_audio.shape} differ in shape")
    device = torch.device(backend.device)
    batch, steps = user_audio.shape[0], user_audio.shape[1] // frame
    own = own_codebooks(lm)
    delays = [int(d) for d in lm.delays]
    text_tokens: list[Any] = []
    audio_tokens: list[Any] = []
    gen = backend.make_lm_gen(
        **(decoding or {}),
        on_text_hook=lambda t: text_tokens.append(t.clone()),
        on_audio_hook=lambda a: audio_tokens.append(a.clone()),
    )
    with ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        stack.enter_context(no_compile())
        stack.enter_context(no_cuda_graph())  # Python hooks stop running inside a captured CUDA graph
        user_codes = encode_batch(backend, torch.from_numpy(user_audio)[:, None].to(device))[:, :own]
        forced = None
        if model_audio is not None:
            model_codes = encode_batch(backend, torch.from_numpy(model_audio)[:, None].to(device))[:, :own]
            forced = _forced_depformer_tokens(model_codes, user_codes, delays, int(lm.dep_q), own)
        capture = stack.enter_context(LayerCapture(backend.layers, layer_positions))
        stack.enter_context(gen.streaming(batch))
        torch.manual_seed(seed)
        for s in range(steps):
            fed = user_codes[:, :, max(s - 1, 0) : max(s - 1, 0) + 1]
            gen.step(fed, depformer_replace_tokens=None if forced is None else forced[:, :, s : s + 1])
    counts = capture.counts
    if any(c != steps for c in counts.values()) or len(text_tokens) != steps:
        raise ProbeError(f"expected one capture per layer per step ({steps} steps); got {counts}")
    return StreamTrace(
        hidden=capture.stacked() if capture.indices else None,
        text_tokens=torch.stack(text_tokens, dim=1),
        audio_tokens=torch.stack(audio_tokens, dim=1),
        user_tokens=user_codes[:, 0],
        layer_positions=capture.indices,
        counts=counts,
        steps=steps,
    )


def _forced_depformer_tokens(model_codes: Any, user_codes: Any, delays: list[int], dep_q: int, own: int) -> Any:
    """[B, dep_q, T]: at step s, codebook k gets frame s - delay_k of its stream (0 before the stream starts).

    Codebooks past the model's own (a depformer that also predicts the user, PersonaPlex) get the user's codes."""
    import torch

    streams = torch.cat([model_codes, user_codes], dim=1)  # [B, 2 * own, T]
    batch, _, steps = streams.shape
    out = torch.zeros((batch, dep_q, steps), dtype=streams.dtype, device=streams.device)
    for k in range(dep_q):
        d = delays[1 + k]
        if d < steps:
            out[:, k, d:] = streams[:, k, : steps - d]
    return out
