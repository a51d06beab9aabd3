"""The default judge: reads a response's stance to the claim with phrase rules over the normalised text.

It is built for what full-duplex models and ASR actually produce: lower case, no punctuation, interjections
("yeah no"), corrections ("actually submarines travel under water"), restatements with negation, hedges,
requests to repeat, and replies that just keep talking about the earlier topic.

How a reply is read, in order:
1. Scan the words left to right, matching the longest known phrase at each position. Each match is an event:
   affirm, deny, hedge (no answer), clarify (asks to repeat; no answer), a correction ("actually ..."), or a
   prefix ("i do not think", "not sure") that turns the next stance within a few words (inverts or hedges it).
   Bare interjections that are also ordinary words ("no", "right", "sure") count only where they are used as
   interjections: near the start, at the end, or next to another cue.
2. The last event decides ("no no it is true" affirms; "yeah no" denies; "yeah i am not sure" is no answer),
   except that a negated restatement of the claim after the last interjection denies ("yes they do not fly").
3. With no event: a restatement of the claim's description affirms, or denies when negated; a negated
   statement that names the subject denies; anything else takes no stance.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from zbb.score.judge import JudgeInput, Verdict
from zbb.score.normalise import normalise

RULE_JUDGE_VERSION = "rule-v1"

# kind, anchoring. Anchoring: "any" = anywhere; "lead" = interjection words that are also ordinary words: count
# within the first 3 words, as the last word, or right after another cue; "alone" = only as (most of) a short
# reply; "end" = only as the last words.
_A, _D, _H, _C, _X, _N = "affirm", "deny", "hedge", "clarify", "correction", "neutral"
_INVERT, _HEDGE_NEXT = "prefix-invert", "prefix-hedge"

_PHRASES: dict[str, tuple[str, str]] = {}


def _add(kind: str, anchor: str, *phrases: str) -> None:
    for p in phrases:
        _PHRASES[p] = (kind, anchor)


_add(
    _A,
    "any",
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "yes indeed",
    "that is right",
    "that is correct",
    "that is true",
    "it is true",
    "it is right",
    "that is so true",
    "true",
    "correct",
    "you are right",
    "you are correct",
    "you got it",
    "that is a fact",
    "i agree",
    "agreed",
    "affirmative",
    "no doubt",
    "without a doubt",
    "for sure",
    "that is it",
    "i think so",
    "i believe so",
    "i think that is right",
    "i think that is true",
    "that sounds right",
    "sounds right",
    "that is exactly right",
    "very true",
    "it sure is",
    "they sure do",
    "i guess so",
    "i suppose so",
    "i am afraid so",
    "you bet",
    "that is the case",
    "it sure does",
    "it certainly is",
    "they certainly do",
    "yes sir",
)
_add(
    _A,
    "lead",
    "right",
    "sure",
    "exactly",
    "absolutely",
    "definitely",
    "certainly",
    "indeed",
    "totally",
    "of course",
    "precisely",
    "yes yes",
    "ok yes",
    "okay",
)
_add(
    _A,
    "end",
    "it is",
    "it does",
    "they do",
    "they are",
    "it can",
    "they can",
    "it will",
    "it was",
    "it did",
    "he is",
    "she is",
    "he does",
    "she does",
    "that is",
    "it has",
    "they have",
    "there is",
    "there are",
)

_add(
    _D,
    "any",
    "nope",
    "nah",
    "not really",
    "not true",
    "not right",
    "not correct",
    "not quite",
    "not at all",
    "not exactly",
    "not so",
    "that is wrong",
    "that is false",
    "wrong",
    "false",
    "incorrect",
    "untrue",
    "that is not it",
    "of course not",
    "absolutely not",
    "definitely not",
    "certainly not",
    "surely not",
    "no way",
    "that is a myth",
    "a myth",
    "i disagree",
    "that is not how it works",
    "not even close",
    "quite the opposite",
    "the opposite",
    "it is the other way around",
    "nonsense",
    "not at all true",
    "i am afraid not",
    "afraid not",
    "i think not",
    "i believe not",
    "not the case",
    "not at all the case",
)
_add(_D, "lead", "no", "never", "no no", "uh uh")

_add(
    _H,
    "any",
    "maybe",
    "perhaps",
    "possibly",
    "i am not sure",
    "not sure",
    "i am unsure",
    "unsure",
    "i do not know",
    "do not know",
    "no idea",
    "i have no idea",
    "hard to say",
    "it depends",
    "depends",
    "i can not say",
    "who knows",
    "yes and no",
    "not certain",
    "i am not certain",
    "i would not know",
    "i do not really know",
    "i can not tell",
    "i am not really sure",
    "i guess",
    "i suppose",
    "not sure about that",
    "let me think",
    "good question",
    "i wonder",
    "kind of true",
    "sort of true",
    "sort of right",
    "kind of right",
    "partly true",
    "partially true",
    "half true",
)
_add(_H, "lead", "kind of", "sort of", "might be", "could be")

_add(
    _C,
    "any",
    "sorry what",
    "what was that",
    "what did you say",
    "what do you mean",
    "come again",
    "pardon",
    "pardon me",
    "excuse me",
    "say that again",
    "say again",
    "repeat that",
    "repeat the question",
    "repeat",
    "did not catch",
    "did not quite catch",
    "did not hear",
    "could not hear",
    "can not hear",
    "missed that",
    "i missed",
    "what was the question",
    "what are you asking",
    "is that true",
    "is that right",
    "what is that",
    "did you say",
    "what did you just say",
    "one more time",
)
_add(_C, "alone", "what", "huh", "sorry", "hello", "eh", "hm", "wait", "really", "is it", "oh really")

_add(_X, "any", "actually", "in fact", "as a matter of fact", "no wait")

_add(
    _INVERT,
    "any",
    "i do not think",
    "i do not believe",
    "i doubt",
    "i doubt that",
    "i do not think that",
    "i would not say",
    "i would not say that",
    "i do not agree that",
    "it is not that",
)
# Negated short answers: "it is not" denies on its own and turns a following "true"/"right" ("it is not true").
_add(
    _INVERT,
    "lead",
    "it is not",
    "it does not",
    "they do not",
    "they are not",
    "it can not",
    "they can not",
    "it was not",
    "it did not",
    "he is not",
    "she is not",
    "that is not",
    "it will not",
    "it has not",
    "there is not",
    "there are not",
    "they did not",
    "they were not",
    "that does not",
    "this is not",
    "that was not",
)
_add(
    _HEDGE_NEXT,
    "any",
    "not sure if",
    "not sure whether",
    "i am not sure if",
    "i am not sure that",
    "i am not sure whether",
    "i think maybe",
    "maybe it is",
    "i am not sure it is",
)

# Ordinary uses that must not be read as cues.
_add(
    _N,
    "any",
    "right now",
    "right away",
    "right after",
    "right before",
    "right here",
    "right there",
    "all right",
    "the right",
    "to the right",
    "on the right",
    "no problem",
    "no worries",
    "no matter",
    "no one",
    "not only",
    "make sure",
    "to be sure",
    "true story",
    "what about",
    "so what",
    "sure enough",
    "no longer",
    "not to mention",
    "never mind",
    "right side",
    "the truth is",
    "you know what",
    "there is no",
    "there are no",
    "there was no",
    "i have no",
    "has no",
    "have no",
    "no more",
    "no less",
    # discourse markers of a model carrying on with its own topic ("right so as i was saying ...")
    "right so",
    "yeah so",
    "yes so",
    "okay so",
    "ok so",
    "so yeah",
    "yeah anyway",
    "right anyway",
    "anyway",
    "as i was saying",
    "where was i",
    "yeah and",
    "right and",
    "so anyway",
)

_TABLE = {tuple(p.split()): v for p, v in _PHRASES.items()}
#: first word of a phrase -> the longest phrase starting with it: positions whose word starts no phrase are skipped
_LONGEST_FROM: dict[str, int] = {}
for _words in _TABLE:
    _LONGEST_FROM[_words[0]] = max(_LONGEST_FROM.get(_words[0], 0), len(_words))

# After a bare "no", these words show it is an interjection ("no it is true"), not a determiner ("no music").
_NO_FOLLOWERS = frozenset(
    [
        "it",
        "that",
        "this",
        "they",
        "he",
        "she",
        "i",
        "you",
        "we",
        "no",
        "not",
        "never",
        "actually",
        "the",
        "a",
        "an",
        "its",
        "their",
        "well",
        "sorry",
        "way",
        "nope",
        "yeah",
        "yes",
    ]
)
_NEGATIONS = frozenset(["not", "never", "no", "nothing", "none", "neither", "nor", "nobody", "nowhere"])
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "into",
        "onto",
        "under",
        "over",
        "about",
        "as",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "they",
        "them",
        "their",
        "there",
        "he",
        "she",
        "his",
        "her",
        "i",
        "you",
        "we",
        "our",
        "your",
        "and",
        "or",
        "but",
        "so",
        "if",
        "then",
        "than",
        "very",
        "really",
        "just",
        "also",
        "can",
        "could",
        "will",
        "would",
        "should",
        "may",
        "might",
        "must",
        "not",
        "no",
        "never",
        "right",
        "yes",
        "yeah",
    ]
)
_RAW_AFFIRM = re.compile(r"\b(uh[- ]?huh|mm[- ]?hmm|mhm)\b")

_WINDOW = 4  # words after a prefix ("i do not think") within which it turns the next stance


@dataclass(frozen=True)
class _Event:
    kind: str
    phrase: str
    start: int
    end: int


@functools.lru_cache(maxsize=1 << 14)
def _canonical(word: str) -> str:
    from zbb.score.normalise import _inflect

    if len(word) > 3 and word.isalpha():
        singular = _inflect().singular_noun(word)
        if singular:
            return singular
    return word


@functools.lru_cache(maxsize=1 << 14)
def _content_words(normalised: str) -> frozenset[str]:
    return frozenset(_canonical(w) for w in normalised.split() if w not in _STOP)


def _scan(tokens: Sequence[str]) -> list[_Event]:
    events: list[_Event] = []
    n = len(tokens)
    i = 0
    while i < n:
        match = None
        for length in range(min(_LONGEST_FROM.get(tokens[i], 0), n - i), 0, -1):
            entry = _TABLE.get(tuple(tokens[i : i + length]))
            if entry is None:
                continue
            kind, anchor = entry
            end = i + length
            after_cue = bool(events) and events[-1].end == i
            ok = (
                anchor == "any"
                or (anchor == "end" and end == n)
                or (anchor == "alone" and i == 0 and n <= 3)
                or (
                    anchor == "lead"
                    and (
                        i < 3
                        or end == n
                        or after_cue
                        or (tokens[i] == "no" and end < n and tokens[end] in _NO_FOLLOWERS)
                    )
                )
            )
            if ok:
                match = _Event(kind, " ".join(tokens[i:end]), i, end)
                break
        if match is None:
            i += 1
            continue
        if match.kind != _N:
            events.append(match)
        i = match.end
    return events


def _restatement(tokens: Sequence[str], description: str) -> str | None:
    """affirm/deny when `tokens` restate at least half of the description's content words (deny when the
    negation differs from the description's), else None."""
    wanted = _content_words(normalise(description))
    if not wanted:
        return None
    said = _content_words(" ".join(tokens))
    if 2 * len(wanted & said) < len(wanted):
        return None
    desc_negated = any(w in _NEGATIONS for w in normalise(description).split())
    said_negated = any(w in _NEGATIONS for w in tokens)
    return "deny" if desc_negated != said_negated else "affirm"


def read_stance(item: JudgeInput) -> Verdict:
    tokens = item.normalised.split()
    # The normaliser drops "uh"/"mm" fillers, so "uh-huh" (yes) arrives as "huh" (what?): read it from the raw text.
    if _RAW_AFFIRM.search(item.response.lower()) and (not tokens or tokens[0] == "huh"):
        tokens = ["yes", *tokens[1:]]
    if not tokens:
        return Verdict("no_answer", "no answer: empty response")
    events = _scan(tokens)

    # Resolve prefixes and corrections into plain stances, in order.
    resolved: list[tuple[str, str, int]] = []  # (affirm|deny|hedge|clarify, reason phrase, end index)
    pending: _Event | None = None
    for ev in events:
        kind = ev.kind
        if kind in (_INVERT, _HEDGE_NEXT):
            pending = ev
            resolved.append(("deny" if kind == _INVERT else "hedge", ev.phrase, ev.end))
            continue
        if kind == _X:
            rest = tokens[ev.end :]
            if len(rest) < 2:
                continue  # "yes actually" / "it is actually": no correction follows
            echo = _restatement(rest, item.description)
            resolved.append((echo or "deny", f"{ev.phrase} {' '.join(rest[:6])}", ev.end))
            continue
        if pending is not None and ev.start - pending.end <= _WINDOW and kind in (_A, _D):
            turned = ("deny" if kind == _A else "affirm") if pending.kind == _INVERT else "hedge"
            resolved[-1] = (turned, f"{pending.phrase} ... {ev.phrase}", ev.end)
            pending = None
            continue
        pending = None
        resolved.append((kind, ev.phrase, ev.end))

    if resolved:
        stance, phrase, end = resolved[-1]
        if stance in ("affirm", "deny"):
            echo = _restatement(tokens[end:], item.description) if len(tokens) - end >= 2 else None
            if echo == "deny" and stance == "affirm":
                return Verdict("deny", f'denies: negated restatement after "{phrase}"')
            return Verdict(
                "affirm" if stance == "affirm" else "deny",
                f'{"affirms" if stance == "affirm" else "denies"}: "{phrase}"',
            )
        if stance == "hedge":
            return Verdict("no_answer", f'no answer: hedges "{phrase}"')
        return Verdict("no_answer", f'no answer: asks back "{phrase}"')

    echo = _restatement(tokens, item.description)
    if echo == "affirm":
        return Verdict("affirm", "affirms: restates the claim")
    if echo == "deny":
        return Verdict("deny", "denies: negated restatement of the claim")
    from zbb.score.normalise import contains_subject

    if contains_subject(item.subject, item.normalised) and any(w in _NEGATIONS for w in tokens):
        return Verdict("deny", "denies: negated statement about the subject")
    return Verdict("no_answer", "no answer: takes no stance on the claim")


class RuleJudge:
    """Deterministic phrase-rule judge (no model, no network)."""

    id = RULE_JUDGE_VERSION

    def __init__(self, **options: object) -> None:
        if options:
            raise TypeError(f"the rule judge takes no options, got {sorted(options)}")

    def judge_many(self, inputs: Sequence[JudgeInput]) -> list[Verdict]:
        return [read_stance(item) for item in inputs]
