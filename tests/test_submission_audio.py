"""Audio submissions (audio/<condition>/<id>.wav and FDB run folders): espeak responses placed after the claim's
onset are transcribed end to end with pocketsphinx; bad audio is refused naming the file and row."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf
from test_submission_helpers import small_dataset, write_submission

from zbb.audio import encode, resample
from zbb.errors import SubmissionError
from zbb.submission import check_submission, load_submission

OUT_SR = 16_000  # the model's output rate differs from the dataset's 24 kHz on purpose
META = {"model": "Echo"}
ANSWER = "Yes. The submarine cannot fly in the clouds."
HEARD = {"yes", "submarine", "cannot", "fly", "clouds", "the", "in"}


@pytest.fixture(scope="module")
def voice():
    from zbb.tts import TTS_ENGINES

    engine = TTS_ENGINES.get("espeak")()

    def say(text):
        syn = engine.synthesize(text, "us-female")
        return resample(syn.samples, syn.sample_rate, OUT_SR)

    return say


def output_channel(voice, *, talk_until_s: float | None, answer_at_s: float, duration_s: float = 6.0):
    """The model's output: optionally talking from 0 s until `talk_until_s`, then ANSWER from `answer_at_s`."""
    out = np.zeros(int(duration_s * OUT_SR), dtype=np.float32)
    if talk_until_s is not None:
        monologue = voice("And then we walked along the beach for hours and hours.")
        n = int(talk_until_s * OUT_SR)
        out[:n] = monologue[:n]
    answer = voice(ANSWER)
    a = int(answer_at_s * OUT_SR)
    out[a : a + len(answer)] = answer[: len(out) - a]
    return out


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("ds"), ids=("a1", "a2"), conditions=("interrupt",))


def wav(samples, sr=OUT_SR):
    return encode(samples, sr, "WAV")


def test_audio_submission_is_transcribed_after_the_onset(tmp_path, ds, voice):
    # a1: the model talks over the claim's onset (2.0 s) until 2.3 s and answers at 3.8 s; a2: listens, answers at 3.6 s
    files = {
        "meta.json": META,
        "audio/interrupt/a1.wav": wav(output_channel(voice, talk_until_s=2.3, answer_at_s=3.8)),
        "audio/interrupt/a2.flac": encode(output_channel(voice, talk_until_s=None, answer_at_s=3.6), OUT_SR),
    }
    sub = load_submission(write_submission(tmp_path / "sub", files), ds, workers=2)
    assert sub.layout == "audio" and sub.asr.startswith("pocketsphinx") and sub.warnings == []
    assert sub.asr_grade == "indicative"  # pocketsphinx is not fit to be a reference
    for key in (("a1", "interrupt"), ("a2", "interrupt")):
        r = sub.responses[key]
        assert r.source == "asr:pocketsphinx" and r.words
        assert all(w.start >= 2.0 for w in r.words), r.words  # only the window from the onset is decoded
        assert HEARD & {w.word for w in r.words}, r.response  # pocketsphinx is weak: some words suffice
    t1, t2 = sub.timings[("a1", "interrupt")], sub.timings[("a2", "interrupt")]
    assert t1.talking_at_onset is True and t1.claim_stop_latency_s == pytest.approx(0.3, abs=0.05)
    assert t2.talking_at_onset is False and t2.claim_stop_latency_s == 0.0
    # FDB: the overlap of the claim (from 2.0 s) and the model's talk (to 2.3 s), both VAD-padded by 30 ms
    assert t1.stop_latency_s == pytest.approx(0.36, abs=0.05) and t2.stop_latency_s is None
    assert t2.takeover is True and t2.latency_s == pytest.approx(0.1, abs=0.15)  # answer 3.6 s, claim end 3.5 s
    assert t1.takeover is True and t1.latency_s == pytest.approx(0.3, abs=0.15)  # answer 3.8 s


def test_answer_words_land_after_the_answer_start(tmp_path, ds, voice):
    files = {
        "meta.json": META,
        "audio/interrupt/a1.wav": wav(output_channel(voice, talk_until_s=None, answer_at_s=3.0)),
        "audio/interrupt/a2.wav": wav(output_channel(voice, talk_until_s=None, answer_at_s=4.0)),
    }
    sub = load_submission(write_submission(tmp_path / "sub", files), ds, workers=1)
    first = {k[0]: r.words[0].start for k, r in sub.responses.items()}
    assert first["a1"] == pytest.approx(3.0, abs=0.2) and first["a2"] == pytest.approx(4.0, abs=0.2)


def test_wrong_length_warns_then_pads_or_trims(tmp_path, ds, voice):
    short = output_channel(voice, talk_until_s=None, answer_at_s=3.0, duration_s=5.5)
    long = np.concatenate([output_channel(voice, talk_until_s=None, answer_at_s=3.0), np.zeros(OUT_SR, np.float32)])
    files = {"meta.json": META, "audio/interrupt/a1.wav": wav(short), "audio/interrupt/a2.wav": wav(long)}
    check = check_submission(write_submission(tmp_path / "sub", files), ds)
    assert check.ok
    messages = {w.where.rsplit("/", 1)[-1]: w.message for w in check.warnings}
    assert "5.500 s but the user audio is 6.000 s; padded with silence" in messages["a1.wav [a1]"]
    assert "7.000 s but the user audio is 6.000 s; trimmed" in messages["a2.wav [a2]"]
    # a few milliseconds off (a frame-rounded model output) is silently fixed
    near = output_channel(voice, talk_until_s=None, answer_at_s=3.0, duration_s=6.05)
    files2 = {**files, "audio/interrupt/a1.wav": wav(near), "audio/interrupt/a2.wav": wav(near)}
    assert check_submission(write_submission(tmp_path / "sub2", files2), ds).warnings == []


def _float_wav(samples):
    buf = io.BytesIO()
    sf.write(buf, samples, OUT_SR, format="WAV", subtype="FLOAT")
    return buf.getvalue()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"RIFF....WAVEnot really", "unreadable audio"),
        (_float_wav(np.zeros(0, np.float32)), "audio is empty (0 samples)"),
        (_float_wav(np.full(6 * OUT_SR, np.nan, np.float32)), "NaN or infinite"),
    ],
    ids=["unreadable", "empty", "nan"],
)
def test_bad_audio_is_refused_naming_file_and_row(tmp_path, ds, voice, content, message):
    good = wav(output_channel(voice, talk_until_s=None, answer_at_s=3.0))
    path = write_submission(
        tmp_path / "sub", {"meta.json": META, "audio/interrupt/a1.wav": good, "audio/interrupt/a2.wav": content}
    )
    with pytest.raises(SubmissionError) as info:
        load_submission(path, ds)
    (problem,) = info.value.problems
    assert problem.where.endswith("audio/interrupt/a2.wav [a2]") and message in problem.message, problem


@pytest.mark.parametrize("layout", ["audio", "fdb"])
def test_exact_digital_silence_is_an_ordinary_row(tmp_path, ds, voice, layout):
    # FDB's own inference scripts write zeros for silence: the row is scored (said nothing, no take-over)
    good = wav(output_channel(voice, talk_until_s=None, answer_at_s=3.0))
    silent = _float_wav(np.zeros(6 * OUT_SR, np.float32))
    paths = ("audio/interrupt/a1.wav", "audio/interrupt/a2.wav")
    if layout == "fdb":
        paths = ("interrupt/a1/output.wav", "interrupt/a2/output.wav")
    sub = load_submission(write_submission(tmp_path / "sub", {"meta.json": META, paths[0]: good, paths[1]: silent}), ds)
    assert sub.responses[("a2", "interrupt")].response == ""
    t = sub.timings[("a2", "interrupt")]
    assert t.takeover is False and t.latency_s is None and t.stop_latency_s is None
    assert t.talking_at_onset is False and t.claim_stop_latency_s == 0.0
    assert sub.timings[("a1", "interrupt")].takeover is True


def test_duplicate_audio_for_one_row(tmp_path, ds, voice):
    good = wav(output_channel(voice, talk_until_s=None, answer_at_s=3.0))
    path = write_submission(
        tmp_path / "sub",
        {
            "meta.json": META,
            "audio/interrupt/a1.wav": good,
            "audio/interrupt/a1.flac": good,
            "audio/interrupt/a2.wav": good,
        },
    )
    problems = check_submission(path, ds).problems
    assert len(problems) == 1 and "duplicate row ('a1', 'interrupt')" in problems[0].message


# ---------------------------------------------------------------------------------------- FDB run folders
def test_fdb_run_folders_with_condition_level_and_output_json(tmp_path, ds, voice):
    out = wav(output_channel(voice, talk_until_s=None, answer_at_s=3.8))
    fdb_json = {
        "text": "well yes a submarine cannot fly",
        "chunks": [
            {"text": " well", "timestamp": [1.0, 1.3]},
            {"text": " yes", "timestamp": [3.8, 4.1]},
            {"text": " a", "timestamp": [4.2, 4.3]},
            {"text": " submarine", "timestamp": [4.3, 4.9]},
            {"text": " cannot", "timestamp": [5.0, 5.4]},
            {"text": " fly", "timestamp": [5.4, None]},
        ],
    }
    files = {
        "meta.json": META,
        "interrupt/a1/output.wav": out,
        "interrupt/a1/output.json": fdb_json,
        "interrupt/a1/input.wav": out,
        "interrupt/a2/output.wav": out,
    }
    sub = load_submission(write_submission(tmp_path / "sub", files), ds, workers=1)
    assert sub.layout == "fdb" and sub.warnings == []
    a1 = sub.responses[("a1", "interrupt")]
    # words before the claim's onset (2.0 s) are not part of the response; a null end becomes the start
    assert a1.source == "fdb-json" and a1.response == "yes a submarine cannot fly" and a1.words[-1].end == 5.4
    assert sub.timings[("a1", "interrupt")].latency_s == pytest.approx(0.3)
    assert sub.responses[("a2", "interrupt")].source == "asr:pocketsphinx"
    assert "fdb output.json" in sub.asr and "pocketsphinx" in sub.asr


def test_fdb_folders_without_condition_need_one(tmp_path, voice, tmp_path_factory):
    two = small_dataset(tmp_path / "ds2", ids=("a1",), conditions=("no_interrupt", "interrupt"))
    out = wav(output_channel(voice, talk_until_s=None, answer_at_s=3.0))
    path = write_submission(tmp_path / "sub", {"meta.json": META, "a1/output.wav": out})
    (problem,) = check_submission(path, two).problems
    assert "without a condition level: pass the condition (--condition no_interrupt|interrupt)" in problem.message
    assert check_submission(path, two, condition="interrupt", allow_partial=True).ok
    # a dataset with a single condition needs no flag
    one = small_dataset(tmp_path / "ds1", ids=("a1",), conditions=("interrupt",))
    assert check_submission(path, one).rows == {"interrupt": 1}


def test_fdb_malformed_output_json(tmp_path, ds, voice):
    out = wav(output_channel(voice, talk_until_s=None, answer_at_s=3.0))
    files = {
        "meta.json": META,
        "interrupt/a1/output.wav": out,
        "interrupt/a1/output.json": {"chunks": []},
        "interrupt/a2/output.wav": out,
        "interrupt/a2/output.json": '{"text": "x",',
    }
    problems = check_submission(write_submission(tmp_path / "sub", files), ds).problems
    text = "\n".join(map(str, problems))
    assert "interrupt/a1/output.json: FDB output.json: text: Field required" in text
    assert "interrupt/a2/output.json:1: malformed JSON" in text


def test_validate_cli_prints_ok_or_every_problem(tmp_path, ds, voice, capsys):
    from zbb.cli import main

    out = wav(output_channel(voice, talk_until_s=None, answer_at_s=3.0))
    good = write_submission(
        tmp_path / "good", {"meta.json": META, "audio/interrupt/a1.wav": out, "audio/interrupt/a2.wav": out}
    )
    assert main(["validate", str(good), "--dataset", str(ds.root)]) == 0
    assert capsys.readouterr().out.strip() == "OK: 2 rows in conditions interrupt (2) [audio]"
    bad = write_submission(
        tmp_path / "bad", {"meta.json": json.dumps({"model": "x", "seed": 1}), "audio/interrupt/a1.wav": out}
    )
    assert main(["validate", str(bad), "--dataset", str(ds.root)]) == 1
    printed = capsys.readouterr().out
    assert "2 problems" in printed and "unknown field 'seed'" in printed and "1 of 2 rows missing (a2)" in printed
