"""What a stranger's upload can do to the board: escaping (markdown, HTML, plotly, links), server paths in
messages, row ownership, duplicate uploads, the upload rate limit and the ranking rules.

Escaping is checked by rendering with a CommonMark renderer (markdown-it-py, the reference implementation's
rules) and asserting that the only HTML produced is our own, and the text shown is exactly the input.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from zbb.errors import Problem
from zbb.leaderboard.safe import md_code, md_link, md_text, plot_text, safe_url
from zbb.leaderboard.submit import RateLimiter, SubmitOutcome, redact_paths
from zbb.leaderboard.synthetic import synthetic_run
from zbb.leaderboard.table import (
    ViewState,
    apply_view,
    build_board,
    display_table,
    export_records,
    pair_runs,
)

GFM = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(["table", "strikethrough", "linkify"])
ATTACK = "Evil<img src=x onerror=alert(1)>**bold**[x](javascript:alert(1)) | <script>x</script> http://e.vil ~~s~~"


def rendered(markdown: str) -> str:
    out = GFM.render(markdown).strip()
    assert out.startswith("<p>") and out.endswith("</p>"), out
    return out[3:-4]


# ------------------------------------------------------------------------------------------------ escaping
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_md_text_renders_as_exactly_its_text_and_never_as_markup(text):
    shown = md_text(text, limit=1000)
    expected = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())
    if not expected:
        return
    inner = rendered(shown)
    assert "<" not in inner.replace("&lt;", "")  # no element at all, whatever the text
    assert html.unescape(inner) == expected.replace("\x00", "\ufffd")


def test_md_text_on_the_issue_example():
    inner = rendered(f"**{md_text(ATTACK)}**")  # inside our own bold
    assert inner.startswith("<strong>") and inner.count("<") == 2  # <strong> and </strong>, nothing else
    assert html.unescape(inner[len("<strong>") : -len("</strong>")]) == ATTACK
    assert md_code("a`b<i>") == "<code>a&#96;b&#60;i&#62;</code>"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://huggingface.co/kyutai/moshi", True),
        ("http://example.org/a_(b)", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("x) <img src=x>", False),
        ("https://ok.org/ <img>", False),
        ("//evil.org/x", False),
        ("https:///nohost", False),
        ('https://a.org/"onmouseover=x', False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_links_are_kept(url, ok):
    assert (safe_url(url) is not None) == ok
    link = md_link("link", url)
    if ok:
        inner = rendered(link)
        assert inner.startswith('<a href="http') and inner.endswith(">link</a>") and inner.count("<") == 2
    else:
        assert link == ""


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_url_makes_one_http_link_or_nothing(url):
    link = md_link("link", "https://h.org/" + url)
    if link:
        inner = rendered(link)
        assert re.fullmatch(r'<a href="https://h\.org/[^"]*">link</a>', inner), inner


def test_plot_text_escapes_the_tags_plotly_draws():
    assert plot_text('<a href="x">y</a>&') == "&lt;a href=&quot;x&quot;&gt;y&lt;/a&gt;&amp;"
    assert plot_text("a\nb") == "a b" and len(plot_text("x" * 500)) == 80


def _evil_board():
    evil = synthetic_run(
        ATTACK, {"no_interrupt": (0.5, 0.5), "interrupt": (0.4, 0.4)}, family="fam<b>**x**</b>", kind="self-reported"
    )
    evil = replace(
        evil,
        meta=replace(evil.meta, model_url="x) <img src=x>", paper_url="javascript:alert(1)", notes="<i>n</i>"),
        provenance=replace(evil.provenance, uploader="<u>someone</u>"),
    )
    return build_board([evil])


def test_board_cells_hold_untrusted_text_only_as_plain_text():
    board = _evil_board()
    view = ViewState(groups=("correct", "iwor", "about", "links", "provenance"))
    headers, cells, types = display_table(apply_view(board, view), view)
    row = dict(zip(headers, cells[0], strict=True))
    kinds = dict(zip(headers, types, strict=True))
    assert row["Model"] == ATTACK and kinds["Model"] == "str"  # shown as text by the page, never parsed
    assert kinds["Family"] == "str" and kinds["Dataset"] == "str"
    assert row["Model link"] == "" and row["Paper link"] == ""  # neither is an http(s) URL
    for header, cell in row.items():
        if kinds[header] == "markdown" and cell:
            inner = GFM.render(str(cell))
            tags = set(re.findall(r"<(\w+)", inner))
            assert tags <= {"p", "strong", "sub", "span", "br", "a"}, (header, inner)
    badge = GFM.render(row["Provenance"])
    assert "<u>" not in badge and "&amp;lt;u&amp;gt;someone" not in badge and "someone" in badge


def test_refusal_messages_escape_what_they_quote_and_hide_server_paths():
    roots = {"/tmp/zbb-upload-abc": "upload", "/srv/data/zbb": "dataset"}
    msg = redact_paths("/tmp/zbb-upload-abc/submission/responses.jsonl:3 and /srv/data/zbb [interrupt]", roots)
    assert msg == "submission/responses.jsonl:3 and dataset [interrupt]"
    assert redact_paths("see /home/user/secret/file.json, https://x.org/a/b", {}) == (
        "see file.json, https://x.org/a/b"
    )
    outcome = SubmitOutcome(ok=False, problems=[Problem("meta.json", f"model {ATTACK!r} is not allowed")])
    inner = GFM.render(outcome.message())
    assert set(re.findall(r"<(\w+)", inner)) <= {"p", "ul", "li", "code"}
    assert "<img" not in inner and "<script" not in inner


_PART = st.text(alphabet=st.characters(codec="ascii", exclude_characters="/\x00"), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PART, min_size=1, max_size=4), st.text(max_size=30), st.text(max_size=30))
def test_no_server_root_survives_in_a_message(parts, before, after):
    root = "/tmp/zbb-upload-q1w2"
    message = f"{before}{root}/{'/'.join(parts)}{after}"
    shown = redact_paths(message, {root: "upload", "/srv/zbb": "dataset"})
    assert root not in shown and "zbb-upload-q1w2" not in shown


# ------------------------------------------------------------------------------------------------ ownership
def _upload(model, uploader=None, sha=None, seed=0, steering=None, rates=None):
    run = synthetic_run(model, rates or {"interrupt": (0.5, 0.5)}, seed=seed, steering=steering)
    return replace(run, provenance=replace(run.provenance, uploader=uploader, submission_sha256=sha))


def test_an_uploaders_row_is_theirs_and_same_names_from_others_stay_separate():
    from zbb.leaderboard.table import RunSummary
    from zbb.records import Steering

    runs = [
        RunSummary.of(_upload("M", "alice", "a1", seed=1), key="k1"),
        RunSummary.of(_upload("M", "alice", "a2", seed=2, steering=Steering(layer=1, alpha=2.0)), key="k2"),
        RunSummary.of(_upload("M", "mallory", "m1", seed=3, rates={"interrupt": (1.0, 1.0)}), key="k3"),
        RunSummary.of(_upload("M", None, "x1", seed=4), key="k4"),  # anonymous (local) uploads
        RunSummary.of(_upload("M", None, "x2", seed=5), key="k5"),
    ]
    entries = {(e.model, e.owner): e for e in pair_runs(runs)}
    assert set(entries) == {("M", "alice"), ("M", "mallory"), ("M", "~k4"), ("M", "~k5")}
    alice = entries[("M", "alice")]
    assert alice.unsteered.key == "k1" and alice.steered.key == "k2"  # her own runs pair into her row
    board = build_board(runs)
    shown = {r["uploader"] for r in board.rows}
    assert shown == {"alice", "mallory", ""}
    alice_row = next(r for r in board.rows if r["uploader"] == "alice")
    assert alice_row["int_correct"] == pytest.approx(0.5)  # mallory's same-name upload did not replace it
    records = export_records(apply_view(board, ViewState()), ViewState())
    assert sorted(r["uploader"] for r in records) == ["", "", "alice", "mallory"]


def test_rate_limiter_counts_per_uploader_in_a_sliding_window():
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    assert limiter.check("a") == 0 and limiter.check("a") == 0
    assert limiter.check("a") == pytest.approx(60) and limiter.check("b") == 0
    now[0] = 61
    assert limiter.check("a") == 0
    assert RateLimiter.parse("3/10").limit == 3 and RateLimiter.parse("3/10").window_s == 10
    assert RateLimiter.parse("0").check("x") == 0
    with pytest.raises(Exception, match="N/SECONDS"):
        RateLimiter.parse("lots")


# ------------------------------------------------------------------------------------------------ ranking
def _run(model, kind="reproduced", n=100, fp="F", asr_grade=None, missing=0, seed=0):
    run = synthetic_run(model, {"no_interrupt": (0.6, 0.6), "interrupt": (0.3, 0.3)}, n=n, kind=kind, seed=seed)
    interrupt_ids = [it.id for it in run.items if it.condition == "interrupt"][:missing]
    items = tuple(
        replace(it, missing=True) if it.condition == "interrupt" and it.id in interrupt_ids else it for it in run.items
    )
    return replace(run, items=items, provenance=replace(run.provenance, dataset_fingerprint=fp, asr_grade=asr_grade))


def test_only_complete_runs_on_the_boards_dataset_take_a_rank():
    runs = [
        _run("Full"),
        _run("Full2", seed=1),
        _run("Partial", n=6),
        _run("OtherDataset", fp="G"),
        _run("Indicative", asr_grade="indicative"),
        _run("Missing", missing=3),
        _run("Upload", kind="self-reported", seed=2),
        _run("TinyUpload", kind="self-reported", n=6, fp="T"),
        _run("Sim", kind="simulation"),
    ]
    board = build_board(runs)
    assert board.basis.fingerprint == "F" and board.basis.rows == 100 and board.basis.source == "reproduced runs"
    got = {r["model"]: (r["rank"], r["unranked"]) for r in board.rows}
    assert got["Full"] == (1, "") and got["Full2"] == (1, "") and got["Upload"] == (1, "")
    assert got["Partial"] == (None, "partial run (6 of 100 rows)")
    assert got["OtherDataset"] == (None, "other dataset (G)")
    assert got["Indicative"][0] is None and got["Indicative"][1].startswith("indicative ASR")
    assert got["Missing"] == (None, "partial run (97 of 100 rows)")
    assert got["TinyUpload"] == (None, "other dataset (T)")
    assert got["Sim"][0] is None
    assert [r["model"] for r in board.rows][-1] != "Full"  # unranked rows sort after ranked ones
    _h, cells, _t = display_table([next(r for r in board.rows if r["model"] == "Partial")], ViewState())
    assert cells[0][0] == "– (partial run (6 of 100 rows))"


def test_uploads_cannot_move_the_boards_dataset_and_paper_rows_rank_on_their_n():
    from zbb.score.reference import paper_results

    tiny = [_run(f"Tiny{i}", kind="self-reported", n=6, fp="T", seed=i) for i in range(5)]
    board = build_board([*paper_results(), *tiny])
    assert board.basis.fingerprint is None and board.basis.rows == 100 and board.basis.source == "paper"
    ranks = {r["model"]: r["rank"] for r in board.rows}
    assert ranks["PersonaPlex"] == 1 and ranks["Moshi"] == 1 and ranks["Raon-SpeechChat"] == 3
    assert all(ranks[f"Tiny{i}"] is None for i in range(5))


# ------------------------------------------------------------------------------------------------ store
def test_the_index_is_built_with_one_parse_per_file_and_page_loads_reparse_nothing(tmp_path, monkeypatch):
    from zbb.leaderboard import store as store_module
    from zbb.leaderboard.store import ResultStore
    from zbb.results import save_result

    for i in range(4):
        save_result(_upload(f"m{i}", seed=i), tmp_path / "s" / f"m{i}.json")
    parses = []
    real = store_module.RunSummary.from_dict
    monkeypatch.setattr(store_module.RunSummary, "from_dict", lambda data: parses.append(1) or real(data))
    store = ResultStore(tmp_path / "s")
    assert sorted(s.model for s in store.summaries()) == ["m0", "m1", "m2", "m3"]
    assert len(parses) == 4 and store.index_path.is_file()  # not 8: the locked second pass reuses the first
    written = store.index_path.stat().st_mtime_ns
    parses.clear()
    assert len(store.summaries()) == 4 and parses == [] and store.index_path.stat().st_mtime_ns == written
    assert len(ResultStore(tmp_path / "s").summaries()) == 4 and len(parses) == 4  # a restart reads the index
