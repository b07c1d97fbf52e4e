"""A provider quotes a claimed lead: a price range, an estimated duration and a message.

The range is in minor units of the business's currency (``min <= max``), the duration in minutes
(1 minute to 14 days). The lead becomes ``quoted``; quoting again replaces the quote (each
version stays in the audit log and as a message in the job chat, so the customer sees the
history). After the commit a job marks the job request ``quoted`` (a platform-only table, so it
is written on the platform role, never from the business's host) and emails the customer a link
to the request (:func:`app.leads.inbox_links.email_link`: a signed link to the apex page part C serves, since the
manage token is stored only as its hash).

Functions flush, never commit; the business is the tenant in scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.delivery.mailer import account_email
from app.delivery.pipeline import deliver
from app.errors import InputError
from app.extensions import db
from app.formatting import format_duration, format_money, format_number
from app.identity.models import User
from app.jobs.runner import enqueue, run_on_platform
from app.leads.chat import post_as_staff

# Re-exported: the emailed link is part of the quote's contract with the customer side (part C).
from app.leads.inbox_links import EMAIL_LINK_PATH as EMAIL_LINK_PATH
from app.leads.inbox_links import email_link as email_link
from app.leads.inbox_links import request_id_from_email_signature as request_id_from_email_signature
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus
from app.leads.recipients import job_request_locale
from app.notifications.language import speaking
from app.tenants.context import platform_scope, require_tenant_id, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.uow import after_commit

#: Dotted path of the job that marks the request quoted and emails the customer.
QUOTE_SENT_JOB = "app.leads.quotes.quote_sent"
#: Longest quote message, in characters.
MAX_MESSAGE = 2000
#: Longest estimated duration: 14 days, in minutes.
MAX_DURATION = 14 * 24 * 60
#: Largest amount accepted (minor units).
MAX_AMOUNT = 100_000_000
#: Lead statuses a quote may be sent (or changed) in.
QUOTABLE = (LeadStatus.CLAIMED, LeadStatus.QUOTED)
#: Job request statuses a first quote moves to ``quoted``.
BEFORE_QUOTED = (JobRequestStatus.OPEN, JobRequestStatus.ROUTED, JobRequestStatus.MANUAL)


class QuoteError(InputError):
    """A quote that cannot be accepted; ``field`` names the input at fault (``min``, ``max``,
    ``currency``, ``duration_minutes``, ``message``) or is ``None`` (the lead's state)."""


@dataclass(frozen=True)
class QuoteInput:
    """A quote as sent: ``min_amount``/``max_amount`` in minor units of ``currency`` (ISO 4217),
    ``duration_minutes`` the estimated duration, ``message`` to the customer."""

    min_amount: int
    max_amount: int
    currency: str
    duration_minutes: int
    message: str


def validate_quote(data: QuoteInput, business_currency: str) -> QuoteInput:
    """``data`` cleaned (currency upper-case, message trimmed).

    Raises:
        QuoteError: a negative or missing amount, ``max < min``, another currency than the
            business's, a duration outside 1 minute – 14 days, an empty or too long message.
    """
    currency = (data.currency or "").strip().upper()
    if currency != business_currency:
        raise QuoteError(_("Quote in %(currency)s, the business's currency.", currency=business_currency), "currency")
    if not 0 <= data.min_amount <= MAX_AMOUNT:
        raise QuoteError(_("Enter the lowest price, 0 or more."), "min")
    if not 0 < data.max_amount <= MAX_AMOUNT:
        raise QuoteError(_("Enter the highest price."), "max")
    if data.max_amount < data.min_amount:
        raise QuoteError(_("The highest price must be at least the lowest."), "max")
    if not 1 <= data.duration_minutes <= MAX_DURATION:
        raise QuoteError(_("Estimate how long the job takes: from 1 minute to 14 days."), "duration_minutes")
    message = (data.message or "").replace("\r\n", "\n").strip()
    if not message:
        raise QuoteError(_("Write the customer a few words about the quote."), "message")
    if len(message) > MAX_MESSAGE:
        raise QuoteError(_("The message can be at most %(num)s characters.", num=format_number(MAX_MESSAGE)), "message")
    return QuoteInput(data.min_amount, data.max_amount, currency, data.duration_minutes, message)


def quote_line(lead: Lead) -> str:
    """The quote as people read it, e.g. ``"$90.00–$140.00, about 2 h"`` (empty before a quote)."""
    if lead.quote_min_amount is None or lead.quote_max_amount is None or not lead.quote_currency:
        return ""
    low = format_money(lead.quote_min_amount, lead.quote_currency)
    high = format_money(lead.quote_max_amount, lead.quote_currency)
    price = low if lead.quote_min_amount == lead.quote_max_amount else f"{low}–{high}"
    duration = format_duration(lead.quote_duration_minutes) if lead.quote_duration_minutes else ""
    return _("%(price)s, about %(duration)s", price=price, duration=duration) if duration else price


def quote_lead(lead_id: uuid.UUID, data: QuoteInput, user: User, actor: AuditActor) -> Lead:
    """Send (or change) the quote of the business's claimed lead ``lead_id`` as staff ``user``.

    Locks the lead; writes the quote, posts it in the job chat, records an audit entry
    (``lead.quoted`` with the quote before and after) and, after the commit, queues
    :data:`QUOTE_SENT_JOB`. Flushes.

    Raises:
        LookupError: no such lead in this business.
        QuoteError: invalid input (``field`` set), or the lead is not claimed by this business
            (or already won/lost/refunded; ``field`` ``None``).
    """
    lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id).with_for_update()
                             .execution_options(populate_existing=True))
    if lead is None:
        raise LookupError(f"no lead {lead_id} here")
    if lead.status not in QUOTABLE:
        raise QuoteError(_("Claim this lead before quoting.") if lead.status == LeadStatus.OFFERED
                         else _("This lead is closed: it can no longer be quoted."))
    business = db.session.get(Tenant, require_tenant_id())
    clean = validate_quote(data, business.currency if business is not None else data.currency.upper())
    before = _quote_state(lead)
    lead.quote_min_amount, lead.quote_max_amount = clean.min_amount, clean.max_amount
    lead.quote_currency, lead.quote_duration_minutes = clean.currency, clean.duration_minutes
    lead.quote_message = clean.message
    lead.status = LeadStatus.QUOTED.value
    lead.quoted_at = utcnow()
    db.session.flush()
    heading = "Updated quote" if before["status"] == LeadStatus.QUOTED else "Quote"
    post_as_staff(lead, user, f"{heading}: {quote_line(lead)}.\n\n{clean.message}", email_customer=False)
    record_audit(actor, "lead.quoted", "lead", lead.id, before=before, after=_quote_state(lead))
    tenant_id, quoted = str(require_tenant_id()), str(lead.id)
    stamp = lead.quoted_at.isoformat()
    after_commit(lambda: enqueue(QUOTE_SENT_JOB, tenant_id, quoted, stamp))
    return lead


def _quote_state(lead: Lead) -> dict[str, object]:
    return {"status": lead.status, "min": lead.quote_min_amount, "max": lead.quote_max_amount,
            "currency": lead.quote_currency, "duration_minutes": lead.quote_duration_minutes,
            "message": lead.quote_message}


# --------------------------------------------------------------------------- after the commit


def quote_sent(tenant_id: str, lead_id: str, quoted_at: str) -> str:
    """Job: mark the lead's job request ``quoted`` (platform role) and email its customer the
    quote with :func:`email_link` (once per quote version, ``quoted_at``); returns the delivery
    outcome, ``gone`` or ``skipped``.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job; the status write is idempotent).
    """
    return run_on_platform(_quote_sent, uuid.UUID(tenant_id), uuid.UUID(lead_id), quoted_at)


def _quote_sent(tenant_id: uuid.UUID, lead_id: uuid.UUID, quoted_at: str) -> str:
    with platform_scope("lead quoted: the job request moves to quoted"):
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id, Lead.tenant_id == tenant_id))
        if lead is None:
            return "gone"
        request = db.session.scalar(sa.select(JobRequest).where(JobRequest.id == lead.job_request_id)
                                    .with_for_update())
        if request is not None and request.status in BEFORE_QUOTED:
            request.status = JobRequestStatus.QUOTED.value
            request.updated_at = utcnow()
            db.session.flush()
        business = db.session.get(Tenant, tenant_id)
    if "@" not in lead.contact_email or lead.status != LeadStatus.QUOTED:
        return "skipped"
    with speaking(job_request_locale(lead.job_request_id, tenant_id)):  # the customer's language
        name = business.name if business is not None else _("A provider")
        text = (_("Hello %(name)s,", name=lead.contact_name or _("there")) + "\n\n"
                + _("%(business)s sent you a quote for “%(title)s”: %(quote)s.", business=name, title=lead.title,
                    quote=quote_line(lead)) + f"\n\n{lead.quote_message}\n\n"
                + _("Confirm it, turn it down or ask a question here:") + f"\n{email_link(lead.job_request_id)}\n")
        subject = _("A quote from %(business)s: %(title)s", business=name, title=lead.title)
    with tenant_scope(tenant_id):
        outcome = deliver(f"lead-quote:{lead.id}:{quoted_at}", account_email(lead.contact_email, subject, text))
    return str(outcome)
