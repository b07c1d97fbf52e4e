"""Jobs the in-process worker test enqueues by dotted path (``tests.jobs.sample_jobs.<name>``)."""

from __future__ import annotations

import json
import os
import time

from flask import g

from app.jobs.runner import run_in_tenant, run_on_platform
from app.redis_client import get_redis
from app.tenants.context import current_tenant_id


def _note(key: str, marker: str) -> None:
    get_redis().rpush(key, json.dumps({"pid": os.getpid(), "tenant": str(current_tenant_id() or ""),
                                       "leftover": g.get("left_by_previous_job"), "marker": marker}))
    g.left_by_previous_job = marker


def note_in_tenant(tenant_id: str, key: str, marker: str) -> None:
    """Record this process, the tenant in scope and anything a previous job left on ``g``."""
    run_in_tenant(tenant_id, _note, key, marker)


def note_on_platform(key: str, marker: str) -> None:
    """As :func:`note_in_tenant`, with no tenant in scope."""
    run_on_platform(_note, key, marker)


def fail(message: str) -> None:
    """Raise, as a broken job does."""
    def boom() -> None:
        raise RuntimeError(message)
    run_on_platform(boom)


def sleep(seconds: str) -> None:
    """Outlive a short job timeout."""
    time.sleep(float(seconds))


def note_and_sleep(key: str, marker: str, seconds: str) -> None:
    """Record this process (as :func:`note_on_platform`), then keep it busy for ``seconds``."""
    run_on_platform(_note, key, marker)
    time.sleep(float(seconds))
