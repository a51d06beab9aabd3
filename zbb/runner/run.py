"""`zbb run`: stream every ZBB row through a model, unsteered and/or steered, into submission folders.

Plan, then render: `plan_run` decides the variants (unsteered, one steered run per alpha), their folders and
meta.json, and which rows each still lacks; `execute` streams those rows in batches and writes, per variant,
`<out>/<variant>/<condition>/<id>/output.wav` (24 kHz PCM16, as long as the row's user audio) and optionally the
model's text stream as `output.json`. Each variant folder is a ZBB submission as it stands (FDB run folders).

Resumable: a row whose `output.wav` exists is skipped (files are written atomically, output.json before
output.wav). Data-parallel: under `torchrun --nproc-per-node N`, rank r takes rows r, r+N, ... of every condition
into the same folder tree (RANK / WORLD_SIZE / LOCAL_RANK from the environment; rank 0 writes meta.json).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from zbb.conditions import check_names
from zbb.errors import RunnerError, UnknownNameError
from zbb.records import Clip, RunMeta, Steering
from zbb.steering.onset import ONSET_MODES, EnergyOnsetConfig, oracle_onset_frame
from zbb.steering.vector import PerceptionVector

#: moshi's run_inference / LMGen sampling defaults (a checkpoint's own lm_gen_config overrides them).
DEFAULT_DECODING = {"temp": 0.8, "temp_text": 0.7, "top_k": 250, "top_k_text": 25}
DISPLAY_NAMES = {"moshi": "Moshi", "personaplex": "PersonaPlex", "tiny": "tiny-random-moshi"}
UNSTEERED = "unsteered"


@dataclass(frozen=True)
class RunOptions:
    """Everything `zbb run` was asked for (paths as given; nothing loaded yet)."""

    dataset: str
    out: Path
    backend: str = "moshi"
    model_id: str | None = None
    revision: str | None = None
    model_name: str | None = None
    device: str = "cpu"
    threads: int | None = None  # torch CPU threads; None: 1 on cpu (per-frame ops are too small to split), else torch's
    dtype: str | None = None
    conditions: tuple[str, ...] | None = None  # None: every condition of the dataset
    limit: int | None = None  # first N rows of each condition
    batch_size: int = 1
    seed: int = 0
    decoding: dict[str, Any] = field(default_factory=dict)
    vector: Path | None = None
    alphas: tuple[float, ...] = (5.5,)
    span: int = 3
    onset: str = "energy"
    onset_config: EnergyOnsetConfig = EnergyOnsetConfig()
    both: bool = False  # with a vector: also the unsteered run, in the same pass over the data
    steer_conditions: tuple[str, ...] = ("interrupt",)
    text_json: bool = False  # write the model's text stream as output.json (scoring then reads it, not ASR)
    progress: bool = True


@dataclass(frozen=True)
class Variant:
    """One output folder: the unsteered run, or the steered run at one alpha."""

    name: str
    folder: Path
    meta: RunMeta
    alpha: float | None
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class RowPlan:
    """A dataset row and the variants that still lack its output."""

    clip: Clip
    variants: tuple[str, ...]


@dataclass(frozen=True)
class RunSummary:
    """What a `zbb run` did (this rank)."""

    variants: tuple[Variant, ...]
    rows_done: int
    rows_skipped: int
    audio_s: float
    wall_s: float
    steered_rows: int = 0  # rows written by a steered variant (each variant counts)
    no_onset_rows: int = 0  # of those, rows where no onset was found, so nothing was steered
    partial: bool = False  # --limit left rows of a condition out: the folders need `--allow-partial` to validate

    @property
    def rtf(self) -> float:
        """Wall time over audio time (< 1: faster than real time); rows processed by this rank only."""
        return self.wall_s / self.audio_s if self.audio_s else 0.0


def distributed_rank() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) when run plainly."""
    try:
        rank = int(os.environ.get("RANK", "0"))
        world = int(os.environ.get("WORLD_SIZE", "1"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise RunnerError(f"RANK / WORLD_SIZE / LOCAL_RANK must be integers ({exc})") from None
    if world < 1 or not 0 <= rank < world:
        raise RunnerError(f"RANK {rank} is not in 0..WORLD_SIZE-1 (WORLD_SIZE {world})")
    return rank, world, local


def variant_name(vector: PerceptionVector, alpha: float, span: int) -> str:
    return f"steered-L{vector.layer}-a{alpha:g}-s{span}"


def plan_variants(
    options: RunOptions,
    *,
    dataset_conditions: Sequence[str],
    fingerprint: str,
    backend_info: dict[str, Any],
    vector: PerceptionVector | None,
) -> tuple[Variant, ...]:
    """The output folders and their meta.json records (pure: no model, no files)."""
    conditions = tuple(options.conditions or dataset_conditions)
    check_names(conditions, dataset_conditions)
    if options.onset not in ONSET_MODES:
        raise UnknownNameError(f"unknown onset mode {options.onset!r}; expected one of {', '.join(ONSET_MODES)}")
    if options.batch_size < 1:
        raise RunnerError(f"--batch-size must be >= 1; got {options.batch_size}")
    if options.limit is not None and options.limit < 1:
        raise RunnerError(f"--limit must be >= 1; got {options.limit}")
    decoding = {**DEFAULT_DECODING, **backend_info.get("lm_gen_defaults", {}), **options.decoding}
    decoding.update(seed=options.seed, batch_size=options.batch_size, dtype=backend_info.get("dtype"))
    base = RunMeta(
        model=options.model_name or DISPLAY_NAMES.get(options.backend, options.backend),
        model_id=backend_info.get("model_id"),
        revision=backend_info.get("revision"),
        decoding=decoding,
        dataset=fingerprint,
        backend=options.backend,
    )
    variants: list[Variant] = []
    if vector is None or options.both:
        notes = f"zbb run --backend {options.backend}, unsteered"
        variants.append(Variant(UNSTEERED, options.out / UNSTEERED, replace(base, notes=notes), None, conditions))
    if vector is not None:
        steer_conditions = tuple(c for c in conditions if c in options.steer_conditions)
        if not steer_conditions:
            raise RunnerError(
                f"no condition to steer: --steer-conditions {','.join(options.steer_conditions)} "
                f"and the conditions run ({','.join(conditions)}) do not meet"
            )
        if not options.alphas:
            raise RunnerError("a steered run needs at least one --alpha")
        for alpha in options.alphas:
            steering = Steering(
                method="perception-vector",
                layer=vector.layer,
                alpha=float(alpha),
                span=options.span,
                vector_sha256=vector.sha256,
                layer_base=vector.layer_base,
                onset=options.onset,
            )
            name = variant_name(vector, alpha, options.span)
            notes = f"zbb run --backend {options.backend}, steered ({options.onset} onset)"
            meta = replace(base, steering=steering, notes=notes)
            variants.append(Variant(name, options.out / name, meta, float(alpha), steer_conditions))
    return tuple(variants)


def output_dir(variant: Variant, condition: str, row_id: str) -> Path:
    return variant.folder / condition / row_id


def prepare_folders(variants: Sequence[Variant], *, write_meta: bool) -> None:
    """Write each variant's meta.json, or check that an existing one describes the same run (resume)."""
    from zbb.io import atomic_write_json

    for v in variants:
        path = v.folder / "meta.json"
        wanted = v.meta.to_dict()
        if path.is_file():
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise RunnerError(f"{path}: unreadable meta.json of an earlier run ({exc})") from None
            if found != wanted:
                changed = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
                raise RunnerError(
                    f"{path}: this folder holds a run with other settings ({', '.join(changed)} differ); "
                    "use another --out, or delete the folder to start over"
                )
        elif write_meta:
            atomic_write_json(path, wanted)


def plan_rows(
    variants: Sequence[Variant],
    clips_by_condition: dict[str, list[Clip]],
    *,
    limit: int | None,
    rank: int = 0,
    world: int = 1,
) -> tuple[dict[str, list[RowPlan]], int]:
    """Per condition, this rank's rows with the variants still lacking them; and how many were already done."""
    plans: dict[str, list[RowPlan]] = {}
    skipped = 0
    for condition, clips in clips_by_condition.items():
        mine = clips[:limit][rank::world]
        wanting = [v for v in variants if condition in v.conditions]
        rows = []
        for clip in mine:
            todo = tuple(v.name for v in wanting if not (output_dir(v, condition, clip.id) / "output.wav").is_file())
            if todo:
                rows.append(RowPlan(clip, todo))
            elif wanting:
                skipped += 1
        if rows:
            plans[condition] = rows
    return plans, skipped


def _audio_batches(
    dataset: Any, condition: str, rows: Sequence[RowPlan], size: int, sample_rate: int
) -> Iterator[tuple[list[RowPlan], list[np.ndarray]]]:
    """`rows` in batches of `size` with their user audio at `sample_rate`, read as the dataset streams by (memory
    holds one batch of audio, not a condition's)."""
    from zbb.audio import resample

    wanted = {r.clip.id: r for r in rows}
    batch: list[RowPlan] = []
    signals: list[np.ndarray] = []
    for clip, samples, rate in dataset.iter_audio(condition):
        row = wanted.get(clip.id)
        if row is None:
            continue
        batch.append(row)
        signals.append(resample(samples, rate, sample_rate))
        if len(batch) == size:
            yield batch, signals
            batch, signals = [], []
    if batch:
        yield batch, signals


def text_json(tokens: Sequence[tuple[int, int]], tokenizer: Any, frame_s: float) -> dict[str, Any]:
    """The model's text stream as FDB's output.json: words with [start, end] seconds from the start of the audio.

    A token from the step that heard input frame k is timed at output frame k + 1 (where that step's audio goes).
    Sentencepiece pieces starting with '▁' begin a word.
    """
    words: list[dict[str, Any]] = []
    for frame, token in tokens:
        piece = str(tokenizer.id_to_piece(int(token)))
        start = round((frame + 1) * frame_s, 6)
        end = round((frame + 2) * frame_s, 6)
        if piece.startswith("▁") or not words:
            text = piece.lstrip("▁")
            if text:
                words.append({"text": text, "timestamp": [start, end]})
        else:
            words[-1]["text"] += piece
            words[-1]["timestamp"][1] = end
    return {"text": " ".join(w["text"] for w in words), "chunks": words}


def execute(options: RunOptions, *, backend: Any = None) -> RunSummary:
    """Load the dataset, backend and vector; write every variant's folder; return what this rank did.

    `backend` may be a loaded `Backend` (tests and benchmarks reuse one); otherwise it is loaded from `options`.
    """
    import torch

    from zbb.dataset import open_dataset
    from zbb.runner.backends import check_device, load_backend
    from zbb.runner.stream import Steering as StreamSteering
    from zbb.runner.stream import encode_batch, pad_batch, stream_batch
    from zbb.steering.schedule import FadeSchedule

    rank, world, local = distributed_rank()
    threads = options.threads or (1 if options.device == "cpu" else None)
    if threads is not None:
        if threads < 1:
            raise RunnerError(f"--threads must be >= 1; got {threads}")
        torch.set_num_threads(threads)
    device = options.device
    if device == "cuda" and world > 1:
        device = f"cuda:{local}"
    if backend is None:  # a device this machine lacks is refused before the dataset or weights are fetched
        check_device(device)
    dataset = open_dataset(options.dataset)
    check_names(options.conditions or (), dataset.conditions())  # a typo is refused before the model loads
    vector = PerceptionVector.load(options.vector) if options.vector is not None else None
    if backend is None:
        backend = load_backend(
            options.backend, options.model_id, device, dtype=options.dtype, revision=options.revision
        )
    if vector is not None:  # a vector for another model: a clear error before any row runs
        if vector.dim != backend.dim:
            made_for = f" (made for {vector.model_id})" if vector.model_id else ""
            raise RunnerError(
                f"{options.vector}: vector has width {vector.dim}{made_for}, "
                f"but {backend.model_id} has width {backend.dim}"
            )
        backend.layer(vector.layer, base=vector.layer_base)
    info = {**backend.describe(), "lm_gen_defaults": backend.lm_gen_defaults}
    variants = plan_variants(
        options,
        dataset_conditions=dataset.conditions(),
        fingerprint=dataset.fingerprint,
        backend_info=info,
        vector=vector,
    )
    prepare_folders(variants, write_meta=rank == 0)
    needed = sorted({c for v in variants for c in v.conditions}, key=dataset.conditions().index)
    clips_by_condition = {c: dataset.clips(c) for c in needed}
    plans, skipped = plan_rows(variants, clips_by_condition, limit=options.limit, rank=rank, world=world)
    partial = options.limit is not None and any(len(clips) > options.limit for clips in clips_by_condition.values())
    by_name = {v.name: v for v in variants}
    decoding = {k: v for k, v in variants[0].meta.decoding.items() if k in DEFAULT_DECODING}
    lm_gen = backend.make_lm_gen(**decoding)
    frame_s = backend.frame_size / backend.sample_rate
    total = sum(len(rows) for rows in plans.values())
    started = time.perf_counter()
    audio_s = 0.0
    done = steered_rows = no_onset_rows = 0

    from tqdm import tqdm

    bar = tqdm(total=total, unit="row", disable=not options.progress or total == 0, desc=f"zbb run [rank {rank}]")
    torch.set_grad_enabled(False)
    for condition, rows in plans.items():
        for batch, signals in _audio_batches(dataset, condition, rows, options.batch_size, backend.sample_rate):
            lengths = [len(s) for s in signals]
            padded = pad_batch(signals, backend.frame_size)
            codes = encode_batch(backend, torch.from_numpy(padded).to(backend.device)[:, None, :])
            oracle = [oracle_onset_frame(r.clip.onset_s, backend.frame_size, backend.sample_rate) for r in batch]
            for name in dict.fromkeys(n for r in batch for n in r.variants):
                variant = by_name[name]
                steering = None
                if variant.alpha is not None and vector is not None:
                    steering = StreamSteering(
                        vector, FadeSchedule(variant.alpha, options.span), options.onset, options.onset_config
                    )
                outputs = stream_batch(
                    backend,
                    lm_gen,
                    padded,
                    lengths,
                    seed=options.seed,
                    steering=steering,
                    oracle_onsets=oracle if options.onset == "oracle" else None,
                    codes=codes,
                )
                for row, out in zip(batch, outputs, strict=True):
                    if name in row.variants:
                        if steering is not None:
                            steered_rows += 1
                            no_onset_rows += out.onset_frame is None
                        _write_row(variant, condition, row.clip.id, out, backend, frame_s, options.text_json)
            done += len(batch)
            audio_s += sum(lengths) / backend.sample_rate
            bar.update(len(batch))
            elapsed = time.perf_counter() - started
            bar.set_postfix(rtf=f"{elapsed / audio_s:.2f}" if audio_s else "-")
    bar.close()
    return RunSummary(
        variants=variants,
        rows_done=done,
        rows_skipped=skipped,
        partial=partial,
        audio_s=audio_s,
        wall_s=time.perf_counter() - started,
        steered_rows=steered_rows,
        no_onset_rows=no_onset_rows,
    )


def _write_row(
    variant: Variant, condition: str, row_id: str, out: Any, backend: Any, frame_s: float, text: bool
) -> None:
    from zbb.audio import write_audio
    from zbb.io import atomic_write_json

    folder = output_dir(variant, condition, row_id)
    if text and backend.text_tokenizer is not None:
        atomic_write_json(folder / "output.json", text_json(out.text_tokens, backend.text_tokenizer, frame_s))
    write_audio(folder / "output.wav", out.audio, backend.sample_rate)  # last: its presence marks the row done
