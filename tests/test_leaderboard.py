"""The leaderboard's plain functions: pairing, figures, ranking, view state, exports, store, plots, upload staging.

Runs are built with `synthetic_run`, whose outcomes hold exactly the rates asked for, so every expected figure
below follows from the inputs (or from an independent computation over the items).
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from zbb.errors import ZbbError
from zbb.leaderboard import plots
from zbb.leaderboard.store import HubResults, ResultStore, safe_part
from zbb.leaderboard.submit import stage_upload
from zbb.leaderboard.synthetic import synthetic_run
from zbb.leaderboard.table import (
    COLUMN_GROUPS,
    RunSummary,
    ViewState,
    apply_view,
    build_board,
    display_table,
    export_records,
    items_csv,
    items_jsonl,
    pair_runs,
    paired_p,
    rank_rows,
    run_rows,
    to_csv,
    to_json,
)
from zbb.records import ItemScore, Steering
from zbb.stats import mcnemar_exact

STEER = Steering(layer=23, alpha=5.5, span=3)


def steer(alpha: float) -> Steering:
    return Steering(layer=23, alpha=alpha, span=3)


def paper_moshi():
    return [
        synthetic_run(
            "Moshi", {"no_interrupt": (0.43, 0.67), "interrupt": (0.22, 0.29)}, kind="paper-reported", items=False
        ),
        synthetic_run("Moshi", {"interrupt": (0.34, 0.64)}, kind="paper-reported", items=False, steering=STEER),
    ]


def row_of(board, model, kind):
    return next(r for r in board.rows if r["model"] == model and r["kind"] == kind)


# ------------------------------------------------------------------------------------------------ pairing
def test_runs_pair_by_model_and_provenance_kind():
    runs = paper_moshi() + [
        synthetic_run("Moshi", {"no_interrupt": (0.5, 0.7), "interrupt": (0.2, 0.3)}, kind="reproduced"),
        synthetic_run("Moshi", {"interrupt": (0.3, 0.6)}, kind="reproduced", steering=STEER, seed=1),
        synthetic_run("PersonaPlex", {"no_interrupt": (0.49, 0.74), "interrupt": (0.28, 0.40)}),
    ]
    entries = {(e.model, e.kind): e for e in pair_runs(runs)}
    assert set(entries) == {("Moshi", "paper-reported"), ("Moshi", "reproduced"), ("PersonaPlex", "self-reported")}
    moshi = entries[("Moshi", "reproduced")]
    assert not moshi.unsteered.result.steered and moshi.steered.result.steered
    assert entries[("PersonaPlex", "self-reported")].steered is None


def test_main_row_uses_best_steered_run_ties_most_recent_and_lists_every_run():
    base = synthetic_run("M", {"no_interrupt": (0.5, 0.7), "interrupt": (0.2, 0.3)})
    runs = [
        base,
        synthetic_run("M", {"interrupt": (0.25, 0.4)}, steering=steer(1.0), seed=1),
        synthetic_run("M", {"interrupt": (0.40, 0.6)}, steering=steer(5.5), seed=2, scored_at="2026-06-01T00:00Z"),
        synthetic_run("M", {"interrupt": (0.40, 0.5)}, steering=steer(8.0), seed=3, scored_at="2026-06-09T00:00Z"),
    ]
    board = build_board(runs)
    (entry,) = board.entries
    assert entry.steered.result.meta.steering.alpha == 8.0  # tie at 0.40 -> the most recent
    assert board.rows[0]["steering"] == "L23 α=8 dT=3" and board.rows[0]["steered_runs"] == 3
    assert len(run_rows(board)) == 4
    assert sum(r["main"] for r in run_rows(board)) == 2


# ------------------------------------------------------------------------------------------------ figures
def test_paper_figures_delta_recovery_and_gaps():
    board = build_board(paper_moshi())
    row = row_of(board, "Moshi", "paper-reported")
    assert row["int_correct"] == pytest.approx(0.22) and row["steer_correct"] == pytest.approx(0.34)
    assert row["delta_correct"] == pytest.approx(0.12)
    assert row["recovery_correct"] == pytest.approx((0.34 - 0.22) / (0.43 - 0.22))
    assert row["recovery_iwor"] == pytest.approx((0.64 - 0.29) / (0.67 - 0.29))
    assert row["inertia_gap_correct"] == pytest.approx(0.21)
    assert row["buffer_gap_correct"] is None  # no buffered condition in the paper
    assert row["delta_correct_p"] is None  # no per-item rows: no paired test
    assert row["int_correct_lo"] < 0.22 < row["int_correct_hi"]
    assert row["int_n"] == 100 and row["steer_n"] == 100


def test_mcnemar_p_is_computed_on_the_shared_rows():
    base = synthetic_run("M", {"no_interrupt": (0.5, 0.7), "interrupt": (0.2, 0.3), "interrupt_buffered": (0.35, 0.5)})
    steered = synthetic_run("M", {"interrupt": (0.45, 0.6)}, steering=STEER, seed=7)
    row = build_board([base, steered]).rows[0]
    a = {i.id: i.correct for i in base.items if i.condition == "interrupt"}
    b = {i.id: i.correct for i in steered.items if i.condition == "interrupt"}
    a_only = sum(a[k] and not b[k] for k in a)
    b_only = sum(b[k] and not a[k] for k in a)
    assert row["delta_correct_p"] == pytest.approx(mcnemar_exact(a_only, b_only))
    assert row["delta_correct_n"] == 100
    assert row["buffer_gap_correct"] == pytest.approx(0.15)
    # the scorer's paired comparison agrees where it is installed
    score = pytest.importorskip("zbb.score")
    assert score.compare_runs(base, steered, "correctness").mcnemar_p == pytest.approx(row["delta_correct_p"])


def test_paired_p_without_shared_rows_is_none():
    a = RunSummary.of(synthetic_run("M", {"interrupt": (0.2, 0.3)}))
    b = RunSummary.of(synthetic_run("M", {"no_interrupt": (0.2, 0.3)}, steering=STEER))
    assert paired_p(a, b, "interrupt", "correct") == (None, 0)


# ------------------------------------------------------------------------------------------------ ranking
@pytest.mark.parametrize(
    "intervals, expected",
    [
        ([(0.6, 0.8), (0.5, 0.7), (0.1, 0.3)], [1, 1, 3]),  # overlap shares rank 1; third below both
        ([(0.6, 0.8), (0.4, 0.55), (0.1, 0.3)], [1, 2, 3]),  # strictly separated
        ([(0.2, 0.4), (0.2, 0.4)], [1, 1]),  # identical intervals tie
        ([(0.7, 0.9), (0.1, 0.75), (0.0, 0.2)], [1, 1, 2]),  # a wide interval overlaps both
        ([], []),
    ],
)
def test_rank_is_one_plus_rows_whose_lower_bound_exceeds_upper(intervals, expected):
    rows = [{"kind": "reproduced", "m_lo": lo, "m_hi": hi} for lo, hi in intervals]
    assert rank_rows(rows, "m") == expected


def test_missing_metric_and_simulations_take_no_rank():
    rows = [
        {"kind": "reproduced", "m_lo": 0.1, "m_hi": 0.2},
        {"kind": "reproduced", "m_lo": None, "m_hi": None},
        {"kind": "simulation", "m_lo": 0.8, "m_hi": 0.9},
    ]
    assert rank_rows(rows, "m") == [1, None, None]


def test_board_sorted_by_rank_with_paper_numbers():
    from zbb.score.reference import paper_results

    board = build_board(paper_results())
    assert [(r["model"], r["rank"]) for r in board.rows] == [("PersonaPlex", 1), ("Moshi", 1), ("Raon-SpeechChat", 3)]


def test_rank_by_unknown_column_is_an_error():
    with pytest.raises(ZbbError, match="cannot rank by 'nope'"):
        build_board([], rank_by="nope")


# ------------------------------------------------------------------------------------------------ view
def mixed_board():
    runs = paper_moshi() + [
        synthetic_run(
            "PersonaPlex-7B",
            {"no_interrupt": (0.49, 0.74), "interrupt": (0.28, 0.40)},
            kind="reproduced",
            family="personaplex",
        ),
        synthetic_run(
            "PersonaPlex-7B",
            {"interrupt": (0.45, 0.72)},
            kind="reproduced",
            family="personaplex",
            steering=STEER,
            seed=1,
        ),
        synthetic_run("Raon", {"no_interrupt": (0.1, 0.29), "interrupt": (0.03, 0.16)}),
        synthetic_run(
            "Simulated listener (misses 320 ms)",
            {"interrupt": (0.5, 0.3)},
            kind="simulation",
            family="simulation",
            decoding={"missed_ms": 320},
        ),
    ]
    return build_board(runs)


@pytest.mark.parametrize(
    "view, models",
    [
        (ViewState(), ["PersonaPlex-7B", "Moshi", "Raon", "Simulated listener (misses 320 ms)"]),
        (ViewState(search="PERSONA"), ["PersonaPlex-7B"]),
        (ViewState(steering="on"), ["PersonaPlex-7B", "Moshi"]),
        (ViewState(steering="off"), ["Raon", "Simulated listener (misses 320 ms)"]),
        (ViewState(provenance=("paper-reported", "self-reported")), ["Moshi", "Raon"]),
        (ViewState(family=("personaplex", "simulation")), ["PersonaPlex-7B", "Simulated listener (misses 320 ms)"]),
        (
            ViewState(sort="delta_correct", desc=True),
            ["PersonaPlex-7B", "Moshi", "Raon", "Simulated listener (misses 320 ms)"],
        ),
        (
            ViewState(sort="int_correct", desc=False),
            ["Raon", "Moshi", "PersonaPlex-7B", "Simulated listener (misses 320 ms)"],
        ),
        (ViewState(sort="model", desc=True), ["Simulated listener (misses 320 ms)", "Raon", "PersonaPlex-7B", "Moshi"]),
    ],
)
def test_filters_and_sorting(view, models):
    assert [r["model"] for r in apply_view(mixed_board(), view)] == models


@pytest.mark.parametrize(
    "view",
    [
        ViewState(),
        ViewState(sort="delta_iwor", desc=True, search="moshi 7b", steering="on"),
        ViewState(provenance=("reproduced", "simulation"), family=("moshi",), groups=("correct", "gaps")),
        ViewState(sort="model", desc=False, groups=()),
    ],
)
def test_view_state_round_trips_through_the_query_string(view):
    assert ViewState.from_query(view.to_query()) == view
    assert ViewState.from_query("?" + view.to_query()) == view


def test_default_view_has_an_empty_query_and_bad_values_fall_back():
    assert ViewState().to_query() == ""
    view = ViewState.from_query("sort=DROP&desc=1&steer=maybe&prov=paper-reported,forged&cols=iwor,bogus")
    assert view == ViewState(provenance=("paper-reported",), groups=("iwor",))
    assert ViewState.from_query({"q": ["moshi"], "steer": "on"}) == ViewState(search="moshi", steering="on")


# ------------------------------------------------------------------------------------------------ exports
def test_csv_and_json_of_a_view_hold_its_rows_and_columns():
    board = mixed_board()
    view = ViewState(steering="on", groups=("correct",))
    rows = apply_view(board, view)
    records = export_records(rows, view)
    parsed = list(csv.DictReader(io.StringIO(to_csv(records))))
    assert [r["model"] for r in parsed] == ["PersonaPlex-7B", "Moshi"]
    assert "int_iwor" not in parsed[0] and "int_correct_ci_low" in parsed[0]
    assert float(parsed[1]["int_correct"]) == pytest.approx(0.22)
    assert parsed[1]["provenance"] == "paper-reported"
    doc = json.loads(to_json(records, view))
    assert doc["view"] == "steer=on&cols=correct" and len(doc["rows"]) == 2
    assert doc["rows"][0]["steer_correct"] == pytest.approx(0.45)


def test_display_table_formats_rates_intervals_and_missing():
    board = build_board(paper_moshi())
    view = ViewState(groups=("correct", "steering"))
    headers, cells, types = display_table(board.rows, view)
    row = dict(zip(headers, cells[0], strict=True))
    assert row["Interrupt correctness"].startswith("**0.22** <sub>[0.15, 0.31]")
    assert row["Δ steer correctness"] == "+0.12" and row["McNemar p (correctness)"] == "–"
    assert len(types) == len(headers)
    assert to_csv([]) == ""


def test_item_downloads():
    items = synthetic_run("M", {"interrupt": (0.5, 0.5)}, n=4).items
    lines = items_jsonl(items).splitlines()
    assert [ItemScore.from_dict(json.loads(x)) for x in lines] == list(items)
    parsed = list(csv.DictReader(io.StringIO(items_csv(items))))
    assert [r["id"] for r in parsed] == ["item-000", "item-001", "item-002", "item-003"]
    assert sum(r["correct"] == "True" for r in parsed) == 2


# ------------------------------------------------------------------------------------------------ store
def test_store_add_list_load_and_summary_round_trip(tmp_path):
    store = ResultStore(tmp_path)
    run = synthetic_run("M", {"interrupt": (0.3, 0.4)}, n=10)
    key = store.add(run)
    assert key.startswith("m--unsteered--self-reported--") and (tmp_path / f"{key}.json").is_file()
    (summary,) = store.summaries()
    assert summary.key == key and summary.result.items == ()
    assert sum(c for c, _ in summary.outcomes["interrupt"].values()) == 3
    assert RunSummary.from_dict(json.loads(json.dumps(summary.to_dict()))) == summary
    assert store.load(key) == run
    index = json.loads((tmp_path / "index.json").read_text())
    assert list(index["files"]) == [f"{key}.json"]


def test_two_submissions_of_one_model_never_share_a_file(tmp_path):
    store = ResultStore(tmp_path)
    a = store.add(synthetic_run("M", {"interrupt": (0.3, 0.4)}, scored_at="2026-06-01T00:00Z"))
    b = store.add(synthetic_run("M", {"interrupt": (0.3, 0.4)}, scored_at="2026-06-02T00:00Z"))
    assert a != b and len(store.summaries()) == 2


def test_index_is_rebuilt_when_missing_corrupt_or_stale(tmp_path):
    from zbb.results import save_result

    store = ResultStore(tmp_path)
    key = store.add(synthetic_run("M", {"interrupt": (0.3, 0.4)}))
    (tmp_path / "index.json").write_text("{not json")
    assert len(store.summaries()) == 1 and json.loads((tmp_path / "index.json").read_text())["files"]
    (tmp_path / "index.json").unlink()
    assert len(store.summaries()) == 1
    # a result edited in place (different content, different size) is re-read
    save_result(synthetic_run("M", {"interrupt": (0.9, 0.4)}), tmp_path / f"{key}.json")
    assert store.summaries()[0].result.aggregates["interrupt"].correctness.rate == pytest.approx(0.9)
    # a file dropped in by hand (e.g. the scorer's paper results) appears; a deleted one disappears
    save_result(
        synthetic_run("N", {"interrupt": (0.1, 0.1)}, kind="paper-reported", items=False), tmp_path / "paper" / "n.json"
    )
    assert sorted(s.model for s in store.summaries()) == ["M", "N"]
    (tmp_path / f"{key}.json").unlink()
    assert [s.model for s in store.summaries()] == ["N"]


def test_foreign_json_is_ignored_and_a_broken_result_is_reported_by_name(tmp_path):
    store = ResultStore(tmp_path)
    store.add(synthetic_run("M", {"interrupt": (0.3, 0.4)}))
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "meta.json").write_text(json.dumps({"model": "a submission's meta"}))
    (tmp_path / "broken.json").write_text(json.dumps({"kind": "zbb-result", "meta": {"model": "X"}}))
    assert [s.model for s in store.summaries()] == ["M"]
    (problem,) = store.problems
    assert problem.where.endswith("broken.json") and "missing field" in problem.message


def test_concurrent_adds_keep_every_result_and_a_valid_index(tmp_path):
    errors = []

    def add(i):
        try:
            ResultStore(tmp_path).add(synthetic_run(f"model-{i}", {"interrupt": (0.3, 0.4)}, n=20, seed=i))
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    index = json.loads((tmp_path / "index.json").read_text())
    assert len(index["files"]) == 8
    assert len(ResultStore(tmp_path).summaries()) == 8
    assert not list(tmp_path.glob(".*.tmp"))


def test_output_audio_is_stored_under_safe_names(tmp_path):
    store = ResultStore(tmp_path / "store")
    wav = tmp_path / "whatever-the-user-called-it.wav"
    wav.write_bytes(b"RIFF0000WAVE")
    run = synthetic_run("M", {"interrupt": (0.5, 0.5)}, n=2)
    key = store.add(run, audio={("item-001", "interrupt"): wav})
    assert store.audio_path(key, "interrupt", "item-001").read_bytes() == b"RIFF0000WAVE"
    assert store.audio_path(key, "interrupt", "item-000") is None
    assert store.audio_path(key, "interrupt", "../../etc/passwd") is None
    with pytest.raises(ZbbError, match="cannot name a stored file"):
        store.add(run, audio={("../escape", "interrupt"): wav})
    with pytest.raises(ZbbError, match="must be one of"):
        store.add(run, audio={("item-000", "interrupt"): tmp_path / "x.exe"})


@pytest.mark.parametrize("bad", ["", "..", "../x", "a/b", ".hidden", "a\\b", "x" * 300])
def test_safe_part_refuses_path_tricks(bad):
    with pytest.raises(ZbbError):
        safe_part(bad, "item id")


def test_store_load_refuses_keys_outside_the_folder(tmp_path):
    with pytest.raises(ZbbError, match="not inside"):
        ResultStore(tmp_path).load("../../etc/passwd")


class FakeHfApi:
    """Stands in for huggingface_hub.HfApi: a dict of repo files, no network."""

    def __init__(self, files: dict[str, bytes], tmp: Path):
        self.files, self.tmp, self.uploads = files, tmp, []

    def repo_info(self, repo_id, repo_type=None):
        return {"id": repo_id}

    def list_repo_files(self, repo_id, repo_type=None):
        assert repo_type == "dataset"
        return list(self.files)

    def hf_hub_download(self, repo_id, filename, repo_type=None):
        path = self.tmp / "cache" / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.files[filename])
        return str(path)

    def upload_file(self, path_or_fileobj, path_in_repo, repo_id, repo_type, commit_message):
        self.uploads.append((path_in_repo, Path(path_or_fileobj).read_bytes()))


def test_hub_results_pull_and_push_with_a_fake_api(tmp_path, monkeypatch):
    src = ResultStore(tmp_path / "src")
    key = src.add(synthetic_run("HubModel", {"interrupt": (0.3, 0.4)}))
    body = (tmp_path / "src" / f"{key}.json").read_bytes()
    api = FakeHfApi({f"results/{key}.json": body, "README.md": b"# results"}, tmp_path)
    hub = HubResults("org/zbb-results", api=api)
    store = ResultStore(tmp_path / "mirror")
    assert hub.pull(store) == 1 and hub.pull(store) == 0  # the second pull finds nothing new
    assert [s.model for s in store.summaries()] == ["HubModel"]
    new_key = store.add(synthetic_run("Other", {"interrupt": (0.1, 0.1)}))
    hub.push(store, new_key)
    assert api.uploads[0][0] == f"results/{new_key.rsplit('/', 1)[-1]}.json"
    # from_env reads the repo name only; nothing is contacted until pull/push
    monkeypatch.setenv("ZBB_RESULTS_REPO", "org/zbb-results")
    assert HubResults.from_env().repo_id == "org/zbb-results" and HubResults.from_env()._api is None
    monkeypatch.delenv("ZBB_RESULTS_REPO")
    assert HubResults.from_env() is None


def test_hub_pull_refuses_unsafe_file_names(tmp_path):
    api = FakeHfApi({"results/../../evil.json": b"{}"}, tmp_path)
    with pytest.raises(ZbbError, match="cannot name a stored file"):
        HubResults("org/x", api=api).pull(ResultStore(tmp_path / "s"))


# ------------------------------------------------------------------------------------------------ plots
def test_scatter_draws_one_arrow_per_steered_model_and_skips_simulations():
    board = mixed_board()
    fig = plots.correctness_vs_iwor(board.rows)
    arrows = next(t for t in fig.data if t.mode == "lines+markers")
    assert list(arrows.x) == [0.40, 0.72, None, 0.29, 0.64, None]  # PersonaPlex-7B, then Moshi
    legend = [t.name for t in fig.data if t.showlegend and t.legendgroup != "shapes"]
    assert legend == ["PersonaPlex-7B", "Moshi (paper-reported)", "Raon (self-reported)"]  # one entry per model
    moshi_int = next(t for t in fig.data if t.name == "Moshi (paper-reported)" and t.marker.symbol == "circle")
    assert moshi_int.hoverinfo == "text"
    assert list(moshi_int.text) == [
        "<b>Moshi (paper-reported)</b><br>interrupt<br>correctness 0.22 [0.15, 0.31]<br>IWOR 0.29 [0.21, 0.39]"
    ]


def test_every_scatter_point_is_named_when_models_outnumber_the_legend():
    runs = [synthetic_run(f"m{i}", {"interrupt": (i / 40, i / 40)}, seed=i) for i in range(plots.LEGEND_MODELS + 5)]
    fig = plots.correctness_vs_iwor(build_board(runs).rows)
    names = [t.name for t in fig.data]
    assert names == ["interrupt"]  # a legend per condition instead of 35 model entries
    hovered = {text.split("</b>")[0].removeprefix("<b>") for text in fig.data[0].text}
    assert hovered == {f"m{i} (self-reported)" for i in range(plots.LEGEND_MODELS + 5)}


def test_plot_labels_escape_uploaded_names_and_same_names_stay_apart():
    evil = 'Evil<a href="javascript:x">y</a><b>&'
    runs = [
        synthetic_run(evil, {"interrupt": (0.5, 0.5)}),
        synthetic_run("Same", {"interrupt": (0.4, 0.4)}, seed=1),
        synthetic_run("Same", {"interrupt": (0.3, 0.3)}, seed=2),
    ]
    runs = [
        replace(r, provenance=replace(r.provenance, uploader=u)) for r, u in zip(runs, ["x", "a", "b"], strict=True)
    ]
    rows = build_board(runs).rows
    for fig in (plots.correctness_vs_iwor(rows), plots.bars_by_condition(rows)):
        texts = [str(t.name) for t in fig.data] + [str(x) for t in fig.data for x in (t.text or ()) if x]
        texts += [str(y) for t in fig.data if t.type == "bar" for y in t.y]
        ours = [t.replace("<b>", "").replace("</b>", "").replace("<br>", "") for t in texts]
        assert not any("<" in t or ">" in t for t in ours)  # only our own bold and line breaks are markup
        assert any("Evil&lt;a href=&quot;javascript:x&quot;&gt;y&lt;/a&gt;&lt;b&gt;&amp;" in t for t in texts)
    bars = plots.bars_by_condition(rows)
    assert len(set(bars.data[0].y)) == 3  # two uploaders' "Same" are two bars


def test_bars_have_interval_error_bars():
    board = build_board(paper_moshi())
    fig = plots.bars_by_condition(board.rows, "iwor")
    interrupt = next(t for t in fig.data if t.name == "Interrupt")
    row = board.rows[0]
    assert interrupt.x[0] == pytest.approx(0.29) and interrupt.y[0] == "Moshi (paper-reported)"
    assert interrupt.error_x.array[0] == pytest.approx(row["int_iwor_hi"] - 0.29)


def test_dose_response_needs_two_alphas_and_adds_the_unsteered_point():
    runs = [synthetic_run("M", {"no_interrupt": (0.5, 0.7), "interrupt": (0.2, 0.3)}, kind="reproduced")]
    runs += [
        synthetic_run("M", {"interrupt": (r, 0.5)}, kind="reproduced", steering=steer(a), seed=i)
        for i, (a, r) in enumerate([(1.0, 0.25), (5.5, 0.4), (8.0, 0.3)])
    ]
    runs += paper_moshi()  # one alpha only: no curve
    points = plots.dose_response_points(build_board(runs))
    assert list(points) == ["M"]
    assert [(a, round(r, 2)) for a, r, _lo, _hi in points["M"]] == [(0.0, 0.2), (1.0, 0.25), (5.5, 0.4), (8.0, 0.3)]
    assert len(plots.dose_response(build_board(runs)).data) == 1


def test_simulated_listener_curve_is_ordered_by_missed_ms():
    runs = [
        synthetic_run(
            f"Simulated listener (misses {ms} ms)",
            {"interrupt": (0.9 - ms / 1000, 1 - ms / 700)},
            kind="simulation",
            decoding={"missed_ms": ms},
            seed=ms,
        )
        for ms in (320, 0, 160)
    ]
    pts = plots.simulated_listener_points(build_board(runs))
    assert [p[0] for p in pts] == [0, 160, 320]
    assert [round(p[1], 2) for p in pts] == [1.0, 0.77, 0.54]
    assert len(plots.simulated_listeners(build_board(runs)).data) == 2


def test_plots_of_an_empty_board_say_so():
    board = build_board([])
    for fig in (
        plots.correctness_vs_iwor(board.rows),
        plots.bars_by_condition(board.rows),
        plots.dose_response(board),
        plots.simulated_listeners(board),
    ):
        assert fig.layout.annotations and not fig.data


# ------------------------------------------------------------------------------------------------ upload staging
def test_stage_upload_copies_loose_files_under_fixed_names(tmp_path):
    up = tmp_path / "up"
    (up / "a").mkdir(parents=True)
    (up / "a" / "Responses.JSONL").write_text("{}\n")
    (up / "meta.json").write_text("{}")
    out = tmp_path / "out"
    out.mkdir()
    staged = stage_upload([up / "a" / "Responses.JSONL", up / "meta.json"], out)
    assert sorted(p.name for p in staged.iterdir()) == ["meta.json", "responses.jsonl"]


@pytest.mark.parametrize(
    "names, message",
    [
        ([], "no files"),
        (["meta.json"], "missing ['responses.jsonl']"),
        (["meta.json", "responses.jsonl", "evil.sh"], "unexpected ['evil.sh']"),
        (["sub.zip", "meta.json"], "on its own"),
        (["a.json", "b.json", "c.json", "d.json", "e.json"], "5 files"),
    ],
)
def test_stage_upload_refuses_bad_uploads(tmp_path, names, message):
    paths = []
    for name in names:
        (tmp_path / name).write_text("{}")
        paths.append(tmp_path / name)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ZbbError, match=message.replace("[", r"\[").replace("]", r"\]")):
        stage_upload(paths, out)


def test_stage_upload_enforces_the_size_limit(tmp_path):
    big = tmp_path / "sub.zip"
    big.write_bytes(b"0" * 2048)
    (tmp_path / "out").mkdir()
    with pytest.raises(ZbbError, match="over the"):
        stage_upload([big], tmp_path / "out", max_bytes=1024)


def test_column_groups_cover_every_non_core_column():
    from zbb.leaderboard.table import COLUMNS

    assert {c.group for c in COLUMNS} - {"core"} == set(COLUMN_GROUPS)
