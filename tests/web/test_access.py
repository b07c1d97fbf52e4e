"""One answer policy for every staff page (app.web.access).

The apex answers 404; anonymous users go to the login page; a logged-in user without a staff
role in this business (a stranger, another business's owner) gets 404 like any other tenant's
record; staff without the page's role get 403. Checked on the pages of every blueprint that
guards staff pages: dashboard, billing, payments, notifications, chat.
"""

from __future__ import annotations

import uuid

import pytest

from app.extensions import db
from app.identity.service import find_user
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"
#: Pages for owners and managers, one per blueprint.
MANAGER_PAGES = ("/dashboard/services", "/dashboard/billing", "/dashboard/payments", "/notifications/sent")
#: Pages for any staff member.
STAFF_PAGES = ("/dashboard/", "/dashboard/messages")


@pytest.fixture
def people(ctx):
    """Bella with a plain staff member and a manager, a stranger, and another business's owner."""
    bella = make_business("bella")
    make_business("fixit", timezone="America/New_York", currency="USD")
    for email in ("staff@bella.test", "manager@bella.test", "stranger@x.test"):
        make_user(email)
    with tenant_scope(bella.tenant_id):
        add_membership(find_user("staff@bella.test"), Role.STAFF, staff_member_id=bella.staff_ids[1])
        add_membership(find_user("manager@bella.test"), Role.MANAGER)
    db.session.commit()
    return bella


def _as(app, email: str | None, host: str = HOST):
    client = app.test_client()
    if email:
        login_as(client, email, host=host)
    return client


def test_anonymous_users_are_sent_to_log_in(app, people):
    client = _as(app, None)
    for path in MANAGER_PAGES + STAFF_PAGES:
        resp = client.get(path, base_url=BASE)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


def test_outsiders_get_404_like_another_tenants_record(app, people):
    for email in ("stranger@x.test", "owner@fixit.test"):
        client = _as(app, email)
        for path in MANAGER_PAGES + STAFF_PAGES:
            assert client.get(path, base_url=BASE).status_code == 404, (email, path)


def test_the_apex_has_no_staff_pages(app, people):
    client = _as(app, people.owner_email, host="localhost")
    for path in ("/dashboard/services", "/dashboard/billing", "/dashboard/messages"):
        assert client.get(path, base_url="http://localhost").status_code == 404, path


def test_staff_without_the_role_get_403(app, people):
    client = _as(app, "staff@bella.test")
    for path in MANAGER_PAGES:
        assert client.get(path, base_url=BASE).status_code == 403, path
    for path in STAFF_PAGES:
        assert client.get(path, base_url=BASE).status_code == 200, path


def test_managers_pass_manager_pages_but_not_owner_actions(app, people):
    manager = _as(app, "manager@bella.test")
    for path in ("/dashboard/services", "/notifications/sent", *STAFF_PAGES):
        assert manager.get(path, base_url=BASE).status_code == 200, path
    token = csrf_from(manager.get("/dashboard/", base_url=BASE).data)
    revoke = f"/dashboard/staff/{people.staff_ids[0]}/invitations/{uuid.uuid4()}/revoke"
    assert manager.post(revoke, base_url=BASE, data={"csrf_token": token}).status_code == 403
    owner = _as(app, people.owner_email)
    token = csrf_from(owner.get("/dashboard/", base_url=BASE).data)
    # The owner passes the guard; the invitation does not exist.
    assert owner.post(revoke, base_url=BASE, data={"csrf_token": token}).status_code == 404
