"""The versioned normaliser and subject matching (IWOR): inflections count, other words containing it do not."""
from __future__ import annotations

import pytest

from zbb.score.normalise import NORMALISER_VERSION, contains_subject, normalise, normaliser_id, word_forms


@pytest.mark.parametrize("text,expected", [
    ("Yes, a submarine travels under the sea!", "yes a submarine travels under the sea"),
    ("That's NOT true.", "that is not true"),
    ("I don't think so", "i do not think so"),
    ("Twenty three cats", "23 cats"),
    ("the colour of the sea", "the color of the sea"),
    ("um, uh, no", "no"),
    ("", ""),
    ("   ", ""),
])
def test_normalise_table(text, expected):
    assert normalise(text) == expected


def test_normaliser_is_versioned_with_its_libraries():
    ident = normaliser_id()
    assert ident.startswith(NORMALISER_VERSION) and "whisper_normalizer" in ident and "inflect" in ident


def test_normalise_refuses_non_text():
    with pytest.raises(TypeError, match="expected a str, got NoneType"):
        normalise(None)


@pytest.mark.parametrize("subject,response,hit", [
    ("Submarine", "yes a submarine travels under the sea", True),
    ("Submarine", "SUBMARINES travel under water", True),              # capitals, plural
    ("Submarine", "the submarine's hull is strong", True),             # possessive
    ("Submarine", "the submarines' hulls", True),                      # plural possessive
    ("Submarine", "Submarine?", True),                                 # punctuation
    ("Cat", "cats purr", True),
    ("Cat", "the category is animals", False),                         # inside another word
    ("Cat", "a catalogue of things", False),
    ("Cat", "concatenate", False),
    ("Cat", "what did you say", False),
    ("Butterfly", "butterflies have wings", True),                     # -y -> -ies
    ("Butterflies", "a butterfly has wings", True),                    # plural subject, singular reply
    ("Bus", "the buses are late", True),                               # -es
    ("Glass", "glasses break", True),
    ("Mouse", "mice are small", True),                                 # irregular plural (inflect)
    ("Child", "children play", True),
    ("Eiffel Tower", "the eiffel tower is in paris", True),            # multi-word subject
    ("Eiffel Tower", "the Eiffel Towers", True),
    ("Eiffel Tower", "the tower in paris", False),                     # only part of it
    ("Eiffel Tower", "eiffel designed a tower", False),                # not contiguous
    ("Seven", "7 days a week", True),                                  # numbers normalised alike
    ("Colour", "what a color", True),                                  # spelling normalised alike
    ("Submarine", "", False),
    ("...", "anything at all", False),                                 # a subject that normalises to nothing
])
def test_subject_hit_table(subject, response, hit):
    assert contains_subject(subject, normalise(response)) is hit


def test_word_forms_are_whole_words():
    forms = word_forms("cat")
    assert {"cat", "cats", "cat's"} <= forms and "category" not in forms
