"""New-message notifications outside the center: the link each recipient follows, and the
email to a booking's *guest* customer (no account, so no notification center).

Links (absolute, for email, push and the center):

* the booking's customer with an account: ``/account/messages/<tenant_id>/<booking_id>`` on
  the platform apex (their account's conversation page);
* the business's staff: ``/dashboard/bookings/<booking_id>/chat`` on the business's host;
* the guest: ``/manage/<manage token>/chat`` on the business's host (the manage-link chat,
  endpoint ``chat.manage_conversation``).

Guest email rule (the same as the account's new-message email, see
:mod:`app.notifications.fanout`): when staff write about a booking whose customer has no
account, the email waits :data:`~app.notifications.fanout.MESSAGE_EMAIL_DELAY`; it is not
sent while the guest is online in the conversation, nor once they have read the message
there. A burst folds: the email lists every unread staff message, and a message an email
already covered (one sent after it was written) sends nothing more. Each message's email is
a ``delivery`` row with the dedup key ``chat:<conversation>:guest:<message>``, so a
repeated job sends it once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import Message as MimeMessage

import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _
from redis.exceptions import RedisError

from app.booking.models import Customer
from app.booking.service import manage_token
from app.catalog.models import Service
from app.catalog.translations import localized
from app.chat import access
from app.chat import service as chat
from app.chat.models import Conversation, Message, Participant
from app.chat.service import CUSTOMER, Principal
from app.customers.ownership import account_of
from app.delivery.mailer import build_message, finish_message, local, mail_address, sender
from app.delivery.models import Delivery
from app.delivery.pipeline import deliver
from app.extensions import db
from app.jobs.runner import enqueue_at, run_in_tenant
from app.notifications import center
from app.notifications.dispatch import MESSAGE_EMAIL_DELAY
from app.notifications.language import booking_customer_locale, speaking
from app.notifications.service import valid_zone
from app.realtime import presence
from app.redis_client import get_redis
from app.tenants.models import Tenant
from app.tenants.urls import platform_url, tenant_url
from app.timeutil import utcnow

log = logging.getLogger("plaza.notifications")

JOBS = "app.notifications.chat_messages"
#: At most this many unread messages are quoted in a guest email (the latest ones).
EMAIL_MESSAGES = 10


@dataclass(frozen=True)
class ConversationLinks:
    """Absolute links to one booking conversation, per kind of reader."""

    account: str
    staff: str
    guest: str


def _conversation(conversation_id: object):
    """The conversation with this id in the tenant in scope (``None`` for a bad id or a missing one)."""
    try:
        cid = uuid.UUID(str(conversation_id))
    except ValueError:
        return None
    return chat.get_conversation(cid)


def booking_links(booking) -> ConversationLinks:
    """The :class:`ConversationLinks` of ``booking``'s conversation (tenant in scope, app context)."""
    tenant = db.session.get(Tenant, booking.tenant_id)
    return ConversationLinks(
        account=platform_url(f"/account/messages/{booking.tenant_id}/{booking.id}"),
        staff=tenant_url(tenant, f"/dashboard/bookings/{booking.id}/chat"),
        guest=tenant_url(tenant, f"/manage/{manage_token(booking)}/chat"))


def recipient_urls(conversation_id: str, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The link each account in ``user_ids`` follows to the conversation: the booking's
    customer to their account page, everyone else (staff) to the dashboard page. Empty for
    a conversation that is not about a booking (or is gone). Tenant in scope."""
    conv = _conversation(conversation_id)
    booking = access.subject_booking(conv) if conv is not None else None
    if booking is None:
        return {}
    links = booking_links(booking)
    customer = account_of(booking.customer_id)
    return {uid: links.account if uid == customer else links.staff for uid in user_ids}


# --- the guest's email ------------------------------------------------------------------------


def dedup_key(conversation_id: uuid.UUID | str, message_id: uuid.UUID | str) -> str:
    """Delivery key of the guest email about message ``message_id``."""
    return f"chat:{conversation_id}:guest:{message_id}"


def parse_dedup_key(key: str) -> tuple[str, str] | None:
    """``(conversation_id, message_id)`` of a guest-email :func:`dedup_key`, else ``None``."""
    parts = key.split(":")
    if len(parts) == 4 and parts[0] == "chat" and parts[2] == "guest":
        return parts[1], parts[3]
    return None


def guest_to_email(conversation_id: str, author_role: str) -> bool:
    """True when a message by ``author_role`` in the conversation should email its guest:
    staff wrote, about a booking that is still open to chat, whose customer has no account.
    Tenant in scope."""
    if author_role != chat.STAFF:
        return False
    conv = _conversation(conversation_id)
    booking = access.subject_booking(conv) if conv is not None else None
    return (booking is not None and access.guest_may_chat(booking)
            and account_of(booking.customer_id) is None)


def _guest_participant(conv, customer_id: uuid.UUID):
    return db.session.scalar(sa.select(Participant).where(
        Participant.conversation_id == conv.id, Participant.role == CUSTOMER, Participant.customer_id == customer_id))


def _guest_online(conv, participant) -> bool:
    if participant is None:
        return False
    try:
        return str(participant.id) in presence.online(get_redis(), conv.tenant_id, conv.id)
    except RedisError:  # presence is best effort
        log.warning("guest presence lookup failed", exc_info=True)
        return False


def schedule_guest_email(tenant_id: uuid.UUID, conversation_id: str, message_id: str,
                         now: datetime | None = None) -> bool:
    """Schedule :func:`send_guest_message_email` for :data:`MESSAGE_EMAIL_DELAY` from ``now``,
    unless the guest is online in the conversation right now. One job per message (a fixed
    job id). Returns whether it was scheduled. Tenant in scope; call once the message committed."""
    conv = _conversation(conversation_id)
    customer_id = chat.booking_customer_id(conv) if conv is not None else None
    if customer_id is None or _guest_online(conv, _guest_participant(conv, customer_id)):
        return False
    due = (now or utcnow()) + MESSAGE_EMAIL_DELAY
    enqueue_at(due, f"{JOBS}.send_guest_message_email", str(tenant_id), str(conversation_id), str(message_id),
               job_id=f"chat-guest-email-{message_id}")
    return True


def send_guest_message_email(tenant_id: str, conversation_id: str, message_id: str) -> str:
    """Job: email the booking's guest about message ``message_id`` and the other staff messages
    they have not read, unless (checked now) the booking is gone or cancelled, they read it in
    the conversation, they are online there, or an email sent after it was written already
    covered it. Returns ``sent``/``already_sent``/``busy`` (:class:`~app.delivery.pipeline.Outcome`),
    ``gone`` or ``skipped: <reason>``.

    Raises:
        app.delivery.pipeline.DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_guest_email, conversation_id, message_id)


def _send_guest_email(conversation_id: str, message_id: str) -> str:
    msg = db.session.scalar(sa.select(Message).where(Message.id == uuid.UUID(message_id)))
    conv = _conversation(conversation_id)
    booking = access.subject_booking(conv) if conv is not None else None
    customer = booking and db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
    if msg is None or booking is None or customer is None:
        return "gone"
    if not access.guest_may_chat(booking):
        return "skipped: booking cancelled"
    if not customer.email:
        return "skipped: no email address"
    me = _guest_participant(conv, customer.id)
    read_upto = me.last_read_seq if me is not None else 0
    if read_upto >= msg.seq:
        return "skipped: read in the conversation"
    if _guest_online(conv, me):
        return "skipped: online in the conversation"
    covered = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.tenant_id == conv.tenant_id, Delivery.dedup_key.startswith(f"chat:{conv.id}:guest:", autoescape=True), Delivery.status == "sent",
        Delivery.sent_at >= msg.created_at))
    if covered:
        return "skipped: covered by an earlier email"
    unread = list(db.session.scalars(
        sa.select(Message).where(Message.conversation_id == conv.id, Message.seq > read_upto,
                                 Message.author_role == chat.STAFF)
        .order_by(Message.seq.desc()).limit(EMAIL_MESSAGES)))
    unread.reverse()
    return deliver(dedup_key(conv.id, msg.id), guest_email(booking, customer, unread or [msg])).value


def guest_email(booking, customer, messages: list) -> MimeMessage:
    """The email telling ``customer`` (a guest) about ``messages`` (oldest first) in the
    booking's conversation, with the link to the manage-link chat page; in the language the
    customer booked in (:func:`app.notifications.language.booking_customer_locale`)."""
    with speaking(booking_customer_locale(booking.id)):
        return _guest_email(booking, customer, messages)


def _guest_email(booking, customer, messages: list) -> MimeMessage:
    tenant = db.session.get(Tenant, booking.tenant_id)
    found = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    service = localized(found, "name") if found is not None else ""
    tz = valid_zone(booking.customer_timezone, tenant.timezone)
    author = messages[-1].author_name or tenant.name
    context = {"business": tenant.name, "service": service, "when": local(booking.starts_at, tz),
               "customer": customer.name, "messages": messages, "url": booking_links(booking).guest,
               "heading": _("New message from %(author)s", author=author)}
    return finish_message(build_message(
        sender=sender(tenant.name), to=mail_address(customer.name or "", customer.email),
        subject=_("New message from %(author)s at %(business)s", author=author, business=tenant.name),
        text=render_template("emails/chat_message.txt", **context),
        html=render_template("emails/chat_message.html", **context)), "chat-guest", None)


def read_conversation_notifications(conv: Conversation, principal: Principal) -> bool:
    """The reader ``principal`` read ``conv``: mark their account's new-message notifications
    about it read (nothing for a guest without an account). Flushes; returns True when some
    changed (then push their badge after the commit: :func:`app.notifications.center.push_badge`)."""
    if principal.user_id is None:
        return False
    return center.mark_subject_read(principal.user_id, f"conversation:{conv.id}", chat.NEW_MESSAGE) > 0
