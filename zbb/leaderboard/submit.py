"""The board's upload path: check an upload's size and names, validate it with the submission checker, score it
with the embedded engines and store it as self-reported.

Uploaded file names are never trusted: an upload is either one `.zip` (the submission loader enforces zip
safety) or the files `responses.jsonl` + `meta.json`, which are copied under those fixed names into a fresh
temporary folder. Validation messages are passed through as the checker wrote them.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zbb.errors import Problem, ProblemsError, ZbbError
from zbb.leaderboard.store import ResultStore

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UPLOAD_FILES = 4
LOOSE_FILES = ("responses.jsonl", "meta.json")


@dataclass(frozen=True)
class SubmitOutcome:
    """What happened to an upload: stored under `key`, or refused with `problems`."""

    ok: bool
    key: str | None = None
    model: str | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def message(self) -> str:
        if self.ok:
            lines = [f"Stored **{self.model}** as self-reported (run `{self.key}`); it is on the board now."]
            lines += [f"- warning: `{p.where}`: {p.message}" for p in self.warnings]
            return "\n".join(lines)
        return "Submission refused:\n" + "\n".join(f"- `{p.where}`: {p.message}" for p in self.problems)


def _refuse(where: str, message: str) -> SubmitOutcome:
    return SubmitOutcome(ok=False, problems=[Problem(where, message)])


def stage_upload(files: Sequence[str | os.PathLike], folder: Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Copy an upload into `folder` under fixed names; returns the path to hand to the submission loader."""
    paths = [Path(f) for f in files if f]
    if not paths:
        raise ZbbError("upload: no files; upload a submission .zip, or responses.jsonl and meta.json")
    if len(paths) > MAX_UPLOAD_FILES:
        raise ZbbError(f"upload: {len(paths)} files; expected one .zip, or responses.jsonl and meta.json")
    total = sum(p.stat().st_size for p in paths)
    if total > max_bytes:
        raise ZbbError(f"upload: {total / 2**20:.1f} MiB is over the {max_bytes / 2**20:.0f} MiB limit")
    zips = [p for p in paths if p.name.lower().endswith(".zip")]
    if zips:
        if len(paths) != 1:
            raise ZbbError("upload: a .zip submission must be uploaded on its own")
        dest = folder / "submission.zip"
        shutil.copyfile(zips[0], dest)
        return dest
    by_name = {p.name.lower(): p for p in paths}
    missing = [n for n in LOOSE_FILES if n not in by_name]
    extra = sorted(set(by_name) - set(LOOSE_FILES))
    if missing or extra:
        raise ZbbError(f"upload: expected one .zip or exactly {' + '.join(LOOSE_FILES)}; "
                       f"missing {missing or 'nothing'}, unexpected {extra or 'nothing'}")
    dest = folder / "submission"
    dest.mkdir()
    for name in LOOSE_FILES:
        shutil.copyfile(by_name[name], dest / name)  # our fixed name, never the uploaded one
    return dest


def submit(store: ResultStore, files: Sequence[str | os.PathLike], dataset, *, judge: str = "rule",
           asr: str = "pocketsphinx", max_bytes: int = MAX_UPLOAD_BYTES) -> SubmitOutcome:
    """Validate, score and store an upload as self-reported. Bad input comes back as problems, never raised."""
    if dataset is None:
        return _refuse("server", "this board has no dataset configured, so it cannot score uploads "
                                 "(start it with --dataset)")
    try:
        from zbb.score import score_submission
        from zbb.submission import validate_submission
    except ImportError as exc:  # the scorer or the submission checker is not part of this install
        return _refuse("server", f"scoring is not available in this install ({exc})")
    with tempfile.TemporaryDirectory(prefix="zbb-upload-") as tmp:
        try:
            staged = stage_upload(files, Path(tmp), max_bytes=max_bytes)
        except ZbbError as exc:
            return _refuse("upload", str(exc))
        try:
            problems = list(validate_submission(staged, dataset))
        except ProblemsError as exc:
            problems = list(exc.problems)
        except ZbbError as exc:
            return _refuse("submission", str(exc))
        if problems:
            return SubmitOutcome(ok=False, problems=problems)
        try:
            result = score_submission(staged, dataset, judge=judge, asr=asr)
        except ProblemsError as exc:
            return SubmitOutcome(ok=False, problems=list(exc.problems))
        except ZbbError as exc:
            return _refuse("scoring", str(exc))
        result = dataclasses.replace(result, provenance=dataclasses.replace(result.provenance, kind="self-reported"))
        audio = _output_audio(staged, result)
        key = store.add(result, audio=audio)
    return SubmitOutcome(ok=True, key=key, model=result.meta.model)


def _output_audio(staged: Path, result) -> dict[tuple[str, str], Path]:
    """The model's output audio per scored row, where the submission carried it.

    Looks for `audio/<condition>/<id>.<ext>` and FDB-style `<condition>/<id>/output.wav` in the staged folder (or
    the extracted zip); ids come from the scored rows, never from file names.
    """
    from zbb.leaderboard.store import AUDIO_EXTENSIONS

    root = staged
    if staged.suffix == ".zip":
        import zipfile

        root = staged.with_suffix("")
        with zipfile.ZipFile(staged) as zf:
            wanted = {}
            for item in result.items:
                for ext in AUDIO_EXTENSIONS:
                    for name in (f"audio/{item.condition}/{item.id}{ext}", f"{item.condition}/{item.id}/output{ext}"):
                        wanted[name] = (item.id, item.condition)
            names = {n.split("/", 1)[1] if n.count("/") > 2 else n: n for n in zf.namelist()}
            found = {}
            for short, full in names.items():
                if short in wanted and not zf.getinfo(full).is_dir():
                    dest = root / "__audio" / f"{len(found)}{Path(short).suffix}"
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(full) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out, length=1 << 20)
                    found[wanted[short]] = dest
            return found
    found = {}
    for item in result.items:
        for ext in AUDIO_EXTENSIONS:
            for candidate in (root / "audio" / item.condition / f"{item.id}{ext}",
                              root / item.condition / item.id / f"output{ext}"):
                if candidate.is_file():
                    found[(item.id, item.condition)] = candidate
    return found
