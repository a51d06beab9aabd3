"""The runner and the steering hook on a CUDA GPU, where moshi's LMGen captures its transformer and depformer steps
in CUDA graphs. The hook is graph-safe by construction (its `mu` and `coef` tensors are allocated once and updated
in place); these tests check that it steers under captured graphs as it does eagerly. Skipped without a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (moshi's CUDA graphs)"),
    # torch.compile (moshi compiles its gating kernel) hints at TF32 on Ampere and later GPUs: a speed tip about
    # float32 matmuls, not a fault of the code under test.
    pytest.mark.filterwarnings("ignore:TensorFloat32 tensor cores for float32 matrix multiplication:UserWarning"),
]

from moshi.utils.compile import no_cuda_graph  # noqa: E402
from test_runner import short_dataset, short_row  # noqa: E402, F401  (the fixture, shared)

from zbb.cli import main  # noqa: E402
from zbb.runner.backends import load_backend  # noqa: E402
from zbb.runner.stream import Steering, pad_batch, stream_batch  # noqa: E402
from zbb.steering import PerceptionVector  # noqa: E402
from zbb.steering.onset import EnergyOnsetConfig  # noqa: E402
from zbb.steering.schedule import FadeSchedule  # noqa: E402

SR, FRAME = 24_000, 1920


@pytest.fixture(scope="module")
def tiny_cuda():
    return load_backend("tiny", device="cuda", seed=0)


def user_audio(onset_frame: int, frames: int = 24) -> np.ndarray:
    t = np.arange(frames * FRAME) / SR
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    x[4 * FRAME : onset_frame * FRAME] = 0
    return x


def run(backend, audio, steering=None, oracle=None, *, greedy=False, seed=7):
    if greedy:
        lm_gen = backend.make_lm_gen(temp=0.0, temp_text=0.0)
    else:
        lm_gen = backend.make_lm_gen(temp=0.8, temp_text=0.7, top_k=250, top_k_text=25)
    padded = pad_batch(list(audio), FRAME)
    return stream_batch(
        backend, lm_gen, padded, [len(a) for a in audio], seed=seed, steering=steering, oracle_onsets=oracle
    )


def test_the_lm_steps_replay_captured_cuda_graphs(tiny_cuda, monkeypatch):
    """What the tests below rely on: on CUDA, moshi replays captured graphs for the model's steps."""
    replays = []
    real = torch.cuda.CUDAGraph.replay
    monkeypatch.setattr(torch.cuda.CUDAGraph, "replay", lambda self: replays.append(1) or real(self))
    run(tiny_cuda, [user_audio(12)], greedy=True)
    assert len(replays) >= 20, f"{len(replays)} graph replays for 24 frames"


def test_greedy_steering_under_cuda_graphs_equals_steering_without_them(tiny_cuda):
    audio = [user_audio(12), user_audio(15)]
    vec = PerceptionVector(3.0 * np.random.default_rng(2).normal(size=tiny_cuda.dim).astype(np.float32), layer=2)
    steer = Steering(vec, FadeSchedule(5.5, 3), "oracle")
    graphed = run(tiny_cuda, audio, steer, oracle=[12, 15], greedy=True)
    with no_cuda_graph():
        eager = run(tiny_cuda, audio, steer, oracle=[12, 15], greedy=True)
    plain = run(tiny_cuda, audio, greedy=True)
    for row in range(2):
        assert np.array_equal(graphed[row].tokens, eager[row].tokens), "a captured graph steered differently"
        assert not np.array_equal(graphed[row].tokens, plain[row].tokens), "steering changed nothing under graphs"


@pytest.mark.parametrize("onset_mode", ["energy", "oracle"])
def test_under_cuda_graphs_steering_starts_at_the_onset(tiny_cuda, onset_mode):
    """The coefficients written after capture are what the replayed graph adds: nothing before the onset step,
    the faded vector from it on."""
    audio = [user_audio(12), user_audio(15)]
    vec = PerceptionVector(3.0 * np.random.default_rng(2).normal(size=tiny_cuda.dim).astype(np.float32), layer=2)
    plain = run(tiny_cuda, audio)
    quick = EnergyOnsetConfig(min_gap_s=0.5)
    steered = run(tiny_cuda, audio, Steering(vec, FadeSchedule(5.5, 3), onset_mode, quick), oracle=[12, 15])
    for row, onset in enumerate((12, 15)):
        assert steered[row].onset_frame == onset
        differs = np.flatnonzero((plain[row].tokens != steered[row].tokens).any(axis=1))
        assert differs.size > 0 and differs[0] == onset


def test_zbb_run_on_cuda_writes_a_submission_that_validates(short_dataset, tmp_path, capsys):  # noqa: F811
    vector = PerceptionVector(np.random.default_rng(0).normal(size=32) * 3, layer=3, model_id="zbb/tiny-random-moshi")
    vpath = vector.save(tmp_path / "v.npz")
    out = tmp_path / "runs"
    args = ["run", "--backend", "tiny", "--device", "cuda", "--dataset", str(short_dataset), "--out", str(out)]
    args += ["--batch-size", "2", "--vector", str(vpath), "--both", "--onset-min-gap", "0.8", "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert '"rows_done": 2' in printed and '"steered_rows": 2, "no_onset_rows": 0' in printed
    for variant in ("unsteered", "steered-L3-a5.5-s3"):
        assert main(["validate", str(out / variant), "--dataset", str(short_dataset)]) == 0
        assert "OK: 2 rows" in capsys.readouterr().out
