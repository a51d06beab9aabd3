"""The board's upload path: check an upload's size and names, validate it with the submission checker, score it
with the embedded engines and store it as self-reported.

Uploaded file names are never trusted: an upload is either one `.zip` (the submission loader enforces zip
safety) or the files `responses.jsonl` + `meta.json`, which are copied under those fixed names into a fresh
temporary folder. Validation messages are passed through as the checker wrote them.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zbb.errors import Problem, ProblemsError, ZbbError
from zbb.leaderboard.store import ResultStore
from zbb.records import RunResult

if TYPE_CHECKING:
    from zbb.dataset import ZbbDataset

log = logging.getLogger(__name__)

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
        raise ZbbError(
            f"upload: expected one .zip or exactly {' + '.join(LOOSE_FILES)}; "
            f"missing {missing or 'nothing'}, unexpected {extra or 'nothing'}"
        )
    dest = folder / "submission"
    dest.mkdir()
    for name in LOOSE_FILES:
        shutil.copyfile(by_name[name], dest / name)  # our fixed name, never the uploaded one
    return dest


def submit(
    store: ResultStore,
    files: Sequence[str | os.PathLike],
    dataset: ZbbDataset | None,
    *,
    judge: str = "rule",
    asr: str = "pocketsphinx",
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> SubmitOutcome:
    """Score (the loader checks it first) and store an upload as self-reported. Whatever goes wrong comes back as
    a readable outcome, never raised: bad input as its problems, a failure of zbb itself as one message (with the
    traceback in the server log), so the uploader never sees the web framework's generic error."""
    try:
        return _submit(store, files, dataset, judge=judge, asr=asr, max_bytes=max_bytes)
    except Exception as exc:
        log.exception("zbb leaderboard: scoring or storing an upload failed")
        return _refuse(
            "server",
            f"the upload could not be scored or stored ({type(exc).__name__}: {str(exc)[:300]}); it was not added "
            "to the board. The server log has the details; please report this with your submission.",
        )


def _submit(
    store: ResultStore,
    files: Sequence[str | os.PathLike],
    dataset: ZbbDataset | None,
    *,
    judge: str = "rule",
    asr: str = "pocketsphinx",
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> SubmitOutcome:
    """Score (the loader checks it first) and store an upload as self-reported. Bad input comes back as problems,
    never raised."""
    if dataset is None:
        return _refuse(
            "server", "this board has no dataset configured, so it cannot score uploads (start it with --dataset)"
        )
    try:
        from zbb.score import score_submission
    except ImportError as exc:  # the scorer is not part of this install
        return _refuse("server", f"scoring is not available in this install ({exc})")
    with tempfile.TemporaryDirectory(prefix="zbb-upload-") as tmp:
        try:
            staged = stage_upload(files, Path(tmp), max_bytes=max_bytes)
        except ZbbError as exc:
            return _refuse("upload", str(exc))
        try:  # the loader inside refuses a bad submission with every problem at once: no separate check pass
            result = score_submission(staged, dataset, judge=judge, asr=asr, provenance_kind="self-reported")
        except ProblemsError as exc:
            return SubmitOutcome(ok=False, problems=list(exc.problems))
        except ZbbError as exc:
            return _refuse("scoring", str(exc))
        audio_dir = Path(tmp) / "audio-out"
        audio_dir.mkdir()
        try:
            key = store.add(result, audio=_output_audio(staged, result, audio_dir))
        except ZbbError as exc:
            return _refuse("storing", str(exc))
    return SubmitOutcome(ok=True, key=key, model=result.meta.model)


def _output_audio(staged: Path, result: RunResult, folder: Path) -> dict[tuple[str, str], Path]:
    """The model's output audio per scored row, where the submission carried it, copied into `folder`.

    Reads the submission through the submission loader's file access (its zip safety and size limits). Audio is
    matched to scored rows by the layouts `audio/<condition>/<id>.<ext>` and `[<condition>/]<id>/output.<ext>`;
    stored names come from the scored row keys, never from the uploaded names.
    """
    from zbb.leaderboard.store import AUDIO_EXTENSIONS
    from zbb.submission.files import SubmissionFiles

    rows = {(it.id, it.condition) for it in result.items}
    conditions = {c for _, c in rows}
    found: dict[tuple[str, str], Path] = {}
    with SubmissionFiles(staged) as files:
        for rel in files.paths():
            parts = rel.split("/")
            stem, ext = os.path.splitext(parts[-1])
            if ext.lower() not in AUDIO_EXTENSIONS:
                continue
            key = None
            if len(parts) == 3 and parts[0] == "audio":
                key = (stem, parts[1])
            elif stem == "output" and len(parts) == 3:
                key = (parts[1], parts[0])
            elif stem == "output" and len(parts) == 2 and len(conditions) == 1:
                key = (parts[0], next(iter(conditions)))
            if key is None or key not in rows or key in found:
                continue
            dest = folder / f"{len(found)}{ext.lower()}"
            dest.write_bytes(files.read(rel))
            found[key] = dest
    return found
