"""rule-v2 (the default judge): every reply class issue 8 quotes is read as a careful human reads it, the corpus
agreement holds on the tuning and the held-out split, rule-v1 stays selectable, and any text gets a verdict."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zbb.score.judge import STANCES, JudgeInput, make_judge
from zbb.score.normalise import normalise
from zbb.score.rule_judge_v2 import RuleJudgeV2, stance_words

ROOT = Path(__file__).resolve().parent.parent


def verdict(subject: str, description: str, reply: str, aliases: tuple[str, ...] = (), judge=None):
    item = JudgeInput(
        id="x",
        condition="interrupt",
        claim=f"{subject} {description}, right?",
        subject=subject,
        description=description,
        response=reply,
        normalised=normalise(reply),
        aliases=aliases,
    )
    return (judge or RuleJudgeV2()).judge_many([item])[0]


def check(cases, judge=None):
    for subject, description, reply, expected in cases:
        got = verdict(subject, description, reply, judge=judge)
        assert got.stance == expected, (reply, got)
        assert got.reason


# --------------------------------------------------------------------------------- the classes issue 8 quotes
def test_carried_on_talk_that_shares_description_words_is_no_answer():
    check(
        [
            ("Giraffe", "has a very long neck", "and it was a long war that lasted for decades", "no_answer"),
            ("Elephant", "has a long trunk", "so the trunk of the car was long", "no_answer"),
            ("Lion", "hunts other animals for food", "other animals also need food in winter", "no_answer"),
            ("Owl", "hunts mice at night", "and at night the guards hunted for the thieves", "no_answer"),
            # naming the subject without the description's meaning is not a restatement either
            ("Salt", "tastes very sweet", "the salt trade made venice rich", "no_answer"),
            # while a reply about this claim still is one
            ("Elephant", "has a long trunk", "an elephant's trunk is really long", "affirm"),
            ("Giraffe", "lives at the bottom of the ocean", "they don't live in the ocean", "deny"),
        ]
    )


def test_asr_word_salad_is_no_answer():
    check(
        [
            ("Giraffe", "has a very long neck", "germaine the mets and long and", "no_answer"),
            ("Spider", "spins webs", "uh the and spider so web the", "no_answer"),
            ("Honey", "is made by cows", "uh the cows the honey and the", "no_answer"),
        ]
    )


def test_a_discourse_marker_before_the_old_topic_is_no_answer():
    check(
        [
            (
                "Submarine",
                "flies in the clouds",
                "no no no, I was saying the Renaissance started in Florence",
                "no_answer",
            ),
            ("Bread", "is made from flour", "right and then the romans built aqueducts to carry water", "no_answer"),
            ("Ferry", "is a kind of boat", "yeah so anyway the printing press changed everything", "no_answer"),
            ("Clock", "cooks your dinner", "okay so where was i the french revolution", "no_answer"),
            ("Owl", "hunts mice at night", "right and the owls of athens were on their coins", "no_answer"),
            # an answer given before carrying on still counts
            ("Giraffe", "has a very long neck", "yes giraffes have long necks anyway so the romans", "affirm"),
        ]
    )


def test_a_marker_followed_by_this_claim_is_an_answer():
    check(
        [
            ("Ferry", "is a kind of boat", "yeah so ferries are like big boats", "affirm"),
            ("Ferry", "is a kind of boat", "right so ferries are boats that carry cars too", "affirm"),
            ("Umbrella", "is used for digging holes", "no no no umbrellas are for rain", "deny"),
            ("Giraffe", "has a very long neck", "no no giraffes definitely have long necks", "affirm"),
        ]
    )


def test_negated_negatives_affirm():
    check(
        [
            ("Flour", "is used to make bread", "You're not wrong, flour is the main thing in bread", "affirm"),
            ("Cork", "comes from the bark of a tree", "Not untrue, it's bark", "affirm"),
            ("Cork", "comes from the bark of a tree", "it's not untrue", "affirm"),
            ("Flour", "is used to make bread", "that's not incorrect", "affirm"),
            ("Bread", "is made from flour", "i wouldn't say that's wrong", "affirm"),
            ("Bread", "is made from glass", "that's not right", "deny"),  # a negated affirmation still denies
            ("Bread", "is made from glass", "that's not true at all", "deny"),
        ]
    )


def test_a_leading_it_is_affirms():
    check(
        [
            ("Falcon", "is very fast", "It is, falcons are really fast", "affirm"),
            ("Elephant", "has a long trunk", "they do they have really long trunks", "affirm"),
            ("Bread", "is made from glass", "it is not bread is made from wheat", "deny"),
            # not an echo answer: the clause goes on ("it is a long story")
            ("Giraffe", "has a very long neck", "it is a long story that starts in rome", "no_answer"),
        ]
    )


def test_idioms_of_agreement_and_refusal():
    check(
        [
            ("Bread", "is made from flour", "Can't argue with that", "affirm"),
            ("Elephant", "has a long trunk", "Nothing truer than that", "affirm"),
            ("Giraffe", "has a very long neck", "you can say that again", "affirm"),
            ("Volcano", "can erupt with lava", "tell me about it", "affirm"),
            ("Elephant", "fits inside a matchbox", "haha in your dreams", "deny"),
            ("Cheetah", "is slower than a snail", "you've got that backwards", "deny"),
            ("Elephant", "fits inside a matchbox", "not in a million years", "deny"),
        ]
    )


def test_its_not_like_they_dont_affirms():
    check(
        [
            ("Ant", "lives in colonies", "It's not like they don't, ants always live in colonies", "affirm"),
            ("Submarine", "travels under the sea", "it's not like they don't", "affirm"),
            ("Submarine", "travels under the sea", "it's not as if they can't go under the sea", "affirm"),
            ("Submarine", "flies in the clouds", "it's not like submarines fly in the clouds", "deny"),
        ]
    )


def test_oh_no_before_a_restatement_is_an_exclamation_and_oh_is_not_zero():
    assert normalise("oh no") == "0 no"  # what the shared normaliser does (numbers: "oh" as zero) ...
    assert stance_words("Oh no, sloths are painfully slow") == ("oh", "no", "sloths", "are", "painfully", "slow")
    check(
        [
            ("Sloth", "is very slow", "Oh no, sloths are painfully slow", "affirm"),
            ("Sloth", "is very slow", "oh yes they're super slow", "affirm"),
            ("Snow", "is hot like fire", "oh no snow is cold", "deny"),  # ... and a correction after it denies
            ("Sloth", "is very slow", "oh no no sloths are fast", "deny"),
        ]
    )


def test_sarcasm_marked_as_such_denies():
    check(
        [
            ("Giraffe", "lives at the bottom of the ocean", "sure and i'm the king of france", "deny"),
            ("Elephant", "fits inside a matchbox", "yeah right", "deny"),
            ("Bread", "is made from glass", "bread made of glass ha yeah sure", "deny"),
        ]
    )


def test_self_corrections_end_on_the_last_stance():
    check(
        [
            ("Lion", "lays eggs in a bird nest", "yes no wait lions don't lay eggs", "deny"),
            ("Volcano", "can erupt with lava", "no wait yes they do erupt", "affirm"),
            ("Rain", "falls from clouds", "no no that's right it does", "affirm"),
        ]
    )


def test_an_alias_names_the_subject():
    reply = "donuts don't grow in the ground"
    assert verdict("doughnut", "grows in the ground like a potato", reply, ("donut",)).stance == "deny"
    assert verdict("doughnut", "grows in the ground like a potato", reply).stance == "no_answer"


# ---------------------------------------------------------------------------------------------- the corpus
def _benchmark():
    spec = importlib.util.spec_from_file_location("judge_agreement", ROOT / "benchmarks" / "judge_agreement.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_agreement():
    bench = _benchmark()
    rows = bench.load_corpus()
    out = {}
    for name in ("rule-v1", "rule-v2"):
        verdicts = make_judge(name).judge_many([r.input for r in rows])
        for split in bench.SPLITS:
            chosen = [(r, v) for r, v in zip(rows, verdicts, strict=True) if r.split == split]
            out[name, split] = bench.agreement([r for r, _ in chosen], [v for _, v in chosen])
    return rows, out


def test_the_corpus_is_several_hundred_labelled_replies_with_a_held_out_part(corpus_agreement):
    rows, _ = corpus_agreement
    assert len(rows) >= 500 and sum(r.split == "heldout" for r in rows) >= 150
    tune_claims = {r.input.claim for r in rows if r.split == "tune"}
    assert not tune_claims & {r.input.claim for r in rows if r.split == "heldout"}  # held-out claims are unseen
    assert {r.stance for r in rows} == set(STANCES)
    kinds = {r.kind for r in rows}
    for kind in ("carry_on", "word_salad", "discourse", "sarcasm", "misheard", "self_correction", "genuine"):
        assert kind in kinds


def test_rule_v2_agrees_with_the_human_labels_far_more_than_rule_v1(corpus_agreement):
    _, out = corpus_agreement
    for split, floor in (("tune", 0.90), ("heldout", 0.82)):
        v1, v2 = out["rule-v1", split], out["rule-v2", split]
        assert v2.rate >= floor, (split, v2.rate)
        assert v2.rate >= v1.rate + 0.15, (split, v1.rate, v2.rate)


def test_rule_v2_never_reads_carried_on_talk_on_the_tuning_split_as_an_answer(corpus_agreement):
    _, out = corpus_agreement
    result = out["rule-v2", "tune"]
    for kind in ("carry_on", "discourse", "word_salad", "related"):
        agree, n = result.by_class[kind]
        assert agree == n, kind
    assert result.confusion.get(("no_answer", "affirm"), 0) == 0


def test_the_agreement_benchmark_prints_a_confusion_table(capsys):
    assert _benchmark().main(["--judge", "rule-v2", "--split", "tune", "--errors", "2"]) == 0
    printed = capsys.readouterr().out
    assert "rule-v2 on tune (n=" in printed and "stance agreement" in printed
    assert "human \\ judge" in printed and "carry_on" in printed and printed.count("  [") == 2


# ------------------------------------------------------------------------------------------- judges, totality
def test_the_default_rule_judge_is_v2_and_v1_stays_selectable():
    assert make_judge("rule").id == make_judge("rule-v2").id == "rule-v2"
    v1 = make_judge("rule-v1")
    assert v1.id == "rule-v1"
    # rule-v1 still gives the verdicts old results were scored with, including the ones v2 corrects
    assert verdict("Elephant", "has a long trunk", "so the trunk of the car was long", judge=v1).stance == "affirm"
    assert verdict("Ant", "lives in colonies", "it's not like they don't", judge=v1).stance == "deny"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gets_a_verdict_with_a_reason(text):
    got = verdict("Eiffel Tower", "is in Paris", text, ("tour eiffel",))
    assert got.stance in STANCES and got.reason


_ASR_WORDS = [
    *[
        "yes",
        "yeah",
        "no",
        "not",
        "nope",
        "right",
        "sure",
        "oh",
        "so",
        "and",
        "it",
        "is",
        "they",
        "do",
        "don't",
        "can't",
        "wrong",
        "untrue",
        "true",
        "like",
        "as",
        "if",
        "i",
        "was",
        "saying",
        "anyway",
        "the",
        "a",
        "giraffe",
        "giraffes",
        "neck",
        "long",
        "very",
        "has",
        "ha",
        "haha",
        "okay",
        "wait",
        "actually",
        "mean",
    ],
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ASR_WORDS), max_size=14))
def test_any_asr_style_word_sequence_gets_a_verdict(words):
    got = verdict("Giraffe", "has a very long neck", " ".join(words))
    assert got.stance in STANCES and got.reason


def test_the_judge_reads_the_scorers_normal_form_only_where_it_is_its_own():
    """Reusing the scorer's normal form (the fast path) gives exactly the words normalising without numbers gives."""
    from test_normalise import _varied_corpus

    from zbb.score.rule_judge_v2 import _words_of

    bench = _benchmark()
    texts = [r.input.response for r in bench.load_corpus()] + _varied_corpus(1500, 3) + ["oh no", "no one", "uh-huh"]
    for text in texts:
        item = JudgeInput("x", "c", "c", "s", "d", text, normalise(text))
        assert _words_of(item) == stance_words(text), text


def test_the_agreement_benchmark_runs_an_openai_compatible_judge_from_the_environment(monkeypatch, tmp_path, capsys):
    """With ZBB_JUDGE_BASE_URL set, `--judge openai` asks that endpoint once per corpus reply (a fake one here that
    says no_answer to everything, so its agreement is the share of no_answer labels; a slice of the corpus)."""
    import json

    from test_judge import FakeChat

    lines = (ROOT / "tests" / "data" / "judge_corpus.jsonl").read_text(encoding="utf-8").splitlines()
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines[:8] + lines[-8:]) + "\n", encoding="utf-8")
    server = FakeChat(lambda body: (200, json.dumps({"stance": "no_answer", "reason": "fake"})))
    try:
        monkeypatch.setenv("ZBB_JUDGE_BASE_URL", server.url)
        monkeypatch.setenv("ZBB_JUDGE_MODEL", "fake-judge")
        monkeypatch.setenv("ZBB_CACHE_DIR", str(tmp_path / "cache"))
        bench = _benchmark()
        assert bench.main(["--judge", "openai", "--split", "heldout", "--corpus", str(corpus)]) == 0
    finally:
        server.close()
    rows = bench.load_corpus(corpus)
    assert len(server.requests) == len(rows) == 16  # every reply judged (both splits), the held-out one printed
    held = [r for r in rows if r.split == "heldout"]
    quiet = sum(r.stance == "no_answer" for r in held)
    printed = capsys.readouterr().out
    assert "openai:fake-judge zbb-judge-prompt-v2" in printed
    assert f"stance agreement {quiet}/{len(held)}" in printed


def _every_phrase_at(tokens, i):
    """The phrases at `tokens[i]` by looking up every length in the lexicon (what the phrase trie must find)."""
    from zbb.score import rule_judge_v2

    longest = max(len(p) for p in rule_judge_v2._LEXICON)
    found = [(i + k, rule_judge_v2._LEXICON.get(tuple(tokens[i : i + k]))) for k in range(longest, 0, -1)]
    return [(end, entry) for end, entry in found if entry is not None and end <= len(tokens)]


def test_the_phrase_trie_finds_every_lexicon_phrase_longest_first():
    from zbb.score import rule_judge_v2

    words = sorted({w for phrase in rule_judge_v2._LEXICON for w in phrase})
    rnd = random.Random(5)
    texts = [list(phrase) + rnd.sample(words, 2) for phrase in rule_judge_v2._LEXICON]
    texts += [[rnd.choice(words) for _ in range(rnd.randint(1, 14))] for _ in range(2000)]
    found = 0
    for tokens in texts:
        for i in range(len(tokens)):
            assert rule_judge_v2._phrases_at(tokens, i) == _every_phrase_at(tokens, i), (tokens, i)
            found += len(_every_phrase_at(tokens, i))
    assert found > len(rule_judge_v2._LEXICON)  # every phrase at least once, and more besides


def test_phrase_scan_through_the_trie_reads_as_the_full_scan(monkeypatch):
    """`_scan` walks the phrase trie from words that start a phrase; looking up every length at every position
    (the full scan) must read every reply the same: the judge corpus and random strings of lexicon words."""
    import json

    from zbb.score import rule_judge_v2

    corpus = Path(__file__).parent / "data" / "judge_corpus.jsonl"
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    words = sorted({w for phrase in rule_judge_v2._LEXICON for w in phrase} | {"submarine", "clouds", "fly"})
    rnd = random.Random(11)
    replies = [(r["reply"], r["subject"], r["description"]) for r in rows]
    replies += [
        (" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 14))), "submarine", "flies in the clouds")
        for _ in range(1500)
    ]
    items = [
        JudgeInput(
            id=str(i),
            condition="interrupt",
            claim=f"{subject} {description}, right?",
            subject=subject,
            description=description,
            response=reply,
            normalised=normalise(reply),
        )
        for i, (reply, subject, description) in enumerate(replies)
    ]
    fast = [rule_judge_v2.read_stance(item) for item in items]

    monkeypatch.setattr(rule_judge_v2, "_phrases_at", _every_phrase_at)
    assert [rule_judge_v2.read_stance(item) for item in items] == fast
    assert len({v.stance for v in fast}) == 3


def _corpus_claims_and_words():
    import json

    corpus = Path(__file__).parent / "data" / "judge_corpus.jsonl"
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    claims = sorted({(r["subject"], r["description"], tuple(r["aliases"])) for r in rows})
    claims += [("Eiffel Tower", "is in Rome", ("tour eiffel",)), ("Doughnut", "is a vegetable", ("donut",))]
    words = sorted({w for r in rows for w in stance_words(r["reply"])} | {"hunters", "slowly", "teeth", "theirs"})
    return claims, words, random.Random(7)


def test_meaning_hits_are_the_pairwise_word_comparison():
    """`_read` compares a content word with the claim's meaning words once per (claim, word), as bits; each bit
    must be the pairwise comparison `_same_word` of the word's stems with that meaning word."""
    from zbb.score import rule_judge_v2 as v2

    claims, words, _ = _corpus_claims_and_words()
    seen_hits = 0
    for subject, description, aliases in claims:
        claim = v2._claim(subject, description, aliases)
        for word in words:
            expected = [v2._same_word(meant, v2._keys(word)) for meant in claim.meaning]
            hits = v2._meaning_hits(claim, word)
            assert [bool(hits >> k & 1) for k in range(len(claim.meaning))] == expected, (subject, description, word)
            seen_hits += bool(hits)
    assert seen_hits > 100  # the corpus replies do carry claim words


def test_subject_spans_are_every_run_of_name_forms():
    """The span finder (one set lookup per word for one-word names) finds exactly the runs a plain scan finds, and
    the spans of a stretch are those of the whole reply that lie inside it."""
    from zbb.score import rule_judge_v2 as v2

    def plain(tokens, claim):
        return sorted(
            (i, i + len(forms))
            for forms in claim.names
            for i in range(len(tokens) - len(forms) + 1)
            if all(tokens[i + j] in forms[j] for j in range(len(forms)))
        )

    claims, words, rnd = _corpus_claims_and_words()
    found = 0
    for subject, description, aliases in claims:
        claim = v2._claim(subject, description, aliases)
        name_words = [w for forms in claim.names for f in forms for w in sorted(f)]
        for _ in range(20):
            tokens = [rnd.choice(name_words if rnd.random() < 0.4 else words) for _ in range(rnd.randint(0, 12))]
            got = v2._subject_spans(tokens, claim)
            assert sorted(got) == plain(tokens, claim), (subject, tokens)
            assert got[:1] == plain(tokens, claim)[:1]  # the first span is the first in order
            start = rnd.randint(0, len(tokens))
            stop = rnd.randint(start, len(tokens) + 6)
            assert v2._spans_within(got, start, stop) == v2._subject_spans(tokens[start:stop], claim)
            found += len(got)
    assert found > 100
