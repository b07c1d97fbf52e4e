"""The dispatch tables: who offers on-demand service, their operators, the customers' requests
and the offers made to operators.

* ``dispatch_profile`` (tenant, one row per business): whether the business takes on-demand
  requests and for which services (:data:`app.dispatch.services.ON_DEMAND_SERVICES` slugs).
* ``dispatch_operator`` (tenant): a staff account that works on demand from a phone: online or
  not, ``capacity`` (jobs at once), ``active_jobs`` (accepted and not yet done; never above
  capacity, enforced by the conditional update in :mod:`app.dispatch.offers`) and ``completed``
  (service slug -> completed dispatches: the expertise factor).
* ``dispatch_request`` (platform table, never read by the tenant role): a customer's request
  for a service now at a point. Its ``status`` is the one place the request's state lives;
  every change is a conditional ``UPDATE … WHERE status = …`` so two racing writers cannot
  both move it.
* ``dispatch_offer`` (tenant): one offer of one request to one operator. The database
  guarantees that a request has at most one ``live`` offer and at most one ``accepted`` one,
  and that an operator has at most one ``live`` offer (partial unique indexes).

Instants are tz-aware UTC; distances in km; ETAs in minutes; points WGS 84 degrees.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow


class RequestStatus(enum.StrEnum):
    """Where a dispatch request stands: ``searching`` (looking for the next operator),
    ``offered`` (one operator has a live offer), ``accepted`` (an operator took it),
    ``on_the_way``, ``arrived``, ``done``; or ended without service: ``cancelled`` (by the
    customer) and ``unfulfilled`` (nobody left to offer it to)."""

    SEARCHING = "searching"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    ON_THE_WAY = "on_the_way"
    ARRIVED = "arrived"
    DONE = "done"
    CANCELLED = "cancelled"
    UNFULFILLED = "unfulfilled"


#: Statuses in which an operator is working on the request (counted in ``active_jobs``).
WORKING = (RequestStatus.ACCEPTED, RequestStatus.ON_THE_WAY, RequestStatus.ARRIVED)
#: Statuses a customer may still cancel from.
CANCELLABLE = (RequestStatus.SEARCHING, RequestStatus.OFFERED, RequestStatus.ACCEPTED, RequestStatus.ON_THE_WAY)
#: Statuses that end a request.
FINAL = (RequestStatus.DONE, RequestStatus.CANCELLED, RequestStatus.UNFULFILLED)


class OfferOutcome(enum.StrEnum):
    """An offer is ``live`` until the operator ``accepted`` or ``declined`` it, it ``lapsed``
    (its window passed) or it was ``cancelled`` (the customer cancelled the request)."""

    LIVE = "live"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


class DispatchProfile(TenantScoped, db.Model):
    """A business's on-demand settings: ``enabled`` and the ``services`` (slugs) it dispatches."""

    __tablename__ = "dispatch_profile"

    enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    services: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.String(40)), nullable=False, default=list)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class DispatchOperator(TenantScoped, db.Model):
    """A staff account working on demand (one per business and account). ``online`` as the
    operator set it (the live location in Redis expires on its own); ``capacity`` jobs at once
    (1–10); ``active_jobs`` 0..capacity; ``completed`` service slug -> completed dispatches."""

    __tablename__ = "dispatch_operator"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "user_id", name="dispatch_operator_once"),
        sa.CheckConstraint("capacity between 1 and 10", name="dispatch_operator_capacity"),
        sa.CheckConstraint("active_jobs >= 0", name="dispatch_operator_load"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                               nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    online: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    capacity: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=1)
    active_jobs: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    completed: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class DispatchRequest(db.Model):
    """A customer's on-demand request (platform table). ``service`` is a slug of
    :data:`app.dispatch.services.ON_DEMAND_SERVICES`; ``latitude``/``longitude`` where;
    ``business_id``/``operator_id``/``offer_id`` the business, operator and offer of the current
    offer or the accepted job; ``offer_expires_at`` when the live offer lapses; ``distance_km``
    and ``eta_minutes`` from the accepting operator's position; ``tried`` how many offers were
    made."""

    __tablename__ = "dispatch_request"
    __table_args__ = (
        sa.CheckConstraint("status in ('searching', 'offered', 'accepted', 'on_the_way', 'arrived', 'done', "
                           "'cancelled', 'unfulfilled')", name="dispatch_request_status"),
        sa.CheckConstraint("status <> 'offered' or offer_id is not null", name="dispatch_request_offer"),
        sa.Index("dispatch_request_status_idx", "status", "offer_expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      index=True)
    customer_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    service: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    latitude: Mapped[float] = mapped_column(sa.Float, nullable=False)
    longitude: Mapped[float] = mapped_column(sa.Float, nullable=False)
    address_line: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=RequestStatus.SEARCHING)
    business_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="SET NULL"))
    operator_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    offer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    offer_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    tried: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    distance_km: Mapped[float | None] = mapped_column(sa.Float)
    eta_minutes: Mapped[int | None] = mapped_column(sa.SmallInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    on_the_way_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class DispatchOffer(TenantScoped, db.Model):
    """One offer of a request to one operator: ``offered_at``, ``expires_at`` (the acceptance
    window), ``outcome`` (:class:`OfferOutcome`) and ``decided_at``; ``distance_km`` and
    ``score`` (0–1) as the engine saw them."""

    __tablename__ = "dispatch_offer"
    __table_args__ = (
        tenant_fk(["operator_id"], "dispatch_operator"),
        sa.CheckConstraint("outcome in ('live', 'accepted', 'declined', 'lapsed', 'cancelled')",
                           name="dispatch_offer_outcome"),
        sa.Index("dispatch_offer_live_request", "tenant_id", "request_id", unique=True,
                 postgresql_where=sa.text("outcome = 'live'")),
        sa.Index("dispatch_offer_live_operator", "tenant_id", "operator_id", unique=True,
                 postgresql_where=sa.text("outcome = 'live'")),
        sa.Index("dispatch_offer_accepted_request", "tenant_id", "request_id", unique=True,
                 postgresql_where=sa.text("outcome = 'accepted'")),
        sa.Index("dispatch_offer_once", "tenant_id", "request_id", "operator_id", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("dispatch_request.id", ondelete="CASCADE"),
                                                  nullable=False)
    operator_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    outcome: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=OfferOutcome.LIVE)
    offered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    distance_km: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    score: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
