"""zbb steer fit: turn a probe of dialogues into a perception vector (mean(perceptive) - mean(generative))."""

from __future__ import annotations

import argparse

HELP = "Steering vectors. `zbb steer fit PROBE --out vec.npz` fits a perception vector from a `zbb probe` folder."
EXAMPLES = [
    "zbb steer fit out/probe-tiny --out out/tiny-perception.npz",
    "zbb steer fit out/probe-moshi --layer 23 --split quantile --quantile 0.3 --out out/moshi-l23.npz",
    "zbb steer fit out/probe-moshi --layer 23 --split threshold --perc-threshold 0.05 --gen-threshold -0.05 --out out/moshi-thr.npz",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="steer_verb", metavar="<action>", required=True)
    fit = sub.add_parser("fit", help="fit a perception vector from a probe folder", description=HELP)
    fit.add_argument("probe", help="folder written by `zbb probe` (with --keep-layers)")
    fit.add_argument("--out", required=True, help="vector file to write (.npz)")
    fit.add_argument("--layer", type=int, default=None, help="kept layer to fit at, as the probe numbered it")
    fit.add_argument(
        "--split",
        choices=("quantile", "threshold"),
        default="quantile",
        help="split steps by quantiles of S_perc - S_gen (default) or by absolute thresholds",
    )
    fit.add_argument("--quantile", type=float, default=0.3, help="share of steps in each set for --split quantile")
    fit.add_argument("--perc-threshold", type=float, default=0.0, help="perceptive: S_perc - S_gen > this")
    fit.add_argument("--gen-threshold", type=float, default=0.0, help="generative: S_perc - S_gen < this")
    fit.add_argument(
        "--allow-benchmark-rows", action="store_true", help="accept a probe of ZBB rows (leaks the benchmark)"
    )


def run(args: argparse.Namespace) -> int:
    import json

    from zbb.probe.fit import SplitRule, fit_from_probe

    rule = SplitRule(
        kind=args.split, quantile=args.quantile, perc_threshold=args.perc_threshold, gen_threshold=args.gen_threshold
    )
    vector = fit_from_probe(args.probe, layer=args.layer, split=rule, allow_benchmark_rows=args.allow_benchmark_rows)
    path = vector.save(args.out)
    info = vector.describe()
    print(f"perception vector -> {path}")
    print(
        f"  layer {info['layer']} (base {info['layer_base']}), dim {info['dim']}, norm {info['norm']:.4g}, "
        f"{info['method']['n_perceptive']} perceptive / {info['method']['n_generative']} generative steps"
    )
    print(f"  sha256 {info['sha256']}")
    print("  " + json.dumps({k: info["method"][k] for k in ("perc_threshold", "gen_threshold", "split")}))
    return 0
