"""The ``job_request`` and ``lead`` tables: a customer's described job and its offers to providers.

A **job request** is the customer's: what (a marketplace category and the answers to its
questions), where (postcode and/or a point), when (timing) and who (contact). It is a platform
table (no ``tenant_id``): it lives on the apex, belongs to a person or a guest, and is read by the
platform role only (``migrations.rls.PLATFORM_ONLY_TABLES``) — a business host can never read a
job request, not even one routed to it.

A **lead** is one job request offered to one provider (a business): a tenant table
(``TenantScoped``, RLS) holding a *snapshot* of what the provider may see (category, the answers
as label/text pairs, area, timing, complexity tier and credit cost), the routing decision (tier,
score and its parts, so the provider and an admin can see why it came), and the provider's side of
the deal (claim, quote, outcome). The customer's contact is copied onto the lead only when the
provider claims it. So a provider's inbox reads its own tenant's ``lead`` rows and nothing else.

Money is integer minor units plus ISO 4217 currency; instants are tz-aware UTC; distances in km.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


class JobRequestStatus(enum.StrEnum):
    """Where a job request stands.

    ``draft`` (the wizard is being filled in), ``unconfirmed`` (a guest must confirm by email),
    ``open`` (submitted, waiting for routing), ``routed`` (offered to providers as leads),
    ``manual`` (no provider matched or none claimed in time: the console's manual-fulfilment
    queue), ``quoted`` (at least one provider quoted), ``booked`` (the customer confirmed a quote:
    it became a booking), ``closed`` (ended without a booking: expired or withdrawn), ``cancelled``
    (the customer withdrew it before any quote was accepted).
    """

    DRAFT = "draft"
    UNCONFIRMED = "unconfirmed"
    OPEN = "open"
    ROUTED = "routed"
    MANUAL = "manual"
    QUOTED = "quoted"
    BOOKED = "booked"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class TimingKind(enum.StrEnum):
    """When the customer wants the job done: ``flexible``, a ``range`` of dates, or ``urgent``."""

    FLEXIBLE = "flexible"
    RANGE = "range"
    URGENT = "urgent"


class JobRequest(db.Model):
    """A customer's job request (platform table).

    ``answers`` maps a question id (str) to its value as the wizard stored it; ``photos`` is a
    list of storage keys (:mod:`app.storage`). ``complexity_score`` is 0–100 and
    ``complexity_tier`` the tier it maps to; ``credits_cost`` what claiming it costs a provider.
    ``latitude``/``longitude`` WGS 84 degrees (both or neither). ``timing_start``/``timing_end``
    are local dates of a ``range``. ``user_id`` is the account (``None`` for a guest);
    ``manage_token_hash`` the SHA-256 hex of the secret in the customer's manage link.
    ``routing_round`` counts routing attempts; ``routed_until`` is when the current offers lapse.
    """

    __tablename__ = "job_request"
    __table_args__ = (
        sa.CheckConstraint("(latitude is null) = (longitude is null)", name="job_request_point_whole"),
        sa.CheckConstraint("complexity_score between 0 and 100", name="job_request_score_range"),
        sa.CheckConstraint("credits_cost >= 0", name="job_request_credits"),
        sa.CheckConstraint(
            "status in ('draft', 'unconfirmed', 'open', 'routed', 'manual', 'quoted', 'booked', 'closed', 'cancelled')",
            name="job_request_status"),
        sa.CheckConstraint("timing_kind in ('flexible', 'range', 'urgent')", name="job_request_timing"),
        sa.Index("job_request_status_idx", "status", "routed_until"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=JobRequestStatus.DRAFT)
    category_slug: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("marketplace_category.slug", onupdate="CASCADE", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(160), nullable=False, default="")
    details: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    answers: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    #: The answers as providers read them, written at submission: ``[{"label", "text"}]`` in
    #: question order (copied onto each lead).
    summary: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    photos: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    complexity_score: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    complexity_tier: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=1)
    credits_cost: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=1)
    postcode: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="")
    city: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    country: Mapped[str] = mapped_column(sa.String(2), nullable=False, default="")
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    timing_kind: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=TimingKind.FLEXIBLE)
    timing_start: Mapped[date | None] = mapped_column(sa.Date)
    timing_end: Mapped[date | None] = mapped_column(sa.Date)
    contact_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="")
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      index=True)
    manage_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    locale: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="en")
    routing_round: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    routed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: The business a platform admin assigned it to from the manual-fulfilment queue, if any.
    assigned_business_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id",
                                                                                          ondelete="SET NULL"))
    #: The lead whose quote the customer confirmed (``booked``), if any.
    won_lead_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    closed_reason: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class LeadStatus(enum.StrEnum):
    """A lead's state at its provider.

    ``offered`` (routed to them, claimable until ``expires_at``), ``claimed`` (they spent the
    credits; they must contact the customer by ``contact_due_at``), ``quoted`` (they sent a price
    range), ``won`` (the customer confirmed their quote: a booking), ``lost`` (the customer chose
    another provider, or the request closed after they quoted), ``refunded`` (claimed but the claim
    was taken back and the credits returned: no contact in time, or the request closed unquoted),
    ``expired`` (offered, never claimed), ``declined`` (the provider passed on it).
    """

    OFFERED = "offered"
    CLAIMED = "claimed"
    QUOTED = "quoted"
    WON = "won"
    LOST = "lost"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    DECLINED = "declined"


#: Lead statuses that hold the provider's claim (credits spent and not returned).
CLAIM_HOLDING = (LeadStatus.CLAIMED, LeadStatus.QUOTED, LeadStatus.WON, LeadStatus.LOST)


class RoutingTier(enum.IntEnum):
    """How the provider matched (seed 002's three tiers): 1 the job's postcode is in their service
    area; 2 their base postcode or city matches; 3 the job lies within their travel radius."""

    SERVICE_AREA = 1
    BASE_AREA = 2
    RADIUS = 3


class Lead(TenantScoped, db.Model):
    """One job request offered to one provider (tenant table; see the module docstring).

    Snapshot: ``category_slug``, ``title``, ``answers_summary`` (list of ``{"label", "text"}``),
    ``postcode``/``city``, ``distance_km`` (from the provider's base, ``None`` when unknown),
    ``timing`` (a human line, e.g. "Urgent" or "12–15 Jan"), ``complexity_tier``, ``credits_cost``.
    Routing: ``source`` (``routed`` by the engine or ``manual`` by an admin), ``routing_tier``
    (:class:`RoutingTier`, ``None`` for manual), ``score`` (0–1) and ``score_parts`` (factor ->
    ``{"value", "weight", "contribution"}``). Deal: ``claimed_by`` (staff user), ``customer_id``
    (the provider's customer record, made on claim), ``contact_*`` (copied on claim),
    ``contacted_at`` (first message or call logged), ``quote_min_amount``/``quote_max_amount`` in
    minor units of ``quote_currency``, ``booking_id`` when won. A request is offered to a provider
    at most once (unique ``(tenant_id, job_request_id)``).
    """

    __tablename__ = "lead"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "job_request_id", name="lead_once_per_provider"),
        sa.CheckConstraint(
            "status in ('offered', 'claimed', 'quoted', 'won', 'lost', 'refunded', 'expired', 'declined')",
            name="lead_status"),
        sa.CheckConstraint("source in ('routed', 'manual')", name="lead_source"),
        sa.CheckConstraint("credits_cost >= 0", name="lead_credits"),
        sa.CheckConstraint("quote_min_amount is null or (quote_min_amount >= 0 and quote_max_amount >= quote_min_amount"
                           " and quote_currency is not null)", name="lead_quote_range"),
        sa.CheckConstraint("quote_duration_minutes is null or quote_duration_minutes between 1 and 20160",
                           name="lead_quote_duration"),
        sa.Index("lead_status_idx", "tenant_id", "status", "offered_at"),
        sa.Index("lead_job_request_idx", "job_request_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    job_request_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("job_request.id", ondelete="CASCADE"),
                                                      nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=LeadStatus.OFFERED)
    source: Mapped[str] = mapped_column(sa.String(8), nullable=False, default="routed")
    category_slug: Mapped[str | None] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(160), nullable=False, default="")
    answers_summary: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    postcode: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="")
    city: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    distance_km: Mapped[float | None] = mapped_column(sa.Float)
    timing: Mapped[str] = mapped_column(sa.String(80), nullable=False, default="")
    complexity_tier: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=1)
    credits_cost: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=1)
    routing_tier: Mapped[int | None] = mapped_column(sa.SmallInteger)
    score: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    score_parts: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    offered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    contact_due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    contacted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    contact_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="")
    quote_min_amount: Mapped[int | None] = mapped_column(sa.Integer)
    quote_max_amount: Mapped[int | None] = mapped_column(sa.Integer)
    quote_currency: Mapped[str | None] = mapped_column(sa.String(3))
    quote_message: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: The quote's estimated duration in minutes (1 to 14 days), set with the range (part W).
    quote_duration_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    quoted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    spam_reported_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
