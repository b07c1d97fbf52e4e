"""In a real browser against Plaza served by gunicorn with payments on (localstripe): a
customer books a deposit service, pays, cancels late and gets the right partial refund; a
hold expires and frees its slot. Screenshots go to ``docs/screenshots/payments-*.png``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.checkout.tasks import sweep_expired_holds
from app.payments.gateway import get_payments
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from app.timeutil import utcnow
from tests.factories import PASSWORD
from tests.payments.test_payments import (  # noqa: F401 - fixtures
    _bookings,
    local_start,
    localstripe,
    payments_pi,
    relay_and_run,
    setup_business,
    state,
    stripe_on,
    z,
)
from tests.support.conftest_mail import mailbox  # noqa: F401
from tests.support.screenshots import screenshot_folder
from tests.support.servers import running_gunicorn

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--no-proxy-server"]


@pytest.fixture(scope="module")
def paid_server(services, localstripe) -> Iterator[int]:  # noqa: F811
    """gunicorn serving Plaza with Stripe pointed at localstripe; yields the port."""
    with running_gunicorn(services, threads=8, env={
            "STRIPE_SECRET_KEY": "sk_test_plaza", "STRIPE_API_BASE": localstripe, "STRIPE_CONNECT": "local",
            # the card form runs localstripe's stand-in for Stripe.js (same API: elements, confirmCardSetup…)
            "STRIPE_PUBLISHABLE_KEY": "pk_test_plaza", "STRIPE_JS_URL": f"{localstripe}/js.stripe.com/v3/"}) as server:
        yield server.port


@pytest.fixture(scope="module")
def page_factory(browser):
    """New browser pages (1280 wide, Copenhagen time) on the session's headless Chromium."""
    contexts = []

    def make():
        context = browser.new_context(timezone_id="Europe/Copenhagen", viewport={"width": 1280, "height": 900},
                                      locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(screenshot_folder() / f"payments-{name}.png"), full_page=True)


def type_card(page, number: str) -> None:
    """Type a card into the pay step's card form (localstripe's Stripe.js stand-in renders
    plain inputs where Stripe's iframe would be)."""
    for field, value in (("number", number), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123"),
                         ("postal_code", "2100")):
        page.fill(f"#card-element input[placeholder={field}]", value)


def fill_details(page, base: str, biz, start) -> None:
    """Open the details step of ``biz``'s first service at ``start`` and submit Ann's details
    (lands on the review step, where the policy box is shown)."""
    page.goto(f"{base}/book/{biz.service_ids[0]}/details?staff=any&start={z(start)}&tz=Europe/Copenhagen")
    page.fill("input[name=name]", "Ann Customer")
    page.fill("input[name=email]", "ann@example.com")
    page.fill("input[name=phone]", "+45 20 30 40 50")
    page.locator("form button[type=submit]").last.click()


def book_to_pay_step(page, base: str, biz, start) -> None:
    """Book ``start`` through the storefront up to the pay step."""
    fill_details(page, base, biz, start)
    page.click("button[value=confirm]")
    page.wait_for_url("**/pay/**")


def test_customer_pays_deposit_cancels_late_and_gets_partial_refund(ctx, stripe_on, paid_server,  # noqa: F811
                                                                     page_factory, mailbox):  # noqa: F811
    biz = setup_business(BusinessPolicy(free_cancellation_hours=72, late_cancel_fee_percent=20),
                         ServiceRule(PaymentMode.DEPOSIT, deposit_percent=30))
    base = f"http://bella.localhost:{paid_server}"
    start = local_start(2, 10)
    page = page_factory()
    fill_details(page, base, biz, start)
    page.wait_for_selector("#payment-policy")
    assert "Due when booking: 150,00\xa0kr." in page.inner_text("#payment-policy")
    shot(page, "1-confirm-with-policy")
    page.click("button[value=confirm]")
    page.wait_for_url("**/pay/**")
    assert "150,00\xa0kr." in page.inner_text("#pay")
    type_card(page, "4242424242424242")
    shot(page, "2-pay-step")
    page.click("#card-submit")
    page.wait_for_url("**/booked/**")
    (bid,) = [b.id for b in _bookings(biz)]
    assert state(biz, bid)[0] == "confirmed"
    shot(page, "3-confirmed")
    page.click("a[href*='/manage/']")
    page.click("text=Cancel booking…")  # the manage page asks before cancelling
    page.fill("textarea[name=reason], input[name=reason]", "Can't make it")
    page.click("button.danger")
    page.wait_for_selector(".status-cancelled")
    assert relay_and_run(ctx) == []
    assert state(biz, bid)[1] == [("application_fee", -450), ("application_fee", 150), ("payment", 15000), ("refund", -5000)]
    assert [r["amount"] for r in get_payments().list_refunds(payments_pi(biz, bid))] == [5000]
    page.reload()
    money = page.inner_text("#payment-policy .pay-paid")
    assert "You paid\n150,00\xa0kr." in money and "Refunded to your card\n50,00\xa0kr." in money
    shot(page, "4-cancelled-late")

    owner = page_factory()
    owner.goto(f"{base}/login")
    owner.fill("#login-form input[name=email]", biz.owner_email)
    owner.fill("#login-form input[name=password]", PASSWORD)
    owner.click("#login-form button[type=submit]")
    owner.wait_for_load_state()
    owner.goto(f"{base}/dashboard/payments")
    ledger = owner.inner_text("#ledger")
    assert "-50,00\xa0kr." in ledger and "150,00\xa0kr." in ledger and "-4,50\xa0kr." in ledger and "1,50\xa0kr." in ledger
    shot(owner, "5-ledger")


def test_hold_expires_and_the_slot_is_offered_again(ctx, stripe_on, paid_server, page_factory):  # noqa: F811
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    base = f"http://bella.localhost:{paid_server}"
    start = local_start(3, 10)
    page = page_factory()
    book_to_pay_step(page, base, biz, start)
    slots_url = f"{base}/book/{biz.service_ids[0]}/slots?staff=any&tz=Europe/Copenhagen&date={start.date()}"
    other = page_factory()
    other.goto(slots_url)
    label = start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Copenhagen")).strftime("%H:%M")
    assert label not in other.inner_text("main")
    assert sweep_expired_holds(utcnow() + timedelta(minutes=16)) == {"expired": 1}
    other.goto(slots_url)
    assert label in other.inner_text("main")
    shot(other, "6-slot-free-after-hold-expired")
    page.reload()
    assert "cancelled" in page.inner_text("main").lower()


def test_card_declined_then_paid_with_bank_authentication(ctx, stripe_on, paid_server, page_factory):  # noqa: F811
    """A declined card says so inline and keeps the hold; another card that needs 3-D Secure
    is authenticated in the bank's dialog and the booking is confirmed."""
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    base = f"http://bella.localhost:{paid_server}"
    page = page_factory()
    book_to_pay_step(page, base, biz, local_start(4, 11))
    type_card(page, "4000000000000002")
    page.click("#card-submit")
    page.wait_for_selector("#card-errors:not([hidden])")
    assert "declined" in page.inner_text("#card-errors").lower()
    assert page.is_enabled("#card-submit")
    shot(page, "7-card-declined")
    (bid,) = [b.id for b in _bookings(biz)]
    assert state(biz, bid)[:2] == ("awaiting_payment", [])
    type_card(page, "4000002760003184")
    page.click("#card-submit")
    page.get_by_role("button", name="Complete authentication").click()  # saving the card
    page.get_by_role("button", name="Complete authentication").click()  # paying with it
    page.wait_for_url("**/booked/**")
    assert state(biz, bid)[:2] == ("confirmed", [("application_fee", -1500), ("payment", 50000)])
