"""Reading and writing run results (one JSON file per run)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from zbb.errors import ZbbError
from zbb.io import JsonInputError, NoSpaceError, atomic_write_json, atomic_writer, dumps_strict, read_json, utf8
from zbb.records import ItemScore, RunResult

RESULT_KIND = "zbb-result"
_ITEM_FIELDS = tuple(f.name for f in dataclasses.fields(ItemScore))
# An item in the file: an object two levels down (indent 2), its flat fields one per line. Encoded by json's C
# encoder with these separators, which writes what `json.dumps(..., indent=2)` writes there, several times faster.
_ITEM_SEPARATORS = (",\n      ", ": ")


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


def check_result_path(path: str | os.PathLike, *, keep: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse, before any work, a result path that cannot take a result file: a folder, something that is not a
    regular file (a device such as /dev/null would be replaced by the file: the result is renamed onto it), a
    path under a file, or an existing file inside (or the same as) one of `keep` (the submission being scored, the
    dataset: `--out` pointed at them would replace their files). Raises ZbbError naming the path."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:  # e.g. a path under a file (not a folder)
        raise ZbbError(f"{path}: cannot write the result file here ({exc.strerror or exc})") from None
    if info is None:
        return path
    if stat.S_ISDIR(info.st_mode):
        raise ZbbError(f"{path}: is a folder; give the result file's path (e.g. {path / 'run.result.json'})")
    if not stat.S_ISREG(info.st_mode):
        raise ZbbError(f"{path}: not a regular file; a result file would replace it")
    target = path.resolve()
    for other in keep:
        base = Path(other).resolve()
        if target == base or base in target.parents:
            raise ZbbError(f"{path}: is a file of {other}; writing the result there would replace it")
    return path


def _write_error(path: Path, exc: OSError) -> ZbbError:
    """An OSError met while writing the result file `path`, as the ZbbError the CLI shows in one line."""
    return NoSpaceError.of(exc, path) or ZbbError(f"{path}: cannot write the result file ({exc.strerror or exc})")


class ResultWriter:
    """Writes a result file piece by piece, as `save_result` would write the whole result: the same bytes.

    `add(items)` as rows are scored (the items go to a spool file beside `path`, so none is kept in memory), then
    `finish(result)` with the result's other fields (its `items` must be empty): the file is assembled from the
    result's head, the spooled items and its tail, and renamed onto `path` at once. Until then `path` is left as
    it was; leaving the `with` block without `finish` (an error) removes everything written. A NaN or infinite
    figure, or a lone surrogate in a text, raises ZbbError naming the field as `save_result` does.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = check_result_path(path)
        self.count = 0
        self._spool: IO[bytes] | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._spool = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in close())
                prefix=f".{self.path.name}.", suffix=".items.tmp", dir=self.path.parent, delete=False
            )
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def add(self, items: Iterable[ItemScore]) -> None:
        if self._spool is None:
            raise ZbbError(f"{self.path}: the result file is already finished")
        where = str(self.path)
        write = self._spool.write  # buffered: an item at a time costs no more than a chunk at a time
        try:
            for item in items:
                fields = {f: getattr(item, f) for f in _ITEM_FIELDS}
                text = dumps_strict(fields, where=where, at=f"items[{self.count}]", separators=_ITEM_SEPARATORS)
                write(utf8(f"{',' if self.count else ''}\n    {{\n      {text[1:-1]}\n    }}", where=where))
                self.count += 1
        except OSError as exc:  # the spool's disk filled up
            raise _write_error(self.path, exc) from exc

    def finish(self, result: RunResult) -> Path:
        """Write the file: `result`'s fields around the added items (in the field order of `save_result`)."""
        if self._spool is None:
            raise ZbbError(f"{self.path}: the result file is already finished")
        if result.items:
            raise ZbbError(f"{self.path}: finish() takes the result without items (they were added)")
        where = str(self.path)
        fields = result.to_dict()
        names = list(fields)
        at = names.index("items")
        head = dumps_strict({"kind": RESULT_KIND, **{k: fields[k] for k in names[:at]}}, where=where, indent=2)
        tail = dumps_strict({k: fields[k] for k in names[at + 1 :]}, where=where, indent=2)
        spool = self._spool
        try:
            spool.flush()
            size = spool.tell()
            with atomic_writer(self.path) as out:
                out.write(utf8(head.removesuffix("\n}") + ',\n  "items": [', where=where))
                spool.seek(0)
                shutil.copyfileobj(spool, out, 1 << 20)
                closing = "\n  ]" if size else "]"
                out.write(utf8(closing + ("," + tail[1:] if tail != "{}" else "\n}") + "\n", where=where))
        except NoSpaceError:
            raise  # atomic_writer's own, naming the file
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        self.close()
        return self.path

    def close(self) -> None:
        """Remove the spool (whether or not the file was finished); `path` is untouched unless finished."""
        if self._spool is not None:
            spool, self._spool = self._spool, None
            try:
                spool.close()
            except OSError:
                pass  # its buffer could not be flushed (a full disk): it is removed all the same
            finally:
                Path(spool.name).unlink(missing_ok=True)

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
