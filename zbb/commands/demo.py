"""`zbb demo`: the main job on embedded defaults (build, score the references, print the board)."""

from __future__ import annotations

import argparse

HELP = "build ZBB with the embedded engines, score the bundled reference submissions, print the leaderboard"
EXAMPLES = (
    "zbb demo",
    "zbb demo --preset tiny",
    "zbb demo --preset tiny --out out/zbb-tiny --results out/results-tiny",
    "zbb demo --rebuild --num-proc 2",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", help="dataset folder (default: out/zbb for the full preset, else out/zbb-PRESET)")
    p.add_argument(
        "--results",
        help="results folder the board reads (default: submissions, the committed references, for the full preset "
        "into out/zbb; else out/results-PRESET, so a smaller or custom demo never rewrites them)",
    )
    p.add_argument("--preset", default="full", choices=("tiny", "paper", "full"), help="dataset size (default full)")
    p.add_argument("--seed", type=int, default=0, help="build seed (default %(default)s)")
    p.add_argument("--num-proc", type=int, help="build processes (default: one per core)")
    p.add_argument("--rebuild", action="store_true", help="build even when an up-to-date build exists")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from zbb.demo import run_demo

    report = run_demo(
        args.out,
        args.results,
        preset=args.preset,
        seed=args.seed,
        num_proc=args.num_proc,
        rebuild=args.rebuild,
        progress=not args.quiet,
    )
    print()
    print(report.board_text)
    print()
    print(f"dataset: {report.dataset}  (datasets.load_dataset({str(report.dataset)!r}, 'interrupt', split='test'))")
    print(f"results: {len(report.results)} files in {report.results_dir}/")
    print("open the leaderboard app:")
    print(
        f"  .venv/bin/zbb leaderboard --results {report.results_dir} --dataset {report.dataset}"
        "   # then browse http://127.0.0.1:7860"
    )
    print("score your own model:")
    print(
        f"  .venv/bin/zbb validate MY_RUN --dataset {report.dataset} && "
        f".venv/bin/zbb score MY_RUN --dataset {report.dataset} --out out/MY_RUN.result.json"
    )
    return 0
