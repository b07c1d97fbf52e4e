"""The front desk: a new booking (phone or walk-in) with the customer found or created as
you type, and editing or moving a booking (the "Move…" dialog and the calendar's drag and
drop post to the same endpoint). Rules live in :mod:`app.booking.desk`; views parse, call,
render. Refusals re-render the form with 422 and the reason; nothing is written."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.desk_forms import ANYONE, DeskBookingForm, EditBookingForm, MoveForm
from app.blueprints.dashboard.forms import price_text
from app.blueprints.dashboard.views.board import detail_context
from app.blueprints.dashboard.views.calendar import calendar_state, local_instant, render_calendar
from app.blueprints.dashboard.views.common import current_tenant, done, tenant_today
from app.booking.desk import (
    BookingChanges,
    book_by_staff,
    desk_customer,
    edit_booking,
    first_free_staff,
    walk_in_start,
)
from app.booking.errors import BookingError, NeedsOverride
from app.booking.models import Booking, Customer
from app.booking.queries import search_customers
from app.booking.transitions import Actor
from app.booking.validation import region_for_timezone
from app.catalog.models import Service, StaffMember
from app.catalog.service import list_services, list_staff
from app.extensions import db
from app.formatting import format_duration, format_local
from app.scheduling.service import AvailabilityError, find_slots
from app.timeutil import zone
from app.web import get_or_404, parse_uuid, render_page


def _staff_choices(anyone: bool) -> list[SelectChoice]:
    choices = [SelectChoice(ANYONE, _("Anyone (first free)"))] if anyone else []
    return choices + [SelectChoice(str(s.id), s.name) for s in list_staff()]


def _service_choices() -> list[SelectChoice]:
    return [SelectChoice(str(s.id), f"{s.name} · {format_duration(s.duration_minutes)}") for s in list_services()]


def free_starts(service_id: uuid.UUID | None, staff_id: uuid.UUID | None, day: date | None,
                also_ids: list[uuid.UUID] | None = None) -> list[datetime]:
    """Bookable starts (local times of the business) of a service (then the services
    ``also_ids``, back to back) on ``day`` for ``staff_id`` or anyone; empty when something is
    missing or unknown."""
    if service_id is None or day is None:
        return []
    wanted = [service_id, *(also_ids or [])]
    found = {s.id: s for s in db.session.scalars(sa.select(Service).where(Service.id.in_(wanted),
                                                                          Service.active.is_(True)))}
    if any(sid not in found for sid in wanted):
        return []
    service, also = found[service_id], [found[sid] for sid in also_ids or []]
    try:
        slots = find_slots(current_tenant(), service, staff_id=staff_id, start_date=day, end_date=day,
                           any_staff_merge=staff_id is None, also=also)
    except AvailabilityError:
        return []
    tz = zone(current_tenant().timezone)
    return [s.start.astimezone(tz) for s in slots]


def _new_form(formdata: Any = None, **defaults: Any) -> DeskBookingForm:
    form = DeskBookingForm(formdata=formdata, default_region=region_for_timezone(current_tenant().timezone),
                           **defaults)
    form.service.choices = _service_choices()
    form.extra_1.choices = form.extra_2.choices = [SelectChoice("", "—"), *form.service.choices]
    form.staff.choices = _staff_choices(anyone=True)
    return form


def _new_context(form: DeskBookingForm, *, error: str | None = None, warnings: list[str] | None = None,
                 alternatives: list[datetime] | None = None) -> dict[str, Any]:
    tz = zone(current_tenant().timezone)
    picked = None
    if form.customer.data and form.customer.data != "new":
        ident = parse_uuid(form.customer.data)
        picked = db.session.scalar(sa.select(Customer).where(Customer.id == ident)) if ident else None
    return {
        "form": form, "error": error, "warnings": warnings or [], "picked": picked,
        "alternatives": [a.astimezone(tz) for a in alternatives or []],
        "results": search_customers(form.q.data or "") if form.q.data else [],
        "starts": free_starts(parse_uuid(form.service.data), parse_uuid(form.staff.data), form.day.data,
                              form.also_ids()),
        "tz_name": current_tenant().timezone,
    }


@bp.get("/dashboard/bookings/new")
@login_required
def booking_new() -> Response:
    """The new-booking form. Query (all optional): ``date`` (YYYY-MM-DD), ``time`` (HH:MM),
    ``staff``, ``service``, ``customer`` (id); ``walkin=1`` starts it now (rounded down to 5
    minutes) with the first free staff member, source walk-in and "Book anyway" ticked (a walk-in starts inside the lead time)."""
    tenant = current_tenant()
    tz = zone(tenant.timezone)
    defaults: dict[str, Any] = {"day": tenant_today(), "source": "phone"}
    walk_in = request.args.get("walkin") == "1"
    for key, field in (("date", "day"), ("time", "time")):
        raw = request.args.get(key)
        try:
            if raw:
                defaults[field] = date.fromisoformat(raw) if key == "date" else time.fromisoformat(raw)
        except ValueError:
            pass
    for key in ("staff", "service", "customer"):
        if parse_uuid(request.args.get(key)):
            defaults[key] = request.args[key]
    form = _new_form(**defaults)
    if not form.service.data and form.service.choices:
        form.service.data = form.service.choices[0].value
    if walk_in:  # now, with the first person free for the whole of the chosen service
        start = walk_in_start()
        service = db.session.get(Service, (current_tenant().id, parse_uuid(form.service.data))) \
            if parse_uuid(form.service.data) else None
        staff_id = first_free_staff(tenant, start, service=service)
        form.day.data, form.time.data = start.astimezone(tz).date(), start.astimezone(tz).time()
        form.source.data, form.override.data = "walk_in", True
        form.staff.data = str(staff_id) if staff_id else ANYONE
    return render_page("dashboard/booking_new.html", block="new_booking", **_new_context(form))


@bp.get("/dashboard/bookings/new/customers")
@login_required
def booking_new_customers() -> Response:
    """Customers matching ``q`` (name, email or phone), as the picker's list (HTMX block)."""
    form = _new_form(formdata=request.args)
    return render_page("dashboard/booking_new.html", block="customer_results", **_new_context(form))


@bp.get("/dashboard/bookings/new/starts")
@login_required
def booking_new_starts() -> Response:
    """The free starts of ``service`` with ``staff`` (or anyone) on ``day`` (HTMX block)."""
    form = _new_form(formdata=request.args)
    return render_page("dashboard/booking_new.html", block="free_starts", **_new_context(form))


@bp.post("/dashboard/bookings/new")
@login_required
def booking_create() -> Response:
    """Create the booking (see :func:`app.booking.desk.book_by_staff`). Success: 303 to the
    board of its day (HTMX: ``HX-Redirect``). Invalid input or a refused time: 422 with the
    form, the reason and the next free starts; nothing is written."""
    form = _new_form(formdata=request.form)
    if not form.validate():
        return render_page("dashboard/booking_new.html", block="new_booking", status=422, **_new_context(form))
    tenant = current_tenant()
    customer: Customer | None
    try:
        with db.session.begin_nested():
            if form.customer_id:
                customer = db.session.scalar(sa.select(Customer).where(Customer.id == form.customer_id))
                if customer is None:
                    form.customer.errors = [_("Pick the customer again from the search.")]
                    raise LookupError
            else:
                customer = desk_customer(form.new_name.data, form.new_email.data or None, form.phone_e164)
            booking = book_by_staff(
                tenant, service_id=uuid.UUID(form.service.data), staff_id=parse_uuid(form.staff.data),
                start=local_instant(form.day.data, form.time.data), customer=customer, source=form.source.data,
                actor=Actor("staff", current_user.id), notify_customer=form.notify.data,
                override=form.override.data, notes=form.notes.data or "", also_service_ids=form.also_ids())
    except LookupError:
        return render_page("dashboard/booking_new.html", block="new_booking", status=422, **_new_context(form))
    except NeedsOverride as exc:
        return render_page("dashboard/booking_new.html", block="new_booking", status=422,
                           **_new_context(form, warnings=exc.warnings, alternatives=exc.alternatives))
    except BookingError as exc:
        return render_page("dashboard/booking_new.html", block="new_booking", status=422,
                           **_new_context(form, error=exc.message,
                                          alternatives=getattr(exc, "alternatives", None)))
    day = booking.starts_at.astimezone(zone(tenant.timezone)).date()
    name = customer.name if customer else _("the customer")
    return done(_("Booked %(name)s at %(time)s.", name=name,
                  time=format_local(booking.starts_at, tenant.timezone, "%H:%M")),
                url_for("dashboard.calendar", date=day.isoformat(), view="day"))


def edit_form(booking: Booking, formdata: Any = None) -> EditBookingForm:
    """The edit form of ``booking`` (filled from it unless ``formdata`` is given)."""
    tz = zone(current_tenant().timezone)
    local = booking.starts_at.astimezone(tz)
    form = EditBookingForm(formdata=formdata, currency=booking.currency, service=str(booking.service_id),
                           staff=str(booking.staff_id), day=local.date(), time=local.time().replace(second=0),
                           notes=booking.notes, price=price_text(booking.price_amount, booking.currency))
    services = list_services()
    if booking.service_id not in {s.id for s in services}:
        services += list(db.session.scalars(sa.select(Service).where(Service.id == booking.service_id)))
    form.service.choices = [SelectChoice(str(s.id), s.name) for s in services]
    staff = list_staff(active_only=False)
    form.staff.choices = [SelectChoice(str(s.id), s.name) for s in staff]
    return form


def move_form(booking: Booking, formdata: Any = None) -> MoveForm:
    """The "Move…" dialog's form of ``booking`` (filled from it unless ``formdata`` is given)."""
    local = booking.starts_at.astimezone(zone(current_tenant().timezone))
    return MoveForm(formdata=formdata, day=local.date(), time=local.time().replace(second=0),
                    staff=str(booking.staff_id))


def _detail(booking: Booking, status: int = 200, **forms: Any) -> Response:
    ctx = detail_context(booking)
    ctx.update(edit_form=forms.get("edit_form") or edit_form(booking), move_form=forms.get("move_form")
               or move_form(booking), staff_all=list_staff(), open_dialog=forms.get("open_dialog"),
               edit_error=forms.get("edit_error"), move_error=forms.get("move_error"),
               edit_warnings=forms.get("edit_warnings") or [], move_warnings=forms.get("move_warnings") or [])
    return render_page("dashboard/booking.html", block="detail", status=status, **ctx)


@bp.get("/dashboard/bookings/<booking_id>")
@login_required
def booking_detail(booking_id: str) -> Response:
    """One booking: customer, service, times in the tenant's zone, source, actions, the edit
    form and the "Move…" dialog, and its event history."""
    return _detail(get_or_404(Booking, booking_id))


@bp.post("/dashboard/bookings/<booking_id>/edit")
@login_required
def booking_edit(booking_id: str) -> Response:
    """Edit service, staff, start, notes and price (:func:`app.booking.desk.edit_booking`).
    Success: 303 to the booking; refused: 422 with the reason beside the form."""
    booking = get_or_404(Booking, booking_id)
    form = edit_form(booking, request.form)
    if not form.validate():
        return _detail(booking, 422, edit_form=form, open_dialog="edit")
    old_price = booking.price_amount
    changes = BookingChanges(
        service_id=parse_uuid(form.service.data), staff_id=parse_uuid(form.staff.data),
        start=local_instant(form.day.data, form.time.data), notes=form.notes.data or "",
        price_amount=form.price_minor if form.price_minor != old_price else None)
    try:
        with db.session.begin_nested():
            changed = edit_booking(current_tenant(), booking, changes, Actor("staff", current_user.id),
                                   override=form.override.data, notify_customer=form.notify.data)
    except NeedsOverride as exc:
        db.session.refresh(booking)
        return _detail(booking, 422, edit_form=form, open_dialog="edit", edit_warnings=exc.warnings)
    except (BookingError, ValueError) as exc:
        db.session.refresh(booking)
        return _detail(booking, 422, edit_form=form, open_dialog="edit",
                       edit_error=getattr(exc, "message", str(exc)))
    message = _("Booking updated.") if changed else _("Nothing changed.")
    return done(message, url_for("dashboard.booking_detail", booking_id=booking.id))


def apply_move(booking: Booking, form: MoveForm) -> tuple[list[str], str | None, list[str]]:
    """Move ``booking`` per a validated :class:`MoveForm`; returns ``(changed fields, error,
    warnings needing "Book anyway")`` — on a refusal nothing is written."""
    staff_id = parse_uuid(form.staff.data) if form.staff.data else None
    if form.staff.data and (staff_id is None or db.session.scalar(
            sa.select(StaffMember.id).where(StaffMember.id == staff_id)) is None):
        return [], _("Choose one of the staff members shown."), []
    changes = BookingChanges(staff_id=staff_id, start=local_instant(form.day.data, form.time.data))
    try:
        with db.session.begin_nested():
            changed = edit_booking(current_tenant(), booking, changes, Actor("staff", current_user.id),
                                   override=form.override.data, notify_customer=form.notify.data)
    except NeedsOverride as exc:
        db.session.refresh(booking)
        return [], None, exc.warnings
    except BookingError as exc:
        db.session.refresh(booking)
        return [], exc.message, []
    return changed, None, []


@bp.post("/dashboard/bookings/<booking_id>/move")
@login_required
def booking_move(booking_id: str) -> Response:
    """Move a booking to form ``day`` + ``time`` (local) and ``staff`` (empty: the same).
    From the calendar (``from=calendar``, drag and drop) the answer is the calendar block
    (422 with the reason when refused: the booking stays where it was); from the booking page,
    303 back to it, or 422 with the dialog open and the reason."""
    booking = get_or_404(Booking, booking_id)
    form = move_form(booking, request.form)
    from_calendar = request.form.get("from") == "calendar"
    if not form.validate():
        error, warnings, changed = _("Enter a date and a start time."), [], []
    else:
        changed, error, warnings = apply_move(booking, form)
    if from_calendar:
        state, _error = calendar_state(request.form, "staff_filter")
        if error or warnings:
            return render_calendar(state, status=422, error=error or " ".join([*warnings, _("Use Move… to book it anyway.")]))
        return render_calendar(state, notice=_("Booking moved.") if changed else _("Nothing changed."))
    if error or warnings:
        return _detail(booking, 422, move_form=form, open_dialog="move", move_error=error, move_warnings=warnings)
    return done(_("Booking moved.") if changed else _("Nothing changed."),
                url_for("dashboard.booking_detail", booking_id=booking.id))


