"""Simulated listeners: what they hear, and that their scored runs fall as the missed time grows."""

from __future__ import annotations

from itertools import pairwise

import pytest
from test_score_helpers import make_clip, small_dataset

from zbb.cli import main
from zbb.dataset import open_dataset
from zbb.results import load_result
from zbb.score.simulate import curve_table, heard_words, listener_reply, simulate_and_score


def test_listener_hears_words_mostly_after_the_cut():
    clip = make_clip("sub-f", "Submarine", "flies in the clouds", False, "vehicles", "interrupt", onset_s=3.0)
    # "Submarine" spans 3.0-3.9 s: a 400 ms miss leaves more than half of it, 500 ms does not
    assert heard_words(clip, 0)[0] == "Submarine" and heard_words(clip, 400)[0] == "Submarine"
    assert heard_words(clip, 500)[0] == "flies"
    assert heard_words(clip, 1, fraction=1.0)[0] == "flies"  # the strict rule: a word must start after the cut
    reply = listener_reply(clip, 500)
    assert reply.startswith(("sorry", "what")) and "submarine" not in reply.lower()
    assert "right" not in reply.lower()  # the confirmation is never echoed back as if it were an answer


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
