"""Small file helpers: atomic writes (write aside, then rename) so nothing stored is ever half-written."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions of a new file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def jsonl_objects(text: str, name: str, problems: list) -> Iterator[tuple[int, dict]]:
    """The JSON objects of a JSON Lines text as (physical line number, object), skipping blank lines, one at a
    time (a caller that keeps only what it needs holds one line's object, not the whole file's).

    A line that is not valid JSON, or not a JSON object, adds a `Problem` named `name:line` to `problems` and is
    skipped, so a caller can report every bad line at once.
    """
    from zbb.errors import Problem

    start, number = 0, 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        line, start, number = text[start:end], end + 1, number + 1
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(
                    f"{name}:{number}",
                    f"malformed JSON ({exc.msg} at column {exc.colno}); expected one JSON object per line",
                )
            )
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(f"{name}:{number}", f"expected a JSON object per line, got {type(obj).__name__}"))
            continue
        yield number, obj
