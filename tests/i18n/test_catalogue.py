"""Every user-visible string is marked for translation, and the Danish catalogue translates every
marked string (``make i18n`` extracts and compiles)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.i18n.unmarked import template_files, unmarked_in_python, unmarked_in_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "app" / "templates"
#: Files whose strings are still being marked (one path per line, relative to the repository).
#: An entry may only leave the list: a listed file that is already clean fails the test too.
PENDING = ROOT / "tests" / "i18n" / "pending.txt"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "_l": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|%[sd]|\{\w*\}")


def pending() -> set[str]:
    """The repository-relative paths listed in :data:`PENDING`."""
    if not PENDING.exists():
        return set()
    return {line.strip() for line in PENDING.read_text().splitlines() if line.strip() and not line.startswith("#")}


def python_files() -> list[Path]:
    """Every module of the app."""
    return sorted((ROOT / "app").rglob("*.py"))


def unmarked_report(paths: list[Path], finder) -> list[str]:
    """Problems of ``paths`` by ``finder`` (source -> unmarked texts): an unlisted file with
    unmarked text, or a file still listed in :data:`PENDING` that is clean."""
    waiting = pending()
    problems = []
    for path in paths:
        name = str(path.relative_to(ROOT))
        found = finder(path.read_text())
        if found and name not in waiting:
            problems.append(f"{name}: {found[:6]}")
        if not found and name in waiting:
            problems.append(f"{name}: every string is marked now; remove it from tests/i18n/pending.txt")
    return problems


def test_every_template_string_is_marked_for_translation() -> None:
    problems = unmarked_report(template_files(TEMPLATES), unmarked_in_template)
    assert not problems, "\n".join(problems)


def test_flash_messages_form_labels_and_validator_messages_are_marked() -> None:
    problems = unmarked_report(python_files(), unmarked_in_python)
    assert not problems, "\n".join(problems)


def extracted() -> dict[str, tuple[str, ...]]:
    """Every marked message in the app: msgid -> the message (msgid, plural) as extracted."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.do,jinja2.ext.loopcontrols"},
               "templates/**.txt": {"extensions": "jinja2.ext.do,jinja2.ext.loopcontrols"}}
    messages = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT / "app"), method_map, options, keywords=KEYWORDS):
        parts = message if isinstance(message, tuple) else (message,)
        if parts[0]:
            messages[parts[0]] = parts
    return messages


def test_danish_translates_every_marked_string_with_the_same_placeholders() -> None:
    with (ROOT / "app" / "translations" / "da" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f, locale="da")
    missing, untranslated, mismatched = [], [], []
    for msgid, parts in extracted().items():
        entry = catalogue.get(parts if len(parts) > 1 else msgid)
        if entry is None and len(parts) > 1:
            entry = catalogue.get(msgid)
        if entry is None:
            missing.append(msgid)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(strings):
            untranslated.append(msgid)
            continue
        wanted = set(PLACEHOLDER.findall(msgid))
        if any(set(PLACEHOLDER.findall(s)) - wanted for s in strings):
            mismatched.append(msgid)
    assert not missing, f"{len(missing)} marked strings are not in da/messages.po (run `make i18n`): {missing[:10]}"
    assert not untranslated, f"{len(untranslated)} strings have no Danish translation: {untranslated[:10]}"
    assert not mismatched, f"Danish uses a placeholder the English does not have: {mismatched[:10]}"
