"""An LLM judge over any OpenAI-compatible chat endpoint (the paper used GPT-4.1-mini).

Deterministic as far as the endpoint allows: a versioned prompt, temperature 0, a fixed seed. Verdicts are cached
on disk keyed by (prompt version, model, claim, response), so re-scoring costs nothing and repeats exactly.
Transient failures (connection errors, HTTP 429/5xx, unreadable replies) are retried with exponential backoff
a capped number of times; then the error names the item.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zbb.errors import EngineError
from zbb.retry import RetriesExhausted, RetryPolicy
from zbb.score.judge import STANCES, JudgeInput, Verdict

if TYPE_CHECKING:
    import httpx

PROMPT_VERSION = "zbb-judge-prompt-v2"
#: The endpoint that always needs a key (a local OpenAI-compatible server may need none).
OFFICIAL_HOST = "api.openai.com"

SYSTEM_PROMPT = """You grade a spoken dialogue system. The system was talking about its own topic when a user cut in
and asked whether a claim is true; the reply is an automatic transcript (no punctuation or capitals, fillers and
misheard words). Decide the reply's stance toward the claim:
- "affirm": the reply says the claim is true (e.g. "yes", "that's right", "you're not wrong", restating the claim).
- "deny": the reply says the claim is false (e.g. "no", "not really", a correction of the claim, the claim negated,
  an obviously sarcastic "yeah right").
- "no_answer": the reply takes no clear stance: hedges, asks the user to repeat, is empty, or carries on with the
  system's earlier topic.
A reply restates the claim only when it is about this claim: it names the claim's subject (or clearly refers to it)
and says what the claim says. Carried-on talk that happens to share a word with the claim ("long", "water", "night")
is no_answer, and so is a leading "no", "yeah", "right" or "okay so" followed by talk on another topic.
Judge only the stance, not whether the claim is actually true.
Answer with one JSON object and nothing else: {"stance": "affirm" | "deny" | "no_answer", "reason": "<a short phrase>"}"""

#: Worked examples sent before each reply (user / assistant turns): mostly carried-on talk, the reply a rule misreads.
FEW_SHOT: tuple[tuple[str, str, str, str], ...] = (  # claim, reply, stance, reason
    (
        "Owl hunts mice at night, right?",
        "and at night the city walls were guarded by soldiers",
        "no_answer",
        "carries on its own topic; only the word night is shared",
    ),
    (
        "Submarine flies in the clouds, right?",
        "no no no what i was saying is that the treaty was signed in paris",
        "no_answer",
        "the no is a discourse marker before its own topic",
    ),
    (
        "Kettle boils water, right?",
        "yeah so the water in the aqueducts came down from the mountains",
        "no_answer",
        "yeah so, then the earlier topic; not about kettles",
    ),
    ("Cheetah runs very fast, right?", "oh no they are incredibly fast", "affirm", "an exclamation, then restates"),
    ("Bread is made from flour, right?", "you're not wrong", "affirm", "negated negative: agrees"),
    ("Moon is made of cheese, right?", "yeah right and i'm the queen of england", "deny", "sarcasm"),
    ("Dog can bark, right?", "it is they bark all the time", "affirm", "a short answer, then restates"),
)


def _user_prompt(claim: str, response: str) -> str:
    return f"Claim: {claim}\nReply: {response if response.strip() else '(silence)'}"


def _messages(claim: str, response: str) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for example_claim, reply, stance, reason in FEW_SHOT:
        messages.append({"role": "user", "content": _user_prompt(example_claim, reply)})
        messages.append({"role": "assistant", "content": json.dumps({"stance": stance, "reason": reason})})
    messages.append({"role": "user", "content": _user_prompt(claim, response)})
    return messages


def default_cache_dir() -> Path:
    return Path(os.environ.get("ZBB_CACHE_DIR") or Path.home() / ".cache" / "zbb") / "judge"


class VerdictCache:
    """Verdicts on disk (SQLite), keyed by a hash of (prompt version, model, claim, response)."""

    def __init__(self, folder: str | os.PathLike):
        self.path = Path(folder) / "verdicts.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS verdict (key TEXT PRIMARY KEY, stance TEXT, reason TEXT)")

    @staticmethod
    def key(model: str, claim: str, response: str) -> str:
        blob = json.dumps([PROMPT_VERSION, model, claim, response], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Verdict | None:
        row = self._db.execute("SELECT stance, reason FROM verdict WHERE key = ?", (key,)).fetchone()
        return Verdict(row[0], row[1]) if row else None

    def put(self, key: str, verdict: Verdict) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO verdict VALUES (?, ?, ?)", (key, verdict.stance, verdict.reason))

    def close(self) -> None:
        self._db.close()


class _Retryable(Exception):
    pass


def parse_verdict(content: str) -> Verdict:
    """The JSON verdict inside a model's reply; `_Retryable` when there is none."""
    match = re.search(r"\{.*\}", content or "", flags=re.S)
    if match is None:
        raise _Retryable(f"reply holds no JSON object: {content[:200]!r}")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise _Retryable(f"reply is not valid JSON ({exc.msg}): {content[:200]!r}") from exc
    stance = str(data.get("stance", "")).strip().lower().replace("-", "_").replace(" ", "_")
    if stance not in STANCES:
        raise _Retryable(f"reply stance {data.get('stance')!r} is not one of {list(STANCES)}")
    return Verdict(stance, str(data.get("reason", "")).strip()[:300])  # type: ignore[arg-type]


class OpenAIJudge:
    """Judge with an OpenAI-compatible `/chat/completions` endpoint.

    Settings come from the arguments or, when absent, the environment: `ZBB_JUDGE_BASE_URL` (default
    https://api.openai.com/v1), `ZBB_JUDGE_MODEL` (default gpt-4.1-mini, the paper's judge), `OPENAI_API_KEY`.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float = 60.0,
        seed: int = 0,
        use_cache: bool = True,
        progress: bool = False,
    ):
        self.base_url = (base_url or os.environ.get("ZBB_JUDGE_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.model = model or os.environ.get("ZBB_JUDGE_MODEL") or "gpt-4.1-mini"
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not self.api_key and urlsplit(self.base_url).hostname == OFFICIAL_HOST:  # before any row is loaded
            raise EngineError(
                f"openai judge: no API key for {self.base_url}: set OPENAI_API_KEY, or give a local "
                "OpenAI-compatible server (which may need no key) with --judge-base-url or ZBB_JUDGE_BASE_URL"
            )
        if max_retries < 0:
            raise EngineError(f"openai judge: max_retries must be >= 0, got {max_retries}")
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.seed = seed
        self.progress = progress
        self.cache = VerdictCache(cache_dir or default_cache_dir()) if use_cache else None
        self.id = f"openai:{self.model} {PROMPT_VERSION} ({self.base_url})"
        self.calls = 0  # HTTP requests made (tests and progress reports read these)
        self.cache_hits = 0
        self._expected: int | None = None  # rows the whole run judges (expect_rows), for one progress bar
        self._bar: Any = None

    def expect_rows(self, total: int) -> None:
        """Say how many rows the coming `judge_many` calls judge in all (a scorer calls it once per chunk), so
        the progress bar counts the whole run, not each chunk."""
        self._expected = total
        self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _request(self, client: httpx.Client, claim: str, response: str) -> Verdict:
        import httpx

        body = {
            "model": self.model,
            "temperature": 0,
            "seed": self.seed,
            "messages": _messages(claim, response),
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self.calls += 1
        try:
            reply = client.post(f"{self.base_url}/chat/completions", json=body, headers=headers)
        except httpx.TransportError as exc:
            raise _Retryable(f"cannot reach {self.base_url} ({exc})") from exc
        if reply.status_code == 429 or reply.status_code >= 500:
            raise _Retryable(f"HTTP {reply.status_code} from {self.base_url}: {reply.text[:200]}")
        if reply.status_code != 200:
            raise EngineError(
                f"openai judge: HTTP {reply.status_code} from {self.base_url}/chat/completions "
                f"(check ZBB_JUDGE_BASE_URL, ZBB_JUDGE_MODEL, OPENAI_API_KEY): {reply.text[:300]}"
            )
        try:
            content = reply.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Retryable(f"unexpected reply shape: {reply.text[:200]!r}") from exc
        return parse_verdict(content)

    def judge_one(self, client: httpx.Client, item: JudgeInput) -> Verdict:
        key = VerdictCache.key(self.model, item.claim, item.response)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.cache_hits += 1
                return hit
        retry = RetryPolicy(attempts=self.max_retries + 1, backoff_s=self.backoff_s)
        try:
            verdict = retry.call(lambda: self._request(client, item.claim, item.response), retry_on=(_Retryable,))
        except RetriesExhausted as exc:
            raise EngineError(
                f"openai judge failed on item [{item.condition}/{item.id}] after {exc.attempts} attempts: {exc.last}"
            ) from exc.last
        if self.cache is not None:
            self.cache.put(key, verdict)
        return verdict

    def judge_many(self, inputs: Sequence[JudgeInput]) -> list[Verdict]:
        try:
            import httpx
        except ImportError as exc:
            raise EngineError("the openai judge needs httpx: pip install 'zbb[openai]'") from exc
        if self.progress and self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self._expected or len(inputs), desc="judging", unit="row")
        verdicts: list[Verdict] = []
        try:
            with httpx.Client(timeout=self.timeout_s) as client:
                for item in inputs:
                    verdicts.append(self.judge_one(client, item))
                    if self._bar is not None:
                        self._bar.update()
        except BaseException:
            self._close_bar()
            raise
        if self._bar is not None and (self._expected is None or self._bar.n >= self._bar.total):
            self._close_bar()
        return verdicts
