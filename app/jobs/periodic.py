"""Periodic jobs: a table of dotted paths, enqueued by a scheduler thread in each worker.

Every ``python worker.py`` starts one :class:`PeriodicScheduler` with the jobs of
:data:`PERIODIC_JOBS`; nothing about them is stored beforehand, so a worker that was killed
leaves nothing to repair: the next worker start installs them again. With several workers
only the holder of the Redis lock ``plaza:periodic:leader`` (a :class:`redis.lock.Lock`,
extended while its holder lives, expiring ``lock_ttl`` seconds after it dies) enqueues, so
each job runs once per interval; every periodic job is also safe to run twice at once.

Jobs are named by dotted path, so this module imports none of the packages whose jobs it
runs (payments, billing, notifications, the outbox).

Intervals (seconds), from the environment:

* ``PLAZA_RELAY_INTERVAL`` (5): relay the outbox to jobs.
* ``PLAZA_SWEEP_INTERVAL`` (60): send due reminders, re-enqueue stale deliveries, release
  expired payment holds, process Stripe events whose job was lost.
* ``PLAZA_TRANSITIONS_INTERVAL`` (300): expire old pending bookings, complete past ones.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import LockError, RedisError
from redis.lock import Lock
from rq import Queue

from app.config import current_settings
from app.jobs.runner import QUEUE_NAME
from app.timeutil import utcnow

log = logging.getLogger("plaza.worker")

LEADER_KEY = "plaza:periodic:leader"
#: Seconds RQ keeps a periodic job's result, and a failed one.
PERIODIC_RESULT_TTL = 60
PERIODIC_FAILURE_TTL = 24 * 3600


@dataclass(frozen=True)
class Intervals:
    """Seconds between runs of each kind of periodic job (``relay``, ``sweep``, ``transitions``)."""

    relay: int = 5
    sweep: int = 60
    transitions: int = 300

    @classmethod
    def from_env(cls) -> Intervals:
        """``PLAZA_RELAY_INTERVAL``, ``PLAZA_SWEEP_INTERVAL``, ``PLAZA_TRANSITIONS_INTERVAL`` from
        the settings (whole seconds, at least 1, validated there; unset keeps the default).

        Raises:
            SettingsError: outside an app context, when the environment holds an invalid setting.
        """
        settings = current_settings()
        return cls(settings.PLAZA_RELAY_INTERVAL, settings.PLAZA_SWEEP_INTERVAL, settings.PLAZA_TRANSITIONS_INTERVAL)

    def of(self, kind: str) -> int:
        """The interval in seconds of ``kind`` (``relay``, ``sweep`` or ``transitions``).

        Raises:
            AttributeError: unknown kind (a wrong entry in :data:`PERIODIC_JOBS`).
        """
        return int(getattr(self, kind))


@dataclass(frozen=True)
class PeriodicJob:
    """One periodic job: ``name`` (unique), ``func_name`` (dotted path of a job taking no
    arguments), the :class:`Intervals` field it runs on, and RQ's ``job_timeout`` in seconds."""

    name: str
    func_name: str
    every: str
    job_timeout: int


#: Every periodic job, in the order they are enqueued.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("plaza-relay-outbox", "app.outbox.relay.periodic_relay", "relay", 120),
    PeriodicJob("plaza-sweep-reminders", "app.notifications.tasks.periodic_sweep", "sweep", 600),
    PeriodicJob("plaza-booking-transitions", "app.booking.tasks.periodic_transitions", "transitions", 600),
    PeriodicJob("plaza-sweep-payment-holds", "app.checkout.tasks.periodic_hold_sweep", "sweep", 600),
    PeriodicJob("plaza-sweep-stripe-events", "app.billing.tasks.periodic_webhook_sweep", "sweep", 600),
    PeriodicJob("plaza-sweep-marketplace", "app.marketplace.tasks.periodic_sweep", "sweep", 600),
    PeriodicJob("plaza-lift-sanctions", "app.admin.tasks.periodic_lift", "sweep", 600),
    PeriodicJob("plaza-sweep-broadcasts", "app.broadcasts.tasks.periodic_sweep", "sweep", 600),
    PeriodicJob("plaza-dispute-deadlines", "app.disputes.tasks.periodic_deadlines", "sweep", 600),
    PeriodicJob("plaza-sweep-verification", "app.verification.tasks.periodic_expiry_sweep", "sweep", 600),
    PeriodicJob("plaza-metrics-nightly", "app.metrics.tasks.periodic_recompute", "transitions", 1800),
    PeriodicJob("plaza-sweep-leads", "app.leads.sweeps.periodic_sweep", "sweep", 600),
    PeriodicJob("plaza-dispatch-sweep", "app.dispatch.tasks.periodic_sweep", "relay", 120),
    PeriodicJob("plaza-reminder-batches", "app.notifications.tasks.periodic_reminder_dispatch", "relay", 120),
)


@dataclass
class ScheduledJob:
    """A :class:`PeriodicJob` installed on a scheduler with its interval; ``next_at`` is when
    it is next due (``None``: now)."""

    job: PeriodicJob
    interval: int
    queue_name: str = QUEUE_NAME
    next_at: datetime | None = field(default=None)

    @property
    def name(self) -> str:
        """The periodic job's name."""
        return self.job.name

    @property
    def func_name(self) -> str:
        """The dotted path of the job's function."""
        return self.job.func_name


class PeriodicScheduler:
    """Enqueues due periodic jobs while it holds the leader lock; runs in a daemon thread.

    Args:
        connection: the Redis the queue and the lock live on.
        lock_ttl: seconds the leader lock outlives a holder that stopped renewing it (at least 2).
    """

    def __init__(self, connection: Redis, lock_ttl: int = 15) -> None:
        self.connection = connection
        self.lock_ttl = max(2, lock_ttl)
        self.name = f"plaza-periodic-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        # thread_local=False: the lock is taken by the scheduler thread and released by stop().
        self.lock = Lock(connection, LEADER_KEY, timeout=self.lock_ttl, blocking=False, thread_local=False)
        self.jobs: list[ScheduledJob] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self, job: PeriodicJob, interval: int, queue_name: str = QUEUE_NAME) -> ScheduledJob:
        """Install ``job`` to run every ``interval`` seconds (the first run is due at once)."""
        scheduled = ScheduledJob(job, max(1, interval), queue_name)
        self.jobs.append(scheduled)
        return scheduled

    def is_leader(self) -> bool:
        """Take or extend the leader lock; True while this scheduler holds it.

        Raises:
            redis.exceptions.RedisError: Redis could not be reached.
        """
        if self.lock.owned():
            try:
                self.lock.reacquire()
                return True
            except LockError:  # expired and taken meanwhile
                return False
        return bool(self.lock.acquire(blocking=False))

    def enqueue_jobs(self, now: datetime | None = None) -> list[ScheduledJob]:
        """Enqueue the due periodic jobs, if this scheduler is the leader; returns those enqueued.

        Raises:
            redis.exceptions.RedisError: Redis could not be reached.
        """
        if not self.is_leader():
            return []
        now = now or utcnow()
        due = [s for s in self.jobs if s.next_at is None or s.next_at <= now]
        for s in due:
            Queue(s.queue_name, connection=self.connection).enqueue(
                s.func_name, job_timeout=s.job.job_timeout, result_ttl=PERIODIC_RESULT_TTL,
                failure_ttl=PERIODIC_FAILURE_TTL, description=s.name)
            s.next_at = now + timedelta(seconds=s.interval)
        return due

    def seconds_to_next(self, now: datetime | None = None) -> float:
        """Seconds until the next job is due (0 when one is overdue; 60 with no jobs)."""
        now = now or utcnow()
        times = [s.next_at for s in self.jobs if s.next_at is not None]
        if len(times) < len(self.jobs):
            return 0.0
        if not times:
            return 60.0
        return max(0.0, (min(times) - now).total_seconds())

    def run(self) -> None:
        """The scheduler loop (until :meth:`stop`); Redis errors are logged and retried."""
        while not self._stop.is_set():
            try:
                self.enqueue_jobs()
            except RedisError:
                log.exception("periodic scheduler: Redis error, retrying")
            wait = min(self.seconds_to_next(), self.lock_ttl / 3)
            self._stop.wait(max(0.2, wait))
        try:
            if self.lock.owned():
                self.lock.release()
        except (LockError, RedisError):
            log.warning("periodic scheduler could not release the leader lock", exc_info=True)

    def start_in_thread(self) -> PeriodicScheduler:
        """Run :meth:`run` in a daemon thread; returns ``self``."""
        self._thread = threading.Thread(target=self.run, name="plaza-periodic", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and release the leader lock (waits up to ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def install_periodic_jobs(scheduler: PeriodicScheduler, intervals: Intervals | None = None) -> list[ScheduledJob]:
    """Register every job of :data:`PERIODIC_JOBS` on ``scheduler`` with its interval
    (default: :meth:`Intervals.from_env`); returns them in order."""
    iv = intervals or Intervals.from_env()
    return [scheduler.register(job, iv.of(job.every)) for job in PERIODIC_JOBS]


def start_periodic_scheduler(connection: Redis, intervals: Intervals | None = None) -> PeriodicScheduler:
    """Create the scheduler, install the periodic jobs and start its thread."""
    iv = intervals or Intervals.from_env()
    scheduler = PeriodicScheduler(connection, lock_ttl=3 * min(iv.relay, iv.sweep, iv.transitions))
    install_periodic_jobs(scheduler, iv)
    return scheduler.start_in_thread()
