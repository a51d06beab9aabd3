"""End to end on the real tiny build (espeak user audio, real onsets): transcripts and output audio made for every
row load, and a model's answers placed after each claim are found there by pocketsphinx."""

from __future__ import annotations

import numpy as np
import pytest
from test_submission_helpers import write_submission

from zbb.audio import encode, resample, samples_at
from zbb.dataset import open_dataset
from zbb.submission import check_submission, load_submission


@pytest.fixture(scope="module")
def ds(tiny_dataset):
    return open_dataset(tiny_dataset)


def test_transcripts_for_every_row_validate(tmp_path, ds):
    rows = [
        {"id": c.id, "condition": cond, "response": f"No, the {c.subject} does not."}
        for cond in ds.conditions()
        for c in ds.clips(cond)
    ]
    path = write_submission(
        tmp_path / "sub", {"meta.json": {"model": "Parrot", "dataset": ds.fingerprint}, "responses.jsonl": rows}
    )
    check = check_submission(path, ds)
    assert check.ok and check.warnings == []
    assert check.rows == {cond: len(ds.clips(cond)) for cond in ds.conditions()}


def test_output_audio_for_interrupt_rows_is_transcribed_after_each_onset(tmp_path, ds):
    from zbb.tts import TTS_ENGINES

    tts = TTS_ENGINES.get("espeak")()
    sr = ds.sample_rate
    files: dict = {"meta.json": {"model": "Parrot"}}
    monologue = tts.synthesize(
        "So the story goes on and on, and then there was more of it, and more again.", "us-female"
    )
    talk = resample(monologue.samples, monologue.sample_rate, sr)
    answers = {}
    for clip in ds.clips("interrupt"):
        n = samples_at(clip.duration_s, sr)
        out = np.zeros(n, dtype=np.float32)
        keep = min(samples_at(clip.onset_s + 0.3, sr), len(talk), n)  # talks 0.3 s over the claim's onset
        out[:keep] = talk[:keep]
        syn = tts.synthesize(f"Yes, the {clip.subject} can do that.", "us-female")
        answer = resample(syn.samples, syn.sample_rate, sr)
        at = min(samples_at(clip.end_s + 0.4, sr), n - 1)
        out[at : at + len(answer)] = answer[: n - at]
        answers[clip.id] = at / sr
        files[f"audio/interrupt/{clip.id}.wav"] = encode(out, sr, "WAV")
    sub = load_submission(write_submission(tmp_path / "sub", files), ds, workers=2)
    assert set(sub.responses) == {(c.id, "interrupt") for c in ds.clips("interrupt")}
    heard = set()
    for clip in ds.clips("interrupt"):
        r = sub.responses[(clip.id, "interrupt")]
        assert all(w.start >= clip.onset_s for w in (r.words or ())), (clip.id, r.words)
        heard |= {w.word for w in r.words or ()}
        t = sub.timings[(clip.id, "interrupt")]
        if clip.onset_s >= 0.3 and len(talk) > samples_at(clip.onset_s, sr):
            assert t.talking_at_onset is True and t.stop_latency_s == pytest.approx(0.3, abs=0.05)
    assert heard & {"yes", "the", "can", "do", "that"}, heard


def test_fdb_export_with_model_outputs_beside_it_loads_back(tmp_path, ds):
    """`zbb export` writes <condition>/<id>/input.wav; a model run adds output.wav (16 kHz here) beside each."""
    from zbb.builder.export import export_fdb
    from zbb.io import atomic_write_json

    out_root = tmp_path / "fdb"
    export_fdb(ds.root, out_root, sample_rate=16_000, conditions=["interrupt"], progress=False)
    atomic_write_json(out_root / "meta.json", {"model": "FDB-run"})
    rng = np.random.default_rng(0)
    for clip in ds.clips("interrupt"):
        n = samples_at(clip.duration_s, 16_000)
        out = np.zeros(n, np.float32)
        at = samples_at(clip.end_s + 0.2, 16_000)
        out[at : at + 16_000] = 0.2 * rng.standard_normal(min(16_000, n - at)).astype(np.float32)  # 1 s of "speech"
        (out_root / "interrupt" / clip.id / "output.wav").write_bytes(encode(out, 16_000, "WAV"))
    check = check_submission(out_root, ds)
    assert check.ok and check.layout == "fdb" and check.rows == {"interrupt": len(ds.clips("interrupt"))}
    assert check.warnings == []
