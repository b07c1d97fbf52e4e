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
* RQ's scheduler (``with_scheduler``) enqueues jobs scheduled with ``enqueue_at`` (reminders).
* A periodic scheduler thread (:mod:`app.jobs.periodic`) enqueues the outbox relay, the
  sweeps and the automatic booking transitions. It is installed afresh on every start, so a
  killed worker needs no clean-up.

``RQ_LOG_LEVEL`` (default WARNING) sets RQ's own log level; Plaza's JSON logs follow ``LOG_LEVEL``.
"""

from __future__ import annotations

import sys

from redis import Redis
from rq import Queue, SimpleWorker, Worker

from app import create_app
from app.catalog.availability_version import WARM_QUEUE
from app.jobs.periodic import start_periodic_scheduler
from app.jobs.runner import QUEUE_NAME, bind_job_app


def main() -> None:
    """Run a worker on the given queues (default ``default``) with both schedulers."""
    app = create_app()
    bind_job_app(app)
    url = app.config["REDIS_URL"]
    conn = Redis.from_url(url)
    queues = [Queue(name, connection=conn) for name in (sys.argv[1:] or [WARM_QUEUE, QUEUE_NAME])]
    periodic = start_periodic_scheduler(Redis.from_url(url))
    worker_class = Worker if app.extensions["plaza_settings"].WORKER_FORK_PER_JOB else SimpleWorker
    try:
        worker_class(queues, connection=conn).work(with_scheduler=True,
                                             logging_level=app.extensions["plaza_settings"].RQ_LOG_LEVEL)
    finally:
        periodic.stop()


if __name__ == "__main__":
    main()
