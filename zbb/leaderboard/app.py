"""The Gradio app: lays out the table functions, plots, per-sample view and upload of the leaderboard.

All figures come from `table.py` / `plots.py`; this file wires components to them. The view (sort, search,
filters, columns) is mirrored into the page URL with `history.replaceState` and read back on load, so a view can
be shared as a link.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from zbb.errors import ZbbError
from zbb.leaderboard import plots
from zbb.leaderboard.safe import md_code, md_text
from zbb.leaderboard.store import HubResults, ResultStore
from zbb.leaderboard.submit import RateLimiter, redact_paths
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
    item_display,
    items_csv,
    items_jsonl,
    run_rows,
    slug,
    steering_text,
    to_csv,
    to_json,
)

if TYPE_CHECKING:
    import gradio as gr
    import pandas as pd

    from zbb.dataset import ZbbDataset
    from zbb.records import ItemScore

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
whose lower bound is above this model's upper bound, so models whose intervals overlap share a rank. Only runs that
answer every interrupt row of the board's dataset (named in the status line), with replies not transcribed by an
indicative ASR, are ranked; the others are listed unranked with the reason in the Rank column.
**Δ steer** = steered − unsteered on interrupt rows, with the exact **McNemar p** when both runs have per-item rows.
**Recovery** = (steer − interrupt) / (no interrupt − interrupt). **Inertia gap** = no interrupt − interrupt;
**buffer gap** = buffered − interrupt (how much a spoken filler hides inertia).
Where a model has several steered runs, its row shows the one with the best interrupt correctness (ties: the most
recent); every run is listed under *All runs* and in the dose-response plot.
Provenance: ✅ reproduced by the maintainers · 📝 self-reported upload (with the uploader's Hugging Face name when
signed in; each uploader has their own row) · 📄 paper-reported (n = 100, no items) · 🧪 simulation.
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
#zbb-table th {white-space: normal !important; font-weight: 600; word-break: keep-all !important; overflow-wrap: normal !important; hyphens: none !important;}
/* the Model column stays in view when the table scrolls sideways (gradio 6.31 draws no pinned columns itself):
   header cells carry data-heading, body cells data-col */
#zbb-table th[data-heading="1"], #zbb-table .body-cell[data-col="1"] {position: sticky !important; left: 0; z-index: 5; background: var(--background-fill-primary); box-shadow: 2px 0 3px -1px rgba(0,0,0,0.12);}
#zbb-table .row-odd .body-cell[data-col="1"] {background: var(--table-odd-background-fill, var(--background-fill-primary));}
#zbb-table .row-even .body-cell[data-col="1"] {background: var(--table-even-background-fill, var(--background-fill-primary));}
#zbb-table .body-cell[data-col="1"] {font-weight: 600;}
/* phone widths: the page never scrolls sideways; wide tables scroll inside their own frame */
.gradio-container {min-width: 0 !important; width: 100% !important;}
.gradio-container main, .gradio-container .wrap, .tabs, .tabitem, .column, .table-wrap, .table-container {min-width: 0 !important; max-width: 100%;}
#zbb-intro, #zbb-status, #zbb-legend, #zbb-verdict, #zbb-submit-out {overflow-wrap: anywhere;}
#zbb-legend {font-size: 12.5px; color: #555;}
#zbb-status {font-size: 12.5px; color: #666;}
"""
REQUIRE_LOGIN_ENV = "ZBB_REQUIRE_LOGIN"
UPLOAD_LIMIT_ENV = "ZBB_UPLOAD_LIMIT"
DEFAULT_UPLOAD_LIMIT = "5/3600"
URL_JS = """(q) => { const u = new URL(window.location.href); u.search = q ? '?' + q : '';
history.replaceState(null, '', u.toString()); return q; }"""


class BoardSource:
    """The current board, shared by every session: rebuilt from the store when its files changed.

    Nothing is read at construction, so the app starts at the cost of importing gradio; `warm()` (called by
    `launch` once the server listens) reads the store, building its index on a first-ever start, in a background
    thread. Every page load gets the current board from `current()`.
    """

    def __init__(self, store: ResultStore, hub: HubResults | None = None):
        self.store = store
        self.hub = hub
        self._lock = threading.Lock()
        self._board: Board | None = None
        self._signature: tuple | None = None
        self._figures: dict[tuple, Any] = {}  # plots of the current board, by (plot, metric)

    def warm(self) -> None:
        """Read the store and draw the default plots in a background thread (a first visitor then waits less)."""

        def work() -> None:
            board = self.current()
            self.figures(board)

        threading.Thread(target=work, name="zbb-board-warm", daemon=True).start()

    def figures(self, board: Board, bar_metric: str = "correct") -> tuple[Any, Any, Any, Any]:
        """The four plots of `board` (scatter, bars by `bar_metric`, dose-response, simulated listeners), drawn
        once per board: page loads on an unchanged store reuse them."""
        if board is not self._board:  # an older board than the current one: draw without keeping
            return _draw(board, bar_metric)
        cached = self._figures.get(("all", bar_metric))
        if cached is None:
            cached = self._figures[("all", bar_metric)] = _draw(board, bar_metric)
        return cached

    def current(self) -> Board:
        """The board as the store holds it now (the index is refreshed; the board rebuilt only if it changed)."""
        with self._lock:
            summaries = self.store.summaries()
            signature = tuple((s.key, s.scored_at, s.result.provenance.submission_sha256) for s in summaries)
            if self._board is None or signature != self._signature:
                self._board = build_board(summaries)
                self._signature = signature
                self._figures = {}
            return self._board

    def reload(self) -> Board:
        return self.current()

    @property
    def board(self) -> Board:
        return self._board if self._board is not None else self.current()

    def status(self) -> str:
        b = self.board
        text = f"{len(b.rows)} models · {len(b.runs)} runs · results from {md_code(self.store.root.name)}"
        if self.hub is not None:
            text += f" (mirrored from the Hub dataset {md_code(self.hub.repo_id)})"
        if b.basis is not None:
            shown = b.basis.fingerprint[:8] if b.basis.fingerprint else "the paper's build"
            text += f" · ranked on {md_text(shown)} ({b.basis.rows} rows, set by {md_text(b.basis.source)})"
        if self.store.problems:
            text += "\n\n⚠️ unreadable result files:\n" + "\n".join(
                f"- {md_code(_relative(p.where, self.store.root))}: {md_text(p.message)}"
                for p in self.store.problems[:20]
            )
        return text


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _dataframe_value(board: Board, view: ViewState) -> pd.DataFrame:
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


def login_required() -> bool:
    """On a Hugging Face Space (as gradio tells one: SYSTEM=spaces and SPACE_ID) or with ZBB_REQUIRE_LOGIN=1,
    submitting needs signing in. Outside a Space, gradio's sign-in is mocked with the machine's own HF login."""
    flag = os.environ.get(REQUIRE_LOGIN_ENV, "").strip().lower()
    if flag in ("0", "false", "no"):
        return False
    on_space = os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))
    return on_space or flag in ("1", "true", "yes")


def _import_pandas_styler_without_matplotlib() -> None:
    """gr.Dataframe imports pandas' Styler, whose module imports matplotlib.pyplot whenever matplotlib is installed
    (zbb's probe extra brings it): about 0.4 s of the board's start for colour gradients the board never draws.
    Import the Styler once with matplotlib hidden; matplotlib itself stays importable for everything else."""
    if "pandas.io.formats.style" in sys.modules or "matplotlib" in sys.modules:
        return
    sys.modules["matplotlib"] = None  # type: ignore[assignment]  # `import matplotlib` raises ImportError
    try:
        import pandas.io.formats.style  # noqa: F401
    finally:
        del sys.modules["matplotlib"]


def build_app(
    store: ResultStore,
    *,
    dataset: ZbbDataset | None = None,
    hub: HubResults | None = None,
    asr: str = "pocketsphinx",
    require_login: bool | None = None,
    upload_limit: RateLimiter | None = None,
) -> gr.Blocks:
    """The leaderboard as a `gr.Blocks` (not launched). Every page load reads the current store.

    `require_login` (default: `login_required()`): uploads need a Hugging Face sign-in and belong to that user.
    `upload_limit`: uploads per uploader (default 5 an hour, or ZBB_UPLOAD_LIMIT as N/SECONDS)."""
    import gradio as gr

    _import_pandas_styler_without_matplotlib()
    needs_login = login_required() if require_login is None else require_login
    limiter = upload_limit or RateLimiter.parse(os.environ.get(UPLOAD_LIMIT_ENV, DEFAULT_UPLOAD_LIMIT))
    source = BoardSource(store, hub)  # reads nothing yet: `launch` warms it once the server is up
    export_dir = Path(tempfile.mkdtemp(prefix="zbb-board-"))
    default = ViewState()

    def view_from(
        search: str | None,
        steering: str | None,
        provenance: list[str] | None,
        family: list[str] | None,
        sort: str | None,
        desc: bool | None,
        groups: list[str] | None,
    ) -> ViewState:
        return ViewState(
            sort=sort or "rank",
            desc=bool(desc),
            search=(search or "").strip(),
            steering=steering or "any",
            provenance=tuple(provenance or ()),
            family=tuple(family or ()),
            groups=tuple(g for g in COLUMN_GROUPS if g in (groups or ())),
        )

    def table_update(df: pd.DataFrame, view: ViewState) -> gr.Dataframe:
        _h, _c, types = display_table([], view)
        return gr.Dataframe(value=df, datatype=cast(Any, types), column_widths=column_widths(view))

    def rerender(*controls: Any) -> tuple[Any, Any, Any, Any]:
        """The table and downloads for the view the controls show (their values in view_from's order)."""
        view = view_from(*controls)
        df, csv_path, json_path, query = render_view(source.board, view, export_dir)
        return table_update(df, view), csv_path, json_path, query

    empty_headers, _c, empty_types = display_table([], default)
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(INTRO, elem_id="zbb-intro")
        status = gr.Markdown("Loading the board…", elem_id="zbb-status")
        with gr.Tabs():
            # ----------------------------------------------------------------------------------- table
            with gr.Tab("🏆 Leaderboard", id="board"):
                with gr.Row(equal_height=True):
                    search = gr.Textbox(
                        label="Search models",
                        placeholder="moshi, personaplex, ...",
                        scale=3,
                        max_lines=1,
                        min_width=160,
                    )
                    steering = gr.Radio(
                        list(STEERING_FILTERS), value=default.steering, label="Steered run", scale=2, min_width=160
                    )
                    sort = gr.Dropdown(SORT_CHOICES, value=default.sort, label="Sort by", scale=2, min_width=160)
                    desc = gr.Checkbox(value=default.desc, label="Descending", scale=1, min_width=150)
                with gr.Row(equal_height=True):
                    provenance = gr.CheckboxGroup(
                        [(PROVENANCE_BADGES[k], k) for k in PROVENANCE_KINDS],
                        label="Provenance (none ticked: all)",
                        scale=3,
                        min_width=160,
                    )
                    family = gr.Dropdown(
                        [], multiselect=True, label="Model family (empty: all)", scale=2, min_width=160
                    )
                with gr.Accordion("Columns", open=False):
                    groups = gr.CheckboxGroup(
                        [(label, g) for g, label in COLUMN_GROUPS.items()],
                        value=list(default.groups),
                        label="Column groups",
                        show_label=False,
                    )
                table = gr.Dataframe(
                    value=_empty_frame(empty_headers),
                    datatype=cast(Any, empty_types),
                    column_widths=column_widths(default),
                    elem_id="zbb-table",
                    interactive=False,
                    wrap=True,
                    max_height=640,
                    show_search="search",
                    label="Models",
                    show_label=False,
                )
                with gr.Row():
                    csv_btn = gr.DownloadButton("⬇ CSV of this view", size="sm", variant="secondary", min_width=120)
                    json_btn = gr.DownloadButton("⬇ JSON of this view", size="sm", variant="secondary", min_width=120)
                    reload_btn = gr.Button("↻ Reload results", size="sm", variant="secondary", min_width=120)
                query = gr.Textbox(visible=False, elem_id="zbb-query")
                gr.Markdown(LEGEND, elem_id="zbb-legend")
                with gr.Accordion("All runs (every alpha and repeat)", open=False):
                    runs_table = gr.Dataframe(
                        interactive=False, wrap=True, max_height=420, show_search="search", elem_id="zbb-runs"
                    )
            # ----------------------------------------------------------------------------------- plots
            with gr.Tab("📈 Plots", id="plots"):
                scatter = gr.Plot(elem_id="zbb-scatter")
                bar_metric = gr.Radio([("correctness", "correct"), ("IWOR", "iwor")], value="correct", label="Metric")
                bars = gr.Plot()
                with gr.Row():
                    dose = gr.Plot(min_width=300)
                    sims = gr.Plot(min_width=300)
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
                    run_pick = gr.Dropdown([], label="Run", scale=3, min_width=200, elem_id="zbb-run-pick")
                    cond_pick = gr.Dropdown([], label="Condition", scale=1, min_width=140, elem_id="zbb-cond-pick")
                    item_pick = gr.Dropdown([], label="Row", scale=2, min_width=140)
                with gr.Row():
                    user_audio = gr.Audio(label="User audio (dataset)", interactive=False, min_width=200)
                    model_audio = gr.Audio(label="Model output (submitted)", interactive=False, min_width=200)
                verdict = gr.Markdown(elem_id="zbb-verdict")
                items_table = gr.Dataframe(
                    interactive=False,
                    wrap=True,
                    max_height=360,
                    show_search="search",
                    label="Scored rows of this condition",
                    elem_id="zbb-items",
                )
                with gr.Row():
                    items_csv_btn = gr.DownloadButton("⬇ rows as CSV", size="sm", min_width=120)
                    items_jsonl_btn = gr.DownloadButton("⬇ rows as JSONL", size="sm", min_width=120)
            # ----------------------------------------------------------------------------------- submit
            with gr.Tab("📤 Submit", id="submit"):
                gr.Markdown(
                    "Upload a submission: one **.zip**, or **responses.jsonl** + **meta.json**. It is "
                    "validated, scored here with the rule judge, and stored as 📝 *self-reported*. "
                    "Check it first with `zbb validate`."
                    + (
                        " Sign in with Hugging Face to submit: your row shows your user name and only your "
                        "uploads can update it."
                        if needs_login
                        else " Each upload here gets its own row (no sign-in on this server)."
                    )
                )
                if needs_login:
                    gr.LoginButton()
                upload = gr.File(file_count="multiple", file_types=[".zip", ".jsonl", ".json"], label="Submission")
                allow_partial = gr.Checkbox(
                    value=False,
                    label="Allow a partial submission (rows without a reply are scored wrong; the run is not ranked)",
                )
                submit_btn = gr.Button("Validate and score", variant="primary")
                submit_out = gr.Markdown(elem_id="zbb-submit-out")
            with gr.Tab("ℹ️ About", id="about"):
                gr.Markdown(ABOUT)

        controls: list[Any] = [search, steering, provenance, family, sort, desc, groups]
        outputs = [table, csv_btn, json_btn, query]
        # every control re-renders on change; the search box also on Enter
        for event in (search.submit, *(control.change for control in controls)):
            event(
                rerender,
                inputs=controls,
                outputs=outputs,
                show_progress="hidden",
                trigger_mode="always_last",
                api_visibility="private",
            )
        query.change(None, inputs=query, outputs=None, js=URL_JS)

        def board_parts(board: Board, bar_choice: str = "correct") -> tuple:
            """Everything built from the whole board: status, runs table, run list and plots."""
            choices = _run_choices(board)
            return (
                source.status(),
                _runs_frame(board),
                gr.Dropdown(choices=choices, value=choices[0][1] if choices else None),
                *source.figures(board, bar_choice or "correct"),
            )

        board_outputs = [status, runs_table, run_pick, scatter, bars, dose, sims]

        def on_load(request: gr.Request) -> tuple[Any, ...]:  # gradio injects the page request by this annotation
            board = source.current()  # every visitor sees the store as it is now
            params = dict(request.query_params) if request is not None else {}
            view = ViewState.from_query(params)
            df, csv_path, json_path, q = render_view(board, view, export_dir)
            return (
                view.search,
                view.steering,
                list(view.provenance),
                gr.Dropdown(choices=board.families, value=list(view.family)),
                view.sort,
                view.desc,
                list(view.groups),
                table_update(df, view),
                csv_path,
                json_path,
                q,
                *board_parts(board),
            )

        on_load.__annotations__["request"] = gr.Request  # the string annotation (future import) is not resolvable

        def board_query(q: str = "") -> list[dict]:
            """The board's rows for a view query string (the same records the CSV/JSON downloads hold)."""
            view = ViewState.from_query(q or "")
            return export_records(apply_view(source.current(), view), view)

        gr.api(board_query, api_name="board")

        def after_reload(*values: Any) -> tuple[Any, ...]:
            *view_values, bar_choice = values
            board = source.current()
            return (
                *rerender(*view_values),
                gr.Dropdown(choices=board.families),
                *board_parts(board, bar_choice),
            )

        refreshed = [*outputs, family, *board_outputs]
        bar_metric.change(
            lambda m: source.figures(source.board, m or "correct")[1],
            inputs=bar_metric,
            outputs=bars,
            api_visibility="private",
        )

        # ----------------------------------------------------------------------------------- samples wiring
        import pandas as pd

        def rows_of(key: str, condition: str) -> tuple[Any, Any, Any]:
            """The scored-rows table and its downloads for one condition of a run."""
            result = store.load(key)
            items = [it for it in result.items if it.condition == condition]
            headers, cells = item_display(items)
            stem = f"{slug(key)}-{slug(condition)}-rows"
            csv_path, jsonl_path = export_dir / f"{stem}.csv", export_dir / f"{stem}.jsonl"
            csv_path.write_text(items_csv(items), encoding="utf-8")
            jsonl_path.write_text(items_jsonl(items), encoding="utf-8")
            return (
                pd.DataFrame(cells, columns=headers),
                str(csv_path) if items else None,
                str(jsonl_path) if items else None,
            )

        def show_item(key: str | None, condition: str | None, item_id: str | None) -> tuple[Any, Any, str]:
            if not key or not condition or not item_id:
                return None, None, ""
            view = sample_view(store, dataset, key, condition, item_id)
            if view.warning:
                gr.Warning(md_text(redact_paths(view.warning, _server_roots(store, dataset))))
            user = (view.user_rate, view.user_audio) if view.user_audio is not None else None
            return user, (str(view.model_audio) if view.model_audio else None), view.markdown

        def pick_condition(key: str | None, condition: str | None) -> tuple[Any, ...]:
            """A condition chosen: its rows in the picker and the table, and its first row shown."""
            if not key or not condition:
                return gr.Dropdown(choices=[], value=None), None, None, None, None, None, ""
            result = store.load(key)
            ids = [it.id for it in result.items if it.condition == condition]
            first = ids[0] if ids else None
            return (
                gr.Dropdown(choices=ids, value=first),
                *rows_of(key, condition),
                *show_item(key, condition, first),
            )

        def pick_run(key: str | None) -> tuple[Any, ...]:
            """A run chosen: its conditions, and everything of its first condition (nothing kept from before)."""
            if not key:
                return gr.Dropdown(choices=[], value=None), *pick_condition(None, None)
            try:
                result = store.load(key)
            except ZbbError:
                return gr.Dropdown(choices=[], value=None), *pick_condition(None, None)
            conds = sorted({it.condition for it in result.items})
            first = conds[0] if conds else None
            return gr.Dropdown(choices=conds, value=first), *pick_condition(key, first)

        item_outputs = [user_audio, model_audio, verdict]
        condition_outputs = [item_pick, items_table, items_csv_btn, items_jsonl_btn, *item_outputs]
        run_outputs = [cond_pick, *condition_outputs]
        # `.input` fires only on the visitor's own choice, so a handler's updates do not cascade: each handler
        # returns every component below it, all from the same run and condition.
        run_pick.input(pick_run, inputs=run_pick, outputs=run_outputs, api_visibility="private")
        cond_pick.input(
            pick_condition, inputs=[run_pick, cond_pick], outputs=condition_outputs, api_visibility="private"
        )
        item_pick.input(
            show_item, inputs=[run_pick, cond_pick, item_pick], outputs=item_outputs, api_visibility="private"
        )

        demo.load(on_load, inputs=None, outputs=[*controls, *outputs, *board_outputs], api_visibility="private").then(
            pick_run, inputs=run_pick, outputs=run_outputs, api_visibility="private"
        )
        reload_btn.click(
            after_reload, inputs=[*controls, bar_metric], outputs=refreshed, api_visibility="private"
        ).then(pick_run, inputs=run_pick, outputs=run_outputs, api_visibility="private")

        # ----------------------------------------------------------------------------------- submit wiring
        def do_submit(files: list[Any] | None, partial: bool | None, profile: Any, request: Any) -> str:
            from zbb.leaderboard.submit import SubmitOutcome, submit

            user = getattr(profile, "username", None) if profile is not None else None
            if needs_login and not user:
                return "Submission refused: sign in with Hugging Face (the button above) to submit."
            who = user or (request.client.host if request is not None and request.client else "local")
            wait = limiter.check(who)
            if wait:
                return (
                    f"Submission refused: {limiter.limit} uploads per {limiter.window_s / 60:.0f} min reached; "
                    f"try again in {wait / 60:.0f} min."
                )
            paths = [f if isinstance(f, str) else getattr(f, "name", None) for f in (files or [])]
            outcome: SubmitOutcome = submit(
                store, [p for p in paths if p], dataset, asr=asr, allow_partial=bool(partial), uploader=user
            )
            if not outcome.ok or outcome.duplicate_of:
                return outcome.message()
            try:  # the run is stored; a failure mirroring it or redrawing the board is reported, not raised
                if hub is not None and outcome.key:
                    hub.push(store, outcome.key)
                source.current()
            except Exception as exc:
                logging.getLogger(__name__).exception("zbb leaderboard: after storing %s", outcome.key)
                return outcome.message() + f"\n\n⚠️ but publishing it failed ({type(exc).__name__}); see the server log."
            return outcome.message()

        if needs_login:  # gradio fills `profile` from the visitor's Hugging Face sign-in (OAuth)

            def submit_handler(files: list[Any] | None, partial: bool | None, profile: Any, request: Any) -> str:
                return do_submit(files, partial, profile, request)

            submit_handler.__annotations__.update(profile=gr.OAuthProfile | None, request=gr.Request)
        else:  # no OAuth on this server: the request's client address stands in for the rate limit

            def submit_handler(files: list[Any] | None, partial: bool | None, request: Any) -> str:  # type: ignore[misc]
                return do_submit(files, partial, None, request)

            submit_handler.__annotations__.update(request=gr.Request)
        submit_btn.click(
            submit_handler, inputs=[upload, allow_partial], outputs=submit_out, api_name="submit", concurrency_limit=1
        ).then(after_reload, inputs=[*controls, bar_metric], outputs=refreshed, api_visibility="private").then(
            pick_run, inputs=run_pick, outputs=run_outputs, api_visibility="private"
        )
    demo.board_source = source  # for benchmarks and tests: the shared board
    return demo


def _draw(board: Board, bar_metric: str) -> tuple[Any, Any, Any, Any]:
    return (
        plots.correctness_vs_iwor(board.rows),
        plots.bars_by_condition(board.rows, bar_metric),
        plots.dose_response(board, "correct"),
        plots.simulated_listeners(board),
    )


def _empty_frame(headers: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([], columns=headers)


def _server_roots(store: ResultStore, dataset: ZbbDataset | None) -> dict[str, str]:
    roots = {str(store.root.resolve()): "results", str(store.root): "results"}
    for attr in ("source", "root"):
        if dataset is not None and getattr(dataset, attr, None):
            roots[str(getattr(dataset, attr))] = "dataset"
    return roots


def _runs_frame(board: Board) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(run_rows(board))


def _run_choices(board: Board) -> list[tuple[str, str]]:
    """Runs that have per-item rows, labelled for the picker (the labels are shown as text)."""
    choices = []
    for entry in board.entries:
        for run in entry.runs:
            if run.outcomes:
                steer = f"steered ({steering_text(run)})" if run.result.steered else "unsteered"
                who = f" by {entry.uploader}" if entry.uploader else ""
                label = f"{entry.model[:80]} · {steer} · {entry.kind}{who[:60]} · {run.scored_at[:10]}"
                choices.append((label, run.key))
    return choices


@dataclass(frozen=True)
class SampleView:
    """What the Samples tab shows for one row of one run (plain data, so it is testable without a browser)."""

    markdown: str  # claim, reply, verdict, reason, whether the subject was heard (untrusted text escaped)
    user_audio: Any = None  # int16 samples of the row's user audio (as gradio plays them), when a dataset is configured
    user_rate: int | None = None
    model_audio: Path | None = None  # the model's submitted output audio, when the submission had audio
    warning: str = ""


def sample_view(store: ResultStore, dataset: ZbbDataset | None, key: str, condition: str, item_id: str) -> SampleView:
    """One row of one stored run: its verdict, the dataset's user audio and the submitted model audio."""
    result = store.load(key)
    item = next((it for it in result.items if it.id == item_id and it.condition == condition), None)
    if item is None:
        return SampleView(markdown=f"no row {md_code(item_id)} in {md_code(condition)} of this run")
    samples, rate, warning = None, None, ""
    if dataset is not None:
        try:
            samples, rate = dataset.audio(condition, item_id)
            import numpy as np

            # gradio plays int16; handing it floats makes it convert (and log a warning) on every sample played.
            # The dataset's FLAC is 16-bit, so this gives back exactly the stored samples.
            samples = np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)
        except ZbbError as exc:
            warning = str(exc)
    return SampleView(
        markdown=_verdict_markdown(item, dataset, condition),
        user_audio=samples,
        user_rate=rate,
        model_audio=store.audio_path(key, condition, item_id),
        warning=warning,
    )


def _verdict_markdown(item: ItemScore, dataset: ZbbDataset | None, condition: str) -> str:
    claim = ""
    if dataset is not None:
        try:
            clip = dataset.clip(condition, item.id)
            claim = f"**Claim** ({'true' if clip.label else 'false'}): “{md_text(clip.text)}”  \n"
        except ZbbError:
            claim = ""
    verdict = "✅ correct" if item.correct else "❌ wrong"
    heard = "👂 subject heard" if item.subject_hit else "🙉 subject not heard"
    return (
        f"{claim}**Reply**: “{md_text(item.response, limit=2000) if item.response else '(nothing)'}”  \n"
        f"**Judge**: {verdict} · stance *{md_text(item.stance)}* · {heard}"
        + (" · missing in submission" if item.missing else "")
        + (f"  \n**Reason**: {md_text(item.judge_reason, limit=1000)}" if item.judge_reason else "")
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
    dataset: ZbbDataset | None = None,
    hub: HubResults | None = None,
    port: int | None = None,
    share: bool = False,
    host: str = "127.0.0.1",
    block: bool = True,
    asr: str = "pocketsphinx",
    require_login: bool | None = None,
    upload_limit: RateLimiter | None = None,
) -> gr.Blocks:
    """Build and launch the app; returns the `gr.Blocks` (non-blocking when `block` is False)."""
    import gradio as gr

    demo = build_app(store, dataset=dataset, hub=hub, asr=asr, require_login=require_login, upload_limit=upload_limit)
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
    demo.board_source.warm()  # type: ignore[attr-defined]
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
    upload_limit: str | None = None,
    require_login: bool | None = None,
) -> int:
    """Open the dataset (if named) and run the app until interrupted."""
    from zbb.dataset import open_dataset

    ds = open_dataset(dataset) if dataset else None
    limiter = RateLimiter.parse(upload_limit) if upload_limit is not None else None
    launch(
        store,
        dataset=ds,
        hub=hub,
        port=port,
        share=share,
        host=host,
        block=True,
        asr=asr,
        require_login=require_login,
        upload_limit=limiter,
    )
    return 0
