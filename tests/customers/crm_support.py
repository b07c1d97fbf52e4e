"""Set-up shared by the CRM tests: a business with bookings by customers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus, Customer
from app.booking.service import CustomerInput, create_booking
from app.catalog.models import Service
from app.extensions import db
from app.scheduling.service import find_slots
from app.tenants.models import Tenant


def book(biz, name: str, email: str, *, days: int = 3, index: int = 0, phone: str | None = None,
         status: BookingStatus | None = None, notes: str = "") -> Booking:
    """Book the ``index``-th free slot ``days`` from today for ``email`` (tenant in scope); a negative
    ``days`` moves the booking into the past afterwards, ``status`` sets its status directly."""
    tenant = db.session.get(Tenant, biz.tenant_id)
    svc = db.session.get(Service, (biz.tenant_id, biz.service_ids[0]))
    start = datetime.now(UTC).date() + timedelta(days=abs(days) + 1)
    slot = find_slots(tenant, svc, staff_id=None, start_date=start, end_date=start + timedelta(days=1))[index]
    booking = create_booking(tenant, service_id=svc.id, staff_id=None, start=slot.start,
                             customer=CustomerInput(name, email, phone), customer_timezone="UTC", notes=notes)
    if days < 0:
        shift = timedelta(days=2 * abs(days) + 1)
        for col in ("starts_at", "ends_at", "blocked_from", "blocked_until"):
            setattr(booking, col, getattr(booking, col) - shift)
    if status is not None:
        booking.status = status.value
    db.session.flush()
    return booking


def customer(email: str) -> Customer:
    """The record with ``email`` in the tenant in scope."""
    return db.session.scalar(sa.select(Customer).where(Customer.email == email))
