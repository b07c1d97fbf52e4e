"""Rows for the customer-side tests: a submitted job request and its leads at providers, written
directly (the wizard, routing, claims and quotes are other parts' work)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from app.extensions import db
from app.leads.access import issue_manage_token
from app.leads.models import JobRequest, Lead
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow


@dataclass
class RequestRows:
    """Ids of a job request made by :func:`make_request` and its manage token."""

    id: uuid.UUID
    token: str


def make_request(*, user_id: uuid.UUID | None = None, status: str = "routed", email: str = "cara@example.test",
                 title: str = "Fix a leaking kitchen tap") -> RequestRows:
    """A committed, submitted job request in New York 10001 (platform table)."""
    with platform_scope("test: a job request"):
        jr = JobRequest(status=status, title=title, details="It drips all night.", postcode="10001",
                        city="New York", country="US", contact_name="Cara Customer", contact_email=email,
                        contact_phone="", user_id=user_id, submitted_at=utcnow() - timedelta(hours=3),
                        complexity_score=40, complexity_tier=2, credits_cost=2,
                        summary=[{"label": "What leaks?", "text": "The kitchen tap"}])
        token = issue_manage_token(jr)
        db.session.add(jr)
        db.session.flush()
        rid = jr.id
    db.session.commit()
    return RequestRows(rid, token)


def make_lead(tenant_id: uuid.UUID, job_request_id: uuid.UUID, *, status: str = "quoted", low: int = 9000,
              high: int = 14000, currency: str = "USD", message: str = "Can come tomorrow.") -> uuid.UUID:
    """A committed lead of ``job_request_id`` at business ``tenant_id``; quoted (``low``–``high``
    minor units) unless ``status`` says otherwise."""
    now = utcnow()
    with tenant_scope(tenant_id):
        lead = Lead(job_request_id=job_request_id, status=status, title="Fix a leaking kitchen tap",
                    postcode="10001", city="New York", complexity_tier=2, credits_cost=2,
                    offered_at=now - timedelta(hours=2), expires_at=now + timedelta(hours=2))
        if status in ("claimed", "quoted", "won", "lost"):
            lead.claimed_at = now - timedelta(hours=1)
            lead.contact_name, lead.contact_email = "Cara Customer", "cara@example.test"
        if status in ("quoted", "won", "lost"):
            lead.quote_min_amount, lead.quote_max_amount, lead.quote_currency = low, high, currency
            lead.quote_message, lead.quoted_at = message, now - timedelta(minutes=30)
        db.session.add(lead)
        db.session.flush()
        lid = lead.id
    db.session.commit()
    return lid
