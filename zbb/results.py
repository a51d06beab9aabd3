"""Reading and writing run results (one JSON file per run)."""

from __future__ import annotations

import os
from pathlib import Path

from zbb.errors import ZbbError
from zbb.io import JsonInputError, atomic_write_json, read_json
from zbb.records import RunResult

RESULT_KIND = "zbb-result"


def save_result(result: RunResult, path: str | os.PathLike) -> Path:
    """Write `result` as strict JSON, atomically; a NaN or infinite figure raises ZbbError naming the field (and
    nothing is written)."""
    return atomic_write_json(path, {"kind": RESULT_KIND, **result.to_dict()})


def load_result(path: str | os.PathLike) -> RunResult:
    """Read a result JSON written by `save_result`; errors name the file."""
    path = Path(path)
    try:
        data = read_json(path.read_bytes(), str(path))
    except OSError as exc:
        raise ZbbError(f"{path}: cannot read result file: {exc}") from exc
    except JsonInputError as exc:
        raise ZbbError(f"{exc.where}: not a readable result file: {exc.message}") from exc
    if not isinstance(data, dict) or data.pop("kind", None) != RESULT_KIND:
        raise ZbbError(f'{path}: not a zbb result (expected a JSON object with "kind": "{RESULT_KIND}")')
    try:
        return RunResult.from_dict(data)
    except (ZbbError, TypeError, ValueError) as exc:
        raise ZbbError(f"{path}: malformed result: {exc}") from exc
