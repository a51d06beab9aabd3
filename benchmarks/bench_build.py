"""Full-build speed against the unavoidable work, measured in one run on this machine.

Prints: items/s, audio seconds produced, full build time, the time of the unavoidable work (raw TTS synthesis of
the same distinct (text, voice) pairs + FLAC encoding of the same row audio), their ratio (target <= 1.5), and
dataset size per hour of audio.

    .venv/bin/python benchmarks/bench_build.py [--preset full] [--num-proc 2]
"""
from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="full")
    ap.add_argument("--num-proc", type=int, default=2)
    ap.add_argument("--sample-rate", type=int, default=24000)
    args = ap.parse_args()

    import pyarrow.parquet as pq
    import soundfile as sf

    from zbb.bank import load_bank, load_recipe
    from zbb.build import build_dataset, plan_build
    from zbb.tts.espeak import EspeakEngine

    tmp = Path(tempfile.mkdtemp(prefix="zbb-bench-"))
    try:
        t0 = time.perf_counter()
        report = build_dataset(tmp / "zbb", preset=args.preset, num_proc=args.num_proc,
                               sample_rate=args.sample_rate, progress=False)
        build_s = time.perf_counter() - t0
        n_items = max(report.counts.values())
        size = sum(p.stat().st_size for p in (tmp / "zbb").rglob("*.parquet"))

        # Unavoidable work 1: synthesising every distinct (text, voice) once, nothing else.
        engine = EspeakEngine()
        plan = plan_build(load_bank(), load_recipe(), seed=0, voices=engine.voices(), preset=args.preset,
                          sample_rate=args.sample_rate)
        pairs = plan.units() + [(ip.claim, ip.voice) for ip in plan.items]
        t0 = time.perf_counter()
        for text, voice in pairs:
            engine.synthesize(text, voice)
        tts_s = (time.perf_counter() - t0) / args.num_proc   # the build spreads it over num_proc processes

        # Unavoidable work 2: encoding the same row audio to FLAC (decoded from the build, re-encoded here).
        rows = [r["bytes"] for p in sorted((tmp / "zbb").glob("*/*.parquet"))
                for r in pq.read_table(p, columns=["audio"]).column("audio").to_pylist()]
        decoded = [sf.read(io.BytesIO(b), dtype="float32") for b in rows]
        t0 = time.perf_counter()
        for samples, sr in decoded:
            buf = io.BytesIO()
            sf.write(buf, samples, sr, format="FLAC", subtype="PCM_16")
        flac_s = (time.perf_counter() - t0) / args.num_proc
        floor_s = tts_s + flac_s

        hours = report.audio_seconds / 3600
        print(f"preset {args.preset}: {n_items} items x {len(report.counts)} conditions = "
              f"{sum(report.counts.values())} rows, {len(pairs)} distinct utterances, num_proc {args.num_proc}")
        print(f"full build time          {build_s:8.1f} s   ({n_items / build_s:.1f} items/s, "
              f"{sum(report.counts.values()) / build_s:.1f} rows/s)")
        print(f"audio produced           {report.audio_seconds:8.0f} s   ({hours:.2f} h)")
        print(f"unavoidable work         {floor_s:8.1f} s   (TTS {tts_s:.1f} s + FLAC {flac_s:.1f} s, "
              f"per process over {args.num_proc})")
        print(f"ratio build / unavoidable {build_s / floor_s:7.2f}   (target <= 1.5)")
        print(f"dataset size             {size / 1e6:8.1f} MB  ({size / 1e6 / hours:.1f} MB per hour of audio)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
