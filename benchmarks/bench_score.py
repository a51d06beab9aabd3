"""Transcript scoring speed with the rule judge, end to end, no audio decoded.

Builds a synthetic ZBB dataset folder of many rows (real parquet layout, each row carrying a small audio blob
that scoring must not read), a transcript submission with varied, realistic replies (most of them distinct
strings), and times in one run:
  1. reading just the parquet columns the scorer needs (the floor),
  2. score_responses on in-memory responses (dataset rows read from parquet + normalise + judge + aggregate),
  3. score_submission from the submission folder (the loader's checks + the above),
each with the normaliser's cache cold; then
  4. `zbb score` as a new process on a 3-condition submission as large as ZBB (3,918 rows) against
     score_submission + save_result in this process on the same files (the CLI adds only start-up and imports),
     and that start-up against the part of it no CLI can avoid (the interpreter and pyarrow's parquet reader);
  5. with --scale, `zbb score`'s streaming path (score_submission_to_file) at growing row counts, each in a
     fresh process: time per row and peak memory per row beyond start-up; at the largest, the loader alone.
Prints rows/s (wall and per CPU second: the machine may be shared) and the ratios. Targets: >= 15,000 rows/s,
the CLI within 1.5x, time per row flat up to 1M rows in bounded memory per row.

    .venv/bin/python benchmarks/bench_score.py [--rows 20000] [--scale 50000,1000000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUBJECTS = [
    "submarine",
    "giraffe",
    "piano",
    "volcano",
    "penguin",
    "bicycle",
    "cactus",
    "lighthouse",
    "octopus",
    "violin",
    "glacier",
    "camel",
    "telescope",
    "bee",
    "pyramid",
    "dolphin",
    "kettle",
    "tornado",
    "owl",
    "butterfly",
    "elephant",
    "rainbow",
    "compass",
    "library",
    "mushroom",
    "satellite",
    "tiger",
    "harp",
]
DESCRIPTIONS = [
    "travels under the sea",
    "flies in the clouds",
    "has a long neck",
    "lives in the desert",
    "is made of ice",
    "has black and white keys",
    "can swim very fast",
    "glows in the dark",
    "eats only grass",
    "was built by ancient people",
    "has eight arms",
    "makes honey",
]
REPLIES = [
    "yes, {s} {d}",
    "yeah that's right the {s} {d}",
    "no, that's not right about the {s}",
    "nope",
    "not really, the {s} doesn't {w}",
    "sorry, what was that about {w}?",
    "i don't think so, {s}s {w}",
    "actually the {s} {w} {n} times",
    "hmm i'm not sure, maybe",
    "and so the {w} section of the band kept playing for {n} minutes",
    "yes",
    "no",
    "that's true",
    "can you repeat that please",
    "yeah no that's wrong {n}",
]
JUDGE = "rule"  # set from --judge
WORDS = ["jazz", "trumpet", "rhythm", "swing", "blues", "sea", "clouds", "ice", "desert", "keys", "arms", "honey"]


def make_dataset(
    root: Path, n_per_condition: int, conditions=("no_interrupt", "interrupt"), *, shared_audio: bool = False
) -> None:
    """Write the dataset; `shared_audio` gives every row the same tiny audio blob (for the scale runs, where
    encoding a million blobs would dominate set-up; scoring never reads them either way)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.audio import encode
    from zbb.dataset import MANIFEST, PARQUET_COLUMNS

    rng = np.random.default_rng(0)
    blob = encode((0.1 * rng.standard_normal(160)).astype("float32"), 16000)
    per_shard = 100_000
    n_shards = -(-n_per_condition // per_shard)
    for condition in conditions:
        (root / condition).mkdir(parents=True, exist_ok=True)
        for shard in range(n_shards):
            records = []
            for i in range(shard * per_shard, min(n_per_condition, (shard + 1) * per_shard)):
                s, d = SUBJECTS[i % len(SUBJECTS)], DESCRIPTIONS[(i // len(SUBJECTS)) % len(DESCRIPTIONS)]
                words = [
                    {"word": w, "start": 5.0 + 0.4 * k, "end": 5.35 + 0.4 * k}
                    for k, w in enumerate(f"{s} {d} right".split())
                ]
                row = dict(
                    id=f"item-{i:07d}",
                    subject=s.capitalize(),
                    description=d,
                    label=bool(i % 2),
                    category="c",
                    text=f"{s.capitalize()} {d}, right?",
                    condition=condition,
                    onset_s=5.0,
                    subject_end_s=5.35,
                    end_s=words[-1]["end"],
                    duration_s=9.0,
                    context_text="Tell me.",
                    buffer_text="",
                    buffer_onset_s=None,
                    voice=f"v{i % 4}",
                    tts_engine="bench",
                    claim_words=words,
                    aliases=[],
                )
                row = {k: row[k] for k in PARQUET_COLUMNS}
                if not shared_audio:  # 0.1 s of noise: never decoded by scoring
                    blob = encode((0.1 * rng.standard_normal(1600)).astype("float32"), 16000)
                row["audio"] = {"bytes": blob, "path": f"{row['id']}.flac"}
                records.append(row)
            name = f"test-{shard:05d}-of-{n_shards:05d}.parquet"
            pq.write_table(pa.Table.from_pylist(records), root / condition / name)
    (root / MANIFEST).write_text(
        json.dumps(
            {
                "fingerprint": "bench",
                "zbb_version": "bench",
                "seed": 0,
                "tts_engine": "bench",
                "sample_rate": 16000,
                "bank_sha256": "0" * 64,
                "counts": {c: n_per_condition for c in conditions},
            }
        )
    )


def make_submission(root: Path, dataset) -> int:
    rnd = random.Random(0)
    lines = []
    for cond in dataset.conditions():
        for c in dataset.clips(cond):
            reply = rnd.choice(REPLIES).format(
                s=c.subject.lower(), d=c.description, w=rnd.choice(WORDS), n=rnd.randint(2, 99)
            )
            if rnd.random() < 0.7:  # most model replies run on: make them distinct, as real outputs are
                reply += " " + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 8)))
            lines.append(json.dumps({"id": c.id, "condition": c.condition, "response": reply}))
    root.mkdir(parents=True, exist_ok=True)
    (root / "meta.json").write_text(json.dumps({"model": "Bench"}))
    (root / "responses.jsonl").write_text("\n".join(lines) + "\n")
    return len(set(json.loads(x)["response"] for x in lines))


def clear_caches() -> None:
    from zbb.score import normalise as norm
    from zbb.score import rule_judge, rule_judge_v2

    norm.clear_cache()
    for f in (
        norm.word_forms,
        norm.subject_words,
        norm._subject_forms,
        rule_judge._canonical,
        rule_judge._content_words,
    ):
        f.cache_clear()
    for f in (rule_judge_v2.stance_words, rule_judge_v2._keys, rule_judge_v2._claim):
        f.cache_clear()


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the normaliser's forked workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _child_cpu(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall s, CPU s) of one child process run to completion."""
    c, t = _cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t, _cpu() - c


def cli_end_to_end(tmp: Path, n_items: int, repeats: int = 3) -> dict[str, float]:
    """`zbb score` as a new process against the same work in this process, score_submission_to_file (imports
    done, caches cleared), and against the library's score_submission + save_result, on one submission answering every row of a 3-condition dataset of `n_items` items (1,306 items: the
    full ZBB's 3,918 rows); the best of `repeats` runs of each. Also the CLI on a 6-row submission (its start-up),
    and the start-up no CLI can avoid: the interpreter and pyarrow's parquet reader, timed as
    `python -c "import pyarrow.parquet"`.

    The CLI runs as an installed zbb does: with its modules' bytecode cached (a first run writes it even where
    PYTHONDONTWRITEBYTECODE is set, as it is on some CI machines, which would otherwise charge every run for
    compiling zbb's 40 modules, 0.05 s)."""
    import os

    from zbb.conditions import CONDITIONS
    from zbb.dataset import open_dataset
    from zbb.results import save_result
    from zbb.score.scorer import score_submission, score_submission_to_file

    make_dataset(tmp / "ds3", n_items, conditions=CONDITIONS)
    make_submission(tmp / "sub3", open_dataset(tmp / "ds3"))
    make_dataset(tmp / "ds6", 3)
    make_submission(tmp / "sub6", open_dataset(tmp / "ds6"))
    zbb = str(Path(sys.executable).with_name("zbb"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def cli(sub: str, ds: str) -> list[str]:
        return [zbb, "score", str(tmp / sub), "--dataset", str(tmp / ds), "--out", str(tmp / "r.json"), "--quiet"]

    _child_cpu(cli("sub6", "ds6") + ["--judge", JUDGE], env)  # writes the bytecode a user's install has
    best: dict[str, tuple[float, float]] = {}

    def keep(name: str, wall_cpu: tuple[float, float]) -> None:
        old = best.get(name)
        best[name] = wall_cpu if old is None else (min(old[0], wall_cpu[0]), min(old[1], wall_cpu[1]))

    for _ in range(repeats):
        clear_caches()
        c, t = _cpu(), time.perf_counter()
        score_submission_to_file(tmp / "sub3", tmp / "ds3", tmp / "in-process.json", judge=JUDGE)  # the CLI's work
        keep("in", (time.perf_counter() - t, _cpu() - c))
        clear_caches()
        c, t = _cpu(), time.perf_counter()
        save_result(score_submission(tmp / "sub3", tmp / "ds3", judge=JUDGE), tmp / "in-memory.json")
        keep("lib", (time.perf_counter() - t, _cpu() - c))
        keep("cli", _child_cpu(cli("sub3", "ds3") + ["--judge", JUDGE], env))
        keep("cli6", _child_cpu(cli("sub6", "ds6") + ["--judge", JUDGE], env))
        keep("floor", _child_cpu([sys.executable, "-c", "import pyarrow.parquet"], env))
        keep("python", _child_cpu([sys.executable, "-c", "pass"], env))
    figures = {f"{k}_{kind}": v[i] for k, v in best.items() for i, kind in enumerate(("wall", "cpu"))}
    figures["rows"] = n_items * len(CONDITIONS)
    return figures


def _peak_kb() -> int:
    """This process's peak resident memory in KB (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _scale_child(folder: Path, rows: int, part: str) -> None:
    """In a fresh process: after a small warm-up, run `part` on `folder` and print seconds and memory.

    part "score": score_submission_to_file, what `zbb score` runs (rows streamed, the result written as it goes);
    part "load": load_submission alone (the submission checked and held whole before anything is scored)."""
    from zbb.dataset import open_dataset
    from zbb.records import Response, RunMeta
    from zbb.score.scorer import score_responses, score_submission_to_file
    from zbb.submission import load_submission
    from zbb.submission.files import MIB, Limits

    # warm-up on 50 rows read alone (reading the whole condition would set the peak that `start_kb` subtracts)
    warm = next(open_dataset(folder / "ds").iter_clips("interrupt", 50))
    score_responses([Response(c.id, c.condition, "yes") for c in warm], warm, meta=RunMeta(model="warm"))
    del warm
    clear_caches()
    start_kb = _peak_kb()
    limits = Limits(max_rows=rows, max_file_bytes=1024 * MIB)
    t = time.perf_counter()
    if part == "load":
        sub = load_submission(folder / "sub", open_dataset(folder / "ds"), limits=limits)
        assert len(sub.responses) == rows
    else:
        out = folder / "result.json"
        result = score_submission_to_file(folder / "sub", folder / "ds", out, limits=limits, judge=JUDGE)
        assert sum(a.n for a in result.aggregates.values()) == rows and out.stat().st_size > 200 * rows
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "start_kb": start_kb, "peak_kb": _peak_kb()}))


def _run_child(folder: Path, rows: int, part: str) -> dict:
    args = [sys.executable, __file__, "--scale-child", str(folder), "--rows", str(rows), "--judge", JUDGE]
    return json.loads(subprocess.run([*args, "--part", part], check=True, capture_output=True).stdout)


def scale(tmp: Path, sizes: list[int]) -> None:
    """Time and peak memory of `zbb score`'s streaming path (score_submission_to_file) at growing row counts, each
    in a fresh process; at the largest, the loader alone too (what the remaining per-row memory holds)."""
    from zbb.dataset import open_dataset

    figures = []
    for rows in sizes:
        folder = tmp / f"scale-{rows}"
        make_dataset(folder / "ds", rows // 2, shared_audio=True)
        make_submission(folder / "sub", open_dataset(folder / "ds"))
        got = _run_child(folder, rows, "score")
        per_row_kb = (got["peak_kb"] - got["start_kb"]) / rows
        figures.append((rows, got["seconds"], per_row_kb))
        print(
            f"scale {rows:>9,} rows: {got['seconds']:7.1f} s  ({1e6 * got['seconds'] / rows:5.1f} us/row), peak "
            f"{got['peak_kb'] / 1024:7.0f} MB ({per_row_kb:.2f} KB/row beyond start-up)",
            flush=True,
        )
        if rows == sizes[-1]:
            load = _run_child(folder, rows, "load")
            load_kb = (load["peak_kb"] - load["start_kb"]) / rows
            print(
                f"scale {rows:>9,} rows, load_submission alone: peak {load['peak_kb'] / 1024:7.0f} MB "
                f"({load_kb:.2f} KB/row beyond start-up: the checked submission, held whole)",
                flush=True,
            )
        shutil.rmtree(folder, ignore_errors=True)
    (n0, s0, _), (n1, s1, _) = figures[0], figures[-1]
    print(
        f"scale (zbb score's streaming path): time per row at {n1:,} rows / at {n0:,} rows = "
        f"{(s1 / n1) / (s0 / n0):.2f}x (linear: about 1.0); memory {figures[0][2]:.2f} -> {figures[-1][2]:.2f} KB "
        "per row beyond start-up (the loaded submission's responses and row keys, the dataset's row ids and the "
        "scores' compact columns; items go straight to the file)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000, help="rows in all (split over two conditions)")
    ap.add_argument("--cli-items", type=int, default=1306, help="items of the CLI run (x 3 conditions)")
    ap.add_argument("--scale", default="", help="row counts for the linearity/memory runs, e.g. 50000,1000000")
    ap.add_argument("--judge", default="rule", help="judge to score with (default: rule, the current rule judge)")
    ap.add_argument("--scale-child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--part", default="score", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global JUDGE
    JUDGE = args.judge
    if args.scale_child:
        _scale_child(args.scale_child, args.rows, args.part)
        return 0
    import pyarrow.parquet as pq

    from zbb.dataset import PARQUET_COLUMNS, open_dataset
    from zbb.records import Response, RunMeta
    from zbb.score.scorer import score_responses, score_submission
    from zbb.submission import load_submission

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_dataset(tmp / "ds", args.rows // 2)
        distinct = make_submission(tmp / "sub", open_dataset(tmp / "ds"))
        rows = args.rows
        size_mb = sum(p.stat().st_size for p in (tmp / "ds").rglob("*.parquet")) / 1e6
        print(
            f"dataset: {rows} rows, {size_mb:.1f} MB of parquet (audio included); "
            f"{distinct} distinct replies ({100 * distinct / rows:.0f}%)"
        )

        # warm-up (imports, library set-up) so every timing below measures steady work
        warm = open_dataset(tmp / "ds")
        score_responses(
            [Response(c.id, c.condition, "yes") for c in warm.clips("interrupt")[:50]],
            warm.clips("interrupt")[:50],
            meta=RunMeta(model="warm"),
        )

        c, t = _cpu(), time.perf_counter()
        for p in sorted((tmp / "ds").rglob("*.parquet")):
            pq.read_table(p, columns=list(PARQUET_COLUMNS)).to_pylist()
        t_read, c_read = time.perf_counter() - t, _cpu() - c

        sub = load_submission(tmp / "sub", open_dataset(tmp / "ds"))
        responses = list(sub.responses.values())
        clear_caches()
        c, t = _cpu(), time.perf_counter()
        ds = open_dataset(tmp / "ds")
        clips = [c for cond in ds.conditions() for c in ds.clips(cond)]
        result = score_responses(responses, clips, meta=sub.meta, dataset=ds, judge=JUDGE)
        t_mem, c_mem = time.perf_counter() - t, _cpu() - c
        assert len(result.items) == rows

        clear_caches()
        c, t = _cpu(), time.perf_counter()
        result = score_submission(tmp / "sub", tmp / "ds", judge=JUDGE)
        t_sub, c_sub = time.perf_counter() - t, _cpu() - c

        t = time.perf_counter()
        score_responses(responses, clips, meta=sub.meta, dataset=ds, judge=JUDGE)
        t_hot = time.perf_counter() - t

        t = time.perf_counter()
        load_submission(tmp / "sub", open_dataset(tmp / "ds"))
        t_load = time.perf_counter() - t

        cli = cli_end_to_end(tmp, args.cli_items)
        if args.scale:
            scale(tmp, sorted(int(n) for n in args.scale.split(",")))

    print(f"read needed parquet columns only : {rows / t_read:>10,.0f} rows/s  ({t_read:.2f} s; {c_read:.2f} s CPU)")
    print(
        f"score_responses (cold caches)    : {rows / t_mem:>10,.0f} rows/s  ({t_mem:.2f} s)  "
        f"= {t_mem / t_read:.1f}x the column read; {rows / c_mem:,.0f} rows per CPU second"
    )
    print(
        f"score_submission end to end      : {rows / t_sub:>10,.0f} rows/s  ({t_sub:.2f} s)  "
        f"= {t_sub / t_read:.1f}x the column read; {rows / c_sub:,.0f} rows per CPU second"
    )
    print(f"score_responses (warm caches)    : {rows / t_hot:>10,.0f} rows/s  ({t_hot:.2f} s)")
    print(f"load_submission alone             : {rows / t_load:>10,.0f} rows/s  ({t_load:.2f} s, zbb.submission)")
    f = cli
    print(
        f"CLI zbb score, {f['rows']:,} rows    : {f['cli_wall']:.2f} s = {f['cli_wall'] / f['in_wall']:.2f}x "
        f"the same work in process, score_submission_to_file ({f['in_wall']:.2f} s); CPU {f['cli_cpu']:.2f} s = "
        f"{f['cli_cpu'] / f['in_cpu']:.2f}x ({f['in_cpu']:.2f} s). Target <= 1.5x"
    )
    print(
        f"  (the library's score_submission + save_result in process: {f['lib_wall']:.2f} s wall, "
        f"{f['lib_cpu']:.2f} s CPU; the CLI is {f['cli_wall'] / f['lib_wall']:.2f}x that)"
    )
    print(
        f"  its start-up                   : a 6-row zbb score takes {f['cli6_cpu']:.2f} s CPU, of which the interpreter "
        f"and `import pyarrow.parquet` (no CLI can skip them) {f['floor_cpu']:.2f} s ({f['python_cpu']:.2f} s the "
        f"bare interpreter); zbb's own start-up {f['cli6_cpu'] - f['floor_cpu']:.2f} s"
    )
    print(
        f"  against that floor             : CLI CPU / (in-process CPU + unavoidable start-up) = "
        f"{f['cli_cpu'] / (f['in_cpu'] + f['floor_cpu']):.2f}x; a CLI with no start-up of its own would be at "
        f"{(f['in_cpu'] + f['floor_cpu']) / f['in_cpu']:.2f}x the in-process CPU"
    )
    print(f"judge: {JUDGE}")
    print(
        f"target >= 15,000 rows/s (transcript scoring, score_responses): {rows / t_mem:,.0f} wall, "
        f"{rows / c_mem:,.0f} per CPU second (the figure to read on a shared machine): "
        f"{'met' if max(rows / t_mem, rows / c_mem) >= 15_000 else 'NOT met'}. The loader's checks come on top "
        "(score_submission end to end, above); they have no target of their own"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
