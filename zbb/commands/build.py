"""`zbb build`: turn a claim bank into the ZBB dataset folder (and optionally push it to the Hub)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zbb.builder.levels import Levels

HELP = "build the ZBB dataset (one Hugging Face config per condition) from a claim bank with a TTS engine"
EXAMPLES = (
    "zbb build --preset tiny --out out/zbb-tiny",
    "zbb build --out out/zbb --num-proc 2 --seed 0",
    "zbb build --voices heart,fenrir,kore   # hibari voices beyond 'heart' are fetched from the Hub once",
    "zbb build --engine espeak --out out/zbb-v1   # the v1 stimulus: eSpeak NG on digital silence",
    "zbb build --screen-asr whisper:large-v3 --screen-drop",
    "zbb build --effort-db 6 --out out/zbb-loud   # a louder interruption, for barge-in loudness studies",
    "zbb build --engine openai --tts-base-url http://localhost:8000/v1 --tts-model kokoro --voices af_heart",
    "zbb build --engine coqui --tts-model tts_models/en/vctk/vits --voices p225,p226",
    "zbb build --sample-rate 16000 --out out/zbb-16k --push-to-hub my-org/zbb",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from zbb.builder.plan import PRESETS
    from zbb.conditions import CONDITIONS

    p.add_argument(
        "--out", default="out/zbb", help="output folder (replaced only by a complete build; default %(default)s)"
    )
    p.add_argument("--bank", help="claim bank .csv/.jsonl (default: the bank shipped with zbb)")
    p.add_argument("--recipe", help="build recipe .json: prompts, fillers, greetings (default: shipped)")
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="full",
        help="tiny = 3 subjects (6 items), paper = 50 subjects (100 items), full = the whole bank",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for texts, voices and silences (default %(default)s)")
    p.add_argument(
        "--engine",
        default="hibari",
        help="TTS engine: hibari (default, natural speech, offline), espeak, coqui, openai",
    )
    p.add_argument(
        "--voices",
        help="comma-separated voices to deal out (default: hibari 'heart', bundled; other engines: all their voices)",
    )
    p.add_argument(
        "--tts-model", help="coqui: model name or local model folder; openai: model name (env ZBB_TTS_MODEL)"
    )
    p.add_argument(
        "--tts-base-url", help="openai: server base URL, e.g. http://localhost:8000/v1 (env ZBB_TTS_BASE_URL)"
    )
    p.add_argument("--conditions", help=f"comma-separated subset of {', '.join(CONDITIONS)} (default: all)")
    p.add_argument(
        "--sample-rate", type=int, default=24000, help="output rate in Hz (default %(default)s; 16000 for FDB)"
    )
    p.add_argument(
        "--num-proc", type=int, default=1, help="processes rendering items in parallel (default %(default)s)"
    )
    p.add_argument(
        "--loudness",
        type=float,
        metavar="LUFS",
        help="integrated loudness of every utterance (BS.1770; default -23, espeak: raw levels)",
    )
    p.add_argument(
        "--noise-dbfs",
        type=float,
        metavar="DBFS",
        help="RMS of the room-tone floor under every row (default -58; espeak: digital silence)",
    )
    p.add_argument(
        "--effort-db",
        type=float,
        default=0.0,
        metavar="DB",
        help="extra gain on the interruption (claim and filler of the interrupt conditions), capped at -1 dBTP "
        "(default 0 = off)",
    )
    p.add_argument(
        "--screen-asr",
        metavar="ENGINE[:MODEL]",
        help="transcribe every claim with a real ASR (whisper, nemo, openai) and report unheard subjects",
    )
    p.add_argument("--screen-drop", action="store_true", help="with --screen-asr: leave out unheard subjects")
    p.add_argument("--keep-work", action="store_true", help="keep the <out>.partial work folder after success")
    p.add_argument(
        "--push-to-hub",
        metavar="ORG/NAME",
        help="upload the built folder as a Hub dataset repo (needs HF_TOKEN or `hf auth login`; checked first)",
    )
    p.add_argument("--private", action="store_true", help="create the Hub repo as private")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _levels(args: argparse.Namespace) -> Levels:
    """The engine's default levels with any flag given on the command line put in."""
    from dataclasses import replace

    from zbb.builder.levels import default_levels

    levels = default_levels(args.engine)
    changes = {"loudness_lufs": args.loudness, "noise_dbfs": args.noise_dbfs}
    levels = replace(levels, **{k: v for k, v in changes.items() if v is not None}, effort_db=args.effort_db)
    if levels.true_peak_dbfs is None and (args.loudness is not None or args.effort_db):
        levels = replace(levels, true_peak_dbfs=-1.0)  # a level change never pushes samples to full scale
    return levels


def run(args: argparse.Namespace) -> int:
    from zbb.builder import build_dataset, push_to_hub
    from zbb.builder.hub import check_push_access
    from zbb.conditions import CONDITIONS, check_names
    from zbb.errors import ZbbError

    if args.screen_drop and not args.screen_asr:
        raise ZbbError("--screen-drop needs --screen-asr ENGINE")
    check_names(_split(args.conditions) or (), CONDITIONS)  # as zbb run: a did-you-mean, before anything runs
    if args.push_to_hub:  # a token and a Hub that answers, before minutes of building
        check_push_access(args.push_to_hub)

    options = {k: v for k, v in (("model", args.tts_model), ("base_url", args.tts_base_url)) if v}
    if args.engine == "openai" and args.voices:
        options["voice"] = args.voices
    report = build_dataset(
        args.out,
        bank=args.bank,
        recipe=args.recipe,
        seed=args.seed,
        engine=args.engine,
        engine_options=options,
        voices=_split(args.voices),
        conditions=_split(args.conditions) or CONDITIONS,
        preset=args.preset,
        sample_rate=args.sample_rate,
        num_proc=args.num_proc,
        progress=not args.quiet,
        keep_work=args.keep_work,
        levels=_levels(args),
        screen_asr=args.screen_asr,
        screen_drop=args.screen_drop,
    )
    rows = sum(report.counts.values())
    print(
        f"built {report.out}: {rows} rows ({', '.join(f'{c} {n}' for c, n in report.counts.items())}), "
        f"{report.audio_seconds / 3600:.2f} h of audio, {report.items_rendered} items rendered, "
        f"{report.items_resumed} resumed, {report.elapsed_s:.1f} s"
    )
    print(f"fingerprint {report.fingerprint}")
    if report.screen is not None:
        missed = report.screen["unrecognised"]
        print(f"screen ({report.screen['asr']}): {len(missed)} of {report.screen['claims']} claims' subjects unheard")
        for m in missed:
            print(f"  {m['id']}: heard {m['heard']!r}")
        if report.screen["dropped_subjects"]:
            print(f"  dropped subjects: {', '.join(report.screen['dropped_subjects'])}")
    if args.push_to_hub:
        url = push_to_hub(report.out, args.push_to_hub, private=args.private)
        print(f"pushed to {url}")
    return 0
