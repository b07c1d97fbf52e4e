"""The console's manual fulfilment: the queue of requests nobody took (with their candidates),
a request's routing story, and an admin assigning a provider with a reason — the provider gets a
manual lead and an email, the request is routed again, and the override is in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.leads.models import JobRequestStatus, Lead, LeadStatus
from app.leads.routing_tasks import route_request
from app.leads.sweeps import sweep
from app.outbox.relay import relay_outbox
from app.tenants.context import platform_scope
from tests.factories import make_user
from tests.helpers import csrf_from, login_admin, login_as
from tests.leads.routing_factories import get_request, make_provider, make_request
from tests.support.conftest_mail import run_jobs, subject_of

pytestmark = pytest.mark.integration

APEX = "http://localhost"
ADMIN = "root@plaza.test"


def _admin(client):
    make_user(ADMIN, is_platform_admin=True)
    login_admin(client, ADMIN)
    return client


def _lapsed_request():
    """A request routed to one provider who let the offer lapse: now in the manual queue."""
    make_provider("slow-plumbing", service_postcodes=["10001"])
    job_id = make_request(title="Fix a leaking tap")
    route_request(str(job_id))
    run_on_platform(sweep, get_request(job_id).routed_until + timedelta(minutes=1))
    assert get_request(job_id).status == JobRequestStatus.MANUAL
    return job_id


def _leads(job_id):
    with platform_scope("tests: leads"):
        return list(db.session.scalars(sa.select(Lead).where(Lead.job_request_id == job_id)
                                       .order_by(Lead.offered_at)))


def test_the_queue_lists_waiting_requests_with_their_candidates(client, ctx):
    job_id = _lapsed_request()
    nobody = make_request(title="Unblock a drain", category="cleaning")
    route_request(str(nobody))
    page = _admin(client).get("/admin/fulfilment", base_url=APEX)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Fix a leaking tap") < html.index("Unblock a drain")  # oldest first
    assert "Slow-Plumbing" in html and "Service area" in html and "No provider matched." in html
    assert f"/admin/fulfilment/{job_id}" in html


def test_the_request_page_shows_every_candidate_and_why(client, ctx):
    job_id = _lapsed_request()
    make_provider("base-plumbing", postcode="10001", city="Elsewhere")  # joined after the round
    html = _admin(client).get(f"/admin/fulfilment/{job_id}", base_url=APEX).get_data(as_text=True)
    assert "Round 1" in html and "Slow-Plumbing" in html and "Why this score" in html
    assert "Rating" in html and "Time since last lead" in html
    assert "expired" in html  # the lapsed lead
    search = client.get(f"/admin/fulfilment/{job_id}?q=base&block=search",
                                base_url=APEX, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert search.lstrip().startswith('<fieldset id="ff-search"') and "Base-Plumbing" in search
    assert "Slow-Plumbing" not in search


def test_an_admin_assigns_a_provider_who_gets_a_manual_lead_and_an_email(app, client, ctx, mailbox):
    job_id = _lapsed_request()
    chosen = make_provider("chosen-plumbing", postcode="07030", city="Hoboken", point=None,
                           owner_email="chosen@example.com")
    _admin(client)
    page = client.get(f"/admin/fulfilment/{job_id}?q=chosen", base_url=APEX).get_data(as_text=True)
    resp = client.post(f"/admin/fulfilment/{job_id}/assign", base_url=APEX,
                       data={"csrf_token": csrf_from(page), "business_id": str(chosen),
                             "reason": "Called them: they cover Manhattan"})
    assert resp.status_code == 303
    job = get_request(job_id)
    assert (job.status, job.assigned_business_id, job.routing_round) == (JobRequestStatus.ROUTED, chosen, 2)
    lead = _leads(job_id)[-1]
    assert (lead.tenant_id, lead.source, lead.status) == (chosen, "manual", LeadStatus.OFFERED)
    assert lead.routing_tier is None and "rating" in lead.score_parts
    with platform_scope("tests: audit"):
        [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "job_request.assigned"))
    assert entry.reason == "Called them: they cover Manhattan" and entry.after["business_id"] == str(chosen)
    relay_outbox()
    assert run_jobs(app) == []
    [msg] = mailbox.to("chosen@example.com")
    assert subject_of(msg).startswith("New job request: Fix a leaking tap")
    detail = client.get(f"/admin/fulfilment/{job_id}", base_url=APEX).get_data(as_text=True)
    assert "Round 2 (assigned by an admin)" in detail
    assert "Fix a leaking tap" not in client.get("/admin/fulfilment", base_url=APEX).get_data(as_text=True)


@pytest.mark.parametrize(("form", "field_error"), [
    ({"reason": ""}, "Say why you assign this provider"),
    ({"business_id": "nope"}, "Choose a business."),
    ({"business_id": "slow"}, "already had this request"),
])
def test_a_bad_assignment_is_answered_inline_with_422_and_writes_nothing(client, ctx, form, field_error):
    job_id = _lapsed_request()
    other = make_provider("other-plumbing", postcode="99999", city="Nowhere")
    slow = _leads(job_id)[0].tenant_id
    _admin(client)
    page = client.get(f"/admin/fulfilment/{job_id}", base_url=APEX).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "business_id": str(other), "reason": "Trusted"} | form
    if data["business_id"] == "slow":
        data["business_id"] = str(slow)
    resp = client.post(f"/admin/fulfilment/{job_id}/assign", base_url=APEX, data=data)
    assert resp.status_code == 422 and field_error in resp.get_data(as_text=True)
    assert get_request(job_id).status == JobRequestStatus.MANUAL and len(_leads(job_id)) == 1


def test_only_platform_admins_see_the_console_pages(client, ctx):
    job_id = _lapsed_request()
    make_user("someone@example.com")
    login_as(client, "someone@example.com")
    assert client.get("/admin/fulfilment", base_url=APEX).status_code == 404
    assert client.get(f"/admin/fulfilment/{job_id}", base_url=APEX).status_code == 404
