"""zbb probe on the tiny random Moshi (CPU): hooks, lenses, teacher forcing, the CLI's files, and the vector it fits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_submission_helpers import make_clip, write_dataset

torch = pytest.importorskip("torch", reason="zbb probe needs torch (python3 tasks.py test installs the CPU wheel)")
pytest.importorskip("moshi.models", reason="zbb probe needs moshi==0.2.13 (installed --no-deps by tasks.py test)")

from zbb.cli import main  # noqa: E402
from zbb.errors import ProbeError  # noqa: E402
from zbb.probe import lens  # noqa: E402
from zbb.probe.capture import LayerCapture  # noqa: E402
from zbb.probe.stream import run_steps  # noqa: E402
from zbb.runner.backends import load_backend  # noqa: E402
from zbb.runner.stream import encode_batch  # noqa: E402
from zbb.steering.vector import PerceptionVector  # noqa: E402

FRAME = 1920


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return load_backend("tiny")


def _noise(batch: int, frames: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((batch, frames * FRAME)) * 0.1).astype(np.float32)


def test_capture_sees_every_requested_layer_once_per_step(tiny):
    trace = run_steps(tiny, _noise(2, 7, 0), [5, 1, 3], model_audio=_noise(2, 7, 1))
    assert trace.layer_positions == (1, 3, 5)
    assert trace.counts == {1: 7, 3: 7, 5: 7}
    assert tuple(trace.hidden.shape) == (2, 7, 3, tiny.dim)
    assert trace.text_tokens.shape == trace.user_tokens.shape == (2, 7)
    # hooks are gone afterwards: the layers carry no forward hooks
    assert all(not layer._forward_hooks for layer in tiny.layers)


def test_capture_refuses_layers_out_of_range(tiny):
    with pytest.raises(ProbeError, match=r"out of range: the model has layers 0\.\.5"):
        LayerCapture(tiny.layers, [2, 6])


def test_final_layer_lens_equals_the_models_text_logits(tiny):
    seen: list = []
    make = tiny.make_lm_gen
    tiny.make_lm_gen = lambda **kw: make(on_text_logits_hook=lambda t: seen.append(t.clone()), **kw)
    try:
        trace = run_steps(tiny, _noise(2, 6, 2), [tiny.num_layers - 1, 2], model_audio=_noise(2, 6, 3), seed=5)
    finally:
        tiny.make_lm_gen = make
    model_logits = torch.cat(seen, dim=2)[:, 0]  # [B, T, text_card]: what LMGen sampled from
    last = lens.text_logits(tiny.lm, trace.hidden[:, :, 1])
    assert torch.allclose(last, model_logits, atol=1e-5)
    middle = lens.text_logits(tiny.lm, trace.hidden[:, :, 0])
    assert not torch.allclose(middle, model_logits, atol=1e-3)  # a lens on layer 2 is a different reading


def test_teacher_forcing_feeds_both_streams_as_moshi_trains_on_them(tiny):
    """The streaming, teacher-forced steps give the same text logits as moshi's whole-sequence `LMModel.forward`
    on the aligned codes [the model's text, the model's audio, the user's audio]: both channels are forced at the
    right frames, delays included."""
    user, model = _noise(1, 8, 4), _noise(1, 8, 5)
    seen: list = []
    make = tiny.make_lm_gen
    tiny.make_lm_gen = lambda **kw: make(on_text_logits_hook=lambda t: seen.append(t.clone()), **kw)
    try:
        trace = run_steps(tiny, user, [0], model_audio=model)
    finally:
        tiny.make_lm_gen = make
    own = lens.own_codebooks(tiny.lm)
    codes = torch.cat(
        [
            trace.text_tokens[:, None],
            encode_batch(tiny, torch.from_numpy(model)[:, None])[:, :own],
            encode_batch(tiny, torch.from_numpy(user)[:, None])[:, :own],
        ],
        dim=1,
    )
    with torch.no_grad():
        whole = tiny.lm.forward(codes)
    assert torch.allclose(whole.text_logits[:, 0], torch.cat(seen, dim=2)[:, 0], atol=1e-4)
    assert torch.equal(trace.user_tokens, codes[:, 1 + own])


def test_depformer_lens_at_the_last_layer_is_the_models_own_head(tiny):
    """The user-depformer lens runs the depformer from a hidden state; on the model's own first codebook (the one
    head the tiny Kyutai-style model has) at the last layer it must equal moshi's depformer logits."""
    user, model = _noise(1, 6, 6), _noise(1, 6, 7)
    trace = run_steps(tiny, user, [tiny.num_layers - 1], model_audio=model)
    own = lens.own_codebooks(tiny.lm)
    codes = torch.cat(
        [
            trace.text_tokens[:, None],
            encode_batch(tiny, torch.from_numpy(model)[:, None])[:, :own],
            encode_batch(tiny, torch.from_numpy(user)[:, None])[:, :own],
        ],
        dim=1,
    )
    with torch.no_grad():
        expected = tiny.lm.forward(codes).logits[0, 0]  # [T, card], codebook 0 of the model's stream
        got = lens.depformer_logits(tiny.lm, trace.hidden[0, :, 0], trace.text_tokens[0, :, None], 0)
    assert torch.allclose(got, expected, atol=1e-4)


def test_user_embedding_lens_reads_the_user_stream_table(tiny):
    assert not lens.has_user_head(tiny.lm)
    assert lens.default_perception_lens(tiny.lm) == lens.USER_EMBEDDING_LENS
    h = torch.randn(3, tiny.dim)
    table = tiny.lm.emb[lens.own_codebooks(tiny.lm)].weight[: tiny.lm.card]
    expected = tiny.lm.out_norm(h[:, None])[:, 0] @ table.T
    assert torch.allclose(lens.user_embedding_logits(tiny.lm, h), expected, atol=1e-5)


def test_probe_dialogues_writes_curves_plot_and_a_vector_that_zbb_run_loads(tiny, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (zbb[probe])")
    out = tmp_path / "probe"
    code = main(["probe", "--backend", "tiny", "--synthesize", "2", "--out", str(out), "--lens-layers", "1-5",
                 "--keep-layers", "3", "--frames-after-onset", "6", "--window", "4,6", "--save-dialogues",
                 str(tmp_path / "dialogues")])  # fmt: skip
    assert code == 0
    meta = json.loads((out / "probe.json").read_text())
    curves = pd.read_parquet(out / "curves.parquet")
    assert meta["teacher_forced"] is True and meta["lenses"] == {"s_gen": "text", "s_perc": "user-embedding"}
    assert meta["settings"]["lens_layers"] == [1, 2, 3, 4, 5] and meta["settings"]["layer_base"] == 0
    assert meta["source"]["kind"] == "synthetic-dialogues" and len(meta["source"]["dialogue_set_sha256"]) == 64
    # aligned to the onset in frames: rel_frame = step - (onset sample // 1920), ending 6 frames after it
    saved = [json.loads(line) for line in (tmp_path / "dialogues" / "dialogues.jsonl").read_text().splitlines()]
    for entry in saved:
        rows = curves[curves["item_id"] == entry["id"]]
        onset = int(round(entry["onset_s"] * 24000)) // FRAME
        assert (rows["onset_frame"] == onset).all()
        assert (rows["rel_frame"] == rows["step"] - onset).all()
        assert rows["rel_frame"].max() == 6 and rows["step"].tolist() == list(range(len(rows)))
        assert rows["model_speaking"].any() and rows["user_speaking"].any()
    assert np.allclose(curves["margin"], curves["s_perc"] - curves["s_gen"])
    assert ((curves["s_gen"] > 0) & (curves["s_gen"] < 1) & (curves["s_perc"] > 0) & (curves["s_perc"] < 1)).all()
    assert (out / "probe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "inertia" in capsys.readouterr().out

    vec_path = tmp_path / "vec.npz"
    assert main(["steer", "fit", str(out), "--out", str(vec_path)]) == 0
    vector = PerceptionVector.load(vec_path)
    assert (vector.layer, vector.dim, vector.model_id) == (3, tiny.dim, tiny.model_id)
    assert vector.method["source"]["dialogue_set_sha256"] == meta["source"]["dialogue_set_sha256"]

    # the fitted vector is what `zbb run --vector` steers with: a short two-row dataset, unsteered + steered
    dataset = write_dataset(tmp_path / "ds", [make_clip(i, "interrupt", onset_s=1.6, end_s=2.3, duration_s=2.4)
                                              for i in ("r1", "r2")], audio=_tone_row)  # fmt: skip
    runs = tmp_path / "runs"
    assert main(["run", "--backend", "tiny", "--dataset", str(dataset), "--out", str(runs), "--batch-size", "2",
                 "--steer", str(vec_path), "--both", "--onset-min-gap", "0.8", "--no-progress"]) == 0  # fmt: skip
    steered = json.loads((runs / "steered-L3-a5.5-s3" / "meta.json").read_text())
    assert steered["steering"]["vector_sha256"] == vector.sha256 and steered["steering"]["layer"] == 3
    for variant in ("unsteered", "steered-L3-a5.5-s3"):
        assert all((runs / variant / "interrupt" / r / "output.wav").is_file() for r in ("r1", "r2"))


def _tone_row(clip, rate):
    """0.4 s of tone, silence, then tone again from onset_s (the tiny model hears no words anyway)."""
    n = int(round(clip.duration_s * rate))
    x = (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / rate)).astype(np.float32)
    x[int(0.4 * rate) : int(round(clip.onset_s * rate))] = 0
    return x


def test_probe_zbb_rows_lets_the_model_speak(tiny, tiny_dataset, tmp_path):
    out = tmp_path / "rows"
    code = main(["probe", "--backend", "tiny", "--dataset", str(tiny_dataset), "--condition", "interrupt",
                 "--limit", "2", "--out", str(out), "--lens-layers", "0-5", "--frames-after-onset", "3",
                 "--no-plot"])  # fmt: skip
    assert code == 0
    meta = json.loads((out / "probe.json").read_text())
    assert meta["teacher_forced"] is False and meta["source"]["condition"] == "interrupt"
    assert meta["source"]["fingerprint"]
    curves = pd.read_parquet(out / "curves.parquet")
    assert curves["item_id"].nunique() == 2 and (curves.groupby("item_id")["rel_frame"].max() == 3).all()
    assert curves["model_speaking"].isna().all()  # a free-running model's speech is not known in advance
    assert not (out / "probe.png").exists() and not (out / "hidden.npz").exists()


def test_probe_refuses_a_user_head_the_model_lacks(tiny, tmp_path, capsys):
    code = main(["probe", "--backend", "tiny", "--synthesize", "1", "--out", str(tmp_path / "p"),
                 "--lens-layers", "1-5", "--perception-lens", "user-depformer", "--no-plot"])  # fmt: skip
    assert code == 2
    assert "no head for the user's audio" in capsys.readouterr().err


def test_probe_refuses_layers_out_of_range_before_any_work(tmp_path, capsys):
    code = main(["probe", "--backend", "tiny", "--synthesize", "1", "--out", str(tmp_path / "p"),
                 "--layer-base", "1", "--lens-layers", "12-24"])  # fmt: skip
    assert code == 2
    assert "layer(s)" in capsys.readouterr().err and not (tmp_path / "p").exists()


def test_probe_reads_a_dialogue_folder_and_records_its_hash(tiny, tmp_path):
    from zbb.probe.curves import inertia_frames
    from zbb.probe.dialogues import dialogue_set_sha256, save_dialogues, synthesize_dialogues

    dialogues = synthesize_dialogues(1, seed=11, sample_rate=24_000)
    save_dialogues(dialogues, tmp_path / "mine")
    out = tmp_path / "probe"
    code = main(["probe", "--backend", "tiny", "--dialogues", str(tmp_path / "mine"), "--out", str(out),
                 "--lens-layers", "2,4", "--score", "logprob", "--generation-lens", "own-depformer", "--frames-after-onset", "3", "--no-plot",
                 "--inertia-hold", "1"])  # fmt: skip
    assert code == 0
    meta = json.loads((out / "probe.json").read_text())
    assert meta["source"] == {
        "kind": "dialogues",
        "folder": str(tmp_path / "mine"),
        "dialogue_set_sha256": dialogue_set_sha256(dialogues),
    }
    assert meta["settings"]["score"] == "logprob" and meta["settings"]["lens_layers"] == [2, 4]
    assert meta["lenses"] == {"s_gen": "own-depformer", "s_perc": "user-embedding"}
    curves = pd.read_parquet(out / "curves.parquet")
    assert (curves["s_gen"] < 0).all() and (curves["s_perc"] < 0).all()  # log-probabilities
    [item] = meta["items"]
    assert item["onset_frame"] == dialogues[0].onset // FRAME and item["frames"] == item["onset_frame"] + 4
    assert item["inertia_frames"] == inertia_frames(curves["margin"].to_numpy(), item["onset_frame"], hold=1)


def test_user_head_lens_is_the_depformers_own_user_logits():
    """PersonaPlex's depformer also predicts the user's stream. On a tiny random LM built that way (dep_q = n_q;
    Kyutai's LMGen cannot stream it, so moshi's whole-sequence forward is the reference), the user-depformer lens
    read from the last layer equals the model's logits for the user's first codebook."""
    from moshi.models import loaders

    from zbb.runner.loaders import TINY_LM

    torch.manual_seed(0)
    lm = loaders.get_moshi_lm(None, lm_kwargs={**loaders._lm_kwargs, **TINY_LM, "dep_q": 8}, dtype=torch.float32)
    lm.eval()
    assert lens.has_user_head(lm) and lens.default_perception_lens(lm) == lens.USER_DEPFORMER_LENS
    own, steps = lens.own_codebooks(lm), 6
    codes = torch.cat([torch.randint(0, 60, (1, 1, steps)), torch.randint(0, 32, (1, 2 * own, steps))], dim=1)
    with torch.no_grad(), LayerCapture(lm.transformer.layers, [len(lm.transformer.layers) - 1]) as capture:
        out = lm.forward(codes)
    last = steps - 1  # the capture keeps the last position of a whole-sequence forward
    hidden = capture.stacked()[:, 0, 0]  # [1, D]
    delays = [int(d) for d in lm.delays]
    prefix = torch.tensor([[int(codes[0, k, last - delays[k]]) for k in range(own + 1)]])
    with torch.no_grad():
        got = lens.depformer_logits(lm, hidden, prefix, own)
    assert torch.allclose(got[0], out.logits[0, own, last], atol=1e-4)
