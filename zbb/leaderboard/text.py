"""The leaderboard as a plain-text table for terminals (the `zbb demo` summary, `zbb leaderboard --print`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: (header, row key, kind) of the terminal view: the headline figures, each rate shown with its 95% interval.
TEXT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("#", "rank", "rank"),
    ("model", "model", "text"),
    ("provenance", "kind", "text"),
    ("no-int correct", "ni_correct", "rate"),
    ("int correct", "int_correct", "rate"),
    ("int+steer correct", "steer_correct", "rate"),
    ("buffered correct", "buf_correct", "rate"),
    ("int IWOR", "int_iwor", "rate"),
    ("int+steer IWOR", "steer_iwor", "rate"),
    ("recovery", "recovery_correct", "number"),
)


def _cell(row: dict[str, Any], key: str, kind: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if kind == "rate":
        lo, hi = row.get(f"{key}_lo"), row.get(f"{key}_hi")
        return f"{value:.2f} [{lo:.2f},{hi:.2f}]" if lo is not None and hi is not None else f"{value:.2f}"
    if kind == "number":
        return f"{value:+.2f}"
    return str(value)


def format_board(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]] = TEXT_COLUMNS) -> str:
    """Rows from `zbb.leaderboard.table.apply_view` as an aligned text table (rate [95% CI] cells)."""
    from zbb.tables import format_table

    return format_table([h for h, _, _ in columns], [[_cell(r, key, kind) for _, key, kind in columns] for r in rows])
