"""Retrying a flaky call (a TTS engine, an HTTP endpoint) with exponential backoff, in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class RetriesExhausted(Exception):
    """Every attempt failed; `last` is the final failure (also the `__cause__`)."""

    def __init__(self, attempts: int, last: BaseException):
        super().__init__(f"failed {attempts} time(s); last error: {last}")
        self.attempts = attempts
        self.last = last


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all; before each retry wait `backoff_s`, doubled after every failed attempt."""

    attempts: int = 3
    backoff_s: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy needs attempts >= 1, got {self.attempts}")

    def call(self, fn: Callable[[], T], *, retry_on: tuple[type[BaseException], ...] = (Exception,)) -> T:
        """fn(), retried on the exceptions in `retry_on` (others propagate at once); raises RetriesExhausted from
        the last failure when no attempt succeeds. No wait follows the final attempt."""
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except retry_on as exc:
                if attempt == self.attempts:
                    raise RetriesExhausted(attempt, exc) from exc
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable: attempts >= 1")  # pragma: no cover
