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

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.booking_limits import guest_confirm_threshold, public_booking_limits
from app.blueprints.community.helpers import note_profile_view
from app.blueprints.storefront import bp
from app.blueprints.storefront.chain import chain_choices
from app.blueprints.storefront.forms import DetailsForm
from app.blueprints.storefront.picker import (
    ANY,
    also_or_404,
    booking_urls,
    customer_zone,
    get_service_or_404,
    parse_day,
    parse_start,
    refusal,
    render_slots,
    rfc3339,
    service_performers,
    staff_choice_or_404,
    unavailable_reason,
)
from app.blueprints.storefront.profile import profile_context
from app.booking.errors import (
    InvalidTransition,
    SlotUnavailable,
    UnknownReference,
)
from app.booking.models import Booking
from app.booking.refusals import SlotRefusal, own_booking_at
from app.booking.service import (
    CustomerInput,
    booking_from_email_confirm_token,
    confirm_guest_email,
    manage_token,
)
from app.booking.validation import region_for_timezone
from app.catalog.models import Service, StaffMember
from app.catalog.service import list_services, list_staff
from app.catalog.translations import reader_locale_id
from app.checkout.booking import (
    awaits_payment,
    place_booking,
    quote,
)
from app.community.blocks import booking_refusal
from app.customers.ownership import latest_phone_of
from app.extensions import db
from app.payments.errors import PaymentUnavailable
from app.payments.settings import accepts_payments, amounts_due, business_policy
from app.tenants.models import Tenant
from app.tenants.phones import national_format
from app.timeutil import zone
from app.web import parse_uuid, render_page, tenant_required

# --------------------------------------------------------------------------- pages


#: Session key of the ids of the bookings made in this browser (newest last, at most
#: :data:`REMEMBERED_BOOKINGS`): the proof that a booking at a sent time is the sender's own.
BOOKED_KEY = "plaza_booked"
REMEMBERED_BOOKINGS = 20


def remember_booking(booking: Booking) -> None:
    """Note in the (server-side) session that this browser made ``booking``."""
    ids = [i for i in session.get(BOOKED_KEY, []) if i != str(booking.id)]
    session[BOOKED_KEY] = [*ids, str(booking.id)][-REMEMBERED_BOOKINGS:]


def already_yours(service: Service, start: datetime, email: str | None = None) -> Booking | None:
    """The caller's own booking of ``service`` at ``start``: made in this browser, or of the
    signed-in account's customer record; with ``email`` (the details sent), only that
    customer's (:func:`app.booking.refusals.own_booking_at`)."""
    ids = []
    for raw in session.get(BOOKED_KEY, []):
        parsed = parse_uuid(raw)
        if parsed is not None:
            ids.append(parsed)
    return own_booking_at(service.id, start, booking_ids=ids,
                          user_id=current_user.id if current_user.is_authenticated else None, email=email)


def show_own_booking(booking: Booking) -> Response:
    """Answer a start that is already the caller's booking (they went Back after booking):
    its confirmation page with its manage link (or its pay step), never an error (303)."""
    flash(_("You already have this booking, so nothing new was booked. Here it is, with the link to "
            "manage it."), "info")
    token = manage_token(booking)
    if awaits_payment(booking):
        return redirect(url_for("payments.pay", token=token), 303)
    return redirect(url_for("storefront.booked", token=token), 303)




def home() -> Response:
    """Storefront home (``/`` on a tenant host): the business, its services by category, its team."""
    tenant = g.tenant
    note_profile_view()  # the signed-in visitor's "recently viewed"
    services = list_services()
    categories: dict[str, list[Service]] = {}
    for service in services:
        categories.setdefault(service.category or "Services", []).append(service)
    return render_page("storefront/home.html", tenant=tenant, categories=categories, staff=list_staff(),
                       service_count=len(services), due_at_booking=amounts_due(services),
                       free_cancellation_hours=business_policy().free_cancellation_hours
                       if accepts_payments() else None, **profile_context(tenant, services))


@bp.get("/book/<service_id>")
@tenant_required
def choose_staff(service_id: str) -> Response:
    """Step 2: pick a staff member who performs the service, or "anyone".

    "Add another service": each repeated ``also`` query value is a service booked after it,
    back to back with the same staff member (offered: staff who perform them all; the totals
    of duration and price shown)."""
    service = get_service_or_404(service_id)
    also = also_or_404(request.args.getlist("also"))
    tz_name, tz_error = customer_zone(g.tenant, request.args.get("tz"))
    tz_args: dict[str, Any] = {"tz": tz_name} if request.args.get("tz") and not tz_error else {}
    also_values = [str(s.id) for s in also]
    if also_values:
        tz_args["also"] = also_values
    options = [{"member": m, "price": offer.price, "duration": offer.duration,
                "url": url_for("storefront.slots", service_id=service.id, staff=str(m.id), **tz_args)}
               for m in service_performers(service, also) for offer in [quote(service, m, also)]]
    any_url = url_for("storefront.slots", service_id=service.id, staff=ANY, **tz_args)
    anyone = quote(service, None, also)
    return render_page("storefront/staff.html", tenant=g.tenant, service=service, options=options, any_url=any_url,
                       staff=None, price=anyone.price, price_varies=anyone.varies, duration=anyone.duration,
                       customer_tz=tz_name, business_tz=g.tenant.timezone,
                       **chain_choices(service, also, tz_args.get("tz")))


@bp.get("/book/<service_id>/slots")
@tenant_required
def slots(service_id: str) -> Response:
    """Step 3: a 14-day strip and the free times of the chosen day, in the customer's zone.

    Query: ``staff`` (id or ``any``), ``date`` (``YYYY-MM-DD``, customer's local date), ``tz`` (IANA).
    An HTMX request gets only the picker block. Bad ``date``/``tz`` answer 422 with an inline error.
    """
    service = get_service_or_404(service_id)
    also = also_or_404(request.args.getlist("also"))
    staff = staff_choice_or_404(service, request.args.get("staff"), also)
    raw_tz = request.args.get("tz")
    tz_name, tz_error = customer_zone(g.tenant, raw_tz)
    chosen, date_error = parse_day(request.args.get("date"))
    return render_slots(service, staff, tz_name, chosen=chosen, tz_error=tz_error, date_error=date_error,
                         needs_tz=not raw_tz, also=also)


def _details_context(service: Service, staff: StaffMember | None, start: datetime, tz_name: str,
                     also: list[Service]) -> dict[str, Any]:
    offer = quote(service, staff, also)
    price, varies, duration = offer.price, offer.varies, offer.duration
    page_url, _slot = booking_urls(service, staff, tz_name, also)
    return {"tenant": g.tenant, "service": service, "staff": staff, "staff_value": str(staff.id) if staff else ANY,
            "start": start, "start_value": rfc3339(start), "end": start + timedelta(minutes=duration),
            "customer_tz": tz_name, "business_tz": g.tenant.timezone, "price": price, "price_varies": varies,
            "duration": duration, "back_url": page_url(day=start.astimezone(zone(tz_name)).date()),
            "also": also, "chain": [service, *also]}


def phone_region(tenant: Tenant) -> str | None:
    """The region phone numbers are read in on this business's pages: its country (settings),
    else its time zone's."""
    return tenant.country or region_for_timezone(tenant.timezone)


def _details_form() -> DetailsForm:
    form = DetailsForm(default_region=phone_region(g.tenant))
    if request.method == "GET" and current_user.is_authenticated:
        form.name.data = form.name.data or getattr(current_user, "name", "") or ""
        form.email.data = form.email.data or current_user.email
        # The phone of the customer's latest record here, as people of the business's country write it.
        phone = latest_phone_of(current_user)
        form.phone.data = form.phone.data or (national_format(phone, g.tenant.country) if phone else "")
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
    also = also_or_404(values.getlist("also"))
    staff = staff_choice_or_404(service, values.get("staff"), also)
    tz_name, tz_error = customer_zone(g.tenant, values.get("tz"))
    start = parse_start(values.get("start"))
    if start is None:
        return render_slots(service, staff, tz_name, tz_error=tz_error,
                             date_error=_("Pick a time from the list."), status=422, also=also)
    problem = unavailable_reason(g.tenant, service, staff, start, also)
    if problem is not None:
        mine = already_yours(service, start, request.form.get("email") if request.method == "POST" else None)
        if mine is not None:  # Back after booking: their booking, not an error
            return show_own_booking(mine)
        return render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=problem, tz_error=tz_error, status=422, also=also)
    form = _details_form()
    ctx = _details_context(service, staff, start, tz_name, also)
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
    also = also_or_404(request.form.getlist("also"))
    staff = staff_choice_or_404(service, request.form.get("staff"), also)
    tz_name, tz_error = customer_zone(tenant, request.form.get("tz"))
    start = parse_start(request.form.get("start"))
    if start is None:
        return render_slots(service, staff, tz_name, tz_error=tz_error,
                             date_error=_("Pick a time from the list."), status=422, also=also)
    form = DetailsForm(default_region=phone_region(tenant))
    ctx = _details_context(service, staff, start, tz_name, also)
    if request.form.get("action") == "edit":
        return render_page("storefront/details.html", block="details", form=form, **ctx)
    if not form.validate():
        return render_page("storefront/details.html", block="details", form=form, status=422, **ctx)
    mine = already_yours(service, start, form.email.data)
    if mine is not None:  # sent again after Back: one booking, shown with its manage link
        return show_own_booking(mine)
    blocked = booking_refusal(current_user.id if current_user.is_authenticated else None, form.email.data)
    if blocked is not None:  # the business blocked this person (app.community.blocks)
        return render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=SlotUnavailable(blocked), status=403)
    problem = unavailable_reason(tenant, service, staff, start, also)
    if problem is not None:
        return render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=problem, status=422, also=also)
    try:
        booking = place_booking(
            tenant, service, staff_id=staff.id if staff else None, start=start,
            customer=CustomerInput(name=form.name.data, email=form.email.data, phone=form.phone_e164,
                                   locale=reader_locale_id()),
            customer_timezone=tz_name, notes=form.notes.data or "",
            user_id=current_user.id if current_user.is_authenticated else None,
            confirm_email_over=guest_confirm_threshold(form.email.data), also=also,
        )
    except PaymentUnavailable as exc:  # answered 422: the request rolls back, no unpaid booking holds the slot
        return render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=SlotUnavailable(exc.message), status=422, also=also)
    except SlotUnavailable as exc:  # taken meanwhile (the constraint decided the race)
        return render_slots(service, staff, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                             slot_error=refusal(SlotRefusal.TAKEN, exc.alternatives), status=422, also=also)
    except UnknownReference:
        abort(404)
    remember_booking(booking)
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
                           error=_("This link has expired or is not valid. Unconfirmed bookings are released "
                                   "after a short while; you are welcome to book again."))
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
