"""zbb probe's pure parts (no torch): layer parsing, inertia, onset alignment, curves, and `zbb steer fit`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zbb.cli import main
from zbb.errors import ProbeError
from zbb.probe import curves as C
from zbb.probe.fit import SplitRule, fit_from_probe
from zbb.probe.pipeline import ProbeResult, ProbeSettings, parse_layers, read_probe, write_probe
from zbb.steering.vector import PerceptionVector


@pytest.mark.parametrize(
    ("text", "expected"),
    [("23", (23,)), ("12-24", tuple(range(12, 25))), ("4, 8,12-13", (4, 8, 12, 13)), ("3,3,2-3", (2, 3))],
)
def test_parse_layers(text, expected):
    assert parse_layers(text) == expected


@pytest.mark.parametrize("text", ["", "a", "5-2", "1-", "-", "1.5", "12-24-3"])
def test_parse_layers_refuses(text):
    with pytest.raises(ProbeError, match="expected numbers and ranges"):
        parse_layers(text)


@pytest.mark.fuzz
@given(st.text(max_size=20))
def test_parse_layers_any_text_parses_or_refuses_cleanly(text):
    try:
        layers = parse_layers(text)
    except ProbeError:
        return
    assert list(layers) == sorted(set(layers))


@pytest.mark.parametrize(
    ("margin", "onset", "hold", "expected"),
    [
        ([1, 1, -1, -1, -1, 1, 1, 1], 2, 2, 3),  # turns 3 frames after the onset frame
        ([-1, -1, 1, -1, 1, 1], 0, 2, 4),  # a one-frame blip does not count with hold 2
        ([-1, -1, 1, -1, 1, 1], 0, 1, 2),
        ([1, 1, 1], 0, 2, 0),  # already perceptive at the onset
        ([-1, -1, -1], 0, 1, None),  # never turns
        ([1, 1, 1], None, 1, None),  # no onset
    ],
)
def test_inertia_frames(margin, onset, hold, expected):
    assert C.inertia_frames(margin, onset, hold=hold) == expected


def test_onset_frame_counts_whole_frames():
    assert C.onset_frame(None, 1920) is None
    assert C.onset_frame(0, 1920) == 0
    assert C.onset_frame(1919, 1920) == 0
    assert C.onset_frame(1920 * 7 + 5, 1920) == 7


def _curves(onsets: dict[str, int], length: int, margin_of) -> pd.DataFrame:
    rows = []
    for item, onset in onsets.items():
        for step in range(length):
            m = margin_of(step - onset)
            rows.append(
                {
                    "item_id": item,
                    "source": "dialogue",
                    "step": step,
                    "time_s": step * 0.08,
                    "onset_frame": onset,
                    "rel_frame": step - onset,
                    "s_gen": 0.5 - m / 2,
                    "s_perc": 0.5 + m / 2,
                    "margin": m,
                    "user_speaking": pd.NA,
                    "model_speaking": pd.NA,
                    "text_token": 3,
                    "user_token": 7,
                }
            )
    df = pd.DataFrame(rows)
    for col in ("onset_frame", "rel_frame"):
        df[col] = df[col].astype("Int64")
    for col in ("user_speaking", "model_speaking"):
        df[col] = df[col].astype("boolean")
    return df


def test_mean_curve_aligns_items_on_their_onset_frame():
    # Items with different onsets share one shape relative to the onset: the margin turns positive 4 frames after.
    curves = _curves({"a": 5, "b": 9, "c": 12}, 30, lambda rel: 0.2 if rel >= 4 else -0.2)
    mean = C.mean_curve(curves, before=4, after=10)
    assert mean["rel_frame"].tolist() == list(range(-4, 11))
    assert (mean["n"] == 3).all()
    assert np.allclose(mean["margin"], [0.2 if r >= 4 else -0.2 for r in range(-4, 11)])
    assert np.allclose(mean["margin_se"], 0.0)  # identical curves after alignment
    assert C.inertia_frames(mean[mean["rel_frame"] >= 0]["margin"].to_numpy(), 0, hold=2) == 4


def test_mean_curve_without_onsets_is_an_error():
    curves = _curves({"a": 0}, 5, lambda rel: 0.0)
    curves["rel_frame"] = pd.array([None] * len(curves), dtype="Int64")
    with pytest.raises(ProbeError, match="no item has an onset"):
        C.mean_curve(curves, 3, 3)


# ---------------------------------------------------------------------------------------------- steer fit
def _clustered_probe(tmp_path, *, source_kind="synthetic-dialogues", dim=16, seed=0):
    """A probe folder whose hidden states form two known clusters: perceptive steps around mu_p, generative
    around mu_g; the margin says which is which (plus middle steps that belong to neither)."""
    rng = np.random.default_rng(seed)
    mu_p, mu_g = rng.normal(size=dim) * 3, rng.normal(size=dim) * 3
    n_items, length = 4, 30
    curves = _curves({f"d{i}": 10 for i in range(n_items)}, length, lambda rel: 0.0)
    kind = rng.permutation(np.repeat(["perc", "gen", "mid"], [40, 50, len(curves) - 90]))
    margin = np.where(kind == "perc", 0.4, np.where(kind == "gen", -0.4, 0.0)) + rng.uniform(-0.05, 0.05, kind.size)
    curves["margin"] = margin
    curves["s_gen"] = 0.5 - margin / 2
    curves["s_perc"] = 0.5 + margin / 2
    hidden = rng.normal(scale=0.5, size=(len(curves), dim))
    hidden[kind == "perc"] += mu_p
    hidden[kind == "gen"] += mu_g
    hidden[kind == "mid"] += (mu_p + mu_g) / 2 + 10  # far off: must not leak into either mean
    expected = hidden[kind == "perc"].mean(0) - hidden[kind == "gen"].mean(0)
    settings = ProbeSettings(lens_layers=(12, 13, 14), keep_layers=(23,), layer_base=1)
    meta = {
        "kind": "zbb-probe",
        "format_version": 1,
        "zbb_version": "test",
        "model": {"model_id": "test/model"},
        "settings": {**settings.__dict__, "perception_lens": "user-embedding"},
        "lenses": {"s_gen": "text", "s_perc": "user-embedding"},
        "teacher_forced": True,
        "frame_ms": 80.0,
        "source": {"kind": source_kind, "dialogue_set_sha256": "abc123"},
        "n_items": n_items,
        "n_steps": len(curves),
        "inertia": {"items_with_onset": n_items, "mean_curve_frames": None},
    }
    write_probe(ProbeResult(curves, {23: hidden.astype(np.float32)}, meta), tmp_path / "probe", plot=False)
    return tmp_path / "probe", expected, mu_p - mu_g


def test_steer_fit_recovers_the_difference_of_cluster_means(tmp_path, capsys):
    probe, expected, true_direction = _clustered_probe(tmp_path)
    out = tmp_path / "vec.npz"
    code = main(["steer", "fit", str(probe), "--out", str(out), "--split", "threshold",
                 "--perc-threshold", "0.2", "--gen-threshold", "-0.2"])  # fmt: skip
    assert code == 0
    vec = PerceptionVector.load(out)
    assert np.allclose(vec.vector, expected, atol=1e-5)
    # and the estimate is close to the clusters' true mean difference (noise 0.5 over 40-50 samples)
    assert np.linalg.norm(vec.vector - true_direction) < 0.2 * np.linalg.norm(true_direction)
    assert (vec.layer, vec.layer_base, vec.index, vec.model_id) == (23, 1, 22, "test/model")
    m = vec.method
    assert (m["n_perceptive"], m["n_generative"]) == (40, 50)
    assert m["lens_layers"] == [12, 13, 14] and m["layer_base"] == 1
    assert m["lenses"] == {"s_gen": "text", "s_perc": "user-embedding"}
    assert m["source"]["dialogue_set_sha256"] == "abc123"
    assert m["split"]["kind"] == "threshold" and m["perc_threshold"] == 0.2
    assert vec.sha256 in capsys.readouterr().out


def test_steer_fit_quantile_split_takes_the_tails(tmp_path):
    probe, _, true_direction = _clustered_probe(tmp_path, seed=3)
    vec = fit_from_probe(probe, split=SplitRule(kind="quantile", quantile=0.2))
    n = vec.method["n_steps"]
    assert abs(vec.method["n_perceptive"] - 0.2 * n) <= 2 and abs(vec.method["n_generative"] - 0.2 * n) <= 2
    cos = vec.vector @ true_direction / (np.linalg.norm(vec.vector) * np.linalg.norm(true_direction))
    assert cos > 0.99


def test_steer_fit_refuses_probes_of_zbb_rows(tmp_path):
    probe, _, _ = _clustered_probe(tmp_path, source_kind="zbb")
    with pytest.raises(ProbeError, match="leak"):
        fit_from_probe(probe)
    assert fit_from_probe(probe, allow_benchmark_rows=True).layer == 23


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "probe.json").unlink(), "not a probe folder"),
        (lambda p: (p / "probe.json").write_text("{"), "not JSON"),
        (lambda p: (p / "probe.json").write_text(json.dumps({"kind": "other"})), "not a zbb probe"),
        (lambda p: (p / "curves.parquet").write_bytes(b"junk"), "unreadable curves"),
        (lambda p: (p / "hidden.npz").write_bytes(b"junk"), "unreadable hidden"),
    ],
)
def test_read_probe_names_a_damaged_folder(tmp_path, damage, message):
    probe, _, _ = _clustered_probe(tmp_path)
    damage(probe)
    with pytest.raises(ProbeError, match=message):
        read_probe(probe)


def test_steer_fit_asks_for_a_kept_layer(tmp_path, capsys):
    probe, _, _ = _clustered_probe(tmp_path)
    assert main(["steer", "fit", str(probe), "--layer", "7", "--out", str(tmp_path / "v.npz")]) == 2
    assert "no hidden states for layer 7" in capsys.readouterr().err
    assert not (tmp_path / "v.npz").exists()


def test_plot_is_written_and_says_how_to_get_matplotlib_when_absent(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (zbb[probe])")
    curves = _curves({"a": 5, "b": 7}, 20, lambda rel: 0.1 if rel >= 3 else -0.1)
    mean = C.mean_curve(curves, 4, 8)
    args = {"frame_ms": 80.0, "inertia": 3, "title": "model $x$", "score": "prob", "perception_lens": "user-embedding"}
    path = C.plot_curves(mean, tmp_path / "p.png", **args)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    with pytest.raises(ProbeError, match=r"pip install 'zbb\[probe\]'"):
        C.plot_curves(mean, tmp_path / "q.png", **args)
    assert not (tmp_path / "q.png").exists()
