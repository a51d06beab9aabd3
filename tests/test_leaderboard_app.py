"""The leaderboard app, launched on 127.0.0.1: driven with gradio_client (read the board, submit, see the new row)
and with a real headless Chromium (paper rows render, the view lives in the URL, a screenshot is saved).

Depends on: the scorer (`zbb.score`: paper results, scoring uploads), the submission loader (`zbb.submission`)
and the shared `tiny_dataset` fixture (a real espeak build, tests/conftest.py).
"""

from __future__ import annotations

import html
import json
import os
import socket
from pathlib import Path

import pytest

from zbb.leaderboard.store import ResultStore
from zbb.leaderboard.synthetic import synthetic_run

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def board_app(tmp_path_factory, tiny_dataset):
    from zbb.dataset import open_dataset
    from zbb.leaderboard.app import launch
    from zbb.score.reference import paper_results

    root = tmp_path_factory.mktemp("board")
    store = ResultStore(root / "submissions")
    for result in paper_results():
        store.add(result, subdir="paper")
    store.add(
        synthetic_run(
            "Simulated listener (misses 320 ms)",
            {"no_interrupt": (0.9, 0.95), "interrupt": (0.5, 0.3)},
            kind="simulation",
            family="simulation",
            decoding={"missed_ms": 320},
        )
    )
    port = _free_port()
    demo = launch(store, dataset=open_dataset(tiny_dataset), port=port, block=False)
    yield {"url": f"http://127.0.0.1:{port}/", "store": store, "dataset": Path(tiny_dataset), "root": root}
    demo.close()


def _transcript_submission(folder: Path, dataset_path: Path, model: str) -> list[Path]:
    """meta.json + responses.jsonl answering every row of the dataset: right on true claims in no_interrupt."""
    from zbb.dataset import open_dataset

    ds = open_dataset(dataset_path)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for cond in ds.conditions():
        for clip in ds.clips(cond):
            heard = cond == "no_interrupt"
            reply = (
                f"Yes, the {clip.subject} {clip.description}."
                if heard and clip.label
                else f"No, the {clip.subject} does not."
                if heard
                else "Sorry, what did you say?"
            )
            lines.append(json.dumps({"id": clip.id, "condition": cond, "response": reply}))
    (folder / "responses.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "meta.json").write_text(json.dumps({"model": model, "model_family": "testfamily"}))
    return [folder / "responses.jsonl", folder / "meta.json"]


def test_client_reads_the_board_and_a_submission_appears(board_app, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(board_app["url"], verbose=False)
    rows = client.predict("", api_name="/board")
    assert {(r["model"], r["provenance"]) for r in rows} >= {
        ("PersonaPlex", "paper-reported"),
        ("Moshi", "paper-reported"),
        ("Raon-SpeechChat", "paper-reported"),
    }
    moshi = next(r for r in rows if r["model"] == "Moshi")
    assert moshi["int_correct"] == pytest.approx(0.22) and moshi["steer_correct"] == pytest.approx(0.34)
    assert [r["model"] for r in client.predict("steer=off&prov=simulation", api_name="/board")] == [
        "Simulated listener (misses 320 ms)"
    ]

    files = _transcript_submission(tmp_path / "sub", board_app["dataset"], "UploadedModel")
    message = client.predict([handle_file(str(f)) for f in files], api_name="/submit")
    assert "Stored **UploadedModel** as self-reported" in message, message
    new = next(r for r in client.predict("q=uploaded", api_name="/board") if r["model"] == "UploadedModel")
    assert new["provenance"] == "self-reported"
    assert new["ni_correct"] > new["int_correct"]  # it answered only when listening
    stored = [s for s in board_app["store"].summaries() if s.model == "UploadedModel"]
    assert len(stored) == 1 and stored[0].outcomes["interrupt"]


def test_a_bad_submission_is_refused_with_the_checkers_messages(board_app, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(board_app["url"], verbose=False)
    files = _transcript_submission(tmp_path / "bad", board_app["dataset"], "BadModel")
    lines = files[0].read_text().splitlines()
    files[0].write_text("\n".join(lines[1:]) + "\n{not json\n")
    before = len(board_app["store"].summaries())
    message = client.predict([handle_file(str(f)) for f in files], api_name="/submit")
    shown = html.unescape(message)  # what the page shows: quoted text is escaped markdown
    assert shown.startswith("Submission refused") and "responses.jsonl" in shown
    assert "/tmp" not in shown and str(board_app["dataset"]) not in shown  # no server path
    assert len(board_app["store"].summaries()) == before


@pytest.mark.browser
def test_browser_renders_paper_rows_and_keeps_the_view_in_the_url(board_app, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); the browser test needs a real Chromium")
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("ZBB_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(board_app["url"] + "?prov=paper-reported&sort=delta_correct&desc=1")
            table = page.locator("#zbb-table")
            page.locator("#zbb-table table").wait_for(timeout=30_000)
            # the page first shows the default view; the URL's view arrives with the load event
            page.wait_for_function(
                "(() => { const t = document.querySelector('#zbb-table').innerText;"
                " return t.includes('Raon') && !t.includes('Simulated'); })()",
                timeout=30_000,
            )
            text = table.inner_text()
            assert all(m in text for m in ("PersonaPlex", "Moshi", "Raon-SpeechChat"))
            order = [m for m in ("PersonaPlex", "Raon-SpeechChat", "Moshi") if m in text]
            assert sorted(order, key=text.index) == ["PersonaPlex", "Raon-SpeechChat", "Moshi"]  # Δ .17 > .14 > .12
            page.screenshot(path=str(shots / "leaderboard.png"), full_page=True)
            # changing a filter rewrites the URL so the view can be shared
            page.get_by_label("on", exact=True).check()
            page.wait_for_function("location.search.includes('steer=on')", timeout=15_000)
            assert "prov=paper-reported" in page.url
            page.get_by_role("tab", name="📈 Plots").click()
            page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
            page.screenshot(path=str(shots / "leaderboard-plots.png"), full_page=True)
            # the Samples tab opens on the first run with per-item rows, with a row and its verdict already shown
            page.get_by_role("tab", name="🔎 Samples").click()
            page.get_by_text("Judge:").first.wait_for(timeout=30_000)
            assert "Reply" in page.locator("body").inner_text()
        finally:
            browser.close()
    assert (shots / "leaderboard.png").stat().st_size > 10_000
