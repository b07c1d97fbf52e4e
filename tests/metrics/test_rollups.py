"""The metrics rollups: booking events update their day's rows through the outbox, the nightly
recompute gives the same numbers, and the console's and owner's pages read them."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import Actor, CustomerInput, create_booking, transition
from app.extensions import db
from app.identity.service import find_user
from app.jobs.runner import run_on_platform
from app.metrics.models import BusinessDay, StaffDay
from app.metrics.tasks import recompute_recent
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Role, Tenant
from app.tenants.service import add_membership
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import login_admin, login_as
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration

ALICE = CustomerInput("Alice Andersen", "alice@example.com")
BOB = CustomerInput("Bob Brown", "bob@example.com")
CPH = ZoneInfo("Europe/Copenhagen")
APEX = "http://localhost"
BASE = "http://bella.localhost"


@pytest.fixture
def bella(ctx):
    return make_business("bella", services=[("Cut", 60, 30000)])


@pytest.fixture
def day(bella):
    return utcnow().date() + timedelta(days=3)


def _book(biz, day, hour: int, who: CustomerInput, staff: int = 0):
    with tenant_scope(biz.tenant_id):
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                 staff_id=biz.staff_ids[staff], start=datetime.combine(day, time(hour), CPH),
                                 customer=who, customer_timezone="Europe/Copenhagen")
        db.session.commit()
        return booking.id


def _cancel(biz, booking_id):
    with tenant_scope(biz.tenant_id):
        booking = db.session.get(Booking, (biz.tenant_id, booking_id))
        transition(booking, "cancel", Actor("customer"), reason="changed plans")
        db.session.commit()


def _process(app):
    relay_outbox()
    assert run_jobs(app) == []


def _rows(biz):
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        days = {(r.day, r.currency): (r.bookings, r.cancelled, r.no_shows, r.gross_amount, r.customers,
                                      r.new_customers, r.returning_customers)
                for r in db.session.scalars(sa.select(BusinessDay))}
        staff = {(r.day, r.staff_id): (r.bookings, r.booked_minutes, r.available_minutes)
                 for r in db.session.scalars(sa.select(StaffDay)) if r.bookings}
    return days, staff


@pytest.fixture
def booked(app, bella, day, mailbox):
    _book(bella, day, 10, ALICE)
    _book(bella, day, 12, BOB)
    cancelled = _book(bella, day, 14, BOB, staff=1)
    _book(bella, day + timedelta(days=1), 10, ALICE)
    _process(app)
    _cancel(bella, cancelled)
    _process(app)
    return bella


def test_booking_events_keep_their_days_rollups(booked, day):
    days, staff = _rows(booked)
    assert days == {
        (day, "DKK"): (3, 1, 0, 60000, 2, 2, 0),  # Alice and Bob new; Bob's cancelled one not counted
        (day + timedelta(days=1), "DKK"): (1, 0, 0, 30000, 1, 0, 1),  # Alice returns
    }
    assert staff == {(day, booked.staff_ids[0]): (2, 120, 480), (day + timedelta(days=1), booked.staff_ids[0]): (1, 60, 480)}


def test_the_nightly_recompute_gives_the_same_numbers(booked, day):
    before = _rows(booked)
    with tenant_scope(booked.tenant_id):
        db.session.execute(sa.update(BusinessDay).values(bookings=999))  # drifted
        db.session.commit()
    run_on_platform(recompute_recent, day + timedelta(days=1), 5)
    assert _rows(booked) == before


def test_console_dashboard_shows_the_period_and_exports_csv(app, booked, day):
    make_user("root@plaza.test", is_platform_admin=True)
    admin = app.test_client()
    login_admin(admin, "root@plaza.test")
    app.test_client().get("/search", base_url=APEX, query_string={"q": "cut"})  # one search today
    period = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    page = admin.get("/admin/metrics", base_url=APEX, query_string=period)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="kpi-bookings"' in html and "<p class=\"km-value\">4</p>" in html
    assert "900" in html and "DKK" in html  # gross booking value 900.00 DKK
    assert "25.0%" in html  # cancellation rate 1 of 4
    assert 'id="km-daily-table"' in html and "chart.umd.js" in html
    resp = admin.get("/admin/metrics.csv", base_url=APEX, query_string=period)
    assert resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["day"], r["bookings"], r["cancelled"], r["gross_DKK_minor"]) for r in rows] == [
        (day.isoformat(), "3", "1", "60000"), ((day + timedelta(days=1)).isoformat(), "1", "0", "30000")]
    today = admin.get("/admin/metrics.csv", base_url=APEX).get_data(as_text=True).strip().splitlines()
    assert today[-1].split(",")[5] == "1"  # today's searches


def test_the_console_metrics_are_404_for_others_and_the_owner_page_is_theirs(app, booked, day):
    owner = app.test_client()
    login_as(owner, booked.owner_email)
    assert owner.get("/admin/metrics", base_url=APEX).status_code == 404
    assert owner.get("/admin/metrics.csv", base_url=APEX).status_code == 404
    login_as(owner, booked.owner_email, host="bella.localhost")
    period = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    html = owner.get("/dashboard/metrics", base_url=BASE, query_string=period).get_data(as_text=True)
    assert 'id="kpi-returning-customers"' in html and 'id="km-staff-table"' in html
    staff_table = html.split('id="km-staff-table"')[1].split("</table>")[0]
    assert "<td>3 h</td><td>16 h</td><td>18.8%</td>" in staff_table  # 3 h booked of 2 days × 8 h
    csv_text = owner.get("/dashboard/metrics.csv", base_url=BASE, query_string=period).get_data(as_text=True)
    assert csv_text.splitlines()[1].startswith(f"{day.isoformat()},3,1,0,")
    make_user("manager@example.com")
    with tenant_scope(booked.tenant_id):
        add_membership(find_user("manager@example.com"), Role.MANAGER)
        db.session.commit()
    manager = app.test_client()
    login_as(manager, "manager@example.com", host="bella.localhost")
    assert manager.get("/dashboard/metrics", base_url=BASE).status_code == 403


def test_a_moved_booking_leaves_its_old_day_and_counts_on_the_new_one(app, booked, day):
    from app.booking.changes import reschedule_booking

    with tenant_scope(booked.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.status != "cancelled")
                                    .order_by(Booking.starts_at).limit(1))
        reschedule_booking(db.session.get(Tenant, booked.tenant_id), booking,
                           datetime.combine(day + timedelta(days=2), time(10), CPH), Actor("staff"))
        db.session.commit()
    _process(app)
    days, _ = _rows(booked)
    assert days[(day, "DKK")][:4] == (2, 1, 0, 30000)
    assert days[(day + timedelta(days=2), "DKK")][:4] == (1, 0, 0, 30000)


def test_the_console_reads_every_business_summed_per_day_and_city(app, booked, day):
    from app.metrics.models import CityDay, PlatformDay
    from app.metrics.queries import Period, bookings_by_city, platform_kpis
    from app.tenants.context import platform_scope

    other = make_business("cutz", services=[("Cut", 30, 20000)])
    with tenant_scope(other.tenant_id):
        db.session.get(Tenant, other.tenant_id).city = "Aarhus"
        db.session.commit()
    _book(other, day, 11, ALICE)
    _process(app)  # the business's day, then the platform-wide day after it
    with platform_scope("test: read the platform rollups"):
        platform = {(r.day, r.currency): (r.bookings, r.cancelled, r.gross_amount)
                    for r in db.session.scalars(sa.select(PlatformDay))}
        cities = {(r.day, r.city): r.bookings for r in db.session.scalars(sa.select(CityDay))}
    db.session.rollback()
    assert platform == {(day, "DKK"): (4, 1, 80000), (day + timedelta(days=1), "DKK"): (1, 0, 30000)}
    assert cities[(day, "Aarhus")] == 1
    kpis = platform_kpis(Period(day, day + timedelta(days=1)))
    assert (kpis.totals.bookings, kpis.totals.gross) == (5, {"DKK": 110000})
    assert {c["city"]: c["bookings"] for c in bookings_by_city(Period(day, day))}["Aarhus"] == 1


def test_the_console_counts_disputes_refund_requests_and_what_was_refunded(app, booked, day):
    from app.disputes.models import Dispute

    with tenant_scope(booked.tenant_id):
        booking = db.session.scalars(sa.select(Booking)).first()
        now = utcnow()
        db.session.add_all([
            Dispute(kind="dispute", booking_id=booking.id, customer_id=booking.customer_id, reason="poor_quality",
                    status="decided", paid_amount=30000, currency="DKK", decision="partial", refund_amount=12000,
                    decided_at=now, created_at=now, updated_at=now),
            Dispute(kind="refund_request", booking_id=booking.id, customer_id=booking.customer_id, reason="other",
                    status="awaiting_business", paid_amount=30000, currency="DKK", created_at=now, updated_at=now)])
        db.session.commit()
    make_user("root@plaza.test", is_platform_admin=True)
    admin = app.test_client()
    login_admin(admin, "root@plaza.test")
    html = admin.get("/admin/metrics", base_url=APEX).get_data(as_text=True)
    assert 'id="kpi-disputes"' in html and 'id="kpi-refund-requests"' in html and "decided in the period: 1" in html
    assert 'id="kpi-refunded-dkk"' in html and "120" in html
