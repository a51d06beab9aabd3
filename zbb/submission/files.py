"""Reading a submission's files from a folder or a .zip, safely: paths stay inside, sizes and ratios are capped.

Zip members are read one at a time, counting the bytes that actually come out of the decompressor, so a member
that lies about its size in the header is stopped as soon as it passes a limit. Nothing is ever extracted to disk.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zbb.errors import Problem

MIB = 1024 * 1024
_IGNORED_PARTS = ("__MACOSX",)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Caps on what a submission may hold (defaults fit a few thousand rows of 24 kHz audio).

    `max_ratio` is uncompressed/compressed bytes of one zip member, checked once a member passes
    `ratio_floor_bytes` (small files compress well without being bombs). `max_reply_chars` caps one reply's text
    (a model's words after the claim's onset: a few hundred characters; the normaliser and judge cost grows with
    it). `max_problems` stops checking once that many problems are found (fix those first), so a hostile
    submission is refused in at most the time a valid one takes to check.
    """

    max_file_bytes: int = 64 * MIB
    max_total_bytes: int = 8 * 1024 * MIB
    max_members: int = 50_000
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1 * MIB
    max_reply_chars: int = 1000
    max_problems: int = 1000


class FileTooLarge(Exception):
    """Raised while reading when a limit is passed (turned into a Problem by the caller)."""


def _unsafe_name(name: str) -> str | None:
    """Why a member name may not be used, or None when it is a plain relative path."""
    if "\x00" in name:
        return "holds a NUL byte"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if "\\" in name:
        return "uses backslashes (zip paths must use '/')"
    if ".." in PurePosixPath(name).parts:
        return "climbs out of the submission with '..'"
    return None


def _ignored(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return any(p in _IGNORED_PARTS or p.startswith(".") for p in parts)


class SubmissionFiles:
    """The files of one submission, by relative posix path. Problems found while opening are in `problems`."""

    def __init__(self, path: str | os.PathLike, limits: Limits | None = None):
        self.path = Path(path)
        self.name = str(path)
        self.limits = limits or Limits()
        self.problems: list[Problem] = []
        self._sizes: dict[str, int] = {}
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] = {}
        self._read_total = 0
        self._prefix = ""
        if not self.path.exists():
            self.problems.append(Problem(self.name, "no such file or folder"))
        elif self.path.is_dir():
            self._scan_folder()
        elif zipfile.is_zipfile(self.path):
            self._scan_zip()
        else:
            self.problems.append(Problem(self.name, "expected a folder or a .zip file, got a file that is not a zip"))
        self._strip_single_top_folder()

    # ---------------------------------------------------------------------------------------------- scanning
    def _scan_folder(self) -> None:
        root = self.path.resolve()
        total = 0
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _IGNORED_PARTS)
            for fname in sorted(filenames):
                full = Path(dirpath) / fname
                rel = full.relative_to(root).as_posix()
                if _ignored(rel):
                    continue
                if full.is_symlink() and not full.resolve().is_relative_to(root):
                    self.problems.append(Problem(f"{self.name}/{rel}", "symbolic link pointing outside the submission"))
                    continue
                try:
                    st = full.stat()
                except OSError as exc:
                    self.problems.append(Problem(f"{self.name}/{rel}", f"unreadable ({exc.strerror})"))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                if st.st_size > self.limits.max_file_bytes:
                    self.problems.append(
                        Problem(
                            f"{self.name}/{rel}",
                            f"file is {st.st_size} bytes; the limit is "
                            f"{self.limits.max_file_bytes} (Limits.max_file_bytes)",
                        )
                    )
                    continue
                total += st.st_size
                self._sizes[rel] = st.st_size
        if len(self._sizes) > self.limits.max_members:
            self.problems.append(
                Problem(self.name, f"holds {len(self._sizes)} files; the limit is {self.limits.max_members}")
            )
            self._sizes = {}
        elif total > self.limits.max_total_bytes:
            self.problems.append(
                Problem(
                    self.name,
                    f"holds {total} bytes; the limit is {self.limits.max_total_bytes} (Limits.max_total_bytes)",
                )
            )
            self._sizes = {}

    def _scan_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            self.problems.append(Problem(self.name, f"unreadable zip ({exc})"))
            return
        if len(infos) > self.limits.max_members:
            self.problems.append(
                Problem(self.name, f"holds {len(infos)} members; the limit is {self.limits.max_members}")
            )
            return
        declared_total = 0
        for info in infos:
            if info.is_dir():
                continue
            why = _unsafe_name(info.filename)
            where = f"{self.name}:{info.filename}"
            if why:
                self.problems.append(Problem(where, f"unsafe zip entry: the name {why}"))
                continue
            rel = PurePosixPath(info.filename).as_posix()
            if _ignored(rel):
                continue
            if info.flag_bits & 0x1:
                self.problems.append(Problem(where, "encrypted zip entry (zip without a password)"))
                continue
            if info.file_size > self.limits.max_file_bytes:
                self.problems.append(
                    Problem(
                        where,
                        f"entry is {info.file_size} bytes uncompressed; the limit is "
                        f"{self.limits.max_file_bytes} (Limits.max_file_bytes)",
                    )
                )
                continue
            if self._ratio_exceeded(info.file_size, info.compress_size):
                self.problems.append(Problem(where, self._ratio_message(info.file_size, info.compress_size)))
                continue
            declared_total += info.file_size
            self._members[rel] = info
            self._sizes[rel] = info.file_size
        if declared_total > self.limits.max_total_bytes:
            self.problems.append(
                Problem(
                    self.name,
                    f"zip expands to {declared_total} bytes; the limit is "
                    f"{self.limits.max_total_bytes} (Limits.max_total_bytes)",
                )
            )
            self._members, self._sizes = {}, {}

    def _ratio_exceeded(self, size: int, compressed: int) -> bool:
        return size > self.limits.ratio_floor_bytes and size > self.limits.max_ratio * max(compressed, 1)

    def _ratio_message(self, size: int, compressed: int) -> str:
        return (
            f"zip bomb guard: entry expands {size / max(compressed, 1):.0f}x ({compressed} -> {size} bytes); "
            f"the limit is {self.limits.max_ratio:.0f}x (Limits.max_ratio)"
        )

    def _strip_single_top_folder(self) -> None:
        """`zip -r sub.zip mysub/` puts everything under `mysub/`: treat that folder as the root."""
        if "meta.json" in self._sizes or not self._sizes:
            return
        tops = {PurePosixPath(p).parts[0] for p in self._sizes}
        if len(tops) == 1:
            top = next(iter(tops))
            if f"{top}/meta.json" in self._sizes:
                self._prefix = f"{top}/"
                self._sizes = {p[len(self._prefix) :]: s for p, s in self._sizes.items()}

    # --------------------------------------------------------------------------------------------- reading
    def paths(self) -> list[str]:
        return sorted(self._sizes)

    def where(self, rel: str) -> str:
        """How a file is named in messages: `sub/x.json` for folders, `sub.zip:x.json` for zips."""
        sep = ":" if self._zip is not None else "/"
        return f"{self.name}{sep}{self._prefix}{rel}"

    def read(self, rel: str) -> bytes:
        """The bytes of one file; raises FileTooLarge (a limit passed while reading) or OSError."""
        if self._zip is None:
            data = (self.path / self._prefix / rel).read_bytes()
            if len(data) > self.limits.max_file_bytes:  # grew since the scan
                raise FileTooLarge(f"file is {len(data)} bytes; the limit is {self.limits.max_file_bytes}")
            return data
        info = self._members[self._prefix + rel]
        out = bytearray()
        try:
            with self._zip.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    out += chunk
                    if len(out) > self.limits.max_file_bytes:
                        raise FileTooLarge(
                            f"entry passes {self.limits.max_file_bytes} bytes while decompressing "
                            f"(header said {info.file_size}; Limits.max_file_bytes)"
                        )
                    if self._ratio_exceeded(len(out), info.compress_size):
                        raise FileTooLarge(self._ratio_message(len(out), info.compress_size) + " (while decompressing)")
                    if self._read_total + len(out) > self.limits.max_total_bytes:
                        raise FileTooLarge(
                            f"the zip passes {self.limits.max_total_bytes} bytes in total while "
                            "decompressing (Limits.max_total_bytes)"
                        )
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise OSError(f"corrupt zip entry ({exc})") from exc
        self._read_total += len(out)
        return bytes(out)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> SubmissionFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
