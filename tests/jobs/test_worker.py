"""The worker: periodic automatic booking transitions, and a real ``python worker.py`` killed
in the middle of sending a reminder, after which a new worker delivers it exactly once."""

from __future__ import annotations

import os
import signal
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from app.booking.models import Booking, BookingEvent
from app.booking.service import Actor, CustomerInput, create_booking, transition
from app.catalog.models import Service
from app.delivery.models import Delivery
from app.extensions import db
from app.jobs.periodic import PERIODIC_JOBS, Intervals, PeriodicScheduler, install_periodic_jobs
from app.jobs.runner import QUEUE_NAME
from app.outbox.relay import relay_outbox
from app.scheduling.service import find_slots
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_business
from tests.helpers import wait_for
from tests.support.conftest_mail import calendar_of, run_jobs, subject_of
from tests.support.workers import kill_worker, start_worker

pytestmark = pytest.mark.integration

ALICE = CustomerInput("Alice Andersen", "alice@example.com")
BOB = CustomerInput("Bob Brown", "bob@example.com")
CPH = ZoneInfo("Europe/Copenhagen")




def book(biz, start: datetime, who: CustomerInput = ALICE, staff: int = 0) -> uuid.UUID:
    """Id of a committed booking of the first service with staff member ``staff``."""
    with tenant_scope(biz.tenant_id):
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                 staff_id=biz.staff_ids[staff], start=start, customer=who,
                                 customer_timezone="Europe/Copenhagen")
        db.session.commit()
        return booking.id


def day_at(days_ahead: int, hour: int) -> datetime:
    """``hour``:00 Copenhagen time ``days_ahead`` days from today, as UTC."""
    day = (utcnow().astimezone(CPH) + timedelta(days=days_ahead)).date()
    return datetime.combine(day, datetime.min.time().replace(hour=hour), tzinfo=CPH).astimezone(UTC)


def status_of(biz, booking_id: uuid.UUID) -> str:
    """The booking's current status, read fresh."""
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        return db.session.scalar(sa.select(Booking.status).where(Booking.id == booking_id))


def test_periodic_transitions_expire_old_requests_and_complete_past_bookings(ctx, mailbox):
    biz = make_business("bella", requires_confirmation=True)
    pending = book(biz, day_at(3, 10))
    past = book(biz, day_at(3, 12), who=BOB, staff=1)
    fresh = book(biz, day_at(4, 10), who=BOB)
    now = utcnow()
    with tenant_scope(biz.tenant_id):
        # The request was made 49 hours ago; the other was confirmed and took place 8 days ago.
        db.session.execute(sa.update(Booking).where(Booking.id == pending).values(created_at=now - timedelta(hours=49)))
        transition(db.session.scalar(sa.select(Booking).where(Booking.id == past)), "confirm", Actor("staff"))
        shift = (day_at(3, 12) - now) + timedelta(days=8)
        db.session.execute(sa.update(Booking).where(Booking.id == past).values(
            starts_at=Booking.starts_at - shift, ends_at=Booking.ends_at - shift,
            blocked_from=Booking.blocked_from - shift, blocked_until=Booking.blocked_until - shift))
        db.session.commit()

    queue = Queue(QUEUE_NAME, connection=Redis.from_url(ctx.config["REDIS_URL"]))
    queue.enqueue("app.booking.tasks.periodic_transitions")
    assert run_jobs(ctx) == []
    assert status_of(biz, pending) == "cancelled"
    assert status_of(biz, past) == "completed"
    assert status_of(biz, fresh) == "pending"
    with tenant_scope(biz.tenant_id):
        reasons = set(db.session.scalars(sa.select(BookingEvent.kind).where(BookingEvent.actor == "system")))
    assert reasons == {"expire", "auto_complete"}

    # The expiry reaches the customer as a cancellation; the stale "request received" does not.
    relay_outbox()
    assert run_jobs(ctx) == []
    [expired] = mailbox.to("alice@example.com")
    assert subject_of(expired).startswith("Booking request expired")
    assert calendar_of(expired)["METHOD"] == "CANCEL"

    # Running it again changes nothing.
    queue.enqueue("app.booking.tasks.periodic_transitions")
    assert run_jobs(ctx) == []
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BookingEvent)
                                 .where(BookingEvent.actor == "system")) == 2


def test_periodic_jobs_are_installed_on_every_start_and_enqueued_by_one_leader(ctx):
    conn = Redis.from_url(ctx.config["REDIS_URL"])
    first, second = PeriodicScheduler(conn, lock_ttl=30), PeriodicScheduler(conn, lock_ttl=30)
    for scheduler in (first, second):
        names = [job.name for job in install_periodic_jobs(scheduler, Intervals(relay=5, sweep=60, transitions=300))]
        assert names == ["plaza-relay-outbox", "plaza-sweep-reminders", "plaza-booking-transitions",
                         "plaza-sweep-payment-holds", "plaza-sweep-stripe-events", "plaza-sweep-marketplace",
                         "plaza-lift-sanctions", "plaza-sweep-broadcasts", "plaza-dispute-deadlines",
                         "plaza-sweep-verification", "plaza-metrics-nightly", "plaza-sweep-leads",
                         "plaza-dispatch-sweep", "plaza-reminder-batches"]
    assert [j.func_name for j in first.enqueue_jobs()] == [
        "app.outbox.relay.periodic_relay", "app.notifications.tasks.periodic_sweep",
        "app.booking.tasks.periodic_transitions", "app.checkout.tasks.periodic_hold_sweep",
        "app.billing.tasks.periodic_webhook_sweep", "app.marketplace.tasks.periodic_sweep",
        "app.admin.tasks.periodic_lift", "app.broadcasts.tasks.periodic_sweep", "app.disputes.tasks.periodic_deadlines",
        "app.verification.tasks.periodic_expiry_sweep", "app.metrics.tasks.periodic_recompute",
        "app.leads.sweeps.periodic_sweep", "app.dispatch.tasks.periodic_sweep",
        "app.notifications.tasks.periodic_reminder_dispatch"]
    assert second.enqueue_jobs() == []  # not the leader
    queue = Queue(QUEUE_NAME, connection=conn)
    assert len(queue.jobs) == len(PERIODIC_JOBS)
    assert run_jobs(ctx) == []


def test_the_leader_lock_passes_to_another_scheduler_when_its_holder_stops(ctx):
    conn = Redis.from_url(ctx.config["REDIS_URL"])
    first, second = PeriodicScheduler(conn, lock_ttl=30), PeriodicScheduler(conn, lock_ttl=30)
    for scheduler in (first, second):
        install_periodic_jobs(scheduler, Intervals(relay=5, sweep=60, transitions=300))
    assert first.is_leader() and first.is_leader()  # taken, then extended
    assert not second.is_leader()
    first.start_in_thread()
    first.stop()  # releases the lock on the way out
    assert not first.lock.owned()
    assert second.is_leader()
    assert len(second.enqueue_jobs()) == len(PERIODIC_JOBS)
    assert second.enqueue_jobs() == []  # nothing due again before its interval
    second.lock.release()
    Queue(QUEUE_NAME, connection=conn).empty()


def _slot_between(biz, earliest: datetime, latest: datetime) -> datetime:
    with tenant_scope(biz.tenant_id):
        tenant = db.session.get(Tenant, biz.tenant_id)
        service = db.session.scalar(sa.select(Service))
        day = earliest.astimezone(CPH).date()
        slots = find_slots(tenant, service, staff_id=biz.staff_ids[0], start_date=day, end_date=day + timedelta(days=1))
        return next(s.start for s in slots if earliest <= s.start < latest)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def _children(pid: int) -> list[int]:
    """Pids of the running processes whose parent is ``pid`` (from ``/proc``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_worker_killed_mid_send_delivers_the_reminder_exactly_once(ctx, mailbox, services, tmp_path):
    biz = make_business("bella")
    now = utcnow()
    start = _slot_between(biz, now + timedelta(hours=3), now + timedelta(hours=22))
    booking_id = book(biz, start)
    with tenant_scope(biz.tenant_id):  # booked two days ago, so the 24-hour reminder is due now
        db.session.execute(sa.update(BookingEvent).where(BookingEvent.booking_id == booking_id)
                           .values(at=now - timedelta(days=2)))
        db.session.execute(sa.update(Booking).where(Booking.id == booking_id)
                           .values(created_at=now - timedelta(days=2)))
        db.session.commit()
    key = f"booking:{booking_id}:reminder24:{start.isoformat()}"

    def delivery() -> tuple[str, int] | None:
        with tenant_scope(biz.tenant_id):
            db.session.expire_all()
            row = db.session.execute(sa.select(Delivery.status, Delivery.attempts)
                                     .where(Delivery.dedup_key == key)).one_or_none()
            db.session.commit()
            return tuple(row) if row else None

    mailbox.hold_subject = "Reminder:"  # the first worker's reminder send waits in SMTP DATA
    log = tmp_path / "worker.log"
    env = {**os.environ, **{k: v for k, v in services.items() if k.isupper()}, "SMTP_URL": mailbox.url,
           "PLAZA_RELAY_INTERVAL": "1", "PLAZA_SWEEP_INTERVAL": "1", "PLAZA_TRANSITIONS_INTERVAL": "60",
           "DELIVERY_LEASE_SECONDS": "3", "RQ_LOG_LEVEL": "INFO", "LOG_LEVEL": "INFO"}
    first = start_worker(env, log)
    second = None
    try:
        # The worker relays the booking, sends the confirmation, and its sweep claims the reminder.
        assert wait_for(mailbox.holding.is_set), log.read_text()[-3000:]
        assert delivery() == ("sending", 1)
        # SIGKILL mid-job, the worker and its children (RQ puts the work horse in its own
        # session, so it is found by parent pid): the claim stays behind with its lease.
        children = _children(first.pid)
        kill_worker(first)
        for pid in children:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert first.returncode is not None
        assert all(wait_for(lambda p=pid: not Path(f"/proc/{p}").exists() or _is_zombie(p), 20) for pid in children)
        mailbox.hold_subject = None
        assert delivery() == ("sending", 1)
        assert mailbox.to("alice@example.com", "Reminder:") == []

        second = start_worker(env, log)
        assert mailbox.wait_until(lambda: len(mailbox.to("alice@example.com", "Reminder:")) >= 1), \
            log.read_text()[-3000:]
        assert wait_for(lambda: delivery() is not None and delivery()[0] == "sent")
        assert mailbox.wait_until(lambda: len(mailbox.to("alice@example.com", "Booking confirmed")) >= 1)
        kill_worker(second, signal.SIGTERM)  # a warm shutdown finishes what it is doing
    finally:
        kill_worker(first)
        if second is not None:
            kill_worker(second)

    assert len(mailbox.to("alice@example.com", "Reminder:")) == 1
    assert len(mailbox.to("alice@example.com", "Booking confirmed")) == 1
    assert delivery() == ("sent", 2), log.read_text()[-6000:]  # claimed by the killed worker, taken over by the new one
    assert status_of(biz, booking_id) == "confirmed"
