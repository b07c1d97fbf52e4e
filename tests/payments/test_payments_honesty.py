"""Payments honesty: deposits and prepayments cannot be chosen while the business cannot take
payments (no Stripe key, no connected account, onboarding unfinished); the page says what is
needed, the server refuses them (422, nothing saved), and rules saved earlier are shown as what
they are now: not asked."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.payments.models import ConnectAccount
from app.payments.policy import PaymentMode, ServiceRule
from app.payments.settings import NOT_CONFIGURED, NOT_CONNECTED, NOT_ENABLED, save_service_rule, service_rule
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


@pytest.fixture
def biz(ctx):
    return make_business("bella", staff=1, services=[("Colour", 60, 50000)])


@pytest.fixture
def owner(app, biz):
    client = app.test_client()
    login_as(client, biz.owner_email, host="bella.localhost")
    return client


@pytest.fixture
def stripe_key(app, monkeypatch):
    """Stripe configured on the installation (no call reaches it in these tests)."""
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_plaza")


def _connect(biz, charges_enabled: bool) -> None:
    with tenant_scope(biz.tenant_id):
        db.session.add(ConnectAccount(stripe_account_id="acct_local_test", charges_enabled=charges_enabled,
                                      details_submitted=charges_enabled, payouts_enabled=charges_enabled))
        db.session.commit()


def _choose(owner, biz, mode: str, **fields):
    page = owner.get("/dashboard/payments", base_url=BASE)
    prefix = f"s{biz.service_ids[0].hex[:8]}"
    data = {"csrf_token": csrf_from(page.data), f"{prefix}-mode": mode,
            **{f"{prefix}-{k}": v for k, v in fields.items()}}
    return owner.post(f"/dashboard/payments/services/{biz.service_ids[0]}", base_url=BASE, data=data)


def _rule(biz) -> ServiceRule:
    db.session.expire_all()
    with tenant_scope(biz.tenant_id):
        return service_rule(biz.service_ids[0])


def _mode_select(html: str) -> str:
    start = html.index('name="s')
    return html[start:html.index("</select>", start)]


@pytest.mark.parametrize(("setup", "reason"), [
    ("no key", NOT_CONFIGURED), ("not connected", NOT_CONNECTED), ("onboarding unfinished", NOT_ENABLED),
])
def test_payment_modes_are_disabled_with_what_is_needed(app, owner, biz, monkeypatch, setup, reason):
    if setup != "no key":
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_plaza")
    if setup == "onboarding unfinished":
        _connect(biz, charges_enabled=False)
    html = owner.get("/dashboard/payments", base_url=BASE).get_data(as_text=True)
    assert reason in html
    select = _mode_select(html)
    assert re.search(r'<option disabled value="deposit">', select)
    assert re.search(r'<option disabled value="full">', select)
    assert re.search(r'<option selected value="none">', select)
    for mode, fields in (("full", {}), ("deposit", {"deposit_percent": "30"})):
        refused = _choose(owner, biz, mode, **fields)
        assert refused.status_code == 422
        assert reason in refused.get_data(as_text=True).split('id="payments-off"')[1]
        assert _rule(biz) == ServiceRule()
    assert _choose(owner, biz, "none").status_code == 303


def test_with_a_connected_account_deposits_can_be_chosen(app, owner, biz, stripe_key):
    _connect(biz, charges_enabled=True)
    html = owner.get("/dashboard/payments", base_url=BASE).get_data(as_text=True)
    assert 'id="payments-off"' not in html and "disabled" not in _mode_select(html)
    assert _choose(owner, biz, "deposit", deposit_percent="30").status_code == 303
    assert _rule(biz) == ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30)
    html = owner.get("/dashboard/payments", base_url=BASE).get_data(as_text=True)
    assert "150,00\xa0kr. (deposit)" in html


def test_a_rule_saved_before_payments_went_off_is_shown_as_not_asked(app, owner, biz):
    with tenant_scope(biz.tenant_id):
        save_service_rule(biz.service_ids[0], ServiceRule(PaymentMode.FULL))
        db.session.commit()
    html = owner.get("/dashboard/payments", base_url=BASE).get_data(as_text=True)
    assert "(full)" not in html
    assert "nothing online: customers pay at the venue" in html
    assert "Saved earlier: full prepayment of 500,00\xa0kr., not asked while payments are off." in html
    # The booking page agrees: nothing is asked online.
    home = app.test_client().get("/", base_url=BASE).get_data(as_text=True)
    assert "500,00\xa0kr." in home and "prepay" not in home.lower()
