"""Hostile and broken input, class by class (issue 10): each is refused at the mechanism with a message naming the
file, line or item, cheaply, and nothing already stored is lost or half-written."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_submission_helpers import SR, small_dataset, write_submission

from zbb.errors import BankError, SubmissionError, ZbbError
from zbb.io import MAX_JSON_DEPTH, JsonInputError, atomic_write_json, read_json
from zbb.leaderboard.store import INDEX_NAME, ResultStore
from zbb.leaderboard.synthetic import synthetic_run
from zbb.records import RunResult, Steering, slug
from zbb.results import load_result, save_result
from zbb.submission import Limits, check_submission, load_submission

META = {"model": "Moshi"}
REPO = Path(__file__).resolve().parents[1]


def lines(ids=("a1", "a2", "a3"), conditions=("no_interrupt", "interrupt")):
    return [
        {"id": i, "condition": c, "response": f"No, a submarine cannot fly ({i})."} for c in conditions for i in ids
    ]


def jsonl(rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def ds(tmp_path):
    return small_dataset(tmp_path / "ds")


def refused(path, ds, **kw) -> list[str]:
    """The problems of a submission, as 'where: message' lines; asserts validate and load agree on refusing."""
    check = check_submission(path, ds, **kw)
    with pytest.raises(SubmissionError) as info:
        load_submission(path, ds, **kw)
    assert not check.ok
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------------------------------ 1. deep nesting
def test_reader_refuses_deep_nesting_naming_file_and_line():
    text = '{"a": 1,\n "b": ' + nested(5000) + "}"
    with pytest.raises(JsonInputError) as info:
        read_json(text, "x.json")
    assert info.value.where == "x.json:2" and f"deeper than {MAX_JSON_DEPTH}" in info.value.message
    assert read_json(nested(MAX_JSON_DEPTH), "ok.json") is not None  # at the limit: fine
    # brackets inside strings are text, not nesting
    assert read_json(json.dumps({"t": "[" * 5000}), "s.json") == {"t": "[" * 5000}


@pytest.mark.parametrize("depth", [900, 5000])
def test_deep_meta_and_response_line_are_refused_by_validate_and_score(tmp_path, ds, depth):
    meta = '{"model": "M", "decoding": {"x": ' + nested(depth) + "}}"
    path = write_submission(tmp_path / "m", {"meta.json": meta, "responses.jsonl": lines()})
    assert any("m/meta.json" in p and "nested deeper" in p for p in refused(path, ds))
    rows = jsonl([*lines()[:2], '{"id": "a3", "condition": "no_interrupt", "response": ' + nested(depth) + "}"])
    path = write_submission(tmp_path / "r", {"meta.json": META, "responses.jsonl": rows})
    assert any("r/responses.jsonl:3" in p and "nested deeper" in p for p in refused(path, ds))


def test_deep_bank_line_and_result_file_are_refused(tmp_path):
    from zbb.bank import load_bank

    bank = tmp_path / "bank.jsonl"
    good = {"subject": "cat", "description": "meows", "label": True}
    bank.write_text(json.dumps(good) + "\n" + '{"subject": ' + nested(3000) + "}\n")
    with pytest.raises(BankError, match=r"bank\.jsonl:2: JSON nested deeper"):
        load_bank(bank)
    result = tmp_path / "r.json"
    result.write_text('{"kind": "zbb-result", "meta": ' + nested(3000) + "}")
    with pytest.raises(ZbbError, match=r"r\.json:1: not a readable result file: JSON nested deeper"):
        load_result(result)


# ------------------------------------------------------------------------------ 2. text that broke the normaliser
@pytest.mark.parametrize(
    "text", ["1" * 5000, "$" + "9" * 20000, "0." + "0" * 5000 + "1", "1e" + "9" * 4400, "½" * 500 + "ﷺ" * 50]
)
def test_normaliser_and_judge_are_total(text):
    from zbb.score.judge import JudgeInput
    from zbb.score.normalise import normalise
    from zbb.score.rule_judge import RuleJudge

    normal = normalise(text)
    assert isinstance(normal, str)
    (verdict,) = RuleJudge().judge_many(
        [JudgeInput("a", "interrupt", "Cat meows, right?", "cat", "meows", text, normal)]
    )
    assert verdict.stance in ("affirm", "deny", "no_answer")


def test_reply_length_is_capped_by_limits(tmp_path, ds):
    rows = lines()
    rows[4]["response"] = "no " * 400  # 1,200 characters
    path = write_submission(tmp_path / "s", {"meta.json": META, "responses.jsonl": rows})
    problems = refused(path, ds)
    assert problems == [
        f"{path}/responses.jsonl:5 [a2]: response is 1200 characters; the limit is 1000 (Limits.max_reply_chars)"
    ]
    assert check_submission(path, ds, limits=Limits(max_reply_chars=2000)).ok
    assert not check_submission(path, ds, limits=Limits(max_reply_chars=20)).ok


# --------------------------------------------------------------------------------- 3. numbers that are not numbers
@pytest.mark.parametrize(
    "words, fragment",
    [
        ('[{"word": "no", "start": Infinity, "end": Infinity}]', "Infinity is not a JSON number"),
        ('[{"word": "no", "start": NaN, "end": 1}]', "NaN is not a JSON number"),
        ('[{"word": "no", "start": 1e400, "end": 1e400}]', "too large (not a finite number)"),
        ('[{"word": "no", "start": 1e308, "end": 1e308}]', "outside the clip"),
        ('[{"word": "no", "start": 100000, "end": 100001}]', "outside the clip"),
    ],
)
def test_word_times_must_be_finite_and_on_the_clip(tmp_path, ds, words, fragment):
    bad = '{"id": "a2", "condition": "interrupt", "response": "no", "words": ' + words + "}"
    rows = jsonl([r for r in lines() if (r["id"], r["condition"]) != ("a2", "interrupt")] + [bad])
    path = write_submission(tmp_path / "s", {"meta.json": META, "responses.jsonl": rows})
    problem, *rest = refused(path, ds)
    assert problem.startswith(f"{path}/responses.jsonl:6") and fragment in problem
    assert all("rows missing (a2)" in p for p in rest)  # an unreadable line cannot say which row it answered


@pytest.mark.parametrize("alpha", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_steering_alpha_must_be_finite(tmp_path, ds, alpha):
    meta = '{"model": "M", "steering": {"layer": 23, "alpha": ' + alpha + ', "span": 3}}'
    path = write_submission(tmp_path / "s", {"meta.json": meta, "responses.jsonl": lines()})
    (problem,) = refused(path, ds)
    assert problem.startswith(f"{path}/meta.json") and "finite" in problem


def test_results_are_written_as_strict_json_or_refused_naming_the_field(tmp_path):
    run = synthetic_run("M", {"interrupt": (0.3, 0.4)}, n=5)
    item = dataclasses.replace(run.items[2], latency_s=math.inf)
    bad = dataclasses.replace(run, items=(*run.items[:2], item, *run.items[3:]))
    target = tmp_path / "bad.json"
    with pytest.raises(ZbbError, match=r"items\[2\]\.latency_s = inf; JSON holds only finite numbers"):
        save_result(bad, target)
    assert not target.exists() and list(tmp_path.iterdir()) == []  # nothing half-written
    steered = dataclasses.replace(run, meta=dataclasses.replace(run.meta, steering=Steering(alpha=float("nan"))))
    with pytest.raises(ZbbError, match=r"meta\.steering\.alpha = nan"):
        save_result(steered, tmp_path / "s.json")
    good = save_result(run, tmp_path / "good.json")
    assert load_result(good) == run
    read_json(good.read_bytes(), str(good))  # strict parser


def test_every_stored_result_parses_with_a_strict_parser():
    # every JSON the store keeps parses strictly; the board's index (written beside the results by `zbb demo` or
    # the app, not tracked) is no result
    files = sorted((REPO / "submissions").rglob("*.json"))
    results = [p for p in files if p.name != INDEX_NAME]
    assert results
    for path in files:
        data = json.loads(path.read_text(), parse_constant=pytest.fail)
        assert read_json(path.read_bytes(), str(path)) == data
        if path.name != INDEX_NAME:
            assert data["kind"] == "zbb-result" and load_result(path).meta.model


# ------------------------------------------------------------------------------ 4. audio checked from the header
def _flac(seconds: float, *, channels: int = 1, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", rate, channels, format="FLAC") as fh:
        block = np.zeros((rate * 10, channels), np.float32)
        block[:, :] = 0.01
        for _ in range(int(seconds // 10)):
            fh.write(block)
    return buf.getvalue()


def _audio_submission(tmp_path, blob: bytes, name="a1.flac"):
    files = {"meta.json": META}
    for i in ("a1", "a2", "a3"):
        files[f"audio/interrupt/{i}.flac"] = _tone(6.0)
    files[f"audio/interrupt/{name}"] = blob
    return write_submission(tmp_path / "s", files)


def _tone(seconds: float, channels: int = 1) -> bytes:
    n = int(seconds * SR)
    x = (0.2 * np.sin(2 * np.pi * 300 * np.arange(n) / SR)).astype(np.float32)
    return _encode(np.tile(x[:, None], (1, channels)))


def _encode(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, SR, format="FLAC")
    return buf.getvalue()


@pytest.mark.parametrize(
    "blob, fragment",
    [
        (lambda: _flac(600), "output audio is 600.000 s (from its header) but the user audio is 6.000 s"),
        (lambda: _tone(6.0, channels=3), "audio has 3 channels"),
    ],
)
def test_audio_is_refused_from_its_header_before_decoding(tmp_path, ds, monkeypatch, blob, fragment):
    import zbb.audio

    path = _audio_submission(tmp_path, blob())
    decoded = []
    real = zbb.audio.read_audio
    monkeypatch.setattr(zbb.audio, "read_audio", lambda *a, **k: decoded.append(k.get("where")) or real(*a, **k))
    problems = [str(p) for p in check_submission(path, ds).problems]
    assert problems == [f"{path}/audio/interrupt/a1.flac [a1]: " + problems[0].split("[a1]: ", 1)[1]]
    assert fragment in problems[0]
    assert not any("a1.flac" in w for w in decoded)  # refused before anything was decoded


def test_only_the_clips_length_is_decoded(tmp_path, ds, monkeypatch):
    import zbb.audio

    path = _audio_submission(tmp_path, _tone(9.0))  # 3 s too long: within the slack, trimmed with a warning
    frames = []
    real = zbb.audio.read_audio
    monkeypatch.setattr(zbb.audio, "read_audio", lambda *a, **k: frames.append(k.get("frames")) or real(*a, **k))
    check = check_submission(path, ds)
    assert check.ok and any("trimmed" in w.message for w in check.warnings)
    assert frames == [6 * SR] * 3


# -------------------------------------------------------------------------- 5. bounded cost of error reporting
def test_error_reporting_is_bounded(tmp_path, ds, monkeypatch):
    import difflib

    calls = []
    real = difflib.get_close_matches
    monkeypatch.setattr(difflib, "get_close_matches", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    rows = [{"id": f"x{i}", "condition": "interrupt", "response": "no"} for i in range(3000)]
    path = write_submission(tmp_path / "s", {"meta.json": META, "responses.jsonl": rows})
    problems = check_submission(path, ds).problems
    assert len(calls) == 5
    assert sum("Did you mean" in p.message for p in problems) <= 5
    assert len(problems) == Limits().max_problems + 1
    assert problems[-1].message.startswith("checking stopped after 1000 problems (Limits.max_problems)")
    garbage = write_submission(tmp_path / "g", {"meta.json": META, "responses.jsonl": "{\n" * 5000})
    assert len(check_submission(garbage, ds, limits=Limits(max_problems=50)).problems) == 51


# ------------------------------------------------------------------------------------------ 6. names and run ids
@pytest.mark.parametrize("name", ["模型", "Ünïcødé model", "a" * 100, "..hidden", "a..b", "   ", "😀😀"])
def test_run_ids_from_any_name_are_safe_and_distinct(tmp_path, name):
    from zbb.leaderboard.store import safe_part

    run = synthetic_run(name, {"interrupt": (0.3, 0.4)}, n=3)
    assert safe_part(run.run_id, "run id") == run.run_id and run.run_id.isascii() and len(run.run_id) < 120
    other = synthetic_run(name + "x", {"interrupt": (0.3, 0.4)}, n=3)
    assert slug(name) != slug(name + "x") and run.run_id != other.run_id
    key = ResultStore(tmp_path / "store").add(run)
    assert ResultStore(tmp_path / "store").load(key).meta.model == name


def test_existing_run_ids_keep_their_names():
    assert slug("Moshi") == "moshi" and slug("Simulated listener (misses 0 ms)") == "simulated-listener-misses-0-ms"


def test_long_names_are_refused_at_validation(tmp_path, ds):
    path = write_submission(tmp_path / "s", {"meta.json": {"model": "m" * 300}, "responses.jsonl": lines()})
    (problem,) = refused(path, ds)
    assert problem.startswith(f"{path}/meta.json: model: String should have at most 100 characters")
    good = write_submission(tmp_path / "u", {"meta.json": {"model": "模型"}, "responses.jsonl": lines()})
    assert load_submission(good, ds).meta.model == "模型"


# ------------------------------------------------------------------------------------------ 7. the Submit tab
def test_submit_turns_any_failure_into_a_message_and_logs_it(tmp_path, ds, monkeypatch, caplog):
    import zbb.score
    from zbb.leaderboard.submit import submit

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(zbb.score, "score_submission", boom)
    path = write_submission(tmp_path / "s", {"meta.json": META, "responses.jsonl": lines()})
    store = ResultStore(tmp_path / "store")
    with caplog.at_level(logging.ERROR):
        outcome = submit(store, [path / "meta.json", path / "responses.jsonl"], ds)
    assert not outcome.ok and "RuntimeError: disk on fire" in outcome.message()
    assert "not added to the board" in outcome.message()
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)
    assert store.summaries() == []


def test_submit_stores_a_unicode_named_model(tmp_path, ds):
    from zbb.leaderboard.submit import submit

    path = write_submission(tmp_path / "s", {"meta.json": {"model": "模型"}, "responses.jsonl": lines()})
    outcome = submit(ResultStore(tmp_path / "store"), [path / "meta.json", path / "responses.jsonl"], ds)
    assert outcome.ok, outcome.message()
    assert [s.model for s in ResultStore(tmp_path / "store").summaries()] == ["模型"]


# ------------------------------------------------------------------------------------ 8. damaged stored results
def test_damaged_results_are_named_and_a_bad_index_is_rebuilt(tmp_path, capsys):
    from zbb.leaderboard.app import print_board

    store = ResultStore(tmp_path / "store")
    store.add(synthetic_run("A", {"interrupt": (0.3, 0.4)}, n=5))
    key_b = store.add(synthetic_run("B", {"interrupt": (0.5, 0.6)}, n=5))
    whole = store.path_of(key_b).read_text()
    store.path_of(key_b).write_text(whole[: len(whole) // 2])  # truncated
    assert [s.model for s in store.summaries()] == ["A"]
    assert [p.where for p in store.problems] == [str(store.path_of(key_b))]
    assert "unreadable JSON (line" in store.problems[0].message
    assert print_board(ResultStore(tmp_path / "store")) == 0
    assert f"warning: {store.path_of(key_b)}: unreadable JSON" in capsys.readouterr().err

    index = json.loads(store.index_path.read_text())
    entry = next(e for e in index["files"].values() if e["summary"] and "error" not in e["summary"])
    packed = next(iter(entry["summary"]["outcomes"].values()))
    packed["ids"] = packed["ids"][:-1]  # inconsistent arrays, by hand, keeping mtime/size of the file
    store.index_path.write_text(json.dumps(index))
    assert [s.model for s in ResultStore(tmp_path / "store").summaries()] == ["A"]
    rebuilt = json.loads(store.index_path.read_text())
    assert all(
        len(p["ids"]) == len(p["correct"])
        for e in rebuilt["files"].values()
        if e["summary"] and "error" not in e["summary"]
        for p in e["summary"]["outcomes"].values()
    )
    store.index_path.write_text(nested(10_000))  # deep garbage: rebuilt from the files
    assert [s.model for s in ResultStore(tmp_path / "store").summaries()] == ["A"]


# ---------------------------------------------------------------------------------------------- 9. disk full
def test_disk_full_during_a_build_is_reported_and_resumable(tmp_path, tiny_bank, monkeypatch):
    import zbb.builder.writer
    from zbb.builder import build_dataset
    from zbb.builder.pipeline import DiskFullError

    bank, recipe = tiny_bank
    out = tmp_path / "zbb"
    first = build_dataset(out, bank=bank, recipe=recipe, preset="tiny", seed=0, progress=False)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    real_add, added = zbb.builder.writer.ShardWriter.add, []

    def full_after_two(self, chunk):
        if len(added) == 2:
            raise OSError("1048576 requested and 4096 written")  # what numpy's writer says on a full disk
        added.append(chunk)
        return real_add(self, chunk)

    monkeypatch.setattr(zbb.builder.writer.ShardWriter, "add", full_after_two)
    with pytest.raises(DiskFullError) as info:
        build_dataset(out, bank=bank, recipe=recipe, preset="tiny", seed=1, progress=False)
    message = str(info.value)
    partial = tmp_path / "zbb.partial"
    assert message.startswith("no space left on device while writing")
    assert "MiB more" in message and f"The previous complete dataset in {out} is untouched" in message
    assert f"run the same command again to resume, or delete {partial} to clean up" in message
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not list(partial.glob("*/dataset"))  # the half-written shards are removed, the rendered items kept
    monkeypatch.setattr(zbb.builder.writer.ShardWriter, "add", real_add)
    again = build_dataset(out, bank=bank, recipe=recipe, preset="tiny", seed=1, progress=False)
    assert again.items_resumed > 0 and again.fingerprint != first.fingerprint and not partial.exists()


def test_disk_full_error_reaches_the_cli_as_one_line(tmp_path, monkeypatch, capsys):
    import errno

    import zbb.builder.pipeline
    from zbb.cli import main

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x"))

    monkeypatch.setattr(zbb.builder.pipeline, "_render_and_publish", full)
    assert main(["build", "--preset", "tiny", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error: no space left on device while writing" in err and "Traceback" not in err


# ------------------------------------------------------------------------------ 10. validate and score agree
HOSTILE = {
    "deep meta": {"meta.json": '{"model": "M", "decoding": {"x": ' + nested(900) + "}}"},
    "nan alpha": {"meta.json": '{"model": "M", "steering": {"alpha": NaN}}'},
    "long name": {"meta.json": {"model": "x" * 101}},
    "unicode name": {"meta.json": {"model": "模型 😀"}},
    "inf word": {
        "responses.jsonl": jsonl([*lines()[:5], {**lines()[5], "words": [{"word": "n", "start": 1e300, "end": 1e300}]}])
    },
    "big int": {"meta.json": '{"model": "M", "decoding": {"seed": ' + "9" * 5000 + "}}"},
    "deep but allowed": {"meta.json": '{"model": "M", "decoding": {"x": ' + nested(MAX_JSON_DEPTH - 3) + "}}"},
    "huge number text": {"responses.jsonl": jsonl([*lines()[:5], {**lines()[5], "response": "9" * 999}])},
    "unknown id": {"responses.jsonl": jsonl([*lines()[:5], {**lines()[5], "id": "zz"}])},
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_validate_refuses_whatever_score_refuses(tmp_path, ds, case):
    from zbb.score import score_submission

    files = {"meta.json": META, "responses.jsonl": lines(), **HOSTILE[case]}
    path = write_submission(tmp_path / "s", files)
    check = check_submission(path, ds)
    try:
        result = score_submission(path, ds)
    except SubmissionError as exc:
        assert not check.ok and [str(p) for p in exc.problems] == [str(p) for p in check.problems]
        return
    assert check.ok, check.problems
    written = save_result(result, tmp_path / "result.json")  # whatever scores also stores
    assert read_json(written.read_bytes(), str(written))["kind"] == "zbb-result"
    assert RunResult.from_dict({k: v for k, v in json.loads(written.read_text()).items() if k != "kind"}) == result
    atomic_write_json(tmp_path / "again.json", result.to_dict())


def test_a_full_disk_while_writing_a_result_is_one_clear_error_and_leaves_the_file(tmp_path, monkeypatch):
    import errno
    import os

    from zbb.io import NoSpaceError

    run = synthetic_run("M", {"interrupt": (0.3, 0.4)}, n=3)
    target = save_result(run, tmp_path / "r.json")
    before = target.read_bytes()

    def full(fd, *a):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(
        NoSpaceError, match=rf"^no space left on device while writing {target} \([\d,]+ bytes needed\)$"
    ):
        save_result(dataclasses.replace(run, items=()), target)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["r.json"]
