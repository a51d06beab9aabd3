"""Audio scoring speed with the default ASR (pocketsphinx): how much loading/checking adds to raw ASR time.

Builds a throw-away dataset of N interrupt rows (24 kHz) and an audio submission whose output channel talks over
each claim's onset and then answers (espeak speech), loads it with `load_submission`, and compares, in one run:

    total      wall time of load_submission (read, check, resample, VAD, ASR in a process pool, timing)
    asr_pool   wall time of the engine call inside it (the same windows)
    raw_serial decoding the same windows one after another in this process, with a warm Decoder

Prints the ratios total/asr_pool (target <= 1.2) and total/(raw_serial/workers), and real-time factors.
Usage: .venv/bin/python benchmarks/bench_asr.py [--rows 36] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def build(root: Path, rows: int, sr: int = 24_000) -> tuple[Path, Path, float]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.audio import encode, resample, samples_at
    from zbb.dataset import MANIFEST, PARQUET_COLUMNS
    from zbb.records import Clip, WordTiming
    from zbb.tts import TTS_ENGINES

    tts = TTS_ENGINES.get("espeak")()
    talk_syn = tts.synthesize(
        "Well, the story goes on, and then there was more of it, and more again, and so on.", "us-female"
    )
    talk = resample(talk_syn.samples, talk_syn.sample_rate, sr)
    subjects = ["submarine", "giraffe", "piano", "volcano", "penguin", "violin"]
    answers = {
        s: resample(
            *(lambda y: (y.samples, y.sample_rate, sr))(tts.synthesize(f"No, a {s} cannot do that.", "us-female"))
        )
        for s in subjects
    }
    records, sub = [], root / "sub"
    (sub / "audio" / "interrupt").mkdir(parents=True)
    (sub / "meta.json").write_text(json.dumps({"model": "bench"}))
    audio_s = 0.0
    for i in range(rows):
        subject = subjects[i % len(subjects)]
        onset = 2.0 + 0.1 * (i % 5)
        clip = Clip(
            id=f"r{i:03d}",
            condition="interrupt",
            subject=subject,
            description="x",
            label=False,
            category="c",
            text=f"{subject} x, right?",
            onset_s=onset,
            subject_end_s=onset + 0.5,
            end_s=onset + 1.5,
            duration_s=7.0,
            context_text="",
            buffer_text="",
            buffer_onset_s=None,
            voice="us-female",
            tts_engine="espeak",
            claim_words=(WordTiming(subject, onset, onset + 0.5),),
        )
        n = samples_at(clip.duration_s, sr)
        d = clip.to_dict()
        d["claim_words"] = [dict(w) for w in d["claim_words"]]
        records.append(
            {
                **{k: d[k] for k in PARQUET_COLUMNS},
                "audio": {"bytes": encode(np.zeros(n, np.float32) + 1e-3, sr), "path": f"{clip.id}.flac"},
            }
        )
        out = np.zeros(n, np.float32)
        keep = min(samples_at(onset + 0.3, sr), len(talk))
        out[:keep] = talk[:keep]
        ans = answers[subject]
        at = samples_at(clip.end_s + 0.4, sr)
        out[at : at + len(ans)] = ans[: n - at]
        (sub / "audio" / "interrupt" / f"{clip.id}.wav").write_bytes(encode(out, sr, "WAV"))
        audio_s += clip.duration_s
    ds = root / "ds"
    (ds / "interrupt").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(records), ds / "interrupt" / "test-00000-of-00001.parquet")
    (ds / MANIFEST).write_text(json.dumps({"fingerprint": "bench", "sample_rate": sr, "counts": {"interrupt": rows}}))
    return ds, sub, audio_s


class TimedEngine:
    """Wraps pocketsphinx: records the windows the loader hands over and how long the engine call took."""

    def __init__(self):
        from zbb.asr import make_asr

        self.inner = make_asr("pocketsphinx")
        self.name, self.windows, self.seconds = self.inner.name, [], 0.0

    def describe(self):
        return self.inner.describe()

    def transcribe_many(self, windows, **kw):
        self.windows = list(windows)
        t = time.perf_counter()
        out = self.inner.transcribe_many(windows, **kw)
        self.seconds = time.perf_counter() - t
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=36)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from zbb.asr.base import ASR_SAMPLE_RATE, to_int16
    from zbb.asr.sphinx import decode_pcm
    from zbb.dataset import open_dataset
    from zbb.submission import load_submission

    with tempfile.TemporaryDirectory() as tmp:
        ds_path, sub_path, audio_s = build(Path(tmp), args.rows)
        ds = open_dataset(ds_path)
        ds.clips("interrupt")
        engine = TimedEngine()
        t = time.perf_counter()
        sub = load_submission(sub_path, ds, asr=engine, workers=args.workers)
        total = time.perf_counter() - t
        decode_pcm(b"\0\0" * 1600)  # warm the in-process Decoder so its load is not counted as decoding
        t = time.perf_counter()
        for w in engine.windows:
            decode_pcm(to_int16(w).tobytes())
        raw = time.perf_counter() - t
    window_s = sum(len(w) for w in engine.windows) / ASR_SAMPLE_RATE
    heard = sum(1 for r in sub.responses.values() if r.words)
    print(
        f"rows {args.rows}, workers {args.workers}, cpu cores {os.cpu_count()}; output audio {audio_s:.1f} s, "
        f"decoded windows {window_s:.1f} s ({window_s / audio_s:.0%} of the audio); rows with words {heard}"
    )
    print(f"total load_submission     {total:7.2f} s")
    print(f"asr_pool (engine call)    {engine.seconds:7.2f} s")
    print(f"raw_serial (same windows) {raw:7.2f} s  (ideal on {args.workers} workers: {raw / args.workers:.2f} s)")
    print(f"ratio total / asr_pool               {total / engine.seconds:5.2f}  (target <= 1.2)")
    print(f"ratio total / (raw_serial / workers) {total / (raw / args.workers):5.2f}")
    print(
        f"real-time factor: {total / audio_s:.3f} of output audio, raw ASR {raw / window_s:.3f} of decoded audio "
        f"per core"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
