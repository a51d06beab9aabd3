"""The perception vector (record, file, maths), the fade schedule and the energy onset detector: numpy only."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zbb.errors import SteeringError
from zbb.steering import PerceptionVector, compute_perception_vector, split_steps
from zbb.steering.onset import EnergyOnsetConfig, EnergyOnsetDetector, detect_onset, frame_db, oracle_onset_frame
from zbb.steering.schedule import FadeSchedule

SR = 24_000
FRAME = 1920


# ------------------------------------------------------------------------------------------------ the maths
def clusters(n_perc: int, n_gen: int, dim: int, seed: int = 0):
    """Hidden states from two Gaussian clusters, with affinities that put each step clearly in its set."""
    rng = np.random.default_rng(seed)
    centre_p, centre_g = rng.normal(size=dim) * 3, rng.normal(size=dim) * 3
    hp = centre_p + 0.1 * rng.normal(size=(n_perc, dim))
    hg = centre_g + 0.1 * rng.normal(size=(n_gen, dim))
    order = rng.permutation(n_perc + n_gen)
    hidden = np.concatenate([hp, hg])[order].astype(np.float32)
    s_perc = np.concatenate([np.full(n_perc, 0.9), np.full(n_gen, 0.1)])[order]
    s_gen = np.concatenate([np.full(n_perc, 0.2), np.full(n_gen, 0.8)])[order]
    return hidden, s_gen, s_perc, hp, hg, centre_p, centre_g


def test_vector_is_the_difference_of_cluster_means():
    hidden, s_gen, s_perc, hp, hg, centre_p, centre_g = clusters(40, 60, 16)
    v = compute_perception_vector(hidden, s_gen, s_perc, layer=23, layer_base=1, model_id="m")
    expected = hp.astype(np.float32).astype(np.float64).mean(0) - hg.astype(np.float32).astype(np.float64).mean(0)
    np.testing.assert_allclose(v.vector, expected.astype(np.float32), rtol=0, atol=1e-6)
    assert np.linalg.norm(v.vector - (centre_p - centre_g)) < 0.2  # the cluster centres, up to sampling noise
    assert v.vector.dtype == np.float32 and v.dim == 16
    assert (v.layer, v.layer_base, v.index, v.model_id) == (23, 1, 22, "m")
    assert v.method["n_perceptive"] == 40 and v.method["n_generative"] == 60


def test_means_are_taken_in_float64():
    # float32 sums of 10,000 values near 1e4 lose the 1e-3 signal; the float64 mean keeps it
    n = 10_000
    hidden = np.full((2 * n, 1), 1e4, dtype=np.float32)
    hidden[:n] += np.float32(1e-3 * 1024)  # exactly representable step above 1e4
    s_perc = np.r_[np.ones(n), np.zeros(n)]
    v = compute_perception_vector(hidden, np.zeros(2 * n), s_perc - 0.5, layer=0)
    assert v.vector[0] == pytest.approx(float(hidden[0, 0]) - 1e4, abs=1e-6)


def test_thresholds_split_steps_and_drop_the_middle():
    s_gen = np.zeros(5)
    s_perc = np.array([-0.5, -0.1, 0.0, 0.1, 0.5])
    perc, gen = split_steps(s_gen, s_perc, perc_threshold=0.2, gen_threshold=-0.2)
    assert perc.tolist() == [False, False, False, False, True]
    assert gen.tolist() == [True, False, False, False, False]
    perc, gen = split_steps(s_gen, s_perc)  # defaults 0, 0: ties belong to neither
    assert perc.tolist() == [False, False, False, True, True] and gen.tolist() == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"perc_threshold": 10.0}, "no perception-dominant step"),
        ({"gen_threshold": -10.0}, "no generation-dominant step"),
        ({"perc_threshold": -1.0, "gen_threshold": 1.0}, "must not exceed"),
        ({"perc_threshold": float("nan")}, "finite"),
    ],
)
def test_empty_sets_and_bad_thresholds_are_clear_errors(kwargs, message):
    hidden, s_gen, s_perc, *_ = clusters(5, 5, 4)
    with pytest.raises(SteeringError, match=message):
        compute_perception_vector(hidden, s_gen, s_perc, layer=0, **kwargs)


@pytest.mark.parametrize(
    ("hidden", "s_gen", "s_perc", "message"),
    [
        (np.zeros(4), np.zeros(4), np.ones(4), r"\[T, D\]"),
        (np.zeros((4, 2)), np.zeros(3), np.ones(3), "one per timestep"),
        (np.zeros((4, 2)), np.zeros(4), np.ones(3), "same length"),
        (np.zeros((2, 2)), np.array([0.0, np.nan]), np.ones(2), "NaN"),
    ],
)
def test_bad_shapes_are_clear_errors(hidden, s_gen, s_perc, message):
    with pytest.raises(SteeringError, match=message):
        compute_perception_vector(hidden, s_gen, s_perc, layer=0)


# ------------------------------------------------------------------------------------------------ the record
def test_sha256_is_of_the_float32_bytes_and_the_file_round_trips(tmp_path):
    vec = np.linspace(-1, 1, 8)
    v = PerceptionVector(vec, layer=2, model_id="kyutai/x", method={"kind": "test", "thresholds": [0.1, -0.1]})
    assert v.sha256 == hashlib.sha256(vec.astype("<f4").tobytes()).hexdigest()
    path = v.save(tmp_path / "v.npz")
    w = PerceptionVector.load(path)
    assert w.sha256 == v.sha256 and w.describe() == v.describe()
    np.testing.assert_array_equal(w.vector, v.vector)
    with pytest.raises(ValueError):
        w.vector[0] = 3.0  # read-only: the hash stays true


def test_a_recorded_hash_that_does_not_match_is_refused(tmp_path):
    v = PerceptionVector(np.ones(4), layer=0)
    buf = io.BytesIO()
    meta = {"format_version": 1, "layer": 0, "layer_base": 0, "model_id": "", "method": {}, "sha256": v.sha256}
    np.savez(buf, vector=np.full(4, 2.0, dtype=np.float32), meta=np.array(json.dumps(meta)))
    (tmp_path / "altered.npz").write_bytes(buf.getvalue())
    with pytest.raises(SteeringError, match=r"altered\.npz: perception vector sha256 mismatch"):
        PerceptionVector.load(tmp_path / "altered.npz")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vector": np.zeros((2, 2)), "layer": 0}, "1-D"),
        ({"vector": np.array([1.0, np.inf]), "layer": 0}, "NaN/inf"),
        ({"vector": np.ones(2), "layer": 0, "layer_base": 2}, "layer_base"),
        ({"vector": np.ones(2), "layer": 0, "layer_base": 1}, "layer must be"),
    ],
)
def test_bad_records_are_refused(kwargs, message):
    with pytest.raises(SteeringError, match=message):
        PerceptionVector(**kwargs)


def test_missing_and_foreign_files_name_the_file(tmp_path):
    with pytest.raises(SteeringError, match="no such perception vector file"):
        PerceptionVector.load(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(SteeringError, match=r"other\.npz: not a perception vector"):
        PerceptionVector.load(tmp_path / "other.npz")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_load_as_a_steering_error_only(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "v.npz"
    path.write_bytes(data)
    with pytest.raises(SteeringError):
        PerceptionVector.load(path)


# ------------------------------------------------------------------------------------------------ the fade
def test_fade_for_span_3_is_one_two_thirds_one_third():
    fade = FadeSchedule(alpha=1.0, span=3)
    assert [fade.coefficient(t, onset=10) for t in range(8, 15)] == pytest.approx([0, 0, 1, 2 / 3, 1 / 3, 0, 0])
    assert FadeSchedule(5.5, 3).coefficients(11, [10, None, 11, 14]) == pytest.approx([5.5 * 2 / 3, 0, 5.5, 0])


@pytest.mark.parametrize(("alpha", "span"), [(1.0, 0), (1.0, -2), (float("nan"), 3), (1.0, 1.5)])
def test_bad_fade_settings(alpha, span):
    with pytest.raises(SteeringError):
        FadeSchedule(alpha, span)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ the onset
def tone(seconds: float, amplitude: float = 0.3, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(round(seconds * SR))) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SR)), dtype=np.float32)


def test_onset_is_the_first_speech_frame_after_the_earlier_turn_ends():
    # earlier turn 0-0.8 s, 1.6 s pause, the claim from 2.4 s (frame 30)
    audio = np.concatenate([tone(0.8), silence(1.6), tone(1.0)])
    assert detect_onset(audio, FRAME, SR) == 30


def test_onset_needs_the_earlier_turn_to_have_ended():
    speech_only = tone(3.0)  # the user never stopped: nothing to interrupt
    assert detect_onset(speech_only, FRAME, SR) is None
    short_pause = np.concatenate([tone(0.8), silence(0.5), tone(1.0)])  # a breath inside the turn
    assert detect_onset(short_pause, FRAME, SR) is None
    leading_silence = np.concatenate([silence(2.0), tone(1.0)])  # the earlier turn has not happened yet
    assert detect_onset(leading_silence, FRAME, SR) is None


def test_quiet_noise_is_not_speech():
    rng = np.random.default_rng(0)
    audio = np.concatenate([tone(0.8), silence(1.6), tone(1.0)])
    noisy = audio + (0.001 * rng.normal(size=audio.size)).astype(np.float32)  # about -60 dBFS
    assert detect_onset(noisy, FRAME, SR) == 30
    assert detect_onset(noisy, FRAME, SR, EnergyOnsetConfig(threshold_db=-70.0)) is None


def test_detector_is_causal_and_per_row():
    a = np.concatenate([tone(0.8), silence(1.6), tone(1.0)])  # onset frame 30
    b = np.concatenate([tone(0.4), silence(1.2), tone(1.8)])  # onset frame 20
    rows = np.stack([a, b])
    det = EnergyOnsetDetector(2, FRAME / SR)
    seen = []
    for k in range(rows.shape[1] // FRAME):
        seen.append(det.push(rows[:, k * FRAME : (k + 1) * FRAME]))
    assert seen[-1] == [30, 20]
    assert seen[19] == [None, None] and seen[20] == [None, 20] and seen[30] == [30, 20]
    # what follows an onset never moves it: the same prefix gives the same answer
    assert detect_onset(a[: 31 * FRAME], FRAME, SR) == 30


def test_frame_levels_and_oracle_frames():
    assert frame_db(np.ones((1, 100)))[0] == pytest.approx(0.0)
    assert np.isneginf(frame_db(np.zeros((1, 100)))[0])
    assert oracle_onset_frame(2.4, FRAME, SR) == 30
    assert oracle_onset_frame(2.39, FRAME, SR) == 29
    with pytest.raises(SteeringError):
        oracle_onset_frame(-1.0, FRAME, SR)


def test_energy_onsets_on_the_built_tiny_dataset_match_its_onsets(tiny_dataset):
    """On real espeak rows the detector fires in the frame where the interruption (or its filler) starts."""
    from zbb.dataset import open_dataset

    ds = open_dataset(tiny_dataset)
    checked = 0
    for condition in ds.conditions():
        for clip, samples, rate in ds.iter_audio(condition):
            frame = round(FRAME * rate / SR)
            start = clip.buffer_onset_s if clip.buffer_onset_s is not None else clip.onset_s
            found = detect_onset(samples, frame, rate)
            assert found is not None, f"{condition}/{clip.id}: no onset found"
            assert abs(found - start * rate / frame) < 1.0, f"{condition}/{clip.id}: frame {found}, onset {start} s"
            checked += 1
    assert checked == 18
