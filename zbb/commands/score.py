"""`zbb score`: score one submission against a built dataset and write the versioned result JSON."""

from __future__ import annotations

import argparse
import sys

HELP = "Score a submission (folder, zip or FDB run folder) against a ZBB dataset; write a result JSON."
EXAMPLES = [
    "zbb score runs/moshi --dataset build/zbb --out submissions/moshi.json",
    "zbb score runs/moshi.zip --dataset org/zbb --judge openai --judge-model gpt-4.1-mini --out moshi.json",
    "zbb score runs/fdb_moshi --dataset build/zbb --asr pocketsphinx --allow-partial --out moshi.json",
    "zbb score runs/moshi --dataset build/zbb --asr nemo --provenance reproduced --out moshi.json  # maintainers",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission folder, .zip, or Full-Duplex-Bench run folder")
    p.add_argument("--dataset", required=True, help="built dataset folder or Hugging Face dataset id (org/name)")
    p.add_argument("--out", required=True, help="where to write the result JSON")
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
    p.add_argument("--asr", default="pocketsphinx", help="ASR engine for audio submissions (default: pocketsphinx)")
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="score a submission that lacks rows: missing rows count as wrong and are reported",
    )
    p.add_argument(
        "--provenance",
        choices=("self-reported", "reproduced"),
        default="self-reported",
        help="provenance of the result (default: self-reported). 'reproduced' is for the board's maintainers, when "
        "they scored a model's raw outputs themselves",
    )
    p.add_argument("--quiet", action="store_true", help="do not print the summary table")


def run(args: argparse.Namespace) -> int:
    from zbb.results import save_result
    from zbb.score.scorer import score_submission
    from zbb.score.summary import format_summary

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
    result = score_submission(
        args.submission,
        args.dataset,
        judge=args.judge,
        asr=args.asr,
        allow_partial=args.allow_partial,
        judge_options=options,
        provenance_kind=args.provenance,
        notes=lambda msg: print(msg, file=sys.stderr),
    )
    path = save_result(result, args.out)
    if not args.quiet:
        print(format_summary(result))
    print(f"wrote {path}")
    return 0
