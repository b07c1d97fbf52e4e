"""Bad input answers a clear 4xx and writes nothing: out-of-range dates (availability, the
dashboard board, time off), control characters in any text field, malformed JSON values,
and customer names that would break or forge an email header."""

from __future__ import annotations

import email
import json
from datetime import date, timedelta
from email import policy
from email.headerregistry import Address

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.catalog.models import Service, TimeOff
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"
PROBLEM = "application/problem+json"
FAR = ["0001-01-01", "9999-12-25", "9999-12-31", "1899-12-31"]


@pytest.fixture
def bella(ctx):
    return make_business("bella", staff=1)


@pytest.fixture
def owner(app, bella):
    client = app.test_client()
    login_as(client, bella.owner_email, host="bella.localhost")
    return client


def _counts() -> tuple[int, int, int, int]:
    db.session.rollback()
    with platform_scope("test: count"):
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (Booking, Customer, Service, TimeOff))


def _problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == PROBLEM
    data = json.loads(resp.data)
    assert data["status"] == status and data["detail"]
    return data


def _csrf(client) -> str:
    return csrf_from(client.get("/", base_url=BELLA).data)


def _start(days: int = 3) -> str:
    from datetime import UTC, datetime, time

    from app.timeutil import zone

    day = datetime.now(zone("Europe/Copenhagen")).date() + timedelta(days=days)
    return datetime.combine(day, time(10), tzinfo=zone("Europe/Copenhagen")).astimezone(UTC).isoformat()


def _api_body(biz, **over) -> dict:
    data = {"service_id": str(biz.service_ids[0]), "start": _start(),
            "customer": {"name": "Alice Andersen", "email": "alice@example.com"}}
    data.update(over)
    return data


# ------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("far", FAR)
def test_api_availability_far_dates_are_422(client, bella, far):
    resp = client.get("/api/v1/availability", base_url=BELLA,
                      query_string={"service_id": str(bella.service_ids[0]), "start": far, "end": far})
    data = _problem(resp, 422)
    assert {e["field"] for e in data["errors"]} >= {"start"}
    assert "between" in data["errors"][0]["message"]


@pytest.mark.parametrize(("far", "message"), [("0001-01-01", "That day has passed"),
                                               ("9999-12-25", "Bookings open at most 60 days ahead")])
def test_storefront_slots_far_date_is_an_inline_error(client, bella, far, message):
    resp = client.get(f"/book/{bella.service_ids[0]}/slots", base_url=BELLA,
                      query_string={"date": far, "staff": "any", "tz": "Europe/Copenhagen"})
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)


@pytest.mark.parametrize("start", ["9999-12-31T23:30:00Z", "0001-01-01T00:00:00+01:00", "1999-12-31T10:00:00Z"])
def test_storefront_details_far_start_reshows_the_slot_step(client, bella, start):
    resp = client.get(f"/book/{bella.service_ids[0]}/details", base_url=BELLA,
                      query_string={"start": start, "staff": "any", "tz": "Europe/Copenhagen"})
    assert resp.status_code == 422
    assert "Pick a time from the list." in resp.get_data(as_text=True)


@pytest.mark.parametrize("start", ["9999-12-31T23:30:00Z", "0001-01-01T00:00:00+01:00", "2101-01-01T10:00:00Z"])
def test_api_booking_far_start_is_422(client, bella, start):
    before = _counts()
    data = _problem(client.post("/api/v1/bookings", base_url=BELLA, json=_api_body(bella, start=start)), 422)
    assert data["errors"] == [{"field": "start", "message": "Give a date and time between 2000-01-01 and 2100-12-31."}]
    assert _counts() == before


@pytest.mark.parametrize("far", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
@pytest.mark.parametrize("view", ["day", "week"])
def test_dashboard_far_date_is_an_inline_error(owner, far, view):
    resp = owner.get("/dashboard/", base_url=BELLA, query_string={"date": far, "view": view})
    assert resp.status_code == 422
    assert "between 2000-01-01 and 2100-12-31" in resp.get_data(as_text=True)


def test_dashboard_edge_dates_still_render(owner):
    for day in ("2000-01-03", "2100-12-27"):
        for view in ("day", "week"):
            resp = owner.get("/dashboard/", base_url=BELLA, query_string={"date": day, "view": view})
            assert resp.status_code == 200, (day, view)


@pytest.mark.parametrize(("starts", "ends"), [
    ("0001-01-01T00:00", "9999-12-31T23:59"),
    ("0001-01-01T00:00", "2030-01-01T10:00"),
    ("2030-01-01T10:00", "9999-12-31T23:59"),
])
def test_time_off_out_of_range_is_422_and_writes_nothing(owner, bella, starts, ends):
    before = _counts()
    resp = owner.post(f"/dashboard/staff/{bella.staff_ids[0]}/time-off", base_url=BELLA,
                      data={"csrf_token": csrf_from(owner.get("/dashboard/", base_url=BELLA).data),
                            "starts": starts, "ends": ends})
    assert resp.status_code == 422
    assert "between 2000-01-01 and 2100-12-31" in resp.get_data(as_text=True)
    assert _counts() == before


# ------------------------------------------------------------------- control characters


def test_nul_in_booking_form_name_is_400_and_writes_nothing(client, bella):
    before = _counts()
    resp = client.post(f"/book/{bella.service_ids[0]}/confirm", base_url=BELLA, data={
        "csrf_token": _csrf(client), "staff": "any", "start": _start(), "tz": "Europe/Copenhagen",
        "name": "Ann\x00Customer", "email": "ann@example.com", "action": "confirm"})
    assert resp.status_code == 400
    assert "“name”" in resp.get_data(as_text=True)
    assert _counts() == before


def test_nul_in_api_json_string_is_400_problem_and_writes_nothing(client, bella):
    before = _counts()
    resp = client.post("/api/v1/bookings", base_url=BELLA,
                       json=_api_body(bella, customer={"name": "Ann\x00", "email": "ann@example.com"}))
    data = _problem(resp, 400)
    assert data["errors"] == [{"field": "customer.name", "message": data["errors"][0]["message"]}]
    assert "control character" in data["errors"][0]["message"]
    assert _counts() == before


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x7f", "\x1b[31m"])
def test_control_character_in_query_is_400(client, bella, bad):
    resp = client.get("/api/v1/availability", base_url=BELLA, query_string={
        "service_id": str(bella.service_ids[0]), "start": "2030-01-01", "end": "2030-01-01", "tz": f"UTC{bad}"})
    data = _problem(resp, 400)
    assert data["errors"][0]["field"] == "tz"


def test_lone_surrogate_in_json_is_400(client, bella):
    raw = json.dumps(_api_body(bella, notes="x")).replace('"x"', '"\\ud800"')
    resp = client.post("/api/v1/bookings", base_url=BELLA, data=raw, content_type="application/json")
    data = _problem(resp, 400)
    assert data["errors"][0]["field"] == "notes"


def test_nul_in_dashboard_service_name_is_400_and_writes_nothing(owner, bella):
    before = _counts()
    resp = owner.post("/dashboard/services/new", base_url=BELLA, data={
        "csrf_token": csrf_from(owner.get("/dashboard/", base_url=BELLA).data), "name": "Col\x00our",
        "duration_minutes": "90", "price": "649", "buffer_before_minutes": "0", "buffer_after_minutes": "0",
        "staff": [str(bella.staff_ids[0])]})
    assert resp.status_code == 400
    assert "“name”" in resp.get_data(as_text=True)
    assert _counts() == before


def test_newlines_stay_allowed_in_multi_line_notes(client, bella):
    resp = client.post("/api/v1/bookings", base_url=BELLA, json=_api_body(bella, notes="line one\r\n\tline two"))
    assert resp.status_code == 201, resp.get_data(as_text=True)


# ------------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["Bob\r\nBcc: x@evil.example", "Bob\nSmith"])
def test_crlf_name_is_refused_on_the_booking_form(client, bella, name):
    before = _counts()
    resp = client.post(f"/book/{bella.service_ids[0]}/confirm", base_url=BELLA, data={
        "csrf_token": _csrf(client), "staff": "any", "start": _start(), "tz": "Europe/Copenhagen",
        "name": name, "email": "ann@example.com", "action": "confirm"})
    assert resp.status_code in (400, 422)
    assert _counts() == before


@pytest.mark.parametrize("name", ["Bob\r\nBcc: x@evil.example", "Bob <x@evil.example>, xxx", "Eve x@evil.example"])
def test_bad_name_is_refused_by_the_api(client, bella, name):
    before = _counts()
    resp = client.post("/api/v1/bookings", base_url=BELLA,
                       json=_api_body(bella, customer={"name": name, "email": "ann@example.com"}))
    data = _problem(resp, 422)
    assert [e["field"] for e in data["errors"]] == ["customer.name"]
    assert _counts() == before


def test_timezone_of_wrong_type_is_422(client, bella):
    resp = client.post("/api/v1/bookings", base_url=BELLA, json=_api_body(bella, timezone=[None, None]))
    data = _problem(resp, 422)
    assert [e["field"] for e in data["errors"]] == ["timezone"]


def _store_booking(biz, name: str, email_addr: str = "bob@example.com") -> None:
    """A committed booking whose customer name skipped the edge checks (stored before they existed)."""
    from datetime import datetime

    from app.booking.service import Actor, CustomerInput, create_booking
    from app.tenants.models import Tenant

    with tenant_scope(biz.tenant_id):
        create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0], staff_id=None,
                       start=datetime.fromisoformat(_start()), customer=CustomerInput(name, email_addr),
                       customer_timezone=biz.timezone, notes="", actor=Actor("customer"))
        db.session.commit()


def test_stored_name_with_angle_brackets_gives_one_quoted_to_address(app, bella, mailbox):
    from app.outbox.relay import relay_outbox

    evil = "Bob <x@evil.example>, xxx"
    _store_booking(bella, evil)
    relay_outbox()
    assert run_jobs(app) == []
    [msg] = mailbox.to("bob@example.com")
    to = email.message_from_bytes(msg.as_bytes(), policy=policy.default)["To"]
    assert len(to.addresses) == 1
    only: Address = to.addresses[0]
    assert (only.addr_spec, only.display_name) == ("bob@example.com", evil)
    assert not mailbox.to("x@evil.example")


def test_boundary_dates_inside_the_window_still_work(client, bella):
    today = date.today()
    resp = client.get("/api/v1/availability", base_url=BELLA, query_string={
        "service_id": str(bella.service_ids[0]), "start": (today - timedelta(days=1)).isoformat(),
        "end": (today + timedelta(days=7)).isoformat()})
    assert resp.status_code == 200, resp.get_data(as_text=True)


def test_stored_crlf_name_still_gets_its_confirmation(app, bella, mailbox):
    """Names stored before the edge checks existed cannot break the message (it used to fail forever)."""
    from app.outbox.relay import relay_outbox

    _store_booking(bella, "Bob\r\nBcc: x@evil.example")
    relay_outbox()
    assert run_jobs(app) == []
    [msg] = mailbox.to("bob@example.com")
    [only] = msg["To"].addresses
    assert only.display_name == "Bob Bcc: x@evil.example"
    assert msg["Bcc"] is None and not mailbox.to("x@evil.example")


def test_unusable_stored_address_fails_once_with_a_reason(app, bella, mailbox):
    """A stored address that cannot go in a header is recorded as undeliverable, not retried."""
    from app.delivery.models import Delivery
    from app.outbox.relay import relay_outbox

    _store_booking(bella, "Bob", "bob@example.com")
    with tenant_scope(bella.tenant_id):
        db.session.execute(sa.update(Customer).values(email="bob@example.com\r\nBcc: x@evil.example"))
        db.session.commit()
    relay_outbox()
    assert run_jobs(app) == []  # no job raised, so RQ does not retry it
    assert [m for m in mailbox.messages if m["To"].addresses[0].addr_spec != bella.owner_email] == []
    with tenant_scope(bella.tenant_id):
        rows = db.session.execute(sa.select(Delivery.dedup_key, Delivery.status, Delivery.error)
                                  .where(Delivery.notification_id.is_(None))).all()
        db.session.commit()
    customer_rows = [r for r in rows if "staff" not in r.dedup_key]
    assert customer_rows and all(r.status == "undeliverable" and "address" in r.error for r in customer_rows)


def _dashboard_post(owner, path: str, data: dict):
    token = csrf_from(owner.get("/dashboard/", base_url=BELLA).data)
    return owner.post(path, base_url=BELLA, data={"csrf_token": token, **data})


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_date_override_out_of_range_is_422_and_writes_nothing(owner, bella, day):
    from app.catalog.models import DateOverride

    resp = _dashboard_post(owner, f"/dashboard/staff/{bella.staff_ids[0]}/overrides", {"on_date": day, "closed": "y"})
    assert resp.status_code == 422
    assert "between 2000-01-01 and 2100-12-31" in resp.get_data(as_text=True)
    db.session.rollback()
    with platform_scope("test: count"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DateOverride)) == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "Colour\r\nX-Injected: 1", "Use a single line"),
    ("category", "Hair\nNails", "Use a single line"),
])
def test_single_line_dashboard_fields_refuse_line_breaks(owner, bella, field, value, message):
    before = _counts()
    data = {"name": "Colour", "duration_minutes": "90", "price": "649", "buffer_before_minutes": "0",
            "buffer_after_minutes": "0", "staff": [str(bella.staff_ids[0])], field: value}
    resp = _dashboard_post(owner, "/dashboard/services/new", data)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _counts() == before


def test_staff_member_name_refuses_an_address(owner, bella):
    resp = _dashboard_post(owner, f"/dashboard/staff/{bella.staff_ids[0]}", {"name": "Eve <eve@evil.example>"})
    assert resp.status_code == 422
    assert "cannot contain &lt; or &gt;" in resp.get_data(as_text=True)


def test_api_wrong_method_is_405_problem_with_allow(client, bella):
    resp = client.delete("/api/v1/services", base_url=BELLA)
    data = _problem(resp, 405)
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    assert data["title"] == "Method Not Allowed"


def test_booking_form_name_with_angle_brackets_is_an_inline_error(client, bella):
    before = _counts()
    resp = client.post(f"/book/{bella.service_ids[0]}/confirm", base_url=BELLA, data={
        "csrf_token": _csrf(client), "staff": "any", "start": _start(), "tz": "Europe/Copenhagen",
        "name": "Bob <x@evil.example>, xxx", "email": "ann@example.com", "phone": "+4520304050",
        "action": "confirm"})
    assert resp.status_code == 422
    assert "cannot contain &lt; or &gt;" in resp.get_data(as_text=True)
    assert _counts() == before
