"""The steering hook on plain torch modules and on the tiny random Moshi (CPU, one thread, no torch.compile)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("NO_TORCH_COMPILE", "1")
torch = pytest.importorskip("torch", reason="torch is not installed (python3 tasks.py test installs the CPU wheel)")
pytest.importorskip("moshi.models", reason="moshi is not installed (python3 tasks.py test installs moshi --no-deps)")

from zbb.errors import SteeringError  # noqa: E402
from zbb.runner.backends import load_backend  # noqa: E402
from zbb.runner.stream import Steering, pad_batch, stream_batch  # noqa: E402
from zbb.steering import PerceptionVector  # noqa: E402
from zbb.steering.hook import SteeringHook  # noqa: E402
from zbb.steering.onset import EnergyOnsetConfig  # noqa: E402
from zbb.steering.schedule import FadeSchedule  # noqa: E402

SR, FRAME = 24_000, 1920


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return load_backend("tiny", seed=0)


def user_audio(onset_frame: int = 12, frames: int = 20) -> np.ndarray:
    """An earlier turn (4 frames of tone), silence, and a claim from `onset_frame` on."""
    t = np.arange(frames * FRAME) / SR
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    x[4 * FRAME : onset_frame * FRAME] = 0
    return x


def run(tiny, audio, steering=None, oracle=None, seed=7):
    lm_gen = tiny.make_lm_gen(temp=0.8, temp_text=0.7, top_k=250, top_k_text=25)
    padded = pad_batch(list(audio), FRAME)
    return stream_batch(
        tiny, lm_gen, padded, [len(a) for a in audio], seed=seed, steering=steering, oracle_onsets=oracle
    )


class TupleLayer(torch.nn.Module):
    """A Hugging Face-style decoder layer: returns (hidden, attention weights)."""

    def forward(self, x):
        return x * 1.0, torch.ones(1)


def test_hook_adds_the_faded_vector_per_row_and_step():
    mu = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    layer = torch.nn.Identity()
    fade = FadeSchedule(alpha=3.0, span=3)
    onsets = [2, None]
    x = torch.zeros(2, 1, 3)
    added = []
    with SteeringHook(layer, mu, batch_size=2) as hook:
        for step in range(6):
            hook.set_coefficients(fade.coefficients(step, onsets))
            added.append(layer(x)[:, 0].numpy().copy())
    added_arr = np.stack(added)  # [step, row, dim]
    assert np.all(added_arr[:, 1] == 0)  # a row without an onset is never steered
    scale = added_arr[:, 0] / mu
    np.testing.assert_allclose(scale[:, 0], [0, 0, 3.0, 2.0, 1.0, 0], atol=1e-6)  # alpha * 1, 2/3, 1/3
    assert torch.equal(layer(x), x)  # removed on exit


def test_hook_handles_tuple_outputs_and_checks_width():
    layer = TupleLayer()
    with SteeringHook(layer, np.ones(4, dtype=np.float32), batch_size=1) as hook:
        hook.set_coefficients([2.0])
        out, extra = layer(torch.zeros(1, 5, 4))
        assert torch.equal(out, torch.full((1, 5, 4), 2.0)) and torch.equal(extra, torch.ones(1))
    with (
        SteeringHook(layer, np.ones(3, dtype=np.float32), batch_size=1) as hook,
        pytest.raises(SteeringError, match="width"),
    ):
        layer(torch.zeros(1, 1, 4))
    with pytest.raises(SteeringError, match="coefficients for a batch of 1"):
        SteeringHook(torch.nn.Identity(), np.ones(2, dtype=np.float32), 1).set_coefficients([1.0, 2.0])


def test_coefficients_are_updated_in_place():
    hook = SteeringHook(torch.nn.Identity(), np.ones(2, dtype=np.float32), batch_size=3)
    coef, mu = hook.coef, hook.mu
    ptr = coef.data_ptr()
    hook.set_coefficients([1.0, 0.0, 0.5])
    assert hook.coef is coef and hook.coef.data_ptr() == ptr and hook.mu is mu  # what a CUDA graph captured
    assert hook.coef.tolist() == [1.0, 0.0, 0.5]
    hook.remove()


def test_a_hook_adding_zero_changes_no_token(tiny):
    audio = [user_audio()]
    plain = run(tiny, audio)
    zero_vector = PerceptionVector(np.zeros(tiny.dim, dtype=np.float32), layer=3)
    with_zero = run(tiny, audio, Steering(zero_vector, FadeSchedule(5.5, 3), onset="oracle"), oracle=[0])
    rng = np.random.default_rng(1)
    vec = PerceptionVector(rng.normal(size=tiny.dim).astype(np.float32), layer=3)
    alpha_zero = run(tiny, audio, Steering(vec, FadeSchedule(0.0, 3), onset="oracle"), oracle=[0])
    assert np.array_equal(plain[0].tokens, with_zero[0].tokens)
    assert np.array_equal(plain[0].tokens, alpha_zero[0].tokens)
    assert np.array_equal(plain[0].audio, with_zero[0].audio)


@pytest.mark.parametrize("onset_mode", ["energy", "oracle"])
def test_steering_changes_nothing_before_the_onset_and_something_after(tiny, onset_mode):
    audio = [user_audio(onset_frame=12), user_audio(onset_frame=15)]
    vec = PerceptionVector(3.0 * np.random.default_rng(2).normal(size=tiny.dim).astype(np.float32), layer=2)
    plain = run(tiny, audio)
    quick = EnergyOnsetConfig(min_gap_s=0.5)  # the earlier turn ends at frame 4: armed after 7 silent frames
    steered = run(tiny, audio, Steering(vec, FadeSchedule(5.5, 3), onset_mode, quick), oracle=[12, 15])
    for row, onset in enumerate((12, 15)):
        assert steered[row].onset_frame == onset
        differs = np.flatnonzero((plain[row].tokens != steered[row].tokens).any(axis=1))
        assert differs.size > 0, "steering changed nothing"
        assert differs[0] == onset  # identical before the onset step, changed from it on
        assert np.array_equal(plain[row].audio[: (onset + 1) * FRAME], steered[row].audio[: (onset + 1) * FRAME])


def test_output_length_equals_input_length(tiny):
    lengths = [FRAME * 5 + 123, FRAME * 3, 1000]
    audio = [np.zeros(n, dtype=np.float32) for n in lengths]
    outs = run(tiny, audio)
    assert [len(o.audio) for o in outs] == lengths
    assert all(np.all(o.audio[:FRAME] == 0) for o in outs[:2])  # one frame of silence first (FDB convention)
    assert outs[0].tokens.shape == (6, 1 + tiny.lm.dep_q)


def test_a_vector_of_the_wrong_width_or_layer_is_refused(tiny):
    from zbb.errors import RunnerError

    audio = [user_audio()]
    with pytest.raises(RunnerError, match="width"):
        run(tiny, audio, Steering(PerceptionVector(np.ones(7), layer=1), FadeSchedule(1.0, 3)))
    with pytest.raises(RunnerError, match="out of range"):
        run(tiny, audio, Steering(PerceptionVector(np.ones(tiny.dim), layer=6), FadeSchedule(1.0, 3)))
    # counted from 1, layer 6 is the last block and fine
    run(
        tiny,
        [user_audio(frames=3)],
        Steering(PerceptionVector(np.ones(tiny.dim), layer=6, layer_base=1), FadeSchedule(1.0, 3)),
    )
