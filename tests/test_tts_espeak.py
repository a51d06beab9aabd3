"""The embedded eSpeak NG engine: real synthesis, distinct voices, word spans that match the audio."""

from itertools import pairwise

import numpy as np
import pytest

from zbb.errors import EngineError, UnknownNameError
from zbb.tts import TTS_ENGINES

TEXT = "Submarine flies in the clouds, isn't it?"


@pytest.fixture(scope="module")
def engine():
    return TTS_ENGINES.get("espeak")()


def _f0(samples: np.ndarray, sr: int) -> float:
    """Median autocorrelation pitch over voiced 40 ms frames (independent of the engine's own settings)."""
    frame, hop = int(0.04 * sr), int(0.02 * sr)
    lo, hi = int(sr / 400), int(sr / 60)
    pitches = []
    for start in range(0, len(samples) - frame, hop):
        x = samples[start : start + frame]
        if np.sqrt(np.mean(x**2)) < 0.05:
            continue
        x = x - x.mean()
        ac = np.correlate(x, x, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            pitches.append(sr / lag)
    return float(np.median(pitches))


def test_at_least_four_voices_that_sound_different(engine):
    voices = engine.voices()
    assert len(voices) >= 4
    outputs = {v: engine.synthesize(TEXT, v) for v in voices}
    lengths = {v: s.n_samples for v, s in outputs.items()}
    assert len(set(lengths.values())) >= 4, lengths  # different rates/voices give different lengths
    assert _f0(outputs["us-female"].samples, 22050) > 1.3 * _f0(outputs["us-male"].samples, 22050)


@pytest.mark.parametrize("voice", ["us-male", "gb-female", "scottish-male"])
def test_word_spans_cover_every_word_in_order(engine, voice):
    syn = engine.synthesize(TEXT, voice)
    assert [w.word for w in syn.words] == ["Submarine", "flies", "in", "the", "clouds", "isn't", "it"]
    bounds = [(w.start, w.end) for w in syn.words]
    assert all(s <= e for s, e in bounds)
    assert all(a[1] <= b[0] for a, b in pairwise(bounds))
    assert bounds[-1][1] <= syn.n_samples


def test_subject_span_holds_the_first_sound(engine):
    syn = engine.synthesize("Giraffe has a long neck, right?", "us-male")
    x, sr = syn.samples, syn.sample_rate
    loud = np.flatnonzero(np.abs(x) > 0.02)
    subject = syn.words[0]
    assert subject.word == "Giraffe"
    assert subject.start <= loud[0] < subject.end  # speech starts inside the subject's span
    # the subject span holds real sound, not just silence (energy measured independently)
    seg = x[subject.start : subject.end]
    assert np.sqrt(np.mean(seg**2)) > 0.02
    assert (subject.end - subject.start) / sr > 0.15


def test_synthesis_is_deterministic(engine):
    a = engine.synthesize(TEXT, "gb-male")
    b = engine.synthesize(TEXT, "gb-male")
    assert np.array_equal(a.samples, b.samples) and a.words == b.words


@pytest.mark.parametrize("text,voice,match", [("", "us-male", "empty"), ("Hello", "martian", "unknown voice")])
def test_bad_requests_raise_engine_errors(engine, text, voice, match):
    with pytest.raises(EngineError, match=match):
        engine.synthesize(text, voice)


def test_unknown_engine_lists_known_ones():
    with pytest.raises(UnknownNameError, match=r"Did you mean 'espeak'.*Available: coqui, espeak, hibari, openai"):
        TTS_ENGINES.get("espeek")


def test_every_voice_is_independent_of_what_was_said_before(engine):
    """Same text + voice -> same samples whatever came before (builds must be byte-identical in any order)."""
    probe = "Kettle boils water, right?"
    others = ["Tell me everything you know about the history of jazz.", "Hey, sorry, quick question:", "Hi there!"]
    for voice in engine.voices():
        first = engine.synthesize(probe, voice).samples
        for other in others:
            engine.synthesize(other, engine.voices()[len(other) % len(engine.voices())])
            engine.synthesize(other, voice)
            again = engine.synthesize(probe, voice).samples
            assert np.array_equal(first, again), f"voice {voice} changed after {other!r}"
