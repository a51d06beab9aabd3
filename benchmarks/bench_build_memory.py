"""Build peak memory against bank size, measured in one run: it must stay flat as the bank grows.

Runs `zbb build` as a child process for banks of growing size (the first N subjects of the default bank, both
claims of each) and reads the peak resident memory of the build's main process (it writes the shards) and of its
render workers from the kernel (`wait4` rusage: the main process's own peak; RUSAGE_CHILDREN: the largest
descendant). Prints MB per size, MB per extra item between the smallest and the largest bank, and the ratio of
the largest bank's peak to the smallest's (target: about 1, i.e. no growth with the bank).

    .venv/bin/python benchmarks/bench_build_memory.py [--subjects 50,200,653] [--num-proc 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _bank_of(n_subjects: int, folder: Path) -> Path:
    from zbb.bank import default_bank_path

    source = default_bank_path()
    with open(source, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows, fields = list(reader), reader.fieldnames
    subjects = list(dict.fromkeys(r["subject"] for r in rows))[:n_subjects]
    keep = set(subjects)
    path = folder / f"bank-{n_subjects}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields or [])
        writer.writeheader()
        writer.writerows(r for r in rows if r["subject"] in keep)
    return path


def _build(bank: Path, out: Path, num_proc: int) -> tuple[float, float, float, int]:
    """(main process peak MB, largest worker peak MB, seconds, items) of one `zbb build` child."""
    zbb = Path(sys.executable).with_name("zbb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(zbb), "build", "--bank", str(bank), "--out", str(out), "--num-proc", str(num_proc), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    output = proc.stdout.read().decode() if proc.stdout else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"zbb build failed ({proc.returncode}):\n{output}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # largest descendant so far, KB
    with open(bank, encoding="utf-8") as fh:
        items = sum(1 for _ in fh) - 1
    return usage.ru_maxrss / 1024, children / 1024, seconds, items


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", default="50,200,653", help="bank sizes in subjects, smallest first")
    ap.add_argument("--num-proc", type=int, default=2)
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.subjects.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="zbb-bench-mem-"))
    try:
        rows = []
        for n in sizes:
            main_mb, any_mb, seconds, items = _build(_bank_of(n, tmp), tmp / f"zbb-{n}", args.num_proc)
            rows.append((n, items, main_mb, seconds))
            print(
                f"{n:4d} subjects ({items:5d} items): main process peak {main_mb:7.1f} MB, "
                f"largest process so far {any_mb:7.1f} MB, {seconds:5.1f} s"
            )
            shutil.rmtree(tmp / f"zbb-{n}", ignore_errors=True)
        (_, small_items, small_mb, _), (_, big_items, big_mb, _) = rows[0], rows[-1]
        slope = (big_mb - small_mb) / max(1, big_items - small_items)
        print(
            f"main process peak: {slope:+.3f} MB per extra item; largest bank / smallest = {big_mb / small_mb:.2f}x "
            f"(target: flat, about 1.0x)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
