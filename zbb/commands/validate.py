"""zbb validate: check a submission against a dataset without transcribing or scoring."""

from __future__ import annotations

import argparse

HELP = "Check a submission (folder or .zip) against a dataset; print every problem, or OK with the row counts."
EXAMPLES = [
    "zbb validate my_run/ --dataset data/zbb",
    "zbb validate my_run.zip --dataset org/zbb --allow-partial",
    "zbb validate fdb_outputs/ --dataset data/zbb --condition interrupt",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submission", help="submission folder or .zip (see docs/SUBMISSION.md)")
    parser.add_argument("--dataset", required=True, help="built dataset folder or Hub dataset id")
    parser.add_argument(
        "--condition",
        default=None,
        help="condition of FDB run folders given as <id>/output.wav without a condition level",
    )
    parser.add_argument(
        "--allow-partial", action="store_true", help="accept a condition with missing rows (they are scored as wrong)"
    )
    parser.add_argument("--max-file-mb", type=float, default=None, help="largest single file (default 64)")
    parser.add_argument("--max-total-mb", type=float, default=None, help="largest total size (default 8192)")


def run(args: argparse.Namespace) -> int:
    from zbb.dataset import open_dataset
    from zbb.submission import check_submission
    from zbb.submission.report import limits_from_mb, summarise

    check = check_submission(
        args.submission,
        open_dataset(args.dataset),
        allow_partial=args.allow_partial,
        condition=args.condition,
        limits=limits_from_mb(args.max_file_mb, args.max_total_mb),
    )
    print(summarise(args.submission, check))
    return 0 if check.ok else 1
