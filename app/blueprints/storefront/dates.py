"""Days, months and times as the storefront's reader reads them (Babel, the reader's locale):
the slot picker's strip and headings, "today" and "tomorrow", and the labels of free times."""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_interval, format_skeleton, format_time
from flask_babel import gettext as _

from app.formatting import format_local, reader_locale
from app.timeutil import zone


def weekday_short(day: date) -> str:
    """The abbreviated weekday of ``day`` in the reader's language: ``"Tue"`` (en), ``"tirs."`` (da)."""
    return format_skeleton("E", day, locale=reader_locale())


def day_text(day: date, tz_name: str, fmt: str = "%A %-d %B") -> str:
    """``day`` (a local date in IANA zone ``tz_name``) spelled out in the reader's locale by
    :func:`app.formatting.format_local` (``"Tuesday 24 November"`` en-GB, ``"tirsdag 24. november"`` da)."""
    return format_local(datetime.combine(day, time(12), tzinfo=zone(tz_name)), tz_name, fmt)


def relative_day(day: date, today: date, tz_name: str, fmt: str = "%A %-d %B") -> str:
    """``day`` as the reader says it, seen from ``today`` (both local dates in ``tz_name``):
    ``"Today, Tuesday 24 November"``, ``"Tomorrow, …"``, else :func:`day_text`."""
    text = day_text(day, tz_name, fmt)
    offset = (day - today).days
    if offset == 0:
        return _("Today, %(date)s", date=text)
    if offset == 1:
        return _("Tomorrow, %(date)s", date=text)
    return text


def short_relative_day(day: date, today: date, tz_name: str) -> str:
    """``"today"``, ``"tomorrow"`` or the short date (``"Thu 26 Nov"``, ``"tors. 26. nov."``) of ``day``."""
    offset = (day - today).days
    if offset == 0:
        return _("today")
    if offset == 1:
        return _("tomorrow")
    return day_text(day, tz_name, "%a %-d %b")


def month_range(first: date, last: date) -> str:
    """The months the days ``first``–``last`` span: ``"November 2026"``, ``"November – December 2026"``
    (en), ``"november–december 2026"`` (da)."""
    if (first.year, first.month) == (last.year, last.month):
        return format_skeleton("yMMMM", first, locale=reader_locale())
    return format_interval(first, last, "yMMMM", locale=reader_locale())


def slot_time(instant: datetime, tz_name: str) -> str:
    """The clock time of a free slot in ``tz_name``: ``"09:30"`` (en-GB, 24-hour), ``"9:30 AM"`` (en-US),
    ``"09.30"`` (da)."""
    return format_local(instant, tz_name, "%H:%M")


def slot_when(instant: datetime, tz_name: str) -> str:
    """A suggested free time with its day: ``"Thu 26 Nov, 14:30"`` (en-GB), ``"tors. 26. nov. 14.30"`` (da)."""
    return format_local(instant, tz_name, "%a %-d %b, %H:%M")


def moment(instant: datetime, tz_name: str) -> str:
    """A booking's start or a deadline spelled out in ``tz_name``: ``"Tuesday 24 November at 14:30"``
    (en-GB), ``"tirsdag 24. november kl. 14.30"`` (da)."""
    return _("%(date)s at %(time)s", date=format_local(instant, tz_name, "%A %-d %B"),
             time=format_local(instant, tz_name, "%H:%M"))


def clock(value: time) -> str:
    """A local wall-clock time (opening hours) in the reader's locale: ``"09:00"`` (en-GB),
    ``"9:00 AM"`` (en-US), ``"09.00"`` (da)."""
    return format_time(value, "short", locale=reader_locale())


def weekday_names() -> dict[int, str]:
    """Weekday number (0 = Monday) -> its full name, capitalised, in the reader's language
    (``"Monday"``, ``"Mandag"``)."""
    names = reader_locale().days["stand-alone"]["wide"]
    return {i: names[i][:1].upper() + names[i][1:] for i in range(7)}
