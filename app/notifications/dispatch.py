"""Notify one person: a notification in their center and one delivery row per enabled channel
(:class:`app.delivery.models.Delivery`: ``queued``, or ``skipped`` with the reason), then, once
the cause has committed, a :func:`app.notifications.sending.send_delivery` job per queued delivery.

A delivery's dedup key is ``notification:<notification id>:<channel>``, except the email of a
booking notification, which carries the booking email's own key (``email_key``, see
:func:`app.notifications.fanout.notify_booking`): the same key a guest's direct email has, so
the message goes out once whichever path sends it.

Smart rule for new messages: no email or SMS while the recipient is online in that
conversation, and they wait :data:`MESSAGE_EMAIL_DELAY` (10 minutes); the sender drops them if
by then the person read the notification in the app or read the conversation
(:mod:`app.notifications.presence`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from redis.exceptions import RedisError

from app.delivery.models import Delivery
from app.delivery.pipeline import log_entry
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import FAILURE_TTL, RESULT_TTL, enqueue, enqueue_at, get_queue, run_on_platform
from app.notifications import center, preferences, registry
from app.notifications.center_models import Notification, PushSubscription
from app.notifications.language import notice_locale, speaking
from app.notifications.presence import presence
from app.tenants.roles import acting_as
from app.timeutil import utcnow

log = logging.getLogger("plaza.notifications")

#: The job that sends one queued delivery.
SEND_DELIVERY_JOB = "app.notifications.sending.send_delivery"
#: The job that pushes a person's live unread badge.
PUSH_BADGE_JOB = "app.notifications.dispatch.push_badge_job"

#: How long a new-message email waits for the person to read it in the app first.
MESSAGE_EMAIL_DELAY = timedelta(minutes=10)


@dataclass
class Notified:
    """Result of :func:`notify`: the notification (``None`` when nothing happened), whether it
    was new, and the ids of the deliveries to send after the commit with their not-before time."""

    notification: Notification | None
    new: bool = False
    queued: list[tuple[uuid.UUID, datetime | None]] = field(default_factory=list)
    user_id: uuid.UUID | None = None
    notification_id: uuid.UUID | None = None


def dedup_key(notification_id: uuid.UUID, channel: str) -> str:
    """Dedup key of a notification's delivery on ``channel`` (when it has no key of its own)."""
    return f"notification:{notification_id}:{channel}"


def _delivery(n: Notification, channel: str, recipient: str, status: str, now: datetime,
              error: str | None = None, not_before: datetime | None = None, key: str | None = None) -> Delivery:
    d = Delivery(notification_id=n.id, user_id=n.user_id, tenant_id=n.tenant_id, channel=channel,
                 dedup_key=key or dedup_key(n.id, channel), recipient=recipient[:1000], subject=n.title[:250],
                 status=status, attempts=1 if status == "sent" else 0, error=error, not_before=not_before,
                 sent_at=now if status == "sent" else None, log=[log_entry(status, now, error)],
                 created_at=now, updated_at=now)
    db.session.add(d)
    return d


def _key_taken(tenant_id: uuid.UUID | None, key: str) -> bool:
    """True when delivery ``key`` of the business already exists (sent another way)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.tenant_id == tenant_id, Delivery.dedup_key == key)) > 0


def notify(*, user_id: uuid.UUID, type_key: str, audience: str, context: Mapping[str, object],
           tenant_id: uuid.UUID | None = None, subject_key: str = "", url: str = "",
           source_key: str | None = None, conversation_id: str | None = None,
           skip_channels: Iterable[str] = (), now: datetime | None = None,
           email_key: str | None = None) -> Notified:
    """Notify one person: a notification in their center plus a delivery per enabled channel.

    ``skip_channels`` are not used for this one (e.g. another path already emails it);
    ``email_key`` is the email delivery's dedup key (a booking email's, so it goes out once;
    nothing is queued when that key exists already). Flushes; the caller commits, then calls :func:`enqueue_deliveries`
    with ``queued``.

    Raises:
        registry.UnknownNotificationType, registry.MissingField: bad type or context.
    """
    # Written as the person it is for: on the tenant role their account-wide rows (consent,
    # an earlier notice to fold into) are visible only with app.user_id theirs.
    with acting_as(user_id), speaking(notice_locale(user_id, tenant_id, audience, subject_key)):  # in their language
        return _notify(user_id=user_id, type_key=type_key, audience=audience, context=context, tenant_id=tenant_id,
                       subject_key=subject_key, url=url, source_key=source_key, conversation_id=conversation_id,
                       skip_channels=skip_channels, now=now or utcnow(), email_key=email_key)


def _notify(*, user_id: uuid.UUID, type_key: str, audience: str, context: Mapping[str, object],
            tenant_id: uuid.UUID | None, subject_key: str, url: str, source_key: str | None,
            conversation_id: str | None, skip_channels: Iterable[str], now: datetime,
            email_key: str | None) -> Notified:
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return Notified(None)
    nt = registry.get(type_key)
    created = center.create_notification(user_id=user_id, type_key=type_key, audience=audience, context=context,
                                         tenant_id=tenant_id, subject_key=subject_key, url=url,
                                         source_key=source_key, now=now)
    n = created.notification
    if not created.new:
        return Notified(n, new=False, user_id=user_id, notification_id=n.id)  # folded into a recent one (or a repeat): nothing more goes out
    channels = preferences.enabled_channels(user_id, type_key, audience)
    skip = set(skip_channels)
    if nt.is_marketing and not preferences.has_marketing_consent(user_id, tenant_id):
        # No consent: nothing reaches the person; the log says why.
        n.archived_at = n.read_at = now
        for channel in channels:
            _delivery(n, channel, _address(user, channel)[0], "skipped", now, "no marketing consent")
        db.session.flush()
        return Notified(n, new=True, user_id=user_id, notification_id=n.id)
    if registry.INAPP in channels:
        _delivery(n, registry.INAPP, str(user_id), "sent", now)
    else:
        n.archived_at = n.read_at = now  # kept for the log, out of the inbox
    queued: list[Delivery] = []
    if email_key and registry.EMAIL in channels and registry.EMAIL not in skip and _key_taken(tenant_id, email_key):
        skip.add(registry.EMAIL)  # this email already went (or goes) out another way
    for channel in channels:
        if channel == registry.INAPP or channel in skip:
            continue
        key = email_key if channel == registry.EMAIL else None
        recipient, reason = _address(user, channel)
        not_before = None
        if reason is None and type_key == "new_message" and channel in {registry.EMAIL, registry.SMS}:
            if conversation_id and presence().is_online_in(user_id, conversation_id, tenant_id):
                reason = "online in the conversation"
            else:
                not_before = now + MESSAGE_EMAIL_DELAY
        if reason is not None:
            _delivery(n, channel, recipient, "skipped", now, reason, key=key)
        else:
            queued.append(_delivery(n, channel, recipient, "queued", now, not_before=not_before, key=key))
    db.session.flush()
    return Notified(n, new=True, queued=[(d.id, d.not_before) for d in queued], user_id=user_id,
                    notification_id=n.id)


def _address(user: User, channel: str) -> tuple[str, str | None]:
    """``(recipient, reason it cannot be reached or None)`` of ``user`` on ``channel``."""
    if channel == registry.EMAIL:
        return user.email, None if user.email else "no email address"
    if channel == registry.SMS:
        return user.phone or "", None if user.phone else "no phone number"
    if channel == registry.PUSH:
        n = db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.disabled_at.is_(None))) or 0
        return f"{n} device(s)", None if n else "no push subscription"
    return str(user.id), None


def enqueue_deliveries(queued: Iterable[tuple[uuid.UUID, datetime | None]]) -> int:
    """Enqueue a :func:`send_delivery` job per ``(delivery id, not before)``; call after the commit."""
    queue = get_queue()
    count = 0
    for delivery_id, not_before in queued:
        if not_before is not None and not_before > utcnow():
            enqueue_at(not_before, SEND_DELIVERY_JOB, str(delivery_id), queue=queue)
        else:
            enqueue(SEND_DELIVERY_JOB, str(delivery_id), queue=queue)
        count += 1
    return count


def after_commit(results: Iterable[Notified]) -> int:
    """Enqueue the queued deliveries and push the live badge of each person notified anew."""
    results = list(results)
    queued = [q for r in results for q in r.queued]
    count = enqueue_deliveries(queued)
    for r in results:
        if r.user_id is not None:
            center.push_badge(r.user_id, r.notification_id if r.new else None)
    return count


def notify_now(**kwargs: object) -> Notified:
    """Notify one person (arguments of :func:`notify`) from a request or job that commits
    right after: flushes now and enqueues the deliveries once the session commits.

    For account and billing events (password changed, new sign-in, staff invited…).
    """
    result = notify(**kwargs)  # type: ignore[arg-type]
    if result.user_id is not None:
        _enqueue_after_commit(result)
    return result


def _enqueue_after_commit(result: Notified) -> None:
    session = db.session()
    pending: list[Notified] = session.info.setdefault("plaza_notify_pending", [])
    pending.append(result)
    if session.info.get("plaza_notify_hooked"):
        return
    session.info["plaza_notify_hooked"] = True

    @sa.event.listens_for(session, "after_commit", once=True)
    def _go(sess) -> None:
        items = sess.info.pop("plaza_notify_pending", [])
        sess.info.pop("plaza_notify_hooked", None)
        try:
            enqueue_deliveries([q for r in items for q in r.queued])
            queue = get_queue()
            for r in items:
                if r.user_id is not None:
                    queue.enqueue(PUSH_BADGE_JOB, str(r.user_id),
                                  str(r.notification_id) if r.new and r.notification_id else None,
                                  result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
        except RedisError:  # the sweep re-enqueues queued deliveries
            log.warning("could not enqueue notification deliveries", exc_info=True)

    @sa.event.listens_for(session, "after_rollback", once=True)
    def _drop(sess) -> None:
        sess.info.pop("plaza_notify_pending", None)
        sess.info.pop("plaza_notify_hooked", None)


def push_badge_job(user_id: str, notification_id: str | None = None) -> bool:
    """Job: push the person's live unread badge (after a commit that notified them)."""
    return run_on_platform(center.push_badge, uuid.UUID(user_id),
                                 uuid.UUID(notification_id) if notification_id else None)
