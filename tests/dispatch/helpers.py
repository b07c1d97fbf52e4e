"""Builders for dispatch tests: an on-demand business with operators online at given points."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import sqlalchemy as sa

from app.dispatch.models import DispatchOffer, DispatchOperator, DispatchRequest
from app.dispatch.operators import operator_for, report_position, save_profile, set_availability
from app.extensions import db
from app.identity.models import User
from app.identity.service import create_user, find_user
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from app.uow import unit_of_work
from tests.factories import PASSWORD, make_business

#: Manhattan, for points in tests.
CITY = (40.7580, -73.9855)


@dataclass
class OnDemand:
    """Ids of an on-demand business and its operators (email -> operator id)."""

    tenant_id: uuid.UUID
    slug: str
    operators: dict[str, uuid.UUID] = field(default_factory=dict)
    users: dict[str, uuid.UUID] = field(default_factory=dict)


def make_on_demand(slug: str, services: list[str], operators: list[tuple[str, float, float]],
                   capacity: int = 1) -> OnDemand:
    """A committed business offering ``services`` on demand, with one staff account per
    ``(email, lat, lon)`` online there with ``capacity``."""
    biz = make_business(slug, timezone="America/New_York", currency="USD", staff=0)
    out = OnDemand(biz.tenant_id, slug)
    with tenant_scope(biz.tenant_id), unit_of_work():
        save_profile(True, services)
        for email, _, _ in operators:
            user = find_user(email) or create_user(email, PASSWORD, email.split("@")[0].title())
            add_membership(user, Role.STAFF)
            op = operator_for(user.id, user.name)
            set_availability(op, True, capacity)
            out.operators[email], out.users[email] = op.id, user.id
    with tenant_scope(biz.tenant_id):
        for email, lat, lon in operators:
            op = db.session.get(DispatchOperator, (biz.tenant_id, out.operators[email]))
            report_position(op, lat, lon)
        db.session.rollback()
    return out


def operator(biz: OnDemand, email: str) -> DispatchOperator:
    """The operator row (load it inside the business's scope)."""
    return db.session.get(DispatchOperator, (biz.tenant_id, biz.operators[email]))


def snapshot(row) -> SimpleNamespace:
    """The column values of an ORM row, detached from the session."""
    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in sa.inspect(row).mapper.column_attrs})


def request_row(request_id: uuid.UUID) -> SimpleNamespace:
    """A fresh read of a request (a snapshot)."""
    with platform_scope("test"):
        db.session.expire_all()
        return snapshot(db.session.get(DispatchRequest, request_id))


def offers_of(request_id: uuid.UUID) -> list[SimpleNamespace]:
    """Every offer of a request, oldest first (fresh snapshots)."""
    with platform_scope("test"):
        db.session.expire_all()
        return [snapshot(o) for o in db.session.scalars(sa.select(DispatchOffer).where(
            DispatchOffer.request_id == request_id).order_by(DispatchOffer.offered_at))]


def customer(email: str = "cust@example.test") -> uuid.UUID:
    """A committed customer account's id."""
    user = find_user(email)
    if user is None:
        user = create_user(email, PASSWORD, "Casey Customer")
        db.session.commit()
    return db.session.get(User, user.id).id
