"""Customer payments on bookings against localstripe (a real Stripe-protocol server started
as a subprocess): deposits, holds, the policy on cancel / no-show, late successes, replayed
and reordered events, Connect onboarding, the ledger page and CSV."""

from __future__ import annotations

import csv
import io
import random
import time as _time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlalchemy as sa

from app.booking.errors import SlotUnavailable
from app.booking.models import Booking, BookingEvent
from app.booking.service import Actor, CustomerInput, create_booking, transition
from app.checkout.pay import pay_with_test_card, start_payment_hold
from app.checkout.policy import initial_status_for
from app.checkout.tasks import sweep_expired_holds
from app.checkout.webhooks import HANDLERS
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.outbox.relay import relay_outbox
from app.payments.connect import connect_account
from app.payments.gateway import get_payments
from app.payments.holds import booking_payment
from app.payments.models import BookingPayment, ConnectAccount, LedgerEntry
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from app.payments.queries import payment_summary
from app.payments.settings import business_policy, save_business_policy, save_service_rule, service_rule
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_business
from tests.helpers import csrf_from, login_as, tenant_settings
from tests.support.conftest_mail import mailbox, run_jobs, text_of  # noqa: F401
from tests.support.servers import running_localstripe

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://bella.localhost"
CPH = ZoneInfo("Europe/Copenhagen")
PRICE = 50000  # 500.00 kr.


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    """localstripe on a free 127.0.0.1 port for this module; yields its base URL."""
    with running_localstripe() as url:
        yield url


@pytest.fixture
def stripe_on(app, localstripe):
    """Payments configured against localstripe (Connect local) for the test."""
    values = {"STRIPE_SECRET_KEY": "sk_test_plaza", "STRIPE_API_BASE": localstripe, "STRIPE_CONNECT": "local"}
    old = {k: app.config.get(k) for k in values}
    app.config.update(values)
    yield values
    app.config.update(old)


@pytest.fixture(autouse=True)
def _smtp(request):
    """Every test that runs jobs gets a real SMTP server, so booking emails are delivered."""
    if "ctx" in request.fixturenames:
        request.getfixturevalue("mailbox")
    yield


def local_start(days: int, hh: int, mm: int = 0) -> datetime:
    day = datetime.now(CPH).date() + timedelta(days=days)
    return datetime.combine(day, time(hh, mm), tzinfo=CPH).astimezone(UTC)


def z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def setup_business(policy: BusinessPolicy, rule: ServiceRule, staff: int = 1, connected: bool = True, **rules):
    """A business with one 60-min service at 500.00 kr., ``policy`` and ``rule``, and a
    connected account able to charge."""
    biz = make_business("bella", staff=staff, services=[("Colour", 60, PRICE)], **rules)
    with tenant_scope(biz.tenant_id):
        save_business_policy(policy)
        save_service_rule(biz.service_ids[0], rule)
        if connected:
            db.session.add(ConnectAccount(stripe_account_id="acct_local_test", charges_enabled=True,
                                          details_submitted=True, payouts_enabled=True))
        db.session.flush()
    db.session.commit()
    return biz


def book_http(client, biz, start: datetime, email: str = "ann@example.com"):
    """Book through the storefront's confirm step (plain form POST)."""
    token = csrf_from(client.get("/", base_url=BASE).data)
    data = {"csrf_token": token, "staff": "any", "start": z(start), "tz": "Europe/Copenhagen", "name": "Ann Customer",
            "email": email, "phone": "+45 20 30 40 50", "notes": "", "action": "confirm"}
    return client.post(f"/book/{biz.service_ids[0]}/confirm", base_url=BASE, data=data)


def book_direct(biz, start: datetime, email: str = "ann@example.com") -> tuple[uuid.UUID, str | None]:
    """Create a paid booking and its hold in the domain; returns (booking id, payment intent id)."""
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        from app.catalog.models import Service

        svc = db.session.get(Service, (biz.tenant_id, biz.service_ids[0]))
        status = initial_status_for(svc)
        booking = create_booking(tenant, service_id=svc.id, staff_id=None, start=start,
                                 customer=CustomerInput("Ann Customer", email), customer_timezone="Europe/Copenhagen",
                                 initial_status=status)
        payment = start_payment_hold(tenant, booking) if status else None
        bid, pi = booking.id, payment.payment_intent_id if payment else None
    db.session.commit()
    return bid, pi


def state(biz, booking_id: uuid.UUID) -> tuple[str, list[tuple[str, int]], str]:
    """(booking status, sorted ledger (kind, amount), payment status) seen fresh from the database."""
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        ledger = sorted((e.kind, e.amount) for e in db.session.scalars(
            sa.select(LedgerEntry).where(LedgerEntry.booking_id == booking_id)))
        payment = booking_payment(booking_id)
        return booking.status, ledger, payment.status if payment else ""


def deliver(events: list[dict]) -> list[str]:
    """Run the handlers like the billing webhook job does: each event in its own transaction."""
    outcomes = []
    for event in events:
        outcomes.append(HANDLERS[event["type"]](event))
        db.session.commit()
    return outcomes


def events_for(pi_id: str) -> list[dict]:
    """Signed-shape event dicts for a PaymentIntent: created, succeeded, charge.succeeded."""
    pi = get_payments().retrieve_payment_intent(pi_id)
    charge = pi.get("latest_charge")
    charge_id = charge if isinstance(charge, str) else (charge or {}).get("id", "ch_unknown")
    return [
        {"id": f"evt_{uuid.uuid4().hex[:12]}", "type": "payment_intent.created", "data": {"object": {**pi, "status": "requires_payment_method"}}},
        {"id": f"evt_{uuid.uuid4().hex[:12]}", "type": "payment_intent.succeeded", "data": {"object": pi}},
        {"id": f"evt_{uuid.uuid4().hex[:12]}", "type": "charge.succeeded",
         "data": {"object": {"id": charge_id, "object": "charge", "payment_intent": pi_id}}},
    ]


def relay_and_run(app) -> list[str]:
    relay_outbox()
    return run_jobs(app)


# --------------------------------------------------------------------------- the customer's journey


def test_deposit_pay_then_late_cancel_refunds_all_but_the_fee(client, ctx, stripe_on, mailbox):  # noqa: F811
    # Free cancellation until 72 h before; later costs 20 %. Deposit 30 % = 150.00 kr.
    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=20),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    start = local_start(2, 10)

    page = client.get(f"/book/{biz.service_ids[0]}/details", base_url=BASE,
                      query_string={"staff": "any", "start": z(start), "tz": "Europe/Copenhagen"})
    assert page.status_code == 200

    resp = book_http(client, biz, start)
    assert resp.status_code == 303 and "/pay/" in resp.headers["Location"]
    pay_url = resp.headers["Location"]
    token = pay_url.rsplit("/", 1)[1]
    pay_page = client.get(pay_url, base_url=BASE)
    text = pay_page.get_data(as_text=True)
    assert "150,00\xa0kr." in text and "Free cancellation until 72 hours" in text and "20%" in text
    (booking_id,) = [b.id for b in _bookings(biz)]
    assert state(biz, booking_id)[0] == "awaiting_payment"

    paid = client.post(pay_url, base_url=BASE, data={"csrf_token": csrf_from(text), "payment_method": "pm_card_visa"})
    assert paid.status_code == 303 and f"/booked/{token}" in paid.headers["Location"]
    status, ledger, pstatus = state(biz, booking_id)
    assert status == "confirmed" and pstatus == "succeeded"
    # Free plan: 3 % application fee on 150.00 = 4.50.
    assert ledger == [("application_fee", -450), ("payment", 15000)]

    manage = client.get(f"/manage/{token}", base_url=BASE)
    assert "Free cancellation until 72 hours" in manage.get_data(as_text=True)
    cancel = client.post(f"/manage/{token}/cancel", base_url=BASE,
                         data={"csrf_token": csrf_from(manage.data), "reason": "Can't make it"})
    assert cancel.status_code == 303
    assert relay_and_run(ctx) == []
    # Fee 20 % of 500.00 = 100.00 kept; 50.00 back.
    status, ledger, _ = state(biz, booking_id)
    assert status == "cancelled"
    assert ledger == [("application_fee", -450), ("application_fee", 150), ("payment", 15000), ("refund", -5000)]
    refunds = get_payments().list_refunds(payments_pi(biz, booking_id))
    assert [r["amount"] for r in refunds] == [5000]

    # The policy job and every payment event again, in any order: nothing more moves.
    with tenant_scope(biz.tenant_id):
        event_id = db.session.scalar(sa.select(OutboxEvent.id).where(OutboxEvent.kind == "booking.cancelled"))
    from app.checkout.tasks import apply_payment_policy

    apply_payment_policy(str(biz.tenant_id), str(booking_id), str(event_id))
    evs = events_for(payments_pi(biz, booking_id)) * 2
    random.Random(3).shuffle(evs)
    deliver(evs)
    assert state(biz, booking_id)[1] == ledger
    assert [r["amount"] for r in get_payments().list_refunds(payments_pi(biz, booking_id))] == [5000]


def test_cancel_in_time_refunds_the_whole_deposit(ctx, stripe_on):
    biz = setup_business(BusinessPolicy(free_cancellation_hours=24, late_cancel_fee_percent=50),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_fixed=10000))
    bid, pi = book_direct(biz, local_start(5, 11))
    pay(biz, bid)
    cancel(biz, bid, Actor("customer"))
    relay_and_run(ctx)
    assert state(biz, bid)[1] == [("application_fee", -300), ("application_fee", 300), ("payment", 10000), ("refund", -10000)]


def test_staff_cancel_refunds_everything_even_late(ctx, stripe_on):
    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=100),
                         ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(1, 12))
    pay(biz, bid)
    cancel(biz, bid, Actor("staff"))
    relay_and_run(ctx)
    assert state(biz, bid)[1] == [("application_fee", -1500), ("application_fee", 1500), ("payment", 50000), ("refund", -50000)]


def test_no_show_keeps_the_fee_and_charges_the_saved_card_for_the_rest(ctx, stripe_on):
    # Card saved at booking; deposit 100.00; no-show fee 50 % = 250.00 -> keep 100.00, charge 150.00.
    biz = setup_business(BusinessPolicy(free_cancellation_hours=24, no_show_fee_percent=50, require_card=True),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_fixed=10000))
    start = local_start(1, 12)
    bid, pi = book_direct(biz, start)
    pay(biz, bid)
    status, ledger, _ = state(biz, bid)
    assert status == "confirmed"
    with tenant_scope(biz.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == bid))
        transition(booking, "no_show", Actor("staff"), now=booking.starts_at + timedelta(minutes=20))
    db.session.commit()
    assert relay_and_run(ctx) == []
    status, ledger, _ = state(biz, bid)
    assert status == "no_show"
    assert ledger == [("application_fee", -300), ("fee", 15000), ("payment", 10000)]
    with tenant_scope(biz.tenant_id):
        summary = payment_summary(db.session.scalar(sa.select(Booking).where(Booking.id == bid)).id)
    assert (summary.due, summary.paid, summary.refunded, summary.fees) == (10000, 10000, 0, 15000)


def test_card_saved_at_booking_pays_a_late_cancellation_fee_off_session(client, ctx, stripe_on):
    # No payment asked, but a card must be saved; late cancellation costs 50 % = 250.00 kr.
    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=50, require_card=True),
                         ServiceRule())
    resp = book_http(client, biz, local_start(2, 10))
    assert "/pay/" in resp.headers["Location"]
    page = client.get(resp.headers["Location"], base_url=BASE)
    assert "Save test card 4242" in page.get_data(as_text=True)
    saved = client.post(resp.headers["Location"], base_url=BASE,
                        data={"csrf_token": csrf_from(page.data), "payment_method": "pm_card_visa"})
    assert saved.status_code == 303
    (bid,) = [b.id for b in _bookings(biz)]
    assert state(biz, bid)[0] == "confirmed"
    cancel(biz, bid, Actor("customer"))
    assert relay_and_run(ctx) == []
    assert state(biz, bid)[1] == [("fee", 25000)]
    # The job again (a retry) charges nothing more.
    from app.checkout.tasks import apply_payment_policy

    with tenant_scope(biz.tenant_id):
        event_id = db.session.scalar(sa.select(OutboxEvent.id).where(OutboxEvent.kind == "booking.cancelled"))
    apply_payment_policy(str(biz.tenant_id), str(bid), str(event_id))
    assert state(biz, bid)[1] == [("fee", 25000)]


# --------------------------------------------------------------------------- holds


def test_hold_blocks_the_slot_then_expires_and_frees_it(client, ctx, stripe_on):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    start = local_start(3, 10)
    bid, pi = book_direct(biz, start)
    assert state(biz, bid)[0] == "awaiting_payment"
    with pytest.raises(SlotUnavailable):
        book_direct(biz, start, email="bob@example.com")
    db.session.rollback()

    assert sweep_expired_holds(utcnow() + timedelta(minutes=14)) == {}
    assert state(biz, bid)[0] == "awaiting_payment"
    assert sweep_expired_holds(utcnow() + timedelta(minutes=16)) == {"expired": 1}
    assert state(biz, bid)[0] == "cancelled"
    with tenant_scope(biz.tenant_id):
        kinds = list(db.session.scalars(sa.select(BookingEvent.kind).where(BookingEvent.booking_id == bid)
                                        .order_by(BookingEvent.at)))
    assert kinds == ["created", "expire_hold"]
    assert sweep_expired_holds(utcnow() + timedelta(minutes=30)) == {}
    # The slot is free again: another customer books it through the storefront.
    resp = book_http(client, biz, start, email="bob@example.com")
    assert resp.status_code == 303 and "/pay/" in resp.headers["Location"]
    # The pay page of the expired hold says so and takes no payment.
    page = client.get(f"/pay/{payments_token(biz, bid)}", base_url=BASE)
    assert page.status_code == 303  # no longer awaiting payment -> the booking page


def test_expiry_job_scheduled_from_the_outbox_releases_the_hold(ctx, stripe_on):
    from redis import Redis
    from rq import Queue

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(3, 10))
    relay_and_run(ctx)
    queue = Queue("default", connection=Redis.from_url(ctx.config["REDIS_URL"]))
    assert f"payment-hold-{bid}" in queue.scheduled_job_registry.get_job_ids()
    from app.checkout.tasks import expire_payment_hold

    assert expire_payment_hold(str(biz.tenant_id), str(bid)) == "skipped"  # not yet over
    with tenant_scope(biz.tenant_id):
        db.session.execute(sa.update(BookingPayment).where(BookingPayment.booking_id == bid)
                           .values(hold_expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert expire_payment_hold(str(biz.tenant_id), str(bid)) == "expired"
    assert expire_payment_hold(str(biz.tenant_id), str(bid)) == "skipped"
    assert state(biz, bid)[0] == "cancelled"


def test_payment_that_arrived_in_time_is_confirmed_by_the_sweep_when_its_webhook_is_late(ctx, stripe_on):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(3, 10))
    get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
    assert sweep_expired_holds(utcnow() + timedelta(minutes=16)) == {"confirmed": 1}
    assert state(biz, bid)[0] == "confirmed"


def test_late_success_after_the_slot_was_taken_is_refunded_once_and_the_customer_told(client, ctx, stripe_on,
                                                                                        mailbox):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=20))
    start = local_start(3, 14)
    bid, pi = book_direct(biz, start)
    assert sweep_expired_holds(utcnow() + timedelta(minutes=16)) == {"expired": 1}
    other, _ = book_direct(biz, start, email="bob@example.com")
    # The first customer's browser confirms anyway (stale page): Stripe takes the money.
    get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
    evs = events_for(pi) * 3
    random.Random(7).shuffle(evs)
    deliver(evs)
    status, ledger, pstatus = state(biz, bid)
    assert status == "cancelled" and pstatus == "succeeded"
    assert ledger == [("application_fee", -300), ("application_fee", 300), ("payment", 10000), ("refund", -10000)]
    assert [r["amount"] for r in get_payments().list_refunds(pi)] == [10000]
    assert state(biz, other)[0] == "awaiting_payment"
    assert relay_and_run(ctx) == []
    relay_and_run(ctx)
    mails = mailbox.to("ann@example.com", "Your payment to Bella was refunded")
    assert len(mails) == 1 and "100,00\xa0kr." in text_of(mails[0])
    assert "the time we held for your booking had run out" in text_of(mails[0])


@pytest.mark.parametrize("seed", range(6))
def test_replayed_and_reordered_payment_events_end_in_the_same_state(ctx, stripe_on, seed):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    bid, pi = book_direct(biz, local_start(4, 10))
    get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
    evs = events_for(pi) * 3
    random.Random(seed).shuffle(evs)
    deliver(evs)
    assert state(biz, bid) == ("confirmed", [("application_fee", -450), ("payment", 15000)], "succeeded")
    with tenant_scope(biz.tenant_id):
        confirmed = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
            OutboxEvent.kind == "booking.confirmed"))
    assert confirmed == 1


def test_refund_events_record_each_refund_once(ctx, stripe_on):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(4, 10))
    pay(biz, bid)
    refund = get_payments().create_refund(payment_intent=pi, amount=1234, metadata={}, idempotency_key="manual-1")
    ev = {"id": "evt_r", "type": "charge.refunded", "data": {"object": {"id": refund["charge"], "payment_intent": pi}}}
    ev2 = {"id": "evt_r2", "type": "refund.created", "data": {"object": {"id": refund["id"]}}}
    deliver([ev, ev2, ev, ev2])
    assert ("refund", -1234) in state(biz, bid)[1]
    assert sum(1 for k, _ in state(biz, bid)[1] if k == "refund") == 1


def test_unknown_objects_are_ignored(ctx, stripe_on):
    assert deliver([{"id": "e", "type": "account.updated", "data": {"object": {"id": "acct_nobody"}}}]) == ["ignored"]
    pi = get_payments().create_payment_intent(amount=500, currency="DKK", metadata={}, idempotency_key="stray")
    assert deliver([{"id": "e2", "type": "payment_intent.succeeded", "data": {"object": {"id": pi["id"]}}}]) == [
        "ignored"]


def test_reconcile_repairs_a_lost_webhook_and_then_reports_nothing(ctx, stripe_on):
    from app.checkout.tasks import reconcile_payments

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(3, 10))
    get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
    changes = reconcile_payments()
    assert len(changes) == 1 and changes[0].startswith(f"{pi}: requires_payment_method -> succeeded, 2 ledger rows")
    assert state(biz, bid)[0] == "confirmed"
    assert reconcile_payments() == []


def test_declined_card_keeps_the_hold_and_says_why(client, ctx, stripe_on):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    resp = book_http(client, biz, local_start(3, 10))
    page = client.get(resp.headers["Location"], base_url=BASE)
    declined = client.post(resp.headers["Location"], base_url=BASE,
                           data={"csrf_token": csrf_from(page.data), "payment_method": "pm_card_chargeDeclined"})
    assert declined.status_code == 409 and "did not go through" in declined.get_data(as_text=True)
    (booking,) = _bookings(biz)
    assert state(biz, booking.id)[:2] == ("awaiting_payment", [])
    ok = client.post(resp.headers["Location"], base_url=BASE,
                     data={"csrf_token": csrf_from(page.data), "payment_method": "pm_card_visa"})
    assert ok.status_code == 303
    assert state(biz, booking.id)[0] == "confirmed"


def test_signed_events_through_the_webhook_endpoint_confirm_the_booking_once(client, ctx, stripe_on):
    """End to end with the billing helper's ``/webhooks/stripe`` (signature, event ledger, job)."""
    import json

    import stripe

    secret = "whsec_payments_test"
    ctx.config["STRIPE_WEBHOOK_SECRET"] = secret
    try:
        biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
        bid, pi = book_direct(biz, local_start(3, 10))
        get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
        for event in events_for(pi) * 2:  # every event delivered twice
            body = json.dumps(event)
            ts = int(_time.time())
            sig = stripe.WebhookSignature._compute_signature(f"{ts}.{body}", secret)
            resp = client.post("/webhooks/stripe", data=body, content_type="application/json",
                               headers={"Stripe-Signature": f"t={ts},v1={sig}"})
            assert resp.status_code == 200
        assert run_jobs(ctx) == []
        assert state(biz, bid) == ("confirmed", [("application_fee", -1500), ("payment", 50000)], "succeeded")
    finally:
        ctx.config.pop("STRIPE_WEBHOOK_SECRET", None)


# --------------------------------------------------------------------------- Connect, page, ledger


def test_connect_onboarding_and_account_updated(client, ctx, stripe_on):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL), connected=False)
    login_as(client, biz.owner_email, host="bella.localhost")
    page = client.get("/dashboard/payments", base_url=BASE)
    assert page.status_code == 200 and "Connect with Stripe" in page.get_data(as_text=True)
    # Without a connected account the service is booked without payment.
    assert book_direct(biz, local_start(3, 9))[1] is None
    resp = client.post("/dashboard/payments/connect", base_url=BASE, data={"csrf_token": csrf_from(page.data)})
    assert resp.status_code == 303 and "/dashboard/payments/connect/local/acct_local_" in resp.headers["Location"]
    onboarding = client.get(resp.headers["Location"], base_url=BASE)
    assert onboarding.status_code == 200
    done = client.post(resp.headers["Location"], base_url=BASE, data={"csrf_token": csrf_from(onboarding.data)})
    assert done.status_code == 303
    assert client.get(done.headers["Location"], base_url=BASE).status_code == 303
    page = client.get("/dashboard/payments", base_url=BASE).get_data(as_text=True)
    assert "connected" in page
    with tenant_scope(biz.tenant_id):
        acct = connect_account()
        account_id = acct.stripe_account_id
        assert acct.charges_enabled
        acct.charges_enabled = False  # drift; account.updated re-fetches the truth
        db.session.flush()
    db.session.commit()
    assert deliver([{"id": "e", "type": "account.updated", "data": {"object": {"id": account_id}}}] * 2) == [
        "updated", "updated"]
    with tenant_scope(biz.tenant_id):
        assert connect_account().charges_enabled


def test_payments_page_policy_rules_ledger_and_csv(client, ctx, stripe_on):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, pi = book_direct(biz, local_start(3, 10))
    pay(biz, bid)
    login_as(client, biz.owner_email, host="bella.localhost")
    page = client.get("/dashboard/payments", base_url=BASE)
    text = page.get_data(as_text=True)
    assert "500,00\xa0kr." in text and "application fee" in text
    token = csrf_from(text)
    bad = client.post("/dashboard/payments/policy", base_url=BASE,
                      data={"csrf_token": token, "free_cancellation_hours": "12", "late_cancel_fee_percent": "150",
                            "no_show_fee_percent": "0"})
    assert bad.status_code == 422 and "Between 0 and 100%" in bad.get_data(as_text=True)
    ok = client.post("/dashboard/payments/policy", base_url=BASE,
                     data={"csrf_token": token, "free_cancellation_hours": "12", "late_cancel_fee_percent": "25",
                           "no_show_fee_percent": "40", "require_card": "y"})
    assert ok.status_code == 303
    prefix = f"s{biz.service_ids[0].hex[:8]}"
    rule = client.post(f"/dashboard/payments/services/{biz.service_ids[0]}", base_url=BASE,
                       data={"csrf_token": token, f"{prefix}-mode": "deposit", f"{prefix}-deposit_fixed": "120.50"})
    assert rule.status_code == 303
    bad_rule = client.post(f"/dashboard/payments/services/{biz.service_ids[0]}", base_url=BASE,
                           data={"csrf_token": token, f"{prefix}-mode": "deposit"})
    assert bad_rule.status_code == 422
    with tenant_scope(biz.tenant_id):
        assert business_policy() == BusinessPolicy(12, 25, 40, True)
        assert service_rule(biz.service_ids[0]) == ServiceRule(PaymentMode.DEPOSIT, deposit_fixed=12050)
    assert client.post(f"/dashboard/payments/services/{uuid.uuid4()}", base_url=BASE,
                       data={"csrf_token": token}).status_code == 404
    export = client.get("/dashboard/payments/ledger.csv", base_url=BASE)
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert sorted((r["kind"], r["amount"], r["currency"]) for r in rows) == [
        ("application_fee", "-15.00", "DKK"), ("payment", "500.00", "DKK")]
    assert all(r["payment_intent"] == pi and r["booking_id"] == str(bid) for r in rows)


def test_payments_page_needs_a_manager_and_is_tenant_scoped(client, ctx, stripe_on):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    other = make_business("other", staff=1)
    anon = client.get("/dashboard/payments", base_url=BASE)
    assert anon.status_code in (302, 303)
    login_as(client, other.owner_email, host="bella.localhost")
    assert client.get("/dashboard/payments", base_url=BASE).status_code == 404
    login_as(client, other.owner_email, host="other.localhost")
    other_page = client.get("/dashboard/payments", base_url="http://other.localhost")
    assert other_page.status_code == 200
    token = csrf_from(other_page.data)
    assert client.post(f"/dashboard/payments/services/{biz.service_ids[0]}", base_url="http://other.localhost",
                       data={"csrf_token": token}).status_code == 404


def test_ledger_is_append_only_for_the_app(ctx, stripe_on, services):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, _ = book_direct(biz, local_start(3, 10))
    pay(biz, bid)
    url = services["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        conn.execute(*tenant_settings(biz.tenant_id, local=False))
        assert conn.execute("select count(*) from ledger_entry").fetchone()[0] == 2
        for sql in ("update ledger_entry set amount = 0", "delete from ledger_entry"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()
            conn.execute(*tenant_settings(biz.tenant_id, local=False))
    owner = services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(owner) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        assert conn.execute("select count(*) from ledger_entry").fetchone()[0] == 2
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update ledger_entry set amount = 0")


def test_without_stripe_services_book_without_payment(client, ctx):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    resp = book_http(client, biz, local_start(3, 10))
    assert resp.status_code == 303 and "/booked/" in resp.headers["Location"]
    assert [b.status for b in _bookings(biz)] == ["confirmed"]
    login_as(client, biz.owner_email, host="bella.localhost")
    assert "not configured" in client.get("/dashboard/payments", base_url=BASE).get_data(as_text=True)


# --------------------------------------------------------------------------- helpers using the domain


def _bookings(biz) -> list[Booking]:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return list(db.session.scalars(sa.select(Booking).order_by(Booking.created_at)))


def payments_pi(biz, booking_id) -> str:
    with tenant_scope(biz.tenant_id):
        return booking_payment(booking_id).payment_intent_id


def payments_token(biz, booking_id) -> str:
    from app.booking.service import manage_token

    with tenant_scope(biz.tenant_id):
        return manage_token(db.session.scalar(sa.select(Booking).where(Booking.id == booking_id)))


def pay(biz, booking_id) -> None:
    """The customer pays with the test card (as the pay step does)."""
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        pay_with_test_card(tenant, booking)
    db.session.commit()


def cancel(biz, booking_id, actor: Actor) -> None:
    with tenant_scope(biz.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        transition(booking, "cancel", actor, "test")
    db.session.commit()



def test_the_test_card_is_only_offered_against_the_stripe_stand_in(app, client, ctx, stripe_on, monkeypatch):
    """``pay_with_test_card`` is a test hook: offered against localstripe, never in production,
    with a live key or against Stripe itself with a test key; the domain refuses it too."""
    from app.checkout.errors import TestPaymentsDisabled
    from app.payments.gateway import test_payments_allowed

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    pay_url = book_http(client, biz, local_start(3, 10)).headers["Location"]
    page = client.get(pay_url, base_url=BASE)
    assert "with test card 4242" in page.get_data(as_text=True) and test_payments_allowed()
    with monkeypatch.context() as m:
        m.setitem(app.config, "STRIPE_API_BASE", "")
        assert not test_payments_allowed()  # an sk_test_ key against Stripe itself
        m.setitem(app.config, "STRIPE_TEST_PAYMENTS", "1")
        assert test_payments_allowed()  # asked for explicitly
        m.setitem(app.config, "STRIPE_SECRET_KEY", "sk_live_plaza")
        assert not test_payments_allowed()
    monkeypatch.setitem(app.config, "ENV", "production")  # the settings class puts ENV in the config
    assert not test_payments_allowed()
    page = client.get(pay_url, base_url=BASE)
    assert "with test card 4242" not in page.get_data(as_text=True)
    refused = client.post(pay_url, base_url=BASE, data={"csrf_token": csrf_from(page.data),
                                                        "payment_method": "pm_card_visa"})
    assert refused.status_code == 404
    (bid,) = [b.id for b in _bookings(biz)]
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        with pytest.raises(TestPaymentsDisabled):
            pay_with_test_card(tenant, db.session.get(Booking, (biz.tenant_id, bid)))
    db.session.rollback()
    assert state(biz, bid)[:2] == ("awaiting_payment", [])


def test_a_declined_card_answers_409_and_keeps_what_stripe_said(client, ctx, stripe_on):
    """The pay step's refusal is a 409, yet the payment state synced from Stripe (the failed
    attempt) is committed: the request keeps it with its own unit of work, and the booking
    keeps its hold."""
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    resp = book_http(client, biz, local_start(3, 10))
    page = client.get(resp.headers["Location"], base_url=BASE)
    declined = client.post(resp.headers["Location"], base_url=BASE,
                           data={"csrf_token": csrf_from(page.data), "payment_method": "pm_card_chargeDeclined"})
    assert declined.status_code == 409
    (bid,) = [b.id for b in _bookings(biz)]
    with tenant_scope(biz.tenant_id):
        payment = booking_payment(bid)
        stripe_status = get_payments().retrieve_payment_intent(payment.payment_intent_id)["status"]
        # committed: the row moved on from the status it had when the hold started
        assert payment.status == stripe_status != "requires_payment_method"
    assert state(biz, bid)[:2] == ("awaiting_payment", [])
    db.session.rollback()
