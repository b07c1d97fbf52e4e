"""Customer account on the apex: my bookings across every business, with cancel and
reschedule, and links into the businesses I work for. On every host: my login sessions
(where I am logged in), each of which I can end.

The list reads across tenants with an explicit, logged :func:`platform_scope` and filters
strictly by the logged-in user; every change happens inside the booking's own tenant scope.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import abort, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.account import bp
from app.blueprints.account.forms import CancelBookingForm
from app.booking.errors import BookingError
from app.booking.models import Booking, Customer
from app.booking.service import cancel_by_customer, customer_can_change, manage_token
from app.catalog.models import Service, StaffMember
from app.customers.ownership import owned_by
from app.extensions import db
from app.identity import sessions as login_sessions
from app.identity.models import User
from app.identity.service import handoff_token
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import STAFF_ROLES, Membership, Tenant
from app.tenants.urls import external_url, platform_url, tenant_url
from app.timeutil import utcnow
from app.web import apex_only, is_htmx, parse_uuid, render_page

#: A session's public handle (:func:`app.identity.sessions.handle_of`).
HANDLE_RE = re.compile(r"[0-9a-f]{20}")


@dataclass(frozen=True)
class MyBooking:
    """One row of "my bookings": times are UTC, shown in ``timezone`` (the business's zone)."""

    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    business: str
    business_url: str
    service: str
    staff: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: str
    price_amount: int
    currency: str
    can_change: bool
    manage_url: str
    #: The same business's booking flow with the same service chosen ("Book again").
    book_again_url: str = ""


@dataclass(frozen=True)
class MyBusiness:
    """A business where I hold a staff role."""

    tenant_id: uuid.UUID
    name: str
    roles: tuple[str, ...]


def _my_bookings(user: User) -> list[MyBooking]:
    """Every booking of ``user`` at every (non-suspended) business, newest start first."""
    now = utcnow()
    with platform_scope("customer's own bookings across businesses"):
        rows = db.session.execute(
            sa.select(Booking, Tenant, Service.name, StaffMember.name)
            .join(Customer, sa.and_(Customer.tenant_id == Booking.tenant_id, Customer.id == Booking.customer_id))
            .join(Tenant, Tenant.id == Booking.tenant_id)
            .join(Service, sa.and_(Service.tenant_id == Booking.tenant_id, Service.id == Booking.service_id))
            .join(StaffMember, sa.and_(StaffMember.tenant_id == Booking.tenant_id,
                                       StaffMember.id == Booking.staff_id))
            .where(owned_by(user), Tenant.suspended_at.is_(None))
            .order_by(Booking.starts_at.desc())
            .limit(500)
        ).all()
        out = [MyBooking(
            tenant_id=b.tenant_id, booking_id=b.id, business=t.name, business_url=tenant_url(t),
            service=service_name, staff=staff_name, starts_at=b.starts_at, ends_at=b.ends_at,
            timezone=t.timezone, status=b.status, price_amount=b.price_amount, currency=b.currency,
            can_change=customer_can_change(t, b, now),
            manage_url=external_url("storefront.manage", tenant=t, token=manage_token(b)),
            book_again_url=external_url("storefront.choose_staff", tenant=t, service_id=b.service_id),
        ) for b, t, service_name, staff_name in rows]
    db.session.rollback()
    return out


def _my_businesses(user: User) -> list[MyBusiness]:
    """Businesses where ``user`` is owner, manager or staff."""
    with platform_scope("user's own staff memberships across businesses"):
        rows = db.session.execute(
            sa.select(Tenant.id, Tenant.name, Membership.role)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user.id, Membership.role.in_([r.value for r in STAFF_ROLES]),
                   Tenant.suspended_at.is_(None))
            .order_by(sa.func.lower(Tenant.name))
        ).all()
    db.session.rollback()
    found: dict[uuid.UUID, MyBusiness] = {}
    for tid, name, role in rows:
        prev = found.get(tid)
        found[tid] = MyBusiness(tid, name, (prev.roles if prev else ()) + (role,))
    return list(found.values())


@bp.get("/account/bookings")
def bookings() -> Response:
    """My bookings across every business: upcoming first (soonest first), then past.

    On a business's host this answers a redirect to the same page on the platform (its URL
    from configuration, :func:`app.tenants.urls.external_url`, never from the request's Host):
    for a signed-in person through a one-time login handoff (:func:`handoff_token`, valid
    two minutes, usable once, only on the apex), so they stay signed in; otherwise straight
    there, where the platform asks them to log in. Sessions stay per host.
    """
    if g.get("tenant") is not None:
        return _to_platform_bookings()
    return _apex_bookings()


def _to_platform_bookings() -> Response:
    """The redirect from a business's host to the platform's "my bookings" (``no-store``: it
    may carry a login handoff)."""
    path = url_for("account.bookings")
    if current_user.is_authenticated:
        target = external_url("auth.handoff", tenant=None, token=handoff_token(current_user, None), next=path)
    else:
        target = platform_url(path)
    resp = redirect(target, 303)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@login_required
def _apex_bookings() -> Response:
    rows = _my_bookings(current_user)
    now = utcnow()
    upcoming = sorted((b for b in rows if b.ends_at >= now and b.status in {"pending", "confirmed"}),
                      key=lambda b: b.starts_at)
    past = [b for b in rows if not (b.ends_at >= now and b.status in {"pending", "confirmed"})]
    return render_page("account/bookings.html", block="bookings", upcoming=upcoming, past=past,
                       businesses=_my_businesses(current_user), form=CancelBookingForm(formdata=None))


def _tenant_or_404(raw_id: str) -> Tenant:
    tid = parse_uuid(raw_id)
    tenant = db.session.get(Tenant, tid) if tid else None
    if tenant is None or tenant.suspended_at is not None:
        abort(404)
    return tenant


@bp.post("/account/bookings/<tenant_id>/<booking_id>/cancel")
@apex_only
@login_required
def cancel(tenant_id: str, booking_id: str) -> Response:
    """Cancel one of my bookings (until the business's cut-off). A booking that is not mine,
    or that does not exist, answers 404."""
    tenant = _tenant_or_404(tenant_id)
    bid = parse_uuid(booking_id)
    if bid is None:
        abort(404)
    form = CancelBookingForm()
    if not form.validate_on_submit():
        flash("; ".join(str(e) for e in form.reason.errors) or _("Please try again."), "error")
        return redirect(url_for("account.bookings"))
    with tenant_scope(tenant.id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == bid))
        customer = booking and db.session.scalar(
            sa.select(Customer).where(Customer.id == booking.customer_id, owned_by(current_user)))
        if booking is None or customer is None:
            abort(404)
        try:
            # A savepoint: a refused cancellation leaves nothing behind, though the answer is a redirect.
            with db.session.begin_nested():
                cancel_by_customer(tenant, booking, form.reason.data or "", user_id=current_user.id)
        except BookingError as exc:
            flash(exc.message, "error")
            return redirect(url_for("account.bookings"))
        db.session.flush()  # written in the business's scope; the request commits
    flash(_("Your booking at %(business)s is cancelled.", business=tenant.name), "success")
    return redirect(url_for("account.bookings"))


@bp.post("/account/businesses/<tenant_id>/open")
@apex_only
@login_required
def open_business(tenant_id: str) -> Response:
    """Go to the dashboard of a business I work for, logged in there (one-time handoff)."""
    tenant = _tenant_or_404(tenant_id)
    if tenant.id not in {b.tenant_id for b in _my_businesses(current_user)}:
        abort(404)
    token = handoff_token(current_user, tenant.id)
    return redirect(external_url("auth.handoff", tenant=tenant, token=token, next="/dashboard/"))


# --------------------------------------------------------------------------- login sessions


def _sessions_page(status: int = 200, notice: str | None = None) -> Response:
    """The list of my login sessions (whole page, or its ``sessions`` block for HTMX)."""
    rows = login_sessions.list_sessions(current_user.id, session.sid)
    return render_page("account/sessions.html", block="sessions", status=status, rows=rows, notice=notice)


def _after_end(message: str) -> Response:
    """Answer an "end session" POST: the refreshed list for HTMX, else a redirect with a flash."""
    if is_htmx():
        return _sessions_page(notice=message)
    flash(message, "success")
    return redirect(url_for("account.sessions"), 303)


@bp.get("/account/sessions")
@login_required
def sessions() -> Response:
    """Where I am logged in: every live login session of my account (on every host), with
    browser and system, last seen, IP address and host; "this device" first."""
    return _sessions_page()


@bp.post("/account/sessions/<handle>/end")
@login_required
def end_session(handle: str) -> Response:
    """End one of my other login sessions (``handle`` from the list): that browser is logged
    out at its next request and its live connections close. Unknown handles answer 404."""
    if not HANDLE_RE.fullmatch(handle):
        abort(404)
    if not login_sessions.end_session(current_user.id, handle, keep_sid=session.sid):
        abort(404)
    return _after_end(_("That session is ended: the device is logged out."))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions() -> Response:
    """Log out every other device (all my login sessions but this one)."""
    count = login_sessions.end_sessions(current_user.id, keep_sid=session.sid)
    return _after_end(_("Every other device is logged out.") if count else _("No other device was logged in."))
