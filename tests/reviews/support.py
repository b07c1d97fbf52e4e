"""Set-up shared by the review tests: a business with completed (and other) bookings."""

from __future__ import annotations

from datetime import timedelta

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from tests.customers.crm_support import book


def visit(biz, email: str = "anna@example.com", *, name: str = "Anna Kask", days_ago: int = 3, index: int = 0,
          status: BookingStatus = BookingStatus.COMPLETED) -> Booking:
    """A booking of ``email`` that started about ``days_ago`` (at least 3) days ago, with ``status``
    (tenant in scope, flushed)."""
    booking = book(biz, name, email, days=-3, index=index, status=status)
    shift = timedelta(days=max(0, days_ago - 3))
    for col in ("starts_at", "ends_at", "blocked_from", "blocked_until"):
        setattr(booking, col, getattr(booking, col) - shift)
    db.session.flush()
    return booking
