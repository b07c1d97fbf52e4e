"""Periodic jobs, enqueued by RQ's :class:`rq.cron.CronScheduler` running in a thread of each worker.

Every ``python worker.py`` starts one :class:`PeriodicScheduler` and registers the periodic
jobs on it (:func:`install_periodic_jobs`); nothing about them is stored beforehand, so a
worker that was killed leaves nothing to repair: the next worker start installs them again.
With several workers only the holder of a Redis leader lock (``plaza:periodic:leader``,
renewed while alive, expiring ``lock_ttl`` seconds after its holder dies) enqueues, so each
job runs once per interval; every periodic job is also safe to run twice at once.

Intervals (seconds), from the environment:

* ``PLAZA_RELAY_INTERVAL`` (5): relay the outbox to jobs.
* ``PLAZA_SWEEP_INTERVAL`` (60): send due reminders, re-enqueue stale deliveries.
* ``PLAZA_TRANSITIONS_INTERVAL`` (300): expire old pending bookings, complete past ones.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq.cron import CronJob, CronScheduler

from app.billing import tasks as billing_tasks
from app.config import settings_str
from app.notifications import tasks
from app.payments import tasks as payment_tasks

log = logging.getLogger("plaza.worker")

LEADER_KEY = "plaza:periodic:leader"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


@dataclass(frozen=True)
class Intervals:
    """Seconds between runs of each periodic job."""

    relay: int = 5
    sweep: int = 60
    transitions: int = 300

    @classmethod
    def from_env(cls) -> Intervals:
        """Read ``PLAZA_RELAY_INTERVAL``, ``PLAZA_SWEEP_INTERVAL``, ``PLAZA_TRANSITIONS_INTERVAL``."""

        def get(name: str, default: int) -> int:
            raw = settings_str(name)
            return max(1, int(raw)) if raw else default

        return cls(get("PLAZA_RELAY_INTERVAL", cls.relay), get("PLAZA_SWEEP_INTERVAL", cls.sweep),
                   get("PLAZA_TRANSITIONS_INTERVAL", cls.transitions))


class PeriodicScheduler(CronScheduler):
    """RQ's cron scheduler, run in a daemon thread, enqueuing only while it is the leader."""

    def __init__(self, connection: Redis, lock_ttl: int = 15) -> None:
        super().__init__(connection=connection, logging_level=logging.WARNING)
        logging.getLogger("rq.cron").setLevel(logging.WARNING)
        self.lock_ttl = max(2, lock_ttl)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _install_signal_handlers(self) -> None:
        """Signals belong to the worker's main thread; this scheduler stops via :meth:`stop`."""

    def is_leader(self) -> bool:
        """Take or renew the leader lock; True while this scheduler holds it."""
        if self.connection.set(LEADER_KEY, self.name, nx=True, ex=self.lock_ttl):
            return True
        return bool(self.connection.eval(_RENEW, 1, LEADER_KEY, self.name, self.lock_ttl))

    def enqueue_jobs(self) -> list[CronJob]:
        """Enqueue the due periodic jobs, if this scheduler is the leader."""
        if not self.is_leader():
            return []
        return super().enqueue_jobs()

    def run(self) -> None:
        """The scheduler loop (until :meth:`stop`); Redis errors are logged and retried."""
        try:
            self.register_birth()
        except RedisError:
            log.exception("periodic scheduler could not register")
        while not self._stop.is_set():
            try:
                if self.enqueue_jobs():
                    self.save()
                self.heartbeat()
            except RedisError:
                log.exception("periodic scheduler: Redis error, retrying")
            wait = min(self.calculate_sleep_interval(), self.lock_ttl / 3)
            self._stop.wait(max(0.2, wait))
        try:
            self.connection.eval(_RELEASE, 1, LEADER_KEY, self.name)
            self.register_death()
        except RedisError:
            pass

    def start_in_thread(self) -> PeriodicScheduler:
        """Run :meth:`run` in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="plaza-periodic", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and release the leader lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def install_periodic_jobs(scheduler: CronScheduler, intervals: Intervals | None = None) -> list[CronJob]:
    """Register the periodic jobs on ``scheduler`` (relay, reminder sweep, automatic transitions)."""
    iv = intervals or Intervals.from_env()
    common = {"result_ttl": 60, "failure_ttl": 24 * 3600}
    return [
        scheduler.register(tasks.periodic_relay, tasks.QUEUE_NAME, interval=iv.relay, job_timeout=120,
                           name="plaza-relay-outbox", **common),
        scheduler.register(tasks.periodic_sweep, tasks.QUEUE_NAME, interval=iv.sweep, job_timeout=600,
                           name="plaza-sweep-reminders", **common),
        scheduler.register(tasks.periodic_transitions, tasks.QUEUE_NAME, interval=iv.transitions, job_timeout=600,
                           name="plaza-booking-transitions", **common),
        scheduler.register(payment_tasks.periodic_hold_sweep, tasks.QUEUE_NAME, interval=iv.sweep, job_timeout=600,
                           name="plaza-sweep-payment-holds", **common),
        scheduler.register(billing_tasks.periodic_webhook_sweep, tasks.QUEUE_NAME, interval=iv.sweep,
                           job_timeout=600, name="plaza-sweep-stripe-events", **common),
    ]


def start_periodic_scheduler(connection: Redis, intervals: Intervals | None = None) -> PeriodicScheduler:
    """Create the scheduler, install the periodic jobs and start its thread."""
    iv = intervals or Intervals.from_env()
    scheduler = PeriodicScheduler(connection, lock_ttl=3 * min(iv.relay, iv.sweep, iv.transitions))
    install_periodic_jobs(scheduler, iv)
    return scheduler.start_in_thread()
