"""Timing on synthetic output audio: tone bursts placed at known sample offsets give exact expectations."""

from __future__ import annotations

import numpy as np
import pytest

from zbb.fdb_timing import fdb_takeover
from zbb.records import WordTiming
from zbb.timing import (
    FRAME_S,
    ItemTiming,
    claim_stop_latency,
    item_timing,
    speech_segments,
    talking_at,
    vad_segments,
)

SR = 16_000


def bursts(duration_s: float, spans: list[tuple[float, float]], amplitude: float = 0.3) -> np.ndarray:
    """Silence of `duration_s` with a 300 Hz tone over each (start_s, end_s); spans on 10 ms frame boundaries."""
    out = np.zeros(int(round(duration_s * SR)), dtype=np.float32)
    for s, e in spans:
        a, b = int(round(s * SR)), int(round(e * SR))
        out[a:b] = amplitude * np.sin(2 * np.pi * 300 * np.arange(b - a) / SR)
    return out


def w(word, start, end):
    return WordTiming(word, start, end)


def test_segments_are_exact_on_frame_aligned_bursts():
    audio = bursts(5.0, [(0.5, 1.2), (1.4, 2.0), (3.0, 3.5)])
    # the 0.2 s gap is shorter than a pause (0.4 s) and merges; the 1.0 s gap does not
    assert speech_segments(audio, SR) == [(int(0.5 * SR), int(2.0 * SR)), (int(3.0 * SR), int(3.5 * SR))]


def test_quiet_noise_and_clicks_are_not_speech():
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(3 * SR) * 10 ** (-60 / 20)).astype(np.float32)  # -60 dBFS hiss
    audio[SR : SR + int(0.02 * SR)] = 0.5  # a 20 ms click
    assert speech_segments(audio, SR) == []


@pytest.mark.parametrize(
    "words, expected",
    [
        ([], False),  # said nothing
        ([w("yeah", 4.0, 4.3)], False),  # backchannel
        ([w("no", 4.0, 4.2), w("it", 4.3, 4.4), w("isn't", 4.5, 4.9)], False),  # 3 words in 0.9 s
        ([w("no", 4.0, 4.2), w("it", 4.3, 4.4), w("is", 4.5, 4.6), w("not", 4.7, 4.9)], True),  # 4 words
        ([w("noooo", 4.0, 5.2)], True),  # 1 word, 1.2 s
    ],
)
def test_takeover_follows_fdb(words, expected):
    assert fdb_takeover(words) is expected


def test_listening_model_answering_after_the_claim():
    # claim 2.0-3.5 s; the model is silent, then answers 4.0-5.5 s
    audio = bursts(6.0, [(4.0, 5.5)])
    words = [w("no", 4.0, 4.3), w("submarines", 4.4, 5.0), w("swim", 5.1, 5.5)]
    t = item_timing(onset_s=2.0, end_s=3.5, words=words, samples=audio, sample_rate=SR)
    assert t == ItemTiming(
        takeover=True,
        latency_s=0.5,
        stop_latency_s=None,  # FDB: the model never talked over the user, so no stop-latency entry
        answer_latency_s=0.5,
        claim_stop_latency_s=0.0,
        talking_at_onset=False,
    )


def test_talking_model_keeps_on_then_answers():
    # the model talks 0-2.6 s (claim onset 2.0 s: it carries on 0.6 s), pauses, answers 4.2-5.4 s
    audio = bursts(6.0, [(0.0, 2.6), (4.2, 5.4)])
    words = [w("and", 1.8, 2.1), w("then", 2.2, 2.6), w("no", 4.2, 4.5), w("never", 4.6, 5.4)]
    t = item_timing(onset_s=2.0, end_s=3.5, words=words, samples=audio, sample_rate=SR)
    assert t.talking_at_onset is True and t.claim_stop_latency_s == pytest.approx(0.6)
    # 'then' (2.2 s) continues the monologue; the answer starts with 'no' at 4.2 s: 0.7 s after the claim ends
    assert t.answer_latency_s == pytest.approx(0.7)
    # FDB: the first word after the claim's end is 'no' too (the monologue stopped before it), so the same 0.7 s;
    # stop latency = overlap [2.0 - pad, 2.6 + pad] of the user's claim and the model's talk (Silero-style pads)
    assert t.takeover is True and t.latency_s == pytest.approx(0.7)
    assert t.stop_latency_s == pytest.approx(0.66)


def test_answer_starting_before_the_claim_ends_has_zero_latency():
    t = item_timing(onset_s=2.0, end_s=3.5, words=[w("no", 3.0, 3.4), w("way", 3.5, 4.2)])
    assert t == ItemTiming(takeover=False, answer_latency_s=0.0)  # FDB crops at 3.5 s: only "way", 0.7 s
    t = item_timing(onset_s=2.0, end_s=3.5, words=[w("no", 3.0, 3.6), w("way", 3.7, 4.2), w("not", 4.3, 4.6)])
    assert t == ItemTiming(takeover=True, latency_s=0.0, answer_latency_s=0.0)  # 'no' cut by the crop: 1.1 s


def test_audio_only_timing_uses_voiced_time():
    audio = bursts(6.0, [(0.5, 1.0), (4.0, 5.5)])  # stopped 1 s before the onset: not talking at it
    t = item_timing(onset_s=2.0, end_s=3.5, samples=audio, sample_rate=SR)
    assert t == ItemTiming(
        takeover=True, latency_s=0.5, answer_latency_s=0.5, claim_stop_latency_s=0.0, talking_at_onset=False
    )
    short = item_timing(onset_s=2.0, end_s=3.5, samples=bursts(6.0, [(4.0, 4.5)]), sample_rate=SR)
    assert short.takeover is False and short.latency_s is None and short.answer_latency_s is None


def test_talking_at_onset_window_edges():
    seg = [(0, int(1.8 * SR))]  # voiced until 0.2 s before the onset
    assert talking_at(seg, 2 * SR, SR, window_s=0.25) is True
    assert talking_at(seg, 2 * SR, SR, window_s=0.15) is False
    assert claim_stop_latency(seg, 2 * SR, SR) == 0.0
    assert claim_stop_latency([(0, int(2.5 * SR))], 2 * SR, SR) == pytest.approx(0.5)


def test_no_audio_no_words_measures_nothing():
    assert item_timing(onset_s=1.0, end_s=2.0) == ItemTiming()
    assert FRAME_S == 0.01


def test_silero_shaped_segments_split_short_silences_and_drop_short_speech():
    audio = bursts(5.0, [(0.5, 1.2), (1.4, 2.0), (3.0, 3.15)])
    # zbb's segmentation joins the 0.2 s gap and keeps the 0.15 s burst; Silero's defaults (silence >= 0.1 s splits,
    # speech < 0.25 s is dropped) do the opposite
    assert speech_segments(audio, SR) == [(int(0.5 * SR), int(2.0 * SR)), (int(3.0 * SR), int(3.15 * SR))]
    assert vad_segments(audio, SR) == [(int(0.5 * SR), int(1.2 * SR)), (int(1.4 * SR), int(2.0 * SR))]
