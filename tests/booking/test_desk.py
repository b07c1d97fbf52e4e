"""The front desk's booking domain (app.booking.desk) against the real database: staff
bookings with a source and the "Book anyway" override, never over another booking; walk-in
helpers; phone-only customers; edits and moves recorded in the history and told through the
outbox; blocked time honoured by the checks and by availability."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from app.booking.desk import (
    BookingChanges,
    book_by_staff,
    desk_customer,
    edit_booking,
    first_free_staff,
    walk_in_start,
)
from app.booking.errors import InvalidTransition, NeedsOverride, SlotUnavailable, UnknownReference
from app.booking.models import Booking, BookingEvent, Customer
from app.booking.queries import search_customers
from app.booking.service import Actor, transition
from app.catalog.models import Service
from app.catalog.service import add_time_off
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.scheduling.service import find_slots
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.integration

# A Monday well ahead of the real clock (slots and alternatives read it), and "now" before it.
DAY = date(2027, 3, 1)
NOW = datetime(2027, 2, 25, 8, 0, tzinfo=UTC)
STAFF = Actor("staff")


def at(hh: int, mm: int = 0, day: date = DAY) -> datetime:
    """``day`` at hh:mm Copenhagen time (UTC+1 in March before the change) as UTC."""
    return datetime(day.year, day.month, day.day, hh - 1, mm, tzinfo=UTC)


@pytest.fixture
def bella(ctx):
    biz = make_business("bella", lead_time_minutes=120)
    with tenant_scope(biz.tenant_id):
        yield biz


@pytest.fixture
def fixit(ctx):
    """Another business (request it before ``bella``: businesses are made outside a tenant scope)."""
    return make_business("fixit")


@pytest.fixture
def cutz(ctx):
    """A business with two services of different lengths and prices."""
    return make_business("cutz", services=[("Cut", 30, 30000), ("Colour", 90, 90000)])


def _tenant(biz) -> Tenant:
    return db.session.get(Tenant, biz.tenant_id)


def _customer(name="Carla Phone", email=None, phone="+4522334455") -> Customer:
    return desk_customer(name, email, phone)


def _book(biz, start, staff=0, *, source="phone", override=False, notify=True, customer=None, now=NOW) -> Booking:
    return book_by_staff(_tenant(biz), service_id=biz.service_ids[0],
                         staff_id=biz.staff_ids[staff] if staff is not None else None, start=start,
                         customer=customer or _customer(), source=source, actor=STAFF, notify_customer=notify,
                         override=override, now=now)


def _outbox(kind: str) -> list[dict]:
    return [o.payload for o in db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == kind)
                                                  .order_by(OutboxEvent.created_at))]


def test_a_phone_booking_is_confirmed_with_its_source_history_and_outbox_event(bella):
    booking = _book(bella, at(10), customer=_customer("Dora Mail", "dora@example.com", None))
    db.session.commit()
    assert (booking.status, booking.source, booking.price_amount) == ("confirmed", "phone", 50000)
    assert booking.ends_at - booking.starts_at == timedelta(minutes=60)
    [event] = db.session.scalars(sa.select(BookingEvent).where(BookingEvent.booking_id == booking.id))
    assert (event.kind, event.actor, event.reason) == ("created", "staff", "by phone")
    [payload] = _outbox("booking.confirmed")
    assert payload == {"booking_id": str(booking.id), "actor": "staff", "source": "phone", "notify_customer": True}


def test_unticked_notify_and_phone_only_customers_are_not_told(bella):
    _book(bella, at(10), customer=_customer("Dora Mail", "dora@example.com", None), notify=False)
    _book(bella, at(11), notify=True)  # phone only: nobody to write to
    assert [p["notify_customer"] for p in _outbox("booking.confirmed")] == [False, False]


def test_outside_hours_lead_time_and_blocked_time_need_book_anyway(bella):
    add_time_off(bella.staff_ids[0], at(12), at(13), "Team meeting")
    cases = [(at(18), "outside Staff 1's working hours"), (NOW + timedelta(minutes=30), "minutes' notice"),
             (at(12), "blocked this time (Team meeting)")]
    for start, reason in cases:
        with pytest.raises(NeedsOverride) as refused:
            _book(bella, start)
        assert reason in refused.value.message, refused.value.message
        assert "Book anyway" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
    for start, _ in cases:
        assert _book(bella, start, override=True).status == "confirmed"
    events = db.session.scalars(sa.select(BookingEvent.reason)).all()
    assert events == ["by phone (booked anyway)"] * 3


def test_book_anyway_never_overlaps_another_booking(bella):
    first = _book(bella, at(10))
    db.session.commit()
    with pytest.raises(SlotUnavailable) as refused:
        _book(bella, at(10, 30), override=True)
    assert not isinstance(refused.value, NeedsOverride)
    assert refused.value.message == "Staff 1 already has a booking at this time."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    # "Anyone" takes the next free performer; when everyone is booked, nobody.
    second = _book(bella, at(10, 30), staff=None, override=True)
    assert second.staff_id == bella.staff_ids[1] != first.staff_id
    with pytest.raises(SlotUnavailable, match="Everyone who performs this service is booked"):
        _book(bella, at(10, 15), staff=None, override=True)


def test_the_exclusion_constraint_still_refuses_a_concurrent_overlap(bella, services):
    booking = _book(bella, at(10))
    db.session.commit()
    url = services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.ExclusionViolation):
        conn.execute("select set_config('app.platform', 'on', false)")
        conn.execute(
            "insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, ends_at, "
            "blocked_from, blocked_until, price_amount, currency, customer_timezone, notes, source, created_at, "
            "updated_at) select tenant_id, gen_random_uuid(), service_id, staff_id, customer_id, 'confirmed', "
            "starts_at, ends_at, blocked_from, blocked_until, 0, currency, customer_timezone, '', 'walk_in', now(), "
            "now() from booking where id = %s", (booking.id,))


def test_unknown_staff_or_service_and_bad_sources_are_refused(fixit, bella):
    with pytest.raises(UnknownReference):
        book_by_staff(_tenant(bella), service_id=fixit.service_ids[0], staff_id=None, start=at(10),
                      customer=_customer(), source="phone", actor=STAFF, now=NOW)
    with pytest.raises(UnknownReference):
        book_by_staff(_tenant(bella), service_id=bella.service_ids[0], staff_id=fixit.staff_ids[0], start=at(10),
                      customer=_customer(), source="phone", actor=STAFF, now=NOW)
    with pytest.raises(ValueError):
        _book(bella, at(10), source="carrier pigeon")


def test_phone_only_customers_are_found_again_by_number_and_searchable(bella):
    first = _customer("Carla Phone", None, "+4522334455")
    again = _customer("Carla P.", None, "+4522334455")
    assert first.id == again.id and first.email is None
    mailed = _customer("Dora Mail", "Dora@Example.com", None)
    assert mailed.email == "dora@example.com"
    with pytest.raises(ValueError):
        desk_customer("Nobody", None, None)
    assert [c.name for c in search_customers("2233 44")] == ["Carla P."]
    assert [c.name for c in search_customers("dora@")] == ["Dora Mail"]
    assert [c.name for c in search_customers("CARLA")] == ["Carla P."]
    assert search_customers("%") == [] and search_customers("  ") == []


def test_walk_in_starts_now_rounded_down_with_the_first_free_staff_member(bella):
    assert walk_in_start(datetime(2027, 3, 1, 9, 43, 21, tzinfo=UTC)) == datetime(2027, 3, 1, 9, 40, tzinfo=UTC)
    _book(bella, at(10), staff=0)
    tenant = _tenant(bella)
    assert first_free_staff(tenant, at(10, 15), now=NOW) == bella.staff_ids[1]
    assert first_free_staff(tenant, at(11), now=NOW) == bella.staff_ids[0]
    _book(bella, at(10), staff=1)
    assert first_free_staff(tenant, at(10, 15), now=NOW) is None


def test_moving_to_another_staff_member_is_recorded_and_told(bella):
    booking = _book(bella, at(10), customer=_customer("Dora Mail", "dora@example.com", None))
    changed = edit_booking(_tenant(bella), booking, BookingChanges(staff_id=bella.staff_ids[1], start=at(11)),
                           STAFF, now=NOW)
    db.session.commit()
    assert changed == ["staff", "start"]
    assert (booking.staff_id, booking.starts_at, booking.ends_at) == (bella.staff_ids[1], at(11), at(12))
    moved = db.session.scalar(sa.select(BookingEvent).where(BookingEvent.kind == "rescheduled"))
    assert moved.reason == "from Mon 1 Mar 10:00 with Staff 1 to Mon 1 Mar 11:00 with Staff 2"
    [payload] = _outbox("booking.rescheduled")
    assert payload["previous_start"] == at(10).isoformat() and payload["changes"] == ["staff", "start"]
    assert payload["previous_staff_id"] == str(bella.staff_ids[0]) and payload["notify_customer"] is True
    # Its own time is free: moving by a few minutes works.
    assert edit_booking(_tenant(bella), booking, BookingChanges(start=at(11, 15)), STAFF, now=NOW) == ["start"]


def test_a_move_onto_another_booking_or_outside_hours_changes_nothing(bella):
    booking = _book(bella, at(10))
    _book(bella, at(10), staff=1)
    db.session.commit()
    with pytest.raises(SlotUnavailable, match="Staff 2 already has a booking"):
        edit_booking(_tenant(bella), booking, BookingChanges(staff_id=bella.staff_ids[1]), STAFF, override=True,
                     now=NOW)
    with pytest.raises(NeedsOverride, match="outside Staff 1's working hours"):
        edit_booking(_tenant(bella), booking, BookingChanges(start=at(17)), STAFF, now=NOW)
    db.session.rollback()
    db.session.expire_all()
    assert (booking.staff_id, booking.starts_at) == (bella.staff_ids[0], at(10))
    assert _outbox("booking.rescheduled") == []
    assert edit_booking(_tenant(bella), booking, BookingChanges(start=at(17)), STAFF, override=True,
                        now=NOW) == ["start"]


def test_price_notes_and_service_edits_are_recorded(cutz):
    biz = cutz
    with tenant_scope(biz.tenant_id):
        booking = _book(biz, at(10))
        changed = edit_booking(_tenant(biz), booking, BookingChanges(service_id=biz.service_ids[1]), STAFF, now=NOW)
        assert changed == ["service", "price"]
        assert (booking.ends_at - booking.starts_at, booking.price_amount) == (timedelta(minutes=90), 90000)
        changed = edit_booking(_tenant(biz), booking, BookingChanges(price_amount=45050, notes="Bring photo"), STAFF,
                               notify_customer=False, now=NOW)
        assert changed == ["price", "notes"] and booking.notes == "Bring photo"
        reasons = db.session.scalars(sa.select(BookingEvent.reason).where(BookingEvent.kind == "edited")
                                     .order_by(BookingEvent.at)).all()
        assert reasons[0].startswith("service Cut → Colour; price")
        assert "450,50" in reasons[1] and "notes changed" in reasons[1]
        assert [p["notify_customer"] for p in _outbox("booking.rescheduled")] == [False, False]
        assert edit_booking(_tenant(biz), booking, BookingChanges(notes="Bring photo"), STAFF, now=NOW) == []
        with pytest.raises(ValueError):
            edit_booking(_tenant(biz), booking, BookingChanges(price_amount=-1), STAFF, now=NOW)


def test_a_cancelled_booking_cannot_be_moved(bella):
    booking = _book(bella, at(10))
    transition(booking, "cancel", STAFF, "customer called")
    with pytest.raises(InvalidTransition):
        edit_booking(_tenant(bella), booking, BookingChanges(start=at(11)), STAFF, now=NOW)


def test_blocked_time_is_honoured_by_availability(bella):
    tenant = _tenant(bella)
    service = db.session.scalar(sa.select(Service).where(Service.id == bella.service_ids[0]))
    before = {s.start for s in find_slots(tenant, service, staff_id=bella.staff_ids[0], start_date=DAY, end_date=DAY,
                                          now=NOW)}
    add_time_off(bella.staff_ids[0], at(12), at(13), "Lunch")
    db.session.commit()
    after = {s.start for s in find_slots(tenant, service, staff_id=bella.staff_ids[0], start_date=DAY, end_date=DAY,
                                         now=NOW)}
    assert at(12) in before and at(12) not in after and at(11, 30) not in after and at(13) in after
