"""Reminders at volume: many reminders due at once are split into batch jobs that two real
``python worker.py`` processes share; one worker is killed with SIGKILL mid-send and the other
delivers the rest, every customer getting their reminder exactly once."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from app.delivery.models import Delivery
from app.extensions import db
from app.jobs.runner import QUEUE_NAME
from app.notifications.reminder_batch import FULL_SCAN_KEY, lease_key
from app.notifications.service import reminder_candidates
from app.notifications.tasks import REMINDER_BATCH_SIZE, enqueue_reminder_batches, sweep_due_reminders
from app.payments.ledger import record_ledger
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business
from tests.helpers import wait_for
from tests.support.workers import kill_worker, start_worker

pytestmark = pytest.mark.integration

PER_BUSINESS = 100


def _bookings_due(biz, count: int, start) -> list[str]:
    """``count`` confirmed bookings of guests (one staff member each) starting at ``start``,
    booked two days ago, so their 24-hour reminder is due now; returns the guests' addresses."""
    addresses = []
    with tenant_scope(biz.tenant_id):
        service_id = biz.service_ids[0]
        for i in range(count):
            staff_id, customer_id = uuid.uuid4(), uuid.uuid4()
            email = f"guest{i}@{biz.slug}.example"
            addresses.append(email)
            params = {"t": biz.tenant_id, "s": staff_id, "c": customer_id, "b": uuid.uuid4(), "svc": service_id,
                      "email": email, "name": f"Guest {i}", "start": start, "end": start + timedelta(hours=1)}
            db.session.execute(sa.text("insert into staff_member (tenant_id, id, name, bio, active, position, created_at) "
                                       "values (:t, :s, 'Stylist', '', true, 9, now())"), params)
            db.session.execute(sa.text("insert into customer (tenant_id, id, name, email, created_at) "
                                       "values (:t, :c, :name, :email, now())"), params)
            db.session.execute(sa.text(
                "insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, ends_at, "
                "blocked_from, blocked_until, price_amount, currency, customer_timezone, notes, created_at, updated_at) "
                "values (:t, :b, :svc, :s, :c, 'confirmed', :start, :end, :start, :end, 50000, 'DKK', "
                "'Europe/Copenhagen', '', now() - interval '2 days', now() - interval '2 days')"), params)
        db.session.commit()
    return addresses


def test_dispatch_hands_due_reminders_to_batch_jobs_once(ctx, services):
    bella = make_business("bella")
    _bookings_due(bella, REMINDER_BATCH_SIZE + 5, utcnow().replace(microsecond=0) + timedelta(hours=23))
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(services["REDIS_URL"]))
    queue.empty()

    assert enqueue_reminder_batches() == 2  # 105 reminders of one business: a full batch and a short one
    assert sorted(len(job.args[1]) for job in queue.jobs) == [5, REMINDER_BATCH_SIZE]
    assert enqueue_reminder_batches() == 0  # leased: not handed out again while the batches wait
    queue.empty()


def test_dispatch_between_full_scans_reads_only_what_fell_due_and_a_full_scan_recovers_lost_leases(ctx, services):
    """Between full scans the dispatch reads only reminders that fell due since the last one; a
    booking whose lease ran out (its worker killed) is handed out again by the next full scan."""
    bella = make_business("bella")
    now = utcnow().replace(microsecond=0)
    due_now = _bookings_due(bella, 3, now + timedelta(hours=23))
    due_later = _bookings_due(make_business("fixit"), 2, now + timedelta(hours=24, minutes=1))
    redis = Redis.from_url(services["REDIS_URL"])
    queue = Queue(QUEUE_NAME, connection=redis)
    queue.empty()

    def handed_out() -> list[str]:
        ids = sorted(b for job in queue.jobs for b in job.args[1])
        queue.empty()
        return ids

    assert enqueue_reminder_batches(now) == 1  # the first dispatch is a full scan: bella's three
    first = handed_out()
    assert len(first) == len(due_now)
    redis.delete(lease_key(first[0]))  # its worker was killed and the lease ran out
    assert enqueue_reminder_batches(now + timedelta(seconds=30)) == 0  # nothing fell due since
    assert enqueue_reminder_batches(now + timedelta(minutes=2)) == 1  # fixit's two fell due meanwhile
    assert len(handed_out()) == len(due_later)
    redis.delete(FULL_SCAN_KEY)  # a lease length later the next dispatch is a full scan again
    assert enqueue_reminder_batches(now + timedelta(minutes=3)) == 1
    assert handed_out() == [first[0]]


def test_two_workers_one_killed_deliver_every_reminder_exactly_once(ctx, mailbox, services, tmp_path):
    start = utcnow().replace(microsecond=0) + timedelta(hours=23, minutes=30)
    addresses = [*_bookings_due(make_business("bella"), PER_BUSINESS, start),
                 *_bookings_due(make_business("fixit"), PER_BUSINESS, start)]
    total = len(addresses)

    def reminders() -> Counter[str]:
        return Counter(a.addr_spec for m in mailbox.messages if str(m["Subject"]).startswith("Reminder:")
                       for a in m["To"].addresses)

    log = tmp_path / "workers.log"
    env = {**os.environ, **{k: v for k, v in services.items() if k.isupper()}, "SMTP_URL": mailbox.url,
           "PLAZA_RELAY_INTERVAL": "1", "PLAZA_SWEEP_INTERVAL": "600", "PLAZA_TRANSITIONS_INTERVAL": "600",
           "DELIVERY_LEASE_SECONDS": "3", "REMINDER_LEASE_SECONDS": "3", "LOG_LEVEL": "WARNING"}
    env.pop("WORKER_FORK_PER_JOB", None)
    workers = [start_worker(env, log), start_worker(env, log)]
    try:
        assert mailbox.wait_until(lambda: sum(reminders().values()) >= total // 4, 90), log.read_text()[-3000:]
        # From now on the server holds every reminder in DATA (then refuses it), so both workers are
        # soon waiting for an answer: the SIGKILL lands mid-send, never in the instant between the
        # server's 250 and the worker's commit (the one window for a duplicate, app.delivery.pipeline).
        mailbox.hold_subject = "Reminder:"
        assert wait_for(mailbox.holding.is_set, 30)
        time.sleep(2)
        kill_worker(workers[0])  # SIGKILL in the middle of its batch: its claim and leases stay behind
        at_kill = sum(reminders().values())
        mailbox.hold_subject = None  # the held messages are refused with a 451 and sent again later
        assert mailbox.wait_until(lambda: len(reminders()) >= total, 90), log.read_text()[-3000:]
        time.sleep(2)  # a second copy of anything would arrive meanwhile
    finally:
        for worker in workers:
            kill_worker(worker)

    received = reminders()
    assert at_kill < total  # the kill really was mid-way
    assert set(received) == set(addresses)
    assert [a for a, n in received.items() if n > 1] == []  # nobody got theirs twice
    with platform_scope("test: the delivery rows"):
        statuses = Counter(db.session.scalars(sa.select(Delivery.status).where(
            Delivery.dedup_key.like("%:reminder24:%"))))
        db.session.commit()
    assert statuses == {"sent": total}


def test_a_batch_writes_each_guest_in_their_language_and_settles_what_it_cannot_send(ctx, mailbox):
    """One batch of guests: a Danish and an English customer each get their reminder once in their
    own language; a customer known by phone only is recorded undeliverable once and is then no
    longer a candidate, so the dispatcher does not hand it out every second."""
    bella = make_business("bella")
    start = utcnow().replace(microsecond=0) + timedelta(hours=23, minutes=30)
    english_address, danish_address, phone_only = _bookings_due(bella, 3, start)
    with tenant_scope(bella.tenant_id):
        db.session.execute(sa.text("update booking set locale = 'da' where customer_id in "
                                   "(select id from customer where email = :e)"), {"e": danish_address})
        db.session.execute(sa.text("update customer set email = null, phone = '+4520000000' where email = :e"),
                           {"e": phone_only})
        english_booking = db.session.scalar(sa.text("select b.id from booking b join customer c on c.id = b.customer_id "
                                                    "where c.email = :e"), {"e": english_address})
        record_ledger(kind="payment", amount=10000, currency="DKK", key="test:deposit", booking_id=english_booking)
        db.session.commit()

    assert sweep_due_reminders() == 2
    [english] = mailbox.to(english_address, "Reminder:")
    [danish] = mailbox.to(danish_address, "Påmindelse:")
    assert "Guest 0" in str(english["To"]) and "Guest 1" in str(danish["To"])
    assert "Paid:" in english.get_body(("plain",)).get_content()  # the deposit, read for the whole chunk at once
    assert "Paid:" not in danish.get_body(("plain",)).get_content() and "Betalt" not in danish.get_body(("plain",)).get_content()
    assert mailbox.to(english_address, "Påmindelse:") == [] and mailbox.to(danish_address, "Reminder:") == []
    with platform_scope("test: the delivery rows"):
        statuses = Counter(db.session.scalars(sa.select(Delivery.status).where(
            Delivery.dedup_key.like("%:reminder24:%"))))
        db.session.commit()
    assert statuses == {"sent": 2, "undeliverable": 1}

    assert sweep_due_reminders() == 0
    with platform_scope("test: candidates"):
        assert reminder_candidates(utcnow()) == []  # sent and undeliverable alike are settled
        db.session.commit()
    assert len(mailbox.to(english_address)) == 1 and len(mailbox.to(danish_address)) == 1


def test_a_chunk_that_cannot_be_read_is_sent_one_booking_at_a_time(ctx, mailbox, monkeypatch):
    """When reading a chunk's facts fails (a row changed by hand), every reminder of the chunk
    still goes out, each on its own, and none twice."""
    from app.notifications import service as rules

    bella = make_business("bella")
    start = utcnow().replace(microsecond=0) + timedelta(hours=23, minutes=30)
    addresses = _bookings_due(bella, 4, start)
    whole = rules.load_booking_facts_many

    def fails_for_a_chunk(booking_ids, locales=None):
        if len(booking_ids) > 1:
            raise rules.MissingBookingRecord("a booking lacks its customer")
        return whole(booking_ids, locales)

    monkeypatch.setattr(rules, "load_booking_facts_many", fails_for_a_chunk)
    assert sweep_due_reminders() == 4
    assert sorted(a for a in addresses if len(mailbox.to(a, "Reminder:")) == 1) == sorted(addresses)
    assert sweep_due_reminders() == 0
