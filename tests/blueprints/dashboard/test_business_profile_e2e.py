"""The owner fills in the marketplace profile on a 360 px phone in Chromium: category, address
placed on the map and the pin dragged to the door, languages, amenities, a social link, a cover
and a gallery photo; then the profile page shows it all, the photo enlarges, and nothing scrolls
sideways. Map tiles are answered locally (no network in tests)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw

from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import PASSWORD, make_business
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e


def _tile() -> bytes:
    image = Image.new("RGB", (256, 256), (232, 236, 228))
    draw = ImageDraw.Draw(image)
    draw.line([(0, 128), (256, 128)], fill=(255, 255, 255), width=10)
    draw.line([(96, 0), (96, 256)], fill=(255, 255, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _photo(tmp_path, name: str, colour: tuple[int, int, int], size=(1600, 900)) -> str:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(250, 240, 220))
    exif = image.getexif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 50.0)}
    path = tmp_path / name
    image.save(path, "JPEG", exif=exif)
    return str(path)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_owner_fills_in_the_profile_and_customers_see_it(live_server, ctx, browser, tmp_path):
    from playwright.sync_api import expect

    biz = make_business("bella", staff=1, timezone="Europe/London", currency="GBP",
                        hours={d: [("09:00", "18:00")] for d in range(5)})
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://{biz.host(port)}"
    context = browser.new_context(timezone_id="Europe/London", locale="en-GB", viewport={"width": 360, "height": 780},
                                  has_touch=False)
    context.set_default_timeout(10_000)
    tile = _tile()
    context.route("https://tile.openstreetmap.org/**", lambda route: route.fulfill(body=tile, content_type="image/png"))
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{base}/login?next=/dashboard/business")
        page.fill("input[name=email]", biz.owner_email)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/dashboard/business")
        page.select_option("#category", "barber")
        page.fill("#address_line", "12 Carnaby Street")
        page.fill("#postcode", "W1F 9PS")
        page.fill("#city", "London")
        page.select_option("#country", "GB")
        page.get_by_label("English").check()
        page.get_by_label("Free Wi-Fi").check()
        page.get_by_label("Wheelchair accessible").check()
        page.fill("#social_instagram", "https://instagram.com/bellabarbers")
        page.set_input_files("#cover", _photo(tmp_path, "cover.jpg", (40, 90, 160)))
        _no_sideways_scroll(page)
        with page.expect_navigation():
            page.get_by_role("button", name="Save settings").click()
        expect(page.locator("body")).to_contain_text("Business settings saved.")
        # The address was placed on the map (W1F's centre); the owner drags the pin to the door.
        expect(page.locator("#latitude")).to_have_value("51.5139")
        marker = page.locator("#business-pin .leaflet-marker-icon")
        marker.scroll_into_view_if_needed()
        expect(marker).to_be_visible()
        box = marker.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 30, y + 20, steps=8)
        page.mouse.up()
        expect(page.locator("#latitude")).not_to_have_value("51.5139")
        dragged = (float(page.input_value("#latitude")), float(page.input_value("#longitude")))
        assert dragged[0] < 51.5139 and dragged[1] > -0.1367
        with page.expect_navigation():
            page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#latitude")).to_have_value(f"{dragged[0]:.6f}".rstrip("0"))
        # A gallery photo with a caption.
        page.set_input_files("#photo", _photo(tmp_path, "chairs.jpg", (150, 60, 40), (1200, 1200)))
        page.fill("#caption", "Our chairs")
        page.get_by_role("button", name="Add photo").click()
        page.wait_for_url("**/dashboard/business#business-gallery")
        expect(page.locator("#business-gallery img[alt='Our chairs']")).to_be_visible()
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshot_folder() / "business-profile-settings-phone.png"), full_page=True)

        # The customer's view of the profile.
        page.goto(f"{base}/")
        expect(page.locator(".pf-cover img")).to_be_visible()
        expect(page.locator(".sf-eyebrow")).to_have_text("Barber")
        expect(page.locator("#hours tr.today, #hours tr").first).to_be_visible()
        expect(page.locator("#hours")).to_contain_text("Saturday")
        expect(page.locator("#hours")).to_contain_text("Closed")
        expect(page.locator("#where .leaflet-marker-icon")).to_be_visible()
        expect(page.locator(".pf-amenities")).to_contain_text("Free Wi-Fi")
        expect(page.get_by_role("link", name="Instagram")).to_have_attribute("href", "https://instagram.com/bellabarbers")
        expect(page.locator(".sf-book").first).to_be_visible()
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshot_folder() / "business-profile-phone.png"), full_page=True)
        page.get_by_role("link", name="Enlarge: Our chairs").click()
        dialog = page.locator("#pf-lightbox")
        expect(dialog).to_be_visible()
        expect(dialog.locator("p")).to_have_text("Our chairs")
        expect(dialog.get_by_role("button", name="Close")).to_be_focused()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert page.url == f"{base}/"
        assert not errors, errors
    finally:
        context.close()
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.id == biz.tenant_id))
        assert (tenant.category_slug, tenant.languages, tenant.amenities) == ("barber", ["en"], ["wheelchair", "wifi"])
        assert (round(tenant.latitude, 4), round(tenant.longitude, 4)) == (round(dragged[0], 4), round(dragged[1], 4))
        assert tenant.cover_key and tenant.cover_key.startswith("covers/")
