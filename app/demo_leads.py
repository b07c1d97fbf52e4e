"""Demo job requests (``flask seed-demo``, issue 13, seed 002): handyman, cleaning and plumbing
providers around New York ZIP codes and London postcodes that take job requests, their lead
credits, and job requests in every state.

Providers (:data:`PROVIDERS`, logins ``owner@<slug>.test`` with the demo password) have a base
address and point, a service area (postcodes and a travel radius), one staff member with weekday
hours, a small menu, and a credit balance built from a pack bought through Checkout (a
``purchase`` entry) minus the leads they claimed (``claim`` entries). Job requests
(:data:`REQUESTS`) cover every state: ``open`` (just submitted, not routed yet), ``routed`` (offered
leads waiting to be claimed), claimed, quoted, ``booked`` (a won lead whose quote became a booking
in the provider's calendar, through the booking core) and ``manual`` (nobody matched: the console's
manual-fulfilment queue). Each request's answers are given as the ``summary`` providers read
(label and text), so ``answers`` stays empty here. The wizard's questions of the three demo
categories (:data:`QUESTIONS`) are added through the console's own function when a category has none.

Deterministic: ids are UUIDv5 of fixed names, instants are relative to ``now``. Idempotent: a
provider (by slug) or a request (by id) that exists is left alone. Flushes; the CLI commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.audit.service import SYSTEM_ACTOR
from app.booking.errors import SlotUnavailable
from app.booking.models import Booking
from app.booking.service import CustomerInput, create_booking
from app.booking.transitions import Actor
from app.catalog.models import Service
from app.catalog.service import create_service, create_staff_member, set_working_hours
from app.credits.ledger import move_credits
from app.extensions import db
from app.identity.models import User
from app.identity.service import create_user, find_user, hash_password
from app.leads.access import issue_manage_token
from app.leads.models import JobRequest, JobRequestStatus, Lead, LeadStatus, RoutingTier, TimingKind
from app.leads.questions_admin import QuestionInput, add_question, questions_in
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Role, Tenant
from app.tenants.service import add_membership, create_tenant
from app.timeutil import utcnow, zone

#: Namespace of the demo's UUIDv5 ids.
DEMO_NS = uuid.UUID("6f2b7a4e-13a0-4c5e-9d1b-0000000013a2")
#: The pack every demo provider bought (credits, price in US cents), once.
DEMO_PACK = (15, 6000)


@dataclass(frozen=True)
class Provider:
    """A demo provider: ``slug``, ``name``, ``category`` (taxonomy slug), ``city``, ``timezone``,
    ``currency``, base ``postcode`` and point (WGS 84 degrees), served ``postcodes`` and
    ``radius_km``, its ``services`` as (name, minutes, price in minor units)."""

    slug: str
    name: str
    category: str
    city: str
    timezone: str
    currency: str
    postcode: str
    address_line: str
    latitude: float
    longitude: float
    postcodes: tuple[str, ...]
    radius_km: int
    services: tuple[tuple[str, int, int], ...]


NY = ("New York", "America/New_York", "USD")
LDN = ("London", "Europe/London", "GBP")

PROVIDERS: tuple[Provider, ...] = (
    Provider("demo-lead-chelsea-plumbing", "Chelsea Plumbing Co.", "plumbing", *NY, "10001", "W 23rd St 41",
             40.7465, -73.9969, ("10001", "10011", "10014", "10003"), 6,
             (("Call-out & first hour", 60, 12000), ("Tap replacement", 90, 15000))),
    Provider("demo-lead-brooklyn-pipes", "Brooklyn Pipe & Drain", "plumbing", *NY, "11201", "Montague St 88",
             40.6944, -73.9930, ("11201", "11215", "10011"), 10,
             (("Call-out & first hour", 60, 11500), ("Unblock a drain", 60, 11000))),
    Provider("demo-lead-hudson-handyman", "Hudson Handyman", "handyman", *NY, "10011", "8th Ave 210",
             40.7420, -74.0020, ("10001", "10011", "10014"), 8,
             (("Handyman hour", 60, 7000), ("Furniture assembly", 120, 12000))),
    Provider("demo-lead-sparkle-nyc", "Sparkle Cleaning NYC", "cleaning", *NY, "10011", "W 16th St 12",
             40.7390, -73.9990, ("10001", "10011", "11201"), 12,
             (("Standard clean, 2 h", 120, 9000), ("Deep clean, 4 h", 240, 20000))),
    Provider("demo-lead-clapham-fixit", "Clapham Fix-It", "handyman", *LDN, "SW47UL", "Clapham High Street 64",
             51.4620, -0.1380, ("SW47UL", "SW4", "SW9", "SW2"), 6,
             (("Handyman hour", 60, 5500), ("Wall mounting", 60, 7000))),
    Provider("demo-lead-east-end-clean", "East End Cleaners", "cleaning", *LDN, "E16QL", "Brick Lane 120",
             51.5245, -0.0720, ("E1", "E16QL", "E2", "E14"), 8,
             (("Standard clean, 2 h", 120, 7000), ("End of tenancy clean", 300, 22000))),
    Provider("demo-lead-thames-plumbing", "Thames Plumbing", "plumbing", *LDN, "SW47UL", "Old Town 9",
             51.4650, -0.1420, ("SW4", "SW47UL", "E1"), 15,
             (("Call-out & first hour", 60, 9500), ("Tap replacement", 90, 12000))),
)


@dataclass(frozen=True)
class LeadSpec:
    """One offer of a demo request: the provider's ``slug``, the lead's ``status``, its routing
    ``score`` (0–1) and ``distance_km``, the quote (``low``/``high`` in minor units of the
    provider's currency) when quoted."""

    provider: str
    status: LeadStatus
    score: float
    distance_km: float
    low: int | None = None
    high: int | None = None
    message: str = ""


@dataclass(frozen=True)
class RequestSpec:
    """A demo job request: ``key`` (its id is UUIDv5 of it), ``status``, category, title, the
    summary (label, text) pairs, where (postcode, city, country, point), timing, tier and credit
    cost, the customer's contact, how long ago it was submitted (hours) and its ``leads``."""

    key: str
    status: JobRequestStatus
    category: str
    title: str
    summary: tuple[tuple[str, str], ...]
    postcode: str
    city: str
    country: str
    latitude: float
    longitude: float
    timing: TimingKind
    tier: int
    credits: int
    contact: tuple[str, str, str]
    hours_ago: int
    leads: tuple[LeadSpec, ...] = ()


REQUESTS: tuple[RequestSpec, ...] = (
    RequestSpec("ny-leaking-tap", JobRequestStatus.ROUTED, "plumbing", "Leaking kitchen tap",
                (("What needs doing?", "Fix or replace a tap"), ("Where is it?", "Kitchen"),
                 ("How bad is it?", "Drips constantly, about a cup an hour"), ("Property", "Apartment, 3rd floor")),
                "10011", "New York", "US", 40.7401, -74.0005, TimingKind.URGENT, 2, 2,
                ("Maria Lopez", "maria.lopez@example.com", "+12125550142"), 1,
                (LeadSpec("demo-lead-chelsea-plumbing", LeadStatus.OFFERED, 0.82, 1.1),
                 LeadSpec("demo-lead-brooklyn-pipes", LeadStatus.OFFERED, 0.64, 5.3))),
    RequestSpec("ny-wardrobe", JobRequestStatus.ROUTED, "handyman", "Assemble a wardrobe and two shelves",
                (("What needs doing?", "Furniture assembly, wall shelves"), ("How many items?", "3"),
                 ("Tools or parts needed?", "Wall plugs for brick")),
                "10001", "New York", "US", 40.7506, -73.9972, TimingKind.FLEXIBLE, 2, 2,
                ("Daniel Park", "daniel.park@example.com", "+12125550173"), 20,
                (LeadSpec("demo-lead-hudson-handyman", LeadStatus.CLAIMED, 0.77, 1.0),)),
    RequestSpec("ny-deep-clean", JobRequestStatus.QUOTED, "cleaning", "Deep clean of a two-bedroom flat",
                (("Type of clean", "Deep clean"), ("Bedrooms", "2"), ("Bathrooms", "1"), ("Pets?", "One cat")),
                "10011", "New York", "US", 40.7380, -74.0010, TimingKind.RANGE, 3, 3,
                ("Aisha Khan", "aisha.khan@example.com", "+12125550118"), 30,
                (LeadSpec("demo-lead-sparkle-nyc", LeadStatus.QUOTED, 0.74, 0.4, 18000, 24000,
                          "Two cleaners, about four hours; products included."),)),
    RequestSpec("ny-bathroom-tap", JobRequestStatus.BOOKED, "plumbing", "Replace a bathroom mixer tap",
                (("What needs doing?", "Fix or replace a tap"), ("Where is it?", "Bathroom"),
                 ("Do you have the new tap?", "Yes")),
                "11201", "New York", "US", 40.6950, -73.9900, TimingKind.FLEXIBLE, 2, 2,
                ("Tom Becker", "tom.becker@example.com", "+12125550166"), 72,
                (LeadSpec("demo-lead-brooklyn-pipes", LeadStatus.WON, 0.80, 0.3, 9000, 14000,
                          "Straightforward swap; I can come this week."),
                 LeadSpec("demo-lead-chelsea-plumbing", LeadStatus.LOST, 0.61, 6.2, 11000, 16000,
                          "Includes new flexible hoses."))),
    RequestSpec("ny-sticking-door", JobRequestStatus.OPEN, "handyman", "Fix a sticking front door",
                (("What needs doing?", "Door repair"), ("Door type", "Wooden, interior")),
                "10001", "New York", "US", 40.7510, -73.9960, TimingKind.FLEXIBLE, 1, 1,
                ("Grace Liu", "grace.liu@example.com", ""), 0),
    RequestSpec("ldn-tv-mount", JobRequestStatus.ROUTED, "handyman", "Mount a TV and put up shelves",
                (("What needs doing?", "Wall mounting, shelves"), ("Wall type", "Plasterboard"),
                 ("TV size", "55 inch")),
                "SW47UL", "London", "GB", 51.4615, -0.1390, TimingKind.RANGE, 2, 2,
                ("Oliver Smith", "oliver.smith@example.co.uk", "+442079460123"), 2,
                (LeadSpec("demo-lead-clapham-fixit", LeadStatus.OFFERED, 0.79, 0.2),)),
    RequestSpec("ldn-end-of-tenancy", JobRequestStatus.QUOTED, "cleaning", "End of tenancy clean",
                (("Type of clean", "End of tenancy"), ("Bedrooms", "1"), ("Oven clean?", "Yes")),
                "E16QL", "London", "GB", 51.5240, -0.0730, TimingKind.RANGE, 3, 3,
                ("Amelia Jones", "amelia.jones@example.co.uk", "+442079460456"), 40,
                (LeadSpec("demo-lead-east-end-clean", LeadStatus.QUOTED, 0.83, 0.5, 20000, 26000,
                          "Fixed price for a one-bed, deposit-back guarantee."),)),
    RequestSpec("ldn-boiler-valve", JobRequestStatus.MANUAL, "plumbing", "Boiler pressure keeps dropping",
                (("What needs doing?", "Boiler repair"), ("Boiler make", "Worcester Bosch"),
                 ("Hot water?", "Yes, but pressure drops daily")),
                "E14", "London", "GB", 51.5054, -0.0235, TimingKind.URGENT, 4, 4,
                ("Harry Wilson", "harry.wilson@example.co.uk", "+442079460789"), 6),
)


#: The wizard's questions of the demo categories (added once, when a category has none):
#: (category, kind, label, required, options as "Label = weight" lines, weight, number cap).
QUESTIONS: tuple[tuple[str, str, str, bool, str, str, str], ...] = (
    ("plumbing", "single_choice", "What needs fixing?", True,
     "Leaking tap = 10\nBlocked drain = 20\nToilet = 25\nBoiler or water heater = 60\nNew installation = 80", "", ""),
    ("plumbing", "yes_no", "Is water leaking right now?", False, "", "30", ""),
    ("plumbing", "photo", "A photo of it", False, "", "", ""),
    ("handyman", "single_choice", "What is the job?", True,
     "Furniture assembly = 10\nShelves or TV mounting = 15\nRepairs = 30\nSmall renovation = 70", "", ""),
    ("handyman", "number", "Roughly how many hours of work?", False, "", "50", "8"),
    ("cleaning", "single_choice", "What kind of clean?", True,
     "Regular clean = 10\nDeep clean = 40\nEnd of tenancy = 70", "", ""),
    ("cleaning", "number", "How many bedrooms?", True, "", "40", "5"),
    ("cleaning", "yes_no", "Do you have pets?", False, "", "10", ""),
)


def seed_questions() -> list[str]:
    """Add :data:`QUESTIONS` to each demo category that has no question yet (through the
    console's own domain function, audit-logged as the system); returns the categories filled."""
    filled: list[str] = []
    for slug in dict.fromkeys(q[0] for q in QUESTIONS):
        if questions_in(slug):
            continue
        for category, kind, label, required, options, weight, cap in QUESTIONS:
            if category == slug:
                add_question(slug, QuestionInput(kind=kind, label=label, help_text="", required=required,
                                                 options=options, weight=weight, number_cap=cap), by=SYSTEM_ACTOR)
        filled.append(f"questions for {slug}")
    return filled


def demo_id(name: str) -> uuid.UUID:
    """The demo's deterministic id of ``name``."""
    return uuid.uuid5(DEMO_NS, name)


def seed_leads_demo(password: str, now: datetime | None = None) -> list[str]:
    """Create the demo providers and job requests that do not exist yet (see the module
    docstring); returns what was created. Flushes; the caller's unit of work commits."""
    now = now or utcnow()
    created: list[str] = seed_questions()
    with platform_scope("seed-demo: job requests and their providers"):
        tenants = {t.slug: t for t in db.session.scalars(
            sa.select(Tenant).where(Tenant.slug.in_([p.slug for p in PROVIDERS])))}
        password_hash = hash_password(password) if len(tenants) < len(PROVIDERS) else ""
        for spec in PROVIDERS:
            if spec.slug not in tenants:
                tenants[spec.slug] = _create_provider(spec, password_hash, now)
                created.append(spec.slug)
        known = set(db.session.scalars(sa.select(JobRequest.id).where(
            JobRequest.id.in_([demo_id(r.key) for r in REQUESTS]))))
        for req in REQUESTS:
            if demo_id(req.key) not in known:
                _create_request(req, tenants, now)
                created.append(f"job request {req.key}")
    db.session.flush()
    return created


def _create_provider(spec: Provider, password_hash: str, now: datetime) -> Tenant:
    email = f"owner@{spec.slug}.test"
    owner = find_user(email)
    if owner is None:
        owner = create_user(email, None, f"{spec.name} owner")
        owner.password_hash = password_hash
    owner.email_verified_at = owner.email_verified_at or now
    tenant = create_tenant(name=spec.name, slug=spec.slug, timezone=spec.timezone, currency=spec.currency,
                           owner=owner, category_slug=spec.category)
    tenant.address_line, tenant.postcode, tenant.city = spec.address_line, spec.postcode, spec.city
    tenant.latitude, tenant.longitude = spec.latitude, spec.longitude
    tenant.service_postcodes, tenant.service_radius_km = list(spec.postcodes), spec.radius_km
    tenant.accepts_job_requests = True
    tenant.lead_time_minutes = 0
    tenant.description = f"{spec.name}: {spec.category} around {spec.city}. We answer job requests within the hour."
    with tenant_scope(tenant.id):
        staff = create_staff_member(name=spec.name.split()[0], bio="", position=0)
        set_working_hours(staff.id, {d: [(time(8), time(18))] for d in range(6)})
        add_membership(owner, Role.OWNER, staff.id)
        for i, (name, minutes, price) in enumerate(spec.services):
            create_service(name=name, description="", category="", duration_minutes=minutes, price_amount=price,
                           currency=spec.currency, buffer_before_minutes=0, buffer_after_minutes=15,
                           staff_ids=[staff.id], position=i)
        credits, cents = DEMO_PACK
        session_id = f"cs_demo_{demo_id(spec.slug).hex[:20]}"
        move_credits("purchase", credits, f"checkout:{session_id}", checkout_session_id=session_id,
                     money_amount=cents, money_currency="USD", note="standard pack")
    db.session.flush()
    return tenant


def _score_parts(score: float, distance_km: float) -> dict:
    """Routing score parts (factor -> value, weight, contribution) adding up to ``score``."""
    weights = {"rating": 0.25, "distance": 0.2, "completed_jobs": 0.15, "response": 0.15, "load": 0.1,
               "expertise": 0.1, "recency": 0.05}
    closeness = max(0.0, 1 - distance_km / 15)
    values = {"distance": round(closeness, 3)}
    rest = (score - weights["distance"] * closeness) / (1 - weights["distance"])
    for factor in weights:
        values.setdefault(factor, round(min(1.0, max(0.0, rest)), 3))
    return {f: {"value": values[f], "weight": w, "contribution": round(values[f] * w, 4)} for f, w in weights.items()}


def _create_request(spec: RequestSpec, tenants: dict[str, Tenant], now: datetime) -> None:
    submitted = now - timedelta(hours=spec.hours_ago)
    name, email, phone = spec.contact
    req = JobRequest(
        id=demo_id(spec.key), status=spec.status.value, category_slug=spec.category, title=spec.title,
        details=spec.title + ".", answers={}, summary=[{"label": lab, "text": text} for lab, text in spec.summary],
        complexity_score=min(100, spec.tier * 20), complexity_tier=spec.tier, credits_cost=spec.credits,
        postcode=spec.postcode, city=spec.city, country=spec.country, latitude=spec.latitude,
        longitude=spec.longitude, timing_kind=spec.timing.value, contact_name=name, contact_email=email,
        contact_phone=phone, routing_round=1 if spec.leads else 0, created_at=submitted, updated_at=submitted,
        submitted_at=submitted)
    if spec.timing == TimingKind.RANGE:
        req.timing_start = (now + timedelta(days=3)).date()
        req.timing_end = (now + timedelta(days=10)).date()
    if spec.status == JobRequestStatus.ROUTED:
        req.routed_until = now + timedelta(hours=4)
    issue_manage_token(req)  # the demo customer's link is not shown; a new one is mailed on request
    db.session.add(req)
    db.session.flush()
    for lead_spec in spec.leads:
        tenant = tenants[lead_spec.provider]
        with tenant_scope(tenant.id):
            lead = _create_lead(req, lead_spec, tenant, submitted, now)
            if lead.status == LeadStatus.WON:
                req.won_lead_id = lead.id
    db.session.flush()


def _create_lead(req: JobRequest, spec: LeadSpec, tenant: Tenant, submitted: datetime, now: datetime) -> Lead:
    timing = {"urgent": "Urgent", "flexible": "Flexible"}.get(req.timing_kind, "")
    if req.timing_start and req.timing_end:
        timing = f"{req.timing_start:%d %b} – {req.timing_end:%d %b}"
    offered = submitted + timedelta(minutes=2)
    lead = Lead(id=demo_id(f"{req.id}:{tenant.slug}"), job_request_id=req.id, status=spec.status.value,
                source="routed", category_slug=req.category_slug, title=req.title, answers_summary=req.summary,
                postcode=req.postcode, city=req.city, distance_km=spec.distance_km, timing=timing,
                complexity_tier=req.complexity_tier, credits_cost=req.credits_cost,
                routing_tier=int(RoutingTier.SERVICE_AREA), score=spec.score,
                score_parts=_score_parts(spec.score, spec.distance_km), offered_at=offered,
                expires_at=offered + timedelta(hours=6))
    db.session.add(lead)
    db.session.flush()
    if spec.status == LeadStatus.OFFERED:
        return lead
    owner_id = db.session.scalar(sa.select(User.id).where(User.email == f"owner@{tenant.slug}.test"))
    move_credits("claim", -req.credits_cost, f"claim:{lead.id}", lead_id=lead.id, actor_user_id=owner_id)
    lead.claimed_at, lead.claimed_by = offered + timedelta(minutes=20), owner_id
    lead.contact_due_at = lead.claimed_at + timedelta(hours=24)
    lead.contact_name, lead.contact_email, lead.contact_phone = req.contact_name, req.contact_email, req.contact_phone
    if spec.low is not None:
        lead.contacted_at = lead.claimed_at + timedelta(minutes=30)
        lead.quote_min_amount, lead.quote_max_amount, lead.quote_currency = spec.low, spec.high, tenant.currency
        lead.quote_message, lead.quoted_at = spec.message, lead.contacted_at + timedelta(minutes=10)
    if spec.status in (LeadStatus.WON, LeadStatus.LOST):
        lead.decided_at = min(now, (lead.quoted_at or offered) + timedelta(hours=12))
    if spec.status == LeadStatus.WON:
        booking = _book(tenant, req, owner_id, now)
        lead.booking_id, lead.customer_id = booking.id, booking.customer_id
    db.session.flush()
    return lead


def _book(tenant: Tenant, req: JobRequest, owner_id: uuid.UUID | None, now: datetime) -> Booking:
    """The won job in the provider's calendar: its first service, the first free weekday 10:00
    (local) from the day after tomorrow on, through the booking core."""
    service = db.session.scalar(sa.select(Service).where(Service.tenant_id == tenant.id).order_by(Service.position)
                               .limit(1))
    day = (now.astimezone(zone(tenant.timezone)) + timedelta(days=2)).date()
    customer = CustomerInput(req.contact_name, req.contact_email, req.contact_phone or None)
    for offset in range(14):
        start = datetime.combine(day + timedelta(days=offset), time(10), zone(tenant.timezone))
        if start.weekday() > 4:
            continue
        try:
            return create_booking(tenant, service_id=service.id, staff_id=None, start=start, customer=customer,
                                  customer_timezone=tenant.timezone, notes=f"Job request: {req.title}",
                                  actor=Actor("staff", owner_id), now=now)
        except SlotUnavailable:
            continue
    raise RuntimeError(f"no free weekday morning for the demo job at {tenant.slug}")
