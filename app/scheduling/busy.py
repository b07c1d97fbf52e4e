"""The bookings that hold time: scheduling's own small read of the ``booking`` table.

Availability needs only when each staff member is blocked, not the booking model, so this
module names the few columns it reads (a Core ``table()``, not the ORM class of
:mod:`app.booking.models`). Booking sits above scheduling: it imports
:data:`SLOT_HOLDING_STATUSES` from here (its ``ACTIVE_STATUSES`` and the exclusion
constraint ``booking_no_overlap`` list the same statuses; a test checks they agree).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from app.extensions import db
from app.scheduling.availability import Interval

#: Booking statuses whose blocked range is unavailable to others (values of ``booking.status``).
SLOT_HOLDING_STATUSES: tuple[str, ...] = ("pending", "confirmed", "awaiting_payment")

#: The columns of ``booking`` that availability reads.
booking_time = sa.table(
    "booking",
    sa.column("id", sa.Uuid),
    sa.column("tenant_id", sa.Uuid),
    sa.column("staff_id", sa.Uuid),
    sa.column("status", sa.String),
    sa.column("blocked_from", sa.DateTime(timezone=True)),
    sa.column("blocked_until", sa.DateTime(timezone=True)),
)


def busy_bookings(tenant_id: uuid.UUID, staff_ids: Iterable[uuid.UUID], start: datetime,
                  end: datetime) -> list[tuple[uuid.UUID, Interval]]:
    """``(staff_id, blocked interval in UTC)`` of the tenant's slot-holding bookings of
    ``staff_ids`` that overlap ``[start, end)``.

    The tenant is filtered explicitly (a Core statement gets no ORM tenant criteria); the
    database's row-level security applies as to every statement.
    """
    ids = list(staff_ids)
    if not ids:
        return []
    t = booking_time.c
    rows = db.session.execute(
        sa.select(t.staff_id, t.blocked_from, t.blocked_until).where(
            t.tenant_id == tenant_id, t.staff_id.in_(ids), t.status.in_(SLOT_HOLDING_STATUSES),
            t.blocked_from < end, t.blocked_until > start))
    return [(sid, Interval(s.astimezone(UTC), e.astimezone(UTC))) for sid, s, e in rows]
