"""Staff dashboard on the tenant host: access, the bookings board and its actions, and the
set-up pages (services, staff, hours, overrides, time off, rules, API tokens).

Each test runs as a real user through the Flask test client on ``bella.localhost``; the
database is checked directly for what was (or was not) written.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from app.booking.models import Booking, BookingEvent
from app.booking.service import Actor, CustomerInput, create_booking, transition
from app.catalog.models import DateOverride, Service, ServiceStaff, StaffMember, TimeOff, WorkingHours
from app.catalog.service import add_time_off
from app.disputes.models import Dispute
from app.extensions import db
from app.identity.service import create_api_token, find_api_token
from app.reviews.service import create_review
from app.scheduling.service import find_slots
from app.tenants.context import tenant_scope
from app.tenants.models import Role, Tenant
from app.tenants.photos import add_photo
from app.tenants.service import add_membership
from app.timeutil import utcnow, zone
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"
HX = {"HX-Request": "true"}


# --------------------------------------------------------------------------- helpers


def _client(app, email: str | None = None):
    client = app.test_client()
    if email:
        login_as(client, email, host=HOST)
    return client


def _get(client, path: str, **kw):
    return client.get(path, base_url=BASE, **kw)


def _post(client, path: str, data: dict | None = None, *, token: str | None = None, **kw):
    """POST with the page's CSRF token (fetched from the dashboard when not given)."""
    if token is None:
        token = csrf_from(_get(client, "/dashboard/").data)
    payload = {"csrf_token": token, **(data or {})}
    return client.post(path, base_url=BASE, data=payload, **kw)


def _snapshot(services) -> str:
    """Digest of every tenant-owned row (as the table owner, all tenants)."""
    url = services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://")
    digest = hashlib.sha256()
    with psycopg.connect(url) as conn:
        for table in ("booking", "booking_event", "service", "service_staff", "staff_member", "working_hours",
                      "date_override", "time_off", "api_token", "staff_invitation", "tenant"):
            # Whole rows sorted here: ORDER BY 1, 2 leaves ties (service_staff) in the plan's order.
            for text in sorted(repr(row) for row in conn.execute(f"select * from {table}")):  # noqa: S608 - fixed names
                digest.update(text.encode())
    return digest.hexdigest()


def _future_start(biz, days: int = 2, hour: int = 10) -> datetime:
    """A start at ``hour``:00 local, ``days`` days from today in the business's zone (UTC)."""
    tz = zone(biz.timezone)
    day = utcnow().astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def _book(biz, start: datetime, *, name: str = "Ada Lovelace", email: str = "ada@example.com",
          staff_index: int = 0, notes: str = "") -> uuid.UUID:
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        booking = create_booking(tenant, service_id=biz.service_ids[0], staff_id=biz.staff_ids[staff_index],
                                 start=start, customer=CustomerInput(name, email, "+4512345678"),
                                 customer_timezone=biz.timezone, notes=notes)
        db.session.commit()
        return booking.id


def _past_booking(biz, hours_ago: int = 2) -> uuid.UUID:
    """A confirmed booking that started ``hours_ago`` hours ago (written directly: booking
    in the past is not possible through the storefront)."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(hours=hours_ago)
    with tenant_scope(biz.tenant_id):
        from app.booking.service import upsert_customer

        customer = upsert_customer(CustomerInput("Past Person", "past@example.com"))
        db.session.flush()
        booking = Booking(service_id=biz.service_ids[0], staff_id=biz.staff_ids[1], customer_id=customer.id,
                          status="confirmed", starts_at=start, ends_at=start + timedelta(hours=1),
                          blocked_from=start, blocked_until=start + timedelta(hours=1), price_amount=50000,
                          currency="DKK", customer_timezone=biz.timezone)
        db.session.add(booking)
        db.session.commit()
        return booking.id


def _load(model, ident, tenant_id):
    with tenant_scope(tenant_id):
        db.session.expire_all()
        return db.session.scalar(sa.select(model).where(model.id == ident))


@pytest.fixture
def bella(ctx):
    """Bella (Europe/Copenhagen, DKK) with 2 staff working 09:00–17:00 daily and one 60-min service."""
    return make_business("bella")


@pytest.fixture
def other(ctx):
    """A second business, to prove isolation."""
    return make_business("fixit", timezone="America/New_York", currency="USD")


@pytest.fixture
def owner(app, bella):
    """A test client logged in as Bella's owner."""
    return _client(app, bella.owner_email)


# --------------------------------------------------------------------------- access


def test_anonymous_is_sent_to_log_in(app, bella):
    resp = _get(_client(app), "/dashboard/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/services", "/dashboard/staff", "/dashboard/rules",
                                  "/dashboard/api-tokens"])
def test_customers_and_other_tenants_owners_get_404(app, bella, other, path):
    make_user("customer@example.com")
    with tenant_scope(bella.tenant_id):
        from app.identity.service import find_user

        add_membership(find_user("customer@example.com"), Role.CUSTOMER)
        db.session.commit()
    for email in ("customer@example.com", other.owner_email):
        assert _get(_client(app, email), path).status_code == 404, email


def test_dashboard_is_404_on_the_apex(app, bella):
    client = app.test_client()
    login_as(client, bella.owner_email, host="localhost")
    assert client.get("/dashboard/", base_url="http://localhost").status_code == 404


def test_plain_staff_see_bookings_but_not_set_up(app, bella):
    make_user("stylist@bella.test")
    with tenant_scope(bella.tenant_id):
        from app.identity.service import find_user

        add_membership(find_user("stylist@bella.test"), Role.STAFF, staff_member_id=bella.staff_ids[1])
        db.session.commit()
    client = _client(app, "stylist@bella.test")
    page = _get(client, "/dashboard/")
    assert page.status_code == 200
    assert b"Bookings" in page.data and b"Booking rules" not in page.data
    assert f'value="{bella.staff_ids[1]}" selected'.encode() in page.data  # their own column by default
    for path in ("/dashboard/services", "/dashboard/staff", "/dashboard/rules", "/dashboard/api-tokens"):
        assert _get(client, path).status_code == 403, path


def test_staff_see_the_dashboard_link(owner):
    page = _get(owner, "/dashboard/")
    assert page.status_code == 200
    assert b'href="/dashboard/">Dashboard</a>' in page.data


# --------------------------------------------------------------------------- the bookings board


def test_day_view_lists_the_days_bookings_in_the_business_zone(owner, bella):
    start = _future_start(bella, days=2, hour=10)
    _book(bella, start, name="Ada Lovelace", notes="Fringe only, please")
    _book(bella, _future_start(bella, days=3, hour=11), name="Grace Hopper", email="grace@example.com")
    day = start.astimezone(zone(bella.timezone)).date()
    page = _get(owner, f"/dashboard/?view=day&date={day.isoformat()}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Ada Lovelace" in html and "Grace Hopper" not in html
    assert "10:00" in html and "11:00" in html  # local Copenhagen times, not UTC
    assert "ada@example.com" in html and "+4512345678" in html
    assert "Haircut" in html and "Fringe only, please" in html
    assert "status-confirmed" in html
    assert 'hx-trigger="every 10s"' in html


def test_week_view_and_navigation(owner, bella):
    start = _future_start(bella, days=1, hour=9)
    _book(bella, start, name="Ada Lovelace")
    day = start.astimezone(zone(bella.timezone)).date()
    monday = day - timedelta(days=day.weekday())
    page = _get(owner, f"/dashboard/?view=week&date={day.isoformat()}").data.decode()
    assert "Ada Lovelace" in page
    assert f"date={(day + timedelta(days=7)).isoformat()}" in page  # next week
    assert f"date={(day - timedelta(days=7)).isoformat()}" in page  # previous week
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]  # e.g. "7 – 13 Dec 2026" or "30 Nov – 6 Dec 2026"
    assert heading.startswith(str(monday.day)) and (monday + timedelta(days=6)).strftime("%-d %b") in heading
    later = _get(owner, f"/dashboard/?view=week&date={(day + timedelta(days=7)).isoformat()}").data.decode()
    assert "Ada Lovelace" not in later


def test_staff_filter_shows_only_that_persons_bookings(owner, bella):
    start = _future_start(bella, days=2, hour=10)
    _book(bella, start, name="Ada Lovelace", staff_index=0)
    _book(bella, start, name="Grace Hopper", email="grace@example.com", staff_index=1)
    day = start.astimezone(zone(bella.timezone)).date().isoformat()
    page = _get(owner, f"/dashboard/?date={day}&staff={bella.staff_ids[1]}").data.decode()
    assert "Grace Hopper" in page and "Ada Lovelace" not in page
    both = _get(owner, f"/dashboard/?date={day}&staff=all").data.decode()
    assert "Grace Hopper" in both and "Ada Lovelace" in both


def test_board_rejects_a_malformed_date_and_foreign_staff(owner, bella, other):
    resp = _get(owner, "/dashboard/?date=2026-13-45")
    assert resp.status_code == 422
    assert "is not a date" in resp.data.decode()
    assert _get(owner, f"/dashboard/?staff={other.staff_ids[0]}").status_code == 404
    assert _get(owner, "/dashboard/?staff=nonsense").status_code == 404


def test_htmx_poll_returns_only_the_board_block_and_sees_new_bookings(owner, bella):
    start = _future_start(bella, days=2, hour=10)
    day = start.astimezone(zone(bella.timezone)).date().isoformat()
    first = _get(owner, f"/dashboard/?date={day}", headers=HX)
    assert first.status_code == 200
    body = first.data.decode()
    assert body.lstrip().startswith('<section id="bookings"')
    assert "<html" not in body and "db-sidebar" not in body
    assert "HX-Request" in first.headers.get("Vary", "")
    assert "Ada Lovelace" not in body
    _book(bella, start, name="Ada Lovelace")
    assert "Ada Lovelace" in _get(owner, f"/dashboard/?date={day}", headers=HX).data.decode()


def test_confirm_a_pending_booking(app, ctx):
    biz = make_business("bella", requires_confirmation=True)
    client = _client(app, biz.owner_email)
    booking_id = _book(biz, _future_start(biz))
    resp = _post(client, f"/dashboard/bookings/{booking_id}/action", {"action": "confirm"})
    assert resp.status_code == 303
    booking = _load(Booking, booking_id, biz.tenant_id)
    assert booking.status == "confirmed"
    with tenant_scope(biz.tenant_id):
        event = db.session.scalar(sa.select(BookingEvent).where(BookingEvent.booking_id == booking_id,
                                                                BookingEvent.kind == "confirm"))
        assert event.actor == "staff" and event.actor_user_id is not None


def test_decline_a_pending_booking_over_htmx_returns_the_board(app, ctx):
    biz = make_business("bella", requires_confirmation=True)
    client = _client(app, biz.owner_email)
    start = _future_start(biz)
    booking_id = _book(biz, start)
    day = start.astimezone(zone(biz.timezone)).date().isoformat()
    resp = _post(client, f"/dashboard/bookings/{booking_id}/action",
                 {"action": "decline", "view": "day", "date": day, "staff": "all"}, headers=HX)
    assert resp.status_code == 200
    body = resp.data.decode()
    assert body.lstrip().startswith('<section id="bookings"') and "Booking declined." in body
    assert _load(Booking, booking_id, biz.tenant_id).status == "cancelled"


def test_cancel_needs_a_reason_and_records_it(owner, bella, services):
    booking_id = _book(bella, _future_start(bella))
    before = _snapshot(services)
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/action", {"action": "cancel", "reason": "  "})
    assert resp.status_code == 422
    assert "Give a reason for cancelling" in resp.data.decode()
    assert _snapshot(services) == before
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/action",
                 {"action": "cancel", "reason": "Stylist is ill", "back": "detail"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/dashboard/bookings/{booking_id}")
    booking = _load(Booking, booking_id, bella.tenant_id)
    assert booking.status == "cancelled" and booking.cancel_reason == "Stylist is ill"
    assert booking.cancelled_by == "staff"
    detail = _get(owner, f"/dashboard/bookings/{booking_id}").data.decode()
    assert "Stylist is ill" in detail and "Cancelled" in detail


def test_complete_and_no_show_only_after_the_start(owner, bella, services):
    future_id = _book(bella, _future_start(bella))
    before = _snapshot(services)
    resp = _post(owner, f"/dashboard/bookings/{future_id}/action", {"action": "complete"})
    assert resp.status_code == 422
    assert "once it has started" in resp.data.decode()
    assert _snapshot(services) == before
    past_id = _past_booking(bella)
    past_day = _load(Booking, past_id, bella.tenant_id).starts_at.astimezone(zone(bella.timezone)).date()
    day_page = _get(owner, f"/dashboard/?date={past_day.isoformat()}").data.decode()  # yesterday just after midnight
    assert 'value="complete"' in day_page and 'value="no_show"' in day_page
    assert _post(owner, f"/dashboard/bookings/{past_id}/action", {"action": "no_show"}).status_code == 303
    assert _load(Booking, past_id, bella.tenant_id).status == "no_show"


def test_illegal_transition_shows_the_domain_message(owner, bella, services):
    booking_id = _book(bella, _future_start(bella))  # confirmed (no confirmation by hand)
    before = _snapshot(services)
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/action", {"action": "confirm", "back": "detail"})
    assert resp.status_code == 422
    assert "A confirmed booking cannot be confirmed." in resp.data.decode()
    assert _snapshot(services) == before
    resp = _post(owner, f"/dashboard/bookings/{booking_id}/action", {"action": "explode"})
    assert resp.status_code == 422
    assert _snapshot(services) == before


def test_booking_detail_shows_the_event_history(owner, bella):
    booking_id = _book(bella, _future_start(bella))
    with tenant_scope(bella.tenant_id):
        booking = db.session.get(Booking, (bella.tenant_id, booking_id))
        transition(booking, "cancel", Actor("customer"), "Changed my mind")
        db.session.commit()
    html = _get(owner, f"/dashboard/bookings/{booking_id}").data.decode()
    assert "History" in html and "Booked" in html and "Changed my mind" in html
    assert "by customer" in html
    assert "ada@example.com" in html


# --------------------------------------------------------------------------- services


def test_create_service_with_staff_overrides(owner, bella):
    resp = _post(owner, "/dashboard/services/new", {
        "name": "Colour", "description": "Full colour", "category": "Colour", "duration_minutes": "90",
        "price": "649.50", "buffer_before_minutes": "0", "buffer_after_minutes": "15", "active": "y",
        "staff": [str(bella.staff_ids[0]), str(bella.staff_ids[1])],
        f"duration-{bella.staff_ids[1]}": "120", f"price-{bella.staff_ids[1]}": "799",
    })
    assert resp.status_code == 303, resp.data.decode()[:2000]
    with tenant_scope(bella.tenant_id):
        svc = db.session.scalar(sa.select(Service).where(Service.name == "Colour"))
        assert (svc.duration_minutes, svc.price_amount, svc.currency, svc.buffer_after_minutes) == (90, 64950, "DKK", 15)
        links = {s.staff_id: (s.duration_minutes, s.price_amount)
                 for s in db.session.scalars(sa.select(ServiceStaff).where(ServiceStaff.service_id == svc.id))}
    assert links == {bella.staff_ids[0]: (None, None), bella.staff_ids[1]: (120, 79900)}
    listing = _get(owner, "/dashboard/services").data.decode()
    assert "Colour" in listing and "649,50\xa0kr." in listing


@pytest.mark.parametrize("field,value,message", [
    ("duration_minutes", "4", "5 to 720"),
    ("duration_minutes", "721", "5 to 720"),
    ("price", "12.345", "at most 2 decimals"),
    ("price", "-1", "cannot be negative"),
    ("price", "abc", "Enter a price"),
    ("buffer_after_minutes", "241", "0 to 240"),
    ("name", "", "Give the service a name"),
])
def test_invalid_service_input_is_422_and_writes_nothing(owner, bella, services, field, value, message):
    data = {"name": "Colour", "duration_minutes": "90", "price": "649", "buffer_before_minutes": "0",
            "buffer_after_minutes": "0", "staff": [str(bella.staff_ids[0])], field: value}
    before = _snapshot(services)
    resp = _post(owner, "/dashboard/services/new", data)
    assert resp.status_code == 422
    html = resp.data.decode()
    assert message in html
    assert 'value="Colour"' in html or field == "name"  # values kept
    assert _snapshot(services) == before


def test_service_staff_from_another_tenant_is_refused(owner, bella, other, services):
    before = _snapshot(services)
    resp = _post(owner, "/dashboard/services/new", {
        "name": "Sneaky", "duration_minutes": "30", "price": "10", "buffer_before_minutes": "0",
        "buffer_after_minutes": "0", "staff": [str(other.staff_ids[0])]})
    assert resp.status_code == 422
    assert _snapshot(services) == before


def test_bad_per_staff_override_is_422(owner, bella, services):
    before = _snapshot(services)
    resp = _post(owner, "/dashboard/services/new", {
        "name": "Colour", "duration_minutes": "90", "price": "649", "buffer_before_minutes": "0",
        "buffer_after_minutes": "0", "staff": [str(bella.staff_ids[0])], f"duration-{bella.staff_ids[0]}": "2"})
    assert resp.status_code == 422
    assert "Duration: enter 5 to 720 minutes." in resp.data.decode()
    assert _snapshot(services) == before


def test_edit_service_and_deactivate(owner, bella):
    sid = bella.service_ids[0]
    form = _get(owner, f"/dashboard/services/{sid}").data.decode()
    assert 'value="Haircut"' in form and 'value="500.00"' in form
    resp = _post(owner, f"/dashboard/services/{sid}", {
        "name": "Haircut & style", "duration_minutes": "45", "price": "550", "buffer_before_minutes": "5",
        "buffer_after_minutes": "10", "staff": [str(bella.staff_ids[1])]})
    assert resp.status_code == 303
    svc = _load(Service, sid, bella.tenant_id)
    assert (svc.name, svc.duration_minutes, svc.price_amount, svc.active) == ("Haircut & style", 45, 55000, False)
    with tenant_scope(bella.tenant_id):
        staff = set(db.session.scalars(sa.select(ServiceStaff.staff_id).where(ServiceStaff.service_id == sid)))
    assert staff == {bella.staff_ids[1]}


def test_htmx_service_form_errors_return_the_form_block(owner, bella):
    resp = _post(owner, "/dashboard/services/new", {"name": "", "duration_minutes": "90", "price": "1"}, headers=HX)
    assert resp.status_code == 422
    body = resp.data.decode()
    assert body.lstrip().startswith('<form id="service-form"') and "<html" not in body
    ok = _post(owner, "/dashboard/services/new", {"name": "Wash", "duration_minutes": "15", "price": "50",
                                                  "buffer_before_minutes": "0", "buffer_after_minutes": "0"},
               headers=HX)
    assert ok.status_code == 200 and ok.headers["HX-Redirect"] == "/dashboard/services"


# --------------------------------------------------------------------------- staff


def test_create_and_edit_staff(owner, bella, services):
    resp = _post(owner, "/dashboard/staff/new", {"name": "Mette", "bio": "Colour expert", "email": "mette@bella.test",
                                                 "active": "y"})
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        member = db.session.scalar(sa.select(StaffMember).where(StaffMember.name == "Mette"))
        assert (member.bio, member.email, member.active) == ("Colour expert", "mette@bella.test", True)
    assert resp.headers["Location"].endswith(f"/dashboard/staff/{member.id}/hours")
    before = _snapshot(services)
    bad = _post(owner, f"/dashboard/staff/{member.id}", {"name": "Mette", "email": "not-an-email"})
    assert bad.status_code == 422 and "Enter a valid email address" in bad.data.decode()
    assert 'value="not-an-email"' in bad.data.decode()
    assert _snapshot(services) == before
    ok = _post(owner, f"/dashboard/staff/{member.id}", {"name": "Mette H.", "bio": "", "email": ""})
    assert ok.status_code == 303
    member = _load(StaffMember, member.id, bella.tenant_id)
    assert (member.name, member.email, member.active) == ("Mette H.", None, False)
    assert "Mette H." in _get(owner, "/dashboard/staff").data.decode()


def _hours_rows(rows: list[tuple[int, str, str]]) -> dict[str, str]:
    data = {}
    for i, (day, start, end) in enumerate(rows):
        data.update({f"rows-{i}-weekday": str(day), f"rows-{i}-start": start, f"rows-{i}-end": end})
    return data


def test_weekly_hours_with_breaks_change_availability(owner, bella):
    """Saving hours changes find_slots' answer at once (the availability cache was invalidated)."""
    staff_id = bella.staff_ids[0]
    tz = zone(bella.timezone)
    day = utcnow().astimezone(tz).date() + timedelta(days=7)
    with tenant_scope(bella.tenant_id):
        tenant = db.session.get(Tenant, bella.tenant_id)
        svc = db.session.scalar(sa.select(Service))
        before = find_slots(tenant, svc, staff_id=staff_id, start_date=day, end_date=day)
    assert before and before[0].start.astimezone(tz).time() == time(9)
    rows = [(d, "10:00", "12:00") for d in range(7)] + [(d, "13:00", "15:00") for d in range(7)]
    resp = _post(owner, f"/dashboard/staff/{staff_id}/hours", _hours_rows(rows))
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        db.session.expire_all()
        tenant = db.session.get(Tenant, bella.tenant_id)
        svc = db.session.scalar(sa.select(Service))
        after = find_slots(tenant, svc, staff_id=staff_id, start_date=day, end_date=day)
        stored = db.session.scalars(sa.select(WorkingHours).where(WorkingHours.staff_id == staff_id)).all()
    local = [s.start.astimezone(tz).time() for s in after]
    assert local[0] == time(10) and time(12) not in local and time(13) in local and local[-1] == time(14)
    assert len(stored) == 14
    page = _get(owner, f"/dashboard/staff/{staff_id}/hours").data.decode()
    assert 'value="13:00"' in page


@pytest.mark.parametrize("rows,message", [
    ([(0, "10:00", "09:00")], "The end must be after the start."),
    ([(0, "09:00", "12:00"), (0, "11:00", "15:00")], "Overlaps another Monday range."),
    ([(0, "09:00", "")], "Enter both times"),
    ([(0, "25:00", "26:00")], "Not a valid time"),
    ([(9, "09:00", "10:00")], "Not a valid choice"),
])
def test_invalid_hours_are_422_and_write_nothing(owner, bella, services, rows, message):
    before = _snapshot(services)
    resp = _post(owner, f"/dashboard/staff/{bella.staff_ids[0]}/hours", _hours_rows(rows))
    assert resp.status_code == 422
    assert message in resp.data.decode()
    assert _snapshot(services) == before


def test_add_range_button_adds_a_row_without_saving(owner, bella, services):
    before = _snapshot(services)
    data = {**_hours_rows([(2, "09:00", "12:00")]), "add_row": "1"}
    resp = _post(owner, f"/dashboard/staff/{bella.staff_ids[0]}/hours", data, headers=HX)
    assert resp.status_code == 200
    body = resp.data.decode()
    assert body.lstrip().startswith('<form id="weekly-hours"')
    assert 'name="rows-1-start"' in body and 'value="09:00"' in body
    assert _snapshot(services) == before


def test_date_override_closed_and_with_hours(owner, bella):
    staff_id = bella.staff_ids[0]
    tz = zone(bella.timezone)
    day = utcnow().astimezone(tz).date() + timedelta(days=5)
    resp = _post(owner, f"/dashboard/staff/{staff_id}/overrides", {"on_date": day.isoformat(), "closed": "y"})
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        tenant = db.session.get(Tenant, bella.tenant_id)
        svc = db.session.scalar(sa.select(Service))
        assert find_slots(tenant, svc, staff_id=staff_id, start_date=day, end_date=day) == []
    resp = _post(owner, f"/dashboard/staff/{staff_id}/overrides",
                 {"on_date": day.isoformat(), "start1": "12:00", "end1": "14:00"})
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        db.session.expire_all()
        tenant = db.session.get(Tenant, bella.tenant_id)
        svc = db.session.scalar(sa.select(Service))
        slots = find_slots(tenant, svc, staff_id=staff_id, start_date=day, end_date=day)
        rows = db.session.scalars(sa.select(DateOverride).where(DateOverride.staff_id == staff_id)).all()
    assert [s.start.astimezone(tz).time() for s in slots][0] == time(12)
    assert len(rows) == 1
    page = _get(owner, f"/dashboard/staff/{staff_id}/hours").data.decode()
    assert "12:00–14:00" in page
    resp = _post(owner, f"/dashboard/staff/{staff_id}/overrides/{rows[0].id}/delete")
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DateOverride)) == 0


def test_invalid_override_is_422(owner, bella, services):
    before = _snapshot(services)
    for data, message in (({"on_date": "2026-02-30"}, "Not a valid date"),
                          ({"on_date": "2030-01-07"}, "tick “Closed all day”"),
                          ({"on_date": "2030-01-07", "start1": "14:00", "end1": "12:00"}, "after the start")):
        resp = _post(owner, f"/dashboard/staff/{bella.staff_ids[0]}/overrides", data)
        assert resp.status_code == 422, data
        assert message in resp.data.decode(), data
        assert 'value="09:00"' in resp.data.decode()  # the saved weekly hours are still shown
    assert _snapshot(services) == before


def test_time_off_is_local_time_and_can_be_deleted(owner, bella, services):
    staff_id = bella.staff_ids[0]
    tz = zone(bella.timezone)
    day = utcnow().astimezone(tz).date() + timedelta(days=4)
    resp = _post(owner, f"/dashboard/staff/{staff_id}/time-off", {
        "starts": f"{day.isoformat()}T09:00", "ends": f"{day.isoformat()}T13:00", "reason": "Dentist"})
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        row = db.session.scalar(sa.select(TimeOff))
        tenant = db.session.get(Tenant, bella.tenant_id)
        svc = db.session.scalar(sa.select(Service))
        slots = find_slots(tenant, svc, staff_id=staff_id, start_date=day, end_date=day)
    assert row.starts_at == datetime.combine(day, time(9), tzinfo=tz)
    assert row.ends_at == datetime.combine(day, time(13), tzinfo=tz)
    assert slots[0].start.astimezone(tz).time() == time(13)
    page = _get(owner, f"/dashboard/staff/{staff_id}/time-off").data.decode()
    assert "Dentist" in page and "09:00" in page
    before = _snapshot(services)
    bad = _post(owner, f"/dashboard/staff/{staff_id}/time-off", {
        "starts": f"{day.isoformat()}T13:00", "ends": f"{day.isoformat()}T09:00"})
    assert bad.status_code == 422 and "The end must be after the start." in bad.data.decode()
    assert f'value="{day.isoformat()}T13:00"' in bad.data.decode()
    garbage = _post(owner, f"/dashboard/staff/{staff_id}/time-off", {"starts": "soon", "ends": ""})
    assert garbage.status_code == 422
    assert _snapshot(services) == before
    resp = _post(owner, f"/dashboard/staff/{staff_id}/time-off/{row.id}/delete", headers=HX)
    assert resp.status_code == 200 and "Time off removed." in resp.data.decode()
    with tenant_scope(bella.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TimeOff)) == 0


def test_time_off_of_another_staff_member_is_404(owner, bella, services):
    with tenant_scope(bella.tenant_id):
        start = utcnow() + timedelta(days=2)
        row_id = add_time_off(bella.staff_ids[1], start, start + timedelta(hours=1)).id
        db.session.commit()
    before = _snapshot(services)
    resp = _post(owner, f"/dashboard/staff/{bella.staff_ids[0]}/time-off/{row_id}/delete")
    assert resp.status_code == 404
    assert _snapshot(services) == before


# --------------------------------------------------------------------------- rules and tokens


def test_update_booking_rules_changes_availability(owner, bella):
    tz = zone(bella.timezone)
    day = utcnow().astimezone(tz).date() + timedelta(days=3)
    with tenant_scope(bella.tenant_id):
        tenant = db.session.get(Tenant, bella.tenant_id)
        svc = db.session.scalar(sa.select(Service))
        before = find_slots(tenant, svc, staff_id=bella.staff_ids[0], start_date=day, end_date=day)
    resp = _post(owner, "/dashboard/rules", {"lead_time_minutes": "120", "horizon_days": "30",
                                             "slot_interval_minutes": "30", "requires_confirmation": "y",
                                             "cancellation_cutoff_hours": "12"})
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        db.session.expire_all()
        tenant = db.session.get(Tenant, bella.tenant_id)
        assert (tenant.lead_time_minutes, tenant.horizon_days, tenant.slot_interval_minutes,
                tenant.requires_confirmation, tenant.cancellation_cutoff_hours) == (120, 30, 30, True, 12)
        svc = db.session.scalar(sa.select(Service))
        after = find_slots(tenant, svc, staff_id=bella.staff_ids[0], start_date=day, end_date=day)
    assert len(after) < len(before)
    assert {(s.start.astimezone(tz).minute) for s in after} <= {0, 30}


@pytest.mark.parametrize("field,value", [("slot_interval_minutes", "4"), ("slot_interval_minutes", "121"),
                                         ("horizon_days", "0"), ("lead_time_minutes", "-5"),
                                         ("cancellation_cutoff_hours", "x")])
def test_invalid_rules_are_422_and_write_nothing(owner, bella, services, field, value):
    data = {"lead_time_minutes": "60", "horizon_days": "30", "slot_interval_minutes": "15",
            "cancellation_cutoff_hours": "24", field: value}
    before = _snapshot(services)
    resp = _post(owner, "/dashboard/rules", data)
    assert resp.status_code == 422
    assert f'value="{value}"' in resp.data.decode()
    assert _snapshot(services) == before


def test_rules_only_touch_this_business(owner, bella, other):
    _post(owner, "/dashboard/rules", {"lead_time_minutes": "240", "horizon_days": "10", "slot_interval_minutes": "60",
                                      "cancellation_cutoff_hours": "2"})
    with tenant_scope(other.tenant_id):
        db.session.expire_all()
        fixit = db.session.get(Tenant, other.tenant_id)
        assert (fixit.lead_time_minutes, fixit.slot_interval_minutes) == (0, 15)


def test_api_token_is_shown_once_listed_and_revoked(owner, bella, services):
    bad = _post(owner, "/dashboard/api-tokens", {"name": ""})
    assert bad.status_code == 422 and "Name the token" in bad.data.decode()
    resp = _post(owner, "/dashboard/api-tokens", {"name": "Website widget"})
    assert resp.status_code == 200
    html = resp.data.decode()
    secret = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert secret.startswith("plz_")
    with tenant_scope(bella.tenant_id):
        token = find_api_token(secret)
        assert token is not None and token.name == "Website widget"
    listing = _get(owner, "/dashboard/api-tokens").data.decode()
    assert "Website widget" in listing and secret not in listing
    resp = _post(owner, f"/dashboard/api-tokens/{token.id}/revoke")
    assert resp.status_code == 303
    with tenant_scope(bella.tenant_id):
        db.session.expire_all()
        assert find_api_token(secret) is None
    assert "Revoked" in _get(owner, "/dashboard/api-tokens").data.decode()


# --------------------------------------------------------------------------- isolation


def _foreign_ids(other) -> dict[str, uuid.UUID]:
    from tests.leads.provider_rows import make_lead, make_request

    lead_id = make_lead(other.tenant_id, make_request())  # issue 13 (W)
    booking_id = _book(other, _future_start(other), name="Foreign", email="f@example.com")
    with tenant_scope(other.tenant_id):
        start = utcnow() + timedelta(days=3)
        off = add_time_off(other.staff_ids[0], start, start + timedelta(hours=1))
        from app.catalog.service import set_date_override

        set_date_override(other.staff_ids[0], date.today() + timedelta(days=9), [])
        override = db.session.scalar(sa.select(DateOverride))
        token, _ = create_api_token("theirs", None)
        from app.tenants.models import StaffInvitation

        invitation = StaffInvitation(id=uuid.uuid4(), staff_member_id=other.staff_ids[0], email="x@example.com",
                                     role="staff", nonce="n", status="pending",
                                     expires_at=utcnow() + timedelta(days=7))
        db.session.add(invitation)
        visited = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        visited.status = "completed"
        review = create_review(visited, rating=4)
        photo = add_photo(f"gallery/{other.tenant_id.hex}/0123456789abcdef.webp", 10, 10)
        case = Dispute(kind="refund_request", booking_id=booking_id, customer_id=visited.customer_id, reason="other",
                       status="awaiting_business", paid_amount=1000, currency="DKK")
        db.session.add(case)
        db.session.commit()
        customer = db.session.scalar(sa.select(Booking.customer_id).where(Booking.id == booking_id))
        return {"booking": booking_id, "service": other.service_ids[0], "staff": other.staff_ids[0],
                "time_off": off.id, "override": override.id, "token": token.id, "invitation": invitation.id,
                "customer": customer, "review": review.id, "photo": photo.id, "dispute": case.id, "lead": lead_id}


def test_every_dashboard_route_with_an_id_answers_404_for_another_tenants_id(app, owner, bella, other, services):
    foreign = _foreign_ids(other)
    own_staff = bella.staff_ids[0]
    token = csrf_from(_get(owner, "/dashboard/").data)
    form = {"name": "Hijack", "duration_minutes": "30", "price": "1", "buffer_before_minutes": "0",
            "buffer_after_minutes": "0", "action": "cancel", "reason": "x", "on_date": "2030-01-01", "closed": "y",
            "starts": "2030-01-01T09:00", "ends": "2030-01-01T10:00", **_hours_rows([(0, "09:00", "10:00")])}
    calls = [
        ("GET", f"/dashboard/bookings/{foreign['booking']}"),
        ("POST", f"/dashboard/bookings/{foreign['booking']}/action"),
        ("POST", f"/dashboard/bookings/{foreign['booking']}/edit"),
        ("POST", f"/dashboard/bookings/{foreign['booking']}/move"),
        ("POST", f"/dashboard/calendar/blocks/{foreign['time_off']}/delete"),
        ("GET", f"/dashboard/services/{foreign['service']}"),
        ("POST", f"/dashboard/services/{foreign['service']}"),
        ("GET", f"/dashboard/staff/{foreign['staff']}"),
        ("POST", f"/dashboard/staff/{foreign['staff']}"),
        ("GET", f"/dashboard/staff/{foreign['staff']}/hours"),
        ("POST", f"/dashboard/staff/{foreign['staff']}/hours"),
        ("POST", f"/dashboard/staff/{foreign['staff']}/overrides"),
        ("POST", f"/dashboard/staff/{own_staff}/overrides/{foreign['override']}/delete"),
        ("GET", f"/dashboard/staff/{foreign['staff']}/time-off"),
        ("POST", f"/dashboard/staff/{foreign['staff']}/time-off"),
        ("POST", f"/dashboard/staff/{own_staff}/time-off/{foreign['time_off']}/delete"),
        ("POST", f"/dashboard/api-tokens/{foreign['token']}/revoke"),
        ("POST", f"/dashboard/staff/{foreign['staff']}/invite"),
        ("POST", f"/dashboard/staff/{own_staff}/invitations/{foreign['invitation']}/revoke"),
        ("POST", f"/dashboard/business/photos/{foreign['photo']}"),
        *[(m, f"/dashboard/customers/{foreign['customer']}{tail}") for m, tail in [
            ("GET", ""), ("POST", "/contact"), ("POST", "/notes"), ("POST", "/tags"),
            ("POST", f"/tags/{foreign['customer']}/delete"), ("GET", "/merge"), ("POST", "/merge"),
            ("POST", "/export"), ("GET", "/erase"), ("POST", "/erase")]],
        ("POST", f"/dashboard/reviews/{foreign['review']}/reply"),
        ("GET", f"/dashboard/disputes/{foreign['dispute']}"),
        ("POST", f"/dashboard/disputes/{foreign['dispute']}/answer"),
        *[(m, f"/dashboard/leads/{foreign['lead']}{tail}") for m, tail in [  # issue 13 (W)
            ("GET", ""), ("POST", "/claim"), ("POST", "/quote"), ("POST", "/message"), ("POST", "/called"),
            ("POST", "/spam")]],
        *[("POST", f"/dashboard/dispatch/{p}") for p in (f"offers/{foreign['booking']}/accept",  # issue 13 (X)
                                                          f"offers/{foreign['booking']}/decline",
                                                          f"jobs/{foreign['booking']}/step")],
    ]
    routes = {(m, re.sub(r"<[^>]+>", "<id>", r.rule)) for r in app.url_map.iter_rules()
              if r.endpoint.startswith("dashboard.") and r.arguments for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes == {(m, _shape(p)) for m, p in calls}  # every dashboard route with an id is exercised
    before = _snapshot(services)
    for method, path in calls:
        resp = owner.open(path, method=method, base_url=BASE, data={"csrf_token": token, **form})
        missing = owner.open(_swap_ids(path, foreign), method=method, base_url=BASE,
                             data={"csrf_token": token, **form})
        assert resp.status_code == 404, (method, path, resp.status_code)
        assert missing.status_code == 404, (method, path)
    # A foreign staff id smuggled into the board fields of an action form: 404, nothing done.
    own_booking = _book(bella, _future_start(bella))
    before = _snapshot(services)
    resp = _post(owner, f"/dashboard/bookings/{own_booking}/action",
                 {"action": "cancel", "reason": "x", "staff": str(foreign["staff"])}, token=token)
    assert resp.status_code == 404
    assert _snapshot(services) == before


def _shape(path: str) -> str:
    parts = []
    for part in path.split("/"):
        try:
            uuid.UUID(part)
            parts.append("<id>")
        except ValueError:
            parts.append(part)
    return "/".join(parts)


def _swap_ids(path: str, foreign: dict[str, uuid.UUID]) -> str:
    for value in foreign.values():
        path = path.replace(str(value), str(uuid.uuid4()))
    return path



def test_new_staff_member_gets_suggested_hours_that_are_not_saved_until_saved(app, ctx):
    from app.catalog.service import create_staff_member

    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        member_id = create_staff_member(name="New Stylist").id
        db.session.commit()
    client = _client(app, biz.owner_email)
    page = _get(client, f"/dashboard/staff/{member_id}/hours").data.decode()
    assert "No hours saved yet" in page
    assert page.count('value="09:00"') == 5 and page.count('value="17:00"') == 5
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkingHours)
                                 .where(WorkingHours.staff_id == member_id)) == 0
    rows = {f"rows-{i}-{k}": v for i in range(5) for k, v in (("weekday", str(i)), ("start", "09:00"), ("end", "17:00"))}
    assert _post(client, f"/dashboard/staff/{member_id}/hours", rows).status_code in (200, 302, 303)
    assert "No hours saved yet" not in _get(client, f"/dashboard/staff/{member_id}/hours").data.decode()


def test_new_business_sees_setup_steps_until_done(app, ctx):
    from app.identity.service import create_user
    from app.tenants.service import create_tenant

    owner = create_user("new@owner.test", "long-enough-password", "New")
    tenant = create_tenant(name="Fresh", slug="fresh", timezone="Europe/Copenhagen", currency="DKK", owner=owner)
    db.session.commit()
    client = app.test_client()
    login_as(client, "new@owner.test", host="fresh.localhost")
    page = client.get("/dashboard/", base_url="http://fresh.localhost").data.decode()
    assert "Get your booking page ready" in page and 'class="done"' not in page
    with tenant_scope(tenant.id):
        from app.catalog.service import create_service, create_staff_member, set_working_hours

        member = create_staff_member(name="Ann")
        set_working_hours(member.id, {0: [(time(9), time(17))]})
        create_service(name="Cut", duration_minutes=30, price_amount=100, currency="DKK", staff_ids=[member.id])
        db.session.commit()
    assert "Get your booking page ready" not in client.get("/dashboard/", base_url="http://fresh.localhost").data.decode()
