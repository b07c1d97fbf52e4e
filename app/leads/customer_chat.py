"""The job's chat seen from the customer: the conversation about one lead (``subject_type``
``"lead"``, ``subject_id`` the lead's id) in the provider's tenant, through the chat domain's
public functions (the provider's side joins the same conversation from its lead page).

The customer is the provider's customer record of the lead (made when the provider claimed it;
made here from the request's contact when missing; a contact without an email is known by the
lead's id, the provider side's convention). Functions take the job request the caller
has already authorised and switch to the provider's ``tenant_scope`` themselves; they flush and
never commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.booking.service import CustomerInput, upsert_customer
from app.chat.models import Conversation, Message
from app.chat.service import Principal, conversation_for_subject, message_payload, post_message, recent_messages
from app.extensions import db
from app.leads.models import JobRequest, Lead, LeadStatus
from app.tenants.context import platform_scope, tenant_scope

#: ``chat_conversation.subject_type`` of a job's chat (one per lead).
SUBJECT = "lead"
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


def _principal(job_request: JobRequest, lead: Lead) -> Principal:
    """The customer as a chat principal in the lead's tenant (tenant in scope; may upsert the
    provider's customer record and remember it on the lead)."""
    customer_id = lead.customer_id
    if customer_id is None and job_request.contact_email:
        customer = upsert_customer(CustomerInput(job_request.contact_name or "Customer", job_request.contact_email,
                                                 job_request.contact_phone or None), job_request.user_id)
        lead.customer_id = customer_id = customer.id
        db.session.flush()
    # A contact without an email has no customer record: the lead's id stands for them (as on the provider's side).
    return Principal(role="customer", user_id=job_request.user_id, customer_id=customer_id or lead.id,
                     name=job_request.contact_name or "Customer")


def _conversation(lead: Lead, create: bool) -> Conversation | None:
    return conversation_for_subject(SUBJECT, lead.id, create=create)


def chat_messages(job_request: JobRequest, lead: Lead, limit: int = 200) -> list[dict]:
    """The job chat's messages, oldest first, as :func:`app.chat.service.message_payload` dicts
    plus ``mine`` (written by the customer) and ``at`` (the aware UTC instant)."""
    with tenant_scope(lead.tenant_id):
        conv = _conversation(lead, create=False)
        rows: list[Message] = recent_messages(conv, limit) if conv is not None else []
        return [{**message_payload(m), "mine": m.author_role == "customer", "at": m.created_at}
                for m in rows if m.hidden_at is None]


def post_customer_message(job_request: JobRequest, lead: Lead, body: str | None) -> Message:
    """Post ``body`` as the customer in the lead's chat (created on demand); returns the message.

    Raises:
        ChatUnavailable: the lead is no longer open for talk (lost, refunded, expired).
        EmptyMessage, MessageTooLong, RateLimited, ConversationClosed: from the chat domain.
    """
    if lead.status not in CHAT_OPEN:
        raise ChatUnavailable(str(lead.id))
    with tenant_scope(lead.tenant_id):
        principal = _principal(job_request, lead)
        conv = _conversation(lead, create=True)
        if conv is None:
            raise ChatUnavailable(str(lead.id))
        return post_message(conv, principal, body)
