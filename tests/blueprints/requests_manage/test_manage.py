"""The customer's manage page on the apex: opened by the manage token, a signed email link or the
owning account (anyone else: 404); it shows the timeline and the offers; the customer rejects one,
messages a provider in the job chat, picks a time and confirms — a booking at the provider."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.chat.models import Message
from app.chat.service import Principal, get_conversation, post_message
from app.extensions import db
from app.identity.models import User
from app.leads.inbox_links import email_link
from app.leads.models import JobRequest, Lead
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.leads.customer_rows import make_lead, make_request

pytestmark = pytest.mark.integration

BASE = "http://localhost"


@pytest.fixture
def two_quotes(ctx):
    a = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    b = make_business("tapco", timezone="America/New_York", currency="USD", staff=1)
    req = make_request()
    lead_a = make_lead(a.tenant_id, req.id, low=9000, high=14000, message="Washer swap, parts included.")
    lead_b = make_lead(b.tenant_id, req.id, low=8000, high=20000)
    db.session.remove()
    return a, b, req, lead_a, lead_b


def test_the_token_opens_the_page_with_timeline_and_offers(client, two_quotes):
    _a, _b, req, lead_a, _lead_b = two_quotes
    page = client.get(f"/requests/{req.id}?t={req.token}", base_url=BASE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Fix a leaking kitchen tap" in html and "Sent to 2 providers" in html and "2 quotes" in html
    assert "Fixit" in html and "Tapco" in html
    assert "$90.00 – $140.00" in html and "Washer swap, parts included." in html
    assert f"/requests/{req.id}/offers/{lead_a}/book" in html
    assert page.headers["Cache-Control"] == "no-store"


def test_strangers_and_wrong_tokens_get_404(client, two_quotes):
    _a, _b, req, _lead_a, _lead_b = two_quotes
    assert client.get(f"/requests/{req.id}?t=wrong", base_url=BASE).status_code == 404
    assert client.get(f"/requests/{req.id}", base_url=BASE).status_code == 404
    make_user("eve@example.test")
    login_as(client, "eve@example.test")
    assert client.get(f"/requests/{req.id}", base_url=BASE).status_code == 404
    assert client.get(f"/requests/{req.id}?t={req.token}", base_url="http://fixit.localhost").status_code == 404


def test_the_owner_opens_it_signed_in_without_the_token(client, ctx):
    a = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    uid = make_user("cara@example.test")
    req = make_request(user_id=uid)
    make_lead(a.tenant_id, req.id)
    login_as(client, "cara@example.test")
    assert client.get(f"/requests/{req.id}", base_url=BASE).status_code == 200


def test_a_signed_email_link_opens_the_page(app, client, two_quotes):
    _a, _b, req, _lead_a, _lead_b = two_quotes
    link = email_link(req.id)  # what the providers' claim, quote and chat emails carry
    assert f"/requests/{req.id}/from-email?s=" in link
    sig = link.rsplit("s=", 1)[1]
    resp = client.get(f"/requests/{req.id}/from-email?s={sig}", base_url=BASE)
    assert resp.status_code == 303
    assert client.get(f"/requests/{req.id}", base_url=BASE).status_code == 200
    assert client.get(f"/requests/{req.id}/from-email?s={sig}x", base_url=BASE).status_code == 404


def test_rejecting_an_offer_marks_it_not_chosen(client, two_quotes):
    _a, b, req, _lead_a, lead_b = two_quotes
    page = client.get(f"/requests/{req.id}?t={req.token}", base_url=BASE)
    resp = client.post(f"/requests/{req.id}/offers/{lead_b}/reject", base_url=BASE,
                       data={"csrf_token": csrf_from(page.data), "reason": "Too far away"})
    assert resp.status_code == 303
    html = client.get(f"/requests/{req.id}", base_url=BASE).get_data(as_text=True)
    assert "Not chosen" in html
    with tenant_scope(b.tenant_id):
        assert db.session.scalar(sa.select(Lead.status).where(Lead.id == lead_b)) == "lost"


def test_the_customer_messages_a_provider_in_the_job_chat(client, two_quotes):
    a, _b, req, lead_a, _lead_b = two_quotes
    client.get(f"/requests/{req.id}?t={req.token}", base_url=BASE)
    chat = client.get(f"/requests/{req.id}/offers/{lead_a}/chat", base_url=BASE)
    assert chat.status_code == 200 and "Conversation with Fixit" in chat.get_data(as_text=True)
    token = csrf_from(chat.data)
    empty = client.post(f"/requests/{req.id}/offers/{lead_a}/chat", base_url=BASE, data={"csrf_token": token, "body": " "})
    assert empty.status_code == 422 and "Write a message" in empty.get_data(as_text=True)
    sent = client.post(f"/requests/{req.id}/offers/{lead_a}/chat", base_url=BASE, headers={"HX-Request": "true"},
                       data={"csrf_token": token, "body": "Could you do it for $120?"})
    assert sent.status_code == 200 and "Could you do it for $120?" in sent.get_data(as_text=True)
    with tenant_scope(a.tenant_id):
        msg = db.session.scalar(sa.select(Message))
        assert (msg.author_role, msg.body) == ("customer", "Could you do it for $120?")
        staff = db.session.scalar(sa.select(User.id).where(User.email == a.owner_email))
        post_message(get_conversation(msg.conversation_id), Principal("staff", user_id=staff, name="Fiona"),
                     "$130 and it is a deal.")
        db.session.commit()
    poll = client.get(f"/requests/{req.id}/offers/{lead_a}/chat", base_url=BASE, headers={"HX-Request": "true"})
    text = poll.get_data(as_text=True)
    assert "$130 and it is a deal." in text and "Fiona" in text and "<html" not in text


def test_picking_a_time_and_confirming_books_the_provider(client, two_quotes):
    a, _b, req, lead_a, lead_b = two_quotes
    client.get(f"/requests/{req.id}?t={req.token}", base_url=BASE)
    pick = client.get(f"/requests/{req.id}/offers/{lead_a}/book", base_url=BASE)
    assert pick.status_code == 200
    starts = re.findall(r'name="start" value="([^"]+)"', pick.get_data(as_text=True))
    assert starts
    bad = client.post(f"/requests/{req.id}/offers/{lead_a}/confirm", base_url=BASE,
                      data={"csrf_token": csrf_from(pick.data)})
    assert bad.status_code == 422 and "Pick" in bad.get_data(as_text=True)
    chosen = starts[3]
    done = client.post(f"/requests/{req.id}/offers/{lead_a}/confirm", base_url=BASE,
                       data={"csrf_token": csrf_from(pick.data), "start": chosen})
    assert done.status_code == 303
    html = client.get(f"/requests/{req.id}", base_url=BASE).get_data(as_text=True)
    assert "Booked with Fixit" in html and 'data-status="booked"' in html
    with tenant_scope(a.tenant_id):
        booking = db.session.scalar(sa.select(Booking))
        assert booking.starts_at == datetime.fromisoformat(chosen)
    with platform_scope("test"):
        assert db.session.get(JobRequest, req.id).status == "booked"
        assert db.session.scalar(sa.select(Lead.status).where(Lead.id == lead_b)) == "lost"
    again = client.post(f"/requests/{req.id}/offers/{lead_b}/confirm", base_url=BASE,
                        data={"csrf_token": csrf_from(pick.data), "start": starts[5]})
    assert again.status_code in (303, 422)
    with tenant_scope(a.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_a_time_taken_meanwhile_is_refused_inline(client, two_quotes):
    a, _b, req, lead_a, _lead_b = two_quotes
    other = make_request(email="dan@example.test")
    other_lead = make_lead(a.tenant_id, other.id)
    db.session.remove()
    client.get(f"/requests/{req.id}?t={req.token}", base_url=BASE)
    pick = client.get(f"/requests/{req.id}/offers/{lead_a}/book", base_url=BASE)
    start = re.findall(r'name="start" value="([^"]+)"', pick.get_data(as_text=True))[2]
    other_client = client.application.test_client()
    other_client.get(f"/requests/{other.id}?t={other.token}", base_url=BASE)
    token = csrf_from(other_client.get(f"/requests/{other.id}/offers/{other_lead}/book", base_url=BASE).data)
    assert other_client.post(f"/requests/{other.id}/offers/{other_lead}/confirm", base_url=BASE,
                             data={"csrf_token": token, "start": start}).status_code == 303
    refused = client.post(f"/requests/{req.id}/offers/{lead_a}/confirm", base_url=BASE,
                          data={"csrf_token": csrf_from(pick.data), "start": start})
    assert refused.status_code == 422
    assert "Please pick another time" in refused.get_data(as_text=True)
    with platform_scope("test"):
        assert db.session.get(JobRequest, req.id).status == "routed"
