"""JSON API v1 on the tenant host: catalogue, availability, booking, reading and cancelling
with bearer tokens, bad input as problem+json that writes nothing, other tenants' ids, and
the OpenAPI document."""

from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.extensions import db
from app.identity.models import ApiToken
from app.identity.service import create_api_token, read_token
from app.tenants.context import tenant_scope
from tests.factories import make_business

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"
APEX = "http://localhost"
CPH = ZoneInfo("Europe/Copenhagen")
NYC = ZoneInfo("America/New_York")
# A day well inside the default 60-day horizon, every staff member works 09:00-17:00 local.
DAY = date.today() + timedelta(days=7)
PROBLEM = "application/problem+json"


@contextmanager
def app_ctx(app, tenant_id=None):
    """An app context (optionally in a tenant) for set-up and checks, never held during requests."""
    with app.app_context():
        try:
            if tenant_id is None:
                yield
            else:
                with tenant_scope(tenant_id):
                    yield
        finally:
            db.session.rollback()
            db.session.remove()


def local(hh: int, mm: int = 0, day: date = DAY, tz: ZoneInfo = CPH) -> datetime:
    """``day`` at hh:mm wall-clock time in ``tz``."""
    return datetime.combine(day, time(hh, mm), tzinfo=tz)


def rfc(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


@pytest.fixture
def bella(app):
    with app_ctx(app):
        return make_business("bella", services=[("Haircut", 60, 50000), ("Beard trim", 30, 20000)])


@pytest.fixture
def bravo(app, bella):
    with app_ctx(app):
        return make_business("bravo", timezone="America/New_York", currency="USD")


def staff_token(app, biz, name: str = "integration") -> str:
    with app_ctx(app, biz.tenant_id):
        _, secret = create_api_token(name, None)
        db.session.commit()
        return secret


def bookings(app, biz) -> list[tuple[str, str, str | None, str | None]]:
    """(id, status, cancelled_by, cancel_reason) of every booking of ``biz``."""
    with app_ctx(app, biz.tenant_id):
        return [(str(b.id), b.status, b.cancelled_by, b.cancel_reason)
                for b in db.session.scalars(sa.select(Booking).order_by(Booking.created_at))]


def body(biz, **over):
    data = {"service_id": str(biz.service_ids[0]), "staff_id": str(biz.staff_ids[0]), "start": rfc(local(10)),
            "customer": {"name": "Alice Andersen", "email": "alice@example.com", "phone": "+45 20 12 34 56"}}
    data.update(over)
    return {k: v for k, v in data.items() if v is not ...}


def book(client, biz, host: str = BELLA, **over):
    return client.post("/api/v1/bookings", json=body(biz, **over), base_url=host)


def assert_problem(resp, status: int, detail: str | None = None, fields: dict[str, str] | None = None):
    """``resp`` is problem+json with ``status``, ``detail`` (exact when given) and, for 422, ``fields``."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM
    data = json.loads(resp.data)
    assert data["type"] == "about:blank"
    assert data["status"] == status
    assert data["title"] and data["detail"]
    if detail is not None:
        assert data["detail"] == detail
    if fields is not None:
        assert {e["field"]: e["message"] for e in data["errors"]} == fields
    return data


# --- catalogue --------------------------------------------------------------------------------


def test_services_lists_active_services_with_price_and_staff(app, client, bella):
    with app_ctx(app, bella.tenant_id):
        from app.catalog.models import Service
        from app.catalog.service import create_service

        create_service(name="Retired", duration_minutes=10, price_amount=100, currency="DKK",
                       staff_ids=bella.staff_ids, active=False)
        db.session.commit()
        names = {s.id: s.name for s in db.session.scalars(sa.select(Service))}
    resp = client.get("/api/v1/services", base_url=BELLA)
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    staff = [str(s) for s in bella.staff_ids]
    assert resp.get_json() == {"services": [
        {"id": str(bella.service_ids[1]), "name": "Beard trim", "duration_minutes": 30,
         "price": {"amount": 20000, "currency": "DKK"}, "staff_ids": staff},
        {"id": str(bella.service_ids[0]), "name": "Haircut", "duration_minutes": 60,
         "price": {"amount": 50000, "currency": "DKK"}, "staff_ids": staff},
    ]}
    assert "Retired" in names.values()


def test_staff_lists_active_staff_with_their_services(app, client, bella):
    resp = client.get("/api/v1/staff", base_url=BELLA)
    assert resp.status_code == 200
    services = sorted(str(s) for s in bella.service_ids)
    data = resp.get_json()
    assert [{**m, "service_ids": sorted(m["service_ids"])} for m in data["staff"]] == [
        {"id": str(bella.staff_ids[0]), "name": "Staff 1", "service_ids": services},
        {"id": str(bella.staff_ids[1]), "name": "Staff 2", "service_ids": services},
    ]


def test_api_is_not_on_the_apex_and_unknown_routes_are_problems(client, bella):
    for path in ("/api/v1/services", "/api/v1/staff", "/api/v1/openapi.json"):
        assert_problem(client.get(path, base_url=APEX), 404)
    assert_problem(client.post("/api/v1/bookings", json=body(bella), base_url=APEX), 404)
    assert_problem(client.get("/api/v1/nothing-here", base_url=BELLA), 404)
    assert_problem(client.delete("/api/v1/services", base_url=BELLA), 405)


# --- availability -----------------------------------------------------------------------------


def test_availability_for_one_staff_member_in_the_business_zone(client, bella):
    resp = client.get("/api/v1/availability", base_url=BELLA, query_string={
        "service_id": str(bella.service_ids[0]), "staff_id": str(bella.staff_ids[0]),
        "start": DAY.isoformat(), "end": DAY.isoformat()})
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["timezone"] == "Europe/Copenhagen"
    # 09:00 to 16:00 every 15 minutes for a 60-minute service.
    starts = [local(9) + timedelta(minutes=15 * i) for i in range(29)]
    assert data["slots"] == [{"start": rfc(s), "end": rfc(s + timedelta(hours=1)), "staff_id": str(bella.staff_ids[0])}
                             for s in starts]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT09:00:00\+0[12]:00", data["slots"][0]["start"])


def test_availability_in_the_customer_zone_merges_any_staff(client, bella):
    assert book(client, bella).status_code == 201  # staff 0 busy 10:00-11:00
    resp = client.get("/api/v1/availability", base_url=BELLA, query_string={
        "service_id": str(bella.service_ids[0]), "start": DAY.isoformat(), "end": DAY.isoformat(),
        "tz": "America/New_York"})
    data = resp.get_json()
    assert data["timezone"] == "America/New_York"
    by_start = {s["start"]: s["staff_id"] for s in data["slots"]}
    assert len(by_start) == len(data["slots"]) == 29  # one slot per start time, 09:00-16:00 every 15 min
    assert by_start[rfc(local(9).astimezone(NYC))] == str(bella.staff_ids[0])
    assert by_start[rfc(local(10).astimezone(NYC))] == str(bella.staff_ids[1])  # the other one is free
    assert data["slots"][-1]["end"] == rfc(local(17).astimezone(NYC))


def test_availability_leaves_out_booked_times(client, bella):
    assert book(client, bella).status_code == 201
    resp = client.get("/api/v1/availability", base_url=BELLA, query_string={
        "service_id": str(bella.service_ids[0]), "staff_id": str(bella.staff_ids[0]),
        "start": DAY.isoformat(), "end": DAY.isoformat()})
    starts = [s["start"] for s in resp.get_json()["slots"]]
    assert rfc(local(9)) in starts and rfc(local(11)) in starts
    assert rfc(local(10)) not in starts and rfc(local(10, 45)) not in starts and rfc(local(9, 15)) not in starts


@pytest.mark.parametrize(("params", "fields"), [
    ({"service_id": None}, {"service_id": "This field is required."}),
    ({"service_id": "not-a-uuid"}, {"service_id": "Must be a UUID, like 3fa85f64-5717-4562-b3fc-2c963f66afa6."}),
    ({"service_id": str(uuid.uuid4())}, {"service_id": "There is no active service with this id."}),
    ({"staff_id": str(uuid.uuid4())}, {"staff_id": "This staff member does not perform this service."}),
    ({"start": "01/12/2026"}, {"start": "Give a date as YYYY-MM-DD, like 2026-12-01."}),
    ({"end": "2026-02-30"}, {"end": "This date does not exist: day is out of range for month."}),
    ({"start": None, "end": None}, {"start": "This field is required.", "end": "This field is required."}),
    ({"tz": "Mars/Olympus"}, {"tz": "Unknown time zone 'Mars/Olympus'; use an IANA name like Europe/Copenhagen."}),
    ({"end": "PREV"}, {"end": "end is before start."}),
    ({"end": "FAR"}, {"end": "Ask for at most 62 days at a time."}),
    ({"staff": "x"}, {"staff": "This field is not allowed."}),
])
def test_availability_bad_input(client, bella, params, fields):
    query = {"service_id": str(bella.service_ids[0]), "start": DAY.isoformat(), "end": DAY.isoformat()}
    query.update(params)
    if query.get("end") == "PREV":
        query["end"] = (DAY - timedelta(days=1)).isoformat()
    if query.get("end") == "FAR":
        query["end"] = (DAY + timedelta(days=62)).isoformat()
    query = {k: v for k, v in query.items() if v is not None}
    data = assert_problem(client.get("/api/v1/availability", query_string=query, base_url=BELLA), 422, fields=fields)
    for field in fields:
        assert field in data["detail"]


# --- booking ------------------------------------------------------------------------------------


def test_booking_answers_201_with_the_booking_in_the_customer_zone(app, client, bella):
    resp = book(client, bella, timezone="America/New_York", notes="Short please")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.get_json()
    assert set(data) == {"id", "status", "start", "end", "service_id", "staff_id", "price", "items", "manage_url"}
    assert data["status"] == "confirmed"
    assert data["start"] == rfc(local(10).astimezone(NYC))
    assert data["end"] == rfc(local(11).astimezone(NYC))
    assert (data["service_id"], data["staff_id"]) == (str(bella.service_ids[0]), str(bella.staff_ids[0]))
    public = f"http://bella.localhost:{app.config['PUBLIC_PORT']}"  # from configuration, not the request
    assert re.fullmatch(re.escape(public) + r"/manage/[^/?]+", data["manage_url"])
    assert resp.headers["Location"] == f"{public}/api/v1/bookings/{data['id']}"
    with app_ctx(app, bella.tenant_id):
        row = db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(data["id"])))
        assert row.starts_at == local(10) and row.customer_timezone == "America/New_York"
        assert row.notes == "Short please"
        customer = db.session.scalar(sa.select(Customer).where(Customer.id == row.customer_id))
        assert (customer.name, customer.email, customer.phone) == ("Alice Andersen", "alice@example.com", "+4520123456")
    # The manage token in the URL reads the booking back.
    token = data["manage_url"].rsplit("/", 1)[1]
    got = client.get(f"/api/v1/bookings/{data['id']}", headers={"Authorization": f"Bearer {token}"}, base_url=BELLA)
    assert got.status_code == 200
    assert_same_booking(app, got.get_json(), data)


def assert_same_booking(app, got: dict, expected: dict) -> None:
    """Compare two API booking bodies. The manage link is signed afresh on every answer and its
    signature carries the second it was made, so it is compared by the booking it opens."""
    got, expected = dict(got), dict(expected)
    got_link, expected_link = got.pop("manage_url"), expected.pop("manage_url")
    assert got == expected
    assert got_link.rsplit("/", 1)[0] == expected_link.rsplit("/", 1)[0]
    with app.app_context():
        assert read_token("manage-booking", got_link.rsplit("/", 1)[1], max_age_seconds=60)["b"] == got["id"]


def test_booking_with_anyone_picks_a_free_staff_member_and_business_zone(client, bella):
    first = book(client, bella, staff_id=None, customer={"name": "A", "email": "a@example.com", "phone": "20123456"})
    second = book(client, bella, staff_id=..., customer={"name": "B", "email": "b@example.com"})
    assert first.status_code == second.status_code == 201
    assert {first.get_json()["staff_id"], second.get_json()["staff_id"]} == {str(s) for s in bella.staff_ids}
    assert first.get_json()["start"] == rfc(local(10))
    third = book(client, bella, staff_id=None, customer={"name": "C", "email": "c@example.com"})
    assert_problem(third, 409, "This time is no longer available: someone else has just booked it. Please pick another time.")


def test_booking_is_pending_when_the_business_confirms_by_hand(app, client):
    with app_ctx(app):
        biz = make_business("bella", requires_confirmation=True)
    resp = book(client, biz)
    assert resp.status_code == 201 and resp.get_json()["status"] == "pending"


def test_taken_slot_is_409_with_alternatives_and_writes_nothing(app, client, bella):
    assert book(client, bella).status_code == 201
    before = bookings(app, bella)
    resp = book(client, bella, customer={"name": "Bob", "email": "bob@example.com"})
    data = assert_problem(resp, 409,
                          "This time is no longer available: someone else has just booked it. Please pick another time.")
    assert data["alternatives"][0] == rfc(local(11))
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", a) for a in data["alternatives"])
    assert bookings(app, bella) == before


def _name(n: int) -> str:
    return "x" * n


#: The API words a refused start as the booking page does (:func:`app.booking.refusals.refusal_text`).
CLOSED = "This is not a bookable time: it is outside opening hours or between the offered start times. Please pick another time."

BAD_BOOKINGS = [
    # (case, overrides, status, detail, fields)
    ("unknown service", {"service_id": "RANDOM"}, 422, "This service does not exist.",
     {"service_id": "This service does not exist."}),
    ("unknown staff", {"staff_id": "RANDOM"}, 422, "This staff member does not perform this service.",
     {"staff_id": "This staff member does not perform this service."}),
    ("past time", {"start": rfc(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))}, 409,
     "This time has already passed. Please pick another time.", None),
    ("outside working hours", {"start": rfc(local(20))}, 409, CLOSED, None),
    ("beyond the horizon", {"start": rfc(local(10, day=DAY + timedelta(days=90)))}, 409,
     "This time is too far ahead: bookings open at most 60 days ahead. Please pick another time.", None),
    ("off the slot grid", {"start": rfc(local(10, 7))}, 409, CLOSED, None),
    ("start without offset", {"start": local(10).replace(tzinfo=None).isoformat()}, 422, None,
     {"start": "Give a date and time in RFC 3339 with a UTC offset, like 2026-12-01T09:00:00+01:00."}),
    ("malformed start", {"start": "next tuesday"}, 422, None,
     {"start": "Give a date and time in RFC 3339 with a UTC offset, like 2026-12-01T09:00:00+01:00."}),
    ("impossible start", {"start": "2026-02-30T10:00:00+01:00"}, 422, None,
     {"start": "This date and time does not exist: day is out of range for month."}),
    ("unknown time zone", {"timezone": "Europe/Atlantis"}, 422, None,
     {"timezone": "Unknown time zone 'Europe/Atlantis'; use an IANA name like Europe/Copenhagen."}),
    ("oversized name", {"customer": {"name": _name(121), "email": "a@example.com"}}, 422, None,
     {"customer.name": "Use at most 120 characters."}),
    ("oversized email", {"customer": {"name": "A", "email": _name(250) + "@example.com"}}, 422, None,
     {"customer.email": "Use at most 254 characters."}),
    ("oversized notes", {"notes": _name(2001)}, 422, None, {"notes": "Use at most 2000 characters."}),
    ("blank name", {"customer": {"name": "   ", "email": "a@example.com"}}, 422, None,
     {"customer.name": "This field cannot be empty."}),
    ("bad email", {"customer": {"name": "A", "email": "alice.example.com"}}, 422, None,
     {"customer.email": "An email address must have an @-sign."}),
    ("bad phone", {"customer": {"name": "A", "email": "a@example.com", "phone": "+45 1234"}}, 422, None,
     {"customer.phone": "This phone number is not valid. Check the digits and the country code."}),
    ("unreadable phone", {"customer": {"name": "A", "email": "a@example.com", "phone": "call me"}}, 422, None,
     {"customer.phone": "Enter a valid phone number, for example +45 12 34 56 78."}),
    ("missing customer", {"customer": ...}, 422, "The request has invalid fields: customer.",
     {"customer": "This field is required."}),
    ("missing customer email", {"customer": {"name": "A"}}, 422, None, {"customer.email": "This field is required."}),
    ("missing everything", {"service_id": ..., "staff_id": ..., "start": ..., "customer": ...}, 422,
     "The request has invalid fields: service_id, start, customer.",
     {"service_id": "This field is required.", "start": "This field is required.",
      "customer": "This field is required."}),
    ("extra field", {"price": 0}, 422, None, {"price": "This field is not allowed."}),
    ("extra nested field", {"customer": {"name": "A", "email": "a@example.com", "vip": True}}, 422, None,
     {"customer.vip": "This field is not allowed."}),
    ("wrong types", {"service_id": 7, "customer": "Alice"}, 422, None,
     {"service_id": "Must be a UUID, like 3fa85f64-5717-4562-b3fc-2c963f66afa6.", "customer": "Must be a JSON object."}),
]


@pytest.mark.parametrize(("case", "over", "status", "detail", "fields"), BAD_BOOKINGS, ids=[c[0] for c in BAD_BOOKINGS])
def test_bad_booking_input_is_a_precise_problem_and_writes_nothing(app, client, bella, case, over, status, detail,
                                                                   fields):
    over = {k: (str(uuid.uuid4()) if v == "RANDOM" else v) for k, v in over.items()}
    resp = book(client, bella, **over)
    assert_problem(resp, status, detail, fields)
    assert bookings(app, bella) == []
    with app_ctx(app, bella.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


@pytest.mark.parametrize(("raw", "headers", "status", "detail"), [
    (b'{"service_id": ', {"Content-Type": "application/json"}, 400,
     "The request body is not valid JSON: Expecting value at line 1, column 16."),
    (b"[1, 2]", {"Content-Type": "application/json"}, 400, "The request body must be a JSON object, not an array."),
    (b"", {"Content-Type": "application/json"}, 400, "The request body is empty; send a JSON object."),
    (b"\xff\xfe{}", {"Content-Type": "application/json"}, 400, "The request body is not valid UTF-8."),
    (b"service_id=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "Send the body as JSON with 'Content-Type: application/json' (got application/x-www-form-urlencoded)."),
    (b'{"a": "' + b"x" * 70000 + b'"}', {"Content-Type": "application/json"}, 413,
     "The request body is larger than 65536 bytes."),
])
def test_malformed_bodies_are_problems(app, client, bella, raw, headers, status, detail):
    resp = client.post("/api/v1/bookings", data=raw, headers=headers, base_url=BELLA)
    assert_problem(resp, status, detail)
    assert bookings(app, bella) == []


# --- reading and cancelling with bearer tokens ---------------------------------------------------


def _booked(client, biz, host=BELLA, **over):
    resp = book(client, biz, host=host, **over)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.get_json()
    return data, data["manage_url"].rsplit("/", 1)[1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_staff_token_reads_a_booking_and_is_marked_used(app, client, bella):
    data, _ = _booked(client, bella)
    secret = staff_token(app, bella)
    resp = client.get(f"/api/v1/bookings/{data['id']}", headers=_bearer(secret), base_url=BELLA)
    # The same booking; its manage link is signed anew on each read (the signature carries the second).
    assert resp.status_code == 200 and resp.get_json() | {"manage_url": ""} == data | {"manage_url": ""}
    with app_ctx(app, bella.tenant_id):
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None


def test_manage_token_works_as_query_parameter_too(client, bella):
    data, token = _booked(client, bella)
    resp = client.get(f"/api/v1/bookings/{data['id']}?token={token}", base_url=BELLA)
    assert resp.status_code == 200 and resp.get_json()["id"] == data["id"]


def test_manage_token_opens_only_its_own_booking(client, bella):
    first, token = _booked(client, bella)
    second, _ = _booked(client, bella, start=rfc(local(12)))
    other = client.get(f"/api/v1/bookings/{second['id']}", headers=_bearer(token), base_url=BELLA)
    missing = client.get(f"/api/v1/bookings/{uuid.uuid4()}", headers=_bearer(token), base_url=BELLA)
    assert_problem(other, 404, "There is no booking with this id.")
    assert (other.status_code, other.data) == (missing.status_code, missing.data)


@pytest.mark.parametrize(("headers", "detail", "challenge"), [
    ({}, "This needs a staff API token or the booking's manage token, sent as 'Authorization: Bearer <token>'.",
     'Bearer realm="Plaza API"'),
    ({"Authorization": "Basic YTpi"}, "Send the token as 'Authorization: Bearer <token>'.",
     'Bearer realm="Plaza API", error="invalid_request"'),
    ({"Authorization": "Bearer plz_wrong"}, "The token is not valid for this business.",
     'Bearer realm="Plaza API", error="invalid_token"'),
])
def test_missing_or_wrong_tokens_are_401_with_a_bearer_challenge(app, client, bella, headers, detail, challenge):
    data, _ = _booked(client, bella)
    for method, path in (("GET", f"/api/v1/bookings/{data['id']}"), ("POST", f"/api/v1/bookings/{data['id']}/cancel")):
        resp = client.open(path, method=method, headers=headers, base_url=BELLA)
        assert_problem(resp, 401, detail)
        assert resp.headers["WWW-Authenticate"] == challenge
    assert bookings(app, bella)[0][1] == "confirmed"


def test_revoked_staff_token_is_refused(app, client, bella):
    data, _ = _booked(client, bella)
    secret = staff_token(app, bella)
    with app_ctx(app, bella.tenant_id):
        db.session.scalar(sa.select(ApiToken)).revoked_at = datetime.now(UTC)
        db.session.commit()
    assert_problem(client.get(f"/api/v1/bookings/{data['id']}", headers=_bearer(secret), base_url=BELLA), 401,
                   "The token is not valid for this business.")


def test_staff_cancels_with_a_reason(app, client, bella):
    data, _ = _booked(client, bella)
    secret = staff_token(app, bella)
    resp = client.post(f"/api/v1/bookings/{data['id']}/cancel", json={"reason": "Stylist is ill"},
                       headers=_bearer(secret), base_url=BELLA)
    assert resp.status_code == 200
    assert_same_booking(app, resp.get_json(), {**data, "status": "cancelled"})
    assert bookings(app, bella) == [(data["id"], "cancelled", "staff", "Stylist is ill")]
    again = client.post(f"/api/v1/bookings/{data['id']}/cancel", headers=_bearer(secret), base_url=BELLA)
    assert_problem(again, 409, "A cancelled booking cannot be cancelled.")
    # The time is free again.
    assert book(client, bella, customer={"name": "B", "email": "b@example.com"}).status_code == 201


def test_customer_cancels_with_the_manage_token_without_a_body(app, client, bella):
    data, token = _booked(client, bella)
    resp = client.post(f"/api/v1/bookings/{data['id']}/cancel", headers=_bearer(token), base_url=BELLA)
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert bookings(app, bella) == [(data["id"], "cancelled", "customer", None)]


def test_customer_cannot_cancel_after_the_cut_off(app, client):
    with app_ctx(app):
        biz = make_business("bella", cancellation_cutoff_hours=24 * 30)
    data, token = _booked(client, biz)
    resp = client.post(f"/api/v1/bookings/{data['id']}/cancel", json={"reason": "late"}, headers=_bearer(token),
                       base_url=BELLA)
    assert_problem(resp, 409, "Bookings can be cancelled online until 720 hours before the start. "
                              "Please contact the business.")
    assert bookings(app, biz)[0][1] == "confirmed"


@pytest.mark.parametrize(("payload", "fields"), [
    ({"reason": "x" * 501}, {"reason": "Use at most 500 characters."}),
    ({"reason": "ok", "refund": True}, {"refund": "This field is not allowed."}),
    ({"reason": 5}, {"reason": "Must be a string."}),
])
def test_cancel_bad_input_changes_nothing(app, client, bella, payload, fields):
    data, token = _booked(client, bella)
    resp = client.post(f"/api/v1/bookings/{data['id']}/cancel", json=payload, headers=_bearer(token), base_url=BELLA)
    assert_problem(resp, 422, fields=fields)
    assert bookings(app, bella)[0][1] == "confirmed"


# --- other tenants' ids -------------------------------------------------------------------------


def _same(a, b):
    assert (a.status_code, a.mimetype, a.headers.get("WWW-Authenticate"), a.get_json()) == \
           (b.status_code, b.mimetype, b.headers.get("WWW-Authenticate"), b.get_json())
    return a


def test_other_tenants_ids_answer_like_missing_ids_on_every_endpoint(app, client, bella, bravo):
    bravo_booking, bravo_manage = _booked(client, bravo, host="http://bravo.localhost",
                                          start=rfc(local(10, tz=NYC)))
    _booked(client, bella)
    bella_secret = staff_token(app, bella)
    bravo_secret = staff_token(app, bravo)
    before = (bookings(app, bella), bookings(app, bravo))
    missing = str(uuid.uuid4())
    foreign_service, foreign_staff = str(bravo.service_ids[0]), str(bravo.staff_ids[0])

    # Catalogue: nothing of bravo shows on bella's host.
    listing = json.dumps([client.get(p, base_url=BELLA).get_json() for p in ("/api/v1/services", "/api/v1/staff")])
    assert foreign_service not in listing and foreign_staff not in listing

    # Availability with bravo's service or staff.
    def avail(service, staff=None):
        q = {"service_id": service, "start": DAY.isoformat(), "end": DAY.isoformat()}
        if staff:
            q["staff_id"] = staff
        return client.get("/api/v1/availability", query_string=q, base_url=BELLA)

    assert_problem(_same(avail(foreign_service), avail(missing)), 422)
    assert_problem(_same(avail(str(bella.service_ids[0]), foreign_staff), avail(str(bella.service_ids[0]), missing)),
                   422)

    # Booking with bravo's service or staff.
    assert_problem(_same(book(client, bella, service_id=foreign_service), book(client, bella, service_id=missing)), 422)
    assert_problem(_same(book(client, bella, staff_id=foreign_staff), book(client, bella, staff_id=missing)), 422)

    # Reading and cancelling bravo's booking with bella's staff token.
    for method, suffix in (("GET", ""), ("POST", "/cancel")):
        got = client.open(f"/api/v1/bookings/{bravo_booking['id']}{suffix}", method=method, json={"reason": "x"},
                          headers=_bearer(bella_secret), base_url=BELLA)
        ref = client.open(f"/api/v1/bookings/{missing}{suffix}", method=method, json={"reason": "x"},
                          headers=_bearer(bella_secret), base_url=BELLA)
        assert_problem(_same(got, ref), 404, "There is no booking with this id.")
        malformed = client.open(f"/api/v1/bookings/not-an-id{suffix}", method=method, json={"reason": "x"},
                                headers=_bearer(bella_secret), base_url=BELLA)
        _same(malformed, ref)

        # Bravo's manage token and bravo's staff token are no credentials on bella's host.
        for token in (bravo_manage, bravo_secret):
            got = client.open(f"/api/v1/bookings/{bravo_booking['id']}{suffix}", method=method,
                              headers=_bearer(token), base_url=BELLA)
            ref = client.open(f"/api/v1/bookings/{missing}{suffix}", method=method,
                              headers=_bearer("plz_" + "x" * 43), base_url=BELLA)
            assert_problem(_same(got, ref), 401, "The token is not valid for this business.")

    assert (bookings(app, bella), bookings(app, bravo)) == before
    # And bravo's own credentials still work on bravo's host.
    assert client.get(f"/api/v1/bookings/{bravo_booking['id']}", headers=_bearer(bravo_secret),
                      base_url="http://bravo.localhost").status_code == 200


# --- the OpenAPI document -----------------------------------------------------------------------


def _resolve(doc, ref: str):
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_openapi_document_describes_every_route(app, client, bella):
    resp = client.get("/api/v1/openapi.json", base_url=BELLA)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = json.loads(resp.data)
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": f"http://bella.localhost:{app.config['PUBLIC_PORT']}/api/v1"}]
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes[path] = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert set(doc["paths"]) == set(routes)
    for path, methods in routes.items():
        assert set(doc["paths"][path]) == methods, path
        for op in doc["paths"][path].values():
            assert op["responses"]
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == [PROBLEM], (path, status)
    for name in ("BookingCreate", "CustomerIn", "BookingOut", "ServiceList", "StaffList", "Availability",
                 "ValidationProblem", "ConflictProblem", "CancelRequest"):
        assert name in doc["components"]["schemas"]
    assert doc["components"]["schemas"]["BookingCreate"]["additionalProperties"] is False
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "A staff API token of this business, or a booking's manage token."}
    assert doc["paths"]["/bookings/{booking_id}"]["get"]["security"] == [{"bearerAuth": []}, {"manageToken": []}]
    params = {p["name"]: p["required"] for p in doc["paths"]["/availability"]["get"]["parameters"]}
    assert params == {"service_id": True, "service_ids": False, "staff_id": False, "start": True, "end": True,
                      "tz": False}
    # Every reference points at something in the document.
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(doc))
    assert refs
    for ref in refs:
        assert isinstance(_resolve(doc, ref), dict), ref
