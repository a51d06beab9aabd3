"""The one retry loop every engine uses: what is retried, how long it waits, what it says when it gives up."""

import pytest

from zbb import retry as retry_module
from zbb.retry import RetriesExhausted, RetryPolicy


class Flaky(Exception):
    pass


@pytest.fixture
def waits(monkeypatch):
    slept = []
    monkeypatch.setattr(retry_module.time, "sleep", slept.append)
    return slept


def failing(times, exc=Flaky):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= times:
            raise exc(f"failure {len(calls)}")
        return len(calls)

    return fn, calls


def test_succeeds_after_failures_with_doubling_waits(waits):
    fn, calls = failing(2)
    assert RetryPolicy(attempts=3, backoff_s=0.5).call(fn) == 3
    assert waits == [0.5, 1.0]


def test_gives_up_without_a_wait_after_the_last_attempt(waits):
    fn, calls = failing(5)
    with pytest.raises(RetriesExhausted) as info:
        RetryPolicy(attempts=3, backoff_s=1.0).call(fn, retry_on=(Flaky,))
    assert len(calls) == 3 and waits == [1.0, 2.0]
    assert info.value.attempts == 3 and str(info.value.last) == "failure 3"
    assert info.value.__cause__ is info.value.last


def test_other_errors_are_not_retried(waits):
    fn, calls = failing(1, exc=KeyError)
    with pytest.raises(KeyError):
        RetryPolicy(attempts=3, backoff_s=1.0).call(fn, retry_on=(Flaky,))
    assert len(calls) == 1 and waits == []
