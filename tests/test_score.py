"""The scorer end to end on transcript submissions, metrics and gaps, paired comparison, paper results, CLI."""

from __future__ import annotations

import json

import pytest
from test_score_helpers import CLAIMS, make_clips, small_dataset, write_transcripts

from zbb.cli import main
from zbb.errors import SubmissionError, ZbbError
from zbb.records import Response, RunMeta
from zbb.results import load_result
from zbb.score.metrics import buffer_gap, compare_runs, inertia_gap, recovery_of
from zbb.score.reference import PAPER_URL, paper_results, write_paper_results
from zbb.score.scorer import score_responses, score_submission
from zbb.score.summary import format_summary

LABEL = {c[0]: c[3] for c in CLAIMS}
SUBJECT = {c[0]: c[1] for c in CLAIMS}


def right_answer(id: str) -> str:
    return f"yes, the {SUBJECT[id].lower()} does" if LABEL[id] else f"no, that's not right about the {SUBJECT[id]}"


def responses_for(clips, reply):
    return [Response(id=c.id, condition=c.condition, response=reply(c)) for c in clips]


def test_scores_transcripts_per_row_and_per_condition():
    clips = make_clips()

    # no_interrupt: all right; interrupt: right only on true claims, without the subject; buffered: all "what?"
    def reply(c):
        if c.condition == "no_interrupt":
            return right_answer(c.id)
        if c.condition == "interrupt":
            return "yeah" if LABEL[c.id] else "yeah"
        return "sorry, what?"

    result = score_responses(responses_for(clips, reply), clips, meta=RunMeta(model="toy"))
    agg = result.aggregates
    assert list(agg) == ["no_interrupt", "interrupt", "interrupt_buffered"]
    n = len(CLAIMS)
    assert agg["no_interrupt"].correctness.k == n and agg["no_interrupt"].iwor.k == n
    assert agg["interrupt"].correctness.k == sum(LABEL.values()) and agg["interrupt"].iwor.k == 0
    assert agg["interrupt_buffered"].no_answer.k == n and agg["interrupt_buffered"].correctness.k == 0
    assert inertia_gap(result) == pytest.approx(1 - sum(LABEL.values()) / n)
    assert inertia_gap(result, "iwor") == pytest.approx(1.0)
    assert buffer_gap(result) == pytest.approx(-sum(LABEL.values()) / n)
    # breakdowns by label: on interrupt, "yeah" is right on every true claim and no false one
    by_label = result.breakdowns["interrupt"]["label"]
    assert by_label["true"].correctness.rate == 1.0 and by_label["false"].correctness.rate == 0.0
    assert set(result.breakdowns["interrupt"]["category"]) == {"vehicles", "animals", "places"}
    assert set(result.breakdowns["interrupt"]["voice"]) == {"voice-a", "voice-b"}
    item = next(s for s in result.items if (s.id, s.condition) == ("sub-f", "no_interrupt"))
    assert (item.stance, item.correct, item.subject_hit, item.label) == ("deny", True, True, False)
    assert item.judge_reason and item.normalised == "no that is not right about the submarine"
    p = result.provenance
    assert p.kind == "self-reported" and p.judge == "rule-v2" and p.normaliser.startswith("zbb-en-1")
    assert p.scored_at.endswith("Z") and p.asr is None


def test_steered_run_scores_only_the_conditions_it_answers():
    clips = make_clips()
    interrupt = [c for c in clips if c.condition == "interrupt"]
    result = score_responses(responses_for(interrupt, lambda c: right_answer(c.id)), clips, meta=RunMeta(model="toy"))
    assert list(result.aggregates) == ["interrupt"] and result.aggregates["interrupt"].correctness.rate == 1.0


def test_missing_rows_are_refused_then_scored_wrong_with_allow_partial():
    clips = make_clips(conditions=("interrupt",))
    given = responses_for(clips[2:], lambda c: right_answer(c.id))
    with pytest.raises(SubmissionError, match=r"lacks 2 of 8 rows.*allow-partial") as err:
        score_responses(given, clips, meta=RunMeta(model="toy"))
    assert {p.where for p in err.value.problems} == {"[interrupt/sub-t]", "[interrupt/sub-f]"}
    notes = []
    result = score_responses(given, clips, meta=RunMeta(model="toy"), allow_partial=True, notes=notes.append)
    agg = result.aggregates["interrupt"]
    assert (agg.n, agg.missing, agg.correctness.k) == (8, 2, 6)
    missing = [s for s in result.items if s.missing]
    assert {s.id for s in missing} == {"sub-t", "sub-f"} and not any(s.correct for s in missing)
    assert notes and "2 of 8 rows" in notes[0]


def test_responses_for_unknown_rows_and_duplicates_are_refused():
    clips = make_clips(conditions=("interrupt",))
    extra = responses_for(clips, lambda c: "yes") + [Response(id="nope", condition="interrupt", response="yes")]
    with pytest.raises(SubmissionError, match="rows the dataset does not have") as err:
        score_responses(extra, clips, meta=RunMeta(model="toy"))
    assert err.value.problems[0].where == "[interrupt/nope]"
    twice = responses_for(clips, lambda c: "yes") + responses_for(clips[:1], lambda c: "no")
    with pytest.raises(SubmissionError, match="duplicate"):
        score_responses(twice, clips, meta=RunMeta(model="toy"))


def test_a_refusal_of_many_unknown_rows_lists_a_bounded_number_each_on_one_line(monkeypatch):
    """Library callers may pass any Response: thousands of unknown rows give a counted summary and a bounded list,
    and an id holding a line break or a terminal escape cannot add lines to the message."""
    from zbb.score import scorer

    monkeypatch.setattr(scorer, "MAX_LISTED", 5)
    clips = make_clips(conditions=("interrupt",))
    forged = "a\n  - everything is fine: \x1b[32mOK"  # sorts first, so it is listed
    extra = responses_for(clips, lambda c: "yes") + [
        Response(id=i, condition="interrupt", response="yes") for i in [forged, *(f"u{n}" for n in range(50))]
    ]
    with pytest.raises(SubmissionError, match="responses for 51 rows the dataset does not have") as err:
        score_responses(extra, clips, meta=RunMeta(model="toy"))
    assert len(err.value.problems) == 5
    message = str(err.value)
    assert "\x1b" not in message and "everything is fine" in message  # shown, escaped
    assert all(line.startswith(("responses for", "  - ")) for line in message.splitlines())


def test_score_submission_through_the_loader_keeps_timings(tmp_path):
    ds = small_dataset(tmp_path / "ds", conditions=("no_interrupt", "interrupt"))
    lines = []
    for c in ds.clips("no_interrupt") + ds.clips("interrupt"):
        line = {"id": c.id, "condition": c.condition, "response": right_answer(c.id)}
        if c.condition == "interrupt":  # word times: answering 0.2 s after the claim ends, for 2 s
            line["words"] = [
                {"word": w, "start": round(c.end_s + 0.2 + 0.4 * i, 3), "end": round(c.end_s + 0.5 + 0.4 * i, 3)}
                for i, w in enumerate(line["response"].split())
            ]
        lines.append(line)
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy", "paper_url": "https://example.org/toy"}, lines)
    result = score_submission(sub, ds)
    assert result.meta.model == "Toy" and result.provenance.dataset_fingerprint == ds.fingerprint
    assert result.provenance.source_url == "https://example.org/toy"
    assert result.aggregates["no_interrupt"].timing is None
    timing = result.aggregates["interrupt"].timing
    assert timing.n_measured == len(CLAIMS) and timing.takeover.rate == 1.0
    assert timing.latency_s == pytest.approx(0.2, abs=0.02) and timing.latency_n == len(CLAIMS)
    assert timing.answer_latency_s == pytest.approx(0.2, abs=0.02) and timing.answer_latency_n == len(CLAIMS)
    assert timing.stop_latency_s is None and timing.stop_latency_n == 0  # transcripts have no audio
    assert result.aggregates["interrupt"].valid_interruptions is None  # nothing says whether the model talked
    printed = format_summary(result)
    assert f"0.20 (n={len(CLAIMS)})" in printed and "TOR (FDB)" in printed
    assert result.provenance.asr_grade is None and "indicative" not in printed


def _run(correct_ids, model="m"):
    clips = make_clips(conditions=("no_interrupt", "interrupt"))
    return score_responses(
        responses_for(clips, lambda c: right_answer(c.id) if c.id in correct_ids else "what?"),
        clips,
        meta=RunMeta(model=model),
    )


def test_compare_runs_matches_rows_by_id_and_condition():
    ids = [c[0] for c in CLAIMS]
    a, b = _run(set(ids[:2]), "a"), _run(set(ids[:7]), "b")
    cmp = compare_runs(a, b, "correctness", "interrupt")
    assert (cmp.n, cmp.a_only, cmp.b_only) == (8, 0, 5)
    assert cmp.diff == pytest.approx(5 / 8) and cmp.ci_low <= cmp.diff <= cmp.ci_high
    assert cmp.mcnemar_p == pytest.approx(2 / 2**5)
    with pytest.raises(ZbbError, match="no per-item scores"):
        compare_runs(a, paper_results()[0])
    with pytest.raises(ZbbError, match="share no 'interrupt_buffered' rows"):
        compare_runs(a, b, condition="interrupt_buffered")
    with pytest.raises(ZbbError, match="unknown metric 'wer'"):
        compare_runs(a, b, metric="wer")


def test_paper_results_reproduce_table_2():
    results = paper_results()
    assert len(results) == 6 and all(r.provenance.kind == "paper-reported" and not r.items for r in results)
    by = {(r.meta.model, r.steered): r for r in results}
    pp, pp_steer = by[("PersonaPlex", False)], by[("PersonaPlex", True)]
    assert pp.aggregates["interrupt"].correctness.k == 28 and pp.aggregates["no_interrupt"].iwor.k == 74
    assert list(pp_steer.aggregates) == ["interrupt"] and pp_steer.aggregates["interrupt"].iwor.k == 72
    assert (pp_steer.meta.steering.layer, pp_steer.meta.steering.alpha, pp_steer.meta.steering.span) == (23, 5.5, 3)
    raon = by[("Raon-SpeechChat", True)].meta.steering
    assert (raon.layer, raon.alpha) == (26, 1.2)
    assert recovery_of(pp, pp_steer) == pytest.approx((0.45 - 0.28) / (0.49 - 0.28))
    assert all(r.provenance.source_url == PAPER_URL for r in results)
    assert all(r.provenance.asr_grade == "reference" for r in results)  # the paper transcribed with parakeet


def test_paper_results_round_trip_through_result_files(tmp_path):
    paths = write_paper_results(tmp_path)
    assert len({p.name for p in paths}) == 6
    # paper results carry no timestamp, so regenerating them reproduces the committed files exactly
    assert [load_result(p) for p in paths] == paper_results()


def test_cli_score_writes_result_and_prints_summary(tmp_path, capsys):
    ds = small_dataset(tmp_path / "ds", conditions=("no_interrupt", "interrupt"))
    lines = [
        {"id": c.id, "condition": c.condition, "response": right_answer(c.id)}
        for cond in ("no_interrupt", "interrupt")
        for c in ds.clips(cond)
    ][:-1]
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, lines)
    out = tmp_path / "toy.json"
    assert main(["score", str(sub), "--dataset", str(ds.root), "--out", str(out)]) == 2  # one row missing
    assert "eif-f" in capsys.readouterr().err and not out.exists()
    assert main(["score", str(sub), "--dataset", str(ds.root), "--out", str(out), "--allow-partial"]) == 0
    printed = capsys.readouterr().out
    assert "correctness [95% CI]" in printed and "inertia gap" in printed and f"wrote {out}" in printed
    saved = json.loads(out.read_text())
    assert saved["kind"] == "zbb-result" and saved["aggregates"]["interrupt"]["missing"] == 1
    assert load_result(out).aggregates["interrupt"].correctness.k == 7
    assert saved["provenance"]["kind"] == "self-reported"  # reproduced only when the maintainers say so
    args = ["score", str(sub), "--dataset", str(ds.root), "--out", str(out), "--allow-partial", "--quiet"]
    assert main([*args, "--provenance", "reproduced"]) == 0
    assert load_result(out).provenance.kind == "reproduced"


def test_an_indicative_asr_is_said_in_the_summary_and_the_result():
    clips = make_clips(conditions=("interrupt",))
    result = score_responses(
        responses_for(clips, lambda c: right_answer(c.id)),
        clips,
        meta=RunMeta(model="toy"),
        asr="pocketsphinx 5.0.4 en-us",
        asr_grade="indicative",
    )
    assert result.provenance.asr_grade == "indicative"
    printed = format_summary(result)
    assert "asr pocketsphinx 5.0.4 en-us (indicative)" in printed and "not fit to be a reference" in printed


def test_cli_score_with_the_openai_judge_stores_its_verdicts(tmp_path, capsys):
    from test_judge import FakeChat

    server = FakeChat(lambda body: (200, json.dumps({"stance": "affirm", "reason": "fake judge says yes"})))
    try:
        ds = small_dataset(tmp_path / "ds", conditions=("interrupt",))
        sub = write_transcripts(
            tmp_path / "sub",
            {"model": "Toy"},
            [{"id": c.id, "condition": c.condition, "response": "hmm"} for c in ds.clips("interrupt")],
        )
        out = tmp_path / "toy.json"
        assert (
            main(
                [
                    "score",
                    str(sub),
                    "--dataset",
                    str(ds.root),
                    "--out",
                    str(out),
                    "--quiet",
                    "--judge",
                    "openai",
                    "--judge-base-url",
                    server.url,
                    "--judge-model",
                    "fake",
                    "--judge-cache",
                    str(tmp_path / "c"),
                ]
            )
            == 0
        )
    finally:
        server.close()
    result = load_result(out)
    assert result.provenance.judge.startswith("openai:fake zbb-judge-prompt-v2")
    assert all(s.stance == "affirm" and s.judge_reason == "fake judge says yes" for s in result.items)
    assert result.aggregates["interrupt"].correctness.k == sum(LABEL.values())
    assert len(server.requests) == len(CLAIMS)


def test_scoring_in_chunks_gives_the_result_of_one_pass(monkeypatch):
    """Rows are normalised and judged a chunk at a time (bounded memory on huge submissions): any chunk size,
    missing rows included, gives the same items in the same order."""
    from zbb.score import scorer

    clips = make_clips()
    replies = ["yes", "no that is wrong", "sorry what", "the {s} is right", "i do not think so", "hmm"]
    responses = [
        Response(id=c.id, condition=c.condition, response=replies[i % len(replies)].format(s=SUBJECT[c.id]))
        for i, c in enumerate(clips)
        if i % 7 != 3  # a few rows missing
    ]
    whole = score_responses(responses, clips, meta=RunMeta(model="toy"), allow_partial=True)
    for size in (1, 2, 5):
        monkeypatch.setattr(scorer, "SCORE_CHUNK_ROWS", size)
        chunked = score_responses(responses, clips, meta=RunMeta(model="toy"), allow_partial=True)
        assert chunked.items == whole.items and chunked.aggregates == whole.aggregates
    assert sum(item.missing for item in whole.items) == len(clips) - len(responses) > 0


def test_an_alias_of_the_subject_counts_for_iwor_and_old_datasets_without_the_column_still_score(tmp_path):
    """A dataset row's aliases ("donut" for doughnut) count as the subject; a dataset written before the aliases
    column existed reads its rows with no aliases and scores as before."""
    import dataclasses

    import pyarrow.parquet as pq
    from test_score_helpers import SR
    from test_submission_helpers import write_dataset

    from zbb.dataset import open_dataset

    clips = [
        dataclasses.replace(c, aliases=("donut", "dough nut")) if c.subject == "Butterfly" else c
        for c in make_clips(conditions=("interrupt",))
    ]
    replies = {"fly-t": "yes donuts have wings", "fly-f": "no dough nut is a word", "sub-t": "yes a donut"}
    responses = responses_for(clips, lambda c: replies.get(c.id, "yes"))
    hits = {s.id: s.subject_hit for s in score_responses(responses, clips, meta=RunMeta(model="m")).items}
    assert hits == {c.id: c.id in ("fly-t", "fly-f") for c in clips}

    root = write_dataset(tmp_path / "old", clips, SR)
    for shard in root.glob("*/*.parquet"):  # as an older zbb wrote it: no aliases column
        table = pq.read_table(shard)
        pq.write_table(table.drop_columns(["aliases"]), shard)
    old = open_dataset(root)
    assert "aliases" not in pq.read_schema(next(root.glob("*/*.parquet"))).names
    assert all(c.aliases == () for c in old.clips("interrupt"))
    rescored = score_responses(responses, old.clips("interrupt"), meta=RunMeta(model="m"), dataset=old)
    assert not any(s.subject_hit for s in rescored.items)
