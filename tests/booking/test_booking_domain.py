"""Booking domain against the real database: creation, the exclusion constraint,
the transition table, reschedule, automatic transitions and the availability cache."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from app.booking.errors import CutoffPassed, InvalidTransition, SlotUnavailable, UnknownReference
from app.booking.models import ACTIVE_STATUSES, Booking, BookingEvent
from app.booking.service import (
    SYSTEM,
    TRANSITIONS,
    Actor,
    CustomerInput,
    cancel_by_customer,
    create_booking,
    reschedule_booking,
    run_automatic_transitions,
    transition,
)
from app.catalog.models import Service
from app.catalog.service import add_time_off
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.scheduling.busy import SLOT_HOLDING_STATUSES
from app.scheduling.service import find_slots
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business
from tests.helpers import tenant_settings

pytestmark = pytest.mark.integration

ALICE = CustomerInput("Alice Andersen", "alice@example.com", "+4512345678")
BOB = CustomerInput("Bob Brown", "bob@example.com")
# A Monday far enough ahead that lead time and horizon never interfere, and "now" before it.
DAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(hh: int, mm: int = 0) -> datetime:
    """DAY at hh:mm Copenhagen time (UTC+1 in December) as UTC."""
    return datetime(DAY.year, DAY.month, DAY.day, hh - 1, mm, tzinfo=UTC)


def _tenant(biz) -> Tenant:
    return db.session.get(Tenant, biz.tenant_id)


def _book(biz, start, staff=0, who=ALICE, **kw) -> Booking:
    return create_booking(_tenant(biz), service_id=biz.service_ids[0],
                          staff_id=biz.staff_ids[staff] if staff is not None else None,
                          start=start, customer=who, customer_timezone="Europe/Copenhagen", now=NOW, **kw)


def test_booking_confirmed_with_event_and_outbox(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        db.session.commit()
        assert b.status == "confirmed"
        assert b.ends_at - b.starts_at == timedelta(minutes=60)
        assert [e.kind for e in db.session.scalars(sa.select(BookingEvent))] == ["created"]
        assert [o.kind for o in db.session.scalars(sa.select(OutboxEvent))] == ["booking.confirmed"]


def test_pending_when_business_confirms_by_hand(ctx):
    biz = make_business("bella", requires_confirmation=True)
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        assert b.status == "pending"
        transition(b, "confirm", Actor("staff"))
        assert b.status == "confirmed"


def test_same_slot_twice_is_refused_with_alternatives(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        _book(biz, at(10))
        db.session.commit()
        with pytest.raises(SlotUnavailable, match="just taken") as err:
            _book(biz, at(10), who=BOB)
        assert err.value.alternatives and all(a >= at(10) for a in err.value.alternatives)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_anyone_falls_back_to_the_other_staff_member(ctx):
    biz = make_business("bella", staff=2)
    with tenant_scope(biz.tenant_id):
        first = _book(biz, at(10), staff=None)
        second = _book(biz, at(10), staff=None, who=BOB)
        assert {first.staff_id, second.staff_id} == set(biz.staff_ids)
        with pytest.raises(SlotUnavailable):
            _book(biz, at(10), staff=None, who=CustomerInput("Cy", "cy@example.com"))


def test_exclusion_constraint_rejects_overlap_written_directly(ctx, services):
    """Even bypassing the Python checks, PostgreSQL refuses overlapping active bookings."""
    biz = make_business("bella", buffer_after=15)
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        db.session.commit()
        row = (str(biz.tenant_id), str(b.service_id), str(b.staff_id), str(b.customer_id))
    url = services["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.ExclusionViolation):
        with conn.transaction():
            conn.execute(*tenant_settings(row[0]))
            # Starts inside the 15-minute buffer after the first booking.
            conn.execute(
                "insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, ends_at, "
                "blocked_from, blocked_until, price_amount, currency, customer_timezone, notes, created_at, updated_at) "
                "values (%s, gen_random_uuid(), %s, %s, %s, 'confirmed', %s, %s, %s, %s, 0, 'DKK', 'UTC', '', now(), now())",
                [*row, at(11, 10), at(12, 10), at(11, 10), at(12, 10)])


def test_buffer_blocks_the_next_slot(ctx):
    biz = make_business("bella", buffer_after=15)
    with tenant_scope(biz.tenant_id):
        _book(biz, at(10))
        with pytest.raises(SlotUnavailable):
            _book(biz, at(11), who=BOB)
        assert _book(biz, at(11, 15), who=BOB).status == "confirmed"


@pytest.mark.parametrize("start, message", [
    (at(7), "not available"),                                  # before opening
    (at(16, 30), "not available"),                             # would end after 17:00
    (NOW - timedelta(hours=1), "past"),
    (NOW + timedelta(days=400), "days ahead"),
])
def test_bad_starts_are_refused(ctx, start, message):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), pytest.raises(SlotUnavailable, match=message):
        _book(biz, start)


def test_lead_time_is_enforced(ctx):
    biz = make_business("bella", lead_time_minutes=24 * 60)
    with tenant_scope(biz.tenant_id), pytest.raises(SlotUnavailable, match="notice"):
        create_booking(_tenant(biz), service_id=biz.service_ids[0], staff_id=None, start=at(10),
                       customer=ALICE, customer_timezone="UTC", now=at(10) - timedelta(hours=23))


def test_unknown_and_foreign_service_are_unknown_references(ctx):
    a = make_business("bella")
    b = make_business("fixit", timezone="America/New_York", currency="USD")
    with tenant_scope(a.tenant_id), pytest.raises(UnknownReference):
        create_booking(_tenant(a), service_id=b.service_ids[0], staff_id=None, start=at(10), customer=ALICE,
                       customer_timezone="UTC", now=NOW)
    with tenant_scope(a.tenant_id), pytest.raises(UnknownReference):
        create_booking(_tenant(a), service_id=a.service_ids[0], staff_id=b.staff_ids[0], start=at(10),
                       customer=ALICE, customer_timezone="UTC", now=NOW)


def test_transition_table_allows_only_listed_moves(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        with pytest.raises(InvalidTransition):
            transition(b, "confirm", Actor("staff"))
        with pytest.raises(InvalidTransition, match="once it has started"):
            transition(b, "no_show", Actor("staff"), "did not come", now=NOW)
        transition(b, "no_show", Actor("staff"), "did not come", now=at(10, 20))
        for action in ("cancel", "complete", "confirm", "no_show"):
            with pytest.raises(InvalidTransition):
                transition(b, action, Actor("staff"), now=at(12))
        events = db.session.scalars(sa.select(BookingEvent).order_by(BookingEvent.at)).all()
        assert [(e.kind, e.from_status, e.to_status, e.actor) for e in events] == [
            ("created", None, "confirmed", "customer"), ("no_show", "confirmed", "no_show", "staff")]
    assert all(to.value in {"pending", "confirmed", "cancelled", "completed", "no_show"} for to in TRANSITIONS.values())


def test_cancelled_slot_is_free_again(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        transition(b, "cancel", Actor("staff"), "staff sick")
        assert b.cancel_reason == "staff sick" and b.cancelled_by == "staff"
        assert _book(biz, at(10), who=BOB).status == "confirmed"


def test_customer_cut_off(ctx):
    biz = make_business("bella", cancellation_cutoff_hours=24)
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        with pytest.raises(CutoffPassed):
            cancel_by_customer(_tenant(biz), b, now=at(10) - timedelta(hours=23))
        with pytest.raises(CutoffPassed):
            reschedule_booking(_tenant(biz), b, at(14), Actor("customer"), now=at(10) - timedelta(hours=2))
        cancel_by_customer(_tenant(biz), b, "plans changed", now=at(10) - timedelta(hours=25))
        assert b.status == "cancelled"


def test_reschedule_moves_and_frees_the_old_time(ctx):
    biz = make_business("bella", staff=1)
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        reschedule_booking(_tenant(biz), b, at(10, 30), Actor("customer"), now=NOW)  # overlaps its own old time
        assert b.starts_at == at(10, 30)
        db.session.commit()
        assert _book(biz, at(9), who=BOB).starts_at == at(9)
        kinds = [o.kind for o in db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.created_at))]
        assert "booking.rescheduled" in kinds


def test_reschedule_onto_a_taken_time_is_refused_and_keeps_the_booking(ctx):
    biz = make_business("bella", staff=1)
    with tenant_scope(biz.tenant_id):
        b = _book(biz, at(10))
        _book(biz, at(14), who=BOB)
        db.session.commit()
        with pytest.raises(SlotUnavailable):
            reschedule_booking(_tenant(biz), b, at(14), Actor("customer"), now=NOW)
        db.session.rollback()
        assert db.session.get(Booking, (biz.tenant_id, b.id)).starts_at == at(10)


def test_automatic_transitions(ctx):
    biz = make_business("bella", requires_confirmation=True)
    with tenant_scope(biz.tenant_id):
        pending = _book(biz, at(10))
        pending.created_at = NOW - timedelta(hours=49)
        db.session.commit()
    counts = run_automatic_transitions(now=NOW)
    db.session.commit()
    assert counts == {"expired": 1, "completed": 0, "released": 0}
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(Booking.status)) == "cancelled"
        transition_actor = db.session.scalar(sa.select(BookingEvent.actor).where(BookingEvent.kind == "expire"))
        assert transition_actor == SYSTEM.kind
        # A confirmed booking 7 days past its end is completed.
        tenant = _tenant(biz)
        tenant.requires_confirmation = False
        ends_at = _book(biz, at(12), who=BOB).ends_at
        db.session.commit()
    counts = run_automatic_transitions(now=ends_at + timedelta(days=7, minutes=1))
    db.session.commit()
    assert counts["completed"] == 1


def test_availability_cache_is_invalidated_by_bookings_and_time_off(ctx):
    biz = make_business("bella", staff=1)
    with tenant_scope(biz.tenant_id):
        tenant, service = _tenant(biz), db.session.scalar(sa.select(Service))

        def starts():
            return [s.start for s in find_slots(tenant, service, staff_id=None, start_date=DAY, end_date=DAY, now=NOW)]

        before = starts()
        assert at(10) in before and len(before) == len(starts())  # second call served from cache
        _book(biz, at(10))
        db.session.commit()
        assert at(10) not in starts()
        add_time_off(biz.staff_ids[0], at(13), at(15), "dentist")
        db.session.commit()
        after = starts()
        assert at(13) not in after and at(14) not in after and at(15) in after


@pytest.mark.parametrize("tz, day", [
    ("Europe/Copenhagen", date(2026, 3, 29)), ("Europe/Copenhagen", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)), ("America/New_York", date(2026, 11, 1)),
])
def test_dst_days_open_at_nine_local_from_the_database(ctx, tz, day):
    from app.timeutil import zone

    biz = make_business("dst", timezone=tz, staff=1, horizon_days=400)
    with tenant_scope(biz.tenant_id):
        tenant, service = _tenant(biz), db.session.scalar(sa.select(Service))
        slots = find_slots(tenant, service, staff_id=None, start_date=day, end_date=day,
                           now=datetime(2026, 1, 1, tzinfo=UTC))
        local = [s.start.astimezone(zone(tz)).strftime("%H:%M") for s in slots]
        assert local[0] == "09:00" and local[-1] == "16:00"
        assert len(local) == len(set(local)) == (16 - 9) * 60 // 15 + 1


def test_availability_document_is_sliced_by_now_from_the_cache(ctx):
    import json

    from app.scheduling.service import availability_json

    biz = make_business("bella", staff=1)
    with tenant_scope(biz.tenant_id):
        tenant, service = _tenant(biz), db.session.scalar(sa.select(Service))

        def starts(now):
            body = availability_json(tenant, service, staff_id=None, start_date=DAY, end_date=DAY,
                                     tz_name="America/New_York", now=now)
            return [s["start"] for s in json.loads(body)["slots"]]

        full = starts(NOW)
        assert full[0] == "2026-12-07T03:00:00-05:00" and full[-1] == "2026-12-07T10:00:00-05:00"
        # Same cache entry, later "now": the slots before now are gone, nothing else changes.
        later = starts(at(12))
        assert later == [s for s in full if s >= "2026-12-07T06:00:00-05:00"]
        _book(biz, at(14))
        db.session.commit()
        assert "2026-12-07T08:00:00-05:00" not in starts(NOW)


def test_slot_holding_statuses_agree_with_the_exclusion_constraint():
    """Scheduling's own read of busy time (``app.scheduling.busy``), booking's ``ACTIVE_STATUSES``
    and the database's ``booking_no_overlap`` constraint name the same statuses."""
    assert {s.value for s in ACTIVE_STATUSES} == set(SLOT_HOLDING_STATUSES)
    constraint = next(c for c in Booking.__table__.constraints if c.name == "booking_no_overlap")
    listed = str(constraint.where).split("in (", 1)[1].rstrip(")")
    assert {s.strip(" '") for s in listed.split(",")} == set(SLOT_HOLDING_STATUSES)
