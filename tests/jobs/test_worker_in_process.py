"""The worker runs jobs in its own process (no fork per job), each in a fresh app context: no tenant,
``g`` value or failure carries over from one job to the next, and a job past its timeout is stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from app.jobs.runner import QUEUE_NAME
from tests.factories import make_business
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOTES = "test:worker-notes"


def test_jobs_run_in_the_worker_process_each_in_a_clean_context(ctx, services, tmp_path):
    bella, fixit = make_business("bella"), make_business("fixit")
    redis = Redis.from_url(services["REDIS_URL"])
    queue = Queue(QUEUE_NAME, connection=redis)
    jobs = "tests.jobs.sample_jobs."
    queue.enqueue(jobs + "note_in_tenant", str(bella.tenant_id), NOTES, "first")
    failing = queue.enqueue(jobs + "fail", "broken on purpose")
    slow = queue.enqueue(jobs + "sleep", "30", job_timeout=2)
    queue.enqueue(jobs + "note_on_platform", NOTES, "second")
    queue.enqueue(jobs + "note_in_tenant", str(fixit.tenant_id), NOTES, "third")

    log = tmp_path / "worker.log"
    env = {**os.environ, **{k: v for k, v in services.items() if k.isupper()}, "PLAZA_TRANSITIONS_INTERVAL": "600",
           "PLAZA_SWEEP_INTERVAL": "600", "RQ_LOG_LEVEL": "INFO"}
    env.pop("WORKER_FORK_PER_JOB", None)
    with log.open("ab") as out:
        worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_for(lambda: redis.llen(NOTES) >= 3), log.read_text()[-3000:]
        time.sleep(3)  # the periodic jobs enqueued at start run after ours
    finally:
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, 9)
        worker.wait(20)

    notes = [json.loads(n) for n in redis.lrange(NOTES, 0, -1)]
    assert [n["marker"] for n in notes] == ["first", "second", "third"]
    assert {n["pid"] for n in notes} == {worker.pid}          # no work horse forked per job
    assert [n["tenant"] for n in notes] == [str(bella.tenant_id), "", str(fixit.tenant_id)]
    assert [n["leftover"] for n in notes] == [None, None, None]  # a fresh app context (g) per job
    assert Job.fetch(failing.id, connection=redis).get_status() == "failed"
    assert "broken on purpose" in Job.fetch(failing.id, connection=redis).latest_result().exc_string
    stopped = Job.fetch(slow.id, connection=redis)
    assert stopped.get_status() == "failed" and "JobTimeoutException" in stopped.latest_result().exc_string
    # The periodic jobs the worker's scheduler enqueued at start ran too, and none of them failed.
    failed = set(FailedJobRegistry(queue=queue).get_job_ids())
    retrying = {job.id for job in (Job.fetch(i, connection=redis) for i in ScheduledJobRegistry(queue=queue).get_job_ids())
                if job.latest_result() is not None}
    broken = {Job.fetch(i, connection=redis).func_name for i in (failed | retrying) - {failing.id, slow.id}}
    assert not broken, broken
