"""The KPI dashboard and the verification queue in Chromium: a platform admin signs in on the apex,
reads /admin/metrics on a phone (360 px, no sideways scrolling) and on a desk with the Chart.js
charts and the Leaflet map drawn, then approves a business's licence; the owner reads their own
metrics. Screenshots: ``admin-metrics.png``, ``admin-metrics-phone.png``, ``owner-metrics.png``."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.audit.service import SYSTEM_ACTOR
from app.booking.service import CustomerInput, create_booking
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.metrics.tasks import recompute_recent
from app.storage.local import default_storage
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.verification.service import submit_document
from tests.factories import PASSWORD, make_business, make_user
from tests.helpers import pass_second_factor

pytestmark = pytest.mark.e2e

ADMIN = "root@plaza.test"
CPH = ZoneInfo("Europe/Copenhagen")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _seed():
    biz = make_business("bella", services=[("Cut", 60, 30000)])
    with platform_scope("test: place bella"):
        tenant = db.session.get(Tenant, biz.tenant_id)
        tenant.city, tenant.country, tenant.latitude, tenant.longitude = "Copenhagen", "DK", 55.6761, 12.5683
        db.session.commit()
    first = utcnow().date() + timedelta(days=2)
    people = [CustomerInput(f"Customer {i}", f"c{i}@example.com") for i in range(4)]
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        for d in range(4):
            for h, who in zip((9, 11, 13), people[d % 2:], strict=False):
                create_booking(tenant, service_id=biz.service_ids[0], staff_id=biz.staff_ids[(h // 2) % 2],
                               start=datetime.combine(first + timedelta(days=d), time(h), CPH), customer=who,
                               customer_timezone="Europe/Copenhagen")
        submit_document(default_storage(), SYSTEM_ACTOR, "licence", "Trade licence 2027",
                        first + timedelta(days=300), PDF)
        db.session.commit()
    run_on_platform(recompute_recent, first + timedelta(days=4), 6)
    make_user(ADMIN, is_platform_admin=True)
    return biz, first


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login" + ("?next=/admin/" if email == ADMIN else ""))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    if email == ADMIN:
        pass_second_factor(page)  # a new platform admin enrols the second factor first
    page.wait_for_load_state()


def _no_sideways_scroll(page, selector: str) -> None:
    """The page's own content (``selector``) fits the viewport and does not scroll sideways (wide
    tables scroll inside their own wrapper). The site header is the layout's, checked elsewhere."""
    assert page.evaluate("""(sel) => { const el = document.querySelector(sel);
        return el.getBoundingClientRect().right <= window.innerWidth + 1 && el.scrollWidth <= el.clientWidth + 1; }""",
                         selector)


def test_admin_reads_the_kpis_and_verifies_a_licence_in_chromium(live_server, ctx, new_page, screenshot_dir):
    from playwright.sync_api import expect

    biz, first = _seed()
    port = int(live_server.rsplit(":", 1)[1])
    apex = f"http://localhost:{port}"
    period = f"?from={first.isoformat()}&to={(first + timedelta(days=3)).isoformat()}"
    errors: list[str] = []
    page = new_page()
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/favicon" not in r.url and "tile" not in r.url else None)
    _sign_in(page, apex, ADMIN)
    page.goto(f"{apex}/admin/metrics{period}")
    expect(page.locator("#kpi-bookings .km-value")).to_have_text("12")
    expect(page.locator("#km-city-table")).to_contain_text("Copenhagen")
    expect(page.locator("#km-map[data-ready=true]")).to_have_count(1)
    assert page.evaluate("!!window.Chart && !!Chart.getChart('km-bookings-chart') && !!Chart.getChart('km-gross-chart')")
    page.screenshot(path=str(screenshot_dir / "admin-metrics.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 780})
    page.reload()
    expect(page.locator("#kpi-bookings .km-value")).to_have_text("12")
    _no_sideways_scroll(page, "#admin-main")
    page.screenshot(path=str(screenshot_dir / "admin-metrics-phone.png"), full_page=True)

    page.goto(f"{apex}/admin/verification")
    item = page.locator(".ad-card", has_text="Trade licence 2027")
    expect(item).to_contain_text("Bella")
    _no_sideways_scroll(page, "#admin-main")
    item.get_by_role("button", name="Approve").click()
    expect(page.locator("#verification-empty")).to_be_visible()
    assert not errors, errors

    owner = new_page()
    owner.set_viewport_size({"width": 360, "height": 780})
    base = f"http://{biz.host(port)}"
    _sign_in(owner, base, biz.owner_email)
    owner.goto(f"{base}/dashboard/metrics{period}")
    expect(owner.locator("#kpi-bookings .km-value")).to_have_text("12")
    expect(owner.locator("#km-staff-table tbody tr")).to_have_count(2)
    assert owner.evaluate("!!Chart.getChart('km-staff-chart')")
    _no_sideways_scroll(owner, ".db-content")
    owner.screenshot(path=str(screenshot_dir / "owner-metrics.png"), full_page=True)
    owner.goto(f"{base}/dashboard/verification")
    expect(owner.locator("#verification-state")).to_contain_text("shows the verified badge")
