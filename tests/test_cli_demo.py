"""``flask seed-demo``: demo businesses with a lived-in calendar around today, filled again on
each run without duplicating anything."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, BookingEvent, Customer
from app.catalog.models import StaffMember
from app.chat.models import Conversation, Message
from app.cli import seed_demo
from app.customers.models import CustomerNote, CustomerTag
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone

pytestmark = pytest.mark.integration


def _tenant(slug: str) -> Tenant:
    return db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))


def _rows(slug: str, model) -> list:
    tenant = _tenant(slug)
    with tenant_scope(tenant.id):
        return list(db.session.scalars(sa.select(model)))


def _later(now, tz):
    """``now`` moved on by the fewest days (1–3) that bring a weekday (Bella works) into the
    two-week window, and that new last day."""
    today = now.astimezone(tz).date()
    for k in (1, 2, 3):
        if (today + timedelta(days=14 + k)).weekday() < 5:
            return now + timedelta(days=k), today + timedelta(days=14 + k)
    raise AssertionError("unreachable")


def test_demo_businesses_get_bookings_around_today_for_every_staff_member(ctx):
    now = utcnow()
    created = seed_demo(now)
    db.session.commit()
    assert "bella" in created and "fixit" in created
    # Bella's regular has an account and agreed to Plaza's own news: a broadcast to customers in
    # Bella's city reaches her.
    from app.broadcasts.audience import make_audience, recipient_ids
    from app.identity.service import find_user

    freja = find_user("freja.holm@demo.plaza.test")
    assert freja.id in recipient_ids(make_audience("customers", city=_tenant("bella").city))
    for slug in ("bella", "fixit"):
        tenant = _tenant(slug)
        assert tenant.address and tenant.phone and tenant.country
        tz = zone(tenant.timezone)
        today = now.astimezone(tz).date()
        bookings = _rows(slug, Booking)
        for staff in _rows(slug, StaffMember):
            days = {b.starts_at.astimezone(tz).date() for b in bookings if b.staff_id == staff.id}
            assert any(d < today for d in days) and any(today < d <= today + timedelta(days=14) for d in days)
            assert all(today - timedelta(days=14) <= d <= today + timedelta(days=14) for d in days)
        statuses = Counter(b.status for b in bookings)
        assert {"confirmed", "pending", "completed", "no_show", "cancelled"} <= set(statuses), statuses
        assert all(b.status in ("completed", "no_show", "cancelled") for b in bookings if b.ends_at <= now)
        assert all(b.status in ("confirmed", "pending", "cancelled") for b in bookings if b.ends_at > now)
        # Regular customers with histories, each booking with its history of events.
        customers = _rows(slug, Customer)
        per_customer = Counter(b.customer_id for b in bookings)
        assert len(customers) <= 10 and max(per_customer.values()) >= 5
        events = Counter(e.booking_id for e in _rows(slug, BookingEvent))
        assert all(events[b.id] >= 1 for b in bookings)
        assert all(events[b.id] == 2 for b in bookings if b.status in ("completed", "no_show"))
        # The regulars carry staff notes and tags, once.
        notes, tags = _rows(slug, CustomerNote), _rows(slug, CustomerTag)
        assert len({n.customer_id for n in notes}) == 4 and {"regular", "VIP"} <= {t.tag for t in tags}
        # A few chat threads on upcoming bookings.
        assert _rows(slug, Conversation) and _rows(slug, Message)
        # Active bookings of one staff member never overlap (the exclusion constraint holds).
        active = sorted((b for b in bookings if b.status in ("pending", "confirmed")),
                        key=lambda b: (b.staff_id, b.blocked_from))
        for a, b in zip(active, active[1:], strict=False):
            assert a.staff_id != b.staff_id or a.blocked_until <= b.blocked_from


def test_running_again_adds_nothing_and_a_day_later_only_the_new_day(ctx):
    now = utcnow()
    seed_demo(now)
    db.session.commit()
    before = {slug: {b.id: (b.status, b.starts_at) for b in _rows(slug, Booking)} for slug in ("bella", "fixit")}
    conversations = len(_rows("bella", Conversation))
    assert seed_demo(now) == []
    db.session.commit()
    assert {slug: {b.id: (b.status, b.starts_at) for b in _rows(slug, Booking)} for slug in before} == before
    assert len(_rows("bella", Conversation)) == conversations
    customers = len(_rows("bella", Customer))
    notes = len(_rows("bella", CustomerNote))

    tz = zone(_tenant("bella").timezone)
    later, new_last_day = _later(now, tz)
    old_last_day = now.astimezone(tz).date() + timedelta(days=14)
    added = seed_demo(later)
    db.session.commit()
    assert any(line.startswith("bella: ") for line in added)
    after = {b.id: b for b in _rows("bella", Booking)}
    new = [b for i, b in after.items() if i not in before["bella"]]
    assert new and all(old_last_day < b.starts_at.astimezone(tz).date() <= new_last_day for b in new)
    assert any(b.starts_at.astimezone(tz).date() == new_last_day for b in new)
    assert len(_rows("bella", CustomerNote)) == notes  # notes are not added again
    # Earlier bookings are left exactly as they were; the regulars are the same people.
    assert all((after[i].status, after[i].starts_at) == v for i, v in before["bella"].items())
    assert len(_rows("bella", Customer)) == customers


def test_a_day_with_a_real_booking_is_left_alone(ctx):
    now = utcnow()
    seed_demo(now)
    db.session.commit()
    tenant = _tenant("bella")
    tz = zone(tenant.timezone)
    later, target = _later(now, tz)
    with tenant_scope(tenant.id):
        staff = db.session.scalar(sa.select(StaffMember).order_by(StaffMember.position))
        mine = [b for b in db.session.scalars(sa.select(Booking).where(Booking.staff_id == staff.id))
                if b.starts_at.astimezone(tz).date() == target]
        assert mine == []  # beyond the two weeks: empty
    seed_demo(later)
    db.session.commit()
    with tenant_scope(tenant.id):
        filled = [b for b in db.session.scalars(sa.select(Booking).where(Booking.staff_id == staff.id))
                  if b.starts_at.astimezone(tz).date() == target]
    assert filled
    # Deleting all but one booking of that day: the next run does not top it up.
    with tenant_scope(tenant.id):
        for b in filled[1:]:
            db.session.execute(sa.delete(BookingEvent).where(BookingEvent.booking_id == b.id))
            db.session.execute(sa.delete(Conversation).where(Conversation.subject_id == b.id))
            db.session.delete(b)
        db.session.commit()
    seed_demo(later)
    db.session.commit()
    with tenant_scope(tenant.id):
        again = [b for b in db.session.scalars(sa.select(Booking).where(Booking.staff_id == staff.id))
                 if b.starts_at.astimezone(tz).date() == target]
    assert [b.id for b in again] == [filled[0].id]


def test_the_command_commits_and_reports_what_it_added(app, ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("demo data: created admin@plaza.test, freja.holm@demo.plaza.test, bella, bella: ")
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and second.output == "demo data: already present\n"
    db.session.rollback()
    assert len(_rows("bella", Booking)) > 50
    # The console's KPIs show the demo's days at once (the platform-wide rollups are built).
    from app.metrics.models import PlatformDay
    from app.tenants.context import platform_scope

    with platform_scope("test: the demo's KPIs"):
        assert sum(r.bookings for r in db.session.scalars(sa.select(PlatformDay))) > 50


def test_bellas_demo_texts_read_in_danish_for_a_danish_customer(app, ctx):
    """The demo business wrote its description and services in Danish too: a Danish browser sees
    Danish service names on bella's storefront, an English one the English; a second run keeps them."""
    seed_demo(utcnow())
    db.session.commit()
    client = app.test_client()
    danish = client.get("/", base_url="http://bella.localhost",
                        headers={"Accept-Language": "da-DK,da;q=0.9"}).get_data(as_text=True)
    assert "Dameklip" in danish and "Skægtrim" in danish and "Et afslappet studie" in danish
    assert "Women&#39;s haircut" not in danish and "Women's haircut" not in danish
    english = client.get("/", base_url="http://bella.localhost",
                         headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert "Beard trim" in english and "Dameklip" not in english
    assert not any("Danish" in line for line in seed_demo(utcnow()))
