"""The TTS engines besides espeak: the OpenAI-compatible one against a real local HTTP server, coqui's install
hint, and the registry's answer to an unknown name."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from zbb.errors import EngineError, UnknownNameError
from zbb.tts import TTS_ENGINES


class _SpeechServer:
    """`POST /v1/audio/speech` answering real speech (espeak) as WAV; records requests; can fail on demand."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                from zbb.audio import encode
                from zbb.tts.espeak import EspeakEngine

                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if server.fail_next > 0:
                    server.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"model loading")
                    return
                voice = {"alloy": "us-male", "nova": "gb-male"}[body["voice"]]
                s = EspeakEngine().synthesize(body["input"], voice)
                data = encode(s.samples, s.sample_rate, "WAV")
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def speech_server():
    server = _SpeechServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_openai_engine_speaks_through_a_local_server(speech_server):
    from zbb.tts.openai_compat import OpenAISpeechEngine

    engine = OpenAISpeechEngine(base_url=speech_server.url, model="kokoro", voice="alloy,nova", api_key="sk-test")
    assert engine.voices() == ["alloy", "nova"]
    s = engine.synthesize("Giraffe has a long neck, right?", "nova")
    assert s.sample_rate == 22050 and s.n_samples > 22050 and np.max(np.abs(s.samples)) > 0.05
    req = speech_server.requests[-1]
    assert req == {
        "path": "/v1/audio/speech",
        "auth": "Bearer sk-test",
        "model": "kokoro",
        "input": "Giraffe has a long neck, right?",
        "voice": "nova",
        "response_format": "wav",
    }


def test_openai_engine_reads_the_environment(speech_server, monkeypatch):
    from zbb.tts.openai_compat import OpenAISpeechEngine

    monkeypatch.setenv("ZBB_TTS_BASE_URL", speech_server.url)
    monkeypatch.setenv("ZBB_TTS_MODEL", "env-model")
    monkeypatch.setenv("ZBB_TTS_VOICE", "nova")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    engine = OpenAISpeechEngine()
    assert engine.voices() == ["nova"] and "env-model" in engine.describe()
    engine.synthesize("Hello there.", "nova")
    assert speech_server.requests[-1]["model"] == "env-model" and speech_server.requests[-1]["auth"] is None


def test_openai_engine_errors_are_clear(speech_server, monkeypatch):
    from zbb.tts.openai_compat import OpenAISpeechEngine

    speech_server.fail_next = 1
    engine = OpenAISpeechEngine(base_url=speech_server.url, voice="alloy")
    with pytest.raises(EngineError, match="HTTP 503 .*model loading"):
        engine.synthesize("Hello.", "alloy")
    with pytest.raises(EngineError, match="cannot reach http://127.0.0.1:9/v1/audio/speech"):
        OpenAISpeechEngine(base_url="http://127.0.0.1:9/v1", voice="alloy", timeout_s=2).synthesize("Hi.", "alloy")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ZBB_TTS_BASE_URL", raising=False)
    with pytest.raises(EngineError, match="OPENAI_API_KEY"):
        OpenAISpeechEngine()


def test_a_build_with_the_openai_engine_aligns_words_and_retries(speech_server, tiny_bank, tmp_path):
    """An engine without word timings: the claim's words come from forced alignment; a 503 is retried."""
    import pyarrow.parquet as pq

    from zbb.builder import build_dataset
    from zbb.builder.render import RetryPolicy

    _, recipe = tiny_bank
    bank = tmp_path / "bank.csv"  # claims pocketsphinx aligns reliably on espeak's voice
    bank.write_text(
        "id,subject,label,description,confirmation\n"
        "submarine-t,submarine,true,travels under the sea,right?\n"
        "submarine-f,submarine,false,flies in the clouds,right?\n",
        encoding="utf-8",
    )
    speech_server.fail_next = 2
    report = build_dataset(
        tmp_path / "zbb",
        bank=bank,
        recipe=recipe,
        preset="tiny",
        engine="openai",
        engine_options={"base_url": speech_server.url, "model": "kokoro", "voice": "alloy,nova"},
        conditions=["interrupt"],
        progress=False,
        retry=RetryPolicy(attempts=3, backoff_s=0),
    )
    assert report.counts == {"interrupt": 2}
    manifest = json.loads((tmp_path / "zbb" / "zbb_build.json").read_text())
    assert "pocketsphinx" in manifest["word_timings"] and manifest["engine"] == "openai"
    assert "pocketsphinx" in (tmp_path / "zbb" / "README.md").read_text()
    assert "license: other" in (tmp_path / "zbb" / "README.md").read_text()
    for row in pq.read_table(tmp_path / "zbb" / "interrupt" / "test-00000-of-00001.parquet").to_pylist():
        words = row["claim_words"]
        assert len(words) == len(row["text"].replace(",", " ").split())
        assert words[0]["word"].lower() == row["subject"] and row["onset_s"] < row["subject_end_s"] < row["end_s"]
        assert row["tts_engine"].startswith("openai-compatible kokoro")


def test_coqui_without_the_package_says_how_to_install():
    pytest.importorskip  # noqa: B018 - the check below is the point: TTS is not installed here
    try:
        import TTS  # noqa: F401
    except ImportError:
        with pytest.raises(EngineError, match=r"pip install 'zbb\[coqui\]'"):
            TTS_ENGINES.get("coqui")()
    else:
        pytest.skip("Coqui TTS is installed; the install hint cannot be shown")


@pytest.mark.parametrize("name", TTS_ENGINES.names())
def test_every_registered_engine_loads_lazily(name):
    """Each entry resolves to a class with the engine interface (constructing may need extras or config)."""
    cls = TTS_ENGINES.get(name)
    assert cls.name == name
    for method in ("voices", "synthesize", "describe"):
        assert callable(getattr(cls, method))


def test_unknown_engine_name_suggests_and_lists():
    with pytest.raises(
        UnknownNameError,
        match=r"unknown TTS engine 'opnai'\. Did you mean 'openai'\? "
        r"Available: coqui, espeak, hibari, openai",
    ):
        TTS_ENGINES.get("opnai")


def test_alignment_places_words_close_to_the_engine_s_own_timings():
    from zbb.builder.align import align_words
    from zbb.tts.espeak import EspeakEngine

    s = EspeakEngine().synthesize("Submarine flies in the clouds, right?", "us-male")
    aligned = align_words(s.samples, s.sample_rate, "Submarine flies in the clouds, right?", where="item x")
    assert [w.word for w in aligned] == [w.word for w in s.words]
    assert abs(aligned[0].end - s.words[0].end) < 0.05 * s.sample_rate  # subject end within 50 ms
    noise = np.random.default_rng(0).normal(0, 0.3, s.sample_rate).astype(np.float32)
    with pytest.raises(EngineError, match="item y: forced alignment could not place the first word 'Giraffe'"):
        align_words(noise, s.sample_rate, "Giraffe has a long neck, right?", where="item y")
