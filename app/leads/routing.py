"""Who may get a job request, and in which order: candidates in three tiers, scored and ranked.

**Candidates** are read in ``platform_scope`` from platform tables: ``tenant`` (category,
opt-in ``accepts_job_requests``, suspension, base postcode/city/point, service area and radius)
outer-joined to ``marketplace_listing`` (rating, verified badge, listing suspension). A business
qualifies when it is in the request's category, opted in, not suspended (tenant or listing) and
was not offered this request before (a lead exists or an earlier round offered/assigned it).
Each qualifying business gets the best tier it matches (:class:`app.leads.models.RoutingTier`):

1. the job's postcode is in its ``service_postcodes`` (exact, or a UK outward code such as
   ``SW1A`` covering ``SW1A1AA``);
2. else its base postcode or city is the job's;
3. else the job's point lies within its ``service_radius_km`` of its point (great-circle).

A business matching none is no candidate. **Ranking** is by tier first (every tier-1 candidate
before any tier-2 one), then by score (:mod:`app.leads.scoring`) descending, then by id.

**The one tenant-table read** (:func:`provider_stats`): counts over the ``lead`` table for the
candidates only, in ``platform_scope`` — won, decided offers and claims, mean minutes to claim,
open load, wins in the category, the latest offer time. It returns numbers per business, never a
lead's content; routing needs each provider's track record and only the leads hold it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.geo.distance import distance_km
from app.leads.models import JobRequest, Lead, LeadStatus, RoutingTier
from app.leads.routing_models import CandidateOutcome, RoutingCandidate
from app.leads.scoring import FACTORS, ProviderStats, score_provider
from app.marketplace.models import MarketplaceListing
from app.platform_settings import get_setting
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow


@dataclass
class ScoredCandidate:
    """A business that may get the request: ``tier`` (1–3), ``distance_km`` (``None`` when a point
    is unknown), ``score`` 0–1 and ``parts`` (factor -> value/weight/contribution), the
    ``stats`` they came from; ``rank`` (1 = best) once ranked."""

    business_id: uuid.UUID
    name: str
    tier: int
    distance_km: float | None
    stats: ProviderStats = field(default_factory=ProviderStats)
    score: float = 0.0
    parts: dict = field(default_factory=dict)
    rank: int = 0


def normalise_postcode(value: str | None) -> str:
    """``value`` upper-case without spaces or dashes (``"sw1a 1aa"`` -> ``"SW1A1AA"``)."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def postcode_in_area(postcode: str, area: list[str] | tuple[str, ...]) -> bool:
    """True when normalised ``postcode`` is one of ``area`` (normalised entries), or a UK full
    postcode whose outward code (all but the last three characters) is one of them."""
    pc = normalise_postcode(postcode)
    if not pc:
        return False
    entries = {normalise_postcode(a) for a in area if a}
    if pc in entries:
        return True
    return len(pc) >= 5 and not pc.isdigit() and pc[:-3] in entries


def match_tier(job: JobRequest, tenant: Tenant) -> tuple[int | None, float | None]:
    """``(tier, distance_km)`` of ``tenant`` for ``job``: the best :class:`RoutingTier` it
    matches (``None``: none) and the great-circle km between their points (``None`` when either
    point is unknown)."""
    distance = None
    if None not in (job.latitude, job.longitude, tenant.latitude, tenant.longitude):
        distance = round(distance_km((job.latitude, job.longitude), (tenant.latitude, tenant.longitude)), 3)
    if job.postcode and postcode_in_area(job.postcode, tenant.service_postcodes or []):
        return RoutingTier.SERVICE_AREA.value, distance
    same_postcode = bool(job.postcode) and normalise_postcode(job.postcode) == normalise_postcode(tenant.postcode)
    same_city = bool(job.city.strip()) and job.city.strip().casefold() == (tenant.city or "").strip().casefold()
    if same_postcode or same_city:
        return RoutingTier.BASE_AREA.value, distance
    if distance is not None and tenant.service_radius_km and distance <= tenant.service_radius_km:
        return RoutingTier.RADIUS.value, distance
    return None, distance


def already_offered(job_request_id: uuid.UUID) -> set[uuid.UUID]:
    """Businesses that already had this request: a lead exists for them (any status) or a round
    offered or assigned it. Platform scope."""
    with platform_scope("routing: who already had this job request"):
        from_rounds = set(db.session.scalars(sa.select(RoutingCandidate.business_id).where(
            RoutingCandidate.job_request_id == job_request_id,
            RoutingCandidate.outcome.in_((CandidateOutcome.OFFERED.value, CandidateOutcome.MANUAL.value)))))
        from_leads = set(db.session.scalars(sa.select(Lead.tenant_id).where(Lead.job_request_id == job_request_id)))
    return from_rounds | from_leads


def find_candidates(job: JobRequest) -> list[ScoredCandidate]:
    """Every business that may get ``job`` (unscored, unranked; see the module docstring)."""
    if not job.category_slug:
        return []
    exclude = already_offered(job.id)
    with platform_scope("routing: candidate providers"):
        rows = db.session.execute(
            sa.select(Tenant, MarketplaceListing.rating_average, MarketplaceListing.rating_count,
                      MarketplaceListing.verified)
            .outerjoin(MarketplaceListing, MarketplaceListing.business_id == Tenant.id)
            .where(Tenant.category_slug == job.category_slug, Tenant.accepts_job_requests.is_(True),
                   Tenant.suspended_at.is_(None), sa.func.coalesce(MarketplaceListing.suspended, False).is_(False))
            .order_by(Tenant.id)).all()
    found = []
    for tenant, rating_average, rating_count, verified in rows:
        if tenant.id in exclude:
            continue
        tier, distance = match_tier(job, tenant)
        if tier is None:
            continue
        found.append(ScoredCandidate(tenant.id, tenant.name, tier, distance, ProviderStats(
            rating_average=rating_average, rating_count=rating_count or 0, verified=bool(verified),
            distance_km=distance)))
    return found


def provider_stats(business_ids: list[uuid.UUID], category_slug: str | None) -> dict[uuid.UUID, dict]:
    """Track record per business from the ``lead`` table (the justified read, module docstring):
    business -> ``{"won", "offered", "claimed", "mean_response_minutes", "open_load",
    "category_won", "last_offered_at"}``; businesses without leads are absent. Platform scope."""
    if not business_ids:
        return {}
    decided = Lead.status != LeadStatus.OFFERED.value
    routed = Lead.source == "routed"
    minutes = sa.extract("epoch", Lead.claimed_at - Lead.offered_at) / 60
    stmt = (sa.select(
        Lead.tenant_id,
        sa.func.count().filter(Lead.status == LeadStatus.WON.value),
        sa.func.count().filter(decided, routed),
        sa.func.count().filter(decided, routed, Lead.claimed_at.is_not(None)),
        sa.func.avg(minutes).filter(Lead.claimed_at.is_not(None)),
        sa.func.count().filter(Lead.status.in_((LeadStatus.CLAIMED.value, LeadStatus.QUOTED.value))),
        sa.func.count().filter(Lead.status == LeadStatus.WON.value, Lead.category_slug == category_slug),
        sa.func.max(Lead.offered_at))
        .where(Lead.tenant_id.in_(business_ids)).group_by(Lead.tenant_id))
    with platform_scope("routing: providers' track record (counts over their leads)"):
        rows = db.session.execute(stmt).all()
    keys = ("won", "offered", "claimed", "mean_response_minutes", "open_load", "category_won", "last_offered_at")
    out = {}
    for tenant_id, *values in rows:
        record = dict(zip(keys, values, strict=True))
        if record["mean_response_minutes"] is not None:
            record["mean_response_minutes"] = float(record["mean_response_minutes"])
        out[tenant_id] = record
    return out


def routing_weights() -> dict[str, int]:
    """The score weights from the platform settings ``routing.weight.<factor>`` (points 0–100)."""
    return {factor: int(get_setting(f"routing.weight.{factor}")) for factor in FACTORS}


def rank_candidates(job: JobRequest, now: datetime | None = None) -> list[ScoredCandidate]:
    """The candidates of ``job``, scored with the current weights and ranked (tier, then score
    descending, then id); ``rank`` set from 1."""
    now = now or utcnow()
    candidates = find_candidates(job)
    stats = provider_stats([c.business_id for c in candidates], job.category_slug)
    weights = routing_weights()
    for c in candidates:
        record = stats.get(c.business_id, {})
        c.stats = ProviderStats(rating_average=c.stats.rating_average, rating_count=c.stats.rating_count,
                                verified=c.stats.verified, distance_km=c.distance_km, **record)
        c.score, c.parts = score_provider(c.stats, weights, now)
    candidates.sort(key=lambda c: (c.tier, -c.score, str(c.business_id)))
    for i, c in enumerate(candidates, start=1):
        c.rank = i
    return candidates
