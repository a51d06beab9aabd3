"""Every error zbb raises on bad input: specific types whose messages name the file, line or item."""

from __future__ import annotations

from dataclasses import dataclass


class ZbbError(Exception):
    """Base class of the errors zbb raises for bad input or configuration (the CLI prints these without a traceback)."""


class ZbbWarning(UserWarning):
    """Base class of zbb's warnings: the CLI prints them as `zbb <verb>: warning: ...` (no file path or source
    line)."""


def printable(text: str) -> str:
    """`text` with each non-printable character (line breaks, terminal escapes, bidi controls) written as its
    escape: what an input says cannot forge or hide lines of a message that quotes it."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located precisely enough to fix it.

    `where` is a file path, optionally with `:line` or `[item id]`; `message` says what was expected and what
    arrived.
    """

    where: str
    message: str

    def __str__(self) -> str:  # one line, whatever the input it quotes holds
        return f"{printable(self.where)}: {printable(self.message)}"

    def to_dict(self) -> dict:
        return {"where": self.where, "message": self.message}


class ProblemsError(ZbbError):
    """Several problems found at once (a whole bank or submission is checked before anything is reported)."""

    def __init__(self, summary: str, problems: list[Problem]):
        self.summary = summary
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:200])
        more = f"\n  ... and {len(self.problems) - 200} more" if len(self.problems) > 200 else ""
        super().__init__(f"{summary} ({len(self.problems)} problem{'s' * (len(self.problems) != 1)}):\n{shown}{more}")


class BankError(ProblemsError):
    """A claim bank file has bad rows."""


class SubmissionError(ProblemsError):
    """A submission cannot be scored as it is."""


class DatasetError(ZbbError):
    """A built dataset folder or Hub dataset is missing, malformed, or not a ZBB dataset."""


class AudioError(ZbbError):
    """An audio file is unreadable, empty, silent or holds NaN/inf samples."""


class EngineError(ZbbError):
    """A TTS, ASR or judge engine failed (after its retries) or is not installed/configured."""


class UnknownNameError(ZbbError, KeyError):
    """An engine, preset or condition name that is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class SteeringError(ZbbError):
    """A perception vector cannot be computed, loaded or applied (empty step set, bad file, wrong width)."""


class RunnerError(ZbbError):
    """A model backend is missing, misconfigured, or cannot run the requested rows."""


class ProbeError(ZbbError):
    """A state-inertia probe cannot run or read its input: bad layers, rows, dialogues or a probe folder."""
