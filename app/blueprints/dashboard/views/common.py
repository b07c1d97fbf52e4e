"""Shared helpers of the dashboard pages: the answer after a change, the business in scope."""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_interval, get_day_names
from flask import current_app, flash, g, redirect
from werkzeug.wrappers import Response

from app.formatting import format_local, reader_locale
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone
from app.web import is_htmx

#: The staff filter's value for every staff member.
ALL = "all"
#: Seconds between HTMX refreshes of the bookings board.
POLL_SECONDS = 10


def done(message: str, url: str) -> Response:
    """After a successful change: flash ``message`` and go to ``url`` (303, or ``HX-Redirect`` for HTMX)."""
    flash(message, "success")
    if is_htmx():
        resp = current_app.make_response(("", 200))
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url, 303)


def current_tenant() -> Tenant:
    """The business of the request's host (the dashboard's guard has made sure there is one)."""
    return g.tenant


def tenant_tz_name() -> str:
    """The IANA time zone name of the request's business."""
    return current_tenant().timezone


def tenant_today() -> date:
    """Today's date in the request's business's time zone."""
    return utcnow().astimezone(zone(tenant_tz_name())).date()


def day_text(day: date, fmt: str = "%A %-d %B %Y") -> str:
    """A local calendar ``day`` as text in the reader's locale; ``fmt`` names the fields as in
    :func:`app.formatting.format_local` (``"%A %-d %B %Y"`` -> ``Tuesday, 24 November 2026`` in
    en_GB, ``tirsdag 24. november 2026`` in Danish; ``"%a"`` -> ``Tue`` / ``tirs.``)."""
    tz_name = tenant_tz_name()
    return format_local(datetime.combine(day, time(12), tzinfo=zone(tz_name)), tz_name, fmt)


def day_range_text(first: date, last: date) -> str:
    """The days ``first`` to ``last`` as one range in the reader's locale: ``23 – 29 Nov 2026``
    (en_GB), ``23.–29. nov. 2026`` (da)."""
    return format_interval(first, last, "yMMMd", locale=reader_locale())


def hour_text(hour: int) -> str:
    """A whole local ``hour`` (0–23) on the reader's clock: ``14:00`` (en_GB), ``14.00`` (da), ``2:00 PM`` (en_US)."""
    return clock_text(time(hour))


def clock_text(at: time) -> str:
    """A local wall-clock time on the reader's clock: ``14:30`` (en_GB), ``14.30`` (da), ``2:30 PM`` (en_US)."""
    tz_name = tenant_tz_name()
    return format_local(datetime.combine(tenant_today(), at, tzinfo=zone(tz_name)), tz_name, "%H:%M")


def clock_range_text(start: time, end: time) -> str:
    """Two local wall-clock times as a range on the reader's clock: ``09:00–17:00`` (en_GB), ``09.00–17.00`` (da)."""
    return f"{clock_text(start)}–{clock_text(end)}"


def weekday_text(weekday: int, width: str = "abbreviated") -> str:
    """The name of ``weekday`` (0 = Monday) in the reader's language: ``Mon``/``man.`` (``abbreviated``),
    ``Monday``/``mandag`` (``wide``)."""
    return get_day_names(width, locale=reader_locale())[weekday]
