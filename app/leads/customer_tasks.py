"""Jobs of the customer's decisions: email a provider's owners that their lead was won or lost.

Enqueued after commit by :mod:`app.leads.confirm` with primitive ids (tenant id first). Each
email has a dedup key per lead, outcome and recipient, so a retried job sends it once.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.delivery.mailer import account_email
from app.delivery.pipeline import deliver
from app.extensions import db
from app.formatting import format_money
from app.jobs.runner import run_in_tenant
from app.leads.models import Lead, LeadStatus
from app.notifications.language import email_locale, speaking
from app.tenants.context import require_tenant_id
from app.tenants.models import Tenant
from app.tenants.urls import tenant_url
from app.verification.service import owner_emails


def send_lead_outcome(tenant_id: str, lead_id: str) -> str:
    """Job: email the owners of business ``tenant_id`` the customer's decision on lead
    ``lead_id`` (``won``: the quote was accepted and booked; ``lost``: turned down or another
    quote chosen). Returns ``sent``, ``gone`` (no such lead) or ``skipped`` (undecided).

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_lead_outcome, lead_id)


def _send_lead_outcome(lead_id: str) -> str:
    tid = require_tenant_id()
    emails = owner_emails(tid)  # a platform read first, before this tenant's transaction reads anything
    lead = db.session.scalar(sa.select(Lead).where(Lead.id == uuid.UUID(lead_id)))
    if lead is None:
        return "gone"
    if lead.status not in (LeadStatus.WON, LeadStatus.LOST):
        return "skipped"
    tenant = db.session.get(Tenant, tid)
    link = tenant_url(tenant, "/dashboard/leads")
    for email in emails:
        with speaking(email_locale(email, tid)):  # each owner's own language
            subject, text = outcome_mail(lead, link)
        deliver(f"lead-outcome:{lead.id}:{lead.status}:{email}", account_email(email, subject, text))
    return "sent"


def outcome_mail(lead: Lead, link: str) -> tuple[str, str]:
    """The outcome email's subject and plain text (lead ``won`` or ``lost``), in the language in
    force; ``link`` is the business's leads page."""
    title = lead.title or _("a job request")
    if lead.status == LeadStatus.WON:
        price = (f" ({format_money(lead.quote_min_amount, lead.quote_currency)}–"
                 f"{format_money(lead.quote_max_amount or 0, lead.quote_currency)})"
                 if lead.quote_min_amount is not None and lead.quote_currency else "")
        return (_("Quote accepted: %(title)s", title=title),
                _("Good news: the customer accepted your quote%(price)s for “%(title)s” and booked it.",
                  price=price, title=title) + "\n"
                + _("The booking is in your calendar; the customer's details are on the lead.") + f"\n\n{link}\n")
    return (_("Not this time: %(title)s", title=title),
            _("The customer of “%(title)s” decided not to go ahead with your quote.", title=title) + "\n"
            + _("You can see your other leads here:") + f"\n\n{link}\n")
