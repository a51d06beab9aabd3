"""The builder: plan, splicing, a real tiny build read back three ways, onsets measured from the audio itself,
determinism, resume after a crash, FDB export, Hub upload (faked), and bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from zbb.bank import load_bank, load_recipe
from zbb.builder import build_dataset, plan_build
from zbb.builder.plan import INTERRUPT_GAP_S, NO_INTERRUPT_GAP_S, BuildPlan
from zbb.builder.render import RetryPolicy
from zbb.builder.splice import Utterance, assemble, prepare
from zbb.conditions import CONDITIONS
from zbb.errors import BankError, DatasetError, EngineError, UnknownNameError
from zbb.tts.base import Synthesis, WordSpan
from zbb.tts.hibari import HibariEngine

SR = 24000


def _rows(folder: Path, condition: str) -> list[dict]:
    import pyarrow.parquet as pq

    return [
        r for shard in sorted((folder / condition).glob("test-*.parquet")) for r in pq.read_table(shard).to_pylist()
    ]


def _decode(row: dict) -> np.ndarray:
    samples, sr = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="float32")
    assert sr == SR
    return samples


# --------------------------------------------------------------------------------------------------- plan
@pytest.fixture(scope="module")
def bank_recipe(tiny_bank):
    bank, recipe = tiny_bank
    return load_bank(bank), load_recipe(recipe)


def _plan(bank_recipe, **kw) -> BuildPlan:
    bank, recipe = bank_recipe
    args = dict(seed=0, voices=["a", "b", "c"], preset="full")
    args.update(kw)
    return plan_build(bank, recipe, **args)


def test_plan_is_seeded_json_and_shares_the_interruption(bank_recipe):
    plan = _plan(bank_recipe)
    assert plan == _plan(bank_recipe) and plan.digest() == _plan(bank_recipe).digest()
    assert plan.digest() != _plan(bank_recipe, seed=1).digest()
    again = BuildPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan and again.digest() == plan.digest()
    for ip in plan.items:
        assert ip.claim.lower().startswith(ip.item.subject.lower())
        rows = {r.condition: r for r in ip.rows}
        assert set(rows) == set(CONDITIONS)
        lo, hi = (round(s * SR) for s in NO_INTERRUPT_GAP_S)
        assert lo <= rows["no_interrupt"].gap <= hi
        lo, hi = (round(s * SR) for s in INTERRUPT_GAP_S)
        assert lo <= rows["interrupt"].gap <= hi
        # the buffered row is the interrupt row plus a filler: same prompt, same gap
        assert rows["interrupt_buffered"].context_text == rows["interrupt"].context_text
        assert rows["interrupt_buffered"].gap == rows["interrupt"].gap
        assert rows["interrupt_buffered"].buffer_text and not rows["interrupt"].buffer_text


def test_plan_balances_voices_and_keeps_items_independent(bank_recipe):
    bank, recipe = bank_recipe
    plan = _plan(bank_recipe)
    counts = {v: sum(ip.voice == v for ip in plan.items) for v in ("a", "b", "c")}
    assert max(counts.values()) - min(counts.values()) <= 1
    # dropping items does not change the texts and silences drawn for the others
    fewer = plan_build(bank[2:], recipe, seed=0, voices=["a", "b", "c"])
    by_id = {ip.item.id: ip.rows for ip in plan.items}
    assert all(ip.rows == by_id[ip.item.id] for ip in fewer.items)


def test_plan_rejects_unknown_preset_and_condition(bank_recipe):
    with pytest.raises(UnknownNameError, match="available: tiny, paper, full"):
        _plan(bank_recipe, preset="huge")
    with pytest.raises(UnknownNameError, match="'shouting'"):
        _plan(bank_recipe, conditions=["interrupt", "shouting"])


def test_plan_draws_prompts_and_fillers_from_the_recipe():
    recipe = load_recipe(None) if _shipped() else None
    if recipe is None:
        pytest.skip("the shipped recipe is not in this tree yet")
    assert len(recipe.long_talk_prompts) >= 50 and len(recipe.fillers) >= 3
    bank = load_bank(None)
    plan = plan_build(bank, recipe, seed=0, voices=["a"])
    prompts = {r.context_text for ip in plan.items for r in ip.rows if r.condition == "interrupt"}
    fillers = {r.buffer_text for ip in plan.items for r in ip.rows if r.buffer_text}
    assert len(prompts) >= min(50, len(plan.items) // 2) and len(fillers) >= 3


def _shipped() -> bool:
    from zbb.bank import default_bank_path, default_recipe_path

    return default_bank_path().is_file() and default_recipe_path().is_file()


# ------------------------------------------------------------------------------------------------ splicing
def test_prepare_trims_to_the_sound_and_maps_words():
    sr = 16000
    tone = (0.5 * np.sin(2 * np.pi * 220 * np.arange(sr // 2) / sr)).astype(np.float32)
    samples = np.concatenate([np.zeros(3000, np.float32), tone, np.zeros(5000, np.float32)])
    words = (WordSpan("hello", 0, 3000 + sr // 4), WordSpan("there", 3000 + sr // 4, samples.size))
    utt = prepare(Synthesis(samples, sr, words), SR)
    first_loud = int(np.flatnonzero(np.abs(utt.samples) > 1e-3)[0])
    assert first_loud <= round(0.002 * SR)  # <= 2 ms of quiet kept before the sound
    assert abs(utt.n - round(0.5 * SR)) <= round(0.015 * SR)  # the tone, +1 ms before and ~10 ms after
    assert utt.words[0].start == 0 and utt.words[1].end == utt.n
    assert abs(utt.words[1].start - (round(sr // 4 * SR / sr) + round(0.001 * SR))) <= 2
    assert np.max(np.abs(np.diff(utt.samples[:60]))) < 0.1  # ramped in: no click


def test_assemble_places_every_part_at_exact_sample_offsets():
    ctx, filler, claim = (Utterance(np.full(n, v, np.float32)) for n, v in ((100, 0.1), (50, 0.2), (70, 0.3)))
    row = assemble(ctx, claim, lead_in=10, gap=1000, tail=500, buffer=filler, buffer_gap=25)
    assert row.buffer_onset == 10 + 100 + 1000
    assert row.onset == row.buffer_onset + 50 + 25 and row.end == row.onset + 70
    assert row.samples.size == row.end + 500
    assert np.all(row.samples[row.onset : row.end] == np.float32(0.3)) and row.samples[row.onset - 1] == 0


# ----------------------------------------------------------------------------------------- the tiny build
def test_tiny_build_loads_with_datasets_and_zbb(tiny_dataset):
    from datasets import Audio, load_dataset

    from zbb.dataset import PARQUET_COLUMNS, open_dataset

    manifest = json.loads((tiny_dataset / "zbb_build.json").read_text())
    assert manifest["sample_rate"] == SR and len(manifest["fingerprint"]) == 64
    card = (tiny_dataset / "README.md").read_text()
    assert card.startswith("---\n") and manifest["fingerprint"] in card and "config_name: interrupt" in card
    ds = load_dataset(str(tiny_dataset), "interrupt", split="test").cast_column("audio", Audio(decode=False))
    assert ds.num_rows == manifest["counts"]["interrupt"] == 6
    assert set(PARQUET_COLUMNS) | {"audio"} == set(ds.column_names)
    samples, sr = sf.read(io.BytesIO(ds[0]["audio"]["bytes"]))
    assert sr == SR and samples.size == round(ds[0]["duration_s"] * SR)
    zbb_ds = open_dataset(tiny_dataset)
    assert zbb_ds.conditions() == list(CONDITIONS) and zbb_ds.fingerprint == manifest["fingerprint"]
    ids = [c.id for c in zbb_ds.clips("interrupt")]
    assert ids == [c.id for c in zbb_ds.clips("no_interrupt")] == ds["id"]
    audio, sr = zbb_ds.audio("interrupt_buffered", ids[0])
    assert sr == SR and audio.size == round(zbb_ds.clip("interrupt_buffered", ids[0]).duration_s * SR)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _db(x: np.ndarray) -> float:
    return 20 * np.log10(max(_rms(x), 1e-12))


def _first_loud_window(x: np.ndarray, start: int, end: int, above_db: float = 12.0) -> int:
    """Start of the first 1 ms window from `start` whose energy above 1 kHz is `above_db` over the floor's (the
    room tone is low, speech onsets are not: a high-pass makes quiet fricatives stand out from the floor)."""
    from scipy.signal import butter, sosfilt

    ms = SR // 1000
    high = sosfilt(butter(4, 1000, "highpass", fs=SR, output="sos"), x)
    floor_db = _db(high[end + 100 * ms :])
    for i in range(start, x.size - ms, ms // 4):
        if _db(high[i : i + ms]) > floor_db + above_db:
            return i
    raise AssertionError("no sound above the floor")


@pytest.mark.parametrize("condition", CONDITIONS)
def test_onsets_hold_in_the_audio_itself(tiny_dataset, condition):
    """Measured from samples, not from the builder's bookkeeping: an energy detector, run from 100 ms before the
    onset, finds speech above the room tone in the 1 ms window holding `onset_s` or at most 5 ms after it."""
    ms = SR // 1000
    for row in _rows(tiny_dataset, condition):
        x = _decode(row)
        onset = round(row["onset_s"] * SR)
        end = round(row["end_s"] * SR)
        floor_db = _db(x[end + 100 * ms :])  # the tail is room tone only
        assert -60.0 <= floor_db <= -56.0, (row["id"], floor_db)
        if condition == "interrupt_buffered":  # the filler starts the interruption: measure it the same way
            buffer_onset = round(row["buffer_onset_s"] * SR)
            heard = _first_loud_window(x, buffer_onset - 100 * ms, end)
            assert buffer_onset - ms < heard < buffer_onset + 5 * ms, (row["id"], (heard - buffer_onset) / ms)
            assert _db(x[buffer_onset - 100 * ms : buffer_onset]) < floor_db + 3  # only the floor before it
        else:
            assert _db(x[onset - 100 * ms : onset]) < floor_db + 3, row["id"]  # only the floor before the claim
            heard = _first_loud_window(x, onset - 100 * ms, end)
            assert onset - ms < heard < onset + 5 * ms, (row["id"], (heard - onset) / ms)
        assert _db(x[onset:end]) > floor_db + 25
        assert x.size - end == 6 * SR
        # no click: the steepest sample-to-sample step at the splice is small next to the speech's own steps
        splice = np.max(np.abs(np.diff(x[onset - ms : onset + ms])))
        assert splice < 0.25 and splice <= np.max(np.abs(np.diff(x[onset:end]))), row["id"]
        words = row["claim_words"]
        assert words[0]["start"] == row["onset_s"] and words[0]["word"].lower() == row["subject"].lower()
        assert row["onset_s"] < row["subject_end_s"] == words[0]["end"] < row["end_s"]
        assert all(a["end"] <= b["start"] + 1e-6 for a, b in zip(words, words[1:], strict=False))


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_row_has_a_floor_broadcast_loudness_and_no_full_scale_sample(tiny_dataset, condition):
    from zbb.builder.levels import loudness, true_peak

    ms = SR // 1000
    for row in _rows(tiny_dataset, condition):
        x = _decode(row)
        onset, end = round(row["onset_s"] * SR), round(row["end_s"] * SR)
        windows = x[: x.size // (10 * ms) * 10 * ms].reshape(-1, 10 * ms)
        assert np.all(np.any(windows != 0, axis=1)), row["id"]  # no 10 ms of digital silence anywhere
        assert -60.0 <= _db(x[: round(0.4 * SR)]) <= -56.0  # the lead-in is room tone
        assert true_peak(x) <= 10 ** (-1 / 20) + 2 / 32768, row["id"]  # -1 dBTP, so nothing near full scale
        assert abs(loudness(x[onset:end], SR) + 23.0) < 0.5, row["id"]  # the claim at -23 LUFS


def test_the_floor_is_seeded_and_the_same_under_the_claim_in_every_condition(tiny_dataset):
    rows = {c: {r["id"]: r for r in _rows(tiny_dataset, c)} for c in CONDITIONS}
    for id_ in rows["interrupt"]:
        tails = []
        for c in CONDITIONS:
            x = _decode(rows[c][id_])
            tails.append(x[round(rows[c][id_]["end_s"] * SR) :])
        assert all(np.array_equal(t, tails[0]) for t in tails)
    ids = list(rows["interrupt"])
    a, b = (_decode(rows["interrupt"][i]) for i in ids[:2])
    assert not np.array_equal(a[-SR:], b[-SR:])  # each item draws its own


def test_espeak_builds_the_v1_stimulus_on_digital_silence(tiny_bank, tmp_path):
    bank, recipe = tiny_bank
    out = tmp_path / "v1"
    build_dataset(
        out, bank=bank, recipe=recipe, preset="tiny", engine="espeak", progress=False, conditions=["interrupt"]
    )
    manifest = json.loads((out / "zbb_build.json").read_text())
    assert manifest["stimulus_version"] == 1 and manifest["levels"]["noise_dbfs"] is None
    assert "digital silence" in (out / "README.md").read_text()
    for row in _rows(out, "interrupt"):
        x = _decode(row)
        onset, end = round(row["onset_s"] * SR), round(row["end_s"] * SR)
        assert not np.any(x[: SR // 4]) and not np.any(x[end + SR // 10 :])  # exact zeros around the speech
        assert np.max(np.abs(x[onset : onset + 5 * SR // 1000])) > 5e-3


def test_effort_gain_raises_only_the_interruption(tiny_bank, tmp_path):
    from dataclasses import replace

    from zbb.builder.levels import STIMULUS_V2, loudness

    bank, recipe = tiny_bank
    out = tmp_path / "loud"
    build_dataset(
        out, bank=bank, recipe=recipe, preset="tiny", progress=False, levels=replace(STIMULUS_V2, effort_db=6.0)
    )
    for condition, expected in (("no_interrupt", -23.0), ("interrupt", -17.0)):
        for row in _rows(out, condition)[:2]:
            x = _decode(row)
            claim = x[round(row["onset_s"] * SR) : round(row["end_s"] * SR)]
            assert abs(loudness(claim, SR) - expected) < 0.6 or np.max(np.abs(claim)) > 0.85, (condition, row["id"])
            assert np.max(np.abs(x)) < 10 ** (-1 / 20)
    card = (out / "README.md").read_text()
    assert "--effort-db 6" in card and "+6 dB on the claim and filler" in card


def test_conditions_share_the_claim_and_the_interruption(tiny_dataset):
    rows = {c: {r["id"]: r for r in _rows(tiny_dataset, c)} for c in CONDITIONS}
    for id_, plain in rows["interrupt"].items():
        buffered, quiet = rows["interrupt_buffered"][id_], rows["no_interrupt"][id_]
        assert plain["text"] == buffered["text"] == quiet["text"] and plain["voice"] == quiet["voice"]
        claim = _decode(plain)[round(plain["onset_s"] * SR) : round(plain["end_s"] * SR)]
        for other in (buffered, quiet):  # the very same claim samples are spliced into every condition
            x = _decode(other)
            assert np.array_equal(x[round(other["onset_s"] * SR) : round(other["end_s"] * SR)], claim)
        # the buffered interruption starts where the plain one does; the filler delays the claim
        assert buffered["buffer_onset_s"] == plain["onset_s"] and buffered["onset_s"] > plain["onset_s"]
        assert plain["buffer_onset_s"] is None and plain["buffer_text"] == ""


def test_two_builds_are_byte_identical(tiny_dataset, tiny_bank, tmp_path):
    bank, recipe = tiny_bank
    report = build_dataset(tmp_path / "again", bank=bank, recipe=recipe, preset="tiny", progress=False)
    for shard in sorted(tiny_dataset.glob("*/test-*.parquet")):
        assert (tmp_path / "again" / shard.relative_to(tiny_dataset)).read_bytes() == shard.read_bytes()
    assert report.fingerprint == json.loads((tiny_dataset / "zbb_build.json").read_text())["fingerprint"]
    assert not (tmp_path / "again.partial").exists()


@pytest.mark.slow
def test_a_two_process_build_gives_the_same_bytes(tiny_dataset, tiny_bank, tmp_path):
    """hibari seeds each utterance and runs one onnxruntime thread: which process renders what cannot matter."""
    bank, recipe = tiny_bank
    build_dataset(tmp_path / "two", bank=bank, recipe=recipe, preset="tiny", num_proc=2, progress=False)
    shards = sorted(tiny_dataset.glob("*/test-*.parquet"))
    assert shards
    for shard in shards:
        assert (tmp_path / "two" / shard.relative_to(tiny_dataset)).read_bytes() == shard.read_bytes()


# ----------------------------------------------------------------------------------------- resume, retry
class CountingEngine:
    """The real default (hibari) engine, counting calls per text, optionally crashing after `crash_after` claims."""

    name = "hibari"

    def __init__(self, claims: set[str], crash_after: int | None = None, fail_first: int = 0):
        self.inner, self.claims, self.crash_after, self.fail_first = HibariEngine(), claims, crash_after, fail_first
        self.calls: dict[tuple[str, str], int] = {}

    def voices(self):
        return self.inner.voices()

    def default_voices(self):
        return self.inner.default_voices()

    def describe(self):
        return self.inner.describe()

    def synthesize(self, text, voice):
        if self.fail_first > 0:
            self.fail_first -= 1
            raise RuntimeError("server hiccup")
        done = sum(n for (t, _), n in self.calls.items() if t in self.claims)
        if self.crash_after is not None and text in self.claims and done >= self.crash_after:
            raise RuntimeError("simulated crash")
        self.calls[text, voice] = self.calls.get((text, voice), 0) + 1
        return self.inner.synthesize(text, voice)


def test_a_crashed_build_resumes_without_rendering_anything_twice(tiny_dataset, tiny_bank, bank_recipe, tmp_path):
    bank, recipe = tiny_bank
    plan = plan_build(*bank_recipe, seed=0, voices=HibariEngine().default_voices(), preset="tiny")
    claims = {ip.claim for ip in plan.items}
    out = tmp_path / "zbb"
    first = CountingEngine(claims, crash_after=2)
    with pytest.raises(EngineError, match=rf"item {plan.items[2].item.id}: .*simulated crash"):
        build_dataset(
            out,
            bank=bank,
            recipe=recipe,
            preset="tiny",
            engine=first,
            progress=False,
            retry=RetryPolicy(attempts=1, backoff_s=0),
        )
    assert not out.exists()  # nothing half-written in place
    second = CountingEngine(claims)
    report = build_dataset(out, bank=bank, recipe=recipe, preset="tiny", engine=second, progress=False)
    assert (report.items_resumed, report.items_rendered) == (2, len(plan.items) - 2)
    assert len(second.calls) > 0
    for key in set(first.calls) | set(second.calls):  # every utterance synthesised once
        assert first.calls.get(key, 0) + second.calls.get(key, 0) == 1, key
    for shard in sorted(tiny_dataset.glob("*/test-*.parquet")):
        assert (out / shard.relative_to(tiny_dataset)).read_bytes() == shard.read_bytes()


def test_engine_failures_are_retried_then_reported_with_the_item(tiny_bank, tmp_path):
    bank, recipe = tiny_bank
    flaky = CountingEngine(set(), fail_first=2)
    build_dataset(
        tmp_path / "ok",
        bank=bank,
        recipe=recipe,
        preset="tiny",
        engine=flaky,
        progress=False,
        retry=RetryPolicy(attempts=3, backoff_s=0),
    )
    assert (tmp_path / "ok" / "zbb_build.json").is_file()
    broken = CountingEngine(set(), fail_first=10**6)
    with pytest.raises(EngineError, match=r"item [\w-]+: TTS engine 'hibari' failed 3 time\(s\).*server hiccup"):
        build_dataset(
            tmp_path / "bad",
            bank=bank,
            recipe=recipe,
            preset="tiny",
            engine=broken,
            progress=False,
            retry=RetryPolicy(attempts=3, backoff_s=0),
        )


def test_unknown_engine_lists_the_known_ones(tiny_bank, tmp_path):
    bank, recipe = tiny_bank
    with pytest.raises(UnknownNameError, match=r"'espeak'.*Available: coqui, espeak, hibari, openai"):
        build_dataset(tmp_path / "x", bank=bank, recipe=recipe, preset="tiny", engine="espeek", progress=False)


# ------------------------------------------------------------------------------------------ bad input, output
def test_bad_bank_is_reported_and_the_existing_dataset_is_untouched(tiny_dataset, tmp_path):
    import shutil

    out = tmp_path / "zbb"
    shutil.copytree(tiny_dataset, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bank.csv"
    bad.write_text("subject,description,label\ngiraffe,has a long neck,maybe\n", encoding="utf-8")
    with pytest.raises(BankError, match=r"bank.csv:2: label must be one of .*got 'maybe'"):
        build_dataset(out, bank=bad, preset="tiny", progress=False)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "zbb.partial").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_dataset(tiny_bank, tmp_path):
    bank, recipe = tiny_bank
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="not a ZBB dataset folder"):
        build_dataset(tmp_path / "home", bank=bank, recipe=recipe, preset="tiny", progress=False)
    assert (tmp_path / "home" / "notes.txt").read_text() == "keep me"


def test_fdb_export_layout(tiny_dataset, tmp_path):
    from zbb.cli import main

    assert (
        main(
            [
                "export",
                "--format",
                "fdb",
                "--dataset",
                str(tiny_dataset),
                str(tmp_path / "fdb"),
                "--sample-rate",
                "16000",
                "--quiet",
            ]
        )
        == 0
    )
    for condition in CONDITIONS:
        rows = _rows(tiny_dataset, condition)
        assert sorted(p.name for p in (tmp_path / "fdb" / condition).iterdir()) == sorted(r["id"] for r in rows)
        for row in rows:
            folder = tmp_path / "fdb" / condition / row["id"]
            info = sf.info(str(folder / "input.wav"))
            assert info.samplerate == 16000 and info.channels == 1
            assert abs(info.frames - row["duration_s"] * 16000) <= 1
            [entry] = json.loads((folder / "interrupt.json").read_text())
            assert entry["context"] == row["context_text"] and entry["interrupt"].endswith(row["text"])
            start = row["buffer_onset_s"] if condition == "interrupt_buffered" else row["onset_s"]
            assert entry["timestamp"] == [start, row["end_s"]]


def test_push_to_hub_creates_the_repo_and_uploads_the_folder(tiny_dataset, tmp_path, monkeypatch):
    import shutil

    import huggingface_hub

    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw))

        def upload_folder(self, **kw):
            calls.append(("upload_folder", kw))
            assert "my-org/zbb" in Path(kw["folder_path"], "README.md").read_text()
            return type("Commit", (), {"commit_url": "https://huggingface.co/datasets/my-org/zbb/commit/abc"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    from zbb.builder import push_to_hub

    folder = tmp_path / "zbb"
    shutil.copytree(tiny_dataset, folder)
    url = push_to_hub(folder, "my-org/zbb", token="hf_x")
    assert url.endswith("/commit/abc")
    assert calls[1] == ("create_repo", "my-org/zbb", {"repo_type": "dataset", "exist_ok": True, "private": False})
    upload = calls[2][1]
    assert upload["repo_type"] == "dataset" and upload["folder_path"] == str(folder)
    with pytest.raises(Exception, match="ORG/NAME"):
        push_to_hub(folder, "no-slash")


def test_cli_build_tiny(tiny_bank, tmp_path, capsys):
    from zbb.cli import main

    bank, recipe = tiny_bank
    args = [
        "build",
        "--preset",
        "tiny",
        "--out",
        str(tmp_path / "cli"),
        "--quiet",
        "--sample-rate",
        "16000",
        "--conditions",
        "interrupt",
        "--voices",
        "us-male,gb-female",
        "--engine",
        "espeak",
    ]
    args += [a for pair in (("--bank", bank), ("--recipe", recipe)) if pair[1] for a in pair]
    assert main(args) == 0
    assert "fingerprint" in capsys.readouterr().out
    rows = _rows(tmp_path / "cli", "interrupt")
    assert {r["voice"] for r in rows} == {"us-male", "gb-female"}
    assert sf.info(io.BytesIO(rows[0]["audio"]["bytes"])).samplerate == 16000
    assert not (tmp_path / "cli" / "no_interrupt").exists()


def test_work_chunks_have_the_shard_schema_without_importing_datasets():
    from zbb.builder.writer import arrow_schema, chunk_schema

    assert chunk_schema(SR).equals(arrow_schema(SR).remove_metadata(), check_metadata=True)


@pytest.mark.parametrize("sample_rate", [16000, 24000])
def test_hand_written_features_match_datasets(sample_rate):
    """The builder writes the Hugging Face features without importing `datasets`: they must be what it makes."""
    from datasets import Audio, Features, List, Value

    from zbb.builder.writer import COLUMN_ORDER, arrow_schema, features_yaml

    string, f64 = Value("string"), Value("float64")
    types = {
        "id": string,
        "subject": string,
        "description": string,
        "label": Value("bool"),
        "category": string,
        "text": string,
        "condition": string,
        "audio": Audio(sampling_rate=sample_rate),
        "onset_s": f64,
        "subject_end_s": f64,
        "end_s": f64,
        "duration_s": f64,
        "context_text": string,
        "buffer_text": string,
        "buffer_onset_s": f64,
        "voice": string,
        "tts_engine": string,
        "claim_words": List({"word": string, "start": f64, "end": f64}),
        "aliases": List(string),
    }
    features = Features({name: types[name] for name in COLUMN_ORDER})
    assert arrow_schema(sample_rate).equals(features.arrow_schema, check_metadata=True)
    assert arrow_schema(sample_rate).metadata == features.arrow_schema.metadata
    assert features_yaml(sample_rate) == features._to_yaml_list()
    assert Features.from_arrow_schema(arrow_schema(sample_rate)) == features


def test_shard_writer_gives_the_bytes_of_whole_shard_writes(tiny_dataset, tmp_path, monkeypatch):
    """Appending row group by row group (as items finish) writes the same files as one `write_table` per shard,
    including the row-group and shard boundaries."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.builder import writer

    monkeypatch.setattr(writer, "ROWS_PER_GROUP", 2)
    monkeypatch.setattr(writer, "ROWS_PER_SHARD", 4)
    tables = {
        c: pa.concat_tables([pq.read_table(p) for p in sorted((tiny_dataset / c).glob("test-*.parquet"))])
        for c in CONDITIONS
    }
    n = tables[CONDITIONS[0]].num_rows
    chunks = []
    for i in range(n):  # work chunks: one row per condition, in CONDITIONS order
        chunk = pa.concat_tables([tables[c].slice(i, 1) for c in CONDITIONS]).cast(writer.chunk_schema(SR))
        chunks.append(tmp_path / f"{i}.arrow")
        with pa.OSFile(str(chunks[-1]), "wb") as sink, pa.ipc.new_file(sink, chunk.schema) as w:
            w.write_table(chunk)
    stats = writer.write_shards(tmp_path / "out", chunks, CONDITIONS, SR)
    names = writer._shard_names(n)
    assert len(names) == 2 and all(s["rows"] == n and s["shards"] == 2 for s in stats.values())
    for c in CONDITIONS:
        for index, name in enumerate(names):
            whole = tables[c].slice(index * 4, 4).cast(writer.arrow_schema(SR))
            expected = tmp_path / "expected.parquet"
            pq.write_table(
                whole,
                expected,
                row_group_size=2,
                compression=writer._compression(),
                use_dictionary=[k for k in writer.COLUMN_ORDER if k not in ("audio", "claim_words")],
                write_statistics=["id", "condition"],
            )
            assert (tmp_path / "out" / c / name).read_bytes() == expected.read_bytes(), (c, name)
            assert pq.ParquetFile(tmp_path / "out" / c / name).metadata.num_row_groups == -(-whole.num_rows // 2)


def test_chunk_table_equals_pyarrows_conversion_without_importing_pandas(tiny_dataset):
    """Workers build item chunks from buffers (pyarrow's Python conversion imports pandas in every worker): the
    table must be the one `pa.Table.from_pylist` gives, nulls, empty lists and non-ASCII text included."""
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.builder.writer import chunk_schema, chunk_table

    rows = pq.read_table(sorted((tiny_dataset / "interrupt_buffered").glob("test-*.parquet"))[0]).to_pylist()
    rows += [
        dict(rows[0], id="é-ü", buffer_onset_s=None, claim_words=[], buffer_text="", audio={"bytes": b"", "path": "x"})
    ]
    table = chunk_table(rows, SR)
    table.validate(full=True)
    assert table.equals(pa.Table.from_pylist(rows, schema=chunk_schema(SR)))
    assert table.column("buffer_onset_s").null_count == 1

    script = (
        "import sys\n"
        "from zbb.builder.writer import chunk_table\n"
        "row = dict(id='a', subject='S', description='d', label=True, category='c', text='t', condition='interrupt',"
        " audio={'bytes': b'1', 'path': 'a.flac'}, onset_s=1.0, subject_end_s=1.5, end_s=2.0, duration_s=3.0,"
        " context_text='c', buffer_text='', buffer_onset_s=None, voice='v', tts_engine='e',"
        " claim_words=[{'word': 'S', 'start': 1.0, 'end': 1.5}], aliases=['s'])\n"
        "chunk_table([row], 24000)\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the process's memory maps (Linux)")
def test_shard_writer_releases_each_item_chunk_once_written(tiny_dataset, tmp_path, monkeypatch):
    """Build memory must not grow with the bank: once a row group is written, no memory map of its item chunks
    may stay alive (the shard's duration sum used to keep every one of them mapped)."""
    import gc

    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.builder import writer

    monkeypatch.setattr(writer, "ROWS_PER_GROUP", 2)
    monkeypatch.setattr(writer, "ROWS_PER_SHARD", 1000)
    tables = {c: pq.read_table(sorted((tiny_dataset / c).glob("test-*.parquet"))[0]) for c in CONDITIONS}
    paths = []
    for i in range(tables[CONDITIONS[0]].num_rows):
        chunk = pa.concat_tables([tables[c].slice(i, 1) for c in CONDITIONS]).cast(writer.chunk_schema(SR))
        paths.append(tmp_path / f"chunk-{i}.arrow")
        with pa.OSFile(str(paths[-1]), "wb") as sink, pa.ipc.new_file(sink, chunk.schema) as w:
            w.write_table(chunk)
    shard_writer = writer.ShardWriter(tmp_path / "out", CONDITIONS, len(paths), SR)
    for path in paths[:4]:  # two full row groups written, the shard still open
        shard_writer.add(path)
    gc.collect()
    mapped = Path("/proc/self/maps").read_text()
    assert not [p.name for p in paths[:4] if str(p) in mapped]
    for path in paths[4:]:
        shard_writer.add(path)
    stats = shard_writer.close()
    for c in CONDITIONS:
        assert stats[c]["audio_seconds"] == pytest.approx(sum(tables[c].column("duration_s").to_pylist()), abs=1e-3)


@pytest.mark.filterwarnings("ignore::zbb.bank.MishearableSubjectWarning")  # "owl" is short on purpose here
def test_a_banks_aliases_reach_the_dataset_rows(tiny_bank, tmp_path):
    """The bank's aliases column is a dataset column (a list of strings, empty where a subject has none)."""
    from zbb.dataset import open_dataset

    bank = tmp_path / "bank.csv"
    bank.write_text(
        "subject,description,label,aliases\n"
        "doughnut,has a hole in the middle,true,donut|dough nut\ndoughnut,is a kind of fish,false,donut|dough nut\n"
        "owl,hunts at night,true,\nowl,sings opera,false,\n",
        encoding="utf-8",
    )
    build_dataset(tmp_path / "out", bank=bank, recipe=tiny_bank[1], preset="tiny", progress=False)
    ds = open_dataset(tmp_path / "out")
    for condition in ds.conditions():
        got = {c.id: c.aliases for c in ds.clips(condition)}
        assert got == {
            "doughnut-t": ("donut", "dough nut"),
            "doughnut-f": ("donut", "dough nut"),
            "owl-t": (),
            "owl-f": (),
        }
