"""A business's on-demand set-up and its operators: the dispatch profile (on or off, which
services), each operator going online or offline with a capacity, and their live position.

All of it runs with the business in scope (tenant tables). Positions live in Redis only
(:mod:`app.dispatch.locations`); going offline drops the position at once. Functions flush;
the unit of work commits.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.dispatch.errors import DispatchInputError
from app.dispatch.locations import drop_location, put_location
from app.dispatch.models import DispatchOffer, DispatchOperator, DispatchProfile, DispatchRequest, OfferOutcome
from app.dispatch.services import ON_DEMAND_SERVICES
from app.extensions import db
from app.redis_client import get_redis
from app.tenants.context import platform_scope, require_tenant_id
from app.timeutil import utcnow


def get_profile() -> DispatchProfile | None:
    """The dispatch profile of the business in scope, or ``None`` when it never set one."""
    return db.session.get(DispatchProfile, require_tenant_id())


def save_profile(enabled: bool, services: list[str]) -> DispatchProfile:
    """Turn on-demand dispatch on or off for the business in scope and set its services (slugs
    of :data:`ON_DEMAND_SERVICES`). Online operators' positions move to the new services on
    their next position update. Flushes.

    Raises:
        DispatchInputError: an unknown service, or on without any service (``field`` ``services``).
    """
    unknown = [s for s in services if s not in ON_DEMAND_SERVICES]
    if unknown:
        raise DispatchInputError(_("Unknown service: %(names)s.", names=", ".join(unknown)), "services")
    if enabled and not services:
        raise DispatchInputError(_("Pick at least one service to offer on demand."), "services")
    profile = get_profile()
    if profile is None:
        profile = DispatchProfile(tenant_id=require_tenant_id())
        db.session.add(profile)
    old = set(profile.services or [])
    profile.enabled, profile.services, profile.updated_at = enabled, sorted(set(services)), utcnow()
    db.session.flush()
    dropped = sorted(old - set(profile.services)) if enabled else sorted(old)
    if dropped:
        for op in db.session.scalars(sa.select(DispatchOperator)):
            drop_location(get_redis(), op.tenant_id, op.id, dropped)
    return profile


def find_operator(user_id: uuid.UUID) -> DispatchOperator | None:
    """The operator row of account ``user_id`` in the business in scope, or ``None``."""
    return db.session.scalar(sa.select(DispatchOperator).where(DispatchOperator.user_id == user_id))


def operator_for(user_id: uuid.UUID, name: str) -> DispatchOperator:
    """The operator row of account ``user_id`` in the business in scope, created (offline,
    capacity 1, named ``name``) on first use. Flushes when it creates."""
    op = find_operator(user_id)
    if op is None:
        op = DispatchOperator(id=uuid.uuid4(), user_id=user_id, name=name[:120], online=False, capacity=1,
                              active_jobs=0, completed={})
        db.session.add(op)
        db.session.flush()
    return op


def set_availability(op: DispatchOperator, online: bool, capacity: int) -> DispatchOperator:
    """Set the operator online or offline with ``capacity`` jobs at once (1–10). Offline drops the
    live position (no new offers; a live offer may still be answered). Flushes.

    Raises:
        DispatchInputError: capacity outside 1–10 (``field`` ``capacity``).
    """
    if not 1 <= capacity <= 10:
        raise DispatchInputError(_("Capacity is 1 to 10 jobs at once."), "capacity")
    op.online, op.capacity, op.updated_at = online, capacity, utcnow()
    db.session.flush()
    if not online:
        drop_location(get_redis(), op.tenant_id, op.id, list(ON_DEMAND_SERVICES))
    return op


def report_position(op: DispatchOperator, lat: float, lon: float) -> bool:
    """Store the online operator's live position under the business's on-demand services;
    returns ``False`` (nothing stored) when the operator is offline or the business has
    dispatch off.

    Raises:
        ValueError: a position out of range.
    """
    profile = get_profile()
    if not op.online or profile is None or not profile.enabled:
        return False
    put_location(get_redis(), op.tenant_id, op.id, list(profile.services), lat, lon)
    return True


def operator_offer(op: DispatchOperator, offer_id: uuid.UUID) -> DispatchOffer | None:
    """Offer ``offer_id`` if it was made to operator ``op`` (any outcome), else ``None``."""
    return db.session.scalar(sa.select(DispatchOffer).where(DispatchOffer.id == offer_id,
                                                            DispatchOffer.operator_id == op.id))


def accepted_job(op: DispatchOperator, request_id: uuid.UUID) -> bool:
    """Whether operator ``op`` accepted request ``request_id`` (read from its own offers)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(DispatchOffer).where(
        DispatchOffer.request_id == request_id, DispatchOffer.operator_id == op.id,
        DispatchOffer.outcome == OfferOutcome.ACCEPTED.value)) > 0


def live_offer(op: DispatchOperator) -> tuple[DispatchOffer, DispatchRequest] | None:
    """The operator's live offer and its request (read on the platform role), or ``None``."""
    offer = db.session.scalar(sa.select(DispatchOffer).where(
        DispatchOffer.operator_id == op.id, DispatchOffer.outcome == OfferOutcome.LIVE.value))
    if offer is None:
        return None
    tenant_id, offer_id = op.tenant_id, offer.id
    with platform_scope("dispatch: the operator's offer"):
        offer = db.session.scalar(sa.select(DispatchOffer).where(DispatchOffer.tenant_id == tenant_id,
                                                                 DispatchOffer.id == offer_id))
        req = db.session.get(DispatchRequest, offer.request_id)
    return offer, req


def current_jobs(op: DispatchOperator) -> list[DispatchRequest]:
    """The operator's jobs in progress (accepted, on the way, arrived), oldest first."""
    tenant_id, op_id = op.tenant_id, op.id
    with platform_scope("dispatch: the operator's jobs"):
        return list(db.session.scalars(sa.select(DispatchRequest).where(
            DispatchRequest.business_id == tenant_id, DispatchRequest.operator_id == op_id,
            DispatchRequest.status.in_(("accepted", "on_the_way", "arrived"))).order_by(DispatchRequest.accepted_at)))
