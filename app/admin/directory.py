"""The console's directory of businesses and people: search, filters, paging and the facts of
one detail page. Every read runs inside ``platform_scope`` with a reason naming the console.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from app.admin.models import Sanction
from app.audit.models import AuditEntry
from app.billing.models import BillingSubscription
from app.booking.models import Booking, Customer
from app.community.models import ContentReport
from app.extensions import db
from app.identity.models import User
from app.tenants.context import platform_scope
from app.tenants.models import Membership, Tenant

#: Rows per directory page.
PER_PAGE = 25
#: Status filter values.
STATUSES = ("active", "suspended")


@dataclass(frozen=True)
class BusinessFilters:
    """What the businesses list is narrowed to: ``q`` (name, slug or an owner's email, case
    insensitive), ``plan`` (billing plan code), ``country`` (ISO 3166-1 alpha-2), ``category``
    (marketplace category slug), ``status`` (``active``/``suspended``), ``page`` from 1."""

    q: str = ""
    plan: str = ""
    country: str = ""
    category: str = ""
    status: str = ""
    page: int = 1


@dataclass(frozen=True)
class BusinessRow:
    """One business in the list: the tenant, its plan code and its owners' emails."""

    tenant: Tenant
    plan: str
    owner_emails: list[str]


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_businesses(f: BusinessFilters) -> tuple[list[BusinessRow], bool]:
    """The page of businesses matching ``f``, by name; and whether a further page exists."""
    with platform_scope("console: business directory"):
        plan = sa.func.coalesce(BillingSubscription.plan, "free")
        query = (sa.select(Tenant, plan).outerjoin(BillingSubscription, BillingSubscription.tenant_id == Tenant.id)
                 .order_by(sa.func.lower(Tenant.name), Tenant.id))
        if f.q.strip():
            pattern = _like(f.q.strip())
            owners = (sa.select(Membership.tenant_id).join(User, User.id == Membership.user_id)
                      .where(User.email.ilike(pattern)))
            query = query.where(sa.or_(Tenant.name.ilike(pattern), Tenant.slug.ilike(pattern),
                                       Tenant.public_email.ilike(pattern), Tenant.id.in_(owners)))
        if f.plan:
            query = query.where(plan == f.plan)
        if f.country:
            query = query.where(Tenant.country == f.country.upper())
        if f.category:
            query = query.where(Tenant.category_slug == f.category)
        if f.status == "suspended":
            query = query.where(Tenant.suspended_at.is_not(None))
        elif f.status == "active":
            query = query.where(Tenant.suspended_at.is_(None))
        page = max(1, f.page)
        rows = db.session.execute(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()[:PER_PAGE + 1]
        more = len(rows) > PER_PAGE
        rows = rows[:PER_PAGE]
        ids = [t.id for t, _ in rows]
        owners_by: dict[uuid.UUID, list[str]] = {}
        for tid, email in db.session.execute(
                sa.select(Membership.tenant_id, User.email).join(User, User.id == Membership.user_id)
                .where(Membership.tenant_id.in_(ids), Membership.role == "owner").order_by(User.email)):
            owners_by.setdefault(tid, []).append(email)
        return [BusinessRow(t, p, owners_by.get(t.id, [])) for t, p in rows], more


def search_people(q: str = "", status: str = "", page: int = 1) -> tuple[list[User], bool]:
    """The page of accounts whose email or name matches ``q`` (``status`` active/suspended),
    by email; and whether a further page exists."""
    query = sa.select(User).order_by(User.email)
    if q.strip():
        pattern = _like(q.strip())
        query = query.where(sa.or_(User.email.ilike(pattern), User.name.ilike(pattern)))
    if status == "suspended":
        query = query.where(User.suspended_at.is_not(None))
    elif status == "active":
        query = query.where(User.suspended_at.is_(None))
    page = max(1, page)
    rows = list(db.session.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    return rows[:PER_PAGE], len(rows) > PER_PAGE


@dataclass(frozen=True)
class BusinessFacts:
    """A business's detail page: its plan, owners (emails), counts of bookings (all and
    upcoming), reports (all, open on the platform's side), sanctions (newest first) and the
    audit entries about it (newest first, at most 50)."""

    tenant: Tenant
    plan: str
    owners: list[str]
    bookings: int
    reports: int
    open_reports: int
    sanctions: list[Sanction]
    audit: list[AuditEntry]


def business_facts(tenant_id: uuid.UUID, reason: str) -> BusinessFacts | None:
    """What the console shows about one business, read for ``reason`` (the admin's, logged by
    ``platform_scope``); ``None`` when there is no such business."""
    with platform_scope(f"console: business detail: {reason}"):
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None:
            return None
        plan = db.session.scalar(sa.select(BillingSubscription.plan).where(
            BillingSubscription.tenant_id == tenant_id)) or "free"
        owners = list(db.session.scalars(sa.select(User.email).join(Membership, Membership.user_id == User.id)
                                         .where(Membership.tenant_id == tenant_id, Membership.role == "owner")))
        bookings = db.session.scalar(sa.select(sa.func.count()).select_from(Booking)
                                     .where(Booking.tenant_id == tenant_id)) or 0
        reports = db.session.execute(sa.select(
            sa.func.count(), sa.func.count().filter(ContentReport.platform_status.in_(("new", "reviewing"))))
            .where(ContentReport.tenant_id == tenant_id)).one()
        sanctions = list(db.session.scalars(sa.select(Sanction).where(Sanction.business_id == tenant_id)
                                            .order_by(Sanction.created_at.desc())))
        audit = list(db.session.scalars(sa.select(AuditEntry).where(sa.or_(
            AuditEntry.tenant_id == tenant_id,
            sa.and_(AuditEntry.object_type == "business", AuditEntry.object_id == str(tenant_id))))
            .order_by(AuditEntry.at.desc()).limit(50)))
        return BusinessFacts(tenant, plan, owners, bookings, reports[0], reports[1], sanctions, audit)


@dataclass(frozen=True)
class PersonFacts:
    """A person's detail page: the account, their memberships (business name, role), how many
    customer records and bookings they have, reports they made, sanctions and audit entries
    about them or done by them (newest first, at most 50)."""

    user: User
    memberships: list[tuple[str, str, uuid.UUID]]
    bookings: int
    reports_made: int
    sanctions: list[Sanction]
    audit: list[AuditEntry]


def person_facts(user_id: uuid.UUID, reason: str) -> PersonFacts | None:
    """What the console shows about one account, read for ``reason``; ``None`` when unknown."""
    with platform_scope(f"console: person detail: {reason}"):
        user = db.session.get(User, user_id)
        if user is None:
            return None
        memberships = [(name, role, tid) for name, role, tid in db.session.execute(
            sa.select(Tenant.name, Membership.role, Tenant.id).join(Tenant, Tenant.id == Membership.tenant_id)
            .where(Membership.user_id == user_id).order_by(Tenant.name))]
        bookings = db.session.scalar(sa.select(sa.func.count()).select_from(Booking).join(
            Customer, sa.and_(Customer.id == Booking.customer_id, Customer.tenant_id == Booking.tenant_id))
            .where(Customer.user_id == user_id)) or 0
        reports_made = db.session.scalar(sa.select(sa.func.count()).select_from(ContentReport)
                                         .where(ContentReport.reporter_user_id == user_id)) or 0
        sanctions = list(db.session.scalars(sa.select(Sanction).where(Sanction.user_id == user_id)
                                            .order_by(Sanction.created_at.desc())))
        audit = list(db.session.scalars(sa.select(AuditEntry).where(sa.or_(
            AuditEntry.actor_user_id == user_id,
            sa.and_(AuditEntry.object_type == "person", AuditEntry.object_id == str(user_id))))
            .order_by(AuditEntry.at.desc()).limit(50)))
        return PersonFacts(user, memberships, bookings, reports_made, sanctions, audit)
