"""Business settings in Chromium on a 360 px phone: the owner fills in the profile and uploads
a logo over HTMX; the sidebar and the booking page show it; nothing scrolls sideways."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import PASSWORD, make_business
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e


def _logo(tmp_path) -> str:
    image = Image.new("RGB", (300, 300), (120, 40, 160))
    for x in range(60, 240):
        for y in range(130, 170):
            image.putpixel((x, y), (255, 255, 255))
    path = tmp_path / "logo.jpg"
    out = io.BytesIO()
    image.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def test_owner_edits_the_business_on_a_phone(live_server, ctx, browser, tmp_path):
    from playwright.sync_api import expect

    biz = make_business("bella", staff=1, timezone="Europe/London", currency="GBP")
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    context = browser.new_context(timezone_id="Europe/London", locale="en-GB", viewport={"width": 360, "height": 780})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{base}/login?next=/dashboard/business")
        page.fill("input[name=email]", biz.owner_email)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/dashboard/business")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        expect(page.locator("#phone")).to_have_attribute("placeholder", "07400 123456")
        page.fill("#name", "Bella Barbers")
        page.fill("#phone", "020 7946 0000")
        page.fill("#address_line", "12 Carnaby Street")
        page.fill("#postcode", "W1F 9PS")
        page.fill("#city", "London")
        page.select_option("#country", "GB")
        page.fill("#description", "Walk-ins welcome.")
        page.set_input_files("#logo", _logo(tmp_path))
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_url("**/dashboard/business")
        expect(page.locator("body")).to_contain_text("Business settings saved.")
        expect(page.locator("#phone")).to_have_value("020 7946 0000")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(screenshot_folder() / "business-settings-phone.png"), full_page=True)
        # On a phone the business (logo and name) heads the "More" menu of the bottom bar.
        page.locator("[data-more]").click()
        expect(page.locator("#db-menu .db-biz-logo")).to_be_visible()
        page.goto(f"{base}/")
        expect(page.locator(".sf-hero")).to_contain_text("12 Carnaby Street, W1F 9PS London, United Kingdom")
        expect(page.locator(".sf-logo")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert not errors, errors
    finally:
        context.close()
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.id == biz.tenant_id))
        assert (tenant.name, tenant.phone, tenant.country) == ("Bella Barbers", "+442079460000", "GB")
        assert tenant.logo_key and tenant.logo_key.endswith(".webp")


def test_settings_offer_the_device_zone_without_changing_anything_by_themselves(live_server, ctx, browser):
    from playwright.sync_api import expect

    biz = make_business("bella", staff=1)  # Europe/Copenhagen, DKK
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    context = browser.new_context(timezone_id="Europe/London", locale="en-GB", viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{base}/login?next=/dashboard/business")
        page.fill("input[name=email]", biz.owner_email)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/dashboard/business")
        # The saved zone stays selected; the device's zone is only offered.
        expect(page.locator("#timezone")).to_have_value("Europe/Copenhagen")
        offer = page.locator("[data-use-browser-zone]")
        expect(offer).to_contain_text("Your device is set to Europe/London.")
        offer.get_by_role("button", name="Use this zone").click()
        expect(page.locator("#timezone")).to_have_value("Europe/London")
        expect(page.locator("#currency")).to_have_value("DKK")  # the currency is never changed for them
        expect(offer).to_be_hidden()
    finally:
        context.close()
