"""Scheduling jobs: recompute a business's popular availability right after a change.

Enqueued by :mod:`app.catalog.availability_version` when a commit bumps a tenant's availability
version (``AVAILABILITY_WARM_AFTER_CHANGE``), by dotted path, with primitive arguments.
"""

from __future__ import annotations

import uuid

from app.jobs.runner import run_in_tenant
from app.scheduling.service import warm_popular_ranges


def warm_availability(tenant_id: str, version: int) -> int:
    """Job: cache tenant ``tenant_id``'s popular ranges under availability ``version``
    (:func:`app.scheduling.service.warm_popular_ranges`); returns the services cached, or ``-1``
    when a later change superseded this run (or the business is gone)."""
    return run_in_tenant(tenant_id, warm_popular_ranges, uuid.UUID(tenant_id), int(version))
