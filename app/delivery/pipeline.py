"""Send each message once: the one delivery protocol over the ``delivery`` table, for every
channel and for both kinds of row (a notification's, or a direct one to someone without an
account; :mod:`app.delivery.models`).

1. **Queue**: a row with status ``queued``. A notification's rows are written with the
   notification (:mod:`app.notifications.dispatch`); a direct row is inserted here by its dedup
   key (:func:`queue_direct`, ``INSERT … ON CONFLICT DO NOTHING`` in its own committed
   transaction), so two jobs for the same message find one row.
2. **Claim** (:func:`claim`, the one lease routine): ``UPDATE … SET status = 'sending',
   claimed_at = now`` only from ``queued``/``failed`` or from ``sending`` with a lease older than
   ``DELIVERY_LEASE_SECONDS`` (default 300: a worker that died mid-send), in its own committed
   transaction: only one worker wins.
3. **Last-minute checks** (the caller's: read meanwhile, preferences, consent, the booking's
   state…), then the recipient's hourly mail cap for email
   (``MAIL_PER_RECIPIENT_PER_HOUR``, :mod:`app.delivery.mailcap`): a reason marks the row
   ``skipped`` (final, never sent later).
4. **Send** on the channel, then record ``sent`` (with the provider's id) or ``failed`` with the
   error and raise :class:`DeliveryFailed` so the RQ job retries; each result is appended to
   the row's ``log``.

A message that cannot even be built because the stored address is unusable is recorded once
as ``undeliverable`` with the reason (:func:`record_undeliverable`): final, like ``sent``.

The claim and the result are each written in a transaction of their own
(:func:`app.uow.own_transaction`): the claim has to be durable before the message leaves, so
it cannot share the caller's unit of work, which is left untouched.

**Email is fenced by its claim.** The claim's ``claimed_at`` is the worker's token: an email's
``sent`` row is written (``… WHERE status = 'sending' AND claimed_at = <token>``, the row then
locked) *before* the SMTP server is asked to take the message, and committed as soon as the
server answers ``250`` (:mod:`app.delivery.smtp_session`). So:

* a worker whose lease was taken over (it stalled past ``DELIVERY_LEASE_SECONDS``) finds no row
  to update and abandons the SMTP transaction before its end: two workers never both send, so
  the lease can be short;
* a worker killed before the server took the message sends nothing (the server drops an
  unfinished DATA), and the message goes out once when the lease is taken over;
* the one window for a duplicate: the server has taken the message and the worker is killed
  (or PostgreSQL fails) before the single ``COMMIT`` round trip that follows the ``250``; the
  row stays ``sending`` and the message is sent again after the lease. Under a millisecond on
  loopback, against a lost-forever message if the order were the other way round.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.config import config_str
from app.delivery.mailcap import cap_reason, take_send_slot
from app.delivery.models import Delivery
from app.delivery.smtp_session import SmtpSession, active_session, addresses_of, header_text
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow
from app.uow import own_transaction

log = logging.getLogger("plaza.notifications")

DEFAULT_LEASE_SECONDS = 300
EMAIL = "email"


class Outcome(enum.StrEnum):
    """What :func:`deliver` did: ``sent`` now, ``already_sent`` before, ``busy`` (another worker
    holds it), ``undeliverable`` (the stored address cannot be put in a header; recorded), or
    ``skipped`` (not sent: the recipient's hourly cap; recorded with the reason)."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    BUSY = "busy"
    UNDELIVERABLE = "undeliverable"
    SKIPPED = "skipped"


#: Delivery statuses that end the delivery for good (``skipped``: over the cap, turned off…).
SETTLED = {"sent": Outcome.ALREADY_SENT, "undeliverable": Outcome.UNDELIVERABLE, "skipped": Outcome.SKIPPED}
FINAL_STATUSES = tuple(SETTLED)


class LeaseLost(Exception):
    """Another worker took the delivery over (this worker's claim outlived its lease): this
    worker must not send it."""


class DeliveryFailed(Exception):
    """A channel (the SMTP server, a push service, the SMS provider) refused the message or could
    not be reached; recorded as ``failed`` on the delivery row, and the RQ job retries."""


def lease_seconds() -> int:
    """How long a ``sending`` claim is honoured before another worker may take it over.

    ``DELIVERY_LEASE_SECONDS`` from the app config or the environment, default 300.
    """
    return int(config_str("DELIVERY_LEASE_SECONDS", str(DEFAULT_LEASE_SECONDS)))


def log_entry(status: str, at: datetime, error: str | None = None) -> dict[str, str | None]:
    """One entry of a delivery's ``log``: ``{"at": ISO 8601 UTC, "status", "error"}``."""
    return {"at": at.isoformat(), "status": status, "error": error}


def _append_log(status: str, now: datetime, error: str | None = None) -> sa.ColumnElement:
    return Delivery.log.op("||")(sa.cast(sa.func.jsonb_build_array(sa.func.jsonb_build_object(
        "at", now.isoformat(), "status", status, "error", error)), JSONB))


def is_sent(key: str) -> bool:
    """True when the current tenant's delivery ``key`` is settled: sent, skipped or undeliverable
    (nothing more will be tried)."""
    return db.session.scalar(sa.select(Delivery.status).where(
        Delivery.tenant_id == require_tenant_id(), Delivery.dedup_key == key)) in FINAL_STATUSES


def record_undeliverable(key: str, recipient: str, reason: str) -> Outcome:
    """Record direct delivery ``key`` of the tenant in scope as ``undeliverable`` with ``reason``
    (in its own transaction); returns :attr:`Outcome.UNDELIVERABLE`. A key already sent stays sent."""
    now = utcnow()
    values = {"status": "undeliverable", "error": reason[:2000], "claimed_at": None, "updated_at": now,
              "log": _append_log("undeliverable", now, reason[:2000])}
    with own_transaction() as session:
        session.execute(
            pg_insert(Delivery).values(
                tenant_id=require_tenant_id(), id=uuid.uuid4(), dedup_key=key, channel=EMAIL,
                recipient=recipient[:1000], subject="", attempts=1, created_at=now,
                **{**values, "log": [log_entry("undeliverable", now, reason[:2000])]},
            ).on_conflict_do_update(constraint="delivery_dedup_key", set_=values, where=Delivery.status != "sent"))
    log.warning("delivery undeliverable", extra={"dedup_key": key, "error": reason})
    return Outcome.UNDELIVERABLE


def queue_direct(key: str, recipient: str, subject: str, channel: str = EMAIL,
                 now: datetime | None = None) -> tuple[uuid.UUID, str]:
    """The direct delivery ``key`` of the tenant in scope, queued now unless it exists:
    ``(id, status)``. In its own committed transaction."""
    now = now or utcnow()
    tenant_id = require_tenant_id()
    with own_transaction() as session:
        new_id = session.execute(
            pg_insert(Delivery).values(
                tenant_id=tenant_id, id=uuid.uuid4(), dedup_key=key, channel=channel, recipient=recipient[:1000],
                subject=subject[:250], status="queued", attempts=0, log=[log_entry("queued", now)],
                created_at=now, updated_at=now,
            ).on_conflict_do_nothing(constraint="delivery_dedup_key").returning(Delivery.id)).scalar()
        if new_id is not None:
            return new_id, "queued"
        row = session.execute(sa.select(Delivery.id, Delivery.status).where(
            Delivery.tenant_id == tenant_id, Delivery.dedup_key == key)).one()
        return row.id, row.status


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    """The row may be claimed at ``now``: queued, failed, or a ``sending`` lease run out."""
    lease_cut = now - timedelta(seconds=lease_seconds())
    return sa.or_(Delivery.status.in_(("queued", "failed")),
                  sa.and_(Delivery.status == "sending",
                          sa.or_(Delivery.claimed_at.is_(None), Delivery.claimed_at < lease_cut)))


def queue_and_claim(key: str, recipient: str, subject: str, now: datetime,
                    channel: str = EMAIL) -> tuple[uuid.UUID, str, bool]:
    """:func:`queue_direct` and :func:`claim` in one statement and one committed transaction:
    the direct delivery ``key`` of the tenant in scope, inserted already claimed (``sending``,
    lease from ``now``) or claimed if it exists and is claimable. Returns ``(id, status, claimed)``;
    ``claimed`` False means another worker holds it or it is settled (``status`` says which)."""
    tenant_id = require_tenant_id()
    with own_transaction() as session:
        taken = session.execute(
            pg_insert(Delivery).values(
                tenant_id=tenant_id, id=uuid.uuid4(), dedup_key=key, channel=channel, recipient=recipient[:1000],
                subject=subject[:250], status="sending", claimed_at=now, attempts=1,
                log=[log_entry("queued", now), log_entry("sending", now)], created_at=now, updated_at=now,
            ).on_conflict_do_update(
                constraint="delivery_dedup_key", where=_claimable(now),
                set_={"status": "sending", "claimed_at": now, "attempts": Delivery.attempts + 1, "updated_at": now,
                      "log": _append_log("sending", now)},
            ).returning(Delivery.id)).scalar()
        if taken is not None:
            _forget(taken)
            return taken, "sending", True
        row = session.execute(sa.select(Delivery.id, Delivery.status).where(
            Delivery.tenant_id == tenant_id, Delivery.dedup_key == key)).one()
        return row.id, row.status, False


def claim(delivery_id: uuid.UUID, now: datetime) -> bool:
    """Take delivery ``delivery_id`` for sending, in its own committed transaction: only from
    ``queued``/``failed`` or a ``sending`` lease older than :func:`lease_seconds`. True when this
    worker may send (the lease starts ``now``)."""
    with own_transaction() as session:
        taken = session.execute(
            sa.update(Delivery)
            .where(Delivery.id == delivery_id, _claimable(now))
            .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1, updated_at=now,
                    log=_append_log("sending", now))
            .returning(Delivery.id)).scalar()
    _forget(delivery_id)
    return taken is not None


def finish(delivery_id: uuid.UUID, status: str, error: str | None = None, provider_id: str | None = None,
           subject: str | None = None, claimed_at: datetime | None = None) -> None:
    """Record the delivery's result (and its log entry; the provider's id and the subject that
    went out, when given) in its own committed transaction; with ``claimed_at``, only while the
    row still holds that claim (a claim taken over meanwhile is left to its new holder)."""
    now = utcnow()
    values: dict[str, object] = {"status": status, "error": error, "updated_at": now,
                                 "log": _append_log(status, now, error)}
    if status == "sent":
        values["sent_at"] = now
    if provider_id:
        values["provider_id"] = provider_id[:200]
    if subject:
        values["subject"] = subject[:250]
    fence = [Delivery.claimed_at == claimed_at] if claimed_at is not None else []
    with own_transaction() as session:
        session.execute(sa.update(Delivery).where(Delivery.id == delivery_id, *fence).values(**values))
    _forget(delivery_id)


@contextmanager
def sent_on_commit(delivery_id: uuid.UUID, claimed_at: datetime, provider_id: str | None,
                   subject: str | None) -> Iterator[None]:
    """Write the delivery's ``sent`` row (only while it holds the claim ``claimed_at``), keep it
    uncommitted for the block (the SMTP ``.`` is written and answered there), commit as the
    block exits normally; roll back when it raises.

    Raises:
        LeaseLost: the claim was taken over; nothing is written and the block does not run.
    """
    now = utcnow()
    values: dict[str, object] = {"status": "sent", "error": None, "updated_at": now, "sent_at": now,
                                 "log": _append_log("sent", now)}
    if provider_id:
        values["provider_id"] = provider_id[:200]
    if subject:
        values["subject"] = subject[:250]
    with own_transaction() as session:
        hit = session.execute(sa.update(Delivery).where(
            Delivery.id == delivery_id, Delivery.status == "sending", Delivery.claimed_at == claimed_at,
        ).values(**values).returning(Delivery.id)).scalar()
        if hit is None:
            raise LeaseLost(f"delivery {delivery_id} was taken over by another worker")
        yield
    _forget(delivery_id)


def _forget(delivery_id: uuid.UUID) -> None:
    """Expire the caller's loaded copy of the delivery, if any: it was changed on another connection."""
    loaded = db.session.identity_map.get(db.session.identity_key(Delivery, delivery_id))
    if loaded is not None:
        db.session.expire(loaded)


@dataclass(frozen=True)
class Sent:
    """What a channel reports after sending: the provider's message id and, for email, the
    subject that went out (both optional)."""

    provider_id: str | None = None
    subject: str | None = None


def _recorded_failure(delivery_id: uuid.UUID, dedup_key: str, claimed_at: datetime,
                      exc: Exception) -> DeliveryFailed:
    """Record the channel's failure ``exc`` on the delivery (``failed``, while this claim holds it)
    and return the :class:`DeliveryFailed` for the caller to raise."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    finish(delivery_id, "failed", error, claimed_at=claimed_at)
    log.warning("delivery failed", extra={"delivery_id": str(delivery_id), "dedup_key": dedup_key, "error": error})
    return DeliveryFailed(f"sending {dedup_key!r} failed: {error}")


Check = Callable[[Delivery], "str | None"]
Send = Callable[[Delivery], "Sent | str | None"]


def send_once(delivery_id: uuid.UUID, check: Check, send: Send, claimed_at: datetime | None = None) -> str:
    """The one send path: claim the delivery, run the last-minute ``check`` (a reason skips it),
    for email take a slot of the recipient's hourly cap, ``send`` it on its channel (returning
    the provider's id or a :class:`Sent`) and record the result. Returns ``sent``, ``skipped``, or ``already_<status>`` when it was not claimable
    (settled, or another worker holds the lease). ``claimed_at``: the caller claimed the row
    then already (:func:`queue_and_claim`). The caller's unit of work is untouched.

    Raises:
        DeliveryFailed: ``send`` raised; recorded as ``failed`` (with the error) for the retry.
    """
    if claimed_at is None:
        claimed_at = utcnow()
        if not claim(delivery_id, claimed_at):
            status = db.session.scalar(sa.select(Delivery.status).where(Delivery.id == delivery_id))
            return f"already_{status}"
    delivery = db.session.get(Delivery, delivery_id)
    reason = check(delivery)
    if reason is None and delivery.channel == EMAIL and not take_send_slot(delivery.recipient):
        reason = cap_reason()
    if reason is not None:
        finish(delivery_id, "skipped", reason)
        return "skipped"
    try:
        result = send(delivery)
    except Exception as exc:  # noqa: BLE001 - any channel failure (SMTP, push service, SMS provider) is recorded and retried
        raise _recorded_failure(delivery_id, delivery.dedup_key, claimed_at, exc) from exc
    sent = result if isinstance(result, Sent) else Sent(provider_id=result)
    finish(delivery_id, "sent", None, sent.provider_id, sent.subject, claimed_at=claimed_at)
    log.info("delivery sent", extra={"dedup_key": delivery.dedup_key, "channel": delivery.channel})
    return "sent"


@dataclass(frozen=True)
class ClaimedEmail:
    """A direct email delivery this worker holds: row ``id``, its ``dedup_key``, and the claim's
    token ``claimed_at`` (tz-aware UTC; the lease runs from it)."""

    id: uuid.UUID
    dedup_key: str
    claimed_at: datetime


def deliver(key: str, message: Message) -> Outcome:
    """Send the direct email ``message`` once under delivery ``key`` (tenant in scope): queued and
    claimed in one statement (:func:`queue_and_claim`), then :func:`send_claimed`. Settled keys and a lease held by another worker
    stop it; over the hourly cap it is recorded ``skipped``.

    Raises:
        DeliveryFailed: the SMTP send failed; the delivery is marked ``failed`` and may be
            taken over by a retry.
    """
    claimed_at = utcnow()
    delivery_id, status, claimed = queue_and_claim(key, header_text(message, "To"), header_text(message, "Subject"),
                                                   claimed_at)
    if not claimed:
        return SETTLED.get(status, Outcome.BUSY)
    return send_claimed(ClaimedEmail(delivery_id, key, claimed_at), message)


def claim_many(messages: dict[str, Message], now: datetime) -> dict[str, ClaimedEmail | Outcome]:
    """:func:`queue_and_claim` for many direct emails of the tenant in scope in ONE statement and
    one committed transaction (a batch of reminders): dedup key -> the :class:`ClaimedEmail` to
    send with :func:`send_claimed`, or the :class:`Outcome` that says why not (settled before,
    or :attr:`Outcome.BUSY`: another worker holds it). The lease of each claim starts at
    ``now``, so claim only as many as this worker sends within :func:`lease_seconds`; one it
    does not get to in time is taken over, and the fence keeps it from going out twice."""
    if not messages:
        return {}
    tenant_id = require_tenant_id()
    rows = [{"tenant_id": tenant_id, "id": uuid.uuid4(), "dedup_key": key, "channel": EMAIL,
             "recipient": header_text(message, "To")[:1000], "subject": header_text(message, "Subject")[:250],
             "status": "sending", "claimed_at": now, "attempts": 1,
             "log": [log_entry("queued", now), log_entry("sending", now)], "created_at": now, "updated_at": now}
            for key, message in messages.items()]
    with own_transaction() as session:
        taken = dict(session.execute(
            pg_insert(Delivery).values(rows).on_conflict_do_update(
                constraint="delivery_dedup_key", where=_claimable(now),
                set_={"status": "sending", "claimed_at": now, "attempts": Delivery.attempts + 1, "updated_at": now,
                      "log": _append_log("sending", now)},
            ).returning(Delivery.dedup_key, Delivery.id)).all())
        missed = [key for key in messages if key not in taken]
        statuses = dict(session.execute(sa.select(Delivery.dedup_key, Delivery.status).where(
            Delivery.tenant_id == tenant_id, Delivery.dedup_key.in_(missed))).all()) if missed else {}
    out: dict[str, ClaimedEmail | Outcome] = {}
    for key in messages:
        if key in taken:
            _forget(taken[key])
            out[key] = ClaimedEmail(taken[key], key, now)
        else:
            out[key] = SETTLED.get(statuses.get(key, ""), Outcome.BUSY)
    return out


def send_claimed(claimed: ClaimedEmail, message: Message) -> Outcome:
    """Send ``message`` under the claim this worker holds: the recipient's hourly cap (over it:
    recorded ``skipped``), then SMTP with the ``sent`` row written at the commit point
    (:func:`sent_on_commit`; over the open session of an :func:`app.delivery.smtp_session.reusing`
    block, else on a connection of its own). Returns :attr:`Outcome.SENT`, :attr:`Outcome.SKIPPED`,
    or :attr:`Outcome.BUSY` when the claim was taken over meanwhile (nothing sent).

    Raises:
        DeliveryFailed: the SMTP send failed; recorded ``failed`` (with the error) for the retry.
    """
    if not take_send_slot(next(iter(addresses_of(message, "To")), "")):
        finish(claimed.id, "skipped", cap_reason())
        return Outcome.SKIPPED
    message_id = header_text(message, "Message-ID") or None
    session = active_session()
    one_off = session is None
    session = session or SmtpSession(current_app.config["SMTP_URL"])
    try:  # raises smtplib.SMTPException, OSError, ValueError, LeaseLost
        session.send(message, lambda: sent_on_commit(claimed.id, claimed.claimed_at, message_id, None))
    except LeaseLost:
        log.warning("delivery taken over by another worker", extra={"dedup_key": claimed.dedup_key})
        return Outcome.BUSY
    except Exception as exc:  # noqa: BLE001 - any SMTP failure is recorded and retried
        raise _recorded_failure(claimed.id, claimed.dedup_key, claimed.claimed_at, exc) from exc
    finally:
        if one_off:
            session.close()
    log.info("delivery sent", extra={"dedup_key": claimed.dedup_key, "channel": EMAIL})
    return Outcome.SENT
