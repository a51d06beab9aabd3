"""Bad input and unavailable services a newcomer meets: each refused early, in one line naming the file or item
and saying what to do (no traceback, no minutes of work first). No network: Hub and HTTP calls are replaced by
stand-ins that raise the real exception types those libraries raise."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zbb.cli import main


def _refused_build(monkeypatch):
    """Make any build fail the test: the refusal must come before it."""
    import zbb.builder

    def no_build(*a, **k):
        raise AssertionError("built before checking that the push can happen")

    monkeypatch.setattr(zbb.builder, "build_dataset", no_build, raising=False)


def _http_error(status: int, text: str):
    from huggingface_hub.errors import HfHubHTTPError

    request = httpx.Request("POST", "https://huggingface.co/api/repos/create")
    return HfHubHTTPError(f"{status} Client Error", response=httpx.Response(status, request=request, text=text))


# ----------------------------------------------------------------------------------------- 1: build --push-to-hub
def test_build_push_without_a_token_is_refused_before_building(monkeypatch, tmp_path, capsys):
    import huggingface_hub
    from huggingface_hub.errors import LocalTokenNotFoundError

    def whoami(self, *a, **k):
        raise LocalTokenNotFoundError("Token is required to call the /whoami-v2 endpoint, but no token found.")

    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", whoami)
    _refused_build(monkeypatch)
    rc = main(["build", "--preset", "tiny", "--out", str(tmp_path / "zbb"), "--push-to-hub", "my-org/zbb"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "my-org/zbb" in err and "HF_TOKEN" in err and "hf auth login" in err
    assert not (tmp_path / "zbb").exists()


@pytest.mark.parametrize(
    "failure, says",
    [
        (lambda: httpx.ConnectError("[Errno -2] Name or service not known"), "cannot reach the Hugging Face Hub"),
        (lambda: _http_error(401, "Invalid credentials in Authorization header"), "refused the token (HTTP 401"),
    ],
)
def test_build_push_to_an_unreachable_hub_or_with_a_bad_token_is_refused_before_building(
    monkeypatch, tmp_path, capsys, failure, says
):
    import huggingface_hub

    def whoami(self, *a, **k):
        raise failure()

    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", whoami)
    _refused_build(monkeypatch)
    rc = main(["build", "--preset", "tiny", "--out", str(tmp_path / "zbb"), "--push-to-hub", "my-org/zbb"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and says in err and "my-org/zbb" in err
    assert len(err.strip().splitlines()) == 1


def test_build_push_with_a_malformed_repo_id_is_refused_before_contacting_the_hub(monkeypatch, tmp_path, capsys):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", lambda self, *a, **k: pytest.fail("contacted the Hub"))
    _refused_build(monkeypatch)
    assert main(["build", "--out", str(tmp_path / "zbb"), "--push-to-hub", "zbb"]) == 2
    assert "ORG/NAME" in capsys.readouterr().err


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.ConnectError("[Errno -2] Name or service not known"),
        lambda: _http_error(403, "You don't have the rights to create a dataset under the namespace my-org"),
        lambda: OSError("disk read error"),
    ],
)
def test_a_failed_push_names_the_repo_keeps_the_folder_and_says_how_to_push_later(
    tiny_dataset, tmp_path, monkeypatch, failure
):
    import huggingface_hub

    from zbb.builder import push_to_hub
    from zbb.errors import ZbbError

    class FailingApi:
        def __init__(self, token=None):
            pass

        def create_repo(self, repo_id, **kw):
            return None

        def upload_folder(self, **kw):
            raise failure()

    monkeypatch.setattr(huggingface_hub, "HfApi", FailingApi)
    folder = tmp_path / "zbb"
    shutil.copytree(tiny_dataset, folder)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(ZbbError) as info:
        push_to_hub(folder, "my-org/zbb")
    message = str(info.value)
    assert "my-org/zbb" in message and f"kept at {folder}" in message
    assert f"hf upload my-org/zbb {folder} . --repo-type dataset" in message
    assert sorted(p.name for p in folder.iterdir()) == before
    assert Path(folder, "README.md").is_file()


# ------------------------------------------------------------------------------- 2: leaderboard --results-repo
def test_leaderboard_with_an_unreachable_results_repo_is_one_line_found_with_one_request(tmp_path, monkeypatch, capsys):
    import huggingface_hub

    calls = []

    def repo_info(self, repo_id, **kw):
        calls.append(repo_id)
        raise httpx.ConnectError("[Errno -2] Name or service not known")

    def list_repo_files(self, *a, **k):  # huggingface_hub retries this one for ~20 s before raising
        raise AssertionError("listed the files of a repo the Hub could not be asked about")

    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", repo_info)
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", list_repo_files)
    rc = main(["leaderboard", "--results", str(tmp_path / "subs"), "--results-repo", "org/zbb-results", "--print"])
    err = capsys.readouterr().err
    assert rc == 2 and calls == ["org/zbb-results"] and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "org/zbb-results" in err and "cannot reach the Hugging Face Hub" in err and "without --results-repo" in err


def test_leaderboard_with_a_missing_results_repo_says_so(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import RepositoryNotFoundError

    from zbb.errors import ZbbError
    from zbb.leaderboard.app import open_store

    def repo_info(self, repo_id, **kw):
        request = httpx.Request("GET", f"https://huggingface.co/api/datasets/{repo_id}")
        raise RepositoryNotFoundError("404 Client Error", response=httpx.Response(404, request=request))

    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", repo_info)
    with pytest.raises(ZbbError, match=r"org/nothing-here: cannot read it: no such repo on the Hub, or it is private"):
        open_store(tmp_path / "subs", repo="org/nothing-here")


# ------------------------------------------------------------------------------------------ 3: score --judge openai
def _transcripts(tmp_path, conditions=("no_interrupt", "interrupt", "interrupt_buffered")):
    from test_score_helpers import small_dataset, write_transcripts

    ds = small_dataset(tmp_path / "ds", conditions=conditions)
    lines = [{"id": c.id, "condition": cond, "response": "yes"} for cond in conditions for c in ds.clips(cond)]
    return ds, write_transcripts(tmp_path / "sub", {"model": "Toy"}, lines), len(lines)


def test_score_with_the_openai_judge_and_no_key_is_refused_before_loading_or_asking(tmp_path, monkeypatch, capsys):
    from zbb.score import scorer

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ZBB_JUDGE_BASE_URL", raising=False)
    monkeypatch.setattr(httpx.Client, "post", lambda *a, **k: pytest.fail("asked the endpoint without a key"))
    ds, sub, _ = _transcripts(tmp_path)
    monkeypatch.setattr(scorer, "_load", lambda *a, **k: pytest.fail("loaded the submission before the judge"))
    args = ["score", str(sub), "--dataset", str(ds.root), "--out", str(tmp_path / "r.json"), "--judge", "openai"]
    assert main([*args, "--judge-cache", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "no API key for https://api.openai.com/v1" in err and "OPENAI_API_KEY" in err and "--judge-base-url" in err
    assert not (tmp_path / "r.json").exists()


def test_the_openai_judge_needs_no_key_for_a_local_endpoint(tmp_path, monkeypatch):
    from zbb.score.openai_judge import OpenAIJudge

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    judge = OpenAIJudge(base_url="http://127.0.0.1:8000/v1", cache_dir=tmp_path)
    assert judge.api_key is None and "127.0.0.1" in judge.id


def test_the_judging_progress_bar_counts_every_row_of_the_run_not_one_chunk(tmp_path, monkeypatch, capsys):
    from zbb.score import scorer
    from zbb.score.judge import Verdict
    from zbb.score.openai_judge import OpenAIJudge
    from zbb.score.scorer import score_submission, score_submission_to_file

    ds, sub, rows = _transcripts(tmp_path)
    monkeypatch.setattr(scorer, "SCORE_CHUNK_ROWS", 2)  # several chunks per condition, three conditions
    monkeypatch.setattr(OpenAIJudge, "judge_one", lambda self, client, item: Verdict("affirm", "stub"))
    options = {"base_url": "http://127.0.0.1:9/v1", "cache_dir": tmp_path / "c", "progress": True}
    capsys.readouterr()
    score_submission_to_file(sub, ds, tmp_path / "r.json", judge="openai", judge_options=options)
    bars = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if "judging" in line]
    assert bars and all(f"/{rows} " in b for b in bars) and f"{rows}/{rows} " in bars[-1]
    score_submission(sub, ds, judge="openai", judge_options=options)
    bars = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if "judging" in line]
    assert bars and all(f"/{rows} " in b for b in bars) and f"{rows}/{rows} " in bars[-1]


# ------------------------------------------------------------------------------------- 4: run / probe --device
def _no_loading(monkeypatch):
    import zbb.dataset
    import zbb.runner.backends

    def fail(*a, **k):
        raise AssertionError("loaded a dataset or model before the cheap checks")

    monkeypatch.setattr(zbb.dataset, "open_dataset", fail)
    monkeypatch.setattr(zbb.runner.backends, "load_backend", fail)


@pytest.mark.parametrize("verb", ["run", "probe"])
def test_cuda_on_a_machine_without_it_is_refused_before_anything_loads(verb, tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    _no_loading(monkeypatch)
    args = ["--dataset", "org/zbb", "--out", str(tmp_path / "out"), "--device", "cuda"]
    assert main([verb, *args]) == 2
    err = capsys.readouterr().err
    assert "--device cuda: CUDA is not available on this machine" in err and "--device cpu" in err
    assert len(err.strip().splitlines()) == 1


def test_a_gpu_index_past_the_last_and_a_malformed_device_are_refused(monkeypatch):
    import torch

    from zbb.errors import ProbeError, RunnerError
    from zbb.runner.backends import check_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    check_device("cuda:1")
    with pytest.raises(RunnerError, match=r"2 CUDA device\(s\), cuda:0 to cuda:1"):
        check_device("cuda:2")
    with pytest.raises(ProbeError, match="not a torch device"):
        check_device("gpu0", ProbeError)
    check_device("cpu")


def test_probe_with_a_missing_dialogue_folder_says_so_before_loading_the_model(tmp_path, monkeypatch, capsys):
    _no_loading(monkeypatch)
    out = str(tmp_path / "probe")
    assert main(["probe", "--backend", "tiny", "--dialogues", str(tmp_path / "my_dialogues"), "--out", out]) == 2
    assert f"--dialogues {tmp_path / 'my_dialogues'}: no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["probe", "--backend", "tiny", "--dialogues", str(tmp_path / "empty"), "--out", out]) == 2
    assert "no dialogues.jsonl" in capsys.readouterr().err


# ------------------------------------------------------------------------------- 5: a typo in a local dataset path
def test_a_typo_in_a_local_dataset_path_is_not_taken_for_a_hub_id(tiny_dataset, tmp_path, monkeypatch):
    import huggingface_hub

    from zbb.dataset import open_dataset
    from zbb.errors import DatasetError

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **k: pytest.fail("asked the Hub"))
    (tmp_path / "out").mkdir()
    shutil.copytree(tiny_dataset, tmp_path / "out" / "zbb")
    (tmp_path / "out" / "notes").mkdir()  # not a dataset: never suggested
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match=r"^no dataset folder out/zbbb; did you mean out/zbb\?$"):
        open_dataset("out/zbbb")
    with pytest.raises(DatasetError, match=r"^no dataset folder out/other; the ZBB datasets in out are: zbb$"):
        open_dataset("out/other")
    with pytest.raises(DatasetError, match=r"out/zbb/x: no such dataset folder .*$"):
        open_dataset("out/zbb/x")
    assert open_dataset("out/zbb").fingerprint


# ------------------------------------------------------------------------- 6, 7: a mistyped --condition(s)
@pytest.mark.parametrize("verb", ["validate", "score"])
@pytest.mark.parametrize("layout", ["transcript", "fdb"])
def test_an_unknown_condition_is_refused_with_a_did_you_mean_for_every_layout(verb, layout, tmp_path, capsys):
    ds, sub, _ = _transcripts(tmp_path)
    if layout == "fdb":  # <condition>/<id>/output.json: the rows name their condition, as a transcript's do
        (sub / "responses.jsonl").unlink()
        for c in ds.clips("interrupt"):
            (sub / "interrupt" / c.id).mkdir(parents=True)
            (sub / "interrupt" / c.id / "output.json").write_text('{"text": "yes", "chunks": []}')
    args = [verb, str(sub), "--dataset", str(ds.root), "--condition", "interupt"]
    out = tmp_path / "r.json"
    assert main([*args, "--out", str(out)] if verb == "score" else args) == 2
    err = capsys.readouterr().err
    assert "unknown condition 'interupt'. Did you mean 'interrupt'?" in err and "OK" not in err
    assert not out.exists()


def test_build_with_a_mistyped_condition_suggests_the_right_one_before_building(tmp_path, monkeypatch, capsys):
    _refused_build(monkeypatch)
    assert main(["build", "--preset", "tiny", "--out", str(tmp_path / "zbb"), "--conditions", "interupt"]) == 2
    err = capsys.readouterr().err
    assert "unknown condition 'interupt'. Did you mean 'interrupt'? Available: no_interrupt, interrupt" in err


def test_run_with_a_mistyped_condition_is_refused_before_the_model_loads(tiny_dataset, tmp_path, monkeypatch, capsys):
    import zbb.runner.backends

    monkeypatch.setattr(zbb.runner.backends, "load_backend", lambda *a, **k: pytest.fail("loaded the model"))
    args = ["run", "--backend", "tiny", "--dataset", str(tiny_dataset), "--out", str(tmp_path / "runs")]
    assert main([*args, "--conditions", "interrupt,no_interupt"]) == 2
    assert "unknown condition 'no_interupt'. Did you mean 'no_interrupt'?" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- 8: malformed JSON Lines
def test_an_unterminated_string_is_reported_at_its_column_once(tmp_path):
    from zbb.submission import check_submission

    ds, sub, _ = _transcripts(tmp_path, conditions=("interrupt",))
    with open(sub / "responses.jsonl", "a") as f:
        f.write('{"id": "x", "condition": "interrupt", "response": "yes}\n')
    [problem] = check_submission(sub, ds).problems
    assert "malformed JSON (Unterminated string starting at column 51)" in str(problem)
    assert "at at" not in str(problem) and "lines must end" not in str(problem)


@pytest.mark.parametrize("separator", ["\r", "\u2028", "\x85"])
def test_a_file_split_by_other_line_breaks_says_lines_must_end_with_lf(separator, tmp_path):
    import json

    from zbb.submission import check_submission

    ds, sub, _ = _transcripts(tmp_path, conditions=("interrupt",))
    lines = (sub / "responses.jsonl").read_text().splitlines()
    (sub / "responses.jsonl").write_text(separator.join(lines) + "\n", newline="")
    problems = [str(p) for p in check_submission(sub, ds).problems]
    assert any("lines must end with \\n (LF or CRLF)" in p and "responses.jsonl:1" in p for p in problems), problems
    (sub / "responses.jsonl").write_text("\r\n".join(lines) + "\r\n", newline="")  # CRLF is fine
    assert check_submission(sub, ds).problems == []
    assert json.loads(lines[0])  # the objects themselves were well-formed


@given(
    objects=st.lists(st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=2), min_size=2, max_size=5),
    separator=st.sampled_from(["\r", "\u2028", "\u2029", "\x85"]),
    crlf=st.booleans(),
)
def test_objects_joined_by_a_break_jsonl_does_not_split_at_get_the_line_ending_hint(objects, separator, crlf):
    import json

    from zbb.io import jsonl_objects

    text = separator.join(json.dumps(o) for o in objects) + ("\r\n" if crlf else "\n")
    problems: list = []
    assert list(jsonl_objects(text, "r.jsonl", problems)) == []
    [problem] = problems
    assert problem.where == "r.jsonl:1" and "lines must end with \\n (LF or CRLF)" in problem.message


# ------------------------------------------------------------------------ 9: the mishearable-subject warning
@pytest.mark.filterwarnings("always::zbb.bank.MishearableSubjectWarning")
def test_the_mishearable_subject_warning_is_a_clean_zbb_warning(tmp_path, monkeypatch, capsys):
    import zbb.builder

    bank = tmp_path / "bank.csv"
    bank.write_text("subject,description,label\nmuscle,helps you move,true\nmuscle,is made of wood,false\n")

    def load_then_stop(out, *, bank, **kw):
        from zbb.bank import load_bank

        load_bank(bank)
        raise zbb.errors.ZbbError("stopped after loading the bank")

    monkeypatch.setattr(zbb.builder, "build_dataset", load_then_stop, raising=False)
    assert main(["build", "--bank", str(bank), "--out", str(tmp_path / "zbb")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "zbb build: warning: 1 subject(s) a listener may mishear:"
    assert err[1] == f"  - {bank}: item muscle-t: subject 'muscle' sounds like 'mussel'"
    assert not any(".py" in line or "load_bank(" in line or "Warning:" in line for line in err)


def test_other_warnings_keep_pythons_display(monkeypatch, capsys):
    import warnings

    from zbb import cli

    shown = []
    monkeypatch.setattr(warnings, "showwarning", lambda *a, **k: shown.append(a[1]))
    with warnings.catch_warnings():
        cli._show_zbb_warnings("build")
        warnings.simplefilter("always")
        warnings.warn("from a library", DeprecationWarning, stacklevel=1)
    assert shown == [DeprecationWarning] and capsys.readouterr().err == ""


# ------------------------------------------------------------------------------ 10: the hint after zbb run --limit
def test_a_limited_run_hints_validate_with_allow_partial_and_that_command_passes(tiny_dataset, tmp_path, capsys):
    import shlex

    base = ["run", "--backend", "tiny", "--dataset", str(tiny_dataset), "--conditions", "interrupt", "--no-progress"]
    assert main([*base, "--out", str(tmp_path / "part"), "--limit", "2"]) == 0
    [hint] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("next: ")]
    assert hint.endswith(" --allow-partial")
    assert main(shlex.split(hint.removeprefix("next: zbb "))) == 0  # the hint runs as printed
    assert main(shlex.split(hint.removeprefix("next: zbb ").removesuffix(" --allow-partial"))) == 1


# ----------------------------------------------------------------------------- 11: the row limit counts rows
def test_blank_lines_do_not_count_against_the_row_limit(tmp_path):
    from dataclasses import replace

    from zbb.errors import SubmissionError
    from zbb.submission import load_submission
    from zbb.submission.files import Limits

    ds, sub, rows = _transcripts(tmp_path, conditions=("interrupt",))
    lines = (sub / "responses.jsonl").read_text().splitlines()
    (sub / "responses.jsonl").write_text("\n".join([lines[0], "  ", *lines[1:]]) + "\n\r\n")  # two blank lines
    limits = replace(Limits(), max_rows=rows)
    assert len(load_submission(sub, ds, limits=limits).responses) == rows
    with pytest.raises(SubmissionError, match=f"holds {rows} rows \\(non-blank lines\\); the limit is {rows - 1}"):
        load_submission(sub, ds, limits=replace(Limits(), max_rows=rows - 1))


@given(st.lists(st.sampled_from(["", " ", "\t", "\r", "\x85", "{}", ' {"a": 1}', "x\r", "\u2028"]), max_size=12))
def test_rows_in_counts_the_lines_that_are_not_blank(lines):
    from zbb.submission.loader import _rows_in

    text = "\n".join(lines)
    assert _rows_in(text) == sum(1 for line in text.split("\n") if line.strip())
