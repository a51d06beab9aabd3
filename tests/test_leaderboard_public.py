"""The board opened to strangers, on a running server: gradio_client for ownership, duplicate uploads, the rate
limit, sign-in and the ranking rules; a real headless Chromium for escaping (the DOM has no element made from an
uploaded name), a fresh page after an upload, the pinned Model column and a phone-width page without sideways
scroll. Screenshots go to $ZBB_SCREENSHOTS when set.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import pytest
from test_leaderboard_app import CHROMIUM, CHROMIUM_ARGS, _free_port, _transcript_submission

from zbb.leaderboard.store import ResultStore
from zbb.leaderboard.submit import RateLimiter

EVIL = "Evil<img src=x>**bold**[x](javascript:alert(1))"
EVIL_URL = "x) <img src=x>"


def _launch(root: Path, dataset: Path, **kw):
    from zbb.dataset import open_dataset
    from zbb.leaderboard.app import launch

    port = _free_port()
    demo = launch(ResultStore(root), dataset=open_dataset(dataset), port=port, block=False, **kw)
    return demo, f"http://127.0.0.1:{port}/"


def _files(folder: Path, dataset: Path, model: str, *, drop: int = 0, reply: str | None = None, **meta) -> list:
    from gradio_client import handle_file

    files = _transcript_submission(folder, dataset, model)
    if drop or reply:
        lines = files[0].read_text().splitlines()
        rows = [json.loads(line) for line in lines]
        dropped = [r["id"] for r in rows if r["condition"] == "interrupt"][:drop]  # rows of the ranked condition
        rows = [r for r in rows if not (r["condition"] == "interrupt" and r["id"] in dropped)]
        for row in rows:
            row["response"] = reply or row["response"]
        files[0].write_text("".join(json.dumps(r) + "\n" for r in rows))
    if meta:
        files[1].write_text(json.dumps({"model": model, "model_family": "testfamily", **meta}))
    return [handle_file(str(f)) for f in files]


@pytest.fixture(scope="module")
def paper_board(tmp_path_factory, tiny_dataset):
    """The paper's rows plus whatever the tests upload (the issue's setting: uploads scored on the tiny dataset)."""
    from zbb.score.reference import paper_results

    root = tmp_path_factory.mktemp("public") / "submissions"
    store = ResultStore(root)
    for result in paper_results():
        store.add(result, subdir="paper")
    demo, url = _launch(root, Path(tiny_dataset), upload_limit=RateLimiter(100, 3600), require_login=False)
    yield {"url": url, "store": store, "dataset": Path(tiny_dataset)}
    demo.close()


@pytest.fixture(scope="module")
def tiny_board(tmp_path_factory, tiny_dataset):
    """A board whose dataset is the tiny build (a maintainers' reproduced run on it), with 3 uploads an hour."""
    from zbb.dataset import open_dataset
    from zbb.score import score_submission

    base = tmp_path_factory.mktemp("tiny-board")
    root = base / "submissions"
    files = _transcript_submission(base / "ref", Path(tiny_dataset), "Reference")
    ResultStore(root).add(score_submission(files[0].parent, open_dataset(tiny_dataset)))  # kind "reproduced"
    demo, url = _launch(root, Path(tiny_dataset), upload_limit=RateLimiter(3, 3600), require_login=False)
    yield {"url": url, "store": ResultStore(root), "dataset": Path(tiny_dataset)}
    demo.close()


# ------------------------------------------------------------------------------------------------ gradio_client
def test_uploads_never_replace_each_others_rows_and_a_repeat_is_not_stored(paper_board, tmp_path):
    from gradio_client import Client

    client = Client(paper_board["url"], verbose=False)
    first = _files(tmp_path / "a", paper_board["dataset"], "Twin")
    assert "Stored" in client.predict(first, False, api_name="/submit")
    before = {r["model"]: r for r in client.predict("q=twin", api_name="/board")}["Twin"]
    other = _files(tmp_path / "b", paper_board["dataset"], "Twin", reply="Sorry, what?")
    assert "Stored" in client.predict(other, False, api_name="/submit")
    twins = [r for r in client.predict("q=twin", api_name="/board") if r["model"] == "Twin"]
    assert len(twins) == 2  # a second upload with the same name is a second row
    assert before["ni_correct"] in {r["ni_correct"] for r in twins} and before["ni_correct"] > 0
    assert {r["ni_correct"] for r in twins} == {before["ni_correct"], 0.0}

    stored = len(paper_board["store"].summaries())
    again = client.predict(_files(tmp_path / "c", paper_board["dataset"], "Twin"), False, api_name="/submit")
    assert html.unescape(again).startswith("Already on the board") and "nothing new was stored" in again
    assert len(paper_board["store"].summaries()) == stored


def test_a_partial_tiny_run_is_shown_unranked_below_the_papers_models(paper_board, tmp_path):
    from gradio_client import Client

    client = Client(paper_board["url"], verbose=False)
    message = client.predict(_files(tmp_path / "p", paper_board["dataset"], "Tiny"), False, api_name="/submit")
    assert "Stored" in message
    rows = client.predict("", api_name="/board")
    ranks = {r["model"]: (r["rank"], r["unranked_reason"]) for r in rows}
    assert ranks["PersonaPlex"] == (1, "") and ranks["Moshi"] == (1, "") and ranks["Raon-SpeechChat"] == (3, "")
    assert ranks["Tiny"][0] is None and ranks["Tiny"][1].startswith("other dataset")
    assert [r["model"] for r in rows][:3] == ["PersonaPlex", "Moshi", "Raon-SpeechChat"]


def test_partial_runs_are_unranked_and_uploads_are_rate_limited(tiny_board, tmp_path):
    from gradio_client import Client

    client = Client(tiny_board["url"], verbose=False)
    ds = tiny_board["dataset"]
    assert "Stored" in client.predict(_files(tmp_path / "full", ds, "Complete"), False, api_name="/submit")
    partial = _files(tmp_path / "part", ds, "Partial", drop=2)
    refused = html.unescape(client.predict(partial, False, api_name="/submit"))
    assert refused.startswith("Submission refused") and "allow-partial" in refused
    stored = html.unescape(client.predict(partial, True, api_name="/submit"))  # the Submit tab's checkbox
    assert stored.startswith("Stored") and "⚠️" in stored  # the scorer's note on the missing rows is shown
    ranks = {r["model"]: (r["rank"], r["unranked_reason"]) for r in client.predict("", api_name="/board")}
    assert ranks["Complete"] == (1, "") and ranks["Reference"] == (1, "")
    assert ranks["Partial"][0] is None and ranks["Partial"][1].startswith("partial run")
    # three upload attempts an hour from this client: the fourth is refused before anything is read
    limited = client.predict(_files(tmp_path / "x", ds, "Fourth"), False, api_name="/submit")
    assert "uploads per 60 min" in limited and "Fourth" not in {s.model for s in tiny_board["store"].summaries()}


@pytest.fixture
def on_a_space(monkeypatch):
    """The environment of a Space with `hf_oauth: true` (gradio reads the OAuth variables at import: setattr)."""
    import gradio.http_server
    import gradio.oauth

    from zbb.leaderboard.app import login_required

    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setenv("SPACE_ID", "zbb/leaderboard")
    # On a Space gradio also starts its hot-reload watcher, which needs the `spaces` package that only real Spaces
    # have (here its thread would die with a RuntimeError): no watcher in this imitation.
    monkeypatch.setattr(gradio.http_server, "watchfn_spaces", lambda reloader: None)
    for name in ("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "OAUTH_SCOPES", "OPENID_PROVIDER_URL"):
        monkeypatch.setattr(gradio.oauth, name, "https://huggingface.co" if name == "OPENID_PROVIDER_URL" else "x")
    assert login_required()


def test_on_a_space_submitting_needs_a_sign_in(tmp_path, tiny_dataset, on_a_space):
    from gradio_client import Client

    demo, url = _launch(tmp_path / "s", Path(tiny_dataset))
    try:
        message = Client(url, verbose=False).predict(
            _files(tmp_path / "a", Path(tiny_dataset), "Anon"), False, api_name="/submit"
        )
        assert "sign in with Hugging Face" in message
        assert ResultStore(tmp_path / "s").summaries() == []
    finally:
        demo.close()


def test_a_signed_in_uploaders_row_shows_who_and_is_theirs(tmp_path, tiny_dataset):
    """What the Submit handler does with the signed-in user's name (gradio hands it the OAuth profile)."""
    from zbb.dataset import open_dataset
    from zbb.leaderboard.submit import submit
    from zbb.leaderboard.table import build_board

    ds, store = open_dataset(tiny_dataset), ResultStore(tmp_path / "s")
    alice = _transcript_submission(tmp_path / "a", Path(tiny_dataset), "Shared")
    mallory = _transcript_submission(tmp_path / "m", Path(tiny_dataset), "Shared")
    mallory[0].write_text(mallory[0].read_text().replace("Yes, the", "Nope, the"))
    assert submit(store, alice, ds, uploader="alice").ok and submit(store, mallory, ds, uploader="mallory").ok
    rows = [r for r in build_board(store.summaries()).rows if r["model"] == "Shared"]
    assert sorted(r["uploader"] for r in rows) == ["alice", "mallory"]
    repeat = submit(store, alice, ds, uploader="mallory")  # the same files again, from anyone: not stored twice
    assert repeat.duplicate_of and len(store.summaries()) == 2


# ------------------------------------------------------------------------------------------------ browser
@pytest.fixture()
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); the browser test needs a real Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _shots(tmp_path: Path) -> Path:
    shots = Path(os.environ.get("ZBB_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _open(browser, url: str, width: int = 1400):
    page = browser.new_page(viewport={"width": width, "height": 1000})
    page.goto(url)
    page.wait_for_function(
        "document.querySelector('#zbb-status') && /\\d+ models/.test(document.querySelector('#zbb-status').innerText)",
        timeout=30_000,
    )
    page.locator("#zbb-table table").wait_for(timeout=30_000)
    return page


@pytest.mark.browser
def test_an_uploaded_name_creates_no_element_anywhere_on_the_page(paper_board, browser, tmp_path):
    page = _open(browser, paper_board["url"])
    page.get_by_role("tab", name="📤 Submit").click()
    folder = tmp_path / "evil"
    _transcript_submission(folder, paper_board["dataset"], EVIL)
    (folder / "meta.json").write_text(
        json.dumps({"model": EVIL, "model_family": "<b>fam</b>", "model_url": EVIL_URL, "notes": "**n**"})
    )
    page.locator('input[type=file][accept*=".zip"]').set_input_files(
        [str(folder / "responses.jsonl"), str(folder / "meta.json")]
    )
    page.get_by_role("button", name="Validate and score").click()
    out = page.locator("#zbb-submit-out")
    out.get_by_text("Stored").wait_for(timeout=60_000)
    assert EVIL in out.inner_text()  # the message quotes the name as text
    page.screenshot(path=str(_shots(tmp_path) / "leaderboard-submit-evil.png"), full_page=True)

    page = _open(browser, paper_board["url"] + "?q=evil&cols=correct,links,about")
    page.wait_for_function("document.querySelector('#zbb-table').innerText.includes('Evil')", timeout=30_000)
    made = page.evaluate(
        """() => ({
        imgs: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
        bold: [...document.querySelectorAll('strong, b, em')].filter(e => e.textContent.includes('bold')
            && e.closest('#zbb-table, #zbb-runs, #zbb-status, #zbb-run-pick')).length,
        links: [...document.querySelectorAll('a')].filter(
            a => a.textContent === 'x' || a.href.startsWith('javascript') || a.href.includes('%3Cimg')).length,
        fam: [...document.querySelectorAll('b')].filter(e => e.textContent === 'fam').length,
        cells: [...document.querySelectorAll('#zbb-table .body-cell')].map(td => td.innerText.trim()),
    })"""
    )
    assert (made["imgs"], made["bold"], made["links"], made["fam"]) == (0, 0, 0, 0), made
    assert EVIL in made["cells"] and "<b>fam</b>" in made["cells"]  # shown, character for character
    page.get_by_role("tab", name="📈 Plots").click()
    page.locator(".js-plotly-plot .legendtext").first.wait_for(timeout=30_000)
    legend = page.evaluate("[...document.querySelectorAll('.js-plotly-plot .legendtext')].map(e => e.textContent)")
    assert any(EVIL in t for t in legend)  # drawn as text in the legend
    assert page.evaluate("document.querySelectorAll('.js-plotly-plot svg a, img[src=\"x\"]').length") == 0
    page.screenshot(path=str(_shots(tmp_path) / "leaderboard-plots-evil.png"), full_page=True)


@pytest.mark.browser
def test_a_fresh_page_after_an_upload_shows_the_new_counts_and_run(paper_board, browser, tmp_path):
    from gradio_client import Client

    page = _open(browser, paper_board["url"])
    models_before = int(page.locator("#zbb-status").inner_text().split(" models")[0].split()[-1])
    files = _files(tmp_path / "n", paper_board["dataset"], "FreshModel")
    assert "Stored" in Client(paper_board["url"], verbose=False).predict(files, False, api_name="/submit")

    fresh = _open(browser, paper_board["url"])
    status = fresh.locator("#zbb-status").inner_text()
    assert status.startswith(f"{models_before + 1} models"), status
    assert "FreshModel" in fresh.locator("#zbb-table").inner_text()
    fresh.get_by_role("tab", name="🔎 Samples").click()
    fresh.locator("#zbb-run-pick input").click()
    options = [o.strip("✓ \n") for o in fresh.get_by_role("option").all_inner_texts()]
    assert any(o.startswith("FreshModel") for o in options), options
    # choosing the new run shows its own rows: the row picker and the table follow, nothing kept from before
    fresh.get_by_role("option").filter(has_text="FreshModel").first.click()
    fresh.get_by_text("Judge").first.wait_for(timeout=30_000)
    fresh.wait_for_function("document.querySelector('#zbb-items').innerText.includes('Heard subject')", timeout=30_000)
    assert "no row" not in fresh.locator("#zbb-verdict").inner_text()
    # switching the condition: the scored-rows table holds that condition's rows only
    fresh.locator("#zbb-cond-pick input").click()
    fresh.get_by_role("option", name="no_interrupt", exact=True).click()
    fresh.wait_for_function(
        """() => { const c = [...document.querySelectorAll('#zbb-items .body-cell[data-col="1"]')];
                   return c.length > 0 && c.every(e => e.innerText.trim() === 'no_interrupt'); }""",
        timeout=30_000,
    )
    verdict = fresh.locator("#zbb-verdict").inner_text()
    assert "Yes, the" in verdict or "No, the" in verdict  # a no_interrupt reply (interrupt rows say "Sorry")


@pytest.mark.browser
def test_the_model_column_stays_pinned_when_the_table_scrolls_sideways(paper_board, browser, tmp_path):
    page = _open(browser, paper_board["url"] + "?cols=correct,iwor,steering,gaps,n,about,links,provenance", 900)
    geometry = page.evaluate(
        """() => new Promise(done => {
        const frame = document.querySelector('#zbb-table .virtual-table-viewport');
        const model = () => document.querySelector('#zbb-table th[data-heading="1"]');
        const cell = () => [...document.querySelectorAll('#zbb-table .body-cell[data-col="1"]')]
            .find(c => c.innerText.trim() === 'Moshi');
        const rank = () => document.querySelector('#zbb-table th[data-heading="0"]');
        const left = e => Math.round(e.getBoundingClientRect().left);
        const before = {model: left(model()), cell: left(cell()), rank: left(rank()), text: model().innerText.trim()};
        frame.scrollLeft = frame.scrollWidth;
        setTimeout(() => done({before, frame: left(frame), scrolled: frame.scrollLeft,
            after: {model: left(model()), cell: left(cell()), rank: left(rank())}}), 300);
    })"""
    )
    assert geometry["before"]["text"] == "Model" and geometry["scrolled"] > 200, geometry  # it did scroll sideways
    after = geometry["after"]
    assert after["model"] == after["cell"] == geometry["frame"], geometry  # Model header and cells stay at the left
    assert after["rank"] < geometry["frame"] - 50, geometry  # while the other columns scrolled out of view
    headers = page.evaluate(
        """() => [...document.querySelectorAll('#zbb-table th')].map(th => {
            const range = document.createRange(); range.selectNodeContents(th);
            const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
            return {text: th.innerText.trim(), lines: tops.size,
                    fits: th.scrollWidth <= th.clientWidth + 1};
        })"""
    )
    assert all(h["fits"] for h in headers), [h for h in headers if not h["fits"]]  # no header cut inside a word
    page.screenshot(path=str(_shots(tmp_path) / "leaderboard-pinned.png"))


@pytest.mark.browser
def test_at_phone_width_the_page_does_not_scroll_sideways(paper_board, browser, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page.goto(paper_board["url"])
    page.locator("#zbb-table table").wait_for(timeout=30_000)
    page.wait_for_function("/\\d+ models/.test(document.querySelector('#zbb-status').innerText)", timeout=30_000)
    path = _shots(tmp_path) / "leaderboard-390.png"
    page.screenshot(path=str(path), full_page=True)
    widths = page.evaluate(
        """() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                  inner: window.innerWidth,
                  wide: [...document.querySelectorAll('body *')].filter(e => {
                      const r = e.getBoundingClientRect();
                      if (r.width === 0 || r.right <= window.innerWidth + 1) return false;
                      for (let p = e.parentElement; p; p = p.parentElement) {
                          const s = getComputedStyle(p);
                          if (/(auto|scroll|hidden)/.test(s.overflowX) && p.getBoundingClientRect().right <= window.innerWidth + 1) return false;
                      }
                      return true;
                  }).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)})"""
    )
    assert widths["doc"] <= widths["inner"] and widths["body"] <= widths["inner"], widths
    assert widths["wide"] == [], widths
    from PIL import Image

    with Image.open(path) as shot:
        assert shot.width == 390  # a full-page screenshot is as wide as the page: nothing sticks out sideways


@pytest.mark.parametrize("login", [False, True])
def test_the_submit_handler_declares_what_gradio_fills_in(tmp_path, login, request):
    """gradio hands the handler the request (and the OAuth profile) only when it can resolve the function's type
    hints; a hint it cannot resolve silently turns them off, and with them the sign-in check and the rate limit's
    per-client key."""
    import gradio as gr
    from gradio.utils import get_type_hints

    from zbb.leaderboard.app import build_app

    if login:
        request.getfixturevalue("on_a_space")
    demo = build_app(ResultStore(tmp_path), require_login=login)
    (handler,) = [f.fn for f in demo.fns.values() if getattr(f, "api_name", None) == "submit"]
    hints = get_type_hints(handler)
    assert hints["request"] is gr.Request
    assert ("profile" in hints) == login and (not login or hints["profile"] == gr.OAuthProfile | None)
