"""Shared helpers of the dashboard pages: the answer after a change, the business in scope."""

from __future__ import annotations

from datetime import date

from flask import current_app, flash, g, redirect
from werkzeug.wrappers import Response

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
