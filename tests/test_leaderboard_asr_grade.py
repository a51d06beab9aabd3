"""The board marks a row whose replies came from an ASR unfit to be a reference (Provenance.asr_grade), with why."""

from __future__ import annotations

import dataclasses

from zbb.leaderboard.synthetic import synthetic_run
from zbb.leaderboard.table import COLUMN_BY_KEY, INDICATIVE_ASR_BADGE, INDICATIVE_ASR_REASON, build_board, display_cell


def graded(model: str, grade: str | None, **kw):
    run = synthetic_run(model, {"no_interrupt": (0.5, 0.7), "interrupt": (0.2, 0.3)}, **kw)
    return dataclasses.replace(run, provenance=dataclasses.replace(run.provenance, asr_grade=grade))


def test_indicative_asr_rows_are_marked_in_the_model_cell_with_the_reason():
    board = build_board([graded("Sphinxed", "indicative"), graded("Parakeeted", "reference"), graded("Typed", None)])
    rows = {r["model"]: r for r in board.rows}
    assert rows["Sphinxed"]["asr_grade"] == "indicative" and rows["Sphinxed"]["asr_note"] == INDICATIVE_ASR_REASON
    assert rows["Parakeeted"]["asr_grade"] is None and rows["Typed"]["asr_note"] == ""
    model = COLUMN_BY_KEY["model"]
    assert INDICATIVE_ASR_BADGE in display_cell(rows["Sphinxed"], model)
    assert INDICATIVE_ASR_BADGE not in display_cell(rows["Parakeeted"], model)
