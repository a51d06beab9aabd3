"""Builders of small, exact test data for the submission tests: a ZBB dataset folder written from `Clip` records
(through the real parquet layout, so `zbb.dataset.open_dataset` reads it) and submission folders/zips.

The shared `tiny_dataset` fixture (espeak-built) is used where a real build matters; these rows have onsets and
lengths chosen by the test, so timing expectations follow from the construction.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from zbb.audio import encode
from zbb.dataset import MANIFEST, PARQUET_COLUMNS, open_dataset
from zbb.records import Clip, WordTiming

SR = 24_000


def make_clip(
    id: str,
    condition: str,
    *,
    onset_s: float = 2.0,
    end_s: float = 3.5,
    duration_s: float = 6.0,
    subject: str = "Submarine",
) -> Clip:
    return Clip(
        id=id,
        condition=condition,
        subject=subject,
        description="flies in the clouds",
        label=False,
        category="vehicles",
        text=f"{subject} flies in the clouds, right?",
        onset_s=onset_s,
        subject_end_s=onset_s + 0.5,
        end_s=end_s,
        duration_s=duration_s,
        context_text="Tell me a story.",
        buffer_text="",
        buffer_onset_s=None,
        voice="us-male",
        tts_engine="test",
        claim_words=(WordTiming(subject.lower(), onset_s, onset_s + 0.5),),
    )


def quiet_tone(clip: Clip, sample_rate: int) -> np.ndarray:
    """A quiet 220 Hz tone as long as the clip (user audio that is neither empty nor silent)."""
    n = int(round(clip.duration_s * sample_rate))
    return (0.1 * np.sin(2 * np.pi * 220 * np.arange(n) / sample_rate)).astype(np.float32)


def write_dataset(
    root: Path,
    clips: list[Clip],
    sample_rate: int = SR,
    fingerprint: str = "f" * 16,
    audio: Callable[[Clip, int], np.ndarray] = quiet_tone,
) -> Path:
    """A ZBB dataset folder holding `clips`, through the real parquet layout; `audio(clip, rate)` gives each row's
    user audio (default: a quiet tone of the clip's duration)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    by_condition: dict[str, list[dict]] = {}
    for clip in clips:
        d = clip.to_dict()
        rec = {k: d[k] for k in PARQUET_COLUMNS}
        rec["audio"] = {"bytes": encode(audio(clip, sample_rate), sample_rate), "path": f"{clip.id}.flac"}
        by_condition.setdefault(clip.condition, []).append(rec)
    for condition, records in by_condition.items():
        (root / condition).mkdir(exist_ok=True)
        pq.write_table(pa.Table.from_pylist(records), root / condition / "test-00000-of-00001.parquet")
    manifest = {
        "fingerprint": fingerprint,
        "zbb_version": "test",
        "seed": 0,
        "tts_engine": "test",
        "sample_rate": sample_rate,
        "bank_sha256": "0" * 64,
        "counts": {c: len(r) for c, r in by_condition.items()},
    }
    (root / MANIFEST).write_text(json.dumps(manifest))
    return root


def small_dataset(root: Path, ids=("a1", "a2", "a3"), conditions=("no_interrupt", "interrupt")):
    return open_dataset(write_dataset(root, [make_clip(i, c) for c in conditions for i in ids]))


def write_submission(root: Path, files: dict[str, bytes | str | dict | list], *, as_zip: bool = False) -> Path:
    """A submission folder (or zip) from {relative path: content}; dicts become JSON, lists of dicts JSONL."""
    blobs = {}
    for rel, content in files.items():
        if isinstance(content, dict):
            content = json.dumps(content)
        elif isinstance(content, list):
            content = "".join(json.dumps(x) + "\n" for x in content)
        blobs[rel] = content.encode("utf-8") if isinstance(content, str) else content
    if as_zip:
        path = root.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, data in blobs.items():
                zf.writestr(rel, data)
        return path
    for rel, data in blobs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_written_dataset_opens_with_the_shared_reader(tmp_path):
    ds = small_dataset(tmp_path / "ds")
    assert ds.conditions() == ["no_interrupt", "interrupt"]
    clip = ds.clip("interrupt", "a2")
    assert (clip.onset_s, clip.end_s, clip.claim_words[0].word) == (2.0, 3.5, "submarine")
    samples, sr = ds.audio("interrupt", "a2")
    assert sr == SR and len(samples) == 6 * SR
