"""The deadlines worker: a periodic job that moves every case past the business's deadline to
the platform and reminds both sides before it.

Re-derived from the database on every run (``status`` and ``business_due_at``), so a lost run
only delays a step; each step is announced once (dedup keys), so a repeated run tells nobody twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from app.audit.service import SYSTEM_ACTOR, record_audit
from app.disputes.models import Dispute, DisputeStatus
from app.disputes.service import announce, snapshot
from app.disputes.settings import remind_before
from app.extensions import db
from app.jobs.runner import run_in_tenant, run_on_platform
from app.tenants.context import platform_scope
from app.timeutil import utcnow

WAITING = (DisputeStatus.AWAITING_BUSINESS.value, DisputeStatus.OPEN.value)


def tenants_with_due_cases(now: datetime) -> list[uuid.UUID]:
    """Businesses with a waiting case that is past its deadline, or due for its reminder."""
    with platform_scope("disputes deadlines sweep"):
        return list(db.session.scalars(sa.select(Dispute.tenant_id).where(
            Dispute.status.in_(WAITING), Dispute.business_due_at.is_not(None),
            sa.or_(Dispute.business_due_at <= now,
                   sa.and_(Dispute.reminded_at.is_(None), Dispute.business_due_at <= now + remind_before())),
        ).distinct()))


def enforce_deadlines(now: datetime | None = None) -> dict[str, int]:
    """In the business in scope: escalate every waiting case past its deadline (audited as the
    system, ``dispute.escalated``) and remind about those within :func:`remind_before` of it.
    Returns ``{"escalated": n, "reminded": m}``. Flushes."""
    now = now or utcnow()
    escalated = reminded = 0
    remind_at = now + remind_before()
    cases = db.session.scalars(sa.select(Dispute).where(
        Dispute.status.in_(WAITING), Dispute.business_due_at.is_not(None)).with_for_update(skip_locked=True))
    for case in cases:
        if case.business_due_at <= now:
            before = snapshot(case)
            case.status, case.escalated_at, case.updated_at = DisputeStatus.ESCALATED.value, now, now
            db.session.flush()
            record_audit(SYSTEM_ACTOR, f"{case.kind}.escalated", "dispute", case.id,
                         reason="the business did not answer by the deadline", before=before, after=snapshot(case))
            announce(case, "escalated")
            escalated += 1
        elif case.reminded_at is None and case.business_due_at <= remind_at:
            case.reminded_at = now
            db.session.flush()
            announce(case, "reminder")
            reminded += 1
    return {"escalated": escalated, "reminded": reminded}


def periodic_deadlines() -> int:
    """Periodic job: :func:`enforce_deadlines` in each business that has something due, one unit
    of work per business; returns how many cases moved or were reminded."""
    now = utcnow()
    total = 0
    for tenant_id in run_on_platform(tenants_with_due_cases, now):
        result = run_in_tenant(str(tenant_id), enforce_deadlines, now)
        total += result["escalated"] + result["reminded"]
    return total
