"""Fan-out: from something that happened (an outbox event) to the people it concerns.

The relay sends every outbox event to :func:`fanout_event` (``tenant id, event id``), which
looks up the event's kind in :data:`HANDLERS` (a table from event kind to handler) and calls
it with the tenant in scope. A handler works out the notification types and audiences (the
registry) and the people (:mod:`app.notifications.audiences`), and notifies each one
(:func:`app.notifications.dispatch.notify`): a notification in their center plus a delivery
per enabled channel. Once that committed, the queued deliveries get their jobs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.booking.models import Booking
from app.booking.transitions import PENDING_TTL
from app.chat import service as chat
from app.chat.models import Message, Participant
from app.customers.ownership import account_of
from app.delivery.mailer import local
from app.extensions import db
from app.formatting import format_money
from app.identity.models import User
from app.jobs.runner import run_in_tenant, run_on_platform
from app.notifications import booking_mail, center, chat_messages, registry
from app.notifications import service as rules
from app.notifications.audiences import announcement_audience, leader_user_ids, owner_user_ids, staff_user_ids
from app.notifications.dispatch import Notified, after_commit, notify
from app.notifications.dispute_notices import DISPUTE_CHANGED, notify_dispute_step
from app.notifications.emails import no_show_policy
from app.notifications.language import notice_locale, speaking
from app.notifications.review_notices import REVIEW_CREATED, notify_new_review
from app.notifications.service import load_booking_facts
from app.outbox.events import emit
from app.outbox.models import OutboxEvent
from app.reviews.links import review_url_for
from app.team.service import INVITE_EVENT, JOINED_EVENT, invitation_url
from app.tenants.models import StaffInvitation, Tenant
from app.tenants.urls import tenant_url

#: Money outbox events about a booking (written by :mod:`app.payments` and :mod:`app.checkout`) -> the
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


#: Outbox event of a business announcement (payload: ``business``, ``headline``, ``message``, ``url``).
ANNOUNCEMENT = "announcement.created"


def _booking_context(facts, audience: str, previous_start: datetime | None) -> dict[str, str]:
    tz = facts.customer_timezone if audience == "customer" else facts.business_timezone
    return {
        "service": facts.service_name, "business": facts.business_name, "staff": facts.staff_name,
        "customer": facts.customer_name, "when": local(facts.starts_at, tz), "time": local(facts.starts_at, tz, "%H:%M"),
        "previous_when": local(previous_start, tz) if previous_start else "",
        "reason": (_("Reason: %(reason)s", reason=facts.cancel_reason) if facts.cancel_reason else ""),
        "starts_at": facts.starts_at.isoformat(), "previous_start": previous_start.isoformat() if previous_start else "",
        "book_url": facts.business_url, "deadline": local(facts.created_at + PENDING_TTL, tz),
    }


def _context_for(booking_id: uuid.UUID, kind: str, type_key: str, audience: str, payload: Mapping[str, object],
                 previous_start: datetime | None) -> dict[str, str] | None:
    """The notification context of a booking event for one recipient, in the language in force
    (:func:`app.notifications.language.speaking`); ``None`` when the booking is gone. Tenant in scope."""
    facts = load_booking_facts(booking_id)
    if facts is None:
        return None
    ctx = _booking_context(facts, audience, previous_start)
    if payload.get("amount") is not None:
        ctx["amount"] = format_money(int(payload["amount"]), facts.currency)  # type: ignore[arg-type]
    if (kind in MONEY_BOOKING_TYPES or kind in STAFF_MONEY_TYPES) and payload.get("reason"):
        ctx["reason"] = str(payload["reason"])
    if type_key == "booking_no_show":
        ctx["policy"] = no_show_policy(facts)
    return ctx


def email_key(kind: str, type_key: str, audience: str, booking_id: uuid.UUID, event_id: str, facts,
              user_id: uuid.UUID) -> str | None:
    """The dedup key of the booking email a notification carries, or ``None`` (its email is the
    plain notification email). A customer's key is the one a guest's direct email would have
    (:func:`app.notifications.service.booking_email_key`, :func:`~app.notifications.service.reminder_key`);
    each staff account has its own."""
    mail_kind = booking_mail.email_kind(type_key, audience)
    if mail_kind is None:
        return None
    if audience == "customer":
        if mail_kind.startswith("reminder"):
            return rules.reminder_key(booking_id, mail_kind.removeprefix("reminder"), facts.starts_at)
        return rules.booking_email_key(booking_id, mail_kind, event_id)
    return f"{rules.staff_email_key(booking_id, mail_kind, event_id)}:{user_id}"


def _skipped_email(kind: str, type_key: str, audience: str, payload: Mapping[str, object]) -> bool:
    """True when this booking event sends no email to ``audience`` although the type has one: a
    customer's booking email goes only for the events that email guests too (a payment hold that
    ran out emails nobody), and staff hear of a move by email only when the customer made it."""
    if audience == "customer" and booking_mail.email_kind(type_key, audience) is not None:
        return kind != "reminder" and kind not in rules.CUSTOMER_EMAILS
    if audience == "staff" and type_key == "booking_rescheduled":
        return payload.get("actor") != "customer"
    return False


def notify_booking(event_id: str, kind: str, payload: Mapping[str, object], now: datetime | None = None,
                   type_audiences: list[tuple[str, tuple[str, ...]]] | None = None,
                   skip_email: bool = False) -> list[Notified]:
    """Fan a booking event out to its audiences (tenant in scope); flushes.

    ``type_audiences`` overrides the registry mapping (reminders pass their own);
    ``skip_email`` when another path already emails everyone about it. A payload ``amount``
    (minor units of the booking's currency) becomes the ``amount`` field.
    """
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
        for audience in audiences:
            if audience == "customer":
                uid = account_of(booking.customer_id) if booking and rules.customer_told(payload) else None
                people = [uid] if uid else []
                url = facts.manage_url if type_key != "review_requested" else review_url_for(booking_id) or facts.manage_url
            else:
                people = staff_user_ids(booking.staff_id if booking else None)
                url = facts.business_url.rstrip("/") + f"/dashboard/bookings/{booking_id}"
            no_email = skip_email or _skipped_email(kind, type_key, audience, payload)
            skip = {registry.EMAIL} if no_email else set()
            for uid in people:
                with speaking(notice_locale(uid, facts.tenant_id, audience, f"booking:{booking_id}")):  # their language
                    ctx = _context_for(booking_id, kind, type_key, audience, payload, previous_start) or {}
                key = None if no_email else email_key(kind, type_key, audience, booking_id, event_id, facts, uid)
                results.append(notify(user_id=uid, type_key=type_key, audience=audience, context=ctx,
                                      tenant_id=facts.tenant_id, subject_key=f"booking:{booking_id}", url=url,
                                      source_key=f"event:{event_id}:{type_key}", skip_channels=skip, now=now,
                                      email_key=key))
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


def notify_owners(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID,
                  now: datetime | None = None) -> list[Notified]:
    """Fan a subscription event (:data:`SUBSCRIPTION_TYPES`) out to the business's owners
    (tenant in scope); flushes. Payload: ``amount`` (minor units) and ``currency`` of the
    invoice, or ``trial_end`` (ISO 8601). Once per event and owner; no email for
    :data:`BILLING_EMAILED` (the billing path sends it)."""
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


def _notify_chat_message(tenant_id: uuid.UUID, payload: Mapping[str, object]) -> list[Notified]:
    """A ``chat.message_created`` event: notify the recipient accounts, each with their own
    link (a payload ``url`` is the fallback), and, when staff wrote to a booking's guest
    customer, schedule the guest's email (:mod:`app.notifications.chat_messages`). Tenant in scope."""
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


def announce(tenant_id: uuid.UUID, business: str, headline: str, message: str, url: str,
             announcement_id: str, now: datetime | None = None) -> list[Notified]:
    """Send a business announcement to every consenting customer (tenant in scope); flushes.
    ``announcement_id`` makes a repeated run notify nobody twice."""
    ctx = {"business": business, "headline": headline, "message": message}
    return [notify(user_id=uid, type_key="business_announcement", audience="customer", context=ctx,
                   tenant_id=tenant_id, subject_key=f"announcement:{announcement_id}", url=url,
                   source_key=f"announcement:{announcement_id}", now=now)
            for uid in announcement_audience(tenant_id)]


def record_announcement(business: str, headline: str, message: str, url: str) -> str:
    """Write an :data:`ANNOUNCEMENT` outbox event for the business in scope; flushes, the caller
    commits. Once committed, the relay hands it to :func:`fanout_event`, which sends it to
    every consenting customer once (:func:`announce`, keyed by the event id). Returns the
    event id (the announcement id)."""
    return str(emit(ANNOUNCEMENT, {"business": business, "headline": headline, "message": message, "url": url}))


def _late_refund(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """``payment.late_refund``: the payments path emails the customer; this adds the center / push side."""
    return notify_booking(event_id, kind, payload, type_audiences=[("refund_issued", ("customer",))], skip_email=True)


def _money(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """A money event about a booking: the customer (:data:`MONEY_BOOKING_TYPES`) or its staff
    (:data:`STAFF_MONEY_TYPES`) is told."""
    if kind in MONEY_BOOKING_TYPES:
        return notify_booking(event_id, kind, payload, type_audiences=[(MONEY_BOOKING_TYPES[kind], ("customer",))])
    return notify_booking(event_id, kind, payload, type_audiences=[(STAFF_MONEY_TYPES[kind], ("staff",))])


def _booking(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """A ``booking.*`` event: the audiences of the registry."""
    return notify_booking(event_id, kind, payload)


def _owners(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """A subscription event: the business's owners."""
    return notify_owners(event_id, kind, payload, tenant_id)


def _chat(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """``chat.message_created``: the conversation's recipients."""
    return _notify_chat_message(tenant_id, payload)


def _announcement(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """:data:`ANNOUNCEMENT`: every consenting customer, once per announcement (the event id)."""
    return announce(tenant_id, str(payload.get("business") or ""), str(payload.get("headline") or ""),
                    str(payload.get("message") or ""), str(payload.get("url") or ""), event_id)


def _staff_invited(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """``staff.invited``: an existing, verified account with the invited address sees the
    invitation in the app (the invitation email goes out by itself: no email here)."""
    user_id, invitation_id = payload.get("notify_user_id"), payload.get("invitation_id")
    tenant = db.session.get(Tenant, tenant_id)
    invitation = invitation_id and db.session.scalar(sa.select(StaffInvitation).where(
        StaffInvitation.id == uuid.UUID(str(invitation_id))))
    if not user_id or tenant is None or not invitation:
        return []
    role = str(payload.get("role") or invitation.role)
    return [notify(user_id=uuid.UUID(str(user_id)), type_key="staff_invited", audience="user", tenant_id=tenant_id,
                   context={"business": tenant.name, "inviter": str(payload.get("inviter") or ""), "role": role},
                   url=invitation_url(tenant, invitation), source_key=f"invite:{tenant_id}:{user_id}:{role}",
                   skip_channels=(registry.EMAIL,))]


def _staff_joined(event_id: str, kind: str, payload: Mapping[str, object], tenant_id: uuid.UUID) -> list[Notified]:
    """``staff.joined``: the business's owners and managers hear that the person joined."""
    member = db.session.get(User, uuid.UUID(str(payload["user_id"])))
    tenant = db.session.get(Tenant, tenant_id)
    if member is None or tenant is None:
        return []
    context = {"business": tenant.name, "member": member.name or member.email, "role": str(payload.get("role") or "")}
    return [notify(user_id=uid, type_key="staff_joined", audience="staff", tenant_id=tenant_id, context=context,
                   source_key=f"joined:{tenant_id}:{member.id}")
            for uid in leader_user_ids() if uid != member.id]


Handler = Callable[[str, str, Mapping[str, object], uuid.UUID], list[Notified]]

#: Outbox event kind -> handler ``(event id, kind, payload, tenant id) -> notified``. Booking
#: and money events about a booking need ``booking_id`` in the payload; ``booking.*`` kinds not
#: listed here go to the registry's booking handler (:data:`BOOKING_PREFIX`).
HANDLERS: dict[str, Handler] = {
    "payment.late_refund": _late_refund,
    **{kind: _money for kind in (*MONEY_BOOKING_TYPES, *STAFF_MONEY_TYPES)},
    **{kind: _owners for kind in SUBSCRIPTION_TYPES},
    "chat.message_created": _chat,
    ANNOUNCEMENT: _announcement,
    INVITE_EVENT: _staff_invited,
    JOINED_EVENT: _staff_joined,
    REVIEW_CREATED: notify_new_review,
    DISPUTE_CHANGED: notify_dispute_step,
}
#: Every event kind starting with this is a booking event (:func:`notify_booking`).
BOOKING_PREFIX = "booking."
#: Handlers that need the payload's ``booking_id``.
NEEDS_BOOKING = frozenset({_late_refund, _money, _booking})


def handler_for(kind: str) -> Handler | None:
    """The handler of event ``kind`` in :data:`HANDLERS` (``booking.*``: the booking handler), or ``None``."""
    if kind.startswith(BOOKING_PREFIX):
        return _booking
    return HANDLERS.get(kind)


def fanout_event(tenant_id: str, event_id: str) -> int:
    """Job: notify the people an outbox event concerns (:func:`handler_for`); returns how many
    deliveries were queued. Idempotent: a second run for the same event notifies nobody again."""

    def run() -> list[Notified]:
        event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.id == uuid.UUID(event_id)))
        if event is None:
            return []
        payload = event.payload or {}
        handler = handler_for(event.kind)
        if handler is None or (handler in NEEDS_BOOKING and not payload.get("booking_id")):
            return []
        return handler(event_id, event.kind, payload, event.tenant_id)

    try:
        results = run_in_tenant(tenant_id, run)
    except center.ConcurrentDuplicate:
        return 0
    return run_on_platform(after_commit, results)


def reminder_notices(booking_id: str, which: str, starts_at_iso: str) -> list[Notified]:
    """Reminder ``which`` (``24h``/``2h``) of a booking for the customer's account, on every
    channel their preferences enable (the email under the reminder's own dedup key, so a
    reminder is emailed once); once per booking and start (two bookings of one account starting
    at the same instant each get theirs). Tenant in scope; flushes."""
    return notify_booking(f"reminder:{booking_id}:{starts_at_iso}", "reminder", {"booking_id": booking_id},
                          type_audiences=[(f"booking_reminder_{which}", ("customer",))])


def notify_reminder(tenant_id: str, booking_id: str, which: str, starts_at_iso: str) -> int:
    """Job: :func:`reminder_notices`, then queue the deliveries; returns how many were queued.
    (The reminder jobs call :func:`reminder_notices` themselves now; this path serves jobs
    enqueued before, and stays idempotent.)"""

    def run() -> list[Notified]:
        return reminder_notices(booking_id, which, starts_at_iso)

    try:
        results = run_in_tenant(tenant_id, run)
    except center.ConcurrentDuplicate:
        return 0
    return run_on_platform(after_commit, results)


def announce_job(tenant_id: str, business: str, headline: str, message: str, url: str, announcement_id: str) -> int:
    """Job: :func:`announce`, then queue the deliveries; returns how many were queued."""
    try:
        results = run_in_tenant(tenant_id, announce, uuid.UUID(tenant_id), business, headline, message, url,
                                announcement_id)
    except center.ConcurrentDuplicate:
        return 0
    return run_on_platform(after_commit, results)
