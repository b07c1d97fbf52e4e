"""What a business offers and who performs it, and when they work.

Durations are whole minutes; money is integer minor units plus the tenant's ISO 4217
currency; working hours are local wall-clock times in the tenant's time zone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow


class Service(TenantScoped, db.Model):
    """A bookable service: duration (minutes), price (minor units), buffers (minutes)."""

    __tablename__ = "service"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="")
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    price_amount: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    buffer_before_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    #: ``name``/``description`` in languages other than the business's default (issue 14):
    #: ``{"da": {"name": "Klip", "description": "..."}}`` (:mod:`app.catalog.translations`).
    translations: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")


class StaffMember(TenantScoped, db.Model):
    """A person (or chair) who performs services; may be linked to a user account."""

    __tablename__ = "staff_member"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    bio: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class ServiceStaff(TenantScoped, db.Model):
    """Which staff perform a service, with optional per-staff duration and price."""

    __tablename__ = "service_staff"
    __table_args__ = (tenant_fk(["service_id"], "service"), tenant_fk(["staff_id"], "staff_member"))

    service_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    duration_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    price_amount: Mapped[int | None] = mapped_column(sa.Integer)


class WorkingHours(TenantScoped, db.Model):
    """One weekly working range of a staff member: weekday 0=Monday, local times, start < end."""

    __tablename__ = "working_hours"
    __table_args__ = (tenant_fk(["staff_id"], "staff_member"),
                      sa.CheckConstraint("start_time < end_time", name="working_hours_order"),
                      sa.CheckConstraint("weekday between 0 and 6", name="working_hours_weekday"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    staff_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    weekday: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    start_time: Mapped[time] = mapped_column(sa.Time, nullable=False)
    end_time: Mapped[time] = mapped_column(sa.Time, nullable=False)


class DateOverride(TenantScoped, db.Model):
    """Hours for one date replacing the weekly ones; a row with no times means closed that day."""

    __tablename__ = "date_override"
    __table_args__ = (tenant_fk(["staff_id"], "staff_member"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    staff_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    on_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    start_time: Mapped[time | None] = mapped_column(sa.Time)
    end_time: Mapped[time | None] = mapped_column(sa.Time)


class TimeOff(TenantScoped, db.Model):
    """An absolute interval (UTC) when a staff member is unavailable."""

    __tablename__ = "time_off"
    __table_args__ = (tenant_fk(["staff_id"], "staff_member"),
                      sa.CheckConstraint("starts_at < ends_at", name="time_off_order"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    staff_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
