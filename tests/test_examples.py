"""Every `zbb ...` example in the README, docs/ and `zbb <verb> --help` runs as written.

The examples are read from the files themselves (fenced `bash` blocks and `$ zbb ...` lines) and from each verb's
EXAMPLES, then run with `zbb.cli.main` in a scratch folder laid out as they assume: `out/zbb` and `out/zbb-tiny`
hold the tiny dataset, and `my_run`, `runs/my_run`, `runs/moshi`, `runs/my_model` a complete transcript submission
for it.
An example that cannot run offline on the tiny dataset must match one of `NOT_RUN`, which says why; a new example
that matches neither fails `test_every_example_is_run_or_excused`.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from zbb.cli import VERBS, _load

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "leaderboard" / "README.md"]

#: (pattern, why the example is not run here)
NOT_RUN = (
    (r"(ORG|org|my-org)/zbb", "names a Hub dataset or repo (network)"),
    (r"--engine (openai|coqui)", "needs a TTS server or the Coqui extra"),
    (r"--judge openai", "needs an OpenAI-compatible endpoint"),
    (r"^zbb build(?!.*--preset tiny)", "builds the whole bank (minutes; bench_build.py runs that build)"),
    (r"^zbb demo( --rebuild --num-proc 2)?$", "builds the full bank (bench_build.py runs that build)"),
    (r"^zbb leaderboard(?!.*--print)", "starts a web server (tests/test_leaderboard_app.py drives the app)"),
    (r"--asr pocketsphinx", "transcribes audio (tests/test_submission_audio.py covers it)"),
    (r"^zbb run|^torchrun .*zbb\.cli run", "runs a model with torch (tests/test_runner.py runs the tiny backend)"),
    (r"runs/moshi/unsteered|runs/tiny(-random)?/", "reads the output of a `zbb run` example"),
    (r"--voices heart,fenrir", "fetches hibari voices that are not bundled from the Hub (network)"),
    (r"--screen-asr whisper", "screens with Whisper large-v3 (the whisper extra and its weights)"),
    (r"^zbb probe", "runs a model with torch (tests/test_probe.py runs the tiny backend)"),
    (r"^zbb steer fit", "reads the probe folder of a `zbb probe` example (tests/test_probe_fit.py fits one)"),
)


def _strip(line: str) -> str:
    return re.sub(r"\s+#.*$", "", line).strip()


def collect() -> list[tuple[str, str]]:
    """(where, command) of every zbb example."""
    found: list[tuple[str, str]] = []
    for path in DOCS:
        if not path.exists():
            continue
        in_block, pending = False, ""
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("```"):
                in_block, pending = not in_block, ""
                continue
            if pending:  # a command continued from the line before (a trailing backslash)
                line = pending + " " + line.strip()
            pending = ""
            if in_block and line.rstrip().endswith("\\"):
                pending = line.rstrip()[:-1].rstrip()
                continue
            text = line.removeprefix("$ ") if line.startswith("$ zbb ") else line
            if in_block and text.startswith("zbb "):
                found.append((f"{path.relative_to(ROOT)}:{number}", _strip(text)))
    for verb in VERBS:
        for example in _load(verb).EXAMPLES:
            found.append((f"zbb {verb} --help", _strip(example)))
    return found


EXAMPLES = collect()


def _excuse(command: str) -> str | None:
    return next((why for pattern, why in NOT_RUN if re.search(pattern, command)), None)


RUNNABLE = [(where, cmd) for where, cmd in EXAMPLES if _excuse(cmd) is None]


def test_examples_are_found_in_every_source():
    sources = {where.split(":")[0] for where, _ in EXAMPLES}
    assert {"README.md", "docs/SUBMISSION.md", "zbb score --help", "zbb build --help"} <= sources
    assert len(EXAMPLES) > 20 and len(RUNNABLE) > 10


def test_every_example_is_run_or_excused():
    # Each example either runs below or names why not; the excuses must each still match some example.
    for pattern, why in NOT_RUN:
        assert any(re.search(pattern, cmd) for _, cmd in EXAMPLES), f"stale excuse {pattern!r} ({why})"


@pytest.fixture(scope="module")
def workspace(tiny_dataset, tmp_path_factory) -> Path:
    """A folder laid out as the examples assume, copied once per module (each example gets its own copy)."""
    from zbb.dataset import open_dataset

    root = tmp_path_factory.mktemp("examples")
    for name in ("out/zbb", "out/zbb-tiny"):
        shutil.copytree(tiny_dataset, root / name)
    ds = open_dataset(tiny_dataset)
    lines = [
        json.dumps({"id": c.id, "condition": "interrupt", "response": f"no, {c.subject.lower()} does not"})
        for c in ds.clips("interrupt")
    ]
    for name in ("my_run", "runs/my_run", "runs/moshi", "runs/my_model"):
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "meta.json").write_text(json.dumps({"model": "Example", "dataset": ds.fingerprint}))
        (folder / "responses.jsonl").write_text("\n".join(lines) + "\n")
    _fdb_outputs(ds, root / "fdb_outputs")
    shutil.copytree(ROOT / "submissions", root / "submissions")
    return root


def _fdb_outputs(ds, folder: Path) -> None:
    """Bare FDB run folders `<id>/output.wav` for the interrupt rows (validate reads the audio, never decodes it)."""
    import numpy as np

    from zbb.audio import samples_at, write_audio

    for clip in ds.clips("interrupt"):
        n = samples_at(clip.duration_s, 16000)
        t = np.arange(n) / 16000
        tone = (0.2 * np.sin(2 * np.pi * 220 * t) * (t > clip.end_s + 0.3)).astype(np.float32)
        (folder / clip.id).mkdir(parents=True)
        write_audio(folder / clip.id / "output.wav", tone, 16000)
    (folder / "meta.json").write_text(json.dumps({"model": "Example"}))


@pytest.mark.parametrize("where,command", RUNNABLE, ids=[f"{w} {c}" for w, c in RUNNABLE])
def test_example_runs_as_written(where, command, workspace, tmp_path, monkeypatch, capsys):
    from zbb.cli import main

    scratch = tmp_path / "cwd"
    shutil.copytree(workspace, scratch, symlinks=True)
    monkeypatch.chdir(scratch)
    for part in command.split(" && "):  # a chain runs each command in turn, as the shell would
        argv = shlex.split(part)
        assert argv[0] == "zbb", f"{where}: `{command}` is not a zbb command; run it here or excuse it in NOT_RUN"
        code = main(argv[1:])
        out, err = capsys.readouterr()
        assert code == 0, f"{where}: `{part}` exited {code}\n{out}\n{err}"


def test_score_without_out_writes_a_named_result_here(workspace, tmp_path, monkeypatch, capsys):
    from zbb.cli import main
    from zbb.results import load_result

    shutil.copytree(workspace, tmp_path / "cwd")
    monkeypatch.chdir(tmp_path / "cwd")
    assert main(["score", "runs/moshi/", "--dataset", "out/zbb", "--quiet"]) == 0
    assert "wrote moshi.result.json" in capsys.readouterr().out
    assert load_result(tmp_path / "cwd" / "moshi.result.json").meta.model == "Example"


def python_blocks() -> list[tuple[str, str]]:
    """(where, code) of every fenced python block in the docs."""
    blocks = []
    for path in DOCS:
        if path.exists():
            text = path.read_text(encoding="utf-8")
            for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
                blocks.append((f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}", m.group(1)))
    return blocks


RUNNABLE_PYTHON = python_blocks()


def test_python_examples_are_found():
    assert any(w.startswith("README.md") for w, _ in RUNNABLE_PYTHON)
    assert any(w.startswith("docs/SUBMISSION.md") for w, _ in RUNNABLE_PYTHON)  # the worked example's, on out/zbb-tiny


@pytest.mark.parametrize("where,code", RUNNABLE_PYTHON, ids=[w for w, _ in RUNNABLE_PYTHON])
def test_python_example_runs_as_written(where, code, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    exec(compile(code, where, "exec"), {"__name__": "__example__"})


def test_readme_counts_match_the_bank():
    """The README's figures about the shipped bank are the bank's own (they drifted once: 18 categories vs 19)."""
    from zbb.bank import load_bank

    bank = load_bank()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"holds ([\d,]+) everyday subjects in (\d+) categories", readme)
    assert stated, "README no longer states the bank's subjects and categories: update this test"
    subjects, categories = (int(g.replace(",", "")) for g in stated.groups())
    assert subjects == len({item.subject for item in bank})
    assert categories == len({item.category for item in bank})
    for claims in re.findall(r"([\d,]+) claims x 3 conditions", readme):
        assert int(claims.replace(",", "")) == len(bank)


def _worked_example() -> tuple[str, dict]:
    """docs/SUBMISSION.md's worked example: its text and its one responses.jsonl line."""
    text = (ROOT / "docs" / "SUBMISSION.md").read_text(encoding="utf-8")
    example = text[text.index("## Worked example") :]
    line = re.search(r'^\{"id": .*"words": .*\}$', example, flags=re.M)
    assert line, "docs/SUBMISSION.md's worked example has no responses.jsonl line with words: update this test"
    return example, json.loads(line.group(0))


def _figure(pattern: str, text: str) -> float:
    found = re.search(pattern, " ".join(text.split()))  # the prose wraps anywhere
    assert found, f"docs/SUBMISSION.md's worked example no longer says {pattern!r}: update this test"
    return float(found.group(1))


def test_the_worked_example_is_true_of_the_tiny_build(workspace, tmp_path, monkeypatch, capsys):
    """The worked example once named a row at times it never had, with word times that all fell before the onset
    (validated, and silently scored take-over 0). Its figures are checked here against the tiny build it names."""
    import numpy as np

    from zbb.cli import main
    from zbb.dataset import open_dataset
    from zbb.records import WordTiming
    from zbb.results import load_result
    from zbb.timing import item_timing

    example, line = _worked_example()
    shutil.copytree(workspace, tmp_path / "cwd")
    monkeypatch.chdir(tmp_path / "cwd")
    clip = open_dataset("out/zbb-tiny").clip(line["condition"], line["id"])
    why = f"docs/SUBMISSION.md: row {line['id']} of the tiny build is now {clip.text!r} {clip.onset_s}-{clip.end_s} s"
    assert f'"{clip.text}"' in " ".join(example.split()), why
    onset = _figure(r"from ([\d.]+) s \(`onset_s`", example)
    end = _figure(r"to ([\d.]+) s \(`end_s`\)", example)
    assert (onset, end) == (round(clip.onset_s, 2), round(clip.end_s, 2)), why
    words = [WordTiming(w["word"], w["start"], w["end"]) for w in line["words"]]
    assert all(w.start >= clip.end_s for w in words)  # the answer comes after the claim, as the text says
    assert _figure(r"answered at\s+([\d.]+) s", example) == words[0].start
    assert int(_figure(r"take-over 1 \((\d+) words after", example)) == len(words)
    assert _figure(r"spanning ([\d.]+) s", example) == round(words[-1].end - words[0].start, 2)

    # the submission as shown (the other interrupt rows answered as the workspace does): validate, then score
    folder = tmp_path / "cwd" / "runs" / "my_run"
    rows = [json.loads(x) for x in (folder / "responses.jsonl").read_text().splitlines()]
    rows = [line if r["id"] == line["id"] else r for r in rows]
    (folder / "responses.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    said = re.search(r"^\$ (zbb validate .*)\n(.*)$", example, flags=re.M)
    assert said and main(shlex.split(said.group(1))[1:]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == said.group(2)
    score = re.search(r"^\$ (zbb score .*)$", example, flags=re.M)
    assert score and main(shlex.split(score.group(1))[1:]) == 0
    item = next(i for i in load_result("out/my_run.result.json").items if i.id == line["id"])
    assert item.takeover is True and item.subject_hit and item.correct
    latency = _figure(r"FDB latency [\d.]+ - [\d.]+ = ([\d.]+) s", example)
    assert round(item.latency_s, 2) == round(item.answer_latency_s, 2) == latency

    # the same run as audio: talking until 0.3 s into the claim, silent, then the answer's words
    stopped = _figure(r"ran on until ([\d.]+) s", example)
    assert round(stopped - clip.onset_s, 1) == _figure(r"([\d.]+) s into the claim", example)
    rate = 24000
    t = np.arange(int(clip.duration_s * rate)) / rate
    voiced = ((t >= clip.onset_s - 3) & (t < stopped)) | ((t >= words[0].start) & (t < words[-1].end))
    timing = item_timing(
        onset_s=clip.onset_s,
        end_s=clip.end_s,
        words=words,
        samples=(0.3 * np.sin(2 * np.pi * 200 * t) * voiced).astype(np.float32),
        sample_rate=rate,
    )
    assert timing.talking_at_onset is True
    assert round(timing.stop_latency_s, 2) == _figure(r"FDB's stop latency \(([\d.]+) s", example)
    assert round(timing.claim_stop_latency_s, 1) == _figure(r"claim stop latency \(([\d.]+) s\)", example)


def test_readme_simulated_listener_figures_are_the_committed_references():
    """The README's simulated-listener table is what submissions/ holds (it once rounded 2 of 1,306 to 0.00)."""
    from zbb.results import load_result

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = {ms: (rate, k) for ms, rate, k in re.findall(r"^\| (\d+) +\| ([\d.]+) \| ([\d,]+)", readme, flags=re.M)}
    assert table, "README no longer has the simulated listeners' table: update this test"
    fingerprint = re.search(r"fingerprint `([0-9a-f]+)\.\.\.`", readme)
    for path in sorted((ROOT / "submissions").glob("simulated-listener-*--simulation.json")):
        result = load_result(path)
        assert fingerprint and result.provenance.dataset_fingerprint.startswith(fingerprint.group(1))
        agg = result.aggregates["interrupt"]
        missed = str(result.meta.decoding["missed_ms"])
        assert agg.iwor.k == agg.correctness.k  # it answers exactly when it heard the subject
        assert float(table[missed][0]) == round(agg.iwor.rate, 3), missed
        assert int(table[missed][1].replace(",", "")) == agg.iwor.k, missed
