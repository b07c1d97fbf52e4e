"""Set-up: a staff member's weekly hours, date overrides and time off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import (
    WEEKDAYS,
    HoursForm,
    OverrideForm,
    TimeOffForm,
)
from app.blueprints.dashboard.views.common import clock_range_text, day_text, done, tenant_today, tenant_tz_name
from app.catalog.models import DateOverride, StaffMember, TimeOff, WorkingHours
from app.catalog.service import (
    add_time_off,
    delete_date_override,
    delete_time_off,
    set_date_override,
    set_working_hours,
)
from app.extensions import db
from app.timeutil import utcnow, zone
from app.web import get_or_404, is_htmx, render_page
from app.web.access import manager_required


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
            DateOverride.staff_id == member.id, DateOverride.on_date >= tenant_today())
            .order_by(DateOverride.on_date, DateOverride.start_time)):
        entry = grouped.setdefault(row.on_date, {"id": row.id, "date": row.on_date, "ranges": []})
        if row.start_time is not None and row.end_time is not None:
            entry["ranges"].append(clock_range_text(row.start_time, row.end_time))
    return list(grouped.values())


def _render_hours(member: StaffMember, *, form: HoursForm | None = None, override_form: OverrideForm | None = None,
                  status: int = 200, block: str = "weekly", notice: str | None = None) -> Response:
    suggested = form is None and not db.session.scalar(
        sa.select(sa.func.count()).select_from(WorkingHours).where(WorkingHours.staff_id == member.id))
    form = form or _stored_hours_form(member)
    return render_page("dashboard/staff_hours.html", block=block, status=status, member=member, form=form,
                       suggested=suggested,
                       override_form=override_form or OverrideForm(formdata=None), overrides=_overrides(member),
                       weekdays=list(enumerate(WEEKDAYS)), tab="hours", notice=notice, tz_name=tenant_tz_name(),
                       example_ranges=[clock_range_text(time(9), time(12)), clock_range_text(time(13), time(17))])


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
    if is_htmx():
        return _render_hours(member, block="weekly", notice=_("Working hours saved."))
    return done(_("Working hours saved."), url_for("dashboard.staff_hours", staff_id=member.id))


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
    if is_htmx():
        return _render_hours(member, block="overrides", notice=_("Hours for %(day)s saved.", day=day_text(form.on_date.data, "%-d %b %Y")))
    return done(_("Hours for %(day)s saved.", day=day_text(form.on_date.data, "%-d %b %Y")),
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
    if is_htmx():
        return _render_hours(member, block="overrides", notice=_("Override for %(day)s removed.", day=day_text(on_date, "%-d %b %Y")))
    return done(_("Override for %(day)s removed.", day=day_text(on_date, "%-d %b %Y")), url_for("dashboard.staff_hours", staff_id=member.id))


def _time_off_rows(member: StaffMember) -> list[TimeOff]:
    since = utcnow() - timedelta(days=30)
    return list(db.session.scalars(sa.select(TimeOff).where(TimeOff.staff_id == member.id, TimeOff.ends_at >= since)
                                   .order_by(TimeOff.starts_at)))


def _render_time_off(member: StaffMember, form: TimeOffForm | None = None, status: int = 200,
                     notice: str | None = None) -> Response:
    return render_page("dashboard/staff_time_off.html", block="time_off", status=status, member=member,
                       form=form or TimeOffForm(formdata=None), entries=_time_off_rows(member), tab="time_off",
                       tz_name=tenant_tz_name(), notice=notice, now=utcnow())


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
    tz_name = tenant_tz_name()
    starts, ends = local_to_utc(form.starts.data, tz_name), local_to_utc(form.ends.data, tz_name)
    if starts >= ends:
        form.ends.errors.append(_("The end must be after the start."))
        return _render_time_off(member, form, status=422)
    add_time_off(member.id, starts, ends, form.reason.data or "")
    if is_htmx():
        return _render_time_off(member, notice=_("Time off added."))
    return done(_("Time off added."), url_for("dashboard.staff_time_off", staff_id=member.id))


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
    if is_htmx():
        return _render_time_off(member, notice=_("Time off removed."))
    return done(_("Time off removed."), url_for("dashboard.staff_time_off", staff_id=member.id))
