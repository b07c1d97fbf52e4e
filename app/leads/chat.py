"""The job chat: the existing chat (:mod:`app.chat`), scoped to one lead.

A lead's conversation has ``subject_type`` :data:`SUBJECT` (``"lead"``) and ``subject_id`` the
lead's id, in the provider's tenant. It is made when the provider claims the lead, with the
customer (the provider's customer record made at claim) and the claiming staff member as
participants. Staff write from the lead page (or the chat pages); the customer writes from the
request's manage page on the apex through :func:`post_as_customer` (part C), with the provider's
tenant in scope.

Staff see the job chats in the chat inbox too (:func:`list_lead_chats`, registered with
:func:`app.chat.inbox.register_inbox_source`). The first staff message marks the customer contacted (``lead.contacted_at``): a post guard
(:func:`record_first_contact`, registered with :func:`app.chat.service.register_post_guard` when
this module is imported) sets it for every way a staff message comes in; it never refuses.
Functions flush, never commit; the lead's tenant must be in scope.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from app.booking.models import Customer
from app.chat import service as chat
from app.chat.errors import ChatStateError
from app.chat.inbox import PREVIEW_CHARS, InboxItem, register_inbox_source
from app.chat.models import CUSTOMER, STAFF, Conversation, Message
from app.delivery.mailer import account_email
from app.delivery.pipeline import deliver
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import enqueue, run_in_tenant
from app.leads.inbox_links import email_link
from app.leads.models import Lead
from app.leads.recipients import job_request_locale
from app.notifications.language import speaking
from app.tenants.context import require_tenant_id
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.uow import after_commit

#: ``chat_conversation.subject_type`` of a job's conversation (``subject_id`` is the lead id).
SUBJECT = "lead"
#: Dotted path of the job that emails the customer a staff message.
MESSAGE_EMAIL_JOB = "app.leads.chat.send_message_email"


def lead_conversation(lead: Lead) -> Conversation:
    """The lead's conversation (created on demand; race-safe).

    Raises:
        ChatStateError: it cannot be read back after creating it.
    """
    conv = chat.conversation_for_subject(SUBJECT, lead.id)
    if conv is None:
        raise ChatStateError(f"conversation of lead {lead.id} not found after creating it")
    return conv


def lead_of(conv: Conversation) -> Lead | None:
    """The lead ``conv`` is about (``None`` for other subjects or a missing lead). Tenant in scope."""
    if conv.subject_type != SUBJECT:
        return None
    return db.session.scalar(sa.select(Lead).where(Lead.id == conv.subject_id))


def customer_principal(lead: Lead, user_id: uuid.UUID | None = None) -> chat.Principal:
    """The job's customer as a chat :class:`~app.chat.service.Principal`: ``customer_id`` is the
    provider's customer record made at claim, ``name`` the contact's name, ``user_id`` the
    signed-in account (else the account linked to the customer record, if any).

    A contact without an email has no customer record: the lead's id stands for them.

    Raises:
        ValueError: the lead was never claimed (it has no customer yet).
    """
    if lead.claimed_at is None:
        raise ValueError("this lead has not been claimed: it has no customer to chat with")
    if user_id is None and lead.customer_id is not None:
        user_id = db.session.scalar(sa.select(Customer.user_id).where(Customer.id == lead.customer_id))
    return chat.Principal(CUSTOMER, user_id=user_id, customer_id=lead.customer_id or lead.id,
                          name=lead.contact_name or "Customer")


def staff_principal(user: User) -> chat.Principal:
    """A staff account as a chat principal (shown by name, else email)."""
    return chat.Principal(STAFF, user_id=user.id, name=user.name or user.email)


def open_chat(lead: Lead, staff: User | None = None) -> Conversation:
    """Make the lead's conversation with the customer (and ``staff``, if given) as participants
    (at claim). Returns it. Flushes.

    Raises:
        ValueError: the lead has no customer yet.
    """
    conv = lead_conversation(lead)
    chat.join_conversation(conv, customer_principal(lead))
    if staff is not None:
        chat.join_conversation(conv, staff_principal(staff))
    db.session.flush()
    return conv


def post_as_customer(lead: Lead, body: str, *, user_id: uuid.UUID | None = None) -> Message:
    """Post ``body`` in the lead's chat as its customer (part C's manage page). Flushes.

    Raises:
        ValueError: the lead was never claimed.
        EmptyMessage, MessageTooLong, RateLimited, ConversationClosed: as :func:`app.chat.service.post_message`.
    """
    return chat.post_message(lead_conversation(lead), customer_principal(lead, user_id), body)


def post_as_staff(lead: Lead, user: User, body: str, *, email_customer: bool = True) -> Message:
    """Post ``body`` in the lead's chat as staff ``user``; the first staff message marks the
    customer contacted. With ``email_customer`` the customer is emailed the message after the
    commit (:data:`MESSAGE_EMAIL_JOB`, once per message). Flushes.

    Raises:
        EmptyMessage, MessageTooLong, RateLimited, ConversationClosed: as :func:`app.chat.service.post_message`.
    """
    msg = chat.post_message(lead_conversation(lead), staff_principal(user), body)
    if email_customer:
        args = (str(require_tenant_id()), str(lead.id), str(msg.id))
        after_commit(lambda: enqueue(MESSAGE_EMAIL_JOB, *args))
    return msg


def send_message_email(tenant_id: str, lead_id: str, message_id: str) -> str:
    """Job: email the lead's customer a staff message from the job chat, with the signed link to
    their request (once per message); returns the delivery outcome, ``gone`` or ``skipped``.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_message_email, uuid.UUID(lead_id), uuid.UUID(message_id))


def _send_message_email(lead_id: uuid.UUID, message_id: uuid.UUID) -> str:
    lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))
    msg = db.session.scalar(sa.select(Message).where(Message.id == message_id, Message.hidden_at.is_(None)))
    if lead is None or msg is None:
        return "gone"
    if "@" not in lead.contact_email:
        return "skipped"
    business = db.session.get(Tenant, lead.tenant_id)
    with speaking(job_request_locale(lead.job_request_id, lead.tenant_id)):  # the customer's language
        name = business.name if business is not None else _("Your provider")
        text = (_("%(author)s of %(business)s wrote about “%(title)s”:", author=msg.author_name, business=name,
                  title=lead.title) + f"\n\n{msg.body}\n\n"
                + _("Answer in the chat of your request:") + f"\n{email_link(lead.job_request_id)}\n")
        subject = _("%(business)s: a message about %(title)s", business=name, title=lead.title)
    return str(deliver(f"lead-chat:{lead.id}:{msg.id}", account_email(lead.contact_email, subject, text)))


def messages(lead: Lead, limit: int = 200) -> list[Message]:
    """The lead chat's last ``limit`` messages, oldest first (hidden ones left out; none before claim)."""
    conv = chat.conversation_for_subject(SUBJECT, lead.id, create=False)
    return chat.recent_messages(conv, limit) if conv is not None else []


def mark_contacted(lead: Lead) -> bool:
    """Record that the provider contacted the customer now (a call or the first message);
    returns True when this was the first contact. Flushes."""
    if lead.contacted_at is not None:
        return False
    lead.contacted_at = utcnow()
    db.session.flush()
    return True


def mark_read_by(lead: Lead, user: User) -> None:
    """Staff ``user`` opened the lead's chat: they join it and everything in it counts as read
    (clears the inbox's unread count). Does nothing before the claim. Flushes."""
    if lead.claimed_at is None:
        return
    conv = lead_conversation(lead)
    chat.mark_read(conv, chat.join_conversation(conv, staff_principal(user)))


def list_lead_chats(user_id: uuid.UUID, limit: int = 200) -> list[InboxItem]:
    """The business's job chats with at least one visible message, as staff inbox items of kind
    :data:`SUBJECT` (``booking_id`` is the lead id, ``service_name`` the lead's title), latest
    first, with the staff account ``user_id``'s unread counts. Tenant in scope."""
    last_seq = (sa.select(sa.func.max(Message.seq)).where(Message.conversation_id == Conversation.id,
                                                          Message.hidden_at.is_(None))
                .correlate(Conversation).scalar_subquery())
    last = aliased(Message, name="last")
    rows = db.session.execute(
        sa.select(Conversation, Lead.id, Lead.contact_name, Lead.title, last).select_from(Conversation)
        .join(last, sa.and_(last.conversation_id == Conversation.id, last.seq == last_seq))
        .join(Lead, Lead.id == Conversation.subject_id)
        .where(Conversation.subject_type == SUBJECT).order_by(last.seq.desc()).limit(limit)).all()
    items = []
    for conv, lead_id, name, title, msg in rows:
        me = chat.find_participant(conv, chat.Principal(STAFF, user_id=user_id))
        text = " ".join(msg.body.split())
        preview = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS].rstrip() + "…"
        items.append(InboxItem(conv.id, lead_id, name or "", title or "", None, preview, msg.author_role,
                               msg.author_name, msg.created_at, int(msg.seq), chat.unread_count(conv, me), SUBJECT))
    return items


def record_first_contact(conv: Conversation, principal: chat.Principal) -> str | None:
    """Post guard: a staff message in a lead's chat marks the customer contacted (the guard of
    every way in: the lead page, the chat pages, Socket.IO). Never refuses (returns ``None``)."""
    if conv.subject_type == SUBJECT and principal.role == STAFF:
        lead = lead_of(conv)
        if lead is not None and lead.contacted_at is None:
            lead.contacted_at = utcnow()
    return None


chat.register_post_guard(record_first_contact, applies=lambda subject, role: subject == SUBJECT and role == STAFF)
register_inbox_source(SUBJECT, list_lead_chats)
