"""Property-based tests of everything that parses untrusted input: the bank loader, the submission loader (folders
and zips), the normaliser + judge, and the result writer. The only outcomes allowed are a result, or a `ZbbError`
whose message names the file (and line or item) at fault; never another exception, never a file that is not strict
JSON. Few examples in the default run; `pytest -m fuzz --hypothesis-profile=fuzz` runs 2,000 of each.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_submission_helpers import small_dataset

from zbb.errors import BankError, SubmissionError, ZbbError
from zbb.io import read_json

pytestmark = pytest.mark.fuzz

IDS = ("a1", "a2", "a3")
CONDITIONS = ("no_interrupt", "interrupt")

# ------------------------------------------------------------------------------------------------ strategies
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "1e308", "-0", "9" * 5000]),
)
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "yes", "No, it cannot.", "\x00", "\ud83d", "[" * 200, "1" * 5000, "模型", "\u202e"]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


def dump(value) -> str:
    """JSON text of a drawn value; the sampled strings above stand for raw JSON tokens where they are numbers."""
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity", "1e400", "1e308", "-0", "9" * 5000):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


raw_lines = st.one_of(
    st.builds(dump, json_values),
    st.text(max_size=60),
    st.integers(min_value=60, max_value=3000).map(deep),
)


@st.composite
def response_lines(draw) -> str:
    """A responses.jsonl line: mostly row-shaped, with any field replaced by something hostile."""
    row: dict = {
        "id": draw(st.sampled_from(IDS) | texts),
        "condition": draw(st.sampled_from(CONDITIONS) | texts),
        "response": draw(st.sampled_from(["yes", "no it does not", "1" * 999]) | texts),
    }
    if draw(st.booleans()):
        row["words"] = draw(
            st.lists(
                st.fixed_dictionaries({"word": texts, "start": numbers, "end": numbers})
                | json_values.map(lambda v: {"w": v}),
                max_size=3,
            )
        )
    if draw(st.booleans()):
        row[draw(texts)] = draw(json_values)
    return draw(st.sampled_from([dump(row), json.dumps(row)[: draw(st.integers(0, 40))]]) | raw_lines)


@st.composite
def metas(draw) -> str:
    meta: dict = {"model": draw(st.sampled_from(["Moshi", "模型", "x" * 150]) | texts)}
    if draw(st.booleans()):
        meta["steering"] = draw(
            st.fixed_dictionaries({"layer": numbers, "alpha": numbers, "span": numbers}) | json_values
        )
    if draw(st.booleans()):
        meta["decoding"] = draw(json_values)
    return draw(st.just(dump(meta)) | raw_lines)


def valid_lines() -> list[str]:
    return [json.dumps({"id": i, "condition": c, "response": "no it does not"}) for c in CONDITIONS for i in IDS]


@st.composite
def submissions(draw) -> dict[str, bytes]:
    lines = valid_lines()
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines)))
        line = draw(response_lines())
        if draw(st.booleans()) and lines:
            lines[min(at, len(lines) - 1)] = line
        else:
            lines.insert(at, line)
    files = {
        "meta.json": (draw(metas()) if draw(st.booleans()) else '{"model": "M"}').encode("utf-8", "surrogatepass"),
        "responses.jsonl": "\n".join(lines).encode("utf-8", "surrogatepass"),
    }
    if draw(st.booleans()):
        files[draw(st.sampled_from(["notes.txt", "audio/interrupt/a1.wav", "a1/output.json", "x/y/z.json"]))] = draw(
            st.binary(max_size=64)
        )
    return files


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("fuzz-ds"))


def write(root: Path, files: dict[str, bytes], as_zip: bool, member_names: list[str]) -> Path:
    if as_zip:
        path = root.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, data in files.items():
                zf.writestr(rel, data)
            for name in member_names:  # hostile member names
                zf.writestr(name, b"{}")
        return path
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


# ------------------------------------------------------------------------------------------- submission loader
@given(
    files=submissions(),
    as_zip=st.booleans(),
    member_names=st.lists(
        st.sampled_from(["../x.json", "/abs.json", "a\\b.json", "__MACOSX/m", "模型.json"]), max_size=2
    ),
)
def test_submission_loader_gives_a_result_or_a_located_error(tmp_path_factory, ds, files, as_zip, member_names):
    from zbb.results import load_result, save_result
    from zbb.score import score_responses
    from zbb.submission import check_submission, load_submission

    root = tmp_path_factory.mktemp("sub") / "sub"
    path = write(root, files, as_zip, member_names)
    check = check_submission(path, ds)
    try:
        sub = load_submission(path, ds)
    except SubmissionError as exc:
        assert not check.ok  # validate refuses whatever load refuses
        assert exc.problems and all(str(path) in p.where or p.where.startswith(str(ds.source)) for p in exc.problems)
        return
    assert check.ok, check.problems
    conditions = {c for _, c in sub.responses}
    clips = [c for cond in conditions for c in ds.clips(cond)]
    result = score_responses(sub.responses, clips, meta=sub.meta, dataset=ds, timings=sub.timings)
    written = save_result(result, root.parent / "result.json")
    read_json(written.read_bytes(), str(written))
    assert load_result(written) == result


# ----------------------------------------------------------------------------------------------- bank loader
@st.composite
def bank_files(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".csv", ".jsonl"]))
    rows = [
        {"subject": "cat", "description": "meows", "label": "true"},
        {"subject": "cat", "description": "barks", "label": "false"},
    ]
    if suffix == ".jsonl":
        lines = [json.dumps(r) for r in rows]
        for _ in range(draw(st.integers(0, 3))):
            lines.insert(draw(st.integers(0, len(lines))), draw(raw_lines | response_lines()))
        text = "\n".join(lines)
    else:
        cells = st.text(max_size=20) | st.sampled_from(['"', '""', ",", "\n", "true", "1" * 5000, "\x00"])
        lines = ["subject,description,label", "cat,meows,true", "cat,barks,false"]
        for _ in range(draw(st.integers(0, 3))):
            row = ",".join(draw(st.lists(cells, min_size=0, max_size=5)))
            lines.insert(draw(st.integers(0, len(lines))), row)
        text = "\n".join(lines)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = draw(st.binary(max_size=30)) + data
    return suffix, data


@given(bank=bank_files())
def test_bank_loader_gives_items_or_a_located_error(tmp_path_factory, bank):
    from zbb.bank import load_bank

    suffix, data = bank
    path = tmp_path_factory.mktemp("bank") / f"bank{suffix}"
    path.write_bytes(data)
    try:
        items = load_bank(path)
    except BankError as exc:
        assert exc.problems and all(p.where.startswith(str(path)) for p in exc.problems)
        return
    assert items and all(item.subject and item.description for item in items)


# ------------------------------------------------------------------------------------------- normaliser + judge
@given(text=st.text() | st.from_regex(r"[0-9,.$%£ ]{0,400}", fullmatch=True) | st.sampled_from(["1" * 5000]))
def test_normaliser_and_judge_are_total_over_any_string(text):
    from zbb.score.judge import JudgeInput
    from zbb.score.normalise import contains_subject, normalise
    from zbb.score.rule_judge import RuleJudge

    normal = normalise(text)
    assert isinstance(normal, str) and normalise(text) == normal
    assert isinstance(contains_subject("cat", normal), bool)
    (verdict,) = RuleJudge().judge_many(
        [JudgeInput("a", "interrupt", "Cat meows, right?", "cat", "meows", text, normal)]
    )
    assert verdict.stance in ("affirm", "deny", "no_answer") and isinstance(verdict.reason, str)


# -------------------------------------------------------------------------------------------- result writer
@given(
    latency=st.floats() | st.none(),
    rate=st.floats(),
    alpha=st.floats() | st.none(),
    reply=st.text(),
    model=st.text(min_size=1),
)
def test_result_writer_writes_strict_json_or_names_the_field(tmp_path_factory, latency, rate, alpha, reply, model):
    from zbb.leaderboard.synthetic import synthetic_run
    from zbb.records import Steering
    from zbb.results import load_result, save_result

    run = synthetic_run(model, {"interrupt": (0.3, 0.4)}, n=3)
    item = dataclasses.replace(run.items[0], latency_s=latency, response=reply)
    agg = run.aggregates["interrupt"]
    agg = dataclasses.replace(agg, correctness=dataclasses.replace(agg.correctness, rate=rate))
    run = dataclasses.replace(
        run,
        meta=dataclasses.replace(run.meta, steering=Steering(alpha=alpha) if alpha is not None else None),
        aggregates={"interrupt": agg},
        items=(item, *run.items[1:]),
    )
    target = tmp_path_factory.mktemp("res") / "result.json"
    try:
        save_result(run, target)
    except ZbbError as exc:
        assert str(target) in str(exc) and ("finite" in str(exc) or "surrogate" in str(exc))
        assert not target.exists()
        return
    read_json(target.read_bytes(), str(target))  # strict: no NaN/Infinity, valid UTF-8
    assert json.loads(io.StringIO(target.read_text()).read())["kind"] == "zbb-result"
    assert load_result(target) == run
