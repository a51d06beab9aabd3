"""How often a judge reads a reply's stance as a careful human did: agreement and a confusion table per split.

The corpus (`tests/data/judge_corpus.jsonl`) holds ASR-style replies to bank claims, each labelled affirm / deny /
no_answer by hand, with a class (carried-on talk, idiom, sarcasm, ...) and a split: `tune` (the rule judge was
developed against it) and `heldout` (never looked at while tuning). Prints, per split, the agreement with its
95% Wilson interval, the agreement on correctness (what the score uses), the human x judge confusion table, the
agreement per class and, with --errors, the disagreements.

    .venv/bin/python benchmarks/judge_agreement.py                      # rule-v1 and rule-v2 side by side
    .venv/bin/python benchmarks/judge_agreement.py --judge rule-v2 --errors 20
    ZBB_JUDGE_BASE_URL=http://localhost:8000/v1 ZBB_JUDGE_MODEL=ministral \\
        .venv/bin/python benchmarks/judge_agreement.py --judge openai     # any OpenAI-compatible endpoint

The openai judge reads `ZBB_JUDGE_BASE_URL`, `ZBB_JUDGE_MODEL` and `OPENAI_API_KEY` (see zbb.score.openai_judge)
and caches verdicts under `ZBB_CACHE_DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zbb.score.judge import STANCES, JudgeInput, Verdict

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "judge_corpus.jsonl"
SPLITS = ("tune", "heldout")
_SHORT = {"affirm": "affirm", "deny": "deny", "no_answer": "no answer"}


@dataclass(frozen=True)
class Labelled:
    """One corpus reply: what the judge sees, and how a human read it."""

    input: JudgeInput
    label: bool  # the claim is true
    stance: str  # the human's reading
    kind: str  # the corpus class ("carry_on", "idiom", ...)
    split: str


def load_corpus(path: str | Path = CORPUS) -> list[Labelled]:
    """The labelled replies, normalised as the scorer normalises them."""
    from zbb.bank import claim_text
    from zbb.records import BankItem
    from zbb.score.normalise import normalise_many

    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    normalised = normalise_many([r["reply"] for r in rows], workers=1)
    out = []
    for number, (r, norm) in enumerate(zip(rows, normalised, strict=True), start=1):
        if r["stance"] not in STANCES or r["split"] not in SPLITS:
            raise ValueError(f"{path}:{number}: stance {r['stance']!r} / split {r['split']!r} not known")
        item = BankItem(id=r["claim"], subject=r["subject"], description=r["description"], label=r["label"])
        out.append(
            Labelled(
                input=JudgeInput(
                    id=f"{r['claim']}#{number}",
                    condition="interrupt",
                    claim=claim_text(item, "right?"),
                    subject=r["subject"],
                    description=r["description"],
                    response=r["reply"],
                    normalised=norm,
                    aliases=tuple(r.get("aliases") or ()),
                ),
                label=r["label"],
                stance=r["stance"],
                kind=r["class"],
                split=r["split"],
            )
        )
    return out


@dataclass(frozen=True)
class Agreement:
    """Counts of one judge against the human labels on one set of replies."""

    n: int
    agree: int  # same stance
    agree_correct: int  # same correctness (stance against the claim's label), what the benchmark scores
    confusion: dict[tuple[str, str], int]  # (human, judge) -> count
    by_class: dict[str, tuple[int, int]]  # class -> (agree, n)

    @property
    def rate(self) -> float:
        return self.agree / self.n if self.n else 0.0


def agreement(rows: Sequence[Labelled], verdicts: Sequence[Verdict]) -> Agreement:
    from zbb.score.judge import is_correct

    confusion: Counter[tuple[str, str]] = Counter()
    by_class: dict[str, list[int]] = {}
    agree = agree_correct = 0
    for row, verdict in zip(rows, verdicts, strict=True):
        confusion[row.stance, verdict.stance] += 1
        same = row.stance == verdict.stance
        agree += same
        agree_correct += is_correct(row.stance, row.label) == is_correct(verdict.stance, row.label)
        counts = by_class.setdefault(row.kind, [0, 0])
        counts[0] += same
        counts[1] += 1
    return Agreement(
        n=len(rows),
        agree=agree,
        agree_correct=agree_correct,
        confusion=dict(confusion),
        by_class={k: (a, n) for k, (a, n) in sorted(by_class.items())},
    )


def report(name: str, split: str, result: Agreement) -> str:
    from zbb.stats import wilson
    from zbb.tables import format_table

    ci = wilson(result.agree, result.n)
    lines = [
        f"{name} on {split} (n={result.n}): stance agreement {result.agree}/{result.n} = {result.rate:.3f} "
        f"[{ci.ci_low:.3f}, {ci.ci_high:.3f}]; correctness agreement {result.agree_correct}/{result.n} = "
        f"{result.agree_correct / result.n:.3f}",
        "",
        format_table(
            ["human \\ judge", *(_SHORT[s] for s in STANCES), "n"],
            [
                [
                    _SHORT[h],
                    *(str(result.confusion.get((h, j), 0)) for j in STANCES),
                    str(sum(result.confusion.get((h, j), 0) for j in STANCES)),
                ]
                for h in STANCES
            ],
            right=range(1, len(STANCES) + 2),
        ),
        "",
        format_table(
            ["class", "agree", "n", "rate"],
            [[k, str(a), str(n), f"{a / n:.2f}"] for k, (a, n) in result.by_class.items()],
            right=(1, 2, 3),
        ),
    ]
    return "\n".join(lines)


def make(name: str):
    from zbb.score.judge import make_judge

    if name == "openai":
        return make_judge("openai", progress=True)
    return make_judge(name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--judge", action="append", help="judge name (repeatable): rule-v1, rule-v2, rule, openai (default: v1, v2)"
    )
    parser.add_argument("--corpus", default=str(CORPUS), help="labelled corpus (JSONL)")
    parser.add_argument("--split", choices=[*SPLITS, "all"], help="only this split (default: each split)")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print up to N disagreements per split")
    args = parser.parse_args(argv)
    rows = load_corpus(args.corpus)
    splits = [args.split] if args.split else list(SPLITS)
    for name in args.judge or ["rule-v1", "rule-v2"]:
        judge = make(name)
        verdicts = judge.judge_many([r.input for r in rows])
        for split in splits:
            chosen = [(r, v) for r, v in zip(rows, verdicts, strict=True) if split in ("all", r.split)]
            result = agreement([r for r, _ in chosen], [v for _, v in chosen])
            print(report(judge.id, split, result), end="\n\n")
            wrong = [(r, v) for r, v in chosen if r.stance != v.stance][: args.errors]
            for r, v in wrong:
                print(
                    f"  [{r.kind}] {r.input.claim!r} <- {r.input.response!r}: human {r.stance}, "
                    f"judge {v.stance} ({v.reason})"
                )
            if wrong:
                print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
