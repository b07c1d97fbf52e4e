"""Adding and re-activating staff members, within the plan's staff seats.

The seat limit is a business rule, so it lives here rather than in a view: every way of
adding an active staff member (the dashboard, a future API, a script) goes through
:func:`add_staff_member` or :func:`update_staff_profile`, and two requests racing for the last
seat are serialised by a transaction-scoped advisory lock on the tenant, so only one wins.
The plan and whether billing is on come from :mod:`app.billing.plans`; the limit is only
enforced with billing configured (without it no business could upgrade). Works in the tenant
in scope; flushes, never commits.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.billing.errors import StaffSeatLimit
from app.billing.plans import billing_enabled, current_plan
from app.catalog.models import StaffMember
from app.catalog.service import create_staff_member, update_staff_member
from app.extensions import db
from app.tenants.context import require_tenant_id

#: Namespace of the advisory lock (``pg_advisory_xact_lock(namespace, hashtext(tenant id))``).
SEAT_LOCK_NAMESPACE = 7301


def claim_staff_seat() -> None:
    """Allow one more active staff member in the tenant in scope, or refuse.

    Takes a transaction-scoped advisory lock on the tenant first (held until the unit of work
    commits or rolls back), so a concurrent claim waits and then counts this one's member.

    Raises:
        StaffSeatLimit: billing is on and the active staff already fill the plan's seats.
        TenantScopeError: no tenant in scope.
    """
    if not billing_enabled():
        return
    tenant_id = require_tenant_id()
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(SEAT_LOCK_NAMESPACE,
                                                               sa.func.hashtext(str(tenant_id)))))
    plan = current_plan()
    active = db.session.scalar(sa.select(sa.func.count()).select_from(StaffMember)
                               .where(StaffMember.active.is_(True))) or 0
    if active >= plan.staff_seats:
        raise StaffSeatLimit(plan.label, plan.staff_seats)


def add_staff_member(*, name: str, bio: str = "", email: str | None = None, position: int = 0,
                     active: bool = True) -> StaffMember:
    """Create a staff member (no hours yet); an ``active`` one takes a seat (:func:`claim_staff_seat`).

    Raises:
        StaffSeatLimit: ``active`` and no seat is free; nothing is written.
    """
    if active:
        claim_staff_seat()
    member = create_staff_member(name=name, bio=bio, email=email, position=position)
    if not active:
        update_staff_member(member, name=member.name, bio=member.bio, email=member.email, active=False)
    return member


def update_staff_profile(member: StaffMember, *, name: str, bio: str = "", email: str | None = None,
                         active: bool = True) -> StaffMember:
    """Change a staff member's profile; making an inactive member active takes a seat.

    Raises:
        StaffSeatLimit: re-activation with no seat free; nothing is written.
    """
    if active and not member.active:
        claim_staff_seat()
    return update_staff_member(member, name=name, bio=bio, email=email, active=active)
