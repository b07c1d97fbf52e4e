"""Staff dashboard on the tenant host.

Bookings (``/dashboard/``: day and week views per staff member, polled every 10 s; a detail
page with the event history; confirm / decline / cancel with a reason / completed / no-show),
and, for owners and managers, the set-up pages: services, staff (profile, weekly hours, date
overrides, time off), booking rules and API tokens.

Every route needs a logged-in user with a staff role in this tenant; anyone else gets 404
(anonymous users are sent to log in). Views parse input, call the domain, commit once and
render the page, or for HTMX requests the page's named block. Invalid input re-renders
the form with 422, its values kept and each error beside its field; nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from app.billing.errors import StaffSeatLimit
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import (
    STAFF_ACTIONS,
    WEEKDAYS,
    BookingActionForm,
    HoursForm,
    InviteForm,
    OverrideForm,
    RulesForm,
    ServiceForm,
    StaffForm,
    TimeOffForm,
    TokenForm,
    price_text,
)
from app.booking.errors import InvalidTransition
from app.booking.models import Booking, BookingEvent, BookingStatus, Customer
from app.booking.service import Actor, bookings_between, can_apply, local_date_range, transition
from app.catalog.models import DateOverride, Service, ServiceStaff, StaffMember, TimeOff, WorkingHours
from app.catalog.rules import BookingRulesInput, RulesError, update_booking_rules
from app.catalog.service import (
    add_time_off,
    create_service,
    delete_date_override,
    delete_time_off,
    list_services,
    list_staff,
    set_date_override,
    set_service_staff,
    set_working_hours,
    setup_progress,
    update_service,
)
from app.extensions import db
from app.identity.models import ApiToken, User
from app.identity.service import create_api_token
from app.identity.tokens import list_api_tokens, revoke_api_token
from app.payments.service import PaymentSummary, payment_summaries
from app.team.staff import add_staff_member, update_staff_profile
from app.tenants.models import MANAGER_ROLES, STAFF_ROLES, Membership, Role, StaffInvitation, Tenant
from app.timeutil import EARLIEST_DAY, LATEST_DAY, day_in_range, utcnow, zone
from app.web import get_or_404, is_htmx, parse_uuid, render_page, user_roles
from app.web.access import manager_required, owner_required, require_staff

STAFF_ROLE_NAMES = frozenset(r.value for r in STAFF_ROLES)
MANAGER_ROLE_NAMES = frozenset(r.value for r in MANAGER_ROLES)
ALL = "all"
POLL_SECONDS = 10


# --------------------------------------------------------------------------- access


# Only staff of this tenant (app.web.access): apex 404, anonymous to the login page, anyone
# else 404; sets ``g.is_staff`` and ``g.is_manager``. Set-up pages add ``@manager_required``.
bp.before_request(require_staff)


def _done(message: str, url: str) -> Response:
    """After a successful change: flash ``message`` and go to ``url`` (303, or ``HX-Redirect``)."""
    flash(message, "success")
    if is_htmx():
        resp = current_app.make_response(("", 200))
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url, 303)


def _tenant() -> Tenant:
    return g.tenant


def _tz_name() -> str:
    return _tenant().timezone


# --------------------------------------------------------------------------- the booking board


@dataclass(frozen=True)
class BoardState:
    """What the bookings board shows: ``view`` (``day``/``week``), the local ``day``, one
    staff member's id or ``None`` for all, and whether cancelled bookings are listed."""

    view: str
    day: date
    staff_id: uuid.UUID | None
    show_cancelled: bool = False

    @property
    def start_day(self) -> date:
        """First local day shown (the Monday of the week in week view)."""
        return self.day - timedelta(days=self.day.weekday()) if self.view == "week" else self.day

    @property
    def days(self) -> int:
        """Number of days shown."""
        return 7 if self.view == "week" else 1

    def params(self, **changes: Any) -> dict[str, str]:
        """Query parameters of this state (with ``changes`` applied)."""
        state = replace(self, **changes)
        out = {"view": state.view, "date": state.day.isoformat(), "staff": str(state.staff_id or ALL)}
        if state.show_cancelled:
            out["cancelled"] = "1"
        return out

    def url(self, **changes: Any) -> str:
        """URL of the board in this state (with ``changes`` applied)."""
        return url_for("dashboard.home", **self.params(**changes))


def _today() -> date:
    return utcnow().astimezone(zone(_tz_name())).date()


def _default_staff_id() -> uuid.UUID | None:
    """Plain staff linked to a staff member see their own bookings by default."""
    if g.get("is_manager"):
        return None
    return db.session.scalar(sa.select(Membership.staff_member_id).where(
        Membership.user_id == current_user.id, Membership.role == Role.STAFF.value,
        Membership.staff_member_id.is_not(None)))


def board_state(values: Mapping[str, str]) -> tuple[BoardState, str | None]:
    """The board state from query or form ``values`` and an error message for a bad date.

    An unknown staff id (or another tenant's) answers 404.
    """
    error = None
    view = values.get("view") if values.get("view") in {"day", "week"} else "day"
    day = _today()
    raw_day = values.get("date")
    if raw_day:
        try:
            parsed = date.fromisoformat(raw_day.strip())
        except ValueError:
            error = f"“{raw_day[:40]}” is not a date (use YYYY-MM-DD); showing today."
        else:
            if day_in_range(parsed):
                day = parsed
            else:
                error = (f"“{raw_day[:40]}” is outside the calendar: use a date between "
                         f"{EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}; showing today.")
    raw_staff = values.get("staff")
    staff_id: uuid.UUID | None
    if raw_staff is None:
        staff_id = _default_staff_id()
    elif raw_staff in ("", ALL):
        staff_id = None
    else:
        staff_id = parse_uuid(raw_staff)
        if staff_id is None or db.session.scalar(sa.select(StaffMember.id).where(StaffMember.id == staff_id)) is None:
            abort(404)
    return BoardState(view, day, staff_id, values.get("cancelled") == "1"), error


@dataclass
class BookingRow:
    """A booking as the board shows it, with its customer, service, staff member, local
    times (tenant zone) and the staff actions currently allowed."""

    booking: Booking
    customer: Customer | None
    service: Service | None
    staff: StaffMember | None
    start: datetime
    end: datetime
    actions: list[str]
    error: dict[str, str] | None = None
    payment: PaymentSummary | None = None


@dataclass
class DayColumn:
    """One local day of the board with its bookings."""

    day: date
    rows: list[BookingRow] = field(default_factory=list)
    is_today: bool = False
    url: str = ""


def allowed_actions(booking: Booking, now: datetime) -> list[str]:
    """Staff actions allowed on ``booking`` now: those of the transition table from its
    status, with completed / no-show only once the appointment has started."""
    return [action for action in STAFF_ACTIONS if can_apply(booking, action, now)]


def booking_rows(bookings: list[Booking], now: datetime) -> list[BookingRow]:
    """Attach customer, service, staff and payment (a query or three each, whatever the number
    of bookings) and local times to ``bookings``."""
    tz = zone(_tz_name())

    def load(model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
        if not ids:
            return {}
        return {o.id: o for o in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}

    customers = load(Customer, {b.customer_id for b in bookings})
    services = load(Service, {b.service_id for b in bookings})
    staff = load(StaffMember, {b.staff_id for b in bookings})
    money = payment_summaries([b.id for b in bookings])
    return [BookingRow(b, customers.get(b.customer_id), services.get(b.service_id), staff.get(b.staff_id),
                       b.starts_at.astimezone(tz), b.ends_at.astimezone(tz), allowed_actions(b, now),
                       payment=money.get(b.id))
            for b in bookings]


def board_context(state: BoardState, *, errors: Mapping[str, dict[str, str]] | None = None,
                  notice: str | None = None, date_error: str | None = None) -> dict[str, Any]:
    """Template context of the bookings board for ``state``."""
    tenant = _tenant()
    now = utcnow()
    start, end = local_date_range(tenant, state.start_day, state.days)
    rows = booking_rows(bookings_between(start, end, state.staff_id, include_cancelled=state.show_cancelled), now)
    for row in rows:
        row.error = (errors or {}).get(str(row.booking.id))
    shown = {str(r.booking.id) for r in rows}
    unplaced = [e["message"] for key, e in (errors or {}).items() if key not in shown]
    today = _today()
    columns = [DayColumn(state.start_day + timedelta(days=i)) for i in range(state.days)]
    by_day = {c.day: c for c in columns}
    for c in columns:
        c.is_today = c.day == today
        c.url = state.url(view="day", day=c.day)
    for row in rows:
        column = by_day.get(row.start.date())
        if column is not None:
            column.rows.append(row)
    live = [r for r in rows if r.booking.status != BookingStatus.CANCELLED.value]
    currencies = {r.booking.currency for r in live}
    stats = {
        "total": len(live),
        "pending": sum(r.booking.status == BookingStatus.PENDING.value for r in live),
        "confirmed": sum(r.booking.status == BookingStatus.CONFIRMED.value for r in live),
        "value": sum(r.booking.price_amount for r in live) if len(currencies) <= 1 else None,
        "currency": next(iter(currencies), tenant.currency),
    }
    step = timedelta(days=state.days)
    if state.view == "week":
        last = state.start_day + timedelta(days=6)
        title = f"{state.start_day:%-d %b} – {last:%-d %b %Y}"
    else:
        title = f"{state.day:%A %-d %B %Y}"
    staff_options = list_staff(active_only=False)
    return {
        "state": state, "rows": rows, "columns": columns, "stats": stats, "title": title,
        "prev_url": state.url(day=state.day - step), "next_url": state.url(day=state.day + step),
        "today_url": state.url(day=today), "day_url": state.url(view="day"), "week_url": state.url(view="week"),
        "poll_url": state.url(), "poll_seconds": POLL_SECONDS, "staff_options": staff_options,
        "selected_staff": next((s for s in staff_options if s.id == state.staff_id), None),
        "notice": notice, "date_error": date_error, "unplaced_errors": unplaced, "tz_name": tenant.timezone, "now": now,
        "actions": STAFF_ACTIONS, "is_today": today in by_day, "updated": now.astimezone(zone(tenant.timezone)),
    }


def render_board(state: BoardState, status: int = 200, setup: dict[str, bool] | None = None,
                 **kwargs: Any) -> Response:
    """The bookings page, or its ``bookings`` block for HTMX (polling, navigation, actions);
    ``setup`` is the new-business checklist shown above the board while incomplete."""
    return render_page("dashboard/bookings.html", block="bookings", status=status, setup=setup,
                       **board_context(state, **kwargs))


@bp.get("/dashboard/")
@login_required
def home() -> Response:
    """The bookings board. Query: ``view`` (day|week), ``date`` (YYYY-MM-DD, tenant's local
    date, default today), ``staff`` (id or ``all``), ``cancelled=1`` to list cancelled ones.

    A malformed date answers 422 with today's board and the message; an unknown staff id 404.
    """
    state, error = board_state(request.args)
    setup = setup_progress() if g.get("is_manager") and not is_htmx() else None
    return render_board(state, status=422 if error else 200, date_error=error,
                        setup=setup if setup and not all(setup.values()) else None)


def _event_actor(events: list[BookingEvent]) -> dict[uuid.UUID, User]:
    ids = {e.actor_user_id for e in events if e.actor_user_id}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def detail_context(booking: Booking, *, error: dict[str, str] | None = None) -> dict[str, Any]:
    """Template context of the booking detail page (the booking row and its events, oldest first)."""
    now = utcnow()
    row = booking_rows([booking], now)[0]
    row.error = error
    events = list(db.session.scalars(sa.select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                                     .order_by(BookingEvent.at, BookingEvent.id)))
    state = BoardState("day", row.start.date(), None)
    return {"row": row, "events": events, "actors": _event_actor(events), "tz_name": _tz_name(),
            "actions": STAFF_ACTIONS, "state": state, "back_url": state.url(), "now": now}


@bp.get("/dashboard/bookings/<booking_id>")
@login_required
def booking_detail(booking_id: str) -> Response:
    """One booking: customer, service, times in the tenant's zone, actions and its event history."""
    booking = get_or_404(Booking, booking_id)
    return render_page("dashboard/booking.html", block="detail", **detail_context(booking))


@bp.post("/dashboard/bookings/<booking_id>/action")
@login_required
def booking_action(booking_id: str) -> Response:
    """Apply a staff action (form ``action``: confirm, decline, cancel, complete, no_show;
    ``reason``, required to cancel). ``back=detail`` returns to the detail page, otherwise
    to the board described by ``view``/``date``/``staff``/``cancelled``.

    Success: 303 to where the form came from (HTMX: the refreshed board block). An invalid
    or illegal action re-renders with 422 and the message beside the booking.
    """
    booking = get_or_404(Booking, booking_id)
    form = BookingActionForm()
    to_detail = request.form.get("back") == "detail"
    state, _ = board_state(request.form)  # before acting: a bad staff id writes nothing
    error: dict[str, str] | None = None
    action = form.action.data
    if not form.validate():
        field_name = "reason" if form.reason.errors else "action"
        message = (form.reason.errors or form.action.errors or ["Choose an action."])[0]
        if form.action.errors:
            message = "Choose one of the actions shown."
        error = {"field": field_name, "message": message}
    else:
        try:
            transition(booking, action, Actor("staff", current_user.id), form.reason.data or "")
        except InvalidTransition as exc:
            db.session.rollback()
            error = {"field": "action", "message": exc.message}
        else:
            db.session.commit()
    if error is not None:
        error["reason"] = form.reason.data or ""
        error["action"] = action or ""
        if to_detail:
            return render_page("dashboard/booking.html", block="detail", status=422,
                               **detail_context(booking, error=error))
        if not request.form.get("date"):
            state = replace(state, day=booking.starts_at.astimezone(zone(_tz_name())).date())
        return render_board(state, status=422, errors={str(booking.id): error})
    message = {"confirm": "Booking confirmed.", "decline": "Booking declined.", "cancel": "Booking cancelled.",
               "complete": "Marked as completed.", "no_show": "Marked as a no-show."}[action]
    if to_detail:
        return _done(message, url_for("dashboard.booking_detail", booking_id=booking.id))
    if is_htmx():
        return render_board(state, notice=message)
    flash(message, "success")
    return redirect(state.url(), 303)


# --------------------------------------------------------------------------- services


def _staff_choices() -> list[tuple[str, str]]:
    return [(str(s.id), s.name + ("" if s.active else " (inactive)")) for s in list_staff(active_only=False)]


def _service_form(service: Service | None = None) -> ServiceForm:
    currency = service.currency if service is not None else _tenant().currency
    form = ServiceForm(obj=service if request.method == "GET" else None, currency=currency,
                       staff_choices=_staff_choices())
    if request.method == "POST":
        form.load_overrides(request.form)
    elif service is not None:
        links = list(db.session.scalars(sa.select(ServiceStaff).where(ServiceStaff.service_id == service.id)))
        form.staff.data = [str(link.staff_id) for link in links]
        form.price.data = price_text(service.price_amount, currency)
        for link in links:
            form.override_values[str(link.staff_id)] = (
                str(link.duration_minutes) if link.duration_minutes else "",
                price_text(link.price_amount, currency))
    return form


def _service_fields(form: ServiceForm) -> dict[str, Any]:
    return {"name": form.name.data, "description": form.description.data or "",
            "category": form.category.data or "", "duration_minutes": form.duration_minutes.data,
            "price_amount": form.price_amount, "buffer_before_minutes": form.buffer_before_minutes.data,
            "buffer_after_minutes": form.buffer_after_minutes.data, "active": bool(form.active.data)}


@bp.get("/dashboard/services")
@login_required
@manager_required
def services() -> Response:
    """Every service (active and inactive) with its duration, price and staff."""
    items = list_services(active_only=False)
    counts = dict(db.session.execute(sa.select(ServiceStaff.service_id, sa.func.count())
                                     .group_by(ServiceStaff.service_id)).all())
    return render_page("dashboard/services.html", services=items, staff_counts=counts)


@bp.route("/dashboard/services/new", methods=["GET", "POST"])
@login_required
@manager_required
def service_new() -> Response:
    """Create a service; invalid input answers 422 with the form and nothing written."""
    form = _service_form()
    if request.method == "POST":
        if form.validate():
            fields = _service_fields(form)
            svc = create_service(currency=_tenant().currency, staff_ids=(), **fields)
            set_service_staff(svc, list(form.assignments), form.assignments)
            db.session.commit()
            return _done(f"“{svc.name}” was added.", url_for("dashboard.services"))
        return render_page("dashboard/service_form.html", block="form", status=422, form=form, service=None)
    return render_page("dashboard/service_form.html", block="form", form=form, service=None)


@bp.route("/dashboard/services/<service_id>", methods=["GET", "POST"])
@login_required
@manager_required
def service_edit(service_id: str) -> Response:
    """Edit a service and who performs it (with optional per-staff duration and price)."""
    svc = get_or_404(Service, service_id)
    form = _service_form(svc)
    if request.method == "POST":
        if form.validate():
            update_service(svc, **_service_fields(form))
            set_service_staff(svc, list(form.assignments), form.assignments)
            db.session.commit()
            return _done(f"“{svc.name}” was saved.", url_for("dashboard.services"))
        return render_page("dashboard/service_form.html", block="form", status=422, form=form, service=svc)
    return render_page("dashboard/service_form.html", block="form", form=form, service=svc)


# --------------------------------------------------------------------------- staff


def _hours_summary(staff_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """``staff id -> ["Mon 09:00–12:00, 13:00–17:00", …]`` of the weekly hours."""
    out: dict[uuid.UUID, dict[int, list[str]]] = {}
    if staff_ids:
        for row in db.session.scalars(sa.select(WorkingHours).where(WorkingHours.staff_id.in_(staff_ids))
                                      .order_by(WorkingHours.weekday, WorkingHours.start_time)):
            out.setdefault(row.staff_id, {}).setdefault(row.weekday, []).append(
                f"{row.start_time:%H:%M}–{row.end_time:%H:%M}")
    return {sid: [f"{WEEKDAYS[d][:3]} {', '.join(r)}" for d, r in sorted(days.items())] for sid, days in out.items()}


@bp.get("/dashboard/staff")
@login_required
@manager_required
def staff() -> Response:
    """Every staff member with a summary of their weekly hours and their login: the role of the
    linked account, or a pending invitation."""
    from app.team.service import login_roles_by_staff, pending_by_staff

    members = list_staff(active_only=False)
    logins = login_roles_by_staff([m.id for m in members])
    return render_page("dashboard/staff.html", members=members, hours=_hours_summary([m.id for m in members]),
                       logins=logins, invitations=pending_by_staff(), now=utcnow())


@bp.route("/dashboard/staff/new", methods=["GET", "POST"])
@login_required
@manager_required
def staff_new() -> Response:
    """Add a staff member (then set their hours)."""
    form = StaffForm()
    if request.method == "POST":
        if form.validate():
            try:
                member = add_staff_member(name=form.name.data, bio=form.bio.data or "", email=form.email.data or None,
                                          position=len(list_staff(active_only=False)), active=bool(form.active.data))
            except StaffSeatLimit as exc:
                form.name.errors = [*form.name.errors, _seat_error(exc, "add more")]
                return render_page("dashboard/staff_form.html", block="form", status=422, form=form, member=None,
                                   tab="profile")
            return _done(f"{member.name} was added. Now set their working hours.",
                         url_for("dashboard.staff_hours", staff_id=member.id))
        return render_page("dashboard/staff_form.html", block="form", status=422, form=form, member=None, tab="profile")
    return render_page("dashboard/staff_form.html", block="form", form=form, member=None, tab="profile")


def _seat_error(exc: Exception, what: str) -> Markup:
    """The seat-limit message with the link to upgrade (shown beside the name field)."""
    return Markup(f'{escape(str(exc))} <a href="{url_for("billing.page")}">Upgrade your plan</a> to {what}.')


def _render_staff_edit(member: StaffMember, *, form: StaffForm | None = None, invite_form: InviteForm | None = None,
                       status: int = 200, block: str = "form") -> Response:
    """The profile page of ``member``: the profile form and the "Dashboard login" card
    (the linked account's role, the pending invitation, or the invite form)."""
    from app.team.service import login_roles, pending_invitation

    if invite_form is None:
        invite_form = InviteForm(formdata=None, data={"email": member.email or "", "role": "staff"})
    roles = user_roles()
    if Role.OWNER.value not in roles:
        invite_form.role.choices = [c for c in invite_form.role.choices if c[0] != Role.MANAGER.value]
    return render_page("dashboard/staff_form.html", block=block, status=status,
                       form=form or StaffForm(formdata=None, obj=member), member=member, tab="profile",
                       invite_form=invite_form, invitation=pending_invitation(member.id),
                       login_roles=login_roles(member.id), is_owner=Role.OWNER.value in roles, now=utcnow(),
                       tenant_zone=zone(_tenant().timezone))


@bp.route("/dashboard/staff/<staff_id>", methods=["GET", "POST"])
@login_required
@manager_required
def staff_edit(staff_id: str) -> Response:
    """A staff member's profile: name, bio, email, active; and their dashboard login.

    Making an inactive member active takes a staff seat: beyond the plan's seats (billing
    on) it answers 422 with the upgrade link and nothing is saved.
    """
    member = get_or_404(StaffMember, staff_id)
    if request.method == "GET":
        return _render_staff_edit(member)
    form = StaffForm()
    if form.validate():
        try:
            update_staff_profile(member, name=form.name.data, bio=form.bio.data or "", email=form.email.data or None,
                                 active=bool(form.active.data))
        except StaffSeatLimit as exc:
            form.active.errors = [*form.active.errors, _seat_error(exc, "make them active")]
            return _render_staff_edit(member, form=form, status=422)
        return _done(f"{member.name} was saved.", url_for("dashboard.staff"))
    return _render_staff_edit(member, form=form, status=422)


@bp.post("/dashboard/staff/<staff_id>/invite")
@login_required
@manager_required
def staff_invite(staff_id: str) -> Response:
    """Invite the staff member to log in (form ``email``, ``role``): the invitation email goes
    out once this commits; a pending invitation to the same address or member is replaced.
    Only owners may invite managers. Errors re-render the login card with 422."""
    from app.team.errors import InvitationError
    from app.team.service import invite_staff

    member = get_or_404(StaffMember, staff_id)
    form = InviteForm()
    if form.validate():
        try:
            inv = invite_staff(member, email=form.email.data, role=form.role.data or "staff", inviter=current_user,
                               inviter_roles=user_roles())
        except InvitationError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, exc.message]
        else:
            db.session.commit()
            return _done(f"Invitation sent to {inv.email}. The link works for 7 days.",
                         url_for("dashboard.staff_edit", staff_id=member.id))
    return _render_staff_edit(member, invite_form=form, status=422, block="invite")


@bp.post("/dashboard/staff/<staff_id>/invitations/<invitation_id>/revoke")
@login_required
@owner_required
def staff_invite_revoke(staff_id: str, invitation_id: str) -> Response:
    """Withdraw a pending invitation (owners only; others get 403). Its link stops working."""
    from app.team.errors import InvitationClosed
    from app.team.service import revoke_invitation

    member = get_or_404(StaffMember, staff_id)
    inv = get_or_404(StaffInvitation, invitation_id)
    if inv.staff_member_id != member.id:
        abort(404)
    try:
        revoke_invitation(inv)
    except InvitationClosed as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("dashboard.staff_edit", staff_id=member.id), 303)
    db.session.commit()
    return _done(f"The invitation to {inv.email} was withdrawn.", url_for("dashboard.staff_edit", staff_id=member.id))


def _stored_hours_form(member: StaffMember) -> HoursForm:
    """The weekly hours editor filled with ``member``'s saved ranges (never from the request)."""
    rows = [{"weekday": r.weekday, "start": r.start_time, "end": r.end_time}
            for r in db.session.scalars(sa.select(WorkingHours).where(WorkingHours.staff_id == member.id)
                                        .order_by(WorkingHours.weekday, WorkingHours.start_time))]
    return HoursForm(formdata=None, data={"rows": rows or SUGGESTED_HOURS})


#: Pre-filled (not saved) for a staff member with no hours yet: Monday to Friday, 09:00–17:00.
SUGGESTED_HOURS = [{"weekday": d, "start": time(9), "end": time(17)} for d in range(5)]


def _overrides(member: StaffMember) -> list[dict[str, Any]]:
    """Date overrides of ``member`` from today on, grouped by date: ``{id, date, ranges}``."""
    grouped: dict[date, dict[str, Any]] = {}
    for row in db.session.scalars(sa.select(DateOverride).where(
            DateOverride.staff_id == member.id, DateOverride.on_date >= _today())
            .order_by(DateOverride.on_date, DateOverride.start_time)):
        entry = grouped.setdefault(row.on_date, {"id": row.id, "date": row.on_date, "ranges": []})
        if row.start_time is not None and row.end_time is not None:
            entry["ranges"].append(f"{row.start_time:%H:%M}–{row.end_time:%H:%M}")
    return list(grouped.values())


def _render_hours(member: StaffMember, *, form: HoursForm | None = None, override_form: OverrideForm | None = None,
                  status: int = 200, block: str = "weekly", notice: str | None = None) -> Response:
    suggested = form is None and not db.session.scalar(
        sa.select(sa.func.count()).select_from(WorkingHours).where(WorkingHours.staff_id == member.id))
    form = form or _stored_hours_form(member)
    return render_page("dashboard/staff_hours.html", block=block, status=status, member=member, form=form,
                       suggested=suggested,
                       override_form=override_form or OverrideForm(formdata=None), overrides=_overrides(member),
                       weekdays=list(enumerate(WEEKDAYS)), tab="hours", notice=notice, tz_name=_tz_name())


@bp.route("/dashboard/staff/<staff_id>/hours", methods=["GET", "POST"])
@login_required
@manager_required
def staff_hours(staff_id: str) -> Response:
    """Weekly working hours: rows of weekday + start + end (several per day for breaks).

    POST with ``add_row`` re-renders the editor with one more empty row (nothing saved);
    otherwise the rows replace the weekly hours. Overlapping or reversed ranges: 422.
    """
    member = get_or_404(StaffMember, staff_id)
    if request.method == "GET":
        return _render_hours(member)
    form = HoursForm()
    if request.form.get("add_row"):
        last = form.rows.entries[-1].form.weekday.data if form.rows.entries else 0
        form.rows.append_entry({"weekday": last if last is not None else 0})
        return _render_hours(member, form=form, block="weekly")
    if not form.validate():
        return _render_hours(member, form=form, status=422, block="weekly")
    set_working_hours(member.id, form.weekly)
    db.session.commit()
    if is_htmx():
        return _render_hours(member, block="weekly", notice="Working hours saved.")
    return _done("Working hours saved.", url_for("dashboard.staff_hours", staff_id=member.id))


@bp.post("/dashboard/staff/<staff_id>/overrides")
@login_required
@manager_required
def staff_override_add(staff_id: str) -> Response:
    """Set the hours of one date (closed, or one or two ranges), replacing any earlier override."""
    member = get_or_404(StaffMember, staff_id)
    form = OverrideForm()
    if not form.validate():
        return _render_hours(member, override_form=form, status=422, block="overrides")
    set_date_override(member.id, form.on_date.data, [] if form.closed.data else form.ranges)
    db.session.commit()
    if is_htmx():
        return _render_hours(member, block="overrides", notice=f"Hours for {form.on_date.data:%-d %b %Y} saved.")
    return _done(f"Hours for {form.on_date.data:%-d %b %Y} saved.",
                 url_for("dashboard.staff_hours", staff_id=member.id))


@bp.post("/dashboard/staff/<staff_id>/overrides/<override_id>/delete")
@login_required
@manager_required
def staff_override_delete(staff_id: str, override_id: str) -> Response:
    """Remove a date override (the weekly hours apply again that day)."""
    member = get_or_404(StaffMember, staff_id)
    row = get_or_404(DateOverride, override_id)
    if row.staff_id != member.id:
        abort(404)
    on_date = row.on_date
    delete_date_override(member.id, on_date)
    db.session.commit()
    if is_htmx():
        return _render_hours(member, block="overrides", notice=f"Override for {on_date:%-d %b %Y} removed.")
    return _done(f"Override for {on_date:%-d %b %Y} removed.", url_for("dashboard.staff_hours", staff_id=member.id))


def _time_off_rows(member: StaffMember) -> list[TimeOff]:
    since = utcnow() - timedelta(days=30)
    return list(db.session.scalars(sa.select(TimeOff).where(TimeOff.staff_id == member.id, TimeOff.ends_at >= since)
                                   .order_by(TimeOff.starts_at)))


def _render_time_off(member: StaffMember, form: TimeOffForm | None = None, status: int = 200,
                     notice: str | None = None) -> Response:
    return render_page("dashboard/staff_time_off.html", block="time_off", status=status, member=member,
                       form=form or TimeOffForm(formdata=None), entries=_time_off_rows(member), tab="time_off",
                       tz_name=_tz_name(), notice=notice, now=utcnow())


def local_to_utc(local: datetime, tz_name: str) -> datetime:
    """A naive local wall-clock ``datetime`` in ``tz_name`` as tz-aware UTC (first of a repeated hour)."""
    return local.replace(tzinfo=zone(tz_name)).astimezone(UTC)


@bp.route("/dashboard/staff/<staff_id>/time-off", methods=["GET", "POST"])
@login_required
@manager_required
def staff_time_off(staff_id: str) -> Response:
    """Time off of a staff member (list, and add from/until in the tenant's local time)."""
    member = get_or_404(StaffMember, staff_id)
    if request.method == "GET":
        return _render_time_off(member)
    form = TimeOffForm()
    if not form.validate():
        return _render_time_off(member, form, status=422)
    tz_name = _tz_name()
    starts, ends = local_to_utc(form.starts.data, tz_name), local_to_utc(form.ends.data, tz_name)
    if starts >= ends:
        form.ends.errors.append("The end must be after the start.")
        return _render_time_off(member, form, status=422)
    add_time_off(member.id, starts, ends, form.reason.data or "")
    db.session.commit()
    if is_htmx():
        return _render_time_off(member, notice="Time off added.")
    return _done("Time off added.", url_for("dashboard.staff_time_off", staff_id=member.id))


@bp.post("/dashboard/staff/<staff_id>/time-off/<time_off_id>/delete")
@login_required
@manager_required
def staff_time_off_delete(staff_id: str, time_off_id: str) -> Response:
    """Delete a time-off entry of this staff member."""
    member = get_or_404(StaffMember, staff_id)
    row = get_or_404(TimeOff, time_off_id)
    if row.staff_id != member.id:
        abort(404)
    delete_time_off(row)
    db.session.commit()
    if is_htmx():
        return _render_time_off(member, notice="Time off removed.")
    return _done("Time off removed.", url_for("dashboard.staff_time_off", staff_id=member.id))


# --------------------------------------------------------------------------- rules and tokens


@bp.route("/dashboard/rules", methods=["GET", "POST"])
@login_required
@manager_required
def rules() -> Response:
    """Booking rules of this business: notice, horizon, slot interval, confirmation, cut-off,
    and the hourly cap on public online bookings."""
    tenant = _tenant()
    form = RulesForm(obj=tenant if request.method == "GET" else None)
    if request.method == "POST":
        if form.validate():
            try:
                update_booking_rules(tenant, BookingRulesInput(
                    lead_time_minutes=form.lead_time_minutes.data, horizon_days=form.horizon_days.data,
                    slot_interval_minutes=form.slot_interval_minutes.data,
                    requires_confirmation=bool(form.requires_confirmation.data),
                    cancellation_cutoff_hours=form.cancellation_cutoff_hours.data,
                    public_bookings_per_hour=(tenant.public_bookings_per_hour
                                              if form.public_bookings_per_hour.data is None
                                              else form.public_bookings_per_hour.data)))
            except RulesError as exc:
                db.session.rollback()
                getattr(form, exc.field).errors.append(exc.message)
            else:
                db.session.commit()
                return _done("Booking rules saved.", url_for("dashboard.rules"))
        return render_page("dashboard/rules.html", block="form", status=422, form=form)
    return render_page("dashboard/rules.html", block="form", form=form)


def _render_tokens(form: TokenForm | None = None, status: int = 200, secret: str | None = None,
                   created: ApiToken | None = None, notice: str | None = None) -> Response:
    tokens = list_api_tokens()
    creators = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_({t.created_by for t in tokens if t.created_by})))} if tokens else {}
    return render_page("dashboard/tokens.html", block="tokens", status=status, form=form or TokenForm(formdata=None),
                       tokens=tokens, creators=creators, secret=secret, created=created, notice=notice,
                       tz_name=_tz_name())


@bp.route("/dashboard/api-tokens", methods=["GET", "POST"])
@login_required
@manager_required
def tokens() -> Response:
    """Staff API tokens: create (the secret is shown once, in this response), list, revoke."""
    if request.method == "GET":
        return _render_tokens()
    form = TokenForm()
    if not form.validate():
        return _render_tokens(form, status=422)
    row, secret = create_api_token(form.name.data, current_user.id)
    db.session.commit()
    return _render_tokens(secret=secret, created=row)


@bp.post("/dashboard/api-tokens/<token_id>/revoke")
@login_required
@manager_required
def token_revoke(token_id: str) -> Response:
    """Revoke a token; API calls with it are refused from now on."""
    row = get_or_404(ApiToken, token_id)
    revoke_api_token(row)
    db.session.commit()
    if is_htmx():
        return _render_tokens(notice=f"“{row.name}” was revoked.")
    return _done(f"“{row.name}” was revoked.", url_for("dashboard.tokens"))
