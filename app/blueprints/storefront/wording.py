"""What the customer reads about a booking: its state, what they may still change online, and
why a time cannot be booked.

The rules live in the domain (:mod:`app.booking.changes` for the cut-off,
:mod:`app.checkout.booking` for the money policy, :mod:`app.booking.refusals` for why a start
is refused); this module only turns their answers into sentences, so the page never promises
what the domain would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.timeutil import zone


@dataclass(frozen=True)
class StatusWording:
    """A booking state as the customer reads it: ``label`` for the pill, ``sentence`` after it."""

    label: str
    sentence: str


def status_wording(status: str, business: str, cancelled_by: str | None = None) -> StatusWording:
    """The pill label and the sentence for a booking in ``status`` at ``business`` (its name).

    ``cancelled_by`` (``"customer"``, ``"staff"``, ``"system"`` or ``None``) says who cancelled.
    Unknown statuses read as their own name with underscores as spaces.
    """
    if status == "cancelled":
        who = {"customer": " by you", None: ""}.get(cancelled_by, f" by {business}")
        return StatusWording("Cancelled", f"This booking was cancelled{who}.")
    known = {
        "pending": StatusWording("Waiting for confirmation",
                                 f"{business} confirms bookings by hand. We'll email you as soon as they do."),
        "confirmed": StatusWording("Confirmed", f"{business} is expecting you."),
        "completed": StatusWording("Completed", f"This appointment took place. Thank you for visiting {business}."),
        "no_show": StatusWording("Missed", f"{business} marked this appointment as missed."),
        "awaiting_payment": StatusWording("Waiting for payment",
                                          "Complete the payment to keep this time; until then it is not reserved."),
        "awaiting_email": StatusWording("Not confirmed yet",
                                        "Open the link we emailed you to confirm this booking; until then the "
                                        "time is not reserved."),
    }
    return known.get(status, StatusWording(status.replace("_", " ").capitalize(), ""))


def local_deadline(instant: datetime, tz_name: str) -> str:
    """``instant`` (tz-aware) as the customer reads a deadline: ``"Tuesday 3 March at 10:00"``
    in the zone ``tz_name`` (IANA)."""
    return instant.astimezone(zone(tz_name)).strftime("%A %-d %B at %H:%M")


def change_notice(*, active: bool, can_cancel: bool, move_refusal: str | None, deadline: datetime,
                  tz_name: str, business: str) -> str | None:
    """The one sentence that says what the customer may still do online, or ``None`` for a
    booking that is over (completed, cancelled, missed: nothing to change).

    ``active``: the booking holds its time; ``can_cancel``: before the cut-off
    (:func:`app.booking.changes.customer_can_change`); ``move_refusal``: why moving is refused
    by the money policy even before the cut-off (``None`` when allowed); ``deadline``: the
    cut-off instant (:func:`app.booking.changes.customer_change_deadline`), shown in ``tz_name``.
    """
    if not active:
        return None
    when = local_deadline(deadline, tz_name)
    if not can_cancel:
        return (f"Online changes closed on {when}. To cancel or move this booking now, "
                f"please contact {business}.")
    if move_refusal:
        return f"You can cancel online until {when}. Moving it online is no longer possible: {move_refusal}"
    return f"You can cancel or move this booking online until {when}."

