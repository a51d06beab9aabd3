"""ONE versioned English normaliser, applied identically to references and hypotheses, and subject matching.

`normalise` wraps whisper_normalizer's `EnglishTextNormalizer` (lower case, contractions expanded, punctuation
and fillers removed, number words to digits, British to American spelling). Subject matching works on whole
normalised words, so "cat" matches "cats" and "cat's" but never "category".
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import inflect
    from whisper_normalizer.english import EnglishTextNormalizer

#: Bump when anything below changes what a text normalises to or what counts as a subject hit.
NORMALISER_VERSION = "zbb-en-1"


_REGEX_META = set(".^$*+?{}[]\\|()")
_PREFIX_SYMBOLS = frozenset(".$¢€£")


@functools.cache
def _normalizer() -> EnglishTextNormalizer:
    """whisper_normalizer's EnglishTextNormalizer, with the same steps run faster (same output, tested).

    The library passes pattern strings to `re.sub` on every call and runs all 34 contraction/title replacers on
    every text. Here the patterns are compiled once, a replacer whose literal text is absent is skipped (it
    cannot match), pure-ASCII text skips the per-character Unicode symbol pass via an equivalent table, and
    text with no digit, currency sign or number word skips the number pass.
    `tests/test_normalise.py` checks the output equals the library's on a varied corpus.
    """
    import unicodedata

    from whisper_normalizer.basic import remove_symbols_and_diacritics
    from whisper_normalizer.english import EnglishTextNormalizer

    keep = ".%$¢€£"
    ascii_table = {i: " " for i in range(128) if chr(i) not in keep and unicodedata.category(chr(i))[0] in "MSP"}

    class CompiledEnglishTextNormalizer(EnglishTextNormalizer):
        def __init__(self) -> None:
            super().__init__()
            self._ignore = re.compile(self.ignore_patterns)
            self._replacers = []
            for pattern, replacement in self.replacers.items():
                literal = pattern.replace(r"\b", "")
                guard = literal if not (set(literal) & _REGEX_META) else None
                self._replacers.append((guard, re.compile(pattern), replacement))
            self._brackets = re.compile(r"[<\[][^>\]]*[>\]]")
            self._parens = re.compile(r"\(([^)]+?)\)")
            self._space_apostrophe = re.compile(r"\s+'")
            self._digit_commas = re.compile(r"(\d),(\d)")
            self._periods = re.compile(r"\.([^0-9]|$)")
            self._prefix_symbols = re.compile(r"[.$¢€£]([^0-9])")
            self._percent = re.compile(r"([^0-9])%")
            self._spaces = re.compile(r"\s+")
            numbers = self.standardize_numbers
            self._number_words = frozenset(numbers.words) | frozenset(numbers.literal_words)
            self._number_chars = re.compile(r"[0-9$¢€£%]")

        def __call__(self, s: str) -> str:  # the library's steps, in its order
            # A pattern is run only where the characters every match needs occur (the same result, sooner).
            s = s.lower()
            if "<" in s or "[" in s:
                s = self._brackets.sub("", s)
            if "(" in s:
                s = self._parens.sub("", s)
            if "hm" in s or "mm" in s or "uh" in s or "um" in s:  # hmm mm mhm mmm uh um
                s = self._ignore.sub("", s)
            if "'" in s:
                s = self._space_apostrophe.sub("'", s)
            for guard, pattern, replacement in self._replacers:
                if guard is None or guard in s:
                    s = pattern.sub(replacement, s)
            if "," in s:
                s = self._digit_commas.sub(r"\1\2", s)
            if "." in s:
                s = self._periods.sub(r" \1", s)
            s = s.translate(ascii_table) if s.isascii() else remove_symbols_and_diacritics(s, keep=keep)
            # The number pass only changes digits, currency/percent signs and number words; skip text without
            # any (the spelling pass below re-joins the words exactly as the number pass would have).
            if self._number_chars.search(s) or not self._number_words.isdisjoint(s.split()):
                s = _numbers_or_as_is(self.standardize_numbers, s)
            s = self.standardize_spellings(s)
            if not _PREFIX_SYMBOLS.isdisjoint(s):
                s = self._prefix_symbols.sub(r" \1", s)
            if "%" in s:
                s = self._percent.sub(r"\1 ", s)
            return self._spaces.sub(" ", s)

    return CompiledEnglishTextNormalizer()


def _numbers_or_as_is(standardize: Callable[[str], str], s: str) -> str:
    """The library's number pass, made total: it asserts on numbers Python cannot convert (more than 4300 digits,
    `sys.get_int_max_str_digits`) and fails on other odd digit runs; such a text keeps its words as they are
    (it was never scoreable as a number, and the normaliser must give every string a normal form)."""
    try:
        return standardize(s)
    except (AssertionError, ValueError, ArithmeticError, IndexError, KeyError, TypeError):
        return s


@functools.cache
def normalizer_without_numbers() -> EnglishTextNormalizer:
    """The fast normaliser with its number pass turned off (the rule judge's stance words keep "oh", "no one" as
    words): a copy of `_normalizer()` sharing its compiled patterns, equal to the library's EnglishTextNormalizer
    with `standardize_numbers` a no-op (tested)."""
    import copy

    words_only = copy.copy(_normalizer())
    words_only.standardize_numbers = lambda text: text
    return words_only


@functools.cache
def library_normalizer() -> EnglishTextNormalizer:
    """The library's own EnglishTextNormalizer, unmodified (the reference `normalise` must agree with)."""
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


@functools.cache
def _inflect() -> inflect.engine:
    """One inflect engine per process, imported without typeguard's run-time instrumentation.

    inflect decorates 23 methods with `typeguard.typechecked`, which re-reads and recompiles inflect's whole
    4,000-line module for each of them at import: about 1.8 s of CPU, most of `zbb score`'s start-up (0.17 s
    under `python -O`, where the decorator is a no-op). The checks only refuse non-strings and empty strings,
    which zbb never passes (it calls inflect on alphabetic words only), so inflect is imported with the decorator
    a no-op, as `-O` would, and gives the same answers (tested against a normal import). inflect takes nothing
    else from typeguard, so typeguard itself (0.06 s of imports) is not loaded for it: during inflect's import
    `typeguard` names a stand-in holding only the no-op decorator, and afterwards whatever it named before.
    """
    import sys
    import types

    if "inflect" not in sys.modules:
        before = sys.modules.get("typeguard")
        stand_in = types.ModuleType("typeguard", "zbb's stand-in while inflect is imported: typechecked as under -O")
        stand_in.typechecked = _not_typechecked  # type: ignore[attr-defined]
        sys.modules["typeguard"] = stand_in
        try:
            import inflect
        finally:
            if before is None:
                del sys.modules["typeguard"]
            else:
                sys.modules["typeguard"] = before
    import inflect

    return inflect.engine()


def _not_typechecked(target: Any = None, **_options: object) -> Any:  # stands in for a third-party decorator
    """`typeguard.typechecked` as it behaves under `python -O`: returns the target unchanged."""
    return target if target is not None else _not_typechecked


def _pkg_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version  # 0.02 s: only when a score records provenance

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def normaliser_id() -> str:
    """Name, version and the libraries' versions, for provenance."""
    return (
        f"{NORMALISER_VERSION} (whisper_normalizer {_pkg_version('whisper_normalizer')} EnglishTextNormalizer;"
        f" inflect {_pkg_version('inflect')})"
    )


# Cache of normal forms: model replies repeat a lot ("yes", "no", "sorry, what?"), and normalising dominates
# scoring time. A plain dict (not lru_cache) so results computed by worker processes can be kept too.
_CACHE: dict[str, str] = {}
_CACHE_MAX = 1 << 17


def _remember(text: str, normal: str) -> None:
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[text] = normal


def clear_cache() -> None:
    _CACHE.clear()


def normalise(text: str) -> str:
    """The benchmark's normal form of `text`: what references and responses are compared in."""
    normal = _CACHE.get(text) if isinstance(text, str) else None
    if normal is None:
        if not isinstance(text, str):
            raise TypeError(f"normalise: expected a str, got {type(text).__name__}")
        normal = _normalizer()(text).strip()
        _remember(text, normal)
    return normal


#: Below this many distinct texts, normalising in one process beats starting workers.
PARALLEL_MIN = 4000


def _normalise_chunk(texts: list[str]) -> list[str]:
    run = _normalizer()
    return [run(t).strip() for t in texts]


def normalise_many(texts: list[str], *, workers: int | None = None) -> list[str]:
    """`normalise` over many texts: distinct texts once; large batches split over forked worker processes.

    `workers` None uses every CPU; 1 keeps everything in this process. Results are identical either way. The
    batch's results are kept in a dict of its own, not read back from the bounded shared cache: a batch with
    more distinct texts than the cache holds is still normalised once, never again serially after an eviction.
    """
    known: dict[str, str] = {}
    distinct: list[str] = []
    for text in dict.fromkeys(texts):
        if not isinstance(text, str):
            raise TypeError(f"normalise: expected a str, got {type(text).__name__}")
        normal = _CACHE.get(text)
        if normal is None:
            distinct.append(text)
        else:
            known[text] = normal
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers > 1 and len(distinct) >= PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        _normalizer()  # build it before forking, so workers inherit it instead of rebuilding
        size = -(-len(distinct) // workers)
        chunks = [distinct[i : i + size] for i in range(0, len(distinct), size)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            done = [n for part in pool.map(_normalise_chunk, chunks) for n in part]
    else:
        done = _normalise_chunk(distinct)
    for text, normal in zip(distinct, done, strict=True):
        known[text] = normal
        _remember(text, normal)
    return [known[t] for t in texts]


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
        # inflect refuses some inputs (e.g. very short words); the rules above suffice
        with contextlib.suppress(ValueError, TypeError):
            forms.add(engine.plural_noun(singular or w))
    return frozenset(f for f in forms if f)


@functools.lru_cache(maxsize=1 << 14)
def subject_words(subject: str) -> tuple[str, ...]:
    """The normalised words of a subject ("Eiffel Tower" -> ("eiffel", "tower"))."""
    return tuple(normalise(subject).split())


def words_of(normalised: str) -> list[str]:
    return normalised.split()


def contains_subject(subject: str, normalised_response: str, aliases: Iterable[str] = ()) -> bool:
    """IWOR: does the subject, or one of its accepted spellings (`aliases`: "donut" for doughnut), occur as whole
    words in an already normalised response?

    Every subject word may appear in any simple inflection ("submarines", "cat's"); a multi-word subject must
    appear as a contiguous run. A subject that normalises to nothing never matches.
    """
    return any(_contains_words(name, normalised_response) for name in (subject, *aliases))


def _contains_words(subject: str, normalised_response: str) -> bool:
    forms = _subject_forms(subject)
    if not forms:
        return False
    tokens = normalised_response.split()
    first, rest = forms[0], forms[1:]
    if not rest:
        return not first.isdisjoint(tokens)
    n = len(forms)
    return any(
        tokens[i] in first and all(tokens[i + j] in rest[j - 1] for j in range(1, n))
        for i in range(len(tokens) - n + 1)
    )


@functools.lru_cache(maxsize=1 << 14)
def _subject_forms(subject: str) -> tuple[frozenset[str], ...]:
    """The accepted forms of each word of a subject, in order (one lookup per row instead of one per word)."""
    return tuple(word_forms(w) for w in subject_words(subject))
