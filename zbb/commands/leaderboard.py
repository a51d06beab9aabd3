"""`zbb leaderboard`: open the leaderboard on stored results (argument parsing only)."""

from __future__ import annotations

import argparse

HELP = "Open the ZBB leaderboard (Gradio) on the results in a folder, optionally mirrored from a Hub dataset."
EXAMPLES = (
    "zbb leaderboard                                   # results in submissions/, http://127.0.0.1:7860",
    "zbb leaderboard --results submissions/ --dataset out/zbb --port 7861",
    "zbb leaderboard --results-repo org/zbb-results   # mirror results from a Hub dataset (or ZBB_RESULTS_REPO)",
    "zbb leaderboard --print                          # print the table as CSV and exit",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", default="submissions", help="folder of result JSON files (default: submissions)")
    parser.add_argument(
        "--dataset", default=None, help="built ZBB dataset (folder or Hub id): enables user audio and scoring uploads"
    )
    parser.add_argument(
        "--results-repo",
        default=None,
        help="Hub dataset repo holding results under results/ (default: $ZBB_RESULTS_REPO)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--asr", default="pocketsphinx", help="ASR engine for uploads that carry audio")
    parser.add_argument(
        "--upload-limit",
        default=None,
        metavar="N/SECONDS",
        help="uploads per uploader, e.g. 5/3600 (default: $ZBB_UPLOAD_LIMIT or 5/3600; 0: no limit)",
    )
    parser.add_argument(
        "--require-login",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="uploads need a Hugging Face sign-in and belong to that user (default: on in a Space, else off)",
    )
    parser.add_argument(
        "--print", dest="print_csv", action="store_true", help="print the default view as CSV and exit (no server)"
    )


def run(args: argparse.Namespace) -> int:
    from zbb.leaderboard.app import open_store, print_board, serve

    store, hub = open_store(args.results, repo=args.results_repo)
    if args.print_csv:
        return print_board(store)
    return serve(
        store,
        hub=hub,
        dataset=args.dataset,
        host=args.host,
        port=args.port,
        share=args.share,
        asr=args.asr,
        upload_limit=args.upload_limit,
        require_login=args.require_login,
    )
