"""The console's access and audit log in Chromium: a platform admin signs in with the password,
enrols the second factor (secret from the page, code from pyotp), keeps the recovery codes,
filters the audit log on a phone-sized screen and downloads it as CSV; the chain verifies."""

from __future__ import annotations

import pyotp
import pytest

from app.audit.chain import verify_chain
from app.audit.service import AuditActor, record_audit
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import PASSWORD, make_business, make_user
from tests.support.screenshots import screenshot_folder

pytestmark = pytest.mark.e2e


def test_an_admin_enrols_the_second_factor_and_exports_the_audit_log(live_server, ctx, new_page):
    from playwright.sync_api import expect

    bella = make_business("bella")
    make_user("root@plaza.test", is_platform_admin=True)
    with tenant_scope(bella.tenant_id):
        record_audit(AuditActor(None), "customer.erased", "customer", "c1", reason="asked by email")
        db.session.commit()
    port = int(live_server.rsplit(":", 1)[1])
    base = f"http://localhost:{port}"
    page = new_page()
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and "second-factor" not in r.url else None)
    page.goto(f"{base}/login?next=/admin/")
    page.fill("input[name=email]", "root@plaza.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/admin/second-factor**")
    secret = page.locator("#totp-secret").inner_text()
    expect(page.locator(".ad-qr svg")).to_be_visible()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("#totp-form button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="Continue to the console").click()
    expect(page.locator("h1")).to_have_text("Platform console")

    page.set_viewport_size({"width": 360, "height": 800})
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator(".ad-audit li")).to_have_count(2)  # the erasure and the enrolment
    page.fill("input[name=tenant]", "bella")
    page.click("#audit-filters button[type=submit]")
    expect(page.locator(".ad-audit li")).to_have_count(1)
    expect(page.locator(".ad-audit")).to_contain_text("asked by email")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.ad-nav')).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
    page.screenshot(path=str(screenshot_folder() / "admin-audit.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#audit-csv")
    text = open(download.value.path(), encoding="utf-8").read()  # noqa: PTH123, SIM115 - the downloaded file
    assert "customer.erased" in text and "admin.second_factor_enrolled" not in text
    assert not errors, errors
    with platform_scope("test: verify"):
        report = verify_chain()
    assert report.intact and report.rows == 3  # erasure, enrolment, the export itself
