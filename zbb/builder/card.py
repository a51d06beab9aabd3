"""The dataset card: `DATASET_CARD.md` filled in from the build manifest, under the YAML header the Hub reads."""

from __future__ import annotations

import re
from importlib.resources import files

from zbb.errors import ZbbError

#: Engines whose output we can state a licence for; anything else is published as "other" with a note.
_ENGINE_NOTES = {
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
    }
    body = re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)
    left = sorted(set(re.findall(r"\{\{(\w+)\}\}", body)))
    if left:
        raise ZbbError(f"DATASET_CARD.md: unknown placeholder(s) {left}; known: {sorted(values)}")

    class _NoAliases(yaml.SafeDumper):  # the Hub's YAML reader should not have to resolve &anchors
        def ignore_aliases(self, data):
            return True

    header = yaml.dump(_header(manifest, license_id), Dumper=_NoAliases, sort_keys=False, allow_unicode=True)
    return f"---\n{header}---\n\n{body}"
