"""The production billing path (``StripeBilling``, not local mode): subscribing through Stripe
Checkout, the card through the billing portal, and trials, against :mod:`tests.stripe_hosted`
in front of localstripe (one ``STRIPE_API_BASE`` for both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.billing.gateway import StripeBilling, get_gateway
from app.billing.models import BillingSubscription, StripeWebhookEvent
from app.billing.plans import current_plan
from app.extensions import db
from app.formatting import format_local
from app.outbox.models import OutboxEvent
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business
from tests.helpers import login_as
from tests.stripe_hosted import CHECKOUT_HOST, PORTAL_HOST, HostedStripe, running_hosted_stripe
from tests.support.billing_fixtures import PREMIUM, PRO, SECRET, act, deliver, localstripe_url, page  # noqa: F401
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"
#: Stripe returns people here: built from configuration (PUBLIC_PORT 5000 under the test settings).
BILLING_PAGE = "http://bella.localhost:5000/dashboard/billing"
KEY = "sk_test_hosted"


@pytest.fixture(scope="module")
def hosted(localstripe_url):  # noqa: F811
    """The hosted-pages stub for the module, forwarding the rest to the module's localstripe."""
    with running_hosted_stripe(localstripe_url) as stub:
        yield stub


@pytest.fixture
def hosted_on(app, hosted, monkeypatch) -> HostedStripe:
    """Billing in production mode (``STRIPE_MODE`` unset) with ``STRIPE_API_BASE`` at the stub."""
    hosted.reset()
    for name in ("STRIPE_MODE", "BILLING_TRIAL_DAYS_PRO", "BILLING_TRIAL_DAYS_PREMIUM"):
        monkeypatch.delenv(name, raising=False)
    for key, value in {"STRIPE_SECRET_KEY": KEY, "STRIPE_API_BASE": hosted.url, "STRIPE_MODE": "",
                       "STRIPE_PRICE_PRO": PRO, "STRIPE_PRICE_PREMIUM": PREMIUM, "BILLING_TRIAL_DAYS_PRO": "",
                       "BILLING_TRIAL_DAYS_PREMIUM": "", "STRIPE_WEBHOOK_SECRET": SECRET}.items():
        monkeypatch.setitem(app.config, key, value)
    return hosted


def row(biz) -> BillingSubscription | None:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        found = db.session.scalar(sa.select(BillingSubscription))
        db.session.expunge_all()
        return found


def outbox_count(biz, kind: str) -> int:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.kind == kind))


def ledger_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(StripeWebhookEvent))


def state(biz) -> tuple:
    sub = row(biz)
    return (sub.stripe_subscription_id, sub.status, sub.plan, sub.price_id, sub.current_period_end,
            sub.cancel_at_period_end, sub.trial_end, sub.latest_invoice_id)


def deliver_and_process(client, event_id: str, event_type: str, obj: dict) -> None:
    """POST the signed event and run the processing job it queued."""
    resp = deliver(client, event_id, event_type, obj)
    assert resp.status_code == 200, resp.data
    assert run_jobs(client.application) == []


def checkout(client, hosted: HostedStripe, plan: str = "pro") -> dict:
    """The owner's Subscribe button: a 303 to a Checkout page; the session the stub holds."""
    resp = act(client, "subscribe", plan=plan)
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert location.startswith(f"{CHECKOUT_HOST}/c/pay/cs_test_")
    return hosted.session_by_url(location)


def test_the_gateway_in_production_mode_is_stripe_billing(hosted_on, ctx):
    gw = get_gateway()
    assert type(gw) is StripeBilling and gw.local is False


def test_subscribing_goes_through_checkout_and_the_webhook_puts_the_business_on_pro(client, ctx, hosted_on):
    biz = make_business("bella", staff=2)
    login_as(client, biz.owner_email, "bella.localhost")
    text = page(client).get_data(as_text=True)
    assert "Subscribe to Pro" in text and 'name="card"' not in text  # no test cards off local mode
    assert "free trial" not in text

    session = checkout(client, hosted_on)

    # What the SDK sent: the customer first (idempotent per business), then the session.
    [customer] = hosted_on.requests_to("/v1/customers")
    assert customer.idempotency_key == f"plaza-customer-{biz.tenant_id}"
    assert customer.form["email"] == biz.owner_email
    assert customer.form["metadata[tenant_id]"] == str(biz.tenant_id)
    [req] = hosted_on.requests_to("/v1/checkout/sessions")
    assert req.authorization == f"Bearer {KEY}" and req.idempotency_key
    sub = row(biz)
    assert req.form == {
        "mode": "subscription", "customer": sub.stripe_customer_id,
        "line_items[0][price]": PRO, "line_items[0][quantity]": "1",
        "success_url": BILLING_PAGE, "cancel_url": BILLING_PAGE,
        "client_reference_id": str(biz.tenant_id),
        "subscription_data[metadata][tenant_id]": str(biz.tenant_id),
    }
    assert req.params["line_items"]["0"]["price"] == PRO
    assert (session["mode"], session["customer"], session["subscription"]) == (
        "subscription", sub.stripe_customer_id, None)
    # Nothing is bought until Stripe says so.
    assert (sub.status, sub.plan, sub.stripe_subscription_id) == ("none", "free", None)
    assert current_plan(biz.tenant_id).code == "free"

    completed = hosted_on.complete_checkout(session["id"])
    assert completed["status"] == "complete" and completed["subscription"].startswith("sub_")
    deliver_and_process(client, "evt_cs_completed", "checkout.session.completed", completed)
    sub = row(biz)
    assert (sub.stripe_subscription_id, sub.status, sub.plan, sub.price_id) == (
        completed["subscription"], "active", "pro", PRO)
    assert sub.current_period_end > utcnow() + timedelta(days=20)
    assert current_plan(biz.tenant_id).code == "pro"
    text = page(client).get_data(as_text=True)
    assert 'id="current-plan">Pro<' in text and 'id="sub-status">active<' in text
    assert "Switch to Premium" in text and "29.00" in text  # the first invoice, through the stub

    # Stripe retries the event: the ledger takes it once and nothing changes.
    before = state(biz)
    for _ in range(3):
        deliver_and_process(client, "evt_cs_completed", "checkout.session.completed", completed)
    assert ledger_count() == 1 and state(biz) == before
    # A second event about the same session (another id) derives the same state.
    deliver_and_process(client, "evt_cs_completed_again", "checkout.session.completed", completed)
    assert state(biz) == before and current_plan(biz.tenant_id).code == "pro"

    # Subscribed: subscribing again is refused without another Checkout Session.
    resp = act(client, "subscribe", plan="premium")
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/billing"
    assert "already has a subscription" in client.get("/dashboard/billing", base_url=BASE).get_data(as_text=True)
    assert len(hosted_on.requests_to("/v1/checkout/sessions")) == 1


def test_an_abandoned_checkout_changes_nothing_and_a_retry_reuses_the_customer(client, ctx, hosted_on):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    first = checkout(client, hosted_on)
    second = checkout(client, hosted_on)  # back from cancel_url, tries again
    assert first["id"] != second["id"] and first["customer"] == second["customer"]
    assert len(hosted_on.requests_to("/v1/customers")) == 1
    sub = row(biz)
    assert (sub.status, sub.plan) == ("none", "free") and current_plan(biz.tenant_id).code == "free"
    # An event about an unpaid session (no subscription yet) derives nothing.
    deliver_and_process(client, "evt_cs_expired", "checkout.session.expired", {**first, "status": "expired"})
    deliver_and_process(client, "evt_cs_open", "checkout.session.completed", first)
    assert (row(biz).status, row(biz).plan) == ("none", "free")


def test_update_card_sends_the_owner_to_the_billing_portal(client, ctx, hosted_on):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    # No billing account yet: nothing to update, and no portal session.
    resp = act(client, "card")
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/billing"
    assert "subscribe first" in client.get("/dashboard/billing", base_url=BASE).get_data(as_text=True)
    assert hosted_on.requests_to("/v1/billing_portal/sessions") == []

    session = checkout(client, hosted_on)
    deliver_and_process(client, "evt_cs_1", "checkout.session.completed", hosted_on.complete_checkout(session["id"]))
    resp = act(client, "card")
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith(f"{PORTAL_HOST}/p/session/bps_test_")
    [req] = hosted_on.requests_to("/v1/billing_portal/sessions")
    assert req.form == {"customer": row(biz).stripe_customer_id, "return_url": BILLING_PAGE}
    assert req.authorization == f"Bearer {KEY}" and req.idempotency_key
    [portal] = hosted_on.portal_sessions.values()
    assert portal["url"] == resp.headers["Location"]
    assert row(biz).status == "active"  # the card is changed at Stripe; the page changed nothing


def test_a_trial_through_checkout_shows_its_end_and_warns_once(client, ctx, hosted_on, monkeypatch):
    monkeypatch.setitem(client.application.config, "BILLING_TRIAL_DAYS_PRO", "14")
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    assert "14-day free trial" in page(client).get_data(as_text=True)

    session = checkout(client, hosted_on)
    [req] = hosted_on.requests_to("/v1/checkout/sessions")
    assert req.form["subscription_data[trial_period_days]"] == "14"
    assert req.form["subscription_data[metadata][tenant_id]"] == str(biz.tenant_id)

    completed = hosted_on.complete_checkout(session["id"])
    sub_id = completed["subscription"]
    deliver_and_process(client, "evt_cs_trial", "checkout.session.completed", completed)
    sub = row(biz)
    assert (sub.status, sub.plan) == ("trialing", "pro")
    assert timedelta(days=13) < sub.trial_end - utcnow() <= timedelta(days=14)
    assert current_plan(biz.tenant_id).code == "pro"  # a trial has the plan's features
    assert outbox_count(biz, "subscription.trial_ending") == 0  # two weeks out: nobody told yet

    # Twelve days later, as far as Stripe is concerned: the trial ends in two days.
    trial_end = int((utcnow() + timedelta(days=2)).timestamp())
    hosted_on.show_subscription(sub_id, status="trialing", trial_end=trial_end)
    served = get_gateway().retrieve_subscription(sub_id)
    assert (served["status"], served["trial_end"]) == ("trialing", trial_end)
    for i in range(3):  # distinct events (each derives again) and a replay of one of them
        deliver_and_process(client, f"evt_sub_updated_{i}", "customer.subscription.updated", served)
    deliver_and_process(client, "evt_sub_updated_0", "customer.subscription.updated", served)
    deliver_and_process(client, "evt_trial_will_end", "customer.subscription.trial_will_end", served)

    end = datetime.fromtimestamp(trial_end, UTC)
    sub = row(biz)
    assert (sub.status, sub.trial_end) == ("trialing", end)
    assert outbox_count(biz, "subscription.trial_ending") == 1
    with tenant_scope(biz.tenant_id):
        [event] = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "subscription.trial_ending"))
        assert event.payload["subscription"] == sub_id and event.payload["trial_end"] == end.isoformat()
    text = page(client).get_data(as_text=True)
    assert 'id="sub-status">trialing<' in text
    with force_locale("en_GB"):  # the test client's reader (Accept-Language: en-GB)
        assert f"<dt>Trial until</dt><dd>{format_local(end, biz.timezone)}</dd>" in text
    assert 'id="current-plan">Pro<' in text


def test_two_tabs_can_never_pay_two_subscriptions(client, ctx, hosted_on):
    """Each new Checkout expires the business's previous one; once one is paid, Subscribe
    derives that subscription instead of opening another Checkout."""
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    first = checkout(client, hosted_on)  # tab 1
    second = checkout(client, hosted_on)  # tab 2
    assert hosted_on.checkout_sessions[first["id"]]["status"] == "expired"
    with pytest.raises(RuntimeError, match="expired"):
        hosted_on.complete_checkout(first["id"])  # tab 1 can no longer pay
    hosted_on.complete_checkout(second["id"])
    # tab 1 reloads and clicks Subscribe again before the webhook arrived
    resp = act(client, "subscribe", plan="premium")
    assert resp.status_code == 303 and resp.headers["Location"] == "/dashboard/billing"
    assert "already paid" in page(client).get_data(as_text=True)
    assert len(hosted_on.requests_to("/v1/checkout/sessions")) == 2
    assert (row(biz).status, row(biz).plan) == ("active", "pro")
    assert current_plan(biz.tenant_id).code == "pro"



def test_after_a_paid_checkout_ends_the_owner_can_subscribe_again_the_same_day(client, ctx, hosted_on):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    session = checkout(client, hosted_on)
    hosted_on.complete_checkout(session["id"])
    act(client, "subscribe", plan="pro")  # before the webhook: derived from the paid session
    sub_id = row(biz).stripe_subscription_id
    assert row(biz).status == "active"
    ended = get_gateway().cancel_now(sub_id)
    deliver_and_process(client, "evt_sub_ended", "customer.subscription.deleted", ended)
    assert row(biz).status == "canceled"
    again = checkout(client, hosted_on)  # a new Checkout, not "already paid"
    assert again["id"] != session["id"]
