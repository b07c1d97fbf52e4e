"""The email of a booking notification: the full booking email (with its ``.ics``) for the
customer's account, the staff email (with a link to the booking in the dashboard) for owners,
managers and the booking's staff member — the same emails a guest or a staff member without an
account gets directly (:mod:`app.notifications.tasks`), through the notification's delivery.

Also the last-minute check of such an email: whether the booking's state still calls for it
when the delivery is sent (a confirmation is not sent for a booking cancelled meanwhile, a
"request waiting" reminder not once it was confirmed). Tenant of the notification in scope.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import Message

from app.booking.models import BookingStatus
from app.delivery.mailer import mail_address
from app.identity.models import User
from app.notifications.center_models import Notification
from app.notifications.emails import booking_email, staff_email
from app.notifications.service import customer_email_relevant, load_booking_facts

#: Notification type -> the customer booking email kind (:data:`app.notifications.emails.WORDING`).
CUSTOMER_KINDS: dict[str, str] = {
    "booking_confirmed": "confirmed", "booking_requested": "requested", "booking_rescheduled": "changed",
    "booking_declined": "declined", "hold_expired": "expired", "booking_cancelled_by_customer": "cancelled",
    "booking_cancelled_by_business": "cancelled", "booking_reminder_24h": "reminder24h",
    "booking_reminder_2h": "reminder2h", "booking_completed": "completed", "booking_no_show": "no_show",
}

#: Notification type -> the staff email kind (:data:`app.notifications.emails.STAFF_WORDING`).
STAFF_KINDS: dict[str, str] = {
    "booking_confirmed": "new", "booking_requested": "request", "booking_cancelled_by_customer": "cancelled",
    "booking_rescheduled": "moved", "booking_request_waiting": "waiting",
}


def email_kind(type_key: str, audience: str) -> str | None:
    """The booking email kind of notification type ``type_key`` for ``audience`` (``customer`` or
    ``staff``), or ``None`` when the type's email is the plain notification email."""
    if audience == "customer":
        return CUSTOMER_KINDS.get(type_key)
    if audience == "staff":
        return STAFF_KINDS.get(type_key)
    return None


def booking_id_of(n: Notification) -> uuid.UUID | None:
    """The booking a notification is about (``subject_key`` ``booking:<id>``), else ``None``."""
    if not n.subject_key.startswith("booking:"):
        return None
    try:
        return uuid.UUID(n.subject_key.removeprefix("booking:"))
    except ValueError:
        return None


def about_booking(n: Notification) -> bool:
    """True when ``n``'s email is a booking email (:func:`email_kind`) about a booking."""
    return email_kind(n.type, n.audience) is not None and booking_id_of(n) is not None


def _iso(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def stale_reason(n: Notification, now: datetime) -> str | None:
    """Why the booking email of ``n`` no longer fits the booking (checked just before sending),
    or ``None``. Tenant in scope."""
    kind = email_kind(n.type, n.audience)
    booking_id = booking_id_of(n)
    if kind is None or booking_id is None:
        return None
    facts = load_booking_facts(booking_id)
    if facts is None:
        return "the booking is gone"
    if n.audience == "staff":
        if kind == "waiting":
            return None if facts.status == BookingStatus.PENDING.value else f"the booking is {facts.status} now"
        return "the booking is over" if facts.ends_at <= now else None
    if kind.startswith("reminder"):
        planned = _iso(n.context.get("starts_at"))
        if facts.status != BookingStatus.CONFIRMED.value or facts.starts_at <= now or (
                planned is not None and planned != facts.starts_at):
            return "the booking changed since"
        return None
    if not customer_email_relevant(facts, kind, now):
        return f"the booking is {facts.status} now"
    return None


def build(n: Notification, user: User, now: datetime | None = None) -> Message | None:
    """The booking email of ``n`` to ``user``'s address, ready to send, or ``None`` when ``n``
    has none (then the plain notification email goes). Tenant in scope.

    Raises:
        UndeliverableAddress: the account's address cannot go in a header.
    """
    kind = email_kind(n.type, n.audience)
    booking_id = booking_id_of(n)
    facts = load_booking_facts(booking_id) if kind is not None and booking_id is not None else None
    if facts is None or kind is None:
        return None
    to = mail_address(user.name or "", user.email)
    if n.audience == "staff":
        return staff_email(facts, kind, to, now=now, context=n.context)
    return booking_email(facts, kind, previous_start=_iso(n.context.get("previous_start")), now=now, to=to)
