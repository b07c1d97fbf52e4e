"""A job request's history for its customer: what happened, when, derived from the request's and
its leads' own timestamps (no table of its own), oldest first.

Events: ``submitted``; ``sent`` (offered to a provider); ``claimed``, ``quoted`` and ``won`` /
``lost`` per provider who took it up; ``booked``; ``closed`` / ``cancelled``. Instants are tz-aware
UTC. Providers that only received the offer stay anonymous (``business`` ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus
from app.tenants.context import platform_scope
from app.tenants.models import Tenant


@dataclass(frozen=True)
class HistoryEvent:
    """One thing that happened to the request: ``event`` (see the module docstring), ``at``
    (UTC) and the ``business`` it concerns (``None`` for the request itself or an anonymous offer)."""

    event: str
    at: datetime
    business: str | None = None


def request_history(job_request: JobRequest) -> list[HistoryEvent]:
    """The request's events, oldest first (ties keep the order of the module docstring)."""
    with platform_scope("job request: the customer's history"):
        rows = db.session.execute(sa.select(Lead, Tenant.name).join(Tenant, Tenant.id == Lead.tenant_id)
                                  .where(Lead.job_request_id == job_request.id)).all()
    events: list[tuple[int, HistoryEvent]] = []
    if job_request.submitted_at:
        events.append((0, HistoryEvent("submitted", job_request.submitted_at)))
    for lead, name in rows:
        events.append((1, HistoryEvent("sent", lead.offered_at)))
        if lead.claimed_at:
            events.append((2, HistoryEvent("claimed", lead.claimed_at, name)))
        if lead.quoted_at:
            events.append((3, HistoryEvent("quoted", lead.quoted_at, name)))
        if lead.decided_at and lead.status in (LeadStatus.WON, LeadStatus.LOST):
            events.append((4, HistoryEvent(lead.status, lead.decided_at, name)))
            if lead.status == LeadStatus.WON:
                events.append((5, HistoryEvent("booked", lead.decided_at, name)))
    if job_request.closed_at and job_request.status in (JobRequestStatus.CLOSED, JobRequestStatus.CANCELLED):
        events.append((6, HistoryEvent(job_request.status, job_request.closed_at)))
    return [e for _rank, e in sorted(events, key=lambda pair: (pair[1].at, pair[0]))]
