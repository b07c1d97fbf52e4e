"""The calendar: a day view with one column per staff member (time down the side) and a
week view with one column per day, in 5-minute rows. Bookings are dragged to another time
or staff member (posting to the booking's move endpoint, :mod:`.desk`); an empty slot opens
the new-booking form at that time; blocked time (a meeting, a break) is added and removed
here, per staff member (:class:`~app.catalog.models.TimeOff`).

Positions are CSS classes (``cal-c<column>``, ``cal-r<row>``, ``cal-s<span>`` in
``static/css/calendar.css``): the Content-Security-Policy allows no inline styles.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.desk_forms import BlockTimeForm
from app.blueprints.dashboard.views.board import BoardState, board_state, booking_rows
from app.blueprints.dashboard.views.common import current_tenant, day_range_text, day_text, hour_text, tenant_today
from app.booking.queries import bookings_between, local_date_range
from app.catalog.models import StaffMember, TimeOff, WorkingHours
from app.catalog.service import add_time_off, delete_time_off, list_staff
from app.extensions import db
from app.formatting import format_local
from app.timeutil import utcnow, zone
from app.web import get_or_404, render_page

#: Minutes per grid row.
ROW_MINUTES = 5
#: Rows per hour.
ROWS_PER_HOUR = 60 // ROW_MINUTES
#: Most columns the grid styles (``cal-n1`` … ``cal-n20``).
MAX_COLUMNS = 20


def local_instant(day: date, at: time) -> datetime:
    """The UTC instant of local ``day`` ``at`` in the business's zone."""
    return datetime.combine(day, at, tzinfo=zone(current_tenant().timezone)).astimezone(UTC)


def calendar_state(values: Mapping[str, str], staff_key: str = "staff") -> tuple[BoardState, str | None]:
    """The calendar's state from query or form ``values`` (``view``, ``date`` and the staff
    filter under ``staff_key``: forms that also name a staff member send it as
    ``staff_filter``); every staff member unless one is chosen. Unknown staff answers 404."""
    return board_state({"view": values.get("view", "day"), "date": values.get("date", ""),
                        "staff": values.get(staff_key) or "all"})


def calendar_url(state: BoardState, **changes: Any) -> str:
    """URL of the calendar in ``state`` (with ``changes`` applied)."""
    return url_for("dashboard.calendar", **state.params(**changes))


@dataclass
class Column:
    """One grid column: a staff member (day view) or a day (week view); ``index`` is the CSS
    grid column (2 onwards, 1 is the time axis)."""

    index: int
    label: str
    day: date
    staff_id: uuid.UUID | None
    sub: str = ""
    is_today: bool = False
    url: str = ""
    slots: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Item:
    """A booking or a blocked time placed on the grid: CSS ``column``, first ``row`` and
    ``span`` (rows of :data:`ROW_MINUTES`)."""

    kind: str
    column: int
    row: int
    span: int
    start: datetime
    end: datetime
    row_data: Any = None
    block: TimeOff | None = None
    staff_name: str = ""
    lane: int = 0
    lanes: int = 1


#: Most side-by-side lanes the grid styles (``cal-w<lanes>`` and ``cal-l<lane>``); a busier
#: moment stacks its extra items in the last lane.
MAX_LANES = 4


def assign_lanes(items: list[Item]) -> None:
    """Set ``lane`` and ``lanes`` on ``items`` so that items of one column whose times overlap
    (in the week view with all staff: several people's bookings at the same hour) stand side by
    side instead of on top of each other. Items are grouped into clusters of transitively
    overlapping times per column; each takes the first lane free at its start; every item of a
    cluster gets the cluster's lane count (at most :data:`MAX_LANES`)."""
    by_column: dict[int, list[Item]] = {}
    for item in items:
        by_column.setdefault(item.column, []).append(item)
    for column_items in by_column.values():
        column_items.sort(key=lambda it: (it.start, it.end))
        cluster: list[Item] = []
        lane_ends: list[datetime] = []
        cluster_end: datetime | None = None
        for item in column_items:
            if cluster_end is not None and item.start >= cluster_end:
                _close_cluster(cluster, len(lane_ends))
                cluster, lane_ends = [], []
            free = next((i for i, end in enumerate(lane_ends) if end <= item.start), None)
            if free is None:
                lane_ends.append(item.end)
                free = len(lane_ends) - 1
            else:
                lane_ends[free] = item.end
            item.lane = min(free, MAX_LANES - 1)
            cluster.append(item)
            cluster_end = item.end if cluster_end is None or item.start >= cluster_end else max(cluster_end, item.end)
        _close_cluster(cluster, len(lane_ends))


def _close_cluster(cluster: list[Item], lanes: int) -> None:
    for item in cluster:
        item.lanes = min(max(lanes, 1), MAX_LANES)


def _hours(staff_ids: list[uuid.UUID], days: list[date], extra: list[tuple[datetime, datetime]]) -> tuple[int, int]:
    """First and last local hour shown: the working hours of the staff on the days, widened
    to every item shown; 8 to 20 when nobody works."""
    rows = list(db.session.execute(sa.select(sa.func.min(WorkingHours.start_time), sa.func.max(WorkingHours.end_time))
                                   .where(WorkingHours.staff_id.in_(staff_ids),
                                          WorkingHours.weekday.in_({d.weekday() for d in days}))))
    first, last = (rows[0] if rows else (None, None))
    lo = first.hour if first else 8
    hi = (last.hour + (1 if last.minute else 0)) if last else 20
    for start, end in extra:
        lo = min(lo, start.hour)
        hi = max(hi, 24 if end.date() > start.date() else end.hour + (1 if end.minute else 0))
    return lo, max(hi, lo + 1)


def calendar_context(state: BoardState, *, notice: str | None = None, error: str | None = None,
                     block_form: BlockTimeForm | None = None) -> dict[str, Any]:
    """Template context of the calendar page for ``state``."""
    tenant = current_tenant()
    tz = zone(tenant.timezone)
    now = utcnow()
    today = tenant_today()
    days = [state.start_day + timedelta(days=i) for i in range(state.days)]
    start, end = local_date_range(tenant, state.start_day, state.days)
    staff = [s for s in list_staff() if state.staff_id in (None, s.id)][:MAX_COLUMNS]
    if state.staff_id and not staff:
        staff = list(db.session.scalars(sa.select(StaffMember).where(StaffMember.id == state.staff_id)))
    staff_ids = [s.id for s in staff]
    names = {s.id: s.name for s in staff}
    if state.view == "day":
        columns = [Column(i + 2, s.name, state.day, s.id, is_today=state.day == today) for i, s in enumerate(staff)]
    else:
        columns = [Column(i + 2, day_text(d, "%a"), d, state.staff_id, sub=str(d.day), is_today=d == today)
                   for i, d in enumerate(days)]
    rows = [r for r in booking_rows(bookings_between(start, end), now) if r.booking.staff_id in names]
    blocks = list(db.session.scalars(sa.select(TimeOff).where(
        TimeOff.staff_id.in_(staff_ids), TimeOff.starts_at < end, TimeOff.ends_at > start).order_by(TimeOff.starts_at)))
    local_blocks = [(b, max(b.starts_at, start).astimezone(tz), min(b.ends_at, end).astimezone(tz)) for b in blocks]
    first_hour, last_hour = _hours(staff_ids, days, [(r.start, r.end) for r in rows]
                                   + [(s, e) for _, s, e in local_blocks])
    total_rows = (last_hour - first_hour) * ROWS_PER_HOUR

    def column_of(staff_id: uuid.UUID, local: datetime) -> int | None:
        for c in columns:
            if (c.staff_id == staff_id if state.view == "day" else c.day == local.date()):
                return c.index
        return None

    def place(local_start: datetime, local_end: datetime) -> tuple[int, int]:
        day_start = datetime.combine(local_start.date(), time(first_hour), tzinfo=tz)
        offset = max(0, int((local_start - day_start).total_seconds() // 60) // ROW_MINUTES)
        span = max(1, math.ceil((local_end - local_start).total_seconds() / 60 / ROW_MINUTES))
        offset = min(offset, total_rows - 1)
        return offset + 2, max(1, min(span, total_rows - offset))

    items: list[Item] = []
    for r in rows:
        column = column_of(r.booking.staff_id, r.start)
        if column is not None:
            row, span = place(r.start, r.end)
            items.append(Item("booking", column, row, span, r.start, r.end, row_data=r,
                              staff_name=names.get(r.booking.staff_id, "")))
    for b, s, e in local_blocks:
        column = column_of(b.staff_id, s)
        if column is not None:
            row, span = place(s, e)
            items.append(Item("block", column, row, span, s, e, block=b, staff_name=names.get(b.staff_id, "")))
    assign_lanes(items)
    slot_times = [datetime.combine(today, time(first_hour), tzinfo=tz) + timedelta(minutes=15 * q)
                  for q in range(total_rows // 3)]
    slot_labels = [format_local(at, tenant.timezone, "%H:%M") for at in slot_times]
    for c in columns:
        c.url = calendar_url(state, view="day", day=c.day)
        label = day_text(c.day, "%A %-d %B")
        for q, at in enumerate(slot_times):
            c.slots.append({"row": 2 + 3 * q, "time": at.strftime("%H:%M"), "day": c.day.isoformat(),
                            "staff": str(c.staff_id or ""), "day_text": label, "time_text": slot_labels[q]})
    hours = [{"label": hour_text(h), "row": 2 + (h - first_hour) * ROWS_PER_HOUR} for h in range(first_hour, last_hour)]
    now_row = None
    local_now = now.astimezone(tz)
    if local_now.date() in days and first_hour <= local_now.hour < last_hour:
        now_row = place(local_now, local_now + timedelta(minutes=5))[0]
    form = block_form or BlockTimeForm(formdata=None, day=state.day, staff=str(staff_ids[0]) if staff_ids else None,
                                       time=local_now.replace(second=0, microsecond=0).time() if state.day == today
                                       else time(12))
    form.staff.choices = [SelectChoice(str(s.id), s.name) for s in list_staff()]
    step = timedelta(days=state.days)
    title = day_range_text(state.start_day, days[-1]) if state.view == "week" else day_text(state.day)
    return {
        "state": state, "columns": columns, "items": items, "hours": hours, "total_rows": total_rows,
        "title": title, "tz_name": tenant.timezone, "notice": notice, "error": error, "block_form": form,
        "now_row": now_row, "now_column": next((c.index for c in columns if c.day == local_now.date()), None)
        if state.view == "week" else None,
        "prev_url": calendar_url(state, day=state.day - step), "next_url": calendar_url(state, day=state.day + step),
        "today_url": calendar_url(state, day=today), "day_url": calendar_url(state, view="day"),
        "week_url": calendar_url(state, view="week"), "self_url": calendar_url(state),
        "staff_options": list_staff(active_only=False),

    }


def render_calendar(state: BoardState, status: int = 200, **kwargs: Any) -> Response:
    """The calendar page, or its ``calendar`` block for HTMX (navigation, drops, blocked time)."""
    return render_page("dashboard/calendar.html", block="calendar", status=status, **calendar_context(state, **kwargs))


@bp.get("/dashboard/calendar")
@login_required
def calendar() -> Response:
    """The calendar. Query: ``view`` (day|week), ``date`` (YYYY-MM-DD, local), ``staff``
    (id or ``all``, the default). A malformed date answers 422 with today and the message."""
    state, error = calendar_state(request.args)
    return render_calendar(state, status=422 if error else 200, error=error)


@bp.post("/dashboard/calendar/blocks")
@login_required
def block_time() -> Response:
    """Block time for a staff member (form: ``staff``, ``title``, ``day``, ``time``,
    ``minutes``). Answers the calendar (HTMX: its block): 422 with the errors beside the form."""
    state, _error = calendar_state(request.form, "staff_filter")
    form = BlockTimeForm()
    form.staff.choices = [SelectChoice(str(s.id), s.name) for s in list_staff()]
    if not form.validate():
        return render_calendar(state, status=422, block_form=form, error=_("Check the blocked time's details."))
    start = local_instant(form.day.data, form.time.data)
    add_time_off(uuid.UUID(form.staff.data), start, start + timedelta(minutes=form.minutes.data), form.title.data)
    return render_calendar(state, notice=_("Blocked %(minutes)d minutes: %(title)s.", minutes=form.minutes.data,
                                                 title=form.title.data))


@bp.post("/dashboard/calendar/blocks/<block_id>/delete")
@login_required
def block_delete(block_id: str) -> Response:
    """Remove a blocked time; answers the calendar (HTMX: its block)."""
    row = get_or_404(TimeOff, block_id)
    state, _error = calendar_state(request.form, "staff_filter")
    title = row.reason or _("Blocked time")
    delete_time_off(row)
    return render_calendar(state, notice=_("Removed “%(title)s”.", title=title))
