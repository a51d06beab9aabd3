"""Subjects a listener can mishear, found with the CMU Pronouncing Dictionary (the `pronouncing` package).

A subject is flagged when one of its pronunciations is also the pronunciation of another common English word
(a homophone: *muscle*/*mussel*), or becomes one under the US flap, where /t/ and /d/ between a vowel and an
unstressed vowel sound alike (*petal*/*pedal*), or when it is very short (two phonemes or fewer: *eel*, *tea*),
so that a clipped first sound leaves little to recognise. "Common" means the other word is a lowercase entry of
the curated US pronouncing lexicon that ships with hibari-tts (misaki's "gold" list), which keeps out the
surnames and place names that fill the CMU dictionary. Spelling variants of one word are not confusions.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass

MAX_SHORT_PHONEMES = 2

#: Pairs that are one word spelled two ways (a listener cannot get them wrong).
SPELLING_VARIANTS = frozenset(
    frozenset(pair)
    for pair in (
        ("ax", "axe"),
        ("harbor", "harbour"),
        ("theater", "theatre"),
        ("ketchup", "catsup"),
        ("donut", "doughnut"),
        ("gray", "grey"),
    )
)

_VOWEL = re.compile(r"^[AEIOU]")


@dataclass(frozen=True)
class Confusion:
    """Why a word is easy to mishear: `kind` is "homophone", "flap" or "short"; `other` the word it sounds like."""

    word: str
    kind: str
    other: str = ""

    def __str__(self) -> str:
        if self.kind == "short":
            return f"{self.word!r} is very short (at most {MAX_SHORT_PHONEMES} phonemes)"
        how = "sounds like" if self.kind == "homophone" else "sounds like (US flap t/d)"
        return f"{self.word!r} {how} {self.other!r}"


def _flapped(phones: str) -> str:
    """The pronunciation with /t/ and /d/ after a vowel and before an unstressed vowel merged into one flap."""
    ph = phones.split()
    return " ".join(
        "DX"
        if p in ("T", "D") and 0 < i < len(ph) - 1 and _VOWEL.match(ph[i - 1]) and re.match(r"^[AEIOU]\w*0$", ph[i + 1])
        else p
        for i, p in enumerate(ph)
    )


@functools.cache
def _tables() -> tuple[dict[str, set[str]], dict[str, set[str]], frozenset[str]]:
    import gzip
    import json
    from pathlib import Path

    import pronouncing
    from hibari import tts as hibari_tts

    pronouncing.init_cmu()
    exact: dict[str, set[str]] = defaultdict(set)
    flapped: dict[str, set[str]] = defaultdict(set)
    for word, phones in pronouncing.pronunciations:
        exact[phones].add(word)
        flapped[_flapped(phones)].add(word)
    with gzip.open(Path(hibari_tts.ASSETS) / "lexicon_us_gold.json.gz", "rt", encoding="utf-8") as fh:
        common = frozenset(w for w in json.load(fh) if w.islower())
    return exact, flapped, common


def confusions(word: str) -> list[Confusion]:
    """Every reason `word` is easy to mishear (empty when none, or when the dictionary does not know it)."""
    import pronouncing

    word = word.lower()
    exact, flapped, common = _tables()
    prons = pronouncing.phones_for_word(word)
    found: dict[str, Confusion] = {}  # other word -> the first reason found (exact homophones first)
    for kind, table, key in (("homophone", exact, str), ("flap", flapped, _flapped)):
        for phones in prons:
            for other in sorted(table[key(phones)]):
                if other != word and other in common and frozenset((word, other)) not in SPELLING_VARIANTS:
                    found.setdefault(other, Confusion(word, kind, other))
    out = list(found.values())
    if prons and min(len(p.split()) for p in prons) <= MAX_SHORT_PHONEMES:
        out.append(Confusion(word, "short"))
    return out
