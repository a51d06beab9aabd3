"""A readable plain-text summary of a run: one line per condition, then the gaps."""

from __future__ import annotations

from zbb.records import ConditionAggregate, Rate, RunResult
from zbb.score.metrics import buffer_gap, inertia_gap
from zbb.tables import format_table


def _rate(r: Rate | None) -> str:
    if r is None or r.n == 0:
        return "-"
    return f"{r.rate:.3f} [{r.ci_low:.2f}, {r.ci_high:.2f}]"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def _row(condition: str, a: ConditionAggregate) -> list[str]:
    t = a.timing
    return [
        condition,
        str(a.n),
        _rate(a.correctness),
        _rate(a.iwor),
        _rate(a.no_answer),
        _rate(t.takeover) if t else "-",
        _num(t.latency_s if t else None),
        _num(t.stop_latency_s if t else None),
        _rate(t.talking_at_onset) if t else "-",
        str(a.missing),
    ]


HEADER = [
    "condition",
    "n",
    "correctness [95% CI]",
    "IWOR [95% CI]",
    "no answer",
    "take-over",
    "latency s",
    "stop lat. s",
    "talking at onset",
    "missing",
]


def format_summary(result: RunResult) -> str:
    m, p = result.meta, result.provenance
    title = f"{m.model}" + (
        f" (steered: layer {m.steering.layer}, alpha {m.steering.alpha}, span {m.steering.span})" if m.steering else ""
    )
    table = format_table(HEADER, [_row(c, a) for c, a in result.aggregates.items()], right=range(1, len(HEADER)))
    lines = [
        title,
        f"  {p.kind}; judge {p.judge}; normaliser {p.normaliser}; asr {p.asr or 'none (transcripts)'}",
        f"  dataset {p.dataset} (fingerprint {p.dataset_fingerprint})",
        "",
        table,
    ]
    gaps = []
    for name, fn in (
        ("inertia gap (no_interrupt - interrupt)", inertia_gap),
        ("buffer gap (interrupt_buffered - interrupt)", buffer_gap),
    ):
        c, w = fn(result, "correctness"), fn(result, "iwor")
        if c is not None:
            gaps.append(f"{name}: correctness {c:+.3f}, IWOR {w:+.3f}")
    if gaps:
        lines += [""] + gaps
    return "\n".join(lines)
