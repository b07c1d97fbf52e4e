"""Compile the translation catalogues before the app is built, as ``make translations`` does,
so a bare ``pytest`` run answers in Danish with the catalogue in the working tree."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"


def compile_catalogues() -> list[Path]:
    """Write ``messages.mo`` beside every ``messages.po`` that is newer than it (fuzzy entries
    included, as ``make translations``); returns the files written."""
    written = []
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=True)
        written.append(mo)
    return written
