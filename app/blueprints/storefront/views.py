"""Tenant storefront: the business page, the booking steps, the confirmation and the manage link.

Steps (each a plain HTML page; the slot picker also swaps itself with HTMX):
``/`` -> ``/book/<service>`` (staff or anyone) -> ``/book/<service>/slots`` (day and time)
-> ``/book/<service>/details`` (name, email, phone, notes; POST shows the summary)
-> ``POST /book/<service>/confirm`` (creates the booking) -> ``/booked/<token>``.
``/manage/<token>`` shows a booking and lets the customer cancel or reschedule it until the cut-off.
A manage link works until ``MANAGE_LINK_DAYS_AFTER`` days after the appointment; after that
every page and form behind it (here, the pay step and the chat) answers the "link expired"
page (410) and changes nothing. Actions the booking's status does not allow (cancelling or
moving a cancelled, completed or no-show booking) answer 409 with the reason inline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.booking_limits import guest_confirm_threshold, public_booking_limits
from app.blueprints.storefront import bp
from app.blueprints.storefront.forms import CancelForm, DetailsForm
from app.booking.errors import (
    CutoffPassed,
    InvalidTransition,
    ManageLinkExpired,
    RescheduleLocked,
    SlotUnavailable,
    UnknownReference,
)
from app.booking.models import Booking, Customer
from app.booking.service import (
    CustomerInput,
    booking_from_email_confirm_token,
    cancel_by_customer,
    confirm_guest_email,
    customer_can_change,
    email_confirm_ttl,
    manage_link_days_after,
    manage_token,
    next_free_starts,
    open_manage_link,
)
from app.booking.validation import region_for_timezone
from app.catalog.models import Service, StaffMember
from app.catalog.service import list_services, list_staff
from app.checkout.booking import (
    awaits_payment,
    check_customer_money_reschedule,
    late_reschedule_refusal,
    place_booking,
    quote,
    reschedule_by_customer,
)
from app.extensions import db
from app.payments.errors import PaymentUnavailable
from app.payments.settings import accepts_payments, amounts_due, business_policy
from app.scheduling.availability import Slot
from app.scheduling.service import find_slots, performers
from app.tenants.models import Tenant
from app.tenants.urls import external_url
from app.timeutil import all_zones, day_in_range, utcnow, zone
from app.web import get_or_404, parse_uuid, problem, render_page, tenant_required

STRIP_DAYS = 14
ANY = "any"


# --------------------------------------------------------------------------- view models


@dataclass(frozen=True)
class SlotView:
    """A bookable start shown to the customer: ``start`` (UTC), ``label`` (``"09:30"`` local), ``url``."""

    start: datetime
    label: str
    value: str
    url: str = ""


@dataclass
class DayView:
    """One day of the strip in the customer's zone with its free slots."""

    day: date
    url: str
    slots: list[SlotView] = field(default_factory=list)
    selectable: bool = True


@dataclass(frozen=True)
class StaffChoice:
    """A staff option in the picker: ``value`` is ``"any"`` or the staff id."""

    value: str
    name: str
    url: str
    active: bool


def rfc3339(dt: datetime) -> str:
    """``dt`` as an RFC 3339 UTC string with seconds and ``Z`` (``2026-05-04T07:00:00Z``)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_start(raw: str | None) -> datetime | None:
    """An RFC 3339 instant with offset as tz-aware UTC, or ``None`` when missing, malformed or outside
    years 2000–2100 (:func:`app.timeutil.day_in_range`)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        return None
    return value if day_in_range(value) else None


def parse_day(raw: str | None) -> tuple[date | None, str | None]:
    """``(date, None)`` for ``YYYY-MM-DD``, ``(None, None)`` when absent, ``(None, message)`` when malformed."""
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw.strip()), None
    except ValueError:
        return None, f"“{raw[:40]}” is not a date. Pick a day below."


def customer_zone(tenant: Tenant, raw: str | None) -> tuple[str, str | None]:
    """The customer's IANA zone from ``raw`` and an error message, falling back to the business's zone."""
    if not raw:
        return tenant.timezone, None
    try:
        zone(raw)
    except ValueError:
        return tenant.timezone, (f"We don't know the time zone “{raw[:64]}”. Times are shown in the "
                                 f"business's zone, {tenant.timezone}.")
    return raw, None


def period_of(local: datetime) -> str:
    """``Morning`` / ``Afternoon`` / ``Evening`` of a local time."""
    if local.hour < 12:
        return "Morning"
    return "Afternoon" if local.hour < 17 else "Evening"


# --------------------------------------------------------------------------- loading helpers


def get_service_or_404(service_id: str) -> Service:
    """The active service ``service_id`` of the current tenant; 404 for unknown, inactive or foreign ids."""
    service = get_or_404(Service, service_id)
    if not service.active:
        abort(404)
    return service


def staff_choice_or_404(service: Service, raw: str | None) -> StaffMember | None:
    """``None`` for "anyone" (``"any"`` or absent), else the performer with id ``raw``; 404 otherwise."""
    if not raw or raw == ANY:
        return None
    key = parse_uuid(raw)
    if key is None or key not in performers(service.id):
        abort(404)
    return db.session.scalar(sa.select(StaffMember).where(StaffMember.id == key))


def service_performers(service: Service) -> list[StaffMember]:
    """Active staff performing ``service`` in display order."""
    ids = list(performers(service.id))
    if not ids:
        return []
    members = {m.id: m for m in db.session.scalars(sa.select(StaffMember).where(StaffMember.id.in_(ids)))}
    return [members[i] for i in ids if i in members]


def unavailable_reason(tenant: Tenant, service: Service, staff: StaffMember | None,
                       start: datetime) -> SlotUnavailable | None:
    """``None`` when ``start`` (UTC) is bookable now, else the :class:`SlotUnavailable` to show (read-only)."""
    now = utcnow()
    staff_id = staff.id if staff else None
    if start <= now:
        return SlotUnavailable("This time has already passed. Please pick another time.",
                               next_free_starts(tenant, service, staff_id, now))
    if start >= now + timedelta(days=tenant.horizon_days):
        return SlotUnavailable(f"Bookings open at most {tenant.horizon_days} days ahead.",
                               next_free_starts(tenant, service, staff_id, now))
    local_day = start.astimezone(zone(tenant.timezone)).date()
    slots = find_slots(tenant, service, staff_id=staff_id, start_date=local_day, end_date=local_day,
                       any_staff_merge=True)
    if any(s.start == start for s in slots):
        return None
    return SlotUnavailable("Sorry, this time was just taken.", next_free_starts(tenant, service, staff_id, start))


# --------------------------------------------------------------------------- the slot picker


def build_picker(tenant: Tenant, service: Service, staff: StaffMember | None, tz_name: str,
                 chosen: date | None, *, page_url: Callable[..., str], slot_url: Callable[[datetime], str] | None,
                 staff_choices: bool = True) -> dict[str, Any]:
    """Template context for the slot picker.

    ``page_url(day=None, staff=None, tz=None)`` builds the picker's own URL and
    ``slot_url(start)`` a slot's link (``None``: slots are POST buttons). Days are the
    customer's local dates; a slot belongs to the day of its local start.
    """
    ctz = zone(tz_name)
    btz = zone(tenant.timezone)
    now = utcnow()
    today = now.astimezone(ctz).date()
    last_day = (now + timedelta(days=tenant.horizon_days)).astimezone(ctz).date()
    date_error = None
    if chosen is not None and chosen < today:
        date_error = "That day has passed. Here are the days you can book."
        chosen = None
    elif chosen is not None and chosen > last_day:
        date_error = f"Bookings open at most {tenant.horizon_days} days ahead. Pick an earlier day."
        chosen = None
    offset = ((chosen - today).days // STRIP_DAYS) * STRIP_DAYS if chosen else 0
    strip_start = today + timedelta(days=offset)
    strip_end = strip_start + timedelta(days=STRIP_DAYS - 1)
    # Business dates covering the customer's local days [strip_start, strip_end].
    first_instant = datetime.combine(strip_start, datetime.min.time(), tzinfo=ctz)
    last_instant = datetime.combine(strip_end + timedelta(days=1), datetime.min.time(), tzinfo=ctz)
    staff_id = staff.id if staff else None
    slots: list[Slot] = find_slots(
        tenant, service, staff_id=staff_id, start_date=first_instant.astimezone(btz).date(),
        end_date=(last_instant - timedelta(seconds=1)).astimezone(btz).date(), any_staff_merge=True)
    days = [DayView(day=strip_start + timedelta(days=i), url=page_url(day=strip_start + timedelta(days=i)))
            for i in range(STRIP_DAYS)]
    by_day = {d.day: d for d in days}
    for s in slots:
        local = s.start.astimezone(ctz)
        day_view = by_day.get(local.date())
        if day_view is not None:
            day_view.slots.append(SlotView(start=s.start, label=local.strftime("%H:%M"), value=rfc3339(s.start),
                                           url=slot_url(s.start) if slot_url else ""))
    for d in days:
        d.selectable = d.day <= last_day
    if chosen is None:
        chosen = next((d.day for d in days if d.slots), strip_start)
    selected = by_day[chosen]
    groups: dict[str, list[SlotView]] = {}
    for sv in selected.slots:
        groups.setdefault(period_of(sv.start.astimezone(ctz)), []).append(sv)
    next_free = next((d for d in days if d.day > chosen and d.slots), None)
    choices: list[StaffChoice] = []
    if staff_choices:
        choices.append(StaffChoice(ANY, "Anyone", page_url(day=chosen, staff=ANY), staff is None))
        for member in service_performers(service):
            choices.append(StaffChoice(str(member.id), member.name, page_url(day=chosen, staff=str(member.id)),
                                       staff is not None and staff.id == member.id))
    return {
        "days": days, "selected": selected, "groups": groups, "next_free": next_free,
        "prev_url": page_url(day=strip_start - timedelta(days=STRIP_DAYS)) if strip_start > today else None,
        "next_url": page_url(day=strip_end + timedelta(days=1)) if strip_end < last_day else None,
        "date_error": date_error, "staff_choices": choices, "zones": all_zones(),
        "customer_tz": tz_name, "business_tz": tenant.timezone, "post_slots": slot_url is None,
        "month_label": _month_label(strip_start, strip_end),
    }


def _month_label(a: date, b: date) -> str:
    if (a.year, a.month) == (b.year, b.month):
        return a.strftime("%B %Y")
    if a.year == b.year:
        return f"{a.strftime('%B')} – {b.strftime('%B %Y')}"
    return f"{a.strftime('%B %Y')} – {b.strftime('%B %Y')}"


def _booking_urls(service: Service, staff: StaffMember | None,
                  tz_name: str) -> tuple[Callable[..., str], Callable[[datetime], str]]:
    staff_value = str(staff.id) if staff else ANY

    def page_url(day: date | None = None, staff: str | None = None, tz: str | None = None) -> str:
        args: dict[str, str] = {"staff": staff or staff_value, "tz": tz or tz_name}
        if day is not None:
            args["date"] = day.isoformat()
        return url_for("storefront.slots", service_id=service.id, **args)

    def slot_url(start: datetime) -> str:
        return url_for("storefront.details", service_id=service.id, staff=staff_value, start=rfc3339(start),
                       tz=tz_name)

    return page_url, slot_url


def _render_slots(service: Service, staff: StaffMember | None, tz_name: str, *, chosen: date | None = None,
                  tz_error: str | None = None, date_error: str | None = None, slot_error: SlotUnavailable | None = None,
                  needs_tz: bool = False, status: int = 200) -> Response:
    tenant = g.tenant
    page_url, slot_url = _booking_urls(service, staff, tz_name)
    picker = build_picker(tenant, service, staff, tz_name, chosen, page_url=page_url, slot_url=slot_url)
    if date_error:
        picker["date_error"] = date_error
    ctz = zone(tz_name)
    alternatives = []
    if slot_error is not None:
        alternatives = [SlotView(start=a, label=a.astimezone(ctz).strftime("%a %d %b, %H:%M"), value=rfc3339(a),
                                 url=slot_url(a)) for a in slot_error.alternatives]
    offer = quote(service, staff)
    status = 422 if (status == 200 and (tz_error or picker["date_error"])) else status
    return render_page("storefront/slots.html", block="picker", status=status, tenant=tenant, service=service,
                       staff=staff, staff_value=str(staff.id) if staff else ANY, tz_error=tz_error,
                       slot_error=slot_error, alternatives=alternatives, needs_tz=needs_tz,
                       picker_action=url_for("storefront.slots", service_id=service.id), price=offer.price,
                       price_varies=offer.varies, duration=offer.duration, **picker)


# --------------------------------------------------------------------------- pages


def home() -> Response:
    """Storefront home (``/`` on a tenant host): the business, its services by category, its team."""
    tenant = g.tenant
    services = list_services()
    categories: dict[str, list[Service]] = {}
    for service in services:
        categories.setdefault(service.category or "Services", []).append(service)
    return render_page("storefront/home.html", tenant=tenant, categories=categories, staff=list_staff(),
                       service_count=len(services), due_at_booking=amounts_due(services),
                       free_cancellation_hours=business_policy().free_cancellation_hours
                       if accepts_payments() else None)


@bp.get("/book/<service_id>")
@tenant_required
def choose_staff(service_id: str) -> Response:
    """Step 2: pick a staff member who performs the service, or "anyone"."""
    service = get_service_or_404(service_id)
    tz_name, tz_error = customer_zone(g.tenant, request.args.get("tz"))
    tz_args = {"tz": tz_name} if request.args.get("tz") and not tz_error else {}
    options = [{"member": m, "price": offer.price, "duration": offer.duration,
                "url": url_for("storefront.slots", service_id=service.id, staff=str(m.id), **tz_args)}
               for m in service_performers(service) for offer in [quote(service, m)]]
    any_url = url_for("storefront.slots", service_id=service.id, staff=ANY, **tz_args)
    anyone = quote(service, None)
    return render_page("storefront/staff.html", tenant=g.tenant, service=service, options=options, any_url=any_url,
                       staff=None, price=anyone.price, price_varies=anyone.varies, duration=service.duration_minutes,
                       customer_tz=tz_name, business_tz=g.tenant.timezone)


@bp.get("/book/<service_id>/slots")
@tenant_required
def slots(service_id: str) -> Response:
    """Step 3: a 14-day strip and the free times of the chosen day, in the customer's zone.

    Query: ``staff`` (id or ``any``), ``date`` (``YYYY-MM-DD``, customer's local date), ``tz`` (IANA).
    An HTMX request gets only the picker block. Bad ``date``/``tz`` answer 422 with an inline error.
    """
    service = get_service_or_404(service_id)
    staff = staff_choice_or_404(service, request.args.get("staff"))
    raw_tz = request.args.get("tz")
    tz_name, tz_error = customer_zone(g.tenant, raw_tz)
    chosen, date_error = parse_day(request.args.get("date"))
    return _render_slots(service, staff, tz_name, chosen=chosen, tz_error=tz_error, date_error=date_error,
                         needs_tz=not raw_tz)


def _details_context(service: Service, staff: StaffMember | None, start: datetime, tz_name: str) -> dict[str, Any]:
    offer = quote(service, staff)
    price, varies, duration = offer.price, offer.varies, offer.duration
    page_url, _ = _booking_urls(service, staff, tz_name)
    return {"tenant": g.tenant, "service": service, "staff": staff, "staff_value": str(staff.id) if staff else ANY,
            "start": start, "start_value": rfc3339(start), "end": start + timedelta(minutes=duration),
            "customer_tz": tz_name, "business_tz": g.tenant.timezone, "price": price, "price_varies": varies,
            "duration": duration, "back_url": page_url(day=start.astimezone(zone(tz_name)).date())}


def _details_form() -> DetailsForm:
    form = DetailsForm(default_region=region_for_timezone(g.tenant.timezone))
    if request.method == "GET" and current_user.is_authenticated:
        form.name.data = form.name.data or getattr(current_user, "name", "") or ""
        form.email.data = form.email.data or current_user.email
    return form


@bp.route("/book/<service_id>/details", methods=["GET", "POST"])
@tenant_required
def details(service_id: str) -> Response:
    """Step 4: the customer's name, email, phone and notes; a valid POST shows the summary to confirm.

    Query/form: ``staff``, ``start`` (RFC 3339), ``tz``. A start that is not bookable re-renders
    the slot step (422) with the next free times; invalid details re-render this form (422).
    """
    service = get_service_or_404(service_id)
    values = request.form if request.method == "POST" else request.args
    staff = staff_choice_or_404(service, values.get("staff"))
    tz_name, tz_error = customer_zone(g.tenant, values.get("tz"))
    start = parse_start(values.get("start"))
    if start is None:
        return _render_slots(service, staff, tz_name, tz_error=tz_error,
                             date_error="Pick a time from the list.", status=422)
    problem = unavailable_reason(g.tenant, service, staff, start)
    if problem is not None:
        return _render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=problem, tz_error=tz_error, status=422)
    form = _details_form()
    ctx = _details_context(service, staff, start, tz_name)
    if request.method == "POST":
        if form.validate():
            return render_page("storefront/confirm.html", form=form, phone_e164=form.phone_e164, **ctx)
        return render_page("storefront/details.html", block="details", form=form, status=422, **ctx)
    return render_page("storefront/details.html", block="details", form=form, tz_error=tz_error, **ctx)


@bp.post("/book/<service_id>/confirm")
@public_booking_limits
@tenant_required
def confirm(service_id: str) -> Response:
    """Step 5: create the booking (``action=confirm``) or go back to edit the details (``action=edit``).

    Creates exactly one booking and redirects (303) to the confirmation page; a slot that
    was taken meanwhile re-renders the slot step (422) with the next free times, and
    invalid details re-render the details form (422). Nothing is written on failure.
    """
    tenant = g.tenant
    service = get_service_or_404(service_id)
    staff = staff_choice_or_404(service, request.form.get("staff"))
    tz_name, tz_error = customer_zone(tenant, request.form.get("tz"))
    start = parse_start(request.form.get("start"))
    if start is None:
        return _render_slots(service, staff, tz_name, tz_error=tz_error,
                             date_error="Pick a time from the list.", status=422)
    form = DetailsForm(default_region=region_for_timezone(tenant.timezone))
    ctx = _details_context(service, staff, start, tz_name)
    if request.form.get("action") == "edit":
        return render_page("storefront/details.html", block="details", form=form, **ctx)
    if not form.validate():
        return render_page("storefront/details.html", block="details", form=form, status=422, **ctx)
    problem = unavailable_reason(tenant, service, staff, start)
    if problem is not None:
        return _render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=problem, status=422)
    try:
        booking = place_booking(
            tenant, service, staff_id=staff.id if staff else None, start=start,
            customer=CustomerInput(name=form.name.data, email=form.email.data, phone=form.phone_e164),
            customer_timezone=tz_name, notes=form.notes.data or "",
            user_id=current_user.id if current_user.is_authenticated else None,
            confirm_email_over=guest_confirm_threshold(form.email.data),
        )
    except PaymentUnavailable as exc:  # answered 422: the request rolls back, no unpaid booking holds the slot
        return _render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=SlotUnavailable(exc.message), status=422)
    except SlotUnavailable as exc:
        return _render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=exc, status=422)
    except UnknownReference:
        abort(404)
    token = manage_token(booking)
    if awaits_payment(booking):
        return redirect(url_for("payments.pay", token=token), 303)
    return redirect(url_for("storefront.booked", token=token), 303)


@bp.route("/booked/confirm-email/<token>", methods=["GET", "POST"])
@tenant_required
def confirm_email(token: str) -> Response:
    """The link emailed to a guest whose booking awaits email confirmation: GET shows the
    booking and a button (so mail scanners that open links confirm nothing), POST confirms it
    and goes to the confirmation page (303). An expired, forged or used link, or a time taken
    meanwhile, answers 410/409 with a clear message; nothing changes."""
    booking = booking_from_email_confirm_token(token)
    tenant = g.tenant
    if booking is None or booking.status not in ("awaiting_email",):
        if booking is not None and booking.status in ("confirmed", "pending"):
            return redirect(url_for("storefront.booked", token=manage_token(booking)), 303)
        return render_page("storefront/confirm_email.html", tenant=tenant, booking=None, status=410,
                           error="This link has expired or is not valid. Unconfirmed bookings are released "
                                 "after a short while; you are welcome to book again.")
    service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    ctx = {"tenant": tenant, "booking": booking, "service": service, "customer_tz": booking.customer_timezone}
    if request.method == "GET":
        return render_page("storefront/confirm_email.html", **ctx)
    try:
        confirm_guest_email(tenant, booking)
    except InvalidTransition as exc:
        return render_page("storefront/confirm_email.html", tenant=tenant, booking=None, status=410, error=str(exc))
    except SlotUnavailable as exc:
        return render_page("storefront/confirm_email.html", tenant=tenant, booking=None, status=409,
                           error=exc.message)
    manage = manage_token(booking)
    return redirect(url_for("storefront.booked", token=manage), 303)


def _booking_or_404(token: str) -> Booking:
    """The booking of a manage link; 404 when not valid here (an expired one raises
    :class:`ManageLinkExpired`, answered by :func:`manage_link_expired_page`)."""
    booking = open_manage_link(token)
    if booking is None:
        abort(404)
    return booking


@bp.app_errorhandler(ManageLinkExpired)
def manage_link_expired_page(exc: ManageLinkExpired) -> Response:
    """Any page or form behind an expired manage link (storefront, pay step, chat): 410 with
    a page that says so (problem+json, RFC 9457, for a caller that asks for JSON, e.g. the
    pay step's card form); nothing was changed (the request rolled back before this handler runs)."""
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return problem(410, "Link expired", exc.message)
    return render_page("storefront/link_expired.html", status=410, tenant=g.get("tenant"),
                       days=manage_link_days_after())


def _booking_context(booking: Booking, tz_name: str | None = None) -> dict[str, Any]:
    tenant = g.tenant
    service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    staff = db.session.scalar(sa.select(StaffMember).where(StaffMember.id == booking.staff_id))
    token = request.view_args["token"] if request.view_args and "token" in request.view_args else manage_token(booking)
    can_change = customer_can_change(tenant, booking)
    return {
        "tenant": tenant, "booking": booking, "service": service, "staff": staff, "token": token,
        "customer_tz": tz_name or booking.customer_timezone, "business_tz": tenant.timezone,
        "can_change": can_change,
        # Past the free-cancellation deadline of a booking holding money: cancel only (domain rule).
        "reschedule_locked": late_reschedule_refusal(tenant, booking) if can_change else None,
        "manage_url": external_url("storefront.manage", tenant=tenant, token=token),
        "duration": int((booking.ends_at - booking.starts_at).total_seconds() // 60),
        "customer_email": db.session.scalar(sa.select(Customer.email).where(Customer.id == booking.customer_id)),
        "confirm_minutes": int(email_confirm_ttl().total_seconds() // 60),
    }


@bp.get("/booked/<token>")
@tenant_required
def booked(token: str) -> Response:
    """The confirmation page after booking: status, time in the customer's zone, the manage link."""
    booking = _booking_or_404(token)
    return render_page("storefront/confirmation.html", **_booking_context(booking))


@bp.get("/manage/<token>")
@tenant_required
def manage(token: str) -> Response:
    """The signed manage page: the booking, and cancel/reschedule while before the cut-off."""
    booking = _booking_or_404(token)
    return render_page("storefront/manage.html", block="manage", form=CancelForm(), **_booking_context(booking))


@bp.post("/manage/<token>/cancel")
@tenant_required
def manage_cancel(token: str) -> Response:
    """Cancel through the manage link with an optional reason; refusals are shown inline (409)."""
    booking = _booking_or_404(token)
    form = CancelForm()
    if not form.validate():
        return render_page("storefront/manage.html", block="manage", form=form, status=422,
                           **_booking_context(booking))
    try:
        cancel_by_customer(g.tenant, booking, form.reason.data or "",
                           user_id=current_user.id if current_user.is_authenticated else None)
    except (CutoffPassed, InvalidTransition) as exc:
        return render_page("storefront/manage.html", block="manage", form=form, status=409, action_error=exc.message,
                           **_booking_context(booking))
    flash("Your booking is cancelled. We've let the business know.", "success")
    return redirect(url_for("storefront.manage", token=token), 303)


def _render_reschedule(booking: Booking, tz_name: str, *, chosen: date | None = None, tz_error: str | None = None,
                       date_error: str | None = None, slot_error: SlotUnavailable | None = None,
                       status: int = 200) -> Response:
    tenant = g.tenant
    ctx = _booking_context(booking, tz_name)
    service, staff, token = ctx["service"], ctx["staff"], ctx["token"]

    def page_url(day: date | None = None, staff: str | None = None, tz: str | None = None) -> str:
        args = {"tz": tz or tz_name}
        if day is not None:
            args["date"] = day.isoformat()
        return url_for("storefront.manage_reschedule", token=token, **args)

    picker = build_picker(tenant, service, staff, tz_name, chosen, page_url=page_url, slot_url=None,
                          staff_choices=False)
    if date_error:
        picker["date_error"] = date_error
    ctz = zone(tz_name)
    alternatives = []
    if slot_error is not None:
        alternatives = [SlotView(start=a, label=a.astimezone(ctz).strftime("%a %d %b, %H:%M"), value=rfc3339(a))
                        for a in slot_error.alternatives]
    if status == 200 and (tz_error or picker["date_error"]):
        status = 422
    ctx["customer_tz"] = tz_name
    return render_page("storefront/reschedule.html", block="picker", status=status, tz_error=tz_error,
                       slot_error=slot_error, alternatives=alternatives, needs_tz=False,
                       picker_action=url_for("storefront.manage_reschedule", token=token),
                       post_action=url_for("storefront.manage_reschedule", token=token), **{**ctx, **picker})


@bp.route("/manage/<token>/reschedule", methods=["GET", "POST"])
@tenant_required
def manage_reschedule(token: str) -> Response:
    """Pick a new time (GET: the slot picker for the same staff member; POST ``start``: move the booking).

    Past the cut-off, past the free-cancellation deadline of a booking holding money
    (:func:`app.checkout.booking.check_customer_money_reschedule`) or for an inactive booking the
    manage page is shown with the reason (409) and nothing changes;
    a taken time re-renders the picker (422) with the next free times.
    """
    booking = _booking_or_404(token)
    values = request.form if request.method == "POST" else request.args
    tz_name, tz_error = customer_zone(g.tenant, values.get("tz") or booking.customer_timezone)
    try:
        check_customer_money_reschedule(g.tenant, booking)
    except (CutoffPassed, InvalidTransition) as exc:
        if isinstance(exc, RescheduleLocked):
            message = exc.message
        else:
            message = ("This booking is no longer active." if booking.status not in ("pending", "confirmed")
                       else policy_text(g.tenant))
        return render_page("storefront/manage.html", block="manage", form=CancelForm(), status=409,
                           action_error=message, **_booking_context(booking))
    if request.method == "GET":
        chosen, date_error = parse_day(request.args.get("date"))
        return _render_reschedule(booking, tz_name, chosen=chosen, tz_error=tz_error, date_error=date_error)
    start = parse_start(request.form.get("start"))
    if start is None:
        return _render_reschedule(booking, tz_name, date_error="Pick a time from the list.", status=422)
    try:
        reschedule_by_customer(g.tenant, booking, start, current_user.id if current_user.is_authenticated else None)
    except SlotUnavailable as exc:
        return _render_reschedule(booking, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                                  slot_error=exc, status=422)
    except (CutoffPassed, InvalidTransition) as exc:
        return render_page("storefront/manage.html", block="manage", form=CancelForm(), status=409,
                           action_error=exc.message, **_booking_context(booking))
    flash("Your booking was moved to " + start.astimezone(zone(tz_name)).strftime("%A %d %B at %H:%M") + ".",
          "success")
    return redirect(url_for("storefront.manage", token=token), 303)


def policy_text(tenant: Tenant) -> str:
    """The customer-facing cancellation policy of ``tenant``."""
    return (f"Bookings can be cancelled or moved online until {tenant.cancellation_cutoff_hours} hours "
            f"before the start. To change it now, please contact {tenant.name}.")
