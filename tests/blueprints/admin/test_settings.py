"""Platform settings in the console: the taxonomy (add, rename, reorder, retire), dispute windows
and plan features; every change audit-logged with before and after; bad input inline (422)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.billing.plans import current_plan
from app.extensions import db
from app.platform_settings import get_setting
from app.tenants.context import platform_scope
from app.tenants.models import MarketplaceCategory
from app.tenants.taxonomy import active_categories
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin, login_as

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@pytest.fixture
def admin(ctx, client):
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    return client


def _entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    with platform_scope("test: audit"):
        return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.at)))


def test_dispute_windows_are_changed_with_an_audit_entry_and_bad_values_inline(admin, ctx):
    page = admin.get("/admin/settings", base_url=APEX)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="dispute_window_days" inputmode="numeric" value="30"' in html
    token = csrf_from(html)
    form = {"csrf_token": token, "dispute_window_days": "45", "dispute_business_answer_hours": "0",
            "refund_request_answer_hours": "72", "dispute_reminder_hours": "24"}
    bad = admin.post("/admin/settings/values/disputes", base_url=APEX, data=form)
    assert bad.status_code == 422
    assert "Hours a business has to answer a dispute: from 1 to 720 hours." in bad.get_data(as_text=True)
    assert 'value="45"' in bad.get_data(as_text=True)  # what was typed stays
    db.session.rollback()
    assert get_setting("dispute_window_days") == 30  # all or nothing
    ok = admin.post("/admin/settings/values/disputes", base_url=APEX,
                    data={**form, "dispute_business_answer_hours": "48", "reason": "holiday season"})
    assert ok.status_code == 303
    db.session.rollback()
    assert (get_setting("dispute_window_days"), get_setting("dispute_business_answer_hours")) == (45, 48)
    changes = _entries("platform_setting.changed")
    assert sorted((e.object_id, e.before[e.object_id], e.after[e.object_id]) for e in changes) == [
        ("dispute_business_answer_hours", 72, 48), ("dispute_window_days", 30, 45)]
    assert {e.reason for e in changes} == {"holiday season"}
    assert admin.post("/admin/settings/values/nope", base_url=APEX, data=form).status_code == 404


def test_plan_features_change_what_a_business_on_the_plan_gets(admin, ctx):
    biz = make_business("bella")
    assert current_plan(biz.tenant_id).staff_seats == 2
    token = csrf_from(admin.get("/admin/settings", base_url=APEX).data)
    form = {"csrf_token": token, "plan.free.staff_seats": "3", "plan.free.marketplace_tier": "basic",
            "plan.pro.staff_seats": "10", "plan.pro.sms_per_month": "500", "plan.pro.marketplace_tier": "featured",
            "plan.premium.staff_seats": "50", "plan.premium.sms_per_month": "5000",
            "plan.premium.marketplace_tier": "gold"}
    bad = admin.post("/admin/settings/values/plans", base_url=APEX, data=form)
    assert bad.status_code == 422 and "Premium: marketplace tier: one of basic, featured, top." in bad.get_data(
        as_text=True)
    assert admin.post("/admin/settings/values/plans", base_url=APEX,
                      data={**form, "plan.premium.marketplace_tier": "top"}).status_code == 303
    db.session.rollback()
    assert current_plan(biz.tenant_id).staff_seats == 3
    [entry] = _entries("platform_setting.changed")
    assert (entry.before, entry.after) == ({"plan.free.staff_seats": 2}, {"plan.free.staff_seats": 3})


def test_the_taxonomy_is_edited_from_the_console(admin, ctx, restore_taxonomy):
    token = csrf_from(admin.get("/admin/settings", base_url=APEX).data)

    def edit(**data):
        return admin.post("/admin/settings/categories", base_url=APEX, data={"csrf_token": token, **data})

    assert edit(edit="add", slug="dog-grooming", name="Dog grooming").status_code == 303
    assert edit(edit="rename", slug="barber", name="Barbershop").status_code == 303
    assert edit(edit="up", slug="dog-grooming").status_code == 303
    assert edit(edit="retire", slug="tutoring").status_code == 303
    bad = edit(edit="add", slug="Not a slug!", name="X")
    assert bad.status_code == 422 and "A slug is 1-40 lowercase letters" in bad.get_data(as_text=True)
    assert edit(edit="rename", slug="nope", name="X").status_code == 422
    db.session.rollback()
    slugs = [c.slug for c in active_categories()]
    assert slugs[-2:] == ["dog-grooming", "pet-care"] and "tutoring" not in slugs
    assert db.session.get(MarketplaceCategory, "barber").name == "Barbershop"
    [renamed] = _entries("category.renamed")
    assert (renamed.before["barber"]["name"], renamed.after["barber"]["name"]) == ("Barber", "Barbershop")
    [retired] = _entries("category.retired")
    assert (retired.before["tutoring"]["active"], retired.after["tutoring"]["active"]) == (True, False)
    assert len(_entries("category.added")) == 1 and len(_entries("category.moved")) == 1


def test_settings_routes_are_404_for_anyone_but_a_platform_admin(ctx, client):
    make_user("alice@example.com")
    login_as(client, "alice@example.com")
    token = csrf_from(client.get("/", base_url=APEX).data)
    for method, url in [("get", "/admin/settings"), ("post", "/admin/settings/values/disputes"),
                        ("post", "/admin/settings/categories")]:
        assert getattr(client, method)(url, base_url=APEX, data={"csrf_token": token}).status_code == 404, url
