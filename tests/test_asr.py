"""ASR engines: every registry entry works or says clearly what is missing; pocketsphinx hears espeak speech at
the right times; the OpenAI-compatible client speaks the verbose_json protocol (against a local fake server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from zbb.asr import ASR_ENGINES, ASR_GRADES, ASR_SAMPLE_RATE, Transcript, asr_grade_of, make_asr
from zbb.audio import resample
from zbb.errors import EngineError, UnknownNameError


@pytest.fixture(scope="module")
def speech():
    """'yes a submarine cannot fly', spoken by espeak, at 16 kHz, after 1.0 s of silence."""
    from zbb.tts import TTS_ENGINES

    syn = TTS_ENGINES.get("espeak")().synthesize("Yes. The submarine cannot fly in the clouds.", "us-female")
    voiced = resample(syn.samples, syn.sample_rate, ASR_SAMPLE_RATE)
    return np.concatenate([np.zeros(ASR_SAMPLE_RATE, dtype=np.float32), voiced]), len(voiced) / ASR_SAMPLE_RATE


@pytest.mark.parametrize("name", ASR_ENGINES.names())
def test_every_engine_works_or_says_what_is_missing(name, speech, monkeypatch):
    monkeypatch.delenv("ZBB_ASR_BASE_URL", raising=False)
    window, _ = speech
    try:
        engine = make_asr(name)
        out = engine.transcribe_many([window], workers=1)
    except EngineError as exc:
        assert name != "pocketsphinx", "the embedded default must always work"
        assert any(hint in str(exc) for hint in ("pip install", "ZBB_ASR_BASE_URL", "cannot load")), str(exc)
        return
    assert isinstance(engine.describe(), str) and engine.describe()
    assert len(out) == 1 and isinstance(out[0], Transcript) and out[0].words


@pytest.mark.parametrize("name", ASR_ENGINES.names())
def test_every_engine_declares_whether_it_is_fit_as_a_reference(name):
    engine_class = ASR_ENGINES.get(name)  # the class: its optional backend need not be installed
    assert asr_grade_of(engine_class) == engine_class.grade and engine_class.grade in ASR_GRADES


@pytest.mark.parametrize(
    "engine, grade",
    [
        ("pocketsphinx", "indicative"),  # WER 0.4-0.9 on synthetic speech
        ("nemo", "reference"),  # parakeet, the paper's ASR
        ("whisper", "reference"),  # large-v3 by default
        ("openai", "reference"),
    ],
)
def test_asr_grades(engine, grade):
    assert ASR_ENGINES.get(engine).grade == grade


@pytest.mark.parametrize(
    "model, grade",
    [
        ("tiny", "indicative"),
        ("small.en", "indicative"),
        ("large-v3", "reference"),
        ("/m/whisper-large-v3-turbo", "reference"),
    ],
)
def test_whisper_grade_follows_the_model(model, grade):
    from zbb.asr.whisper import whisper_grade

    assert whisper_grade(model) == grade


def test_an_engine_declaring_no_grade_is_not_taken_as_a_reference():
    class Homemade:
        name = "homemade"

    assert asr_grade_of(Homemade()) == "indicative"


def test_unknown_engine_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'pocketsphinx'"):
        make_asr("pocketsphynx")


def test_pocketsphinx_words_are_timed_inside_the_speech(speech):
    window, voiced_s = speech
    (transcript,) = make_asr("pocketsphinx").transcribe_many([window], workers=1)
    words = transcript.words
    assert words, "pocketsphinx heard nothing in clear speech"
    # the first second is silence: every word lies in the voiced part (10 ms frame slack)
    assert all(1.0 - 0.05 <= w.start < w.end <= 1.0 + voiced_s + 0.05 for w in words), words
    assert all(not w.word.startswith(("<", "[")) and "(" not in w.word for w in words)
    assert transcript.text == " ".join(w.word for w in words)
    # pocketsphinx is weak on robotic speech; "yes" at least is reliably heard
    assert {"yes", "the", "fly", "in", "clouds", "submarine"} & {w.word for w in words}


def test_pocketsphinx_pool_gives_the_same_answers_in_order(speech):
    window, _ = speech
    short = window[: len(window) // 2]
    engine = make_asr("pocketsphinx")
    serial = engine.transcribe_many([window, short, np.zeros(1600, np.float32)], workers=1)
    pooled = engine.transcribe_many([window, short, np.zeros(1600, np.float32)], workers=2)
    assert pooled == serial and serial[2].words == ()


class _FakeTranscriptionServer(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append(
            {
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "has_wav": b"RIFF" in body,
                "verbose": b"verbose_json" in body,
                "word_ts": b"timestamp_granularities[]" in body and b"word" in body,
            }
        )
        if "/boom/" in self.path:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"bad model")
            return
        answer = {
            "text": " No, it cannot.",
            "words": [
                {"word": "No", "start": 0.5, "end": 0.8},
                {"word": "it", "start": 0.9, "end": 1.0},
                {"word": "cannot", "start": 1.0, "end": 1.5},
            ],
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    server = HTTPServer(("127.0.0.1", 0), _FakeTranscriptionServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeTranscriptionServer.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_engine_against_a_local_server(fake_server, monkeypatch):
    monkeypatch.setenv("ZBB_ASR_BASE_URL", fake_server)
    monkeypatch.setenv("ZBB_ASR_API_KEY", "sk-test")
    engine = make_asr("openai:my-whisper")
    (out,) = engine.transcribe_many([np.full(16000, 0.1, np.float32)])
    assert out.text == "No, it cannot." and [w.word for w in out.words] == ["No", "it", "cannot"]
    assert out.words[2].start == 1.0 and out.words[2].end == 1.5
    (req,) = _FakeTranscriptionServer.requests
    assert req == {
        "path": "/v1/audio/transcriptions",
        "auth": "Bearer sk-test",
        "has_wav": True,
        "verbose": True,
        "word_ts": True,
    }
    assert "my-whisper" in engine.describe()


def test_openai_engine_client_errors_are_engine_errors(fake_server, monkeypatch):
    monkeypatch.setenv("ZBB_ASR_BASE_URL", fake_server + "/boom")
    with pytest.raises(EngineError, match="answered 400: bad model"):
        make_asr("openai").transcribe_many([np.zeros(1600, np.float32)])
