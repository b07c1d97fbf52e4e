"""The lead inbox in the dashboard: tabs with counts, filters and live search; the lead page
with why it came; a manager claims (or is told to buy credits), quotes and chats; plain staff read
but cannot claim (403); another business's lead is a 404; spam reports reach the moderation queue."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.community.models import ContentReport
from app.extensions import db
from app.leads.models import Lead
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from, login_as
from tests.leads.provider_rows import add_member, give_credits, make_lead, make_request

pytestmark = pytest.mark.integration

HOST = "fixit.localhost"
BASE = f"http://{HOST}"


@pytest.fixture
def fixit(ctx):
    """Fixit (USD) with a manager, a plain staff member, 10 credits and two offered leads."""
    biz = make_business("fixit", currency="USD", timezone="America/New_York")
    add_member(biz.tenant_id, "manager@fixit.test", "manager", name="Mia Manager")
    add_member(biz.tenant_id, "staff@fixit.test", "staff", name="Sol Staff")
    give_credits(biz.tenant_id, 10)
    tap = make_lead(biz.tenant_id, make_request(), credits=3)
    clean = make_lead(biz.tenant_id, make_request(email="eve@example.com", title="Deep clean a flat"),
                      title="Deep clean a flat", category="cleaning", distance_km=18.0, tier=4, credits=5,
                      summary=[{"label": "Rooms", "text": "Three rooms and a kitchen"}])
    return biz, tap, clean


def _client(app, email: str):
    client = app.test_client()
    login_as(client, email, host=HOST)
    return client


def _lead(tenant_id, lead_id) -> Lead:
    with tenant_scope(tenant_id):
        found = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))
        db.session.expunge(found)
        return found


def test_the_inbox_shows_tabs_counts_filters_and_live_search(app, fixit):
    biz, tap, clean = fixit
    staff = _client(app, "staff@fixit.test")
    html = staff.get("/dashboard/leads", base_url=BASE).get_data(as_text=True)
    assert "Fix a leaking tap" in html and "Deep clean a flat" in html
    assert "10</strong> credits" in html
    for label in ("Available", "Claimed", "Quoted", "Won", "Lost", "Refunded"):
        assert f">{label} <span" in html
    assert 'Available <span class="ld-count">2</span>' in html
    near = staff.get("/dashboard/leads?distance=5", base_url=BASE, headers={"HX-Request": "true"})
    body = near.get_data(as_text=True)
    assert "Fix a leaking tap" in body and "Deep clean a flat" not in body and "<html" not in body
    tier = staff.get("/dashboard/leads?tier=4&category=cleaning", base_url=BASE).get_data(as_text=True)
    assert "Deep clean a flat" in tier and "Fix a leaking tap" not in tier
    search = staff.get("/dashboard/leads?q=leaking", base_url=BASE, headers={"HX-Request": "true"}).get_data(
        as_text=True)
    assert "Fix a leaking tap" in search and "Deep clean a flat" not in search
    claimed = staff.get("/dashboard/leads?tab=claimed", base_url=BASE).get_data(as_text=True)
    assert "Nothing here yet." in claimed


def test_a_manager_claims_quotes_and_chats(app, fixit):
    biz, tap, _ = fixit
    manager = _client(app, "manager@fixit.test")
    page = manager.get(f"/dashboard/leads/{tap}", base_url=BASE).get_data(as_text=True)
    assert "Why this lead came to you" in page and "The job&#39;s postcode is in your service area." in page
    assert "Leaking kitchen tap" in page and "dana@example.com" not in page
    token = csrf_from(page)
    resp = manager.post(f"/dashboard/leads/{tap}/claim", data={"csrf_token": token}, base_url=BASE)
    assert resp.status_code == 303
    page = manager.get(f"/dashboard/leads/{tap}", base_url=BASE).get_data(as_text=True)
    assert "dana@example.com" in page and "+12125550123" in page and "7</strong> credits" in page

    bad = manager.post(f"/dashboard/leads/{tap}/quote", data={
        "csrf_token": token, "min_price": "140", "max_price": "90", "duration_minutes": "120",
        "message": "Thursday?"}, base_url=BASE)
    assert bad.status_code == 422
    assert "The highest price must be at least the lowest." in bad.get_data(as_text=True)
    resp = manager.post(f"/dashboard/leads/{tap}/quote", data={
        "csrf_token": token, "min_price": "90", "max_price": "140", "duration_minutes": "120",
        "message": "I can come Thursday."}, base_url=BASE)
    assert resp.status_code == 303
    lead = _lead(biz.tenant_id, tap)
    assert (lead.status, lead.quote_min_amount, lead.quote_max_amount, lead.contacted_at is not None) == (
        "quoted", 9000, 14000, True)

    resp = manager.post(f"/dashboard/leads/{tap}/message", data={"csrf_token": token, "body": "See you then!"},
                        base_url=BASE)
    assert resp.status_code == 303
    page = manager.get(f"/dashboard/leads/{tap}", base_url=BASE).get_data(as_text=True)
    assert "$90.00–$140.00, about 2 h" in page and "See you then!" in page
    quoted = manager.get("/dashboard/leads?tab=quoted", base_url=BASE).get_data(as_text=True)
    assert "Fix a leaking tap" in quoted and 'Quoted <span class="ld-count">1</span>' in quoted


def test_short_of_credits_links_to_the_credits_page(app, fixit):
    biz, _, clean = fixit
    with tenant_scope(biz.tenant_id):
        from app.credits import move_credits
        from app.uow import unit_of_work
        with unit_of_work():
            move_credits("adjustment", -8, "test-drain")
    manager = _client(app, "manager@fixit.test")
    token = csrf_from(manager.get(f"/dashboard/leads/{clean}", base_url=BASE).get_data(as_text=True))
    resp = manager.post(f"/dashboard/leads/{clean}/claim", data={"csrf_token": token}, base_url=BASE)
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "needs 5 credits and you have 2" in html and 'href="/dashboard/credits"' in html
    assert _lead(biz.tenant_id, clean).status == "offered"


def test_plain_staff_read_but_cannot_claim_and_outsiders_see_nothing(app, fixit):
    biz, tap, _ = fixit
    staff = _client(app, "staff@fixit.test")
    page = staff.get(f"/dashboard/leads/{tap}", base_url=BASE).get_data(as_text=True)
    assert "Owners and managers claim leads." in page
    resp = staff.post(f"/dashboard/leads/{tap}/claim", data={"csrf_token": csrf_from(page)}, base_url=BASE)
    assert resp.status_code == 403
    other = make_business("other", currency="USD", owner_email="owner@other.test")
    theirs = make_lead(other.tenant_id, make_request(email="zed@example.com"))
    assert staff.get(f"/dashboard/leads/{theirs}", base_url=BASE).status_code == 404
    assert staff.get("/dashboard/leads/not-a-uuid", base_url=BASE).status_code == 404


def test_a_spam_report_reaches_moderation_and_withdraws_the_lead(app, fixit):
    biz, tap, _ = fixit
    manager = _client(app, "manager@fixit.test")
    token = csrf_from(manager.get(f"/dashboard/leads/{tap}", base_url=BASE).get_data(as_text=True))
    resp = manager.post(f"/dashboard/leads/{tap}/spam", data={"csrf_token": token, "note": "Selling pills"},
                        base_url=BASE)
    assert resp.status_code == 303
    assert _lead(biz.tenant_id, tap).status == "declined"
    with tenant_scope(biz.tenant_id):
        report = db.session.scalar(sa.select(ContentReport).where(ContentReport.target_id == tap))
        assert (report.target_type, report.reason, report.note) == ("lead", "spam", "Selling pills")
    html = manager.get("/dashboard/leads", base_url=BASE).get_data(as_text=True)
    assert "Fix a leaking tap" not in html


def test_the_job_chat_shows_in_the_messages_inbox_until_read(app, fixit):
    from app.audit.service import AuditActor
    from app.identity.models import User
    from app.leads.chat import post_as_customer
    from app.leads.claims import claim_lead
    from app.uow import unit_of_work

    biz, tap, _ = fixit
    with tenant_scope(biz.tenant_id), unit_of_work():
        mia = db.session.scalar(sa.select(User).where(User.email == "manager@fixit.test"))
        claim_lead(tap, mia, AuditActor(mia.id))
        post_as_customer(db.session.scalar(sa.select(Lead).where(Lead.id == tap)), "Is Thursday possible?")
    manager = _client(app, "manager@fixit.test")
    inbox = manager.get("/dashboard/messages", base_url=BASE).get_data(as_text=True)
    assert "Job request · Fix a leaking tap" in inbox and "Is Thursday possible?" in inbox
    assert f'/dashboard/leads/{tap}#lead-chat' in inbox and "1 unread" in inbox
    page = manager.get(f"/dashboard/leads/{tap}", base_url=BASE).get_data(as_text=True)
    assert "Is Thursday possible?" in page
    inbox = manager.get("/dashboard/messages", base_url=BASE).get_data(as_text=True)
    assert 'data-unread="0"' in inbox
