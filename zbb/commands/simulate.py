"""`zbb simulate`: write simulated-listener submissions (missing the first d ms of each interruption), and score them."""

from __future__ import annotations

import argparse

HELP = (
    "Write simulated-listener submissions that miss the first d ms of every interruption; "
    "with --results, score them and save the results there."
)
EXAMPLES = [
    "zbb simulate --dataset out/zbb-tiny --out runs/simulated",
    "zbb simulate --dataset out/zbb --out runs/simulated --delays 0,200,400,600 --results submissions",
]


def _delays(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated milliseconds like 0,200,400, got {text!r}"
        ) from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected non-negative milliseconds, got {text!r}")
    return values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, help="built dataset folder or Hugging Face dataset id")
    p.add_argument("--out", required=True, help="folder for the submissions (one listener-<d>ms/ folder per delay)")
    p.add_argument(
        "--delays",
        type=_delays,
        default=(0, 200, 400, 600),
        help="missed milliseconds, comma-separated (default: 0,200,400,600)",
    )
    p.add_argument(
        "--results",
        help="also score the submissions and save the result JSONs in this folder (a result file that would change "
        "only in its scored_at date is kept as it is)",
    )


def run(args: argparse.Namespace) -> int:
    from zbb.dataset import open_dataset
    from zbb.results import load_result
    from zbb.score.simulate import curve_table, score_simulations, simulate_all

    ds = open_dataset(args.dataset)
    folders = simulate_all(ds, args.out, args.delays)
    for f in folders:
        print(f"wrote {f}")
    if args.results:
        paths = score_simulations(ds, folders, args.results, log=print)
        print()
        print(curve_table([load_result(p) for p in paths]))
    return 0
