"""The console's credits page of a business: balance and ledger, and an admin's adjustment
(either sign, reason required) that is audit-logged with the balance before and after, refused
when it would go below zero, and applied once however often the form is sent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.credits import balance, entries, move_credits
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin, login_as, open_with_reason

pytestmark = pytest.mark.integration

ADMIN = "ops@plaza.test"
APEX = "http://localhost"


@pytest.fixture
def bella(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), unit_of_work():
        move_credits("purchase", 10, "checkout:cs_admin", checkout_session_id="cs_admin", money_amount=4000,
                     money_currency="USD")
    return biz


@pytest.fixture
def admin(client, bella):
    make_user(ADMIN, is_platform_admin=True)
    login_admin(client, ADMIN)
    return client


def form_of(client, biz) -> dict:
    html = client.get(f"/admin/credits/{biz.tenant_id}", base_url=APEX).get_data(as_text=True)
    nonce = html.split('id="nonce" name="nonce" type="hidden" value="')[1].split('"')[0]
    return {"csrf_token": csrf_from(html), "nonce": nonce}


def adjust(client, biz, form: dict, amount: str, reason: str):
    return client.post(f"/admin/credits/{biz.tenant_id}", base_url=APEX,
                       data={**form, "amount": amount, "reason": reason})


def state(biz) -> tuple[int, list[tuple]]:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return balance(), [(e.kind, e.amount, e.balance_before, e.balance_after, e.note) for e in reversed(entries())]


def audits() -> list[AuditEntry]:
    db.session.rollback()
    with platform_scope("test: read the audit log"):
        return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "credits.adjusted")
                                       .order_by(AuditEntry.at)))


def test_the_page_shows_the_balance_and_the_ledger_with_the_receipt(admin, bella):
    html = admin.get(f"/admin/credits/{bella.tenant_id}", base_url=APEX).get_data(as_text=True)
    assert 'data-balance="10"' in html and "Pack bought" in html and "Receipt: paid $40.00" in html
    detail = open_with_reason(admin, f"/admin/businesses/{bella.tenant_id}", "support", APEX)
    assert f"/admin/credits/{bella.tenant_id}" in detail


def test_an_adjustment_either_way_is_applied_and_audit_logged(admin, bella):
    resp = adjust(admin, bella, form_of(admin, bella), "5", "goodwill after a bad lead")
    assert resp.status_code == 303
    adjust(admin, bella, form_of(admin, bella), "-12", "chargeback on the pack")
    bal, rows = state(bella)
    assert bal == 3
    assert rows[1:] == [("adjustment", 5, 10, 15, "goodwill after a bad lead"),
                        ("adjustment", -12, 15, 3, "chargeback on the pack")]
    first, second = audits()
    assert (first.tenant_id, first.object_id, first.reason) == (bella.tenant_id, str(bella.tenant_id),
                                                                 "goodwill after a bad lead")
    assert (first.before, first.after) == ({"balance": 10}, {"balance": 15})
    assert (second.before, second.after) == ({"balance": 15}, {"balance": 3})
    assert "chargeback on the pack" in admin.get(f"/admin/credits/{bella.tenant_id}", base_url=APEX).get_data(
        as_text=True)


def test_a_form_sent_twice_adjusts_once(admin, bella):
    form = form_of(admin, bella)
    for _ in range(3):
        assert adjust(admin, bella, form, "4", "double click").status_code == 303
    assert state(bella)[0] == 14 and len(audits()) == 1


@pytest.mark.parametrize(("amount", "reason", "message"), [
    ("-11", "too much", "below zero: it is 10 credits"),
    ("0", "nothing", "not 0"),
    ("5", "  ", "Give a reason"),
    ("many", "typo", "Enter a whole number of credits"),
])
def test_a_refused_adjustment_shows_the_error_and_writes_nothing(admin, bella, amount, reason, message):
    resp = adjust(admin, bella, form_of(admin, bella), amount, reason)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert state(bella)[0] == 10 and audits() == []


def test_only_platform_admins_reach_the_page(client, bella):
    login_as(client, bella.owner_email)
    assert client.get(f"/admin/credits/{bella.tenant_id}", base_url=APEX).status_code == 404
