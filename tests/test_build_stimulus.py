"""Stimulus v2 beyond the audio: a bank nobody can mishear, prompts away from the claim's topic, the ASR screen
(with a fake recogniser), levels and room tone as functions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zbb.asr.base import Transcript
from zbb.bank import load_bank, load_recipe, warn_mishearable
from zbb.builder.levels import STIMULUS_V2, Levels, loudness, normalise, room_tone, true_peak
from zbb.builder.plan import plan_build
from zbb.errors import BankError, UnknownNameError
from zbb.homophones import confusions
from zbb.records import BankItem

SR = 24000


# ------------------------------------------------------------------------------------------ the bank, the recipe
@pytest.mark.parametrize(
    "word, other, kind",
    [
        ("muscle", "mussel", "homophone"),
        ("whale", "wail", "homophone"),
        ("weed", "we'd", "homophone"),
        ("petal", "pedal", "flap"),
        ("medal", "metal", "flap"),
        ("tea", "", "short"),
        ("eel", "", "short"),
    ],
)
def test_the_pronouncing_dictionary_finds_the_audited_confusions(word, other, kind):
    assert any(c.kind == kind and c.other == other for c in confusions(word)), [str(c) for c in confusions(word)]


def test_distinct_words_and_spelling_variants_are_not_confusions():
    assert confusions("giraffe") == [] and confusions("harbor") == [] and confusions("theater") == []
    assert confusions("notaword-xyz") == []


def test_the_shipped_bank_has_no_subject_a_listener_can_mishear():
    subjects = sorted({item.subject for item in load_bank()})
    flagged = {s: [str(c) for c in confusions(s)] for s in subjects if confusions(s)}
    assert not flagged
    audited = {"petal", "weed", "bean", "tie", "whale", "root", "hail", "cod", "eel", "knee", "key", "plum"}
    audited |= {"muscle", "rain", "ring", "horse", "shoe", "ball", "bread", "moose", "medal", "tea"}
    assert not audited & set(subjects)


def test_the_shipped_bank_is_in_us_english_and_files_places_under_buildings():
    items = load_bank()
    text = " ".join(f"{i.subject} {i.description}" for i in items).lower()
    for british in ("colour", "harbour", "theatre", "motorway", "petrol", "maths", "flavour", "tyre", "grey"):
        assert british not in text.split() and f"{british}s" not in text.split(), british
    category = {i.subject: i.category for i in items}
    assert all(category[s] == "buildings" for s in ("bridge", "city", "street", "tunnel", "harbor"))


def test_a_user_bank_with_a_homophone_warns_and_still_loads(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text("subject,description,label\nmuscle,helps you move,true\nmuscle,is made of wood,false\n")
    with pytest.warns(UserWarning, match=r"muscle-t: subject 'muscle' sounds like 'mussel'"):
        items = load_bank(path)
    assert [i.subject for i in items] == ["muscle", "muscle"]
    assert warn_mishearable([BankItem(id="g", subject="giraffe", description="is tall", label=True)], "x") == []


def test_no_long_talk_prompt_shares_a_topic_with_the_claim_it_precedes():
    bank, recipe = load_bank(), load_recipe()
    assert set(recipe.prompt_topics) == set(recipe.long_talk_prompts)
    categories = {i.category for i in bank}
    assert all(set(tags) <= categories for tags in recipe.prompt_topics.values())
    plan = plan_build(bank, recipe, voices=["heart"], seed=0)
    for ip in plan.items:
        for row in ip.rows:
            if row.condition != "no_interrupt":
                assert ip.item.category not in recipe.prompt_topics[row.context_text], (ip.item.id, row.context_text)
    assert "music" in recipe.prompt_topics["Explain how a symphony is composed and performed."]


@pytest.mark.parametrize(
    "topics, fragment",
    [
        ({"Not a prompt.": ["music"]}, "listed in long_talk_prompts"),
        ([], "expected an object"),
        ({"P0.": "music"}, "list"),
    ],
)
def test_malformed_prompt_topics(tmp_path, topics, fragment):
    recipe = {
        "version": "t",
        "confirmations": ["right?"],
        "long_talk_prompts": ["P0.", "P1."],
        "fillers": ["Um,"],
        "greetings": ["Hi."],
        "prompt_topics": topics,
    }
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    with pytest.raises(BankError) as info:
        load_recipe(path, min_counts={})
    assert fragment in str(info.value.problems)


# ---------------------------------------------------------------------------------------------------- levels
def test_normalise_reaches_the_target_loudness_under_the_ceiling():
    t = np.arange(SR) / SR
    speechy = (0.9 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    out = normalise(speechy, SR, STIMULUS_V2)
    assert abs(loudness(out, SR) + 23.0) < 0.1 and true_peak(out) <= STIMULUS_V2.ceiling
    loud = normalise(speechy, SR, Levels(loudness_lufs=-3.0))  # a target above the ceiling: turned down instead
    assert true_peak(loud) <= Levels().ceiling + 1e-6 and loudness(loud, SR) < -3.0
    short = normalise(speechy[: SR // 10], SR, STIMULUS_V2)  # 100 ms: measured in one block of its length
    assert abs(loudness(short, SR) + 23.0) < 0.1


def test_room_tone_is_seeded_at_its_level_and_bounded():
    a, b = room_tone(SR * 2, "s1", STIMULUS_V2, SR), room_tone(SR * 2, "s1", STIMULUS_V2, SR)
    assert a.dtype == np.int16 and np.array_equal(a, b)
    assert not np.array_equal(a, room_tone(SR * 2, "s2", STIMULUS_V2, SR))
    x = a.astype(np.float64) / 32768
    assert abs(20 * np.log10(np.sqrt(np.mean(x**2))) + 58.0) < 0.5
    assert np.max(np.abs(x)) <= 4 * STIMULUS_V2.noise_rms + 1 / 32768
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / SR)
    assert spectrum[freqs < 300].sum() > 10 * spectrum[freqs > 1000].sum()  # a low rumble, not hiss
    assert not np.any(room_tone(100, "s", Levels(noise_dbfs=None), SR))


# ---------------------------------------------------------------------------------------------------- screen
class FakeAsr:
    """Hears every claim right except those whose audio it is told to mishear (by index)."""

    name = "fake"

    def __init__(self, texts: list[str], mishear: set[int]):
        self.texts, self.mishear, self.windows = texts, mishear, []

    def describe(self) -> str:
        return "fake-asr 1.0"

    def transcribe_many(self, windows, *, workers=None, progress=False):
        self.windows = list(windows)
        return [Transcript("pedal is part of a car" if i in self.mishear else t) for i, t in enumerate(self.texts)]


def test_screen_reports_then_drops_unheard_subjects(tiny_bank, tmp_path):
    from zbb.builder import build_dataset
    from zbb.dataset import open_dataset

    bank, recipe = tiny_bank
    items = load_bank(bank)
    plan = plan_build(items, load_recipe(recipe), voices=["heart"], preset="tiny")
    texts = [ip.claim for ip in plan.items]
    asr = FakeAsr(texts, mishear={1})
    report = build_dataset(tmp_path / "kept", bank=bank, recipe=recipe, preset="tiny", screen_asr=asr, progress=False)
    assert len(asr.windows) == len(texts) and all(w.dtype == np.float32 and w.size > 8000 for w in asr.windows)
    assert report.screen is not None and report.screen["claims"] == len(texts)
    assert [m["id"] for m in report.screen["unrecognised"]] == [plan.items[1].item.id]
    assert report.screen["dropped_subjects"] == [] and report.counts["interrupt"] == len(texts)
    dropped = build_dataset(
        tmp_path / "dropped",
        bank=bank,
        recipe=recipe,
        preset="tiny",
        conditions=["interrupt"],
        screen_asr=FakeAsr(texts, mishear={1}),
        screen_drop=True,
        progress=False,
    )
    lost = plan.items[1].item.subject
    assert dropped.screen["dropped_subjects"] == [lost]
    ids = {c.id for c in open_dataset(tmp_path / "dropped").clips("interrupt")}
    assert not any(i.startswith(f"{lost}-") for i in ids) and ids  # both claims of the subject are left out
    manifest = json.loads((tmp_path / "dropped" / "zbb_build.json").read_text())
    assert manifest["screen"]["asr"] == "fake-asr 1.0"


def test_screen_refuses_pocketsphinx_and_cli_needs_an_engine_for_drop(tmp_path, capsys):
    from zbb.builder.screen import screening_asr
    from zbb.cli import main

    with pytest.raises(UnknownNameError, match="too weak"):
        screening_asr("pocketsphinx")
    assert main(["build", "--preset", "tiny", "--out", str(tmp_path / "x"), "--screen-drop"]) != 0
    assert "--screen-asr" in capsys.readouterr().err
    assert main(["build", "--preset", "tiny", "--out", str(tmp_path / "x"), "--screen-asr", "pocketsphinx"]) != 0
    assert not (tmp_path / "x").exists()
