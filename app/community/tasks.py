"""Jobs of the community: the emails of guests' inquiries.

* :data:`~app.chat.inquiries.CONFIRM_REQUESTED`: email the guest the link that confirms their
  address and sends their first message (:func:`send_inquiry_confirmation`);
* ``chat.message_created`` by staff in a guest's inquiry: email the guest the reply with the
  same link (:func:`send_inquiry_reply`), unless they already read it there.

:func:`jobs_for_event` is the outbox router (:data:`app.outbox.relay.ROUTERS`). Each email is a
``delivery`` row with its own dedup key, so a repeated job sends it once.
"""

from __future__ import annotations

import uuid
from email.message import Message as MimeMessage

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.chat import inquiries
from app.chat.models import CUSTOMER, INQUIRY, STAFF, Inquiry, Message, Participant
from app.delivery.mailer import build_message, finish_message, mail_address, sender
from app.delivery.pipeline import deliver
from app.extensions import db
from app.jobs.runner import JobSpec, run_in_tenant
from app.notifications.language import choose
from app.tenants.models import Tenant
from app.tenants.urls import tenant_url

JOBS = "app.community.tasks"


def jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router: the inquiry email jobs an event causes (none for other events)."""
    payload = payload or {}
    if kind == inquiries.CONFIRM_REQUESTED and payload.get("inquiry_id"):
        return [JobSpec(f"{JOBS}.send_inquiry_confirmation", (tenant_id, str(payload["inquiry_id"])))]
    if (kind == "chat.message_created" and payload.get("subject_type") == INQUIRY
            and payload.get("author_role") == STAFF and payload.get("message_id")):
        return [JobSpec(f"{JOBS}.send_inquiry_reply", (tenant_id, str(payload["subject_id"]),
                                                       str(payload["message_id"])))]
    return []


def guest_locale(tenant: Tenant, inquiry: Inquiry) -> str:
    """The language a guest's inquiry emails are written in: the one they wrote their inquiry in,
    else (an inquiry from before languages were kept) the business's default."""
    return choose(inquiry.locale, tenant.default_locale)


def guest_link(inquiry: Inquiry) -> str:
    """The guest's absolute link to their inquiry (confirms it on first use), from configuration."""
    tenant = db.session.get(Tenant, inquiry.tenant_id)
    return tenant_url(tenant, f"/inquiry/{inquiries.inquiry_token(inquiry)}")


def _email(inquiry: Inquiry, *, subject: str, heading: str, intro: str, action: str,
           messages: list[dict]) -> MimeMessage:
    tenant = db.session.get(Tenant, inquiry.tenant_id)
    context = {"heading": heading, "intro": intro, "action": action, "messages": messages,
               "business": tenant.name, "url": guest_link(inquiry)}
    return finish_message(build_message(
        sender=sender(tenant.name), to=mail_address(inquiry.name, inquiry.email or ""), subject=subject,
        text=render_template("community/emails/inquiry.txt", **context),
        html=render_template("community/emails/inquiry.html", **context)), "inquiry", None)


def send_inquiry_confirmation(tenant_id: str, inquiry_id: str) -> str:
    """Job: email a guest the link confirming their inquiry (skipped once confirmed or gone).
    Returns the delivery outcome or ``skipped: <reason>``.

    Raises:
        app.delivery.pipeline.DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_confirmation, inquiry_id)


def _send_confirmation(inquiry_id: str) -> str:
    inquiry = inquiries.get_inquiry(uuid.UUID(inquiry_id))
    if inquiry is None or not inquiry.email:
        return "skipped: gone"
    if inquiry.confirmed_at is not None:
        return "skipped: already confirmed"
    tenant = db.session.get(Tenant, inquiry.tenant_id)
    with force_locale(guest_locale(tenant, inquiry)):
        msg = _email(inquiry, subject=_("Confirm your message to %(name)s", name=tenant.name),
                     heading=_("Confirm your message to %(name)s", name=tenant.name),
                     intro=_("Open the link to confirm your email address; your message is sent to the business then, "
                             "and their replies come to this address."),
                     action=_("Confirm and send"),
                     messages=[{"author_name": inquiry.name, "body": inquiry.pending_body or ""}])
    return deliver(f"inquiry:{inquiry.id}:confirm", msg).value


def send_inquiry_reply(tenant_id: str, inquiry_id: str, message_id: str) -> str:
    """Job: email a guest the business's reply in their inquiry (skipped for an account, whose
    notifications tell them, or once they read it in the conversation).

    Raises:
        app.delivery.pipeline.DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_reply, inquiry_id, message_id)


def _send_reply(inquiry_id: str, message_id: str) -> str:
    inquiry = inquiries.get_inquiry(uuid.UUID(inquiry_id))
    msg = db.session.scalar(sa.select(Message).where(Message.id == uuid.UUID(message_id)))
    if inquiry is None or msg is None or msg.hidden_at is not None:
        return "skipped: gone"
    if inquiry.user_id is not None or not inquiry.email:
        return "skipped: not a guest"
    read_upto = db.session.scalar(sa.select(Participant.last_read_seq).where(
        Participant.conversation_id == msg.conversation_id, Participant.role == CUSTOMER,
        Participant.customer_id == inquiry.id)) or 0
    if read_upto >= msg.seq:
        return "skipped: read in the conversation"
    tenant = db.session.get(Tenant, inquiry.tenant_id)
    author = msg.author_name or tenant.name
    with force_locale(guest_locale(tenant, inquiry)):
        email = _email(inquiry, subject=_("New message from %(author)s at %(name)s", author=author, name=tenant.name),
                       heading=_("New message from %(author)s", author=author),
                       intro=_("%(name)s answered your question.", name=tenant.name),
                       action=_("Reply"), messages=[{"author_name": msg.author_name, "body": msg.body}])
    return deliver(f"inquiry:{inquiry.id}:reply:{msg.id}", email).value
