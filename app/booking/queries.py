"""Read-only booking queries of the current tenant (calendars, guest limits)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus, Customer
from app.extensions import db
from app.identity.service import normalize_email
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone

S = BookingStatus


def open_bookings_of(email: str, now: datetime | None = None) -> int:
    """How many pending or confirmed bookings that have not started yet the customer with
    ``email`` has in the current tenant."""
    now = now or utcnow()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Booking).join(
        Customer, Customer.id == Booking.customer_id).where(
        Customer.email == normalize_email(email), Booking.starts_at > now,
        Booking.status.in_([S.PENDING.value, S.CONFIRMED.value]))) or 0


def bookings_between(start: datetime, end: datetime, staff_id: uuid.UUID | None = None,
                     include_cancelled: bool = False) -> list[Booking]:
    """Bookings of the current tenant starting in ``[start, end)`` (UTC), by start time.

    Guest bookings still awaiting email confirmation hold nothing and are left out, like
    cancelled ones unless ``include_cancelled``."""
    q = sa.select(Booking).where(Booking.starts_at >= start, Booking.starts_at < end).order_by(Booking.starts_at)
    if staff_id:
        q = q.where(Booking.staff_id == staff_id)
    if not include_cancelled:
        q = q.where(Booking.status.not_in([S.CANCELLED.value, S.AWAITING_EMAIL.value]))
    return list(db.session.scalars(q))


def local_date_range(tenant: Tenant, day: date, days: int = 1) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at ``day`` and ``day + days`` in the tenant's zone."""
    tz = zone(tenant.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=days), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return start, end


def search_customers(text: str, limit: int = 8) -> list[Customer]:
    """Up to ``limit`` customers of the current tenant whose name, email or phone contains
    ``text`` (case-insensitive; digits of a phone number match with or without spaces and
    a leading ``+``), most recently created first. An empty ``text`` finds nothing."""
    text = (text or "").strip()[:100]
    if not text:
        return []
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    clauses = [Customer.name.ilike(f"%{like}%", escape="\\"), Customer.email.ilike(f"%{like}%", escape="\\")]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        clauses.append(Customer.phone.contains(digits, autoescape=True))
    return list(db.session.scalars(sa.select(Customer).where(sa.or_(*clauses))
                                   .order_by(Customer.created_at.desc()).limit(limit)))
