"""Transcript scoring speed with the rule judge, end to end, no audio decoded.

Builds a synthetic ZBB dataset folder of many rows (real parquet layout, each row carrying a small audio blob
that scoring must not read), a transcript submission with varied, realistic replies (most of them distinct
strings), and times in one run:
  1. reading just the parquet columns the scorer needs (the floor),
  2. score_responses on in-memory responses (dataset rows read from parquet + normalise + judge + aggregate),
  3. score_submission from the submission folder (the loader's checks + the above),
each with the normaliser's cache cold. Prints rows/s and the ratios. Target: >= 10,000 rows/s end to end.

    .venv/bin/python benchmarks/bench_score.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import json
import random
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
WORDS = ["jazz", "trumpet", "rhythm", "swing", "blues", "sea", "clouds", "ice", "desert", "keys", "arms", "honey"]


def make_dataset(root: Path, n_per_condition: int, conditions=("no_interrupt", "interrupt")) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbb.audio import encode
    from zbb.dataset import MANIFEST, PARQUET_COLUMNS

    rng = np.random.default_rng(0)
    for condition in conditions:
        records = []
        for i in range(n_per_condition):
            s, d = SUBJECTS[i % len(SUBJECTS)], DESCRIPTIONS[(i // len(SUBJECTS)) % len(DESCRIPTIONS)]
            words = [
                {"word": w, "start": 5.0 + 0.4 * k, "end": 5.35 + 0.4 * k}
                for k, w in enumerate(f"{s} {d} right".split())
            ]
            row = dict(
                id=f"item-{i:06d}",
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
            noise = (0.1 * rng.standard_normal(1600)).astype("float32")  # 0.1 s: never decoded by scoring
            row["audio"] = {"bytes": encode(noise, 16000), "path": f"{row['id']}.flac"}
            records.append(row)
        (root / condition).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(records), root / condition / "test-00000-of-00001.parquet")
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
    for f in (norm.word_forms, norm.subject_words, rule_judge._canonical, rule_judge._content_words):
        f.cache_clear()
    for f in (rule_judge_v2.stance_words, rule_judge_v2._keys, rule_judge_v2._claim):
        f.cache_clear()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000, help="rows in all (split over two conditions)")
    args = ap.parse_args()
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

        t = time.perf_counter()
        for p in sorted((tmp / "ds").rglob("*.parquet")):
            pq.read_table(p, columns=list(PARQUET_COLUMNS)).to_pylist()
        t_read = time.perf_counter() - t

        sub = load_submission(tmp / "sub", open_dataset(tmp / "ds"))
        responses = list(sub.responses.values())
        clear_caches()
        t = time.perf_counter()
        ds = open_dataset(tmp / "ds")
        clips = [c for cond in ds.conditions() for c in ds.clips(cond)]
        result = score_responses(responses, clips, meta=sub.meta, dataset=ds)
        t_mem = time.perf_counter() - t
        assert len(result.items) == rows

        clear_caches()
        t = time.perf_counter()
        result = score_submission(tmp / "sub", tmp / "ds")
        t_sub = time.perf_counter() - t

        t = time.perf_counter()
        score_responses(responses, clips, meta=sub.meta, dataset=ds)
        t_hot = time.perf_counter() - t

        t = time.perf_counter()
        load_submission(tmp / "sub", open_dataset(tmp / "ds"))
        t_load = time.perf_counter() - t

    print(f"read needed parquet columns only : {rows / t_read:>10,.0f} rows/s  ({t_read:.2f} s)")
    print(
        f"score_responses (cold caches)    : {rows / t_mem:>10,.0f} rows/s  ({t_mem:.2f} s)  "
        f"= {t_mem / t_read:.1f}x the column read"
    )
    print(
        f"score_submission end to end      : {rows / t_sub:>10,.0f} rows/s  ({t_sub:.2f} s)  "
        f"= {t_sub / t_read:.1f}x the column read"
    )
    print(f"score_responses (warm caches)    : {rows / t_hot:>10,.0f} rows/s  ({t_hot:.2f} s)")
    print(f"load_submission alone             : {rows / t_load:>10,.0f} rows/s  ({t_load:.2f} s, zbb.submission)")
    print(
        f"target >= 10,000 rows/s: scoring {'met' if rows / t_mem >= 10_000 else 'NOT met'}, "
        f"end to end with the loader {'met' if rows / t_sub >= 10_000 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
