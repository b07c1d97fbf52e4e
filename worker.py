"""RQ worker with its schedulers over the same app factory: ``python worker.py [queue ...]``.

* The app is created once per worker process and bound for the jobs; each job pushes its
  own app context and sets its tenant from its arguments (:mod:`app.jobs.runner`).
* RQ's scheduler (``with_scheduler``) enqueues jobs scheduled with ``enqueue_at`` (reminders).
* A periodic scheduler thread (:mod:`app.jobs.periodic`) enqueues the outbox relay, the
  sweeps and the automatic booking transitions. It is installed afresh on every start, so a
  killed worker needs no clean-up.

``RQ_LOG_LEVEL`` (default WARNING) sets RQ's own log level; Plaza's JSON logs follow ``LOG_LEVEL``.
"""

from __future__ import annotations

import sys

from redis import Redis
from rq import Queue, Worker

from app import create_app
from app.jobs.periodic import start_periodic_scheduler
from app.jobs.runner import QUEUE_NAME, bind_job_app


def main() -> None:
    """Run a worker on the given queues (default ``default``) with both schedulers."""
    app = create_app()
    bind_job_app(app)
    url = app.config["REDIS_URL"]
    conn = Redis.from_url(url)
    queues = [Queue(name, connection=conn) for name in (sys.argv[1:] or [QUEUE_NAME])]
    periodic = start_periodic_scheduler(Redis.from_url(url))
    try:
        Worker(queues, connection=conn).work(with_scheduler=True,
                                             logging_level=app.extensions["plaza_settings"].RQ_LOG_LEVEL)
    finally:
        periodic.stop()


if __name__ == "__main__":
    main()
