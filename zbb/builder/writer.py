"""Writing the dataset folder: parquet shards per condition with Hugging Face features, card, manifest, swap.

The folder is assembled in a staging directory and moved into place only when complete, so `out` holds either
the previous dataset or the new one, never a half-written mix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from zbb.dataset import MANIFEST, PARQUET_COLUMNS, SPLIT
from zbb.errors import DatasetError

if TYPE_CHECKING:
    import pyarrow as pa

ROWS_PER_SHARD = 1000
ROWS_PER_GROUP = 64
#: column order in the shards: the audio sits right after the row key and the claim
COLUMN_ORDER = (*PARQUET_COLUMNS[:7], "audio", *PARQUET_COLUMNS[7:])


#: the type of every column: a scalar dtype (as `datasets.Value` names it), "audio" or "words"
_COLUMN_TYPES = {
    "id": "string",
    "subject": "string",
    "description": "string",
    "label": "bool",
    "category": "string",
    "text": "string",
    "condition": "string",
    "audio": "audio",
    "onset_s": "float64",
    "subject_end_s": "float64",
    "end_s": "float64",
    "duration_s": "float64",
    "context_text": "string",
    "buffer_text": "string",
    "buffer_onset_s": "float64",
    "voice": "string",
    "tts_engine": "string",
    "claim_words": "words",
    "aliases": "strings",
}
_WORD_FIELDS = (("word", "string"), ("start", "float64"), ("end", "float64"))

# The Hugging Face features are written out here rather than built with `datasets.Features`: importing `datasets`
# (it pulls in pandas) costs the build about a second of CPU that the renderers need. Tests check that both give
# the same schema metadata and card YAML.


def _feature(kind: str, sample_rate: int) -> dict:
    if kind == "audio":
        return {"sampling_rate": sample_rate, "_type": "Audio"}
    if kind == "words":
        return {"feature": {name: _feature(k, sample_rate) for name, k in _WORD_FIELDS}, "_type": "List"}
    if kind == "strings":
        return {"feature": _feature("string", sample_rate), "_type": "List"}
    return {"dtype": kind, "_type": "Value"}


def features_yaml(sample_rate: int) -> list[dict]:
    """The features as the dataset card's YAML `dataset_info.features` lists them (`Features._to_yaml_list`)."""

    def entry(name: str, kind: str) -> dict:
        if kind == "audio":
            return {"name": name, "dtype": {"audio": {"sampling_rate": sample_rate}}}
        if kind == "words":
            return {"name": name, "list": [entry(n, k) for n, k in _WORD_FIELDS]}
        if kind == "strings":
            return {"name": name, "list": "string"}
        return {"name": name, "dtype": kind}

    return [entry(name, _COLUMN_TYPES[name]) for name in COLUMN_ORDER]


@functools.lru_cache(maxsize=8)
def arrow_schema(sample_rate: int) -> pa.Schema:
    """The shard schema, carrying the `huggingface` features metadata that `datasets` reads back (audio as an
    Audio feature at `sample_rate`)."""
    features = {name: _feature(_COLUMN_TYPES[name], sample_rate) for name in COLUMN_ORDER}
    return chunk_schema(sample_rate).with_metadata({"huggingface": json.dumps({"info": {"features": features}})})


@functools.lru_cache(maxsize=8)
def chunk_schema(sample_rate: int) -> pa.Schema:
    """`arrow_schema` without the features metadata: the type of a work chunk."""
    import pyarrow as pa

    scalars = {"string": pa.string(), "float64": pa.float64(), "bool": pa.bool_()}
    types = {
        "audio": pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
        "words": pa.list_(pa.struct([(name, scalars[kind]) for name, kind in _WORD_FIELDS])),
        "strings": pa.list_(pa.string()),
        **scalars,
    }
    return pa.schema([(name, types[_COLUMN_TYPES[name]]) for name in COLUMN_ORDER])


def _shard_names(n_rows: int) -> list[str]:
    n = max(1, -(-n_rows // ROWS_PER_SHARD))
    return [f"{SPLIT}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]


def _compression() -> dict[str, str]:
    """zstd for every column but the audio bytes: FLAC is already compressed, zstd only spends time on it."""
    paths = [c for c in COLUMN_ORDER if c not in ("audio", "claim_words", "aliases")]
    paths += [
        "audio.bytes",
        "audio.path",
        "claim_words.list.element.word",
        "claim_words.list.element.start",
        "claim_words.list.element.end",
        "aliases.list.element",
    ]
    return {path: "none" if path == "audio.bytes" else "zstd" for path in paths}


class ShardWriter:
    """Appends items to `<condition>/test-*.parquet` in plan order, one row group at a time, as they are rendered.

    Each item is a work chunk holding one row per condition, in `conditions` order; `add` takes the next one in
    plan order. Rows are written in groups of `ROWS_PER_GROUP`, each shard holds `ROWS_PER_SHARD` rows, so the
    files are byte for byte those of writing each shard in one `write_table` call (tested), whatever the order in
    which the items were rendered. Used from the main process while the workers render, so that writing overlaps
    rendering instead of following it.
    """

    def __init__(self, staging: Path, conditions: tuple[str, ...], n_items: int, sample_rate: int):
        self.staging, self.conditions, self.n_items, self.sample_rate = staging, conditions, n_items, sample_rate
        self.names = _shard_names(n_items)
        self.stats = {
            c: {"rows": n_items, "shards": len(self.names), "audio_seconds": 0.0, "num_bytes": 0} for c in conditions
        }
        self._added = 0
        self._group: list = []  # chunk tables waiting for a full row group
        self._writers: dict = {}  # condition -> open pq.ParquetWriter of the current shard
        self._durations: dict = {}  # condition -> duration_s columns of the current shard
        for condition in conditions:
            (staging / condition).mkdir(parents=True)

    def add(self, chunk_path: Path) -> None:
        """Append the next item (in plan order) from its work chunk."""
        import pyarrow as pa

        if self._added >= self.n_items:
            raise DatasetError(f"{chunk_path}: one item more than the {self.n_items} planned")
        with pa.memory_map(str(chunk_path)) as source:
            table = pa.ipc.open_file(source).read_all()
        if table.column("condition").to_pylist() != list(self.conditions):
            raise DatasetError(
                f"{chunk_path}: work chunk holds conditions {table.column('condition').to_pylist()}, "
                f"expected {list(self.conditions)}; delete the work folder and rebuild"
            )
        self._group.append(table)
        self._added += 1
        shard_end = self._added % ROWS_PER_SHARD == 0 or self._added == self.n_items
        if len(self._group) == ROWS_PER_GROUP or shard_end:
            self._write_group()
        if shard_end:
            self._close_shard()

    def _write_group(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = arrow_schema(self.sample_rate)
        shard = self.names[(self._added - 1) // ROWS_PER_SHARD]
        for index, condition in enumerate(self.conditions):
            table = pa.concat_tables([t.slice(index, 1) for t in self._group]).select(list(COLUMN_ORDER)).cast(schema)
            if condition not in self._writers:
                self._writers[condition] = pq.ParquetWriter(
                    self.staging / condition / shard,
                    schema,
                    compression=_compression(),
                    use_dictionary=[c for c in COLUMN_ORDER if c not in ("audio", "claim_words")],
                    write_statistics=["id", "condition"],
                )
                self._durations[condition] = []
            self._writers[condition].write_table(table, row_group_size=ROWS_PER_GROUP)
            self.stats[condition]["num_bytes"] += table.nbytes
            self._durations[condition] += table.column("duration_s").chunks
        self._group = []

    def _close_shard(self) -> None:
        import pyarrow as pa

        for condition in self.conditions:
            self._writers.pop(condition).close()
            # summed per shard over the same one-row pieces as a whole-shard table: the same float result
            total = pa.compute.sum(pa.chunked_array(self._durations.pop(condition), pa.float64())).as_py()
            self.stats[condition]["audio_seconds"] += float(total or 0.0)

    def close(self) -> dict:
        """Finish (every planned item must have been added); returns per-condition stats."""
        if self._added != self.n_items:
            raise DatasetError(f"{self.staging}: {self._added} of {self.n_items} planned items written")
        for s in self.stats.values():
            s["audio_seconds"] = round(s["audio_seconds"], 3)
            s["num_bytes"] = int(s["num_bytes"])
        return self.stats

    def abort(self) -> None:
        """Close any open file (after a failure); the staging folder is left to be rebuilt."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def write_shards(staging: Path, chunk_paths: list[Path], conditions: tuple[str, ...], sample_rate: int) -> dict:
    """Gather item chunks (in plan order) into `<condition>/test-*.parquet`; returns per-condition stats."""
    writer = ShardWriter(staging, conditions, len(chunk_paths), sample_rate)
    try:
        for path in chunk_paths:
            writer.add(path)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def fingerprint(folder: Path) -> str:
    """sha256 over every parquet shard (relative path and bytes), in sorted order: identifies the rows and audio."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob(f"*/{SPLIT}-*.parquet")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def publish(staging: Path, out: Path) -> None:
    """Move a complete staging folder to `out`, replacing a previous ZBB dataset there (never anything else)."""
    check_replaceable(out)
    if out.exists():
        old = staging.with_name(staging.name + ".old")
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, out)


def check_replaceable(out: Path) -> None:
    """`out` must be absent, empty, or a previous ZBB dataset: a build never replaces unrelated files."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise DatasetError(
            f"{out}: exists and is not a ZBB dataset folder (no {MANIFEST}); refusing to replace it. "
            "Choose another --out or remove it."
        )


def write_manifest(folder: Path, manifest: dict) -> None:
    from zbb.io import atomic_write_text

    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
