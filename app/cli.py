"""Flask CLI commands: ``seed-demo`` (demo businesses and a calendar around today, see :mod:`app.demo`), ``run-automatic-transitions`` (and the ``billing`` group).

Each command is one unit of work (:func:`app.uow.unit_of_work`): it commits once when it
succeeds and rolls back everything when it fails; the functions it calls only flush.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app

from app.audit.cli import register_audit_cli
from app.booking.service import run_automatic_transitions
from app.catalog.service import create_service, create_staff_member, set_working_hours
from app.checkout.cli import register_billing_cli
from app.community.cli import register_community_cli
from app.community.feed_index import reindex_posts
from app.demo import BELLA_DANISH, add_danish_texts, fill_demo_bookings
from app.demo_leads import seed_leads_demo
from app.demo_marketplace import seed_marketplace
from app.dispatch.demo import seed_dispatch_demo
from app.extensions import db
from app.identity.admin_cli import register_admin_cli
from app.identity.models import User
from app.identity.service import create_user, find_user
from app.identity.totp import enrol_with_secret, is_enrolled
from app.marketplace.cli import register_marketplace_cli
from app.marketplace.tasks import reindex_all
from app.metrics.cli import register_metrics_cli
from app.metrics.rollups import recompute_days
from app.notifications.preferences import grant_consent
from app.reviews.demo import fill_demo_reviews
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.distribution import register_distribution_cli
from app.tenants.models import Role, Tenant
from app.tenants.service import add_membership, create_tenant
from app.tenants.taxonomy_cli import register_taxonomy_cli
from app.timeutil import utcnow
from app.uow import unit_of_work

DEMO_PASSWORD = "plaza-demo-2026"
#: Days before today whose KPI rollups ``seed-demo`` rebuilds (the console's and owners' metrics).
DEMO_METRICS_DAYS = 90
#: The demo's customer account: Bella's regular Freja (her verified email owns her bookings there),
#: who agreed to Plaza's own news when she signed up.
DEMO_CUSTOMER = "freja.holm@demo.plaza.test"
#: The marketplace's demo calendars are shorter than bella's and fixit's: enough visits to review
#: and free and taken slots for the coming week.
MARKETPLACE_PAST_DAYS = 10
MARKETPLACE_FUTURE_DAYS = 7

T = time


def _h(a: str, b: str) -> tuple[time, time]:
    return time.fromisoformat(a), time.fromisoformat(b)


BELLA = {
    "slug": "bella", "name": "Bella Hair Studio", "timezone": "Europe/Copenhagen", "currency": "DKK",
    "category": "hair", "owner": "owner@bella.test",
    "profile": {"phone": "+4533121212", "public_email": "hello@bella.test", "address_line": "Nørregade 12",
                "postcode": "1165", "city": "København", "country": "DK", "latitude": 55.6806, "longitude": 12.5718,
                "description": "A relaxed studio in the heart of Copenhagen: cuts, colour and styling by three "
                               "stylists who love what they do."},
    "staff": [
        ("Sofie Jensen", "Colour specialist with 12 years behind the chair."),
        ("Mads Nielsen", "Precision cuts and beard work."),
        ("Ida Larsen", "Curly hair and styling for events."),
    ],
    # weekday -> ranges (lunch break 12:00–12:30); Saturdays short.
    "hours": {d: [_h("09:00", "12:00"), _h("12:30", "17:30")] for d in range(0, 5)} | {5: [_h("10:00", "14:00")]},
    "services": [
        ("Women's haircut", "Cut, wash and blow-dry.", "Cuts", 60, 64900, 0, 10, [0, 1, 2]),
        ("Men's haircut", "Classic or modern cut.", "Cuts", 30, 39900, 0, 5, [1, 2]),
        ("Children's haircut", "Under 12.", "Cuts", 30, 29900, 0, 5, [0, 1, 2]),
        ("Full colour", "Root to tip colour incl. toner.", "Colour", 120, 149900, 0, 15, [0]),
        ("Highlights", "Foils, half head.", "Colour", 90, 119900, 0, 15, [0, 2]),
        ("Beard trim", "Shape-up with hot towel.", "Grooming", 20, 19900, 0, 0, [1]),
    ],
}

FIXIT = {
    "slug": "fixit", "name": "FixIt Handyman Co.", "timezone": "America/New_York", "currency": "USD",
    "category": "handyman", "owner": "owner@fixit.test",
    "profile": {"phone": "+12125550199", "public_email": "jobs@fixit.test", "address_line": "118 W 27th St",
                "postcode": "10001", "city": "New York", "country": "US", "latitude": 40.7466, "longitude": -73.9925,
                "service_radius_km": 15,
                "description": "Small jobs done right: furniture, mounting, fixtures and repairs across Manhattan."},
    "staff": [
        ("Joe Rivera", "Licensed electrician and general handyman."),
        ("Dana Brooks", "Carpentry, drywall and furniture assembly."),
    ],
    "hours": {d: [_h("08:00", "12:00"), _h("13:00", "18:00")] for d in range(0, 5)} | {5: [_h("09:00", "13:00")]},
    "services": [
        ("Furniture assembly", "Flat-pack furniture, per item.", "Assembly", 60, 8900, 0, 30, [0, 1]),
        ("TV wall mounting", "Up to 75 inches, hardware included.", "Mounting", 90, 14900, 0, 30, [0, 1]),
        ("Light fixture install", "Replace or install a fixture.", "Electrical", 60, 11900, 0, 30, [0]),
        ("Drywall patch", "Holes up to 12 inches.", "Repairs", 120, 19900, 15, 30, [1]),
    ],
}


def seed_demo(now: datetime | None = None) -> list[str]:
    """Create the demo tenants, staff, services, hours, profiles and accounts when missing, and
    fill their calendars around today (:func:`app.demo.fill_demo_bookings`); idempotent.

    Returns a list of what was created or added (empty when everything was already there).
    Flushes; the caller's unit of work commits.
    """
    created: list[str] = []
    admin = find_user("admin@plaza.test")
    if admin is None:
        admin = create_user("admin@plaza.test", DEMO_PASSWORD, "Plaza Admin")
        admin.is_platform_admin = True
        admin.email_verified_at = utcnow()
        created.append("admin@plaza.test")
    customer = find_user(DEMO_CUSTOMER)
    if customer is None:  # a customer who agreed to Plaza's own news, so a demo broadcast reaches someone
        customer = create_user(DEMO_CUSTOMER, DEMO_PASSWORD, "Freja Holm")
        customer.email_verified_at = utcnow()
        created.append(DEMO_CUSTOMER)
    grant_consent(customer.id, method="ticked the box when signing up (demo)", source="seed-demo")
    if not is_enrolled(admin.id):  # the demo admin's second factor: a fixed secret (README)
        with platform_scope("seed-demo: the demo admin's second factor"):
            enrol_with_secret(admin, current_app.config["DEMO_ADMIN_TOTP_SECRET"])
    for spec in (BELLA, FIXIT):
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == spec["slug"]))
        if tenant is None:
            tenant = _create_demo_business(spec)
            created.append(spec["slug"])
        with tenant_scope(tenant.id):
            added = fill_demo_bookings(tenant, now)
            # the Danish texts first: the demo's reviews snapshot their service's names in both languages
            translated = add_danish_texts(tenant, BELLA_DANISH) if spec is BELLA else 0
            reviewed = fill_demo_reviews(random.Random(tenant.slug))
        if added:
            created.append(f"{spec['slug']}: {added} bookings")
        if reviewed:
            created.append(f"{spec['slug']}: {reviewed} reviews")
        if translated:
            created.append(f"{spec['slug']}: Danish texts for {translated}")
    created += seed_dispatch_demo(DEMO_PASSWORD)  # issue 13 (X): two on-demand businesses, operators online
    db.session.flush()
    return created


def seed_marketplace_demo(now: datetime | None = None) -> list[str]:
    """Create the demo marketplace (:mod:`app.demo_marketplace`: sixty businesses over three
    cities) when missing and fill their calendars around today; idempotent like :func:`seed_demo`.

    Returns what was created or added. Flushes; the caller's unit of work commits.
    """
    created: list[str] = []
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Tenant))
    market = seed_marketplace(DEMO_PASSWORD)
    if new := db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)) - before:
        created.append(f"{new} marketplace businesses")
    booked = reviewed = 0
    for tenant in market:
        with tenant_scope(tenant.id):
            booked += fill_demo_bookings(tenant, now, past_days=MARKETPLACE_PAST_DAYS,
                                         future_days=MARKETPLACE_FUTURE_DAYS, threads=False)
            reviewed += fill_demo_reviews(random.Random(tenant.slug))
    if booked:
        created.append(f"marketplace: {booked} bookings")
    if reviewed:
        created.append(f"marketplace: {reviewed} reviews")
    created += seed_leads_demo(DEMO_PASSWORD, now)  # issue 13: job-request providers, credits, requests
    db.session.flush()
    return created


def _create_demo_business(spec: dict) -> Tenant:
    owner: User | None = find_user(spec["owner"])
    if owner is None:
        owner = create_user(spec["owner"], DEMO_PASSWORD, f"{spec['name']} owner")
        owner.email_verified_at = utcnow()
    tenant = create_tenant(name=spec["name"], slug=spec["slug"], timezone=spec["timezone"],
                           currency=spec["currency"], owner=owner, category_slug=spec["category"])
    with tenant_scope(tenant.id):
        for name, value in spec["profile"].items():
            setattr(tenant, name, value)
        staff_ids = []
        for i, (name, bio) in enumerate(spec["staff"]):
            staff = create_staff_member(name=name, bio=bio, position=i)
            set_working_hours(staff.id, spec["hours"])
            staff_ids.append(staff.id)
        # The owner is also staff member #1 in the demo, so the dashboard shows their day.
        add_membership(owner, Role.OWNER, staff_ids[0])
        for i, (name, desc, cat, dur, price, bb, ba, who) in enumerate(spec["services"]):
            create_service(name=name, description=desc, category=cat, duration_minutes=dur,
                           price_amount=price, currency=spec["currency"], buffer_before_minutes=bb,
                           buffer_after_minutes=ba, staff_ids=[staff_ids[j] for j in who], position=i)
    db.session.flush()
    return tenant


def register(app: Flask) -> None:
    """Attach the commands to ``app.cli``."""
    register_billing_cli(app)
    register_community_cli(app)
    register_marketplace_cli(app)
    register_metrics_cli(app)
    register_taxonomy_cli(app)
    register_distribution_cli(app)
    register_audit_cli(app)
    register_admin_cli(app)

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the demo businesses and logins and fill their calendars around today (idempotent)."""
        with unit_of_work():
            created = seed_demo()
        with unit_of_work():
            created += seed_marketplace_demo()
        reindex_all()  # the search's read model, one unit of work per business
        reindex_posts()  # the apex feed's read model, likewise
        today = utcnow().date()
        with unit_of_work(), platform_scope("seed-demo: the KPIs of the demo's days"):
            recompute_days(today - timedelta(days=DEMO_METRICS_DAYS), today + timedelta(days=30), None)
        click.echo("demo data: created " + ", ".join(created) if created else "demo data: already present")

    @app.cli.command("run-automatic-transitions")
    def automatic_transitions_command() -> None:
        """Expire stale pending bookings, release unconfirmed guest holds, complete old confirmed ones."""
        with unit_of_work():
            counts = run_automatic_transitions()
        click.echo(f"expired {counts['expired']}, completed {counts['completed']}, released {counts['released']}")
