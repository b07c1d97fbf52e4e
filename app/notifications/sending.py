"""Sending one queued notification delivery once: claim it (a lease), apply the last-minute
rules (read meanwhile, online, preferences, SMS allowance, consent, the mail cap), send on its
channel, record ``sent``/``failed``/``skipped`` with the history in ``log``.

The claim and each result are committed on their own (:func:`app.uow.own_transaction`), so the
claim is durable before anything leaves and a worker that dies mid-send leaves a lease that
expires (``DELIVERY_LEASE_SECONDS``) and is taken over by the sweep's re-enqueue.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from app.billing.service import sms_quota_reason
from app.delivery import mailcap
from app.delivery.models import NotificationDelivery
from app.delivery.pipeline import DeliveryFailed, lease_seconds
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import run_on_platform
from app.notifications import preferences, registry
from app.notifications.center_models import Notification
from app.notifications.channels import get_channel
from app.notifications.dispatch import enqueue_deliveries
from app.notifications.presence import presence
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from app.uow import own_transaction, unit_of_work

log = logging.getLogger("plaza.notifications")


def _append_log(status: str, now: datetime, error: str | None = None) -> sa.ColumnElement:
    return NotificationDelivery.log.op("||")(sa.cast(sa.func.jsonb_build_array(sa.func.jsonb_build_object(
        "at", now.isoformat(), "status", status, "error", error)), JSONB))


def _claim(delivery_id: uuid.UUID, now: datetime) -> bool:
    """Take the delivery for sending, in its own committed transaction: only from
    ``queued``/``failed`` or an expired lease. True when this worker may send."""
    lease_cut = now - timedelta(seconds=lease_seconds())
    with own_transaction() as session:
        taken = session.execute(
            sa.update(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id,
                   sa.or_(NotificationDelivery.status.in_(("queued", "failed")),
                          sa.and_(NotificationDelivery.status == "sending",
                                  NotificationDelivery.claimed_at < lease_cut)))
            .values(status="sending", claimed_at=now, attempts=NotificationDelivery.attempts + 1, updated_at=now,
                    log=_append_log("sending", now))
            .returning(NotificationDelivery.id)).scalar()
    _forget(delivery_id)
    return taken is not None


def _finish(delivery_id: uuid.UUID, status: str, error: str | None = None, provider_id: str | None = None) -> None:
    """Record the delivery's result (and its log entry) in its own committed transaction."""
    now = utcnow()
    values: dict[str, object] = {"status": status, "error": error, "updated_at": now,
                                 "log": _append_log(status, now, error)}
    if status == "sent":
        values["sent_at"] = now
    if provider_id:
        values["provider_id"] = provider_id[:200]
    with own_transaction() as session:
        session.execute(sa.update(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
                        .values(**values))
    _forget(delivery_id)


def _forget(delivery_id: uuid.UUID) -> None:
    """Expire the caller's loaded copy of the delivery, if any: it was changed on another connection."""
    loaded = db.session.identity_map.get(db.session.identity_key(NotificationDelivery, delivery_id))
    if loaded is not None:
        db.session.expire(loaded)


def _skip_reason(d: NotificationDelivery, n: Notification, now: datetime) -> str | None:
    """Why this delivery should not go out any more (checked just before sending), or ``None``."""
    if n.type == "new_message" and d.channel in {registry.EMAIL, registry.SMS}:
        conversation = n.subject_key.removeprefix("conversation:")
        if n.read_at is not None:
            return "read in the app"
        with _scope(n.tenant_id):
            if presence().is_online_in(n.user_id, conversation, n.tenant_id):
                return "online in the conversation"
            if presence().read_since(n.user_id, conversation, n.updated_at, n.tenant_id):
                return "read in the conversation"
    nt = registry.get(n.type)
    if not preferences.channel_enabled(n.user_id, n.type, d.channel, n.audience):
        return "turned off in preferences"
    if d.channel == registry.SMS and n.tenant_id is not None:
        with _scope(n.tenant_id):
            quota = sms_quota_reason(n.tenant_id, now)
        if quota:
            return quota
    if nt.is_marketing and not preferences.has_marketing_consent(n.user_id, n.tenant_id):
        return "no marketing consent"
    if d.channel == registry.EMAIL:
        user = db.session.get(User, n.user_id)
        if user is not None and not mailcap.take_send_slot(user.email):
            return mailcap.cap_reason()
    return None


@contextmanager
def _scope(tenant_id: uuid.UUID | None) -> Iterator[None]:
    """The tenant in scope for the block (nothing changes for ``None``)."""
    if tenant_id is None:
        yield
        return
    with tenant_scope(tenant_id):
        yield


def deliver_now(delivery_id: uuid.UUID) -> str:
    """Send one delivery once (needs an app context; claim and result commit on their own). Returns the final status, or
    ``already_<status>`` when it was not claimable (sent, skipped, or being sent elsewhere).

    Raises:
        DeliveryFailed: the channel failed; recorded as ``failed`` for the retry.
    """
    now = utcnow()
    if not _claim(delivery_id, now):
        status = db.session.scalar(sa.select(NotificationDelivery.status).where(NotificationDelivery.id == delivery_id))
        return f"already_{status}"
    d = db.session.get(NotificationDelivery, delivery_id)
    n = db.session.get(Notification, d.notification_id)
    user = db.session.get(User, d.user_id)
    reason = _skip_reason(d, n, now) if user is not None else "account removed"
    if reason is not None:
        _finish(delivery_id, "skipped", reason)
        return "skipped"
    try:
        provider_id = get_channel(d.channel).send(n, d, user)
    except Exception as exc:  # noqa: BLE001 - any channel failure (SMTP, push service, SMS provider) is recorded and retried
        error = f"{type(exc).__name__}: {exc}"[:2000]
        _finish(delivery_id, "failed", error)
        log.warning("notification delivery failed", extra={"delivery_id": str(delivery_id), "error": error})
        raise DeliveryFailed(error) from exc
    _finish(delivery_id, "sent", None, provider_id)
    return "sent"


def send_delivery(delivery_id: str) -> str:
    """Job: send one queued delivery (see :func:`deliver_now`); RQ retries it with backoff on failure."""
    return run_on_platform(deliver_now, uuid.UUID(delivery_id))


def requeue_stuck_deliveries(now: datetime | None = None, limit: int = 200) -> int:
    """Re-enqueue deliveries left ``queued`` (enqueue lost) or ``sending`` past the lease (worker
    died) for more than a minute past their time; returns how many. Ends the read's unit of work. For a periodic sweep."""
    now = now or utcnow()
    lease_cut = now - timedelta(seconds=lease_seconds())
    due = sa.func.coalesce(NotificationDelivery.not_before, NotificationDelivery.created_at)
    with unit_of_work():
        ids = list(db.session.scalars(sa.select(NotificationDelivery.id).where(sa.or_(
            sa.and_(NotificationDelivery.status == "queued", due < now - timedelta(minutes=1)),
            sa.and_(NotificationDelivery.status == "sending", NotificationDelivery.claimed_at < lease_cut)))
            .limit(limit)))
    return enqueue_deliveries((i, None) for i in ids)
