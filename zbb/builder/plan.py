"""The build plan: what each row says, in which voice, with which silences — decided before any audio exists.

A plan is pure data (JSON-serialisable, cheap, seeded). Rendering reads it and never draws a random number, so
the same plan always renders the same audio, and a plan's digest keys the resumable work folder.
All lengths are integer sample counts at the plan's output `sample_rate`.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zbb.builder.levels import LEGACY, Levels
from zbb.conditions import CONDITIONS, INTERRUPT, INTERRUPT_BUFFERED, NO_INTERRUPT, check_names
from zbb.errors import UnknownNameError, ZbbError
from zbb.records import BankItem, Record

if TYPE_CHECKING:
    from zbb.bank import Recipe

#: Silences, in seconds; the plan turns them into integer sample counts at the output rate.
LEAD_IN_S = 0.5  # silence before the context utterance
NO_INTERRUPT_GAP_S = (5.0, 7.0)  # after the greeting: long enough for the model's reply to finish
INTERRUPT_GAP_S = (4.0, 8.0)  # after the long-talk prompt: the model is talking when the claim cuts in
BUFFER_GAP_S = (0.10, 0.25)  # natural pause between the filler and the claim (buffered condition)
TAIL_S = 6.0  # after the claim: room for the model's answer

#: preset name -> number of subjects (each gives its TRUE and FALSE claim); None = the whole bank.
PRESETS: dict[str, int | None] = {"tiny": 3, "paper": 50, "full": None}


@dataclass(frozen=True)
class RowPlan(Record):
    """One dataset row before rendering. Sample counts are at the plan's `sample_rate`.

    Layout: `lead_in` silence, the context utterance, `gap` silence, [the filler, `buffer_gap` silence,] the
    claim, `tail` silence.
    """

    condition: str
    context_text: str
    buffer_text: str  # "" unless interrupt_buffered
    lead_in: int
    gap: int  # samples between the end of the context and the start of the interruption (filler or claim)
    buffer_gap: int  # samples between the end of the filler and the claim's onset (0 without a filler)
    tail: int


@dataclass(frozen=True)
class ItemPlan(Record):
    """One bank item: its spoken claim (rendered once, reused by every condition), voice and rows."""

    item: BankItem
    claim: str
    voice: str
    rows: tuple[RowPlan, ...]


@dataclass(frozen=True)
class BuildPlan(Record):
    """Everything the renderer needs, and everything a reader needs to reproduce the build."""

    seed: int
    preset: str
    engine: str
    sample_rate: int
    conditions: tuple[str, ...]
    voices: tuple[str, ...]
    bank_sha256: str
    recipe_version: str
    items: tuple[ItemPlan, ...]
    levels: Levels = LEGACY  # loudness, peak ceiling, room tone, interruption effort (zbb.builder.levels)
    plan_version: int = 2

    def noise_seed(self, item_id: str) -> str:
        """Seed of an item's room tone (one per item: the same floor under its rows in every condition)."""
        return f"zbb-noise:{self.seed}:{item_id}"

    def digest(self) -> str:
        """sha256 of the canonical JSON of the plan: two plans with the same digest render the same audio."""
        cached = self.__dict__.get("_digest")
        if cached is None:  # a full plan takes ~0.15 s to turn into a dict; the build asks for the digest twice
            canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            cached = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            object.__setattr__(self, "_digest", cached)  # frozen: the fields never change, so neither does this
        return cached

    def units(self) -> list[tuple[str, str]]:
        """Distinct shared utterances (text, voice): contexts and fillers, in first-use order."""
        seen: dict[tuple[str, str], None] = {}
        for item in self.items:
            for row in item.rows:
                seen.setdefault((row.context_text, item.voice), None)
                if row.buffer_text:
                    seen.setdefault((row.buffer_text, item.voice), None)
        return list(seen)


def select_items(bank: Sequence[BankItem], preset: str) -> list[BankItem]:
    """The items a preset builds: the first N subjects of the bank (both claims of each), in bank order."""
    if preset not in PRESETS:
        raise UnknownNameError(f"unknown preset {preset!r}; available: {', '.join(PRESETS)}")
    n_subjects = PRESETS[preset]
    if n_subjects is None:
        return list(bank)
    subjects: list[str] = []
    for item in bank:
        key = item.subject.lower()
        if key not in subjects:
            subjects.append(key)
    keep = set(subjects[:n_subjects])
    return [item for item in bank if item.subject.lower() in keep]


def _samples(rng: random.Random, span_s: tuple[float, float], sample_rate: int) -> int:
    return rng.randint(round(span_s[0] * sample_rate), round(span_s[1] * sample_rate))


def plan_build(
    bank: Sequence[BankItem],
    recipe: Recipe,
    *,
    seed: int = 0,
    engine_name: str = "espeak",
    voices: Sequence[str],
    conditions: Sequence[str] = CONDITIONS,
    preset: str = "full",
    sample_rate: int = 24000,
    bank_sha256: str = "",
    levels: Levels = LEGACY,
) -> BuildPlan:
    """Decide every row of the build from the bank, the recipe and the seed (no audio, no engine calls).

    Each item draws from its own generator seeded by (seed, item id), so adding or removing items does not change
    the others' texts or silences. Voices are dealt round-robin over a seeded shuffle, so they stay balanced.
    `interrupt` and `interrupt_buffered` share the prompt and the gap; the buffered row only adds a filler.
    The long-talk prompt is drawn from those whose topics (the recipe's `prompt_topics`) leave out the item's
    category, so a model that carries on talking cannot name the subject without having heard it.
    """
    from zbb.bank import claim_text

    if not voices:
        raise ZbbError(f"engine {engine_name!r}: no voices to build with; expected at least one")
    check_names(conditions, CONDITIONS)
    if not conditions:
        raise UnknownNameError(f"no condition given; available: {', '.join(CONDITIONS)}")
    if sample_rate < 8000:
        raise ZbbError(f"sample rate must be at least 8000 Hz, got {sample_rate}")
    items = select_items(bank, preset)
    order = list(range(len(items)))
    random.Random(f"zbb-voices:{seed}").shuffle(order)
    voice_of = {items[i].id: voices[rank % len(voices)] for rank, i in enumerate(order)}

    planned: list[ItemPlan] = []
    for item in items:
        rng = random.Random(f"zbb:{seed}:{item.id}")
        confirmation = item.confirmation or rng.choice(recipe.confirmations)
        greeting = rng.choice(recipe.greetings)
        prompt = rng.choice(prompts_away_from(recipe, item.category))
        filler = rng.choice(recipe.fillers)
        quiet_gap = _samples(rng, NO_INTERRUPT_GAP_S, sample_rate)
        talk_gap = _samples(rng, INTERRUPT_GAP_S, sample_rate)
        buffer_gap = _samples(rng, BUFFER_GAP_S, sample_rate)
        lead_in, tail = round(LEAD_IN_S * sample_rate), round(TAIL_S * sample_rate)
        rows = {
            NO_INTERRUPT: RowPlan(NO_INTERRUPT, greeting, "", lead_in, quiet_gap, 0, tail),
            INTERRUPT: RowPlan(INTERRUPT, prompt, "", lead_in, talk_gap, 0, tail),
            INTERRUPT_BUFFERED: RowPlan(INTERRUPT_BUFFERED, prompt, filler, lead_in, talk_gap, buffer_gap, tail),
        }
        planned.append(
            ItemPlan(
                item=item,
                claim=claim_text(item, confirmation),
                voice=voice_of[item.id],
                rows=tuple(rows[c] for c in CONDITIONS if c in conditions),
            )
        )
    return BuildPlan(
        seed=seed,
        preset=preset,
        engine=engine_name,
        sample_rate=sample_rate,
        conditions=tuple(c for c in CONDITIONS if c in conditions),
        voices=tuple(voices),
        bank_sha256=bank_sha256,
        recipe_version=str(recipe.version),
        items=tuple(planned),
        levels=levels,
    )


def prompts_away_from(recipe: Recipe, category: str) -> tuple[str, ...]:
    """The recipe's long-talk prompts not tagged with `category` (all of them if every one is)."""
    topics = recipe.prompt_topics
    away = tuple(p for p in recipe.long_talk_prompts if category not in topics.get(p, ()))
    return away or tuple(recipe.long_talk_prompts)
