"""Jobs run by the RQ worker: the outbox relay, booking emails, reminders, the periodic sweeps
and platform account emails.

Every job takes primitive arguments (tenant id first for tenant jobs) and is enqueued by
dotted path. Each run pushes a fresh app context on the worker's app (created once per worker
process by ``worker.py`` and bound with :func:`bind_job_app`), puts the tenant from its
arguments in scope, commits once at the end, and rolls back on error. No app context is
pushed at import or shared between jobs.

The functions without a ``_job`` counterpart that need an app context (:func:`relay_outbox`,
:func:`sweep_due_reminders`, :func:`reclaim_stale_deliveries`) can also be called directly,
e.g. from tests or the CLI.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, get_current_job

from app.booking.models import BookingStatus
from app.extensions import db
from app.notifications import service as rules
from app.notifications.delivery import (
    DeliveryFailed,
    Outcome,
    deliver,
    is_sent,
    lease_seconds,
    record_undeliverable,
)
from app.notifications.emails import account_email, booking_email, reminder_kind, staff_email
from app.notifications.mailcap import cap_reason, take_send_slot
from app.notifications.mailer import UndeliverableAddress, smtp_send
from app.notifications.models import OutboxEvent
from app.notifications.service import BookingFacts
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow

log = logging.getLogger("plaza.notifications")

QUEUE_NAME = "default"
TASKS = rules.TASKS
#: RQ retry policy of every mail job: 5 more tries over about 22 minutes.
RETRY_INTERVALS = [10, 30, 60, 300, 900]
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
RELAY_BATCH = 200

T = TypeVar("T")

_job_app: Flask | None = None


def bind_job_app(app: Flask) -> None:
    """Make ``app`` the app every job in this process runs on (``worker.py`` calls this once)."""
    global _job_app
    _job_app = app
    app.extensions["plaza_pool_pid"] = os.getpid()


def _app_for_job() -> Flask:
    """The bound worker app; else the app of the surrounding context (in-process workers in
    tests); else one created now for this process."""
    global _job_app
    if _job_app is not None:
        return _job_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    from app import create_app

    bind_job_app(create_app())
    assert _job_app is not None
    return _job_app


def _fresh_pool_after_fork(app: Flask) -> None:
    """In a forked work horse, drop the parent's pooled DB connections (never share a socket)."""
    pid = os.getpid()
    if app.extensions.get("plaza_pool_pid") not in (None, pid):
        for engine in db.engines.values():
            engine.dispose(close=False)
    app.extensions["plaza_pool_pid"] = pid


def run_in_tenant(tenant_id: str, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in a fresh app context with tenant ``tenant_id`` in scope; commit, or roll back and re-raise.

    A job stopped by :class:`UndeliverableAddress` (a stored address unusable in a header) is
    logged and ends with ``"undeliverable"`` instead of raising, so RQ does not retry it.
    """
    app = _app_for_job()
    with app.app_context():
        _fresh_pool_after_fork(app)
        try:
            with tenant_scope(uuid.UUID(tenant_id)):
                try:
                    result = fn(*args)
                    db.session.commit()
                except UndeliverableAddress as exc:
                    # A stored address that cannot go in a header: retrying cannot help.
                    db.session.rollback()
                    log.warning("job stopped: undeliverable address", extra={"error": str(exc)})
                    return Outcome.UNDELIVERABLE.value  # type: ignore[return-value]
                except BaseException:
                    db.session.rollback()
                    raise
            return result
        finally:
            db.session.remove()


def run_on_platform(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in a fresh app context with no tenant in scope; commit, or roll back and re-raise
    (an :class:`UndeliverableAddress` ends the job with ``"undeliverable"``, as in :func:`run_in_tenant`)."""
    app = _app_for_job()
    with app.app_context():
        _fresh_pool_after_fork(app)
        try:
            result = fn(*args)
            db.session.commit()
            return result
        except UndeliverableAddress as exc:
            db.session.rollback()
            log.warning("job stopped: undeliverable address", extra={"error": str(exc)})
            return Outcome.UNDELIVERABLE.value  # type: ignore[return-value]
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def get_queue() -> Queue:
    """The RQ queue mail and booking jobs go to, on the app's Redis (needs an app context)."""
    from app.redis_client import get_redis

    return Queue(QUEUE_NAME, connection=get_redis())


def _retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def _enqueue(queue: Queue, func: str, *args: str) -> None:
    queue.enqueue(func, *args, retry=_retry(), result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)


# --- outbox relay -----------------------------------------------------------------------


def relay_outbox(limit: int = RELAY_BATCH) -> int:
    """Turn up to ``limit`` unrelayed outbox events, across tenants, into RQ jobs; returns how many.

    Rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` inside ``platform_scope`` so
    concurrent relays split the work; jobs are enqueued before ``relayed_at`` is committed,
    so a crash in between relays an event twice (the jobs are idempotent), never zero times.
    Commits. Needs an app context.
    """
    from app.checkout.tasks import payment_jobs_for_event

    queue = get_queue()
    with platform_scope("outbox relay"):
        events = list(db.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.relayed_at.is_(None))
            .order_by(OutboxEvent.created_at).limit(limit).with_for_update(skip_locked=True)))
        now = utcnow()
        for event in events:
            for spec in [*rules.jobs_for_event(event), *payment_jobs_for_event(
                    event.kind, str(event.tenant_id), str(event.id), event.payload or {})]:
                _enqueue(queue, spec.func, *spec.args)
            _enqueue(queue, "app.notifications.fanout.fanout_event", str(event.tenant_id), str(event.id))
            event.relayed_at = now
        db.session.commit()
    return len(events)


def periodic_relay() -> int:
    """Periodic job: relay the outbox until it is empty (at most 10 batches per run)."""

    def relay_all() -> int:
        total = 0
        for _ in range(10):
            n = relay_outbox(RELAY_BATCH)
            total += n
            if n < RELAY_BATCH:
                break
        return total

    return run_on_platform(relay_all)


# --- booking emails ---------------------------------------------------------------------


def send_booking_email(tenant_id: str, booking_id: str, kind: str, event_id: str) -> str:
    """Job: the customer email ``kind`` (confirmed, requested, changed, cancelled, declined,
    expired) for outbox event ``event_id``, sent once. Returns the :class:`Outcome` or
    ``gone``/``skipped`` when the booking no longer exists or the email no longer fits its state.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_booking_email, booking_id, kind, event_id)


def _send_booking_email(booking_id: str, kind: str, event_id: str) -> str:
    now = utcnow()
    facts = rules.load_booking_facts(uuid.UUID(booking_id))
    if facts is None:
        return "gone"
    if not rules.customer_email_relevant(facts, kind, now):
        log.info("booking email skipped", extra={"booking_id": booking_id, "kind": kind, "status": facts.status})
        return "skipped"
    if not _email_wanted(facts, kind):
        return "skipped"
    previous = None
    if kind == "changed":
        payload = db.session.scalar(sa.select(OutboxEvent.payload).where(OutboxEvent.id == uuid.UUID(event_id)))
        if payload and payload.get("previous_start"):
            previous = datetime.fromisoformat(payload["previous_start"])
    key = rules.booking_email_key(booking_id, kind, event_id)
    try:
        message = booking_email(facts, kind, previous_start=previous)
    except UndeliverableAddress as exc:
        return record_undeliverable(key, facts.customer_email, str(exc)).value
    return deliver(key, message).value


def send_staff_booking_email(tenant_id: str, booking_id: str, kind: str, event_id: str) -> str:
    """Job: tell the booking's staff member (when they have an email) about a new booking or
    request (``new``/``request``) or a customer's cancellation (``cancelled``), once.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_staff_email, booking_id, kind, event_id)


def _send_staff_email(booking_id: str, kind: str, event_id: str) -> str:
    facts = rules.load_booking_facts(uuid.UUID(booking_id))
    if facts is None:
        return "gone"
    if not facts.staff_email or facts.ends_at <= utcnow() or not _email_wanted(facts, kind, staff=True):
        return "skipped"
    key = rules.staff_email_key(booking_id, kind, event_id)
    try:
        message = staff_email(facts, kind, facts.staff_email)
    except UndeliverableAddress as exc:
        return record_undeliverable(key, facts.staff_email, str(exc)).value
    return deliver(key, message).value


# --- reminders --------------------------------------------------------------------------


def _reminder_job_id(booking_id: str, which: str, starts_at: datetime) -> str:
    return f"reminder-{booking_id}-{which}-{int(starts_at.timestamp())}"


def schedule_booking_reminders(tenant_id: str, booking_id: str) -> int:
    """Job: schedule the booking's reminder jobs at ``start - 24h`` and ``start - 2h`` with
    RQ's scheduler (deterministic job ids, so scheduling twice keeps one of each). Reminder
    points already past are left to the sweep's rule. Returns how many were scheduled."""
    return run_in_tenant(tenant_id, _schedule_reminders, tenant_id, booking_id)


def _schedule_reminders(tenant_id: str, booking_id: str) -> int:
    from app.booking.models import Booking

    booking = db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(booking_id)))
    if booking is None or booking.status != BookingStatus.CONFIRMED.value:
        return 0
    now = utcnow()
    queue = get_queue()
    count = 0
    for which in rules.REMINDERS:
        due = rules.reminder_due_at(booking.starts_at, which)
        if due <= now:
            continue
        queue.enqueue_at(due, f"{TASKS}.send_booking_reminder", tenant_id, booking_id, which,
                         booking.starts_at.isoformat(), job_id=_reminder_job_id(booking_id, which, booking.starts_at),
                         retry=_retry(), result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
        count += 1
    return count


def send_booking_reminder(tenant_id: str, booking_id: str, which: str, starts_at_iso: str) -> str:
    """Job: reminder ``which`` (``24h``/``2h``) for the booking starting at ``starts_at_iso``.

    Re-checks that the booking is still confirmed, still starts then, and that this reminder
    is due now (see :mod:`app.notifications.service`); sends it once.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_reminder_job, booking_id, which, starts_at_iso)


def _send_reminder_job(booking_id: str, which: str, starts_at_iso: str) -> str:
    facts = rules.load_booking_facts(uuid.UUID(booking_id))
    if facts is None:
        return "gone"
    if facts.status != BookingStatus.CONFIRMED.value or facts.starts_at != datetime.fromisoformat(starts_at_iso):
        return "skipped"
    if rules.due_reminder(facts.starts_at, rules.last_change_at(facts.booking_id), utcnow()) != which:
        return "skipped"
    return _send_reminder(facts, which).value


def _send_reminder(facts: BookingFacts, which: str) -> Outcome:
    key = rules.reminder_key(facts.booking_id, which, facts.starts_at)
    _enqueue(get_queue(), "app.notifications.fanout.notify_reminder", str(facts.tenant_id), str(facts.booking_id),
             which, facts.starts_at.isoformat())  # in-app / push / SMS side, once per start
    if not _email_wanted(facts, reminder_kind(which)):
        return Outcome.ALREADY_SENT
    try:
        message = booking_email(facts, reminder_kind(which))
    except UndeliverableAddress as exc:
        return record_undeliverable(key, facts.customer_email, str(exc))
    return deliver(key, message)


def _email_wanted(facts: BookingFacts, kind: str, staff: bool = False) -> bool:
    """The recipient's notification preferences (:func:`app.notifications.fanout.legacy_email_wanted`)."""
    from app.notifications.fanout import legacy_email_wanted

    return legacy_email_wanted(facts, kind, staff=staff)


def sweep_due_reminders(now: datetime | None = None, limit: int = 500) -> int:
    """Send every reminder due at ``now`` (default: the current instant) that has not been sent,
    re-derived from the database across tenants; returns how many were sent now.

    Recovers reminders whose scheduled job was lost or whose worker died. Each booking is
    handled in its own tenant scope; a failed send is logged and retried by the next sweep.
    Commits. Needs an app context.
    """
    now = now or utcnow()
    candidates = rules.reminder_candidates(now, limit)
    db.session.commit()
    sent = 0
    for tenant_id, booking_id in candidates:
        with tenant_scope(tenant_id):
            try:
                facts = rules.load_booking_facts(booking_id)
                if facts is None or facts.status != BookingStatus.CONFIRMED.value:
                    continue
                which = rules.due_reminder(facts.starts_at, rules.last_change_at(booking_id), now)
                if which is None or is_sent(rules.reminder_key(booking_id, which, facts.starts_at)):
                    continue
                if _send_reminder(facts, which) == Outcome.SENT:
                    sent += 1
            except DeliveryFailed:
                pass  # recorded as failed; the next sweep or the scheduled job's retry tries again
            except Exception:
                db.session.rollback()
                log.exception("reminder sweep failed for a booking", extra={"booking_id": str(booking_id)})
            finally:
                db.session.commit()
    return sent


def reclaim_stale_deliveries(now: datetime | None = None) -> int:
    """Re-enqueue the job of every delivery stuck in ``sending`` longer than the lease (its
    worker died mid-send): booking emails, reminders, staff emails and guests' new-message
    emails; the job takes the claim over and sends. Returns how many. Commits."""
    now = now or utcnow()
    stale = rules.stale_deliveries(now - timedelta(seconds=lease_seconds()))
    db.session.commit()
    queue = get_queue()
    count = 0
    from app.notifications import chat_messages

    for tenant_id, key in stale:
        tid = str(tenant_id)
        guest = chat_messages.parse_dedup_key(key)
        if guest is not None:  # a guest's new-message email
            _enqueue(queue, f"{chat_messages.JOBS}.send_guest_message_email", tid, *guest)
            count += 1
            continue
        parsed = rules.parse_key(key)
        if parsed is None:
            continue
        if parsed.kind in {"reminder24", "reminder2"}:
            which = parsed.kind.removeprefix("reminder") + "h"
            _enqueue(queue, f"{TASKS}.send_booking_reminder", tid, parsed.booking_id, which, parsed.rest)
        elif parsed.kind.startswith("staff-"):
            _enqueue(queue, f"{TASKS}.send_staff_booking_email", tid, parsed.booking_id,
                     parsed.kind.removeprefix("staff-"), parsed.rest)
        elif parsed.kind in rules.CUSTOMER_EMAILS.values():
            _enqueue(queue, f"{TASKS}.send_booking_email", tid, parsed.booking_id, parsed.kind, parsed.rest)
        else:
            continue
        count += 1
    return count


def periodic_sweep() -> dict[str, int]:
    """Periodic job: send due reminders and re-enqueue stale deliveries (booking emails and notifications)."""

    def sweep() -> dict[str, int]:
        from app.notifications.fanout import requeue_stuck_deliveries

        return {"reminders": sweep_due_reminders(), "reclaimed": reclaim_stale_deliveries(),
                "notifications": requeue_stuck_deliveries()}

    return run_on_platform(sweep)


# --- automatic booking transitions -----------------------------------------------------------

_TRANSITIONS_LOCK = 0x504C415A41  # "PLAZA": advisory lock key of the transitions job


def periodic_transitions() -> dict[str, int]:
    """Periodic job: expire pending bookings older than 48 h, release unconfirmed guest holds
    (``awaiting_email``), and complete confirmed ones 7 days
    past their end (:func:`app.booking.service.run_automatic_transitions`), then commit.

    Guarded by a transaction-level PostgreSQL advisory lock so two workers never move the
    same bookings at once; the one that does not get the lock does nothing.
    """

    def transitions() -> dict[str, int]:
        from app.booking.service import run_automatic_transitions

        if not db.session.scalar(sa.text("select pg_try_advisory_xact_lock(:k)"), {"k": _TRANSITIONS_LOCK}):
            return {"expired": 0, "completed": 0, "released": 0, "skipped": 1}
        return run_automatic_transitions(utcnow())

    return run_on_platform(transitions)


# --- platform account emails -------------------------------------------------------------------


def enqueue_account_email(to: str, subject: str, text: str, html: str | None = None) -> str:
    """Queue an account email (password reset, email verification) to ``to``; returns the job id.

    Call after the transaction that caused it has committed. Needs an app context.
    """
    job = get_queue().enqueue(f"{TASKS}.send_account_email", to, subject, text, html, retry=_retry(),
                              result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)
    return job.id


def send_account_email(to: str, subject: str, text: str, html: str | None = None) -> str:
    """Job: send a platform account email as ``"Plaza" <MAIL_FROM>``.

    Not tenant data, so no ``delivery`` row: a retry of a job that already sent is stopped by
    a Redis marker per job id (kept 7 days). Returns ``sent``, ``already_sent``, or ``skipped``
    when the address is over ``MAIL_PER_RECIPIENT_PER_HOUR`` (logged with the reason, not raised).

    Raises:
        smtplib.SMTPException, OSError: SMTP failed (RQ retries the job).
    """

    def send() -> str:
        from app.redis_client import get_redis

        job = get_current_job()
        marker = f"plaza:account-mail:sent:{job.id}" if job is not None else None
        redis = get_redis()
        if marker and redis.exists(marker):
            return Outcome.ALREADY_SENT.value
        if not take_send_slot(to):
            log.warning("account email not sent", extra={"to": to, "subject": subject, "reason": cap_reason()})
            if marker:
                redis.set(marker, "skipped", ex=7 * 24 * 3600)
            return Outcome.SKIPPED.value
        smtp_send(current_app.config["SMTP_URL"], account_email(to, subject, text, html))
        if marker:
            redis.set(marker, "1", ex=7 * 24 * 3600)
        return Outcome.SENT.value

    return run_on_platform(send)
