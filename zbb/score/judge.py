"""Judges read the stance of a response to the claim: affirm, deny, or no_answer, with a reason.

Judges are registered by name (`JUDGES`), imported lazily. Correctness is derived from the stance and the
label outside the judge (`is_correct`), so every judge is scored the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from zbb.registry import Registry

Stance = Literal["affirm", "deny", "no_answer"]
STANCES: tuple[str, ...] = ("affirm", "deny", "no_answer")


@dataclass(frozen=True)
class JudgeInput:
    """One row to judge: the claim as spoken and what the model said."""

    id: str
    condition: str
    claim: str  # the spoken claim text, e.g. "Submarine flies in the clouds, right?"
    subject: str
    description: str
    response: str  # raw response text
    normalised: str  # the response after `zbb.score.normalise.normalise`
    aliases: tuple[str, ...] = ()  # other accepted spellings of the subject ("donut" for doughnut)


@dataclass(frozen=True)
class Verdict:
    stance: Stance
    reason: str


class Judge(Protocol):
    #: Versioned id recorded in provenance, e.g. "rule-v2" or "openai:gpt-4.1-mini zbb-judge-prompt-v2".
    id: str

    def judge_many(self, inputs: Sequence[JudgeInput]) -> list[Verdict]: ...


def is_correct(stance: str, label: bool) -> bool:
    """Right about the claim: confirms a true claim or rejects a false one (no answer is never right)."""
    return (stance == "affirm" and label) or (stance == "deny" and not label)


JUDGES: Registry = Registry("judge")
# "rule" is the current rule judge; "rule-v1" stays selectable to reproduce results scored with it.
JUDGES.register("rule", "zbb.score.rule_judge_v2:RuleJudgeV2")
JUDGES.register("rule-v1", "zbb.score.rule_judge:RuleJudge")
JUDGES.register("rule-v2", "zbb.score.rule_judge_v2:RuleJudgeV2")
JUDGES.register("openai", "zbb.score.openai_judge:OpenAIJudge")


def make_judge(judge: str | Judge, **options: Any) -> Judge:
    """A judge instance from a registered name (options go to its constructor) or an instance as is."""
    if isinstance(judge, str):
        return JUDGES.get(judge)(**options)
    return judge
