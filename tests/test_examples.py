"""Every `zbb ...` example in the README, docs/ and `zbb <verb> --help` runs as written.

The examples are read from the files themselves (fenced `bash` blocks and `$ zbb ...` lines) and from each verb's
EXAMPLES, then run with `zbb.cli.main` in a scratch folder laid out as they assume: `out/zbb` and `out/zbb-tiny`
hold the tiny dataset, and `my_run`, `runs/moshi`, `runs/my_model` a complete transcript submission for it.
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
    (r"runs/moshi/unsteered|runs/tiny/", "reads the output of a `zbb run` example"),
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
    for name in ("my_run", "runs/moshi", "runs/my_model"):
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


#: python blocks that show the API on made-up rows ("submarine-f" of a 100-row dataset), not runnable as written
ILLUSTRATIVE = ("submarine-f",)


RUNNABLE_PYTHON = [(w, c) for w, c in python_blocks() if not any(token in c for token in ILLUSTRATIVE)]


def test_python_examples_are_found():
    assert any(w.startswith("README.md") for w, _ in RUNNABLE_PYTHON)
    assert len(RUNNABLE_PYTHON) < len(python_blocks())  # the illustrative worked example is the only one left out


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
