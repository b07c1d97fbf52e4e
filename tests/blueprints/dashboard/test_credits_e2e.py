"""An owner buys a 15-credit pack in Chromium, on a desk and on a 360 px phone: the credits page,
Buy, the Checkout stand-in (Stripe's hosted page, served by Playwright for ``checkout.stripe.test``
and paid through :class:`tests.stripe_hosted.HostedStripe`), back to Plaza, the new balance and the
ledger line with its receipt. Screenshots ``docs/screenshots/credits-*.png``."""

from __future__ import annotations

import html
import re
import urllib.request

import pytest

from tests.factories import PASSWORD, make_business
from tests.stripe_hosted import CHECKOUT_HOST, running_hosted_stripe
from tests.support.screenshots import screenshot_folder
from tests.support.servers import running_gunicorn

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hosted():
    """The hosted-pages stub (one-time Checkout needs no upstream localstripe)."""
    with running_hosted_stripe(None) as stub:
        yield stub


@pytest.fixture(scope="module")
def stripe_server(services, hosted):
    """Plaza under gunicorn with Stripe in production mode, its API at the stub."""
    env = {"STRIPE_SECRET_KEY": "sk_test_credits_e2e", "STRIPE_API_BASE": hosted.url, "STRIPE_MODE": "",
           "STRIPE_WEBHOOK_SECRET": "whsec_e2e"}
    with running_gunicorn(services, env=env) as server:
        urllib.request.urlopen(f"{server.url()}/login", timeout=60).close()  # noqa: S310 - warm up (first request)
        yield server


def serve_checkout(page, hosted) -> None:
    """Stripe's Checkout page, as far as the test needs it: the amount and a Pay button that pays
    the session at the stub and returns to the session's ``success_url``."""

    def handle(route) -> None:
        url = route.request.url
        if "/c/pay/" in url:
            session = hosted.session_by_url(url)
            params = session_params(hosted, session["id"])
            amount = int(params["line_items"]["0"]["price_data"]["unit_amount"])
            name = params["line_items"]["0"]["price_data"]["product_data"]["name"]
            body = (f"<!doctype html><meta name=viewport content='width=device-width'><title>Checkout</title>"
                    f"<h1>Pay Plaza</h1><p id=item>{html.escape(name)}</p><p id=total>${amount / 100:.2f}</p>"
                    f"<form method=post action='{CHECKOUT_HOST}/pay/{session['id']}'>"
                    f"<button id=pay>Pay ${amount / 100:.2f}</button></form>")
            route.fulfill(status=200, content_type="text/html", body=body)
            return
        session_id = url.rsplit("/", 1)[1]
        paid = hosted.complete_checkout(session_id)
        target = paid["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        route.fulfill(status=303, headers={"Location": target}, body="")

    page.route(f"{CHECKOUT_HOST}/**", handle)


def session_params(hosted, session_id: str) -> dict:
    with hosted.lock:
        return hosted.checkout_sessions[session_id]["_params"]


@pytest.mark.parametrize(("width", "height", "shot"), [(1280, 860, "credits-desk.png"), (360, 780, "credits-phone.png")])
def test_an_owner_buys_a_pack_through_checkout_and_sees_the_balance(stripe_server, hosted, ctx, new_page, width,
                                                                      height, shot):
    from playwright.sync_api import expect

    hosted.reset()
    biz = make_business("bella", currency="USD", timezone="America/New_York")
    base = f"http://{biz.host(stripe_server.port)}"
    page = new_page(timezone_id="America/New_York")
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    serve_checkout(page, hosted)
    page.goto(f"{base}/login?next=/dashboard/credits")
    page.fill("input[name=email]", biz.owner_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/dashboard/credits")
    expect(page.locator("#credit-balance")).to_have_text("0 credits")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.locator('.credit-pack[data-pack="standard"] button').click()
    page.wait_for_url(re.compile(r"https://checkout\.stripe\.test/c/pay/cs_test_.*"))
    expect(page.locator("#total")).to_have_text("$60.00")
    expect(page.locator("#item")).to_contain_text("15 lead credits")
    page.click("#pay")

    page.wait_for_url("**/dashboard/credits")
    expect(page.locator("#credit-balance")).to_have_text("15 credits")
    expect(page.get_by_text("15 credits added")).to_be_visible()
    row = page.locator('#credit-ledger tr[data-kind="purchase"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Pack bought")
    expect(row).to_contain_text("+15")
    expect(row).to_contain_text("0 → 15")
    expect(row).to_contain_text("Receipt: paid $60.00")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_folder() / shot), full_page=True)
    assert errors == []
