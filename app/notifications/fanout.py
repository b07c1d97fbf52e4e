"""Smart fan-out: from something that happened (an outbox event, an account event, a chat
message) to notifications in people's centers and deliveries on the channels they chose.

Flow, all after the cause committed:

1. The outbox relay enqueues :func:`fanout_event` for every event (``tenant id, event id``).
2. :func:`fanout_event` works out the notification types and audiences (the registry), the
   people (the booking's customer when they have an account; the business's owners and
   managers and the staff member the booking is with), and calls :func:`notify` for each.
3. :func:`notify` puts one notification in the person's center (folding a repeat of the same
   type and subject inside the dedup window; a source already seen notifies nobody again)
   and writes one ``notification_delivery`` row per enabled channel (``queued``, or
   ``skipped`` with the reason), committed with the notification.
4. After the commit each queued delivery gets a :func:`send_delivery` job (RQ retry with
   backoff); the job claims the row (once), applies the last-minute rules, sends, and
   records ``sent`` or ``failed`` with the error.

Smart rule for new messages: no email while the recipient is online in that conversation,
and the email waits :data:`MESSAGE_EMAIL_DELAY` (10 minutes); it is dropped if by then the
person read the notification in the app or read the conversation. Presence and read state
come from a :class:`PresenceSource` (the chat module's when present).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import JSONB

from app.config import settings_str
from app.extensions import db
from app.identity.models import User
from app.notifications import center, mailcap, preferences, registry
from app.notifications.center_models import Notification, NotificationDelivery, PushSubscription
from app.tenants.roles import acting_as, on_tenant_role, platform_read
from app.timeutil import utcnow

log = logging.getLogger("plaza.notifications")

FANOUT = "app.notifications.fanout"
#: How long a new-message email waits for the person to read it in the app first.
MESSAGE_EMAIL_DELAY = timedelta(minutes=10)


class DeliveryFailed(Exception):
    """A channel could not deliver; recorded as ``failed`` and retried by RQ."""


# --- presence ------------------------------------------------------------------------------


class PresenceSource(Protocol):
    """Where the fan-out learns whether someone is engaged with a conversation.

    ``tenant_id`` is the conversation's business (``None`` for platform conversations); the
    tenant is in scope when these are called.
    """

    def is_online_in(self, user_id: uuid.UUID, conversation_id: str, tenant_id: uuid.UUID | None = None) -> bool:
        """True while the person has the conversation open (a live socket in it)."""

    def read_since(self, user_id: uuid.UUID, conversation_id: str, since: datetime,
                   tenant_id: uuid.UUID | None = None) -> bool:
        """True when the person has read the conversation's messages up to ``since``."""


class ChatPresence:
    """Presence and read receipts from the chat module (:mod:`app.chat`, :mod:`app.realtime`):
    the person's participant in the conversation is online when
    :func:`app.realtime.presence.online` lists it, and has read up to ``since`` when its
    ``last_read_seq`` covers the last message sent at or before ``since``. Without the chat
    module (or on any lookup error) nobody counts as online or as having read.
    """

    def _participant(self, user_id: uuid.UUID, conversation_id: str):
        """The person's participant row: theirs by account, else (the booking's customer who
        opened the chat by the manage link, not logged in) the customer participant."""
        from app.chat import service as chat
        from app.chat.models import Participant

        cid = uuid.UUID(str(conversation_id))
        found = db.session.scalar(sa.select(Participant).where(
            Participant.conversation_id == cid, Participant.user_id == user_id).limit(1))
        if found is not None:
            return found
        conv = chat.get_conversation(cid)
        customer_id = chat.booking_customer_id(conv) if conv is not None else None
        if customer_id is None or customer_user_id(customer_id) != user_id:
            return None
        return db.session.scalar(sa.select(Participant).where(
            Participant.conversation_id == cid, Participant.role == chat.CUSTOMER,
            Participant.customer_id == customer_id))

    def is_online_in(self, user_id: uuid.UUID, conversation_id: str, tenant_id: uuid.UUID | None = None) -> bool:
        """See :class:`PresenceSource`."""
        if tenant_id is None:
            return False
        try:
            from app.realtime import presence as chat_presence
            from app.redis_client import get_redis

            participant = self._participant(user_id, conversation_id)
            return participant is not None and str(participant.id) in chat_presence.online(
                get_redis(), tenant_id, conversation_id)
        except Exception:  # noqa: BLE001 - optional module; presence is best effort
            log.warning("presence lookup failed", exc_info=True)
            return False

    def read_since(self, user_id: uuid.UUID, conversation_id: str, since: datetime,
                   tenant_id: uuid.UUID | None = None) -> bool:
        """See :class:`PresenceSource`."""
        if tenant_id is None:
            return False
        try:
            from app.chat.models import Message

            participant = self._participant(user_id, conversation_id)
            if participant is None:
                return False
            last = db.session.scalar(sa.select(sa.func.max(Message.seq)).where(
                Message.conversation_id == participant.conversation_id, Message.created_at <= since))
            return last is not None and participant.last_read_seq >= last
        except Exception:  # noqa: BLE001
            log.warning("read-receipt lookup failed", exc_info=True)
            return False


_presence: PresenceSource = ChatPresence()


def set_presence_source(source: PresenceSource) -> PresenceSource:
    """Use ``source`` for presence from now on; returns the previous one (tests restore it)."""
    global _presence
    previous, _presence = _presence, source
    return previous


def presence() -> PresenceSource:
    """The presence source in use."""
    return _presence


# --- notify --------------------------------------------------------------------------------


@dataclass
class Notified:
    """Result of :func:`notify`: the notification (``None`` when nothing happened), whether it
    was new, and the ids of the deliveries to send after the commit with their not-before time."""

    notification: Notification | None
    new: bool = False
    queued: list[tuple[uuid.UUID, datetime | None]] = field(default_factory=list)
    user_id: uuid.UUID | None = None
    notification_id: uuid.UUID | None = None


def _log_entry(status: str, at: datetime, error: str | None = None) -> dict[str, str | None]:
    return {"at": at.isoformat(), "status": status, "error": error}


def _delivery(n: Notification, channel: str, recipient: str, status: str, now: datetime,
              error: str | None = None, not_before: datetime | None = None) -> NotificationDelivery:
    d = NotificationDelivery(notification_id=n.id, user_id=n.user_id, tenant_id=n.tenant_id, channel=channel,
                             recipient=recipient[:1000], status=status, attempts=1 if status == "sent" else 0,
                             error=error, not_before=not_before, sent_at=now if status == "sent" else None,
                             log=[_log_entry(status, now, error)], created_at=now, updated_at=now)
    db.session.add(d)
    return d


def notify(*, user_id: uuid.UUID, type_key: str, audience: str, context: Mapping[str, object],
           tenant_id: uuid.UUID | None = None, subject_key: str = "", url: str = "",
           source_key: str | None = None, conversation_id: str | None = None,
           skip_channels: Iterable[str] = (), now: datetime | None = None) -> Notified:
    """Notify one person: a notification in their center plus a delivery per enabled channel.

    ``skip_channels`` are handled elsewhere (the booking-email path sends those emails).
    Flushes; the caller commits, then calls :func:`enqueue_deliveries` with ``queued``.

    Raises:
        registry.UnknownNotificationType, registry.MissingField: bad type or context.
    """
    # Written as the person it is for: on the tenant role their account-wide rows (consent,
    # an earlier notice to fold into) are visible only with app.user_id theirs.
    with acting_as(user_id):
        return _notify(user_id=user_id, type_key=type_key, audience=audience, context=context, tenant_id=tenant_id,
                       subject_key=subject_key, url=url, source_key=source_key, conversation_id=conversation_id,
                       skip_channels=skip_channels, now=now or utcnow())


def _notify(*, user_id: uuid.UUID, type_key: str, audience: str, context: Mapping[str, object],
            tenant_id: uuid.UUID | None, subject_key: str, url: str, source_key: str | None,
            conversation_id: str | None, skip_channels: Iterable[str], now: datetime) -> Notified:
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
    queued: list[NotificationDelivery] = []
    for channel in channels:
        if channel == registry.INAPP or channel in skip:
            continue
        recipient, reason = _address(user, channel)
        not_before = None
        if reason is None and type_key == "new_message" and channel in {registry.EMAIL, registry.SMS}:
            if conversation_id and _presence.is_online_in(user_id, conversation_id, tenant_id):
                reason = "online in the conversation"
            else:
                not_before = now + MESSAGE_EMAIL_DELAY
        if reason is not None:
            _delivery(n, channel, recipient, "skipped", now, reason)
        else:
            queued.append(_delivery(n, channel, recipient, "queued", now, not_before=not_before))
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


# --- booking events -----------------------------------------------------------------------


def customer_user_id(customer_id: uuid.UUID) -> uuid.UUID | None:
    """The account of a booking's customer: the linked one, else a verified account with the
    same email; ``None`` for a guest. Needs the tenant in scope."""
    from app.booking.models import Customer

    customer = db.session.scalar(sa.select(Customer).where(Customer.id == customer_id))
    if customer is None:
        return None
    if customer.user_id is not None:
        return customer.user_id
    return db.session.scalar(sa.select(User.id).where(User.email == customer.email,
                                                      User.email_verified_at.is_not(None)))


def staff_user_ids(staff_id: uuid.UUID | None) -> list[uuid.UUID]:
    """Accounts told about a booking with ``staff_id``: owners, managers and that staff member
    (by membership), in a stable order. Needs the tenant in scope."""
    from app.tenants.models import Membership, Role

    rows = db.session.execute(sa.select(Membership.user_id, Membership.role, Membership.staff_member_id)
                              .order_by(Membership.created_at))
    out: list[uuid.UUID] = []
    for user_id, role, staff_member_id in rows:
        keep = role in {Role.OWNER.value, Role.MANAGER.value} or (
            role == Role.STAFF.value and staff_id is not None and staff_member_id == staff_id)
        if keep and user_id not in out:
            out.append(user_id)
    return out


def _booking_context(facts, audience: str, previous_start: datetime | None) -> dict[str, str]:
    from app.notifications.emails import local

    tz = facts.customer_timezone if audience == "customer" else facts.business_timezone
    return {
        "service": facts.service_name, "business": facts.business_name, "staff": facts.staff_name,
        "customer": facts.customer_name, "when": local(facts.starts_at, tz), "time": local(facts.starts_at, tz, "%H:%M"),
        "previous_when": local(previous_start, tz) if previous_start else "",
        "reason": (f"Reason: {facts.cancel_reason}" if facts.cancel_reason else ""),
    }


def notify_booking(event_id: str, kind: str, payload: Mapping[str, object], now: datetime | None = None,
                   type_audiences: list[tuple[str, tuple[str, ...]]] | None = None,
                   skip_email: bool = False) -> list[Notified]:
    """Fan a booking event out to its audiences (tenant in scope); flushes.

    ``type_audiences`` overrides the registry mapping (reminders pass their own);
    ``skip_email`` when another path already emails everyone about it. A payload ``amount``
    (minor units of the booking's currency) becomes the ``amount`` field.
    """
    from app.booking.models import Booking
    from app.notifications.service import load_booking_facts

    booking_id = uuid.UUID(str(payload["booking_id"]))
    pairs = type_audiences if type_audiences is not None else registry.types_for_booking_event(
        kind, payload.get("actor"))  # type: ignore[arg-type]
    if not pairs:
        return []
    facts = load_booking_facts(booking_id)
    if facts is None:
        return []
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
    previous = payload.get("previous_start")
    previous_start = datetime.fromisoformat(str(previous)) if previous else None
    results: list[Notified] = []
    for type_key, audiences in pairs:
        nt = registry.get(type_key)
        for audience in audiences:
            if audience == "customer":
                uid = customer_user_id(booking.customer_id) if booking else None
                people = [uid] if uid else []
                url = facts.manage_url
            else:
                people = staff_user_ids(booking.staff_id if booking else None)
                url = facts.business_url.rstrip("/") + f"/dashboard/bookings/{booking_id}"
            ctx = _booking_context(facts, audience, previous_start)
            if payload.get("amount") is not None:
                from app.formatting import format_money

                ctx["amount"] = format_money(int(payload["amount"]), facts.currency)  # type: ignore[arg-type]
            if (kind in MONEY_BOOKING_TYPES or kind in STAFF_MONEY_TYPES) and payload.get("reason"):
                ctx["reason"] = str(payload["reason"])
            skip = {registry.EMAIL} if skip_email or audience in nt.legacy_email else set()
            for uid in people:
                results.append(notify(user_id=uid, type_key=type_key, audience=audience, context=ctx,
                                      tenant_id=facts.tenant_id, subject_key=f"booking:{booking_id}", url=url,
                                      source_key=f"event:{event_id}:{type_key}", skip_channels=skip, now=now))
    return results


def notify_new_message(*, tenant_id: uuid.UUID | None, conversation_id: str, message_id: str, sender_name: str,
                       preview: str, recipient_user_ids: Iterable[uuid.UUID], url: str = "",
                       urls: Mapping[uuid.UUID, str] | None = None, now: datetime | None = None) -> list[Notified]:
    """Notify the accounts ``recipient_user_ids`` about a new message in a conversation; flushes.

    Each person's link (the email's "Reply:" line, the push and the center's target) is
    ``urls[user_id]`` (see :func:`app.notifications.chat_messages.recipient_urls`), else ``url``.
    Repeats within the dedup window fold into one notification per conversation; the email
    waits :data:`MESSAGE_EMAIL_DELAY` and is not sent to someone online in the conversation.
    """
    results = []
    for uid in recipient_user_ids:
        results.append(notify(user_id=uid, type_key="new_message", audience="participant",
                              context={"sender": sender_name, "preview": preview[:280]}, tenant_id=tenant_id,
                              subject_key=f"conversation:{conversation_id}", url=(urls or {}).get(uid) or url,
                              source_key=f"message:{message_id}", conversation_id=conversation_id, now=now))
    return results


# --- jobs -----------------------------------------------------------------------------------


def enqueue_deliveries(queued: Iterable[tuple[uuid.UUID, datetime | None]]) -> int:
    """Enqueue a :func:`send_delivery` job per ``(delivery id, not before)``; call after the commit."""
    from app.notifications import tasks

    queue = tasks.get_queue()
    count = 0
    for delivery_id, not_before in queued:
        kwargs = {"retry": tasks._retry(), "result_ttl": tasks.RESULT_TTL, "failure_ttl": tasks.FAILURE_TTL}
        if not_before is not None and not_before > utcnow():
            queue.enqueue_at(not_before, f"{FANOUT}.send_delivery", str(delivery_id), **kwargs)
        else:
            queue.enqueue(f"{FANOUT}.send_delivery", str(delivery_id), **kwargs)
        count += 1
    return count


def _after_commit(results: Iterable[Notified]) -> int:
    """Enqueue the queued deliveries and push the live badge of each person notified anew."""
    results = list(results)
    queued = [q for r in results for q in r.queued]
    count = enqueue_deliveries(queued)
    for r in results:
        if r.user_id is not None:
            center.push_badge(r.user_id, r.notification_id if r.new else None)
    return count


#: Money outbox events about a booking (written by :mod:`app.payments.service`) -> the
#: customer's notification type.
MONEY_BOOKING_TYPES: dict[str, str] = {"payment.received": "payment_received", "payment.failed": "payment_failed",
                                       "refund.issued": "refund_issued"}
#: Money outbox events about a booking that staff must act on -> their notification type.
STAFF_MONEY_TYPES: dict[str, str] = {"fee.uncollected": "fee_uncollected"}
#: Subscription outbox events (written by :mod:`app.billing.service`) -> the owners' notification type.
SUBSCRIPTION_TYPES: dict[str, str] = {"subscription.past_due": "subscription_past_due",
                                      "subscription.recovered": "subscription_recovered",
                                      "subscription.trial_ending": "trial_ending"}

#: Subscription events the billing webhook path already emails (dunning per failed attempt,
#: "payment received" on recovery): the fan-out adds the center / push side only.
BILLING_EMAILED = frozenset({"subscription.past_due", "subscription.recovered"})


def owner_user_ids() -> list[uuid.UUID]:
    """Accounts of the business's owners (by membership), in a stable order. Tenant in scope."""
    from app.tenants.models import Membership, Role

    ids = db.session.scalars(sa.select(Membership.user_id).where(Membership.role == Role.OWNER.value)
                             .order_by(Membership.created_at))
    return list(dict.fromkeys(ids))


def notify_owners(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID,
                  now: datetime | None = None) -> list[Notified]:
    """Fan a subscription event (:data:`SUBSCRIPTION_TYPES`) out to the business's owners
    (tenant in scope); flushes. Payload: ``amount`` (minor units) and ``currency`` of the
    invoice, or ``trial_end`` (ISO 8601). Once per event and owner; no email for
    :data:`BILLING_EMAILED` (the billing path sends it)."""
    from app.formatting import format_money
    from app.notifications.emails import local
    from app.tenants.models import Tenant
    from app.tenants.urls import tenant_url

    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return []
    type_key = SUBSCRIPTION_TYPES[kind]
    ctx: dict[str, str] = {"business": tenant.name, "amount": "", "date": ""}
    if payload.get("amount") is not None:
        ctx["amount"] = format_money(int(payload["amount"]), str(payload.get("currency") or "USD"))  # type: ignore[arg-type]
    if payload.get("trial_end"):
        ctx["date"] = local(datetime.fromisoformat(str(payload["trial_end"])), tenant.timezone or "UTC", "%d %b %Y")
    url = tenant_url(tenant, "/dashboard/billing")
    skip = {registry.EMAIL} if kind in BILLING_EMAILED else set()
    return [notify(user_id=uid, type_key=type_key, audience="owner", context=ctx, tenant_id=tenant_id,
                   subject_key=f"subscription:{payload.get('subscription') or ''}", url=url,
                   source_key=f"event:{event_id}:{type_key}", skip_channels=skip, now=now)
            for uid in owner_user_ids()]


def fanout_event(tenant_id: str, event_id: str) -> int:
    """Job: notify the people an outbox event concerns; returns how many deliveries were queued.

    Booking events (``booking.*``), money events (:data:`MONEY_BOOKING_TYPES` to the booking's
    customer, :data:`SUBSCRIPTION_TYPES` to the business's owners) and chat messages (``chat.message_created`` with
    ``conversation_id``, ``message_id``, ``sender_name``, ``preview``, ``recipient_user_ids``,
    ``url``), and business announcements (:data:`ANNOUNCEMENT`). Idempotent: a second run for
    the same event notifies nobody again.
    """
    from app.notifications import tasks

    def run() -> list[Notified]:
        from app.notifications.models import OutboxEvent

        event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.id == uuid.UUID(event_id)))
        if event is None:
            return []
        payload = event.payload or {}
        if event.kind.startswith("booking.") and payload.get("booking_id"):
            return notify_booking(event_id, event.kind, payload)
        if event.kind == "payment.late_refund" and payload.get("booking_id"):
            # The payments path emails the customer about it; this adds the center / push side.
            return notify_booking(event_id, event.kind, payload, type_audiences=[("refund_issued", ("customer",))],
                                  skip_email=True)
        if event.kind in MONEY_BOOKING_TYPES and payload.get("booking_id"):
            return notify_booking(event_id, event.kind, payload,
                                  type_audiences=[(MONEY_BOOKING_TYPES[event.kind], ("customer",))])
        if event.kind in STAFF_MONEY_TYPES and payload.get("booking_id"):
            return notify_booking(event_id, event.kind, payload,
                                  type_audiences=[(STAFF_MONEY_TYPES[event.kind], ("staff",))])
        if event.kind in SUBSCRIPTION_TYPES:
            return notify_owners(event_id, event.kind, payload, event.tenant_id)
        if event.kind == "chat.message_created":
            return _notify_chat_message(event.tenant_id, payload)
        if event.kind == ANNOUNCEMENT:
            return announce(event.tenant_id, str(payload.get("business") or ""), str(payload.get("headline") or ""),
                            str(payload.get("message") or ""), str(payload.get("url") or ""), event_id)
        return []

    try:
        results = tasks.run_in_tenant(tenant_id, run)
    except center.ConcurrentDuplicate:
        return 0
    return tasks.run_on_platform(_after_commit, results)


def _notify_chat_message(tenant_id: uuid.UUID, payload: Mapping[str, object]) -> list[Notified]:
    """A ``chat.message_created`` event: notify the recipient accounts, each with their own
    link (a payload ``url`` is the fallback), and, when staff wrote to a booking's guest
    customer, schedule the guest's email (:mod:`app.notifications.chat_messages`). Tenant in scope."""
    from app.notifications import chat_messages

    facts = _chat_facts(payload)
    if facts is None:
        return []
    conversation_id = str(facts["conversation_id"])
    recipients: list[uuid.UUID] = facts["recipient_user_ids"]  # type: ignore[assignment]
    urls = chat_messages.recipient_urls(conversation_id, recipients)
    author_role = str(facts.pop("author_role", "") or "")
    results = notify_new_message(tenant_id=tenant_id, urls=urls, **facts)  # type: ignore[arg-type]
    if chat_messages.guest_to_email(conversation_id, author_role):
        chat_messages.schedule_guest_email(tenant_id, conversation_id, str(facts["message_id"]))
    return results


def _chat_facts(payload: Mapping[str, object]) -> dict[str, object] | None:
    """Arguments of :func:`notify_new_message` from a ``chat.message_created`` payload, plus
    ``author_role``.

    The payload may carry everything (``conversation_id``, ``message_id``, ``sender_name``,
    ``preview``, ``recipient_user_ids``, ``author_role``, ``url``) or just
    ``conversation_id`` and ``message_id``, the rest then read from the chat tables
    (recipients: :func:`app.chat.service.recipients`). Tenant in scope. ``None`` when the
    message is gone.
    """
    conversation_id = str(payload["conversation_id"])
    facts: dict[str, object] = {
        "conversation_id": conversation_id, "message_id": str(payload.get("message_id") or ""),
        "sender_name": str(payload.get("sender_name") or ""), "preview": str(payload.get("preview") or ""),
        "url": str(payload.get("url") or ""),
        "recipient_user_ids": [uuid.UUID(str(u)) for u in payload.get("recipient_user_ids") or []],  # type: ignore[union-attr]
    }
    facts["author_role"] = str(payload.get("author_role") or "")
    if "recipient_user_ids" in payload:
        return facts
    from app.chat import service as chat
    from app.chat.models import Message, Participant

    msg = db.session.scalar(sa.select(Message).where(Message.id == uuid.UUID(str(facts["message_id"]))))
    author = msg and db.session.scalar(sa.select(Participant).where(Participant.id == msg.author_participant_id))
    conv = msg and chat.get_conversation(msg.conversation_id)
    if msg is None or author is None or conv is None:
        return None
    facts["sender_name"] = facts["sender_name"] or msg.author_name
    facts["preview"] = facts["preview"] or msg.body
    facts["author_role"] = msg.author_role
    facts["recipient_user_ids"] = chat.recipients(conv, author)
    return facts


def notify_reminder(tenant_id: str, booking_id: str, which: str, starts_at_iso: str) -> int:
    """Job: the in-app / push / SMS side of reminder ``which`` (``24h``/``2h``) of a booking
    (its email goes out through the reminder path); once per booking start."""
    from app.notifications import tasks

    type_key = f"booking_reminder_{which}"

    def run() -> list[Notified]:
        return notify_booking(f"reminder:{starts_at_iso}", "reminder", {"booking_id": booking_id},
                              type_audiences=[(type_key, ("customer",))])

    try:
        results = tasks.run_in_tenant(tenant_id, run)
    except center.ConcurrentDuplicate:
        return 0
    return tasks.run_on_platform(_after_commit, results)


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
            from app.notifications import tasks

            queue = tasks.get_queue()
            for r in items:
                if r.user_id is not None:
                    queue.enqueue(f"{FANOUT}.push_badge_job", str(r.user_id),
                                  str(r.notification_id) if r.new and r.notification_id else None,
                                  result_ttl=tasks.RESULT_TTL, failure_ttl=tasks.FAILURE_TTL)
        except Exception:  # noqa: BLE001 - the sweep re-enqueues queued deliveries
            log.warning("could not enqueue notification deliveries", exc_info=True)

    @sa.event.listens_for(session, "after_rollback", once=True)
    def _drop(sess) -> None:
        sess.info.pop("plaza_notify_pending", None)
        sess.info.pop("plaza_notify_hooked", None)


def push_badge_job(user_id: str, notification_id: str | None = None) -> bool:
    """Job: push the person's live unread badge (after a commit that notified them)."""
    from app.notifications import tasks

    return tasks.run_on_platform(center.push_badge, uuid.UUID(user_id),
                                 uuid.UUID(notification_id) if notification_id else None)


# --- sending ------------------------------------------------------------------------------


def lease_seconds() -> int:
    """Seconds a ``sending`` claim is honoured (``DELIVERY_LEASE_SECONDS``, default 300)."""
    raw = current_app.config.get("DELIVERY_LEASE_SECONDS") or settings_str("DELIVERY_LEASE_SECONDS")
    return int(raw) if raw else 300


def _append_log(status: str, now: datetime, error: str | None = None) -> sa.ColumnElement:
    return NotificationDelivery.log.op("||")(sa.cast(sa.func.jsonb_build_array(sa.func.jsonb_build_object(
        "at", now.isoformat(), "status", status, "error", error)), JSONB))


def _claim(delivery_id: uuid.UUID, now: datetime) -> bool:
    """Take the delivery for sending (committed): only from ``queued``/``failed`` or an expired lease."""
    lease_cut = now - timedelta(seconds=lease_seconds())
    taken = db.session.execute(
        sa.update(NotificationDelivery)
        .where(NotificationDelivery.id == delivery_id,
               sa.or_(NotificationDelivery.status.in_(("queued", "failed")),
                      sa.and_(NotificationDelivery.status == "sending", NotificationDelivery.claimed_at < lease_cut)))
        .values(status="sending", claimed_at=now, attempts=NotificationDelivery.attempts + 1, updated_at=now,
                log=_append_log("sending", now))
        .returning(NotificationDelivery.id)).scalar()
    db.session.commit()
    return taken is not None


def _finish(delivery_id: uuid.UUID, status: str, error: str | None = None, provider_id: str | None = None) -> None:
    now = utcnow()
    values: dict[str, object] = {"status": status, "error": error, "updated_at": now,
                                 "log": _append_log(status, now, error)}
    if status == "sent":
        values["sent_at"] = now
    if provider_id:
        values["provider_id"] = provider_id[:200]
    db.session.execute(sa.update(NotificationDelivery).where(NotificationDelivery.id == delivery_id).values(**values))
    db.session.commit()


def _skip_reason(d: NotificationDelivery, n: Notification, now: datetime) -> str | None:
    """Why this delivery should not go out any more (checked just before sending), or ``None``."""
    if n.type == "new_message" and d.channel in {registry.EMAIL, registry.SMS}:
        conversation = n.subject_key.removeprefix("conversation:")
        if n.read_at is not None:
            return "read in the app"
        with _scope(n.tenant_id):
            if _presence.is_online_in(n.user_id, conversation, n.tenant_id):
                return "online in the conversation"
            if _presence.read_since(n.user_id, conversation, n.updated_at, n.tenant_id):
                return "read in the conversation"
    nt = registry.get(n.type)
    if not preferences.channel_enabled(n.user_id, n.type, d.channel, n.audience):
        return "turned off in preferences"
    if d.channel == registry.SMS and n.tenant_id is not None:
        from app.billing.service import sms_quota_reason

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
    from app.tenants.context import tenant_scope

    with tenant_scope(tenant_id):
        yield


def deliver_now(delivery_id: uuid.UUID) -> str:
    """Send one delivery once (needs an app context; commits). Returns the final status, or
    ``already_<status>`` when it was not claimable (sent, skipped, or being sent elsewhere).

    Raises:
        DeliveryFailed: the channel failed; recorded as ``failed`` for the retry.
    """
    from app.notifications.channels import get_channel

    now = utcnow()
    if not _claim(delivery_id, now):
        status = db.session.scalar(sa.select(NotificationDelivery.status).where(NotificationDelivery.id == delivery_id))
        db.session.commit()
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
    except Exception as exc:
        db.session.rollback()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        _finish(delivery_id, "failed", error)
        log.warning("notification delivery failed", extra={"delivery_id": str(delivery_id), "error": error})
        raise DeliveryFailed(error) from exc
    _finish(delivery_id, "sent", None, provider_id)
    return "sent"


def send_delivery(delivery_id: str) -> str:
    """Job: send one queued delivery (see :func:`deliver_now`); RQ retries it with backoff on failure."""
    from app.notifications import tasks

    return tasks.run_on_platform(deliver_now, uuid.UUID(delivery_id))


def requeue_stuck_deliveries(now: datetime | None = None, limit: int = 200) -> int:
    """Re-enqueue deliveries left ``queued`` (enqueue lost) or ``sending`` past the lease (worker
    died) for more than a minute past their time; returns how many. Commits. For a periodic sweep."""
    now = now or utcnow()
    lease_cut = now - timedelta(seconds=lease_seconds())
    due = sa.func.coalesce(NotificationDelivery.not_before, NotificationDelivery.created_at)
    ids = list(db.session.scalars(sa.select(NotificationDelivery.id).where(sa.or_(
        sa.and_(NotificationDelivery.status == "queued", due < now - timedelta(minutes=1)),
        sa.and_(NotificationDelivery.status == "sending", NotificationDelivery.claimed_at < lease_cut))).limit(limit)))
    db.session.commit()
    return enqueue_deliveries((i, None) for i in ids)


# --- the booking-email path asks here -------------------------------------------------------

#: Booking email kind (customer side) -> notification type.
LEGACY_CUSTOMER_TYPES: dict[str, str] = {
    "confirmed": "booking_confirmed", "requested": "booking_requested", "changed": "booking_rescheduled",
    "declined": "booking_declined", "expired": "hold_expired", "reminder24h": "booking_reminder_24h",
    "reminder2h": "booking_reminder_2h",
}
#: Staff booking email kind -> notification type.
LEGACY_STAFF_TYPES: dict[str, str] = {"new": "booking_confirmed", "request": "booking_requested",
                                      "cancelled": "booking_cancelled_by_customer"}


def legacy_email_wanted(facts, kind: str, staff: bool = False) -> bool:
    """Whether the booking-email path should send email ``kind`` for the booking in ``facts``
    (tenant in scope): always to a guest; to an account holder unless they switched email
    off for the matching type. ``staff`` for the staff emails (matched by the staff email's account)."""
    if staff:
        type_key, audience = LEGACY_STAFF_TYPES.get(kind), "staff"
        email = facts.staff_email
    else:
        type_key, audience = LEGACY_CUSTOMER_TYPES.get(kind), "customer"
        if kind == "cancelled":
            type_key = ("booking_cancelled_by_customer" if facts.cancelled_by == "customer"
                        else "booking_cancelled_by_business")
        email = facts.customer_email
    if not type_key or not email:
        return True
    user_id = db.session.scalar(sa.select(User.id).where(User.email == email.lower()))
    if user_id is None:
        return True
    return preferences.channel_enabled(user_id, type_key, registry.EMAIL, audience)


# --- announcements (marketing) -------------------------------------------------------------


def announcement_audience(tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """Accounts of the business's customers (tenant in scope) who currently consent to
    marketing, platform-wide or from this business."""
    from app.booking.models import Customer
    from app.notifications.center_models import MarketingConsent

    linked = sa.select(Customer.user_id).where(Customer.user_id.is_not(None))
    by_email = sa.select(User.id).join(Customer, Customer.email == User.email).where(
        User.email_verified_at.is_not(None))
    customers = list(db.session.scalars(sa.select(User.id).where(
        sa.or_(User.id.in_(linked), User.id.in_(by_email)), User.suspended_at.is_(None)).order_by(User.id)))
    if not customers:
        return []
    live = MarketingConsent.withdrawn_at.is_(None), MarketingConsent.user_id.in_(customers)
    consenting = set(db.session.scalars(sa.select(MarketingConsent.user_id).where(
        *live, sa.or_(MarketingConsent.tenant_id.is_(None), MarketingConsent.tenant_id == tenant_id))))
    if on_tenant_role():  # which customers consented platform-wide: not the tenant role's to read
        with platform_read("platform-wide marketing consents of a business's customers") as conn:
            consenting |= set(conn.scalars(sa.select(MarketingConsent.user_id).where(
                *live, MarketingConsent.tenant_id.is_(None))))
    return [uid for uid in customers if uid in consenting]


def announce(tenant_id: uuid.UUID, business: str, headline: str, message: str, url: str,
             announcement_id: str, now: datetime | None = None) -> list[Notified]:
    """Send a business announcement to every consenting customer (tenant in scope); flushes.
    ``announcement_id`` makes a repeated run notify nobody twice."""
    ctx = {"business": business, "headline": headline, "message": message}
    return [notify(user_id=uid, type_key="business_announcement", audience="customer", context=ctx,
                   tenant_id=tenant_id, subject_key=f"announcement:{announcement_id}", url=url,
                   source_key=f"announcement:{announcement_id}", now=now)
            for uid in announcement_audience(tenant_id)]


def announce_job(tenant_id: str, business: str, headline: str, message: str, url: str, announcement_id: str) -> int:
    """Job: :func:`announce`, then queue the deliveries; returns how many were queued."""
    from app.notifications import tasks

    try:
        results = tasks.run_in_tenant(tenant_id, announce, uuid.UUID(tenant_id), business, headline, message, url,
                                      announcement_id)
    except center.ConcurrentDuplicate:
        return 0
    return tasks.run_on_platform(_after_commit, results)


#: Outbox event of a business announcement (payload: ``business``, ``headline``, ``message``, ``url``).
ANNOUNCEMENT = "announcement.created"


def record_announcement(business: str, headline: str, message: str, url: str) -> str:
    """Write an :data:`ANNOUNCEMENT` outbox event for the business in scope; flushes, the caller
    commits. Once committed, the relay hands it to :func:`fanout_event`, which sends it to
    every consenting customer once (:func:`announce`, keyed by the event id). Returns the
    event id (the announcement id)."""
    from app.notifications.models import OutboxEvent

    event = OutboxEvent(kind=ANNOUNCEMENT, payload={"business": business, "headline": headline,
                                                    "message": message, "url": url})
    db.session.add(event)
    db.session.flush()
    return str(event.id)
