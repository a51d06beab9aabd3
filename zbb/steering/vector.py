"""Shared API (used by `zbb run` and by `zbb probe` / `zbb steer fit`): the perception vector and how it is made.

A `PerceptionVector` is the paper's steering direction `mu = mean(h[perceptive steps]) - mean(h[generative steps])`
at one transformer layer, with what is needed to apply and cite it: the layer and how that index counts (`layer_base`
0 or 1: the paper's "layer 23" does not say), the model it was read from, how it was made, and the sha256 of its
float32 bytes (the hash a run's meta.json records). numpy only; no torch here.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zbb.errors import SteeringError

#: Version of the .npz layout written by `PerceptionVector.save`.
FORMAT_VERSION = 1


def vector_sha256(vector: np.ndarray) -> str:
    """sha256 of the vector's float32 little-endian bytes (what meta.json's `steering.vector_sha256` holds)."""
    return hashlib.sha256(np.ascontiguousarray(vector, dtype="<f4").tobytes()).hexdigest()


@dataclass(frozen=True, eq=False)
class PerceptionVector:
    """A steering vector for one layer of one model.

    `vector` is 1-D float32 (read-only). `layer` counts from `layer_base` (0: `layers[layer]`; 1: the paper-style
    "layer 1 is the first block", so `layers[layer - 1]`); `index` gives the 0-based list index either way.
    `method` says how it was made (affinities, thresholds, counts, data): free-form, JSON-serialisable.
    `sha256` is filled from the vector when left empty, and checked against it when given.
    """

    vector: np.ndarray
    layer: int
    layer_base: int = 0
    model_id: str = ""
    method: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""

    def __post_init__(self) -> None:
        vec = np.asarray(self.vector)
        if vec.ndim != 1 or vec.size == 0:
            raise SteeringError(f"a perception vector is 1-D and non-empty; got shape {tuple(vec.shape)}")
        if not np.issubdtype(vec.dtype, np.number):
            raise SteeringError(f"a perception vector holds numbers; got dtype {vec.dtype}")
        vec = np.array(vec, dtype=np.float32)  # a private copy, so the hash stays true
        if not np.isfinite(vec).all():
            raise SteeringError(f"perception vector has {int((~np.isfinite(vec)).sum())} NaN/inf value(s)")
        vec.setflags(write=False)
        if self.layer_base not in (0, 1):
            raise SteeringError(f"layer_base must be 0 or 1 (how the layer index counts); got {self.layer_base!r}")
        if not isinstance(self.layer, int) or isinstance(self.layer, bool) or self.layer < self.layer_base:
            raise SteeringError(f"layer must be an integer >= layer_base ({self.layer_base}); got {self.layer!r}")
        digest = vector_sha256(vec)
        if self.sha256 and self.sha256 != digest:
            raise SteeringError(
                f"perception vector sha256 mismatch: recorded {self.sha256}, its float32 bytes hash to {digest}"
            )
        object.__setattr__(self, "vector", vec)
        object.__setattr__(self, "sha256", digest)
        object.__setattr__(self, "method", dict(self.method))

    @property
    def dim(self) -> int:
        return int(self.vector.shape[0])

    @property
    def index(self) -> int:
        """The 0-based position of the steered layer in the model's layer list."""
        return self.layer - self.layer_base

    @property
    def norm(self) -> float:
        return float(np.linalg.norm(self.vector.astype(np.float64)))

    def describe(self) -> dict[str, Any]:
        """Everything but the vector itself, as plain JSON types (for meta.json and logs)."""
        return {
            "layer": self.layer,
            "layer_base": self.layer_base,
            "dim": self.dim,
            "norm": self.norm,
            "model_id": self.model_id,
            "method": self.method,
            "sha256": self.sha256,
        }

    # ------------------------------------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write an .npz (`vector` float32 + `meta` JSON text), atomically; returns the path written."""
        from zbb.io import atomic_write_bytes

        meta = {
            "format_version": FORMAT_VERSION,
            "layer": self.layer,
            "layer_base": self.layer_base,
            "model_id": self.model_id,
            "method": self.method,
            "sha256": self.sha256,
        }
        try:
            meta_text = json.dumps(meta, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SteeringError(f"perception vector method is not plain JSON: {exc}") from None
        buf = io.BytesIO()
        np.savez(buf, vector=self.vector, meta=np.array(meta_text))
        return atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> PerceptionVector:
        """Read a file written by `save`; a missing, foreign or altered file is a SteeringError naming it."""
        path = Path(path)
        if not path.is_file():
            raise SteeringError(f"{path}: no such perception vector file")
        try:
            with np.load(path, allow_pickle=False) as npz:
                names = set(npz.files)
                if not {"vector", "meta"} <= names:
                    raise SteeringError(
                        f"{path}: not a perception vector (.npz with 'vector' and 'meta'; has {sorted(names)})"
                    )
                vector = npz["vector"]
                meta_text = str(npz["meta"])
        except SteeringError:
            raise
        except (OSError, ValueError, EOFError) as exc:
            raise SteeringError(f"{path}: unreadable perception vector file ({exc})") from None
        try:
            meta = json.loads(meta_text)
        except json.JSONDecodeError as exc:
            raise SteeringError(f"{path}: 'meta' is not JSON ({exc.msg})") from None
        if not isinstance(meta, dict):
            raise SteeringError(f"{path}: 'meta' must be a JSON object")
        if meta.get("format_version") != FORMAT_VERSION:
            raise SteeringError(
                f"{path}: format_version {meta.get('format_version')!r}; this zbb reads {FORMAT_VERSION}"
            )
        missing = [k for k in ("layer", "layer_base", "sha256") if k not in meta]
        if missing:
            raise SteeringError(f"{path}: 'meta' lacks {missing}")
        try:
            return cls(
                vector=vector,
                layer=meta["layer"],
                layer_base=meta["layer_base"],
                model_id=str(meta.get("model_id", "")),
                method=dict(meta.get("method") or {}),
                sha256=str(meta["sha256"]),
            )
        except SteeringError as exc:
            raise SteeringError(f"{path}: {exc}") from None


# ------------------------------------------------------------------------------------------------ maths
def split_steps(
    s_gen: np.ndarray, s_perc: np.ndarray, *, perc_threshold: float = 0.0, gen_threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (perceptive, generative) over timesteps from the affinity margin `d = S_perc - S_gen`.

    A step is perception-dominant when `d > perc_threshold` and generation-dominant when `d < gen_threshold`;
    steps in between belong to neither set. `gen_threshold <= perc_threshold` keeps the sets disjoint.
    """
    if not (math.isfinite(perc_threshold) and math.isfinite(gen_threshold)):
        raise SteeringError(f"thresholds must be finite; got perc {perc_threshold}, gen {gen_threshold}")
    if gen_threshold > perc_threshold:
        raise SteeringError(
            f"gen_threshold ({gen_threshold}) must not exceed perc_threshold ({perc_threshold}): "
            "a step would be both perception- and generation-dominant"
        )
    gen = np.asarray(s_gen, dtype=np.float64)
    perc = np.asarray(s_perc, dtype=np.float64)
    if gen.ndim != 1 or perc.shape != gen.shape:
        raise SteeringError(f"S_gen and S_perc must be 1-D of the same length; got {gen.shape} and {perc.shape}")
    bad = ~(np.isfinite(gen) & np.isfinite(perc))
    if bad.any():
        raise SteeringError(f"affinities hold NaN/inf at {int(bad.sum())} step(s), first at step {int(np.argmax(bad))}")
    margin = perc - gen
    return margin > perc_threshold, margin < gen_threshold


def compute_perception_vector(
    hidden: Any,
    s_gen: Any,
    s_perc: Any,
    *,
    layer: int,
    layer_base: int = 0,
    model_id: str = "",
    perc_threshold: float = 0.0,
    gen_threshold: float = 0.0,
    method: dict[str, Any] | None = None,
) -> PerceptionVector:
    """`mu = mean(hidden[perceptive]) - mean(hidden[generative])`, in float64, stored as float32.

    `hidden` is [T, D] (one layer's hidden state per timestep; numpy or anything `np.asarray` takes), `s_gen` and
    `s_perc` are [T] affinities; steps are split by `split_steps`. `method` adds to the recorded provenance
    (the thresholds and the set sizes are always recorded). An empty set is a SteeringError saying how to fix it.
    """
    h = np.asarray(hidden)
    if h.ndim != 2 or h.shape[0] == 0 or h.shape[1] == 0:
        raise SteeringError(f"hidden states must be [T, D] with T, D > 0; got shape {tuple(h.shape)}")
    if not np.issubdtype(h.dtype, np.number):
        raise SteeringError(f"hidden states must be numbers; got dtype {h.dtype}")
    perceptive, generative = split_steps(s_gen, s_perc, perc_threshold=perc_threshold, gen_threshold=gen_threshold)
    if perceptive.shape[0] != h.shape[0]:
        raise SteeringError(f"{h.shape[0]} hidden states but {perceptive.shape[0]} affinity values: one per timestep")
    margin = np.asarray(s_perc, dtype=np.float64) - np.asarray(s_gen, dtype=np.float64)
    span = f"S_perc - S_gen ranges {margin.min():.4g} .. {margin.max():.4g} over {margin.size} steps"
    if not perceptive.any():
        raise SteeringError(
            f"no perception-dominant step (S_perc - S_gen > {perc_threshold}): {span}; lower perc_threshold"
        )
    if not generative.any():
        raise SteeringError(
            f"no generation-dominant step (S_perc - S_gen < {gen_threshold}): {span}; raise gen_threshold"
        )
    mu = h[perceptive].mean(axis=0, dtype=np.float64) - h[generative].mean(axis=0, dtype=np.float64)
    if not np.isfinite(mu).all():
        raise SteeringError("hidden states hold NaN/inf: the perception vector is not finite")
    record = {
        "kind": "mean-difference",
        "perc_threshold": float(perc_threshold),
        "gen_threshold": float(gen_threshold),
        "n_perceptive": int(perceptive.sum()),
        "n_generative": int(generative.sum()),
        "n_steps": int(h.shape[0]),
        **(method or {}),
    }
    return PerceptionVector(
        vector=mu.astype(np.float32), layer=layer, layer_base=layer_base, model_id=model_id, method=record
    )
