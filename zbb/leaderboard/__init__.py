"""The ZBB leaderboard: plain table functions (table.py), result storage (store.py), plotly figures (plots.py)
and the Gradio app that lays them out (app.py). Importing this package does not import gradio or plotly."""

from __future__ import annotations

from zbb.leaderboard.table import Board, ModelEntry, RunSummary, ViewState, build_board, pair_runs, rank_rows

__all__ = ["Board", "ModelEntry", "RunSummary", "ViewState", "build_board", "pair_runs", "rank_rows"]
