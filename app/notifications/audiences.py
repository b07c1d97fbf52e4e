"""Who is told: the accounts behind a booking's staff, a business's owners, and the customers
who agreed to hear a business's announcements. Tenant in scope for each."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.booking.models import Customer
from app.extensions import db
from app.identity.models import User
from app.notifications.center_models import MarketingConsent
from app.tenants.models import Membership, Role
from app.tenants.roles import on_tenant_role, platform_read


def staff_user_ids(staff_id: uuid.UUID | None) -> list[uuid.UUID]:
    """Accounts told about a booking with ``staff_id``: owners, managers and that staff member
    (by membership), in a stable order. Needs the tenant in scope."""
    rows = db.session.execute(sa.select(Membership.user_id, Membership.role, Membership.staff_member_id)
                              .order_by(Membership.created_at))
    out: list[uuid.UUID] = []
    for user_id, role, staff_member_id in rows:
        keep = role in {Role.OWNER.value, Role.MANAGER.value} or (
            role == Role.STAFF.value and staff_id is not None and staff_member_id == staff_id)
        if keep and user_id not in out:
            out.append(user_id)
    return out


def owner_user_ids() -> list[uuid.UUID]:
    """Accounts of the business's owners (by membership), in a stable order. Tenant in scope."""
    ids = db.session.scalars(sa.select(Membership.user_id).where(Membership.role == Role.OWNER.value)
                             .order_by(Membership.created_at))
    return list(dict.fromkeys(ids))


def leader_user_ids() -> list[uuid.UUID]:
    """Accounts of the business's owners and managers (by membership), in a stable order. Tenant in scope."""
    return list(dict.fromkeys(db.session.scalars(
        sa.select(Membership.user_id).where(Membership.role.in_([Role.OWNER.value, Role.MANAGER.value]))
        .order_by(Membership.created_at))))


def announcement_audience(tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """Accounts of the business's customers (tenant in scope) who currently consent to
    marketing, platform-wide or from this business."""
    linked = sa.select(Customer.user_id).where(Customer.user_id.is_not(None))
    by_email = sa.select(User.id).join(Customer, Customer.email == User.email).where(
        User.email_verified_at.is_not(None))
    customers = list(db.session.scalars(sa.select(User.id).where(
        sa.or_(User.id.in_(linked), User.id.in_(by_email)), User.suspended_at.is_(None)).order_by(User.id)))
    if not customers:
        return []
    live = MarketingConsent.withdrawn_at.is_(None), MarketingConsent.user_id.in_(customers)
    consenting = set(db.session.scalars(sa.select(MarketingConsent.user_id).where(
        *live, sa.or_(MarketingConsent.tenant_id.is_(None), MarketingConsent.tenant_id == tenant_id))))
    if on_tenant_role():  # which customers consented platform-wide: not the tenant role's to read
        with platform_read("platform-wide marketing consents of a business's customers") as conn:
            consenting |= set(conn.scalars(sa.select(MarketingConsent.user_id).where(
                *live, MarketingConsent.tenant_id.is_(None))))
    return [uid for uid in customers if uid in consenting]
