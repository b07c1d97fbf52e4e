"""Routing a submitted job request: candidates in three tiers, the top two offered as leads with
their score and its parts, every candidate kept for the console, the provider emailed, and a
second run changing nothing; with nobody matching, the request lands in manual fulfilment."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db
from app.jobs.runner import enqueue
from app.leads.models import JobRequestStatus, Lead, LeadStatus
from app.leads.routing import postcode_in_area, rank_candidates
from app.leads.routing_models import RoutingCandidate
from app.leads.routing_tasks import route_request
from app.outbox.relay import relay_outbox
from app.tenants.context import platform_scope
from tests.leads.routing_factories import BROOKLYN, NEWARK, get_request, make_provider, make_request
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration


def _leads(job_id):
    with platform_scope("tests: leads"):
        return list(db.session.scalars(sa.select(Lead).where(Lead.job_request_id == job_id)
                                       .order_by(Lead.score.desc())))


def _candidates(job_id):
    with platform_scope("tests: candidates"):
        return list(db.session.scalars(sa.select(RoutingCandidate).where(RoutingCandidate.job_request_id == job_id)
                                       .order_by(RoutingCandidate.round, RoutingCandidate.rank)))


def test_postcode_areas_match_exactly_or_by_uk_outward_code():
    assert postcode_in_area("10001", ["10001", "10002"])
    assert not postcode_in_area("10001", ["1000"])  # a US ZIP is never a prefix match
    assert postcode_in_area("sw1a 1aa", ["SW1A"])
    assert not postcode_in_area("SW1A 1AA", ["SW1"])
    assert not postcode_in_area("", ["10001"])


def test_candidates_come_in_three_tiers_and_only_opted_in_active_providers_of_the_category(ctx):
    area = make_provider("area-plumbing", postcode="11201", city="Brooklyn", point=BROOKLYN,
                         service_postcodes=["10001"])
    base = make_provider("base-plumbing", postcode="10001")
    radius = make_provider("radius-plumbing", postcode="11215", city="Brooklyn", point=BROOKLYN, radius_km=20)
    make_provider("far-plumbing", postcode="07102", city="Newark", point=NEWARK, radius_km=5)
    make_provider("cleaner", category="cleaning", service_postcodes=["10001"])
    make_provider("not-opted-in", accepts=False, service_postcodes=["10001"])
    make_provider("suspended", suspended=True, service_postcodes=["10001"])
    job_id = make_request()
    ranked = rank_candidates(get_request(job_id))
    assert [(c.business_id, c.tier) for c in ranked] == [(area, 1), (base, 2), (radius, 3)]
    assert ranked[2].distance_km == pytest.approx(9.0, abs=1.0)


def test_the_top_two_get_leads_with_their_score_and_every_candidate_is_kept(app, ctx, mailbox):
    best = make_provider("best-plumbing", service_postcodes=["10001"], rating=(4.9, 40), verified=True,
                         owner_email="best@example.com")
    second = make_provider("second-plumbing", service_postcodes=["10001"], rating=(3.0, 10))
    third = make_provider("third-plumbing", postcode="10001", rating=(5.0, 100))
    job_id = make_request(title="Fix a leaking tap", credits_cost=3)

    assert route_request(str(job_id)) == "routed"
    assert route_request(str(job_id)) == "skipped"  # idempotent: no second set of leads

    job = get_request(job_id)
    assert job.status == JobRequestStatus.ROUTED and job.routing_round == 1 and job.routed_until is not None
    leads = _leads(job_id)
    assert [lead.tenant_id for lead in leads] == [best, second]  # tier 1 beats a better-rated tier 2
    first = leads[0]
    assert (first.status, first.source, first.routing_tier, first.credits_cost) == (LeadStatus.OFFERED, "routed", 1, 3)
    assert first.title == "Fix a leaking tap" and first.answers_summary == [{"label": "What leaks?",
                                                                             "text": "Kitchen tap"}]
    assert first.expires_at == job.routed_until and first.timing == "Flexible"
    assert first.score > leads[1].score
    assert sum(p["contribution"] for p in first.score_parts.values()) == pytest.approx(first.score, abs=1e-5)
    assert first.score_parts["verified"]["value"] == 1.0

    kept = _candidates(job_id)
    assert [(c.business_id, c.outcome, c.rank) for c in kept] == [
        (best, "offered", 1), (second, "offered", 2), (third, "not_picked", 3)]
    assert kept[2].tier == 2 and kept[2].score_parts["rating"]["weight"] == 25

    with platform_scope("tests: audit"):
        [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "job_request.routed"))
    assert entry.object_id == str(job_id) and len(entry.after["offered"]) == 2 and entry.after["candidates"] == 3

    relay_outbox()
    assert run_jobs(app) == []
    [msg] = mailbox.to("best@example.com")
    assert subject_of(msg) == "New job request: Fix a leaking tap in 10001 New York"
    assert "costs 3 credits" in text_of(msg) and "http://best-plumbing.localhost" in text_of(msg)
    assert mailbox.to("owner@second-plumbing.test") and not mailbox.to("owner@third-plumbing.test")


def test_a_request_nobody_matches_goes_to_manual_fulfilment(ctx):
    make_provider("cleaner", category="cleaning", service_postcodes=["10001"])
    job_id = make_request()
    assert route_request(str(job_id)) == "manual"
    assert get_request(job_id).status == JobRequestStatus.MANUAL
    assert _leads(job_id) == []
    with platform_scope("tests: audit"):
        [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "job_request.to_manual"))
    assert entry.reason == "no provider matched"


def test_a_provider_already_offered_the_request_is_not_a_candidate_again(ctx):
    make_provider("only-plumbing", service_postcodes=["10001"])
    job_id = make_request()
    route_request(str(job_id))
    assert rank_candidates(get_request(job_id)) == []


def test_two_routing_jobs_at_once_make_one_set_of_leads(app, ctx):
    for slug in ("a-plumbing", "b-plumbing", "c-plumbing"):
        make_provider(slug, service_postcodes=["10001"])
    job_id = make_request()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        with app.app_context():
            barrier.wait(30)
            outcomes.append(route_request(str(job_id)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["routed", "skipped"]
    assert len(_leads(job_id)) == 2 and len(_candidates(job_id)) == 3


def test_the_enqueued_job_routes_the_request(app, ctx):
    make_provider("a-plumbing", service_postcodes=["10001"])
    job_id = make_request()
    enqueue("app.leads.routing_tasks.route_request", str(job_id))
    assert run_jobs(app) == []
    assert get_request(job_id).status == JobRequestStatus.ROUTED
