"""Manual fulfilment: the console's queue of job requests nobody took, and an admin's assignment.

Everything here runs in ``platform_scope`` (the console on the apex). Reads: the queue
(:func:`manual_queue`, ``manual`` requests oldest first with their latest round's candidates),
a request's full routing story (:func:`routing_story`: every round's candidates and the leads
made, read from the ``lead`` table for this one request — the console must show what each
provider did with it), and a business search for the assignment (:func:`search_businesses`).

:func:`assign_provider` is the override: with a reason, it offers the request to the chosen
business as a ``source="manual"`` lead (scored like any candidate so the provider sees why),
records it as a round of its own (outcome ``manual``), sets the request ``routed`` until the
routing window ends (a lapse sends it back to the queue) and writes the audit entry
``job_request.assigned``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.errors import InputError
from app.extensions import db
from app.leads.models import JobRequest, JobRequestStatus, Lead
from app.leads.routing import match_tier, provider_stats, routing_weights
from app.leads.routing_models import CandidateOutcome, RoutingCandidate
from app.leads.routing_offers import lock_request, offer_lead, window
from app.leads.scoring import ProviderStats, score_provider
from app.marketplace.models import MarketplaceListing
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow

#: Request statuses an admin may assign a provider to.
ASSIGNABLE = (JobRequestStatus.MANUAL.value, JobRequestStatus.ROUTED.value, JobRequestStatus.OPEN.value)
#: Businesses a search shows at most.
SEARCH_LIMIT = 20


class AssignmentError(InputError):
    """The assignment cannot be made; ``message`` is user-facing, ``field`` the form field at fault."""


@dataclass
class QueueItem:
    """A request waiting in the manual queue: the ``job``, its latest round's ``candidates``
    (best first), and ``waiting_since`` (tz-aware UTC: when it entered the queue, else submission)."""

    job: JobRequest
    candidates: list[RoutingCandidate] = field(default_factory=list)
    waiting_since: datetime | None = None


@dataclass
class RoutingStory:
    """A request's routing for the console: ``job``, ``rounds`` (round number -> candidates by
    rank), ``leads`` (``(lead, business name)`` pairs, oldest offer first)."""

    job: JobRequest
    rounds: dict[int, list[RoutingCandidate]]
    leads: list[tuple[Lead, str]]


def _candidates(job_ids: list[uuid.UUID]) -> list[RoutingCandidate]:
    if not job_ids:
        return []
    return list(db.session.scalars(sa.select(RoutingCandidate).where(RoutingCandidate.job_request_id.in_(job_ids))
                                   .order_by(RoutingCandidate.round, RoutingCandidate.rank)))


def manual_queue(limit: int = 100) -> list[QueueItem]:
    """``manual`` requests, oldest submission first, each with its latest round's candidates."""
    with platform_scope("console: manual-fulfilment queue"):
        jobs = list(db.session.scalars(sa.select(JobRequest).where(JobRequest.status == JobRequestStatus.MANUAL.value)
                                       .order_by(JobRequest.submitted_at, JobRequest.created_at).limit(limit)))
        by_job: dict[uuid.UUID, list[RoutingCandidate]] = {}
        for c in _candidates([j.id for j in jobs]):
            by_job.setdefault(c.job_request_id, []).append(c)
    items = []
    for job in jobs:
        rows = by_job.get(job.id, [])
        latest = max((c.round for c in rows), default=0)
        items.append(QueueItem(job, [c for c in rows if c.round == latest], job.updated_at or job.submitted_at))
    return items


def routing_story(job_request_id: uuid.UUID) -> RoutingStory | None:
    """Every round and lead of a request (``None``: no such request, or a draft)."""
    with platform_scope("console: a job request's routing"):
        job = db.session.get(JobRequest, job_request_id)
        if job is None or job.status == JobRequestStatus.DRAFT:
            return None
        rounds: dict[int, list[RoutingCandidate]] = {}
        for c in _candidates([job.id]):
            rounds.setdefault(c.round, []).append(c)
        leads = [(lead, name) for lead, name in db.session.execute(
            sa.select(Lead, Tenant.name).join(Tenant, Tenant.id == Lead.tenant_id)
            .where(Lead.job_request_id == job.id).order_by(Lead.offered_at, Tenant.name))]
    return RoutingStory(job, rounds, leads)


def search_businesses(query: str, category_slug: str | None = None) -> list[Tenant]:
    """Active businesses whose name or slug contains ``query`` (case-insensitive; all of them
    when empty), those in ``category_slug`` and taking job requests first, at most
    :data:`SEARCH_LIMIT`."""
    q = query.strip()
    stmt = sa.select(Tenant).where(Tenant.suspended_at.is_(None))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(sa.or_(Tenant.name.ilike(like), Tenant.slug.ilike(like)))
    in_category = sa.case((Tenant.category_slug == category_slug, 0), else_=1)
    opted = sa.case((Tenant.accepts_job_requests.is_(True), 0), else_=1)
    with platform_scope("console: find a business for a job request"):
        return list(db.session.scalars(stmt.order_by(in_category, opted, Tenant.name).limit(SEARCH_LIMIT)))


def assign_provider(actor: AuditActor, job_request_id: uuid.UUID, business_id: uuid.UUID, reason: str,
                    now: datetime | None = None) -> Lead:
    """Offer the request to ``business_id`` on an admin's say-so (module docstring). Flushes.

    Raises:
        LookupError: no such request.
        AssignmentError: no reason (``reason``); the request is not waiting (``job``); no such
            active business, or it already had this request (``business_id``).
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise AssignmentError(_("Say why you assign this provider (it goes in the audit log)."), "reason")
    with platform_scope("console: assign a provider to a job request"):
        job = lock_request(job_request_id)
        if job is None or job.status == JobRequestStatus.DRAFT:
            raise LookupError(job_request_id)
        if job.status not in ASSIGNABLE:
            raise AssignmentError(_("This request is %(status)s: it cannot be assigned now.", status=job.status), "job")
        tenant = db.session.get(Tenant, business_id)
        if tenant is None or tenant.suspended_at is not None:
            raise AssignmentError(_("Choose an active business."), "business_id")
        if db.session.scalar(sa.select(Lead.id).where(Lead.job_request_id == job.id, Lead.tenant_id == business_id)):
            raise AssignmentError(_("%(business)s already had this request.", business=tenant.name), "business_id")
        tier, distance = match_tier(job, tenant)
        listing = db.session.get(MarketplaceListing, business_id)
        record = provider_stats([business_id], job.category_slug).get(business_id, {})
        stats = ProviderStats(rating_average=listing.rating_average if listing else None,
                              rating_count=listing.rating_count if listing else 0,
                              verified=bool(listing and listing.verified), distance_km=distance, **record)
        score, parts = score_provider(stats, routing_weights(), now)
        expires_at = now + window()
        lead = offer_lead(job, business_id, source="manual", tier=tier, distance=distance, score=score, parts=parts,
                          expires_at=expires_at, now=now)
        round_no = job.routing_round + 1
        db.session.add(RoutingCandidate(job_request_id=job.id, round=round_no, business_id=business_id,
                                        business_name=tenant.name, tier=tier, distance_km=distance, score=score,
                                        score_parts=parts, rank=1, outcome=CandidateOutcome.MANUAL.value,
                                        lead_id=lead.id, created_at=now))
        before = job.status
        job.status, job.routed_until, job.routing_round = JobRequestStatus.ROUTED.value, expires_at, round_no
        job.assigned_business_id, job.updated_at = business_id, now
        db.session.flush()
        record_audit(actor, "job_request.assigned", "job_request", job.id, reason=reason,
                     before={"status": before},
                     after={"status": job.status, "round": round_no, "business_id": str(business_id),
                            "business": tenant.name, "lead_id": str(lead.id), "tier": tier, "score": score})
    return lead
