"""Transcript submissions: a good one loads; every kind of bad input is refused with a message naming where."""

from __future__ import annotations

import json

import pytest
from test_submission_helpers import small_dataset, write_submission

from zbb.errors import SubmissionError
from zbb.submission import check_submission, load_submission, validate_submission

META = {"model": "Moshi", "model_id": "kyutai/moshiko-pytorch-bf16", "decoding": {"temperature": 0.8}}


def lines(ids=("a1", "a2", "a3"), conditions=("no_interrupt", "interrupt")):
    return [
        {"id": i, "condition": c, "response": f"No, a submarine cannot fly ({i})."} for c in conditions for i in ids
    ]


@pytest.fixture
def ds(tmp_path):
    return small_dataset(tmp_path / "ds")


def test_transcript_submission_loads(tmp_path, ds):
    rows = lines()
    rows[0]["words"] = [{"word": "no", "start": 3.6, "end": 3.8}, {"word": "submarine", "start": 3.9, "end": 4.7}]
    sub = load_submission(write_submission(tmp_path / "sub", {"meta.json": META, "responses.jsonl": rows}), ds)
    assert sub.meta.model == "Moshi" and sub.meta.decoding == {"temperature": 0.8} and sub.meta.steering is None
    assert len(sub.responses) == 6 and sub.missing == [] and sub.asr is None and sub.layout == "transcript"
    assert sub.responses[("a2", "interrupt")].response == "No, a submarine cannot fly (a2)."
    assert sub.conditions() == ["interrupt", "no_interrupt"]
    # words given -> timing: first word 3.6 s, claim ends at 3.5 s; 1.1 s of speech with 2 words is a take-over
    timing = sub.timings[("a1", "no_interrupt")]
    assert timing.takeover is True and timing.latency_s == pytest.approx(0.1) and timing.talking_at_onset is None
    assert ("a2", "no_interrupt") not in sub.timings


def test_steered_run_answering_only_interrupt_is_complete(tmp_path, ds):
    meta = {**META, "steering": {"method": "perception-vector", "layer": 23, "alpha": 5.5, "span": 3}}
    path = write_submission(tmp_path / "sub", {"meta.json": meta, "responses.jsonl": lines(conditions=("interrupt",))})
    sub = load_submission(path, ds)
    assert sub.meta.steering.layer == 23 and sub.meta.steering.alpha == 5.5
    assert set(sub.responses) == {(i, "interrupt") for i in ("a1", "a2", "a3")}


def test_zip_with_a_top_folder_loads_like_the_folder(tmp_path, ds):
    path = write_submission(tmp_path / "sub", {"run/meta.json": META, "run/responses.jsonl": lines()}, as_zip=True)
    sub = load_submission(path, ds)
    assert len(sub.responses) == 6 and sub.source.endswith("sub.zip")


def test_partial_submission_refused_unless_allowed(tmp_path, ds):
    path = write_submission(tmp_path / "sub", {"meta.json": META, "responses.jsonl": lines()[:-1]})
    with pytest.raises(SubmissionError, match=r"condition 'interrupt': 1 of 3 rows missing \(a3\)"):
        load_submission(path, ds)
    sub = load_submission(path, ds, allow_partial=True)
    assert sub.missing == [("a3", "interrupt")] and len(sub.responses) == 5
    assert any("a3" in w.message for w in sub.warnings)


def test_dataset_mismatch_warns(tmp_path, ds):
    path = write_submission(
        tmp_path / "sub", {"meta.json": {**META, "dataset": "other-fingerprint"}, "responses.jsonl": lines()}
    )
    check = check_submission(path, ds)
    assert check.ok and check.rows == {"interrupt": 3, "no_interrupt": 3}
    assert any("other-fingerprint" in w.message and ds.fingerprint in w.message for w in check.warnings)
    ok = write_submission(
        tmp_path / "sub2", {"meta.json": {**META, "dataset": ds.fingerprint}, "responses.jsonl": lines()}
    )
    assert check_submission(ok, ds).warnings == []


def _bad(case):
    """(files, where-fragment, message-fragment) for one bad input."""
    good = lines()
    jsonl = "".join(json.dumps(x) + "\n" for x in good)
    return {
        "malformed json line": (
            {"meta.json": META, "responses.jsonl": jsonl.replace('"a2"', '"a2', 1)},
            "responses.jsonl:2",
            "malformed JSON",
        ),
        "malformed meta": (
            {"meta.json": '{"model": "x",\n}', "responses.jsonl": good},
            "meta.json:2",
            "malformed JSON",
        ),
        "meta unknown field": (
            {"meta.json": {**META, "temperature": 1}, "responses.jsonl": good},
            "meta.json",
            "unknown field 'temperature'",
        ),
        "meta missing model": (
            {"meta.json": {"notes": "x"}, "responses.jsonl": good},
            "meta.json",
            "model: Field required",
        ),
        "meta bad steering": (
            {"meta.json": {**META, "steering": {"layer": "deep"}}, "responses.jsonl": good},
            "meta.json",
            "steering.layer",
        ),
        "no meta": ({"responses.jsonl": good}, "sub", "no meta.json"),
        "no responses": ({"meta.json": META}, "sub", "no responses"),
        "duplicate id": (
            {"meta.json": META, "responses.jsonl": good + [good[1]]},
            "responses.jsonl:7 [a2]",
            "duplicate row (a2, no_interrupt); first given at",
        ),
        "unknown id": (
            {"meta.json": META, "responses.jsonl": good + [{**good[0], "id": "a9"}]},
            "responses.jsonl:7 [a9]",
            "unknown id 'a9'",
        ),
        "unknown condition": (
            {"meta.json": META, "responses.jsonl": good + [{**good[0], "condition": "interupt"}]},
            "responses.jsonl:7 [a1]",
            "unknown condition 'interupt'; the dataset has no_interrupt, interrupt. Did you mean 'interrupt'?",
        ),
        "empty response": (
            {"meta.json": META, "responses.jsonl": [{**good[0], "response": "  "}] + good[1:]},
            "responses.jsonl:1 [a1]",
            "empty response",
        ),
        "non-string response": (
            {"meta.json": META, "responses.jsonl": [{**good[0], "response": 42}] + good[1:]},
            "responses.jsonl:1 [a1]",
            "response: Input should be a valid string (got 42)",
        ),
        "missing response": (
            {"meta.json": META, "responses.jsonl": [{"id": "a1", "condition": "interrupt"}] + good[1:]},
            "responses.jsonl:1 [a1]",
            "response: Field required",
        ),
        "unknown line field": (
            {"meta.json": META, "responses.jsonl": [{**good[0], "text": "x"}] + good[1:]},
            "responses.jsonl:1 [a1]",
            "unknown field 'text'",
        ),
        "line not an object": (
            {"meta.json": META, "responses.jsonl": "[1, 2]\n"},
            "responses.jsonl:1",
            "expected a JSON object per line, got list",
        ),
        "word ends before start": (
            {
                "meta.json": META,
                "responses.jsonl": [{**good[0], "words": [{"word": "no", "start": 3.0, "end": 2.0}]}] + good[1:],
            },
            "responses.jsonl:1 [a1]",
            "ends (2.0) before it starts (3.0)",
        ),
        "non-utf8": (
            {"meta.json": META, "responses.jsonl": jsonl.encode() + b'{"id": "a1\xff"}\n'},
            "responses.jsonl:7",
            "not UTF-8 text (byte 0xff",
        ),
        "mixed layouts": (
            {"meta.json": META, "responses.jsonl": good, "audio/interrupt/a1.wav": b"RIFF"},
            "sub",
            "mixes layouts ['audio', 'transcript']",
        ),
    }[case]


BAD_CASES = [
    "malformed json line",
    "malformed meta",
    "meta unknown field",
    "meta missing model",
    "meta bad steering",
    "no meta",
    "no responses",
    "duplicate id",
    "unknown id",
    "unknown condition",
    "empty response",
    "non-string response",
    "missing response",
    "unknown line field",
    "line not an object",
    "word ends before start",
    "non-utf8",
    "mixed layouts",
]


@pytest.mark.parametrize("case", BAD_CASES)
@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_bad_input_is_refused_naming_where(tmp_path, ds, case, as_zip):
    files, where, message = _bad(case)
    path = write_submission(tmp_path / "sub", files, as_zip=as_zip)
    problems = validate_submission(path, ds)
    assert any(where.replace("sub/", "") in p.where and message in p.message for p in problems), (
        f"no problem at {where!r} saying {message!r} in:\n" + "\n".join(map(str, problems))
    )
    with pytest.raises(SubmissionError) as info:
        load_submission(path, ds)
    assert message in str(info.value) and info.value.problems == problems


def test_every_problem_is_reported_at_once(tmp_path, ds):
    good = lines()
    bad = [{**good[0], "response": 1}, {**good[1], "id": "zz"}] + good[2:] + [good[2]]
    problems = validate_submission(
        write_submission(tmp_path / "sub", {"meta.json": {"model": ""}, "responses.jsonl": bad}), ds
    )
    messages = " | ".join(str(p) for p in problems)
    for fragment in (
        "model: String should have at least 1 character",
        "valid string (got 1)",
        "unknown id 'zz'",
        "duplicate row (a3, no_interrupt)",
    ):
        assert fragment in messages


def test_a_silent_row_is_said_explicitly(tmp_path, ds):
    rows = lines()
    rows[0] = {"id": "a1", "condition": "no_interrupt", "response": "", "silent": True}
    sub = load_submission(write_submission(tmp_path / "sub", {"meta.json": META, "responses.jsonl": rows}), ds)
    assert sub.responses[("a1", "no_interrupt")].response == ""
    rows[0] = {"id": "a1", "condition": "no_interrupt", "response": "hm yes", "silent": True}
    (problem,) = validate_submission(
        write_submission(tmp_path / "sub2", {"meta.json": META, "responses.jsonl": rows}), ds
    )
    assert (
        problem.where.endswith("responses.jsonl:1 [a1]")
        and '"silent": true but the response holds words' in problem.message
    )


def test_rows_past_the_limit_are_refused_before_parsing_and_the_limit_can_be_raised(tmp_path, ds, capsys):
    from dataclasses import replace

    from zbb.cli import main
    from zbb.submission.files import Limits

    path = write_submission(tmp_path / "sub", {"meta.json": META, "responses.jsonl": lines()})  # 6 rows
    with pytest.raises(SubmissionError) as err:
        load_submission(path, ds, limits=replace(Limits(), max_rows=5))
    (problem,) = err.value.problems
    assert (
        "responses.jsonl" in problem.where and "holds 6 rows (non-blank lines); the limit is 5 rows" in problem.message
    )
    assert len(load_submission(path, ds, limits=replace(Limits(), max_rows=6)).responses) == 6
    out = tmp_path / "r.json"
    assert main(["score", str(path), "--dataset", str(ds.root), "--max-rows", "5", "--out", str(out)]) == 2
    assert "--max-rows" in capsys.readouterr().err and not out.exists()
    assert main(["score", str(path), "--dataset", str(ds.root), "--max-rows", "6", "--out", str(out), "--quiet"]) == 0
    assert main(["validate", str(path), "--dataset", str(ds.root), "--max-rows", "5"]) == 1


def test_unknown_ids_sort_the_dataset_ids_only_for_the_few_suggestions(tmp_path, monkeypatch):
    """Every unknown id is a problem, but only the first MAX_SUGGESTIONS get a did-you-mean; the ids they are
    matched against were sorted for every unknown id (quadratic: 40% of refusing 200k unknown ids)."""
    import builtins

    import zbb.submission.loader as loader

    ds = small_dataset(tmp_path / "ds")
    lines = [{"id": f"a{k}x", "condition": "interrupt", "response": "yes"} for k in range(40)]
    path = write_submission(tmp_path / "s", {"meta.json": {"model": "M"}, "responses.jsonl": lines})
    sorts: list[int] = []

    def counting(values, **kwargs):
        got = builtins.sorted(values, **kwargs)
        sorts.append(len(got))
        return got

    monkeypatch.setattr(loader, "sorted", counting, raising=False)
    problems = validate_submission(path, ds)
    unknown = [p for p in problems if "unknown id" in p.message]
    assert len(unknown) == 40 and 0 < sum("Did you mean" in p.message for p in unknown) <= loader.MAX_SUGGESTIONS
    assert sorts.count(len(ds.row_ids("interrupt"))) == loader.MAX_SUGGESTIONS


@pytest.mark.parametrize("as_zip", [False, True])
def test_untrusted_ids_are_escaped_where_a_problem_names_its_row(tmp_path, as_zip):
    """An id or condition holding a line break, a terminal escape or a bidi control is shown escaped in the
    problem's location and message (raw, it could forge a line of the error: "- everything is fine")."""
    ds = small_dataset(tmp_path / "ds")
    forged = "a1\n  - everything is fine: \x1b[32mOK\x1b[0m"
    lines = [
        {"id": forged, "condition": "interrupt", "response": ""},  # invalid line: its label
        {"id": "a2\u2028x", "condition": "interrupt", "response": "yes"},  # unknown id
        {"id": "a3\u202e", "condition": "interrupt", "response": "yes"},
        {"id": "a3\u202e", "condition": "interrupt", "response": "no"},  # duplicate
        {"id": "a1", "condition": "interrupt\r\n  - forged", "response": "yes"},  # unknown condition
    ]
    path = write_submission(tmp_path / "s", {"meta.json": {"model": "M"}, "responses.jsonl": lines}, as_zip=as_zip)
    problems = validate_submission(path, ds, allow_partial=True)
    shown = [str(p) for p in problems]
    assert len(shown) >= 6 and all(s.isprintable() for s in shown), shown
    assert any("[" + repr(forged)[:76] in s for s in shown)
    assert any("[" + repr("a3\u202e") + "]: duplicate row (" + repr("a3\u202e") + ", interrupt)" in s for s in shown)


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff \r\n\t\r\n", "\u2028\n\u0085"])
def test_a_responses_file_of_no_rows_is_refused_by_validate_and_score_naming_it(tmp_path, capsys, text):
    """`zbb validate` said "OK: 0 rows" and `zbb score` refused with "responses: no dataset rows in conditions
    (none)", naming no file."""
    from zbb.cli import main

    ds = small_dataset(tmp_path / "ds")
    path = write_submission(tmp_path / "s", {"meta.json": {"model": "M"}, "responses.jsonl": text.encode()})
    (problem,) = validate_submission(path, ds)
    assert (
        str(problem)
        == f"{path}/responses.jsonl: holds no rows; expected one JSON object per row (see docs/SUBMISSION.md)"
    )
    assert main(["score", str(path), "--dataset", str(ds.root), "--out", str(tmp_path / "r.json")]) == 2
    assert str(problem) in capsys.readouterr().err and not (tmp_path / "r.json").exists()
