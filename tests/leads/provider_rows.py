"""Rows for the provider-side lead tests (part W): a job request (platform table) and a lead
offered to a business, written directly (routing is another part's), plus credits."""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.credits import move_credits
from app.extensions import db
from app.leads.models import JobRequest, Lead
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from app.uow import unit_of_work

SUMMARY = [{"label": "What needs fixing?", "text": "Leaking kitchen tap"},
           {"label": "How urgent?", "text": "This week"}]
SCORE_PARTS = {"distance": {"value": 0.9, "weight": 0.3, "contribution": 0.27},
               "rating": {"value": 0.8, "weight": 0.4, "contribution": 0.32},
               "expertise": {"value": 1.0, "weight": 0.2, "contribution": 0.2}}


def make_request(*, email: str = "dana@example.com", name: str = "Dana Cole", phone: str = "+12125550123",
                 title: str = "Fix a leaking tap", user_id: uuid.UUID | None = None, status: str = "routed",
                 credits: int = 3) -> uuid.UUID:
    """A committed, routed job request in New York; returns its id."""
    request = JobRequest(status=status, title=title, details="The kitchen tap drips all night.",
                         summary=SUMMARY, complexity_score=40, complexity_tier=2, credits_cost=credits,
                         postcode="10001", city="New York", country="US", latitude=40.75, longitude=-73.99,
                         contact_name=name, contact_email=email, contact_phone=phone, user_id=user_id,
                         submitted_at=utcnow())
    db.session.add(request)
    db.session.commit()
    return request.id


def make_lead(tenant_id: uuid.UUID, job_request_id: uuid.UUID, *, status: str = "offered", credits: int = 3,
              expires_in_minutes: int = 120, title: str = "Fix a leaking tap", category: str = "plumbing",
              distance_km: float | None = 3.2, tier: int = 2, summary: list | None = None,
              **fields) -> uuid.UUID:
    """A committed lead of business ``tenant_id`` for ``job_request_id``; returns its id."""
    with tenant_scope(tenant_id), unit_of_work():
        lead = Lead(job_request_id=job_request_id, status=status, category_slug=category, title=title,
                    answers_summary=SUMMARY if summary is None else summary, postcode="10001", city="New York", distance_km=distance_km,
                    timing="This week", complexity_tier=tier, credits_cost=credits, routing_tier=1, score=0.79,
                    score_parts=SCORE_PARTS, expires_at=utcnow() + timedelta(minutes=expires_in_minutes), **fields)
        db.session.add(lead)
        db.session.flush()
        lead_id = lead.id
    return lead_id


def give_credits(tenant_id: uuid.UUID, amount: int, key: str = "test-grant") -> None:
    """Grant ``amount`` credits to business ``tenant_id`` (committed)."""
    with tenant_scope(tenant_id), unit_of_work():
        move_credits("grant", amount, key)


def add_member(tenant_id: uuid.UUID, email: str, role: str = "manager", name: str = "Sam Staff") -> uuid.UUID:
    """A committed account with ``role`` in business ``tenant_id``; returns the account id."""
    from app.tenants.models import Membership
    from tests.factories import make_user

    user_id = make_user(email, name=name)
    with tenant_scope(tenant_id), unit_of_work():
        db.session.add(Membership(tenant_id=tenant_id, user_id=user_id, role=role))
    return user_id
