"""The dispatch engine: which operator gets a request next, and making that one offer.

Candidates for a request are the operators who are online with a live position near the
customer (:func:`app.dispatch.locations.nearby`, Redis GEOSEARCH within the ``dispatch.radius_km``
setting), whose business has on-demand dispatch on for the service and is not suspended, with
spare capacity (``active_jobs < capacity``), without a live offer, and not offered this request
before. Each gets a score in 0–1 (:func:`score`): proximity, spare capacity and expertise
(completed dispatches of the service), weighted by :data:`WEIGHTS`. The best one gets the offer.

Offering is one conditional step on the database: the request row is locked and must still be
``searching``; the offer row is inserted with ``ON CONFLICT DO NOTHING``, where the partial unique indexes refuse
a second live offer to the same operator (another request won the race: the next candidate is
tried) or to the same request. When nobody is left the request becomes ``unfulfilled`` (audited)
and the customer is told. Every function flushes; the unit of work around it commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.audit.service import SYSTEM_ACTOR, record_audit
from app.dispatch import notify
from app.dispatch.locations import nearby
from app.dispatch.models import (
    DispatchOffer,
    DispatchOperator,
    DispatchProfile,
    DispatchRequest,
    OfferOutcome,
    RequestStatus,
)
from app.extensions import db
from app.platform_settings import get_setting
from app.redis_client import get_redis
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow

#: Weights of the score's parts (sum 1): proximity, spare capacity, expertise. Proximity dominates:
#: at city scale expertise can win an operator at most about 0.7 km over a nearer one
#: (bench/dispatch.py measures what that costs in distance against the optimal assignment).
WEIGHTS = {"proximity": 0.75, "load": 0.15, "expertise": 0.10}
#: Distance (km) at which the proximity part is one half: ``1 / (1 + d / PROXIMITY_HALF_KM)``.
PROXIMITY_HALF_KM = 2.0
#: Completed dispatches of a service at which the expertise part is full.
EXPERT_AT = 20
#: How many of the nearest live operators are considered.
NEAREST = 30


@dataclass(frozen=True)
class Candidate:
    """An operator who may get the offer, with its ``score`` (0–1) and ``distance_km``."""

    tenant_id: uuid.UUID
    operator_id: uuid.UUID
    user_id: uuid.UUID
    distance_km: float
    score: float


def score(distance_km: float, radius_km: float, active_jobs: int, capacity: int, completed: int) -> float:
    """The score (0–1) of an operator ``distance_km`` away with ``active_jobs`` of ``capacity`` and
    ``completed`` dispatches of the service; 0 beyond the search radius ``radius_km``."""
    if distance_km > radius_km:
        return 0.0
    proximity = 1.0 / (1.0 + distance_km / PROXIMITY_HALF_KM)
    load = max(0.0, 1.0 - active_jobs / capacity) if capacity > 0 else 0.0
    expertise = min(1.0, completed / EXPERT_AT)
    return round(WEIGHTS["proximity"] * proximity + WEIGHTS["load"] * load + WEIGHTS["expertise"] * expertise, 6)


def rank_candidates(req: DispatchRequest, radius_km: float | None = None) -> list[Candidate]:
    """The operators who may get ``req`` now, best first (see the module docstring). Runs one
    GEOSEARCH and one database query; call inside ``platform_scope``."""
    radius = float(radius_km if radius_km is not None else get_setting("dispatch.radius_km"))
    near = nearby(get_redis(), req.service, req.latitude, req.longitude, radius, NEAREST)
    if not near:
        return []
    by_key = {(n.tenant_id, n.operator_id): n for n in near}
    tried = sa.select(DispatchOffer.operator_id).where(
        DispatchOffer.tenant_id == DispatchOperator.tenant_id, DispatchOffer.operator_id == DispatchOperator.id,
        sa.or_(DispatchOffer.outcome == OfferOutcome.LIVE.value, DispatchOffer.request_id == req.id))
    rows = db.session.execute(
        sa.select(DispatchOperator.tenant_id, DispatchOperator.id, DispatchOperator.user_id,
                  DispatchOperator.active_jobs, DispatchOperator.capacity, DispatchOperator.completed)
        .join(DispatchProfile, DispatchProfile.tenant_id == DispatchOperator.tenant_id)
        .join(Tenant, Tenant.id == DispatchOperator.tenant_id)
        .where(sa.tuple_(DispatchOperator.tenant_id, DispatchOperator.id).in_(list(by_key)),
               DispatchOperator.online.is_(True), DispatchOperator.active_jobs < DispatchOperator.capacity,
               DispatchProfile.enabled.is_(True), sa.literal(req.service) == sa.any_(DispatchProfile.services),
               Tenant.suspended_at.is_(None), ~tried.exists())).all()
    ranked = []
    for tid, oid, uid, active, capacity, completed in rows:
        dist = by_key[(tid, oid)].distance_km
        ranked.append(Candidate(tid, oid, uid, dist, score(dist, radius, active, capacity,
                                                           int((completed or {}).get(req.service, 0)))))
    ranked.sort(key=lambda c: (-c.score, c.distance_km))
    return ranked


def offer_next(request_id: uuid.UUID) -> DispatchOffer | None:
    """Offer request ``request_id`` to the best candidate, if it is ``searching``; when nobody
    is left, mark it ``unfulfilled`` (audited, customer told). Returns the new live offer, or
    ``None`` (not searching any more, or unfulfilled). Flushes; schedules the lapse of the offer
    and the live updates after the commit."""
    with platform_scope("dispatch: offer a request"):
        req = db.session.scalar(sa.select(DispatchRequest).where(DispatchRequest.id == request_id)
                                .with_for_update().execution_options(populate_existing=True))
        if req is None or req.status != RequestStatus.SEARCHING:
            return None
        window = timedelta(seconds=int(get_setting("dispatch.accept_seconds")))
        for cand in rank_candidates(req):
            now = utcnow()
            offer_id = db.session.scalar(
                pg_insert(DispatchOffer).values(
                    id=uuid.uuid4(), tenant_id=cand.tenant_id, request_id=req.id, operator_id=cand.operator_id,
                    outcome=OfferOutcome.LIVE.value, offered_at=now, expires_at=now + window,
                    distance_km=cand.distance_km, score=cand.score)
                .on_conflict_do_nothing().returning(DispatchOffer.id))
            if offer_id is None:  # a unique index refused it: the operator got another request's offer a moment ago
                continue
            req.status, req.offer_id, req.offer_expires_at = RequestStatus.OFFERED.value, offer_id, now + window
            req.business_id, req.operator_id = cand.tenant_id, cand.operator_id
            req.tried, req.updated_at = req.tried + 1, now
            db.session.flush()
            notify.offer_made(req.id, offer_id, cand.user_id, now + window)
            return db.session.get(DispatchOffer, (cand.tenant_id, offer_id))
        req.status, req.updated_at, req.ended_at = RequestStatus.UNFULFILLED.value, utcnow(), utcnow()
        req.offer_id = req.offer_expires_at = req.business_id = req.operator_id = None
        db.session.flush()
        record_audit(SYSTEM_ACTOR, "dispatch.unfulfilled", "dispatch_request", req.id,
                     after={"service": req.service, "offers": req.tried})
        notify.request_changed(req.id, None, req.user_id, req.status)
        return None
