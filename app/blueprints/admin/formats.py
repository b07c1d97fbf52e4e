"""Jinja filters the console and the metrics pages need beyond :mod:`app.formatting`: a calendar
day and a share as a percentage, in the reader's locale (Babel, CLDR data)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from babel.numbers import format_percent

from app.blueprints.admin import bp
from app.formatting import reader_locale


@bp.app_template_filter("calendar_day")
def calendar_day(day: date, skeleton: str = "yMMMd") -> str:
    """A calendar ``day`` (no time, no zone) in the reader's locale: ``date(2026, 11, 24)`` ->
    ``"24 Nov 2026"`` (en_GB), ``"Nov 24, 2026"`` (en), ``"24. nov. 2026"`` (da). ``skeleton`` is a
    CLDR skeleton (``"MMMd"``: day and month only)."""
    return format_skeleton(skeleton, day, locale=reader_locale())


@bp.app_template_filter("percent")
def percent(share: float, decimals: int = 1) -> str:
    """A ``share`` (``0.125`` = 12.5 %) as a percentage with ``decimals`` digits after the
    separator: ``"12.5%"`` (en), ``"12,5 %"`` (da)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return format_percent(share, pattern, locale=reader_locale())
