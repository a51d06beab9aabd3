"""`zbb <verb>`: argument parsing only; every verb calls into the library (zbb/commands/<verb>.py)."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from types import ModuleType
from typing import TextIO

from zbb import __version__
from zbb.errors import ZbbError

#: verb -> module under zbb.commands exposing HELP, EXAMPLES, add_arguments(parser) and run(args) -> int.
VERBS = ("build", "export", "validate", "score", "simulate", "leaderboard", "demo", "run", "probe", "steer")


def _load(verb: str) -> ModuleType:
    return importlib.import_module(f"zbb.commands.{verb}")


def _verb_of(argv: list[str]) -> str | None:
    """The verb `argv` runs: its first word that is not an option (zbb's own options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def make_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole CLI; given the `argv` it will parse, only the verb being run gets its options. The other verbs
    are listed with their help line, without importing what their options need (the builder's presets and numpy
    cost `zbb score` 0.1 s of CPU at start-up). With no verb (`zbb --help`, a wrong verb) no verb's options are
    needed."""
    only = _verb_of(argv) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog="zbb",
        description="Zero-Buffer Benchmark: build the dataset, score submissions, compare models.",
        epilog="Run `zbb <verb> --help` for a verb's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"zbb {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="<verb>", required=True)
    for verb in VERBS:
        try:
            module = _load(verb)
        except ModuleNotFoundError as exc:
            if exc.name != f"zbb.commands.{verb}":
                raise
            continue  # a verb not written yet
        p = sub.add_parser(
            verb,
            help=module.HELP,
            description=module.HELP,
            epilog="examples:\n" + "\n".join(f"  {e}" for e in module.EXAMPLES),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if argv is None or verb == only:
            module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _show_zbb_warnings(verb: str) -> None:
    """Print zbb's own warnings as `zbb <verb>: warning: ...` (each line escaped), not as Python's display of a
    file path and a source line; other warnings keep Python's display."""
    from zbb.errors import ZbbWarning, printable

    python_display = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if not issubclass(category, ZbbWarning):
            python_display(message, category, filename, lineno, file, line)
            return
        first, *more = str(message).splitlines() or [""]
        text = "".join(f"\n{printable(line)}" for line in more)
        print(f"zbb {verb}: warning: {printable(first)}{text}", file=sys.stderr)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = make_parser(argv).parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores Python's display when the command returns
            _show_zbb_warnings(args.verb)
            return int(args._run(args) or 0)
    except ZbbError as exc:
        print(f"zbb {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zbb {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
