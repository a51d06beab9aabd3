"""`zbb score`: score one submission against a built dataset and write the versioned result JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Score a submission (folder, zip or FDB run folder) against a ZBB dataset; write a result JSON."
EXAMPLES = [
    "zbb score runs/moshi --dataset out/zbb                  # writes moshi.result.json here",
    "zbb score runs/moshi --dataset out/zbb --out submissions/moshi.json",
    "zbb score runs/moshi.zip --dataset org/zbb --judge openai --judge-model gpt-4.1-mini --out out/moshi.result.json",
    "zbb score runs/fdb_moshi --dataset out/zbb --asr pocketsphinx --allow-partial --out out/moshi.result.json",
    "zbb score runs/moshi --dataset out/zbb --asr nemo --provenance reproduced --out out/moshi.result.json  # maintainers",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission folder, .zip, or Full-Duplex-Bench run folder")
    p.add_argument("--dataset", required=True, help="built dataset folder or Hugging Face dataset id (org/name)")
    p.add_argument(
        "--out",
        help="where to write the result JSON (default: <submission name>.result.json in the current folder)",
    )
    p.add_argument(
        "--judge",
        default="rule",
        help="judge: rule (default, offline: rule-v2), rule-v1 (to reproduce older results) or openai (any "
        "OpenAI-compatible endpoint)",
    )
    p.add_argument(
        "--judge-base-url", help="openai judge: endpoint base URL (default $ZBB_JUDGE_BASE_URL or api.openai.com/v1)"
    )
    p.add_argument("--judge-model", help="openai judge: model (default $ZBB_JUDGE_MODEL or gpt-4.1-mini)")
    p.add_argument(
        "--judge-cache", help="openai judge: verdict cache folder (default $ZBB_CACHE_DIR/judge or ~/.cache/zbb/judge)"
    )
    p.add_argument(
        "--condition", help="condition of FDB run folders given as <id>/output.wav, without a <condition>/ level"
    )
    p.add_argument("--asr", default="pocketsphinx", help="ASR engine for audio submissions (default: pocketsphinx)")
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="score a submission that lacks rows: missing rows count as wrong and are reported",
    )
    p.add_argument("--max-rows", type=int, default=None, help="most rows a submission may answer (default 200000)")
    p.add_argument("--max-file-mb", type=float, default=None, help="largest single file (default 64)")
    p.add_argument("--max-total-mb", type=float, default=None, help="largest total size (default 8192)")
    p.add_argument(
        "--provenance",
        choices=("self-reported", "reproduced"),
        default="self-reported",
        help="provenance of the result (default: self-reported). 'reproduced' is for the board's maintainers, when "
        "they scored a model's raw outputs themselves",
    )
    p.add_argument("--quiet", action="store_true", help="do not print the summary table")


def default_out(submission: str) -> str:
    """`runs/moshi/` or `runs/moshi.zip` -> `moshi.result.json`, in the current folder."""
    name = Path(submission.rstrip("/\\")).name or "submission"
    return f"{name.removesuffix('.zip')}.result.json"


def run(args: argparse.Namespace) -> int:
    from zbb.score.scorer import score_submission_to_file
    from zbb.score.summary import format_summary
    from zbb.submission.report import limits_from_mb

    options = {}
    if args.judge == "openai":
        options = {
            k: v
            for k, v in (
                ("base_url", args.judge_base_url),
                ("model", args.judge_model),
                ("cache_dir", args.judge_cache),
            )
            if v
        }
        options["progress"] = not args.quiet
    path = args.out or default_out(args.submission)
    # The result file is written as the rows are scored: no list of every scored row is kept (a million rows fit).
    result = score_submission_to_file(
        args.submission,
        args.dataset,
        path,
        judge=args.judge,
        asr=args.asr,
        allow_partial=args.allow_partial,
        limits=limits_from_mb(args.max_file_mb, args.max_total_mb, args.max_rows),
        judge_options=options,
        provenance_kind=args.provenance,
        condition=args.condition,
        notes=lambda msg: print(msg, file=sys.stderr),
    )
    if not args.quiet:
        print(format_summary(result))
    print(f"wrote {path}")
    return 0
