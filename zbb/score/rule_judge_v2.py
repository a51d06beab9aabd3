"""rule-v2, the default judge: reads a reply's stance to *this* claim, and does not reward carrying on.

Built against a hand-labelled corpus of ASR-style replies (`tests/data/judge_corpus.jsonl`, agreement printed by
`benchmarks/judge_agreement.py`). What it changes from rule-v1:

- A reply restates the claim only when it is about this claim: it names the subject (any inflection, an alias,
  or a pronoun that can only refer to it) *and* carries the description's meaning (most of its content words,
  compared by stem), not one shared word. "so the trunk of the car was long" does not restate *Elephant has a
  long trunk*.
- A leading interjection ("no", "yeah", "right", "okay so") followed by talk on another topic ("no no no, I was
  saying the Renaissance ...") is a discourse marker, not an answer. Talk after an interjection counts as
  another topic when it begins with a continuation ("and", "so", "anyway", "as I was saying") and does not
  restate the claim, or when it is longer than a short answer and never names the subject or the description.
- Negation composes: a negated denial affirms ("you're not wrong", "not untrue", "can't argue with that"), a
  negated comparative of truth affirms ("nothing truer than that"), and "it's not like they don't" affirms.
- A short echo answer leads a reply ("it is, falcons are really fast"; "they do, they have long trunks").
- "oh" is an exclamation: "oh no, sloths are painfully slow" restates the claim, so it affirms; "oh no, snow is
  cold" corrects it. The judge reads the reply's words with zbb's normaliser *without* its number pass, which
  would read "oh" as zero and "no one" as "no 1"; stance words are never numbers.
- Sarcasm marked as such ("yeah right", "sure, and I'm the king of France", laughter with a yes) denies.

Everything else is read as rule-v1 reads it: the last stance wins ("no wait, yes it does"), corrections
("actually ...") and negated restatements deny, hedges and requests to repeat are no answer.
Known hard classes (see the benchmark): contradictions with no negation ("camels live in deserts" to *Camel lives
at the North Pole*), which need world knowledge; misheard subjects with no stance word; sarcasm with no marker.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple, cast

from zbb.score.judge import JudgeInput, Stance, Verdict

if TYPE_CHECKING:
    from snowballstemmer.basestemmer import BaseStemmer
    from whisper_normalizer.english import EnglishTextNormalizer

RULE_JUDGE_V2_VERSION = "rule-v2"

# ----------------------------------------------------------------------------------------------------- words
# "uh-huh" / "mm-hmm" mean yes, but the normaliser deletes "uh", "mm" and "mhm" as fillers.
_AFFIRM_NOISES = re.compile(r"\b(?:uh[- ]?huh|mm+[- ]?hmm+|m+[- ]?hm+|mhm+)\b", re.IGNORECASE)


def _word_normalizer() -> EnglishTextNormalizer:
    """whisper_normalizer's EnglishTextNormalizer (zbb's normaliser) without its number pass, in zbb's faster
    compiled form (the library's own took most of the judging time)."""
    from zbb.score.normalise import normalizer_without_numbers

    return normalizer_without_numbers()


@functools.lru_cache(maxsize=1 << 15)
def stance_words(text: str) -> tuple[str, ...]:
    """The words the judge reads: zbb's normal form without number conversion (contractions expanded)."""
    return tuple(_word_normalizer()(_AFFIRM_NOISES.sub(" yes ", text)).split())


@functools.cache
def _number_words() -> frozenset[str]:
    from whisper_normalizer.english import EnglishNumberNormalizer

    numbers = EnglishNumberNormalizer()
    return frozenset(numbers.words) | frozenset(numbers.literal_words)


_NUMBER_CHARS = re.compile(r"[0-9$¢€£%]")
_LETTERS = re.compile(r"[a-z]+")


def _words_of(item: JudgeInput) -> tuple[str, ...]:
    """`stance_words` of the reply. Normalising is the costly part of judging, so where the number pass cannot have
    acted (no digit, currency or number word in the reply, "oh" included) the scorer's normal form is reused: it
    is then the same text."""
    raw = item.response.lower()
    if (
        item.normalised
        and not _NUMBER_CHARS.search(raw)
        and _number_words().isdisjoint(_LETTERS.findall(raw))
        and not (("uh" in raw or "hm" in raw) and _AFFIRM_NOISES.search(raw))  # every noise holds one of these
    ):
        return tuple(item.normalised.split())
    return stance_words(item.response)


@functools.cache
def _stemmer() -> BaseStemmer:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=1 << 15)
def _keys(word: str) -> frozenset[str]:
    """Stems that identify a word across inflection and simple derivation ("teeth"/"tooth", "hunters"/"hunt")."""
    from zbb.score.normalise import _inflect

    forms = {word}
    if word.isalpha() and len(word) > 2:
        singular = _inflect().singular_noun(word)
        if singular:
            forms.add(singular)
    return frozenset(_stemmer().stemWord(f) for f in forms)


def _same_word(a: frozenset[str], b: frozenset[str]) -> bool:
    if a & b:
        return True
    # a stem and a longer stem it begins ("hunt"/"hunter", "slow"/"slowli", "swim"/"swimmer"), four letters at least
    return any(len(x) >= 4 and len(y) > len(x) and y.startswith(x) for x in a for y in b) or any(
        len(y) >= 4 and len(x) > len(y) and x.startswith(y) for x in a for y in b
    )


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> list[str]:
    """'|'-separated phrases of a lexicon block."""
    return [" ".join(phrase.split()) for phrase in text.split("|")]


# Function words and light verbs: they carry no meaning of a description ("is made from flour" means "flour").
_STOP = _words(
    """
    a an the is are was were be been being am do does did doing done has have had having of in on at to for
    from by with into onto under over about as it its this that these those they them their there he she his
    her i me my you your we our us and or but so if then than very really just also can could will would
    should may might must not no never right yes yeah made make makes making use used uses using kind sort
    type like lot lots thing things much many quite too well way get gets got go goes went come comes came
    one all some any more most other oh wow ooh whoa okay ok alright huh hmm eww ew yikes yep yup nope nah
    sure
    """
)
_NEGATORS = frozenset(["not", "never", "no", "nothing", "none", "neither", "nor", "nobody", "nowhere", "without"])
_PRONOUNS = frozenset(["it", "they", "he", "she", "its", "their", "them", "his", "her", "theirs"])
_DETERMINERS = frozenset(["the", "a", "an"])
# Words that cannot follow a determiner: "the and", "the so", "a the" only occur in ASR word salad.
_NOT_AFTER_DETERMINER = frozenset(["the", "a", "an", "and", "or", "so", "then", "but", "of", "to", "is", "are", "was"])
_CONTINUATIONS = frozenset(["and", "so", "then", "but", "because", "anyway", "anyways"])
_LAUGHTER = frozenset(["ha", "haha", "hahaha", "hah", "heh", "hehe", "lol"])
_CLAUSE_STARTERS = frozenset(
    ["it", "they", "he", "she", "you", "we", "i", "that", "this", "there", "these", "those", "every", "all", "each"]
)


# ----------------------------------------------------------------------------------------------------- lexicon
A, D, H, C = "affirm", "deny", "hedge", "clarify"
X = "correction"  # "actually ...": the rest corrects the claim unless it restates it
N = "neutral"  # ordinary uses and exclamations that are not cues ("right now", "oh wow", "okay")
CARRY = "carry-on"  # the speaker returns to its own topic ("as I was saying")
INVERT = "prefix-invert"  # turns the next stance within a few words ("I don't think ... right")
HEDGE_NEXT = "prefix-hedge"  # hedges the next stance ("not sure if ... right")
NOT_LIKE = "not-like"  # "it's not like they don't": a negated frame around a clause
SARCASM = "sarcasm"
ECHO_A, ECHO_D = "echo-affirm", "echo-deny"  # short answers "it is" / "it is not" that lead or end a reply
OH_NO = "oh-no"  # denies unless the claim is restated after it ("oh no, sloths are painfully slow")

# Anchors: "any" = anywhere; "lead" = an interjection that is also an ordinary word: counts within the first three
# words, as the last word, or next to another cue; "alone" = the reply is (nearly) only this; "echo" = at the start
# followed by a clause boundary, at the end, or right after another cue.
_LEXICON: dict[tuple[str, ...], tuple[str, str]] = {}


def _add(kind: str, anchor: str, *phrases: str) -> None:
    for phrase in phrases:
        _LEXICON[tuple(phrase.split())] = (kind, anchor)


_add(
    A,
    "any",
    *"""yes|yeah|yep|yup|yea|yes indeed|that is right|that is correct|that is true|it is true|it is right|that is so true
    |so true|how true|true|correct|you are right|you are correct|you are absolutely right|you got it|that is a fact
    |i agree|agreed|affirmative|no doubt|no doubt about it|without a doubt|for sure|that is for sure|that is it
    |i think so|i believe so|i would say so|i would think so|i guess so|i suppose so|i am afraid so|i think that is right
    |i think that is true|that sounds right|sounds right|that is exactly right|exactly right|very true|quite right
    |quite true|totally true|it sure is|they sure do|it sure does|they sure are|it sure can|they sure can|sure does
    |sure is|sure can|sure do|you bet|you can say that again|tell me about it|you said it|that is what they do
    |that is what it does|that is the case|it certainly is|they certainly do|yes sir|spot on|dead right|too right
    |right you are|it is a fact|a hundred percent|one hundred percent|you are not wrong there""".replace(
        "\n", ""
    ).split("|"),
)
_add(
    A,
    "lead",
    *_phrases("""right|sure|exactly|absolutely|definitely|certainly|indeed|totally|of course|precisely|obviously|naturally
    |yes yes|right right|correct correct|ok yes|okay yes"""),
)
_add(
    D,
    "any",
    *_phrases("""nope|nah|not true|not right|not correct|not at all|not so|that is wrong
    |that is false|wrong|false|incorrect|untrue|that is not it|of course not|absolutely not|definitely not
    |certainly not|surely not|no way|no chance|not a chance|fat chance|in your dreams|dream on|not in a million years
    |as if|you wish|far from it|that is a myth|a myth|i disagree|that is not how it works|not even close|not likely
    |quite the opposite|the opposite|it is the other way around|the other way around|the other way round|backwards
    |got that backwards|got it backwards|got that wrong|got it wrong|nonsense|rubbish|not at all true|i am afraid not
    |afraid not|i think not|i believe not|not the case|not at all the case|that is silly|how silly|ridiculous
    |that is ridiculous|absurd|that is absurd|you are joking|you must be joking|are you kidding|you are kidding
    |give me a break|when pigs fly|pigs might fly|and pigs fly"""),
)
_add(D, "lead", "no", "never", "no no", "no no no", "uh uh", "hardly")
# adverbial negations answer only standing alone; before a predicate they modify it ("they're not exactly fast")
_add(D, "echo", "not really", "not exactly", "not quite")
# negation composes: a negated denial affirms, a negated disagreement affirms, a negated comparative of truth
# ("nothing truer") is a superlative
for _neg in ("not", "not at all", "never", "hardly"):
    for _denial in ("wrong", "untrue", "false", "incorrect", "a lie", "a myth"):
        _add(A, "any", f"{_neg} {_denial}")
for _modal in ("can", "could", "would", "will", "do", "i can", "i could", "i would", "i do", "you can", "nobody can"):
    for _disagreement in ("disagree", "argue", "argue with that", "argue with it", "deny", "deny that", "deny it"):
        _add(A, "any", f"{_modal} not {_disagreement}")
    _add(D, "any", f"{_modal} not agree")
_add(A, "any", "no arguing with that", "no argument there", "no denying it", "no denying that", "could not agree more")
for _neg in ("nothing", "nothing is", "there is nothing", "never", "never been", "could not be", "can not be"):
    for _comparative in ("truer", "more true", "more right", "more correct"):
        _add(A, "any", f"{_neg} {_comparative}")

_add(
    H,
    "any",
    *_phrases("""maybe|perhaps|possibly|i am not sure|not sure|i am unsure|unsure|i do not know|do not know|no idea
    |i have no idea|hard to say|it depends|depends|i can not say|who knows|yes and no|not certain|i am not certain
    |i would not know|i do not really know|i can not tell|i am not really sure|i guess|i suppose|not sure about that
    |let me think|good question|i wonder|kind of true|sort of true|sort of right|kind of right|partly true
    |partially true|half true"""),
)
_add(H, "lead", "might be", "could be")
_add(H, "echo", "kind of", "sort of")  # a hedge standing alone; before a word it only softens it ("kind of slow")
_add(
    C,
    "any",
    *_phrases("""sorry what|what was that|what did you say|what do you mean|come again|pardon|pardon me|excuse me
    |say that again|say again|repeat that|repeat the question|repeat|did not catch|did not quite catch|did not hear
    |could not hear|can not hear|missed that|i missed|what was the question|what are you asking|is that true
    |is that right|what is that|did you say|what did you just say|one more time|wait what"""),
)
_add(C, "alone", "what", "huh", "sorry", "hello", "eh", "hm", "wait", "really", "is it", "oh really", "does it")
_add(X, "any", "actually", "in fact", "as a matter of fact", "no wait", "wait no", "i mean")
_add(
    CARRY,
    "any",
    *_phrases("""as i was saying|i was saying|what i was saying|like i was saying|what i meant was|where was i|anyway|anyways
    |so anyway|but anyway|going back to|back to the|to continue|as i said|like i said|moving on|let me continue
    |where were we"""),
)
_add(
    INVERT,
    "any",
    *_phrases("""i do not think|i do not believe|i doubt|i doubt that|i do not think that|i would not say|i would not say that
    |i do not agree that|it is not that"""),
)
_add(HEDGE_NEXT, "any", "not sure if", "not sure whether", "i am not sure if", "i am not sure that")
_add(HEDGE_NEXT, "any", "i am not sure whether", "i think maybe", "maybe it is", "i am not sure it is")
_add(NOT_LIKE, "any", "it is not like", "it is not as if", "it is not as though", "not like", "not as if")
_add(NOT_LIKE, "any", "not as though", "it was not like", "it is not like as if")
_add(SARCASM, "any", "yeah right", "yes right", "oh sure", "oh totally", "sure sure", "yeah sure sure")
_add(SARCASM, "any", "sure and", "totally and", "sure if", "yeah and i am", "and i am the", "and i am a")
_add(OH_NO, "any", "oh no", "oh no no", "oh no no no")
_add(
    N,
    "any",
    *_phrases("""right now|right away|right after|right before|right here|right there|all right|alright|the right|to the right
    |on the right|no problem|no worries|no matter|no one|not only|make sure|to be sure|true story|what about|so what
    |sure enough|no longer|not to mention|never mind|right side|the truth is|you know what|there is no|there are no
    |there was no|i have no|has no|have no|no more|no less|okay|ok|well|oh|oh wow|wow|oh my|oh my god|oh my gosh
    |oh dear|oh boy|oh man|ooh|whoa|eww|ew|yikes|you know|so|not just|not even|right so|okay so|ok so|yeah so
    |yes so|so yeah|right and|yeah and|yes and|okay and"""),
)
# Short echo answers: "it is", "they do" ... and their negations.
for _pronoun in ("it", "they", "he", "she", "that", "this", "there"):
    for _aux in ("is", "are", "does", "do", "can", "has", "have", "will", "was", "did", "sure is", "sure does"):
        _add(ECHO_A, "echo", f"{_pronoun} {_aux}")
        _add(ECHO_D, "echo", f"{_pronoun} {_aux} not")
del _neg, _denial, _modal, _disagreement, _comparative, _pronoun, _aux


class _PhraseNode:
    """The lexicon as a word trie: a scan walks it once from each position instead of looking up every length."""

    __slots__ = ("entry", "next")

    def __init__(self) -> None:
        self.entry: tuple[str, str] | None = None  # (kind, anchor) of the phrase that ends here
        self.next: dict[str, _PhraseNode] = {}


_PHRASES = _PhraseNode()
for _phrase, _entry in _LEXICON.items():
    _node = _PHRASES
    for _word in _phrase:
        _node = _node.next.setdefault(_word, _PhraseNode())
    _node.entry = _entry
del _phrase, _entry, _node, _word


def _phrases_at(tokens: Sequence[str], i: int) -> list[tuple[int, tuple[str, str]]]:
    """The lexicon's phrases that start at `tokens[i]`, longest first: (end, (kind, anchor))."""
    found = []
    node = _PHRASES
    for k in range(i, len(tokens)):
        child = node.next.get(tokens[k])
        if child is None:
            break
        node = child
        if node.entry is not None:
            found.append((k + 1, node.entry))
    found.reverse()
    return found


# After a bare "no", these words show it is an interjection ("no it is true"), not a determiner ("no music").
_NO_FOLLOWERS = _words(
    """
    it that this they he she i you we no not never actually the a an its their well sorry way nope yeah yes
    wait
    """
)


class _Event(NamedTuple):  # a tuple: made for every phrase found, many per reply
    kind: str
    phrase: str
    start: int
    end: int


def _scan(tokens: Sequence[str], subject_starts: frozenset[int] = frozenset()) -> list[_Event]:
    """Known phrases left to right, longest first at each position, kept only where their anchor allows.

    `subject_starts`: where the subject is named (a clause boundary after a leading echo answer)."""
    events: list[_Event] = []
    free = 0  # phrases do not overlap: the next one starts at `free` or later
    for i in [i for i, word in enumerate(tokens) if word in _PHRASES.next]:
        if i < free:
            continue
        for end, (kind, anchor) in _phrases_at(tokens, i):
            if _anchor_allows(anchor, tokens, i, end, events, subject_starts):
                events.append(_Event(kind, " ".join(tokens[i:end]), i, end))
                free = end
                break
    return events


def _anchor_allows(
    anchor: str, tokens: Sequence[str], i: int, end: int, events: Sequence[_Event], subject_starts: frozenset[int]
) -> bool:
    """Whether a phrase found at `tokens[i:end]`, after `events`, counts where it stands (see the anchors above)."""
    if anchor == "any":
        return True
    n = len(tokens)
    if anchor == "alone":
        return i == 0 and n <= 3
    after_cue = bool(events) and events[-1].end == i and events[-1].kind not in (N, CARRY)
    if anchor == "lead":
        return i < 3 or end == n or after_cue or (tokens[i] == "no" and end < n and tokens[end] in _NO_FOLLOWERS)
    if anchor == "echo":
        if end == n:
            return True
        at_start = i == 0 or (
            bool(events)
            and events[0].start == 0
            and events[-1].end == i
            and all(e.kind in (A, D, N, OH_NO) for e in events)
        )
        return (at_start or after_cue) and (
            tokens[end] in _CLAUSE_STARTERS or end in subject_starts or _is_cue_start(tokens, end)
        )
    return False


_INTENSIFIERS = frozenset(
    ["exactly", "absolutely", "definitely", "certainly", "totally", "precisely", "really", "quite"]
)


def _is_cue_start(tokens: Sequence[str], i: int) -> bool:
    """A stance phrase starts at `i` ("it is, yes"), not an adverb that modifies what follows ("not exactly fast")."""
    if tokens[i] in _NEGATORS or (tokens[i] in _INTENSIFIERS and i + 1 < len(tokens)):
        return False  # "they are not ...", "not exactly fast": the clause goes on
    return any(kind in (A, D, H, C) and anchor != "echo" for _, (kind, anchor) in _phrases_at(tokens, i))


# ------------------------------------------------------------------------------------------ about this claim
@dataclass(frozen=True, eq=False)
class _Claim:
    """What the judge needs from a claim: the subject's word forms and the description's content stems.

    Compared and hashed by identity: `_claim` makes one per claim, and `_meaning_hits` caches per (claim, word)."""

    names: tuple[tuple[frozenset[str], ...], ...]  # the subject and each alias: the forms of each of its words
    meaning: tuple[frozenset[str], ...]  # the description's content words, as stem sets
    negated: bool  # the description itself is negated ("does not fly")


@functools.lru_cache(maxsize=1 << 12)
def _claim(subject: str, description: str, aliases: tuple[str, ...]) -> _Claim:
    from zbb.score.normalise import word_forms

    names = tuple(
        tuple(word_forms(w) for w in stance_words(name)) for name in (subject, *aliases) if stance_words(name)
    )
    words = stance_words(description)
    meaning = tuple(dict.fromkeys(_keys(w) for w in words if w not in _STOP and w.isalpha()))
    return _Claim(names, meaning, any(w in _NEGATORS for w in words))


def _subject_spans(tokens: Sequence[str], claim: _Claim) -> list[tuple[int, int]]:
    """Where the subject or an alias is named: (start, end) word positions, in order."""
    spans: list[tuple[int, int]] = []
    for forms in claim.names:
        first, rest = forms[0], forms[1:]
        if not rest:
            spans += [(i, i + 1) for i, word in enumerate(tokens) if word in first]
            continue
        size = len(forms)
        for i in range(len(tokens) - size + 1):
            if tokens[i] in first and all(tokens[i + j] in rest[j - 1] for j in range(1, size)):
                spans.append((i, i + size))
    return sorted(spans) if len(claim.names) > 1 else spans


#: words that carry no content of a reply: function words, stance words, laughter
_NOT_CONTENT = _STOP | _LAUGHTER


def _spans_within(spans: list[tuple[int, int]], start: int, stop: int) -> list[tuple[int, int]]:
    """`_subject_spans` of `tokens[start:stop]` from those of `tokens`: the spans inside it, counted from `start`."""
    return [(s - start, e - start) for s, e in spans if start <= s and e <= stop]


@functools.lru_cache(maxsize=1 << 16)
def _meaning_hits(claim: _Claim, word: str) -> int:
    """The claim's meaning words that a content word carries (`_same_word`), as bits: bit k for `claim.meaning[k]`.

    Reading a stretch compares each of its content words with each meaning word; a claim meets the same words
    over and over, so the comparison is made once per (claim, word)."""
    keys = _keys(word)
    return sum(1 << k for k, meant in enumerate(claim.meaning) if _same_word(meant, keys))


def _union(bits: Iterable[int]) -> int:
    union = 0
    for b in bits:
        union |= b
    return union


def _is_word_salad(tokens: Sequence[str]) -> bool:
    """A determiner followed by a word that cannot follow one, or a reply ending in one: ASR word salad."""
    if tokens and tokens[-1] in _DETERMINERS:
        return True
    if _DETERMINERS.isdisjoint(tokens):
        return False
    return any(a in _DETERMINERS and b in _NOT_AFTER_DETERMINER for a, b in zip(tokens, tokens[1:], strict=False))


class _Reading(NamedTuple):
    """How a stretch of the reply relates to the claim."""

    names_subject: bool  # the subject, an alias, or a pronoun that can only be the subject
    restates: Literal["affirm", "deny"] | None  # when it restates the claim (deny: with the opposite negation)
    meaning_share: float  # share of the description's content words it carries


def _read(tokens: Sequence[str], claim: _Claim, spans: list[tuple[int, int]]) -> _Reading:
    """`spans`: `_subject_spans(tokens, claim)` (found once per reply; `_spans_within` for a stretch of it)."""
    if not tokens:
        return _Reading(False, None, 0.0)
    start = spans[0][1] if spans else None
    if start is None:
        # a pronoun before any other content word refers to the subject ("they have long trunks"), unless a
        # continuation shows the speaker is back on its own topic ("and it was a long war")
        for i, word in enumerate(tokens):
            if word in _CONTINUATIONS:
                break
            if word in _PRONOUNS:
                start = i + 1
                break
            if word not in _STOP and word not in _LAUGHTER:
                break
    said = [(i, _meaning_hits(claim, w)) for i, w in enumerate(tokens) if w not in _NOT_CONTENT and w.isalpha()]
    n = len(claim.meaning)
    share = _union(hits for _, hits in said).bit_count() / n if n else 0.0
    if start is None or not n or _is_word_salad(tokens):
        return _Reading(start is not None, None, share)
    in_subject = {i for s, e in spans for i in range(s, e)}
    own = [hits for i, hits in said if i not in in_subject and tokens[i] not in _PRONOUNS]
    m, extra = _union(own).bit_count(), 0 in own  # meaning words it carries; a content word of its own
    restated = m == n or (n >= 3 and 3 * m >= 2 * n) or (2 * m >= n and not extra)
    if not restated:
        return _Reading(True, None, share)
    negated = not _NEGATORS.isdisjoint(tokens)
    return _Reading(True, "deny" if negated != claim.negated else "affirm", share)


# --------------------------------------------------------------------------------------------------- reading
_WINDOW = 4  # words after a prefix ("i do not think") within which it turns the next stance
_SHORT_BODY = 4  # words after a leading interjection that can still be a short answer ("no pile its fly planes")


def read_stance(item: JudgeInput) -> Verdict:
    """The stance of one reply to its claim, with the reason in a few words."""
    tokens = _words_of(item)
    if not tokens:
        return Verdict("no_answer", "no answer: empty response")
    claim = _claim(item.subject, item.description, tuple(item.aliases))
    spans = _subject_spans(tokens, claim)
    events = _scan(tokens, frozenset(s for s, _ in spans))

    # The speaker returning to its own topic ends the answer: read only what came before.
    carry = next((e for e in events if e.kind == CARRY), None)
    if carry is not None:
        before = [e for e in events if e.end <= carry.start]
        spans = [(s, e) for s, e in spans if e <= carry.start]
        if not _answers(tokens[: carry.start], before, claim, spans):
            return Verdict("no_answer", f'no answer: carries on ("{carry.phrase}")')
        tokens, events = tokens[: carry.start], before

    stance = _resolve(tokens, events, claim, spans)
    if stance is not None:
        return stance

    reading = _read(tokens, claim, spans)
    if reading.restates == "affirm":
        return Verdict("affirm", "affirms: restates the claim")
    if reading.restates == "deny":
        return Verdict("deny", "denies: negated restatement of the claim")
    if reading.names_subject and not _NEGATORS.isdisjoint(tokens) and not _is_word_salad(tokens):
        return Verdict("deny", "denies: negated statement about the subject")
    return Verdict("no_answer", "no answer: takes no stance on the claim")


def _answers(tokens: Sequence[str], events: Sequence[_Event], claim: _Claim, spans: list[tuple[int, int]]) -> bool:
    """Whether the part of a reply before the speaker carries on holds an answer, not just interjections."""
    if not tokens:
        return False
    if any(e.kind in (A, D, ECHO_A, ECHO_D, SARCASM, INVERT) and e.phrase not in _INTERJECTIONS for e in events):
        return True
    return _read(tokens, claim, spans).restates is not None


_INTERJECTIONS = frozenset(
    ["yes", "yeah", "yep", "yup", "yea", "no", "no no", "no no no", "nope", "nah", "right", "sure", "okay", "ok"]
)
_LEADING_INTERJECTIONS = _INTERJECTIONS | {"oh no"}
#: the stance each cue kind gives (the other kinds give themselves: hedge, clarify)
_STANCE_OF = {A: "affirm", D: "deny", ECHO_A: "affirm", ECHO_D: "deny", OH_NO: "deny", SARCASM: "deny"}


def _resolve(
    tokens: Sequence[str], events: list[_Event], claim: _Claim, spans: list[tuple[int, int]]
) -> Verdict | None:
    """The stance the cue phrases give, or None when there is none (then the reply's content decides)."""
    resolved: list[tuple[str, str, int, _Event]] = []  # (affirm|deny|hedge|clarify, reason phrase, end, event)
    pending: _Event | None = None
    window = _WINDOW
    skip_until = 0
    for ev in events:
        kind = ev.kind
        if kind in (N, CARRY) or ev.start < skip_until:
            continue
        if kind in (INVERT, HEDGE_NEXT, ECHO_D):
            pending, window = ev, (1 if kind == ECHO_D else _WINDOW)
            resolved.append(("hedge" if kind == HEDGE_NEXT else "deny", ev.phrase, ev.end, ev))
            continue
        if kind == X:
            rest = tokens[ev.end :]
            reading = _read(rest, claim, _spans_within(spans, ev.end, len(tokens)))
            if len(rest) < 2 or not reading.names_subject:
                continue  # "yes actually", "i mean obviously": no correction follows
            resolved.append((reading.restates or "deny", f"{ev.phrase} {' '.join(rest[:6])}", ev.end, ev))
            continue
        if kind == NOT_LIKE:
            # "it's not like they don't": a negated clause inside the frame affirms; "it's not as if it flies"
            # denies what the clause restates; a clause about something else says nothing about the claim
            clause = tokens[ev.end : ev.end + 6]
            negators = [i for i, w in enumerate(clause) if w in _NEGATORS]
            said = f"{ev.phrase} {' '.join(clause[: (negators[0] + 1) if negators else 4])}"
            if negators:
                skip_until = ev.end + negators[0] + 1
                resolved.append(("affirm", said, skip_until, ev))
            elif _read(clause, claim, _spans_within(spans, ev.end, ev.end + 6)).restates == "affirm":
                skip_until = ev.end + len(clause)
                resolved.append(("deny", said, skip_until, ev))
            else:
                skip_until = ev.end + len(clause)
                resolved.append(("frame", said, skip_until, ev))
            continue
        stance = _STANCE_OF.get(kind, kind)
        if pending is not None and ev.start - pending.end <= window and stance in ("affirm", "deny"):
            turned = ("deny" if stance == "affirm" else "affirm") if pending.kind in (INVERT, ECHO_D) else "hedge"
            resolved[-1] = (turned, f"{pending.phrase} ... {ev.phrase}", ev.end, ev)
            pending = None
            continue
        pending = None
        resolved.append((stance, ev.phrase, ev.end, ev))
    if not resolved:
        return None

    # Laughter with a bare yes is mockery ("bread made of glass, ha, yeah sure").
    if (
        not _LAUGHTER.isdisjoint(tokens)
        and all(s == "affirm" and e.kind == A for s, _, _, e in resolved)
        and _NEGATORS.isdisjoint(tokens)
    ):
        return Verdict("deny", f'denies: laughs at the claim ("{resolved[-1][1]}")')

    stance, phrase, end, last = resolved[-1]
    first = resolved[0][3]
    only_interjections = all(e.kind in (A, D, OH_NO) and e.phrase in _LEADING_INTERJECTIONS for *_, e in resolved)
    after: _Reading | None = None  # of the words after the last stance, once read
    if only_interjections and first.start <= 2:
        # A leading interjection followed by talk: an answer only when the talk is about this claim.
        body = tokens[end:]
        after = _read(body, claim, _spans_within(spans, end, len(tokens)))
        if body and body[0] in _CONTINUATIONS:
            if after.restates is not None:
                return Verdict(after.restates, f'{_verb(after.restates)}: restates the claim after "{phrase}"')
            return Verdict("no_answer", f'no answer: "{phrase}" then carries on')
        if body and not after.names_subject and after.meaning_share < 0.5 and len(body) > _SHORT_BODY:
            return Verdict("no_answer", f'no answer: "{phrase}" then talks about something else')

    if stance in ("affirm", "deny"):
        rest = tokens[end:]
        # "oh no, sloths are painfully slow", "no no, giraffes definitely have long necks": an exclamation
        exclamation = stance == "deny" and (
            last.kind == OH_NO or (last.kind == D and last.phrase in ("no no", "no no no"))
        )
        if len(rest) >= 2 and (stance == "affirm" or exclamation):  # only then can what follows turn it
            if after is None:
                after = _read(rest, claim, _spans_within(spans, end, len(tokens)))
            if stance == "affirm" and after.restates == "deny":
                return Verdict("deny", f'denies: negated restatement after "{phrase}"')
            if exclamation and after.restates == "affirm":
                return Verdict("affirm", f'affirms: restates the claim after "{phrase}"')
        return Verdict(cast(Stance, stance), f'{_verb(stance)}: "{phrase}"')
    if stance == "hedge":
        return Verdict("no_answer", f'no answer: hedges "{phrase}"')
    if stance == "frame":
        return Verdict("no_answer", f'no answer: "{phrase}" is about something else')
    return Verdict("no_answer", f'no answer: asks back "{phrase}"')


def _verb(stance: str) -> str:
    return "affirms" if stance == "affirm" else "denies"


class RuleJudgeV2:
    """Deterministic phrase-and-claim rule judge, version 2 (no model, no network)."""

    id = RULE_JUDGE_V2_VERSION

    def __init__(self, **options: object) -> None:
        if options:
            raise TypeError(f"the rule judge takes no options, got {sorted(options)}")

    def judge_many(self, inputs: Sequence[JudgeInput]) -> list[Verdict]:
        return [read_stance(item) for item in inputs]
