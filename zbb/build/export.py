"""Exporting a built dataset to Full-Duplex-Bench's per-sample folder layout.

`OUT/<condition>/<id>/input.wav` (the user channel) and `interrupt.json` =
`[{"context": ..., "interrupt": ..., "timestamp": [start_s, end_s]}]`. In the buffered condition the
interruption FDB sees starts at the filler (FDB's own interruptions start with fillers), so `interrupt` is
`filler + claim` and the timestamp starts at `buffer_onset_s`.
"""
from __future__ import annotations

import json
from pathlib import Path

from zbb.errors import ZbbError

FORMATS = ("fdb",)


def export_fdb(dataset: str | Path, out: str | Path, *, sample_rate: int | None = None,
               conditions: list[str] | None = None, progress: bool = True) -> dict[str, int]:
    """Write every row of `dataset` (folder or Hub id) in FDB's layout under `out`; returns rows per condition.

    `sample_rate` resamples (soxr); None keeps the dataset's rate. Timestamps are seconds from the start of
    `input.wav`, unchanged by resampling.
    """
    import pyarrow.parquet as pq
    from tqdm import tqdm

    from zbb.audio import read_audio, resample, write_audio
    from zbb.dataset import SPLIT, open_dataset
    from zbb.io import atomic_write_text

    ds = open_dataset(dataset)
    out = Path(out)
    wanted = conditions or ds.conditions()
    unknown = [c for c in wanted if c not in ds.conditions()]
    if unknown:
        raise ZbbError(f"{dataset}: no condition(s) {unknown}; conditions here: {', '.join(ds.conditions())}")
    counts: dict[str, int] = {}
    total = sum(len(ds.clips(c)) for c in wanted)
    with tqdm(total=total, desc="zbb export", unit="row", disable=not progress, leave=False) as bar:
        for condition in wanted:
            clips = {c.id: c for c in ds.clips(condition)}
            n = 0
            for shard in sorted((ds.root / condition).glob(f"{SPLIT}-*.parquet")):
                for batch in pq.ParquetFile(shard).iter_batches(batch_size=32, columns=["id", "audio"]):
                    for row in batch.to_pylist():
                        clip = clips[row["id"]]
                        where = f"{dataset} [{condition}/{clip.id}]"
                        samples, sr = read_audio(row["audio"]["bytes"], where=where)
                        rate = sample_rate or sr
                        folder = out / condition / clip.id
                        write_audio(folder / "input.wav", resample(samples, sr, rate), rate)
                        start = clip.buffer_onset_s if clip.buffer_onset_s is not None else clip.onset_s
                        spoken = f"{clip.buffer_text} {clip.text}".strip()
                        entry = [{"context": clip.context_text, "interrupt": spoken, "timestamp": [start, clip.end_s]}]
                        atomic_write_text(folder / "interrupt.json", json.dumps(entry, ensure_ascii=False, indent=2) + "\n")
                        n += 1
                        bar.update()
            counts[condition] = n
    return counts
