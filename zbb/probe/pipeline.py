"""`zbb probe` as a library call: items in, a probe folder out (curves.parquet, hidden.npz, probe.json, probe.png).

Every choice the paper leaves open is a named field of `ProbeSettings` and is written to probe.json: which layers
the lens averages over and how they count (`layer_base`), which lens reads S_perc, probability or log-probability,
the decoding of the model's own text, the seed, and the inertia rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zbb.errors import ProbeError
from zbb.probe import curves as C
from zbb.probe.lens import (
    GENERATION_LENSES,
    OWN_DEPFORMER_LENS,
    PERCEPTION_LENSES,
    TEXT_LENS,
    USER_DEPFORMER_LENS,
    default_perception_lens,
    has_user_head,
)

PROBE_JSON = "probe.json"
CURVES_FILE = "curves.parquet"
HIDDEN_FILE = "hidden.npz"
PLOT_FILE = "probe.png"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ProbeSettings:
    """The probe's open choices. Layers count from `layer_base` (0: `layers[i]`; 1: "layer 1 is the first block").

    `lens_layers`: S_gen and S_perc are averaged over these (paper: 12-24). `keep_layers`: hidden states saved for
    `zbb steer fit` (paper: the steering layer, 23). `generation_lens`: "text" (the logit lens of the model's own
    next text token) or "own-depformer" (its own next audio token, first codebook, through its depformer).
    `perception_lens`: "auto" (the user head where the model has
    one, else the user-embedding lens), "user-embedding" or "user-depformer". `score`: "prob" or "logprob" of the
    target token. `decoding`: LMGen keyword arguments for the model's own text (and audio, when not forced).
    `frames_after_onset`: stop an item this many frames after its onset (None: run it whole).
    `inertia_threshold` / `inertia_hold`: the state has turned when S_perc - S_gen > threshold for hold frames.
    `window_before` / `window_after`: frames around the onset in the averaged curve and the plot.
    """

    lens_layers: tuple[int, ...]
    keep_layers: tuple[int, ...]
    layer_base: int = 0
    generation_lens: str = TEXT_LENS
    perception_lens: str = "auto"
    score: str = "prob"
    decoding: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 8
    frames_after_onset: int | None = 25
    inertia_threshold: float = 0.0
    inertia_hold: int = 2
    window_before: int = 12
    window_after: int = 25

    def positions(self, num_layers: int) -> tuple[list[int], list[int]]:
        """0-based positions of the lens and kept layers; a ProbeError names any layer out of range."""
        if self.layer_base not in (0, 1):
            raise ProbeError(f"layer base must be 0 or 1; got {self.layer_base}")
        first, last = self.layer_base, num_layers - 1 + self.layer_base
        bad = [i for i in (*self.lens_layers, *self.keep_layers) if not first <= i <= last]
        if bad:
            raise ProbeError(
                f"layer(s) {bad} out of range: the model has layers {first}..{last} (base {self.layer_base})"
            )
        if not self.lens_layers:
            raise ProbeError("no lens layers")
        return [i - self.layer_base for i in self.lens_layers], [i - self.layer_base for i in self.keep_layers]


@dataclass(frozen=True)
class ProbeItem:
    """One row to probe. `user` (and `model`, for teacher-forced dialogues) are float32 mono at the backend's rate;
    `onset` is the interruption's first sample from the start of `user` (None: no interruption); spans are
    (start, stop) samples where each side speaks, when known."""

    id: str
    source: str
    user: np.ndarray
    model: np.ndarray | None = None
    onset: int | None = None
    user_spans: tuple[tuple[int, int], ...] | None = None
    model_spans: tuple[tuple[int, int], ...] | None = None


@dataclass
class ProbeResult:
    curves: pd.DataFrame
    hidden: dict[int, np.ndarray]  # kept layer (as named, in layer_base) -> [rows of curves, D]
    meta: dict[str, Any]


def parse_layers(text: str) -> tuple[int, ...]:
    """'12-24', '23', '4,8,12-14' -> sorted distinct layer numbers; a ProbeError says what was expected."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi:
                    raise ValueError
                out.update(range(lo, hi + 1))
            else:
                out.add(int(part))
        except ValueError:
            raise ProbeError(f"layers {text!r}: expected numbers and ranges like '12-24' or '4,8,23'") from None
    return tuple(sorted(out))


def _speaking(spans: tuple[tuple[int, int], ...] | None, frames: int, frame_size: int) -> list[bool | None]:
    if spans is None:
        return [None] * frames
    flags = np.zeros(frames, dtype=bool)
    for start, stop in spans:
        flags[start // frame_size : min(-(-stop // frame_size), frames)] = True
    return [bool(f) for f in flags]


def _affinities(
    backend: Any,
    trace: Any,
    lens_pos: Sequence[int],
    perception_lens: str,
    score: str,
    generation_lens: str = TEXT_LENS,
) -> tuple[Any, Any]:
    """Layer-averaged S_gen and S_perc [B, T] from a StreamTrace (one lens call per layer, to bound memory)."""
    import torch

    from zbb.probe import lens

    lm = backend.lm
    where = {p: trace.layer_positions.index(p) for p in lens_pos}
    batch, steps = trace.text_tokens.shape
    gen = torch.zeros((batch, steps), dtype=torch.float64, device=trace.hidden.device)
    perc = torch.zeros_like(gen)
    table = lens.user_embedding_table(lm) if perception_lens != USER_DEPFORMER_LENS else None
    own = lens.own_codebooks(lm)
    with torch.no_grad():
        for p in lens_pos:
            h = trace.hidden[:, :, where[p]]  # [B, T, D]
            if generation_lens == OWN_DEPFORMER_LENS:
                own_logits = lens.depformer_logits(
                    lm, h.reshape(batch * steps, -1), trace.text_tokens.reshape(batch * steps, 1), 0
                ).reshape(batch, steps, -1)
                gen += lens.token_scores(own_logits, trace.audio_tokens[..., 0], score).double()
            else:
                gen += lens.token_scores(lens.text_logits(lm, h), trace.text_tokens, score).double()
            if perception_lens == USER_DEPFORMER_LENS:
                prefix = torch.cat([trace.text_tokens[..., None], trace.audio_tokens[..., :own]], dim=-1)
                logits = lens.depformer_logits(lm, h.reshape(batch * steps, -1), prefix.reshape(batch * steps, -1), own)
                logits = logits.reshape(batch, steps, -1)
            else:
                logits = lens.user_embedding_logits(lm, h, table)
            perc += lens.token_scores(logits, trace.user_tokens, score).double()
    return gen / len(lens_pos), perc / len(lens_pos)


def probe_items(
    backend: Any,
    items: Sequence[ProbeItem],
    settings: ProbeSettings,
    *,
    source_meta: dict[str, Any] | None = None,
    progress: Callable[[int], object] | None = None,
) -> ProbeResult:
    """Stream `items` through `backend` in batches and read S_gen / S_perc at every step (see module docs)."""
    from zbb import __version__
    from zbb.probe.stream import run_steps, stack_audio

    if not items:
        raise ProbeError("nothing to probe: no items")
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        raise ProbeError(f"duplicate item id(s): {sorted({i for i in ids if ids.count(i) > 1})}")
    lens_pos, keep_pos = settings.positions(backend.num_layers)
    perception = default_perception_lens(backend.lm) if settings.perception_lens == "auto" else settings.perception_lens
    if perception not in PERCEPTION_LENSES:
        raise ProbeError(
            f"unknown perception lens {perception!r}; expected auto or one of {', '.join(PERCEPTION_LENSES)}"
        )
    if settings.generation_lens not in GENERATION_LENSES:
        raise ProbeError(
            f"unknown generation lens {settings.generation_lens!r}; expected one of {', '.join(GENERATION_LENSES)}"
        )
    if perception == USER_DEPFORMER_LENS and not has_user_head(backend.lm):
        raise ProbeError(
            f"{backend.model_id} has no head for the user's audio (its depformer predicts {int(backend.lm.dep_q)} "
            "codebooks, all its own): use --perception-lens user-embedding"
        )
    teacher = [it.model is not None for it in items]
    if any(teacher) and not all(teacher):
        raise ProbeError("mix of dialogues (with the model's channel) and single-channel rows in one probe")
    frame = backend.frame_size
    capture_pos = sorted({*lens_pos, *keep_pos})
    rows: list[pd.DataFrame] = []
    hidden: dict[int, list[np.ndarray]] = {k: [] for k in settings.keep_layers}
    item_meta: list[dict[str, Any]] = []
    for start in range(0, len(items), settings.batch_size):
        batch = list(items[start : start + settings.batch_size])
        frames = []
        for it in batch:
            n = -(-it.user.size // frame)
            o = C.onset_frame(it.onset, frame)
            if o is not None and settings.frames_after_onset is not None:
                n = min(n, o + settings.frames_after_onset + 1)
            if n < 2:
                raise ProbeError(f"{it.id}: {it.user.size} samples is under two {frame}-sample frames")
            frames.append(n)
        steps = max(frames)
        user = stack_audio([it.user for it in batch], frame, steps)
        model = stack_audio([it.model for it in batch if it.model is not None], frame, steps) if all(teacher) else None
        trace = run_steps(
            backend, user, capture_pos, model_audio=model, decoding=settings.decoding, seed=settings.seed + start
        )
        s_gen, s_perc = _affinities(backend, trace, lens_pos, perception, settings.score, settings.generation_lens)
        s_gen_np, s_perc_np = s_gen.cpu().numpy(), s_perc.cpu().numpy()
        text_np, user_np = trace.text_tokens.cpu().numpy(), trace.user_tokens.cpu().numpy()
        kept = {
            k: trace.hidden[:, :, trace.layer_positions.index(p)].cpu().numpy()
            for k, p in zip(settings.keep_layers, keep_pos, strict=True)
        }
        for b, (it, n) in enumerate(zip(batch, frames, strict=True)):
            o = C.onset_frame(it.onset, frame)
            margin = s_perc_np[b, :n] - s_gen_np[b, :n]
            inertia = C.inertia_frames(margin, o, threshold=settings.inertia_threshold, hold=settings.inertia_hold)
            step = np.arange(n)
            rows.append(
                pd.DataFrame(
                    {
                        "item_id": it.id,
                        "source": it.source,
                        "step": step,
                        "time_s": step * frame / backend.sample_rate,
                        "onset_frame": pd.array([o] * n, dtype="Int64"),
                        "rel_frame": pd.array(step - o if o is not None else [None] * n, dtype="Int64"),
                        "s_gen": s_gen_np[b, :n],
                        "s_perc": s_perc_np[b, :n],
                        "margin": margin,
                        "user_speaking": pd.array(_speaking(it.user_spans, n, frame), dtype="boolean"),
                        "model_speaking": pd.array(_speaking(it.model_spans, n, frame), dtype="boolean"),
                        "text_token": text_np[b, :n],
                        "user_token": user_np[b, :n],
                    }
                )
            )
            for k in settings.keep_layers:
                hidden[k].append(kept[k][b, :n])
            item_meta.append({"id": it.id, "frames": n, "onset_frame": o, "inertia_frames": inertia})
        if progress is not None:
            progress(len(batch))
    curves = pd.concat(rows, ignore_index=True)
    inertias = [m["inertia_frames"] for m in item_meta if m["inertia_frames"] is not None]
    with_onset = [m for m in item_meta if m["onset_frame"] is not None]
    mean_inertia = None
    if with_onset:
        mean = C.mean_curve(curves, settings.window_before, settings.window_after)
        post = mean[mean["rel_frame"] >= 0]  # rel_frame 0, 1, 2, ... (every item with an onset has frame 0)
        mean_inertia = C.inertia_frames(
            post["margin"].to_numpy(), 0, threshold=settings.inertia_threshold, hold=settings.inertia_hold
        )
    frame_ms = 1000.0 * frame / backend.sample_rate
    meta = {
        "kind": "zbb-probe",
        "format_version": FORMAT_VERSION,
        "zbb_version": __version__,
        "model": backend.describe(),
        "settings": {**asdict(settings), "perception_lens": perception},
        "lenses": {"s_gen": settings.generation_lens, "s_perc": perception},
        "teacher_forced": all(teacher),
        "model_text": "sampled by the model (LMGen), not forced",
        "step_convention": (
            "frame j = audio samples [j*frame_size, (j+1)*frame_size); step s has heard user frames < s and "
            "predicts frame s of both streams; rel_frame = step - onset_frame"
        ),
        "frame_ms": frame_ms,
        "source": source_meta or {},
        "n_items": len(items),
        "n_steps": int(len(curves)),
        "inertia": {
            "rule": f"first frame from the onset where S_perc - S_gen > {settings.inertia_threshold} for "
            f"{settings.inertia_hold} consecutive frames",
            "mean_curve_frames": mean_inertia,
            "per_item_median_frames": float(np.median(inertias)) if inertias else None,
            "items_turned": len(inertias),
            "items_with_onset": len(with_onset),
        },
        "items": item_meta,
    }
    return ProbeResult(curves=curves, hidden={k: np.concatenate(v) for k, v in hidden.items()}, meta=meta)


def write_probe(result: ProbeResult, out: str | Path, *, plot: bool = True, title: str = "") -> dict[str, Path]:
    """Write the probe folder; returns the paths written. Files are written atomically, probe.json last."""
    from zbb.io import atomic_write_bytes, atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"curves": C.write_curves(result.curves, out / CURVES_FILE)}
    if result.hidden:
        import io

        arrays: dict[str, np.ndarray] = {f"layer_{k}": v for k, v in result.hidden.items()}
        arrays["item_id"] = result.curves["item_id"].to_numpy(dtype=str)
        arrays["step"] = result.curves["step"].to_numpy(dtype=np.int64)
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        paths["hidden"] = atomic_write_bytes(out / HIDDEN_FILE, buf.getvalue())
    settings = result.meta["settings"]
    if plot and result.meta["inertia"]["items_with_onset"]:
        mean = C.mean_curve(result.curves, settings["window_before"], settings["window_after"])
        paths["plot"] = C.plot_curves(
            mean,
            out / PLOT_FILE,
            frame_ms=result.meta["frame_ms"],
            inertia=result.meta["inertia"]["mean_curve_frames"],
            title=title or f"{result.meta['model']['model_id']}: state inertia around the interruption",
            score=settings["score"],
            perception_lens=result.meta["lenses"]["s_perc"],
            generation_lens=result.meta["lenses"]["s_gen"],
        )
    meta = {**result.meta, "files": {k: p.name for k, p in paths.items()}}
    paths["meta"] = atomic_write_text(out / PROBE_JSON, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return paths


def read_probe(folder: str | Path) -> tuple[dict[str, Any], pd.DataFrame, dict[int, np.ndarray]]:
    """(probe.json, curves, kept hidden states by layer) of a probe folder; a ProbeError names what is missing."""
    folder = Path(folder)
    meta_path = folder / PROBE_JSON
    if not meta_path.is_file():
        raise ProbeError(f"{folder}: not a probe folder (no {PROBE_JSON}; make one with `zbb probe`)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProbeError(f"{meta_path}: not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("kind") != "zbb-probe":
        raise ProbeError(f"{meta_path}: not a zbb probe description")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ProbeError(f"{meta_path}: format_version {meta.get('format_version')!r}; this zbb reads {FORMAT_VERSION}")
    curves = C.read_curves(folder / CURVES_FILE)
    hidden: dict[int, np.ndarray] = {}
    path = folder / HIDDEN_FILE
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as npz:
                for name in npz.files:
                    if name.startswith("layer_"):
                        hidden[int(name.removeprefix("layer_"))] = npz[name]
                steps = npz["step"]
                item_ids = npz["item_id"]
        except (OSError, ValueError, KeyError) as exc:
            raise ProbeError(f"{path}: unreadable hidden states ({exc})") from None
        if (
            len(steps) != len(curves)
            or not np.array_equal(steps, curves["step"].to_numpy())
            or not np.array_equal(item_ids, curves["item_id"].to_numpy(dtype=str))
        ):
            raise ProbeError(f"{path}: its rows do not match {CURVES_FILE} ({len(steps)} vs {len(curves)} rows)")
    return meta, curves, hidden


# ------------------------------------------------------------------------------------------------- sources
def items_from_dialogues(dialogues: Sequence[Any], sample_rate: int) -> list[ProbeItem]:
    """Two-channel dialogues (zbb.probe.dialogues.Dialogue) as teacher-forced probe items."""
    items = []
    for d in dialogues:
        if d.sample_rate != sample_rate:
            raise ProbeError(f"dialogue {d.id} is at {d.sample_rate} Hz; the model runs at {sample_rate} Hz")
        items.append(
            ProbeItem(
                id=d.id,
                source="dialogue",
                user=d.user,
                model=d.model,
                onset=d.onset,
                user_spans=d.user_spans or None,
                model_spans=d.model_spans or None,
            )
        )
    return items


def items_from_dataset(
    dataset: Any, condition: str, sample_rate: int, *, limit: int | None = None, ids: Sequence[str] | None = None
) -> list[ProbeItem]:
    """ZBB rows of `condition` (user channel only: the model speaks freely), resampled to `sample_rate`, with the
    dataset's onset_s (the claim's first sample) as the onset."""
    from zbb.audio import resample

    if condition not in dataset.conditions():
        raise ProbeError(f"condition {condition!r} is not in the dataset; it has {', '.join(dataset.conditions())}")
    clips = dataset.clips(condition)
    if ids:
        wanted = set(ids)
        unknown = sorted(wanted - {c.id for c in clips})
        if unknown:
            raise ProbeError(f"id(s) {unknown} are not rows of {condition}")
        clips = [c for c in clips if c.id in wanted]
    clips = clips[:limit] if limit is not None else clips
    items = []
    for clip in clips:
        samples, sr = dataset.audio(condition, clip.id)
        user = resample(samples, sr, sample_rate)
        items.append(
            ProbeItem(id=clip.id, source=f"zbb:{condition}", user=user, onset=int(round(clip.onset_s * sample_rate)))
        )
    return items
