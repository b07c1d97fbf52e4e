"""Dispatch's jobs: the lapse of one offer (scheduled at its expiry by :mod:`app.dispatch.notify`)
and the periodic safety net that lapses overdue offers and re-offers requests left searching
(a lost job or a dead worker delays a cascade, never drops it). Both are idempotent."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.dispatch import engine, offers
from app.dispatch.models import DispatchOffer, DispatchRequest, OfferOutcome, RequestStatus
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.tenants.context import platform_scope
from app.timeutil import utcnow

#: A request left ``searching`` this long is offered again by the sweep.
STUCK_SEARCHING = timedelta(seconds=10)


def lapse_offer(request_id: str, offer_id: str) -> bool:
    """Job: lapse the offer if still live and due, and cascade; returns whether it lapsed."""
    return run_on_platform(offers.lapse_offer, uuid.UUID(request_id), uuid.UUID(offer_id))


def periodic_sweep() -> int:
    """Periodic job: :func:`sweep`; returns how many requests it moved on."""
    return run_on_platform(sweep)


def sweep() -> int:
    """Lapse every live offer whose window has passed (each cascades), and offer again every
    request left ``searching`` longer than :data:`STUCK_SEARCHING`. Returns how many requests
    it moved. Flushes; the job commits."""
    now = utcnow()
    with platform_scope("dispatch: sweep"):
        due = db.session.execute(sa.select(DispatchOffer.request_id, DispatchOffer.id).where(
            DispatchOffer.outcome == OfferOutcome.LIVE.value, DispatchOffer.expires_at <= now)).all()
        stuck = list(db.session.scalars(sa.select(DispatchRequest.id).where(
            DispatchRequest.status == RequestStatus.SEARCHING.value, DispatchRequest.updated_at < now - STUCK_SEARCHING)))
    moved = sum(1 for request_id, offer_id in due if offers.lapse_offer(request_id, offer_id))
    for request_id in stuck:
        engine.offer_next(request_id)
        moved += 1
    return moved
