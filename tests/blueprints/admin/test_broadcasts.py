"""The broadcast wizard in the console: audience, message and channels, preview and schedule, then
the progress page with its stop button; errors inline (422); 404 for everyone but platform admins."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.broadcasts.models import Broadcast
from app.extensions import db
from app.notifications import preferences
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin, login_as
from tests.support.conftest_mail import run_jobs
from tests.support.notification_support import book, day_at

pytestmark = pytest.mark.integration

APEX = "http://localhost"
HX = {"HX-Request": "true"}


@pytest.fixture
def admin(ctx, client):
    """Bella in Copenhagen with two customers, only Alice consenting to Plaza's marketing; a signed-in admin."""
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):
        db.session.get(Tenant, bella.tenant_id).city = "Copenhagen"
        db.session.commit()
    alice, bob = make_user("alice@example.com", name="Alice"), make_user("bob@example.com", name="Bob")
    book(bella, day_at(3, 10), user_id=alice, email="alice@example.com")
    book(bella, day_at(3, 12), user_id=bob, email="bob@example.com")
    preferences.grant_consent(alice, method="signup checkbox", source="/signup-customer")
    db.session.commit()
    run_jobs(ctx)
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    return client


def _new_draft(client) -> tuple[str, str]:
    page = client.get("/admin/broadcasts/new", base_url=APEX)
    token = csrf_from(page.data)
    resp = client.post("/admin/broadcasts/new", base_url=APEX,
                       data={"csrf_token": token, "kind": "customers", "city": "copenhagen"})
    assert resp.status_code == 303
    return resp.headers["Location"].split("/")[-2], token


def test_an_admin_sends_a_broadcast_to_consenting_customers_of_a_city(admin, ctx, mailbox):
    client = admin
    page = client.get("/admin/broadcasts/new", base_url=APEX)
    assert page.status_code == 200 and b"Customers who accept marketing from Plaza" in page.data
    token = csrf_from(page.data)
    bad = client.post("/admin/broadcasts/new", base_url=APEX, data={"csrf_token": token, "kind": "customers"})
    assert bad.status_code == 422 and "never sent to all at once" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 0  # nothing half-written

    step2 = client.post("/admin/broadcasts/new", base_url=APEX, headers=HX,
                        data={"csrf_token": token, "kind": "customers", "city": "copenhagen"})
    assert step2.status_code == 200 and 'id="bc-wizard"' in step2.get_data(as_text=True)
    assert "<html" not in step2.get_data(as_text=True)  # the wizard block only
    message_url = step2.headers["HX-Push-Url"]
    broadcast_id = message_url.split("/")[-2]
    bad = client.post(message_url, base_url=APEX, headers=HX,
                      data={"csrf_token": token, "subject": "", "body": "Keep me", "channels": ["email"]})
    assert bad.status_code == 422 and "A subject is 1-150 characters." in bad.get_data(as_text=True)
    assert "Keep me" in bad.get_data(as_text=True)
    nochannel = client.post(message_url, base_url=APEX, data={"csrf_token": token, "subject": "Hi", "body": "x"})
    assert nochannel.status_code == 422 and "Choose in the app, email, or both." in nochannel.get_data(as_text=True)
    review = client.post(message_url, base_url=APEX, follow_redirects=True,
                         data={"csrf_token": token, "subject": "Spring on Plaza", "body": "New salons near you.",
                               "channels": ["inapp", "email"]})
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and re.search(r"It reaches <span data-recipients>1</span> person", html)
    assert "alice@example.com" in html and "bob@example.com" not in html and "New salons near you." in html

    late = client.post(f"/admin/broadcasts/{broadcast_id}/review", base_url=APEX,
                       data={"csrf_token": token, "when": "later", "send_at": "2001-01-01T09:00"})
    assert late.status_code == 422 and "Choose a time in the future" in late.get_data(as_text=True)
    sent = client.post(f"/admin/broadcasts/{broadcast_id}/review", base_url=APEX,
                       data={"csrf_token": token, "when": "now"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/admin/broadcasts/{broadcast_id}")
    assert run_jobs(ctx) == []
    status = client.get(f"/admin/broadcasts/{broadcast_id}", base_url=APEX, headers=HX)
    text = status.get_data(as_text=True)
    assert "Sent to 1 of 1" in text and 'value="100"' in text and "hx-trigger" not in text  # done: polling stops
    assert len(mailbox.to("alice@example.com", "Spring on Plaza")) == 1
    assert mailbox.to("bob@example.com", "Spring on Plaza") == []
    listing = client.get("/admin/broadcasts", base_url=APEX)
    assert "Spring on Plaza" in listing.get_data(as_text=True)
    # A sent broadcast's wizard steps lead to its page.
    assert client.get(message_url, base_url=APEX).status_code == 303


def test_a_scheduled_broadcast_shows_its_progress_and_can_be_stopped(admin, ctx):
    client = admin
    broadcast_id, token = _new_draft(client)
    back = client.get(f"/admin/broadcasts/{broadcast_id}/audience", base_url=APEX).get_data(as_text=True)
    assert 'value="copenhagen"' in back and 'value="customers" checked' in back  # step 1 again, as chosen
    client.post(f"/admin/broadcasts/{broadcast_id}/message", base_url=APEX,
                data={"csrf_token": token, "subject": "Later", "body": "Soon.", "channels": ["inapp"]})
    resp = client.post(f"/admin/broadcasts/{broadcast_id}/review", base_url=APEX,
                       data={"csrf_token": token, "when": "later", "send_at": "2099-01-01T09:00"})
    assert resp.status_code == 303
    page = client.get(f"/admin/broadcasts/{broadcast_id}", base_url=APEX).get_data(as_text=True)
    assert "Scheduled" in page and "2099-01-01 09:00 UTC" in page and 'hx-trigger="every 2s"' in page
    stopped = client.post(f"/admin/broadcasts/{broadcast_id}/stop", base_url=APEX, headers=HX,
                          data={"csrf_token": token})
    assert stopped.status_code == 200 and "Stopped" in stopped.get_data(as_text=True)
    again = client.post(f"/admin/broadcasts/{broadcast_id}/stop", base_url=APEX, headers=HX,
                        data={"csrf_token": token})
    assert again.status_code == 409
    with platform_scope("test: audit"):
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "broadcast.stopped"))
    assert entry.before["status"] == "scheduled" and entry.after["status"] == "stopped"


def test_every_broadcast_route_is_404_for_anyone_but_a_platform_admin(admin, ctx, app):
    broadcast_id, token = _new_draft(admin)
    routes = [("get", "/admin/broadcasts"), ("get", "/admin/broadcasts/new"), ("post", "/admin/broadcasts/new"),
              ("get", f"/admin/broadcasts/{broadcast_id}/audience"),
              ("post", f"/admin/broadcasts/{broadcast_id}/audience"),
              ("get", f"/admin/broadcasts/{broadcast_id}/message"),
              ("post", f"/admin/broadcasts/{broadcast_id}/message"),
              ("get", f"/admin/broadcasts/{broadcast_id}/review"),
              ("post", f"/admin/broadcasts/{broadcast_id}/review"),
              ("get", f"/admin/broadcasts/{broadcast_id}"), ("post", f"/admin/broadcasts/{broadcast_id}/stop")]
    outsider = app.test_client()
    login_as(outsider, "alice@example.com")
    token = csrf_from(outsider.get("/", base_url=APEX).data)
    for method, url in routes:
        assert getattr(outsider, method)(url, base_url=APEX, data={"csrf_token": token}).status_code == 404, url
    assert admin.get(f"/admin/broadcasts/{uuid.uuid4()}", base_url=APEX).status_code == 404
