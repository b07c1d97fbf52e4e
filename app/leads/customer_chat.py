"""The job's chat seen from the customer: the conversation about one lead (``subject_type``
``"lead"``, ``subject_id`` the lead's id) in the provider's tenant, through the chat domain's
public functions (the provider's side joins the same conversation from its lead page).

The customer is who :mod:`app.leads.chat` says (the provider's customer record made at claim;
a contact without an email is known by the lead's id). Functions take the job request the caller
has already authorised and switch to the provider's ``tenant_scope`` themselves; they flush and
never commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.chat.models import Message
from app.chat.service import conversation_for_subject, message_payload, recent_messages
from app.extensions import db
from app.leads.chat import SUBJECT, post_as_customer
from app.leads.models import JobRequest, Lead, LeadStatus
from app.tenants.context import platform_scope, tenant_scope

#: Lead statuses in which the customer and the provider can talk.
CHAT_OPEN = (LeadStatus.CLAIMED, LeadStatus.QUOTED, LeadStatus.WON)


class ChatUnavailable(LookupError):
    """The offer is not this request's, or its provider has not taken the job up (no chat)."""


def chat_lead(job_request: JobRequest, lead_id: uuid.UUID) -> Lead:
    """The lead ``lead_id`` of ``job_request`` whose chat the customer may read.

    Raises:
        ChatUnavailable: not this request's lead, or never claimed (offered, expired, declined).
    """
    with platform_scope("job request: the customer's job chat"):
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id, Lead.job_request_id == job_request.id))
    if lead is None or lead.claimed_at is None:
        raise ChatUnavailable(str(lead_id))
    return lead


def chat_messages(job_request: JobRequest, lead: Lead, limit: int = 200) -> list[dict]:
    """The job chat's messages, oldest first, as :func:`app.chat.service.message_payload` dicts
    plus ``mine`` (written by the customer) and ``at`` (the aware UTC instant)."""
    with tenant_scope(lead.tenant_id):
        conv = conversation_for_subject(SUBJECT, lead.id, create=False)
        rows: list[Message] = recent_messages(conv, limit) if conv is not None else []
        return [{**message_payload(m), "mine": m.author_role == "customer", "at": m.created_at}
                for m in rows if m.hidden_at is None]


def post_customer_message(job_request: JobRequest, lead: Lead, body: str | None) -> Message:
    """Post ``body`` as the customer in the lead's chat (:func:`app.leads.chat.post_as_customer`,
    the provider side's own rules for who the customer is); returns the message. Flushes.

    Raises:
        ChatUnavailable: the lead is no longer open for talk (lost, refunded, expired).
        EmptyMessage, MessageTooLong, RateLimited, ConversationClosed: from the chat domain.
    """
    if lead.status not in CHAT_OPEN:
        raise ChatUnavailable(str(lead.id))
    with tenant_scope(lead.tenant_id):
        return post_as_customer(lead, body or "", user_id=job_request.user_id)
