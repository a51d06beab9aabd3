#!/usr/bin/env python3
"""Set-up and entry points that need nothing but Python 3.11+ and git.

    python3 tasks.py demo    # build ZBB, score the bundled reference submissions, print the leaderboard
    python3 tasks.py test    # run the test suite

Each creates (or reuses) the virtual environment `.venv/` beside this file and installs zbb into it. The
environment is reinstalled only when pyproject.toml or setup.py change. Extra arguments go to the command:
`python3 tasks.py test -k bank`, `python3 tasks.py demo --preset tiny` (6 items, into out/zbb-tiny and
out/results-tiny: only the full default demo writes out/zbb and the committed submissions/). `test` with no
arguments first runs the lint (ruff check), the format check (ruff format --check) and the type check (mypy), and
stops at the first that fails; with arguments it runs only pytest with them.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


# The static checks `test` runs before pytest (the same hooks as .pre-commit-config.yaml).
CHECKS = (
    ("lint", ["ruff", "check", "."]),
    ("format", ["ruff", "format", "--check", "."]),
    ("types", ["mypy"]),
)


def _install_fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "setup.py"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv(extras: str = "") -> None:
    """Create .venv and install zbb (editable) with `extras`, unless the same install is already there."""
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py runs under whatever python3 the user has
        sys.exit(f"zbb needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / f".zbb-installed{'-' + extras if extras else ''}"
    wanted = _install_fingerprint(extras)
    if stamp.exists() and stamp.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    print(f"installing zbb{f'[{extras}]' if extras else ''} into {VENV} (first run takes a few minutes)", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(wanted)


# The model runner's tests need torch and Kyutai's moshi. moshi 0.2.13 pins torch<2.10, numpy<2.3 and more (they
# would drag gradio and datasets back), but `moshi.models` imports only these, so it goes in with --no-deps.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MOSHI = "moshi==0.2.13"
MOSHI_IMPORTS = ("einops", "safetensors", "sentencepiece")


def _missing(modules: tuple[str, ...]) -> list[str]:
    probe = "import importlib.util as u, sys; print(' '.join(m for m in sys.argv[1:] if u.find_spec(m) is None))"
    out = subprocess.run([str(PYTHON), "-c", probe, *modules], capture_output=True, text=True, check=True)
    return out.stdout.split()


def _pip(*args: str) -> bool:
    return subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *args], cwd=ROOT).returncode == 0


def _local_cpu_torch() -> str | None:
    """The newest `torch-<version>+cpu` wheel version in pip's configured find-links folders, if any."""
    out = subprocess.run([str(PYTHON), "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    folders = os.environ.get("PIP_FIND_LINKS", "").split()
    folders += [
        v.strip("'\"")
        for k, v in (ln.split("=", 1) for ln in out.splitlines() if "=" in ln)
        if k.endswith("find-links")
    ]
    versions = [w.name.split("-")[1] for f in folders if Path(f).is_dir() for w in Path(f).glob("torch-*+cpu-*.whl")]

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(x) for x in version.split("+")[0].split(".") if x.isdigit())

    return max(versions, key=key, default=None)


def ensure_model_runtime() -> None:
    """torch (CPU wheel) and moshi (--no-deps) for the runner tests, when missing; tests skip if this fails."""
    missing = _missing(("torch", "moshi", *MOSHI_IMPORTS))
    if not missing:
        return
    print(f"installing {', '.join(missing)} for the model runner tests (CPU torch wheel)", flush=True)
    # A `+cpu` wheel from pip's configured find-links where the machine has one, else the CPU wheel from PyTorch's
    # index. Never a plain `torch` from PyPI (or an extra index): that is the 0.5 GB CUDA build with its nvidia
    # packages, which is also what the CPU index resolves to when pip's config adds such an extra index.
    if "torch" in missing:
        local = _local_cpu_torch()
        if not (local and _pip(f"torch=={local}")):
            _pip("--retries", "1", "--timeout", "30", "--index-url", TORCH_CPU_INDEX, "torch")
    if set(missing) & set(MOSHI_IMPORTS):
        _pip(*MOSHI_IMPORTS)
    if "moshi" in missing:
        _pip("--no-deps", MOSHI)
    still = _missing(("torch", "moshi", *MOSHI_IMPORTS))
    if still:
        print(f"could not install {', '.join(still)}: the model runner tests will be skipped", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print(__doc__)
        return 2
    verb, rest = argv[0], argv[1:]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if verb == "demo":
        ensure_venv()
        return subprocess.run([str(BIN / "zbb"), "demo", *rest], cwd=ROOT, env=env).returncode
    ensure_venv("test")
    ensure_model_runtime()
    if not rest:  # the whole suite: the static checks first, each must pass
        for name, command in CHECKS:
            print(f"== {name}: {' '.join(command)}", flush=True)
            if subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, env=env).returncode != 0:
                print(f"tasks.py test: {name} failed", file=sys.stderr)
                return 1
    return subprocess.run([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
