"""The embedded default TTS: eSpeak NG through ctypes, from the `espeakng-loader` wheel (library + data bundled).

eSpeak NG is GPL-3; zbb only calls the shared library, and the dataset card says the audio comes from it.
Word timings come from eSpeak's word events (millisecond positions in its own output), converted to samples.
The library holds global state, so one utterance per process is synthesised at a time (a lock guards it); use
processes, not threads, to parallelise.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from zbb.errors import EngineError
from zbb.tts.base import Synthesis, WordSpan

# espeak_AUDIO_OUTPUT, espeak_PARAMETER, espeak_EVENT_TYPE and flag values from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_EVENT_LIST_TERMINATED, _EVENT_WORD = 0, 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakVoice:
    """A named eSpeak voice: language voice + variant, speaking rate (words/min) and pitch (0-99)."""

    name: str
    espeak_voice: str
    rate: int
    pitch: int
    pitch_range: int = 50


#: The default voices: distinct accents and registers, at a clear, moderate rate.
VOICES: dict[str, EspeakVoice] = {
    v.name: v
    for v in (
        EspeakVoice("us-male", "en-us", rate=165, pitch=45),
        EspeakVoice("us-female", "en-us+f3", rate=160, pitch=62),
        EspeakVoice("gb-male", "en-GB-x-rp+m3", rate=160, pitch=40),
        EspeakVoice("gb-female", "en+f2", rate=155, pitch=58),
        EspeakVoice("scottish-male", "en-gb-scotland", rate=158, pitch=48),
        EspeakVoice("caribbean-female", "en-029+f4", rate=155, pitch=55),
    )
}


class _Library:
    """eSpeak NG, loaded afresh for every utterance.

    eSpeak keeps synthesis state in static variables (the glottal wave phase, pitch flutter, echo buffer) that
    carry over from one utterance to the next and that neither re-initialising nor reseeding resets, so the same
    text would give slightly different samples depending on what was said before. Unloading and reloading the
    shared library (about 4 ms) restores every static to its initial value: each utterance then depends on its
    text and voice alone, and builds are byte-identical whatever the order or the number of processes.
    """

    _lock = threading.Lock()
    _version: str | None = None

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise EngineError(
                "the espeak engine needs the `espeakng-loader` package (pip install espeakng-loader)"
            ) from exc
        from pathlib import Path

        self.path = espeakng_loader.get_library_path()
        # The built-in default data path points at the wheel builder's machine: pass the bundled one explicitly.
        self.data_parent = str(Path(espeakng_loader.get_data_path()).parent).encode()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int]] = []  # (text_position, length, audio_position ms)
        self._callback = _Callback(self._on_audio)  # keep a reference: the library holds only a raw pointer

    _instance: _Library | None = None

    @classmethod
    def get(cls) -> _Library:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _on_audio(self, wav: Any, n_samples: int, events: Any) -> int:
        if n_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_WORD:
                self._events.append((ev.text_position, ev.length, ev.audio_position))
            i += 1
        return 0  # 0 = continue synthesis

    def _load(self) -> tuple[ctypes.CDLL, int]:
        lib = ctypes.CDLL(self.path, mode=ctypes.RTLD_LOCAL)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, self.data_parent, 0)
        if sample_rate <= 0:
            _unload(lib)
            raise EngineError(f"eSpeak NG failed to initialise with data at {self.data_parent.decode()}")
        lib.espeak_SetSynthCallback(self._callback)
        # Initialising seeds eSpeak's noise generator (breathy voice variants) from the clock: reseed it fixed.
        lib.espeak_ng_SetRandSeed(1)
        return lib, sample_rate

    def version(self) -> str:
        if _Library._version is None:
            with self._lock:
                lib, _ = self._load()
                try:
                    _Library._version = (lib.espeak_Info(None) or b"").decode().split()[0]
                finally:
                    lib.espeak_Terminate()
                    _unload(lib)
        return _Library._version

    def synthesize(self, text: str, voice: EspeakVoice) -> tuple[np.ndarray, list[tuple[int, int, int]], int]:
        with self._lock:
            lib, sample_rate = self._load()
            try:
                pcm, events = self._speak(lib, text, voice)
            finally:
                lib.espeak_Terminate()
                _unload(lib)
        return pcm, events, sample_rate

    def _speak(self, lib: ctypes.CDLL, text: str, voice: EspeakVoice) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        if lib.espeak_SetVoiceByName(voice.espeak_voice.encode()) != 0:
            raise EngineError(f"eSpeak NG has no voice {voice.espeak_voice!r} (zbb voice {voice.name!r})")
        for param, value in ((_RATE, voice.rate), (_PITCH, voice.pitch), (_RANGE, voice.pitch_range), (_VOLUME, 100)):
            lib.espeak_SetParameter(param, value, 0)
        self._chunks, self._events = [], []
        data = text.encode("utf-8") + b"\0"
        status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise EngineError(f"eSpeak NG failed (status {status}) on text {text!r}")
        lib.espeak_Synchronize()
        chunks, events = self._chunks, self._events
        self._chunks, self._events = [], []
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return pcm, events

    @contextlib.contextmanager
    def loaded_once(self) -> Iterator[Callable[[str, EspeakVoice], tuple[np.ndarray, int]]]:
        """A synthesiser that loads the library once for many utterances: NOT deterministic (each utterance depends
        on those before it). Only `benchmarks/bench_build.py` uses it, to measure raw TTS without the per-utterance
        reload, so the reload is counted as the build's overhead rather than as unavoidable work. Gives (int16 samples,
        sample rate)."""
        with self._lock:
            lib, sample_rate = self._load()
            try:
                yield lambda text, voice: (self._speak(lib, text, voice)[0], sample_rate)
            finally:
                lib.espeak_Terminate()
                _unload(lib)


def _unload(lib: ctypes.CDLL) -> None:
    import _ctypes

    _ctypes.dlclose(lib._handle)


class EspeakEngine:
    """eSpeak NG voices (see `VOICES`); `synthesize` returns 22,050 Hz audio with per-word sample spans."""

    name = "espeak"

    def __init__(self, voices: dict[str, EspeakVoice] | None = None):
        self._voices = dict(voices or VOICES)

    def voices(self) -> list[str]:
        return list(self._voices)

    def describe(self) -> str:
        return f"espeak-ng {_Library.get().version()} via espeakng-loader (GPL-3)"

    def synthesize(self, text: str, voice: str) -> Synthesis:
        if voice not in self._voices:
            raise EngineError(f"espeak: unknown voice {voice!r}; available: {', '.join(self._voices)}")
        if not text.strip():
            raise EngineError("espeak: cannot synthesise empty text")
        pcm, events, sr = _Library.get().synthesize(text, self._voices[voice])
        if pcm.size == 0:
            raise EngineError(f"espeak: no audio produced for {text!r}")
        samples = pcm.astype(np.float32) / 32768.0
        return Synthesis(samples=samples, sample_rate=sr, words=_word_spans(text, events, sr, pcm.size))


_TOKEN = re.compile(r"[\w'-]+")


def _word_spans(
    text: str, events: list[tuple[int, int, int]], sample_rate: int, n_samples: int
) -> tuple[WordSpan, ...]:
    """Map eSpeak word events onto the text's words.

    eSpeak reports a word event per *spoken group*: it folds unstressed function words into a neighbour ("in the"
    gives one event), so a text word without its own event shares its group's span, split by character count.
    `text_position` counts characters from 1.
    """
    tokens = [(m.start() + 1, m.group().strip("'-")) for m in _TOKEN.finditer(text)]
    tokens = [(pos, word) for pos, word in tokens if word]
    starts = {pos: min(int(round(ms * sample_rate / 1000)), n_samples) for pos, _, ms in events}
    event_positions = sorted(starts)
    groups: list[list[tuple[int, str]]] = []
    for pos, word in tokens:
        if pos in starts or not groups:
            groups.append([(pos, word)])
        else:
            groups[-1].append((pos, word))
    spans: list[WordSpan] = []
    for group in groups:
        start = starts.get(group[0][0], 0)
        next_starts = [starts[p] for p in event_positions if p > group[-1][0]]
        end = max(next_starts[0] if next_starts else n_samples, start)
        total_chars = sum(len(w) for _, w in group)
        cursor = start
        for i, (_, word) in enumerate(group):
            w_end = end if i == len(group) - 1 else cursor + (end - start) * len(word) // total_chars
            spans.append(WordSpan(word=word, start=cursor, end=w_end))
            cursor = w_end
    return tuple(spans)
