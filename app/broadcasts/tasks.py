"""Sending a broadcast in batches, once per person, stoppable.

:func:`send_batch` (a job, one unit of work per batch) first freezes the audience into
``broadcast_recipient`` (primary key ``(broadcast_id, user_id)``: the dedup key per broadcast and
person), then notifies up to :data:`BATCH_SIZE` pending recipients in user-id order, marks them
``done`` or ``skipped`` and, after the commit, enqueues the next batch. A batch killed midway
rolls back whole: its recipients stay ``pending`` and its notifications were never committed, so
the retried (or swept) batch notifies each of them once; the notification's ``source_key``
``broadcast:<id>`` refuses a second notice to the same person even if a recipient row were
handled twice. A stopped broadcast's recipients are ``skipped``, so later batches find nothing.
Each batch holds the broadcast's row lock, so two jobs for the same broadcast never overlap.

:func:`periodic_sweep` starts scheduled broadcasts that are due and re-enqueues sending ones
whose chain of jobs was lost (a worker died between the commit and the enqueue).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.broadcasts.audience import CUSTOMERS, Audience, recipient_ids
from app.broadcasts.models import DONE, PENDING, SCHEDULED, SENDING, SENT, SKIPPED, Broadcast, BroadcastRecipient
from app.broadcasts.service import enqueue_batch, message_context, notification_audience, type_key
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.notifications import preferences, registry
from app.notifications.dispatch import notify_now
from app.tenants.context import platform_scope
from app.timeutil import utcnow
from app.uow import after_commit

log = logging.getLogger("plaza.broadcasts")

#: Recipients notified per job.
BATCH_SIZE = 200
#: A sending broadcast untouched for this long has lost its job chain: the sweep re-enqueues it.
STALL_AFTER = timedelta(minutes=2)


def source_key(broadcast_id: uuid.UUID) -> str:
    """The notification source key of a broadcast: one notice per person and broadcast."""
    return f"broadcast:{broadcast_id}"


def _freeze_recipients(b: Broadcast, now: datetime) -> int:
    """Write the audience as it is now into ``broadcast_recipient`` (a repeat adds nobody twice)."""
    ids = recipient_ids(Audience.from_json(b.audience))
    if ids:
        db.session.execute(pg_insert(BroadcastRecipient).values(
            [{"broadcast_id": b.id, "user_id": uid, "status": PENDING, "reason": ""} for uid in ids])
            .on_conflict_do_nothing())
    b.status, b.started_at, b.total, b.updated_at = SENDING, now, len(ids), now
    db.session.flush()
    return len(ids)


def _notify_one(b: Broadcast, audience: Audience, user_id: uuid.UUID, now: datetime) -> tuple[str, str]:
    """Notify one recipient; ``(status, reason)`` for the recipient row."""
    if audience.kind == CUSTOMERS and not preferences.has_marketing_consent(user_id, None):
        return SKIPPED, "no marketing consent"
    skip = [c for c in registry.CHANNELS if c != registry.INAPP and c not in b.channels]
    result = notify_now(user_id=user_id, type_key=type_key(audience), audience=notification_audience(audience),
                        context=message_context(b), tenant_id=None, subject_key=source_key(b.id),
                        source_key=source_key(b.id), skip_channels=skip, now=now)
    if result.notification is None:
        return SKIPPED, "account closed"
    if not result.new:
        return DONE, "already notified"
    if registry.INAPP not in b.channels:  # email only: kept for the log, out of the inbox
        result.notification.read_at = result.notification.archived_at = now
    return DONE, ""


def send_next_batch(broadcast_id: uuid.UUID, batch_size: int = BATCH_SIZE, now: datetime | None = None) -> str:
    """Handle the next batch of broadcast ``broadcast_id`` (platform scope; the caller's unit of
    work commits). Returns ``"waiting"`` (scheduled later), ``"idle"`` (not sending: draft, sent,
    stopped, or gone), ``"more"`` (a next batch is enqueued after the commit) or ``"sent"``."""
    now = now or utcnow()
    with platform_scope("broadcasts: send a batch"):
        b = db.session.scalar(sa.select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
        if b is None:
            return "idle"
        if b.status == SCHEDULED:
            if b.send_at is not None and b.send_at > now:
                return "waiting"
            _freeze_recipients(b, now)
        if b.status != SENDING:
            return "idle"
        audience = Audience.from_json(b.audience)
        batch = list(db.session.scalars(
            sa.select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == b.id,
                                                BroadcastRecipient.status == PENDING)
            .order_by(BroadcastRecipient.user_id).limit(batch_size)))
        for r in batch:
            r.status, r.reason = _notify_one(b, audience, r.user_id, now)
            r.handled_at = now
        b.done += len(batch)
        b.updated_at = now
        db.session.flush()
        left = db.session.scalar(sa.select(sa.func.count()).select_from(BroadcastRecipient).where(
            BroadcastRecipient.broadcast_id == b.id, BroadcastRecipient.status == PENDING)) or 0
        if left == 0:
            b.status, b.finished_at = SENT, now
            db.session.flush()
            log.info("broadcast sent", extra={"broadcast_id": str(b.id), "recipients": b.total})
            return "sent"
    after_commit(lambda: enqueue_batch(broadcast_id))
    return "more"


def send_batch(broadcast_id: str) -> str:
    """Job: one batch of the broadcast (:func:`send_next_batch`) as one unit of work."""
    return run_on_platform(send_next_batch, uuid.UUID(broadcast_id))


def sweep(now: datetime | None = None) -> int:
    """Enqueue a batch for every due scheduled broadcast and every sending one idle for
    :data:`STALL_AFTER`; returns how many. Reads in the caller's unit of work."""
    now = now or utcnow()
    with platform_scope("broadcasts: the sweep"):
        ids = list(db.session.scalars(sa.select(Broadcast.id).where(sa.or_(
            sa.and_(Broadcast.status == SCHEDULED, Broadcast.send_at <= now),
            sa.and_(Broadcast.status == SENDING, Broadcast.updated_at < now - STALL_AFTER)))))
    for broadcast_id in ids:
        after_commit(lambda b=broadcast_id: enqueue_batch(b))
    return len(ids)


def periodic_sweep() -> int:
    """Periodic job: :func:`sweep` as one unit of work."""
    return run_on_platform(sweep)
