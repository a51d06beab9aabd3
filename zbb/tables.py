"""Plain-text tables for terminal output (the score summary, the demo's board)."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Collection[int] = ()) -> str:
    """A header, a dashed rule, then the rows; each column as wide as its widest cell, the columns whose index is
    in `right` right-aligned, the others left-aligned."""
    table = [list(header), *[list(r) for r in rows]]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]

    def line(cells: Sequence[object]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    return "\n".join([line(table[0]), "  ".join("-" * w for w in widths), *(line(r) for r in table[1:])])
