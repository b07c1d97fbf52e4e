"""Finding user-visible text that is not marked for translation.

Templates: text between tags, user-facing attribute values (``title``, ``alt``, ``placeholder``,
``aria-label``, …) and string literals in ``{{ }}``/``{% %}`` that read like words (``"Save
changes"``, passed to a macro) must be inside ``_()``/``gettext()``/``ngettext()`` or a
``{% trans %}`` block. Python: the message of ``flash()``, a form field's label and a validator's
``message=`` must not be a bare string literal.
"""

from __future__ import annotations

import ast
import html
import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

#: Attributes people read or hear (screen readers).
TEXT_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription",
                   "aria-valuetext", "label", "data-confirm", "data-hx-confirm", "hx-confirm"}
#: Text that is the same in every language.
INVARIANT = {"Plaza", "OK", "Stripe", "Google", "Apple", "iCal", "Instagram", "Facebook", "TikTok", "LinkedIn",
             "WhatsApp", "Leaflet", "OpenStreetMap", "HTMX", "CSV", "PDF", "JSON", "API", "UTC", "ICS", "SMS", "QR",
             "TOTP", "URL", "ID", "Wi-Fi", "Dansk", "English", "X", "YouTube", "Pinterest"}
_WORD = re.compile(r"[A-Za-zÆØÅæøåÉé]{2,}")
_GETTEXT = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
_PLACEHOLDER = "\x00"
_ENV = Environment(extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"])


def _visible(text: str) -> str | None:
    """``text`` stripped, when it holds a word that is not language-invariant; else ``None``."""
    cleaned = html.unescape(text).replace(_PLACEHOLDER, " ").strip()
    words = [w for w in _WORD.findall(cleaned) if w not in INVARIANT]
    return cleaned if words else None


class _Skeleton(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._raw_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg", "code", "pre"):
            self._raw_depth += 1
        for name, value in attrs:
            if value and name in TEXT_ATTRIBUTES:
                text = _visible(value)
                if text:
                    self.found.append(f'{name}="{text}"')
            if name == "value" and value and tag == "input" and dict(attrs).get("type") in ("submit", "button"):
                text = _visible(value)
                if text:
                    self.found.append(f'value="{text}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg", "code", "pre") and self._raw_depth:
            self._raw_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._raw_depth:
            return
        text = _visible(data)
        if text:
            self.found.append(text)


def unmarked_in_template(source: str) -> list[str]:
    """The unmarked user-visible texts of one Jinja template's ``source``, in order."""
    skeleton: list[str] = []
    literals: list[str] = []
    in_trans = False
    gettext_depth = 0
    paren_stack: list[bool] = []
    previous = previous_value = None
    for _lineno, kind, value in _ENV.lex(source):
        if kind == "whitespace":  # inside tags: `{% trans %}` is block_begin, whitespace, name
            continue
        if kind == "data":
            skeleton.append(_PLACEHOLDER if in_trans else value)
            continue
        if kind == "whitespace":  # `{% trans %}` lexes as block_begin, whitespace, name
            continue
        if kind == "name" and value in ("trans", "pluralize") and previous == "block_begin":
            in_trans = True
        if kind == "name" and value == "endtrans":
            in_trans = False
        if kind == "variable_begin" or kind == "block_begin":
            skeleton.append(_PLACEHOLDER)
        if kind == "operator" and value == "(":
            opens_gettext = previous_value in _GETTEXT if previous == "name" else False
            paren_stack.append(opens_gettext)
            gettext_depth += opens_gettext
        elif kind == "operator" and value == ")" and paren_stack:
            gettext_depth -= paren_stack.pop()
        elif kind == "string" and not gettext_depth and not in_trans:
            if re.search(r"[A-ZÆØÅ][a-zæøå]+", value) and (" " in value.strip() or re.fullmatch(r"[A-ZÆØÅ][a-zæøå]+[.!?:]?", value)) \
                    and not value.startswith("%") and "/" not in value and "." not in value.rstrip(".!?"):
                text = _visible(value)
                if text:
                    literals.append('"' + text.strip("\"'") + '"')
        previous, previous_value = kind, value
    parser = _Skeleton()
    parser.feed("".join(skeleton))
    parser.close()
    return parser.found + literals


def unmarked_in_python(source: str) -> list[str]:
    """Bare string literals (or f-strings) given to ``flash()``, as a WTForms field's label (first
    argument of a ``…Field(`` call) or as a validator's ``message=``, in Python ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        candidates = []
        if name == "flash" and node.args:
            candidates.append(node.args[0])
        if name.endswith("Field") and node.args:
            candidates.append(node.args[0])
        if name != "Field":  # pydantic's Field(description=…) documents the API in OpenAPI, for developers
            candidates += [kw.value for kw in node.keywords if kw.arg in ("message", "label", "description")]
        for arg in candidates:
            if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                                                  and _visible(arg.value)):
                found.append(f"line {node.lineno}: {ast.unparse(arg)[:80]}")
    return found


def template_files(root: Path) -> list[Path]:
    """Every ``.html`` and ``.txt`` template under ``root``, sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".html", ".txt"))
