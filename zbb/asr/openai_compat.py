"""Any OpenAI-compatible transcription server (`POST {base}/audio/transcriptions`, verbose_json with word
timestamps): OpenAI itself, a local faster-whisper/vLLM/speaches server, ...

Configured by `--asr openai:<model>` or env `ZBB_ASR_MODEL`; base URL from env `ZBB_ASR_BASE_URL`
(e.g. http://127.0.0.1:8000/v1); bearer key, if the server needs one, from env `ZBB_ASR_API_KEY`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from zbb.asr.base import ASR_SAMPLE_RATE, AsrWord, Transcript
from zbb.errors import EngineError
from zbb.retry import RetriesExhausted, RetryPolicy

if TYPE_CHECKING:
    import httpx

DEFAULT_MODEL = "whisper-1"
RETRY = RetryPolicy(attempts=3, backoff_s=0.5)


class _Retryable(Exception):
    """A failure worth another attempt: the server unreachable, overloaded (429) or failing (5xx)."""


class OpenAITranscriptionEngine:
    name = "openai"
    grade = "reference"  # hosted whisper-1 / gpt-4o-transcribe class models

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 120.0,
    ):
        try:
            import httpx  # noqa: F401
        except ImportError as exc:
            raise EngineError("the openai ASR needs httpx: pip install 'zbb[openai]'") from exc
        self.base_url = (base_url or os.environ.get("ZBB_ASR_BASE_URL") or "").rstrip("/")
        if not self.base_url:
            raise EngineError("openai ASR: no server; set ZBB_ASR_BASE_URL (e.g. http://127.0.0.1:8000/v1)")
        self.model = model or os.environ.get("ZBB_ASR_MODEL") or DEFAULT_MODEL
        self.api_key = api_key or os.environ.get("ZBB_ASR_API_KEY")
        self.timeout_s = timeout_s

    def describe(self) -> str:
        return f"openai-compatible {self.model} at {self.base_url}"

    def _post(self, client: httpx.Client, wav: bytes) -> dict:
        import httpx

        url = f"{self.base_url}/audio/transcriptions"
        data = {
            "model": self.model,
            "response_format": "verbose_json",
            "language": "en",
            "timestamp_granularities[]": "word",
        }

        def attempt() -> dict:
            try:
                resp = client.post(url, data=data, files={"file": ("window.wav", wav, "audio/wav")})
            except httpx.HTTPError as exc:
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            if resp.status_code >= 500 or resp.status_code == 429:
                raise _Retryable(f"HTTP {resp.status_code}")
            if resp.status_code >= 400:
                raise EngineError(f"openai ASR: {url} answered {resp.status_code}: {resp.text[:200]}")
            try:
                return resp.json()
            except ValueError as exc:
                raise EngineError(f"openai ASR: {url} answered non-JSON ({resp.text[:100]!r})") from exc

        try:
            return RETRY.call(attempt, retry_on=(_Retryable,))
        except RetriesExhausted as exc:
            raise EngineError(f"openai ASR: {url} failed after {exc.attempts} attempts ({exc.last})") from exc.last

    def transcribe_many(
        self, windows: Sequence[np.ndarray], *, workers: int | None = None, progress: bool = False
    ) -> list[Transcript]:
        import httpx

        from zbb.audio import encode

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        out = []
        with httpx.Client(timeout=self.timeout_s, headers=headers) as client:
            for window in windows:
                body = self._post(client, encode(np.asarray(window, dtype=np.float32), ASR_SAMPLE_RATE, "WAV"))
                words = []
                for w in body.get("words") or []:
                    try:
                        words.append(
                            AsrWord(
                                word=str(w["word"]).strip(),
                                start=round(float(w["start"]), 3),
                                end=round(float(w["end"]), 3),
                            )
                        )
                    except (KeyError, TypeError, ValueError) as exc:
                        raise EngineError(f"openai ASR: a word without word/start/end in the answer ({w!r})") from exc
                text = body.get("text")
                if not isinstance(text, str):
                    raise EngineError(f"openai ASR: the answer has no 'text' string (keys: {sorted(body)})")
                out.append(Transcript(text=text.strip(), words=tuple(w for w in words if w.word)))
        return out
