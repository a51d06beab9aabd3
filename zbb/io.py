"""Small file helpers: atomic writes (write aside, then rename) so nothing stored is ever half-written."""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from zbb.errors import ZbbError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class NoSpaceError(ZbbError, OSError):
    """The disk filled up while writing a file (an OSError with errno ENOSPC, and a ZbbError with a plain message)."""

    def __str__(self) -> str:
        return str(self.strerror)

    @classmethod
    def of(cls, exc: OSError, path: Path, size: int | None = None) -> NoSpaceError | None:
        """`exc` as a NoSpaceError naming `path` (and `size`, the bytes needed) if the disk or quota is full."""
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return None
        needed = f" ({size:,} bytes needed)" if size is not None else ""
        return cls(exc.errno, f"no space left on device while writing {path}{needed}", str(path))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` via a temporary file in the same folder and an atomic rename.

    A full disk raises NoSpaceError naming the path and the bytes needed; the file is left as it was.
    """
    with atomic_writer(path, size=len(data)) as fh:
        fh.write(data)
    return Path(path)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, *, size: int | None = None) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: it is a temporary file in the same folder, flushed to disk and
    renamed onto `path` when the block ends, and removed (leaving `path` as it was) when the block raises.

    A full disk raises NoSpaceError naming the path (and `size`, the bytes needed, when given).
    """
    path = Path(path)
    try:
        with _atomic_file(path) as fh:
            yield fh
    except OSError as exc:
        full = None if isinstance(exc, NoSpaceError) else NoSpaceError.of(exc, path, size)
        if full is None:
            raise
        raise full from exc


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions of a new file
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write `obj` as strict JSON (no NaN/Infinity), atomically; a non-finite number raises ZbbError naming it."""
    return atomic_write_bytes(path, utf8(dumps_strict(obj, where=str(path), indent=2) + "\n", where=str(path)))


def utf8(text: str, *, where: str) -> bytes:
    """`text` as UTF-8 for a file; a lone UTF-16 surrogate (which JSON can spell) raises ZbbError naming `where`."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ZbbError(f"{where}: cannot write text holding a lone UTF-16 surrogate ({exc.reason})") from None


# ------------------------------------------------------------------------------------------- strict JSON
#: Deepest nesting any JSON input may have: zbb's own files nest about 6 levels; Python's JSON reader and writer
#: recurse once per level and fail with RecursionError near 1000.
MAX_JSON_DEPTH = 64

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
# A float literal can overflow to inf only with a 3-digit exponent or 309+ digits. Texts are scanned for those at C
# speed (digits mapped to "0", "e"/"E" to "e"; then plain substring searches); only texts that may hold one pay for
# the per-float check (a Python call per number). A regular expression took seconds on a 60 MB reply.
_NUMBER_SHAPE = str.maketrans({**{str(d): "0" for d in range(10)}, "E": "e"})
_LONG_DIGITS = "0" * 309


def _may_overflow(text: str) -> bool:
    shape = text.translate(_NUMBER_SHAPE)
    return "e000" in shape or "e+000" in shape or _LONG_DIGITS in shape


_DEPTH_CHUNK = 1 << 20
# JSON can spell a lone UTF-16 surrogate ("\\ud800"), which Python keeps in a str that cannot be written as UTF-8;
# only texts holding such an escape pay for the check of every parsed string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonInputError(ZbbError):
    """A JSON input is not strict JSON zbb can read: malformed, nested too deep, or a number that is not finite.

    `where` is the file (with `:line` when known); `message` says what is wrong.
    """

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(f"{name} is not a JSON number (JSON holds only finite numbers)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(f"the number {text[:40]}{'...' if len(text) > 40 else ''} is too large (not a finite number)")
    return value


def _too_deep_at(text: str, max_depth: int) -> int | None:
    """Offset (in `text` with strings removed) where nesting first passes `max_depth`, or None; linear, chunked."""
    if text.count("[") + text.count("{") <= max_depth:
        return None  # cannot nest deeper than the number of openers
    import numpy as np

    data = np.frombuffer(_STRING.sub('""', text).encode("utf-8", "surrogatepass"), np.uint8)
    depth = 0
    for begin in range(0, len(data), _DEPTH_CHUNK):
        chunk = data[begin : begin + _DEPTH_CHUNK]
        delta = (chunk == 0x5B).astype(np.int8) + (chunk == 0x7B) - (chunk == 0x5D) - (chunk == 0x7D)
        at = np.flatnonzero(delta)
        if not at.size:
            continue
        depths = depth + np.cumsum(delta[at], dtype=np.int64)
        over = np.flatnonzero(depths > max_depth)
        if over.size:
            offset = begin + int(at[over[0]])
            return int(np.count_nonzero(data[:offset] == 0x0A)) + 1  # line number (strings hold no raw newline)
        depth = int(depths[-1])
    return None


def read_json(text: str | bytes, where: str, *, line: int | None = None, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse one JSON document strictly, for every JSON input zbb reads (submissions, banks, results, indexes).

    Refuses, with a `JsonInputError` naming `where` and the line: malformed JSON, nesting deeper than `max_depth`,
    NaN/Infinity and numbers too large for a float, and integers too long for Python to convert. `line` is the
    line `text` sits on in its file (a JSON Lines line), when the caller knows it.
    """

    def located(lineno: int | None) -> str:
        shown = line if line is not None else lineno
        return f"{where}:{shown}" if shown is not None else where

    if isinstance(text, bytes):
        data = text
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonInputError(
                located(data[: exc.start].count(b"\n") + 1),
                f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            ) from None

    def too_deep() -> JsonInputError:
        return JsonInputError(
            located(_too_deep_at(text, max_depth)),
            f"JSON nested deeper than {max_depth} levels; zbb's JSON files nest a few levels",
        )

    hooks: dict[str, Any] = {"parse_constant": _refuse_constant}
    if _may_overflow(text):
        hooks["parse_float"] = _finite_float
    try:
        value = json.loads(text, **hooks)
    except json.JSONDecodeError as exc:
        # json's messages may end in "at" ("Unterminated string starting at"): the column follows it once
        msg = exc.msg.removesuffix(" at")
        raise JsonInputError(located(exc.lineno), f"malformed JSON ({msg} at column {exc.colno})") from None
    except _NotFinite as exc:
        raise JsonInputError(located(None), str(exc)) from None
    except ValueError as exc:  # Python's int() refuses integers of more than 4300 digits
        raise JsonInputError(located(None), f"a number JSON cannot hold here ({str(exc)[:100]})") from None
    except RecursionError:  # json's C scanner counts its nesting against the recursion limit: deeper than that
        raise too_deep() from None
    # The C parser is cheaper than any scan of the text, so nesting is checked on what it built (containers only),
    # and the text is scanned for the line only when that check fails.
    if text.count("[") + text.count("{") > max_depth and _container_depth(value) > max_depth:
        raise too_deep()
    if _SURROGATE_ESCAPE.search(text):
        bad = _lone_surrogate(value)
        if bad is not None:
            raise JsonInputError(located(None), f"{bad} holds a lone UTF-16 surrogate escape (not a character)")
    return value


def _container_depth(obj: Any) -> int:
    """How deep lists and objects nest in parsed JSON (0 for a scalar); iterative, so any depth is safe."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _lone_surrogate(obj: Any) -> str | None:
    """Where a string (or key) in parsed JSON holds a lone surrogate, or None."""
    stack: list[tuple[Any, str]] = [(obj, "the text")]
    while stack:
        value, at = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return at
        elif isinstance(value, dict):
            stack.extend((k, f"a key in {at}") for k in value)
            stack.extend((v, f"field {k!a}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, at) for v in value)
    return None


def _non_finite_path(obj: Any, path: str = "") -> str | None:
    """Where the first NaN/infinite float sits in `obj` (`items[3].latency_s`), or None."""
    stack: list[tuple[Any, str]] = [(obj, path)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{at or '(top)'} = {value}"
        if isinstance(value, dict):
            stack.extend((v, f"{at}.{k}" if at else str(k)) for k, v in reversed(list(value.items())))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{at}[{i}]") for i, v in reversed(list(enumerate(value))))
    return None


def dumps_strict(obj: Any, *, where: str = "JSON", at: str = "", **options: Any) -> str:
    """`json.dumps` that never writes NaN/Infinity (not JSON): a non-finite number raises ZbbError naming it (its
    path inside `obj`, after `at`: where `obj` sits in a larger document, e.g. "items[3]")."""
    options.setdefault("ensure_ascii", False)
    try:
        return json.dumps(obj, allow_nan=False, **options)
    except ValueError:
        bad = _non_finite_path(obj, at)
        raise ZbbError(
            f"{where}: cannot write {bad or 'a non-finite number'}; JSON holds only finite numbers"
        ) from None
    except RecursionError:
        raise ZbbError(f"{where}: cannot write JSON nested this deep") from None


def jsonl_objects(
    text: str, name: str, problems: list, *, max_problems: int | None = None
) -> Iterator[tuple[int, dict]]:
    """The JSON objects of a JSON Lines text as (physical line number, object), skipping blank lines.

    Each line is read with `read_json` (strict). A line that is not strict JSON, or not a JSON object, adds a
    `Problem` named `name:line` to `problems` and is skipped, so a caller can report every bad line at once.
    Reading stops once `problems` holds `max_problems` (the caller says so), which bounds the cost of a file of
    nothing but bad lines.
    """
    for number, _, obj in jsonl_objects_at(text, name, problems, max_problems=max_problems):
        yield number, obj


def jsonl_objects_at(
    text: str, name: str, problems: list, *, max_problems: int | None = None
) -> Iterator[tuple[int, int, dict]]:
    """`jsonl_objects` with where each line starts in `text`: (line number, offset, object). Lines are cut from
    `text` one at a time (a list of every line would double a large file's memory)."""
    from zbb.errors import Problem

    for number, offset, line in _lines(text):
        if max_problems is not None and len(problems) >= max_problems:
            return
        if not line.strip():
            continue
        try:
            obj = read_json(line, name, line=number)
        except JsonInputError as exc:
            problems.append(Problem(exc.where, exc.message + "; expected one JSON object per line" + _breaks(line)))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(f"{name}:{number}", f"expected a JSON object per line, got {type(obj).__name__}"))
            continue
        yield number, offset, obj


#: Line breaks other than "\n" (which str.splitlines and editors honour) that JSON Lines does not: a file that
#: separates its objects with them reads as one long line of several objects.
_OTHER_BREAKS = {"\r": "bare CR (U+000D)", "\u2028": "U+2028", "\u2029": "U+2029", "\x85": "U+0085 (NEL)"}


def _breaks(line: str) -> str:
    """A hint for a line that failed to parse and holds a line break JSON Lines does not split at ("" if none)."""
    body = line.removesuffix("\r")  # CRLF is a line end
    found = [name for ch, name in _OTHER_BREAKS.items() if ch in body]
    if not found:
        return ""
    return f" (the line holds {', '.join(found)}: lines must end with \\n (LF or CRLF))"


def jsonl_line(text: str, offset: int) -> str:
    """The line of `text` that starts at `offset` (without its newline)."""
    end = text.find("\n", offset)
    return text[offset:] if end < 0 else text[offset:end]


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(line number, offset, line) of every line of `text`, split at "\\n" as str.split would."""
    offset = 0
    for number in itertools.count(1):
        line = jsonl_line(text, offset)
        yield number, offset, line
        offset += len(line) + 1
        if offset > len(text):
            return
