"""The leads sweep: a periodic job (every sweep interval, a minute by default) that keeps job
requests and leads moving when nobody acts. Idempotent, audit-logged, and safe to run twice at once:
each pass takes its rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (a second sweep skips what the
first holds, and finds it changed after the first commits), and refunds are credit moves keyed
``refund:<lead id>``, which a replay cannot repeat.

Passes, in order (each as of ``now``):

1. **Missed routing**: ``open`` requests submitted over :data:`MISSED_ROUTING_AFTER` ago (the
   after-commit enqueue was lost) are routed now (:func:`app.leads.routing_offers.route`).
2. **No contact**: ``claimed`` leads past ``contact_due_at`` with no ``contacted_at`` get their
   credits back (``move_credits("refund", cost, "refund:<lead id>")`` in the provider's business)
   and become ``refunded`` (audit ``lead.refunded``, reason ``no contact in time``).
3. **Lapsed offers**: ``offered`` leads past ``expires_at`` become ``expired`` (audit
   ``lead.expired``); a ``routed`` request past ``routed_until`` with no lead offered, claimed,
   quoted or won left goes to manual fulfilment (audit ``job_request.to_manual``, reason
   ``no provider claimed in time``).
4. **No confirmation**: a request still open for business (``open``, ``routed``, ``manual``,
   ``quoted``) ``leads.confirm_days`` after submission is ``closed`` (reason
   ``no quote confirmed``); its offered leads expire, its claimed leads are ``refunded`` and its
   quoted leads become ``lost`` **and are refunded too**: the provider paid to reach a customer
   who never chose anyone, so keeping their credits would charge them for the customer's silence
   (the issue: "a job whose customer never confirmed a quote closes and refunds the credits").
   ``lost`` (not ``refunded``) keeps the fact that they quoted; the ledger shows the refund.
5. **Abandoned drafts**: wizard drafts and guests' never-confirmed requests untouched for
   :data:`ABANDONED_AFTER` are deleted, and their private photos removed from storage after the
   commit (a guest's confirmation link lasts 7 days, so nothing confirmable is lost).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.audit.service import SYSTEM_ACTOR, record_audit
from app.credits.ledger import move_credits
from app.extensions import db
from app.jobs.runner import run_on_platform
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus
from app.leads.routing_offers import route, send_to_manual
from app.outbox.events import emit
from app.platform_settings import get_setting
from app.storage.local import default_storage
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow
from app.uow import after_commit

#: An ``open`` request older than this was missed by the enqueue and is routed by the sweep.
MISSED_ROUTING_AFTER = timedelta(minutes=1)
#: Drafts and unconfirmed requests untouched this long are deleted (pass 5).
ABANDONED_AFTER = timedelta(days=30)
#: Rows one pass takes at most (the next sweep takes the rest).
BATCH = 200
#: Request statuses still waiting for a confirmed quote.
WAITING = (JobRequestStatus.OPEN.value, JobRequestStatus.ROUTED.value, JobRequestStatus.MANUAL.value,
           JobRequestStatus.QUOTED.value)
#: Lead statuses that keep a routed request out of manual fulfilment.
ACTIVE_LEADS = (LeadStatus.OFFERED.value, LeadStatus.CLAIMED.value, LeadStatus.QUOTED.value, LeadStatus.WON.value)
#: Outbox event (provider's tenant) when a claim is taken back with its credits; payload ``{"lead_id", "reason"}``.
REFUNDED_EVENT = "lead.refunded"


def periodic_sweep() -> dict[str, int]:
    """Periodic job (:data:`app.jobs.periodic.PERIODIC_JOBS`): :func:`sweep` in one unit of work
    on the platform role."""
    return run_on_platform(sweep)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Every pass of the module docstring as of ``now`` (tz-aware UTC). Flushes; the caller's unit
    of work commits.

    Returns:
        How many of each: ``{"routed", "refunded", "expired", "to_manual", "closed", "purged"}``.
    """
    now = now or utcnow()
    counts = {"routed": 0, "refunded": 0, "expired": 0, "to_manual": 0, "closed": 0, "purged": 0}
    with platform_scope("leads sweep"):
        counts["routed"] = route_missed(now)
        counts["refunded"] = refund_uncontacted(now)
        counts["expired"], counts["to_manual"] = expire_offers(now)
        closed, refunded = close_unconfirmed(now)
        counts["closed"] = closed
        counts["refunded"] += refunded
        counts["purged"] = purge_abandoned(now)
    return counts


def _locked_requests(*where: sa.ColumnElement) -> list[JobRequest]:
    return list(db.session.scalars(sa.select(JobRequest).where(*where).order_by(JobRequest.submitted_at)
                                   .limit(BATCH).with_for_update(skip_locked=True)
                                   .execution_options(populate_existing=True)))


def route_missed(now: datetime) -> int:
    """Pass 1: route ``open`` requests the enqueue missed; returns how many were routed or sent to
    manual. Platform scope."""
    done = 0
    for job in _locked_requests(JobRequest.status == JobRequestStatus.OPEN.value,
                                sa.func.coalesce(JobRequest.submitted_at, JobRequest.updated_at)
                                < now - MISSED_ROUTING_AFTER):
        if route(job.id, now) in ("routed", "manual"):
            done += 1
    return done


def refund_lead(lead: Lead, status: str, reason: str, now: datetime) -> None:
    """Give ``lead``'s credits back to its business (once: key ``refund:<lead id>``), set its
    ``status`` (``refunded`` or ``lost``), and record ``lead.refunded`` (audit, in the business's
    log) and the outbox event :data:`REFUNDED_EVENT`. Platform scope; flushes."""
    before = lead.status
    with tenant_scope(lead.tenant_id):
        if lead.credits_cost > 0:
            move_credits("refund", lead.credits_cost, f"refund:{lead.id}", lead_id=lead.id, note=reason)
        lead.status, lead.decided_at = status, now
        db.session.flush()
        emit(REFUNDED_EVENT, {"lead_id": str(lead.id), "reason": reason}, dedup_key=str(lead.id))
    record_audit(SYSTEM_ACTOR, "lead.refunded", "lead", lead.id, reason=reason, tenant_id=lead.tenant_id,
                 before={"status": before}, after={"status": status, "credits": lead.credits_cost,
                                                   "job_request_id": str(lead.job_request_id)})


def refund_uncontacted(now: datetime) -> int:
    """Pass 2: claimed leads past ``contact_due_at`` without contact are refunded; returns how
    many. Platform scope."""
    leads = list(db.session.scalars(
        sa.select(Lead).where(Lead.status == LeadStatus.CLAIMED.value, Lead.contact_due_at < now,
                              Lead.contacted_at.is_(None))
        .order_by(Lead.contact_due_at).limit(BATCH).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)))
    for lead in leads:
        refund_lead(lead, LeadStatus.REFUNDED.value, "no contact in time", now)
    return len(leads)


def _expire(lead: Lead, now: datetime) -> None:
    lead.status, lead.decided_at = LeadStatus.EXPIRED.value, now
    db.session.flush()
    record_audit(SYSTEM_ACTOR, "lead.expired", "lead", lead.id, reason="not claimed in time",
                 tenant_id=lead.tenant_id, before={"status": LeadStatus.OFFERED.value},
                 after={"status": LeadStatus.EXPIRED.value, "job_request_id": str(lead.job_request_id)})


def expire_offers(now: datetime) -> tuple[int, int]:
    """Pass 3: lapsed offers expire; routed requests whose offers all lapsed go to manual
    fulfilment. Returns ``(leads expired, requests sent to manual)``. Platform scope."""
    lapsed = list(db.session.scalars(
        sa.select(Lead).where(Lead.status == LeadStatus.OFFERED.value, Lead.expires_at < now)
        .order_by(Lead.expires_at).limit(BATCH).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)))
    for lead in lapsed:
        _expire(lead, now)
    to_manual = 0
    for job in _locked_requests(JobRequest.status == JobRequestStatus.ROUTED.value, JobRequest.routed_until < now):
        active = db.session.scalar(sa.select(sa.func.count()).select_from(Lead).where(
            Lead.job_request_id == job.id, Lead.status.in_(ACTIVE_LEADS),
            sa.or_(Lead.status != LeadStatus.OFFERED.value, Lead.expires_at >= now)))
        if active:
            continue
        send_to_manual(job, "no provider claimed in time", now)
        to_manual += 1
    return len(lapsed), to_manual


def request_leads(job_request_id: uuid.UUID) -> list[Lead]:
    """Every lead of a request, locked (``FOR UPDATE``: a claim in progress finishes first).
    Platform scope."""
    return list(db.session.scalars(sa.select(Lead).where(Lead.job_request_id == job_request_id)
                                   .order_by(Lead.tenant_id).with_for_update()
                                   .execution_options(populate_existing=True)))


def close_unconfirmed(now: datetime) -> tuple[int, int]:
    """Pass 4: requests with no confirmed quote ``leads.confirm_days`` after submission close;
    their leads expire, are refunded or lost (module docstring). Returns ``(requests closed,
    leads refunded)``. Platform scope."""
    cutoff = now - timedelta(days=int(get_setting("leads.confirm_days")))
    closed = refunded = 0
    for job in _locked_requests(JobRequest.status.in_(WAITING), JobRequest.submitted_at < cutoff):
        for lead in request_leads(job.id):
            if lead.status == LeadStatus.OFFERED:
                _expire(lead, now)
            elif lead.status == LeadStatus.CLAIMED:
                refund_lead(lead, LeadStatus.REFUNDED.value, "request closed: no quote confirmed", now)
                refunded += 1
            elif lead.status == LeadStatus.QUOTED:
                refund_lead(lead, LeadStatus.LOST.value, "request closed: no quote confirmed", now)
                refunded += 1
        before = job.status
        job.status, job.closed_reason, job.closed_at = JobRequestStatus.CLOSED.value, "no quote confirmed", now
        job.routed_until, job.updated_at = None, now
        db.session.flush()
        record_audit(SYSTEM_ACTOR, "job_request.closed", "job_request", job.id, reason="no quote confirmed",
                     before={"status": before}, after={"status": job.status})
        closed += 1
    return closed, refunded


def purge_abandoned(now: datetime) -> int:
    """Pass 5: delete drafts and unconfirmed requests last changed over :data:`ABANDONED_AFTER`
    ago; their photos leave storage after the commit. Returns how many were deleted."""
    stale = list(db.session.scalars(
        sa.select(JobRequest).where(JobRequest.status.in_((JobRequestStatus.DRAFT.value,
                                                           JobRequestStatus.UNCONFIRMED.value)),
                                    JobRequest.updated_at < now - ABANDONED_AFTER)
        .limit(BATCH).with_for_update(skip_locked=True)))
    photos = [key for jr in stale for key in (jr.photos or []) if isinstance(key, str)]
    for jr in stale:
        db.session.delete(jr)
    db.session.flush()
    if photos:
        after_commit(lambda: [default_storage().delete(key) for key in photos])
    return len(stale)
