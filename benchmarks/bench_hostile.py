"""Refusing hostile submissions costs about what validating a valid one does, in time and memory (issue 10).

Builds a synthetic ZBB dataset (real parquet layout), a valid transcript submission of `--rows` rows, and one
hostile submission per attack class of the same row count (same or larger bytes), then times in one run:
  - the floor: `zbb validate` (check_submission) of the valid submission,
  - for each hostile one: check_submission (validate) and load_submission (what `zbb score` runs first) until each
    refuses it; the ratio to the floor is printed (target: a small multiple, bounded),
and measures each one's peak memory in a forked child (peak RSS above the child's RSS at the start), next to the
submission's size on disk. Audio attacks (a 10 h FLAC of silence, 3 channels) are measured against validating a
valid audio submission of `--audio-rows` rows.

    .venv/bin/python benchmarks/bench_hostile.py [--rows 4000] [--audio-rows 40]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SR = 16_000
DURATION_S = 9.0


def make_dataset(root: Path, n_per_condition: int, conditions=("no_interrupt", "interrupt")) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.audio import encode
    from zbb.dataset import MANIFEST, PARQUET_COLUMNS

    noise = encode((0.1 * np.random.default_rng(0).standard_normal(1600)).astype("float32"), SR)
    for condition in conditions:
        records = []
        for i in range(n_per_condition):
            words = [{"word": w, "start": 5.0 + 0.4 * k, "end": 5.35 + 0.4 * k} for k, w in enumerate(["cat", "meows"])]
            row = dict(
                id=f"item-{i:06d}",
                subject="Cat",
                description="meows",
                label=bool(i % 2),
                category="c",
                text="Cat meows, right?",
                condition=condition,
                onset_s=5.0,
                subject_end_s=5.35,
                end_s=5.75,
                duration_s=DURATION_S,
                context_text="Tell me.",
                buffer_text="",
                buffer_onset_s=None,
                voice="v",
                tts_engine="bench",
                claim_words=words,
            )
            records.append(
                {**{k: row[k] for k in PARQUET_COLUMNS if k in row}, "audio": {"bytes": noise, "path": "a.flac"}}
            )
        (root / condition).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(records), root / condition / "test-00000-of-00001.parquet")
    manifest = {"fingerprint": "bench", "zbb_version": "bench", "sample_rate": SR, "counts": {}}
    (root / MANIFEST).write_text(json.dumps(manifest))


def rows(dataset) -> list[dict]:
    out = []
    for cond in dataset.conditions():
        for c in dataset.clips(cond):
            words = [{"word": "no", "start": 6.0, "end": 6.3}, {"word": "cats", "start": 6.4, "end": 6.9}]
            out.append({"id": c.id, "condition": cond, "response": "no cats do not meow at all", "words": words})
    return out


def write(root: Path, meta: str, lines: list[str]) -> Path:
    root.mkdir(parents=True)
    (root / "meta.json").write_text(meta)
    (root / "responses.jsonl").write_text("\n".join(lines) + "\n")
    return root


def transcript_cases(tmp: Path, dataset) -> dict[str, Path]:
    good = rows(dataset)
    dump = [json.dumps(r) for r in good]
    meta = json.dumps({"model": "Bench"})
    deep = "[" * 100_000 + "]" * 100_000

    def each(change: Callable[[dict, int], str]) -> list[str]:
        return [change(r, i) for i, r in enumerate(good)]

    cases = {
        "valid": write(tmp / "valid", meta, dump),
        "1 deep meta.json (100k levels)": write(
            tmp / "deep-meta", '{"model": "B", "decoding": {"x": ' + deep + "}}", dump
        ),
        "1 every line 3000 levels deep": write(
            tmp / "deep-lines",
            meta,
            each(lambda r, i: json.dumps({**r, "response": "x"})[:-1] + ', "w": ' + "[" * 3000 + "]" * 3000 + "}"),
        ),
        "2 one 60 MB reply": write(
            tmp / "huge-reply", meta, [*dump[:-1], json.dumps({**good[-1], "response": "no " * 20_000_000})]
        ),
        "2 every reply 5000 digits": write(
            tmp / "digits", meta, each(lambda r, i: json.dumps({**r, "response": "1" * 5000}))
        ),
        "3 every word time Infinity": write(
            tmp / "inf", meta, each(lambda r, i: json.dumps(r).replace('"start": 6.0', '"start": Infinity'))
        ),
        "3 every word time 1e308": write(
            tmp / "e308", meta, each(lambda r, i: json.dumps(r).replace('"end": 6.9', '"end": 1e308'))
        ),
        "3 steering alpha NaN": write(tmp / "nan", '{"model": "B", "steering": {"alpha": NaN}}', dump),
        "5 every id unknown": write(tmp / "unknown", meta, each(lambda r, i: json.dumps({**r, "id": f"nope-{i:06d}"}))),
        "5 every line malformed": write(tmp / "malformed", meta, each(lambda r, i: json.dumps(r)[:-2])),
        "5 every line duplicated": write(tmp / "dupes", meta, dump + dump),
        "6 300-character model name": write(tmp / "name", json.dumps({"model": "m" * 300}), dump),
    }
    return cases


def audio_cases(tmp: Path, dataset) -> dict[str, Path]:
    import numpy as np
    import soundfile as sf

    clips = dataset.clips("interrupt")
    t = np.arange(int(DURATION_S * SR)) / SR
    tone = (0.2 * np.sin(2 * np.pi * 300 * t) * (t > 6.0)).astype("float32")
    buf = io.BytesIO()
    sf.write(buf, tone, SR, format="FLAC")
    good = buf.getvalue()

    def folder(name: str, first: bytes) -> Path:
        root = tmp / name
        (root / "audio" / "interrupt").mkdir(parents=True)
        (root / "meta.json").write_text(json.dumps({"model": "Bench"}))
        for k, c in enumerate(clips):
            (root / "audio" / "interrupt" / f"{c.id}.flac").write_bytes(first if k == 0 else good)
        return root

    long = io.BytesIO()
    with sf.SoundFile(long, "w", 8000, 1, format="FLAC") as fh:
        block = np.zeros(8000 * 600, "float32")
        for _ in range(60):  # 10 h of silence: about 2 MB of FLAC
            fh.write(block)
    many = io.BytesIO()
    sf.write(many, np.tile(tone[:, None], (1, 3)), SR, format="FLAC")
    return {
        "valid audio": folder("valid-audio", good),
        "4 a 10 h FLAC of silence": folder("ten-hours", long.getvalue()),
        "4 a 3-channel file": folder("channels", many.getvalue()),
    }


def _measure(target: Callable[[], object], queue) -> None:
    """In a forked child: run `target`, report (seconds, peak RSS above the start, outcome)."""

    def status(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS counter for this process
    start = status("VmRSS")
    t0 = time.perf_counter()
    try:
        outcome = target()
    except Exception as exc:  # the refusal is the expected outcome here
        outcome = f"{type(exc).__name__}"
    seconds = time.perf_counter() - t0
    queue.put((seconds, status("VmHWM") - start, str(outcome)))


def measure(target: Callable[[], object]) -> tuple[float, int, str]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(target, queue))
    proc.start()
    got = queue.get()
    proc.join()
    return got


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def report(title: str, cases: dict[str, Path], dataset, floor_name: str) -> None:
    from zbb.submission import check_submission, load_submission

    def validate(path: Path) -> Callable[[], object]:
        def run() -> object:
            check = check_submission(path, dataset)
            return f"{len(check.problems)} problems" if check.problems else "OK"

        return run

    def load(path: Path) -> Callable[[], object]:
        return lambda: f"loaded {len(load_submission(path, dataset, asr='pocketsphinx').responses)} rows"

    floor_s, floor_mem, floor_out = measure(validate(cases[floor_name]))
    print(
        f"\n{title}: floor = validating the valid submission: {floor_s:.3f} s, peak +{floor_mem / 2**20:.0f} MiB ({floor_out})"
    )
    print(
        f"{'case':34s} {'size MiB':>9s} {'validate s':>10s} {'x floor':>8s} {'score-load s':>12s} {'x floor':>8s} {'peak MiB':>9s}  outcome"
    )
    for name, path in cases.items():
        if name == floor_name:
            continue
        v_s, v_mem, v_out = measure(validate(path))
        l_s, l_mem, l_out = measure(load(path))
        peak = max(v_mem, l_mem) / 2**20
        print(
            f"{name:34s} {size_of(path) / 2**20:9.1f} {v_s:10.3f} {v_s / floor_s:8.2f} {l_s:12.3f} "
            f"{l_s / floor_s:8.2f} {peak:9.0f}  {v_out}; {l_out}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=4000, help="transcript rows (half per condition)")
    parser.add_argument("--audio-rows", type=int, default=40, help="rows of the audio submissions")
    args = parser.parse_args()

    from zbb.dataset import open_dataset

    with tempfile.TemporaryDirectory(prefix="zbb-bench-hostile-") as tmp_name:
        tmp = Path(tmp_name)
        make_dataset(tmp / "ds", args.rows // 2)
        dataset = open_dataset(tmp / "ds")
        for cond in dataset.conditions():
            dataset.clips(cond)  # rows read once, before forking, as a server holding the dataset would
        import zbb.submission.schema  # noqa: F401  (pydantic models built before forking, as in a server)

        report(f"transcripts ({args.rows} rows)", transcript_cases(tmp / "t", dataset), dataset, "valid")
        make_dataset(tmp / "ads", args.audio_rows, conditions=("interrupt",))
        audio_ds = open_dataset(tmp / "ads")
        audio_ds.clips("interrupt")
        report(f"audio ({args.audio_rows} rows)", audio_cases(tmp / "a", audio_ds), audio_ds, "valid audio")


if __name__ == "__main__":
    main()
