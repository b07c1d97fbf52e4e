"""The leads sweep, with the clock moved: unclaimed offers lapse and the request reaches manual
fulfilment; a claimer who never contacted the customer gets the credits back and loses the claim;
a request nobody confirmed closes and refunds whoever claimed; an open request the enqueue missed
is routed. Every run can be repeated — even two at once — without a second refund."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.credits import balance, entries, move_credits
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus
from app.leads.routing_tasks import route_request
from app.leads.sweeps import sweep
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow
from app.uow import unit_of_work
from tests.leads.routing_factories import get_request, make_provider, make_request

pytestmark = pytest.mark.integration

NOTHING = {"routed": 0, "refunded": 0, "expired": 0, "to_manual": 0, "closed": 0, "purged": 0}


def _leads(job_id) -> list[Lead]:
    with platform_scope("tests: leads"):
        return list(db.session.scalars(sa.select(Lead).where(Lead.job_request_id == job_id)
                                       .order_by(Lead.score.desc()).execution_options(populate_existing=True)))


def _audit(action: str) -> list[AuditEntry]:
    with platform_scope("tests: audit"):
        return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _sweep(at):
    return run_on_platform(sweep, at)


def _claim(lead: Lead, *, credits: int = 5, contact_hours: int = 24, quoted: bool = False) -> None:
    """What part W's claim does, written directly: credits spent, the lead claimed (and quoted)."""
    now = utcnow()
    with platform_scope("tests: the lead's keys"):
        tenant_id, lead_id, cost = lead.tenant_id, lead.id, lead.credits_cost
    with tenant_scope(tenant_id), unit_of_work():
        move_credits("purchase", credits, f"checkout:test-{lead_id}")
        move_credits("claim", -cost, f"claim:{lead_id}", lead_id=lead_id)
        row = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))
        row.status = LeadStatus.QUOTED.value if quoted else LeadStatus.CLAIMED.value
        row.claimed_at, row.contact_due_at = now, now + timedelta(hours=contact_hours)
        if quoted:
            row.contacted_at, row.quoted_at = now, now
            row.quote_min_amount, row.quote_max_amount, row.quote_currency = 9000, 14000, "USD"


def _balance(tenant_id) -> int:
    with tenant_scope(tenant_id):
        return balance()


def test_unclaimed_offers_lapse_and_the_request_reaches_manual_fulfilment(ctx):
    make_provider("a-plumbing", service_postcodes=["10001"])
    make_provider("b-plumbing", service_postcodes=["10001"])
    job_id = make_request()
    route_request(str(job_id))
    until = get_request(job_id).routed_until

    assert _sweep(until - timedelta(minutes=1)) == NOTHING  # still within the window
    assert _sweep(until + timedelta(minutes=1)) == {**NOTHING, "expired": 2, "to_manual": 1}
    assert get_request(job_id).status == JobRequestStatus.MANUAL
    assert {lead.status for lead in _leads(job_id)} == {LeadStatus.EXPIRED}
    assert [e.reason for e in _audit("job_request.to_manual")] == ["no provider claimed in time"]
    assert len(_audit("lead.expired")) == 2
    assert _sweep(until + timedelta(minutes=2)) == NOTHING  # idempotent


def test_a_claim_keeps_the_request_out_of_manual_fulfilment(ctx):
    make_provider("a-plumbing", service_postcodes=["10001"])
    make_provider("b-plumbing", service_postcodes=["10001"])
    job_id = make_request()
    route_request(str(job_id))
    first, _ = _leads(job_id)
    _claim(first, contact_hours=48)
    until = get_request(job_id).routed_until
    assert _sweep(until + timedelta(minutes=1)) == {**NOTHING, "expired": 1}
    assert get_request(job_id).status == JobRequestStatus.ROUTED


def test_a_claimer_who_never_made_contact_gets_the_credits_back_once(ctx):
    provider = make_provider("a-plumbing", service_postcodes=["10001"])
    job_id = make_request(credits_cost=3)
    route_request(str(job_id))
    [lead] = _leads(job_id)
    _claim(lead, credits=5, contact_hours=24)
    assert _balance(provider) == 2
    later = utcnow() + timedelta(hours=25)

    assert _sweep(later)["refunded"] == 1
    assert _sweep(later)["refunded"] == 0
    [lead] = _leads(job_id)
    assert lead.status == LeadStatus.REFUNDED
    assert _balance(provider) == 5
    with tenant_scope(provider):
        assert [(e.kind, e.amount, e.idempotency_key) for e in entries()][0] == ("refund", 3, f"refund:{lead.id}")
    [entry] = _audit("lead.refunded")
    assert entry.tenant_id == provider and entry.reason == "no contact in time"
    # nobody else holds it: once the window is over it goes to manual fulfilment
    assert get_request(job_id).status == JobRequestStatus.MANUAL


def test_a_claimer_who_made_contact_keeps_the_claim(ctx):
    provider = make_provider("a-plumbing", service_postcodes=["10001"])
    job_id = make_request()
    route_request(str(job_id))
    [lead] = _leads(job_id)
    _claim(lead, quoted=True)
    assert _sweep(utcnow() + timedelta(hours=25))["refunded"] == 0
    assert _leads(job_id)[0].status == LeadStatus.QUOTED and _balance(provider) == 3


def test_a_request_nobody_confirmed_closes_and_refunds_claimed_and_quoted_leads(ctx):
    claimer = make_provider("a-plumbing", service_postcodes=["10001"])
    quoter = make_provider("b-plumbing", service_postcodes=["10001"])
    job_id = make_request(credits_cost=2)
    route_request(str(job_id))
    leads = {lead.tenant_id: lead for lead in _leads(job_id)}
    _claim(leads[claimer], contact_hours=24 * 30)
    _claim(leads[quoter], quoted=True)

    result = _sweep(utcnow() + timedelta(days=15))
    assert (result["closed"], result["refunded"]) == (1, 2)
    job = get_request(job_id)
    assert (job.status, job.closed_reason) == (JobRequestStatus.CLOSED, "no quote confirmed")
    statuses = {lead.tenant_id: lead.status for lead in _leads(job_id)}
    assert statuses == {claimer: LeadStatus.REFUNDED, quoter: LeadStatus.LOST}
    assert _balance(claimer) == 5 and _balance(quoter) == 5
    assert len(_audit("job_request.closed")) == 1


def test_an_open_request_the_enqueue_missed_is_routed(ctx):
    make_provider("a-plumbing", service_postcodes=["10001"])
    fresh = make_request(submitted_at=utcnow())
    missed = make_request(submitted_at=utcnow() - timedelta(minutes=5))
    assert _sweep(utcnow())["routed"] == 1
    assert get_request(missed).status == JobRequestStatus.ROUTED
    assert get_request(fresh).status == JobRequestStatus.OPEN


def test_two_sweeps_at_once_refund_each_lead_once(app, ctx):
    providers = [make_provider(f"p{i}-plumbing", service_postcodes=["10001"]) for i in range(4)]
    jobs = [make_request(email=f"c{i}@example.com") for i in range(3)]
    for job_id in jobs:
        route_request(str(job_id))
    for job_id in jobs:
        for lead in _leads(job_id):
            _claim(lead, credits=2, contact_hours=1)
    later = utcnow() + timedelta(hours=2)
    barrier = threading.Barrier(2)
    results: list[dict] = []

    def run() -> None:
        with app.app_context():
            barrier.wait(30)
            results.append(_sweep(later))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = sum(len(_leads(j)) for j in jobs)
    assert claimed == 6
    assert sum(r["refunded"] for r in results) == claimed
    assert len(_audit("lead.refunded")) == claimed
    assert sum(_balance(p) for p in providers) == sum(2 * len([1 for j in jobs for lead in _leads(j)
                                                               if lead.tenant_id == p]) for p in providers)


def test_abandoned_drafts_and_never_confirmed_requests_are_deleted_after_a_month(ctx):
    draft = make_request(status=JobRequestStatus.DRAFT)
    unconfirmed = make_request(status=JobRequestStatus.UNCONFIRMED, email="guest@example.com")
    kept = make_request()
    assert _sweep(utcnow() + timedelta(days=29))["purged"] == 0
    assert _sweep(utcnow() + timedelta(days=31))["purged"] == 2
    with platform_scope("tests: what is left"):
        db.session.expire_all()
        left = set(db.session.scalars(sa.select(JobRequest.id)))
    assert draft not in left and unconfirmed not in left and kept in left
