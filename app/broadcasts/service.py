"""Composing, scheduling and stopping a broadcast: the wizard's steps, each flushing, never committing.

A broadcast is a ``draft`` while the admin composes it (audience, then message and channels),
then ``scheduled`` for now or a later time (tz-aware UTC). Sending (:mod:`app.broadcasts.tasks`)
freezes the recipients into ``broadcast_recipient`` and works through them in batches; a stop
turns the remaining recipients into ``skipped``. Every change of state is audit-logged (a
platform entry: :func:`app.audit.service.record_audit` in platform scope).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.broadcasts.audience import Audience, describe, recipient_ids
from app.broadcasts.models import (
    DONE,
    DRAFT,
    PENDING,
    SCHEDULED,
    SENDING,
    SENT,
    SKIPPED,
    STOPPED,
    Broadcast,
    BroadcastRecipient,
)
from app.errors import InputError
from app.extensions import db
from app.formatting import format_number
from app.identity.models import User
from app.jobs.runner import enqueue, enqueue_at
from app.notifications import registry
from app.tenants.context import platform_scope
from app.timeutil import utcnow
from app.uow import after_commit

#: Channels a broadcast may use, in form order.
CHANNELS = (registry.INAPP, registry.EMAIL)
MAX_SUBJECT, MAX_BODY = 150, 5000
#: How many recipients the preview names as a sample.
SAMPLE_SIZE = 5


#: The job that sends one batch (:func:`app.broadcasts.tasks.send_batch`).
SEND_BATCH_JOB = "app.broadcasts.tasks.send_batch"


class BroadcastError(InputError, ValueError):
    """A broadcast step that cannot be taken; ``message`` is user-facing, ``field`` the form field."""


def type_key(audience: Audience) -> str:
    """The notification type a broadcast to ``audience`` goes out as: ``platform_news`` (marketing)
    for customers, ``platform_announcement`` for businesses' owners."""
    return "platform_news" if audience.kind == "customers" else "platform_announcement"


def notification_audience(audience: Audience) -> str:
    """The registry audience of the recipients: ``customer`` or ``owner``."""
    return "customer" if audience.kind == "customers" else "owner"


def get_broadcast(broadcast_id: uuid.UUID | None) -> Broadcast | None:
    """The broadcast ``broadcast_id``, or ``None``."""
    return db.session.get(Broadcast, broadcast_id) if broadcast_id else None


def list_broadcasts(limit: int = 100) -> list[Broadcast]:
    """The newest broadcasts first."""
    return list(db.session.scalars(sa.select(Broadcast).order_by(Broadcast.created_at.desc()).limit(limit)))


def _audit(by: AuditActor, action: str, b: Broadcast, before: dict | None = None, after: dict | None = None) -> None:
    with platform_scope(f"broadcasts: {action}"):
        record_audit(by, action, "broadcast", b.id, before=before, after=after)


def create_draft(audience: Audience, *, by: AuditActor) -> Broadcast:
    """Step 1: a new draft broadcast to ``audience`` (already validated by
    :func:`app.broadcasts.audience.make_audience`). Flushes; audit ``broadcast.drafted``."""
    now = utcnow()
    b = Broadcast(id=uuid.uuid4(), created_by=by.user_id, audience=audience.to_json(), status=DRAFT, channels=[],
                  created_at=now, updated_at=now)
    db.session.add(b)
    db.session.flush()
    _audit(by, "broadcast.drafted", b, after={"audience": b.audience})
    return b


def _require_draft(b: Broadcast) -> None:
    if b.status != DRAFT:
        raise BroadcastError(_("This broadcast is no longer a draft: it cannot be changed."), None)


def update_audience(b: Broadcast, audience: Audience) -> Broadcast:
    """Step 1 again on a draft: replace its audience. Flushes.

    Raises:
        BroadcastError: not a draft any more.
    """
    _require_draft(b)
    b.audience, b.updated_at = audience.to_json(), utcnow()
    db.session.flush()
    return b


def set_message(b: Broadcast, subject: str, body: str, channels: list[str]) -> Broadcast:
    """Step 2: the message (``subject`` 1-150 characters, ``body`` 1-5000, plain text) and the
    channels (``inapp`` and/or ``email``). Flushes.

    Raises:
        BroadcastError: not a draft, an empty or too long subject or body, no channel or an unknown one.
    """
    _require_draft(b)
    subject, body = " ".join(subject.split()), body.strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise BroadcastError(_("A subject is 1-%(max)s characters.", max=MAX_SUBJECT), "subject")
    if not body or len(body) > MAX_BODY:
        raise BroadcastError(_("A message is 1-%(max)s characters.", max=format_number(MAX_BODY)), "body")
    chosen = [c for c in CHANNELS if c in set(channels)]
    if not chosen or len(chosen) != len(set(channels)):
        raise BroadcastError(_("Choose in the app, email, or both."), "channels")
    b.subject, b.body, b.channels, b.updated_at = subject, body, chosen, utcnow()
    db.session.flush()
    return b


@dataclass(frozen=True)
class Preview:
    """Step 3's view: ``count`` recipients now, ``audience`` in words, the rendered in-app
    ``title``/``text`` and email ``subject``/``email_text``, and up to :data:`SAMPLE_SIZE` sample
    recipients' emails."""

    count: int
    audience: str
    title: str
    text: str
    subject: str
    email_text: str
    sample: list[str]


def message_context(b: Broadcast) -> dict[str, str]:
    """The notification context of the broadcast's message (``headline``, ``message``)."""
    return {"headline": b.subject, "message": b.body}


def preview(b: Broadcast) -> Preview:
    """Step 3: who it reaches now and what they see (read only)."""
    audience = Audience.from_json(b.audience)
    ids = recipient_ids(audience)
    rendered = registry.render_for(type_key(audience), notification_audience(audience),
                                   {**message_context(b), "url": "https://plaza.example/"})
    sample = [u for u in db.session.scalars(sa.select(User.email).where(User.id.in_(ids[:SAMPLE_SIZE])))] if ids else []
    return Preview(len(ids), describe(audience), rendered.title, rendered.body, rendered.subject, rendered.text, sample)


def schedule(b: Broadcast, send_at: datetime | None, *, by: AuditActor, now: datetime | None = None) -> Broadcast:
    """Step 3: send the draft at ``send_at`` (tz-aware UTC; ``None``: now). Flushes; audit
    ``broadcast.scheduled``. Its first batch job is enqueued once the unit of work commits (for
    ``send_at``; the periodic sweep starts it anyway when due).

    Raises:
        BroadcastError: not a draft, no message yet, ``send_at`` naive or in the past.
    """
    _require_draft(b)
    now = now or utcnow()
    if not b.subject or not b.channels:
        raise BroadcastError(_("Write the message and choose its channels first."), None)
    if send_at is not None:
        if send_at.tzinfo is None:
            raise BroadcastError(_("A time needs its time zone."), "send_at")
        if send_at < now:
            raise BroadcastError(_("Choose a time in the future, or send now."), "send_at")
    b.status, b.send_at, b.updated_at = SCHEDULED, send_at or now, now
    db.session.flush()
    _audit(by, "broadcast.scheduled", b, before={"status": DRAFT},
           after={"status": SCHEDULED, "send_at": b.send_at.isoformat(), "audience": b.audience,
                  "subject": b.subject, "channels": b.channels})
    broadcast_id, when = b.id, b.send_at
    after_commit(lambda: enqueue_batch(broadcast_id, when))
    return b


def enqueue_batch(broadcast_id: uuid.UUID, when: datetime | None = None) -> None:
    """Enqueue the job sending the broadcast's next batch (at ``when``, tz-aware UTC, if later than now)."""
    if when is not None and when > utcnow():
        enqueue_at(when, SEND_BATCH_JOB, str(broadcast_id))
        return
    enqueue(SEND_BATCH_JOB, str(broadcast_id))


def stop(b: Broadcast, *, by: AuditActor, now: datetime | None = None) -> int:
    """Stop a scheduled or sending broadcast: its remaining recipients are ``skipped`` (batches
    already running finish their current person; later batches find nothing). Flushes; audit
    ``broadcast.stopped``. Returns how many recipients will not get it.

    Raises:
        BroadcastError: the broadcast is a draft, already sent or already stopped.
    """
    if b.status not in (SCHEDULED, SENDING):
        raise BroadcastError(_("Only a scheduled or sending broadcast can be stopped."), None)
    now = now or utcnow()
    before = b.status
    skipped = db.session.execute(
        sa.update(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == b.id,
                                            BroadcastRecipient.status == PENDING)
        .values(status=SKIPPED, reason="broadcast stopped", handled_at=now)).rowcount or 0
    b.status, b.stopped_at, b.finished_at, b.updated_at = STOPPED, now, now, now
    db.session.flush()
    _audit(by, "broadcast.stopped", b, before={"status": before, "done": b.done},
           after={"status": STOPPED, "skipped": skipped})
    return skipped


@dataclass(frozen=True)
class Progress:
    """How far a broadcast is: ``total`` recipients, ``done`` handled, ``sent`` notified,
    ``skipped``, ``percent`` (0-100) and whether it is ``finished`` (sent or stopped)."""

    total: int
    done: int
    sent: int
    skipped: int
    percent: int
    finished: bool


def progress(b: Broadcast) -> Progress:
    """The broadcast's progress, counted from its recipients."""
    counts = dict(db.session.execute(
        sa.select(BroadcastRecipient.status, sa.func.count()).where(BroadcastRecipient.broadcast_id == b.id)
        .group_by(BroadcastRecipient.status)).all())
    sent, skipped = counts.get(DONE, 0), counts.get(SKIPPED, 0)
    total = sent + skipped + counts.get(PENDING, 0)
    done = sent + skipped
    percent = 100 if b.status == SENT and not total else (done * 100 // total if total else 0)
    return Progress(total, done, sent, skipped, percent, b.status in (SENT, STOPPED))
