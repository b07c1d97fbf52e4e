"""The money policy on the paths around the obvious ones, against localstripe: a customer
moving a paid booking in the late window, an off-session fee the card refuses, a payment that
arrives after the booking was cancelled, and a policy that can never charge a late fee online."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.errors import RescheduleLocked
from app.booking.models import Booking
from app.booking.service import Actor, reschedule_booking, transition
from app.checkout.booking import reschedule_by_customer
from app.checkout.tasks import apply_payment_policy
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.payments.gateway import get_payments
from app.payments.models import BookingPayment, LedgerEntry
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from app.payments.queries import payment_summary
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.helpers import csrf_from, login_as
from tests.payments.test_payments import (  # noqa: F401 - fixtures used by name
    BASE,
    CPH,
    _bookings,
    _smtp,
    book_direct,
    book_http,
    cancel,
    deliver,
    events_for,
    local_start,
    localstripe,
    pay,
    payments_token,
    relay_and_run,
    setup_business,
    state,
    stripe_on,
    z,
)
from tests.support.conftest_mail import mailbox, text_of  # noqa: F401

#: Every test here talks to localstripe.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("stripe_on")]

LATE_FEE = BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=50)
DEPOSIT = ServiceRule(PaymentMode.DEPOSIT, deposit_fixed=10000)  # 100.00 kr. of 500.00 kr.


def outbox(biz, kind: str) -> list[dict]:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return list(db.session.scalars(sa.select(OutboxEvent.payload).where(OutboxEvent.kind == kind)
                                       .order_by(OutboxEvent.created_at)))


def starts_at(biz, booking_id: uuid.UUID):
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return db.session.scalar(sa.select(Booking.starts_at).where(Booking.id == booking_id))


def policy_event_id(biz, kind: str = "booking.cancelled") -> str:
    with tenant_scope(biz.tenant_id):
        return str(db.session.scalar(sa.select(OutboxEvent.id).where(OutboxEvent.kind == kind)))


# --------------------------------------------------------------------------- 1. reschedule in the late window


def test_manage_link_reschedule_inside_the_free_window_moves_the_booking(client, ctx):
    biz = setup_business(LATE_FEE, DEPOSIT)
    start, new = local_start(5, 10), local_start(6, 11)  # both more than 72 h ahead
    bid, _ = book_direct(biz, start)
    pay(biz, bid)
    token = payments_token(biz, bid)
    html = client.get(f"/manage/{token}", base_url=BASE).get_data(as_text=True)
    assert "Pick a new time" in html and "can no longer be moved online" not in html
    picker = client.get(f"/manage/{token}/reschedule", base_url=BASE,
                        query_string={"tz": "Europe/Copenhagen", "date": new.astimezone(CPH).date().isoformat()})
    assert picker.status_code == 200
    moved = client.post(f"/manage/{token}/reschedule", base_url=BASE,
                        data={"csrf_token": csrf_from(picker.data), "start": z(new), "tz": "Europe/Copenhagen"})
    assert moved.status_code == 303
    assert starts_at(biz, bid) == new
    (event,) = outbox(biz, "booking.rescheduled")
    assert event["actor"] == "customer" and event["previous_start"] == start.isoformat()
    assert relay_and_run(ctx) == []
    assert state(biz, bid)[:2] == ("confirmed", [("application_fee", -300), ("payment", 10000)])


def test_manage_link_reschedule_after_the_deadline_is_refused_and_nothing_changes(client, ctx):
    biz = setup_business(LATE_FEE, DEPOSIT)
    start = local_start(2, 10)  # about 48 h ahead: free cancellation ended at 72 h
    bid, _ = book_direct(biz, start)
    pay(biz, bid)
    token = payments_token(biz, bid)
    page = client.get(f"/manage/{token}", base_url=BASE)
    html = page.get_data(as_text=True)
    assert "can no longer be moved online" in html and "Pick a new time" not in html
    assert "Cancel booking" in html  # cancelling under the policy is still offered

    refused_page = client.get(f"/manage/{token}/reschedule", base_url=BASE)
    assert refused_page.status_code == 409 and "can no longer be moved online" in refused_page.get_data(as_text=True)
    refused = client.post(f"/manage/{token}/reschedule", base_url=BASE,
                          data={"csrf_token": csrf_from(page.data), "start": z(local_start(9, 10)),
                                "tz": "Europe/Copenhagen"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Free cancellation for this booking ended 72 hours before the start" in text
    assert "You can still cancel it" in text and "contact Bella" in text
    assert starts_at(biz, bid) == start
    assert outbox(biz, "booking.rescheduled") == []
    assert state(biz, bid)[0] == "confirmed"

    # Cancelling is judged against the original start: late, the deposit is kept as the fee.
    cancelled = client.post(f"/manage/{token}/cancel", base_url=BASE,
                            data={"csrf_token": csrf_from(page.data), "reason": ""})
    assert cancelled.status_code == 303
    assert relay_and_run(ctx) == []
    assert state(biz, bid)[:2] == ("cancelled", [("application_fee", -300), ("payment", 10000)])
    # 50 % of 500.00 = 250.00: 100.00 kept, 150.00 asked but no card on file.
    (uncollected,) = outbox(biz, "fee.uncollected")
    assert uncollected["amount"] == 15000 and uncollected["reason"] == "no card on file to charge"


def test_staff_reschedule_in_the_late_window_still_works(ctx):
    biz = setup_business(LATE_FEE, DEPOSIT)
    start, new = local_start(2, 10), local_start(9, 11)
    bid, _ = book_direct(biz, start)
    pay(biz, bid)
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == bid))
        with pytest.raises(RescheduleLocked):
            reschedule_by_customer(tenant, booking, new)
        reschedule_booking(tenant, booking, new, Actor("staff"))
    db.session.commit()
    assert starts_at(biz, bid) == new
    (event,) = outbox(biz, "booking.rescheduled")
    assert event["actor"] == "staff"
    assert relay_and_run(ctx) == []
    assert state(biz, bid)[1] == [("application_fee", -300), ("payment", 10000)]


# --------------------------------------------------------------------------- 2. a fee the card refuses


def test_declined_off_session_fee_is_recorded_once_not_retried_and_shown_to_staff(client, ctx):
    # A card is saved at booking (nothing paid); late cancellation costs 50 % = 250.00 kr.
    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=50, require_card=True),
                         ServiceRule())
    resp = book_http(client, biz, local_start(2, 10))
    page = client.get(resp.headers["Location"], base_url=BASE)
    # localstripe's 4000000000000341: attaches fine, every charge is declined.
    saved = client.post(resp.headers["Location"], base_url=BASE,
                        data={"csrf_token": csrf_from(page.data), "payment_method": "pm_card_chargeCustomerFail"})
    assert saved.status_code == 303
    (booking,) = _bookings(biz)
    bid = booking.id
    assert state(biz, bid)[0] == "confirmed"
    cancel(biz, bid, Actor("customer"))
    assert relay_and_run(ctx) == []  # the policy job finished: nothing left for RQ to retry
    assert state(biz, bid)[1] == []
    (event,) = outbox(biz, "fee.uncollected")
    assert event["amount"] == 25000 and event["currency"] == "DKK" and event["code"] == "card_declined"
    assert "declined" in event["reason"]

    # The job again (a redelivery) neither charges nor records it twice.
    assert apply_payment_policy(str(biz.tenant_id), str(bid), policy_event_id(biz)) == "refund=0 charge=25000 DKK"
    assert len(outbox(biz, "fee.uncollected")) == 1 and state(biz, bid)[1] == []

    with tenant_scope(biz.tenant_id):
        summary = payment_summary(db.session.scalar(sa.select(Booking).where(Booking.id == bid)).id)
    assert [(u.amount, u.reason) for u in summary.uncollected] == [(25000, event["reason"])]
    login_as(client, biz.owner_email, host="bella.localhost")
    staff_page = client.get(f"/dashboard/bookings/{bid}", base_url=BASE).get_data(as_text=True)
    assert "Fee not collected" in staff_page and "250,00\xa0kr." in staff_page and "declined" in staff_page

    # The owner is told in their notification center (and by email), once.
    relay_and_run(ctx)
    relay_and_run(ctx)
    from app.identity.service import find_user
    from app.notifications.center_models import Notification

    db.session.rollback()
    owner_id = find_user(biz.owner_email).id
    told = db.session.scalars(sa.select(Notification).where(Notification.user_id == owner_id,
                                                            Notification.type == "fee_uncollected")).all()
    assert len(told) == 1
    assert "Ann Customer's fee of 250,00\xa0kr." in told[0].body and "declined" in told[0].body
    assert told[0].url.endswith(f"/dashboard/bookings/{bid}")


def test_no_show_fee_refused_by_the_card_keeps_the_deposit_and_records_the_shortfall(ctx):
    biz = setup_business(BusinessPolicy(free_cancellation_hours=24, no_show_fee_percent=50, require_card=True),
                         DEPOSIT)
    bid, _ = book_direct(biz, local_start(1, 12))
    pay(biz, bid)
    with tenant_scope(biz.tenant_id):
        # The card on file declines since (blocked, no funds): Stripe's always-declining test card.
        db.session.execute(sa.update(BookingPayment).where(BookingPayment.booking_id == bid)
                           .values(payment_method_id="pm_card_chargeCustomerFail"))
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == bid))
        transition(booking, "no_show", Actor("staff"), now=booking.starts_at + timedelta(minutes=20))
    db.session.commit()
    assert relay_and_run(ctx) == []
    assert state(biz, bid)[:2] == ("no_show", [("application_fee", -300), ("payment", 10000)])
    (event,) = outbox(biz, "fee.uncollected")
    assert event["amount"] == 15000 and "declined" in event["reason"]
    with tenant_scope(biz.tenant_id):
        fees = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "fee"))
    assert fees == 0


# --------------------------------------------------------------------------- 3. paid after a cancellation


def test_payment_after_the_customer_cancelled_is_refunded_and_the_email_says_why(ctx, mailbox):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.DEPOSIT, deposit_percent=20))
    bid, pi = book_direct(biz, local_start(3, 14))
    cancel(biz, bid, Actor("customer"))  # still awaiting payment
    assert relay_and_run(ctx) == []
    # The customer's open pay page confirms anyway: Stripe takes the money.
    get_payments().confirm_payment_intent(pi, payment_method="pm_card_visa", idempotency_key=f"t:{pi}")
    deliver(events_for(pi) * 2)
    assert state(biz, bid)[:2] == ("cancelled", [("application_fee", -300), ("application_fee", 300),
                                                 ("payment", 10000), ("refund", -10000)])
    with tenant_scope(biz.tenant_id):
        descriptions = list(db.session.scalars(sa.select(LedgerEntry.description).where(
            LedgerEntry.kind == "refund")))
    assert descriptions == ["Refund: paid after the booking was cancelled"]
    (event,) = outbox(biz, "payment.late_refund")
    assert event["cause"] == "cancelled" and event["cancelled_by"] == "customer"
    relay_and_run(ctx)
    relay_and_run(ctx)
    mails = mailbox.to("ann@example.com", "Your payment to Bella was refunded")
    assert len(mails) == 1
    text = text_of(mails[0])
    assert "after your booking had been cancelled by you" in text and "100,00\xa0kr." in text
    assert "held for your booking" not in text


# --------------------------------------------------------------------------- 4. a policy that never charges


def test_payments_page_warns_when_free_cancellation_never_ends_before_the_cutoff(client, ctx):
    biz = setup_business(BusinessPolicy(free_cancellation_hours=24, late_cancel_fee_percent=30),
                         ServiceRule(PaymentMode.FULL))  # the tenant's cut-off: 24 h (default)
    login_as(client, biz.owner_email, host="bella.localhost")
    page = client.get("/dashboard/payments", base_url=BASE)
    text = page.get_data(as_text=True)
    assert "pay-policy-warning" in text and "30% late-cancellation fee is never charged" in text
    saved = client.post("/dashboard/payments/policy", base_url=BASE,
                        data={"csrf_token": csrf_from(text), "free_cancellation_hours": "48",
                              "late_cancel_fee_percent": "30", "no_show_fee_percent": "0"})
    assert saved.status_code == 303
    assert "pay-policy-warning" not in client.get("/dashboard/payments", base_url=BASE).get_data(as_text=True)
