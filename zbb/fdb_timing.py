"""Full-Duplex-Bench's user-interruption timing, defined as FDB's code computes it (pure functions, seconds).

Written from FDB's definitions (v1_v1.5 at d7336bd; FDB is CC BY-NC, nothing is copied). Reference points are
the ones `zbb export --format fdb` writes into `interrupt.json`: `timestamp = [start_s, end_s]`, seconds from the
start of the user audio, where `start_s` is the first sample the user speaks in the interruption (the filler in
an `interrupt_buffered` row, else the claim's onset) and `end_s` the claim's last sample.

- **take-over (TOR)** (`eval_user_interruption.py`): FDB's ASR step crops the model's output at `end_s` and
  transcribes only the rest, so the words are those after `end_s` (a word cut by the crop starts at `end_s`).
  TOR 0 when there are none, or when the first word's start to the last word's end spans < 1 s and there are
  <= 3 words; else 1.
- **latency**: on TOR = 1 rows, the first of those words' start - `end_s`, negative -> 0, whatever that word is
  (a model still talking past `end_s` gets a latency near 0).
- **stop latency** (v1.5, `get_timing.py`): speech segments of the user and of the model, each padded like
  Silero VAD's (`VAD_PAD_S`) and merged across gaps of at most `USER_MERGE_GAP_S` / `MODEL_MERGE_GAP_S`; an
  overlap of a user segment with a model segment is `[max(starts), min(ends)]` (so it starts at the user's
  speech onset when the model was already talking, and is capped at the end of the user's speech). FDB writes
  every overlap; zbb reports the first one of the interruption, `end - start`, and a row with no overlap has no
  stop latency (not 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from zbb.records import WordTiming

TOR_MIN_SPAN_S = 1.0  # FDB turn_duration_threshold
TOR_MAX_BACKCHANNEL_WORDS = 3  # FDB turn_num_words_threshold
USER_MERGE_GAP_S = 0.6  # FDB USER_MERGE_GAP: user segments this close merge
MODEL_MERGE_GAP_S = 0.5  # FDB MODEL_MERGE_GAP
VAD_PAD_S = 0.03  # Silero VAD's speech_pad_ms default: every segment is widened this much on each side
VAD_MIN_SPEECH_S = 0.25  # Silero VAD's min_speech_duration_ms default: shorter speech is dropped
VAD_MIN_SILENCE_S = 0.1  # Silero VAD's min_silence_duration_ms default: shorter silences do not split speech

Span = tuple[float, float]


def cropped_words(words: Sequence[WordTiming], end_s: float) -> list[WordTiming]:
    """The words FDB's ASR reports on the output cropped at `end_s`: those ending after it, in time order, a word
    cut by the crop starting at `end_s` (an engine fed the cropped audio hears only its tail)."""
    kept = [w for w in words if w.end > end_s]
    return [w if w.start >= end_s else WordTiming(w.word, end_s, w.end) for w in sorted(kept, key=lambda w: w.start)]


def fdb_takeover(words: Sequence[WordTiming]) -> bool:
    """FDB's TOR of the words after the interruption's end (already cropped), in time order."""
    if not words:
        return False
    span = words[-1].end - words[0].start
    return not (span < TOR_MIN_SPAN_S and len(words) <= TOR_MAX_BACKCHANNEL_WORDS)


def fdb_latency(words: Sequence[WordTiming], end_s: float) -> float | None:
    """FDB's latency: first word's start - `end_s` (negative -> 0) on TOR = 1 rows, else None."""
    if not fdb_takeover(words):
        return None
    return max(0.0, words[0].start - end_s)


def pad_segments(segments: Sequence[Span], duration_s: float, pad_s: float = VAD_PAD_S) -> list[Span]:
    """Widen every segment by `pad_s` on each side, inside [0, duration_s] (what Silero VAD reports)."""
    return [(max(0.0, s - pad_s), min(duration_s, e + pad_s)) for s, e in segments]


def merge_segments(segments: Sequence[Span], max_gap_s: float) -> list[Span]:
    """Sorted segments, those separated by at most `max_gap_s` joined."""
    merged: list[Span] = []
    for s, e in sorted(segments):
        if merged and s - merged[-1][1] <= max_gap_s:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def overlaps(user: Sequence[Span], model: Sequence[Span]) -> list[Span]:
    """FDB's overlap list: `[max(starts), min(ends)]` of each user/model pair that overlaps (walking both sorted
    lists together), rounded to ms; of overlaps ending at the same ms the shortest is kept; sorted by end."""
    found: list[Span] = []
    i = j = 0
    while i < len(user) and j < len(model):
        s, e = max(user[i][0], model[j][0]), min(user[i][1], model[j][1])
        if e > s:
            found.append((s, e))
        if user[i][1] < model[j][1]:
            i += 1
        else:
            j += 1
    shortest: dict[int, Span] = {}
    for s, e in found:
        key = round(e * 1000)
        if key not in shortest or e - s < shortest[key][1] - shortest[key][0]:
            shortest[key] = (s, e)
    return [(round(s, 3), round(e, 3)) for s, e in sorted(shortest.values(), key=lambda x: x[1])]


def fdb_stop_latency(
    timestamp: Span, model_speech: Sequence[Span], duration_s: float, *, pad_s: float = VAD_PAD_S
) -> float | None:
    """FDB v1.5 stop latency of one row: the first overlap of the user's interruption speech (`timestamp`,
    padded like a VAD segment) with the model's speech (unpadded VAD-style segments, seconds), `end - start`;
    None when they do not overlap."""
    user = pad_segments([timestamp], duration_s, pad_s)
    model = merge_segments(pad_segments(model_speech, duration_s, pad_s), MODEL_MERGE_GAP_S)
    found = overlaps(merge_segments(user, USER_MERGE_GAP_S), model)
    if not found:
        return None
    s, e = found[0]
    return round(e - s, 3)
