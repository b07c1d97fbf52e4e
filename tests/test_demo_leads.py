"""``flask seed-demo``'s job requests (issue 13, seed 002): handyman, cleaning and plumbing
providers around New York ZIP codes and London postcodes with service areas and credit
balances, and job requests in every state — fast, deterministic and once."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.credits import balance, entries
from app.demo_leads import PROVIDERS, REQUESTS, demo_id, seed_leads_demo
from app.extensions import db
from app.identity.service import authenticate
from app.leads.models import JobRequest, Lead
from app.leads.questions import questions_for
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant

pytestmark = pytest.mark.integration

PASSWORD = "demo-password-1"


def providers() -> dict[str, Tenant]:
    return {t.slug: t for t in db.session.scalars(sa.select(Tenant).where(
        Tenant.slug.in_([p.slug for p in PROVIDERS])))}


def test_the_demo_has_providers_in_both_cities_with_areas_and_credits(ctx):
    created = seed_leads_demo(PASSWORD)
    db.session.commit()
    assert len(created) == 3 + len(PROVIDERS) + len(REQUESTS)  # the three categories' questions too
    assert [q.label for q in questions_for("plumbing")][:2] == ["What needs fixing?", "Is water leaking right now?"]
    assert {q.kind for q in questions_for("cleaning")} == {"single_choice", "number", "yes_no"}
    found = providers()
    assert {t.category_slug for t in found.values()} == {"handyman", "cleaning", "plumbing"}
    assert {t.city for t in found.values()} == {"New York", "London"}
    ny = [t for t in found.values() if t.city == "New York"]
    assert {"10001", "10011", "11201"} <= {code for t in ny for code in t.service_postcodes}
    assert all(t.accepts_job_requests and t.service_radius_km and t.latitude for t in found.values())
    assert authenticate("owner@demo-lead-chelsea-plumbing.test", PASSWORD) is not None
    for t in found.values():
        with tenant_scope(t.id):
            ledger = list(reversed(entries()))
            assert ledger[0].kind == "purchase" and ledger[0].money_amount == 6000
            assert balance() == ledger[-1].balance_after == 15 + sum(e.amount for e in ledger[1:])
    with tenant_scope(found["demo-lead-brooklyn-pipes"].id):
        assert [e.kind for e in reversed(entries())] == ["purchase", "claim"]


def test_the_demo_has_requests_in_every_state_and_a_won_job_in_the_calendar(ctx):
    seed_leads_demo(PASSWORD)
    db.session.commit()
    with platform_scope("test: demo job requests"):
        statuses = Counter(db.session.scalars(sa.select(JobRequest.status).where(
            JobRequest.id.in_([demo_id(r.key) for r in REQUESTS]))))
        leads = Counter(db.session.scalars(sa.select(Lead.status)))
        tap = db.session.get(JobRequest, demo_id("ny-leaking-tap"))
        won = db.session.get(JobRequest, demo_id("ny-bathroom-tap"))
        assert tap.summary[0] == {"label": "What needs doing?", "text": "Fix or replace a tap"}
        assert tap.postcode == "10011" and tap.manage_token_hash
    assert {"open", "routed", "quoted", "booked", "manual"} <= set(statuses)
    assert {"offered", "claimed", "quoted", "won", "lost"} <= set(leads)
    brooklyn = providers()["demo-lead-brooklyn-pipes"]
    with tenant_scope(brooklyn.id):
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == won.won_lead_id))
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == lead.booking_id))
        assert lead.status == "won" and lead.quote_min_amount == 9000 and lead.quote_currency == "USD"
        assert booking is not None and booking.status == "confirmed"
        assert sum(p["contribution"] for p in lead.score_parts.values()) == pytest.approx(lead.score, abs=0.01)
    with tenant_scope(providers()["demo-lead-chelsea-plumbing"].id):
        offered = db.session.scalars(sa.select(Lead).where(Lead.job_request_id == tap.id)).all()
        assert [x.status for x in offered] == ["offered"] and offered[0].contact_email == ""  # no contact before a claim


def test_seeding_again_changes_nothing(ctx):
    seed_leads_demo(PASSWORD)
    db.session.commit()
    assert seed_leads_demo(PASSWORD) == []
    db.session.commit()
    with platform_scope("test: count"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == sum(len(r.leads) for r in REQUESTS)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
