"""The CLI is complete and cheap: every verb has help with examples; importing zbb loads no heavy backend."""

import subprocess
import sys

import pytest

from zbb.cli import VERBS, make_parser

HEAVY = (
    "torch",
    "gradio",
    "datasets",
    "pocketsphinx",
    "faster_whisper",
    "nemo",
    "TTS",
    "plotly",
    "pandas",
    "huggingface_hub",
    "pyarrow",
)


def test_import_zbb_and_cli_load_no_heavy_backend():
    code = f"import sys, zbb, zbb.cli; zbb.cli.make_parser(); print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"imported at start-up: {out.strip()}"


def test_every_verb_is_registered():
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "verb")
    assert sorted(sub.choices) == sorted(VERBS)


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_an_example(verb, capsys):
    with pytest.raises(SystemExit) as exit_:
        make_parser().parse_args([verb, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"zbb {verb}" in out.split("examples:")[1]


def test_bad_input_is_reported_without_a_traceback(tmp_path):
    missing = tmp_path / "nope"
    proc = subprocess.run(
        [sys.executable, "-m", "zbb.cli", "validate", str(missing), "--dataset", str(missing)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and str(missing) in proc.stderr


@pytest.mark.parametrize("verb", VERBS)
def test_the_parser_for_one_verb_parses_it_like_the_whole_parser(verb, capsys):
    """`zbb <verb> ...` builds only that verb's options: its help is the same as from the whole CLI."""
    helps = []
    for parser in (make_parser(), make_parser([verb, "--help"])):
        with pytest.raises(SystemExit):
            parser.parse_args([verb, "--help"])
        helps.append(capsys.readouterr().out)
    assert helps[0] == helps[1]


def test_score_start_up_does_not_import_the_builder():
    code = (
        "import sys, zbb.cli; zbb.cli.make_parser(['score', 'runs/x', '--dataset', 'd']).parse_args(['score', "
        "'runs/x', '--dataset', 'd']); print(sorted(m for m in sys.modules if m.startswith(('zbb.builder', 'numpy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    top = subprocess.run([sys.executable, "-m", "zbb.cli", "--help"], capture_output=True, text=True, check=True)
    assert all(verb in top.stdout for verb in VERBS)
