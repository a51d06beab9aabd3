"""Name-keyed registries of engines with lazy "module:attr" entries, so heavy backends import only when used."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from zbb.errors import UnknownNameError

T = TypeVar("T")


def unknown_name(
    kind: str, name: str, available: Sequence[str], *, matches: int = 3, cutoff: float = 0.5
) -> UnknownNameError:
    """The error for a name not among `available`: up to `matches` close names as a did-you-mean, then every name
    there is. The name is shown as repr() of at most 100 characters (escaped, so it cannot add lines)."""
    close = difflib.get_close_matches(name, list(available), n=matches, cutoff=cutoff)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = name[:100] + ("..." if len(name) > 100 else "")
    return UnknownNameError(f"unknown {kind} {shown!r}.{hint} Available: {', '.join(available)}")


class Registry(Generic[T]):
    """Maps names to objects (usually engine classes), given directly or as a lazy "package.module:attr" string.

    >>> tts = Registry("TTS engine")
    >>> tts.register("espeak", "zbb.tts.espeak:EspeakEngine")
    >>> tts.get("espeak")  # imports zbb.tts.espeak only now
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str, target: T | str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = target

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise unknown_name(self.kind, name, self.names())
        target = self._entries[name]
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module_name), attr)
            self._entries[name] = target
        return target
