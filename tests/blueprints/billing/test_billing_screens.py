"""Screenshots of the owner's billing journey for ``docs/screenshots/`` (Chromium, real forms).

Skipped unless ``PLAZA_SCREENSHOTS=1``. The browser's requests are served by the Flask test
client (logged in as the owner) through Playwright routing, against localstripe: the owner
subscribes to Pro, upgrades to Premium, the card fails (past due, dunning mail), and the
owner updates the card and recovers.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.billing.gateway import get_gateway
from tests.factories import make_business
from tests.helpers import login_as
from tests.support.billing_fixtures import deliver, localstripe_url, stripe_on  # noqa: F401
from tests.support.conftest_mail import run_jobs, running_mailbox
from tests.support.screenshots import recording

pytestmark = pytest.mark.integration

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.mark.skipif(not recording(), reason="set PLAZA_SCREENSHOTS=1 to record")
@pytest.mark.usefixtures("stripe_on")
def test_billing_journey_screenshots(app, client, ctx, monkeypatch):
    from playwright.sync_api import sync_playwright

    biz = make_business("bella", staff=2)
    login_as(client, biz.owner_email, "bella.localhost")

    def serve(route) -> None:
        req = route.request
        parts = urlsplit(req.url)
        if parts.path.startswith("/socket.io/"):  # live updates need a real server; the test client would wait forever
            route.abort()
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        resp = client.open(path, method=req.method, base_url="http://bella.localhost",
                           data=req.post_data_buffer, headers={"Content-Type": req.headers.get("content-type", "")})
        headers = {k: v for k, v in resp.headers.items() if k.lower() not in {"content-length", "set-cookie"}}
        route.fulfill(status=resp.status_code, headers=headers, body=resp.get_data())

    OUT.mkdir(parents=True, exist_ok=True)
    with running_mailbox() as box, sync_playwright() as pw:
        monkeypatch.setitem(app.config, "SMTP_URL", box.url)
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.route("**/*", serve)
        page.goto("http://bella.localhost/dashboard/billing")
        page.screenshot(path=str(OUT / "billing-1-free.png"), full_page=True)
        page.locator("form.billing-plan").first.get_by_role("button", name="Subscribe to Pro").click()
        page.wait_for_selector("#current-plan")
        assert page.inner_text("#current-plan") == "Pro"
        page.screenshot(path=str(OUT / "billing-2-subscribed-pro.png"), full_page=True)
        # The card starts failing; the upgrade's invoice is not paid: Stripe says past due.
        page.locator(".billing-actions select[name=card]").select_option("4000000000000341")
        page.get_by_role("button", name="Update card").click()
        page.get_by_role("button", name="Switch to Premium").click()
        from app.billing.service import get_subscription
        from app.tenants.context import tenant_scope

        with tenant_scope(biz.tenant_id):
            sub_id = get_subscription().stripe_subscription_id
        gw = get_gateway()
        invoice = gw.retrieve_invoice(gw.retrieve_subscription(sub_id)["latest_invoice"])
        deliver(client, "evt_shot_fail", "invoice.payment_failed", invoice)
        assert run_jobs(app) == []
        page.goto("http://bella.localhost/dashboard/billing")
        assert page.is_visible("#past-due")
        page.screenshot(path=str(OUT / "billing-3-past-due.png"), full_page=True)
        page.locator(".billing-actions select[name=card]").select_option("4242424242424242")
        page.get_by_role("button", name="Update card").click()
        deliver(client, "evt_shot_paid", "invoice.payment_succeeded", gw.retrieve_invoice(invoice["id"]))
        assert run_jobs(app) == []
        page.goto("http://bella.localhost/dashboard/billing")
        assert not page.is_visible("#past-due") and page.inner_text("#current-plan") == "Premium"
        page.screenshot(path=str(OUT / "billing-4-recovered.png"), full_page=True)
        browser.close()
        assert box.wait_until(lambda: len(box.to(biz.owner_email)) == 2, timeout=10)
