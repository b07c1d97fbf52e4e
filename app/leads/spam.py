"""A provider reports a lead as spam: into the moderation queue, and off their inbox.

``"lead"`` is a reportable kind in :mod:`app.community.moderation` (registered here, since
app.leads sits above app.community): the report is stored for the business, its owners see it
under Reports, and the platform console's moderation queue gets it. Reporting a lead that is
still on offer withdraws it for this provider (``declined``, nothing spent); hiding it after a
report does the same, restoring puts an unexpired, unclaimed lead back on offer. Tenant in
scope; functions flush, never commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.audit.service import AuditActor, record_audit
from app.community.models import ContentReport
from app.community.moderation import Target, TargetKind, register, report_content
from app.extensions import db
from app.leads.models import Lead, LeadStatus
from app.timeutil import utcnow

#: ``content_report.target_type`` of a lead.
KIND = "lead"


def _get(lead_id: uuid.UUID) -> Lead | None:
    return db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))


def load_lead(lead_id: uuid.UUID) -> Target | None:
    """A lead as a moderation :class:`~app.community.moderation.Target`: its title and answers; its
    author is the customer (known by email once claimed); visible while not withdrawn."""
    lead = _get(lead_id)
    if lead is None:
        return None
    answers = " · ".join(f"{a.get('label', '')}: {a.get('text', '')}" for a in lead.answers_summary or []
                         if isinstance(a, dict))
    text = " ".join(f"{lead.title}. {answers}".split())
    excerpt = text if len(text) <= 280 else text[:280].rstrip() + "…"
    return Target(excerpt, lead.contact_name or "A customer", None, lead.contact_email or None,
                  lead.status != LeadStatus.DECLINED)


def set_lead_hidden(lead_id: uuid.UUID, hidden: bool) -> Lead | None:
    """Withdraw the lead for this business (``hidden``: an offered lead becomes ``declined``) or
    put it back on offer (an unclaimed, unexpired ``declined`` lead becomes ``offered``). Flushes."""
    lead = _get(lead_id)
    if lead is None:
        return None
    if hidden and lead.status == LeadStatus.OFFERED:
        lead.status = LeadStatus.DECLINED.value
        lead.decided_at = utcnow()
    elif not hidden and lead.status == LeadStatus.DECLINED and lead.claimed_at is None and (
            lead.expires_at is None or lead.expires_at > utcnow()):
        lead.status = LeadStatus.OFFERED.value
        lead.spam_reported_at = None
        lead.decided_at = None
    db.session.flush()
    return lead


def report_spam(lead: Lead, note: str, *, user_id: uuid.UUID, actor: AuditActor) -> ContentReport:
    """Report ``lead`` as spam (reason ``spam``) for the moderation queue; an offered lead is
    withdrawn for this business. Records an audit entry. Flushes.

    Raises:
        app.community.moderation.ReportError: the note is too long.
    """
    report = report_content(KIND, lead.id, "spam", note, reporter_user_id=user_id)
    lead.spam_reported_at = lead.spam_reported_at or utcnow()
    if lead.status == LeadStatus.OFFERED:
        lead.status = LeadStatus.DECLINED.value
        lead.decided_at = utcnow()
    db.session.flush()
    record_audit(actor, "lead.reported_spam", "lead", lead.id, after={"status": lead.status,
                                                                      "report_id": str(report.id)})
    return report


register(TargetKind(KIND, "Job request", load_lead, set_lead_hidden))
