"""The probe's extra cost over a plain run: capture hooks on 13 layers (the paper's 12-24) vs none, in one run.

On the same teacher-forced two-channel batch (noise on both channels; the cost does not depend on the audio):
  1. plain: `zbb.probe.stream.run_steps` with no capture hook (encode both channels + LMGen steps: the floor),
  2. capture: the same loop with hooks copying 13 layers' residual stream at every step,
  3. probe: capture + both lenses (text logit lens, user-embedding lens) over the 13 layers (what `zbb probe` does),
interleaved and repeated (the minimum of the repeats is kept); on CPU the clock is the process's CPU time. Prints ms per step and the
ratios against the plain loop.

The tiny random Moshi has 6 blocks; to hook 13 distinct layers on CPU its blocks are repeated (deep copies, random
weights) to `--depth` blocks, which only makes the model deeper. On a GPU with real weights, run the real thing:

    .venv/bin/python benchmarks/bench_probe.py                                   # tiny, deepened to 26, 1 thread
    .venv/bin/python benchmarks/bench_probe.py --backend moshi --device cuda --layers 12-24
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="tiny")
    parser.add_argument("--model-id")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--depth", type=int, default=26, help="tiny only: repeat its blocks to this many (default 26)")
    parser.add_argument("--layers", default="12-24", help="0-based layers to capture (default 12-24: 13 layers)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    os.environ.setdefault("NO_TORCH_COMPILE", "1")
    import torch

    from zbb.probe.pipeline import _affinities, parse_layers
    from zbb.probe.stream import run_steps
    from zbb.runner.backends import load_backend

    torch.set_num_threads(args.threads)
    backend = load_backend(args.backend, args.model_id, args.device)
    if args.backend == "tiny" and backend.num_layers < args.depth:
        blocks = backend.lm.transformer.layers
        base = list(blocks)
        while len(blocks) < args.depth:
            blocks.append(copy.deepcopy(base[len(blocks) % len(base)]))
    layers = [i for i in parse_layers(args.layers) if i < backend.num_layers]
    frame = backend.frame_size
    steps = int(args.seconds * backend.sample_rate) // frame
    rng = np.random.default_rng(0)
    user = (rng.standard_normal((args.batch, steps * frame)) * 0.1).astype(np.float32)
    model = (rng.standard_normal((args.batch, steps * frame)) * 0.1).astype(np.float32)

    on_gpu = args.device.startswith("cuda")
    # On a shared CPU, wall time measures the neighbours; with one thread, this process's CPU time is the cost.
    clock = time.perf_counter if on_gpu else time.process_time

    def sync() -> None:
        if on_gpu:
            torch.cuda.synchronize()

    def plain() -> None:
        run_steps(backend, user, [], model_audio=model)

    def capture() -> None:
        run_steps(backend, user, layers, model_audio=model)

    def probe() -> None:
        trace = run_steps(backend, user, layers, model_audio=model)
        _affinities(backend, trace, layers, "user-embedding", "prob")

    timings: dict[str, list[float]] = {"plain": [], "capture": [], "probe": []}
    run_steps(backend, user[:, : 2 * frame], layers[:1], model_audio=model[:, : 2 * frame])  # warm-up
    order = [("plain", plain), ("capture", capture), ("probe", probe)]
    for r in range(args.repeats):
        for name, fn in order[r % 3 :] + order[: r % 3]:  # rotated, so no variant always runs first
            sync()
            t0 = clock()
            fn()
            sync()
            timings[name].append(clock() - t0)
    best = {k: min(v) for k, v in timings.items()}
    print(
        f"backend {backend.name} ({backend.model_id}), {backend.num_layers} blocks, device {args.device}, "
        f"threads {args.threads}, {'wall' if on_gpu else 'CPU'} time; batch {args.batch} x {steps} steps; capture {len(layers)} layers {layers[0]}..{layers[-1]}"
    )
    for name in ("plain", "capture", "probe"):
        print(f"  {name:8s} {1000 * best[name] / steps:8.2f} ms/step   {best[name] / best['plain']:.3f}x plain")
    print(f"extra cost of capture: {best['capture'] / best['plain'] - 1:+.1%}; of the whole probe: "
          f"{best['probe'] / best['plain'] - 1:+.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
