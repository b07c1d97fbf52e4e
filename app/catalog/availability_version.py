"""The per-tenant availability version: every change to what can be booked bumps it.

Availability (:mod:`app.scheduling`) is cached in Redis under keys that carry the tenant's
version, so a bump invalidates every cached answer of that tenant at once. Catalog changes
(services, staff, working hours, time off, booking rules) and booking changes call
:func:`bump_version`; the bump is applied when the session commits, so a reader never caches
old data under the new version, and dropped on rollback. It lives here, below scheduling and
booking, so that both the writers and the cache reader can import it.

After a bump, unless ``AVAILABILITY_WARM_AFTER_CHANGE`` is off, a job
(:func:`app.scheduling.tasks.warm_availability`) recomputes the tenant's popular ranges under the
new version, so the next customer finds them cached.
"""

from __future__ import annotations

import logging
import uuid

import redis
from flask import current_app
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.jobs.runner import enqueue
from app.redis_client import get_redis
from app.tenants.context import current_tenant_id

log = logging.getLogger("plaza.cache")
#: ``Session.info`` key: the tenant ids whose version the open transaction will bump.
PENDING_KEY = "plaza_bump_tenants"


def version_key(tenant_id: uuid.UUID) -> str:
    """Redis key of a tenant's availability version counter (an integer, missing = 0)."""
    return f"plaza:t:{tenant_id}:avail:version"


def bump_version(tenant_id: uuid.UUID | None = None) -> None:
    """Invalidate the cached availability of ``tenant_id`` (default: the tenant in scope; with
    none, nothing) when the current transaction of ``db.session`` commits."""
    tid = tenant_id or current_tenant_id()
    if tid is None:
        return
    db.session().info.setdefault(PENDING_KEY, set()).add(tid)


#: The job that recomputes a tenant's popular ranges after a bump (dotted path: it lives in
#: :mod:`app.scheduling`, above this module): ``(tenant_id as text, the new version)``.
WARM_JOB = "app.scheduling.tasks.warm_availability"
#: Its own RQ queue, which ``worker.py`` lists before the default one: a backlog of emails or
#: rollups never makes the recompute late (it only waits for the job already running).
WARM_QUEUE = "availability"


@event.listens_for(Session, "after_commit")
def _apply_bumps(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    try:
        pipe = get_redis().pipeline()
        tenants = list(pending)
        for tid in tenants:
            pipe.incr(version_key(tid))
        versions = pipe.execute()
        if current_app.config.get("AVAILABILITY_WARM_AFTER_CHANGE"):
            queue = Queue(WARM_QUEUE, connection=get_redis())
            for tid, version in zip(tenants, versions, strict=True):
                enqueue(WARM_JOB, str(tid), int(version), queue=queue)
    except (redis.RedisError, RuntimeError):
        log.exception("availability cache bump failed")


@event.listens_for(Session, "after_rollback")
def _drop_bumps(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
