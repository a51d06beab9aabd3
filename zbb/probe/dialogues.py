"""Seeded synthetic two-voice dialogues with turn-taking and one abrupt interruption (planned, then rendered).

For fitting a perception vector offline when no real dialogues are at hand (the paper used 100 real ones, disjoint
from ZBB). Each dialogue: the user asks (a recipe long-talk prompt), the model answers at length (sentences below),
the user cuts in with zero buffer (another long-talk prompt), the model keeps talking for a seeded overlap, stops,
and replies briefly once the user is done. No text names a bank subject (checked when planning), so nothing fitted
here has seen a ZBB claim. All offsets are integer samples from the start of the dialogue at the output rate.

On disk (written by `save_dialogues`, read by `load_dialogues`): `dialogues.jsonl`, one line per dialogue
`{"id", "audio", "onset_s", ...}`, and the audio as 2-channel WAV files, channel 0 the user, channel 1 the model.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zbb.errors import ProbeError

#: What the model says at length (neutral topics; no bank subject, checked at plan time).
MODEL_SENTENCES = (
    "Well, that is a big question, so let me start at the very beginning.",
    "There are a few different ideas that people usually bring up first.",
    "Most of them grew slowly over many years, and each one changed the next.",
    "The details matter a lot here, so I will try to go through them in order.",
    "Some people disagree about this part, and both sides have good reasons.",
    "To understand the whole picture, it helps to look at how things started.",
    "After that, a second wave of changes arrived and made everything faster.",
    "It is a long story, but the main points are fairly easy to follow.",
)
#: What the model says once the user has finished (short: a turn, not a monologue).
MODEL_REPLIES = ("Sure, I can do that.", "Of course, let me explain.", "Okay, good question.", "Right, let me see.")

DIALOGUES_FILE = "dialogues.jsonl"


@dataclass(frozen=True)
class Utter:
    """One planned utterance: who says what, in which voice, from which sample (and, for the model's long answer,
    where it is cut off: `stop` samples from the dialogue start, None = let it finish)."""

    speaker: str  # "user" or "model"
    text: str
    voice: str
    start: int
    stop: int | None = None


@dataclass(frozen=True)
class DialoguePlan:
    """A dialogue before rendering. Offsets that depend on speech lengths are filled at render time from the
    seeded gaps in `gaps_s` (seconds: lead, after_prompt, before_cut, overlap, before_reply, tail)."""

    id: str
    seed: int
    user_voice: str
    model_voice: str
    prompt: str
    answer: str
    interruption: str
    reply: str
    gaps_s: dict[str, float]


@dataclass(frozen=True)
class Dialogue:
    """A rendered two-channel dialogue. `user` and `model` are float32 mono at `sample_rate`, the same length.
    `onset` is the first sample of the interruption (from the dialogue start); spans are (start, stop) samples
    where each side speaks."""

    id: str
    user: np.ndarray
    model: np.ndarray
    sample_rate: int
    onset: int | None
    user_spans: tuple[tuple[int, int], ...] = ()
    model_spans: tuple[tuple[int, int], ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z']+", text)}


def check_no_bank_subject(texts: Sequence[str], subjects: Sequence[str]) -> None:
    """Raise ProbeError naming the first text that contains a bank subject (as whole words, any case)."""
    for text in texts:
        words = _words(text)
        lowered = f" {' '.join(re.findall(r'[A-Za-z]+', text.lower()))} "
        for subject in subjects:
            parts = re.findall(r"[A-Za-z]+", subject.lower())
            if not parts:
                continue
            hit = parts[0] in words if len(parts) == 1 else f" {' '.join(parts)} " in lowered
            if hit:
                raise ProbeError(f"synthetic dialogue text {text!r} names the bank subject {subject!r}")


def plan_dialogues(
    n: int, seed: int, voices: Sequence[str], *, recipe: Any = None, bank: Any = None
) -> list[DialoguePlan]:
    """`n` dialogue plans from `seed` (same inputs, same plans). Needs at least two voices."""
    from zbb.bank import load_bank, load_recipe

    if n < 1:
        raise ProbeError(f"number of dialogues must be at least 1; got {n}")
    if len(voices) < 2:
        raise ProbeError(f"two-voice dialogues need at least 2 TTS voices; the engine has {list(voices)}")
    recipe = recipe or load_recipe()
    prompts = list(recipe.long_talk_prompts)
    if len(prompts) < 2:
        raise ProbeError("the recipe needs at least 2 long-talk prompts (a question and an interruption)")
    subjects = sorted({item.subject for item in (bank if bank is not None else load_bank())})
    check_no_bank_subject([*prompts, *MODEL_SENTENCES, *MODEL_REPLIES], subjects)
    plans = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        user_voice, model_voice = rng.sample(list(voices), 2)
        prompt, interruption = rng.sample(prompts, 2)
        answer = " ".join(rng.sample(MODEL_SENTENCES, 3))
        gaps = {
            "lead": rng.uniform(0.3, 0.6),
            "after_prompt": rng.uniform(0.3, 0.7),
            "before_cut": rng.uniform(1.5, 3.0),  # the model talks this long before the user cuts in
            "overlap": rng.uniform(0.2, 0.6),  # the model keeps talking this long over the user
            "before_reply": rng.uniform(0.3, 0.6),
            "tail": 0.5,
        }
        plans.append(
            DialoguePlan(
                id=f"dialogue-{seed}-{i:03d}",
                seed=seed,
                user_voice=user_voice,
                model_voice=model_voice,
                prompt=prompt,
                answer=answer,
                interruption=interruption,
                reply=rng.choice(MODEL_REPLIES),
                gaps_s={k: round(v, 3) for k, v in gaps.items()},
            )
        )
    return plans


def render_dialogue(plan: DialoguePlan, engine: Any, sample_rate: int) -> Dialogue:
    """Synthesise and lay out one plan (TTS speech trimmed to its sound, spliced on silence at sample offsets)."""
    from zbb.builder.splice import prepare

    def say(text: str, voice: str) -> np.ndarray:
        return prepare(engine.synthesize(text, voice), sample_rate, where=f"{plan.id}: {text!r}").samples

    def s(key: str) -> int:
        return int(round(plan.gaps_s[key] * sample_rate))

    prompt = say(plan.prompt, plan.user_voice)
    answer = say(plan.answer, plan.model_voice)
    cut = say(plan.interruption, plan.user_voice)
    reply = say(plan.reply, plan.model_voice)
    t_prompt = s("lead")
    t_answer = t_prompt + prompt.size + s("after_prompt")
    onset = t_answer + min(s("before_cut"), answer.size // 2)  # the user always cuts into the answer
    answer_stop = min(onset + s("overlap"), t_answer + answer.size)
    t_reply = onset + cut.size + s("before_reply")
    total = max(t_reply + reply.size, onset + cut.size) + s("tail")
    user = np.zeros(total, dtype=np.float32)
    model = np.zeros(total, dtype=np.float32)
    user[t_prompt : t_prompt + prompt.size] = prompt
    user[onset : onset + cut.size] = cut
    spoken = answer[: answer_stop - t_answer].copy()
    fade = min(int(0.01 * sample_rate), spoken.size)  # a 10 ms fade where the model stops mid-word, not a click
    spoken[spoken.size - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    model[t_answer:answer_stop] = spoken
    model[t_reply : t_reply + reply.size] = reply
    return Dialogue(
        id=plan.id,
        user=user,
        model=model,
        sample_rate=sample_rate,
        onset=onset,
        user_spans=((t_prompt, t_prompt + prompt.size), (onset, onset + cut.size)),
        model_spans=((t_answer, answer_stop), (t_reply, t_reply + reply.size)),
        meta={
            "prompt": plan.prompt,
            "answer": plan.answer,
            "interruption": plan.interruption,
            "reply": plan.reply,
            "user_voice": plan.user_voice,
            "model_voice": plan.model_voice,
            "seed": plan.seed,
        },
    )


def synthesize_dialogues(
    n: int, seed: int, sample_rate: int, *, engine: str = "espeak", engine_options: dict[str, Any] | None = None
) -> list[Dialogue]:
    """Plan and render `n` synthetic dialogues with TTS engine `engine` (zbb's registry)."""
    from zbb.tts import TTS_ENGINES

    tts = TTS_ENGINES.get(engine)(**(engine_options or {}))
    return [render_dialogue(plan, tts, sample_rate) for plan in plan_dialogues(n, seed, tts.voices())]


def dialogue_set_sha256(dialogues: Sequence[Dialogue]) -> str:
    """One hash over the ids, onsets and PCM16 audio of both channels: which dialogues a vector was fitted on."""
    from zbb.builder.splice import to_pcm16

    digest = hashlib.sha256()
    for d in sorted(dialogues, key=lambda d: d.id):
        digest.update(json.dumps([d.id, d.onset, d.sample_rate]).encode())
        digest.update(to_pcm16(d.user).tobytes())
        digest.update(to_pcm16(d.model).tobytes())
    return digest.hexdigest()


def save_dialogues(dialogues: Sequence[Dialogue], folder: str | Path) -> Path:
    """Write `folder/dialogues.jsonl` and one stereo WAV per dialogue (channel 0 user, 1 model)."""
    import io

    import soundfile as sf

    from zbb.builder.splice import to_pcm16
    from zbb.io import atomic_write_bytes, atomic_write_text

    folder = Path(folder)
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    lines = []
    for d in dialogues:
        name = f"audio/{d.id}.wav"
        buf = io.BytesIO()
        # the same int16 samples dialogue_set_sha256 hashes, so a saved set hashes as it did before saving
        sf.write(buf, np.stack([to_pcm16(d.user), to_pcm16(d.model)], axis=1), d.sample_rate, format="WAV")
        atomic_write_bytes(folder / name, buf.getvalue())
        onset_s = None if d.onset is None else d.onset / d.sample_rate
        lines.append(json.dumps({"id": d.id, "audio": name, "onset_s": onset_s, **d.meta}, ensure_ascii=False))
    return atomic_write_text(folder / DIALOGUES_FILE, "\n".join(lines) + "\n")


def load_dialogues(folder: str | Path, sample_rate: int) -> list[Dialogue]:
    """Read a dialogue folder (`dialogues.jsonl` + stereo audio: channel 0 the user, 1 the model), resampled to
    `sample_rate`. `onset_s` (seconds from the start of the audio, or null) is where the user cuts in."""
    from zbb.audio import read_audio, resample

    folder = Path(folder)
    index = folder / DIALOGUES_FILE
    if not index.is_file():
        raise ProbeError(f"{folder}: no {DIALOGUES_FILE} (one JSON line per dialogue: id, audio, onset_s)")
    out: list[Dialogue] = []
    seen: set[str] = set()
    for n, line in enumerate(index.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{index}:{n}"
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ProbeError(f"{where}: not JSON ({exc.msg})") from None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), str)
            or not isinstance(entry.get("audio"), str)
        ):
            raise ProbeError(f"{where}: expected an object with string 'id' and 'audio'")
        if entry["id"] in seen:
            raise ProbeError(f"{where}: duplicate id {entry['id']!r}")
        seen.add(entry["id"])
        onset_s = entry.get("onset_s")
        if onset_s is not None and (not isinstance(onset_s, (int, float)) or isinstance(onset_s, bool) or onset_s < 0):
            raise ProbeError(f"{where}: onset_s must be a non-negative number of seconds or null; got {onset_s!r}")
        path = (folder / entry["audio"]).resolve()
        if folder.resolve() not in path.parents:
            raise ProbeError(f"{where}: audio path {entry['audio']!r} leaves the dialogue folder")
        samples, sr = read_audio(path, mono=False)
        if samples.ndim != 2 or samples.shape[1] != 2:
            raise ProbeError(f"{where}: {entry['audio']} must have 2 channels (user, model); got shape {samples.shape}")
        user = resample(np.ascontiguousarray(samples[:, 0], dtype=np.float32), sr, sample_rate)
        model = resample(np.ascontiguousarray(samples[:, 1], dtype=np.float32), sr, sample_rate)
        onset = None if onset_s is None else int(round(onset_s * sample_rate))
        meta = {k: v for k, v in entry.items() if k not in ("id", "audio", "onset_s")}
        out.append(Dialogue(entry["id"], user, model, sample_rate, onset, meta=meta))
    if not out:
        raise ProbeError(f"{index}: no dialogues")
    return out
