"""ONE versioned English normaliser, applied identically to references and hypotheses, and subject matching.

`normalise` wraps whisper_normalizer's `EnglishTextNormalizer` (lower case, contractions expanded, punctuation
and fillers removed, number words to digits, British to American spelling). Subject matching works on whole
normalised words, so "cat" matches "cats" and "cat's" but never "category".
"""
from __future__ import annotations

import functools
import re
from importlib.metadata import PackageNotFoundError, version

#: Bump when anything below changes what a text normalises to or what counts as a subject hit.
NORMALISER_VERSION = "zbb-en-1"


@functools.cache
def _normalizer():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


@functools.cache
def _inflect():
    import inflect

    return inflect.engine()


def _pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def normaliser_id() -> str:
    """Name, version and the libraries' versions, for provenance."""
    return (f"{NORMALISER_VERSION} (whisper_normalizer {_pkg_version('whisper_normalizer')} EnglishTextNormalizer;"
            f" inflect {_pkg_version('inflect')})")


@functools.lru_cache(maxsize=1 << 16)
def normalise(text: str) -> str:
    """The benchmark's normal form of `text`: what references and responses are compared in.

    Cached: model replies repeat a lot ("yes", "no", "sorry, what?"), and normalising dominates scoring time.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalise: expected a str, got {type(text).__name__}")
    return _normalizer()(text).strip()


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@functools.lru_cache(maxsize=1 << 14)
def word_forms(word: str) -> frozenset[str]:
    """The normalised forms that count as `word`: itself, singular/plural and simple -s/-es/-ies/-'s inflections."""
    w = word.lower()
    forms = {w, w + "s", w + "es", w + "'s", w + "s'"}
    if len(w) > 1 and w.endswith("y") and w[-2] not in "aeiou":
        forms.add(w[:-1] + "ies")
    if w.endswith("ies") and len(w) > 3:
        forms.add(w[:-3] + "y")
    for suffix in ("es", "s", "'s"):
        if w.endswith(suffix) and len(w) > len(suffix) + 1:
            forms.add(w[: -len(suffix)])
    if w.isalpha():
        engine = _inflect()
        singular = engine.singular_noun(w)
        if singular:
            forms.add(singular)
        try:
            forms.add(engine.plural_noun(singular or w))
        except (ValueError, TypeError):  # inflect refuses some inputs (e.g. very short words); the rules above suffice
            pass
    return frozenset(f for f in forms if f)


@functools.lru_cache(maxsize=1 << 14)
def subject_words(subject: str) -> tuple[str, ...]:
    """The normalised words of a subject ("Eiffel Tower" -> ("eiffel", "tower"))."""
    return tuple(normalise(subject).split())


def words_of(normalised: str) -> list[str]:
    return normalised.split()


def contains_subject(subject: str, normalised_response: str) -> bool:
    """IWOR: does the subject occur, as whole words, in an already normalised response?

    Every subject word may appear in any simple inflection ("submarines", "cat's"); a multi-word subject must
    appear as a contiguous run. A subject that normalises to nothing never matches.
    """
    target = subject_words(subject)
    if not target:
        return False
    tokens = normalised_response.split()
    forms = [word_forms(w) for w in target]
    n = len(target)
    for i in range(len(tokens) - n + 1):
        if all(tokens[i + j] in forms[j] for j in range(n)):
            return True
    return False
