"""`zbb export`: write a built ZBB dataset in another benchmark's layout (Full-Duplex-Bench)."""

from __future__ import annotations

import argparse

HELP = (
    "export a built ZBB dataset to Full-Duplex-Bench's layout (<condition>/<id>/input.wav, interrupt.json, "
    "metadata.json, clean_input.wav); run FDB's scripts once per condition folder"
)
EXAMPLES = (
    "zbb export --format fdb --dataset out/zbb out/zbb-fdb",
    "zbb export --format fdb --dataset my-org/zbb out/zbb-fdb --sample-rate 16000 --conditions interrupt",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from zbb.builder.export import FORMATS

    p.add_argument("out", help="output folder")
    p.add_argument("--format", choices=FORMATS, default="fdb", help="target layout (default %(default)s)")
    p.add_argument("--dataset", required=True, help="built dataset folder or Hub id (org/name)")
    p.add_argument("--sample-rate", type=int, help="resample input.wav to this rate (FDB v1 uses 16000); default: keep")
    p.add_argument("--conditions", help="comma-separated conditions to export (default: all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from zbb.builder.export import export_fdb

    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()] if args.conditions else None
    counts = export_fdb(
        args.dataset, args.out, sample_rate=args.sample_rate, conditions=conditions, progress=not args.quiet
    )
    print(f"exported {sum(counts.values())} rows to {args.out} ({', '.join(f'{c} {n}' for c, n in counts.items())})")
    return 0
