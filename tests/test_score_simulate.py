"""Simulated listeners: what they hear, and that their scored runs fall as the missed time grows."""

from __future__ import annotations

import dataclasses
import json
from itertools import pairwise

import pytest
from test_score_helpers import make_clip, small_dataset

from zbb.cli import main
from zbb.dataset import open_dataset
from zbb.results import load_result
from zbb.score.judge import JudgeInput, make_judge
from zbb.score.normalise import contains_subject, normalise
from zbb.score.simulate import (
    curve_table,
    heard_subject,
    heard_words,
    listener_reply,
    save_if_changed,
    score_simulations,
    simulate_all,
    simulate_and_score,
)


def test_listener_hears_words_mostly_after_the_cut():
    clip = make_clip("sub-f", "Submarine", "flies in the clouds", False, "vehicles", "interrupt", onset_s=3.0)
    # "Submarine" spans 3.0-3.9 s: a 400 ms miss leaves more than half of it, 500 ms does not
    assert heard_words(clip, 0)[0] == "Submarine" and heard_words(clip, 400)[0] == "Submarine"
    assert heard_words(clip, 500)[0] == "flies"
    assert heard_words(clip, 1, fraction=1.0)[0] == "flies"  # the strict rule: a word must start after the cut
    reply = listener_reply(clip, 500)
    assert reply.startswith(("sorry", "what")) and "submarine" not in reply.lower()
    assert "right" not in reply.lower()  # the confirmation is never echoed back as if it were an answer


def _stance(clip, reply: str) -> str:
    row = JudgeInput(clip.id, clip.condition, clip.text, clip.subject, clip.description, reply, normalise(reply))
    return make_judge("rule").judge_many([dataclasses.replace(row, aliases=clip.aliases)])[0].stance


def test_an_alias_in_the_description_is_not_hearing_the_subject():
    # The full build's blueberry-t ("Blueberry is a small blue berry", alias "blue berry") scored correct and IWOR
    # at a 600 ms miss: the listener found the alias among the description words it heard.
    clip = dataclasses.replace(
        make_clip("blueberry-t", "Blueberry", "is a small blue berry", True, "fruit_veg", "interrupt"),
        aliases=("blue berry",),
    )
    assert contains_subject(clip.subject, normalise(" ".join(heard_words(clip, 600))), clip.aliases)
    assert heard_subject(clip, 0) and not heard_subject(clip, 600)
    reply = listener_reply(clip, 600)
    assert not contains_subject(clip.subject, normalise(reply), clip.aliases)  # no IWOR from the echo either
    assert _stance(clip, reply) == "no_answer"


def test_an_ask_back_never_echoes_a_stance_word():
    # The full build's referee-t at 600 ms asked back "sorry, what sure players follow the rules?", which the rule
    # judge reads as agreeing ("sure"): the listener answered a true claim correctly without hearing the subject.
    clip = make_clip("referee-t", "Referee", "makes sure players follow the rules", True, "sports", "interrupt")
    for delay in range(500, 1500, 50):
        if not heard_subject(clip, delay):
            assert _stance(clip, listener_reply(clip, delay)) == "no_answer", delay


def test_no_interrupt_is_heard_fully_and_the_buffer_absorbs_the_miss():
    for cond in ("no_interrupt", "interrupt_buffered"):
        clip = make_clip("cat-t", "Cat", "purrs when it is happy", True, "animals", cond)
        assert "cat" in listener_reply(clip, 600).lower()


def _curve(dataset_path, tmp_path):
    paths = simulate_and_score(dataset_path, tmp_path / "subs", tmp_path / "results")
    results = sorted((load_result(p) for p in paths), key=lambda r: r.meta.decoding["missed_ms"])
    assert [r.meta.decoding["missed_ms"] for r in results] == [0, 200, 400, 600]
    assert all(r.provenance.kind == "simulation" for r in results)
    return results


def test_iwor_falls_as_the_miss_grows_on_constructed_rows(tmp_path):
    ds = small_dataset(tmp_path / "ds")
    results = _curve(ds.root, tmp_path)
    iwor = [r.aggregates["interrupt"].iwor.rate for r in results]
    assert iwor == [1.0, 0.75, 0.5, 0.0]  # subject lengths 0.3/0.9/0.9/0.6+0.5 s decide who is heard
    for r in results:
        assert r.aggregates["no_interrupt"].correctness.rate == 1.0
        assert r.aggregates["interrupt_buffered"].iwor.rate == 1.0
        # a listener that heard the subject answers correctly, otherwise it gives no answer
        assert r.aggregates["interrupt"].correctness.k == r.aggregates["interrupt"].iwor.k
    assert "| 600 |" in curve_table(results)


def test_iwor_falls_monotonically_on_the_tiny_build(tiny_dataset, tmp_path):
    results = _curve(tiny_dataset, tmp_path)
    iwor = [r.aggregates["interrupt"].iwor.rate for r in results]
    correct = [r.aggregates["interrupt"].correctness.rate for r in results]
    assert iwor[0] == 1.0 and correct[0] == 1.0
    assert all(x >= y for x, y in pairwise(iwor)) and iwor[-1] < iwor[0]
    assert all(x >= y for x, y in pairwise(correct))
    assert all(r.aggregates["no_interrupt"].correctness.rate == 1.0 for r in results)


def test_cli_simulate_scores_into_results(tmp_path, capsys):
    ds = small_dataset(tmp_path / "ds", conditions=("interrupt",))
    assert (
        main(
            [
                "simulate",
                "--dataset",
                str(ds.root),
                "--out",
                str(tmp_path / "subs"),
                "--delays",
                "0,600",
                "--results",
                str(tmp_path / "results"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "| 0 | 1.00 / 1.00 |" in printed and "| 600 | 0.00 / 0.00 |" in printed
    assert len(list((tmp_path / "results").glob("*.json"))) == 2
    with pytest.raises(SystemExit):
        main(["simulate", "--dataset", str(ds.root), "--out", str(tmp_path / "x"), "--delays", "soon"])
    assert open_dataset(ds.root).conditions() == ["interrupt"]


def test_rescoring_keeps_a_result_that_changes_only_in_its_date(tmp_path):
    ds = small_dataset(tmp_path / "ds", conditions=("interrupt",))
    folders = simulate_all(ds, tmp_path / "subs", (0, 600))
    first = score_simulations(ds, folders, tmp_path / "results")
    for p in first:  # as if scored at another time
        data = json.loads(p.read_text())
        data["provenance"]["scored_at"] = "2020-01-01T00:00:00Z"
        p.write_text(json.dumps(data, indent=2))
    dated = {p: p.read_bytes() for p in first}
    logged: list[str] = []
    assert score_simulations(ds, folders, tmp_path / "results", log=logged.append) == first
    assert all(p.read_bytes() == dated[p] for p in first)  # kept as they were, old date and all
    assert all(line.startswith("kept ") for line in logged) and len(logged) == 2

    result = load_result(first[0])
    changed = dataclasses.replace(result, meta=dataclasses.replace(result.meta, notes="other notes"))
    assert save_if_changed(changed, first[0]) and load_result(first[0]).meta.notes == "other notes"
    assert save_if_changed(result, tmp_path / "results" / "new.json")  # a missing file is written


def test_cli_simulate_keeps_unchanged_results(tmp_path, capsys):
    ds = small_dataset(tmp_path / "ds", conditions=("interrupt",))
    argv = ["simulate", "--dataset", str(ds.root), "--out", str(tmp_path / "subs"), "--delays", "0,600"]
    argv += ["--results", str(tmp_path / "results")]
    assert main(argv) == 0
    assert capsys.readouterr().out.count("wrote ") == 4  # 2 submission folders + 2 results
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "results").glob("*.json")}
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.count("kept ") == 2 and "(unchanged apart from scored_at)" in printed
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "results").glob("*.json")} == stamps
