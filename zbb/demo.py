"""The main job on embedded defaults: build ZBB, score the reference submissions, show the leaderboard."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

#: The default build and the results folder the repository commits (`submissions/`): only a full-preset demo
#: into the default dataset folder writes there, so a tiny or custom demo never replaces the committed references.
DEFAULT_OUT = Path("out/zbb")
DEFAULT_RESULTS = Path("submissions")


def default_out(preset: str) -> Path:
    """The dataset folder a demo of `preset` builds into when none is given: out/zbb, or out/zbb-<preset>."""
    return DEFAULT_OUT if preset == "full" else DEFAULT_OUT.with_name(f"zbb-{preset}")


def default_results(out: str | os.PathLike, preset: str) -> Path:
    """The results folder a demo writes when none is given: `submissions/` (the committed references) only for the
    full preset built into out/zbb; else a folder beside the dataset (out/zbb-tiny -> out/results-tiny)."""
    out = Path(out)
    if preset == "full" and out == DEFAULT_OUT:
        return DEFAULT_RESULTS
    return out.parent / f"results-{out.name.removeprefix('zbb-') if out.name != 'zbb' else preset}"


@dataclass(frozen=True)
class DemoReport:
    dataset: Path
    results_dir: Path
    built: bool  # False when an up-to-date build was reused
    fingerprint: str
    results: tuple[Path, ...]  # result files written into the results folder
    board_text: str


def _up_to_date(out: Path, *, preset: str, seed: int, sample_rate: int) -> bool:
    """True when `out` holds a complete build of exactly this plan by this zbb version (nothing to redo)."""
    from zbb import __version__
    from zbb.bank import bank_sha256, load_bank, load_recipe
    from zbb.builder import plan_build
    from zbb.conditions import CONDITIONS
    from zbb.dataset import MANIFEST
    from zbb.tts import TTS_ENGINES

    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    items = load_bank()
    from zbb.builder.levels import default_levels

    engine = TTS_ENGINES.get("hibari")()
    plan = plan_build(
        items,
        load_recipe(),
        seed=seed,
        engine_name=engine.name,
        voices=engine.default_voices(),
        conditions=CONDITIONS,
        preset=preset,
        sample_rate=sample_rate,
        bank_sha256=bank_sha256(items),
        levels=default_levels(engine.name),
    )
    return manifest.get("plan_sha256") == plan.digest() and manifest.get("zbb_version") == __version__


def _current_simulations(results: Path, fingerprint: str) -> list[Path]:
    """The simulated-listener results already in `results` if there is one per delay, each made by the current
    listener (its meta) and scored by this zbb version on this dataset with the current normaliser and default judge
    (so re-scoring would change nothing but the date); else []."""
    from zbb import __version__
    from zbb.errors import ZbbError
    from zbb.results import load_result
    from zbb.score.judge import make_judge
    from zbb.score.normalise import normaliser_id
    from zbb.score.simulate import DELAYS_MS, listener_meta

    found: dict[int, Path] = {}
    for path in sorted(results.glob("*--simulation.json")):
        try:
            result = load_result(path)
        except ZbbError:
            return []
        prov = result.provenance
        if (prov.kind, prov.dataset_fingerprint, prov.zbb_version, prov.normaliser, prov.judge) != (
            "simulation",
            fingerprint,
            __version__,
            normaliser_id(),
            make_judge("rule").id,
        ):
            return []
        missed = int(result.meta.decoding.get("missed_ms", -1))
        if result.meta.to_dict() != replace(listener_meta(missed), dataset=fingerprint).to_dict():
            return []  # made by another version of the listener
        found[missed] = path
    return [found[d] for d in DELAYS_MS] if set(found) == set(DELAYS_MS) else []


def run_demo(
    out: str | os.PathLike | None = None,
    results: str | os.PathLike | None = None,
    *,
    preset: str = "full",
    seed: int = 0,
    sample_rate: int = 24000,
    num_proc: int | None = None,
    rebuild: bool = False,
    progress: bool = True,
    log: Callable[[str], object] = print,
) -> DemoReport:
    """Build (or reuse) the dataset, write the simulated-listener and paper-reported results into `results`,
    and return the default leaderboard view as text. Without `out` / `results`: `default_out(preset)` and
    `default_results(out, preset)` (only the full preset into out/zbb writes the committed `submissions/`)."""
    from zbb.builder import build_dataset
    from zbb.dataset import open_dataset
    from zbb.leaderboard.store import ResultStore
    from zbb.leaderboard.table import ViewState, apply_view, build_board
    from zbb.leaderboard.text import format_board
    from zbb.score.reference import write_paper_results
    from zbb.score.simulate import simulate_and_score

    out = Path(out) if out is not None else default_out(preset)
    results = Path(results) if results is not None else default_results(out, preset)
    built = rebuild or not _up_to_date(out, preset=preset, seed=seed, sample_rate=sample_rate)
    if built:
        log(f"[1/3] building ZBB ({preset}) into {out} with the embedded hibari engine (natural speech, offline)")
        build_dataset(
            out,
            preset=preset,
            seed=seed,
            sample_rate=sample_rate,
            num_proc=num_proc or os.cpu_count() or 1,
            progress=progress,
        )
    else:
        log(f"[1/3] {out} is an up-to-date build of this plan: reused (pass --rebuild to build again)")
    dataset = open_dataset(out)
    log(f"      fingerprint {dataset.fingerprint}")
    current = _current_simulations(results, dataset.fingerprint)
    if current:
        log(
            f"[2/3] simulated-listener results in {results}/ are current for this dataset: kept; "
            "writing the paper's Table 2"
        )
        written = current
    else:
        log(f"[2/3] scoring the reference submissions into {results}/ (simulated listeners + the paper's Table 2)")
        written = list(simulate_and_score(dataset, out.parent / f"{out.name}-simulated", results))
    written += write_paper_results(results)
    log("[3/3] leaderboard (correctness and IWOR with 95% Wilson intervals; rank by interrupt correctness)")
    store = ResultStore(results)
    rows = apply_view(build_board(store.summaries()), ViewState())
    return DemoReport(
        dataset=out,
        results_dir=results,
        built=built,
        fingerprint=dataset.fingerprint,
        results=tuple(written),
        board_text=format_board(rows),
    )
