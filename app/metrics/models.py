"""The rollup tables metrics are read from (never the booking table itself on a page view).

* ``metrics_business_day``: one row per business, UTC day of the appointment (``starts_at``) and
  currency: ``bookings`` (every booking that day), ``online`` (those made online by customers),
  ``cancelled``, ``no_shows``, ``completed``,
  ``gross_amount`` (sum of ``price_amount`` in minor units of the bookings not cancelled),
  ``customers`` (distinct customers that day), ``new_customers`` (whose first non-cancelled
  booking with this business is that day) and ``returning_customers`` (the others).
* ``metrics_staff_day``: one row per business, day and staff member: ``bookings`` and
  ``booked_minutes`` (not cancelled) against ``available_minutes`` (the weekday's working hours).

Both are tenant tables (``TenantScoped``, RLS); the platform reads them in ``platform_scope``.

Summed over every business, for the console (so a year's dashboard reads a few hundred rows, not
hundreds of thousands), by the same jobs right after the business rows they sum:

* ``metrics_platform_day``: one row per UTC day and currency, the sums of ``metrics_business_day``.
* ``metrics_city_day``: one row per UTC day and business city (``country``, ``city``): ``bookings``.

These two are platform tables (no ``tenant_id``); the tenant role cannot read them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


class DayTotals:
    """Mixin: one UTC ``day`` and ``currency`` (the key) with the day's counts and
    ``gross_amount`` (minor units); see the module docstring for each column."""

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    bookings: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    online: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    cancelled: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    no_shows: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    completed: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    gross_amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    customers: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    new_customers: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    returning_customers: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class BusinessDay(TenantScoped, DayTotals, db.Model):
    """A business's numbers for one UTC day and currency (see the module docstring)."""

    __tablename__ = "metrics_business_day"
    __table_args__ = (sa.Index("metrics_business_day_day", "day"),)



class StaffDay(TenantScoped, db.Model):
    """A staff member's bookings and booked against available minutes for one UTC day."""

    __tablename__ = "metrics_staff_day"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    bookings: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    booked_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    available_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class PlatformDay(DayTotals, db.Model):
    """Every business's numbers for one UTC day and currency, summed (same columns as
    :class:`BusinessDay`; platform table)."""

    __tablename__ = "metrics_platform_day"


class CityDay(db.Model):
    """Bookings of the businesses of one city (``country`` ISO 3166 alpha-2, ``city`` as the
    businesses spell it) on one UTC day (platform table)."""

    __tablename__ = "metrics_city_day"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    country: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    city: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    bookings: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
