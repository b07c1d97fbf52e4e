"""The platform-wide audit log at /admin/audit: filters, pages, CSV export (itself audited),
and the reason asked before reading one business's record."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import session
from flask_login import login_user

from app.audit.models import AuditEntry
from app.audit.service import AuditActor, record_audit
from app.blueprints.admin.access import require_reason
from app.extensions import db
from app.identity.models import User
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin

pytestmark = pytest.mark.integration

APEX = "http://localhost"


def _entries():
    bella, fixit = make_business("bella"), make_business("fixit")
    desk = make_user("desk@bella.test")
    with tenant_scope(bella.tenant_id):
        record_audit(AuditActor(desk, "203.0.113.9", "Firefox"), "customer.erased", "customer", "c1",
                     reason="asked by email")
        record_audit(AuditActor(desk), "customer.merged", "customer", "c2")
        db.session.commit()
    with tenant_scope(fixit.tenant_id):
        record_audit(AuditActor(None), "api_token.created", "api_token", "t1", after={"name": "=cmd()"})
        db.session.commit()
    with platform_scope("test"):
        record_audit(AuditActor(None), "tenant.suspended", "tenant", fixit.tenant_id, reason="fraud")
        db.session.commit()
    return bella, fixit


def _shown(client, query: str = "") -> str:
    resp = client.get(f"/admin/audit{query}", base_url=APEX)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_the_viewer_filters_by_actor_action_object_business_and_time(client, ctx):
    _entries()
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    html = _shown(client)
    for action in ("customer.erased", "customer.merged", "api_token.created", "tenant.suspended"):
        assert action in html
    assert "“asked by email”" in html and "desk@bella.test" in html
    only_desk = _shown(client, "?actor=desk@")
    assert "customer.erased" in only_desk and "api_token.created" not in only_desk
    assert "customer.merged" not in _shown(client, "?action=customer.er")
    fixit = _shown(client, "?tenant=fixit")
    assert "api_token.created" in fixit and "customer.erased" not in fixit and "tenant.suspended" not in fixit
    platform = _shown(client, "?scope=platform")
    assert "tenant.suspended" in platform and "customer.erased" not in platform
    assert "customer.erased" in _shown(client, "?object_type=customer&object_id=c1")
    assert "customer.merged" not in _shown(client, "?object_type=customer&object_id=c1")
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert "No entries match" in _shown(client, f"?since={tomorrow}")
    bad = client.get(f"/admin/audit?since={tomorrow}&until=2020-01-01&tenant=nobody", base_url=APEX)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "The end is before the start." in text and "No business has this address." in text


def test_the_viewer_pages_newest_first(client, ctx):
    make_user("root@plaza.test", is_platform_admin=True)
    with platform_scope("test"):
        for i in range(55):
            record_audit(AuditActor(None), f"thing.n{i:02d}", "thing", str(i))
        db.session.commit()
    login_admin(client, "root@plaza.test")
    first = _shown(client)
    assert "thing.n54" in first and "thing.n04" not in first and 'id="audit-older"' in first
    second = _shown(client, "?page=2")
    assert "thing.n04" in second and "thing.n54" not in second and 'id="audit-older"' not in second


def test_the_csv_export_streams_the_filtered_rows_and_is_itself_audited(client, ctx):
    _entries()
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    resp = client.get("/admin/audit.csv?tenant=fixit", base_url=APEX)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["api_token.created"]
    assert rows[0]["after"] == '{"name": "=cmd()"}' and rows[0]["at"].endswith("+00:00")
    assert len(rows[0]["row_hash"]) == 64
    with platform_scope("test"):
        export = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "audit.exported"))
        assert export.actor_email == "root@plaza.test" and export.after == {"filters": {"tenant": "fixit"}}


def test_a_read_of_a_business_record_asks_for_a_reason_once_per_half_hour_and_logs_each_read(app, client, ctx):
    bella = make_business("bella")
    uid = make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    url = f"/admin/reason?object_type=tenant&object_id={bella.tenant_id}&tenant_id={bella.tenant_id}&next=/admin/"
    form = client.get(url, base_url=APEX)
    assert "Why do you open this record?" in form.get_data(as_text=True)
    empty = client.post(url, base_url=APEX, data={"csrf_token": csrf_from(form.data), "reason": "", "next": "/admin/"})
    assert empty.status_code == 422 and "Say why you open this record." in empty.get_data(as_text=True)
    given = client.post(url, base_url=APEX, data={"csrf_token": csrf_from(form.data), "reason": "ticket 42",
                                                   "next": "/admin/"})
    assert given.status_code == 302 and given.location.endswith("/admin/")
    with client.session_transaction(base_url=APEX) as sess:
        remembered = dict(sess)
    with app.test_request_context("/admin/businesses/x", base_url=APEX), platform_scope("test"):
        login_user(db.session.get(User, uid))
        asked = require_reason("tenant", uuid.UUID(int=5), tenant_id=bella.tenant_id)  # no reason yet: the form
        assert asked.status_code == 302 and "/admin/reason?object_type=tenant" in asked.location
        session.update(remembered)
        assert require_reason("tenant", bella.tenant_id, tenant_id=bella.tenant_id) is None
        assert require_reason("tenant", bella.tenant_id, tenant_id=bella.tenant_id) is None
        db.session.commit()
    with tenant_scope(bella.tenant_id):  # filed under the business: its owner sees the reads too
        reads = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "admin.read")).all()
        assert [(r.reason, r.actor_email, r.object_id) for r in reads] == [
            ("ticket 42", "root@plaza.test", str(bella.tenant_id))] * 2
