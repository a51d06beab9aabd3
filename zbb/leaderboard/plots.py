"""Plotly figures of the board: correctness vs IWOR with steering arrows, bars per condition with intervals,
dose-response over alpha, and the simulated listeners' IWOR vs missed milliseconds. Each takes board rows or
runs (from table.py) and returns a `plotly.graph_objects.Figure`; plotly is imported inside the functions.

Every point can be told apart: a legend entry per model (up to `LEGEND_MODELS` models; beyond that the hover
text), and hover text naming model, condition, rate and 95% interval. Names come from uploads, so every label,
legend entry and hover text is escaped (`plot_text`): plotly would otherwise draw the tags it knows (<a>, <b>)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zbb.conditions import INTERRUPT
from zbb.leaderboard.safe import plot_text
from zbb.leaderboard.table import BOARD_CONDITIONS, METRIC_LABELS, Board, RunSummary

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC", "#EECA3B")
CONDITION_COLOURS = {"ni": "#54A24B", "int": "#E45756", "steer": "#4C78A8", "buf": "#EECA3B"}
#: Keys a simulated listener's `meta.decoding` may use for how much of the claim's start it misses.
MISSED_MS_KEYS = ("missed_ms", "miss_ms", "missed_onset_ms")
#: Up to this many models, the scatter has one legend entry per model; beyond it, hover text names each point.
LEGEND_MODELS = 30


def _layout(fig: Figure, title: str, x: str, y: str, *, height: int = 440) -> Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(size=16)),
        template="plotly_white",
        height=height,
        margin=dict(l=60, r=20, t=56, b=40),
        xaxis_title=x,
        yaxis_title=y,
        legend=dict(orientation="h", yanchor="top", y=-0.16, x=0),
        font=dict(family="Inter, system-ui, sans-serif", size=12),
    )
    return fig


def _empty(fig: Figure, message: str) -> Figure:
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=14, color="#777")
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _models(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Simulated listeners have their own plot; the model plots leave them out."""
    return [r for r in rows if r.get("kind") != "simulation"]


def _raw_label(row: dict[str, Any]) -> str:
    name = str(row["model"])[:60]
    tags = [] if row["kind"] == "reproduced" else [str(row["kind"])]
    if row.get("uploader"):
        tags.append(f"by {str(row['uploader'])[:40]}")
    return f"{name} ({', '.join(tags)})" if tags else name


def _labels(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Each row's escaped label by row key; rows whose labels coincide get #2, #3, ... so none merge."""
    seen: dict[str, int] = {}
    out = {}
    for r in rows:
        raw = _raw_label(r)
        seen[raw] = seen.get(raw, 0) + 1
        out[r["key"]] = plot_text(raw if seen[raw] == 1 else f"{raw} #{seen[raw]}", limit=120)
    return out


def _label(row: dict[str, Any]) -> str:
    return plot_text(_raw_label(row), limit=120)


def _err(row: dict[str, Any], key: str) -> tuple[float, float]:
    return row[key] - row[f"{key}_lo"], row[f"{key}_hi"] - row[key]


def _error_bars(down: Sequence[Any], up: Sequence[Any], **style: Any) -> dict[str, Any]:
    """Plotly's asymmetric error bars: `down`/`up` are the distances from each point to its interval's ends."""
    return dict(type="data", symmetric=False, array=list(up), arrayminus=list(down), **style)


def _interval(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:.2f} [{row[f'{key}_lo']:.2f}, {row[f'{key}_hi']:.2f}]"


def correctness_vs_iwor(rows: Sequence[dict[str, Any]]) -> Figure:
    """Each model's interrupt point (circle), steered point (diamond) and no-interrupt point (star), with an arrow
    from interrupt to steered. One trace per condition (not per model), so hundreds of models draw quickly."""
    import plotly.graph_objects as go

    fig = go.Figure()
    shown = [r for r in _models(rows) if r.get("int_correct") is not None and r.get("int_iwor") is not None]
    if not shown:
        return _layout(_empty(fig, "no interrupt results yet"), "Correctness vs IWOR", "", "")
    colours = {r["key"]: PALETTE[i % len(PALETTE)] for i, r in enumerate(shown)}
    arrows_x: list[float | None] = []
    arrows_y: list[float | None] = []
    arrow_colours: list[str] = []
    for r in shown:
        if r.get("steer_correct") is not None and r.get("steer_iwor") is not None:
            arrows_x += [r["int_iwor"], r["steer_iwor"], None]
            arrows_y += [r["int_correct"], r["steer_correct"], None]
            arrow_colours += [colours[r["key"]]] * 3
    if arrows_x:
        fig.add_trace(
            go.Scatter(
                x=arrows_x,
                y=arrows_y,
                mode="lines+markers",
                hoverinfo="skip",
                showlegend=False,
                line=dict(color="rgba(90,100,120,0.45)", width=1.6),
                marker=dict(
                    symbol="arrow",
                    angleref="previous",
                    size=11,
                    color=arrow_colours,
                    opacity=[0, 1, 0] * (len(arrows_x) // 3),
                ),
            )
        )
    labels = _labels(shown)
    conditions = (
        ("ni", "star-open", "no interrupt"),
        ("int", "circle", "interrupt"),
        ("steer", "diamond", "interrupt + steer"),
    )

    def points(rs: Sequence[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
        return [r for r in rs if r.get(f"{prefix}_correct") is not None and r.get(f"{prefix}_iwor") is not None]

    def hover(r: dict[str, Any], prefix: str, cond: str) -> str:
        return (
            f"<b>{labels[r['key']]}</b><br>{cond}<br>correctness {_interval(r, f'{prefix}_correct')}"
            f"<br>IWOR {_interval(r, f'{prefix}_iwor')}"
        )

    def trace(
        pts: list[dict[str, Any]],
        prefix: str,
        symbol: str,
        cond: str,
        *,
        name: str,
        colour: str | dict[str, str],  # one colour, or each model's by key
        legendgroup: str,
        showlegend: bool,
    ) -> Any:  # a plotly Scatter
        return go.Scatter(
            x=[r[f"{prefix}_iwor"] for r in pts],
            y=[r[f"{prefix}_correct"] for r in pts],
            name=name,
            legendgroup=legendgroup,
            showlegend=showlegend,
            mode="markers",
            text=[hover(r, prefix, cond) for r in pts],
            hoverinfo="text",
            marker=dict(
                symbol=symbol,
                size=13 if prefix != "ni" else 11,
                color=colour if isinstance(colour, str) else [colour[r["key"]] for r in pts],
                line=dict(width=1.5, color="white" if prefix != "ni" else None),
            ),
            error_x=_error_bars(
                [_err(r, f"{prefix}_iwor")[0] for r in pts],
                [_err(r, f"{prefix}_iwor")[1] for r in pts],
                thickness=0.8,
                width=0,
                color="rgba(120,120,120,0.5)",
            ),
            error_y=_error_bars(
                [_err(r, f"{prefix}_correct")[0] for r in pts],
                [_err(r, f"{prefix}_correct")[1] for r in pts],
                thickness=0.8,
                width=0,
                color="rgba(120,120,120,0.5)",
            ),
        )

    if len(shown) <= LEGEND_MODELS:  # a legend entry per model (clicking it hides that model's points)
        for r in shown:
            first = True
            for prefix, symbol, cond in conditions:
                if points([r], prefix):
                    fig.add_trace(
                        trace(
                            [r],
                            prefix,
                            symbol,
                            cond,
                            name=labels[r["key"]],
                            colour=colours[r["key"]],
                            legendgroup=r["key"],
                            showlegend=first,
                        )
                    )
                    first = False
        for _prefix, symbol, cond in conditions:  # the shape key: grey markers, one per condition
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"shape: {cond}",
                    legendgroup="shapes",
                    marker=dict(symbol=symbol, size=11, color="#888"),
                    hoverinfo="skip",
                )
            )
    else:  # too many models for a legend: one trace per condition, hover names each point
        for prefix, symbol, cond in conditions:
            pts = points(shown, prefix)
            if pts:
                fig.add_trace(
                    trace(pts, prefix, symbol, cond, name=cond, colour=colours, legendgroup=cond, showlegend=True)
                )
    fig.update_xaxes(range=[-0.02, 1.02])
    fig.update_yaxes(range=[-0.02, 1.02])
    return _layout(
        fig,
        "Correctness vs IWOR: arrows go from interrupt to interrupt + steer",
        "IWOR (heard the first word)",
        "correctness",
        height=540,
    )


def bars_by_condition(rows: Sequence[dict[str, Any]], metric: str = "correct", max_models: int = 20) -> Figure:
    """Grouped horizontal bars: one group per model (the first `max_models` in board order, top to bottom), one
    bar per condition, 95% intervals as error bars. Model names sit on the y axis, where long names never
    overlap or get cut (the axis margin grows to fit them)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    rows = _models(rows)[:max_models]
    by_key = _labels(rows)
    labels = [by_key[r["key"]] for r in rows]
    for prefix, (cond_label, _cond) in BOARD_CONDITIONS.items():
        key = f"{prefix}_{metric}"
        ys = [r.get(key) for r in rows]
        if all(y is None for y in ys):
            continue
        up = [r[f"{key}_hi"] - r[key] if r.get(key) is not None else None for r in rows]
        down = [r[key] - r[f"{key}_lo"] if r.get(key) is not None else None for r in rows]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=ys,
                orientation="h",
                name=cond_label,
                marker_color=CONDITION_COLOURS[prefix],
                error_x=_error_bars(down, up, thickness=1.2),
                text=[
                    f"<b>{lab}</b><br>{cond_label}<br>{METRIC_LABELS[metric]} {_interval(r, key)}"
                    if r.get(key) is not None
                    else ""
                    for lab, r in zip(labels, rows, strict=True)
                ],
                textposition="none",
                hoverinfo="text",
            )
        )
    if not fig.data:
        return _layout(_empty(fig, "no results yet"), "", "", "")
    fig.update_layout(barmode="group", bargap=0.25, legend_traceorder="normal")
    fig.update_xaxes(range=[0, 1.05])
    fig.update_yaxes(autorange="reversed", automargin=True)  # board order from the top
    bars = sum(1 for t in fig.data)
    return _layout(
        fig,
        f"{METRIC_LABELS[metric].capitalize()} by condition (95% Wilson intervals)",
        METRIC_LABELS[metric],
        "",
        height=max(320, 140 + 18 * bars * len(rows)),
    )


def dose_response_points(board: Board, metric: str = "correct") -> dict[str, list[tuple[float, float, float, float]]]:
    """Per model with steered runs at two or more alphas: (alpha, rate, low, high) on interrupt rows, the
    unsteered run as alpha 0."""
    out: dict[str, list[tuple[float, float, float, float]]] = {}
    for entry in board.entries:
        points: dict[float, RunSummary] = {}
        for run in entry.steered_runs:
            steering = run.result.meta.steering
            alpha = steering.alpha if steering is not None else None
            if alpha is None or run.rate(INTERRUPT, metric) is None:
                continue
            if alpha not in points or run.scored_at > points[alpha].scored_at:
                points[alpha] = run
        if len(points) < 2:
            continue
        if entry.unsteered is not None and entry.unsteered.rate(INTERRUPT, metric) is not None:
            points.setdefault(0.0, entry.unsteered)
        name = _raw_label({"model": entry.model, "kind": entry.kind, "uploader": entry.uploader})
        while name in out:
            name += " *"
        rates = {a: run.rate(INTERRUPT, metric) for a, run in points.items()}
        out[name] = [(a, r.rate, r.ci_low, r.ci_high) for a in sorted(rates) if (r := rates[a]) is not None]
    return out


def dose_response(board: Board, metric: str = "correct") -> Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, pts) in enumerate(dose_response_points(board, metric).items()):
        xs, ys, lo, hi = zip(*pts, strict=True)
        label = plot_text(name, limit=120)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=label,
                line=dict(color=PALETTE[i % len(PALETTE)], width=2),
                error_y=_error_bars(
                    [y - low for y, low in zip(ys, lo, strict=True)],
                    [h - y for h, y in zip(hi, ys, strict=True)],
                    thickness=1,
                ),
                text=[
                    f"<b>{label}</b><br>interrupt{' + steer' if a else ''}, α={a:g}<br>"
                    f"{METRIC_LABELS[metric]} {y:.2f} [{low:.2f}, {h:.2f}]"
                    for a, y, low, h in pts
                ],
                hoverinfo="text",
            )
        )
    if not fig.data:
        _empty(fig, "no model has steered runs at two or more alphas yet")
    return _layout(
        fig,
        f"Dose-response: interrupt {METRIC_LABELS[metric]} vs α (0 = unsteered)",
        "steering strength α",
        METRIC_LABELS[metric],
    )


def missed_ms(run: RunSummary) -> float | None:
    decoding = run.result.meta.decoding or {}
    for key in MISSED_MS_KEYS:
        if isinstance(decoding.get(key), (int, float)):
            return float(decoding[key])
    return None


def simulated_listener_points(
    board: Board, condition: str = INTERRUPT, metric: str = "iwor"
) -> list[tuple[float, float, float, float, str]]:
    """(missed ms, rate, low, high, model) of every simulation run that says how much of the claim it missed."""
    pts = []
    for run in board.runs:
        ms = missed_ms(run)
        rate = run.rate(condition, metric)
        if run.kind == "simulation" and ms is not None and rate is not None and not run.result.steered:
            pts.append((ms, rate.rate, rate.ci_low, rate.ci_high, run.model))
    return sorted(pts)


def simulated_listeners(board: Board) -> Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    for metric, colour in (("iwor", "#4C78A8"), ("correct", "#F58518")):
        pts = simulated_listener_points(board, metric=metric)
        if not pts:
            continue
        xs, ys, lo, hi, names = zip(*pts, strict=True)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=METRIC_LABELS[metric],
                line=dict(color=colour, width=2),
                text=[
                    f"<b>{plot_text(n)}</b><br>interrupt, missed {x:.0f} ms<br>"
                    f"{METRIC_LABELS[metric]} {y:.2f} [{low:.2f}, {h:.2f}]"
                    for x, y, low, h, n in pts
                ],
                hoverinfo="text",
                error_y=_error_bars(
                    [y - low for y, low in zip(ys, lo, strict=True)],
                    [h - y for h, y in zip(hi, ys, strict=True)],
                    thickness=1,
                ),
            )
        )
    if not fig.data:
        _empty(fig, "no simulated listeners stored (zbb simulate)")
    fig.update_yaxes(range=[0, 1.05])
    return _layout(
        fig, "Simulated listeners: cost of missing the claim's start", "milliseconds of the claim missed", "rate"
    )
