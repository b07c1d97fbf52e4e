"""The customer's view of their job request: the offers from providers and the status timeline.

The request is a platform table and each offer (a :class:`~app.leads.models.Lead`) lives in its
provider's tenant, so every read here runs inside an explicit, logged ``platform_scope`` and is
filtered strictly by the one job request the caller has already authorised (manage token, signed
email link, or the signed-in owner). Nothing here writes.

Money is integer minor units plus ISO 4217 currency; instants tz-aware UTC; durations minutes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.booking.models import Booking
from app.booking.service import manage_token
from app.extensions import db
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus
from app.marketplace.models import MarketplaceListing
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.tenants.urls import external_url

#: Lead statuses the customer sees as an offer (a provider took the job up).
VISIBLE_TO_CUSTOMER = (LeadStatus.CLAIMED, LeadStatus.QUOTED, LeadStatus.WON, LeadStatus.LOST)
#: The lead field that holds the quote's estimated duration in minutes (``lead.quote_duration_minutes``,
#: added by the quote's migration, part W; read by name so this module works before that column merges).
QUOTE_DURATION_FIELD = "quote_duration_minutes"
#: Duration assumed when a quote names none (minutes).
DEFAULT_JOB_MINUTES = 60
#: ``job_request.closed_reason`` values (stored in English) as the customer reads them.
CLOSED_REASONS = {"no quote confirmed": _l("no quote confirmed")}


@dataclass(frozen=True)
class Offer:
    """One provider's side of the customer's request.

    ``status`` is the lead's (:class:`LeadStatus` value); ``price_min``/``price_max`` are minor
    units of ``currency`` (``None`` until quoted); ``duration_minutes`` the estimate (``None``
    until quoted); ``rating`` the listing's average 1–5 (``None`` without reviews) over
    ``rating_count`` reviews; ``verified`` the marketplace badge.
    """

    lead_id: uuid.UUID
    tenant_id: uuid.UUID
    business: str
    business_slug: str
    status: str
    price_min: int | None
    price_max: int | None
    currency: str | None
    duration_minutes: int | None
    message: str
    quoted_at: datetime | None
    rating: float | None
    rating_count: int
    verified: bool
    booking_id: uuid.UUID | None

    @property
    def quoted(self) -> bool:
        """True when the provider has sent a price range."""
        return self.price_min is not None

    @property
    def can_decide(self) -> bool:
        """True while the customer may confirm or reject it (status ``quoted``)."""
        return self.status == LeadStatus.QUOTED


@dataclass(frozen=True)
class Step:
    """One stage of the request's timeline: ``label``, when it happened (``at``, UTC, ``None``
    when not yet), ``done``, and ``detail`` (a short line, may be empty)."""

    key: str
    label: str
    at: datetime | None
    done: bool
    detail: str = ""


def quoted_minutes(lead: Lead) -> int:
    """The quote's estimated duration of ``lead`` in whole minutes (:data:`DEFAULT_JOB_MINUTES`
    when the quote names none)."""
    value = getattr(lead, QUOTE_DURATION_FIELD, None)
    return int(value) if value else DEFAULT_JOB_MINUTES


def leads_of(job_request_id: uuid.UUID) -> list[Lead]:
    """Every lead of the request, across providers (platform scope), oldest offer first."""
    with platform_scope("job request: the customer's offers"):
        return list(db.session.scalars(sa.select(Lead).where(Lead.job_request_id == job_request_id)
                                       .order_by(Lead.offered_at, Lead.id)))


def offers_for(job_request_id: uuid.UUID) -> list[Offer]:
    """The offers the customer sees on their request: leads a provider claimed (then quoted, won
    or lost), quoted ones first (lowest minimum price first), each with the business's name,
    rating and verified badge from its marketplace listing (when it has one)."""
    with platform_scope("job request: the customer's offers"):
        rows = db.session.execute(
            sa.select(Lead, Tenant.name, Tenant.slug, MarketplaceListing.rating_average,
                      MarketplaceListing.rating_count, MarketplaceListing.verified)
            .join(Tenant, Tenant.id == Lead.tenant_id)
            .outerjoin(MarketplaceListing, MarketplaceListing.business_id == Lead.tenant_id)
            .where(Lead.job_request_id == job_request_id, Lead.status.in_([s.value for s in VISIBLE_TO_CUSTOMER]))
        ).all()
    offers = [Offer(
        lead_id=lead.id, tenant_id=lead.tenant_id, business=name, business_slug=slug, status=lead.status,
        price_min=lead.quote_min_amount, price_max=lead.quote_max_amount, currency=lead.quote_currency,
        duration_minutes=quoted_minutes(lead) if lead.quote_min_amount is not None else None,
        message=lead.quote_message or "", quoted_at=lead.quoted_at, rating=rating, rating_count=count or 0,
        verified=bool(verified), booking_id=lead.booking_id,
    ) for lead, name, slug, rating, count, verified in rows]
    order = {LeadStatus.WON: 0, LeadStatus.QUOTED: 1, LeadStatus.CLAIMED: 2, LeadStatus.LOST: 3}
    return sorted(offers, key=lambda o: (order.get(LeadStatus(o.status), 9), o.price_min or 0, o.business))


def timeline(job_request: JobRequest, leads: list[Lead]) -> list[Step]:
    """The request's stages for the customer: submitted, sent to N providers, claimed, quotes in,
    then booked or closed. Times come from the request and its leads (UTC)."""
    sent = list(leads)
    claimed = [lead.claimed_at for lead in leads if lead.claimed_at]
    quoted = [lead.quoted_at for lead in leads if lead.quoted_at]
    n_sent, n_quotes = len(sent), len(quoted)
    steps = [
        Step("submitted", _("Submitted"), job_request.submitted_at, job_request.submitted_at is not None),
        Step("sent", ngettext("Sent to %(num)d provider", "Sent to %(num)d providers", n_sent) if n_sent
             else _("Finding providers"), min((lead.offered_at for lead in sent), default=None), bool(sent)),
        Step("claimed", _("A provider took it up"), min(claimed, default=None), bool(claimed),
             ngettext("%(num)d provider", "%(num)d providers", len(claimed)) if claimed else ""),
        Step("quoted", _("Quotes in"), min(quoted, default=None), bool(quoted),
             ngettext("%(num)d quote", "%(num)d quotes", n_quotes) if quoted else ""),
    ]
    if job_request.status in (JobRequestStatus.CLOSED, JobRequestStatus.CANCELLED):
        steps.append(Step("closed", _("Closed") if job_request.status == JobRequestStatus.CLOSED else _("Cancelled"),
                          job_request.closed_at, True, CLOSED_REASONS.get(job_request.closed_reason)
                          or job_request.closed_reason.replace("_", " ")))
    else:
        won = [lead for lead in leads if lead.status == LeadStatus.WON]
        steps.append(Step("booked", _("Booked"), won[0].decided_at if won else None,
                          job_request.status == JobRequestStatus.BOOKED))
    return steps


@dataclass(frozen=True)
class BookedJob:
    """The booking a confirmed quote became: times UTC (shown in ``timezone``, the provider's
    zone), the booking's status, and ``manage_url`` (the booking's own manage page on the
    provider's host, where a deposit is paid when one is asked)."""

    business: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: str
    price_amount: int
    currency: str
    manage_url: str


def booked_job(job_request: JobRequest) -> BookedJob | None:
    """The booking of the request's won quote, or ``None`` when it has none (yet)."""
    if job_request.won_lead_id is None:
        return None
    with platform_scope("job request: the customer's booking"):
        row = db.session.execute(
            sa.select(Booking, Tenant).join(Lead, sa.and_(Lead.tenant_id == Booking.tenant_id,
                                                          Lead.booking_id == Booking.id))
            .join(Tenant, Tenant.id == Booking.tenant_id)
            .where(Lead.id == job_request.won_lead_id)).first()
        if row is None:
            return None
        booking, tenant = row
        return BookedJob(business=tenant.name, starts_at=booking.starts_at, ends_at=booking.ends_at,
                         timezone=tenant.timezone, status=booking.status, price_amount=booking.price_amount,
                         currency=booking.currency,
                         manage_url=external_url("storefront.manage", tenant=tenant, token=manage_token(booking)))
