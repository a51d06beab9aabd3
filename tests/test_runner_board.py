"""Runs made by `zbb run` on the leaderboard: their provenance shows, and several alphas fill the dose-response."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from zbb.leaderboard import plots
from zbb.leaderboard.synthetic import synthetic_run
from zbb.leaderboard.table import build_board, run_rows
from zbb.records import RunMeta
from zbb.runner.run import RunOptions, plan_variants
from zbb.steering import PerceptionVector
from zbb.submission.schema import MetaModel


def runner_metas(alphas: tuple[float, ...]) -> list[RunMeta]:
    """The meta.json records `zbb run --both --alpha ...` writes (no model needed to plan them)."""
    vector = PerceptionVector(np.ones(4096, dtype=np.float32), layer=23, layer_base=1, model_id="kyutai/moshiko")
    variants = plan_variants(
        RunOptions(dataset="ds", out=Path("runs"), backend="moshi", vector=Path("v.npz"), alphas=alphas, both=True),
        dataset_conditions=["no_interrupt", "interrupt"],
        fingerprint="f00dfeedcafe0123",
        backend_info={"model_id": "kyutai/moshiko-pytorch-bf16", "revision": "2bfc9ae6e89079a2cc7d0e8a2c3e8a2c"},
        vector=vector,
    )
    return [v.meta for v in variants]


def test_runner_meta_passes_the_submission_boundary():
    for meta in runner_metas((5.5,)):
        assert MetaModel.model_validate(meta.to_dict()).to_record() == meta


def test_board_shows_how_a_run_was_made_and_fills_the_dose_response():
    metas = runner_metas((2.0, 5.5, 8.0))
    rates = {2.0: (0.25, 0.40), 5.5: (0.34, 0.64), 8.0: (0.30, 0.55)}
    runs = []
    for seed, meta in enumerate(metas):
        if meta.steering is None:
            run = synthetic_run("Moshi", {"no_interrupt": (0.43, 0.67), "interrupt": (0.22, 0.29)}, kind="reproduced")
        else:
            alpha = meta.steering.alpha
            assert alpha is not None
            run = synthetic_run("Moshi", {"interrupt": rates[alpha]}, kind="reproduced", seed=seed + 1)
        runs.append(dataclasses.replace(run, meta=meta))
    board = build_board(runs)
    rows = {r["steering"]: r for r in run_rows(board)}
    assert rows["off"]["made with"] == "zbb run --backend moshi · kyutai/moshiko-pytorch-bf16@2bfc9ae6e890"
    sha = metas[1].steering.vector_sha256 if metas[1].steering else None
    assert sha is not None
    assert rows["L23 α=5.5 dT=3"]["made with"] == (
        f"zbb run --backend moshi · kyutai/moshiko-pytorch-bf16@2bfc9ae6e890 · layers from 1 · energy onset · "
        f"vector {sha[:12]}"
    )
    points = plots.dose_response_points(board, "correct")
    (curve,) = points.values()
    assert [round(alpha, 2) for alpha, *_ in curve] == [0.0, 2.0, 5.5, 8.0]
    assert [round(rate, 2) for _, rate, *_ in curve] == [0.22, 0.25, 0.34, 0.30]


def test_runs_without_runner_provenance_show_nothing_made_up():
    board = build_board([synthetic_run("X", {"interrupt": (0.5, 0.5)})])
    assert run_rows(board)[0]["made with"] == ""
