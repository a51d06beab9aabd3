"""The README's main job, on the tiny preset: build, score the references, print the board; a rerun reuses the build."""

import json
import shutil
from pathlib import Path

from zbb.cli import main
from zbb.demo import default_out, default_results, run_demo
from zbb.results import load_result
from zbb.score.simulate import LISTENER_VERSION

ROOT = Path(__file__).resolve().parents[1]


def test_demo_builds_scores_and_ranks_then_reuses_the_build(tmp_path):
    out, results = tmp_path / "zbb", tmp_path / "results"
    first = run_demo(out, results, preset="tiny", num_proc=1, progress=False, log=lambda *_: None)
    assert first.built and (out / "zbb_build.json").is_file()
    kinds = sorted(load_result(p).provenance.kind for p in first.results)
    assert kinds.count("simulation") == 4 and kinds.count("paper-reported") == 6
    lines = first.board_text.splitlines()
    assert lines[0].split()[:2] == ["#", "model"]
    assert any(line.startswith("1 ") and "PersonaPlex" in line for line in lines)
    assert any("misses 600 ms" in line for line in lines)

    mtimes = {p: p.stat().st_mtime_ns for p in first.results}
    second = run_demo(out, results, preset="tiny", num_proc=1, progress=False, log=lambda *_: None)
    assert not second.built and second.fingerprint == first.fingerprint
    sims = [p for p in first.results if p.name.endswith("--simulation.json")]
    assert all(p.stat().st_mtime_ns == mtimes[p] for p in sims)  # current results are kept, not rewritten
    assert sorted(p.name for p in second.results) == sorted(p.name for p in first.results)  # overwritten, not added
    assert len(list(results.glob("*.json"))) == len({p.name for p in first.results}) + 1  # + the board's index

    # a simulation scored by another judge (rule-v1, before rule-v2 was the default) is not current: rescored
    stale = sims[0]
    data = json.loads(stale.read_text())
    data["provenance"]["judge"] = "rule-v1"
    stale.write_text(json.dumps(data))
    run_demo(out, results, preset="tiny", num_proc=1, progress=False, log=lambda *_: None)
    assert load_result(stale).provenance.judge == "rule-v2"

    # a simulation made by an earlier listener (its replies may differ) is not current either: rescored
    data = json.loads(stale.read_text())
    del data["meta"]["decoding"]["listener"]
    stale.write_text(json.dumps(data))
    run_demo(out, results, preset="tiny", num_proc=1, progress=False, log=lambda *_: None)
    assert load_result(stale).meta.decoding["listener"] == LISTENER_VERSION


def test_a_tiny_demo_leaves_the_committed_references_and_the_default_dataset_alone(
    tiny_dataset, tmp_path, monkeypatch, capsys
):
    """`python3 tasks.py demo --preset tiny` once replaced out/zbb and rewrote submissions/ with 6-row scores."""
    shutil.copytree(ROOT / "submissions", tmp_path / "submissions")
    shutil.copytree(tiny_dataset, tmp_path / "out" / "zbb-tiny")  # the same plan: reused, not rebuilt
    before = {p.name: p.read_bytes() for p in (tmp_path / "submissions").iterdir()}
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--preset", "tiny", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "out/zbb-tiny is an up-to-date build" in printed
    assert "results: 10 files in out/results-tiny/" in printed
    assert "--results out/results-tiny --dataset out/zbb-tiny" in printed
    assert {p.name: p.read_bytes() for p in (tmp_path / "submissions").iterdir()} == before
    assert not (tmp_path / "out" / "zbb").exists()
    assert len(list((tmp_path / "out" / "results-tiny").glob("*--simulation.json"))) == 4


def test_demo_defaults_write_the_references_only_for_the_full_default_build():
    assert (default_out("full"), default_out("tiny")) == (Path("out/zbb"), Path("out/zbb-tiny"))
    assert default_results("out/zbb", "full") == Path("submissions")
    assert default_results("out/zbb-tiny", "tiny") == Path("out/results-tiny")
    assert default_results("out/zbb", "tiny") == Path("out/results-tiny")  # another preset into out/zbb
    assert default_results("out/zbb-mine", "full") == Path("out/results-mine")  # the full bank elsewhere
    assert default_results("/data/zbb", "full") == Path("/data/results-full")
