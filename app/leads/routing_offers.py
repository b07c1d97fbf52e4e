"""Offering a job request: one routing round makes the top-N leads, or sends it to manual fulfilment.

:func:`route` runs in platform scope with the request row locked (``SELECT … FOR UPDATE``) and
acts only on an ``open`` request, so running it twice (a retried job, the sweep re-enqueuing a
missed one) makes no second set of leads; the unique ``(tenant_id, job_request_id)`` on ``lead``
refuses a second lead for one provider even so. A round:

* ranks the candidates (:func:`app.leads.routing.rank_candidates`) and stores every one of them
  (:class:`app.leads.routing_models.RoutingCandidate`), the top ``routing.top_n`` as ``offered``;
* makes a lead per picked provider (:func:`offer_lead`: a snapshot of the request, status
  ``offered``, ``expires_at`` = now + ``routing.window_minutes``) and tells the provider (outbox
  event :data:`OFFERED_EVENT` in its tenant -> email to owners and managers);
* sets the request ``routed`` with ``routed_until``, or ``manual`` when nobody matched;
* writes one audit entry (``job_request.routed`` or ``job_request.to_manual``) with the round,
  the offered providers and the number of candidates.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.audit.service import SYSTEM_ACTOR, AuditActor, record_audit
from app.extensions import db
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus, TimingKind
from app.leads.routing import ScoredCandidate, rank_candidates
from app.leads.routing_models import CandidateOutcome, RoutingCandidate
from app.outbox.events import emit
from app.platform_settings import get_setting
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow

#: Outbox event (provider's tenant) when a lead is offered to it; payload ``{"lead_id", "job_request_id"}``.
OFFERED_EVENT = "lead.offered"


def timing_line(job: JobRequest) -> str:
    """When the customer wants it, as providers read it: ``Urgent``, ``Flexible``, ``12–15 Jan 2027``
    or ``30 Jan – 2 Feb 2027``."""
    if job.timing_kind == TimingKind.URGENT:
        return "Urgent"
    if job.timing_kind != TimingKind.RANGE or job.timing_start is None:
        return "Flexible"
    start, end = job.timing_start, job.timing_end or job.timing_start
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"


def window() -> timedelta:
    """How long offered providers have to claim (setting ``routing.window_minutes``)."""
    return timedelta(minutes=int(get_setting("routing.window_minutes")))


def offer_lead(job: JobRequest, business_id: uuid.UUID, *, source: str, tier: int | None, distance: float | None,
               score: float, parts: dict, expires_at: datetime, now: datetime) -> Lead:
    """Make the lead of ``job`` for business ``business_id`` (status ``offered`` until
    ``expires_at``; ``source`` ``routed`` or ``manual``) with the request's snapshot, and emit
    :data:`OFFERED_EVENT` in the business (deduplicated on the lead). Call in platform scope;
    flushes.

    Raises:
        sqlalchemy.exc.IntegrityError: the business already has a lead for ``job``.
    """
    with tenant_scope(business_id):
        lead = Lead(tenant_id=business_id, job_request_id=job.id, status=LeadStatus.OFFERED.value, source=source,
                    category_slug=job.category_slug, title=job.title, answers_summary=list(job.summary or []),
                    postcode=job.postcode, city=job.city, distance_km=distance, timing=timing_line(job),
                    complexity_tier=job.complexity_tier, credits_cost=job.credits_cost, routing_tier=tier,
                    score=score, score_parts=parts, offered_at=now, expires_at=expires_at)
        db.session.add(lead)
        db.session.flush()
        emit(OFFERED_EVENT, {"lead_id": str(lead.id), "job_request_id": str(job.id)}, dedup_key=str(lead.id))
    return lead


def lock_request(job_request_id: uuid.UUID) -> JobRequest | None:
    """The job request, locked for this transaction (``FOR UPDATE``); ``None`` if there is none.
    Platform scope."""
    with platform_scope("routing: lock the job request"):
        return db.session.scalar(sa.select(JobRequest).where(JobRequest.id == job_request_id)
                                 .with_for_update().execution_options(populate_existing=True))


def _store_round(job: JobRequest, round_no: int, ranked: list[ScoredCandidate], picked: int,
                 leads: dict[uuid.UUID, uuid.UUID], now: datetime) -> None:
    for c in ranked:
        outcome = CandidateOutcome.OFFERED if c.rank <= picked else CandidateOutcome.NOT_PICKED
        db.session.add(RoutingCandidate(job_request_id=job.id, round=round_no, business_id=c.business_id,
                                        business_name=c.name, tier=c.tier, distance_km=c.distance_km, score=c.score,
                                        score_parts=c.parts, rank=c.rank, outcome=outcome.value,
                                        lead_id=leads.get(c.business_id), created_at=now))


def route(job_request_id: uuid.UUID, now: datetime | None = None) -> str:
    """One routing round of an ``open`` job request (module docstring). Flushes, never commits.

    Returns:
        ``"routed"`` (leads offered), ``"manual"`` (no candidate), ``"skipped"`` (not ``open``:
        already routed, or withdrawn) or ``"gone"`` (no such request).
    """
    now = now or utcnow()
    with platform_scope("routing: route a job request"):
        job = lock_request(job_request_id)
        if job is None:
            return "gone"
        if job.status != JobRequestStatus.OPEN:
            return "skipped"
        ranked = rank_candidates(job, now)
        top_n = int(get_setting("routing.top_n"))
        picked = ranked[:top_n]
        round_no = job.routing_round + 1
        expires_at = now + window()
        leads = {c.business_id: offer_lead(job, c.business_id, source="routed", tier=c.tier, distance=c.distance_km,
                                           score=c.score, parts=c.parts, expires_at=expires_at, now=now).id
                 for c in picked}
        _store_round(job, round_no, ranked, len(picked), leads, now)
        job.routing_round = round_no
        job.updated_at = now
        offered = [{"business_id": str(c.business_id), "name": c.name, "tier": c.tier, "score": c.score,
                    "lead_id": str(leads[c.business_id])} for c in picked]
        if picked:
            job.status, job.routed_until = JobRequestStatus.ROUTED.value, expires_at
            record_audit(SYSTEM_ACTOR, "job_request.routed", "job_request", job.id,
                         after={"round": round_no, "status": job.status, "offered": offered,
                                "candidates": len(ranked), "routed_until": expires_at.isoformat()})
        else:
            send_to_manual(job, "no provider matched", now)
        db.session.flush()
    return "routed" if picked else "manual"


def send_to_manual(job: JobRequest, reason: str, now: datetime, actor: AuditActor = SYSTEM_ACTOR) -> None:
    """Put ``job`` in the console's manual-fulfilment queue (status ``manual``, no
    ``routed_until``) with the audit entry ``job_request.to_manual`` and ``reason``. Platform
    scope; flushes."""
    before = job.status
    job.status, job.routed_until, job.updated_at = JobRequestStatus.MANUAL.value, None, now
    db.session.flush()
    record_audit(actor, "job_request.to_manual", "job_request", job.id, reason=reason,
                 before={"status": before}, after={"status": job.status, "round": job.routing_round})
