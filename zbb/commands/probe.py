"""zbb probe: S_gen / S_perc around the interruption (state inertia), curves + plot + hidden states for a vector."""

from __future__ import annotations

import argparse
from typing import Any

HELP = (
    "Stream ZBB rows or two-channel dialogues through a model with capture hooks; write onset-aligned S_gen/S_perc "
    "curves (parquet), a plot, the inertia length in frames, and the hidden states `zbb steer fit` needs."
)
EXAMPLES = [
    "zbb probe --backend tiny --synthesize 8 --out out/probe-tiny --lens-layers 1-5 --keep-layers 3",
    "zbb probe --backend tiny --dataset out/zbb-tiny --condition interrupt --out out/probe-zbb --lens-layers 1-5",
    "zbb probe --backend moshi --device cuda --dialogues my_dialogues/ --out out/probe-moshi "
    "--layer-base 1 --lens-layers 12-24 --keep-layers 23",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("what to probe (one of)")
    what = src.add_mutually_exclusive_group(required=True)
    what.add_argument("--dataset", help="ZBB dataset folder or Hub id: its rows, user channel only; the model speaks")
    what.add_argument(
        "--dialogues",
        help="folder with dialogues.jsonl (id, audio, onset_s) and 2-channel audio (0 user, 1 model): both "
        "streams teacher-forced",
    )
    what.add_argument(
        "--synthesize",
        type=int,
        metavar="N",
        help="N seeded synthetic two-voice dialogues from zbb's TTS and recipe (no bank subject), teacher-forced",
    )
    src.add_argument("--condition", default="interrupt", help="dataset condition to probe (default interrupt)")
    src.add_argument("--limit", type=int, default=None, help="probe at most this many rows/dialogues")
    src.add_argument("--engine", default="espeak", help="TTS engine for --synthesize (default espeak)")
    src.add_argument("--dialogue-seed", type=int, default=0, help="seed of the synthetic dialogue plans (default 0)")
    src.add_argument("--save-dialogues", default=None, help="also write the synthetic dialogues to this folder")

    model = parser.add_argument_group("model")
    model.add_argument("--backend", default="moshi", help="moshi, personaplex or tiny (default moshi)")
    model.add_argument("--model-id", default=None, help="Hub id or local folder (default: the backend's)")
    model.add_argument("--device", default="cpu", help="torch device (default cpu)")
    model.add_argument("--dtype", default=None, help="bfloat16, float16 or float32 (default: backend's)")
    model.add_argument("--temp-text", type=float, default=None, help="text sampling temperature (default: model's)")
    model.add_argument("--greedy", action="store_true", help="argmax decoding instead of sampling")
    model.add_argument("--seed", type=int, default=0, help="torch seed of the sampler (per batch: seed + first index)")
    model.add_argument("--batch-size", type=int, default=8, help="items streamed together (default 8)")
    model.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default 1 on cpu, as zbb run: one frame at a time is too small to share)",
    )

    lens = parser.add_argument_group("lens and curves (each recorded in probe.json)")
    lens.add_argument(
        "--layer-base",
        type=int,
        choices=(0, 1),
        default=0,
        help="layer numbers count from 0 (layers[i], default) or 1 (the first block is layer 1)",
    )
    lens.add_argument("--lens-layers", default="12-24", help="layers S_gen/S_perc average over (default 12-24)")
    lens.add_argument(
        "--keep-layers", default="", help="layers whose hidden states are saved for `zbb steer fit` (e.g. 23)"
    )
    lens.add_argument(
        "--generation-lens",
        default="text",
        choices=("text", "own-depformer"),
        help="S_gen lens: the logit lens of the model's own next text token (default), or its own next audio token "
        "(first codebook) through its depformer",
    )
    lens.add_argument(
        "--perception-lens",
        default="auto",
        choices=("auto", "user-embedding", "user-depformer"),
        help="S_perc lens: the model's user head (PersonaPlex), or the user-stream embedding lens (Moshi has no "
        "user head); auto picks the head where there is one",
    )
    lens.add_argument(
        "--score",
        choices=("prob", "logprob"),
        default="prob",
        help="affinity: the target token's probability (default) or log-probability",
    )
    lens.add_argument(
        "--frames-after-onset",
        type=int,
        default=None,
        help="stop each item this many frames after its onset; -1: run it whole (default: 25 for ZBB rows, whole "
        "dialogues)",
    )
    lens.add_argument("--window", default="12,25", help="frames before,after the onset in the curve/plot")
    lens.add_argument(
        "--inertia-threshold", type=float, default=0.0, help="inertia ends when S_perc - S_gen > this (default 0) ..."
    )
    lens.add_argument("--inertia-hold", type=int, default=2, help="... for this many consecutive frames (default 2)")
    parser.add_argument("--out", required=True, help="output folder (curves.parquet, probe.png, probe.json, ...)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG (no matplotlib needed)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from zbb.errors import ProbeError
    from zbb.probe import pipeline as P
    from zbb.runner.backends import check_device, load_backend

    try:
        before, after = (int(x) for x in args.window.split(","))
    except ValueError:
        raise ProbeError(f"--window {args.window!r}: expected two frame counts 'before,after', e.g. 12,25") from None
    decoding: dict = {}
    if args.temp_text is not None:
        decoding["temp_text"] = args.temp_text
    if args.greedy:
        decoding["use_sampling"] = False
    settings = P.ProbeSettings(
        lens_layers=P.parse_layers(args.lens_layers),
        keep_layers=P.parse_layers(args.keep_layers) if args.keep_layers.strip() else (),
        layer_base=args.layer_base,
        generation_lens=args.generation_lens,
        perception_lens=args.perception_lens,
        score=args.score,
        decoding=decoding,
        seed=args.seed,
        batch_size=max(1, args.batch_size),
        frames_after_onset=_frames_after_onset(args),
        inertia_threshold=args.inertia_threshold,
        inertia_hold=args.inertia_hold,
        window_before=before,
        window_after=after,
    )
    # Cheap checks before the model is loaded (minutes, and Hub retries): the device, then the input.
    check_device(args.device, ProbeError)
    dataset = _check_input(args)
    backend = load_backend(args.backend, args.model_id, args.device, dtype=args.dtype)  # says if torch is missing
    threads = args.threads or (1 if args.device == "cpu" else None)
    if threads is not None:
        if threads < 1:
            raise ProbeError(f"--threads must be >= 1; got {threads}")
        import torch

        torch.set_num_threads(threads)
    settings.positions(backend.num_layers)  # fail on bad layers before any audio work
    items, source = _items(args, backend.sample_rate, dataset)
    with tqdm(total=len(items), desc="probe", unit="item", disable=None) as bar:
        result = P.probe_items(backend, items, settings, source_meta=source, progress=bar.update)
    paths = P.write_probe(result, args.out, plot=not args.no_plot)
    inertia = result.meta["inertia"]
    print(f"probed {len(items)} item(s), {result.meta['n_steps']} steps -> {args.out}")
    print(
        f"inertia (mean curve): {inertia['mean_curve_frames']} frames; per-item median: "
        f"{inertia['per_item_median_frames']} ({inertia['items_turned']}/{inertia['items_with_onset']} turned)"
    )
    for name, path in paths.items():
        print(f"  {name}: {path}")
    return 0


def _frames_after_onset(args: argparse.Namespace) -> int | None:
    if args.frames_after_onset is None:
        return 25 if args.dataset else None  # a ZBB row's tail is the model's reply; a dialogue is fitted whole
    return None if args.frames_after_onset < 0 else args.frames_after_onset


def _check_input(args: argparse.Namespace) -> Any:
    """The opened dataset (--dataset), after checking that --dialogues names a dialogue folder; None otherwise."""
    from pathlib import Path

    from zbb.errors import ProbeError
    from zbb.probe.dialogues import DIALOGUES_FILE

    if args.dataset:
        from zbb.dataset import open_dataset

        return open_dataset(args.dataset)
    if args.dialogues:
        folder = Path(args.dialogues)
        if not folder.is_dir():
            raise ProbeError(
                f"--dialogues {folder}: no such folder; expected a folder with {DIALOGUES_FILE} (one JSON line per "
                "dialogue: id, audio, onset_s) and its 2-channel audio"
            )
        if not (folder / DIALOGUES_FILE).is_file():
            raise ProbeError(f"{folder}: no {DIALOGUES_FILE} (one JSON line per dialogue: id, audio, onset_s)")
    return None


def _items(args: argparse.Namespace, sample_rate: int, ds: Any = None) -> tuple[list[Any], dict[str, Any]]:
    from zbb.probe import pipeline as P
    from zbb.probe.dialogues import dialogue_set_sha256, load_dialogues, save_dialogues, synthesize_dialogues

    if args.dataset:
        if ds is None:
            from zbb.dataset import open_dataset

            ds = open_dataset(args.dataset)
        items = P.items_from_dataset(ds, args.condition, sample_rate, limit=args.limit)
        return items, {
            "kind": "zbb",
            "dataset": str(args.dataset),
            "fingerprint": ds.fingerprint,
            "condition": args.condition,
        }
    if args.dialogues:
        dialogues = load_dialogues(args.dialogues, sample_rate)[: args.limit]
        kind = {"kind": "dialogues", "folder": str(args.dialogues)}
    else:
        dialogues = synthesize_dialogues(args.synthesize, args.dialogue_seed, sample_rate, engine=args.engine)
        kind = {"kind": "synthetic-dialogues", "n": args.synthesize, "seed": args.dialogue_seed, "engine": args.engine}
        if args.save_dialogues:
            save_dialogues(dialogues, args.save_dialogues)
    return P.items_from_dialogues(dialogues, sample_rate), {
        **kind,
        "dialogue_set_sha256": dialogue_set_sha256(dialogues),
    }
