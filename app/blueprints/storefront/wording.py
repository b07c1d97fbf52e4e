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

from flask_babel import gettext as _

from app.blueprints.storefront.dates import moment


@dataclass(frozen=True)
class StatusWording:
    """A booking state as the customer reads it: ``label`` for the pill, ``sentence`` after it."""

    label: str
    sentence: str


def status_wording(status: str, business: str, cancelled_by: str | None = None) -> StatusWording:
    """The pill label and the sentence for a booking in ``status`` at ``business`` (its name), in
    the reader's language.

    ``cancelled_by`` (``"customer"``, ``"staff"``, ``"system"`` or ``None``) says who cancelled.
    Unknown statuses read as their own name with underscores as spaces.
    """
    if status == "cancelled":
        if cancelled_by == "customer":
            sentence = _("This booking was cancelled by you.")
        elif cancelled_by is None:
            sentence = _("This booking was cancelled.")
        else:
            sentence = _("This booking was cancelled by %(business)s.", business=business)
        return StatusWording(_("Cancelled"), sentence)
    known = {
        "pending": StatusWording(_("Waiting for confirmation"),
                                 _("%(business)s confirms bookings by hand. We'll email you as soon as they do.",
                                   business=business)),
        "confirmed": StatusWording(_("Confirmed"), _("%(business)s is expecting you.", business=business)),
        "completed": StatusWording(_("Completed"), _("This appointment took place. Thank you for visiting "
                                                     "%(business)s.", business=business)),
        "no_show": StatusWording(_("Missed"), _("%(business)s marked this appointment as missed.", business=business)),
        "awaiting_payment": StatusWording(_("Waiting for payment"),
                                          _("Complete the payment to keep this time; until then it is not reserved.")),
        "awaiting_email": StatusWording(_("Not confirmed yet"),
                                        _("Open the link we emailed you to confirm this booking; until then the "
                                          "time is not reserved.")),
    }
    return known.get(status, StatusWording(status.replace("_", " ").capitalize(), ""))


def local_deadline(instant: datetime, tz_name: str) -> str:
    """``instant`` (tz-aware) as the customer reads a deadline in the zone ``tz_name`` (IANA), in
    the reader's locale: ``"Tuesday 3 March at 10:00"`` (en-GB), ``"tirsdag 3. marts kl. 10.00"`` (da)."""
    return moment(instant, tz_name)


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
        return _("Online changes closed on %(when)s. To cancel or move this booking now, please contact "
                 "%(business)s.", when=when, business=business)
    if move_refusal:
        return _("You can cancel online until %(when)s. Moving it online is no longer possible: %(reason)s",
                 when=when, reason=move_refusal)
    return _("You can cancel or move this booking online until %(when)s.", when=when)
