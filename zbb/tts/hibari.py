"""The embedded default TTS: hibari (`hibari-tts` on PyPI), natural US English at 24 kHz, offline after install.

hibari is a small neural model distilled from Kokoro-82M (Apache-2.0 code and weights), run with onnxruntime.
Its voice "heart" (American English, female) is inside the wheel; its other voices are fetched from the Hugging
Face Hub by name on first use (`hibari.voices.voice_path`) and cached, so `--voices heart,fenrir` needs the Hub
once.

Word timings: hibari's API gives none, but its ONNX graph predicts a duration per phoneme token before it
expands them into frames. We load the graph with the `onnx` package, expose that tensor (`/Clip_output_0`,
units of 600 samples = 25 ms at 24 kHz, one per token including the two boundary pads; they sum to the audio
length) as an extra output, and add up the durations of each word's phoneme tokens.

Determinism: the noise component is drawn from a generator seeded by the utterance (voice + text), and
onnxruntime runs one thread (one and two threads give slightly different floats), so the same text in the same
voice gives the same samples in any process, in any order. Parallelise with processes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from zbb.errors import EngineError
from zbb.tts.base import Synthesis, WordSpan

#: The graph tensor holding one duration per phoneme token, and its unit in output samples.
DURATION_TENSOR = "/Clip_output_0"
DURATION_UNIT = 600
#: Half of hibari's synthesis window (n_fft 1200 at 24 kHz): how much earlier than its frames a token sounds.
LEAD = 600
SAMPLE_RATE = 24000
DEFAULT_VOICES = ("heart",)  # bundled in the wheel: a build with no network uses it

_TEXT_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_PHONE_LETTER = re.compile(r"[^\s;:,.!?—…\"“”()\-]")


@dataclass
class _Voice:
    session: Any  # onnxruntime.InferenceSession of the voice's graph with the duration output exposed
    path: str


def voice_seed(text: str, voice: str) -> int:
    """The noise seed of one utterance: a function of its voice and text only (same in every process)."""
    return int.from_bytes(hashlib.sha256(f"hibari\0{voice}\0{text}".encode()).digest()[:8], "little")


def _session_with_durations(path: str) -> Any:
    """An onnxruntime session of the graph at `path` with the per-token durations added as its last output."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(path)
    produced = {name for node in model.graph.node for name in node.output}
    if DURATION_TENSOR not in produced:
        raise EngineError(
            f"hibari: the graph {path} has no tensor {DURATION_TENSOR!r} (an unsupported hibari version?)"
        )
    model.graph.output.append(onnx.ValueInfoProto(name=DURATION_TENSOR))
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # one vs two threads differ slightly
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


class HibariEngine:
    """hibari voices (`hibari.voices.VOICES`); `synthesize` returns 24 kHz audio with per-word sample spans."""

    name = "hibari"

    def __init__(self, speed: float = 1.0):
        try:
            from hibari.voices import VOICES
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise EngineError("the hibari engine needs the `hibari-tts` package (pip install hibari-tts)") from exc
        self.speed = float(speed)
        self._known = list(VOICES)
        self._voices: dict[str, _Voice] = {}
        self._tts: dict[bool, Any] = {}  # british? -> a hibari.Hibari used for its text front end only

    def voices(self) -> list[str]:
        return list(self._known)

    def default_voices(self) -> list[str]:
        """The voices a build uses when none are named: the bundled one (no network needed)."""
        return list(DEFAULT_VOICES)

    def describe(self) -> str:
        from importlib.metadata import version

        return f"hibari-tts {version('hibari-tts')} (Kokoro-82M distilled, onnxruntime {version('onnxruntime')})"

    def ensure_voices(self, voices: list[str]) -> None:
        """Fetch any voice not yet on this machine (from the Hub, once), so workers find them cached."""
        for voice in voices:
            self._voice(voice)

    def _voice(self, voice: str) -> _Voice:
        if voice not in self._voices:
            from hibari.voices import VOICES, voice_path

            if voice not in VOICES:
                raise EngineError(f"hibari: unknown voice {voice!r}; available: {', '.join(VOICES)}")
            try:
                path = voice_path(voice)
            except RuntimeError as exc:  # hibari's download error names the URL and where to copy the file
                raise EngineError(
                    f"hibari: voice {voice!r} is not bundled and could not be fetched from the Hub ({exc}); "
                    f"build offline with --voices {','.join(DEFAULT_VOICES)}"
                ) from exc
            self._voices[voice] = _Voice(_session_with_durations(path), path)
        return self._voices[voice]

    def _front_end(self, voice: str) -> Any:
        """A `hibari.Hibari` for its text front end (phonemes, token ids) only: the session it runs is ours, so
        it is made without its constructor (which would load the graph a second time)."""
        import json
        from pathlib import Path

        from hibari import Hibari
        from hibari import tts as hibari_tts
        from hibari.voices import VOICES

        british = bool(VOICES[voice]["british"])
        if british not in self._tts:
            front = Hibari.__new__(Hibari)
            front.voice, front._g2p, front.sess = voice, None, None
            front.vocab = json.loads((Path(hibari_tts.ASSETS) / "vocab.json").read_text(encoding="utf-8"))
            self._tts[british] = front
        return self._tts[british]

    def synthesize(self, text: str, voice: str) -> Synthesis:
        if not text.strip():
            raise EngineError("hibari: cannot synthesise empty text")
        session = self._voice(voice).session
        front = self._front_end(voice)
        from hibari import dsp

        rng = np.random.default_rng(voice_seed(text, voice))
        chunks: list[np.ndarray] = []
        phones: list[tuple[str, np.ndarray]] = []
        for ps in front.phonemize(text):
            ids = front.ids(ps)
            if len(ids) < 3:
                continue
            try:
                out = session.run(
                    None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([self.speed], np.float32)}
                )
            except Exception as exc:  # onnxruntime raises its own exception types
                raise EngineError(f"hibari: synthesis failed for {text!r} (voice {voice!r}): {exc}") from exc
            lh, th, ln, lr, phi, f0 = (o[0] for o in out[:6])
            chunks.append(dsp.synth(lh, th, ln, lr, phi, f0, rng))
            phones.append((ps, np.asarray(out[6], dtype=np.float64).reshape(-1)))
        if not chunks:
            raise EngineError(f"hibari: no speakable sound in {text!r}")
        samples = np.concatenate(chunks).astype(np.float32, copy=False)
        return Synthesis(samples=samples, sample_rate=SAMPLE_RATE, words=word_spans(text, phones, front.vocab))


def word_spans(
    text: str, chunks: list[tuple[str, np.ndarray]], vocab: dict[str, int], *, unit: int = DURATION_UNIT
) -> tuple[WordSpan, ...]:
    """Word spans (samples) from each chunk's phoneme string and its per-token durations.

    A chunk's tokens are a boundary pad, one token per phoneme character in the vocabulary, and a closing pad;
    words are the space-separated groups of its phoneme string. A word starts where the previous word's last
    phoneme ends (the space token between them is the transition into the word: in running speech there is no
    pause there) and ends where its own last non-punctuation phoneme ends. Every boundary is then moved
    `LEAD` samples earlier: the vocoder's frames are centred on their hop, so a token starts to sound half a
    synthesis window before its first frame. Checked against pocketsphinx forced alignment (see the README).
    When the phoneme words do not pair one to one with the text's words (a number read as several words, say)
    no spans are returned and the builder aligns the words itself.
    """
    words = _TEXT_WORD.findall(text)
    spans: list[tuple[int, int]] = []
    offset = 0  # samples before this chunk
    for ps, durations in chunks:
        kept = [c for c in ps if c in vocab]
        if durations.shape[0] != len(kept) + 2:
            return ()
        edges = np.concatenate([[0.0], np.cumsum(durations)]) * unit  # edges[k] = start of token k
        current: list[int] = []  # token indices of the current word's phoneme letters
        previous_end: int | None = None  # token after the previous word's last letter, in this chunk
        for k, c in enumerate([*kept, " "], start=1):  # token 0 is the opening pad; a closing space ends the last
            if c == " ":
                if current:
                    first = current[0] if previous_end is None else previous_end
                    spans.append((offset + int(edges[first]), offset + int(edges[current[-1] + 1])))
                    previous_end = current[-1] + 1
                    current = []
            elif _PHONE_LETTER.match(c):
                current.append(k)
        offset += int(round(edges[-1]))
    if len(spans) != len(words):
        return ()
    return tuple(
        WordSpan(w, max(s - LEAD, 0), max(e - LEAD, s - LEAD, 0)) for w, (s, e) in zip(words, spans, strict=True)
    )
