"""The console's overview: what waits for the platform, queue by queue.

Each queue is counted the way its own page lists it: moderation by reported item (several
reports of one review are one decision), verification by pending document, disputes by case
escalated to the platform, fulfilment by job request routed to nobody (``manual``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.admin.moderation import WAITING
from app.community.models import ContentReport
from app.disputes.models import Dispute, DisputeStatus
from app.extensions import db
from app.leads.models import JobRequest, JobRequestStatus
from app.tenants.context import platform_scope
from app.verification.models import DocumentStatus, VerificationDocument

#: The queues, in the order the overview shows them.
QUEUES = ("moderation", "verification", "disputes", "fulfilment")


@dataclass(frozen=True)
class WaitingQueue:
    """One queue of the console: ``key`` (one of :data:`QUEUES`), how many items wait in it
    (``count``) and since when the oldest has waited (``oldest``, tz-aware UTC; ``None`` when
    nothing waits)."""

    key: str
    count: int
    oldest: datetime | None


def waiting_work() -> list[WaitingQueue]:
    """Every queue of :data:`QUEUES`, in that order, read across all businesses in one
    statement (an explicit ``platform_scope``)."""
    reported = sa.tuple_(ContentReport.tenant_id, ContentReport.target_type, ContentReport.target_id)
    parts = {
        "moderation": sa.select(sa.func.count(sa.distinct(reported)), sa.func.min(ContentReport.created_at))
        .where(ContentReport.platform_status.in_(WAITING)),
        "verification": sa.select(sa.func.count(), sa.func.min(VerificationDocument.created_at))
        .where(VerificationDocument.status == DocumentStatus.PENDING.value),
        "disputes": sa.select(sa.func.count(), sa.func.min(sa.func.coalesce(Dispute.escalated_at, Dispute.created_at)))
        .where(Dispute.status == DisputeStatus.ESCALATED.value),
        "fulfilment": sa.select(sa.func.count(), sa.func.min(sa.func.coalesce(JobRequest.submitted_at,
                                                                              JobRequest.created_at)))
        .where(JobRequest.status == JobRequestStatus.MANUAL.value),
    }
    statement = sa.union_all(*(sa.select(sa.literal(key).label("key"), *part.subquery().c)
                               for key, part in parts.items()))
    with platform_scope("console: overview"):
        rows = {key: (count, oldest) for key, count, oldest in db.session.execute(statement)}
    return [WaitingQueue(key, int(rows[key][0]), rows[key][1]) for key in QUEUES]


__all__ = ["QUEUES", "WaitingQueue", "waiting_work"]
