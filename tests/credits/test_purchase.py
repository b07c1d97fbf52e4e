"""Buying credit packs through Stripe Checkout (one-time payment) against the hosted-pages stub:
what the SDK sends, and the grant — by the webhook and by the return to the success page —
credited exactly once per Checkout Session however often, in whatever order, or at once."""

from __future__ import annotations

import threading

import pytest

from app.audit.service import AuditActor
from app.credits import balance, entries
from app.credits.purchase import complete_return, grant_from_session
from app.extensions import db
from app.identity.service import find_user
from app.platform_settings import set_setting
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from app.uow import unit_of_work
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.stripe_hosted import CHECKOUT_HOST, HostedStripe, running_hosted_stripe
from tests.support.billing_fixtures import SECRET, deliver
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


@pytest.fixture(scope="module")
def hosted():
    """The hosted-pages stub (one-time Checkout needs no upstream localstripe)."""
    with running_hosted_stripe(None) as stub:
        yield stub


@pytest.fixture
def stripe_checkout(app, hosted, monkeypatch) -> HostedStripe:
    """Stripe in production mode (``STRIPE_MODE`` unset) with ``STRIPE_API_BASE`` at the stub."""
    hosted.reset()
    for key, value in {"STRIPE_SECRET_KEY": "sk_test_credits", "STRIPE_API_BASE": hosted.url, "STRIPE_MODE": "",
                       "STRIPE_WEBHOOK_SECRET": SECRET}.items():
        monkeypatch.setitem(app.config, key, value)
    return hosted


def page(client):
    return client.get("/dashboard/credits", base_url=BASE)


def buy(client, pack: str = "standard"):
    return client.post("/dashboard/credits/buy", base_url=BASE,
                       data={"csrf_token": csrf_from(page(client).data), "pack": pack})


def checkout(client, hosted: HostedStripe, pack: str = "standard") -> dict:
    resp = buy(client, pack)
    assert resp.status_code == 303, resp.data
    assert resp.headers["Location"].startswith(f"{CHECKOUT_HOST}/c/pay/cs_test_")
    return hosted.session_by_url(resp.headers["Location"])


def ledger(biz) -> list[tuple]:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return [(e.kind, e.amount, e.balance_before, e.balance_after, e.checkout_session_id, e.money_amount,
                 e.money_currency) for e in reversed(entries())]


def webhook(client, event_id: str, session: dict):
    resp = deliver(client, event_id, "checkout.session.completed", session)
    assert resp.status_code == 200, resp.data
    assert run_jobs(client.application) == []


def back_from_checkout(client, session: dict):
    return client.get(f"/dashboard/credits/return?session_id={session['id']}", base_url=BASE)


def test_buying_a_pack_opens_a_one_time_checkout_with_the_pack_and_the_business(client, ctx, stripe_checkout):
    biz = make_business("bella", currency="GBP")
    login_as(client, biz.owner_email, "bella.localhost")
    text = page(client).get_data(as_text=True)
    assert "5 credits" in text and "15 credits" in text and "40 credits" in text
    assert "$60.00" in text and "$140.00" in text

    session = checkout(client, stripe_checkout)

    [req] = stripe_checkout.requests_to("/v1/checkout/sessions")
    assert req.authorization == "Bearer sk_test_credits" and req.idempotency_key
    assert req.form["mode"] == "payment"
    assert req.form["customer_email"] == biz.owner_email
    assert req.form["line_items[0][price_data][currency]"] == "usd"  # packs are priced in USD everywhere
    assert req.form["line_items[0][price_data][unit_amount]"] == "6000"
    assert req.form["metadata[tenant_id]"] == str(biz.tenant_id)
    assert req.form["metadata[pack]"] == "standard" and req.form["metadata[credits]"] == "15"
    assert req.form["success_url"] == ("http://bella.localhost:5000/dashboard/credits/return"
                                       "?session_id={CHECKOUT_SESSION_ID}")
    assert session["status"] == "open"
    assert ledger(biz) == []  # nothing granted before Stripe says it is paid
    # The page's Buy buttons post over HTMX: the answer is a plain navigation to Checkout.
    resp = client.post("/dashboard/credits/buy", base_url=BASE, headers={"HX-Request": "true"},
                       data={"csrf_token": csrf_from(page(client).data), "pack": "pro"})
    assert resp.status_code == 200 and resp.headers["HX-Redirect"].startswith(f"{CHECKOUT_HOST}/c/pay/cs_test_")


def test_the_webhook_grants_the_pack_once_however_often_stripe_replays_it(client, ctx, stripe_checkout):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    session = checkout(client, stripe_checkout)
    paid = stripe_checkout.complete_checkout(session["id"])
    for n in range(3):  # Stripe retries with the same event id, and may send the event again under new ids
        webhook(client, "evt_credits_1", paid)
        webhook(client, f"evt_credits_again_{n}", paid)
    assert ledger(biz) == [("purchase", 15, 0, 15, session["id"], 6000, "USD")]
    text = page(client).get_data(as_text=True)
    assert 'data-balance="15"' in text and "Receipt: paid $60.00" in text


def test_the_return_then_the_webhook_and_the_webhook_then_the_return_credit_once(client, ctx, stripe_checkout):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    first = checkout(client, stripe_checkout)
    stripe_checkout.complete_checkout(first["id"])
    resp = back_from_checkout(client, first)
    assert resp.status_code == 303
    assert "15 credits added" in page(client).get_data(as_text=True)
    webhook(client, "evt_after_return", stripe_checkout.checkout_sessions[first["id"]])
    back_from_checkout(client, first)  # a reload of the success page

    second = checkout(client, stripe_checkout, "starter")
    paid = stripe_checkout.complete_checkout(second["id"])
    webhook(client, "evt_before_return", paid)
    back_from_checkout(client, second)
    assert [row[:4] for row in ledger(biz)] == [("purchase", 15, 0, 15), ("purchase", 5, 15, 20)]


def test_an_event_delivered_before_payment_and_an_unpaid_return_grant_nothing(client, ctx, stripe_checkout):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    session = checkout(client, stripe_checkout)
    # Out of order: an event arrives while Stripe still has the session open (the handler re-fetches it).
    webhook(client, "evt_too_early", {**session, "status": "complete", "payment_status": "paid"})
    back_from_checkout(client, session)
    assert "being confirmed" in page(client).get_data(as_text=True)
    assert ledger(biz) == []
    paid = stripe_checkout.complete_checkout(session["id"])
    webhook(client, "evt_paid", paid)
    assert [row[:4] for row in ledger(biz)] == [("purchase", 15, 0, 15)]


def test_another_business_cannot_claim_a_session_by_returning_with_its_id(client, ctx, stripe_checkout):
    bella = make_business("bella")
    other = make_business("other")
    login_as(client, bella.owner_email, "bella.localhost")
    session = checkout(client, stripe_checkout)
    stripe_checkout.complete_checkout(session["id"])
    with tenant_scope(other.tenant_id), unit_of_work():
        assert complete_return(session["id"]) is None
    assert ledger(other) == [] and ledger(bella) == []


def test_the_webhook_and_the_return_racing_credit_once(app, client, ctx, stripe_checkout):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    session = checkout(client, stripe_checkout)
    paid = stripe_checkout.complete_checkout(session["id"])
    db.session.rollback()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def grant() -> None:
        with app.app_context():
            try:
                barrier.wait(10)
                with unit_of_work():
                    grant_from_session(paid)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=grant) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert [row[:4] for row in ledger(biz)] == [("purchase", 15, 0, 15)]
    with tenant_scope(biz.tenant_id):
        assert balance() == 15


def test_an_unknown_pack_or_checkout_unavailable_re_renders_the_page_with_the_error(client, ctx, stripe_checkout,
                                                                                  app, monkeypatch):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    resp = buy(client, "gold")
    assert resp.status_code == 422 and "Choose one of the credit packs" in resp.get_data(as_text=True)
    monkeypatch.setitem(app.config, "STRIPE_MODE", "local")
    resp = buy(client, "standard")
    assert resp.status_code == 422 and "local mode" in resp.get_data(as_text=True)
    assert stripe_checkout.requests_to("/v1/checkout/sessions") == []


def test_packs_come_from_the_platform_settings(client, ctx, stripe_checkout):
    biz = make_business("bella")
    admin = make_user("ops@plaza.test", is_platform_admin=True)
    set_setting("credits.pack.pro.credits", "0", by=AuditActor(admin), reason="pro pack off sale")
    set_setting("credits.pack.starter.price", "3000", by=AuditActor(admin), reason="dearer")
    db.session.commit()
    login_as(client, biz.owner_email, "bella.localhost")
    text = page(client).get_data(as_text=True)
    assert "40 credits" not in text and "$30.00" in text
    assert buy(client, "pro").status_code == 422


def test_plain_staff_cannot_buy_credits(client, ctx, stripe_checkout):
    biz = make_business("bella")
    make_user("stylist@bella.test")
    with tenant_scope(biz.tenant_id):
        add_membership(find_user("stylist@bella.test"), Role.STAFF, staff_member_id=biz.staff_ids[1])
        db.session.commit()
    login_as(client, "stylist@bella.test", "bella.localhost")
    assert page(client).status_code == 403
