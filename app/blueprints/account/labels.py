"""Words the customer's account pages show for codes (a booking's or a job request's status, a
spending month), in the reader's language; registered as template globals for every page."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_skeleton
from flask_babel import gettext as _

from app.blueprints.account import bp
from app.formatting import reader_locale


def booking_status_label(status: str) -> str:
    """A booking status code (``"awaiting_payment"``) as the pill on "My bookings" says it
    (``"Waiting for payment"``, ``"Afventer betaling"``); unknown codes read as themselves."""
    labels = {
        "pending": _("Waiting for confirmation"), "confirmed": _("Confirmed"), "completed": _("Completed"),
        "cancelled": _("Cancelled"), "no_show": _("Missed"), "awaiting_payment": _("Waiting for payment"),
        "awaiting_email": _("Not confirmed yet"),
    }
    return labels.get(status, status.replace("_", " ").capitalize())


def spend_month_label(month: str) -> str:
    """A calendar month ``"YYYY-MM"`` as the reader says it (``"November 2026"``, ``"november 2026"``);
    text that is not such a month is returned unchanged."""
    try:
        year, number = (int(part) for part in month.split("-"))
        return format_skeleton("yMMMM", date(year, number, 1), locale=reader_locale())
    except ValueError:
        return month


def request_tab_labels() -> dict[str, str]:
    """Tab key of "My job requests" -> its label."""
    return {"active": _("Active"), "completed": _("Completed"), "closed": _("Closed")}


def job_request_status_labels() -> dict[str, str]:
    """Job request status code -> its label on "My job requests"."""
    return {"unconfirmed": _("Unconfirmed"), "open": _("Open"), "routed": _("Sent to providers"),
            "manual": _("Being matched"), "quoted": _("Quoted"), "booked": _("Booked"), "closed": _("Closed"),
            "cancelled": _("Cancelled"), "draft": _("Draft")}


@bp.app_context_processor
def account_labels() -> dict[str, Any]:
    """The helpers above, for every template (the job requests page is rendered by another blueprint)."""
    return {"booking_status_label": booking_status_label, "spend_month_label": spend_month_label,
            "request_tab_labels": request_tab_labels, "job_request_status_labels": job_request_status_labels}
