"""Onset-aligned S_gen / S_perc curves: the inertia length, the averaged curve, parquet and the plot (numpy/pandas).

Frames are model steps (80 ms for Moshi). `rel_frame = step - onset_frame`, where `onset_frame` is the frame that
holds the interruption's first sample; under the probe's step convention (zbb.probe.stream) step s has heard user
frames < s, so `rel_frame = 1` is the first step that has heard any of the interruption.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zbb.errors import ProbeError

#: Columns of curves.parquet, one row per (item, step).
CURVE_COLUMNS = (
    "item_id",
    "source",
    "step",
    "time_s",  # start of frame `step`, seconds from the start of the item's user audio
    "onset_frame",  # frame holding the interruption's first sample (null: no onset)
    "rel_frame",  # step - onset_frame (null: no onset)
    "s_gen",
    "s_perc",
    "margin",  # s_perc - s_gen
    "user_speaking",  # the user's channel has speech in this frame (null: unknown)
    "model_speaking",  # the model's channel has speech in this frame (null: unknown, e.g. a free-running model)
    "text_token",  # the model's own text token of this frame (what S_gen scores)
    "user_token",  # the user's first-codebook token of this frame (what S_perc scores)
)


def onset_frame(onset_sample: int | None, frame_size: int) -> int | None:
    return None if onset_sample is None else int(onset_sample) // frame_size


def inertia_frames(
    margin: Sequence[float] | np.ndarray, onset: int | None, *, threshold: float = 0.0, hold: int = 2
) -> int | None:
    """Frames from the onset frame until the state turns perceptive: the first step s >= onset from which
    `margin = S_perc - S_gen` exceeds `threshold` for `hold` consecutive steps, minus `onset`. None when there is
    no onset or it never turns within the curve."""
    if hold < 1:
        raise ProbeError(f"inertia hold must be at least 1 frame; got {hold}")
    if onset is None:
        return None
    above = np.asarray(margin, dtype=np.float64)[onset:] > threshold
    run = 0
    for i, flag in enumerate(above):
        run = run + 1 if flag else 0
        if run == hold:
            return i - hold + 1
    return None


def mean_curve(curves: pd.DataFrame, before: int, after: int) -> pd.DataFrame:
    """Mean and standard error of S_gen, S_perc and the margin per rel_frame in [-before, after], over items with
    an onset; `n` items contribute to each frame."""
    window = curves[curves["rel_frame"].notna()]
    window = window[(window["rel_frame"] >= -before) & (window["rel_frame"] <= after)]
    if window.empty:
        raise ProbeError("no item has an onset inside the curve window: nothing to align")
    grouped = window.groupby("rel_frame")
    out = pd.DataFrame({"n": grouped["item_id"].count()})
    for col in ("s_gen", "s_perc", "margin"):
        out[col] = grouped[col].mean()
        out[f"{col}_se"] = grouped[col].std(ddof=1).fillna(0.0) / np.sqrt(out["n"])
    out.index = out.index.astype(int)
    return out.reset_index()


def write_curves(curves: pd.DataFrame, path: str | Path) -> Path:
    from zbb.io import atomic_write_bytes

    missing = [c for c in CURVE_COLUMNS if c not in curves.columns]
    if missing:
        raise ProbeError(f"curves lack column(s) {missing}")
    return atomic_write_bytes(path, curves[list(CURVE_COLUMNS)].to_parquet(index=False))


def read_curves(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    try:
        curves = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ProbeError(f"{path}: unreadable curves parquet ({exc})") from None
    missing = [c for c in CURVE_COLUMNS if c not in curves.columns]
    if missing:
        raise ProbeError(f"{path}: not a probe's curves file; lacks column(s) {missing}")
    return curves


def plot_curves(
    mean: pd.DataFrame,
    path: str | Path,
    *,
    frame_ms: float,
    inertia: int | None,
    title: str,
    score: str,
    perception_lens: str,
    generation_lens: str = "text",
) -> Path:
    """The paper-style picture: mean S_gen and S_perc (with +-1 SE bands) around the onset, the onset line and
    the inertia span. Needs matplotlib (`pip install 'zbb[probe]'`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ProbeError("the plot needs matplotlib: pip install 'zbb[probe]' (or pass --no-plot)") from None
    from zbb.io import atomic_write_bytes

    x = mean["rel_frame"].to_numpy()
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    for col, label, color in (
        (
            "s_gen",
            "S_gen (own next text token, logit lens)"
            if generation_lens == "text"
            else f"S_gen (own next audio token, {generation_lens} lens)",
            "tab:red",
        ),
        ("s_perc", f"S_perc (user's next audio token, {perception_lens} lens)", "tab:blue"),
    ):
        y, se = mean[col].to_numpy(), mean[f"{col}_se"].to_numpy()
        ax.plot(x, y, color=color, label=label, marker="o", markersize=3)
        ax.fill_between(x, y - se, y + se, color=color, alpha=0.18, linewidth=0)
    ax.axvline(0, color="black", linestyle="--", linewidth=1, label="interruption onset")
    if inertia is not None:
        ax.axvspan(
            0, inertia, color="tab:orange", alpha=0.15, label=f"inertia: {inertia} frames ({inertia * frame_ms:.0f} ms)"
        )
    else:
        ax.plot([], [], " ", label="inertia: no crossing in window")
    ax.set_xlabel(f"frames from the interruption onset ({frame_ms:.0f} ms each)")
    ax.set_ylabel("affinity" + (" (probability)" if score == "prob" else " (log-probability)"))
    n_max = int(mean["n"].max())
    ax.set_title(f"{title} (n = {n_max})".replace("$", r"\$"), fontsize=10)  # a model id is not mathtext
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
