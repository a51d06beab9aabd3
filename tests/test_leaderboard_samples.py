"""The Samples tab's data: a stored run's row with its verdict, the dataset's user audio and the model's audio."""

import html

import numpy as np
import soundfile as sf

from zbb.dataset import open_dataset
from zbb.leaderboard.app import sample_view
from zbb.leaderboard.store import ResultStore
from zbb.records import Response, RunMeta
from zbb.score.scorer import score_responses


def test_a_row_shows_its_verdict_user_audio_and_submitted_audio(tmp_path, tiny_dataset):
    ds = open_dataset(tiny_dataset)
    clips = ds.clips("interrupt")
    replies = {c.id: (f"yes the {c.subject} {c.description}" if c.label else "sorry what was that") for c in clips}
    result = score_responses(
        [Response(id=c.id, condition="interrupt", response=replies[c.id]) for c in clips],
        clips,
        meta=RunMeta(model="Listener"),
        dataset=ds,
    )
    heard, missed = next(c for c in clips if c.label), next(c for c in clips if not c.label)
    out_wav = tmp_path / "out.wav"
    tone = (0.1 * np.sin(np.arange(16000) * 0.05)).astype(np.float32)
    sf.write(out_wav, tone, 16000)
    store = ResultStore(tmp_path / "store")
    key = store.add(result, audio={(heard.id, "interrupt"): out_wav})

    shown = sample_view(store, ds, key, "interrupt", heard.id)
    samples, rate = ds.audio("interrupt", heard.id)
    assert shown.user_rate == rate and np.array_equal(shown.user_audio, samples)
    assert shown.model_audio is not None and shown.model_audio.read_bytes() == out_wav.read_bytes()
    assert (
        heard.text in html.unescape(shown.markdown)
        and "correct" in shown.markdown
        and "subject heard" in shown.markdown
    )

    other = sample_view(store, ds, key, "interrupt", missed.id)
    assert other.model_audio is None  # that row had no submitted audio
    assert "wrong" in other.markdown and "not heard" in other.markdown and "sorry what was that" in other.markdown

    absent = sample_view(store, ds, key, "no_interrupt", heard.id)
    assert "no row" in absent.markdown and absent.user_audio is None
