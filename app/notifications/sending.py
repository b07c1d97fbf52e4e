"""Sending one notification delivery once, through the one send path of
:mod:`app.delivery.pipeline` (claim under a lease, last-minute checks, the mail cap, send on
the channel, record the result with its history in ``log``).

The last-minute rules of a notification (:func:`skip_reason`): read meanwhile, online in the
conversation, preferences, the SMS allowance, marketing consent, and for a booking's email the
booking's state now (:mod:`app.notifications.booking_mail`). A worker that dies mid-send leaves
a lease that expires (``DELIVERY_LEASE_SECONDS``) and is taken over by the sweep's re-enqueue.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.billing.service import sms_quota_reason
from app.delivery.models import Delivery
from app.delivery.pipeline import Sent, lease_seconds, send_once
from app.delivery.smtp_session import header_text
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import run_on_platform
from app.notifications import booking_mail, preferences, registry
from app.notifications.center_models import Notification
from app.notifications.channels import get_channel
from app.notifications.channels.email import EmailChannel
from app.notifications.dispatch import enqueue_deliveries
from app.notifications.presence import presence
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from app.uow import unit_of_work

log = logging.getLogger("plaza.notifications")


def skip_reason(d: Delivery, n: Notification, now: datetime) -> str | None:
    """Why this delivery of notification ``n`` should not go out any more (checked just before
    sending), or ``None``. The mail cap is the pipeline's (:func:`app.delivery.pipeline.send_once`)."""
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
    if d.channel == registry.EMAIL and n.tenant_id is not None and booking_mail.about_booking(n):
        with _scope(n.tenant_id):
            return booking_mail.stale_reason(n, now)
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
    """Send one notification delivery once (needs an app context; claim and result commit on
    their own). Returns ``sent``, ``skipped``, or ``already_<status>`` when it was not claimable
    (sent, skipped, or being sent elsewhere).

    Raises:
        app.delivery.pipeline.DeliveryFailed: the channel failed; recorded as ``failed`` for the retry.
    """
    now = utcnow()

    def check(d: Delivery) -> str | None:
        n = db.session.get(Notification, d.notification_id) if d.notification_id else None
        user = db.session.get(User, d.user_id) if d.user_id else None
        if n is None or user is None:
            return "account removed"
        return skip_reason(d, n, now)

    def send(d: Delivery) -> Sent | str | None:
        n = db.session.get(Notification, d.notification_id)
        user = db.session.get(User, d.user_id)
        if d.channel == registry.EMAIL:  # the subject that went out goes in the log
            message = EmailChannel().send_message(n, user)
            return Sent(header_text(message, "Message-ID"), header_text(message, "Subject"))
        return get_channel(d.channel).send(n, d, user)

    return send_once(delivery_id, check, send)


def send_delivery(delivery_id: str) -> str:
    """Job: send one queued delivery (see :func:`deliver_now`); RQ retries it with backoff on failure."""
    return run_on_platform(deliver_now, uuid.UUID(delivery_id))


def requeue_stuck_deliveries(now: datetime | None = None, limit: int = 200) -> int:
    """Re-enqueue notification deliveries left ``queued`` (enqueue lost) or ``sending`` past the
    lease (worker died) for more than a minute past their time; returns how many. Ends the
    read's unit of work. For a periodic sweep (direct deliveries:
    :func:`app.notifications.tasks.reclaim_stale_deliveries`)."""
    now = now or utcnow()
    lease_cut = now - timedelta(seconds=lease_seconds())
    due = sa.func.coalesce(Delivery.not_before, Delivery.created_at)
    with unit_of_work():
        ids = list(db.session.scalars(sa.select(Delivery.id).where(Delivery.notification_id.is_not(None), sa.or_(
            sa.and_(Delivery.status == "queued", due < now - timedelta(minutes=1)),
            sa.and_(Delivery.status == "sending", Delivery.claimed_at < lease_cut)))
            .limit(limit)))
    return enqueue_deliveries((i, None) for i in ids)
