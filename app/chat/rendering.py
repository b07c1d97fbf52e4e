"""Message bodies as safe HTML: the text the author typed, escaped, with line breaks kept
and http(s) links made clickable, cleaned by ``nh3``."""

from __future__ import annotations

import re

import nh3
from markupsafe import Markup, escape

_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def linkify(text: str) -> str:
    """Escape ``text`` and wrap http(s) URLs in anchors (still to be cleaned by nh3)."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        start, end = m.start(), m.start() + len(url)
        out.append(str(escape(text[pos:start])))
        out.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        pos = end
    out.append(str(escape(text[pos:])))
    return "".join(out)


def render_body(body: str) -> Markup:
    """Safe HTML of a message: the text escaped, line breaks kept as ``<br>``, http(s) links
    as ``<a rel="nofollow noopener noreferrer">``; cleaned by ``nh3`` so only ``a`` (with
    ``href``) and ``br`` survive."""
    html = linkify(body).replace("\r\n", "\n").replace("\n", "<br>")
    cleaned = nh3.clean(html, tags={"a", "br"}, attributes={"a": {"href"}}, url_schemes={"http", "https"},
                        link_rel="nofollow noopener noreferrer", strip_comments=True)
    return Markup(cleaned)  # noqa: S704 - nh3-cleaned
