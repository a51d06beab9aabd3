"""`zbb steer fit`: a probe folder of dialogues -> a PerceptionVector with its provenance (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zbb.errors import ProbeError
from zbb.steering.vector import PerceptionVector, compute_perception_vector


@dataclass(frozen=True)
class SplitRule:
    """How steps split into generation- and perception-dominant sets by the margin d = S_perc - S_gen.

    `kind="threshold"`: perceptive when d > perc_threshold, generative when d < gen_threshold (absolute values).
    `kind="quantile"`: the same with thresholds at the `quantile` and 1 - `quantile` points of d over all steps,
    so each set holds about `quantile` of the steps whatever the lenses' scales.
    """

    kind: str = "quantile"
    quantile: float = 0.3
    perc_threshold: float = 0.0
    gen_threshold: float = 0.0

    def thresholds(self, margin: np.ndarray) -> tuple[float, float]:
        """(perc_threshold, gen_threshold) for this margin."""
        if self.kind == "threshold":
            return float(self.perc_threshold), float(self.gen_threshold)
        if self.kind == "quantile":
            if not 0.0 < self.quantile <= 0.5:
                raise ProbeError(f"split quantile must be in (0, 0.5]; got {self.quantile}")
            return float(np.quantile(margin, 1.0 - self.quantile)), float(np.quantile(margin, self.quantile))
        raise ProbeError(f"unknown split {self.kind!r}; expected 'quantile' or 'threshold'")


def fit_from_probe(
    folder: str | Path,
    *,
    layer: int | None = None,
    split: SplitRule | None = None,
    allow_benchmark_rows: bool = False,
) -> PerceptionVector:
    """The perception vector at `layer` (as the probe named it, in its layer_base; None: its only kept layer)."""
    from zbb import __version__
    from zbb.probe.pipeline import read_probe

    meta, curves, hidden = read_probe(folder)
    settings = meta["settings"]
    base = int(settings["layer_base"])
    if not hidden:
        raise ProbeError(f"{folder}: the probe kept no hidden states (run `zbb probe --keep-layers N`)")
    if layer is None:
        if len(hidden) != 1:
            raise ProbeError(f"{folder}: the probe kept layers {sorted(hidden)}; choose one with --layer")
        layer = next(iter(hidden))
    if layer not in hidden:
        raise ProbeError(f"{folder}: no hidden states for layer {layer} (base {base}); kept: {sorted(hidden)}")
    source = meta.get("source", {})
    if str(source.get("kind", "")).startswith("zbb") and not allow_benchmark_rows:
        raise ProbeError(
            f"{folder}: this probe ran on ZBB rows; a vector fitted on the benchmark would leak it. Probe "
            "dialogues disjoint from ZBB (zbb probe --dialogues / --synthesize), or pass --allow-benchmark-rows"
        )
    rule = split or SplitRule()
    s_gen = curves["s_gen"].to_numpy(dtype=np.float64)
    s_perc = curves["s_perc"].to_numpy(dtype=np.float64)
    perc_t, gen_t = rule.thresholds(s_perc - s_gen)
    method = {
        "kind": "mean-difference",
        "fitted_by": f"zbb {__version__} steer fit",
        "split": {"kind": rule.kind, "quantile": rule.quantile if rule.kind == "quantile" else None},
        "margin": "S_perc - S_gen, layer-averaged",
        "lenses": meta.get("lenses"),
        "lens_layers": settings["lens_layers"],
        "layer_base": base,
        "score": settings["score"],
        "decoding": settings.get("decoding", {}),
        "teacher_forced": meta.get("teacher_forced"),
        "source": source,
        "n_items": meta.get("n_items"),
        "probe_zbb_version": meta.get("zbb_version"),
    }
    return compute_perception_vector(
        hidden[layer],
        s_gen,
        s_perc,
        layer=layer,
        layer_base=base,
        model_id=str(meta.get("model", {}).get("model_id", "")),
        perc_threshold=perc_t,
        gen_threshold=gen_t,
        method=method,
    )


def describe_fit(vector: PerceptionVector) -> dict[str, Any]:
    return vector.describe()
