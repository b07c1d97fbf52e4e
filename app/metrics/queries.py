"""Reading the KPIs from the rollups: the platform's (admin console) and one business's (dashboard).

Every function takes a :class:`Period` of UTC days. A business's pages read ``metrics_business_day``
/ ``metrics_staff_day`` (indexed by day); the console reads the platform-wide sums
(``metrics_platform_day``, ``metrics_city_day``: a row per day, not per business and day), plus
the small platform tables ``tenant`` (new businesses, city points) and ``billing_subscription``
(MRR and churn); none scans ``booking``.
Money is integer minor units per ISO 4217 currency; rates are fractions 0..1 (``None`` when
there is nothing to divide by).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from app.billing.models import BillingSubscription
from app.billing.plans import PAID_PLANS
from app.catalog.models import StaffMember
from app.disputes.models import Dispute
from app.extensions import db
from app.metrics.counters import searches_by_day
from app.metrics.models import BusinessDay, CityDay, PlatformDay, StaffDay
from app.tenants.context import platform_scope
from app.tenants.models import Tenant

#: Longest period shown, in days.
MAX_DAYS = 366
#: Subscription statuses that pay (MRR).
PAYING_STATUSES = ("active", "past_due")


@dataclass(frozen=True)
class Period:
    """UTC days ``first``..``last`` inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def each_day(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.first + timedelta(days=i) for i in range(self.days)]


def parse_period(first: str | None, last: str | None, today: date) -> Period:
    """The period from ISO dates ``first``/``last`` (query parameters); the last 30 days up to
    ``today`` when missing or invalid; at most :data:`MAX_DAYS` days (the start is moved)."""
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=29)
    except ValueError:
        end, start = today, today - timedelta(days=29)
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
    return Period(start, end)


@dataclass
class Totals:
    """The booking numbers of a period: counts, ``gross`` (minor units by currency), customer counts."""

    bookings: int = 0
    online: int = 0
    cancelled: int = 0
    no_shows: int = 0
    completed: int = 0
    customers: int = 0
    new_customers: int = 0
    returning_customers: int = 0
    gross: dict[str, int] = field(default_factory=dict)

    @property
    def cancellation_rate(self) -> float | None:
        """Cancelled bookings / bookings."""
        return self.cancelled / self.bookings if self.bookings else None

    @property
    def no_show_rate(self) -> float | None:
        """No-shows / bookings not cancelled."""
        kept = self.bookings - self.cancelled
        return self.no_shows / kept if kept else None


COUNTS = ("bookings", "online", "cancelled", "no_shows", "completed", "customers", "new_customers",
          "returning_customers")


def _source(period: Period, tenant_id: uuid.UUID | None) -> tuple[type[BusinessDay] | type[PlatformDay],
                                                                   list[sa.ColumnElement]]:
    """The rollup to read (one business's rows, or the platform-wide sums) and its filter."""
    if tenant_id is None:
        return PlatformDay, [PlatformDay.day.between(period.first, period.last)]
    return BusinessDay, [BusinessDay.day.between(period.first, period.last), BusinessDay.tenant_id == tenant_id]


def totals(period: Period, tenant_id: uuid.UUID | None = None) -> Totals:
    """The period's totals for every business (``tenant_id`` ``None``, from the platform-wide
    rollup; call in ``platform_scope``) or for business ``tenant_id``."""
    table, where = _source(period, tenant_id)
    rows = db.session.execute(
        sa.select(table.currency, *(sa.func.sum(getattr(table, c)) for c in COUNTS),
                  sa.func.sum(table.gross_amount))
        .where(*where).group_by(table.currency)).all()
    out = Totals()
    for row in rows:
        for i, name in enumerate(COUNTS, start=1):
            setattr(out, name, getattr(out, name) + int(row[i] or 0))
        if row[-1]:
            out.gross[row[0]] = int(row[-1])
    return out


def daily(period: Period, tenant_id: uuid.UUID | None = None) -> list[dict]:
    """One dict per day of ``period``: ``day``, ``bookings``, ``cancelled``, ``no_shows``,
    ``customers`` and ``gross`` (by currency); days without bookings are zeros."""
    table, where = _source(period, tenant_id)
    rows = db.session.execute(
        sa.select(table.day, table.currency, sa.func.sum(table.bookings), sa.func.sum(table.cancelled),
                  sa.func.sum(table.no_shows), sa.func.sum(table.customers), sa.func.sum(table.gross_amount))
        .where(*where).group_by(table.day, table.currency)).all()
    by_day = {d: {"day": d, "bookings": 0, "cancelled": 0, "no_shows": 0, "customers": 0, "gross": {}}
              for d in period.each_day()}
    for day, currency, bookings, cancelled, no_shows, customers, gross in rows:
        entry = by_day[day]
        entry["bookings"] += int(bookings)
        entry["cancelled"] += int(cancelled)
        entry["no_shows"] += int(no_shows)
        entry["customers"] += int(customers)
        entry["gross"][currency] = entry["gross"].get(currency, 0) + int(gross)
    return list(by_day.values())


@dataclass
class PlatformKpis:
    """The console's tiles for one period (see :func:`platform_kpis`)."""

    period: Period
    totals: Totals
    new_businesses: int
    searches: int
    mrr: dict[str, int]
    churned: int
    paying: int

    @property
    def conversion(self) -> float | None:
        """Online bookings / search page views."""
        return self.totals.online / self.searches if self.searches else None

    @property
    def churn_rate(self) -> float | None:
        """Subscriptions cancelled in the period / those paying now plus those cancelled."""
        base = self.paying + self.churned
        return self.churned / base if base else None


def platform_kpis(period: Period) -> PlatformKpis:
    """Every KPI of the platform for ``period`` (read in an explicit ``platform_scope``).

    MRR is the monthly list price of each paying subscription now (Pro, Premium), by currency;
    churn counts subscriptions that ended (``canceled``) in the period. Active customers are the
    distinct customers of each business and day, summed."""
    start = sa.cast(period.first, sa.Date)
    end = sa.cast(period.last + timedelta(days=1), sa.Date)
    with platform_scope("admin console: KPI dashboard"):
        tot = totals(period)
        new_businesses = db.session.scalar(sa.select(sa.func.count()).select_from(Tenant).where(
            Tenant.created_at >= start, Tenant.created_at < end)) or 0
        plans = dict(db.session.execute(sa.select(BillingSubscription.plan, sa.func.count()).where(
            BillingSubscription.status.in_(PAYING_STATUSES)).group_by(BillingSubscription.plan)).all())
        churned = db.session.scalar(sa.select(sa.func.count()).select_from(BillingSubscription).where(
            BillingSubscription.status == "canceled", BillingSubscription.updated_at >= start,
            BillingSubscription.updated_at < end)) or 0
    mrr: dict[str, int] = {}
    for plan in PAID_PLANS:
        if plans.get(plan.code):
            mrr[plan.currency] = mrr.get(plan.currency, 0) + plan.monthly_amount * int(plans[plan.code])
    searches = sum(searches_by_day(period.first, period.last).values())
    return PlatformKpis(period, tot, int(new_businesses), searches, mrr, int(churned), int(sum(plans.values())))


def platform_daily(period: Period) -> list[dict]:
    """:func:`daily` for every business, with each day's ``searches`` (platform scope)."""
    with platform_scope("admin console: KPI dashboard"):
        rows = daily(period)
    searches = searches_by_day(period.first, period.last)
    for row in rows:
        row["searches"] = searches.get(row["day"], 0)
    return rows


def bookings_by_city(period: Period) -> list[dict]:
    """Bookings per city in ``period`` (businesses' cities, with a point when any business of the
    city has one): ``city``, ``country``, ``bookings``, ``lat``, ``lon``, most bookings first."""
    per_city = (sa.select(CityDay.country, CityDay.city, sa.func.sum(CityDay.bookings).label("bookings"))
                .where(CityDay.day.between(period.first, period.last))
                .group_by(CityDay.country, CityDay.city).subquery())
    points = (sa.select(Tenant.country, Tenant.city, sa.func.avg(Tenant.latitude).label("lat"),
                        sa.func.avg(Tenant.longitude).label("lon"))
              .where(Tenant.city != "").group_by(Tenant.country, Tenant.city).subquery())
    with platform_scope("admin console: bookings by city"):
        rows = db.session.execute(
            sa.select(per_city.c.city, per_city.c.country, per_city.c.bookings, points.c.lat, points.c.lon)
            .outerjoin(points, sa.and_(points.c.country == per_city.c.country, points.c.city == per_city.c.city))
            .order_by(per_city.c.bookings.desc(), per_city.c.city)).all()
    return [{"city": c, "country": k, "bookings": int(n), "lat": lat, "lon": lon} for c, k, n, lat, lon in rows]


def staff_utilisation(period: Period) -> list[dict]:
    """For the business in scope, per staff member: ``name``, ``bookings``, ``booked_minutes``,
    ``available_minutes`` and ``utilisation`` (booked / available, ``None`` without hours)."""
    rows = db.session.execute(
        sa.select(StaffMember.name, sa.func.sum(StaffDay.bookings), sa.func.sum(StaffDay.booked_minutes),
                  sa.func.sum(StaffDay.available_minutes))
        .join(StaffMember, StaffMember.id == StaffDay.staff_id)
        .where(StaffDay.day.between(period.first, period.last))
        .group_by(StaffMember.id, StaffMember.name).order_by(StaffMember.name)).all()
    return [{"name": name, "bookings": int(b or 0), "booked_minutes": int(m or 0), "available_minutes": int(a or 0),
             "utilisation": (int(m or 0) / int(a)) if a else None} for name, b, m, a in rows]


@dataclass
class DisputeKpis:
    """The period's disputes and refund requests: ``disputes`` and ``refund_requests`` opened,
    ``decided`` (by the platform or the business), and ``refunded`` (minor units by currency)."""

    disputes: int = 0
    refund_requests: int = 0
    decided: int = 0
    refunded: dict[str, int] = field(default_factory=dict)


def dispute_kpis(period: Period) -> DisputeKpis:
    """Disputes and refund requests of every business in ``period`` (opened by ``created_at``,
    decided and refunded by ``decided_at``, UTC days). The case table is small (one row per case),
    so it is counted directly, in an explicit ``platform_scope``."""
    start = sa.cast(period.first, sa.Date)
    end = sa.cast(period.last + timedelta(days=1), sa.Date)
    out = DisputeKpis()
    with platform_scope("admin console: disputes and refunds"):
        for kind, count in db.session.execute(sa.select(Dispute.kind, sa.func.count()).where(
                Dispute.created_at >= start, Dispute.created_at < end).group_by(Dispute.kind)):
            if kind == "refund_request":
                out.refund_requests = int(count)
            else:
                out.disputes += int(count)
        decided = [Dispute.decided_at >= start, Dispute.decided_at < end]
        out.decided = int(db.session.scalar(sa.select(sa.func.count()).select_from(Dispute).where(*decided)) or 0)
        out.refunded = {cur: int(total) for cur, total in db.session.execute(
            sa.select(Dispute.currency, sa.func.sum(Dispute.refund_amount)).where(
                *decided, Dispute.refund_amount > 0).group_by(Dispute.currency))}
    return out
