"""Opening a built dataset by folder or by Hub id (the Hub download faked: no network), and bad sources."""

import shutil
from pathlib import Path

import pytest

from zbb.dataset import MANIFEST, open_dataset
from zbb.errors import DatasetError


def test_a_hub_id_is_downloaded_once_and_read_like_a_folder(tmp_path, tiny_dataset, monkeypatch):
    import huggingface_hub

    snapshot = tmp_path / "hub" / "snapshots" / "0123abcd"
    shutil.copytree(tiny_dataset, snapshot)
    calls = []

    def fake_snapshot_download(repo_id, repo_type, revision=None, **kwargs):
        calls.append((repo_id, repo_type, revision))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    ds = open_dataset("my-org/zbb", revision="v1")
    local = open_dataset(tiny_dataset)
    assert calls == [("my-org/zbb", "dataset", "v1")]
    assert ds.revision == "0123abcd" and ds.source == "my-org/zbb"
    assert ds.fingerprint == local.fingerprint
    assert ds.clips("interrupt") == local.clips("interrupt")
    first = ds.clips("interrupt")[0]
    samples, rate = ds.audio("interrupt", first.id)
    assert rate == ds.sample_rate and len(samples) == round(first.duration_s * rate)


def test_a_failed_hub_download_names_the_source(monkeypatch):
    import huggingface_hub

    def offline(**kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo_id, **kw: offline(**kw))
    with pytest.raises(DatasetError, match=r"my-org/zbb: not a local folder, and the Hub dataset could not be fetched"):
        open_dataset("my-org/zbb")


@pytest.mark.parametrize(
    "source,match",
    [
        ("./missing-folder", "no such dataset folder"),
        ("a/b/c", "no such dataset folder"),
    ],
)
def test_a_missing_folder_is_not_mistaken_for_a_hub_id(source, match):
    with pytest.raises(DatasetError, match=match):
        open_dataset(source)


def test_a_folder_that_is_not_a_zbb_build_is_refused(tmp_path, tiny_dataset):
    with pytest.raises(DatasetError, match=f"no {MANIFEST}"):
        open_dataset(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dataset, broken)
    (broken / MANIFEST).write_text("{not json")
    with pytest.raises(DatasetError, match="unreadable build manifest"):
        open_dataset(broken)
    shards = sorted((broken / "interrupt").glob("*.parquet"))
    shards[0].write_bytes(b"garbage")
    (broken / MANIFEST).write_text((Path(tiny_dataset) / MANIFEST).read_text())
    with pytest.raises(DatasetError, match=r"interrupt/test-.*\.parquet: not a readable ZBB parquet shard"):
        open_dataset(broken).clips("interrupt")


def test_an_unknown_condition_or_row_says_what_exists(tiny_dataset):
    ds = open_dataset(tiny_dataset)
    with pytest.raises(DatasetError, match="conditions here: no_interrupt, interrupt, interrupt_buffered"):
        ds.clips("interupt")
    with pytest.raises(DatasetError, match="no row 'nope'"):
        ds.audio("interrupt", "nope")


def test_iter_audio_streams_every_row_in_order_with_its_audio(tiny_dataset):
    ds = open_dataset(tiny_dataset)
    rows = list(ds.iter_audio("interrupt_buffered", batch_size=2))
    assert [clip for clip, _, _ in rows] == ds.clips("interrupt_buffered")
    for clip, samples, rate in rows:
        one, one_rate = ds.audio("interrupt_buffered", clip.id)
        assert rate == one_rate == ds.sample_rate and len(samples) == round(clip.duration_s * rate)
        assert (samples == one).all()


def test_rows_read_column_by_column_equal_the_rows_as_dicts(tiny_dataset):
    """`clips()` converts column by column (faster); it must give the rows' own values, including a row with no
    claim words and a table that is a slice of another."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.dataset import PARQUET_COLUMNS, _clips_of
    from zbb.records import Clip, WordTiming

    def plain(row: dict) -> Clip:
        words = tuple(WordTiming(w["word"], w["start"], w["end"]) for w in row["claim_words"] or ())
        fields = {k: row[k] for k in PARQUET_COLUMNS if k not in ("claim_words", "aliases")}
        return Clip(**fields, claim_words=words, aliases=tuple(row.get("aliases") or ()))

    shard = sorted((tiny_dataset / "interrupt").glob("test-*.parquet"))[0]
    table = pq.read_table(shard, columns=list(PARQUET_COLUMNS))
    rows = table.to_pylist()
    rows[1]["claim_words"] = None
    rows[2]["claim_words"] = []
    table = pa.Table.from_pylist(rows, schema=table.schema)
    assert _clips_of(table) == [plain(r) for r in rows]
    assert _clips_of(table.slice(2, 3)) == [plain(r) for r in rows[2:5]]
    assert all(c.claim_words for c in _clips_of(table)[3:])
