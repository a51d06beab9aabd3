"""Rendering a plan: synthesise each distinct (text, voice) once, splice rows, encode FLAC, keep per-item chunks.

Each distinct utterance is resampled, trimmed and converted to 16-bit PCM once; rows are laid out as pieces of
those samples and shared silence and streamed to the FLAC encoder, never joined into one float array.

The work folder (`<out>.partial/<key>/`, keyed by the plan digest and the engine) holds finished pieces only:
`units/<sha>.npy` (a shared context or filler, trimmed, at the output rate, int16) and `items/<sha>.arrow` (an item's
rows in every condition, audio encoded). Each is written aside and renamed, so a killed build leaves only whole
pieces, and a rerun renders just what is missing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zbb.builder.levels import normalise, room_tone, with_effort
from zbb.builder.plan import BuildPlan, ItemPlan
from zbb.builder.splice import RowAudio, Utterance, assemble, encode_flac, mix_floor, prepare, to_pcm16
from zbb.conditions import NO_INTERRUPT
from zbb.errors import EngineError, ZbbError
from zbb.retry import RetriesExhausted, RetryPolicy
from zbb.tts.base import Synthesis, TTSEngine, WordSpan


@dataclass(frozen=True)
class EngineSpec:
    """How to construct an engine in any process: registry name + keyword options (picklable)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def create(self) -> TTSEngine:
        from zbb.tts import TTS_ENGINES

        cls = TTS_ENGINES.get(self.name)
        try:
            return cls(**self.options)
        except TypeError as exc:
            raise EngineError(f"engine {self.name!r} does not take options {sorted(self.options)} ({exc})") from exc


def synthesize(engine: TTSEngine, text: str, voice: str, *, where: str, retry: RetryPolicy) -> Synthesis:
    """Call the engine under `retry` (any failure is retried, then reported with its item; none is swallowed).

    After the last attempt raises EngineError naming `where` (the item id) and the last failure.
    """
    try:
        result = retry.call(lambda: engine.synthesize(text, voice))
    except RetriesExhausted as exc:
        raise EngineError(
            f"{where}: TTS engine {getattr(engine, 'name', engine)!r} failed {exc.attempts} time(s) "
            f"on {text!r} (voice {voice!r}); last error: {exc.last}"
        ) from exc.last
    if not isinstance(result, Synthesis) or result.n_samples == 0:
        raise EngineError(f"{where}: TTS engine returned no audio for {text!r} (voice {voice!r})")
    return result


def unit_key(text: str, voice: str) -> str:
    return hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()[:24]


def item_key(item_id: str) -> str:
    return hashlib.sha256(item_id.encode()).hexdigest()[:24]


def _save_atomic(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _tokens(text: str) -> list[str]:
    import re

    return [t.lower() for t in re.findall(r"[^\W_]+(?:'[^\W_]+)?", text)]


@dataclass
class Renderer:
    """Renders units and items of one plan into a work folder (one per process; holds the engine and a cache)."""

    plan: BuildPlan
    work: Path
    engine: Any
    engine_label: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timings_source: str = "engine"
    _units: dict[str, Utterance] = field(default_factory=dict)

    @property
    def units_dir(self) -> Path:
        return self.work / "units"

    @property
    def items_dir(self) -> Path:
        return self.work / "items"

    def render_unit(self, text: str, voice: str, where: str) -> str:
        """Synthesise and store one shared utterance unless already stored; returns its key."""
        key = unit_key(text, voice)
        path = self.units_dir / f"{key}.npy"
        if not path.exists():
            utt = self._prepare(text, voice, where)
            samples = to_pcm16(utt.samples)

            def write(p: Path) -> None:  # closed before the rename (an unclosed file may not be flushed yet)
                with p.open("wb") as fh:
                    np.save(fh, samples, allow_pickle=False)

            _save_atomic(path, write)
        return key

    def _prepare(self, text: str, voice: str, where: str) -> Utterance:
        """Synthesise, trim and ramp one utterance at the output rate, at the plan's loudness and peak ceiling."""
        sr = self.plan.sample_rate
        utt = prepare(synthesize(self.engine, text, voice, where=where, retry=self.retry), sr, where=where)
        return Utterance(normalise(utt.samples, sr, self.plan.levels), utt.words)

    def _unit(self, text: str, voice: str, where: str) -> Utterance:
        key = unit_key(text, voice)
        if key not in self._units:
            path = self.units_dir / f"{key}.npy"
            if not path.exists():  # normally rendered beforehand; render here so an item never depends on order
                self.render_unit(text, voice, where)
            samples = np.load(path, allow_pickle=False)
            self._units[key] = Utterance(samples if samples.dtype == np.int16 else to_pcm16(samples))
        return self._units[key]

    def claim_words(self, ip: ItemPlan, claim: Utterance) -> tuple[WordSpan, ...]:
        where = f"item {ip.item.id}"
        words = claim.words
        if not words:
            from zbb.builder.align import align_words

            words = align_words(claim.samples, self.plan.sample_rate, ip.claim, where=where)
        if words[0].start != 0:  # the claim was trimmed to its first sound, which is the subject's by design
            words = (WordSpan(words[0].word, 0, max(words[0].end, 1)), *words[1:])
        expected = _tokens(ip.claim)
        got = [w.word.lower() for w in words]
        if not got or _tokens(got[0])[:1] != expected[:1] or _tokens(ip.item.subject)[:1] != expected[:1]:
            raise EngineError(
                f"{where}: word timings do not start with the subject {ip.item.subject!r}: "
                f"expected first word {expected[:1]}, got {got[:3]}"
            )
        return words

    def render_item(self, ip: ItemPlan) -> Path:
        """Render every row of one item (claim synthesised once) into `items/<key>.arrow`, unless present."""
        path = self.items_dir / f"{item_key(ip.item.id)}.arrow"
        if path.exists():
            return path
        from zbb.audio import seconds

        where = f"item {ip.item.id}"
        sr = self.plan.sample_rate
        levels = self.plan.levels
        claim = self._prepare(ip.claim, ip.voice, where)
        words = self.claim_words(ip, claim)
        claim = Utterance(to_pcm16(claim.samples), claim.words)
        # the interruption (claim, filler) of the interrupt conditions may be spoken with more effort
        effortful = Utterance(with_effort(claim.samples, levels), claim.words)
        laid_out: list[RowAudio] = []
        for row in ip.rows:
            interrupting = row.condition != NO_INTERRUPT
            context = self._unit(row.context_text, ip.voice, where)
            buffer = self._unit(row.buffer_text, ip.voice, where) if row.buffer_text else None
            if buffer is not None and interrupting:
                buffer = Utterance(with_effort(buffer.samples, levels))
            laid_out.append(
                assemble(
                    context,
                    effortful if interrupting else claim,
                    lead_in=row.lead_in,
                    gap=row.gap,
                    tail=row.tail,
                    buffer=buffer,
                    buffer_gap=row.buffer_gap,
                )
            )
        if levels.noise_dbfs is not None:  # one room tone per item, lined up with the claim's onset in every row
            before = max(a.onset for a in laid_out)
            floor = room_tone(
                before + max(a.n - a.onset for a in laid_out), self.plan.noise_seed(ip.item.id), levels, sr
            )
            laid_out = [mix_floor(a, floor[before - a.onset : before - a.onset + a.n]) for a in laid_out]
        rows = []
        for row, audio in zip(ip.rows, laid_out, strict=True):
            item = ip.item
            rows.append(
                {
                    "id": item.id,
                    "subject": item.subject,
                    "description": item.description,
                    "label": item.label,
                    "category": item.category,
                    "text": ip.claim,
                    "condition": row.condition,
                    "audio": {"bytes": encode_flac(audio.pieces, sr), "path": f"{item.id}.flac"},
                    "onset_s": seconds(audio.onset, sr),
                    "subject_end_s": seconds(audio.onset + words[0].end, sr),
                    "end_s": seconds(audio.end, sr),
                    "duration_s": seconds(audio.n, sr),
                    "context_text": row.context_text,
                    "buffer_text": row.buffer_text,
                    "buffer_onset_s": None if audio.buffer_onset is None else seconds(audio.buffer_onset, sr),
                    "voice": ip.voice,
                    "tts_engine": self.engine_label,
                    "claim_words": [
                        {
                            "word": w.word,
                            "start": seconds(audio.onset + w.start, sr),
                            "end": seconds(audio.onset + w.end, sr),
                        }
                        for w in words
                    ],
                    "aliases": list(item.aliases),
                }
            )
        import pyarrow as pa

        from zbb.builder.writer import chunk_table

        table = chunk_table(rows, sr)  # not pa.Table.from_pylist: that imports pandas in every worker

        def write(p: Path) -> None:
            with pa.OSFile(str(p), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)

        _save_atomic(path, write)
        return path


# ------------------------------------------------------------------------------ process-pool plumbing (spawn-safe)
_WORKER: Renderer | None = None


def _init_worker(plan: BuildPlan, work: Path, spec: EngineSpec, engine_label: str, retry: RetryPolicy) -> None:
    global _WORKER
    _WORKER = Renderer(plan, work, spec.create(), engine_label, retry)


def _unit_task(args: tuple[str, str, str]) -> str:
    assert _WORKER is not None  # set by the pool initializer
    return _WORKER.render_unit(*args)


def _item_task(index: int) -> int:
    assert _WORKER is not None
    _WORKER.render_item(_WORKER.plan.items[index])
    return index


def ensure_work_dirs(work: Path) -> None:
    (work / "units").mkdir(parents=True, exist_ok=True)
    (work / "items").mkdir(parents=True, exist_ok=True)


class _InPlanOrder:
    """Calls `on_item(index)` for every item in plan order, as soon as it and all items before it are done."""

    def __init__(self, done: list[bool], on_item: Callable[[int], None] | None):
        self.done, self.on_item, self.next = done, on_item, 0

    def mark(self, index: int) -> None:
        self.done[index] = True
        self.flush()

    def flush(self) -> None:
        while self.next < len(self.done) and self.done[self.next]:
            if self.on_item is not None:
                self.on_item(self.next)
            self.next += 1


def render_plan(
    plan: BuildPlan,
    work: Path,
    *,
    engine: TTSEngine | None,
    spec: EngineSpec | None,
    engine_label: str,
    num_proc: int = 1,
    retry: RetryPolicy = RetryPolicy(),
    progress: bool = True,
    on_item: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Render every missing unit and item of `plan` into `work`; returns counts of rendered vs resumed items.

    With `num_proc > 1` a spawn pool renders items in parallel; each process builds its own engine from `spec`.
    `on_item(index)` is called in this process for every item, in plan order, once its chunk is in `work`
    (resumed items first): the caller writes the dataset while later items still render.
    """
    from tqdm import tqdm

    ensure_work_dirs(work)
    renderer = Renderer(plan, work, engine, engine_label, retry)
    first_user: dict[tuple[str, str], str] = {}
    for ip in plan.items:
        for row in ip.rows:
            first_user.setdefault((row.context_text, ip.voice), ip.item.id)
            if row.buffer_text:
                first_user.setdefault((row.buffer_text, ip.voice), ip.item.id)
    units = [
        (t, v, f"item {first_user[(t, v)]}")
        for t, v in plan.units()
        if not (work / "units" / f"{unit_key(t, v)}.npy").exists()
    ]
    todo = [i for i, ip in enumerate(plan.items) if not (work / "items" / f"{item_key(ip.item.id)}.arrow").exists()]
    counts = {
        "items": len(plan.items),
        "resumed": len(plan.items) - len(todo),
        "rendered": len(todo),
        "units": len(plan.units()),
        "units_rendered": len(units),
    }
    in_order = _InPlanOrder([True] * len(plan.items), on_item)
    for i in todo:
        in_order.done[i] = False
    bar = tqdm(total=len(units) + len(todo), desc="zbb build", unit="utt", disable=not progress, leave=False)
    try:
        if num_proc <= 1 or len(todo) + len(units) < 2:
            in_order.flush()
            for args in units:
                renderer.render_unit(*args)
                bar.update()
            for i in todo:
                renderer.render_item(plan.items[i])
                in_order.mark(i)
                bar.update()
        else:
            if spec is None:
                raise ZbbError("num_proc > 1 needs an engine given by name (each process builds its own)")
            import multiprocessing as mp

            ctx = mp.get_context("spawn")  # eSpeak keeps global state: never fork a process that has it loaded
            with ctx.Pool(num_proc, initializer=_init_worker, initargs=(plan, work, spec, engine_label, retry)) as pool:
                unit_results = pool.imap_unordered(_unit_task, units, chunksize=4)  # queued: workers start on them
                in_order.flush()  # resumed items are written while the units render
                for _ in unit_results:
                    bar.update()
                chunk = max(1, min(16, len(todo) // (num_proc * 8) or 1))
                for i in pool.imap_unordered(_item_task, todo, chunksize=chunk):
                    in_order.mark(i)
                    bar.update()
    finally:
        bar.close()
    return counts
