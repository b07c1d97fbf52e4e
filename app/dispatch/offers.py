"""What happens to an offer and a request after it is made: accept, decline, lapse, the
operator's progress (on the way, arrived, done) and the customer's cancel.

Every step is a conditional ``UPDATE … WHERE`` on the state it expects, so of two racing
writers exactly one moves the row and the other sees no row and stops (:class:`OfferGone`,
:class:`InvalidTransition`): accept against lapse, two accepts, cancel against accept. An
accepted offer is unique per request across businesses through the request row (one ``offer_id``,
locked ``FOR UPDATE`` by every offer and accept) and within a business in the database too
(``dispatch_offer_accepted_request``: ``tenant_id`` in every unique key, for Citus), and an
operator's ``active_jobs`` only grows while below ``capacity``. The work runs in ``platform_scope``
(``dispatch_request`` is a platform table); functions flush, audit the accept and the cancel,
and tell the pages after the commit (:mod:`app.dispatch.notify`).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.dispatch import engine, notify
from app.dispatch.errors import AtCapacity, InvalidTransition, OfferGone
from app.dispatch.locations import last_position
from app.dispatch.models import (
    CANCELLABLE,
    WORKING,
    DispatchOffer,
    DispatchOperator,
    DispatchRequest,
    OfferOutcome,
    RequestStatus,
)
from app.dispatch.services import eta_minutes
from app.extensions import db
from app.geo import distance_km
from app.redis_client import get_redis
from app.tenants.context import platform_scope
from app.timeutil import utcnow

#: The operator's steps after accepting: from -> to.
PROGRESS = {RequestStatus.ON_THE_WAY: RequestStatus.ACCEPTED, RequestStatus.ARRIVED: RequestStatus.ON_THE_WAY,
            RequestStatus.DONE: RequestStatus.ARRIVED}
#: The request column stamped by each progress step.
STAMP = {RequestStatus.ON_THE_WAY: "on_the_way_at", RequestStatus.ARRIVED: "arrived_at", RequestStatus.DONE: "ended_at"}


def accept_offer(operator: DispatchOperator, offer_id: uuid.UUID, actor: AuditActor) -> DispatchRequest:
    """The operator accepts their live offer ``offer_id`` within its window: the offer becomes
    ``accepted``, the request ``accepted`` with the distance and ETA from the operator's live
    position, the operator's load grows by one (audited ``dispatch.accepted``). Returns the request.

    Raises:
        OfferGone: not this operator's live offer any more (lapsed, declined, cancelled, accepted).
        AtCapacity: the operator has no spare capacity (nothing changed).
    """
    now = utcnow()
    with platform_scope("dispatch: operator accepts an offer"):
        row = db.session.execute(
            sa.update(DispatchOffer)
            .where(DispatchOffer.tenant_id == operator.tenant_id, DispatchOffer.id == offer_id,
                   DispatchOffer.operator_id == operator.id, DispatchOffer.outcome == OfferOutcome.LIVE.value,
                   DispatchOffer.expires_at > now)
            .values(outcome=OfferOutcome.ACCEPTED.value, decided_at=now)
            .returning(DispatchOffer.request_id, DispatchOffer.distance_km)
            .execution_options(synchronize_session=False)).first()
        if row is None:
            raise OfferGone(_("This offer is no longer open."))
        req = db.session.scalar(sa.select(DispatchRequest).where(
            DispatchRequest.id == row.request_id, DispatchRequest.status == RequestStatus.OFFERED.value,
            DispatchRequest.offer_id == offer_id).with_for_update().execution_options(populate_existing=True))
        if req is None:
            raise OfferGone(_("This request was cancelled or taken."))
        grew = db.session.execute(
            sa.update(DispatchOperator)
            .where(DispatchOperator.tenant_id == operator.tenant_id, DispatchOperator.id == operator.id,
                   DispatchOperator.active_jobs < DispatchOperator.capacity)
            .values(active_jobs=DispatchOperator.active_jobs + 1, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not grew:
            raise AtCapacity(_("You are at your capacity: finish a job first."))
        db.session.expire(operator, ["active_jobs", "updated_at"])
        here = last_position(get_redis(), operator.tenant_id, operator.id)
        dist = distance_km(here, (req.latitude, req.longitude)) if here else row.distance_km
        req.status, req.accepted_at, req.updated_at = RequestStatus.ACCEPTED.value, now, now
        req.offer_expires_at, req.distance_km, req.eta_minutes = None, round(dist, 2), eta_minutes(dist)
        db.session.flush()
        record_audit(actor, "dispatch.accepted", "dispatch_request", req.id, tenant_id=operator.tenant_id,
                     after={"operator_id": str(operator.id), "offer_id": str(offer_id), "eta_minutes": req.eta_minutes})
        notify.request_changed(req.id, operator.user_id, req.user_id, req.status)
        return req


def decline_offer(operator: DispatchOperator, offer_id: uuid.UUID) -> None:
    """The operator declines their live offer: it cascades to the next operator at once.

    Raises:
        OfferGone: not this operator's live offer any more.
    """
    if not _close_offer(operator.tenant_id, offer_id, OfferOutcome.DECLINED, operator_id=operator.id):
        raise OfferGone(_("This offer is no longer open."))


def lapse_offer(request_id: uuid.UUID, offer_id: uuid.UUID) -> bool:
    """Lapse offer ``offer_id`` if it is still live and its window has passed, then cascade the
    request to the next operator. Idempotent; returns whether it lapsed the offer now."""
    with platform_scope("dispatch: lapse an offer"):
        tenant_id = db.session.scalar(sa.select(DispatchOffer.tenant_id).where(
            DispatchOffer.id == offer_id, DispatchOffer.request_id == request_id))
    if tenant_id is None:
        return False
    return _close_offer(tenant_id, offer_id, OfferOutcome.LAPSED, expired_only=True)


def _close_offer(tenant_id: uuid.UUID, offer_id: uuid.UUID, outcome: OfferOutcome, *,
                 operator_id: uuid.UUID | None = None, expired_only: bool = False) -> bool:
    now = utcnow()
    with platform_scope(f"dispatch: offer {outcome.value}"):
        cond = [DispatchOffer.tenant_id == tenant_id, DispatchOffer.id == offer_id,
                DispatchOffer.outcome == OfferOutcome.LIVE.value]
        if operator_id is not None:
            cond.append(DispatchOffer.operator_id == operator_id)
        if expired_only:
            cond.append(DispatchOffer.expires_at <= now)
        row = db.session.execute(sa.update(DispatchOffer).where(*cond)
                                 .values(outcome=outcome.value, decided_at=now)
                                 .returning(DispatchOffer.request_id)
                                 .execution_options(synchronize_session=False)).first()
        if row is None:
            return False
        moved = db.session.execute(
            sa.update(DispatchRequest)
            .where(DispatchRequest.id == row.request_id, DispatchRequest.status == RequestStatus.OFFERED.value,
                   DispatchRequest.offer_id == offer_id)
            .values(status=RequestStatus.SEARCHING.value, offer_id=None, offer_expires_at=None, business_id=None,
                    operator_id=None, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        db.session.expire_all()
    if moved:
        engine.offer_next(row.request_id)
    return True


def advance_request(operator: DispatchOperator, request_id: uuid.UUID, to: RequestStatus | str) -> DispatchRequest:
    """The operator's next step on their job: ``on_the_way``, ``arrived`` or ``done`` (only from
    the step before). ``done`` frees one unit of capacity and counts one completed dispatch of the
    service (expertise). Returns the request.

    Raises:
        InvalidTransition: ``to`` is not a progress step, or the job is not this operator's in the
            step before ``to`` (e.g. the customer cancelled).
    """
    try:
        to = RequestStatus(to)
    except ValueError:
        raise InvalidTransition(_("Unknown step.")) from None
    frm = PROGRESS.get(to)
    if frm is None:
        raise InvalidTransition(_("Unknown step."))
    now = utcnow()
    with platform_scope("dispatch: operator progress"):
        req = db.session.scalar(sa.select(DispatchRequest).where(
            DispatchRequest.id == request_id, DispatchRequest.business_id == operator.tenant_id,
            DispatchRequest.operator_id == operator.id, DispatchRequest.status == frm.value).with_for_update().execution_options(populate_existing=True))
        if req is None:
            raise InvalidTransition(_("This job has moved on (the customer may have cancelled)."))
        req.status, req.updated_at = to.value, now
        setattr(req, STAMP[to], now)
        if to == RequestStatus.DONE:
            counted = sa.func.coalesce(DispatchOperator.completed[req.service].as_integer(), 0) + 1
            db.session.execute(
                sa.update(DispatchOperator)
                .where(DispatchOperator.tenant_id == operator.tenant_id, DispatchOperator.id == operator.id)
                .values(active_jobs=sa.func.greatest(DispatchOperator.active_jobs - 1, 0),
                        completed=DispatchOperator.completed.op("||")(sa.func.jsonb_build_object(req.service, counted)),
                        updated_at=now)
                .execution_options(synchronize_session=False))
            db.session.expire(operator, ["active_jobs", "completed", "updated_at"])
        db.session.flush()
        notify.request_changed(req.id, operator.user_id, req.user_id, req.status)
        return req


def cancel_request(request_id: uuid.UUID, user_id: uuid.UUID | None, actor: AuditActor) -> DispatchRequest:
    """The customer (``user_id``, the request's owner) cancels while the operator has not
    arrived: a live offer is cancelled, an accepted job frees the operator's capacity (audited
    ``dispatch.cancelled``). Returns the request.

    Raises:
        InvalidTransition: not this customer's request, or it has arrived or ended.
    """
    now = utcnow()
    with platform_scope("dispatch: customer cancels"):
        req = db.session.scalar(sa.select(DispatchRequest).where(
            DispatchRequest.id == request_id, DispatchRequest.user_id == user_id).with_for_update().execution_options(populate_existing=True))
        if req is None or req.status not in CANCELLABLE:
            raise InvalidTransition(_("This request can no longer be cancelled."))
        before = req.status
        operator_user = None
        if req.status == RequestStatus.OFFERED and req.offer_id is not None:
            db.session.execute(sa.update(DispatchOffer).where(
                DispatchOffer.tenant_id == req.business_id, DispatchOffer.id == req.offer_id,
                DispatchOffer.outcome == OfferOutcome.LIVE.value).values(
                outcome=OfferOutcome.CANCELLED.value, decided_at=now).execution_options(synchronize_session=False))
        if req.operator_id is not None:
            operator_user = db.session.scalar(sa.select(DispatchOperator.user_id).where(
                DispatchOperator.tenant_id == req.business_id, DispatchOperator.id == req.operator_id))
        if req.status in WORKING:
            db.session.execute(
                sa.update(DispatchOperator)
                .where(DispatchOperator.tenant_id == req.business_id, DispatchOperator.id == req.operator_id)
                .values(active_jobs=sa.func.greatest(DispatchOperator.active_jobs - 1, 0), updated_at=now)
                .execution_options(synchronize_session=False))
        req.status, req.updated_at, req.ended_at, req.offer_expires_at = RequestStatus.CANCELLED.value, now, now, None
        db.session.flush()
        record_audit(actor, "dispatch.cancelled", "dispatch_request", req.id, tenant_id=req.business_id,
                     before={"status": before}, after={"status": req.status})
        notify.request_changed(req.id, operator_user, req.user_id, req.status)
        return req

