"""The signed-in customer's dashboard of job requests: active, completed and closed requests,
spending by month on the bookings their confirmed quotes became, and the best-rated providers they
used (their own review's rating when they wrote one, else the provider's listing rating).

Reads across the platform table and the providers' tenants inside an explicit, logged
``platform_scope``, filtered strictly by the account (``job_request.user_id``). Nothing here writes.
Money is integer minor units plus ISO 4217 currency; instants tz-aware UTC.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.booking.models import Booking
from app.extensions import db
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus
from app.marketplace.models import MarketplaceListing
from app.reviews.models import Review
from app.tenants.context import platform_scope
from app.tenants.models import Tenant

S = JobRequestStatus
#: Request statuses per dashboard tab.
TABS: dict[str, tuple[str, ...]] = {
    "active": (S.UNCONFIRMED, S.OPEN, S.ROUTED, S.MANUAL, S.QUOTED),
    "completed": (S.BOOKED,),
    "closed": (S.CLOSED, S.CANCELLED),
}
#: Booking statuses whose price counts as spent.
SPENT = ("pending", "confirmed", "completed", "awaiting_payment")


@dataclass(frozen=True)
class MyRequest:
    """One of my requests: ``tab`` (a :data:`TABS` key), ``quotes`` received, ``provider`` the
    business booked (empty when none), ``booking_status`` its booking's status (or ``""``)."""

    id: uuid.UUID
    title: str
    status: str
    tab: str
    city: str
    postcode: str
    submitted_at: datetime | None
    quotes: int
    provider: str
    booking_status: str


@dataclass(frozen=True)
class MonthSpend:
    """What I spent in one calendar month (UTC, ``YYYY-MM``) in one currency (minor units)."""

    month: str
    currency: str
    amount: int


@dataclass(frozen=True)
class ProviderUsed:
    """A provider I booked through a request: ``rating`` 1–5 (``mine`` True when it is my own
    review's, else the listing's average; ``None`` when neither exists), ``jobs`` booked."""

    tenant_id: uuid.UUID
    business: str
    rating: float | None
    mine: bool
    jobs: int


def _tab_of(status: str) -> str:
    return next((tab for tab, statuses in TABS.items() if status in statuses), "active")


def my_requests(user_id: uuid.UUID) -> list[MyRequest]:
    """My submitted requests, newest first (drafts left out)."""
    with platform_scope("customer's own job requests"):
        quoting = aliased(Lead)
        quotes = (sa.select(sa.func.count()).select_from(quoting)
                  .where(quoting.job_request_id == JobRequest.id, quoting.quoted_at.is_not(None))
                  .correlate(JobRequest).scalar_subquery())
        rows = db.session.execute(
            sa.select(JobRequest, quotes, Tenant.name, Booking.status)
            .outerjoin(Lead, Lead.id == JobRequest.won_lead_id)
            .outerjoin(Tenant, Tenant.id == Lead.tenant_id)
            .outerjoin(Booking, sa.and_(Booking.tenant_id == Lead.tenant_id, Booking.id == Lead.booking_id))
            .where(JobRequest.user_id == user_id, JobRequest.status != S.DRAFT)
            .order_by(sa.func.coalesce(JobRequest.submitted_at, JobRequest.created_at).desc()).limit(500)).all()
    return [MyRequest(id=jr.id, title=jr.title or "Job request", status=jr.status, tab=_tab_of(jr.status),
                      city=jr.city, postcode=jr.postcode, submitted_at=jr.submitted_at, quotes=n or 0,
                      provider=provider or "", booking_status=booking_status or "")
            for jr, n, provider, booking_status in rows]


def _won(user_id: uuid.UUID) -> sa.Select:
    return (sa.select(Lead, Booking)
            .join(JobRequest, JobRequest.id == Lead.job_request_id)
            .join(Booking, sa.and_(Booking.tenant_id == Lead.tenant_id, Booking.id == Lead.booking_id))
            .where(JobRequest.user_id == user_id, Lead.status == LeadStatus.WON))


def spending_by_month(user_id: uuid.UUID) -> list[MonthSpend]:
    """My spending per month of the booked job's start (UTC) and currency, oldest month first:
    the prices of the bookings my confirmed quotes became (cancelled ones left out)."""
    with platform_scope("customer's own spending on job requests"):
        rows = db.session.execute(_won(user_id).where(Booking.status.in_(SPENT))).all()
    totals: dict[tuple[str, str], int] = {}
    for _lead, booking in rows:
        key = (booking.starts_at.strftime("%Y-%m"), booking.currency)
        totals[key] = totals.get(key, 0) + booking.price_amount
    return [MonthSpend(month, currency, amount) for (month, currency), amount in sorted(totals.items())]


def best_providers(user_id: uuid.UUID, limit: int = 5) -> list[ProviderUsed]:
    """The providers I booked through requests, best rated first (my own review's rating of
    their job when I wrote one, else their listing's average; unrated last)."""
    with platform_scope("customer's own providers from job requests"):
        rows = db.session.execute(
            _won(user_id).add_columns(Tenant.name, MarketplaceListing.rating_average, Review.rating)
            .join(Tenant, Tenant.id == Lead.tenant_id)
            .outerjoin(MarketplaceListing, MarketplaceListing.business_id == Lead.tenant_id)
            .outerjoin(Review, sa.and_(Review.tenant_id == Booking.tenant_id, Review.booking_id == Booking.id,
                                       Review.status == "visible"))).all()
    found: dict[uuid.UUID, dict] = {}
    for lead, _booking, name, listing_rating, my_rating in rows:
        item = found.setdefault(lead.tenant_id, {"business": name, "mine": [], "listing": listing_rating, "jobs": 0})
        item["jobs"] += 1
        if my_rating is not None:
            item["mine"].append(my_rating)
    out = [ProviderUsed(tid, v["business"],
                        (sum(v["mine"]) / len(v["mine"])) if v["mine"] else v["listing"], bool(v["mine"]), v["jobs"])
           for tid, v in found.items()]
    return sorted(out, key=lambda p: (p.rating is None, -(p.rating or 0), p.business))[:limit]
