"""Support access ("view as"): a platform admin reads one business's dashboard after giving a
reason; it is read-only (writes refused, transaction read-only), shows a banner, ends by itself
after 30 minutes, and its start and end are audit-logged under the business."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.blueprints.admin.view_as import VIEW_AS_KEY
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin

pytestmark = pytest.mark.integration

APEX = "http://localhost"
BELLA = "http://bella.localhost"


def _start(client, tenant_id) -> None:
    url = f"/admin/view-as/{tenant_id}"
    ask = client.get(url, base_url=APEX)
    assert ask.status_code == 302 and "/admin/reason?" in ask.location
    form = client.get(ask.location, base_url=APEX)
    client.post(ask.location, base_url=APEX, data={"csrf_token": csrf_from(form.data), "reason": "ticket 77",
                                                   "next": url})
    page = client.get(url, base_url=APEX)
    assert "read-only" in page.get_data(as_text=True)
    go = client.post(url, base_url=APEX, data={"csrf_token": csrf_from(page.data)})
    assert go.status_code == 302
    target = urlsplit(go.location)
    assert target.hostname == "bella.localhost" and target.path == "/admin/view-as/enter"
    enter = client.get(f"{target.path}?{target.query}", base_url=BELLA)
    assert enter.status_code == 302 and enter.location.endswith("/dashboard/")


def _actions(tenant_id) -> list[tuple[str, str, str]]:
    with tenant_scope(tenant_id):
        return [(e.action, e.reason, e.actor_email) for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.startswith("support.")).order_by(AuditEntry.seq))]


def test_support_access_is_read_only_with_a_banner_and_ends_with_an_audit_entry(client, ctx):
    bella = make_business("bella")
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    _start(client, bella.tenant_id)
    dash = client.get("/dashboard/", base_url=BELLA)
    html = dash.get_data(as_text=True)
    assert dash.status_code == 200 and 'id="view-as-banner"' in html and "ticket 77" in html
    assert client.get("/dashboard/customers", base_url=BELLA).status_code == 200
    refused = client.post("/dashboard/business", base_url=BELLA, data={"csrf_token": csrf_from(html), "name": "Hacked"})
    assert refused.status_code == 403 and "Nothing can be changed" in refused.get_data(as_text=True)
    with tenant_scope(bella.tenant_id):
        assert db.session.get(Tenant, bella.tenant_id).name != "Hacked"
    assert _actions(bella.tenant_id) == [("support.view_as_started", "ticket 77", "root@plaza.test")]
    end = client.post("/admin/view-as/end", base_url=BELLA, data={"csrf_token": csrf_from(html)})
    assert end.status_code == 302 and urlsplit(end.location).path == "/admin/" and urlsplit(end.location).hostname == "localhost"
    assert client.get("/dashboard/", base_url=BELLA).status_code == 302  # signed out on the business's host
    assert [a for a, _, _ in _actions(bella.tenant_id)] == ["support.view_as_started", "support.view_as_ended"]


def test_support_access_expires_after_thirty_minutes(client, ctx):
    bella = make_business("bella")
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    _start(client, bella.tenant_id)
    with client.session_transaction(base_url=BELLA) as sess:
        mark = dict(sess[VIEW_AS_KEY])
        assert 29 * 60 < mark["until"] - time.time() <= 30 * 60
        sess[VIEW_AS_KEY] = {**mark, "until": time.time() - 1}
    late = client.get("/dashboard/", base_url=BELLA)
    assert late.status_code == 302 and late.location.endswith("/admin/view-as/ended")
    ended = client.get("/admin/view-as/ended", base_url=BELLA)
    assert ended.status_code == 200 and "Support access ended" in ended.get_data(as_text=True)
    assert client.get("/dashboard/", base_url=BELLA).status_code == 302
    assert _actions(bella.tenant_id)[-1] == ("support.view_as_ended", "ticket 77", "root@plaza.test")


def test_the_transaction_of_a_support_request_is_read_only(app, client, ctx):
    bella = make_business("bella")
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    _start(client, bella.tenant_id)
    seen = {}

    def _probe(resp):  # a test probe on the running request's transaction
        seen.setdefault("ro", db.session.execute(sa.text("show transaction_read_only")).scalar())
        return resp

    app.after_request_funcs.setdefault(None, []).append(_probe)
    try:
        client.get("/dashboard/customers", base_url=BELLA)
    finally:
        app.after_request_funcs[None].remove(_probe)
    assert seen["ro"] == "on"
