"""Zip and folder safety: unsafe names, bombs and oversized files are refused (named) before anything is used."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from test_submission_helpers import small_dataset, write_submission

from zbb.errors import SubmissionError
from zbb.submission import Limits, check_submission, load_submission

META = json.dumps({"model": "Zipper"})


def jsonl(ids=("a1", "a2", "a3"), conditions=("interrupt",)):
    return "".join(json.dumps({"id": i, "condition": c, "response": "No."}) + "\n" for c in conditions for i in ids)


@pytest.fixture
def ds(tmp_path):
    return small_dataset(tmp_path / "ds", conditions=("interrupt",))


def make_zip(path, members: dict[str, bytes | str]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize(
    "name, why",
    [
        ("/etc/evil.txt", "is an absolute path"),
        ("../evil.txt", "climbs out of the submission with '..'"),
        ("audio/../../evil.txt", "climbs out of the submission with '..'"),
        ("C:/evil.txt", "is an absolute path"),
        ("audio\\interrupt\\a1.wav", "uses backslashes"),
    ],
)
def test_unsafe_zip_names_are_refused(tmp_path, ds, name, why):
    path = make_zip(tmp_path / "sub.zip", {"meta.json": META, "responses.jsonl": jsonl(), name: "x"})
    problems = check_submission(path, ds).problems
    assert len(problems) == 1 and problems[0].where == f"{path}:{name}" and why in problems[0].message, problems


def test_zip_bomb_ratio_is_refused(tmp_path, ds):
    path = make_zip(
        tmp_path / "sub.zip", {"meta.json": META, "responses.jsonl": jsonl(), "audio.pad": b"\0" * (8 * 1024 * 1024)}
    )
    (problem,) = check_submission(path, ds).problems
    assert problem.where.endswith(":audio.pad") and "zip bomb guard: entry expands" in problem.message
    assert "the limit is 100x" in problem.message
    # the same content is fine under a looser ratio (the guard is configurable, not hard-coded)
    assert check_submission(path, ds, limits=Limits(max_ratio=1e6)).ok


def test_zip_bomb_guard_while_decompressing(tmp_path, ds):
    """A member whose header under-reports its size is stopped by the byte count during decompression."""
    path = make_zip(tmp_path / "sub.zip", {"meta.json": META, "responses.jsonl": jsonl() + " " * 5000})
    limits = Limits(max_file_bytes=4000)
    with zipfile.ZipFile(path) as zf:
        from zbb.submission.files import FileTooLarge, SubmissionFiles

        files = SubmissionFiles(path, Limits())
        files.limits = limits  # the header passed the scan; reading must still stop
        with pytest.raises(FileTooLarge, match="passes 4000 bytes while decompressing"):
            files.read("responses.jsonl")
        files.close()
        assert zf.getinfo("responses.jsonl").file_size > 4000


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_oversized_file_and_total_are_refused(tmp_path, ds, as_zip):
    path = write_submission(tmp_path / "sub", {"meta.json": META, "responses.jsonl": jsonl()}, as_zip=as_zip)
    size = len(jsonl().encode())
    (problem,) = check_submission(path, ds, limits=Limits(max_file_bytes=size - 1)).problems
    assert problem.where.endswith("responses.jsonl") and f"the limit is {size - 1}" in problem.message
    problems = check_submission(path, ds, limits=Limits(max_total_bytes=size)).problems
    assert any("the limit is" in p.message and "max_total_bytes" in p.message for p in problems)
    problems = check_submission(path, ds, limits=Limits(max_members=1)).problems
    assert any("the limit is 1" in p.message for p in problems)


def test_not_a_zip_and_missing_path(tmp_path, ds):
    junk = tmp_path / "sub.zip"
    junk.write_bytes(b"PK not really")
    assert "expected a folder or a .zip file" in check_submission(junk, ds).problems[0].message
    with pytest.raises(SubmissionError, match="no such file or folder"):
        load_submission(tmp_path / "nothing", ds)


def test_symlink_out_of_the_folder_is_refused(tmp_path, ds):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    path = write_submission(tmp_path / "sub", {"meta.json": META, "responses.jsonl": jsonl()})
    os.symlink(secret, path / "notes.txt")
    (problem,) = check_submission(path, ds).problems
    assert problem.where.endswith("notes.txt") and "symbolic link pointing outside" in problem.message


def test_hidden_and_macos_files_are_ignored(tmp_path, ds):
    path = make_zip(
        tmp_path / "sub.zip",
        {
            "meta.json": META,
            "responses.jsonl": jsonl(),
            "__MACOSX/._meta.json": "x",
            ".DS_Store": "x",
            "notes.md": "hello",
        },
    )
    check = check_submission(path, ds)
    assert check.ok and [w.where for w in check.warnings] == [f"{path}:notes.md"]
