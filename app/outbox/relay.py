"""The outbox relay: committed outbox events become RQ jobs.

Which jobs an event causes is decided by the consumers, not here: :data:`ROUTERS` lists, by
dotted path, the functions ``router(kind, tenant_id, event_id, payload) -> list[JobSpec]``
of the packages that react to events (notifications, payments). They are resolved by name
when the relay runs, like every RQ job, so this low-level package imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import JobSpec, enqueue, get_queue, run_on_platform
from app.outbox.models import OutboxEvent
from app.tenants.context import platform_scope
from app.timeutil import utcnow
from app.uow import unit_of_work

#: Events taken per relay batch.
RELAY_BATCH = 200
#: Batches one periodic relay run takes at most.
RELAY_MAX_BATCHES = 10

#: The routers asked for each event's jobs, in this order (the jobs are enqueued in the same order).
ROUTERS: tuple[str, ...] = (
    "app.notifications.service.jobs_for_event",  # customer / staff emails, reminders, invitations
    "app.checkout.tasks.payment_jobs_for_event",  # refunds and fees by policy, hold expiry
    "app.notifications.service.fanout_jobs_for_event",  # in-app, push and SMS notifications
    "app.community.tasks.jobs_for_event",  # guests' inquiry emails (confirmation, replies)
    "app.community.feed_index.jobs_for_event",  # the apex feed's copies of posts (listed_post)
    "app.marketplace.tasks.listing_jobs_for_event",  # the marketplace read model (listings, ratings)
    "app.verification.tasks.jobs_for_event",  # verification decisions emailed to the owners
    "app.metrics.tasks.jobs_for_event",  # the metrics rollups of the booking's day
    "app.leads.routing_tasks.jobs_for_event",  # a lead offered: the provider's owners and managers emailed
)

Router = Callable[[str, str, str, dict], list[JobSpec]]


@cache
def resolve_router(path: str) -> Router:
    """The router function at dotted ``path`` (``package.module.function``), imported once.

    Raises:
        ImportError, AttributeError: no such module or function (a wrong entry in :data:`ROUTERS`).
    """
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def jobs_for_event(event: OutboxEvent) -> list[JobSpec]:
    """Every job ``event`` causes, from every router in :data:`ROUTERS`, in order."""
    args = (event.kind, str(event.tenant_id), str(event.id), dict(event.payload or {}))
    return [spec for path in ROUTERS for spec in resolve_router(path)(*args)]


def relay_outbox(limit: int = RELAY_BATCH) -> int:
    """Turn up to ``limit`` unrelayed outbox events, across tenants, into RQ jobs; returns how many.

    Rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` inside ``platform_scope`` so
    concurrent relays split the work; jobs are enqueued before ``relayed_at`` is committed,
    so a crash in between relays an event twice (the jobs are idempotent), never zero times.
    Each call is one unit of work on the platform role (:func:`app.uow.unit_of_work`): it
    commits ``relayed_at``. Needs an app context.
    """
    queue = get_queue()
    with platform_scope("outbox relay"), unit_of_work():
        events = list(db.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.relayed_at.is_(None))
            .order_by(OutboxEvent.created_at).limit(limit).with_for_update(skip_locked=True)))
        now = utcnow()
        for event in events:
            for spec in jobs_for_event(event):
                enqueue(spec.func, *spec.args, queue=queue)
            event.relayed_at = now
    return len(events)


def relay_all() -> int:
    """Relay the outbox until it is empty, at most :data:`RELAY_MAX_BATCHES` batches; returns
    how many events were relayed. Needs an app context."""
    total = 0
    for _ in range(RELAY_MAX_BATCHES):
        n = relay_outbox(RELAY_BATCH)
        total += n
        if n < RELAY_BATCH:
            break
    return total


def periodic_relay() -> int:
    """Periodic job: relay the outbox until it is empty (:func:`relay_all`); returns how many events."""
    return run_on_platform(relay_all)
