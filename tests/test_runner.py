"""`zbb run` and its backends, on the tiny random Moshi over a small dataset of short rows (CPU, one thread)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from test_submission_helpers import make_clip, write_dataset

from zbb.cli import main
from zbb.errors import RunnerError, UnknownNameError
from zbb.runner.backends import BACKENDS, load_backend
from zbb.runner.run import RunOptions, distributed_rank, plan_rows, plan_variants, text_json
from zbb.steering import PerceptionVector

SR, FRAME = 24_000, 1920


def short_row(clip, rate):
    """0.4 s of earlier turn, silence, the claim from onset_s to the end (tones: the tiny model hears no words)."""
    n = int(round(clip.duration_s * rate))
    x = (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / rate)).astype(np.float32)
    x[int(0.4 * rate) : int(round(clip.onset_s * rate))] = 0
    return x


@pytest.fixture()
def short_dataset(tmp_path):
    clips = [make_clip(i, "interrupt", onset_s=1.6, end_s=2.3, duration_s=2.4) for i in ("a1", "a2")]
    return write_dataset(tmp_path / "ds", clips, audio=short_row)


# ------------------------------------------------------------------------------------------- no torch needed
def test_registry_names_and_did_you_mean():
    assert BACKENDS.names() == ["moshi", "personaplex", "tiny"]
    with pytest.raises(UnknownNameError, match="Did you mean 'moshi'"):
        load_backend("moshy")


def test_variants_and_their_meta(tmp_path):
    vector = PerceptionVector(np.ones(32), layer=23, layer_base=1)
    options = RunOptions(
        dataset="ds", out=tmp_path, backend="tiny", vector=tmp_path / "v.npz", alphas=(2.0, 5.5), both=True, seed=3
    )
    info = {"model_id": "zbb/tiny-random-moshi", "revision": "seed-0", "dtype": "float32"}
    variants = plan_variants(
        options,
        dataset_conditions=["no_interrupt", "interrupt"],
        fingerprint="abc",
        backend_info=info,
        vector=vector,
    )
    assert [v.name for v in variants] == ["unsteered", "steered-L23-a2-s3", "steered-L23-a5.5-s3"]
    assert variants[0].conditions == ("no_interrupt", "interrupt") and variants[1].conditions == ("interrupt",)
    meta = variants[2].meta
    assert meta.model == "tiny-random-moshi" and meta.backend == "tiny" and meta.dataset == "abc"
    assert meta.decoding["seed"] == 3 and meta.decoding["temp"] == 0.8
    assert meta.steering is not None
    assert (meta.steering.layer, meta.steering.layer_base, meta.steering.alpha, meta.steering.span) == (23, 1, 5.5, 3)
    assert meta.steering.vector_sha256 == vector.sha256 and meta.steering.onset == "energy"
    assert variants[0].meta.steering is None
    with pytest.raises(UnknownNameError, match="Did you mean 'interrupt'"):
        plan_variants(
            RunOptions(dataset="ds", out=tmp_path, conditions=("interupt",)),
            dataset_conditions=["interrupt"],
            fingerprint="abc",
            backend_info=info,
            vector=None,
        )


def test_torchrun_ranks_share_the_rows(tmp_path, monkeypatch):
    clips = {"interrupt": [make_clip(f"r{i}", "interrupt") for i in range(7)]}
    variants = plan_variants(
        RunOptions(dataset="ds", out=tmp_path),
        dataset_conditions=["interrupt"],
        fingerprint="f",
        backend_info={},
        vector=None,
    )
    shares = [plan_rows(variants, clips, limit=None, rank=r, world=3)[0]["interrupt"] for r in range(3)]
    ids = [[p.clip.id for p in share] for share in shares]
    assert ids == [["r0", "r3", "r6"], ["r1", "r4"], ["r2", "r5"]]
    limited = plan_rows(variants, clips, limit=4, rank=1, world=2)[0]["interrupt"]
    assert [p.clip.id for p in limited] == ["r1", "r3"]
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert distributed_rank() == (2, 4, 0)
    monkeypatch.setenv("RANK", "4")
    with pytest.raises(RunnerError, match="not in 0..WORLD_SIZE-1"):
        distributed_rank()


def test_text_stream_becomes_fdb_words():
    class Pieces:
        table = {5: "▁Sub", 6: "marine", 7: "▁flies", 8: "."}

        def id_to_piece(self, i):
            return self.table[i]

    out = text_json([(10, 5), (11, 6), (14, 7), (15, 8)], Pieces(), 0.08)
    assert out["text"] == "Submarine flies."
    assert out["chunks"][0] == {"text": "Submarine", "timestamp": [0.88, 1.04]}
    assert out["chunks"][1] == {"text": "flies.", "timestamp": [1.2, 1.36]}


# ------------------------------------------------------------------------------------------- with the model
torch_needed = pytest.mark.skipif(
    not all(__import__("importlib").util.find_spec(m) for m in ("torch", "moshi")),
    reason="torch and moshi are not installed (python3 tasks.py test installs them)",
)


@pytest.fixture(autouse=True)
def _one_thread():
    os.environ.setdefault("NO_TORCH_COMPILE", "1")
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@torch_needed
def test_personaplex_absent_is_a_clear_error():
    with pytest.raises(RunnerError, match="needs NVIDIA's moshi fork.*separate environment"):
        load_backend("personaplex")


@torch_needed
def test_zbb_run_tiny_writes_a_submission_that_validates_and_scores(short_dataset, tmp_path, capsys, monkeypatch):
    import soundfile as sf

    import zbb.runner.stream as stream

    passes = []
    real_stream_batch = stream.stream_batch

    def recording(*a, **kw):
        steering = kw.get("steering")
        passes.append(None if steering is None else (steering.schedule.alpha, steering.vector.sha256, steering.onset))
        return real_stream_batch(*a, **kw)

    monkeypatch.setattr(stream, "stream_batch", recording)
    vector = PerceptionVector(np.random.default_rng(0).normal(size=32) * 3, layer=3, model_id="zbb/tiny-random-moshi")
    vpath = vector.save(tmp_path / "v.npz")
    out = tmp_path / "runs"
    args = ["run", "--backend", "tiny", "--dataset", str(short_dataset), "--out", str(out), "--batch-size", "2"]
    args += ["--vector", str(vpath), "--both", "--onset-min-gap", "0.8", "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert '"rows_done": 2' in printed and '"steered_rows": 2, "no_onset_rows": 0' in printed
    assert passes == [None, (5.5, vector.sha256, "energy")]  # one batch of both rows, once per variant
    for variant in ("unsteered", "steered-L3-a5.5-s3"):
        folder = out / variant
        for row in ("a1", "a2"):
            info = sf.info(folder / "interrupt" / row / "output.wav")
            assert (info.samplerate, info.frames) == (SR, int(2.4 * SR))  # as long as the input
        assert main(["validate", str(folder), "--dataset", str(short_dataset)]) == 0
        assert "OK: 2 rows in conditions interrupt (2)" in capsys.readouterr().out
    result = tmp_path / "steered.json"
    steered_run = str(out / "steered-L3-a5.5-s3")
    assert main(["score", steered_run, "--dataset", str(short_dataset), "--out", str(result), "--quiet"]) == 0
    scored = json.loads(result.read_text())
    assert scored["meta"]["backend"] == "tiny" and scored["aggregates"]["interrupt"]["n"] == 2
    assert scored["meta"]["steering"]["vector_sha256"] == vector.sha256
    assert scored["meta"]["steering"]["alpha"] == 5.5
    a_unsteered = (out / "unsteered/interrupt/a1/output.wav").read_bytes()

    # resumable: everything is there, so nothing is run again; a lost row is redone
    (out / "unsteered/interrupt/a2/output.wav").unlink()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert '"rows_done": 1' in printed and '"rows_skipped": 1' in printed
    assert (out / "unsteered/interrupt/a2/output.wav").is_file()
    assert (out / "unsteered/interrupt/a1/output.wav").read_bytes() == a_unsteered

    # other settings into the same folder are refused, not mixed in
    assert main([*args, "--seed", "9"]) == 2
    assert "holds a run with other settings (decoding differ)" in capsys.readouterr().err


@torch_needed
def test_a_vector_for_another_model_is_refused_before_running(short_dataset, tmp_path, capsys):
    vpath = PerceptionVector(np.ones(4096), layer=23).save(tmp_path / "moshi.npz")
    code = main(
        [
            "run",
            "--backend",
            "tiny",
            "--dataset",
            str(short_dataset),
            "--out",
            str(tmp_path / "r"),
            "--vector",
            str(vpath),
        ]
    )
    assert code == 2
    assert "vector has width 4096, but zbb/tiny-random-moshi has width 32" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_personaplex_fork_is_told_apart_by_its_prompt_api():
    from types import SimpleNamespace

    from zbb.runner.loaders import is_personaplex

    class KyutaiLMGen:
        def step(self): ...

    class ForkLMGen(KyutaiLMGen):
        def load_voice_prompt_embeddings(self, path): ...

        def step_system_prompts(self, mimi): ...

    assert is_personaplex(SimpleNamespace(models=SimpleNamespace(LMGen=ForkLMGen)))
    assert not is_personaplex(SimpleNamespace(models=SimpleNamespace(LMGen=KyutaiLMGen)))
    assert not is_personaplex(SimpleNamespace())


@pytest.mark.weights
@pytest.mark.network
def test_moshi_weights_from_the_hub_stream_a_row():
    """Downloads kyutai/moshiko-pytorch-bf16 (~15 GB): run with -m weights on a machine with the weights cached."""
    torch = pytest.importorskip("torch")
    from zbb.runner.stream import pad_batch, stream_batch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    backend = load_backend("moshi", device=device)
    assert (backend.num_layers, backend.dim, backend.frame_size) == (32, 4096, FRAME)
    x = np.zeros(10 * FRAME + 7, dtype=np.float32)
    (out,) = stream_batch(backend, backend.make_lm_gen(), pad_batch([x], FRAME), [x.size], seed=0)
    assert out.audio.shape == (x.size,) and np.isfinite(out.audio).all()
