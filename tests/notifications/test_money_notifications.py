"""Money events reach people through the notification center, via the transactional outbox:
a customer hears once about a payment, a refund or a failed payment on their booking, and the
business's owners hear once about their plan going past due, recovering and a trial about to
end, however often Stripe replays the webhook."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.billing import service as billing
from app.billing.gateway import StripeBilling, get_gateway
from app.extensions import db
from app.formatting import format_money
from app.identity.models import User
from app.outbox.models import OutboxEvent
from app.outbox.relay import relay_outbox
from app.payments.gateway import GatewayError, get_payments
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business
from tests.helpers import csrf_from, login_as
from tests.payments.test_payments import (  # noqa: F401
    book_direct,
    cancel,
    events_for,
    local_start,
    localstripe,
    pay,
    setup_business,
)
from tests.payments.test_payments import deliver as deliver_events
from tests.support.billing_fixtures import deliver as deliver_signed
from tests.support.billing_fixtures import localstripe_url, stripe_on  # noqa: F401
from tests.support.conftest_mail import (
    mailbox,  # noqa: F401
    run_jobs,
)
from tests.support.notification_support import ALICE_EMAIL, alice, notifications_of

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


@pytest.fixture
def payments_on(app, localstripe):  # noqa: F811
    """Customer payments configured against localstripe (Connect local) for the test."""
    values = {"STRIPE_SECRET_KEY": "sk_test_plaza", "STRIPE_API_BASE": localstripe, "STRIPE_CONNECT": "local"}
    old = {k: app.config.get(k) for k in values}
    app.config.update(values)
    yield values
    app.config.update(old)


def deliver_all(app) -> None:
    """Run queued jobs (webhook processing), relay the outbox and run what it causes, until settled."""
    for _ in range(3):
        assert run_jobs(app) == []
        relay_outbox()
    assert run_jobs(app) == []


def of_type(user_id: uuid.UUID, type_key: str) -> list:
    return [n for n in notifications_of(user_id) if n.type == type_key]


def owner_id(biz) -> uuid.UUID:
    return db.session.scalar(sa.select(User.id).where(User.email == biz.owner_email))


def outbox_count(biz, kind: str) -> int:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.kind == kind))


# --------------------------------------------------------------------------- the customer


def test_payment_received_reaches_the_customer_once_when_the_webhook_is_replayed(ctx, payments_on, mailbox):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    alice_id = alice()
    bid, pi = book_direct(biz, local_start(4, 10), email=ALICE_EMAIL)
    get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
    deliver_events(events_for(pi) * 3)
    deliver_all(ctx)
    deliver_events(events_for(pi) * 2)  # replayed after the fan-out ran
    deliver_all(ctx)

    assert outbox_count(biz, "payment.received") == 1
    [note] = of_type(alice_id, "payment_received")
    assert "500,00\xa0kr." in note.body
    assert of_type(owner_id(biz), "payment_received") == []
    assert len(mailbox.to(ALICE_EMAIL, "Payment received")) == 1


def test_refund_reaches_the_customer_once_per_refund(ctx, payments_on, mailbox):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    alice_id = alice()
    bid, pi = book_direct(biz, local_start(4, 10), email=ALICE_EMAIL)
    pay(biz, bid)
    refund = get_payments().create_refund(payment_intent=pi, amount=1234, metadata={}, idempotency_key="manual-1")
    ev = {"id": "evt_r", "type": "charge.refunded", "data": {"object": {"id": refund["charge"], "payment_intent": pi}}}
    ev2 = {"id": "evt_r2", "type": "refund.created", "data": {"object": {"id": refund["id"]}}}
    deliver_events([ev, ev2, ev, ev2])
    deliver_all(ctx)
    deliver_events([ev2, ev])
    deliver_all(ctx)

    assert outbox_count(biz, "refund.issued") == 1
    [note] = of_type(alice_id, "refund_issued")
    assert "12,34\xa0kr." in note.body
    assert len(of_type(alice_id, "payment_received")) == 1


def test_the_business_cancelling_refunds_and_tells_the_customer_once(ctx, payments_on, mailbox):  # noqa: F811
    from app.booking.service import Actor

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    alice_id = alice()
    bid, pi = book_direct(biz, local_start(4, 10), email=ALICE_EMAIL)
    pay(biz, bid)
    cancel(biz, bid, Actor("staff"))
    deliver_all(ctx)  # the policy job refunds; its outbox event is relayed on the next pass
    deliver_events(events_for(pi) * 2)
    deliver_all(ctx)

    assert outbox_count(biz, "refund.issued") == 1
    [note] = of_type(alice_id, "refund_issued")
    assert "500,00\xa0kr." in note.body


def test_failed_payment_reaches_the_customer_once_with_the_reason(ctx, payments_on, mailbox):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    alice_id = alice()
    bid, pi = book_direct(biz, local_start(4, 10), email=ALICE_EMAIL)
    declining = StripeBilling(payments_on["STRIPE_SECRET_KEY"], payments_on["STRIPE_API_BASE"]
                              ).create_test_payment_method("4000000000000341")
    with pytest.raises(GatewayError, match="declined"):
        get_payments().confirm_payment_intent(pi, payment_method=declining, idempotency_key=f"t:{pi}:declined")
    at_stripe = get_payments().retrieve_payment_intent(pi)
    assert at_stripe["status"] == "requires_payment_method" and at_stripe["last_payment_error"]
    failed = {"id": "evt_f", "type": "payment_intent.payment_failed", "data": {"object": {"id": pi}}}
    deliver_events([failed] * 3)
    deliver_all(ctx)
    deliver_events([failed])
    deliver_all(ctx)

    assert outbox_count(biz, "payment.failed") == 1
    [note] = of_type(alice_id, "payment_failed")
    assert "500,00\xa0kr." in note.body and "declined" in note.body.lower()
    assert of_type(alice_id, "payment_received") == []


# --------------------------------------------------------------------------- the owners


def page(client):
    return client.get("/dashboard/billing", base_url=BASE)


def act(client, path: str, **data):
    token = csrf_from(page(client).data)
    return client.post(f"/dashboard/billing/{path}", base_url=BASE, data={"csrf_token": token, **data})


@pytest.mark.usefixtures("stripe_on")
def test_plan_past_due_and_recovered_reach_the_owner_once_each(client, ctx, mailbox):  # noqa: F811
    biz = make_business("bella", staff=1)
    owner = owner_id(biz)
    login_as(client, biz.owner_email, "bella.localhost")
    act(client, "subscribe", plan="pro", card="4242424242424242")
    gw = get_gateway()
    act(client, "card", card="4000000000000341")
    act(client, "change", plan="premium")
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        sub_id = billing.get_subscription().stripe_subscription_id
    invoice = gw.retrieve_invoice(gw.retrieve_subscription(sub_id)["latest_invoice"])
    for _ in range(2):
        assert deliver_signed(client, "evt_fail_1", "invoice.payment_failed", invoice).status_code == 200
    deliver_signed(client, "evt_fail_2", "invoice.payment_failed", invoice)
    deliver_all(ctx)

    assert outbox_count(biz, "subscription.past_due") == 1
    [late] = of_type(owner, "subscription_past_due")
    assert format_money(int(invoice["amount_due"]), "USD") in late.body  # the unpaid upgrade's invoice

    act(client, "card", card="4242424242424242")
    paid = gw.retrieve_invoice(invoice["id"])
    for _ in range(2):
        assert deliver_signed(client, "evt_paid_1", "invoice.payment_succeeded", paid).status_code == 200
    deliver_signed(client, "evt_paid_2", "invoice.paid", paid)
    deliver_all(ctx)

    assert outbox_count(biz, "subscription.recovered") == 1
    assert len(of_type(owner, "subscription_recovered")) == 1
    assert len(of_type(owner, "subscription_past_due")) == 1


class Trialing:
    """Stripe's view of a subscription in its trial, ending ``days`` from now. localstripe does
    not run trials (its trial subscriptions stay ``incomplete``), so the real subscription it
    holds is shown as Stripe would during a trial."""

    def __init__(self, days: int) -> None:
        self.gw = get_gateway()
        self.trial_end = int((utcnow() + timedelta(days=days)).timestamp())

    def retrieve_subscription(self, subscription_id: str) -> dict:
        sub = self.gw.retrieve_subscription(subscription_id)
        return {**sub, "status": "trialing", "trial_end": self.trial_end, "latest_invoice": None}

    def retrieve_invoice(self, invoice_id: str) -> dict:
        return self.gw.retrieve_invoice(invoice_id)

    def retrieve_subscription_with_invoice(self, subscription_id: str) -> dict:
        return self.retrieve_subscription(subscription_id)


def trial_subscription(biz) -> str:
    """A Pro subscription of ``biz`` at localstripe; its id."""
    gw = get_gateway()
    with tenant_scope(biz.tenant_id):
        row = billing.ensure_customer(biz.owner_email, "Bella")
        gw.set_default_payment_method(row.stripe_customer_id, gw.create_test_payment_method())
        sub = gw.create_subscription(row.stripe_customer_id, "price_test_pro", str(biz.tenant_id))
    db.session.commit()
    return sub["id"]


@pytest.mark.usefixtures("stripe_on")
def test_trial_ending_within_three_days_reaches_the_owner_once(client, ctx, mailbox):  # noqa: F811
    biz = make_business("bella", staff=1)
    owner = owner_id(biz)
    sub_id = trial_subscription(biz)
    stripe = Trialing(days=2)
    for _ in range(3):  # trial_will_end, then replays and updates: each derives again
        billing.derive_subscription(sub_id, stripe)
        db.session.commit()
        deliver_all(ctx)

    assert outbox_count(biz, "subscription.trial_ending") == 1
    [note] = of_type(owner, "trial_ending")
    assert note.title.startswith("Your trial ends on ")
    assert str((utcnow() + timedelta(days=2)).year) in note.title
    assert len(mailbox.to(biz.owner_email, "Your trial ends")) == 1


@pytest.mark.usefixtures("stripe_on")
def test_a_trial_ending_later_tells_nobody_yet(client, ctx, mailbox):  # noqa: F811
    biz = make_business("bella", staff=1)
    sub_id = trial_subscription(biz)
    billing.derive_subscription(sub_id, Trialing(days=14))
    db.session.commit()
    deliver_all(ctx)
    assert outbox_count(biz, "subscription.trial_ending") == 0
    assert of_type(owner_id(biz), "trial_ending") == []
