"""Who sees what about a booking's money: the customer reads the policy in the confirmation
email, staff see the payment's status and amounts on the booking."""

from __future__ import annotations

import pytest

from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from tests.helpers import csrf_from, login_as
from tests.payments.test_payments import (  # noqa: F401 - fixtures
    BASE,
    _bookings,
    book_http,
    local_start,
    localstripe,
    relay_and_run,
    setup_business,
    state,
    stripe_on,
    z,
)
from tests.support.conftest_mail import mailbox, text_of  # noqa: F401

pytestmark = pytest.mark.integration


def _book_and_pay(client, biz) -> str:
    resp = book_http(client, biz, local_start(5, 10))
    pay_url = resp.headers["Location"]
    page = client.get(pay_url, base_url=BASE)
    paid = client.post(pay_url, base_url=BASE, data={"csrf_token": csrf_from(page.data),
                                                     "payment_method": "pm_card_visa"})
    assert paid.status_code == 303
    return pay_url.rsplit("/", 1)[1]


def test_confirmation_email_states_the_money_policy(client, ctx, stripe_on, mailbox):  # noqa: F811
    biz = setup_business(BusinessPolicy(free_cancellation_hours=48, late_cancel_fee_percent=50),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_percent=20))
    _book_and_pay(client, biz)
    assert relay_and_run(ctx) == []
    [mail] = mailbox.to("ann@example.com")
    text = text_of(mail)
    assert "Free cancellation until 48 hours before the start" in text
    assert "Later cancellations cost 50% of the price" in text
    assert "Paid:   100,00\xa0kr." in text  # the 20 % deposit on 500.00 kr.
    html = mail.get_body(("html",)).get_content()
    assert "Free cancellation until 48 hours before the start" in html and "100,00\xa0kr." in html


def test_staff_see_payment_status_and_amounts_on_the_booking(client, ctx, stripe_on):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    _book_and_pay(client, biz)
    (booking,) = _bookings(biz)
    assert state(biz, booking.id)[0] == "confirmed"
    login_as(client, biz.owner_email, "bella.localhost")
    page = client.get(f"/dashboard/bookings/{booking.id}", base_url=BASE).get_data(as_text=True)
    box = page[page.index('id="booking-payment"'):]
    box = box[:box.index("</dl>")]
    assert "<dd>paid</dd>" in box and "150,00\xa0kr." in box  # Stripe's "succeeded", in words; asked and paid
    assert "Refunded" in box and "0,00\xa0kr." in box


def test_the_staff_board_shows_what_each_booking_has_paid(client, ctx, stripe_on):  # noqa: F811
    from zoneinfo import ZoneInfo

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    _book_and_pay(client, biz)
    unpaid = book_http(client, biz, local_start(5, 14), email="bo@example.com")
    assert "/pay/" in unpaid.headers["Location"]
    login_as(client, biz.owner_email, "bella.localhost")
    day = local_start(5, 10).astimezone(ZoneInfo("Europe/Copenhagen")).date()
    html = client.get(f"/dashboard/?view=day&date={day.isoformat()}", base_url=BASE).get_data(as_text=True)
    assert "Paid 150,00\xa0kr." in html and "Awaiting payment" in html


def test_the_storefront_says_which_services_ask_for_money_up_front(client, ctx, stripe_on):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    html = client.get("/", base_url=BASE).get_data(as_text=True)
    card = html[html.index(f'data-service="{biz.service_ids[0]}"'):]
    card = card[:card.index("</li>")]
    assert "150,00\xa0kr. deposit" in card


def test_a_refund_enters_the_ledger_only_once_stripe_says_it_succeeded(client, ctx, stripe_on):  # noqa: F811
    """A pending refund (some banks take days) is not money back yet; a failed one never is."""
    from app.booking.models import Booking
    from app.extensions import db
    from app.payments.holds import booking_payment
    from app.payments.ledger import ledger_refund
    from app.tenants.context import tenant_scope

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    _book_and_pay(client, biz)
    (bid,) = [b.id for b in _bookings(biz)]
    with tenant_scope(biz.tenant_id):
        booking = db.session.get(Booking, (biz.tenant_id, bid))
        pi = booking_payment(bid).payment_intent_id
        refund = {"id": "re_test_pending", "amount": 5000, "payment_intent": pi, "status": "pending"}
        ledger_refund(booking.id, booking.currency, refund, "Refund")
        ledger_refund(booking.id, booking.currency, {**refund, "id": "re_test_failed", "status": "failed"}, "Refund")
        db.session.commit()
    assert ("refund", -5000) not in state(biz, bid)[1]
    with tenant_scope(biz.tenant_id):
        booking = db.session.get(Booking, (biz.tenant_id, bid))
        for _ in range(2):  # the sync that sees it succeed, and a replay
            ledger_refund(booking.id, booking.currency, {**refund, "status": "succeeded"}, "Refund")
        db.session.commit()
    ledger = state(biz, bid)[1]
    assert ledger.count(("refund", -5000)) == 1 and ("application_fee", 150) in ledger


def test_the_booking_pages_never_promise_free_cancellation_the_policy_does_not_give(client, ctx, stripe_on):  # noqa: F811
    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=50),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    home = client.get("/", base_url=BASE).get_data(as_text=True)
    assert "free cancellation until 72 h before" in home
    token = csrf_from(home)
    review = client.post(f"/book/{biz.service_ids[0]}/details", base_url=BASE, data={
        "csrf_token": token, "staff": "any", "start": z(local_start(5, 10)), "tz": "Europe/Copenhagen",
        "name": "Ann Customer", "email": "ann@example.com", "phone": "+45 20 30 40 50", "notes": ""})
    assert review.status_code == 200
    page = review.get_data(as_text=True)
    assert "Free cancellation until 72 hours before the start" in page  # the policy box
    assert "Free cancellation and changes online until 24 hours" not in page


def test_uncollected_fees_are_a_domain_table_written_once_per_policy_event(client, ctx, stripe_on):  # noqa: F811
    """Staff read "fee not collected" from ``uncollected_fee``, not from the outbox: one row per
    policy event (a retried job records nothing twice), and the ``fee.uncollected`` outbox event
    is written only with a new row (to notify staff)."""
    import sqlalchemy as sa

    from app.booking.models import Booking
    from app.extensions import db
    from app.outbox.models import OutboxEvent
    from app.payments.fees import fee_uncollected_for, record_fee_uncollected
    from app.payments.models import UncollectedFeeRecord
    from app.payments.queries import payment_summary
    from app.tenants.context import tenant_scope

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    _book_and_pay(client, biz)
    (bid,) = [b.id for b in _bookings(biz)]
    with tenant_scope(biz.tenant_id):
        booking = db.session.get(Booking, (biz.tenant_id, bid))
        assert not fee_uncollected_for("evt-policy-1")
        first = record_fee_uncollected(booking.id, booking.currency, "evt-policy-1", 4000, "the card was declined",
                                       code="card_declined", payment_intent="pi_fee_1")
        again = record_fee_uncollected(booking.id, booking.currency, "evt-policy-1", 4000, "the card was declined",
                                       code="card_declined", payment_intent="pi_fee_1")
        assert (first, again) == (True, False) and fee_uncollected_for("evt-policy-1")
        db.session.commit()
    with tenant_scope(biz.tenant_id):
        (row,) = db.session.scalars(sa.select(UncollectedFeeRecord)).all()
        assert (row.booking_id, row.amount, row.currency, row.code, row.payment_intent) == (
            bid, 4000, "DKK", "card_declined", "pi_fee_1")
        events = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "fee.uncollected")).all()
        assert len(events) == 1
        # The outbox is not where staff read it: without the event the summary still shows the fee.
        db.session.execute(sa.delete(OutboxEvent).where(OutboxEvent.kind == "fee.uncollected"))
        summary = payment_summary(bid)
        assert [(u.amount, u.reason) for u in summary.uncollected] == [(4000, "the card was declined")]
        db.session.rollback()


def test_the_migration_backfills_uncollected_fees_from_the_outbox_once(client, ctx, stripe_on, services):  # noqa: F811
    """``i9b_uncollected_fee`` copies ``fee.uncollected`` outbox rows written before the table
    existed into ``uncollected_fee``: one row per policy event, however often it runs."""
    import importlib.util
    from pathlib import Path

    import psycopg
    import sqlalchemy as sa

    from app.extensions import db
    from app.outbox.models import OutboxEvent
    from app.payments.models import UncollectedFeeRecord
    from app.payments.queries import payment_summary
    from app.tenants.context import tenant_scope

    path = Path(__file__).parents[2] / "migrations" / "versions" / "i9b_uncollected_fee.py"
    spec = importlib.util.spec_from_file_location("i9b_uncollected_fee", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    _book_and_pay(client, biz)
    (bid,) = [b.id for b in _bookings(biz)]
    with tenant_scope(biz.tenant_id):
        for _ in range(2):  # a duplicate record of the same policy event, as count-then-insert allowed
            db.session.add(OutboxEvent(kind="fee.uncollected", payload={
                "booking_id": str(bid), "amount": 7500, "currency": "dkk", "reason": "no card on file to charge",
                "code": "no_card", "event": "evt-old-1", "payment_intent": None, "key": "fee.uncollected:evt-old-1"}))
        db.session.commit()
    with psycopg.connect(services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://")) as conn:
        for _ in range(2):
            conn.execute(migration.BACKFILL)
        conn.commit()
    with tenant_scope(biz.tenant_id):
        rows = db.session.scalars(sa.select(UncollectedFeeRecord)).all()
        assert [(r.booking_id, r.policy_event_id, r.amount, r.currency, r.code) for r in rows] == [
            (bid, "evt-old-1", 7500, "DKK", "no_card")]
        summary = payment_summary(bid)
        assert [(u.amount, u.reason) for u in summary.uncollected] == [(7500, "no card on file to charge")]
    db.session.rollback()
