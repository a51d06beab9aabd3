"""The README's main job, on the tiny preset: build, score the references, print the board; a rerun reuses the build."""

import json

from zbb.demo import run_demo
from zbb.results import load_result


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
