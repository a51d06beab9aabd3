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


def export_fdb(
    dataset: str | Path,
    out: str | Path,
    *,
    sample_rate: int | None = None,
    conditions: list[str] | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Write every row of `dataset` (folder or Hub id) in FDB's layout under `out`; returns rows per condition.

    `sample_rate` resamples (soxr); None keeps the dataset's rate. Timestamps are seconds from the start of
    `input.wav`, unchanged by resampling.
    """
    from tqdm import tqdm

    from zbb.audio import resample, write_audio
    from zbb.dataset import open_dataset
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
            n = 0
            for clip, samples, sr in ds.iter_audio(condition):
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
