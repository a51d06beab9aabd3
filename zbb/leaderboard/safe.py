"""Untrusted text made safe to show: in markdown (Gradio Markdown, markdown table cells), in plotly labels and as
link targets.

Everything an uploader controls (model, model_id, family, notes, replies, file names, user names) goes through
one of these before it reaches the page. `md_text` turns every ASCII punctuation character that markdown or HTML
could read as markup into a numeric character reference: a CommonMark renderer shows a character reference as that literal character and never as
markup, so no emphasis, link, autolink, HTML tag or table pipe can be built from the text, whatever it holds.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# every ASCII punctuation character that can start or end markup ('/' and '.' break autolinks: "://", "www.");
# , ; : ? % = and quotes cannot, and stay readable
_PUNCT = re.compile(r"[!#$&()*+\-./<>@\[\\\]^_`{|}~]")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_URL = 500


def md_text(text: object, *, limit: int = 300) -> str:
    """`text` as literal markdown text on one line (whitespace collapsed, cut to `limit` characters)."""
    flat = _SPACE.sub(" ", _CONTROL.sub(" ", str(text))).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _PUNCT.sub(lambda m: f"&#{ord(m.group())};", flat)


def md_code(text: object, *, limit: int = 300) -> str:
    """`text` shown in a monospace span: literal like `md_text` (a code span's own backticks could be closed)."""
    return f"<code>{md_text(text, limit=limit)}</code>"


def plot_text(text: object, *, limit: int = 80) -> str:
    """`text` for a plotly label, legend or hover text: plotly draws a small HTML subset (<a>, <b>, <br>), so
    `<`, `>`, `&` and quotes become entities, which it shows as the characters."""
    flat = _SPACE.sub(" ", _CONTROL.sub(" ", str(text))).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return html.escape(flat, quote=True)


def safe_url(url: object) -> str | None:
    """`url` when it is an absolute http(s) URL with a host and no spaces, quotes or angle brackets; else None.

    The returned URL may go inside a markdown link `[..](url)` or an HTML attribute: parentheses are percent-encoded
    so they cannot close the link early."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL or re.search(r"[\s<>\"'`\\\x00-\x1f\x7f]", url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.replace("(", "%28").replace(")", "%29")


def md_link(label: str, url: object) -> str:
    """A markdown link to `url` when it is a safe http(s) URL; empty text otherwise. `label` is ours (trusted)."""
    target = safe_url(url)
    return f"[{label}]({target})" if target else ""


__all__ = ["md_code", "md_link", "md_text", "plot_text", "safe_url"]
