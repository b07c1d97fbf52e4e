"""Reminders that a booking request is still waiting: owners, managers and the booking's staff
member (their accounts, on every channel their preferences enable; email is on by default) are
told 24 hours after a request was made and again one hour before it is cancelled automatically
(:data:`app.booking.transitions.PENDING_TTL`, 48 hours after it was made). The email links to the
booking in the dashboard, where they confirm or decline it.

Run by the periodic sweep (:func:`app.notifications.tasks.periodic_sweep`); each reminder goes
out once per booking (the notification's source key and the email's dedup key).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus
from app.booking.transitions import PENDING_TTL
from app.extensions import db
from app.notifications import dispatch, fanout
from app.notifications.center_models import NotificationSource
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow
from app.uow import after_commit, unit_of_work

log = logging.getLogger("plaza.notifications")

TYPE = "booking_request_waiting"
#: Reminder name -> the request's age (since it was made) when it is due.
WAITING_REMINDERS: dict[str, timedelta] = {"24h": timedelta(hours=24), "last": PENDING_TTL - timedelta(hours=1)}


def due_waiting(created_at: datetime, now: datetime) -> str | None:
    """Which waiting reminder (``"24h"``, ``"last"``) is due for a request made at
    ``created_at``, at ``now``; ``None`` before the first and once the request has expired."""
    age = now - created_at
    if age >= PENDING_TTL:
        return None
    if age >= WAITING_REMINDERS["last"]:
        return "last"
    if age >= WAITING_REMINDERS["24h"]:
        return "24h"
    return None


def event_id(booking_id: uuid.UUID | str, which: str) -> str:
    """The fan-out's event id of waiting reminder ``which`` of a booking (its keys derive from it)."""
    return f"waiting-{which}-{booking_id}"


def waiting_candidates(now: datetime, limit: int = 200) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """``(tenant_id, booking_id, which)`` of pending requests, across businesses, whose due
    waiting reminder has not gone out yet. A platform-wide read."""
    with platform_scope("booking requests still waiting"):
        rows = db.session.execute(
            sa.select(Booking.tenant_id, Booking.id, Booking.created_at)
            .where(Booking.status == BookingStatus.PENDING.value,
                   Booking.created_at <= now - WAITING_REMINDERS["24h"], Booking.created_at > now - PENDING_TTL)
            .order_by(Booking.created_at).limit(limit)).all()
        out = []
        for tenant_id, booking_id, created_at in rows:
            which = due_waiting(created_at, now)
            if which is None:
                continue
            source = f"event:{event_id(booking_id, which)}:{TYPE}"
            if db.session.scalar(sa.select(sa.func.count()).select_from(NotificationSource)
                                 .where(NotificationSource.source_key == source)):
                continue
            out.append((tenant_id, booking_id, which))
        return out


def remind_waiting(booking_id: uuid.UUID, which: str, now: datetime | None = None) -> list[dispatch.Notified]:
    """Tell the booking's staff audience that its request is still waiting (reminder ``which``);
    once. Tenant in scope; flushes."""
    return fanout.notify_booking(event_id(booking_id, which), "booking.waiting", {"booking_id": str(booking_id)},
                                 now=now, type_audiences=[(TYPE, ("staff",))])


def sweep_waiting_requests(now: datetime | None = None) -> int:
    """Send every due waiting reminder (:func:`waiting_candidates`); returns how many people were
    notified. One unit of work per booking, in its business; a failure is logged and the next
    sweep tries again. Needs an app context."""
    now = now or utcnow()
    with unit_of_work():
        candidates = waiting_candidates(now)
    notified = 0
    for tenant_id, booking_id, which in candidates:
        with tenant_scope(tenant_id):
            try:
                with unit_of_work():
                    results = remind_waiting(booking_id, which, now)
                    after_commit(lambda results=results: dispatch.after_commit(results))
                    notified += sum(1 for r in results if r.new)
            except Exception:  # noqa: BLE001 - one booking's error must not stop the sweep of the others
                log.exception("waiting reminder failed", extra={"booking_id": str(booking_id)})
    return notified
