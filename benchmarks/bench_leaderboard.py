"""Leaderboard speed: cold start over 500 stored results, and the re-render after a filter change.

Targets: start <= 3 s, re-render <= 200 ms. Prints the figures measured in this run and their ratio to target.

    .venv/bin/python benchmarks/bench_leaderboard.py [--results 500] [--items 100]

"Start" is measured in a fresh Python process: import the app, read the store (index present, i.e. a normal
restart) and build the Blocks, then separately until the server answers HTTP. The first-ever start, which
builds the index from every result file, is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TARGET_S = 3.0
RERENDER_TARGET_S = 0.200

CHILD = r"""
import sys, time, socket, urllib.request
t0 = time.perf_counter()
import gradio, plotly.graph_objects, pandas  # the third-party imports, timed apart from zbb's own work
from zbb.leaderboard.app import build_app
from zbb.leaderboard.store import ResultStore
t_import = time.perf_counter()
store = ResultStore(sys.argv[1])
demo = build_app(store)
t_built = time.perf_counter()
if sys.argv[2] == "serve":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    urllib.request.urlopen(f"http://127.0.0.1:{port}/config").read()
    t_up = time.perf_counter()
    demo.close()
else:
    t_up = t_built
print(f"{t_import - t0:.3f} {t_built - t_import:.3f} {t_up - t0:.3f}")
"""


def generate(root: Path, n_results: int, n_items: int) -> None:
    from zbb.leaderboard.store import ResultStore
    from zbb.leaderboard.synthetic import synthetic_run
    from zbb.records import Steering
    from zbb.results import save_result

    ResultStore(root)  # the folder layout is the store's; files are written directly to skip per-add indexing
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_results):
        model = f"model-{i // 2:03d}"
        rng = (i * 37 % 100) / 100
        if i % 2 == 0:
            run = synthetic_run(
                model,
                {
                    "no_interrupt": (0.3 + rng / 2, 0.6),
                    "interrupt": (rng / 2, 0.3),
                    "interrupt_buffered": (rng / 2 + 0.1, 0.4),
                },
                n=n_items,
                seed=i,
                family=f"family-{i % 7}",
            )
        else:
            run = synthetic_run(
                model,
                {"interrupt": (min(1.0, rng / 2 + 0.1), 0.5)},
                n=n_items,
                seed=i,
                steering=Steering(layer=23, alpha=1 + i % 5, span=3),
                family=f"family-{i % 7}",
            )
        save_result(run, root / f"{run.run_id}-{i}.json")


def child(root: Path, mode: str) -> tuple[float, float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(root), mode], capture_output=True, text=True, check=True)
    return tuple(float(x) for x in out.stdout.split()[-3:])  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=500)
    parser.add_argument("--items", type=int, default=100, help="scored rows per condition of each result")
    args = parser.parse_args()

    from zbb.leaderboard.app import render_view
    from zbb.leaderboard.store import ResultStore
    from zbb.leaderboard.table import ViewState, build_board

    with tempfile.TemporaryDirectory(prefix="zbb-bench-board-") as tmp:
        root = Path(tmp) / "submissions"
        t = time.perf_counter()
        generate(root, args.results, args.items)
        print(f"generated {args.results} results ({args.items} rows per condition) in {time.perf_counter() - t:.1f} s")

        first = child(root, "build")  # builds index.json from every file
        warm = [child(root, "build") for _ in range(3)]  # a restart: index present
        served = child(root, "serve")
        print(
            f"first start (index built from {args.results} files): imports (gradio, plotly, pandas) {first[0]:.2f} s + "
            f"store/board/blocks {first[1]:.2f} s = {first[2]:.2f} s"
        )
        med = sorted(warm)[1]
        print(
            f"restart (index present), median of 3: imports {med[0]:.2f} s + store/board/blocks {med[1]:.2f} s "
            f"= {med[2]:.2f} s   target {START_TARGET_S:.1f} s   ratio {med[2] / START_TARGET_S:.2f}"
        )
        print(f"restart to first HTTP answer: {served[2]:.2f} s   ratio {served[2] / START_TARGET_S:.2f}")

        store = ResultStore(root)
        board = build_board(store.summaries())
        views = [
            ViewState(steering="on"),
            ViewState(search="model-1"),
            ViewState(family=("family-3",)),
            ViewState(sort="delta_correct", desc=True),
            ViewState(provenance=("self-reported",), groups=("correct", "iwor", "gaps")),
        ]
        folder = Path(tmp) / "exports"
        folder.mkdir()
        times = []
        render_view(board, ViewState(), folder)  # warm-up: first pandas/CSV call pays one-off costs
        for _ in range(4):
            for view in views:
                t = time.perf_counter()
                render_view(board, view, folder)  # filter, sort, format the table, write CSV + JSON
                times.append(time.perf_counter() - t)
        med_r, worst = statistics.median(times), max(times)
        print(
            f"re-render after a filter change over {len(board.rows)} models: median {med_r * 1000:.1f} ms, "
            f"max {worst * 1000:.1f} ms   target {RERENDER_TARGET_S * 1000:.0f} ms   "
            f"ratio {med_r / RERENDER_TARGET_S:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
