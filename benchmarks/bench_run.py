"""The streaming runner's cost per frame against the bare model loop, and batch 1 vs batch N throughput.

On the same rows of synthetic user audio (an earlier turn, a pause, an interruption), in one run:
  1. the bare model step loop: per frame mimi.encode, LMGen.step, mimi.decode and nothing else (the floor),
  2. `zbb.runner.stream.stream_batch` unsteered, and steered (energy onset detector + hook + fade),
each at batch size 1, interleaved and repeated (the minimum of the repeats is kept, as the machine is shared);
then the same rows streamed one per batch against all in one batch (LMGen's batch dimension).
Prints ms per frame and the ratios. Target: runner <= 1.10x the bare loop.

    .venv/bin/python benchmarks/bench_run.py                       # tiny random Moshi on CPU, 1 thread
    .venv/bin/python benchmarks/bench_run.py --backend moshi --device cuda --seconds 10
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def user_rows(n: int, seconds: float, sample_rate: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        t = np.arange(int(seconds * sample_rate)) / sample_rate
        x = (0.3 * np.sin(2 * np.pi * rng.uniform(150, 300) * t)).astype(np.float32)
        pause_start = int(0.2 * x.size)
        pause_end = int(rng.uniform(0.5, 0.7) * x.size)
        x[pause_start:pause_end] = 0
        rows.append(x)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="tiny")
    parser.add_argument("--model-id")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--rows", type=int, default=8, help="rows; also the large batch size (default 8)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each row (default 4 s)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    os.environ.setdefault("NO_TORCH_COMPILE", "1")
    import torch

    from zbb.runner.backends import load_backend
    from zbb.runner.stream import Steering, bare_step_loop, pad_batch, stream_batch
    from zbb.steering import PerceptionVector
    from zbb.steering.onset import EnergyOnsetConfig
    from zbb.steering.schedule import FadeSchedule

    torch.set_num_threads(args.threads)
    backend = load_backend(args.backend, args.model_id, args.device)
    lm_gen = backend.make_lm_gen(temp=0.8, temp_text=0.7, top_k=250, top_k_text=25)
    rows = user_rows(args.rows, args.seconds, backend.sample_rate)
    frames_per_row = -(-rows[0].size // backend.frame_size)
    vector = PerceptionVector(np.random.default_rng(1).normal(size=backend.dim), layer=backend.num_layers // 2)
    steering = Steering(vector, FadeSchedule(5.5, 3), "energy", EnergyOnsetConfig(min_gap_s=0.5))

    def sync() -> None:
        if backend.device.startswith("cuda"):
            torch.cuda.synchronize()

    # On CPU (one thread) the process's CPU time: on a shared machine wall time mostly measures the neighbours.
    clock = time.perf_counter if backend.device.startswith("cuda") else time.process_time

    def timed(fn) -> float:
        sync()
        start = clock()
        fn()
        sync()
        return clock() - start

    def one_by_one(kind: str) -> None:
        for row in rows:
            padded = pad_batch([row], backend.frame_size)
            if kind == "bare":
                bare_step_loop(backend, lm_gen, padded, seed=0)
            else:
                stream_batch(
                    backend, lm_gen, padded, [row.size], seed=0, steering=steering if kind == "steered" else None
                )

    def batched() -> None:
        stream_batch(backend, lm_gen, pad_batch(rows, backend.frame_size), [r.size for r in rows], seed=0)

    print(
        f"{backend.name} ({backend.model_id}) on {backend.device}, {args.threads} thread(s): {args.rows} rows x "
        f"{args.seconds:g} s = {frames_per_row} frames each; min of {args.repeats} interleaved repeats "
        f"({'wall' if clock is time.perf_counter else 'CPU'} time)"
    )
    one_by_one("bare")  # warm-up
    best = {"bare": float("inf"), "unsteered": float("inf"), "steered": float("inf"), "batched": float("inf")}
    for _ in range(args.repeats):
        for kind in ("bare", "unsteered", "steered"):
            best[kind] = min(best[kind], timed(lambda kind=kind: one_by_one(kind)))
        best["batched"] = min(best["batched"], timed(batched))
    frames = args.rows * frames_per_row
    per_frame = {k: 1000 * v / frames for k, v in best.items()}
    print(f"  bare model loop (floor)      {per_frame['bare']:7.2f} ms/frame")
    print(
        f"  runner, unsteered            {per_frame['unsteered']:7.2f} ms/frame  "
        f"{best['unsteered'] / best['bare']:.3f}x the floor"
    )
    print(
        f"  runner, steered (energy)     {per_frame['steered']:7.2f} ms/frame  "
        f"{best['steered'] / best['bare']:.3f}x the floor (target <= 1.10x)"
    )
    realtime_ms = 1000 * backend.frame_size / backend.sample_rate
    print(
        f"  batch 1:  {frames / best['unsteered']:8.1f} frames/s   batch {args.rows}: "
        f"{frames / best['batched']:8.1f} frames/s   ({best['unsteered'] / best['batched']:.2f}x the throughput; "
        f"real time is {1000 / realtime_ms:.1f} frames/s per row)"
    )


if __name__ == "__main__":
    main()
