"""Flooding (issue 8 §3): public booking limits, guest email confirmation, the per-recipient
mail cap, the global per-IP limit and a login lock-out that cannot shut the owner out.

Rate limits are on here (the ``app`` fixture does not disable them; Redis is emptied
before each test, so every test starts with fresh buckets). Each request names its client
IP through ``environ_base``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD, make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"
CPH = ZoneInfo("Europe/Copenhagen")


def ip(n: int) -> dict[str, str]:
    """``environ_base`` of a client at documentation address 203.0.113.n."""
    return {"REMOTE_ADDR": f"203.0.113.{n}"}


def slot(i: int) -> datetime:
    """The i-th distinct bookable hour (09:00-16:00 local, day after day from tomorrow), UTC."""
    day = datetime.now(CPH).date() + timedelta(days=1 + i // 8)
    return datetime.combine(day, time(9 + i % 8), tzinfo=CPH).astimezone(UTC)


def z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page_book(client, biz, i: int, *, email: str = "ann@example.com", addr: int = 1):
    """Book slot ``i`` through the storefront's confirm step from 203.0.113.``addr``."""
    token = csrf_from(client.get("/", base_url=BASE, environ_base=ip(addr)).data)
    data = {"csrf_token": token, "staff": "any", "start": z(slot(i)), "tz": "Europe/Copenhagen",
            "name": "Ann Customer", "email": email, "phone": "+45 20 30 40 50", "notes": "", "action": "confirm"}
    return client.post(f"/book/{biz.service_ids[0]}/confirm", data=data, base_url=BASE, environ_base=ip(addr))


def api_book(client, biz, i: int, *, email: str = "ann@example.com", addr: int = 1, token: str | None = None):
    """Book slot ``i`` through ``POST /api/v1/bookings`` from 203.0.113.``addr``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"service_id": str(biz.service_ids[0]), "start": z(slot(i)),
            "customer": {"name": "Ann Customer", "email": email}}
    return client.post("/api/v1/bookings", json=body, base_url=BASE, environ_base=ip(addr), headers=headers)


def booking_count(biz) -> int:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Booking))


def status_of(booking_id) -> str:
    """Status of a booking of the tenant in scope."""
    return db.session.scalar(sa.select(Booking.status).where(Booking.id == booking_id))


@pytest.fixture
def biz(ctx):
    return make_business("bella", staff=3)


def assert_429_page(resp) -> None:
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0
    text = resp.get_data(as_text=True)
    assert "a lot of bookings in a short time" in text and "try again in about" in text


def assert_429_problem(resp) -> dict:
    assert resp.status_code == 429
    assert resp.mimetype == "application/problem+json"
    retry = int(resp.headers["Retry-After"])
    data = resp.get_json()
    assert data["status"] == 429 and data["retry_after"] == pytest.approx(retry, abs=2) and retry > 0
    return data


# --------------------------------------------------------------------------- public booking limits


def test_eleventh_booking_from_one_ip_in_an_hour_is_refused_with_a_friendly_429(client, biz):
    for i in range(10):
        resp = page_book(client, biz, i, email=f"guest{i}@example.com")
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    refused = page_book(client, biz, 10, email="guest10@example.com")
    assert_429_page(refused)
    assert booking_count(biz) == 10
    # The API shares the same per-IP budget and answers problem+json.
    data = assert_429_problem(api_book(client, biz, 11, email="guest11@example.com"))
    assert "a lot of bookings" in data["detail"]
    assert booking_count(biz) == 10
    # Another address is not affected.
    assert page_book(client, biz, 12, email="guest12@example.com", addr=2).status_code == 303


def test_going_back_to_edit_the_details_does_not_count(client, biz):
    token = csrf_from(client.get("/", base_url=BASE, environ_base=ip(1)).data)
    edit = {"csrf_token": token, "staff": "any", "start": z(slot(0)), "tz": "Europe/Copenhagen", "name": "Ann",
            "email": "ann@example.com", "phone": "", "notes": "", "action": "edit"}
    for _ in range(12):
        assert client.post(f"/book/{biz.service_ids[0]}/confirm", data=edit, base_url=BASE,
                           environ_base=ip(1)).status_code == 200
    assert page_book(client, biz, 0, email="ann@example.com").status_code == 303


def test_junk_attempts_do_not_use_up_a_strangers_email_or_the_business_budget(client, biz):
    for n in range(8):  # a time that cannot be booked, naming the victim, from many addresses
        resp = api_book(client, biz, -200, email="victim@example.com", addr=100 + n)
        assert resp.status_code == 409
    assert api_book(client, biz, 0, email="victim@example.com", addr=99).status_code == 201


def test_one_email_from_many_ips_is_limited(client, biz):
    for i in range(5):
        assert api_book(client, biz, i, email="victim@example.com", addr=10 + i).status_code == 201
    assert_429_problem(api_book(client, biz, 5, email="Victim@Example.com", addr=20))
    assert_429_page(page_book(client, biz, 6, email="victim@example.com", addr=21))
    assert booking_count(biz) == 5


def test_business_setting_lowers_and_raises_its_cap(client, biz):
    from app.tenants.models import Tenant

    owner = biz.owner_email
    login_as(client, owner, "bella.localhost")
    form = client.get("/dashboard/rules", base_url=BASE).get_data(as_text=True)
    assert 'name="public_bookings_per_hour"' in form and 'value="60"' in form
    data = {"csrf_token": csrf_from(form), "lead_time_minutes": 0, "horizon_days": 60, "slot_interval_minutes": 15,
            "cancellation_cutoff_hours": 24, "public_bookings_per_hour": 2}
    assert client.post("/dashboard/rules", data=data, base_url=BASE).status_code in (200, 303)
    client.post("/logout", data={"csrf_token": csrf_from(form)}, base_url=BASE)
    guest = client.application.test_client()
    assert api_book(guest, biz, 0, email="x0@example.com", addr=1).status_code == 201
    assert api_book(guest, biz, 1, email="x1@example.com", addr=2).status_code == 201
    data_429 = assert_429_problem(api_book(guest, biz, 2, email="x2@example.com", addr=3))
    assert "This business is taking a lot of online bookings" in data_429["detail"]
    # Out-of-range values are refused inline.
    bad = client.application.test_client()
    login_as(bad, owner, "bella.localhost")
    form = bad.get("/dashboard/rules", base_url=BASE).get_data(as_text=True)
    resp = bad.post("/dashboard/rules", data={**data, "csrf_token": csrf_from(form), "public_bookings_per_hour": 0},
                    base_url=BASE)
    assert resp.status_code == 422 and "Enter 1 to 10000 bookings." in resp.get_data(as_text=True)
    # Raising it lets the guests through again.
    resp = bad.post("/dashboard/rules", data={**data, "csrf_token": csrf_from(form), "public_bookings_per_hour": 100},
                    base_url=BASE)
    assert resp.status_code in (200, 303)
    db.session.rollback()
    assert db.session.get(Tenant, biz.tenant_id).public_bookings_per_hour == 100
    assert api_book(guest, biz, 2, email="x2@example.com", addr=3).status_code == 201


def test_staff_are_not_limited_by_the_public_limits(client, biz):
    from app.identity.service import create_api_token

    with tenant_scope(biz.tenant_id):
        _, secret = create_api_token("front desk", None)
        db.session.commit()
    for i in range(12):  # one IP, one customer email: far over the public limits
        assert api_book(client, biz, i, email="regular@example.com", token=secret).status_code == 201
    login_as(client, biz.owner_email, "bella.localhost")
    for i in range(12, 18):
        assert page_book(client, biz, i, email="regular@example.com").status_code == 303
    assert booking_count(biz) == 18


# --------------------------------------------------------------------------- the global limit


def test_the_global_limit_answers_429_with_retry_after_but_not_on_health_checks(app, client, biz, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_GLOBAL", "5 per minute")
    for _ in range(5):
        assert client.get("/", base_url=BASE, environ_base=ip(7)).status_code == 200
    page = client.get("/", base_url=BASE, environ_base=ip(7))
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many attempts" in page.get_data(as_text=True)
    api = client.get("/api/v1/services", base_url=BASE, environ_base=ip(7))
    assert_429_problem(api)
    for path in ("/healthz", "/readyz"):
        assert client.get(path, environ_base=ip(7)).status_code != 429
    assert client.post("/webhooks/stripe", data=b"{}", environ_base=ip(7)).status_code != 429
    assert client.get("/", base_url=BASE, environ_base=ip(8)).status_code == 200


def test_the_default_global_limit_is_300_per_minute(app):
    assert app.config["RATELIMIT_GLOBAL"] == "300 per minute"
    assert app.config["RATELIMIT_ENABLED"] is True


# --------------------------------------------------------------------------- the per-recipient mail cap


def test_the_21st_mail_to_one_address_in_an_hour_is_not_sent_and_the_log_says_why(ctx, mailbox):
    from app.booking.service import CustomerInput, create_booking
    from app.delivery.models import Delivery
    from app.notifications.deliverylog import sent_to_customer
    from app.notifications.tasks import enqueue_account_email
    from app.outbox.relay import relay_outbox
    from app.tenants.models import Tenant
    from tests.support.conftest_mail import run_jobs

    biz = make_business("bella", staff=3)
    tenant = db.session.get(Tenant, biz.tenant_id)
    with tenant_scope(biz.tenant_id):
        for i in range(21):
            create_booking(tenant, service_id=biz.service_ids[0], staff_id=None, start=slot(i),
                           customer=CustomerInput("Vic Tim", "victim@example.com"), customer_timezone="UTC")
        db.session.commit()
    relay_outbox()
    assert run_jobs(ctx) == []
    assert len(mailbox.to("victim@example.com")) == 20
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        rows = list(db.session.scalars(sa.select(Delivery).where(Delivery.recipient.contains("victim@example.com"))))
        assert sorted(r.status for r in rows) == ["sent"] * 20 + ["skipped"]
        [skipped] = [r for r in rows if r.status == "skipped"]
        assert skipped.error == "not sent: over the limit of 20 emails per hour to this address"
        log = sent_to_customer("victim@example.com", None)
        assert [r.error for r in log if r.status == "skipped"] == [skipped.error]
    # Account emails (no delivery row) are held back too, without failing the job.
    enqueue_account_email("victim@example.com", "Reset your password", "text")
    assert run_jobs(ctx) == []
    assert len(mailbox.to("victim@example.com")) == 20
    # Other addresses are not affected.
    enqueue_account_email("someone@example.com", "Reset your password", "text")
    assert run_jobs(ctx) == []
    assert len(mailbox.to("someone@example.com")) == 1


# --------------------------------------------------------------------------- login lock-out


def login(client, email: str, password: str, addr: int):
    env = ip(addr)
    token = csrf_from(client.get("/login", environ_base=env).data)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                       environ_base=env)


def test_failed_logins_from_many_ips_do_not_lock_out_a_device_that_signed_in_before(app, ctx, mailbox):
    from app.identity.models import User
    from tests.factories import make_user
    from tests.support.conftest_mail import run_jobs, subject_of, text_of

    make_user("owner@bella.test", name="Olga Owner")
    laptop = app.test_client()
    resp = login(laptop, "owner@bella.test", PASSWORD, addr=200)
    assert resp.status_code == 302
    cookie = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("plaza_trusted_")]
    assert cookie and "HttpOnly" in cookie[0]
    laptop.post("/logout", data={"csrf_token": csrf_from(laptop.get("/account/", environ_base=ip(200)).data)},
                environ_base=ip(200))

    attacker = app.test_client()
    statuses = [login(attacker, "owner@bella.test", f"guess-{n}", addr=n).status_code for n in range(1, 21)]
    assert statuses[:15] == [422] * 15 and statuses[15:] == [429] * 5
    # A new browser is held back for the account...
    assert login(app.test_client(), "owner@bella.test", PASSWORD, addr=150).status_code == 429
    # ...but the owner's laptop, which signed in before, gets in (the per-IP limit still holds there).
    assert login(laptop, "owner@bella.test", PASSWORD, addr=200).status_code == 302

    assert run_jobs(ctx) == []
    [warning] = mailbox.to("owner@bella.test", "Someone is trying to sign in")
    text = text_of(warning)
    assert "15 different internet addresses" in text and "UTC" in text
    from app.notifications.channels.email import platform_url

    assert platform_url("/password/forgot") in text  # from configuration, not from the request
    assert subject_of(warning) == "Someone is trying to sign in to your Plaza account"
    assert db.session.scalar(sa.select(User.email).where(User.email == "owner@bella.test"))


def test_successful_logins_do_not_count_toward_the_limit(app, ctx):
    from tests.factories import make_user

    make_user("busy@bella.test")
    for _ in range(20):  # e.g. a front desk signing in from fresh browsers all day, one address
        assert login(app.test_client(), "busy@bella.test", PASSWORD, addr=9).status_code == 302


# --------------------------------------------------------------------------- guests with many open bookings


def test_fourth_open_booking_of_one_guest_waits_for_email_confirmation(app, ctx, client, biz, mailbox):
    from app.booking.service import booking_from_email_confirm_token, run_automatic_transitions
    from app.outbox.relay import relay_outbox
    from tests.support.conftest_mail import run_jobs, text_of

    for i in range(3):
        assert page_book(client, biz, i, email="many@example.com", addr=1).status_code == 303
    # The 4th: held as awaiting email confirmation, and the page says to check the email.
    resp = page_book(client, biz, 3, email="many@example.com", addr=2)
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"], base_url=BASE, environ_base=ip(2)).get_data(as_text=True)
    assert "Check your email" in page and "many@example.com" in page and "30 minutes" in page
    # The API answers the same way for a 5th one.
    api = api_book(client, biz, 4, email="many@example.com", addr=3)
    assert api.status_code == 201 and api.get_json()["status"] == "awaiting_email"
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        statuses = [b.status for b in db.session.scalars(sa.select(Booking).order_by(Booking.starts_at))]
    assert statuses == ["confirmed"] * 3 + ["awaiting_email"] * 2

    # The slot is not held: three other guests can take all three chairs at that time.
    for n in range(3):
        assert page_book(client, biz, 3, email=f"other{n}@example.com", addr=40 + n).status_code == 303

    relay_outbox()
    assert run_jobs(ctx) == []
    mails = mailbox.to("many@example.com", "Please confirm your booking")
    assert len(mails) == 2 and len(mailbox.to("many@example.com", "Booking confirmed")) == 3
    links = {re.search(r"http://bella\.localhost:\d+(/booked/confirm-email/\S+)", text_of(m)).group(1) for m in mails}
    with tenant_scope(biz.tenant_id):
        link_of = {booking_from_email_confirm_token(link.rsplit("/", 1)[1]).starts_at: link for link in links}
        waiting = {b.starts_at: b.id for b in db.session.scalars(sa.select(Booking).where(
            Booking.status == "awaiting_email"))}
    assert set(link_of) == set(waiting) == {slot(3), slot(4)}

    def confirm(link):
        form = client.get(link, base_url=BASE, environ_base=ip(2))
        assert form.status_code == 200 and "Confirm this booking" in form.get_data(as_text=True)
        return client.post(link, data={"csrf_token": csrf_from(form.data)}, base_url=BASE, environ_base=ip(2))

    # The time taken meanwhile cannot be confirmed any more; nothing changes.
    refused = confirm(link_of[slot(3)])
    assert refused.status_code == 409 and "booked by someone else" in refused.get_data(as_text=True)
    # The other one is confirmed by its link and now holds its slot like any booking.
    done = confirm(link_of[slot(4)])
    assert done.status_code == 303
    assert "status-confirmed" in client.get(done.headers["Location"], base_url=BASE).get_data(as_text=True)
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        assert status_of(waiting[slot(4)]) == "confirmed"
        assert status_of(waiting[slot(3)]) == "awaiting_email"

    # An unconfirmed booking is released by the automatic-transition sweep after 30 minutes,
    # and its link no longer works.
    counts = run_automatic_transitions(now=datetime.now(UTC) + timedelta(minutes=31))
    db.session.commit()
    assert counts["released"] == 1
    with tenant_scope(biz.tenant_id):
        assert status_of(waiting[slot(3)]) == "cancelled"
    assert client.get(link_of[slot(3)], base_url=BASE, environ_base=ip(2)).status_code == 410


def test_an_unconfirmed_booking_frees_its_slot_after_expiry_and_its_link_dies(app, ctx, client, monkeypatch):
    from app.booking.service import run_automatic_transitions
    from app.outbox.relay import relay_outbox
    from tests.support.conftest_mail import run_jobs

    one = make_business("bella", staff=1)
    monkeypatch.setitem(app.config, "GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM", 1)
    assert api_book(client, one, 0, email="g@example.com").get_json()["status"] == "confirmed"
    assert api_book(client, one, 1, email="g@example.com").get_json()["status"] == "awaiting_email"
    # Not held: the only chair at that time is still offered and bookable.
    assert api_book(client, one, 1, email="h@example.com", addr=2).get_json()["status"] == "confirmed"
    run_automatic_transitions(now=datetime.now(UTC) + timedelta(minutes=31))
    db.session.commit()
    with tenant_scope(one.tenant_id):
        statuses = sorted(db.session.scalars(sa.select(Booking.status)))
    assert statuses == ["cancelled", "confirmed", "confirmed"]
    relay_outbox()
    run_jobs(ctx)


def test_behind_trusted_proxies_each_client_has_its_own_budget_and_forged_headers_do_not(app, client, biz,
                                                                                        monkeypatch):
    """Behind a proxy every request comes from the proxy's address: with ``TRUSTED_PROXIES=1``
    the global limit counts each client (the last ``X-Forwarded-For`` entry) apart, and an
    address the client itself put earlier in the header buys it nothing."""
    from app import trust_proxies

    monkeypatch.setitem(app.config, "RATELIMIT_GLOBAL", "3 per minute")
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # restored after the test
    trust_proxies(app, 1)

    def get(forwarded: str) -> int:
        return client.get("/", base_url=BASE, environ_base=proxy,
                          headers={"X-Forwarded-For": forwarded}).status_code

    assert [get("198.51.100.1") for _ in range(3)] == [200, 200, 200]
    assert get("198.51.100.1") == 429
    assert get("198.51.100.2") == 200  # another client behind the same proxy
    assert get("192.0.2.99, 198.51.100.1") == 429  # a forged first hop does not reset the budget
