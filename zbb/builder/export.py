"""Exporting a built dataset to Full-Duplex-Bench's per-sample folder layout (v1 and v1.5).

Per row, `OUT/<condition>/<id>/`:
- `input.wav`: the user channel;
- `interrupt.json` (v1) = `[{"context": ..., "interrupt": ..., "timestamp": [start_s, end_s]}]`;
- `metadata.json` (v1.5) = `{"context_text": ..., "current_turn_text": ..., "timestamps": [start_s, end_s]}`, the
  same text and times;
- `clean_input.wav` (v1.5): the user channel with the interruption (filler and claim) silenced, time-locked: what
  the model hears when nobody interrupts it.
In the buffered condition the interruption FDB sees starts at the filler (FDB's own interruptions start with
fillers), so it is `filler + claim` and the timestamp starts at `buffer_onset_s`. `OUT/README.md` says how to
run FDB's scripts: once per condition folder (they walk one level of `<id>/` folders).
"""

from __future__ import annotations

import json
from pathlib import Path

from zbb.errors import ZbbError
from zbb.records import Clip

FORMATS = ("fdb",)

README = """# ZBB exported to Full-Duplex-Bench's layout

Written by `zbb export --format fdb` (zbb {version}) from dataset {dataset}. One folder per condition
({conditions}); in each, one folder per row: `input.wav` (user channel), `interrupt.json` (FDB v1),
`metadata.json` and `clean_input.wav` (FDB v1.5: the same user audio with the interruption silenced).
`timestamp` is `[start, end]` of the interruption in seconds from the start of `input.wav`; in
`interrupt_buffered` it starts at the filler.

Run the model so that it writes `output.wav` (mono, time-locked to `input.wav`, same length) into each row
folder. FDB's scripts walk one level of row folders, so run them **once per condition folder**, e.g. from
Full-Duplex-Bench's `v1_v1.5/`:

    for c in {conditions_sh}; do
      python get_transcript/asr.py --root_dir {out}/$c --task user_interruption
      python evaluation/evaluate.py --task user_interruption --root_dir {out}/$c
      python evaluation/get_timing.py --root_dir {out}/$c
    done

With a `meta.json` (`{{"model": "..."}}`) added here, `zbb score {out} --dataset {dataset} --out result.json` reads
the same folders (with or without FDB's `output.json`) and reports FDB's take-over rate, latency and stop latency,
computed as FDB's code does, beside ZBB's own figures (docs/SUBMISSION.md, "Timing").
"""


def fdb_timestamp(clip: Clip) -> tuple[float, float]:
    """FDB's `timestamp` of a row: where the user's interruption speech starts (the filler in a buffered row, else
    the claim's onset) and where the claim ends; seconds from the start of the user audio."""
    start = clip.buffer_onset_s if clip.buffer_onset_s is not None else clip.onset_s
    return start, clip.end_s


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

    from zbb.audio import resample, samples_at, write_audio
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
                start, end = fdb_timestamp(clip)
                spoken = f"{clip.buffer_text} {clip.text}".strip()
                entry = [{"context": clip.context_text, "interrupt": spoken, "timestamp": [start, end]}]
                atomic_write_text(folder / "interrupt.json", json.dumps(entry, ensure_ascii=False, indent=2) + "\n")
                meta = {"context_text": clip.context_text, "current_turn_text": spoken, "timestamps": [start, end]}
                atomic_write_text(folder / "metadata.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
                clean = samples.copy()
                clean[samples_at(start, sr) : samples_at(end, sr) + 1] = 0.0  # end_s is the claim's last sample
                write_audio(folder / "clean_input.wav", resample(clean, sr, rate), rate)
                n += 1
                bar.update()
            counts[condition] = n
    from zbb import __version__

    readme = README.format(
        version=__version__,
        dataset=getattr(ds, "source", dataset),
        conditions=", ".join(wanted),
        conditions_sh=" ".join(wanted),
        out=out.resolve(),
    )
    atomic_write_text(out / "README.md", readme)
    return counts
