"""Customer account on the apex: my bookings across every business, cancel and reschedule,
and nobody else's bookings."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration


@contextmanager
def app_ctx(app):
    """An app context for setting up or checking data (never held during requests)."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.rollback()
            db.session.remove()


def book(tenant_id: uuid.UUID, email: str, *, days: int = 3, hour: int = 10, user_id: uuid.UUID | None = None,
         name: str = "Customer") -> uuid.UUID:
    """A committed booking at ``hour``:00 local ``days`` from now, for the customer ``email``."""
    from app.booking.service import CustomerInput, create_booking
    from app.catalog.models import Service

    with tenant_scope(tenant_id):  # the tenant role reads only the business in scope
        tenant = db.session.get(Tenant, tenant_id)
        local = datetime.combine((utcnow() + timedelta(days=days)).astimezone(ZoneInfo(tenant.timezone)).date(),
                                 time(hour), ZoneInfo(tenant.timezone))
        service_id = db.session.scalar(sa.select(Service.id))
        booking = create_booking(tenant, service_id=service_id, staff_id=None, start=local,
                                 customer=CustomerInput(name, email), customer_timezone="UTC", user_id=user_id)
        booking_id = booking.id
        db.session.commit()
    return booking_id


def status_of(app, booking_id: uuid.UUID) -> str:
    with app_ctx(app), platform_scope("test: read booking status"):
        return db.session.scalar(sa.select(Booking.status).where(Booking.id == booking_id))


def cancel(client, tenant_id, booking_id, reason: str = ""):
    token = csrf_from(client.get("/account/bookings").data)
    return client.post(f"/account/bookings/{tenant_id}/{booking_id}/cancel",
                       data={"csrf_token": token, "reason": reason})


def test_my_bookings_needs_login_and_lives_on_the_apex(app, client):
    with app_ctx(app):
        make_business("bella")
    resp = client.get("/account/bookings")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    # On a business's host it leads to the platform's page (which asks to log in), never a 404.
    resp = client.get("/account/bookings", base_url="http://bella.localhost")
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"http://localhost:{app.config['PUBLIC_PORT']}/account/bookings"


def test_my_bookings_lists_every_business_and_nobody_elses(app, client):
    with app_ctx(app):
        bella = make_business("bella")
        fixit = make_business("fixit", timezone="America/New_York", currency="USD",
                              services=[("Mount TV", 90, 14900)])
        xid = make_user("xena@example.com", name="Xena")
        yid = make_user("yuri@example.com", name="Yuri")
        x_bella = book(bella.tenant_id, "xena@example.com", user_id=xid, hour=10)
        x_fixit = book(fixit.tenant_id, "xena@example.com", user_id=xid, hour=11)
        y_bella = book(bella.tenant_id, "yuri@example.com", user_id=yid, hour=13)
        y_fixit = book(fixit.tenant_id, "yuri@example.com", user_id=yid, hour=14)

    login_as(client, "xena@example.com")
    html = client.get("/account/bookings").data.decode()
    assert "Bella" in html and "Fixit" in html
    assert "Haircut" in html and "Mount TV" in html
    assert "10:00" in html and "11:00" in html           # each in its business's zone
    assert "Europe/Copenhagen" in html and "America/New York" in html
    assert "13:00" not in html and "14:00" not in html  # Yuri's
    assert str(y_bella) not in html and str(y_fixit) not in html
    assert str(x_bella) in html and str(x_fixit) in html

    # X cannot cancel Y's booking: it answers like a missing one, and nothing changes.
    assert cancel(client, bella.tenant_id, y_bella).status_code == 404
    assert cancel(client, fixit.tenant_id, y_fixit).status_code == 404
    assert cancel(client, fixit.tenant_id, x_bella).status_code == 404   # right booking, wrong business
    assert cancel(client, bella.tenant_id, uuid.uuid4()).status_code == 404
    assert cancel(client, uuid.uuid4(), x_bella).status_code == 404
    assert cancel(client, "not-a-uuid", "nor-this").status_code == 404
    assert status_of(app, y_bella) == status_of(app, y_fixit) == "confirmed"

    other = app.test_client()
    login_as(other, "yuri@example.com")
    html = other.get("/account/bookings").data.decode()
    assert str(y_bella) in html and str(x_bella) not in html and str(x_fixit) not in html


def test_guest_bookings_with_my_verified_email_are_mine(app, client):
    with app_ctx(app):
        bella = make_business("bella")
        guest = book(bella.tenant_id, "Xena@Example.com")   # booked as a guest, before the account
        make_user("xena@example.com", email_verified_at=None)
        make_user("other@example.com")
    login_as(client, "xena@example.com")
    assert str(guest) not in client.get("/account/bookings").data.decode()  # unverified: not yet
    assert cancel(client, bella.tenant_id, guest).status_code == 404
    with app_ctx(app):
        from app.identity.models import User

        db.session.execute(sa.update(User).where(User.email == "xena@example.com").values(email_verified_at=utcnow()))
        db.session.commit()
    assert str(guest) in client.get("/account/bookings").data.decode()
    # Another verified account never sees it.
    other = app.test_client()
    login_as(other, "other@example.com")
    assert str(guest) not in other.get("/account/bookings").data.decode()


def test_cancel_my_booking(app, client):
    with app_ctx(app):
        bella = make_business("bella")
        xid = make_user("xena@example.com")
        booking_id = book(bella.tenant_id, "xena@example.com", user_id=xid)
    login_as(client, "xena@example.com")
    resp = cancel(client, bella.tenant_id, booking_id, reason="Sick")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/bookings"
    assert status_of(app, booking_id) == "cancelled"
    html = client.get("/account/bookings").data.decode()
    assert "Your booking at Bella is cancelled." in html
    assert "Past and cancelled" in html
    with app_ctx(app), platform_scope("test: read reason"):
        row = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        assert (row.cancel_reason, row.cancelled_by) == ("Sick", "customer")
    # Cancelling again is refused with a message, not an error page.
    resp = cancel(client, bella.tenant_id, booking_id)
    assert resp.status_code == 302
    assert "no longer active" in client.get("/account/bookings").data.decode()


def test_cancel_after_the_cutoff_is_refused(app, client):
    with app_ctx(app):
        bella = make_business("bella", cancellation_cutoff_hours=24 * 10)
        xid = make_user("xena@example.com")
        booking_id = book(bella.tenant_id, "xena@example.com", user_id=xid)
    login_as(client, "xena@example.com")
    html = client.get("/account/bookings").data.decode()
    assert "Too close to the start to change online" in html
    resp = cancel(client, bella.tenant_id, booking_id)
    assert resp.status_code == 302
    assert status_of(app, booking_id) == "confirmed"
    assert "please contact the business" in client.get("/account/bookings").data.decode().lower()


def test_cancel_requires_csrf(app, client):
    with app_ctx(app):
        bella = make_business("bella")
        xid = make_user("xena@example.com")
        booking_id = book(bella.tenant_id, "xena@example.com", user_id=xid)
    login_as(client, "xena@example.com")
    assert client.post(f"/account/bookings/{bella.tenant_id}/{booking_id}/cancel").status_code == 400
    assert status_of(app, booking_id) == "confirmed"


def test_reschedule_link_opens_the_business_manage_page(app, client):
    from app.booking.service import booking_from_manage_token

    with app_ctx(app):
        bella = make_business("bella")
        xid = make_user("xena@example.com")
        booking_id = book(bella.tenant_id, "xena@example.com", user_id=xid)
    login_as(client, "xena@example.com", host="localhost:5000")
    html = client.get("/account/bookings", base_url="http://localhost:5000").data.decode()
    import re

    m = re.search(r'href="(http://bella\.localhost:5000/manage/[^"]+)"', html)
    assert m, "no reschedule link"
    token = urlsplit(m.group(1)).path.rsplit("/", 1)[1]
    with app_ctx(app), tenant_scope(bella.tenant_id):
        found = booking_from_manage_token(token)
        assert found is not None and found.id == booking_id


def test_owner_opens_dashboard_from_the_apex(app, client):
    with app_ctx(app):
        bella = make_business("bella")
        fixit = make_business("fixit")
    login_as(client, "owner@bella.test")
    html = client.get("/account/bookings").data.decode()
    assert "Your businesses" in html and "Bella" in html and "Fixit" not in html
    token = csrf_from(html)
    assert client.post(f"/account/businesses/{fixit.tenant_id}/open",
                       data={"csrf_token": token}).status_code == 404
    resp = client.post(f"/account/businesses/{bella.tenant_id}/open", data={"csrf_token": token})
    assert resp.status_code == 302
    target = urlsplit(resp.headers["Location"])
    assert (target.netloc, target.path) == (f"bella.localhost:{app.config['PUBLIC_PORT']}", "/auth/handoff")
    landed = client.get(resp.headers["Location"])
    assert landed.status_code == 302 and landed.headers["Location"] == "/dashboard/"
    with client.session_transaction(base_url="http://bella.localhost") as sess:
        assert "_user_id" in sess


def test_my_bookings_from_a_business_host_stays_signed_in(app, client):
    """Signed in on Bella's host: "My bookings" is in the header, and /account/bookings there
    leads to the platform's page through a one-time login handoff, so the person lands on
    their bookings signed in, without logging in again."""
    with app_ctx(app):
        bella = make_business("bella")
        xid = make_user("xena@example.com", name="Xena")
        booking_id = book(bella.tenant_id, "xena@example.com", user_id=xid)
    anonymous = client.get("/", base_url="http://bella.localhost").data.decode()
    assert "data-my-bookings" not in anonymous
    login_as(client, "xena@example.com", host="bella.localhost")
    home = client.get("/", base_url="http://bella.localhost").data.decode()
    assert '<a href="/account/bookings" data-my-bookings>My bookings</a>' in home

    # A forged Host-like header changes nothing: the link comes from configuration.
    resp = client.get("/account/bookings", base_url="http://bella.localhost",
                      headers={"X-Forwarded-Host": "evil.example"})
    assert resp.status_code == 303 and resp.headers["Cache-Control"] == "no-store"
    target = urlsplit(resp.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("http", f"localhost:{app.config['PUBLIC_PORT']}",
                                                           "/auth/handoff")
    assert "next=%2Faccount%2Fbookings" in target.query or "next=/account/bookings" in target.query

    apex = f"http://localhost:{app.config['PUBLIC_PORT']}"
    with client.session_transaction(base_url=apex) as sess:
        assert "_user_id" not in sess  # not signed in on the platform yet
    landed = client.get(f"{target.path}?{target.query}", base_url=apex)
    assert landed.status_code == 302 and landed.headers["Location"] == "/account/bookings"
    page = client.get("/account/bookings", base_url=apex)
    assert page.status_code == 200 and str(booking_id) in page.data.decode()

    # The handoff works once, and only on the platform.
    again = app.test_client()
    assert again.get(f"{target.path}?{target.query}", base_url=apex).status_code == 400
    other_host = app.test_client().get(f"{target.path}?{target.query}", base_url="http://bella.localhost")
    assert other_host.status_code == 400
