"""The pieces of a reminder batch job (:func:`app.notifications.tasks.send_reminders_now`):
the Redis leases that keep a booking's due reminder with one batch at a time, and the read that
turns a chunk of bookings into their guests' reminder emails.

Tenant in scope for :func:`guest_reminders`; nothing here commits.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import Message

from app.booking.models import BookingStatus
from app.config import config_str
from app.customers.ownership import accounts_of
from app.delivery.mailer import UndeliverableAddress
from app.delivery.pipeline import record_undeliverable
from app.notifications import service as rules
from app.notifications.emails import booking_email, reminder_kind
from app.notifications.language import booking_customer_locales, speaking
from app.payments.ledger import paid_amounts
from app.redis_client import get_redis

#: Default of ``REMINDER_LEASE_SECONDS``.
DEFAULT_REMINDER_LEASE_SECONDS = 30


def reminder_lease_seconds() -> int:
    """Seconds a booking's reminder stays handed to a batch job before the dispatcher hands it to
    another (``REMINDER_LEASE_SECONDS``, default 30); a running batch renews its leases."""
    return int(config_str("REMINDER_LEASE_SECONDS", str(DEFAULT_REMINDER_LEASE_SECONDS)))


def lease_key(booking_id: uuid.UUID | str) -> str:
    """The Redis key of a booking's reminder lease."""
    return f"plaza:reminder-lease:{booking_id}"


def renew_leases(booking_ids: list[str], seconds: int) -> None:
    """Extend the reminder leases of ``booking_ids`` to ``seconds`` from now (one Redis round trip)."""
    pipe = get_redis().pipeline(transaction=False)
    for booking_id in booking_ids:
        pipe.set(lease_key(booking_id), "1", ex=seconds)
    pipe.execute()


#: Redis keys of the reminder dispatch: the instant the last scan read up to, and the marker
#: whose expiry calls for the next full scan.
LAST_SCAN_KEY = "plaza:reminder-dispatch:last-scan"
FULL_SCAN_KEY = "plaza:reminder-dispatch:full-scan"
#: Seconds the instant of an incremental scan is moved back, for clocks that differ between workers.
SCAN_OVERLAP_SECONDS = 5


def scan_since(now: datetime, seconds: int) -> datetime | None:
    """Where the reminder dispatch at ``now`` starts reading: ``None`` for a full scan of every
    unsettled due reminder, which happens at most once per ``seconds`` (the lease length) and
    whenever there is no earlier scan to go on; else the instant the last scan read up to (less
    :data:`SCAN_OVERLAP_SECONDS`), so only reminders that fell due since then are read.

    Everything an earlier scan saw was leased then; the full scan hands out again what a killed
    or stopped batch left when its lease ran out (within two lease lengths), and catches a booking
    confirmed when its reminder was already due."""
    redis = get_redis()
    last = redis.get(LAST_SCAN_KEY)
    full_scan_due = redis.set(FULL_SCAN_KEY, "1", nx=True, ex=seconds)
    if last is None or full_scan_due:
        return None
    since = datetime.fromtimestamp(float(last), UTC) - timedelta(seconds=SCAN_OVERLAP_SECONDS)
    return since if since < now else None


def scanned_up_to(now: datetime, seconds: int, *, complete: bool = True) -> None:
    """Record that the dispatch has read every reminder due at ``now`` (kept ``2 * seconds``, so a
    dispatch that stopped for longer starts again with a full scan); a scan cut short by its
    limit (``complete`` false) makes the next one a full scan instead."""
    if complete:
        get_redis().set(LAST_SCAN_KEY, repr(now.timestamp()), ex=2 * seconds)
    else:
        get_redis().delete(LAST_SCAN_KEY)


#: Bookings read, built and claimed together by :func:`app.notifications.tasks.send_reminders_now`
#: (the claims' leases start together, so a chunk is what one worker sends well within
#: ``DELIVERY_LEASE_SECONDS``).
REMINDER_CHUNK = 25


def guest_reminders(booking_ids: list[uuid.UUID], now: datetime
                    ) -> tuple[dict[str, tuple[uuid.UUID, Message]], list[uuid.UUID]]:
    """For the bookings whose reminder is due at ``now`` (tenant in scope, one read transaction):
    the guests' reminder emails, each in its customer's language, by dedup key ``-> (booking id,
    message)``; and the bookings whose customer has an account (their notifications carry it).
    A guest with no usable address is recorded ``undeliverable`` here, once."""
    languages = booking_customer_locales(booking_ids)
    facts_by_id = rules.load_booking_facts_many(booking_ids, languages)
    changes = rules.last_changes(booking_ids)
    accounts = accounts_of(f.customer_id for f in facts_by_id.values() if f.customer_id is not None)
    paid = paid_amounts(booking_ids)
    guests: dict[str, tuple[uuid.UUID, Message]] = {}
    account_holders: list[uuid.UUID] = []
    for booking_id in booking_ids:
        facts = facts_by_id.get(booking_id)
        if facts is None or facts.status != BookingStatus.CONFIRMED.value:
            continue
        which = rules.due_reminder(facts.starts_at, changes.get(booking_id), now)
        if which is None:
            continue
        if facts.customer_id in accounts:
            account_holders.append(booking_id)
            continue
        key = rules.reminder_key(booking_id, which, facts.starts_at)
        if not facts.customer_email:  # known by phone only: recorded once, so the sweep does not try again
            record_undeliverable(key, "", "no email address on record")
            continue
        with speaking(languages.get(booking_id)):
            try:
                guests[key] = (booking_id, booking_email(facts, reminder_kind(which), paid=paid.get(booking_id, 0)))
            except UndeliverableAddress as exc:
                record_undeliverable(key, facts.customer_email, str(exc))
    return guests, account_holders
