"""Where the board's results live: one JSON per run under a folder (default `submissions/`), an index beside them,
and optionally a Hugging Face dataset repo mirrored into that folder.

- Result files are what `zbb.results.save_result` writes (`"kind": "zbb-result"`), anywhere under the folder;
  other JSON files there (a reference submission's `meta.json`) are ignored.
- `index.json` caches each result's summary (everything but the items, plus compact per-row outcomes), keyed
  by relative path with the file's mtime, size and sha256. It is rebuilt when missing or unreadable, and
  refreshed entry by entry when a file's mtime/size changed and its hash no longer matches.
- New results are written as `<run_id>--<sha8>.json` (the hash of the content, so two submissions never share a
  name); a submission's output audio goes to `audio/<key>/<condition>/<id>.<ext>`. Every write is atomic, and the
  index is updated under a file lock, so concurrent uploads never corrupt the store.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from zbb.errors import Problem, ZbbError
from zbb.io import JsonInputError, atomic_write_bytes, dumps_strict, read_json
from zbb.leaderboard.table import RunSummary, pack_outcomes

if TYPE_CHECKING:
    from filelock import FileLock
    from huggingface_hub import HfApi
from zbb.records import RunResult
from zbb.results import RESULT_KIND, load_result

INDEX_NAME = "index.json"
INDEX_KIND = "zbb-leaderboard-index"
INDEX_VERSION = 2  # 2: summaries count missing rows per condition
LOCK_NAME = ".zbb-store.lock"
AUDIO_DIR = "audio"
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg")
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
RESULTS_REPO_ENV = "ZBB_RESULTS_REPO"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_part(text: str, what: str) -> str:
    """A single path component built from untrusted text (an item id, a run key): refuse anything else."""
    if not _SAFE_PART.match(text) or ".." in text:
        raise ZbbError(f"{what} {text!r} cannot name a stored file (expected letters, digits, '.', '_' or '-')")
    return text


def _outcomes(items: object) -> tuple[dict[str, dict[str, tuple[bool, bool]]], dict[str, int]]:
    """Per-row (correct, subject_hit) by condition, and how many rows per condition were missing."""
    if not isinstance(items, list):
        raise ZbbError(f"items: expected a list, got {type(items).__name__}")
    out: dict[str, dict[str, tuple[bool, bool]]] = {}
    missing: dict[str, int] = {}
    for n, item in enumerate(items):
        try:  # the index build reads every row of every file: one dict lookup per field
            id_, condition, correct, hit = item["id"], item["condition"], item["correct"], item["subject_hit"]
        except (TypeError, KeyError):
            id_ = None
        if type(id_) is not str or type(condition) is not str or type(correct) is not bool or type(hit) is not bool:
            raise ZbbError(f"items[{n}]: expected an object with string id/condition and boolean correct/subject_hit")
        rows = out.get(condition)
        if rows is None:
            rows = out[condition] = {}
        rows[id_] = (correct, hit)
        if item.get("missing") is True:
            missing[condition] = missing.get(condition, 0) + 1
    return out, missing


class ResultStore:
    """A folder of run results with an index. `summaries()` is what the board reads; `load(key)` a full run."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.problems: list[Problem] = []  # result files that could not be read, from the last refresh
        self._parsed: dict[str, RunSummary] = {}  # index entries' summaries, parsed while checking the index
        # parsed summaries by file, kept across refreshes: a page load re-checks 500 entries without re-parsing
        self._memo: dict[str, tuple[tuple, RunSummary]] = {}

    # ------------------------------------------------------------------------------------------- paths
    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def _lock(self) -> FileLock:
        from filelock import FileLock

        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / LOCK_NAME), timeout=60)

    def _result_files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(
            p
            for p in self.root.rglob("*.json")
            if p.name != INDEX_NAME
            and AUDIO_DIR not in p.relative_to(self.root).parts[:1]
            and not any(part.startswith(".") for part in p.relative_to(self.root).parts)
        )

    def path_of(self, key: str) -> Path:
        path = (self.root / f"{key}.json").resolve()
        if self.root.resolve() not in path.parents:
            raise ZbbError(f"run {key!r} is not inside the results folder {self.root}")
        return path

    # ------------------------------------------------------------------------------------------- index
    def _read_index(self) -> dict:
        try:
            data = read_json(self.index_path.read_bytes(), str(self.index_path))
        except (OSError, JsonInputError):
            return {}
        if not isinstance(data, dict) or data.get("kind") != INDEX_KIND or data.get("version") != INDEX_VERSION:
            return {}
        files = data.get("files")
        return files if isinstance(files, dict) else {}

    def _refresh(self, cache: dict | None = None) -> tuple[dict, bool]:
        """Bring the index up to date with the folder; returns (entries, whether they differ from the index file).
        `cache`: entries just computed (checked against each file's mtime and size like the index's own)."""
        old = self._read_index()
        known = {**old, **cache} if cache else old
        entries: dict[str, dict] = {}
        changed = False
        self.problems = []
        self._parsed = {}
        for path in self._result_files():
            rel = path.relative_to(self.root).as_posix()
            stat = path.stat()
            cached = known.get(rel)
            if (
                isinstance(cached, dict)
                and cached.get("mtime_ns") == stat.st_mtime_ns
                and cached.get("size") == stat.st_size
                and self._entry_ok(rel, cached)  # a hand-edited or damaged entry is rebuilt from its file
            ):
                entries[rel] = cached
                changed = changed or cached is not old.get(rel)  # from `cache`: not in the index file yet
                continue
            data = path.read_bytes()
            digest = _sha256(data)
            if (
                isinstance(cached, dict) and cached.get("sha256") == digest and self._entry_ok(rel, cached)
            ):  # touched, not changed
                entries[rel] = {**cached, "mtime_ns": stat.st_mtime_ns, "size": stat.st_size}
                changed = True
                continue
            entries[rel] = {
                "mtime_ns": stat.st_mtime_ns,
                "size": stat.st_size,
                "sha256": digest,
                "summary": self._summarise(path, rel, data),
            }
            if rel in self._parsed:  # `_summarise` parsed a good result already: remember it for later refreshes
                self._memo[rel] = ((digest, stat.st_mtime_ns, stat.st_size), self._parsed[rel])
            else:
                self._entry_ok(rel, entries[rel])
            changed = True
        if set(old) != set(entries):
            changed = True
        if len(self._memo) > len(entries):  # files removed since: forget them
            self._memo = {rel: memo for rel, memo in self._memo.items() if rel in entries}
        for rel, entry in entries.items():
            summary = entry.get("summary")
            if isinstance(summary, dict) and "error" in summary:
                self.problems.append(Problem(str(self.root / rel), summary["error"]))
        return entries, changed

    def _entry_ok(self, rel: str, entry: dict) -> bool:
        """Whether an index entry is well formed (its summary parses); keeps the parsed summary for `summaries`."""
        summary = entry.get("summary")
        if summary is None:
            return True  # a JSON file that is not a result
        if not isinstance(summary, dict):
            return False
        if "error" in summary:
            return isinstance(summary["error"], str)
        stamp = (entry.get("sha256"), entry.get("mtime_ns"), entry.get("size"))
        memo = self._memo.get(rel)
        if memo is not None and memo[0] == stamp:
            self._parsed[rel] = memo[1]
            return True
        try:
            self._parsed[rel] = RunSummary.from_dict(summary)
        except (ZbbError, TypeError, ValueError, KeyError, AttributeError):
            return False
        self._memo[rel] = (stamp, self._parsed[rel])
        return True

    def _summarise(self, path: Path, rel: str, data: bytes) -> dict | None:
        try:
            obj = read_json(data, str(path))
        except JsonInputError as exc:  # truncated or damaged: named on the board, never silently dropped
            line = exc.where[len(str(path)) + 1 :]
            return {"error": f"unreadable JSON{f' (line {line})' if line else ''}: {exc.message}"}
        if not isinstance(obj, dict) or obj.get("kind") != RESULT_KIND:
            return None
        # Building ItemScore records for every row is the slow part of reading a result; the index needs only
        # each row's key and two flags, so items are checked for those and read as plain dicts here. `load(key)`
        # still reads (and fully checks) the whole file when a run's rows are shown.
        items = obj.pop("items", [])
        obj.pop("kind")
        try:  # parsing the summary checks the file (RunResult.from_dict); the checked JSON goes into the index
            outcomes, missing = _outcomes(items)
            summary = {"key": rel[: -len(".json")], "result": obj, "outcomes": pack_outcomes(outcomes)}
            summary["missing"] = missing
            self._parsed[rel] = RunSummary.from_dict(summary)
            return summary
        except (ZbbError, TypeError, ValueError, KeyError, AttributeError) as exc:
            return {"error": f"malformed result: {exc}"}

    def _write_index(self, entries: dict) -> None:
        body = {"kind": INDEX_KIND, "version": INDEX_VERSION, "files": entries}
        atomic_write_bytes(
            self.index_path, dumps_strict(body, where=str(self.index_path), separators=(",", ":")).encode()
        )

    def summaries(self) -> list[RunSummary]:
        """Every stored run's summary, refreshing the index first (written back only when it changed)."""
        entries, changed = self._refresh()
        if changed:
            with self._lock():
                entries, changed = self._refresh(entries)  # another writer may have been first; reuse our work
                if changed:
                    self._write_index(entries)
        return [self._parsed[rel] for rel in entries if rel in self._parsed]

    def find_upload(self, submission_sha256: str) -> RunSummary | None:
        """The stored run uploaded from exactly these submission files (same sha256), if any."""
        for summary in self.summaries():
            if summary.result.provenance.submission_sha256 == submission_sha256:
                return summary
        return None

    # ------------------------------------------------------------------------------------------- runs
    def load(self, key: str) -> RunResult:
        """The full stored run (with its items)."""
        path = self.path_of(key)
        if not path.is_file():
            raise ZbbError(f"no stored run {key!r} under {self.root}")
        return load_result(path)

    def add(
        self, result: RunResult, *, audio: Mapping[tuple[str, str], str | os.PathLike] | None = None, subdir: str = ""
    ) -> str:
        """Store a new run (and its output audio by (id, condition)); returns its key. Atomic, under the lock."""
        from zbb.results import save_result

        # strict JSON first: a result holding NaN/Infinity is refused before anything (audio included) is written
        body = dumps_strict(
            {"kind": RESULT_KIND, **result.to_dict()}, where=result.run_id, sort_keys=True, ensure_ascii=True
        ).encode()
        stem = f"{safe_part(result.run_id, 'run id')}--{_sha256(body)[:8]}"
        prefix = f"{safe_part(subdir, 'folder')}/" if subdir else ""
        key = prefix + stem
        with self._lock():
            for (item_id, condition), src in (audio or {}).items():
                ext = Path(src).suffix.lower()
                if ext not in AUDIO_EXTENSIONS:
                    raise ZbbError(f"{src}: output audio must be one of {', '.join(AUDIO_EXTENSIONS)}")
                dest = (
                    self.root
                    / AUDIO_DIR
                    / stem
                    / safe_part(condition, "condition")
                    / (safe_part(item_id, "item id") + ext)
                )
                atomic_write_bytes(dest, Path(src).read_bytes())
            save_result(result, self.root / f"{key}.json")
            entries, _ = self._refresh()
            self._write_index(entries)
        return key

    def audio_path(self, key: str, condition: str, item_id: str) -> Path | None:
        """The stored output audio of one row of a run, if the submission included it."""
        stem = key.rsplit("/", 1)[-1]
        try:
            folder = self.root / AUDIO_DIR / safe_part(stem, "run") / safe_part(condition, "condition")
            name = safe_part(item_id, "item id")
        except ZbbError:
            return None
        for ext in AUDIO_EXTENSIONS:
            if (folder / (name + ext)).is_file():
                return folder / (name + ext)
        return None


# ----------------------------------------------------------------------------------------------- Hub mirror
class HubResults:
    """Results kept in a Hugging Face dataset repo (the Hub leaderboards' convention), mirrored into a store.

    Files live under `results/` in the repo. Nothing is contacted until `pull` or `push` is called.
    """

    PREFIX = "results/"

    def __init__(self, repo_id: str, *, token: str | None = None, api: HfApi | None = None):
        self.repo_id = repo_id
        self.token = token
        self._api = api

    @classmethod
    def from_env(cls) -> HubResults | None:
        repo = os.environ.get(RESULTS_REPO_ENV, "").strip()
        return cls(repo, token=os.environ.get("HF_TOKEN")) if repo else None

    @property
    def api(self) -> HfApi:
        if self._api is None:
            from huggingface_hub import HfApi

            self._api = HfApi(token=self.token)
        return self._api

    def pull(self, store: ResultStore) -> int:
        """Copy the repo's result files into `store.root/hub/`; returns how many files were new or changed.

        A Hub that cannot be reached, a missing repo or a refused token is a ZbbError in one line naming the repo,
        found with one request (huggingface_hub retries a file listing for ~20 s). Files already mirrored stay.
        """
        from zbb.hub import failures, reason

        try:
            self.api.repo_info(self.repo_id, repo_type="dataset")  # one request, no retries: fails fast
            return self._pull(store)
        except failures() as exc:
            raise ZbbError(
                f"Hub results repo {self.repo_id}: cannot read it: {reason(exc)}. To serve the local results in "
                f"{store.root} alone, run without --results-repo (and unset {RESULTS_REPO_ENV})"
            ) from exc

    def _pull(self, store: ResultStore) -> int:
        copied = 0
        for name in self.api.list_repo_files(self.repo_id, repo_type="dataset"):
            if not (name.startswith(self.PREFIX) and name.endswith(".json")):
                continue
            rel = name[len(self.PREFIX) :]
            parts = [safe_part(p, "Hub file") for p in rel.split("/")]
            local = Path(self.api.hf_hub_download(repo_id=self.repo_id, filename=name, repo_type="dataset"))
            dest = store.root.joinpath("hub", *parts)
            data = local.read_bytes()
            if dest.is_file() and dest.read_bytes() == data:
                continue
            atomic_write_bytes(dest, data)
            copied += 1
        return copied

    def push(self, store: ResultStore, key: str) -> None:
        path = store.path_of(key)
        self.api.upload_file(
            path_or_fileobj=str(path),
            path_in_repo=self.PREFIX + path.name,
            repo_id=self.repo_id,
            repo_type="dataset",
            commit_message=f"zbb leaderboard: add {path.name}",
        )


def copy_into(store: ResultStore, paths: list[str | os.PathLike]) -> list[str]:
    """Add existing result files to a store (e.g. results scored elsewhere); returns their keys."""
    keys = []
    for p in paths:
        keys.append(store.add(load_result(p)))
    return keys


__all__ = ["ResultStore", "HubResults", "copy_into", "safe_part"]
