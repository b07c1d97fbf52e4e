"""Review text as plain text: every HTML tag removed with nh3, entities decoded, whitespace tidied."""

from __future__ import annotations

import html
import re

import nh3

#: Passes of clean-then-decode at most (an entity-encoded tag decodes to a tag the next pass removes).
PASSES = 4
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def plain_text(value: str | None) -> str:
    """``value`` with no HTML left: tags removed (the content of ``script``/``style`` too) by nh3,
    entities decoded to characters (``&amp;`` -> ``&``), repeated until nothing changes so that an
    encoded tag (``&lt;b&gt;``) cannot survive as a tag; CRLF as LF, runs of spaces as one,
    at most one blank line in a row, ends stripped. ``None`` -> ``""``. Templates escape it on output."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    for _ in range(PASSES):
        cleaned = html.unescape(nh3.clean(text, tags=set(), attributes={}))
        if cleaned == text:
            break
        text = cleaned
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
