"""Shared fixtures. `tiny_dataset`: a real `--preset tiny` build (the default hibari engine), made once per test session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property-based tests stay fast in the default run; `pytest -m fuzz --hypothesis-profile=fuzz` runs them long.
_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile("zbb", max_examples=25, deadline=None, suppress_health_check=_SLOW_DATA)
settings.register_profile("fuzz", max_examples=2000, deadline=None, suppress_health_check=_SLOW_DATA)
settings.load_profile("zbb")

# Used only while the shipped bank/recipe are absent (a fresh tree): enough for a tiny build, same rules.
_FALLBACK_BANK = """id,subject,category,label,description
submarine-t,submarine,vehicles,true,travels under the sea
submarine-f,submarine,vehicles,false,flies in the clouds
giraffe-t,giraffe,animals,true,has a long neck
giraffe-f,giraffe,animals,false,lives at the bottom of the ocean
piano-t,piano,objects,true,has black and white keys
piano-f,piano,objects,false,is played by blowing into it
"""


def _fallback_recipe() -> dict:
    topics = [
        "the history of Rome",
        "how volcanoes form",
        "the life of bees",
        "the rules of chess",
        "how bread is made",
        "the moon landing",
        "how rainbows form",
        "the history of jazz",
        "the water cycle",
        "how computers work",
    ]
    return {
        "version": "test-fallback",
        "confirmations": [
            "right?",
            "isn't it?",
            "correct?",
            "true?",
            "am I right?",
            "yes?",
            "is that so?",
            "don't you think?",
        ],
        "long_talk_prompts": [
            f"Please tell me everything you know about {t}, in detail, part {i}." for i in range(6) for t in topics
        ],
        "fillers": [
            "Um, wait, hold on,",
            "Hey, sorry, quick question,",
            "Uh, excuse me,",
            "Sorry to cut in,",
            "Hmm, wait a second,",
            "Oh, by the way,",
        ],
        "greetings": [
            "Hi there.",
            "Hello.",
            "Hey.",
            "Good morning.",
            "Good evening.",
            "Hello there.",
            "Hi, how are you?",
            "Hey, quick thing.",
            "Hello again.",
            "Good afternoon.",
            "Hi, it's me.",
            "Hey there.",
        ],
    }


def bank_and_recipe(folder: Path) -> tuple[str | None, str | None]:
    """The shipped bank and recipe (None, None), or a fallback pair written into `folder` if they are missing."""
    from zbb.bank import default_bank_path, default_recipe_path

    if default_bank_path().is_file() and default_recipe_path().is_file():
        return None, None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bank.csv").write_text(_FALLBACK_BANK, encoding="utf-8")
    (folder / "recipe.json").write_text(json.dumps(_fallback_recipe()), encoding="utf-8")
    return str(folder / "bank.csv"), str(folder / "recipe.json")


@pytest.fixture(scope="session")
def tiny_bank(tmp_path_factory) -> tuple[str | None, str | None]:
    """(bank, recipe) paths for tiny builds: None means zbb's shipped files."""
    return bank_and_recipe(tmp_path_factory.mktemp("bank"))


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, tiny_bank) -> Path:
    """Path of a ZBB dataset folder built with `--preset tiny` and the real default engine, hibari (built once)."""
    from zbb.builder import build_dataset

    bank, recipe = tiny_bank
    out = tmp_path_factory.mktemp("zbb") / "tiny"
    build_dataset(out, bank=bank, recipe=recipe, preset="tiny", seed=0, progress=False)
    return out
