"""`build_dataset`: bank + recipe -> plan -> rendered work folder -> published Hugging Face dataset folder."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zbb.builder.levels import Levels, default_levels
from zbb.builder.plan import BuildPlan, plan_build
from zbb.builder.render import EngineSpec, item_key, render_plan
from zbb.conditions import CONDITIONS
from zbb.errors import ZbbError
from zbb.retry import RetryPolicy


@dataclass(frozen=True)
class BuildReport:
    """What a build produced: where, its fingerprint, and how much was rendered now versus resumed."""

    out: Path
    fingerprint: str
    counts: dict[str, int]
    items_rendered: int
    items_resumed: int
    audio_seconds: float
    elapsed_s: float
    screen: dict[str, Any] | None = None  # the ASR screen's manifest entry, when one ran


#: Where each engine's word timings come from (the card states it); other engines are force-aligned.
TIMINGS_SOURCES = {
    "espeak": "eSpeak NG word events",
    "hibari": "hibari's per-phoneme durations (ONNX tensor /Clip_output_0; aligner for words it cannot pair)",
}


def work_dir(out: Path) -> Path:
    """The resumable work folder of a build into `out` (a sibling: `<out>.partial`)."""
    return out.with_name(out.name + ".partial")


def _work_key(plan: BuildPlan, spec_options: dict[str, Any], engine_label: str) -> str:
    from zbb import __version__

    blob = json.dumps([plan.digest(), spec_options, engine_label, __version__], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _screen(
    plan: BuildPlan, asr_spec: Any, engine: Any, retry: RetryPolicy, progress: bool, *, drop: bool
) -> tuple[dict[str, Any], set[str]]:
    """Run the ASR screen on the plan's claims; (manifest entry, subjects to leave out)."""
    from zbb.builder.levels import normalise
    from zbb.builder.render import synthesize
    from zbb.builder.screen import screen_claims, screening_asr
    from zbb.builder.splice import prepare

    asr = screening_asr(asr_spec)
    sr = plan.sample_rate

    def speak(text: str, voice: str, where: str) -> np.ndarray:
        utt = prepare(synthesize(engine, text, voice, where=where, retry=retry), sr, where=where)
        return normalise(utt.samples, sr, plan.levels)

    claims = [(ip.item.id, ip.item.subject, ip.claim, ip.voice) for ip in plan.items]
    results = screen_claims(claims, speak, asr, sample_rate=sr, progress=progress)
    missed = [r for r in results if not r.recognised]
    dropped = {r.subject.lower() for r in missed} if drop else set()
    entry = {
        "asr": asr.describe(),
        "claims": len(results),
        "unrecognised": [{"id": r.id, "subject": r.subject, "heard": r.heard} for r in missed],
        "dropped_subjects": sorted(dropped),
    }
    return entry, dropped


def build_dataset(
    out: str | Path,
    *,
    bank: str | Path | None = None,
    recipe: str | Path | None = None,
    seed: int = 0,
    engine: str | Any = "hibari",
    engine_options: dict[str, Any] | None = None,
    voices: Sequence[str] | None = None,
    conditions: Sequence[str] = CONDITIONS,
    preset: str = "full",
    sample_rate: int = 24000,
    num_proc: int = 1,
    progress: bool = True,
    retry: RetryPolicy = RetryPolicy(),
    keep_work: bool = False,
    levels: Levels | None = None,
    screen_asr: str | Any | None = None,
    screen_drop: bool = False,
) -> BuildReport:
    """Build the ZBB dataset into `out` (a Hugging Face dataset folder), resuming any earlier partial build.

    `engine` is a registry name (constructed with `engine_options`) or an engine instance (single process).
    The bank and recipe are checked before anything is written; `out` is replaced only by a complete build.
    `voices` default to the engine's `default_voices()` (hibari: its bundled voice) or else all its voices;
    `levels` default to `default_levels(engine)` (v2: -23 LUFS, -1 dBTP, room tone; espeak: v1 levels).
    `screen_asr` ("whisper", "nemo:MODEL", an engine...) transcribes every claim first and records the items
    whose subject it did not hear; with `screen_drop` their subjects are left out of the build.
    """
    from zbb.bank import bank_sha256, load_bank, load_recipe
    from zbb.builder.writer import check_replaceable

    started = time.perf_counter()
    out = Path(out)
    items = load_bank(bank)
    rec = load_recipe(recipe)
    check_replaceable(out)
    options = dict(engine_options or {})
    spec: EngineSpec | None = None
    if isinstance(engine, str):
        spec = EngineSpec(engine, options)
        engine_obj = spec.create()
    else:
        engine_obj = engine
        if num_proc > 1:
            raise ZbbError("num_proc > 1 needs the engine by registry name, not an instance")
    engine_name = getattr(engine_obj, "name", str(engine))
    available = list(engine_obj.voices())
    defaults = getattr(engine_obj, "default_voices", None)
    chosen = list(voices) if voices else (list(defaults()) if defaults else available)
    unknown = [v for v in chosen if v not in available]
    if unknown:
        raise ZbbError(f"engine {engine_name!r} has no voice(s) {unknown}; available: {', '.join(available)}")
    ensure = getattr(engine_obj, "ensure_voices", None)
    if ensure is not None:  # fetch voices that are not on this machine once, here, before any worker needs them
        ensure(chosen)
    engine_label = engine_obj.describe()
    levels = levels if levels is not None else default_levels(engine_name)

    def make_plan(items: list) -> BuildPlan:
        return plan_build(
            items,
            rec,
            seed=seed,
            engine_name=engine_name,
            voices=chosen,
            conditions=conditions,
            preset=preset,
            sample_rate=sample_rate,
            bank_sha256=bank_sha256(items),
            levels=levels,
        )

    plan = make_plan(items)
    screened: dict[str, Any] | None = None
    if screen_asr is not None:
        screened, dropped = _screen(plan, screen_asr, engine_obj, retry, progress, drop=screen_drop)
        if dropped:
            plan = make_plan([item for item in items if item.subject.lower() not in dropped])

    partial = work_dir(out)
    work = partial / _work_key(plan, options, engine_label)
    try:
        return _render_and_publish(
            plan, work, out, partial, spec, engine_obj, engine_label, engine_name, chosen, preset, seed,
            sample_rate, num_proc, retry, progress, keep_work, started, screened,
        )  # fmt: skip
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        shutil.rmtree(work / "dataset", ignore_errors=True)  # shards are rebuilt from the rendered items anyway
        raise DiskFullError(disk_full_message(exc, out, partial, work, len(plan.items))) from exc


class DiskFullError(ZbbError):
    """The disk filled up during a build; the message says where, how much more is needed and how to resume."""


def is_disk_full(exc: OSError) -> bool:
    """ENOSPC, however it arrives: with its errno, or as numpy's "N requested and M written" (no errno)."""
    text = str(exc)
    return (
        exc.errno in (errno.ENOSPC, errno.EDQUOT)
        or "No space left on device" in text
        or ("requested and" in text and "written" in text)
    )


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def disk_full_message(exc: OSError, out: Path, partial: Path, work: Path, n_items: int) -> str:
    """What to tell the user when the disk filled: the path, the space needed (estimated from the items rendered
    so far), that the previous dataset is untouched, and how to resume or clean up."""
    where = exc.filename or partial
    rendered = sorted((work / "items").glob("*.arrow")) if (work / "items").is_dir() else []
    used = _bytes_under(partial)
    try:
        free = shutil.disk_usage(partial if partial.exists() else partial.parent).free
    except OSError:
        free = 0
    if rendered:
        per_item = sum(p.stat().st_size for p in rendered) / len(rendered)
        # the rendered items, then the dataset shards (about the same bytes again) while both exist
        need = max(0, int(2 * per_item * n_items) - used)
        needed = f"about {need / 2**20:,.0f} MiB more ({len(rendered)} of {n_items} items rendered, "
        needed += f"{per_item / 2**10:,.0f} KiB each, written once as items and once as dataset shards)"
    else:
        needed = "unknown (no item was rendered yet)"
    previous = (
        f"The previous complete dataset in {out} is untouched. "
        if (out / "zbb_build.json").is_file()
        else f"Nothing was written to {out}. "
    )
    return (
        f"no space left on device while writing {where} ({free / 2**20:,.0f} MiB free there; needed: {needed}). "
        f"{previous}The rendered items are kept in {partial} ({used / 2**20:,.0f} MiB): free some space and run "
        f"the same command again to resume, or delete {partial} to clean up."
    )


def _render_and_publish(
    plan: BuildPlan,
    work: Path,
    out: Path,
    partial: Path,
    spec: EngineSpec | None,
    engine_obj: Any,
    engine_label: str,
    engine_name: str,
    chosen: list[str],
    preset: str,
    seed: int,
    sample_rate: int,
    num_proc: int,
    retry: RetryPolicy,
    progress: bool,
    keep_work: bool,
    started: float,
    screened: dict[str, Any] | None = None,
) -> BuildReport:
    """Render `plan` in `work` (resuming), write the shards, and publish them to `out`."""
    from zbb import __version__
    from zbb.bank import bank_version
    from zbb.builder.card import render_card
    from zbb.builder.levels import LEGACY
    from zbb.builder.writer import ShardWriter, fingerprint, publish, write_manifest
    from zbb.io import atomic_write_text

    work.mkdir(parents=True, exist_ok=True)
    atomic_write_text(work / "plan.json", json.dumps(plan.to_dict(), ensure_ascii=False) + "\n")

    staging = work / "dataset"
    if staging.exists():
        shutil.rmtree(staging)  # a staging folder left by a crash: rebuilt from the chunks
    staging.mkdir()
    # the shards are written in plan order while later items render (the main process is otherwise idle)
    shards = ShardWriter(staging, plan.conditions, len(plan.items), sample_rate)
    try:
        counts = render_plan(
            plan,
            work,
            engine=engine_obj,
            spec=spec,
            engine_label=engine_label,
            num_proc=num_proc,
            retry=retry,
            progress=progress,
            on_item=lambda i: shards.add(work / "items" / f"{item_key(plan.items[i].item.id)}.arrow"),
        )
    except BaseException:
        shards.abort()
        raise
    stats = shards.close()
    has_timings = TIMINGS_SOURCES.get(
        engine_name, "pocketsphinx forced alignment (words it cannot place share the rest by letters)"
    )
    levels = plan.levels
    manifest = {
        "fingerprint": fingerprint(staging),
        "zbb_version": __version__,
        "preset": preset,
        "seed": seed,
        "engine": engine_name,
        "tts_engine": engine_label,
        "voices": chosen,
        "sample_rate": sample_rate,
        "audio_format": "FLAC PCM_16 mono",
        "bank_sha256": plan.bank_sha256,
        "bank_version": bank_version(plan.bank_sha256),
        "stimulus_version": 1 if levels == LEGACY else 2,
        "levels": levels.to_dict(),
        **({"screen": screened} if screened is not None else {}),
        "recipe_version": plan.recipe_version,
        "plan_sha256": plan.digest(),
        "word_timings": has_timings,
        "counts": {c: s["rows"] for c, s in stats.items()},
        "audio_seconds": round(sum(s["audio_seconds"] for s in stats.values()), 3),
        "shards": {c: s["shards"] for c, s in stats.items()},
        "num_bytes": {c: s["num_bytes"] for c, s in stats.items()},
    }
    write_manifest(staging, manifest)
    atomic_write_text(staging / "README.md", render_card(manifest))
    publish(staging, out)
    if not keep_work:
        shutil.rmtree(partial, ignore_errors=True)
    return BuildReport(
        out=out,
        fingerprint=manifest["fingerprint"],
        counts=manifest["counts"],
        items_rendered=counts["rendered"],
        items_resumed=counts["resumed"],
        audio_seconds=manifest["audio_seconds"],
        elapsed_s=time.perf_counter() - started,
        screen=screened,
    )
