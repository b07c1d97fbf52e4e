"""The pay step's card form protocol against localstripe: Plaza hands out a SetupIntent's
client secret, the browser saves the card on it (here: the same calls Stripe.js makes, with
the publishable key), Plaza charges the saved card server-side and, when the bank asks for
authentication (3-D Secure), hands back the PaymentIntent's secret for ``confirmCardPayment``.

The same flow in Chromium with the card typed into the form is in ``test_payments_e2e.py``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.checkout.sync import sync_setup_intent
from app.extensions import db
from app.payments.fees import card_refused
from app.payments.gateway import get_payments
from app.payments.holds import booking_payment
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from app.payments.queries import payment_summary
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.helpers import csrf_from
from tests.payments.test_payments import (  # noqa: F401 - fixtures
    BASE,
    book_http,
    local_start,
    localstripe,
    setup_business,
    state,
    stripe_on,
)
from tests.support.conftest_mail import mailbox  # noqa: F401

pytestmark = pytest.mark.integration

PUBLISHABLE = "pk_test_plaza"
VISA = "4242424242424242"
THREE_DS = "4000002760003184"  # always asks for authentication
DECLINED = "4000000000000002"


def _browser_post(url: str, body: dict) -> tuple[int, dict]:
    """POST like Stripe.js does from the customer's browser (publishable key, no secret key)."""
    req = urllib.request.Request(url, data=json.dumps({"key": PUBLISHABLE, **body}).encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def save_card_in_browser(localstripe: str, client_secret: str, number: str, authenticate: bool = True) -> str:  # noqa: F811
    """What ``stripe.confirmCardSetup(secret, {payment_method: {card}})`` does against
    localstripe, answering the 3-D Secure challenge with ``authenticate``; the SetupIntent id."""
    seti = client_secret.split("_secret_")[0]
    status, body = _browser_post(f"{localstripe}/v1/setup_intents/{seti}/confirm", {
        "use_stripe_sdk": True, "client_secret": client_secret,
        "payment_method_data": {"type": "card", "card": {"number": number, "exp_month": "12", "exp_year": "2034",
                                                          "cvc": "123"}}})
    if status == 200 and body.get("status") == "requires_action":
        action = "confirm" if authenticate else "cancel"
        _browser_post(f"{localstripe}/v1/setup_intents/{seti}/{action}", {"use_stripe_sdk": True,
                                                                           "client_secret": client_secret})
    return seti


def authenticate_payment_in_browser(localstripe: str, client_secret: str, success: bool) -> None:  # noqa: F811
    """What ``stripe.confirmCardPayment(secret)`` does for an intent awaiting 3-D Secure."""
    pi = client_secret.split("_secret_")[0]
    _browser_post(f"{localstripe}/v1/payment_intents/{pi}/_authenticate?success={str(success).lower()}",
                  {"client_secret": client_secret})


class PayStep:
    """The customer's pay step over HTTP: ``setup()`` and ``charge()`` with the page's CSRF token."""

    def __init__(self, client, pay_url: str) -> None:
        self.client = client
        self.url = pay_url.replace(BASE, "")
        self.csrf = csrf_from(client.get(self.url, base_url=BASE).data)

    def _post(self, path: str, body: dict | None = None, raw: str | None = None):
        return self.client.post(self.url + path, base_url=BASE, data=raw if raw is not None else json.dumps(body or {}),
                                headers={"X-CSRFToken": self.csrf, "Content-Type": "application/json"})

    def setup(self):
        """POST ``/card/setup``."""
        return self._post("/card/setup")

    def charge(self, setup_intent: str, authenticated: bool = False):
        """POST ``/card/charge``."""
        return self._post("/card/charge", {"setup_intent": setup_intent, "authenticated": authenticated})


def _booking(biz) -> Booking:
    with tenant_scope(biz.tenant_id):
        return db_one(sa.select(Booking))


def db_one(stmt):
    db.session.rollback()
    (row,) = db.session.scalars(stmt).all()
    return row


def _start(client, biz, days: int = 3) -> PayStep:
    resp = book_http(client, biz, local_start(days, 10))
    assert resp.status_code == 303 and "/pay/" in resp.headers["Location"]
    return PayStep(client, resp.headers["Location"])


def test_card_saved_in_the_browser_is_charged_and_the_booking_confirmed(client, ctx, stripe_on, localstripe):  # noqa: F811
    biz = setup_business(BusinessPolicy(free_cancellation_hours=24, no_show_fee_percent=100),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    step = _start(client, biz)
    setup = step.setup()
    assert setup.status_code == 200 and setup.headers["Cache-Control"] == "no-store"
    seti = save_card_in_browser(localstripe, setup.json["client_secret"], VISA)
    paid = step.charge(seti)
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert "/booked/" in paid.json["redirect"]
    booking = _booking(biz)
    status, ledger, pay_status = state(biz, booking.id)
    assert (status, pay_status) == ("confirmed", "succeeded")
    assert ("payment", 15000) in ledger
    with tenant_scope(biz.tenant_id):
        payment = booking_payment(booking.id)
        pi = get_payments().retrieve_payment_intent(payment.payment_intent_id)
        # the card paid on the customer's Stripe Customer
        assert payment.payment_method_id == pi["payment_method"] and pi["customer"] == payment.customer_stripe_id
    again = step.charge(seti)  # a second click: nothing charged twice, straight to the confirmation
    assert again.status_code == 200 and "/booked/" in again.json["redirect"]
    assert state(biz, booking.id)[1] == ledger


def test_bank_authentication_is_handed_to_the_browser_then_the_payment_re_read(client, ctx, stripe_on, localstripe):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    step = _start(client, biz)
    seti = save_card_in_browser(localstripe, step.setup().json["client_secret"], THREE_DS)
    challenge = step.charge(seti)
    assert challenge.status_code == 200 and challenge.json["requires_action"] is True
    booking = _booking(biz)
    assert state(biz, booking.id)[0] == "awaiting_payment"
    assert challenge.json["client_secret"].startswith("pi_")
    authenticate_payment_in_browser(localstripe, challenge.json["client_secret"], success=True)
    done = step.charge(seti, authenticated=True)
    assert done.status_code == 200 and "/booked/" in done.json["redirect"]
    assert state(biz, booking.id)[:2] == ("confirmed", [("application_fee", -1500), ("payment", 50000)])


def test_failed_authentication_keeps_the_hold_and_a_new_card_can_be_tried(client, ctx, stripe_on, localstripe):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    step = _start(client, biz)
    seti = save_card_in_browser(localstripe, step.setup().json["client_secret"], THREE_DS)
    challenge = step.charge(seti)
    authenticate_payment_in_browser(localstripe, challenge.json["client_secret"], success=False)
    refused = step.charge(seti, authenticated=True)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "did not approve" in refused.json["detail"]
    booking = _booking(biz)
    assert state(biz, booking.id)[:2] == ("awaiting_payment", [])
    fresh = step.setup().json["client_secret"]
    assert not fresh.startswith(seti)  # the used SetupIntent is not handed out again
    paid = step.charge(save_card_in_browser(localstripe, fresh, VISA))
    assert "/booked/" in paid.json["redirect"]
    assert state(biz, booking.id)[0] == "confirmed"


def test_declined_card_is_not_saved_and_the_customer_can_retry(client, ctx, stripe_on, localstripe):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    step = _start(client, biz)
    seti = save_card_in_browser(localstripe, step.setup().json["client_secret"], DECLINED)
    refused = step.charge(seti)
    assert refused.status_code == 409 and "not saved" in refused.json["detail"]
    booking = _booking(biz)
    assert state(biz, booking.id)[:2] == ("awaiting_payment", [])
    paid = step.charge(save_card_in_browser(localstripe, step.setup().json["client_secret"], VISA))
    assert paid.status_code == 200 and "/booked/" in paid.json["redirect"]


def test_bad_and_stale_requests_get_a_precise_problem_and_change_nothing(client, ctx, stripe_on, localstripe):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    step = _start(client, biz)
    bad = step._post("/card/charge", raw="not json")
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    assert "setup_intent" in bad.json["detail"]
    other = _start(client, biz, days=4)  # another booking's SetupIntent
    foreign = save_card_in_browser(localstripe, other.setup().json["client_secret"], VISA)
    step.setup()
    stale = step.charge(foreign)
    assert stale.status_code == 409 and "expired" in stale.json["detail"]
    no_csrf = client.post(step.url + "/card/setup", base_url=BASE, json={})
    assert no_csrf.status_code == 400
    with tenant_scope(biz.tenant_id):
        bookings = db_one_all(sa.select(Booking.status))
    assert sorted(bookings) == ["awaiting_payment", "awaiting_payment"]


def db_one_all(stmt) -> list:
    db.session.rollback()
    return list(db.session.scalars(stmt))


def test_expired_hold_cannot_be_paid_with_the_card_form(client, ctx, stripe_on, localstripe):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    step = _start(client, biz)
    seti = save_card_in_browser(localstripe, step.setup().json["client_secret"], VISA)
    bid = _booking(biz).id
    with tenant_scope(biz.tenant_id):
        payment = booking_payment(bid)
        payment.hold_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    late = step.charge(seti)
    assert late.status_code == 409 and "run out" in late.json["detail"]
    assert state(biz, bid)[1] == []


def test_walking_away_after_saving_a_card_costs_no_late_fee(client, ctx, stripe_on, localstripe,  # noqa: F811
                                                            mailbox):  # noqa: F811
    """A customer who saved a card but never paid the deposit, then cancels inside the late
    window, never had a booking: no fee goes to their card."""
    from app.booking.service import Actor, transition
    from tests.payments.test_payments import relay_and_run

    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=50, require_card=True),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    step = _start(client, biz, days=1)
    seti = save_card_in_browser(localstripe, step.setup().json["client_secret"], VISA)
    bid = _booking(biz).id
    with tenant_scope(biz.tenant_id):
        sync_setup_intent(get_payments().retrieve_setup_intent(seti))  # the setup_intent.succeeded webhook
        assert booking_payment(bid).payment_method_id is not None
        transition(db.session.get(Booking, (biz.tenant_id, bid)), "cancel", Actor("customer"), "changed my mind")
        db.session.commit()
    assert relay_and_run(ctx) == []
    status, ledger, _ = state(biz, bid)
    assert status == "cancelled" and ledger == []



@pytest.mark.parametrize("require_card", [False, True])
def test_a_card_paying_the_deposit_covers_later_fees_only_when_the_business_asks_for_one(
        app, client, ctx, stripe_on, localstripe, mailbox, require_card, monkeypatch):  # noqa: F811
    """Late cancellation costs 50 % (250.00 kr.) and 30 % (150.00 kr.) was paid: the other
    100.00 kr. is charged to the saved card only when the business asks for a card at booking
    (the customer was told so); otherwise staff are told the fee was not collected."""
    from app.booking.service import Actor, transition
    from tests.payments.test_payments import relay_and_run

    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=50,
                                        require_card=require_card),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    monkeypatch.setitem(app.config, "STRIPE_PUBLISHABLE_KEY", PUBLISHABLE)
    step = _start(client, biz, days=1)
    page = client.get(step.url, base_url=BASE).get_data(as_text=True)
    assert 'id="card-form"' in page
    assert ("The card is kept for the fees described above" in page) is require_card
    paid = step.charge(save_card_in_browser(localstripe, step.setup().json["client_secret"], VISA))
    assert "/booked/" in paid.json["redirect"]
    bid = _booking(biz).id
    with tenant_scope(biz.tenant_id):
        transition(db.session.get(Booking, (biz.tenant_id, bid)), "cancel", Actor("customer"), "can't come")
        db.session.commit()
    assert relay_and_run(ctx) == []
    ledger = state(biz, bid)[1]
    if require_card:
        assert ("fee", 10000) in ledger
    else:
        assert not any(kind == "fee" for kind, _ in ledger)
        with tenant_scope(biz.tenant_id):
            summary = payment_summary(db.session.get(Booking, (biz.tenant_id, bid)).id)
        assert [(u.amount, u.reason) for u in summary.uncollected] == [(10000, "no card on file to charge")]



def test_a_second_tab_during_the_banks_check_resumes_it_instead_of_taking_a_new_card(
        client, ctx, stripe_on, localstripe):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    step = _start(client, biz)
    seti = save_card_in_browser(localstripe, step.setup().json["client_secret"], THREE_DS)
    challenge = step.charge(seti)
    assert challenge.json["requires_action"] is True
    # The customer opens the pay page again (another tab) and presses Pay.
    again = step.setup()
    assert again.status_code == 200
    assert again.json == {"requires_action": True, "client_secret": challenge.json["client_secret"],
                          "setup_intent": seti}
    authenticate_payment_in_browser(localstripe, again.json["client_secret"], success=True)
    done = step.charge(seti, authenticated=True)
    assert "/booked/" in done.json["redirect"]
    assert state(biz, _booking(biz).id)[0] == "confirmed"  # the card that paid stayed the booking's card
    assert "/booked/" in step.setup().json["redirect"]


def test_only_the_card_itself_refusing_writes_a_fee_off():
    from app.payments.gateway import GatewayError

    assert card_refused(GatewayError("Your card was declined.", "card_declined", 402))
    assert card_refused(GatewayError("Authentication required", "authentication_required", 402))
    assert not card_refused(GatewayError("Invalid API Key provided", None, 401))
    assert not card_refused(GatewayError("Received unknown parameter", "parameter_unknown", 400))
    assert not card_refused(GatewayError("Too many requests", "rate_limit", 429))
    assert not card_refused(GatewayError("Connection reset", None, None))
