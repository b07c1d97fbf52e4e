"""RQ worker with its scheduler over the same app factory: ``python worker.py``.

Each job sets its own app context and tenant scope from its payload.
"""

from __future__ import annotations

import os
import sys

from redis import Redis
from rq import Queue, Worker


def main() -> None:
    """Run a worker on the ``default`` queue with the RQ scheduler enabled."""
    from app import create_app

    app = create_app()
    conn = Redis.from_url(app.config["REDIS_URL"])
    queues = [Queue(name, connection=conn) for name in (sys.argv[1:] or ["default"])]
    os.environ.setdefault("PLAZA_WORKER", "1")
    with app.app_context():
        from app.notifications.tasks import install_periodic_jobs

        install_periodic_jobs(conn)
    Worker(queues, connection=conn).work(with_scheduler=True)


if __name__ == "__main__":
    main()
