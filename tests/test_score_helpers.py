"""Small exact test data for the scorer tests: claims with word timings, written as a real ZBB dataset folder.

The shared espeak-built `tiny_dataset` fixture is used where a real build matters; these rows have word
times chosen here, so what a simulated listener hears follows from the construction.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from test_submission_helpers import write_dataset as write_clips

from zbb.dataset import open_dataset
from zbb.records import Clip, WordTiming

SR = 16_000
CLAIMS = [  # id, subject, description, label, category
    ("sub-t", "Submarine", "travels under the sea", True, "vehicles"),
    ("sub-f", "Submarine", "flies in the clouds", False, "vehicles"),
    ("cat-t", "Cat", "purrs when it is happy", True, "animals"),
    ("cat-f", "Cat", "lays eggs", False, "animals"),
    ("fly-t", "Butterfly", "has wings", True, "animals"),
    ("fly-f", "Butterfly", "lives under the sea", False, "animals"),
    ("eif-t", "Eiffel Tower", "is in Paris", True, "places"),
    ("eif-f", "Eiffel Tower", "is made of cheese", False, "places"),
]
CONDITIONS = ("no_interrupt", "interrupt", "interrupt_buffered")


def word_seconds(word: str) -> float:
    """A word's spoken length: 0.1 s per letter, at least 0.25 s ("cat" 0.3 s, "submarine" 0.9 s)."""
    return max(0.25, 0.1 * len(word.strip(",.?!")))


def make_clip(
    id: str,
    subject: str,
    description: str,
    label: bool,
    category: str,
    condition: str,
    onset_s: float = 3.0,
    voice: str = "voice-a",
) -> Clip:
    text = f"{subject} {description}, right?"
    words, t = [], onset_s
    for w in text.split():
        words.append(WordTiming(w.strip(",.?!"), round(t, 3), round(t + word_seconds(w), 3)))
        t += word_seconds(w) + 0.05
    buffered = condition == "interrupt_buffered"
    return Clip(
        id=id,
        condition=condition,
        subject=subject,
        description=description,
        label=label,
        category=category,
        text=text,
        onset_s=onset_s,
        subject_end_s=words[len(subject.split()) - 1].end,
        end_s=words[-1].end,
        duration_s=round(t + 1.0, 3),
        context_text="Tell me about jazz.",
        buffer_text="Hey, sorry, quick question:" if buffered else "",
        buffer_onset_s=onset_s - 1.5 if buffered else None,
        voice=voice,
        tts_engine="test",
        claim_words=tuple(words),
    )


def make_clips(conditions=CONDITIONS, claims=CLAIMS) -> list[Clip]:
    return [
        make_clip(*c, condition=cond, voice="voice-a" if i % 2 else "voice-b")
        for cond in conditions
        for i, c in enumerate(claims)
    ]


def small_dataset(root: Path, conditions=CONDITIONS):
    """A ZBB dataset folder of `make_clips`; the audio is a short silence (scoring never decodes it)."""
    silence = lambda clip, rate: np.zeros(rate // 10, dtype=np.float32)  # noqa: E731
    return open_dataset(write_clips(root, make_clips(conditions), SR, "c0ffee" * 4, audio=silence))


def write_transcripts(root: Path, meta: dict, lines: list[dict]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "meta.json").write_text(json.dumps(meta))
    (root / "responses.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root
