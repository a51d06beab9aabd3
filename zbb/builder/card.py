"""The dataset card: `DATASET_CARD.md` filled in from the build manifest, under the YAML header the Hub reads."""

from __future__ import annotations

import re
from importlib.resources import files

from zbb.errors import ZbbError

#: Engines whose output we can state a licence for; anything else is published as "other" with a note.
_ENGINE_NOTES = {
    "hibari": (
        "apache-2.0",
        "hibari-tts (code and weights) is Apache-2.0; its voices are distilled from Kokoro-82M (Apache-2.0).",
    ),
    "espeak": (
        "apache-2.0",
        "eSpeak NG itself is GPL-3.0-or-later; zbb calls it as a library and ships no part of it in this "
        "dataset, only the speech it produced.",
    ),
}


def _header(manifest: dict, license_id: str) -> dict:
    from zbb.builder.writer import features_yaml

    features = features_yaml(manifest["sample_rate"])
    conditions = list(manifest["counts"])
    n = max(manifest["counts"].values()) if manifest["counts"] else 0
    size = "n<1K" if n < 1000 else "1K<n<10K" if n < 10_000 else "10K<n<100K"
    return {
        "license": license_id,
        "language": ["en"],
        "pretty_name": "ZBB: Zero-Buffer Benchmark",
        "task_categories": ["audio-to-audio", "automatic-speech-recognition"],
        "size_categories": [size],
        "tags": ["full-duplex", "spoken-dialogue", "interruption", "synthetic-speech", "benchmark"],
        "configs": [
            {
                "config_name": c,
                "data_files": [{"split": "test", "path": f"{c}/test-*.parquet"}],
                **({"default": True} if c == "interrupt" else {}),
            }
            for c in conditions
        ],
        "dataset_info": [
            {
                "config_name": c,
                "features": features,
                "splits": [
                    {"name": "test", "num_bytes": manifest["num_bytes"][c], "num_examples": manifest["counts"][c]}
                ],
            }
            for c in conditions
        ],
    }


def _levels_values(manifest: dict) -> dict[str, str]:
    """Card sentences for the stimulus levels and voices (manifests from before v2 have no `levels`: v1)."""
    from zbb.builder.levels import default_levels

    levels = manifest.get("levels") or {}
    lufs, peak, noise = levels.get("loudness_lufs"), levels.get("true_peak_dbfs"), levels.get("noise_dbfs")
    effort = float(levels.get("effort_db") or 0.0)
    loudness_text = (
        f"every utterance at {lufs:g} LUFS integrated (ITU-R BS.1770-4, pyloudnorm)" if lufs is not None else "raw"
    )
    if peak is not None:
        loudness_text += f", true peak at most {peak:g} dBTP with the floor (no sample near full scale)"
    noise_text = (
        f"seeded room tone (Gaussian noise, 2nd-order low-pass at 300 Hz) at {noise:g} dBFS RMS under the whole "
        "row, the same noise under an item's claim in all three conditions"
        if noise is not None
        else "none (digital silence between utterances)"
    )
    effort_text = (
        f"+{effort:g} dB on the claim and filler of the interrupt conditions (capped by the peak ceiling)"
        if effort
        else "off"
    )
    voices = manifest.get("voices") or []
    note = ""
    if manifest.get("engine") == "hibari" and len(voices) == 1:
        note = " (one voice: the one bundled with hibari-tts, so the build needs no network; more with --voices)"
    flags = ""
    if manifest.get("engine") == "hibari" and voices != ["heart"]:
        flags += f" --voices {','.join(voices)}"
    default = default_levels(str(manifest.get("engine", "")))
    if lufs is not None and lufs != default.loudness_lufs:
        flags += f" --loudness {lufs:g}"
    if noise is not None and noise != default.noise_dbfs:
        flags += f" --noise-dbfs {noise:g}"
    if effort:
        flags += f" --effort-db {effort:g}"
    return {
        "stimulus_version": str(manifest.get("stimulus_version", 1)),
        "levels_text": f"Levels: {loudness_text}. Noise floor: {noise_text}. Interruption effort: {effort_text}.",
        "floor_text": "on the room tone" if noise is not None else "on digital silence",
        "loudness_text": loudness_text,
        "noise_text": noise_text,
        "effort_text": effort_text,
        "voices_note": note,
        "bank_version": str(manifest.get("bank_version", "unversioned")),
        "rebuild_flags": flags,
    }


def render_card(manifest: dict, repo: str | None = None) -> str:
    """README.md for a built folder: YAML header (configs, features, licence, ...) + the filled-in template."""
    import yaml

    template = (files("zbb.builder") / "DATASET_CARD.md").read_text(encoding="utf-8")
    license_id, engine_note = _ENGINE_NOTES.get(
        manifest["engine"], ("other", "Check the terms of that engine and model before redistributing the audio.")
    )
    n_items = max(manifest["counts"].values()) if manifest["counts"] else 0
    values = {
        "preset": manifest["preset"],
        "n_items": n_items,
        "n_conditions": len(manifest["counts"]),
        "n_rows": sum(manifest["counts"].values()),
        "audio_hours": f"{manifest['audio_seconds'] / 3600:.2f}",
        "sample_rate": manifest["sample_rate"],
        "timings_source": manifest["word_timings"],
        "repo": repo or "PATH/TO/FOLDER",
        "fingerprint": manifest["fingerprint"],
        "zbb_version": manifest["zbb_version"],
        "seed": manifest["seed"],
        "tts_engine": manifest["tts_engine"],
        "engine": manifest["engine"],
        "voices": ", ".join(manifest["voices"]),
        "bank_sha256": manifest["bank_sha256"],
        "recipe_version": manifest["recipe_version"],
        "license_note": "Apache-2.0",
        "engine_note": engine_note,
        **_levels_values(manifest),
    }
    body = re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)
    left = sorted(set(re.findall(r"\{\{(\w+)\}\}", body)))
    if left:
        raise ZbbError(f"DATASET_CARD.md: unknown placeholder(s) {left}; known: {sorted(values)}")

    class _NoAliases(yaml.SafeDumper):  # the Hub's YAML reader should not have to resolve &anchors
        def ignore_aliases(self, data: object) -> bool:
            return True

    header = yaml.dump(_header(manifest, license_id), Dumper=_NoAliases, sort_keys=False, allow_unicode=True)
    return f"---\n{header}---\n\n{body}"
