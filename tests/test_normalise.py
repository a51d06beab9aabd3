"""The versioned normaliser and subject matching (IWOR): inflections count, other words containing it do not."""

from __future__ import annotations

import pytest

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


def test_normalise_many_in_workers_equals_one_process(monkeypatch):
    from zbb.score import normalise as norm

    corpus = _varied_corpus(300, seed=8) * 2
    norm.clear_cache()
    one = norm.normalise_many(corpus, workers=1)
    norm.clear_cache()
    monkeypatch.setattr(norm, "PARALLEL_MIN", 10)
    assert norm.normalise_many(corpus, workers=2) == one
    assert one == [norm.library_normalizer()(t).strip() for t in corpus]


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
