"""Scoring ZBB runs: the normaliser, judges, metrics, the scorer, reference and simulated results.

Names are loaded on first use so `import zbb.score` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "score_submission": "zbb.score.scorer",
    "score_responses": "zbb.score.scorer",
    "compare_runs": "zbb.score.metrics",
    "aggregate": "zbb.score.metrics",
    "inertia_gap": "zbb.score.metrics",
    "buffer_gap": "zbb.score.metrics",
    "recovery_of": "zbb.score.metrics",
    "METRICS": "zbb.score.metrics",
    "JUDGES": "zbb.score.judge",
    "normalise": "zbb.score.normalise",
    "NORMALISER_VERSION": "zbb.score.normalise",
    "paper_results": "zbb.score.reference",
    "simulate_all": "zbb.score.simulate",
    "format_summary": "zbb.score.summary",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'zbb.score' has no attribute {name!r}")
