"""The bookings board (day and week views, polled), a booking's detail page and its actions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import (
    STAFF_ACTIONS,
    BookingActionForm,
)
from app.blueprints.dashboard.views.common import (
    ALL,
    POLL_SECONDS,
    current_tenant,
    day_range_text,
    day_text,
    done,
    tenant_today,
    tenant_tz_name,
)
from app.booking.errors import InvalidTransition
from app.booking.items import item_times, items_by_booking, services_label
from app.booking.models import Booking, BookingEvent, BookingItem, BookingStatus, Customer
from app.booking.service import Actor, bookings_between, can_apply, local_date_range, transition
from app.catalog.models import Service, StaffMember
from app.catalog.service import (
    list_staff,
    setup_progress,
)
from app.extensions import db
from app.identity.models import User
from app.payments.queries import PaymentSummary, payment_summaries
from app.tenants.models import Membership, Role
from app.timeutil import EARLIEST_DAY, LATEST_DAY, day_in_range, utcnow, zone
from app.web import get_or_404, is_htmx, parse_uuid, render_page


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
    day = tenant_today()
    raw_day = values.get("date")
    if raw_day:
        try:
            parsed = date.fromisoformat(raw_day.strip())
        except ValueError:
            error = _("“%(value)s” is not a date (use YYYY-MM-DD); showing today.", value=raw_day[:40])
        else:
            if day_in_range(parsed):
                day = parsed
            else:
                error = _("“%(value)s” is outside the calendar: use a date between %(first)s and %(last)s; "
                          "showing today.", value=raw_day[:40], first=EARLIEST_DAY.isoformat(),
                          last=LATEST_DAY.isoformat())
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
    #: The booking's services in order with their local start and end (one for a single service).
    items: list[tuple[BookingItem, datetime, datetime]] = field(default_factory=list)

    @property
    def service_name(self) -> str:
        """The service's name, or the services' names joined (``Cut + Colour``)."""
        if len(self.items) > 1:
            return services_label([item.name for item, _, _ in self.items])
        return self.service.name if self.service else ""


@dataclass
class DayColumn:
    """One local day of the board with its bookings."""

    day: date
    rows: list[BookingRow] = field(default_factory=list)
    is_today: bool = False
    url: str = ""
    day_name: str = ""


def allowed_actions(booking: Booking, now: datetime) -> list[str]:
    """Staff actions allowed on ``booking`` now: those of the transition table from its
    status, with completed / no-show only once the appointment has started."""
    return [action for action in STAFF_ACTIONS if can_apply(booking, action, now)]


def booking_rows(bookings: list[Booking], now: datetime) -> list[BookingRow]:
    """Attach customer, service, staff and payment (a query or three each, whatever the number
    of bookings) and local times to ``bookings``."""
    tz = zone(tenant_tz_name())

    def load(model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
        if not ids:
            return {}
        return {o.id: o for o in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}

    customers = load(Customer, {b.customer_id for b in bookings})
    services = load(Service, {b.service_id for b in bookings})
    staff = load(StaffMember, {b.staff_id for b in bookings})
    money = payment_summaries([b.id for b in bookings])
    items = items_by_booking(b.id for b in bookings)
    return [BookingRow(b, customers.get(b.customer_id), services.get(b.service_id), staff.get(b.staff_id),
                       b.starts_at.astimezone(tz), b.ends_at.astimezone(tz), allowed_actions(b, now),
                       payment=money.get(b.id),
                       items=[(i, s.astimezone(tz), e.astimezone(tz)) for i, s, e in item_times(b, items.get(b.id, []))])
            for b in bookings]


def board_context(state: BoardState, *, errors: Mapping[str, dict[str, str]] | None = None,
                  notice: str | None = None, date_error: str | None = None) -> dict[str, Any]:
    """Template context of the bookings board for ``state``."""
    tenant = current_tenant()
    now = utcnow()
    start, end = local_date_range(tenant, state.start_day, state.days)
    rows = booking_rows(bookings_between(start, end, state.staff_id, include_cancelled=state.show_cancelled), now)
    for row in rows:
        row.error = (errors or {}).get(str(row.booking.id))
    shown = {str(r.booking.id) for r in rows}
    unplaced = [e["message"] for key, e in (errors or {}).items() if key not in shown]
    today = tenant_today()
    columns = [DayColumn(state.start_day + timedelta(days=i)) for i in range(state.days)]
    by_day = {c.day: c for c in columns}
    for c in columns:
        c.is_today = c.day == today
        c.url = state.url(view="day", day=c.day)
        c.day_name = day_text(c.day, "%a")
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
        title = day_range_text(state.start_day, last)
    else:
        title = day_text(state.day)
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
    return {"row": row, "events": events, "actors": _event_actor(events), "tz_name": tenant_tz_name(),
            "actions": STAFF_ACTIONS, "state": state, "back_url": state.url(), "now": now}


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
    state, _error = board_state(request.form)  # before acting: a bad staff id writes nothing
    error: dict[str, str] | None = None
    action = form.action.data
    if not form.validate():
        field_name = "reason" if form.reason.errors else "action"
        message = (form.reason.errors or form.action.errors or [_("Choose an action.")])[0]
        if form.action.errors:
            message = _("Choose one of the actions shown.")
        error = {"field": field_name, "message": message}
    else:
        try:
            with db.session.begin_nested():  # a refused move leaves the booking as it was for the page
                transition(booking, action, Actor("staff", current_user.id), form.reason.data or "")
        except InvalidTransition as exc:
            error = {"field": "action", "message": exc.message}
    if error is not None:
        error["reason"] = form.reason.data or ""
        error["action"] = action or ""
        if to_detail:
            return render_page("dashboard/booking.html", block="detail", status=422,
                               **detail_context(booking, error=error))
        if not request.form.get("date"):
            state = replace(state, day=booking.starts_at.astimezone(zone(tenant_tz_name())).date())
        return render_board(state, status=422, errors={str(booking.id): error})
    message = {"confirm": _("Booking confirmed."), "decline": _("Booking declined."), "cancel": _("Booking cancelled."),
               "complete": _("Marked as completed."), "no_show": _("Marked as a no-show.")}[action]
    if to_detail:
        return done(message, url_for("dashboard.booking_detail", booking_id=booking.id))
    if is_htmx():
        return render_board(state, notice=message)
    flash(message, "success")
    return redirect(state.url(), 303)
