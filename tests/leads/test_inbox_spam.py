"""A lead reported as spam: it leaves the provider's inbox, the platform console's moderation
queue shows it with the job's words, and a moderator hiding it keeps it withdrawn."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.service import AuditActor
from app.extensions import db
from app.leads.inbox import Filters, list_leads
from app.leads.models import Lead
from app.leads.spam import report_spam
from app.tenants.context import tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin
from tests.leads.provider_rows import add_member, make_lead, make_request

pytestmark = pytest.mark.integration

APEX = "http://localhost"


def test_a_spam_lead_reaches_the_console_and_a_moderator_hides_it(client, ctx):
    biz = make_business("fixit", currency="USD")
    sam = add_member(biz.tenant_id, "sam@fixit.test")
    lead_id = make_lead(biz.tenant_id, make_request(title="Cheap pills delivered"), title="Cheap pills delivered")
    with tenant_scope(biz.tenant_id), unit_of_work():
        report_spam(db.session.scalar(sa.select(Lead).where(Lead.id == lead_id)), "Not a job",
                    user_id=sam, actor=AuditActor(sam))
    with tenant_scope(biz.tenant_id):
        assert list_leads(Filters()) == []
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    page = client.get("/admin/moderation", base_url=APEX).get_data(as_text=True)
    assert "Cheap pills delivered" in page and "Leaking kitchen tap" in page
    resp = client.post(f"/admin/moderation/{biz.tenant_id}/lead/{lead_id}",
                       data={"csrf_token": csrf_from(page), "action": "hide", "reason": "Spam"}, base_url=APEX)
    assert resp.status_code == 303
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(Lead.status).where(Lead.id == lead_id)) == "declined"
