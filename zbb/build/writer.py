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
from typing import Any

from zbb.dataset import MANIFEST, PARQUET_COLUMNS, SPLIT
from zbb.errors import DatasetError

ROWS_PER_SHARD = 1000
ROWS_PER_GROUP = 64
#: column order in the shards: the audio sits right after the row key and the claim
COLUMN_ORDER = (*PARQUET_COLUMNS[:7], "audio", *PARQUET_COLUMNS[7:])


@functools.lru_cache(maxsize=8)
def dataset_features(sample_rate: int):
    """The `datasets.Features` of a ZBB shard (audio as an Audio feature at `sample_rate`)."""
    from datasets import Audio, Features, List, Value

    string, f64 = Value("string"), Value("float64")
    types = {"id": string, "subject": string, "description": string, "label": Value("bool"), "category": string,
             "text": string, "condition": string, "audio": Audio(sampling_rate=sample_rate), "onset_s": f64,
             "subject_end_s": f64, "end_s": f64, "duration_s": f64, "context_text": string, "buffer_text": string,
             "buffer_onset_s": f64, "voice": string, "tts_engine": string,
             "claim_words": List({"word": string, "start": f64, "end": f64})}
    return Features({name: types[name] for name in COLUMN_ORDER})


@functools.lru_cache(maxsize=8)
def arrow_schema(sample_rate: int):
    """The arrow schema, carrying the `huggingface` features metadata that `datasets` reads back."""
    return dataset_features(sample_rate).arrow_schema


@functools.lru_cache(maxsize=8)
def chunk_schema(sample_rate: int):
    """`arrow_schema` without the features metadata, built without importing `datasets` (slow to import in every
    worker process): the type of a work chunk. `write_shards` casts chunks to `arrow_schema` (tested equal)."""
    import pyarrow as pa

    string, f64 = pa.string(), pa.float64()
    types = {"id": string, "subject": string, "description": string, "label": pa.bool_(), "category": string,
             "text": string, "condition": string,
             "audio": pa.struct([("bytes", pa.binary()), ("path", string)]), "onset_s": f64, "subject_end_s": f64,
             "end_s": f64, "duration_s": f64, "context_text": string, "buffer_text": string, "buffer_onset_s": f64,
             "voice": string, "tts_engine": string,
             "claim_words": pa.list_(pa.struct([("word", string), ("start", f64), ("end", f64)]))}
    return pa.schema([(name, types[name]) for name in COLUMN_ORDER])


def _shard_names(n_rows: int) -> list[str]:
    n = max(1, -(-n_rows // ROWS_PER_SHARD))
    return [f"{SPLIT}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]


def _compression() -> dict[str, str]:
    """zstd for every column but the audio bytes: FLAC is already compressed, zstd only spends time on it."""
    paths = [c for c in COLUMN_ORDER if c not in ("audio", "claim_words")]
    paths += ["audio.bytes", "audio.path", "claim_words.list.element.word", "claim_words.list.element.start",
              "claim_words.list.element.end"]
    return {path: "none" if path == "audio.bytes" else "zstd" for path in paths}


def write_shards(staging: Path, chunk_paths: list[Path], conditions: tuple[str, ...], sample_rate: int) -> dict:
    """Gather item chunks (in plan order) into `<condition>/test-*.parquet`; returns per-condition stats.

    A chunk holds one row per condition, in `conditions` order, so each chunk is read once and sliced.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(sample_rate)
    n_items = len(chunk_paths)
    names = _shard_names(n_items)
    stats = {c: {"rows": n_items, "shards": len(names), "audio_seconds": 0.0, "num_bytes": 0} for c in conditions}
    for condition in conditions:
        (staging / condition).mkdir(parents=True)
    compression = _compression()
    for shard_index, name in enumerate(names):
        part = chunk_paths[shard_index * ROWS_PER_SHARD:(shard_index + 1) * ROWS_PER_SHARD]
        tables = []
        for path in part:
            with pa.memory_map(str(path)) as source:
                table = pa.ipc.open_file(source).read_all()
            if table.column("condition").to_pylist() != list(conditions):
                raise DatasetError(f"{path}: work chunk holds conditions {table.column('condition').to_pylist()}, "
                                   f"expected {list(conditions)}; delete the work folder and rebuild")
            tables.append(table)
        for index, condition in enumerate(conditions):
            table = pa.concat_tables([t.slice(index, 1) for t in tables]).select(list(COLUMN_ORDER)).cast(schema)
            stats[condition]["num_bytes"] += table.nbytes
            stats[condition]["audio_seconds"] += float(pa.compute.sum(table.column("duration_s")).as_py() or 0.0)
            pq.write_table(table, staging / condition / name, row_group_size=ROWS_PER_GROUP, compression=compression,
                           use_dictionary=[c for c in COLUMN_ORDER if c not in ("audio", "claim_words")],
                           write_statistics=["id", "condition"])
    for s in stats.values():
        s["audio_seconds"] = round(s["audio_seconds"], 3)
        s["num_bytes"] = int(s["num_bytes"])
    return stats


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
        raise DatasetError(f"{out}: exists and is not a ZBB dataset folder (no {MANIFEST}); refusing to replace it. "
                           "Choose another --out or remove it.")


def write_manifest(folder: Path, manifest: dict) -> None:
    from zbb.io import atomic_write_text

    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
