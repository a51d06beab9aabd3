"""Full-Duplex-Bench's timing, side by side: a zbb export gets synthesised model outputs (speech-like bursts at known
times, an all-zero output, a model still talking past the interruption's end, a backchannel, a buffered row), zbb
scores the folder, and an independent implementation written here from FDB's definitions must agree per item.

The reference below follows FDB's scripts step by step (v1_v1.5: `get_transcript/asr.py` crops the output at
`timestamp[1]`; `evaluation/eval_user_interruption.py` TOR and latency; `evaluation/get_timing.py` stop latency),
taking as VAD segments the bursts' true spans widened by Silero's 30 ms pad: on clean bursts in digital silence that
is what both Silero and zbb's energy detector find.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_submission_helpers import make_clip, write_dataset

from zbb.audio import encode, read_audio
from zbb.builder.export import export_fdb
from zbb.dataset import open_dataset
from zbb.fdb_timing import VAD_PAD_S, cropped_words, fdb_latency, fdb_stop_latency, overlaps
from zbb.records import WordTiming
from zbb.score.scorer import score_submission

SR = 24_000
DURATION_S = 6.0
# The user's context utterance: more than FDB's 0.6 s user merge gap before the interruption (ZBB's plan keeps >= 4 s),
# so FDB's VAD of input.wav finds the interruption as a segment of its own, starting at timestamp[0].
CONTEXT = (0.2, 0.8)


def speech_like(duration_s: float, spans, seed: int = 0) -> np.ndarray:
    """Harmonics of a 140 Hz voice with a 4 Hz syllable envelope over each (start_s, end_s); digital zero elsewhere."""
    out = np.zeros(int(round(duration_s * SR)), dtype=np.float32)
    rng = np.random.default_rng(seed)
    for s, e in spans:
        a, b = int(round(s * SR)), int(round(e * SR))
        t = np.arange(b - a) / SR
        voice = sum(np.sin(2 * np.pi * 140 * k * t + rng.uniform(0, 6)) / k for k in range(1, 6))
        envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
        out[a:b] = (0.15 * envelope * voice).astype(np.float32)
    return out


# ------------------------------------------------------------------ FDB, from its definitions (test-side, independent)
PAD, USER_GAP, MODEL_GAP = 0.03, 0.6, 0.5


def reference_tor_latency(chunks: list[tuple[str, float, float]], end: float) -> tuple[int, float | None]:
    """eval_user_interruption.py on an output.json whose chunks are the words after `end` (asr.py cropped there)."""
    if not chunks:
        return 0, None
    first_start, last_end = chunks[0][1], chunks[-1][2]
    if last_end - first_start < 1 and len(chunks) <= 3:
        return 0, None
    return 1, max(0.0, first_start - end)


def reference_vad(spans, gap: float) -> list[tuple[float, float]]:
    padded = sorted((max(0.0, s - PAD), min(DURATION_S, e + PAD)) for s, e in spans)
    out: list[list[float]] = []
    for s, e in padded:
        if out and s - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def reference_stop_latency(user_spans, model_spans, timestamp) -> float | None:
    """get_timing.py: overlaps of merged user and model segments (shortest per ms end), then the interruption's."""
    user, model = reference_vad(user_spans, USER_GAP), reference_vad(model_spans, MODEL_GAP)
    pairs = [(max(us, ms), min(ue, me)) for us, ue in user for ms, me in model if min(ue, me) > max(us, ms)]
    by_end: dict[int, tuple[float, float]] = {}
    for s, e in pairs:
        k = round(e * 1000)
        if k not in by_end or e - s < by_end[k][1] - by_end[k][0]:
            by_end[k] = (s, e)
    listed = sorted(((round(s, 3), round(e, 3)) for s, e in by_end.values()), key=lambda x: x[1])
    mine = [(s, e) for s, e in listed if e > timestamp[0] and s < timestamp[1]]  # the interruption's overlap
    return round(mine[0][1] - mine[0][0], 3) if mine else None


# ------------------------------------------------------------------------------------------------------- the rows
# id -> (condition, buffer_onset_s, model speech spans, words the model says (word, start, end))
ROWS = {
    "stops": (
        "interrupt",
        None,
        [(0.0, 2.6), (4.0, 5.5)],
        [("no", 4.0, 4.3), ("submarines", 4.4, 5.0), ("swim", 5.1, 5.5)],
    ),
    "silent": ("interrupt", None, [], []),
    "carries_on": (
        "interrupt",
        None,
        [(0.0, 4.5), (5.0, 5.8)],
        [("and", 3.0, 3.3), ("walked", 3.4, 3.9), ("along", 4.0, 4.5), ("no", 5.0, 5.3), ("never", 5.4, 5.8)],
    ),
    "backchannel": ("interrupt", None, [(4.0, 4.3)], [("yeah", 4.0, 4.3)]),
    "buffered": (
        "interrupt_buffered",
        1.6,
        [(0.0, 2.2), (3.8, 5.0)],
        [("right", 1.9, 2.2), ("it", 3.8, 4.0), ("cannot", 4.1, 4.5), ("fly", 4.6, 5.0)],
    ),
}
CLAIM = (2.0, 3.5)


def clip_of(item: str):
    condition, buffer_onset, _, _ = ROWS[item]
    clip = make_clip(item, condition, onset_s=CLAIM[0], end_s=CLAIM[1], duration_s=DURATION_S)
    if buffer_onset is not None:
        clip = type(clip).from_dict({**clip.to_dict(), "buffer_onset_s": buffer_onset, "buffer_text": "um so"})
    return clip


def user_audio(clip, sample_rate):
    start = clip.buffer_onset_s if clip.buffer_onset_s is not None else clip.onset_s
    return speech_like(clip.duration_s, [CONTEXT, (start, clip.end_s)], seed=1)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("fdb")
    folder = write_dataset(root / "ds", [clip_of(i) for i in ROWS], sample_rate=SR, audio=user_audio)
    ds = open_dataset(folder)
    export = root / "export"
    export_fdb(folder, export, progress=False)
    for item, (condition, _, spans, words) in ROWS.items():
        folder = export / condition / item
        (folder / "output.wav").write_bytes(encode(speech_like(DURATION_S, spans, seed=2), SR, "WAV"))
        # what FDB's asr.py writes: the words of the output cropped at timestamp[1], times from the file's start
        end = json.loads((folder / "interrupt.json").read_text())[0]["timestamp"][1]
        kept = cropped_words([WordTiming(*w) for w in words], end)
        chunks = [{"text": w.word, "timestamp": [w.start, w.end]} for w in kept]
        (folder / "output.json").write_text(json.dumps({"text": " ".join(w.word for w in kept), "chunks": chunks}))
    (export / "meta.json").write_text(json.dumps({"model": "Synth"}))
    result = score_submission(export, ds, judge="rule")
    return export, ds, result


@pytest.mark.parametrize("item", list(ROWS))
def test_zbb_agrees_with_fdbs_definitions_per_item(scored, item):
    export, _, result = scored
    condition, _, spans, _ = ROWS[item]
    folder = export / condition / item
    timestamp = json.loads((folder / "interrupt.json").read_text())[0]["timestamp"]
    chunks = [(c["text"], *c["timestamp"]) for c in json.loads((folder / "output.json").read_text())["chunks"]]
    tor, latency = reference_tor_latency(chunks, timestamp[1])
    start = ROWS[item][1] if ROWS[item][1] is not None else CLAIM[0]
    stop = reference_stop_latency([CONTEXT, (start, CLAIM[1])], spans, timestamp)
    (got,) = [s for s in result.items if s.id == item]
    assert (got.takeover, got.latency_s) == (bool(tor), None if latency is None else pytest.approx(latency, abs=1e-6))
    assert got.stop_latency_s == (None if stop is None else pytest.approx(stop, abs=0.011))  # 10 ms VAD frames


def test_the_cases_cover_what_they_claim(scored):
    items = {s.id: s for s in scored[2].items}
    assert items["carries_on"].latency_s == 0.0  # FDB: still talking at timestamp[1] -> latency 0
    assert items["carries_on"].answer_latency_s == pytest.approx(1.5)  # zbb: the answer 'no' at 5.0 s
    assert items["carries_on"].stop_latency_s == pytest.approx(1.56, abs=0.011)  # capped at the user's end (+pads)
    assert items["carries_on"].claim_stop_latency_s == pytest.approx(2.5)  # zbb: uncapped, from the claim onset
    assert items["buffered"].stop_latency_s == pytest.approx(0.66, abs=0.011)  # from the filler at 1.6 s
    assert items["buffered"].claim_stop_latency_s == pytest.approx(0.2)  # from the claim at 2.0 s
    assert items["silent"].takeover is False and items["silent"].stop_latency_s is None
    assert items["backchannel"].takeover is False and items["backchannel"].stop_latency_s is None


def test_averages_follow_fdb_and_state_their_n(scored):
    timing = scored[2].aggregates["interrupt"].timing
    assert timing.takeover.k == 2 and timing.takeover.n == 4  # stops, carries_on
    assert timing.latency_n == 2 and timing.latency_s == pytest.approx((0.5 + 0.0) / 2)
    assert timing.stop_latency_n == 2  # rows without an overlap get no entry (not 0)
    assert timing.stop_latency_s == pytest.approx((0.66 + 1.56) / 2, abs=0.011)
    assert timing.claim_stop_latency_n == 4 and timing.claim_stop_latency_s == pytest.approx((0.6 + 0 + 2.5 + 0) / 4)


def test_valid_interruptions_are_the_rows_talking_at_the_onset(scored):
    agg = scored[2].aggregates
    valid = agg["interrupt"].valid_interruptions
    assert valid.n == 2 and valid.correctness.n == 2 and valid.iwor.n == 2
    talking = [s for s in scored[2].items if s.condition == "interrupt" and s.talking_at_onset]
    assert {s.id for s in talking} == {"stops", "carries_on"}
    assert valid.correctness.k == sum(s.correct for s in talking) and valid.iwor.k == sum(
        s.subject_hit for s in talking
    )
    assert agg["interrupt_buffered"].valid_interruptions.n == 1


def test_export_writes_fdb_v15_files(scored):
    export, ds, _ = scored
    folder = export / "interrupt_buffered" / "buffered"
    meta = json.loads((folder / "metadata.json").read_text())
    interrupt = json.loads((folder / "interrupt.json").read_text())[0]
    assert meta == {
        "context_text": interrupt["context"],
        "current_turn_text": interrupt["interrupt"],
        "timestamps": interrupt["timestamp"],
    }
    assert meta["timestamps"] == [1.6, 3.5] and meta["current_turn_text"].startswith("um so ")
    user, sr = read_audio((folder / "input.wav").read_bytes())
    clean, clean_sr = read_audio((folder / "clean_input.wav").read_bytes())
    assert clean_sr == sr and len(clean) == len(user)
    a, b = int(1.6 * sr), int(3.5 * sr)
    assert not clean[a : b + 1].any()  # the interruption (filler and claim) is silenced
    np.testing.assert_allclose(clean[:a], user[:a], atol=1e-4)  # the context is untouched
    assert (folder / "clean_input.wav").exists() and "once per condition folder" in (export / "README.md").read_text()


# ---------------------------------------------------------------------------------------- properties of the pieces
def _disjoint(draw_points):
    points = sorted(set(draw_points))
    return [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]


@given(
    st.lists(st.floats(0, 20, allow_nan=False), max_size=12),
    st.lists(st.floats(0, 20, allow_nan=False), max_size=12),
)
def test_fdb_overlap_walk_finds_every_overlapping_pair(user_points, model_points):
    user, model = _disjoint(user_points), _disjoint(model_points)
    pairs = [(max(a, c), min(b, d)) for a, b in user for c, d in model if min(b, d) > max(a, c)]
    got = overlaps(user, model)
    assert len(got) <= len(pairs) and all(e >= s for s, e in got)
    assert {round(e, 3) for _, e in got} == {round(e, 3) for _, e in pairs}  # one per distinct end (shortest kept)


@given(
    st.lists(st.tuples(st.floats(0, 10, allow_nan=False), st.floats(0, 3, allow_nan=False)), max_size=10),
    st.floats(0.5, 9, allow_nan=False),
)
def test_fdb_stop_latency_is_capped_by_the_users_speech(spans, end):
    model = [(s, s + d) for s, d in spans]
    stop = fdb_stop_latency((end - 0.5, end), model, 12.0)
    assert stop is None or 0 < stop <= 0.5 + 2 * VAD_PAD_S + 1e-6


@given(st.lists(st.tuples(st.floats(0, 10, allow_nan=False), st.floats(0, 2, allow_nan=False)), max_size=8))
def test_cropped_words_start_at_or_after_the_crop(spans):
    words = [WordTiming("w", s, s + d) for s, d in spans]
    kept = cropped_words(words, 4.0)
    assert all(w.start >= 4.0 and w.end > 4.0 for w in kept)
    assert len(kept) == sum(w.end > 4.0 for w in words)
    assert [w.start for w in kept] == sorted(w.start for w in kept)
    latency = fdb_latency(kept, 4.0)
    assert latency is None or latency >= 0
