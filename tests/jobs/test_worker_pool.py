"""``WORKER_PROCESSES=2``: one ``python worker.py`` runs two worker processes under RQ's worker
pool; they take jobs side by side, and one killed is replaced while the other keeps working."""

from __future__ import annotations

import json
import os
import signal

import pytest
from redis import Redis
from rq import Queue

from app.jobs.runner import QUEUE_NAME
from tests.helpers import wait_for
from tests.support.workers import kill_worker, start_worker

pytestmark = pytest.mark.integration

NOTES = "test:pool-notes"


def test_a_worker_with_two_processes_runs_jobs_side_by_side_and_replaces_one_that_dies(services, tmp_path):
    redis = Redis.from_url(services["REDIS_URL"])
    queue = Queue(QUEUE_NAME, connection=redis)
    jobs = "tests.jobs.sample_jobs."
    queue.enqueue(jobs + "note_and_sleep", NOTES, "first", "60", job_timeout=90)
    queue.enqueue(jobs + "note_and_sleep", NOTES, "second", "60", job_timeout=90)

    def notes() -> list[dict]:
        return [json.loads(n) for n in redis.lrange(NOTES, 0, -1)]

    log = tmp_path / "worker.log"
    env = {**os.environ, **{k: v for k, v in services.items() if k.isupper()}, "WORKER_PROCESSES": "2",
           "PLAZA_TRANSITIONS_INTERVAL": "600", "PLAZA_SWEEP_INTERVAL": "600", "RQ_LOG_LEVEL": "INFO"}
    env.pop("WORKER_FORK_PER_JOB", None)
    pool = start_worker(env, log)
    try:
        # Both minute-long jobs run at once: two processes, neither of them the pool's own.
        assert wait_for(lambda: len(notes()) == 2, 30), log.read_text()[-3000:]
        busy = {n["pid"] for n in notes()}
        assert len(busy) == 2 and pool.pid not in busy

        killed = notes()[0]["pid"]
        os.kill(killed, signal.SIGKILL)  # one process dies mid-job; the pool starts another
        queue.enqueue(jobs + "note_on_platform", NOTES, "after the kill")
        assert wait_for(lambda: len(notes()) == 3, 30), log.read_text()[-3000:]
        replacement = notes()[2]["pid"]
        assert replacement not in busy  # the survivor is still busy: a new process took the job
    finally:
        kill_worker(pool)
