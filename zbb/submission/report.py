"""Plain-text reporting of a check, for `zbb validate` (kept out of the CLI so it is tested as a function)."""

from __future__ import annotations

import os
from dataclasses import replace

from zbb.submission.files import MIB, Limits
from zbb.submission.loader import Check


def limits_from_mb(max_file_mb: float | None, max_total_mb: float | None) -> Limits:
    limits = Limits()
    if max_file_mb is not None:
        limits = replace(limits, max_file_bytes=int(max_file_mb * MIB))
    if max_total_mb is not None:
        limits = replace(limits, max_total_bytes=int(max_total_mb * MIB))
    return limits


def summarise(path: str | os.PathLike, check: Check) -> str:
    """What `zbb validate` prints: warnings, then every problem or one OK line with the row counts."""
    lines = [f"warning: {w}" for w in check.warnings]
    if check.problems:
        n = len(check.problems)
        lines.append(f"{path}: {n} problem{'s' * (n != 1)}:")
        lines.extend(f"  - {p}" for p in check.problems)
    else:
        counts = ", ".join(f"{c} ({n})" for c, n in sorted(check.rows.items()))
        lines.append(f"OK: {sum(check.rows.values())} rows in conditions {counts} [{check.layout}]")
    return "\n".join(lines)
