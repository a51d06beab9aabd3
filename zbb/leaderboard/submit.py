"""The board's upload path: check an upload's size and names, validate it with the submission checker, score it
with the embedded engines and store it as self-reported.

Uploaded file names are never trusted: an upload is either one `.zip` (the submission loader enforces zip
safety) or the files `responses.jsonl` + `meta.json`, which are copied under those fixed names into a fresh
temporary folder. Validation messages are passed through as the checker wrote them, with server paths (the
temporary folder, the dataset's folder) cut out, and every message is escaped where it is shown.

Ownership: an upload records who sent it (the signed-in Hugging Face user, or nobody locally) and the sha256 of
its files; the board gives each uploader their own row, an upload identical to a stored one is not stored twice,
and `RateLimiter` caps uploads per uploader.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from zbb.errors import Problem, ProblemsError, ZbbError
from zbb.leaderboard.safe import md_code, md_text
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
    """What happened to an upload: stored under `key`, recognised as the already stored run `duplicate_of`, or
    refused with `problems`. `warnings` are the loader's and scorer's notes (shown either way)."""

    ok: bool
    key: str | None = None
    model: str | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicate_of: str | None = None

    def message(self) -> str:
        """The outcome as markdown; everything quoted from the upload is escaped."""
        if self.ok and self.duplicate_of:
            lines = [
                f"Already on the board: these files were uploaded before as **{md_text(self.model)}** "
                f"(run {md_code(self.duplicate_of)}); nothing new was stored."
            ]
        elif self.ok:
            lines = [
                f"Stored **{md_text(self.model)}** as self-reported (run {md_code(self.key)}); it is on the board now."
            ]
        else:
            lines = ["Submission refused:"]
            lines += [f"- {md_code(p.where)}: {md_text(p.message, limit=600)}" for p in self.problems[:50]]
            if len(self.problems) > 50:
                lines.append(f"- … and {len(self.problems) - 50} more")
        lines += [f"- ⚠️ {md_text(w, limit=600)}" for w in self.warnings[:50]]
        return "\n".join(lines)


def _refuse(where: str, message: str, warnings: Sequence[str] = ()) -> SubmitOutcome:
    return SubmitOutcome(ok=False, problems=[Problem(where, message)], warnings=list(warnings))


# an absolute path (not a URL's): cut to its last part
_ABS_PATH = re.compile(r"(?<![\w.:/~])/(?:[^\s/'\"`]+/)+([^\s/'\"`]*)")


def redact_paths(text: str, roots: dict[str, str]) -> str:
    """`text` without server paths: each of `roots` (path -> shown name) replaced, other absolute paths cut to
    their file name."""
    for root, name in sorted(roots.items(), key=lambda kv: -len(kv[0])):
        if root:
            text = text.replace(root.rstrip("/") + "/", "").replace(root.rstrip("/"), name)
    return _ABS_PATH.sub(r"\1", text)


def upload_sha256(staged: Path) -> str:
    """The sha256 of a staged upload's content (the zip's bytes, or each fixed-name file with its name)."""
    digest = hashlib.sha256()
    if staged.is_file():
        digest.update(staged.read_bytes())
    else:
        for name in LOOSE_FILES:
            data = (staged / name).read_bytes()
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


class RateLimiter:
    """At most `limit` uploads per uploader in any `window_s` seconds (in this process). `limit` 0: no limit."""

    def __init__(self, limit: int = 5, window_s: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str) -> RateLimiter:
        """`"N/SECONDS"` (e.g. `"5/3600"`), or `"0"` for no limit."""
        m = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+(?:\.\d+)?)\s*)?", spec or "")
        if not m:
            raise ZbbError(f"upload limit {spec!r}: expected N/SECONDS, e.g. 5/3600 (or 0 for no limit)")
        return cls(int(m.group(1)), float(m.group(2) or 3600))

    def check(self, who: str) -> float:
        """Count an upload by `who`; returns 0 when allowed, else the seconds until the next one is."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            times = self._times.setdefault(who, deque())
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return times[0] + self.window_s - now
            times.append(now)
            return 0.0


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
            f"missing {missing or 'nothing'}, unexpected {[n[:80] for n in extra] or 'nothing'}"
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
    allow_partial: bool = False,
    uploader: str | None = None,
) -> SubmitOutcome:
    """Score (the loader checks it first) and store an upload as self-reported, owned by `uploader` (None: an
    anonymous upload, which owns its own row). Whatever goes wrong comes back as a readable outcome, never raised:
    bad input as its problems, a failure of zbb itself as one message (with the traceback in the server log), so
    the uploader never sees the web framework's generic error. No server path appears in what comes back."""
    try:
        return _submit(
            store,
            files,
            dataset,
            judge=judge,
            asr=asr,
            max_bytes=max_bytes,
            allow_partial=allow_partial,
            uploader=uploader,
        )
    except Exception as exc:
        log.exception("zbb leaderboard: scoring or storing an upload failed")
        return _refuse(
            "server",
            f"the upload could not be scored or stored ({type(exc).__name__}: {redact_paths(str(exc)[:300], {})}); "
            "it was not added "
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
    allow_partial: bool = False,
    uploader: str | None = None,
) -> SubmitOutcome:
    """`submit` without the last-resort catch: bad input comes back as problems; zbb's own failures raise."""
    if dataset is None:
        return _refuse(
            "server", "this board has no dataset configured, so it cannot score uploads (start it with --dataset)"
        )
    try:
        from zbb.score import score_submission
    except ImportError as exc:  # the scorer is not part of this install
        return _refuse("server", f"scoring is not available in this install ({exc})")
    with tempfile.TemporaryDirectory(prefix="zbb-upload-") as tmp:
        roots = {tmp: "upload", str(Path(tmp).resolve()): "upload"}
        for attr in ("source", "root"):
            if getattr(dataset, attr, None):
                roots[str(getattr(dataset, attr))] = "dataset"
        roots.update({str(Path(f).parent): "upload" for f in files if f})  # the web server's upload folder

        def clean(text: str) -> str:
            return redact_paths(str(text), roots)

        try:
            staged = stage_upload(files, Path(tmp), max_bytes=max_bytes)
        except ZbbError as exc:
            return _refuse("upload", clean(str(exc)))
        digest = upload_sha256(staged)
        known = store.find_upload(digest)
        if known is not None:
            return SubmitOutcome(ok=True, key=known.key, model=known.model, duplicate_of=known.key)
        notes: list[str] = []
        try:  # the loader inside refuses a bad submission with every problem at once: no separate check pass
            result = score_submission(
                staged,
                dataset,
                judge=judge,
                asr=asr,
                provenance_kind="self-reported",
                allow_partial=allow_partial,
                notes=notes.append,
            )
        except ProblemsError as exc:
            problems = [Problem(clean(p.where), clean(p.message)) for p in exc.problems]
            return SubmitOutcome(ok=False, problems=problems, warnings=[clean(n) for n in notes])
        except ZbbError as exc:
            return _refuse("scoring", clean(str(exc)), [clean(n) for n in notes])
        result = replace(
            result, provenance=replace(result.provenance, uploader=uploader or None, submission_sha256=digest)
        )
        audio_dir = Path(tmp) / "audio-out"
        audio_dir.mkdir()
        try:
            key = store.add(result, audio=_output_audio(staged, result, audio_dir))
        except ZbbError as exc:
            return _refuse("storing", clean(str(exc)))
    return SubmitOutcome(ok=True, key=key, model=result.meta.model, warnings=[clean(n) for n in notes])


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
