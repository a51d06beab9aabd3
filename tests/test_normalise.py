"""The versioned normaliser and subject matching (IWOR): inflections count, other words containing it do not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zbb.score.normalise import NORMALISER_VERSION, contains_subject, normalise, normaliser_id, word_forms


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Yes, a submarine travels under the sea!", "yes a submarine travels under the sea"),
        ("That's NOT true.", "that is not true"),
        ("I don't think so", "i do not think so"),
        ("Twenty three cats", "23 cats"),
        ("the colour of the sea", "the color of the sea"),
        ("um, uh, no", "no"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_table(text, expected):
    assert normalise(text) == expected


def test_normaliser_is_versioned_with_its_libraries():
    ident = normaliser_id()
    assert ident.startswith(NORMALISER_VERSION) and "whisper_normalizer" in ident and "inflect" in ident


def test_normalise_refuses_non_text():
    with pytest.raises(TypeError, match="expected a str, got NoneType"):
        normalise(None)


@pytest.mark.parametrize(
    "subject,response,hit",
    [
        ("Submarine", "yes a submarine travels under the sea", True),
        ("Submarine", "SUBMARINES travel under water", True),  # capitals, plural
        ("Submarine", "the submarine's hull is strong", True),  # possessive
        ("Submarine", "the submarines' hulls", True),  # plural possessive
        ("Submarine", "Submarine?", True),  # punctuation
        ("Cat", "cats purr", True),
        ("Cat", "the category is animals", False),  # inside another word
        ("Cat", "a catalogue of things", False),
        ("Cat", "concatenate", False),
        ("Cat", "what did you say", False),
        ("Butterfly", "butterflies have wings", True),  # -y -> -ies
        ("Butterflies", "a butterfly has wings", True),  # plural subject, singular reply
        ("Bus", "the buses are late", True),  # -es
        ("Glass", "glasses break", True),
        ("Mouse", "mice are small", True),  # irregular plural (inflect)
        ("Child", "children play", True),
        ("Eiffel Tower", "the eiffel tower is in paris", True),  # multi-word subject
        ("Eiffel Tower", "the Eiffel Towers", True),
        ("Eiffel Tower", "the tower in paris", False),  # only part of it
        ("Eiffel Tower", "eiffel designed a tower", False),  # not contiguous
        ("Seven", "7 days a week", True),  # numbers normalised alike
        ("Colour", "what a color", True),  # spelling normalised alike
        ("Submarine", "", False),
        ("...", "anything at all", False),  # a subject that normalises to nothing
    ],
)
def test_subject_hit_table(subject, response, hit):
    assert contains_subject(subject, normalise(response)) is hit


def test_word_forms_are_whole_words():
    forms = word_forms("cat")
    assert {"cat", "cats", "cat's"} <= forms and "category" not in forms


def _varied_corpus(n: int, seed: int) -> list[str]:
    import random

    pieces = [
        "won't",
        "can't",
        "Mr.",
        "Dr",
        "St. John's",
        "it's",
        "they're",
        "I'd been",
        "she's gone",
        "twenty-three",
        "1,000",
        "$5.50",
        "3.5%",
        "50%",
        "colour",
        "(aside)",
        "[noise]",
        "<unk>",
        "um",
        "hmm,",
        "naïve",
        "café",
        "Œuvre",
        "ß",
        "—",
        "y'all",
        "gonna",
        "cause",
        "ain't",
        "one hundred and five",
        "first",
        "2nd",
        "and a half",
        "and",
        "point",
        "double",
        "oh",
        "ones",
        "minus",
        "dollars",
        "cents",
        "per cent",
        "second",
        "Yes!",
        "...",
        "rock 'n' roll",
        "10 o'clock",
        "e.g.",
        "U.S.A.",
        "£20",
        "€3",
        "cats'",
        "jazz",
        "no",
        "  ",
        "submarine",
    ]
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 9))) for _ in range(n)]


def test_fast_normaliser_equals_the_library_on_a_varied_corpus():
    from zbb.score.normalise import _normalizer, library_normalizer

    fast, reference = _normalizer(), library_normalizer()
    corpus = _varied_corpus(5000, seed=7)
    assert [fast(t).strip() for t in corpus] == [reference(t).strip() for t in corpus]


@given(st.text(alphabet="<>[]()',.$¢€£%hmu 0123456789aeİ\u00a0\t", max_size=40) | st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_the_fast_normaliser_skips_a_pattern_only_where_it_cannot_match(text):
    """Each pattern runs only where the characters its matches need occur: brackets, parentheses, fillers,
    apostrophes, commas, periods, currency and percent signs, with and without numbers."""
    from zbb.score.normalise import _normalizer, library_normalizer

    assert _normalizer()(text) == library_normalizer()(text)


def test_normalise_many_in_workers_equals_one_process(monkeypatch):
    from zbb.score import normalise as norm

    corpus = _varied_corpus(300, seed=8) * 2
    norm.clear_cache()
    one = norm.normalise_many(corpus, workers=1)
    norm.clear_cache()
    monkeypatch.setattr(norm, "PARALLEL_MIN", 10)
    assert norm.normalise_many(corpus, workers=2) == one
    assert one == [norm.library_normalizer()(t).strip() for t in corpus]


def test_inflect_without_typeguard_answers_as_a_normal_import():
    # zbb imports inflect with typeguard's decorator a no-op (1.8 s of CPU saved per run); on the words zbb asks
    # about (alphabetic, non-empty) inflect must answer exactly as a normal import does, here in a fresh process.
    import csv
    import json
    import subprocess
    import sys
    from pathlib import Path

    from zbb.score.normalise import _inflect

    bank = Path(__file__).resolve().parents[1] / "builders" / "bank.csv"
    with bank.open(newline="", encoding="utf-8") as fh:
        words = sorted({w.lower() for row in csv.DictReader(fh) for w in row["subject"].split() if w.isalpha()})
    words += ["mice", "geese", "sheep", "data", "octopi", "cactuses", "buses", "wolves", "is", "a", "yes", "lens"]
    script = (
        "import inflect, json, sys, typeguard\n"
        "e = inflect.engine()\n"
        "words = json.load(sys.stdin)\n"
        "print(json.dumps([[e.singular_noun(w), e.plural_noun(w)] for w in words]))\n"
    )
    normal = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(words), capture_output=True, text=True, check=True
    )
    engine = _inflect()
    ours = [[engine.singular_noun(w), engine.plural_noun(w)] for w in words]
    assert len(words) > 300
    assert ours == json.loads(normal.stdout)


def test_inflect_import_leaves_typeguard_as_it_was():
    import typeguard

    from zbb.score.normalise import _inflect

    before = typeguard.typechecked
    _inflect()
    assert typeguard.typechecked is before and typeguard.typechecked.__module__.startswith("typeguard")


def test_normalise_many_normalises_each_text_once_even_past_the_cache(monkeypatch):
    # A batch with more distinct texts than the shared cache holds used to be normalised, evicted, and normalised
    # again one by one; each distinct text must go through the normaliser exactly once.
    from zbb.score import normalise as norm

    real = norm._normalizer()
    seen: list[str] = []

    def counting(text: str) -> str:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(norm, "_normalizer", lambda: counting)
    monkeypatch.setattr(norm, "_CACHE_MAX", 7)
    norm.clear_cache()
    texts = [f"Reply number {i % 40}, yes!" for i in range(120)]
    assert norm.normalise_many(texts, workers=1) == [real(t).strip() for t in texts]
    assert sorted(seen) == sorted(set(texts)) and len(norm._CACHE) <= 7
    norm.clear_cache()


def _contains_subject_reference(subject: str, normalised_response: str) -> bool:
    """The definition, written plainly: every subject word in one of its forms, as a contiguous run."""
    from zbb.score.normalise import subject_words

    target = subject_words(subject)
    tokens = normalised_response.split()
    forms = [word_forms(w) for w in target]
    return bool(target) and any(
        all(tokens[i + j] in forms[j] for j in range(len(target))) for i in range(len(tokens) - len(target) + 1)
    )


_VOCAB = ["cat", "cats", "eiffel", "tower", "towers", "the", "no", "category", "mice", "mouse", "ice", "cream", "s"]


@given(
    subject=st.lists(st.sampled_from(_VOCAB), min_size=0, max_size=3).map(" ".join),
    response=st.lists(st.sampled_from(_VOCAB), max_size=12).map(" ".join),
)
@settings(max_examples=300, deadline=None)
def test_contains_subject_equals_its_plain_definition(subject, response):
    assert contains_subject(subject, response) == _contains_subject_reference(subject, response)


@pytest.mark.parametrize(
    ("response", "hit"),
    [
        ("i love donuts", True),
        ("a dough-nut", True),  # hyphen normalised to a space: the open spelling
        ("doughnuts are sweet", True),  # the subject itself still counts
        ("dough is sticky", False),  # part of a multi-word alias
        ("donate it", False),
    ],
)
def test_aliases_count_as_the_subject(response, hit):
    assert contains_subject("doughnut", normalise(response), ("donut", "dough nut")) is hit
    assert contains_subject("doughnut", normalise(response)) is (hit and "doughnut" in response)


def test_the_normaliser_without_numbers_equals_the_library_without_its_number_pass():
    """rule-v2 reads stance words with the number pass off; zbb's compiled normaliser must then give exactly what
    the library's EnglishTextNormalizer gives with `standardize_numbers` a no-op."""
    import json
    from pathlib import Path

    from whisper_normalizer.english import EnglishTextNormalizer

    from zbb.score.normalise import normalizer_without_numbers

    library = EnglishTextNormalizer()
    library.standardize_numbers = lambda text: text
    corpus = Path(__file__).parent / "data" / "judge_corpus.jsonl"
    texts = [json.loads(line)["reply"] for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += ["I'd say twenty-three, oh no one knows", "It's 100% true, £5!", "Mr. Smith's colour... (sic) [noise]"]
    assert len(texts) > 100
    fast = normalizer_without_numbers()
    assert [fast(t) for t in texts] == [library(t) for t in texts]
    assert normalise("twenty three") == "23"  # the shared normaliser keeps its number pass


def test_inflect_import_loads_no_typeguard():
    # typeguard costs 0.06 s of imports that inflect, imported with the decorator a no-op, does not need; and the
    # stand-in that replaces it during that import must not stay behind for anyone else.
    import subprocess
    import sys

    code = (
        "import sys\nfrom zbb.score.normalise import _inflect\ne = _inflect()\n"
        "assert e.plural_noun('mouse') == 'mice', e.plural_noun('mouse')\n"
        "assert 'typeguard' not in sys.modules, sys.modules['typeguard']\n"
        "import typeguard\nassert typeguard.typechecked.__module__.startswith('typeguard')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
