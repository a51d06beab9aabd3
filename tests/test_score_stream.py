"""`zbb score` writes the result as it scores (`score_submission_to_file`): the file must be the one
`save_result(score_submission(...))` writes, and a refused or failed run must leave no file (or the earlier one)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from test_score_helpers import SR, make_clips, small_dataset, write_transcripts

from zbb.cli import main
from zbb.dataset import open_dataset
from zbb.errors import SubmissionError, ZbbError
from zbb.results import ResultWriter, load_result, save_result
from zbb.score import scorer
from zbb.score.scorer import score_submission, score_submission_to_file

REPLIES = ["yes, that's right", "no, not at all", "hmm, what?", "yeah the {s} does", "nope, the {s} doesn't", ""]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Both runs of a comparison say the same scoring time (the one field that differs between two runs)."""
    monkeypatch.setattr(scorer, "_utc_now", lambda: "2026-01-01T00:00:00Z")


def transcript_lines(ds, *, words: bool = False, skip: int = 0) -> list[dict]:
    """Every row of `ds` answered (varied replies, some with word times), less the last `skip` rows."""
    lines = []
    for cond in ds.conditions():
        for i, c in enumerate(ds.clips(cond)):
            line = {"id": c.id, "condition": cond, "response": REPLIES[i % len(REPLIES)].format(s=c.subject.lower())}
            if not line["response"]:
                line["silent"] = True
            elif words and i % 2:
                line["words"] = [
                    {"word": w, "start": round(c.end_s + 0.3 + 0.4 * k, 3), "end": round(c.end_s + 0.6 + 0.4 * k, 3)}
                    for k, w in enumerate(line["response"].split())
                ]
            lines.append(line)
    return lines[: len(lines) - skip]


def assert_streamed_equals_in_memory(sub, ds_path, tmp_path, **options) -> None:
    expected = save_result(score_submission(sub, ds_path, **options), tmp_path / "in-memory.json")
    streamed = tmp_path / "streamed.json"
    head = score_submission_to_file(sub, ds_path, streamed, **options)
    assert streamed.read_bytes() == expected.read_bytes()
    loaded = load_result(streamed)
    assert loaded == load_result(expected) and len(loaded.items) > 0
    assert head.items == () and head.aggregates == loaded.aggregates and head.breakdowns == loaded.breakdowns


def test_streamed_result_is_the_in_memory_result_on_a_built_dataset(tiny_dataset, tmp_path):
    ds = open_dataset(tiny_dataset)
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, transcript_lines(ds, words=True))
    assert_streamed_equals_in_memory(sub, tiny_dataset, tmp_path)


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_streamed_result_is_the_same_in_any_chunk_size_and_with_missing_rows(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(scorer, "SCORE_CHUNK_ROWS", chunk)
    ds = small_dataset(tmp_path / "ds")
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, transcript_lines(ds, words=True, skip=2))
    assert_streamed_equals_in_memory(sub, ds.root, tmp_path, allow_partial=True)
    saved = json.loads((tmp_path / "streamed.json").read_text())
    assert saved["aggregates"]["interrupt_buffered"]["missing"] == 2
    assert len(saved["items"]) == len(make_clips()) and saved["items"][-1]["source"] == "missing"


def test_result_writer_writes_save_results_bytes_for_committed_results(tmp_path):
    """Every result shipped in submissions/ (with and without items) comes out byte for byte as save_result
    writes it, whichever pieces the items are added in."""
    import dataclasses
    from pathlib import Path

    from zbb.leaderboard.store import INDEX_NAME

    # the results, not the board's index that `zbb demo` writes beside them
    shipped = sorted(p for p in Path(__file__).parents[1].glob("submissions/*.json") if p.name != INDEX_NAME)
    assert shipped
    for path in shipped[:8]:
        result = load_result(path)
        expected = save_result(result, tmp_path / "a.json").read_bytes()
        with ResultWriter(tmp_path / "b.json") as writer:
            for start in range(0, len(result.items), 500):
                writer.add(result.items[start : start + 500])
            writer.finish(dataclasses.replace(result, items=()))
        assert (tmp_path / "b.json").read_bytes() == expected, path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]  # no spool left


def _cases(ds) -> dict[str, list[dict]]:
    good = transcript_lines(ds)
    return {
        "duplicate row": [*good, dict(good[3], response="no")],
        "unknown row": [*good, {"id": "no-such-item", "condition": "interrupt", "response": "yes"}],
        "missing rows": good[:-3],
    }


@pytest.mark.parametrize("case", ["duplicate row", "unknown row", "missing rows"])
def test_a_refused_submission_leaves_the_earlier_result_and_nothing_else(tmp_path, capsys, case):
    ds = small_dataset(tmp_path / "ds")
    out = tmp_path / "results" / "toy.json"
    out.parent.mkdir()
    out.write_text("earlier result\n")
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, _cases(ds)[case])
    assert main(["score", str(sub), "--dataset", str(ds.root), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert {"duplicate row": "duplicate row", "unknown row": "unknown id", "missing rows": "rows missing"}[case] in err
    assert out.read_text() == "earlier result\n" and [p.name for p in out.parent.iterdir()] == ["toy.json"]


def test_a_nan_figure_met_mid_way_names_the_field_and_leaves_the_earlier_file(tmp_path, monkeypatch):
    """A NaN in the last chunk's timings (earlier chunks already spooled): the error save_result gives, no file."""
    import zbb.submission.loader as loader

    monkeypatch.setattr(scorer, "SCORE_CHUNK_ROWS", 2)
    real = loader._item_timing
    last = make_clips()[-1]

    def timing(clip, **measured):
        got = real(clip, **measured)
        return got if (clip.id, clip.condition) != (last.id, last.condition) else type(got)(latency_s=math.nan)

    monkeypatch.setattr(loader, "_item_timing", timing)
    ds = small_dataset(tmp_path / "ds")
    lines = transcript_lines(ds)
    lines[-1]["words"] = [{"word": "yes", "start": last.end_s + 0.2, "end": last.end_s + 0.5}]
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, lines)
    out = tmp_path / "out" / "toy.json"
    out.parent.mkdir()
    with pytest.raises(ZbbError) as in_memory:
        save_result(score_submission(sub, ds), out)
    out.write_text("earlier result\n")
    with pytest.raises(ZbbError) as streamed:
        score_submission_to_file(sub, ds, out)
    assert str(streamed.value) == str(in_memory.value)
    assert f"items[{len(lines) - 1}].latency_s = nan" in str(streamed.value)
    assert out.read_text() == "earlier result\n" and [p.name for p in out.parent.iterdir()] == ["toy.json"]


def test_a_judge_failure_mid_way_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(scorer, "SCORE_CHUNK_ROWS", 4)
    ds = small_dataset(tmp_path / "ds")
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, transcript_lines(ds))
    real, calls = scorer._judge_chunk, []

    def judge_chunk(*args):
        calls.append(1)
        if len(calls) == 3:
            raise SubmissionError("judge returned the wrong number of verdicts", [])
        return real(*args)

    monkeypatch.setattr(scorer, "_judge_chunk", judge_chunk)
    with pytest.raises(SubmissionError):
        score_submission_to_file(sub, ds, tmp_path / "out" / "toy.json")
    assert len(calls) == 3 and list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("batch_rows", [1, 2, 1000])
def test_dataset_rows_read_in_batches_are_the_rows(tiny_dataset, batch_rows):
    whole = open_dataset(tiny_dataset)
    for cond in whole.conditions():
        fresh = open_dataset(tiny_dataset)  # nothing cached: read from the shards
        batches = list(fresh.iter_clips(cond, batch_rows))
        assert [c for b in batches for c in b] == whole.clips(cond)
        assert max(len(b) for b in batches) <= batch_rows and not fresh._clips  # nothing kept
        assert fresh.row_ids(cond) == [c.id for c in whole.clips(cond)] == whole.row_ids(cond)
        assert [c for b in whole.iter_clips(cond, batch_rows) for c in b] == whole.clips(cond)  # from the cache


def test_a_corrupt_shard_read_in_batches_is_a_dataset_error(tmp_path):
    from zbb.errors import DatasetError

    ds = small_dataset(tmp_path / "ds")
    shard = next((ds.root / "interrupt").glob("*.parquet"))
    shard.write_bytes(b"PAR1 not parquet at all PAR1")
    with pytest.raises(DatasetError, match=rf"{shard}: not a readable ZBB parquet shard"):
        list(open_dataset(ds.root).iter_clips("interrupt", 2))
    with pytest.raises(DatasetError, match="not a readable ZBB parquet shard"):
        open_dataset(ds.root).row_ids("interrupt")


def test_transcript_responses_are_read_from_the_checked_text_as_they_were_parsed(tmp_path):
    """The loader keeps a transcript file's text and each row's offset; reading a row back gives the Response the
    line holds (stripped reply, word times), whatever the line endings, blank lines, BOM or non-ASCII text."""
    from zbb.records import Response, WordTiming
    from zbb.submission import load_submission
    from zbb.submission.loader import JsonlResponses

    ds = small_dataset(tmp_path / "ds", conditions=("interrupt",))
    clips = ds.clips("interrupt")
    replies = ["  oui, c'est vrai — 真的 ", "no", "", "yes the owl\\u00e9", "maybe", "\\ud83d\\ude00 sure"]
    lines, expected = [], {}
    for i, c in enumerate(clips):
        reply = json.loads(f'"{replies[i % len(replies)]}"')
        line = {"id": c.id, "condition": c.condition, "response": reply, **({"silent": True} if not reply else {})}
        words = None
        if i % 3 == 0 and reply:
            line["words"] = [{"word": "w", "start": c.end_s + 0.1, "end": c.end_s + 0.4}]
            words = (WordTiming("w", c.end_s + 0.1, c.end_s + 0.4),)
        lines.append(json.dumps(line, ensure_ascii=i % 2 == 0))
        expected[(c.id, c.condition)] = Response(c.id, c.condition, reply.strip(), words=words)
    text = "\ufeff" + "\r\n".join(lines[:3]) + "\r\n\r\n" + "\n".join(lines[3:])  # no newline at the end
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "meta.json").write_text(json.dumps({"model": "Toy"}))
    (sub / "responses.jsonl").write_text(text, encoding="utf-8")
    loaded = load_submission(sub, ds)
    assert isinstance(loaded.responses, JsonlResponses)
    assert list(loaded.responses) == list(expected)  # file order
    assert dict(loaded.responses) == expected
    assert set(loaded.timings) == {k for k, r in expected.items() if r.words}
    assert ("no-such", "interrupt") not in loaded.responses and len(loaded.responses) == len(clips)


def _scored_once(tmp_path):
    """A dataset, a valid submission and (scored once) a real earlier result `results/toy.json`."""
    ds = small_dataset(tmp_path / "ds")
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, transcript_lines(ds))
    out = tmp_path / "results" / "toy.json"
    score_submission_to_file(sub, ds.root, out)
    return ds, sub, out


@pytest.mark.parametrize(
    "case", ["folder", "fifo", "under a file", "own responses.jsonl", "own meta.json", "own zip", "dataset file"]
)
def test_an_out_that_cannot_take_the_result_is_refused_before_any_work(tmp_path, monkeypatch, capsys, case):
    """`--out` at a folder (found only when the finished file was renamed onto it, after every row was scored), a
    device or FIFO (renamed over: as root, `--out /dev/full` replaced the device node), or one of the submission's
    or dataset's own files (silently replaced by the result) is one clear error before anything is loaded."""
    import os
    import zipfile

    ds, sub, _ = _scored_once(tmp_path)
    with zipfile.ZipFile(tmp_path / "sub.zip", "w") as zf:
        for name in ("meta.json", "responses.jsonl"):
            zf.write(sub / name, name)
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    submission, out, expected = sub, tmp_path / case, "is a folder"
    if case == "fifo":
        expected = "not a regular file"
    elif case == "under a file":
        out, expected = sub / "meta.json" / "toy.json", "cannot write the result file here (Not a directory)"
    elif case.startswith("own ") and case != "own zip":
        out, expected = sub / case.removeprefix("own "), f"is a file of {sub}"
    elif case == "own zip":
        submission = out = tmp_path / "sub.zip"
        expected = f"is a file of {submission}"
    elif case == "dataset file":
        out = next((ds.root / "interrupt").glob("*.parquet"))
        expected = f"is a file of {ds.root}"
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.is_fifo()}

    def no_loading(*args, **kwargs):
        raise AssertionError("the submission was loaded before --out was checked")

    monkeypatch.setattr(scorer, "_load", no_loading)
    argv = ["score", str(submission), "--dataset", str(ds.root), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"zbb score: error: {out}: {expected}" + err.split(expected, 1)[1] and err.count("\n") == 1
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.is_fifo()} == before


class _FullDisk:
    """A spool file whose writes fail with ENOSPC once `room` bytes were written (and whose close then fails too,
    as a buffered file's final flush would)."""

    def __init__(self, real, room: int):
        self.real, self.room, self.failed = real, room, False

    def write(self, data: bytes) -> int:
        import errno

        self.room -= len(data)
        if self.room < 0:
            self.failed = True
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def close(self) -> None:
        import errno

        self.real.close()
        if self.failed:
            raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.parametrize("where", ["spool full mid-way", "spool not creatable", "read-only folder", "interrupted"])
def test_a_write_failure_mid_way_is_one_line_and_leaves_the_earlier_result_and_no_spool(
    tmp_path, monkeypatch, capsys, where
):
    import errno
    import tempfile

    import zbb.results

    ds, sub, out = _scored_once(tmp_path)
    earlier = out.read_bytes()
    monkeypatch.setattr(scorer, "SCORE_CHUNK_ROWS", 2)
    real = tempfile.NamedTemporaryFile
    if where == "spool full mid-way":
        spool = lambda *a, **k: _FullDisk(real(*a, **k), room=3000)  # noqa: E731
        expected = f"zbb score: error: no space left on device while writing {out}\n"
    elif where == "spool not creatable":
        spool = lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EDQUOT, "Disk quota exceeded"))  # noqa: E731
        expected = f"zbb score: error: no space left on device while writing {out}\n"
    elif where == "read-only folder":
        spool = lambda *a, **k: (_ for _ in ()).throw(PermissionError(errno.EACCES, "Permission denied"))  # noqa: E731
        expected = f"zbb score: error: {out}: cannot write the result file (Permission denied)\n"
    else:
        spool, calls, judge = real, [], scorer._judge_chunk

        def interrupted(*args):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return judge(*args)

        monkeypatch.setattr(scorer, "_judge_chunk", interrupted)
        expected = "zbb score: interrupted\n"
    monkeypatch.setattr(zbb.results.tempfile, "NamedTemporaryFile", spool)
    rc = main(["score", str(sub), "--dataset", str(ds.root), "--out", str(out), "--quiet"])
    assert (rc, capsys.readouterr().err) == (130 if where == "interrupted" else 2, expected)
    assert out.read_bytes() == earlier and [p.name for p in out.parent.iterdir()] == ["toy.json"]


# Separators and spacing a responses.jsonl may hold around its objects: blank and whitespace-only lines (Unicode
# line separators included, which str.strip() removes but JSON does not take as whitespace).
_BLANKS = st.sampled_from(["", " ", "\t", "\r", "\u2028", "\u0085", "\x0c", " \u3000 "])
_REPLIES = st.one_of(
    st.sampled_from(
        ["yes", "no, it does not", "  the cat\u2028 does ", "a\nb\r\nc", "\u00e9\u202e\U0001f600", "x" * 1000]
    ),
    st.text(min_size=1, max_size=30),
)


@pytest.fixture(scope="module")
def stream_ds(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("stream") / "ds", conditions=("interrupt", "interrupt_buffered"))


@given(data=st.data())
def test_any_layout_of_a_transcript_file_scores_the_same_streamed_as_in_memory(stream_ds, tmp_path_factory, data):
    """Whatever the line endings, BOM, blank or whitespace-only lines, duplicate JSON keys, escaping and final
    newline of a responses.jsonl (folder or zip, rows left out with --allow-partial): the streamed file is the
    in-memory result's file, or both refuse alike; a scored row's reply is what its line says, read independently
    (split at "\\n", json.loads, strip)."""
    import zipfile

    tmp = tmp_path_factory.mktemp("case")
    lines = []
    for cond in stream_ds.conditions():
        for c in stream_ds.clips(cond):
            if data.draw(st.integers(0, 9)) == 0:
                continue  # a missing row
            row = {"id": c.id, "condition": cond, "response": data.draw(_REPLIES)}
            text = json.dumps(row, ensure_ascii=data.draw(st.booleans()))
            if data.draw(st.integers(0, 4)) == 0:  # a duplicate key: the last one counts, as in json.loads
                text = '{"response": "decoy", ' + text[1:]
            lines.append(text + data.draw(st.sampled_from(["", " ", "\r", "\t"])))
            lines.extend(data.draw(st.lists(_BLANKS, max_size=2)))
    ending = data.draw(st.sampled_from(["\n", "\r\n"]))
    text = ("\ufeff" if data.draw(st.booleans()) else "") + ending.join(lines)
    text += ending if data.draw(st.booleans()) else ""
    sub = tmp / "sub"
    sub.mkdir()
    (sub / "meta.json").write_text(json.dumps({"model": "Toy"}))
    (sub / "responses.jsonl").write_bytes(text.encode("utf-8", "surrogatepass"))
    if data.draw(st.booleans()):
        with zipfile.ZipFile(tmp / "sub.zip", "w") as zf:
            zf.write(sub / "meta.json", "meta.json")
            zf.write(sub / "responses.jsonl", "responses.jsonl")
        sub = tmp / "sub.zip"
    try:
        expected = save_result(score_submission(sub, stream_ds, allow_partial=True), tmp / "in-memory.json")
    except ZbbError as exc:
        with pytest.raises(type(exc)) as streamed:
            score_submission_to_file(sub, stream_ds, tmp / "streamed.json", allow_partial=True)
        assert str(streamed.value) == str(exc) and not (tmp / "streamed.json").exists()
        event(f"refused: {type(exc).__name__}")
        return
    event("scored")
    score_submission_to_file(sub, stream_ds, tmp / "streamed.json", allow_partial=True)
    assert (tmp / "streamed.json").read_bytes() == expected.read_bytes()
    said = {}
    for line in text.removeprefix("\ufeff").split("\n"):
        if line.strip():
            row = json.loads(line)
            said[(row["id"], row["condition"])] = row["response"].strip()
    items = load_result(expected).items
    assert {(i.id, i.condition): i.response for i in items if not i.missing} == said


def test_a_dataset_that_repeats_a_row_is_refused_by_both_scorers(tmp_path, capsys):
    """A (downloaded, hand-made) dataset giving one row id twice in a condition was scored once by score_submission
    (its rows by key) and twice by zbb score (the shards read in batches): two different results."""
    import numpy as np
    from test_submission_helpers import write_dataset

    from zbb.errors import DatasetError

    clips = make_clips(("interrupt",))
    root = write_dataset(
        tmp_path / "ds", [*clips, clips[2]], SR, "ab" * 8, audio=lambda c, r: np.zeros(160, np.float32)
    )
    lines = [{"id": c.id, "condition": c.condition, "response": "yes"} for c in clips]
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, lines)
    message = f"{root}: row id {clips[2].id!r} appears more than once in condition 'interrupt'"
    with pytest.raises(DatasetError, match=message):
        score_submission(sub, root)
    with pytest.raises(DatasetError, match=message):
        score_submission_to_file(sub, root, tmp_path / "out" / "toy.json")
    assert main(["score", str(sub), "--dataset", str(root), "--out", str(tmp_path / "toy.json")]) == 2
    assert capsys.readouterr().err == f"zbb score: error: {message}\n"
    assert not (tmp_path / "toy.json").exists() and not (tmp_path / "out").exists()


def test_zbb_score_takes_the_condition_of_fdb_folders_without_a_condition_level(tmp_path, capsys):
    """`<id>/output.json` run folders on a dataset of several conditions: the refusal says to pass --condition (as
    `zbb validate` takes), so `zbb score` takes it too, and scores them as that condition."""
    ds = small_dataset(tmp_path / "ds")
    sub = tmp_path / "sub"
    for c in ds.clips("interrupt"):
        (sub / c.id).mkdir(parents=True)
        (sub / c.id / "output.json").write_text(json.dumps({"text": f"yes the {c.subject.lower()} does"}))
    (sub / "meta.json").write_text(json.dumps({"model": "Toy"}))
    out = tmp_path / "toy.json"
    argv = ["score", str(sub), "--dataset", str(ds.root), "--out", str(out), "--quiet"]
    assert main(argv) == 2 and "pass the condition (--condition" in capsys.readouterr().err
    assert main([*argv, "--condition", "interrupt"]) == 0
    result = load_result(out)
    assert [(i.condition, i.source) for i in result.items] == [("interrupt", "fdb-json")] * len(ds.clips("interrupt"))
    assert result == score_submission(sub, ds.root, condition="interrupt")


def test_word_times_read_only_the_rows_that_give_them(tmp_path, monkeypatch):
    """A transcript with word times needs the dataset rows of those lines only: the loader reads them in one
    pass and never holds a whole condition as Clips (a million-row submission), with the same timings."""
    from zbb.dataset import ZbbDataset
    from zbb.submission import load_submission

    root = small_dataset(tmp_path / "ds").root
    sub = write_transcripts(tmp_path / "sub", {"model": "Toy"}, transcript_lines(open_dataset(root), words=True))
    expected = load_submission(sub, open_dataset(root)).timings
    assert expected
    monkeypatch.setattr(ZbbDataset, "clips", lambda self, condition: pytest.fail(f"read all of {condition}"))
    monkeypatch.setattr(ZbbDataset, "clip", lambda self, condition, id: pytest.fail(f"read all of {condition}"))
    assert load_submission(sub, open_dataset(root)).timings == expected
    monkeypatch.undo()

    ds, cached = open_dataset(root), open_dataset(root)
    cond = ds.conditions()[0]
    ids = [c.id for c in cached.clips(cond)][::2]
    for reader in (ds, cached):  # read in batches, or from the cache clips() filled
        got = reader.rows_by_id(cond, [*ids, "no-such-row"])
        assert got == {i: cached.clip(cond, i) for i in ids}
