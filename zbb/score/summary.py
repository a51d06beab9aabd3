"""A readable plain-text summary of a run: one line per condition, then the gaps."""

from __future__ import annotations

from zbb.records import ConditionAggregate, Rate, RunResult, ValidInterruptions
from zbb.score.metrics import buffer_gap, inertia_gap
from zbb.tables import format_table

INDICATIVE_NOTE = (
    "  NOTE: the replies were transcribed by an ASR that is not fit to be a reference (asr_grade: indicative); "
    "its word errors move correctness and IWOR. Score with a reference ASR (--asr nemo, whisper:large-v3) to "
    "publish."
)


def _rate(r: Rate | None) -> str:
    if r is None or r.n == 0:
        return "-"
    return f"{r.rate:.3f} [{r.ci_low:.2f}, {r.ci_high:.2f}]"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def _mean(x: float | None, n: int) -> str:
    return "-" if x is None else f"{x:.2f} (n={n})"


def _valid(v: ValidInterruptions | None) -> str:
    if v is None:
        return "-"
    if v.n == 0:
        return "- (n=0)"
    return f"{v.correctness.rate:.3f} / {v.iwor.rate:.3f} (n={v.n})"


def _row(condition: str, a: ConditionAggregate) -> list[str]:
    t = a.timing
    v = a.valid_interruptions
    return [
        condition,
        str(a.n),
        _rate(a.correctness),
        _rate(a.iwor),
        _rate(a.no_answer),
        _valid(v),
        _rate(t.takeover) if t else "-",
        _mean(t.latency_s, t.latency_n) if t else "-",
        _mean(t.stop_latency_s, t.stop_latency_n) if t else "-",
        _mean(t.answer_latency_s, t.answer_latency_n) if t else "-",
        _mean(t.claim_stop_latency_s, t.claim_stop_latency_n) if t else "-",
        _rate(t.talking_at_onset) if t else "-",
        str(a.missing),
    ]


HEADER = [
    "condition",
    "n",
    "correctness [95% CI]",
    "IWOR [95% CI]",
    "no answer",
    "valid int.: corr. / IWOR",
    "TOR (FDB)",
    "latency s (FDB)",
    "stop lat. s (FDB)",
    "answer lat. s",
    "claim stop s",
    "talking at onset",
    "missing",
]

#: What the timing columns mean, printed under the table.
LEGEND = (
    "  TOR, latency, stop latency: Full-Duplex-Bench's definitions, computed as its code does (words after the "
    "interruption's end; overlap of user and model speech). answer lat.: first answer word after the model "
    "stopped - claim end; claim stop: talk after the claim's onset. valid int.: interrupt rows where the model "
    "was talking at the onset."
)


def format_summary(result: RunResult) -> str:
    m, p = result.meta, result.provenance
    title = f"{m.model}" + (
        f" (steered: layer {m.steering.layer}, alpha {m.steering.alpha}, span {m.steering.span})" if m.steering else ""
    )
    table = format_table(HEADER, [_row(c, a) for c, a in result.aggregates.items()], right=range(1, len(HEADER)))
    lines = [
        title,
        f"  {p.kind}; judge {p.judge}; normaliser {p.normaliser}; asr {p.asr or 'none (transcripts)'}"
        + (f" ({p.asr_grade})" if p.asr_grade else ""),
        f"  dataset {p.dataset} (fingerprint {p.dataset_fingerprint})",
        "",
        table,
    ]
    if p.asr_grade == "indicative":
        lines += ["", INDICATIVE_NOTE]
    if any(a.timing or a.valid_interruptions for a in result.aggregates.values()):
        lines += ["", LEGEND]
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
