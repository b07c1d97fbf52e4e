"""Customers, bookings and the booking event log.

No double booking is enforced by PostgreSQL: an exclusion constraint over
``(tenant_id, staff_id, tstzrange(blocked_from, blocked_until))`` on active bookings,
where the blocked range is the appointment widened by the service's buffers.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.scheduling.busy import SLOT_HOLDING_STATUSES
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow


class BookingStatus(enum.StrEnum):
    """Lifecycle states of a booking."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    AWAITING_PAYMENT = "awaiting_payment"
    #: A guest over the open-bookings threshold must click the emailed link first; the slot
    #: is not held (not active) until then, and it is released after a short expiry.
    AWAITING_EMAIL = "awaiting_email"


class BookingSource(enum.StrEnum):
    """Where a booking came from: the storefront or API, a phone call, a customer at the counter."""

    ONLINE = "online"
    PHONE = "phone"
    WALK_IN = "walk_in"


#: The statuses that hold a slot (scheduling's :data:`~app.scheduling.busy.SLOT_HOLDING_STATUSES`).
ACTIVE_STATUSES = tuple(BookingStatus(value) for value in SLOT_HOLDING_STATUSES)


class Customer(TenantScoped, db.Model):
    """A business's customer record (guest or linked to an account); email lower-cased, or
    ``None`` for a customer known by phone only.

    ``erased_at`` (UTC) is set when the record was anonymised on request (GDPR erasure,
    :func:`app.customers.privacy.erase_customer`): its name, email and phone no longer identify
    anyone, and its bookings stay for the books.
    """

    __tablename__ = "customer"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "email"),
                      sa.Index("customer_name_search", "tenant_id", sa.text("lower(name)")))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: Lower-cased; ``None`` for a customer known by phone only (entered at the desk) or erased.
    #: Unique per business where present (PostgreSQL treats NULLs as distinct).
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: The language they last booked in (Babel identifier, ``da``); ``None``: the business's default.
    locale: Mapped[str | None] = mapped_column(sa.String(12))


class Booking(TenantScoped, db.Model):
    """A customer's appointment with one staff member for one service.

    ``starts_at``/``ends_at`` are the appointment (UTC); ``blocked_from``/``blocked_until``
    widen it by the buffers. Price in minor units of ``currency``.
    """

    __tablename__ = "booking"
    __table_args__ = (
        tenant_fk(["service_id"], "service"),
        tenant_fk(["staff_id"], "staff_member"),
        tenant_fk(["customer_id"], "customer"),
        sa.CheckConstraint("starts_at < ends_at", name="booking_order"),
        sa.CheckConstraint("blocked_from <= starts_at and ends_at <= blocked_until", name="booking_blocked"),
        ExcludeConstraint(
            (sa.column("tenant_id"), "="),
            (sa.column("staff_id"), "="),
            (sa.func.tstzrange(sa.column("blocked_from"), sa.column("blocked_until")), "&&"),
            where=sa.text("status in ('pending', 'confirmed', 'awaiting_payment')"),
            using="gist",
            name="booking_no_overlap",
        ),
        sa.Index("booking_staff_time", "tenant_id", "staff_id", "starts_at"),
        sa.CheckConstraint("source in ('online', 'phone', 'walk_in')", name="booking_source"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    staff_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    blocked_from: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    blocked_until: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    price_amount: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    customer_timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: Where the booking came from: a :class:`BookingSource` value (``online`` for the storefront and API).
    source: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="online", server_default="online")
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(16))
    #: The language the customer booked in (Babel identifier, ``da``); ``None``: the business's default.
    locale: Mapped[str | None] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow,
                                                 onupdate=utcnow)


class BookingEvent(TenantScoped, db.Model):
    """One recorded transition (or change) of a booking: who, when, why."""

    __tablename__ = "booking_event"
    __table_args__ = (tenant_fk(["booking_id"], "booking"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    actor: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    reason: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class BookingItem(TenantScoped, db.Model):
    """One service of a booking, in order (``position`` 0 first), performed back to back by the
    booking's staff member: the first item starts at ``booking.starts_at``, each next one when
    the previous ends; the last ends at ``booking.ends_at``.

    ``name``, ``duration_minutes`` (whole minutes, with the performer's override), the price
    (``price_amount`` minor units of ``currency``, the performer's price) and the buffers
    (minutes) are snapshots taken when booked, so renaming or repricing a service later does
    not change a booking. A single-service booking has one item.
    """

    __tablename__ = "booking_item"
    __table_args__ = (
        tenant_fk(["booking_id"], "booking"),
        tenant_fk(["service_id"], "service"),
        sa.UniqueConstraint("tenant_id", "booking_id", "position", name="booking_item_position"),
        sa.CheckConstraint("duration_minutes > 0", name="booking_item_duration"),
        sa.CheckConstraint("price_amount >= 0", name="booking_item_price"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    position: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    price_amount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    buffer_before_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
