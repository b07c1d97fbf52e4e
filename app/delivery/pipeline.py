"""Send each message once: the delivery protocol over the ``delivery`` table.

1. Claim: insert ``Delivery(status='sending', claimed_at=now)`` for the dedup key in its own
   committed transaction (``INSERT … ON CONFLICT DO NOTHING``). When the key already exists:
   ``sent`` -> stop; ``failed``, or ``sending`` with a lease older than
   ``DELIVERY_LEASE_SECONDS`` (default 300: a worker that died mid-send) -> take it over with
   ``UPDATE … WHERE status = old AND claimed_at = old`` (only one taker wins); else another
   worker is sending it right now -> stop.
2. Send over SMTP (``SMTP_URL``), unless the recipient already had
   ``MAIL_PER_RECIPIENT_PER_HOUR`` emails this hour (:mod:`app.delivery.mailcap`): then
   mark it ``skipped`` with the reason (final: never sent later) and return ``skipped``.
3. Mark ``sent`` (committed). On an SMTP error mark ``failed`` with the error and raise
   :class:`DeliveryFailed`, so the RQ job retries.

A message that cannot even be built because the stored address is unusable is recorded once
as ``undeliverable`` with the reason (:func:`record_undeliverable`): final, like ``sent``, so
neither RQ's retries, the reminder sweep nor a later job try it again.

The claim and the result are each written in a transaction of their own
(:func:`app.uow.own_transaction`): the claim has to be durable before the message leaves, so
it cannot share the caller's unit of work, which is left untouched. Call it from jobs only,
inside a tenant scope. A worker
killed after the SMTP server accepted the message but before step 3 committed causes one
duplicate after the lease expires; that window is a few milliseconds, against a
lost-forever message otherwise.
"""

from __future__ import annotations

import enum
import logging
import smtplib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.config import config_str
from app.delivery.mailcap import cap_reason, take_send_slot
from app.delivery.mailer import smtp_send
from app.delivery.models import Delivery
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow
from app.uow import own_transaction

log = logging.getLogger("plaza.notifications")

DEFAULT_LEASE_SECONDS = 300


class Outcome(enum.StrEnum):
    """What :func:`deliver` did: ``sent`` now, ``already_sent`` before, ``busy`` (another worker
    holds it), ``undeliverable`` (the stored address cannot be put in a header; recorded), or
    ``skipped`` (not sent: the recipient's hourly cap; recorded with the reason)."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    BUSY = "busy"
    UNDELIVERABLE = "undeliverable"
    SKIPPED = "skipped"


#: Delivery statuses that end the delivery for good (``skipped``: over the recipient's hourly cap).
SETTLED = {"sent": Outcome.ALREADY_SENT, "undeliverable": Outcome.UNDELIVERABLE, "skipped": Outcome.SKIPPED}
FINAL_STATUSES = tuple(SETTLED)


class DeliveryFailed(Exception):
    """A channel (the SMTP server, a push service, the SMS provider) refused the message or could
    not be reached; recorded as ``failed`` on the delivery row, and the RQ job retries."""


def lease_seconds() -> int:
    """How long a ``sending`` claim is honoured before another worker may take it over.

    ``DELIVERY_LEASE_SECONDS`` from the app config or the environment, default 300. The one
    lease of both delivery tables (:mod:`app.notifications.sending` uses it too).
    """
    return int(config_str("DELIVERY_LEASE_SECONDS", str(DEFAULT_LEASE_SECONDS)))


def is_sent(key: str) -> bool:
    """True when the current tenant's delivery ``key`` is settled: recorded as sent, or as
    undeliverable (nothing more will be tried)."""
    return db.session.scalar(sa.select(Delivery.status).where(Delivery.dedup_key == key)) in FINAL_STATUSES


def record_undeliverable(key: str, recipient: str, reason: str) -> Outcome:
    """Record delivery ``key`` as ``undeliverable`` with ``reason`` (in its own transaction);
    returns :attr:`Outcome.UNDELIVERABLE`. A key already sent stays sent."""
    now = utcnow()
    values = {"status": "undeliverable", "error": reason[:2000], "claimed_at": None}
    with own_transaction() as session:
        session.execute(
            pg_insert(Delivery).values(
                tenant_id=require_tenant_id(), id=uuid.uuid4(), dedup_key=key, channel="email",
                recipient=recipient[:254], subject="", attempts=1, created_at=now, **values,
            ).on_conflict_do_update(index_elements=["tenant_id", "dedup_key"], set_=values,
                                    where=Delivery.status != "sent"))
    log.warning("delivery undeliverable", extra={"dedup_key": key, "error": reason})
    return Outcome.UNDELIVERABLE


def claim(key: str, recipient: str, subject: str, now: datetime) -> uuid.UUID | Outcome:
    """Claim delivery ``key`` for sending, in its own committed transaction (the lease starts ``now``).

    Returns the delivery id when this worker may send; else the :class:`Outcome` that stops it
    (settled before, or ``busy``: another worker holds an unexpired lease or won the take-over).
    """
    tenant_id = require_tenant_id()
    with own_transaction() as session:
        new_id = session.execute(
            pg_insert(Delivery).values(
                tenant_id=tenant_id, id=uuid.uuid4(), dedup_key=key, channel="email", recipient=recipient[:254],
                subject=subject[:250], status="sending", attempts=1, claimed_at=now, created_at=now,
            ).on_conflict_do_nothing(index_elements=["tenant_id", "dedup_key"]).returning(Delivery.id)
        ).scalar()
    if new_id is not None:
        return new_id
    with own_transaction() as session:
        row = session.execute(sa.select(Delivery.id, Delivery.status, Delivery.claimed_at)
                              .where(Delivery.dedup_key == key)).one()
        if row.status in SETTLED:  # nothing more will be tried
            return SETTLED[row.status]
        expired = row.claimed_at is None or row.claimed_at < now - timedelta(seconds=lease_seconds())
        if row.status == "sending" and not expired:
            return Outcome.BUSY
        same_claim = (Delivery.claimed_at.is_(None) if row.claimed_at is None
                      else Delivery.claimed_at == row.claimed_at)
        taken = session.execute(
            sa.update(Delivery).where(Delivery.id == row.id, Delivery.status == row.status, same_claim)
            .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1, recipient=recipient[:254],
                    subject=subject[:250])
            .execution_options(synchronize_session=False)
        ).rowcount
    if taken != 1:
        return Outcome.BUSY
    log.info("delivery taken over", extra={"dedup_key": key, "previous_status": row.status})
    return row.id


def deliver(key: str, message: EmailMessage) -> Outcome:
    """Send ``message`` unless the delivery ``key`` was already sent or is being sent, or the
    recipient is over the hourly cap (then recorded as ``skipped`` with the reason).

    The claim and the result are committed on their own (:func:`app.uow.own_transaction`);
    the caller's unit of work is untouched.

    Raises:
        DeliveryFailed: the SMTP send failed; the delivery is marked ``failed`` and may be
            taken over by a retry.
    """
    claimed = claim(key, str(message["To"]), str(message["Subject"] or ""), utcnow())
    if isinstance(claimed, Outcome):
        return claimed
    if not take_send_slot(str(message["To"])):
        _mark(claimed, status="skipped", error=cap_reason())
        return Outcome.SKIPPED
    try:
        smtp_send(current_app.config["SMTP_URL"], message)
    except (smtplib.SMTPException, OSError, ValueError) as exc:  # what smtp_send and the email package raise
        _mark(claimed, status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        log.warning("delivery failed", extra={"dedup_key": key, "error": str(exc)})
        raise DeliveryFailed(f"sending {key!r} failed: {exc}") from exc
    _mark(claimed, status="sent", sent_at=utcnow(), error=None)
    log.info("delivery sent", extra={"dedup_key": key})
    return Outcome.SENT


def _mark(delivery_id: uuid.UUID, **values: object) -> None:
    with own_transaction() as session:
        session.execute(sa.update(Delivery).where(Delivery.id == delivery_id).values(**values)
                        .execution_options(synchronize_session=False))
