"""RQ worker with its schedulers over the same app factory: ``python worker.py [queue ...]``.

* Default queues, in priority order: ``availability`` (the recompute right after a change,
  :data:`app.catalog.availability_version.WARM_QUEUE`), then ``default`` (everything else).
* The app is created once per worker process and bound for the jobs; each job pushes its
  own app context and sets its tenant from its arguments (:mod:`app.jobs.runner`).
* Jobs run in the worker process itself (RQ's ``SimpleWorker``): no fork per job, so a short
  job costs milliseconds rather than a fork's tens. A job that raises is recorded as failed (and
  retried by its policy) and the worker goes on; one that outlives its timeout is stopped by RQ's
  SIGALRM death penalty. ``WORKER_FORK_PER_JOB=true`` brings back a forked work horse per job
  (RQ's ``Worker``) for jobs that might crash the interpreter itself.
* ``WORKER_PROCESSES`` (default 1) above 1 runs that many worker processes under RQ's
  ``WorkerPool``, which restarts one that dies and stops them all on SIGTERM or SIGINT. The pool
  forks them before any app, connection or thread exists, so each process builds its own.
* RQ's scheduler (``with_scheduler``) enqueues jobs scheduled with ``enqueue_at`` (reminders).
* A periodic scheduler thread (:mod:`app.jobs.periodic`) enqueues the outbox relay, the
  sweeps and the automatic booking transitions. Every worker process installs it afresh on
  start (one of them leads at a time), so a killed worker needs no clean-up.

``RQ_LOG_LEVEL`` (default WARNING) sets RQ's own log level; Plaza's JSON logs follow ``LOG_LEVEL``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from multiprocessing import get_context
from multiprocessing.process import BaseProcess

from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.worker_pool import WorkerPool

from app import create_app
from app.catalog.availability_version import WARM_QUEUE
from app.config import load_settings
from app.jobs.periodic import start_periodic_scheduler
from app.jobs.runner import QUEUE_NAME, bind_job_app


def serve(queue_names: Sequence[str], name: str | None = None) -> None:
    """Run one worker process on ``queue_names`` with both schedulers until it is told to stop."""
    app = create_app()
    bind_job_app(app)
    settings = app.extensions["plaza_settings"]
    url = app.config["REDIS_URL"]
    conn = Redis.from_url(url)
    queues = [Queue(queue, connection=conn) for queue in queue_names]
    periodic = start_periodic_scheduler(Redis.from_url(url))
    worker_class = Worker if settings.WORKER_FORK_PER_JOB else SimpleWorker
    try:
        worker_class(queues, name=name, connection=conn).work(with_scheduler=True,
                                                                logging_level=settings.RQ_LOG_LEVEL)
    finally:
        periodic.stop()


class PlazaWorkerPool(WorkerPool):
    """RQ's worker pool whose processes each run :func:`serve` (their own app, connections and
    periodic scheduler) instead of RQ's bare worker."""

    def __init__(self, queue_names: Sequence[str], connection: Redis, num_workers: int) -> None:
        super().__init__(list(queue_names), connection=connection, num_workers=num_workers)
        self.queue_names = list(queue_names)

    def get_worker_process(self, name: str, burst: bool, _sleep: float = 0,
                           logging_level: str = "INFO") -> BaseProcess:
        """The process of pool member ``name`` (``burst``, ``_sleep`` and ``logging_level`` are
        RQ's; :func:`serve` reads its own settings)."""
        return get_context("fork").Process(target=serve, args=(self.queue_names, name),
                                           name=f"plaza worker {name}")


def main() -> None:
    """Run ``WORKER_PROCESSES`` worker processes on the given queues (default: ``availability``
    then ``default``): in this process when it is 1, else under :class:`PlazaWorkerPool`."""
    settings = load_settings()
    queue_names = sys.argv[1:] or [WARM_QUEUE, QUEUE_NAME]
    if settings.WORKER_PROCESSES <= 1:
        serve(queue_names)
        return
    PlazaWorkerPool(queue_names, Redis.from_url(settings.REDIS_URL), settings.WORKER_PROCESSES).start(
        logging_level=settings.RQ_LOG_LEVEL)


if __name__ == "__main__":
    main()
