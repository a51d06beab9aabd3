"""The Gradio app: lays out the table functions, plots, per-sample view and upload of the leaderboard.

All figures come from `table.py` / `plots.py`; this file wires components to them. The view (sort, search,
filters, columns) is mirrored into the page URL with `history.replaceState` and read back on load, so a view can
be shared as a link.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zbb.errors import ZbbError
from zbb.leaderboard import plots
from zbb.leaderboard.store import HubResults, ResultStore
from zbb.leaderboard.table import (
    COLUMN_GROUPS,
    COLUMNS,
    PROVENANCE_BADGES,
    PROVENANCE_KINDS,
    STEERING_FILTERS,
    Board,
    ViewState,
    apply_view,
    build_board,
    column_widths,
    display_table,
    export_records,
    item_records,
    items_csv,
    items_jsonl,
    run_rows,
    steering_text,
    to_csv,
    to_json,
)

TITLE = "Zero-Buffer Benchmark (ZBB) leaderboard"
INTRO = """
# 🎙️ Zero-Buffer Benchmark leaderboard
Do full-duplex spoken language models hear the **first word** of an abrupt interruption?
Each ZBB item is a spoken claim whose subject is its very first word (*"Submarine flies in the clouds, right?"*),
heard while the model **listens** (no interrupt), **cutting in** while it talks (interrupt, zero buffer),
and cutting in with **activation steering** on. **Correctness**: the reply gets the claim right.
**IWOR**: the reply mentions the subject, i.e. the model heard the first word.
"""
LEGEND = """
**Cells**: rate **bold** with its 95% Wilson interval. **Rank** by interrupt correctness: 1 + the number of models
whose lower bound is above this model's upper bound, so models whose intervals overlap share a rank.
**Δ steer** = steered − unsteered on interrupt rows, with the exact **McNemar p** when both runs have per-item rows.
**Recovery** = (steer − interrupt) / (no interrupt − interrupt). **Inertia gap** = no interrupt − interrupt;
**buffer gap** = buffered − interrupt (how much a spoken filler hides inertia).
Where a model has several steered runs, its row shows the one with the best interrupt correctness (ties: the most
recent); every run is listed under *All runs* and in the dose-response plot.
Provenance: ✅ reproduced by the maintainers · 📝 self-reported upload · 📄 paper-reported (n = 100, no items) ·
🧪 simulation.
"""
SORT_CHOICES = [(c.label, c.key) for c in COLUMNS if c.kind != "link"]
CSS = """
.gradio-container {max-width: 1500px !important; margin: auto;}
#zbb-table table, #zbb-table td, #zbb-table th, #zbb-table td * {font-size: 13px; font-family: var(--font) !important;}
#zbb-table .zbb-badge {display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11.5px; font-weight: 600;}
.zbb-reproduced {background: #dcfce7; color: #166534;}
.zbb-self-reported {background: #e0e7ff; color: #3730a3;}
.zbb-paper-reported {background: #fef3c7; color: #92400e;}
.zbb-simulation {background: #f1f5f9; color: #475569;}
#zbb-table sub {color: #8a8f98; font-size: 10.5px; vertical-align: baseline; margin-left: 2px;}
#zbb-table th {white-space: normal !important; font-weight: 600;}
#zbb-legend {font-size: 12.5px; color: #555;}
#zbb-status {font-size: 12.5px; color: #666;}
"""
URL_JS = """(q) => { const u = new URL(window.location.href); u.search = q ? '?' + q : '';
history.replaceState(null, '', u.toString()); return q; }"""


class BoardSource:
    """The current board, rebuilt from the store after an upload or on request (shared by every session)."""

    def __init__(self, store: ResultStore, hub: HubResults | None = None):
        self.store = store
        self.hub = hub
        self._lock = threading.Lock()
        self.board: Board = self.reload()

    def reload(self) -> Board:
        with self._lock:
            self.board = build_board(self.store.summaries())
            return self.board

    def status(self) -> str:
        b = self.board
        text = f"{len(b.rows)} models · {len(b.runs)} runs · results from `{self.store.root}`"
        if self.hub is not None:
            text += f" (mirrored from the Hub dataset `{self.hub.repo_id}`)"
        if self.store.problems:
            text += "\n\n⚠️ unreadable result files:\n" + "\n".join(
                f"- `{p.where}`: {p.message}" for p in self.store.problems[:20]
            )
        return text


def _dataframe_value(board: Board, view: ViewState):
    import pandas as pd

    headers, cells, _types = display_table(apply_view(board, view), view)
    return pd.DataFrame(cells, columns=headers)


def render_view(board: Board, view: ViewState, folder: Path) -> tuple[Any, str, str, str]:
    """The table value plus CSV and JSON files of the current view, and its query string."""
    rows = apply_view(board, view)
    records = export_records(rows, view)
    stem = f"zbb-leaderboard{('-' + str(abs(hash(view.to_query())) % 10**8)) if view.to_query() else ''}"
    csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
    csv_path.write_text(to_csv(records), encoding="utf-8")
    json_path.write_text(to_json(records, view), encoding="utf-8")
    return _dataframe_value(board, view), str(csv_path), str(json_path), view.to_query()


def build_app(store: ResultStore, *, dataset=None, hub: HubResults | None = None, asr: str = "pocketsphinx"):
    """The leaderboard as a `gr.Blocks` (not launched)."""
    import gradio as gr

    source = BoardSource(store, hub)
    export_dir = Path(tempfile.mkdtemp(prefix="zbb-board-"))
    default = ViewState()

    def view_from(search, steering, provenance, family, sort, desc, groups) -> ViewState:
        return ViewState(
            sort=sort or "rank",
            desc=bool(desc),
            search=(search or "").strip(),
            steering=steering or "any",
            provenance=tuple(provenance or ()),
            family=tuple(family or ()),
            groups=tuple(g for g in COLUMN_GROUPS if g in (groups or ())),
        )

    def table_component(board: Board, view: ViewState, **kw):
        headers, _cells, types = display_table(apply_view(board, view), view)
        return gr.Dataframe(
            value=_dataframe_value(board, view), datatype=types, column_widths=column_widths(view), **kw
        )

    def rerender(search, steering, provenance, family, sort, desc, groups):
        view = view_from(search, steering, provenance, family, sort, desc, groups)
        board = source.board
        df, csv_path, json_path, query = render_view(board, view, export_dir)
        _h, _c, types = display_table([], view)
        return gr.Dataframe(value=df, datatype=types, column_widths=column_widths(view)), csv_path, json_path, query

    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(INTRO)
        status = gr.Markdown(source.status(), elem_id="zbb-status")
        with gr.Tabs():
            # ----------------------------------------------------------------------------------- table
            with gr.Tab("🏆 Leaderboard", id="board"):
                with gr.Row(equal_height=True):
                    search = gr.Textbox(
                        label="Search models", placeholder="moshi, personaplex, ...", scale=3, max_lines=1
                    )
                    steering = gr.Radio(list(STEERING_FILTERS), value=default.steering, label="Steered run", scale=2)
                    sort = gr.Dropdown(SORT_CHOICES, value=default.sort, label="Sort by", scale=2)
                    desc = gr.Checkbox(value=default.desc, label="Descending", scale=1)
                with gr.Row(equal_height=True):
                    provenance = gr.CheckboxGroup(
                        [(PROVENANCE_BADGES[k], k) for k in PROVENANCE_KINDS],
                        label="Provenance (none ticked: all)",
                        scale=3,
                    )
                    family = gr.Dropdown(
                        source.board.families, multiselect=True, label="Model family (empty: all)", scale=2
                    )
                with gr.Accordion("Columns", open=False):
                    groups = gr.CheckboxGroup(
                        [(label, g) for g, label in COLUMN_GROUPS.items()],
                        value=list(default.groups),
                        label="Column groups",
                        show_label=False,
                    )
                table = table_component(
                    source.board,
                    default,
                    elem_id="zbb-table",
                    pinned_columns=2,
                    interactive=False,
                    wrap=True,
                    max_height=640,
                    show_search="search",
                    label="Models",
                    show_label=False,
                )
                with gr.Row():
                    csv_btn = gr.DownloadButton("⬇ CSV of this view", size="sm", variant="secondary")
                    json_btn = gr.DownloadButton("⬇ JSON of this view", size="sm", variant="secondary")
                    reload_btn = gr.Button("↻ Reload results", size="sm", variant="secondary")
                query = gr.Textbox(visible=False, elem_id="zbb-query")
                gr.Markdown(LEGEND, elem_id="zbb-legend")
                with gr.Accordion("All runs (every alpha and repeat)", open=False):
                    runs_table = gr.Dataframe(
                        _runs_frame(source.board), interactive=False, wrap=True, max_height=420, show_search="search"
                    )
            # ----------------------------------------------------------------------------------- plots
            with gr.Tab("📈 Plots", id="plots"):
                scatter = gr.Plot(plots.correctness_vs_iwor(source.board.rows))
                bar_metric = gr.Radio([("correctness", "correct"), ("IWOR", "iwor")], value="correct", label="Metric")
                bars = gr.Plot(plots.bars_by_condition(source.board.rows, "correct"))
                with gr.Row():
                    dose = gr.Plot(plots.dose_response(source.board, "correct"))
                    sims = gr.Plot(plots.simulated_listeners(source.board))
            # ----------------------------------------------------------------------------------- samples
            with gr.Tab("🔎 Samples", id="samples"):
                gr.Markdown(
                    "Pick a run and a row: hear the user audio and the model's reply, read the transcript "
                    "and the judge's verdict."
                    + (
                        ""
                        if dataset is not None
                        else " *(No dataset configured: user audio is unavailable; start with `--dataset`.)*"
                    )
                )
                with gr.Row():
                    run_pick = gr.Dropdown(_run_choices(source.board), label="Run", scale=3)
                    cond_pick = gr.Dropdown([], label="Condition", scale=1)
                    item_pick = gr.Dropdown([], label="Row", scale=2)
                with gr.Row():
                    user_audio = gr.Audio(label="User audio (dataset)", interactive=False)
                    model_audio = gr.Audio(label="Model output (submitted)", interactive=False)
                verdict = gr.Markdown()
                items_table = gr.Dataframe(
                    interactive=False, wrap=True, max_height=360, show_search="search", label="Scored rows"
                )
                with gr.Row():
                    items_csv_btn = gr.DownloadButton("⬇ rows as CSV", size="sm")
                    items_jsonl_btn = gr.DownloadButton("⬇ rows as JSONL", size="sm")
            # ----------------------------------------------------------------------------------- submit
            with gr.Tab("📤 Submit", id="submit"):
                gr.Markdown(
                    "Upload a submission: one **.zip**, or **responses.jsonl** + **meta.json**. It is "
                    "validated, scored here with the rule judge, and stored as 📝 *self-reported*. "
                    "Check it first with `zbb validate`."
                )
                upload = gr.File(file_count="multiple", file_types=[".zip", ".jsonl", ".json"], label="Submission")
                submit_btn = gr.Button("Validate and score", variant="primary")
                submit_out = gr.Markdown()
            with gr.Tab("ℹ️ About", id="about"):
                gr.Markdown(ABOUT)

        controls = [search, steering, provenance, family, sort, desc, groups]
        outputs = [table, csv_btn, json_btn, query]
        for control in controls:
            event = control.submit if control is search else control.change
            event(
                rerender,
                inputs=controls,
                outputs=outputs,
                show_progress="hidden",
                trigger_mode="always_last",
                api_name=False,
            )
        search.change(
            rerender,
            inputs=controls,
            outputs=outputs,
            show_progress="hidden",
            trigger_mode="always_last",
            api_name=False,
        )
        query.change(None, inputs=query, outputs=None, js=URL_JS)

        def on_load(request: gr.Request):  # gradio injects the page request by this annotation
            params = dict(request.query_params) if request is not None else {}
            view = ViewState.from_query(params)
            df, csv_path, json_path, q = render_view(source.board, view, export_dir)
            _h, _c, types = display_table([], view)
            return (
                view.search,
                view.steering,
                list(view.provenance),
                gr.Dropdown(choices=source.board.families, value=list(view.family)),
                view.sort,
                view.desc,
                list(view.groups),
                gr.Dataframe(value=df, datatype=types, column_widths=column_widths(view)),
                csv_path,
                json_path,
                q,
            )

        on_load.__annotations__["request"] = gr.Request  # the string annotation (future import) is not resolvable
        demo.load(on_load, inputs=None, outputs=[*controls, *outputs], api_name=False)

        def board_query(q: str = "") -> list[dict]:
            """The board's rows for a view query string (the same records the CSV/JSON downloads hold)."""
            view = ViewState.from_query(q or "")
            return export_records(apply_view(source.board, view), view)

        gr.api(board_query, api_name="board")

        def after_reload(*values):
            source.reload()
            return (
                *rerender(*values),
                source.status(),
                _runs_frame(source.board),
                gr.Dropdown(choices=_run_choices(source.board)),
                plots.correctness_vs_iwor(source.board.rows),
                plots.dose_response(source.board, "correct"),
                plots.simulated_listeners(source.board),
            )

        refreshed = [*outputs, status, runs_table, run_pick, scatter, dose, sims]
        reload_btn.click(after_reload, inputs=controls, outputs=refreshed, api_name=False)
        bar_metric.change(
            lambda m: plots.bars_by_condition(source.board.rows, m), inputs=bar_metric, outputs=bars, api_name=False
        )

        # ----------------------------------------------------------------------------------- samples wiring
        def pick_run(key):
            if not key:
                return gr.Dropdown(choices=[]), None, None, None
            result = store.load(key)
            conds = sorted({it.condition for it in result.items})
            stem = f"{key.replace('/', '_')}-rows"
            csv_path, jsonl_path = export_dir / f"{stem}.csv", export_dir / f"{stem}.jsonl"
            csv_path.write_text(items_csv(result.items), encoding="utf-8")
            jsonl_path.write_text(items_jsonl(result.items), encoding="utf-8")
            import pandas as pd

            frame = pd.DataFrame(item_records(result.items))
            return (
                gr.Dropdown(choices=conds, value=conds[0] if conds else None),
                frame,
                str(csv_path) if result.items else None,
                str(jsonl_path) if result.items else None,
            )

        def pick_condition(key, condition):
            if not key or not condition:
                return gr.Dropdown(choices=[], value=None)
            result = store.load(key)
            ids = [it.id for it in result.items if it.condition == condition]
            return gr.Dropdown(choices=ids, value=ids[0] if ids else None)

        def pick_item(key, condition, item_id):
            if not key or not condition or not item_id:
                return None, None, ""
            view = sample_view(store, dataset, key, condition, item_id)
            if view.warning:
                gr.Warning(view.warning)
            user = (view.user_rate, view.user_audio) if view.user_audio is not None else None
            return user, (str(view.model_audio) if view.model_audio else None), view.markdown

        run_pick.change(
            pick_run, inputs=run_pick, outputs=[cond_pick, items_table, items_csv_btn, items_jsonl_btn], api_name=False
        )
        cond_pick.change(pick_condition, inputs=[run_pick, cond_pick], outputs=item_pick, api_name=False)
        # The run dropdown opens on a value, which fires no change event: fill its rows on page load too (the
        # condition and row pickers then follow through their own change events).
        demo.load(
            pick_run, inputs=run_pick, outputs=[cond_pick, items_table, items_csv_btn, items_jsonl_btn], api_name=False
        )
        item_pick.change(
            pick_item,
            inputs=[run_pick, cond_pick, item_pick],
            outputs=[user_audio, model_audio, verdict],
            api_name=False,
        )

        # ----------------------------------------------------------------------------------- submit wiring
        def do_submit(files):
            from zbb.leaderboard.submit import submit

            paths = [f if isinstance(f, str) else getattr(f, "name", None) for f in (files or [])]
            outcome = submit(store, [p for p in paths if p], dataset, asr=asr)
            if not outcome.ok:
                return outcome.message()
            try:  # the run is stored; a failure mirroring it or redrawing the board is reported, not raised
                if hub is not None:
                    hub.push(store, outcome.key)
                source.reload()
            except Exception as exc:
                logging.getLogger(__name__).exception("zbb leaderboard: after storing %s", outcome.key)
                return outcome.message() + f"\n\n⚠️ but publishing it failed ({type(exc).__name__}); see the server log."
            return outcome.message()

        submit_btn.click(do_submit, inputs=upload, outputs=submit_out, api_name="submit", concurrency_limit=1).then(
            lambda *values: after_reload(*values), inputs=controls, outputs=refreshed, api_name=False
        )
    return demo


def _runs_frame(board: Board):
    import pandas as pd

    return pd.DataFrame(run_rows(board))


def _run_choices(board: Board) -> list[tuple[str, str]]:
    """Runs that have per-item rows, labelled for the picker."""
    choices = []
    for entry in board.entries:
        for run in entry.runs:
            if run.outcomes:
                steer = f"steered ({steering_text(run)})" if run.result.steered else "unsteered"
                choices.append((f"{entry.model} · {steer} · {entry.kind} · {run.scored_at[:10]}", run.key))
    return choices


@dataclass(frozen=True)
class SampleView:
    """What the Samples tab shows for one row of one run (plain data, so it is testable without a browser)."""

    markdown: str  # claim, reply, verdict, reason, whether the subject was heard
    user_audio: Any = None  # float32 samples of the row's user audio, when a dataset is configured
    user_rate: int | None = None
    model_audio: Path | None = None  # the model's submitted output audio, when the submission had audio
    warning: str = ""


def sample_view(store: ResultStore, dataset, key: str, condition: str, item_id: str) -> SampleView:
    """One row of one stored run: its verdict, the dataset's user audio and the submitted model audio."""
    result = store.load(key)
    item = next((it for it in result.items if it.id == item_id and it.condition == condition), None)
    if item is None:
        return SampleView(markdown=f"no row {item_id!r} in {condition!r} of this run")
    samples, rate, warning = None, None, ""
    if dataset is not None:
        try:
            samples, rate = dataset.audio(condition, item_id)
        except ZbbError as exc:
            warning = str(exc)
    return SampleView(
        markdown=_verdict_markdown(item, dataset, condition),
        user_audio=samples,
        user_rate=rate,
        model_audio=store.audio_path(key, condition, item_id),
        warning=warning,
    )


def _verdict_markdown(item, dataset, condition: str) -> str:
    claim = ""
    if dataset is not None:
        try:
            clip = dataset.clip(condition, item.id)
            claim = f"**Claim** ({'true' if clip.label else 'false'}): “{clip.text}”  \n"
        except ZbbError:
            claim = ""
    verdict = "✅ correct" if item.correct else "❌ wrong"
    heard = "👂 subject heard" if item.subject_hit else "🙉 subject not heard"
    return (
        f"{claim}**Reply**: “{item.response or '(nothing)'}”  \n"
        f"**Judge**: {verdict} · stance *{item.stance}* · {heard}"
        + (" · missing in submission" if item.missing else "")
        + (f"  \n**Reason**: {item.judge_reason}" if item.judge_reason else "")
    )


ABOUT = """
### What ZBB measures
Full-duplex models keep "talking" internally for a few hundred milliseconds after a user cuts in (*state inertia*),
and miss the first word. ZBB puts the claim's subject first, with no filler, so a model that misses the start
cannot know what the claim is about. Paper: *Overcoming State Inertia in Full-Duplex Spoken Language Models via
Activation Steering* (Chang, Chang, Liu, Glass, 2026).

### Submitting
Run your model on the ZBB dataset, write `responses.jsonl` + `meta.json` (see `docs/submission.schema.json`),
check it with `zbb validate`, score it with `zbb score`, or upload it in the *Submit* tab. Uploads are scored here
and marked self-reported; maintainers mark reproduced results after re-running them.

### Reading the numbers
Paper-reported rows come from the paper's Table 2 (n = 100, no per-item rows, so no McNemar test). Intervals are
95% Wilson intervals. A Δ from steering is only meaningful with its paired test.
"""


def launch(
    store: ResultStore,
    *,
    dataset=None,
    hub: HubResults | None = None,
    port: int | None = None,
    share: bool = False,
    host: str = "127.0.0.1",
    block: bool = True,
    asr: str = "pocketsphinx",
):
    """Build and launch the app; returns the `gr.Blocks` (non-blocking when `block` is False)."""
    import gradio as gr

    demo = build_app(store, dataset=dataset, hub=hub, asr=asr)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        prevent_thread_lock=not block,
        quiet=not block,
        theme=gr.themes.Soft(primary_hue="indigo", neutral_hue="slate"),
        css=CSS,
        footer_links=["api"],
        max_file_size="200mb",
        ssr_mode=False,
        allowed_paths=[str(store.root.resolve())],
    )
    return demo


def open_store(results: str | os.PathLike, *, repo: str | None = None) -> tuple[ResultStore, HubResults | None]:
    """The store under `results`, first mirroring the Hub results repo (flag or ZBB_RESULTS_REPO) into it."""
    store = ResultStore(results)
    hub = HubResults(repo, token=os.environ.get("HF_TOKEN")) if repo else HubResults.from_env()
    if hub is not None:
        hub.pull(store)
    return store, hub


def print_board(store: ResultStore) -> int:
    """Print the default view as CSV (for scripts and the terminal)."""
    board = build_board(store.summaries())
    view = ViewState()
    print(to_csv(export_records(apply_view(board, view), view)), end="")
    for p in store.problems:
        print(f"warning: {p}", file=__import__("sys").stderr)
    return 0


def serve(
    store: ResultStore,
    *,
    hub: HubResults | None = None,
    dataset: str | None = None,
    host: str = "127.0.0.1",
    port: int | None = 7860,
    share: bool = False,
    asr: str = "pocketsphinx",
) -> int:
    """Open the dataset (if named) and run the app until interrupted."""
    from zbb.dataset import open_dataset

    ds = open_dataset(dataset) if dataset else None
    launch(store, dataset=ds, hub=hub, port=port, share=share, host=host, block=True, asr=asr)
    return 0
