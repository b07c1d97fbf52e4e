"""Jobs run by the RQ worker: booking emails, reminders, the periodic sweeps and platform
account emails.

Who gets which booking email how: a customer with an account through their notifications (every
channel their preferences enable, :mod:`app.notifications.fanout`), a guest directly (a
``delivery`` row without a notification, here); owners, managers and a staff member with an
account through their notifications, a staff member without an account (but with an address on
their profile) directly. Both paths use the same dedup keys, so nobody gets a message twice.

Every job takes primitive arguments (tenant id first for tenant jobs), is enqueued by dotted
path, and runs as one unit of work (:mod:`app.jobs.runner`).

The functions without a ``_job`` counterpart that need an app context
(:func:`sweep_due_reminders`, :func:`reclaim_stale_deliveries`) can also be called directly,
e.g. from tests or the CLI.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from rq import get_current_job

from app.booking.models import Booking, BookingStatus
from app.customers.ownership import account_of
from app.delivery.mailcap import cap_reason, take_send_slot
from app.delivery.mailer import UndeliverableAddress, account_email, local, smtp_send
from app.delivery.pipeline import (
    ClaimedEmail,
    DeliveryFailed,
    Outcome,
    claim_many,
    deliver,
    finish,
    is_sent,
    lease_seconds,
    record_undeliverable,
    send_claimed,
)
from app.delivery.smtp_session import reusing
from app.extensions import db
from app.jobs.runner import enqueue, enqueue_at, get_queue, run_in_tenant, run_on_platform
from app.notifications import agenda, chat_messages, dispatch, fanout, waiting
from app.notifications import service as rules
from app.notifications.emails import booking_email, reminder_kind, staff_email
from app.notifications.language import booking_customer_locale, speaking, tenant_locale
from app.notifications.reminder_batch import (
    REMINDER_CHUNK,
    guest_reminders,
    lease_key,
    reminder_lease_seconds,
    renew_leases,
    scan_since,
    scanned_up_to,
)
from app.notifications.sending import requeue_stuck_deliveries
from app.notifications.service import BookingFacts
from app.outbox.models import OutboxEvent
from app.redis_client import get_redis
from app.tenants.context import require_tenant_id, tenant_scope
from app.tenants.models import Membership
from app.timeutil import utcnow
from app.uow import after_commit, unit_of_work

log = logging.getLogger("plaza.notifications")

TASKS = rules.TASKS

# --- booking emails ---------------------------------------------------------------------


def send_booking_email(tenant_id: str, booking_id: str, kind: str, event_id: str) -> str:
    """Job: the customer email ``kind`` (confirmed, requested, changed, cancelled, declined,
    expired) for outbox event ``event_id``, sent once. Returns the :class:`Outcome` or
    ``gone``/``skipped`` when the booking no longer exists or the email no longer fits its state.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_booking_email, booking_id, kind, event_id)


def customer_has_account(booking_id: uuid.UUID) -> bool:
    """True when the booking's customer record belongs to an account
    (:func:`app.customers.ownership.account_of`): their booking emails go through their
    notifications. Tenant in scope."""
    customer_id = db.session.scalar(sa.select(Booking.customer_id).where(Booking.id == booking_id))
    return customer_id is not None and account_of(customer_id) is not None


def staff_has_account(booking_id: uuid.UUID) -> bool:
    """True when the booking's staff member is linked to an account (a membership): they hear
    about it through their notifications. Tenant in scope."""
    staff_id = db.session.scalar(sa.select(Booking.staff_id).where(Booking.id == booking_id))
    return staff_id is not None and db.session.scalar(sa.select(sa.func.count()).select_from(Membership).where(
        Membership.staff_member_id == staff_id)) > 0


def _previous_start(event_id: str) -> datetime | None:
    """The ``previous_start`` of a reschedule's outbox event (tenant in scope), else ``None``."""
    try:
        payload = db.session.scalar(sa.select(OutboxEvent.payload).where(OutboxEvent.id == uuid.UUID(event_id)))
    except ValueError:
        return None
    return datetime.fromisoformat(payload["previous_start"]) if payload and payload.get("previous_start") else None


def _send_booking_email(booking_id: str, kind: str, event_id: str) -> str:
    with speaking(booking_customer_locale(booking_id)):  # the customer's language, not the worker's last one
        return _send_booking_email_now(booking_id, kind, event_id)


def _send_booking_email_now(booking_id: str, kind: str, event_id: str) -> str:
    now = utcnow()
    facts = rules.load_booking_facts(uuid.UUID(booking_id))
    if facts is None:
        return "gone"
    if not rules.customer_email_relevant(facts, kind, now):
        log.info("booking email skipped", extra={"booking_id": booking_id, "kind": kind, "status": facts.status})
        return "skipped"
    if kind != "confirm_email" and customer_has_account(facts.booking_id):
        return "skipped"  # their notification carries this email
    previous = _previous_start(event_id) if kind == "changed" else None
    key = rules.booking_email_key(booking_id, kind, event_id)
    try:
        message = booking_email(facts, kind, previous_start=previous)
    except UndeliverableAddress as exc:
        return record_undeliverable(key, facts.customer_email, str(exc)).value
    return deliver(key, message).value


def send_staff_booking_email(tenant_id: str, booking_id: str, kind: str, event_id: str) -> str:
    """Job: tell the booking's staff member without an account (when their profile has an
    email) about a new booking or request (``new``/``request``) or a customer's cancellation
    or move (``cancelled``/``moved``), once. Staff with an account hear through their notifications.

    Raises:
        DeliveryFailed: SMTP failed (RQ retries the job).
    """
    return run_in_tenant(tenant_id, _send_staff_email, booking_id, kind, event_id)


def _send_staff_email(booking_id: str, kind: str, event_id: str) -> str:
    with speaking(tenant_locale(require_tenant_id())):  # staff without an account: the business's language
        return _send_staff_email_now(booking_id, kind, event_id)


def _send_staff_email_now(booking_id: str, kind: str, event_id: str) -> str:
    facts = rules.load_booking_facts(uuid.UUID(booking_id))
    if facts is None:
        return "gone"
    if not facts.staff_email or facts.ends_at <= utcnow() or staff_has_account(facts.booking_id):
        return "skipped"
    key = rules.staff_email_key(booking_id, kind, event_id)
    previous = _previous_start(event_id) if kind == "moved" else None
    context = {"previous_when": local(previous, facts.business_timezone) if previous else ""}
    try:
        message = staff_email(facts, kind, facts.staff_email, context=context)
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
        enqueue_at(due, f"{TASKS}.send_booking_reminder", tenant_id, booking_id, which, booking.starts_at.isoformat(),
                   queue=queue, job_id=_reminder_job_id(booking_id, which, booking.starts_at))
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


def _send_reminder(facts: BookingFacts, which: str, *, in_language: bool = False) -> Outcome:
    """Reminder ``which`` to the booking's customer: their account's notification (every channel
    they enabled; queued once this unit of work commits), or a guest's direct email.
    ``in_language``: ``facts`` were loaded inside the customer's :func:`speaking` already."""
    key = rules.reminder_key(facts.booking_id, which, facts.starts_at)
    has_account = customer_has_account(facts.booking_id)
    if not facts.customer_email and not has_account:
        # Known by phone only: recorded once, so the sweep does not try again.
        return record_undeliverable(key, "", "no email address on record")
    if has_account:
        results = fanout.reminder_notices(str(facts.booking_id), which, facts.starts_at.isoformat())
        after_commit(lambda: dispatch.after_commit(results))
        return Outcome.SENT if any(r.new for r in results) else Outcome.ALREADY_SENT
    if in_language:
        return _email_reminder(key, facts, which)
    with speaking(booking_customer_locale(facts.booking_id)):
        return _email_reminder(key, rules.load_booking_facts(facts.booking_id) or facts, which)


def _email_reminder(key: str, facts: BookingFacts, which: str) -> Outcome:
    """Build (in the language in force) and send the reminder email to a guest, once under ``key``."""
    try:
        message = booking_email(facts, reminder_kind(which))
    except UndeliverableAddress as exc:
        return record_undeliverable(key, facts.customer_email or "", str(exc))
    return deliver(key, message)


#: Reminders per batch job (:func:`send_reminder_batch`), all of one business.
REMINDER_BATCH_SIZE = 100
#: Most reminders one dispatch enqueues (the rest wait for the next run).
REMINDER_DISPATCH_LIMIT = 50_000
#: Failed sends in a row after which a batch stops (:func:`send_reminders_now`).
FAILURES_BEFORE_GIVING_UP = 3
def enqueue_reminder_batches(now: datetime | None = None, limit: int = REMINDER_DISPATCH_LIMIT) -> int:
    """Hand every reminder due at ``now`` (default: the current instant) and not sent yet to batch
    jobs: up to :data:`REMINDER_BATCH_SIZE` bookings of one business per
    :func:`send_reminder_batch` job, so any number of workers split the work. Returns how many
    jobs were enqueued. Needs an app context (commits the read).

    A booking handed to a job is leased in Redis (``SET NX``, :func:`reminder_lease_seconds`): the
    next dispatch skips it while the lease lives, and hands it out again once a killed worker's
    lease has run out. Between full scans a dispatch reads only what fell due since the last
    (:func:`~app.notifications.reminder_batch.scan_since`): thousands due are not re-read each
    second. Whatever the leases say, each message is sent at most once (the delivery claim,
    :mod:`app.delivery.pipeline`); a lease only avoids handing the same work out twice.
    """
    now = now or utcnow()
    seconds = reminder_lease_seconds()
    since = scan_since(now, seconds)  # a full scan once per lease, else what fell due since the last
    with unit_of_work():
        candidates = rules.reminder_candidates(now, limit, since)
    pipe = get_redis().pipeline(transaction=False)
    for _, booking_id in candidates:
        pipe.set(lease_key(booking_id), "1", nx=True, ex=seconds)
    by_tenant: dict[str, list[str]] = {}
    for (tenant_id, booking_id), taken in zip(candidates, pipe.execute(), strict=True):
        if taken:
            by_tenant.setdefault(str(tenant_id), []).append(str(booking_id))
    scanned_up_to(now, seconds, complete=len(candidates) < limit)  # once all it read is leased
    jobs = 0
    for tenant_id, ids in by_tenant.items():
        for i in range(0, len(ids), REMINDER_BATCH_SIZE):
            enqueue(f"{TASKS}.send_reminder_batch", tenant_id, ids[i:i + REMINDER_BATCH_SIZE])
            jobs += 1
    return jobs


def periodic_reminder_dispatch() -> int:
    """Periodic job (every ``PLAZA_RELAY_INTERVAL`` seconds): :func:`enqueue_reminder_batches`."""
    return run_on_platform(enqueue_reminder_batches)


def send_reminder_batch(tenant_id: str, booking_ids: list[str]) -> int:
    """Job: send the reminders due now to the customers of ``booking_ids`` (bookings of
    ``tenant_id``) over one SMTP connection; returns how many were sent now.

    One query first drops the bookings whose reminder is already sent (by another worker or an
    earlier try); each remaining booking is then re-checked and sent in its own unit of work,
    exactly as the sweep does (:func:`sweep_due_reminders`: language, preferences, the
    recipient's cap). Each message is recorded ``sent`` as it is handed over
    (:mod:`app.delivery.pipeline` says exactly what a worker killed meanwhile can cause); a
    failed send is recorded and left to the next dispatch. The batch's leases are renewed while
    it runs and dropped at its end.
    """
    return run_in_tenant(tenant_id, send_reminders_now, booking_ids, None)


def send_reminders_now(booking_ids: list[str], now: datetime | None) -> int:
    """Send the due, unsettled reminders of ``booking_ids`` (tenant in scope) over one SMTP
    connection (see :func:`send_reminder_batch`); returns how many were sent now. ``now``
    defaults to the current instant, read per chunk.

    Works in chunks of :data:`~app.notifications.reminder_batch.REMINDER_CHUNK`: one read transaction loads every booking's facts,
    language and account in a fixed number of queries and builds the guests' messages
    (:func:`app.notifications.reminder_batch.guest_reminders`); one statement claims them all (:func:`app.delivery.pipeline.claim_many`);
    each is then sent with its own ``sent`` row at the commit point, so a worker killed mid-chunk
    sends nothing twice. A customer with an account gets the reminder through their
    notifications, one booking at a time as before (:func:`_sweep_one`); so does every booking of
    a chunk whose read failed (a row missing), so one bad booking holds back no other.

    After :data:`FAILURES_BEFORE_GIVING_UP` failed sends in a row (the SMTP server is down) the
    batch stops; the bookings it did not finish keep their leases, so the dispatch hands them out
    again only when those run out rather than every few seconds."""
    seconds = reminder_lease_seconds()
    renewed = time.monotonic()
    with unit_of_work():
        pending = rules.unsent_due_reminders([uuid.UUID(b) for b in booking_ids], now or utcnow())
    sent, failures, unfinished = 0, 0, set()
    with reusing(current_app.config["SMTP_URL"]):
        for first in range(0, len(pending), REMINDER_CHUNK):
            if failures >= FAILURES_BEFORE_GIVING_UP:
                unfinished.update(str(b) for b in pending[first:])
                log.warning("reminder batch stopped: sending keeps failing", extra={"left": len(pending) - first})
                break
            if time.monotonic() - renewed > seconds / 3:
                renew_leases(booking_ids, seconds)
                renewed = time.monotonic()
            chunk = pending[first:first + REMINDER_CHUNK]
            try:
                with unit_of_work():
                    guests, one_by_one = guest_reminders(chunk, now or utcnow())
            except Exception:  # noqa: BLE001 - one booking's bad row must not hold back the others
                log.exception("reminders of a chunk failed; sending them one by one", extra={"bookings": len(chunk)})
                guests, one_by_one = {}, chunk
            for booking_id in one_by_one:
                try:
                    with unit_of_work():
                        sent += _sweep_one(booking_id, now or utcnow())
                    failures = 0
                except DeliveryFailed:
                    failures += 1  # recorded as failed; handed out again once its lease runs out
                    unfinished.add(str(booking_id))
                except Exception:  # noqa: BLE001 - one booking's error must not stop the batch
                    log.exception("reminder failed for a booking", extra={"booking_id": str(booking_id)})
            claims = claim_many({key: message for key, (_, message) in guests.items()}, utcnow())
            for key, (booking_id, message) in guests.items():
                claimed = claims[key]
                if not isinstance(claimed, ClaimedEmail):
                    continue
                if failures >= FAILURES_BEFORE_GIVING_UP:
                    finish(claimed.id, "failed", "not tried: sending keeps failing", claimed_at=claimed.claimed_at)
                    unfinished.add(str(booking_id))
                    continue
                try:
                    sent += 1 if send_claimed(claimed, message) == Outcome.SENT else 0
                    failures = 0
                except DeliveryFailed:
                    failures += 1  # recorded as failed; handed out again once its lease runs out
                    unfinished.add(str(booking_id))
    done = [b for b in booking_ids if b not in unfinished]
    if done:
        get_redis().delete(*(lease_key(b) for b in done))
    return sent


def sweep_due_reminders(now: datetime | None = None, limit: int = 500) -> int:
    """Send every reminder due at ``now`` (default: the current instant) that has not been sent,
    re-derived from the database across tenants, in this process; returns how many were sent now.

    The same path as the batch jobs (:func:`send_reminders_now`, one SMTP connection per batch),
    without the queue: for tests and the CLI. Each booking is handled in its own tenant scope and
    unit of work; a failed send is logged and retried by the next sweep. Needs an app context.
    """
    now = now or utcnow()
    with unit_of_work():
        candidates = rules.reminder_candidates(now, limit)
    by_tenant: dict[uuid.UUID, list[str]] = {}
    for tenant_id, booking_id in candidates:
        by_tenant.setdefault(tenant_id, []).append(str(booking_id))
    sent = 0
    for tenant_id, ids in by_tenant.items():
        with tenant_scope(tenant_id):
            sent += send_reminders_now(ids, now)
    return sent


def _sweep_one(booking_id: uuid.UUID, now: datetime) -> int:
    """Send the booking's due reminder if it is not sent yet; 1 when sent now, else 0. The facts
    are loaded once, in the customer's language."""
    with speaking(booking_customer_locale(booking_id)):
        facts = rules.load_booking_facts(booking_id)
        if facts is None or facts.status != BookingStatus.CONFIRMED.value:
            return 0
        which = rules.due_reminder(facts.starts_at, rules.last_change_at(booking_id), now)
        if which is None or is_sent(rules.reminder_key(booking_id, which, facts.starts_at)):
            return 0
        return 1 if _send_reminder(facts, which, in_language=True) == Outcome.SENT else 0


def reclaim_stale_deliveries(now: datetime | None = None) -> int:
    """Re-enqueue the job of every delivery stuck in ``sending`` longer than the lease (its
    worker died mid-send): booking emails, reminders, staff emails and guests' new-message
    emails; the job takes the claim over and sends. Returns how many. Commits the read."""
    now = now or utcnow()
    with unit_of_work():
        stale = rules.stale_deliveries(now - timedelta(seconds=lease_seconds()))
    count = 0
    for tenant_id, key in stale:
        tid = str(tenant_id)
        guest = chat_messages.parse_dedup_key(key)
        if guest is not None:  # a guest's new-message email
            enqueue(f"{chat_messages.JOBS}.send_guest_message_email", tid, *guest)
            count += 1
            continue
        parsed = rules.parse_key(key)
        if parsed is None:
            continue
        if parsed.kind in {"reminder24", "reminder2"}:
            which = parsed.kind.removeprefix("reminder") + "h"
            enqueue(f"{TASKS}.send_booking_reminder", tid, parsed.booking_id, which, parsed.rest)
        elif parsed.kind.startswith("staff-") and parsed.rest.count(":") == 0:
            enqueue(f"{TASKS}.send_staff_booking_email", tid, parsed.booking_id,
                     parsed.kind.removeprefix("staff-"), parsed.rest)
        elif parsed.kind in rules.CUSTOMER_EMAILS.values():
            enqueue(f"{TASKS}.send_booking_email", tid, parsed.booking_id, parsed.kind, parsed.rest)
        else:
            continue
        count += 1
    return count


def periodic_sweep() -> dict[str, int]:
    """Periodic job: hand due reminders to batch jobs (:func:`enqueue_reminder_batches`; also
    run every few seconds by :func:`periodic_reminder_dispatch`), send staff's reminders for booking requests still
    waiting, the staff's daily agendas due this morning, and re-enqueue stale deliveries
    (direct ones and notifications')."""

    def sweep() -> dict[str, int]:
        return {"reminders": enqueue_reminder_batches(), "waiting": waiting.sweep_waiting_requests(),
                "agendas": agenda.send_daily_agendas(), "reclaimed": reclaim_stale_deliveries(),
                "notifications": requeue_stuck_deliveries()}

    return run_on_platform(sweep)


# --- automatic booking transitions -----------------------------------------------------------

# --- platform account emails -------------------------------------------------------------------


def enqueue_account_email(to: str, subject: str, text: str, html: str | None = None) -> str:
    """Queue an account email (password reset, email verification) to ``to``; returns the job id.

    Call after the transaction that caused it has committed. Needs an app context.
    """
    return enqueue(f"{TASKS}.send_account_email", to, subject, text, html).id


def send_account_email(to: str, subject: str, text: str, html: str | None = None) -> str:
    """Job: send a platform account email as ``"Plaza" <MAIL_FROM>``.

    Not tenant data, so no ``delivery`` row: a retry of a job that already sent is stopped by
    a Redis marker per job id (kept 7 days). Returns ``sent``, ``already_sent``, or ``skipped``
    when the address is over ``MAIL_PER_RECIPIENT_PER_HOUR`` (logged with the reason, not raised).

    Raises:
        smtplib.SMTPException, OSError: SMTP failed (RQ retries the job).
    """

    def send() -> str:
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
