"""`zbb run`: stream the dataset through a full-duplex model, unsteered and/or steered, into submission folders."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zbb.runner.run import RunOptions

HELP = (
    "Run a full-duplex model (moshi, personaplex, tiny) on ZBB rows, with or without perception-vector steering; "
    "each run folder under --out is a submission for zbb validate / zbb score."
)
EXAMPLES = [
    "zbb run --dataset out/zbb --out runs/moshi --device cuda --batch-size 8",
    "zbb run --dataset out/zbb --out runs/moshi --device cuda --vector moshi-L23.npz --both",
    "zbb run --dataset out/zbb --out runs/moshi --device cuda --vector moshi-L23.npz --alpha 2 --alpha 5.5 --alpha 8",
    "torchrun --nproc-per-node 4 -m zbb.cli run --dataset out/zbb --out runs/moshi --device cuda --vector out/moshi-l23.npz --both",
    "zbb run --backend tiny --dataset out/zbb-tiny --out runs/tiny --limit 2 --conditions interrupt",
]


def _csv(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def add_arguments(p: argparse.ArgumentParser) -> None:
    from zbb.steering.onset import ONSET_MODES

    p.add_argument("--dataset", required=True, help="built dataset folder or Hugging Face dataset id (org/name)")
    p.add_argument("--out", required=True, type=Path, help="parent folder: one run folder per variant inside")
    p.add_argument("--backend", default="moshi", help="moshi (default), personaplex or tiny (random weights)")
    p.add_argument(
        "--model-id", help="Hub id or local folder (default: the backend's, e.g. kyutai/moshiko-pytorch-bf16)"
    )
    p.add_argument("--revision", help="Hub revision of the weights")
    p.add_argument("--model-name", help="display name in meta.json (default: Moshi, PersonaPlex, ...)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 (under torchrun cuda = own GPU)")
    p.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default 1 on cpu: one frame at a time is too small to share; torch's own on GPU)",
    )
    p.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), help="LM weights (default bf16 on GPU)")
    p.add_argument("--conditions", type=_csv, help="comma-separated conditions (default: every one in the dataset)")
    p.add_argument("--limit", type=int, help="only the first N rows of each condition")
    p.add_argument("--batch-size", type=int, default=1, help="rows streamed together (LMGen batch); default 1")
    p.add_argument("--seed", type=int, default=0, help="torch seed set before every batch, for every variant")
    p.add_argument("--temp", type=float, help="audio sampling temperature (default 0.8)")
    p.add_argument("--temp-text", type=float, help="text sampling temperature (default 0.7)")
    p.add_argument("--top-k", type=int, help="audio top-k (default 250)")
    p.add_argument("--top-k-text", type=int, help="text top-k (default 25)")
    steer = p.add_argument_group("steering")
    steer.add_argument(
        "--vector", "--steer", type=Path, help="perception vector .npz (zbb steer fit); its layer is steered"
    )
    steer.add_argument(
        "--alpha", type=float, action="append", help="steering strength; repeat for a dose-response (default 5.5)"
    )
    steer.add_argument("--span", type=int, default=3, help="steps steered from the onset, with a linear fade (dT)")
    steer.add_argument(
        "--onset", choices=ONSET_MODES, default="energy", help="energy detector, or the dataset's onset_s"
    )
    steer.add_argument("--onset-threshold-db", type=float, default=-40.0, help="energy detector: speech level, dBFS")
    steer.add_argument("--onset-min-gap", type=float, default=1.0, help="energy detector: silence (s) that arms it")
    steer.add_argument("--both", action="store_true", help="also write the unsteered run, in the same pass")
    steer.add_argument(
        "--steer-conditions",
        type=_csv,
        default=("interrupt",),
        help="conditions the steered runs cover (default: interrupt, the paper's Interrupt + Steer)",
    )
    p.add_argument(
        "--text-json",
        action="store_true",
        help="also write the model's text stream as output.json (zbb score then reads it instead of running ASR)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def options_from_args(args: argparse.Namespace) -> RunOptions:
    from zbb.runner.run import RunOptions
    from zbb.steering.onset import EnergyOnsetConfig

    decoding = {
        k: v
        for k, v in (
            ("temp", args.temp),
            ("temp_text", args.temp_text),
            ("top_k", args.top_k),
            ("top_k_text", args.top_k_text),
        )
        if v is not None
    }
    return RunOptions(
        dataset=args.dataset,
        out=args.out,
        backend=args.backend,
        model_id=args.model_id,
        revision=args.revision,
        model_name=args.model_name,
        device=args.device,
        threads=args.threads,
        dtype=args.dtype,
        conditions=args.conditions,
        limit=args.limit,
        batch_size=args.batch_size,
        seed=args.seed,
        decoding=decoding,
        vector=args.vector,
        alphas=tuple(args.alpha) if args.alpha else (5.5,),
        span=args.span,
        onset=args.onset,
        onset_config=EnergyOnsetConfig(threshold_db=args.onset_threshold_db, min_gap_s=args.onset_min_gap),
        both=args.both,
        steer_conditions=args.steer_conditions,
        text_json=args.text_json,
        progress=not args.no_progress,
    )


def run(args: argparse.Namespace) -> int:
    from zbb.errors import RunnerError
    from zbb.runner.run import execute

    if args.both and args.vector is None:
        raise RunnerError("--both writes an unsteered and a steered run: give the perception vector with --vector")
    if args.alpha and args.vector is None:
        raise RunnerError("--alpha sets the steering strength: give the perception vector with --vector")
    summary = execute(options_from_args(args))
    for v in summary.variants:
        steering = v.meta.steering
        what = "unsteered" if steering is None else f"steered, alpha {steering.alpha:g}"
        print(f"{v.folder}  ({what}; conditions {', '.join(v.conditions)})")
    print(
        json.dumps(
            {
                "rows_done": summary.rows_done,
                "rows_skipped": summary.rows_skipped,
                "audio_s": round(summary.audio_s, 1),
                "wall_s": round(summary.wall_s, 1),
                "rtf": round(summary.rtf, 3),
                "steered_rows": summary.steered_rows,
                "no_onset_rows": summary.no_onset_rows,
            }
        )
    )
    if summary.no_onset_rows:
        print(
            f"warning: on {summary.no_onset_rows} of {summary.steered_rows} steered rows the onset detector found no "
            "onset, so they were not steered (see --onset-threshold-db, --onset-min-gap, or --onset oracle)",
            file=sys.stderr,
        )
    partial = " --allow-partial" if summary.partial else ""  # --limit: rows are missing, and validate says so
    print(f"next: zbb validate {summary.variants[0].folder} --dataset {args.dataset}{partial}")
    return 0
