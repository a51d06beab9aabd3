"""Reading a built ZBB dataset (a local folder or a Hub dataset id) without decoding audio.

Layout written by `zbb build` (a Hugging Face dataset folder):

    OUT/README.md                       dataset card with the Hub YAML header (configs -> data_files)
    OUT/zbb_build.json                  build manifest: fingerprint, zbb version, seed, engine, sample rate, counts
    OUT/<condition>/test-*.parquet      one config per condition, split "test"

Parquet columns are `PARQUET_COLUMNS`; `audio` is a struct {bytes, path} that `datasets` casts to Audio.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from zbb.conditions import CONDITIONS
from zbb.errors import DatasetError
from zbb.gcpause import gc_paused
from zbb.records import Clip, WordTiming

if TYPE_CHECKING:
    import pyarrow as pa

MANIFEST = "zbb_build.json"
SPLIT = "test"

#: Every column of a ZBB parquet shard except `audio`, in order (the fields of `Clip`).
PARQUET_COLUMNS = (
    "id",
    "subject",
    "description",
    "label",
    "category",
    "text",
    "condition",
    "onset_s",
    "subject_end_s",
    "end_s",
    "duration_s",
    "context_text",
    "buffer_text",
    "buffer_onset_s",
    "voice",
    "tts_engine",
    "claim_words",
    "aliases",
)
#: Columns a dataset built by an older zbb may lack, with the value its rows read as.
OPTIONAL_COLUMNS = {"aliases": ()}


_SCALAR_COLUMNS = tuple(k for k in PARQUET_COLUMNS if k not in ("claim_words", "aliases"))


def _clips_of(table: pa.Table) -> list[Clip]:
    """The rows of a shard table as Clips, converted column by column (about twice as fast as row dicts)."""
    words_column = table.column("claim_words").combine_chunks()
    offsets = words_column.offsets.to_pylist()
    base = offsets[0]  # the array's words start here in its values (a slice of a larger array may start later)
    # every row's words, one after another; offsets say whose (`.values`, not `flatten()`, which imports
    # pyarrow.compute: 0.03 s of `zbb score`'s start-up)
    flat = words_column.values.slice(base, offsets[-1] - base)
    words = [
        WordTiming(word=w, start=s, end=e)
        for w, s, e in zip(
            flat.field("word").to_pylist(), flat.field("start").to_pylist(), flat.field("end").to_pylist(), strict=True
        )
    ]
    values = zip(*(table.column(k).to_pylist() for k in _SCALAR_COLUMNS), strict=True)
    if "aliases" in table.column_names:
        aliases = [tuple(a or ()) for a in table.column("aliases").to_pylist()]
    else:  # a dataset built before the column existed
        aliases = [tuple(OPTIONAL_COLUMNS["aliases"])] * table.num_rows
    return [
        Clip(
            **dict(zip(_SCALAR_COLUMNS, row, strict=True)),
            claim_words=tuple(words[offsets[i] - base : offsets[i + 1] - base]),
            aliases=aliases[i],
        )
        for i, row in enumerate(values)
    ]


@dataclass
class ZbbDataset:
    """A built ZBB dataset on disk. `clips()` reads only metadata columns; `audio()` reads one row's audio."""

    root: Path
    source: str  # what the user named: a folder or a Hub id
    manifest: dict
    revision: str | None = None  # Hub revision (commit) when downloaded from the Hub
    _clips: dict[str, list[Clip]] = field(default_factory=dict, repr=False)
    _index: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    _ids: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @property
    def fingerprint(self) -> str:
        return str(self.manifest.get("fingerprint", ""))

    @property
    def sample_rate(self) -> int:
        return int(self.manifest["sample_rate"])

    def conditions(self) -> list[str]:
        return [c for c in CONDITIONS if self._shards(c)]

    def _shards(self, condition: str) -> list[Path]:
        return sorted((self.root / condition).glob(f"{SPLIT}-*.parquet"))

    def _read(self, condition: str, columns: list[str] | None, batch_rows: int | None = None) -> Iterator[pa.Table]:
        """The metadata columns (`columns`, or every one the shards have) of one condition, shard by shard; in
        batches of at most `batch_rows` rows when given, so only a batch of a large shard is in memory."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        shards = self._shards(condition)
        if not shards:
            known = ", ".join(self.conditions()) or "none"
            raise DatasetError(f"{self.source}: no rows for condition {condition!r} (conditions here: {known})")
        for shard in shards:
            try:
                # ParquetFile, not pq.read_table: the latter imports pyarrow.dataset and with it pandas
                # (~0.6 s of CPU, most of a small `zbb score`).
                parquet = pq.ParquetFile(shard)
                present = set(parquet.schema_arrow.names)
                wanted = [c for c in columns or PARQUET_COLUMNS if c in present or c not in OPTIONAL_COLUMNS]
                if batch_rows is None:
                    yield parquet.read(columns=wanted)
                    continue
                for batch in parquet.iter_batches(batch_size=batch_rows, columns=wanted):
                    yield pa.Table.from_batches([batch])
            except DatasetError:
                raise
            except Exception as exc:  # pyarrow raises several types for corrupt or foreign files
                raise DatasetError(f"{shard}: not a readable ZBB parquet shard ({exc})") from exc

    @gc_paused()  # tens of thousands of records, no cycles: see zbb/gcpause.py
    def clips(self, condition: str) -> list[Clip]:
        """All rows of one condition, in dataset order, without audio."""
        if condition not in self._clips:
            rows = [clip for table in self._read(condition, None) for clip in _clips_of(table)]
            index = {c.id: i for i, c in enumerate(rows)}
            if len(index) != len(rows):
                self._repeated([c.id for c in rows], condition)
            self._clips[condition] = rows
            self._index[condition] = index
        return self._clips[condition]

    def iter_clips(self, condition: str, batch_rows: int) -> Iterator[list[Clip]]:
        """The rows of one condition in dataset order, in lists of at most `batch_rows`, read a batch at a time:
        for a pass over a dataset too large to hold as Clips (`clips()` keeps them all)."""
        if condition in self._clips:
            rows = self._clips[condition]
            for start in range(0, len(rows), batch_rows):
                yield rows[start : start + batch_rows]
            return
        for table in self._read(condition, None, batch_rows):
            with gc_paused():
                batch = _clips_of(table)
            del table
            yield batch
            del batch  # before the next batch is read (a caller that lets go of it holds one batch at a time)

    def row_ids(self, condition: str) -> list[str]:
        """The row ids of one condition, in dataset order (only the id column is read)."""
        if condition in self._clips:
            return [c.id for c in self._clips[condition]]
        if condition not in self._ids:
            ids = [i for table in self._read(condition, ["id"]) for i in table.column("id").to_pylist()]
            if len(set(ids)) != len(ids):
                self._repeated(ids, condition)
            self._ids[condition] = ids
        return self._ids[condition]

    def _repeated(self, ids: list[str], condition: str) -> None:
        """Raise DatasetError naming the first row id given twice in `condition` (a row is its (id, condition): a
        repeated one would be scored once from a list of rows and twice from the shards read in batches)."""
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise DatasetError(f"{self.source}: row id {i!r} appears more than once in condition {condition!r}")
            seen.add(i)

    def rows_by_id(self, condition: str, ids: Collection[str], batch_rows: int = 50_000) -> dict[str, Clip]:
        """The rows of `condition` whose id is in `ids`, by id, read a batch at a time and kept only if wanted (a few
        rows of a large dataset: `clip()` keeps every row of the condition). Ids the condition lacks are absent."""
        wanted = set(ids)
        if not wanted:
            return {}
        if condition in self._clips:
            return {i: self.clip(condition, i) for i in wanted if i in self._index[condition]}
        return {c.id: c for batch in self.iter_clips(condition, batch_rows) for c in batch if c.id in wanted}

    def clip(self, condition: str, id: str) -> Clip:
        clips = self.clips(condition)
        try:
            return clips[self._index[condition][id]]
        except KeyError:
            raise DatasetError(f"{self.source}: no row {id!r} in condition {condition!r}") from None

    def iter_audio(self, condition: str, batch_size: int = 32) -> Iterator[tuple[Clip, np.ndarray, int]]:
        """Every row of one condition with its user audio (samples, rate), in dataset order, read in batches."""
        import pyarrow.parquet as pq

        from zbb.audio import read_audio

        for shard in self._shards(condition):
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=batch_size, columns=["id", "audio"]):
                for row in batch.to_pylist():
                    clip = self.clip(condition, row["id"])
                    samples, rate = read_audio(
                        row["audio"]["bytes"], where=f"{self.source} [{condition}/{clip.id}] audio"
                    )
                    yield clip, samples, rate

    def audio(self, condition: str, id: str) -> tuple[np.ndarray, int]:
        """The user-channel audio of one row as float32 mono samples and its sample rate."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from zbb.audio import read_audio

        for shard in self._shards(condition):
            table = pq.read_table(shard, columns=["id", "audio"], filters=pc.field("id") == id)
            if table.num_rows:
                cell = table.column("audio")[0].as_py()
                return read_audio(cell["bytes"], where=f"{self.source} [{condition}/{id}] audio")
        raise DatasetError(f"{self.source}: no row {id!r} in condition {condition!r}")


def _near(path: Path, most: int = 1000) -> str:
    """A did-you-mean for a missing dataset folder: the ZBB datasets beside it (among the first `most` entries of
    its parent folder), closest name first; "" when its parent is no folder or holds none."""
    import difflib
    import itertools

    try:
        entries = list(itertools.islice(path.parent.iterdir(), most)) if path.parent.is_dir() else []
        names = sorted(p.name for p in entries if (p / MANIFEST).is_file())
    except OSError:
        return ""
    if not names:
        return ""
    close = difflib.get_close_matches(path.name, names, n=1)
    if close:
        return f"; did you mean {path.parent / close[0]}?"
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return f"; the ZBB datasets in {path.parent} are: {shown}"


def open_dataset(source: str | os.PathLike, *, revision: str | None = None) -> ZbbDataset:
    """Open a ZBB dataset from a local folder written by `zbb build`, or a Hub dataset id (downloaded once)."""
    path = Path(source)
    resolved_revision = None
    if not path.exists():
        text = str(source)
        if text.count("/") != 1 or text.startswith((".", "/", "~")):  # Hub ids look like "org/name"
            raise DatasetError(f"{source}: no such dataset folder (and not a Hub id of the form org/name){_near(path)}")
        if Path(text.split("/")[0]).is_dir():  # "out/zbbb": a typo in a local path, not a Hub id
            raise DatasetError(f"no dataset folder {source}{_near(path)}")
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError

        try:
            path = Path(snapshot_download(repo_id=str(source), repo_type="dataset", revision=revision))
        except (HfHubHTTPError, OSError, ValueError) as exc:
            raise DatasetError(
                f"{source}: not a local folder, and the Hub dataset could not be fetched ({exc})"
            ) from exc
        resolved_revision = path.name  # snapshot folders are named by commit
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise DatasetError(f"{source}: not a ZBB dataset folder (no {MANIFEST}; build one with `zbb build`)")
    from zbb.io import JsonInputError, read_json

    try:
        manifest = read_json(manifest_path.read_bytes(), str(manifest_path))
    except OSError as exc:
        raise DatasetError(f"{manifest_path}: unreadable build manifest ({exc})") from exc
    except JsonInputError as exc:
        raise DatasetError(f"{exc.where}: unreadable build manifest ({exc.message})") from exc
    if not isinstance(manifest, dict):
        raise DatasetError(f"{manifest_path}: build manifest is not a JSON object")
    return ZbbDataset(root=path, source=str(source), manifest=manifest, revision=resolved_revision)
