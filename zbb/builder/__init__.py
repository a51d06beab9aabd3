"""The dataset builder: plan rows from the claim bank, render them with a TTS engine, write a Hub dataset folder.

`plan_build` decides texts, voices and silences (pure, seeded); `build_dataset` renders and publishes;
`push_to_hub` uploads a built folder; `export_fdb` writes the Full-Duplex-Bench layout.
"""

from typing import Any

from zbb.builder.plan import PRESETS, BuildPlan, ItemPlan, RowPlan, plan_build

__all__ = ["PRESETS", "BuildPlan", "ItemPlan", "RowPlan", "plan_build", "build_dataset", "push_to_hub", "export_fdb"]


def __getattr__(name: str) -> Any:  # the heavier parts load on first use
    if name == "build_dataset":
        from zbb.builder.pipeline import build_dataset

        return build_dataset
    if name == "push_to_hub":
        from zbb.builder.hub import push_to_hub

        return push_to_hub
    if name == "export_fdb":
        from zbb.builder.export import export_fdb

        return export_fdb
    raise AttributeError(name)
