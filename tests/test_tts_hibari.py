"""The default engine, hibari: word spans from the graph's durations, determinism, voices and the Hub download path
(faked: no network)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest

from zbb.errors import EngineError
from zbb.tts.hibari import DURATION_UNIT, HibariEngine, word_spans

CLAIM = "Giraffe has a very long neck, right?"


@pytest.fixture(scope="module")
def engine():
    return HibariEngine()


def test_word_spans_cover_every_word_in_order_and_stay_in_the_audio(engine):
    result = engine.synthesize(CLAIM, "heart")
    assert result.sample_rate == 24000
    assert [w.word for w in result.words] == ["Giraffe", "has", "a", "very", "long", "neck", "right"]
    assert all(0 <= w.start < w.end <= result.n_samples for w in result.words)
    assert all(a.end <= b.start for a, b in zip(result.words, result.words[1:], strict=False))
    # the subject holds the first sound: nothing above -40 dB of the peak before its span starts
    peak = np.max(np.abs(result.samples))
    first_sound = int(np.flatnonzero(np.abs(result.samples) > peak * 0.01)[0])
    assert result.words[0].start <= first_sound + 1200 and first_sound < result.words[0].end


def test_the_duration_output_sums_to_the_audio_length(engine):
    voice = engine._voice("heart")
    front = engine._front_end("heart")
    ids = front.ids(front.phonemize(CLAIM)[0])
    out = voice.session.run(None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([1.0], np.float32)})
    durations = out[-1].reshape(-1)
    assert durations.shape[0] == len(ids)
    assert int(durations.sum()) * DURATION_UNIT == out[0].shape[-1] * 300  # 600 samples a unit = 2 frames of 300
    assert engine.synthesize(CLAIM, "heart").n_samples == int(durations.sum()) * DURATION_UNIT


def test_word_spans_from_durations_by_hand():
    vocab = {c: i for i, c in enumerate(" abcd,?")}
    # tokens: pad, a, b, ' ', c, d, ',', pad -> durations in units of 10 samples
    spans = word_spans("ab cd,", [("ab cd,", np.array([1, 2, 3, 4, 5, 6, 7, 8.0]))], vocab, unit=10)
    lead = 600  # boundaries move half a synthesis window early, clamped at 0
    starts = [0, 10 + 20 + 30]  # 'ab' from its first phoneme; 'cd' from the end of 'ab' (its space is the way in)
    ends = [10 + 20 + 30, 10 + 20 + 30 + 40 + 50 + 60]
    assert [(w.word, w.start, w.end) for w in spans] == [
        ("ab", max(starts[0] - lead, 0), max(ends[0] - lead, 0)),
        ("cd", max(starts[1] - lead, 0), max(ends[1] - lead, 0)),
    ]
    # phoneme words that do not pair with the text's words give no spans (the builder aligns instead)
    assert word_spans("ab cd ef", [("ab cd,", np.ones(8))], vocab) == ()
    assert word_spans("ab cd", [("ab cd,", np.ones(5))], vocab) == ()


def test_synthesis_is_deterministic_whatever_was_said_before(engine):
    first = engine.synthesize(CLAIM, "heart").samples
    engine.synthesize("Something else entirely, with other words.", "heart")
    again = HibariEngine().synthesize(CLAIM, "heart").samples
    assert np.array_equal(first, again) and np.array_equal(first, engine.synthesize(CLAIM, "heart").samples)
    other = engine.synthesize("Giraffe has a very long neck, isn't it?", "heart").samples
    assert not np.array_equal(first[:1000], other[:1000]) or first.size != other.size


def test_one_onnxruntime_thread(engine):
    options = engine._voice("heart").session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


@pytest.mark.parametrize(
    "text, voice, match",
    [("", "heart", "empty text"), ("Hello.", "nobody", "unknown voice 'nobody'"), ("   ", "heart", "empty text")],
)
def test_bad_requests_raise_engine_errors(engine, text, voice, match):
    with pytest.raises(EngineError, match=match):
        engine.synthesize(text, voice)


def test_the_default_voice_is_the_bundled_one(engine):
    assert engine.default_voices() == ["heart"]
    assert {"heart", "fenrir", "emma"} <= set(engine.voices())
    assert "hibari-tts" in engine.describe()


def _fake_hub(monkeypatch, tmp_path, payload: bytes | None):
    """HIBARI_HOME in tmp; the Hub answers `payload` for any voice file (None: the network is down)."""
    import urllib.error
    import urllib.request

    from hibari import voices as hibari_voices

    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "cache"))
    requested: list[str] = []

    def urlopen(url, timeout=None):
        requested.append(url)
        if payload is None:
            raise urllib.error.URLError("no network")
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    if payload is not None:  # the registry's hash is of the real file: make it the fake file's
        entry = dict(hibari_voices.VOICES["fenrir"], sha256=hashlib.sha256(payload).hexdigest())
        monkeypatch.setitem(hibari_voices.VOICES, "fenrir", entry)
    return requested


def test_a_hub_voice_is_downloaded_once_checked_and_cached(monkeypatch, tmp_path):
    from hibari.voices import voice_path

    bundled = Path(voice_path("heart")).read_bytes()  # a stand-in model: the same graph under another name
    requested = _fake_hub(monkeypatch, tmp_path, bundled)
    engine = HibariEngine()
    engine.ensure_voices(["heart", "fenrir"])
    assert len(requested) == 1 and requested[0].endswith(".onnx") and "fenrir" in requested[0]
    assert (tmp_path / "cache").is_dir() and any((tmp_path / "cache").iterdir())
    assert engine.synthesize(CLAIM, "fenrir").words[0].word == "Giraffe"
    HibariEngine().ensure_voices(["fenrir"])  # cached now: no second request
    assert len(requested) == 1


def test_a_corrupt_download_is_refused(monkeypatch, tmp_path):
    requested = _fake_hub(monkeypatch, tmp_path, b"not a model")
    from hibari import voices as hibari_voices

    monkeypatch.setitem(hibari_voices.VOICES, "fenrir", dict(hibari_voices.VOICES["fenrir"], sha256="0" * 64))
    with pytest.raises(EngineError, match=r"voice 'fenrir'.*sha256"):
        HibariEngine().ensure_voices(["fenrir"])
    assert requested and not any((tmp_path / "cache").glob("*.onnx"))


def test_offline_a_hub_voice_fails_clearly_and_a_build_names_the_offline_voice(monkeypatch, tmp_path):
    from zbb.builder import build_dataset

    _fake_hub(monkeypatch, tmp_path, None)
    with pytest.raises(EngineError, match=r"voice 'fenrir' is not bundled.*--voices heart"):
        build_dataset(tmp_path / "out", preset="tiny", voices=["heart", "fenrir"], progress=False)
    assert not (tmp_path / "out").exists()
