"""Booking emails end to end: outbox -> relay -> RQ job -> real SMTP server.

Jobs run in-process with rq's SimpleWorker against the session's Redis; mail is received by
an aiosmtpd server started per test.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from app.booking.models import Booking, BookingEvent
from app.booking.service import (
    Actor,
    CustomerInput,
    booking_from_manage_token,
    cancel_by_customer,
    create_booking,
    reschedule_booking,
    transition,
)
from app.catalog.models import StaffMember
from app.delivery.models import Delivery
from app.devservices import free_port
from app.extensions import db
from app.formatting import format_local
from app.jobs.runner import QUEUE_NAME
from app.notifications.service import reminder_candidates
from app.notifications.tasks import enqueue_account_email, send_booking_reminder, sweep_due_reminders
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_business
from tests.support.conftest_mail import calendar_of, html_of, run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

ALICE = CustomerInput("Alice Andersen", "alice@example.com", "+4512345678")
CPH = ZoneInfo("Europe/Copenhagen")
NYC = "America/New_York"




def english(dt: datetime, tz: str, fmt: str) -> str:
    """``dt`` in ``tz`` as an English (``en``) reader's email shows it (:func:`app.formatting.format_local`)."""
    with force_locale("en"):
        return format_local(dt, tz, fmt)


def day_at(days_ahead: int, hour: int) -> datetime:
    """``hour``:00 Copenhagen time ``days_ahead`` days from today, as UTC."""
    day = (utcnow().astimezone(CPH) + timedelta(days=days_ahead)).date()
    return datetime.combine(day, time(hour), tzinfo=CPH).astimezone(UTC)


def business(**rules):
    """Bella Hair Studio (Copenhagen), two staff working 09-17 daily, one 60 min haircut."""
    biz = make_business("bella", **rules)
    with tenant_scope(biz.tenant_id):  # the business renames itself (its own row of tenant)
        db.session.get(Tenant, biz.tenant_id).name = "Bella Hair Studio"
        db.session.commit()
    return biz


def book(biz, start: datetime, who: CustomerInput = ALICE) -> uuid.UUID:
    """Id of a committed booking for the first service and staff, the customer in New York."""
    with tenant_scope(biz.tenant_id):
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                 staff_id=biz.staff_ids[0], start=start, customer=who, customer_timezone=NYC)
        db.session.commit()
        return booking.id


def deliver_all(app) -> None:
    """Relay the outbox and run the resulting jobs; no job may fail."""
    relay_outbox()
    assert run_jobs(app) == []


def sequence(msg) -> int:
    """The SEQUENCE of the message's calendar event."""
    return int(calendar_of(msg).walk("VEVENT")[0]["SEQUENCE"])


def test_confirmation_email_with_text_html_ics_and_manage_link(ctx, mailbox):
    biz = business()
    start = day_at(3, 10)
    booking_id = book(biz, start)

    assert relay_outbox() == 1
    assert relay_outbox() == 0  # relayed once
    assert run_jobs(ctx) == []

    [msg] = mailbox.to("alice@example.com")
    assert subject_of(msg).startswith("Booking confirmed: Haircut on ")
    sender = msg["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Bella Hair Studio", ctx.config["MAIL_FROM"])
    text, html = text_of(msg), html_of(msg)

    # Times in the customer's zone (New York), with the business's zone mentioned.
    for body in (text, html):  # a booking without a language: the business's default, English
        assert english(start, NYC, "%A %d %B %Y, %H:%M") in body
        assert NYC in body and "Europe/Copenhagen" in body
        assert english(start, "Europe/Copenhagen", "%H:%M") in body
    assert "Haircut" in text and "Staff 1" in text and "Bella Hair Studio" in text

    # The manage link is absolute, on the tenant host, and opens this booking.
    base = f"http://bella.localhost:{ctx.config['PUBLIC_PORT']}/manage/"
    match = re.search(re.escape(base) + r"(\S+)", text)
    assert match, text
    assert f'href="{base}{match.group(1)}"' in html
    with tenant_scope(biz.tenant_id):
        assert booking_from_manage_token(match.group(1)).id == booking_id

    cal = calendar_of(msg)
    assert cal["METHOD"] == "REQUEST" and cal["VERSION"] == "2.0" and "Plaza" in str(cal["PRODID"])
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"{booking_id}@plaza"
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(minutes=60)
    assert event["STATUS"] == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    assert str(event["SUMMARY"]) == "Haircut @ Bella Hair Studio"
    assert event.decoded("DTSTAMP").tzinfo is not None

    with tenant_scope(biz.tenant_id):
        [delivery] = db.session.scalars(sa.select(Delivery).where(Delivery.notification_id.is_(None))).all()
        assert (delivery.status, delivery.attempts, delivery.recipient) == ("sent", 1, msg["To"])


def test_same_job_twice_and_a_second_relay_send_once(ctx, mailbox):
    biz = business()
    book(biz, day_at(3, 11))
    relay_outbox()
    conn = Redis.from_url(ctx.config["REDIS_URL"])
    queue = Queue(QUEUE_NAME, connection=conn)
    [email_job] = [j for j in queue.jobs if j.func_name.endswith("send_booking_email")]
    args = email_job.args
    assert run_jobs(ctx) == []
    # The same job again (a redelivery), and the same event relayed again after a crash.
    queue.enqueue(email_job.func_name, *args)
    with tenant_scope(biz.tenant_id):
        db.session.execute(sa.text("update outbox_event set relayed_at = null"))
        db.session.commit()
    assert relay_outbox() == 1
    assert run_jobs(ctx) == []
    assert len(mailbox.to("alice@example.com")) == 1
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)
                                 .where(Delivery.recipient.contains("alice@example.com"))) == 1


def test_reschedule_sends_change_with_higher_sequence_and_cancel_sends_method_cancel(ctx, mailbox):
    biz = business()
    start, new_start = day_at(3, 10), day_at(4, 14)
    booking_id = book(biz, start)
    deliver_all(ctx)
    [confirmation] = mailbox.to("alice@example.com", "Booking confirmed")

    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        reschedule_booking(db.session.get(Tenant, biz.tenant_id), b, new_start, Actor("customer"))
        db.session.commit()
    deliver_all(ctx)
    [change] = mailbox.to("alice@example.com", "Booking changed")
    event = calendar_of(change).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == new_start
    assert str(event["UID"]) == f"{booking_id}@plaza"
    assert sequence(change) == sequence(confirmation) + 1
    text = text_of(change)
    assert english(new_start, NYC, "%A %d %B %Y, %H:%M") in text
    assert "Previously: " + english(start, NYC, "%A %d %B %Y, %H:%M") in text

    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        cancel_by_customer(db.session.get(Tenant, biz.tenant_id), b, "Feeling unwell")
        db.session.commit()
    deliver_all(ctx)
    [cancel] = mailbox.to("alice@example.com", "Booking cancelled")
    cal = calendar_of(cancel)
    event = cal.walk("VEVENT")[0]
    assert cal["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == f"{booking_id}@plaza"
    assert sequence(cancel) > sequence(change)
    assert "Feeling unwell" in text_of(cancel)
    assert "/manage/" not in text_of(cancel)
    assert len(mailbox.to("alice@example.com")) == 3


def test_request_then_staff_confirmation_with_staff_notice(ctx, mailbox):
    biz = business(requires_confirmation=True)
    with tenant_scope(biz.tenant_id):
        db.session.get(StaffMember, (biz.tenant_id, biz.staff_ids[0])).email = "staff1@bella.test"
        db.session.commit()
    booking_id = book(biz, day_at(5, 9))
    deliver_all(ctx)
    [request] = mailbox.to("alice@example.com")
    assert subject_of(request).startswith("Booking request received")
    assert calendar_of(request).walk("VEVENT")[0]["STATUS"] == "TENTATIVE"
    [notice] = mailbox.to("staff1@bella.test")
    assert subject_of(notice).startswith("New booking request: Haircut with Alice Andersen")
    assert "alice@example.com" in text_of(notice) and "/dashboard/" in text_of(notice)

    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        transition(b, "confirm", Actor("staff"))
        db.session.commit()
    deliver_all(ctx)
    [confirmed] = mailbox.to("alice@example.com", "Booking confirmed")
    event = calendar_of(confirmed).walk("VEVENT")[0]
    assert event["STATUS"] == "CONFIRMED" and int(event["SEQUENCE"]) == 1
    assert len(mailbox.to("staff1@bella.test")) == 1  # staff are not told about their own confirmation


def test_declined_request_gets_a_cancellation(ctx, mailbox):
    biz = business(requires_confirmation=True)
    booking_id = book(biz, day_at(5, 9))
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        transition(b, "decline", Actor("staff"), "Fully booked that day")
        db.session.commit()
    deliver_all(ctx)
    # Relayed together: the request notice is stale by now, only the decline goes out.
    [declined] = mailbox.to("alice@example.com")
    assert subject_of(declined).startswith("Booking request declined")
    assert "Fully booked that day" in text_of(declined)
    assert calendar_of(declined)["METHOD"] == "CANCEL"


def test_reminders_sent_once_by_the_sweep(ctx, mailbox):
    biz = business()
    start = day_at(3, 10)
    booking_id = book(biz, start)
    deliver_all(ctx)

    assert sweep_due_reminders(start - timedelta(hours=24, minutes=1)) == 0  # not yet due
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=59)) == 1
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=58)) == 0
    assert reminder_candidates(start - timedelta(hours=23, minutes=58)) == []  # the scan skips sent ones
    assert reminder_candidates(start - timedelta(hours=1, minutes=58)) == [(biz.tenant_id, booking_id)]
    [reminder] = mailbox.to("alice@example.com", "Reminder:")
    assert "/manage/" in text_of(reminder)
    assert calendar_of(reminder).walk("VEVENT")[0].decoded("DTSTART") == start

    assert sweep_due_reminders(start - timedelta(hours=1, minutes=59)) == 1
    assert sweep_due_reminders(start - timedelta(hours=1, minutes=30)) == 0
    assert sweep_due_reminders(start + timedelta(minutes=1)) == 0
    assert len(mailbox.to("alice@example.com", "Starting soon:")) == 1
    assert len(mailbox.to("alice@example.com", "Reminder:")) == 1

    with tenant_scope(biz.tenant_id):
        keys = set(db.session.scalars(sa.select(Delivery.dedup_key).where(Delivery.status == "sent")))
    assert f"booking:{booking_id}:reminder24:{start.isoformat()}" in keys
    assert f"booking:{booking_id}:reminder2:{start.isoformat()}" in keys


def test_reminders_are_scheduled_and_a_lost_job_is_recovered_by_the_sweep(ctx, mailbox):
    biz = business()
    start = day_at(3, 10)
    book(biz, start)
    deliver_all(ctx)
    registry = ScheduledJobRegistry(queue=Queue(QUEUE_NAME, connection=Redis.from_url(ctx.config["REDIS_URL"])))
    scheduled = {registry.get_scheduled_time(job_id): job_id for job_id in registry.get_job_ids()}
    assert sorted(scheduled) == [start - timedelta(hours=24), start - timedelta(hours=2)]

    for job_id in scheduled.values():  # Redis lost the scheduled jobs
        registry.remove(job_id, delete_job=True)
    assert registry.get_job_ids() == []
    assert sweep_due_reminders(start - timedelta(hours=23, minutes=55)) == 1
    assert len(mailbox.to("alice@example.com", "Reminder:")) == 1


def test_reminder_job_skips_a_moved_or_cancelled_booking(ctx, mailbox):
    biz = business()
    start, new_start = day_at(3, 10), day_at(3, 15)
    booking_id = book(biz, start)
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        reschedule_booking(db.session.get(Tenant, biz.tenant_id), b, new_start, Actor("staff"))
        db.session.commit()
    deliver_all(ctx)
    # The job scheduled for the old start finds the booking moved.
    assert send_booking_reminder(str(biz.tenant_id), str(booking_id), "24h", start.isoformat()) == "skipped"
    # The moved booking has its own reminder, sent once.
    assert sweep_due_reminders(new_start - timedelta(hours=23)) == 1
    assert sweep_due_reminders(new_start - timedelta(hours=22)) == 0
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        transition(b, "cancel", Actor("staff"), "Closed for the day")
        db.session.commit()
    assert sweep_due_reminders(new_start - timedelta(hours=1)) == 0
    assert len(mailbox.to("alice@example.com", "Reminder:")) == 1
    assert len(mailbox.to("alice@example.com", "Starting soon:")) == 0


def test_booking_made_late_gets_only_the_reminders_after_it(ctx, mailbox):
    biz = business()
    start = day_at(3, 10)
    booking_id = book(biz, start)
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):  # as if it had been booked 20 hours before the start
        db.session.execute(sa.update(BookingEvent).where(BookingEvent.booking_id == booking_id)
                           .values(at=start - timedelta(hours=20)))
        db.session.commit()
    assert sweep_due_reminders(start - timedelta(hours=19)) == 0
    assert sweep_due_reminders(start - timedelta(hours=2)) == 1
    assert [subject_of(m).split(":")[0] for m in mailbox.to("alice@example.com")] == ["Booking confirmed",
                                                                                     "Starting soon"]


def test_smtp_failure_is_recorded_and_the_retry_sends_once(ctx, mailbox):
    biz = business()
    book(biz, day_at(3, 10))
    ctx.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    relay_outbox()
    errors = [e for e in run_jobs(ctx) if "send_booking_email" in e]  # (the owner's notice fails too)
    assert len(errors) == 1 and "DeliveryFailed" in errors[0]
    with tenant_scope(biz.tenant_id):
        delivery = db.session.scalar(sa.select(Delivery).where(Delivery.notification_id.is_(None)))
        assert (delivery.status, delivery.attempts) == ("failed", 1) and delivery.error

    # RQ scheduled the retry; the server is back when it runs.
    ctx.config["SMTP_URL"] = mailbox.url
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(ctx.config["REDIS_URL"]))
    registry = ScheduledJobRegistry(queue=queue)
    retried = [Job.fetch(i, connection=queue.connection) for i in registry.get_job_ids()]
    [job] = [j for j in retried if j.func_name.endswith("send_booking_email")]
    assert job.retries_left == 4
    registry.remove(job)
    queue.enqueue_job(job)
    assert run_jobs(ctx) == []
    assert len(mailbox.to("alice@example.com")) == 1
    with tenant_scope(biz.tenant_id):
        db.session.expire_all()
        delivery = db.session.scalar(sa.select(Delivery).where(Delivery.notification_id.is_(None)))
        assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 2, None)


def test_account_email_is_sent_once_from_plaza(ctx, mailbox):
    job_id = enqueue_account_email("new@example.com", "Confirm your email address for Plaza",
                                   "Open https://localhost/verify/abc", "<p>Open <a href='https://localhost/verify/abc'>this</a></p>")
    assert run_jobs(ctx) == []
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(ctx.config["REDIS_URL"]))
    queue.enqueue_job(Job.fetch(job_id, connection=queue.connection))  # delivered to a worker again
    assert run_jobs(ctx) == []
    [msg] = mailbox.to("new@example.com")
    assert msg["From"].addresses[0].display_name == "Plaza"
    assert "verify/abc" in text_of(msg) and "verify/abc" in html_of(msg)
