"""The job runner: the queue jobs go to, their retry policy, and the unit of work each job runs in.

Every job takes primitive arguments (tenant id first for tenant jobs) and is enqueued by
dotted path. Each run pushes a fresh app context on the worker's app (created once per worker
process by ``worker.py`` and bound with :func:`bind_job_app`), puts the tenant from its
arguments in scope, and is one :func:`app.uow.unit_of_work`: committed when it returns,
rolled back when it raises. No app context is pushed at import or shared between jobs.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from rq import Queue, Retry
from rq.job import Job

from app.extensions import db
from app.redis_client import get_redis
from app.tenants.context import tenant_scope
from app.uow import PermanentFailure, unit_of_work

log = logging.getLogger("plaza.jobs")

QUEUE_NAME = "default"
#: RQ retry policy of every job enqueued here: 5 more tries over about 22 minutes (seconds).
RETRY_INTERVALS = [10, 30, 60, 300, 900]
#: Seconds RQ keeps a finished job's result.
RESULT_TTL = 3600
#: Seconds RQ keeps a failed job.
FAILURE_TTL = 7 * 24 * 3600

T = TypeVar("T")

_job_app: Flask | None = None


class NoJobApp(RuntimeError):
    """A job ran with no app bound (:func:`bind_job_app`) and no app context around it."""


@dataclass(frozen=True)
class JobSpec:
    """An RQ job to enqueue: ``func`` is a dotted path, ``args`` primitives (tenant id first)."""

    func: str
    args: tuple[str, ...]


def bind_job_app(app: Flask) -> None:
    """Make ``app`` the app every job in this process runs on (``worker.py`` calls this once)."""
    global _job_app
    _job_app = app
    app.extensions["plaza_pool_pid"] = os.getpid()


def job_app() -> Flask:
    """The app jobs run on: the bound worker app, else the app of the surrounding context
    (in-process workers in tests).

    Raises:
        NoJobApp: neither exists (run the worker through ``worker.py``, which binds the app).
    """
    if _job_app is not None:
        return _job_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    raise NoJobApp("no app bound for jobs: start workers with `python worker.py`")


def _fresh_pool_after_fork(app: Flask) -> None:
    """In a forked work horse, drop the parent's pooled DB connections (never share a socket)."""
    pid = os.getpid()
    if app.extensions.get("plaza_pool_pid") not in (None, pid):
        for engine in db.engines.values():
            engine.dispose(close=False)
    app.extensions["plaza_pool_pid"] = pid


def _run(fn: Callable[..., T], args: tuple[Any, ...], tenant_id: str | None) -> T:
    app = job_app()
    with app.app_context():
        _fresh_pool_after_fork(app)
        try:
            if tenant_id is None:
                with unit_of_work():
                    return fn(*args)
            with tenant_scope(uuid.UUID(tenant_id)), unit_of_work():
                return fn(*args)
        except PermanentFailure as exc:
            # Retrying cannot help (e.g. an address unusable in a header): end the job, logged.
            log.warning("job stopped", extra={"error": str(exc), "outcome": exc.outcome})
            return exc.outcome  # type: ignore[return-value]
        finally:
            db.session.remove()


def run_in_tenant(tenant_id: str, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` as one unit of work in a fresh app context with tenant ``tenant_id`` in scope.

    Commits when ``fn`` returns; rolls back and re-raises when it raises. A
    :class:`app.uow.PermanentFailure` is rolled back, logged, and ends the job with its
    ``outcome`` instead of raising, so RQ does not retry it.

    Raises:
        NoJobApp: no app to run on.
    """
    return _run(fn, args, tenant_id)


def run_on_platform(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` as one unit of work in a fresh app context with no tenant in scope
    (same commit, rollback and :class:`app.uow.PermanentFailure` rules as :func:`run_in_tenant`).

    Raises:
        NoJobApp: no app to run on.
    """
    return _run(fn, args, None)


def get_queue() -> Queue:
    """The RQ queue every job goes to, on the app's Redis (needs an app context)."""
    return Queue(QUEUE_NAME, connection=get_redis())


def retry_policy() -> Retry:
    """A fresh RQ :class:`rq.Retry` with :data:`RETRY_INTERVALS` (one per enqueue)."""
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


def enqueue(func: str, *args: Any, queue: Queue | None = None, **options: Any) -> Job:
    """Enqueue job ``func`` (dotted path) with primitive ``args`` under the retry policy and TTLs.

    ``options`` go to :meth:`rq.Queue.enqueue` (e.g. ``job_id``). Needs an app context when
    ``queue`` is not given. Returns the RQ job.
    """
    q = queue if queue is not None else get_queue()
    return q.enqueue(func, *args, retry=retry_policy(), result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, **options)


def enqueue_at(when: Any, func: str, *args: Any, queue: Queue | None = None, **options: Any) -> Job:
    """Schedule job ``func`` at ``when`` (tz-aware datetime) with RQ's scheduler, under the
    retry policy and TTLs; ``options`` as in :func:`enqueue`. Returns the RQ job."""
    q = queue if queue is not None else get_queue()
    return q.enqueue_at(when, func, *args, retry=retry_policy(), result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                        **options)
