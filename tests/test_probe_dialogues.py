"""Synthetic two-voice dialogues (espeak, seeded) and the dialogue folder format that `zbb probe --dialogues` reads."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from zbb.bank import load_bank, load_recipe
from zbb.errors import AudioError, ProbeError
from zbb.probe.dialogues import (
    MODEL_REPLIES,
    MODEL_SENTENCES,
    check_no_bank_subject,
    dialogue_set_sha256,
    load_dialogues,
    plan_dialogues,
    save_dialogues,
    synthesize_dialogues,
)

SR = 24_000


@pytest.fixture(scope="module")
def dialogues():
    return synthesize_dialogues(3, seed=7, sample_rate=SR)


def test_plans_are_seeded_and_two_voiced():
    voices = ["a", "b", "c"]
    first, again, other = plan_dialogues(5, 1, voices), plan_dialogues(5, 1, voices), plan_dialogues(5, 2, voices)
    assert first == again and first != other
    assert all(p.user_voice != p.model_voice for p in first)
    assert all(p.prompt != p.interruption for p in first)
    with pytest.raises(ProbeError, match="at least 2 TTS voices"):
        plan_dialogues(1, 0, ["only"])


def test_no_text_names_a_bank_subject():
    subjects = sorted({item.subject for item in load_bank()})
    texts = [*load_recipe().long_talk_prompts, *MODEL_SENTENCES, *MODEL_REPLIES]
    check_no_bank_subject(texts, subjects)  # the shipped texts pass
    words = {w.lower().strip(".,?!") for t in texts for w in t.split()}
    assert not words & {s.lower() for s in subjects if " " not in s}
    with pytest.raises(ProbeError, match="names the bank subject 'giraffe'"):
        check_no_bank_subject(["Tell me about the Giraffe, please."], subjects)


def test_rendered_dialogue_has_turns_and_an_abrupt_interruption(dialogues):
    for d in dialogues:
        assert d.user.shape == d.model.shape and d.user.dtype == np.float32
        (_, prompt_end), (cut_start, cut_end) = d.user_spans
        (answer_start, answer_stop), (reply_start, _) = d.model_spans
        assert prompt_end < answer_start  # turn-taking: the model answers after the question
        assert answer_start < d.onset == cut_start < answer_stop  # the user cuts into the answer
        assert reply_start > cut_end  # and the model replies once the user is done
        assert np.abs(d.user[d.onset : d.onset + SR // 50]).max() > 0.01  # zero buffer: sound right at the onset
        assert not d.user[prompt_end + 10 : cut_start].any() and not d.model[answer_stop:reply_start].any()


def test_same_seed_same_audio_and_hash(dialogues):
    again = synthesize_dialogues(3, seed=7, sample_rate=SR)
    assert dialogue_set_sha256(again) == dialogue_set_sha256(dialogues)
    assert dialogue_set_sha256(dialogues[:2]) != dialogue_set_sha256(dialogues)


def test_save_and_load_round_trip(dialogues, tmp_path):
    save_dialogues(dialogues, tmp_path / "d")
    loaded = load_dialogues(tmp_path / "d", SR)
    assert [d.id for d in loaded] == [d.id for d in dialogues]
    for a, b in zip(loaded, dialogues, strict=True):
        assert a.onset == b.onset
        assert np.allclose(a.user, b.user, atol=1 / 16384) and np.allclose(a.model, b.model, atol=1 / 16384)
        assert a.meta["interruption"] == b.meta["interruption"]
    assert dialogue_set_sha256(loaded) == dialogue_set_sha256(dialogues)  # the hash survives the PCM16 files


def _folder(tmp_path, lines: list[str], channels: int = 2):
    folder = tmp_path / "d"
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    sf.write(folder / "audio" / "x.wav", np.zeros((4800, channels), dtype=np.float32) + 0.1, SR)
    (folder / "dialogues.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize(
    ("lines", "channels", "message"),
    [
        (["{"], 2, r"dialogues.jsonl:1: not JSON"),
        (['{"id": "x"}'], 2, "string 'id' and 'audio'"),
        (['{"id": "x", "audio": "audio/x.wav", "onset_s": -1}'], 2, "non-negative number"),
        (['{"id": "x", "audio": "audio/x.wav", "onset_s": true}'], 2, "non-negative number"),
        (['{"id": "x", "audio": "audio/x.wav"}', '{"id": "x", "audio": "audio/x.wav"}'], 2, ":2: duplicate id"),
        (['{"id": "x", "audio": "../x.wav"}'], 2, "leaves the dialogue folder"),
        (['{"id": "x", "audio": "audio/x.wav"}'], 1, "must have 2 channels"),
        ([""], 2, "no dialogues"),
    ],
)
def test_load_dialogues_names_the_bad_line(tmp_path, lines, channels, message):
    with pytest.raises(ProbeError, match=message):
        load_dialogues(_folder(tmp_path, lines, channels), SR)


def test_load_dialogues_without_index(tmp_path):
    with pytest.raises(ProbeError, match="no dialogues.jsonl"):
        load_dialogues(tmp_path, SR)


_VALUES = st.one_of(st.text(max_size=12), st.floats(), st.none(), st.integers(), st.booleans())
_LINES = st.one_of(
    st.text(max_size=60),
    st.dictionaries(st.sampled_from(["id", "audio", "onset_s"]), _VALUES).map(json.dumps),
)


@pytest.mark.fuzz
@given(line=_LINES)
def test_any_index_line_loads_or_is_refused_clearly(tmp_path, line):
    folder = _folder(tmp_path, [line.replace("\n", " ")])
    try:
        loaded = load_dialogues(folder, SR)
    except (ProbeError, AudioError):
        return
    assert len(loaded) == 1 and loaded[0].user.shape == loaded[0].model.shape
