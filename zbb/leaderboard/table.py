"""The leaderboard table as plain functions over run results: pair runs into models, compute the row figures,
rank with interval-overlap ties, filter and sort by a shareable view state, and export the view.

Nothing here imports gradio or plotly; the app only lays these out.

Pairing: runs are grouped by (`meta.model`, `provenance.kind`, owner), so a paper-reported and a reproduced Moshi
are two rows, and a self-reported upload belongs to its uploader: another user's upload of the same model name is
a separate row, and an anonymous (local, no sign-in) upload is always its own row. In a group, the main row uses the most recent unsteered run and the steered run with the best
interrupt correctness (ties: the most recent). Every other run still appears in the per-run table and in the
dose-response plot.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from zbb.conditions import INTERRUPT, INTERRUPT_BUFFERED, NO_INTERRUPT
from zbb.errors import ZbbError
from zbb.records import ItemScore, Rate, RunResult
from zbb.stats import mcnemar_exact, recovery

PROVENANCE_KINDS = ("reproduced", "self-reported", "paper-reported", "simulation")
PROVENANCE_BADGES = {
    "reproduced": "✅ reproduced",
    "self-reported": "📝 self-reported",
    "paper-reported": "📄 paper-reported",
    "simulation": "🧪 simulation",
}
#: The mark of a row whose replies came from an ASR unfit to be a reference, and why.
INDICATIVE_ASR_BADGE = "⚠️ indicative ASR"
INDICATIVE_ASR_REASON = (
    "replies transcribed by an ASR that is not fit to be a reference (e.g. pocketsphinx, WER 0.4-0.9): "
    "its word errors move correctness and IWOR"
)
METRICS = ("correct", "iwor")
METRIC_LABELS = {"correct": "correctness", "iwor": "IWOR"}

#: Board condition prefix -> (label, the input condition its figures come from). "steer" comes from the
#: steered run's interrupt aggregate.
BOARD_CONDITIONS = {
    "ni": ("No interrupt", NO_INTERRUPT),
    "int": ("Interrupt", INTERRUPT),
    "steer": ("Interrupt + steer", INTERRUPT),
    "buf": ("Interrupt, buffered", INTERRUPT_BUFFERED),
}


# ------------------------------------------------------------------------------------------------ run summary
@dataclass(frozen=True)
class RunSummary:
    """What the board needs of one run: the result (its items may be dropped) and its per-row outcomes.

    `outcomes[condition][id] = (correct, subject_hit)`; kept apart from the items so the store's index can hold
    it compactly and the board can compute paired tests without loading every item. `missing[condition]` counts
    the rows the submission had no output for (scored wrong under --allow-partial).
    """

    key: str
    result: RunResult
    outcomes: Mapping[str, Mapping[str, tuple[bool, bool]]] = field(default_factory=dict)
    missing: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, result: RunResult, key: str | None = None) -> RunSummary:
        outcomes: dict[str, dict[str, tuple[bool, bool]]] = {}
        missing: dict[str, int] = {}
        for item in result.items:
            outcomes.setdefault(item.condition, {})[item.id] = (bool(item.correct), bool(item.subject_hit))
            if item.missing:
                missing[item.condition] = missing.get(item.condition, 0) + 1
        return cls(key=key or result.run_id, result=replace(result, items=()), outcomes=outcomes, missing=missing)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "result": self.result.to_dict(),
            "outcomes": pack_outcomes(self.outcomes),
            "missing": dict(self.missing),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSummary:
        outcomes = {
            c: {i: (k == "1", h == "1") for i, k, h in zip(p["ids"], p["correct"], p["hit"], strict=True)}
            for c, p in data.get("outcomes", {}).items()
        }
        missing = {str(c): int(n) for c, n in data.get("missing", {}).items()}
        return cls(key=data["key"], result=RunResult.from_dict(data["result"]), outcomes=outcomes, missing=missing)

    @property
    def model(self) -> str:
        return self.result.meta.model

    @property
    def kind(self) -> str:
        return self.result.provenance.kind

    @property
    def scored_at(self) -> str:
        return self.result.provenance.scored_at or ""

    @property
    def owner(self) -> str | None:
        """Whose row this run belongs to: a self-reported upload's uploader; an anonymous upload owns its own row
        (`~` + its key, a name no Hugging Face user can have); None for maintainers' files."""
        prov = self.result.provenance
        if prov.kind != "self-reported":
            return None
        if prov.uploader:
            return prov.uploader
        return f"~{self.key}" if prov.submission_sha256 else None

    def rate(self, condition: str, metric: str) -> Rate | None:
        agg = self.result.aggregates.get(condition)
        if agg is None:
            return None
        return agg.correctness if metric == "correct" else agg.iwor


def pack_outcomes(outcomes: Mapping[str, Mapping[str, tuple[bool, bool]]]) -> dict[str, dict[str, Any]]:
    """Per-row outcomes as compact JSON for the store's index: ids in order plus "0"/"1" strings."""
    return {
        c: {
            "ids": list(rows),
            "correct": "".join("01"[v[0]] for v in rows.values()),
            "hit": "".join("01"[v[1]] for v in rows.values()),
        }
        for c, rows in outcomes.items()
    }


def summaries(runs: Iterable[RunResult | RunSummary]) -> list[RunSummary]:
    return [r if isinstance(r, RunSummary) else RunSummary.of(r) for r in runs]


# ------------------------------------------------------------------------------------------------------ pairing
@dataclass(frozen=True)
class ModelEntry:
    """One board row: a model's runs of one provenance kind, with the runs chosen for the main row."""

    model: str
    kind: str
    runs: tuple[RunSummary, ...]
    unsteered: RunSummary | None
    steered: RunSummary | None
    owner: str | None = None

    @property
    def key(self) -> str:
        return slug(f"{self.model}--{self.kind}" + (f"--{self.owner}" if self.owner else ""))

    @property
    def uploader(self) -> str:
        """The signed-in uploader shown on the row ('' for anonymous uploads and maintainers' rows)."""
        return self.owner if self.owner and not self.owner.startswith("~") else ""

    @property
    def steered_runs(self) -> list[RunSummary]:
        return [r for r in self.runs if r.result.steered]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower()


def _steer_score(run: RunSummary) -> tuple[float, str]:
    rate = run.rate(INTERRUPT, "correct")
    return (rate.rate if rate is not None else -1.0, run.scored_at)


def pair_runs(runs: Iterable[RunResult | RunSummary]) -> list[ModelEntry]:
    """Group runs by (model, provenance kind, owner) and choose each group's unsteered and steered run."""
    groups: dict[tuple[str, str, str | None], list[RunSummary]] = {}
    for run in summaries(runs):
        groups.setdefault((run.model, run.kind, run.owner), []).append(run)
    entries = []
    for (model, kind, owner), members in groups.items():
        plain = [r for r in members if not r.result.steered]
        steered = [r for r in members if r.result.steered]
        entries.append(
            ModelEntry(
                model=model,
                kind=kind,
                runs=tuple(members),
                unsteered=max(plain, key=lambda r: r.scored_at) if plain else None,
                steered=max(steered, key=_steer_score) if steered else None,
                owner=owner,
            )
        )
    return entries


# ------------------------------------------------------------------------------------------------------ columns
@dataclass(frozen=True)
class Column:
    key: str
    label: str
    group: str
    kind: str = "num"  # "num" | "rate" | "text" | "p" | "link"
    help: str = ""


def _columns() -> list[Column]:
    cols = [
        Column("rank", "Rank", "core", "num", "1 + rows whose lower bound exceeds this row's upper bound"),
        Column("model", "Model", "core", "text"),
        Column("provenance", "Provenance", "core", "text"),
    ]
    for metric in METRICS:
        for prefix, (label, _cond) in BOARD_CONDITIONS.items():
            group = "buffered" if prefix == "buf" else metric
            cols.append(Column(f"{prefix}_{metric}", f"{label} {METRIC_LABELS[metric]}", group, "rate"))
    for prefix, (label, _cond) in BOARD_CONDITIONS.items():
        cols.append(Column(f"{prefix}_n", f"n ({label.lower()})", "n", "num"))
    for metric in METRICS:
        name = METRIC_LABELS[metric]
        cols += [
            Column(f"delta_{metric}", f"Δ steer {name}", "steering", "num", "steered - unsteered, interrupt rows"),
            Column(
                f"delta_{metric}_p", f"McNemar p ({name})", "steering", "p", "exact McNemar on the rows both runs share"
            ),
            Column(
                f"recovery_{metric}",
                f"Recovery ({name})",
                "steering",
                "num",
                "(steer - interrupt) / (no interrupt - interrupt)",
            ),
            Column(f"inertia_gap_{metric}", f"Inertia gap ({name})", "gaps", "num", "no interrupt - interrupt"),
            Column(f"buffer_gap_{metric}", f"Buffer gap ({name})", "gaps", "num", "buffered - interrupt"),
        ]
    cols += [
        Column("family", "Family", "about", "text"),
        Column("steering", "Steering", "about", "text", "layer, alpha, span dT of the main steered run"),
        Column("steered_runs", "Steered runs", "about", "num"),
        Column("model_url", "Model link", "links", "link"),
        Column("paper_url", "Paper link", "links", "link"),
        Column("zbb_version", "zbb", "provenance", "text"),
        Column("dataset", "Dataset", "provenance", "text", "dataset fingerprint (short)"),
        Column("date", "Date", "provenance", "text"),
    ]
    return cols


COLUMNS: tuple[Column, ...] = tuple(_columns())
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
COLUMN_GROUPS = {
    "correct": "Correctness",
    "iwor": "IWOR",
    "steering": "Steering Δ, p, recovery",
    "gaps": "Inertia & buffer gaps",
    "buffered": "Buffered condition",
    "n": "n per condition",
    "about": "Family & steering settings",
    "links": "Links",
    "provenance": "Version, dataset, date",
}
DEFAULT_GROUPS = ("correct", "iwor", "steering", "links")
RATE_KEYS = tuple(c.key for c in COLUMNS if c.kind == "rate")


# ------------------------------------------------------------------------------------------------------ rows
def _family(entry: ModelEntry) -> str:
    for run in (entry.unsteered, entry.steered, *entry.runs):
        if run is not None and run.result.meta.model_family:
            return run.result.meta.model_family.strip().lower()
    return re.split(r"[\s_/:-]+", entry.model.strip())[0].lower() or entry.model.lower()


def steering_text(run: RunSummary | None) -> str:
    if run is None or run.result.meta.steering is None:
        return ""
    s = run.result.meta.steering
    parts = [
        f"L{s.layer}" if s.layer is not None else "",
        f"α={s.alpha:g}" if s.alpha is not None else "",
        f"dT={s.span}" if s.span is not None else "",
    ]
    return " ".join(p for p in parts if p) or s.method


def made_with_text(run: RunSummary) -> str:
    """How a run's outputs were made, where it says (runs from `zbb run` do): backend, weights, onset, vector hash."""
    meta = run.result.meta
    parts = [f"zbb run --backend {meta.backend}" if meta.backend else ""]
    if meta.model_id:
        parts.append(meta.model_id + (f"@{meta.revision[:12]}" if meta.revision else ""))
    s = meta.steering
    if s is not None:
        parts.append(f"layers from {s.layer_base}" if s.layer_base is not None else "")
        parts.append(f"{s.onset} onset" if s.onset else "")
        parts.append(f"vector {s.vector_sha256[:12]}" if s.vector_sha256 else "")
    return " · ".join(p for p in parts if p)


def paired_p(a: RunSummary, b: RunSummary, condition: str, metric: str) -> tuple[float | None, int]:
    """Exact McNemar p-value of b vs a on the rows of `condition` both runs scored (None when they share none)."""
    rows_a, rows_b = a.outcomes.get(condition, {}), b.outcomes.get(condition, {})
    shared = rows_a.keys() & rows_b.keys()
    if not shared:
        return None, 0
    slot = 0 if metric == "correct" else 1
    a_only = sum(1 for i in shared if rows_a[i][slot] and not rows_b[i][slot])
    b_only = sum(1 for i in shared if rows_b[i][slot] and not rows_a[i][slot])
    return mcnemar_exact(a_only, b_only), len(shared)


def _put_rate(row: dict, key: str, rate: Rate | None) -> None:
    row[key] = rate.rate if rate is not None else None
    row[f"{key}_lo"] = rate.ci_low if rate is not None else None
    row[f"{key}_hi"] = rate.ci_high if rate is not None else None


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def entry_row(entry: ModelEntry) -> dict[str, Any]:
    """The figures of one board row (plain numbers; None where a figure does not exist for this model)."""
    base, steer = entry.unsteered, entry.steered
    about = base or steer
    assert about is not None  # an entry always holds at least one run
    row: dict[str, Any] = {
        "key": entry.key,
        "model": entry.model,
        "kind": entry.kind,
        "provenance": PROVENANCE_BADGES.get(entry.kind, entry.kind),
        "uploader": entry.uploader,
        "family": _family(entry),
    }

    def source(prefix: str) -> RunSummary | None:
        # "steer" reads the steered run; interrupt reads only the unsteered run; the other conditions fall back
        # to the steered run when a model has no unsteered run (its steered run may carry them).
        if prefix == "steer":
            return steer
        return base if prefix == "int" else base or steer

    for prefix, (_label, cond) in BOARD_CONDITIONS.items():
        run = source(prefix)
        for metric in METRICS:
            _put_rate(row, f"{prefix}_{metric}", run.rate(cond, metric) if run is not None else None)
        agg = run.result.aggregates.get(cond) if run is not None else None
        row[f"{prefix}_n"] = agg.n if agg is not None else None
    for metric in METRICS:
        ni, it, st, bf = (row[f"{p}_{metric}"] for p in ("ni", "int", "steer", "buf"))
        row[f"delta_{metric}"] = _diff(st, it)
        p, n_paired = paired_p(base, steer, INTERRUPT, metric) if base is not None and steer is not None else (None, 0)
        row[f"delta_{metric}_p"] = p
        row[f"delta_{metric}_n"] = n_paired
        gap = _diff(ni, it)
        row[f"recovery_{metric}"] = None if st is None or gap is None else recovery(st, it, ni)
        row[f"inertia_gap_{metric}"] = gap
        row[f"buffer_gap_{metric}"] = _diff(bf, it)
    meta, prov = about.result.meta, about.result.provenance
    shown = [r for r in (base, steer) if r is not None]
    indicative = any(r.result.provenance.asr_grade == "indicative" for r in shown)
    row.update(
        {
            "asr_grade": "indicative" if indicative else None,
            "asr_note": INDICATIVE_ASR_REASON if indicative else "",
            "steering": steering_text(steer),
            "steered_runs": len(entry.steered_runs),
            "model_url": meta.model_url or "",
            "paper_url": meta.paper_url or prov.source_url or "",
            "zbb_version": prov.zbb_version,
            "dataset": (prov.dataset_fingerprint or "")[:8],
            "date": max((r.scored_at for r in entry.runs), default="")[:10],
            "search_text": " ".join(
                str(x)
                for x in (entry.model, meta.model_id, _family(entry), entry.kind, meta.notes, entry.uploader)
                if x
            ).lower(),
        }
    )
    return row


# ------------------------------------------------------------------------------------------------------ ranking
def rank_rows(rows: Sequence[dict[str, Any]], metric: str = "int_correct") -> list[int | None]:
    """Arena-style ranks: 1 + the number of rows whose lower bound exceeds this row's upper bound.

    Rows whose intervals overlap can share a rank. A row without the metric gets None, and so does a simulated
    listener: it is a reference line, not a model, so it neither takes nor pushes down a rank.
    """
    lows = [r.get(f"{metric}_lo") for r in rows if r.get("kind") != "simulation"]
    ranks: list[int | None] = []
    for row in rows:
        high = row.get(f"{metric}_hi")
        if high is None or row.get("kind") == "simulation":
            ranks.append(None)
            continue
        ranks.append(1 + sum(1 for low in lows if low is not None and low > high))
    return ranks


@dataclass(frozen=True)
class RankBasis:
    """The board's dataset, on which runs are ranked: its fingerprint (None: the paper's build, which has none) and
    how many rows the ranked condition has. `source` says where it came from (shown in the legend)."""

    fingerprint: str | None
    rows: int
    source: str


#: Provenance kinds whose runs set the board's dataset, most trusted first: uploads never move it.
BASIS_KINDS = ("reproduced", "paper-reported")


def _source_run(entry: ModelEntry, prefix: str) -> RunSummary | None:
    """The run a board condition's figures come from (see `entry_row`)."""
    if prefix == "steer":
        return entry.steered
    return entry.unsteered if prefix == "int" else entry.unsteered or entry.steered


def rank_basis(entries: Sequence[ModelEntry], rank_by: str = "int_correct") -> RankBasis | None:
    """The board's dataset for `rank_by`: the (fingerprint, rows) most of the maintainers' runs (reproduced, else
    paper-reported) were scored on; with no such run, the one most runs share. None for an empty board."""
    prefix = rank_by.split("_", 1)[0]
    condition = BOARD_CONDITIONS[prefix][1]
    for kinds, source in ((BASIS_KINDS[:1], "reproduced runs"), (BASIS_KINDS[1:], "paper"), (None, "most runs")):
        counts: dict[tuple[str | None, int], int] = {}
        for entry in entries:
            run = _source_run(entry, prefix)
            if run is None or (kinds is not None and entry.kind not in kinds) or entry.kind == "simulation":
                continue
            agg = run.result.aggregates.get(condition)
            if agg is not None:
                basis = (run.result.provenance.dataset_fingerprint, agg.n)
                counts[basis] = counts.get(basis, 0) + 1
        if counts:
            (fingerprint, rows), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0][1]))
            return RankBasis(fingerprint, rows, source)
    return None


def unranked_reason(entry: ModelEntry, basis: RankBasis | None, rank_by: str = "int_correct") -> str:
    """Why this row takes no rank ('' when it is ranked): a run is ranked only when it answers every row of the
    ranked condition on the board's dataset and its replies did not come from an indicative ASR."""
    if entry.kind == "simulation":
        return "simulation (a reference line)"
    prefix = rank_by.split("_", 1)[0]
    condition = BOARD_CONDITIONS[prefix][1]
    run = _source_run(entry, prefix)
    agg = run.result.aggregates.get(condition) if run is not None else None
    if run is None or agg is None:
        return f"no {condition.replace('_', ' ')} run"
    prov = run.result.provenance
    if prov.asr_grade == "indicative":
        return f"indicative ASR ({prov.asr or 'unnamed'})"
    if basis is None:
        return "no dataset to rank on"
    if prov.dataset_fingerprint != basis.fingerprint and not (
        entry.kind == "paper-reported" and prov.dataset_fingerprint is None
    ):
        return f"other dataset ({(prov.dataset_fingerprint or 'none')[:8]})"
    missing = run.missing.get(condition, 0)
    if agg.n != basis.rows or missing:
        answered = min(agg.n, basis.rows) - missing
        return f"partial run ({answered} of {basis.rows} rows)"
    return ""


@dataclass(frozen=True)
class Board:
    """Every row of the board (ranked) and the entries they came from."""

    rows: tuple[dict[str, Any], ...]
    entries: tuple[ModelEntry, ...]
    rank_by: str = "int_correct"
    basis: RankBasis | None = None

    def entry(self, key: str) -> ModelEntry:
        for e in self.entries:
            if e.key == key:
                return e
        raise ZbbError(f"no model {key!r} on the board; known: {', '.join(e.key for e in self.entries)}")

    @property
    def families(self) -> list[str]:
        return sorted({r["family"] for r in self.rows})

    @property
    def runs(self) -> list[RunSummary]:
        return [run for e in self.entries for run in e.runs]


def build_board(runs: Iterable[RunResult | RunSummary], rank_by: str = "int_correct") -> Board:
    """Pair runs into models, compute every row's figures and rank them by `rank_by` (a rate column)."""
    if rank_by not in RATE_KEYS:
        raise ZbbError(f"cannot rank by {rank_by!r}; choose one of {', '.join(RATE_KEYS)}")
    entries = pair_runs(runs)
    basis = rank_basis(entries, rank_by)
    rows = [entry_row(e) for e in entries]
    for row, entry in zip(rows, entries, strict=True):
        row["unranked"] = unranked_reason(entry, basis, rank_by)
    eligible = [i for i, row in enumerate(rows) if not row["unranked"]]
    for row in rows:
        row["rank"] = None
    for i, rank in zip(eligible, rank_rows([rows[i] for i in eligible], rank_by), strict=True):
        rows[i]["rank"] = rank
    # rank first (unranked rows last), then the metric itself, then the name: a stable, readable default order
    order = sorted(
        range(len(rows)),
        key=lambda i: (rows[i]["rank"] is None, rows[i]["rank"] or 0)
        + _sort_key(rows[i], rank_by, True)
        + (rows[i]["model"],),
    )
    return Board(
        rows=tuple(rows[i] for i in order), entries=tuple(entries[i] for i in order), rank_by=rank_by, basis=basis
    )


# ------------------------------------------------------------------------------------------------------ view state
STEERING_FILTERS = ("any", "on", "off")


@dataclass(frozen=True)
class ViewState:
    """What the viewer chose: sort, search, filters and column groups. Round-trips through a URL query string."""

    sort: str = "rank"
    desc: bool = False
    search: str = ""
    steering: str = "any"  # any | on (has a steered run) | off (has none)
    provenance: tuple[str, ...] = ()  # empty: every kind
    family: tuple[str, ...] = ()  # empty: every family
    groups: tuple[str, ...] = DEFAULT_GROUPS

    def to_query(self) -> str:
        """The non-default parts as a query string (no leading '?'); '' for the default view."""
        default = ViewState()
        params: list[tuple[str, str]] = []
        if (self.sort, self.desc) != (default.sort, default.desc):
            params += [("sort", self.sort), ("desc", "1" if self.desc else "0")]
        if self.search:
            params.append(("q", self.search))
        if self.steering != default.steering:
            params.append(("steer", self.steering))
        if self.provenance:
            params.append(("prov", ",".join(self.provenance)))
        if self.family:
            params.append(("family", ",".join(self.family)))
        if tuple(self.groups) != default.groups:
            params.append(("cols", ",".join(self.groups)))
        return urlencode(params)

    @classmethod
    def from_query(cls, query: str | Mapping[str, Any]) -> ViewState:
        """Read a view from a query string or a mapping of parameters. Unknown values fall back to the default:
        a shared link from an older board must still open."""
        if isinstance(query, str):
            params = {k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
        else:
            params = {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()}
        default = cls()

        def listed(name: str, allowed: Iterable[str] | None) -> tuple[str, ...]:
            values = [v.strip() for v in str(params.get(name, "")).split(",") if v.strip()]
            return tuple(v for v in values if allowed is None or v in set(allowed))

        sort = str(params.get("sort", default.sort))
        steering = str(params.get("steer", default.steering))
        groups = listed("cols", COLUMN_GROUPS) if "cols" in params else default.groups
        return cls(
            sort=sort if sort in COLUMN_BY_KEY else default.sort,
            desc=str(params.get("desc", "0")) in ("1", "true") if sort in COLUMN_BY_KEY else default.desc,
            search=str(params.get("q", "")).strip()[:200],
            steering=steering if steering in STEERING_FILTERS else default.steering,
            provenance=listed("prov", PROVENANCE_KINDS),
            family=listed("family", None),
            groups=groups,
        )


def _sort_key(row: dict[str, Any], key: str, desc: bool) -> tuple:
    """Missing values last whichever way the column is sorted."""
    value = row.get(key)
    if value is None or value == "":
        return (1, 0)
    if isinstance(value, (int, float)):
        return (0, -value if desc else value)
    return (0, str(value).lower())


def filter_rows(rows: Iterable[dict[str, Any]], view: ViewState) -> list[dict[str, Any]]:
    needle = view.search.lower()
    out = []
    for row in rows:
        if needle and needle not in row["search_text"]:
            continue
        if view.steering == "on" and not row["steered_runs"]:
            continue
        if view.steering == "off" and row["steered_runs"]:
            continue
        if view.provenance and row["kind"] not in view.provenance:
            continue
        if view.family and row["family"] not in view.family:
            continue
        out.append(row)
    return out


def apply_view(board: Board, view: ViewState) -> list[dict[str, Any]]:
    """The rows the view shows, filtered and sorted (stable: ties keep the board's rank order)."""
    rows = filter_rows(board.rows, view)
    numeric = COLUMN_BY_KEY.get(view.sort, COLUMN_BY_KEY["rank"]).kind != "text"
    if numeric:
        return sorted(rows, key=lambda r: _sort_key(r, view.sort, view.desc))
    present = sorted((r for r in rows if r.get(view.sort)), key=lambda r: str(r[view.sort]).lower(), reverse=view.desc)
    return present + [r for r in rows if not r.get(view.sort)]


def visible_columns(view: ViewState) -> list[Column]:
    return [c for c in COLUMNS if c.group == "core" or c.group in view.groups]


# ------------------------------------------------------------------------------------------------------ export
def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def export_records(rows: Sequence[dict[str, Any]], view: ViewState) -> list[dict[str, Any]]:
    """The view as plain records: visible columns, rates with their interval bounds, p-values with paired n."""
    records = []
    for row in rows:
        rec: dict[str, Any] = {}
        for col in visible_columns(view):
            if col.key == "provenance":
                rec["provenance"] = row["kind"]
                rec["uploader"] = row.get("uploader", "")
                continue
            if col.key == "rank":
                rec["rank"] = row.get("rank")
                rec["unranked_reason"] = row.get("unranked", "")
                continue
            rec[col.key] = _round(row.get(col.key))
            if col.kind == "rate":
                rec[f"{col.key}_ci_low"] = _round(row.get(f"{col.key}_lo"))
                rec[f"{col.key}_ci_high"] = _round(row.get(f"{col.key}_hi"))
            if col.kind == "p":
                rec[col.key.replace("_p", "_paired_n")] = row.get(col.key.replace("_p", "_n"))
        records.append(rec)
    return records


def to_csv(records: Sequence[dict[str, Any]]) -> str:
    if not records:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
    return buf.getvalue()


def to_json(records: Sequence[dict[str, Any]], view: ViewState) -> str:
    from zbb import __version__

    return (
        json.dumps(
            {
                "kind": "zbb-leaderboard-view",
                "zbb_version": __version__,
                "view": view.to_query(),
                "rows": list(records),
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


# ------------------------------------------------------------------------------------------------------ display
def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def display_cell(row: dict[str, Any], col: Column) -> Any:
    """A cell as the app shows it: rates with their interval, signed deltas, p-values, markdown links.

    Text columns (model, family, ...) are plain-text cells (see `display_table`); the markdown cells hold only our
    own markup around escaped text and http(s) links (`zbb.leaderboard.safe`)."""
    from zbb.leaderboard.safe import md_link, md_text

    value = row.get(col.key)
    if col.kind == "rate":
        if value is None:
            return "–"
        return f"**{value:.2f}** <sub>[{row[col.key + '_lo']:.2f}, {row[col.key + '_hi']:.2f}]</sub>"
    if col.kind == "p":
        if value is None:
            return "–"
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    if col.kind == "link":
        return md_link("link", value)
    if col.key == "rank":
        if value is not None:
            return str(value)
        return f"– ({row['unranked']})" if row.get("unranked") else "–"
    if col.kind == "num":
        if value is None:
            return "–"
        if col.key.startswith("delta_"):
            return f"{value:+.2f}"
        return str(value) if isinstance(value, int) else _fmt(value)
    if col.key == "model":  # a plain-text cell (see display_table): the indicative-ASR mark is text too
        return f"{value} ({INDICATIVE_ASR_BADGE})" if row.get("asr_grade") else str(value)
    if col.key == "provenance":
        kind = str(row["kind"])
        badge = f'<span class="zbb-badge zbb-{slug(kind)}">{md_text(kind)}</span>'
        return badge + (f"<br><sub>by {md_text(row['uploader'], limit=60)}</sub>" if row.get("uploader") else "")
    return str(value) if value is not None else ""


#: Cells that hold our markup (formatted figures, badges, links); every other column is plain text.
MARKDOWN_KINDS = ("rate", "link")


def display_table(rows: Sequence[dict[str, Any]], view: ViewState) -> tuple[list[str], list[list[Any]], list[str]]:
    """Headers, cell values and gradio datatypes of the view: untrusted text (model, family, ...) goes in "str"
    cells, which the page shows as text, never as markup."""
    cols = visible_columns(view)
    headers = [c.label for c in cols]
    datatypes = ["markdown" if c.kind in MARKDOWN_KINDS or c.key == "provenance" else "str" for c in cols]
    return headers, [[display_cell(r, c) for c in cols] for r in rows], datatypes


WIDTHS = {"rank": "96px", "model": "180px", "provenance": "130px"}
KIND_WIDTHS = {"rate": "140px", "p": "100px", "link": "80px", "num": "100px", "text": "120px"}


def column_widths(view: ViewState) -> list[str | int]:
    """Each visible column's width: its kind's width, widened so the header's longest word fits on one line
    (headers wrap between words, never inside one)."""

    def width(col: Column) -> str:
        base = int(WIDTHS.get(col.key, KIND_WIDTHS[col.kind]).removesuffix("px"))
        longest = max(len(word) for word in col.label.split())
        return f"{max(base, round(longest * 8.5) + 34)}px"

    return [width(c) for c in visible_columns(view)]


# ------------------------------------------------------------------------------------------------------ runs/items
def run_rows(board: Board) -> list[dict[str, Any]]:
    """One row per stored run (every alpha, every repeat), for the per-run table."""
    out = []
    for entry in board.entries:
        for run in sorted(entry.runs, key=lambda r: (r.result.steered, r.scored_at)):
            res = run.result
            row: dict[str, Any] = {
                "run": run.key,
                "model": entry.model,
                "provenance": entry.kind,
                "uploader": entry.uploader,
                "steering": steering_text(run) or "off",
                "made with": made_with_text(run),
                "main": run is entry.unsteered or run is entry.steered,
            }
            for cond, agg in res.aggregates.items():
                row[f"{cond} correctness"] = (
                    f"{agg.correctness.rate:.2f} [{agg.correctness.ci_low:.2f}, "
                    f"{agg.correctness.ci_high:.2f}] n={agg.n}"
                )
                row[f"{cond} IWOR"] = f"{agg.iwor.rate:.2f} [{agg.iwor.ci_low:.2f}, {agg.iwor.ci_high:.2f}]"
            row["items"] = sum(len(v) for v in run.outcomes.values())
            row["date"] = run.scored_at[:10]
            out.append(row)
    return out


ITEM_FIELDS = (
    "id",
    "condition",
    "correct",
    "subject_hit",
    "stance",
    "response",
    "judge_reason",
    "label",
    "category",
    "voice",
    "missing",
    "source",
)


#: The Samples tab's column names for ITEM_FIELDS (the downloads keep the field names).
ITEM_LABELS = {
    "id": "Row",
    "condition": "Condition",
    "correct": "Correct",
    "subject_hit": "Heard subject",
    "stance": "Stance",
    "response": "Reply",
    "judge_reason": "Judge's reason",
    "label": "Claim true",
    "category": "Category",
    "voice": "Voice",
    "missing": "Missing",
    "source": "Reply from",
}


def item_records(items: Iterable[ItemScore]) -> list[dict[str, Any]]:
    return [{k: getattr(it, k) for k in ITEM_FIELDS} for it in items]


def item_display(items: Iterable[ItemScore]) -> tuple[list[str], list[list[str]]]:
    """Headers and plain-text cells of the Samples tab's scored-rows table (human column names, ✓/✗ flags)."""

    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "✓" if value else "✗"
        return "" if value is None else str(value)

    return [ITEM_LABELS[k] for k in ITEM_FIELDS], [[cell(getattr(it, k)) for k in ITEM_FIELDS] for it in items]


def items_jsonl(items: Iterable[ItemScore]) -> str:
    return "".join(json.dumps(it.to_dict(), ensure_ascii=False) + "\n" for it in items)


def items_csv(items: Iterable[ItemScore]) -> str:
    return to_csv(item_records(items))
