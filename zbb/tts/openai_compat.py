"""Any OpenAI-compatible speech server (`POST {base_url}/audio/speech`): OpenAI, Kokoro-FastAPI, openedai-speech...

Configured by keyword options (CLI flags) or the environment: `ZBB_TTS_BASE_URL`, `ZBB_TTS_MODEL`,
`ZBB_TTS_VOICE` (comma-separated voices), `OPENAI_API_KEY`. Audio is requested as WAV. Such servers report no
word timings: the builder aligns the claim itself (see zbb.builder.align).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from zbb.errors import EngineError
from zbb.tts.base import Synthesis

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "alloy"


class OpenAISpeechEngine:
    """Text to speech over HTTP; one request per utterance (the builder retries failures)."""

    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        voice: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
    ):
        self.base_url = (base_url or os.environ.get("ZBB_TTS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.model = model or os.environ.get("ZBB_TTS_MODEL") or DEFAULT_MODEL
        voices = voice or os.environ.get("ZBB_TTS_VOICE") or DEFAULT_VOICE
        self._voices = [v.strip() for v in voices.split(",") if v.strip()]
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.timeout_s = timeout_s
        if self.base_url == DEFAULT_BASE_URL and not self.api_key:
            raise EngineError(
                "openai TTS: no API key for api.openai.com; set OPENAI_API_KEY, or point "
                "--tts-base-url / ZBB_TTS_BASE_URL at a local OpenAI-compatible server"
            )

    def voices(self) -> list[str]:
        return list(self._voices)

    def describe(self) -> str:
        return f"openai-compatible {self.model} at {self.base_url}"

    def synthesize(self, text: str, voice: str) -> Synthesis:
        from zbb.audio import read_audio
        from zbb.errors import AudioError

        body = json.dumps({"model": self.model, "input": text, "voice": voice, "response_format": "wav"}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = f"{self.base_url}/audio/speech"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise EngineError(f"openai TTS: {url} answered HTTP {exc.code} ({detail})") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise EngineError(f"openai TTS: cannot reach {url} ({getattr(exc, 'reason', exc)})") from exc
        try:
            samples, sr = read_audio(data, where=f"openai TTS answer from {url}")
        except AudioError as exc:
            raise EngineError(
                f"openai TTS: expected WAV audio from {url}, got {len(data)} unreadable bytes ({exc})"
            ) from exc
        return Synthesis(samples=samples, sample_rate=sr, words=())
