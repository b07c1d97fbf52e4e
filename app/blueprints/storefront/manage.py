"""The customer's manage link: the confirmation page after booking, the manage page, and
cancelling or moving the booking, each with a confirmation step.

``/manage/<token>`` shows the booking, its state in words and exactly what may still be
changed online (from the domain's cut-off and money rules). Cancelling and moving each take
two steps that work without JavaScript: ``GET /manage/<token>/cancel`` asks "Cancel this
booking?" and its form POSTs the cancellation; the new-time picker links each time to
``GET /manage/<token>/reschedule/confirm`` ("Move this booking?"), whose form POSTs the move
to ``/manage/<token>/reschedule``. With HTMX the question replaces the manage block in place
and takes the focus. Refusals are shown inline: 409 for what the booking's status or the
cut-off forbids, 422 for a time that cannot be booked (with the next free times).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.storefront import bp
from app.blueprints.storefront.dates import moment, slot_when
from app.blueprints.storefront.forms import CancelForm
from app.blueprints.storefront.picker import (
    SlotView,
    build_picker,
    customer_zone,
    parse_day,
    parse_start,
    refusal,
    rfc3339,
    unavailable_reason,
)
from app.blueprints.storefront.wording import change_notice, local_deadline, status_wording
from app.booking.changes import customer_change_deadline
from app.booking.errors import CutoffPassed, InvalidTransition, ManageLinkExpired, RescheduleLocked, SlotUnavailable
from app.booking.items import item_services, item_times, items_of, services_label
from app.booking.models import ACTIVE_STATUSES, Booking, Customer
from app.booking.refusals import SlotRefusal
from app.booking.service import (
    cancel_by_customer,
    customer_can_change,
    email_confirm_ttl,
    manage_link_days_after,
    manage_token,
    open_manage_link,
)
from app.catalog.models import Service, StaffMember
from app.catalog.translations import localized
from app.checkout.booking import check_customer_money_reschedule, late_reschedule_refusal, reschedule_by_customer
from app.extensions import db
from app.tenants.urls import external_url
from app.timeutil import zone
from app.web import problem, render_page, tenant_required


def booking_or_404(token: str) -> Booking:
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
        return problem(410, _("Link expired"), exc.message)
    return render_page("storefront/link_expired.html", status=410, tenant=g.get("tenant"),
                       days=manage_link_days_after())


def booking_context(booking: Booking, tz_name: str | None = None) -> dict[str, Any]:
    """Template context of the confirmation and manage pages for ``booking`` (``items``: its
    services with their UTC start and end; ``service_name``: ``Cut + Colour``), times shown in
    ``tz_name`` (default: the zone the customer booked in). ``can_change``: cancel allowed
    now; ``reschedule_locked``: why moving is refused even so (money policy) or ``None``;
    ``change_notice``: the one sentence saying what is still allowed online."""
    tenant = g.tenant
    service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    staff = db.session.scalar(sa.select(StaffMember).where(StaffMember.id == booking.staff_id))
    token = request.view_args["token"] if request.view_args and "token" in request.view_args else manage_token(booking)
    customer_tz = tz_name or booking.customer_timezone
    can_change = customer_can_change(tenant, booking)
    # Past the free-cancellation deadline of a booking holding money: cancel only (domain rule).
    locked = late_reschedule_refusal(tenant, booking) if can_change else None
    deadline = customer_change_deadline(tenant, booking)
    items = item_times(booking, items_of(booking.id))
    return {
        "items": items, "also": item_services(booking)[1:] if len(items) > 1 else [],
        "service_name": services_label([i.name for i, _, _ in items]) if len(items) > 1 else (
            localized(service, "name") if service else ""),
        "tenant": tenant, "booking": booking, "service": service, "staff": staff, "token": token,
        "customer_tz": customer_tz, "business_tz": tenant.timezone,
        "state": status_wording(booking.status, tenant.name, booking.cancelled_by),
        "can_change": can_change, "reschedule_locked": locked,
        "change_deadline": local_deadline(deadline, customer_tz),
        "change_notice": change_notice(active=booking.status in {s.value for s in ACTIVE_STATUSES},
                                       can_cancel=can_change, move_refusal=locked, deadline=deadline,
                                       tz_name=customer_tz, business=tenant.name),
        "manage_url": external_url("storefront.manage", tenant=tenant, token=token),
        "duration": int((booking.ends_at - booking.starts_at).total_seconds() // 60),
        "customer_email": db.session.scalar(sa.select(Customer.email).where(Customer.id == booking.customer_id)),
        "confirm_minutes": int(email_confirm_ttl().total_seconds() // 60),
        "confirming": None,
    }


def manage_page(booking: Booking, *, status: int = 200, form: CancelForm | None = None, tz_name: str | None = None,
                **extra: Any) -> Response:
    """The manage page of ``booking`` (its ``manage`` block for HTMX), times in ``tz_name``
    (default: the booking's), with ``extra`` context (``action_error``, ``confirming`` and the
    question's details)."""
    ctx = {**booking_context(booking, tz_name), **extra}
    return render_page("storefront/manage.html", block="manage", status=status, form=form or CancelForm(), **ctx)


@bp.get("/booked/<token>")
@tenant_required
def booked(token: str) -> Response:
    """The confirmation page after booking: status, time in the customer's zone, the manage link."""
    booking = booking_or_404(token)
    return render_page("storefront/confirmation.html", **booking_context(booking))


@bp.get("/manage/<token>")
@tenant_required
def manage(token: str) -> Response:
    """The signed manage page: the booking, and cancel/reschedule while before the cut-off."""
    return manage_page(booking_or_404(token))


def _cancel_refusal(booking: Booking) -> str | None:
    """Why the customer cannot cancel ``booking`` now, in words, or ``None``."""
    if booking.status not in {s.value for s in ACTIVE_STATUSES}:
        return _("This booking is no longer active, so there is nothing to cancel.")
    if not customer_can_change(g.tenant, booking):
        return booking_context(booking)["change_notice"]
    return None


@bp.get("/manage/<token>/cancel")
@tenant_required
def manage_cancel_confirm(token: str) -> Response:
    """Step 1 of cancelling: "Cancel this booking?" with an optional reason and the buttons
    "Yes, cancel booking" (POST) and "Keep my booking". Changes nothing; a booking that can no
    longer be cancelled online shows the manage page with the reason (409)."""
    booking = booking_or_404(token)
    reason = _cancel_refusal(booking)
    if reason:
        return manage_page(booking, status=409, action_error=reason)
    return manage_page(booking, confirming="cancel")


@bp.post("/manage/<token>/cancel")
@tenant_required
def manage_cancel(token: str) -> Response:
    """Step 2 of cancelling (the confirmation's form): cancel with an optional reason;
    refusals are shown inline (409), an invalid reason re-shows the question (422)."""
    booking = booking_or_404(token)
    form = CancelForm()
    if not form.validate():
        return manage_page(booking, status=422, form=form, confirming="cancel")
    try:
        cancel_by_customer(g.tenant, booking, form.reason.data or "",
                           user_id=current_user.id if current_user.is_authenticated else None)
    except (CutoffPassed, InvalidTransition) as exc:
        return manage_page(booking, status=409, form=form, action_error=exc.message)
    flash(_("Your booking is cancelled. We've let the business know."), "success")
    return redirect(url_for("storefront.manage", token=token), 303)


def _render_reschedule(booking: Booking, tz_name: str, *, chosen: date | None = None, tz_error: str | None = None,
                       date_error: str | None = None, slot_error: SlotUnavailable | None = None,
                       status: int = 200) -> Response:
    tenant = g.tenant
    ctx = booking_context(booking, tz_name)
    service, staff, token = ctx["service"], ctx["staff"], ctx["token"]

    def page_url(day: date | None = None, staff: str | None = None, tz: str | None = None) -> str:
        args = {"tz": tz or tz_name}
        if day is not None:
            args["date"] = day.isoformat()
        return url_for("storefront.manage_reschedule", token=token, **args)

    def slot_url(start: datetime) -> str:
        return url_for("storefront.manage_reschedule_confirm", token=token, start=rfc3339(start), tz=tz_name)

    picker = build_picker(tenant, service, staff, tz_name, chosen, page_url=page_url, slot_url=slot_url,
                          staff_choices=False, also=ctx["also"])
    if date_error:
        picker["date_error"] = date_error
    alternatives = []
    if slot_error is not None:
        alternatives = [SlotView(start=a, label=slot_when(a, tz_name), value=rfc3339(a),
                                 url=slot_url(a)) for a in slot_error.alternatives]
    if status == 200 and (tz_error or picker["date_error"]):
        status = 422
    ctx["customer_tz"] = tz_name
    return render_page("storefront/reschedule.html", block="picker", status=status, tz_error=tz_error,
                       slot_error=slot_error, alternatives=alternatives, needs_tz=False, staff_value="",
                       picker_action=url_for("storefront.manage_reschedule", token=token), **{**ctx, **picker})


def _move_refused_page(booking: Booking) -> Response | None:
    """The manage page (409) saying why the customer cannot move ``booking`` online now
    (status, cut-off, money policy), or ``None`` when they can."""
    try:
        check_customer_money_reschedule(g.tenant, booking)
    except RescheduleLocked as exc:
        reason = exc.message
    except CutoffPassed:
        reason = booking_context(booking)["change_notice"] or _("This booking can no longer be moved online.")
    except InvalidTransition:
        reason = _("This booking is no longer active, so it cannot be moved.")
    else:
        return None
    return manage_page(booking, status=409, action_error=reason)


@bp.route("/manage/<token>/reschedule", methods=["GET", "POST"])
@tenant_required
def manage_reschedule(token: str) -> Response:
    """GET: the slot picker for the same staff member, each time linking to the confirmation
    step. POST ``start`` (the confirmation's form): move the booking.

    Past the cut-off, past the free-cancellation deadline of a booking holding money
    (:func:`app.checkout.booking.check_customer_money_reschedule`) or for an inactive booking the
    manage page is shown with the reason (409) and nothing changes;
    a time that cannot be booked re-renders the picker (422) with the reason and the next free times.
    """
    booking = booking_or_404(token)
    values = request.form if request.method == "POST" else request.args
    tz_name, tz_error = customer_zone(g.tenant, values.get("tz") or booking.customer_timezone)
    refused = _move_refused_page(booking)
    if refused is not None:
        return refused
    if request.method == "GET":
        chosen, date_error = parse_day(request.args.get("date"))
        return _render_reschedule(booking, tz_name, chosen=chosen, tz_error=tz_error, date_error=date_error)
    start = parse_start(request.form.get("start"))
    if start is None:
        return _render_reschedule(booking, tz_name, date_error=_("Pick a time from the list."), status=422)
    try:
        reschedule_by_customer(g.tenant, booking, start, current_user.id if current_user.is_authenticated else None)
    except SlotUnavailable as exc:
        ctx = booking_context(booking, tz_name)
        shown = unavailable_reason(g.tenant, ctx["service"], ctx["staff"], start, ctx["also"]) or \
            refusal(SlotRefusal.TAKEN, exc.alternatives)
        return _render_reschedule(booking, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                                  slot_error=shown, status=422)
    except (CutoffPassed, InvalidTransition) as exc:
        return manage_page(booking, status=409, action_error=exc.message)
    flash(_("Your booking was moved to %(when)s.", when=moment(start, tz_name)), "success")
    return redirect(url_for("storefront.manage", token=token), 303)


@bp.get("/manage/<token>/reschedule/confirm")
@tenant_required
def manage_reschedule_confirm(token: str) -> Response:
    """Step 2 of moving: "Move this booking?" from the kept time to ``start`` (query, RFC 3339,
    with ``tz``), with "Yes, move it" (POST to :func:`manage_reschedule`) and "Pick another
    time". Changes nothing. A time that cannot be booked re-renders the picker (422) with the
    reason; a booking that can no longer be moved online shows the manage page (409)."""
    booking = booking_or_404(token)
    tz_name, tz_error = customer_zone(g.tenant, request.args.get("tz") or booking.customer_timezone)
    refused = _move_refused_page(booking)
    if refused is not None:
        return refused
    start = parse_start(request.args.get("start"))
    if start is None:
        return _render_reschedule(booking, tz_name, date_error=_("Pick a time from the list."), status=422)
    if start == booking.starts_at:
        return _render_reschedule(booking, tz_name, chosen=start.astimezone(zone(tz_name)).date(), status=422,
                                  date_error=_("That is the time you already have. Pick another time."))
    ctx = booking_context(booking, tz_name)
    problem_ = unavailable_reason(g.tenant, ctx["service"], ctx["staff"], start, ctx["also"])
    if problem_ is not None:
        return _render_reschedule(booking, tz_name, chosen=start.astimezone(zone(tz_name)).date(),
                                  slot_error=problem_, status=422)
    return manage_page(booking, tz_name=tz_name, confirming="move", tz_error=tz_error, new_start=start,
                       new_end=start + timedelta(minutes=ctx["duration"]), new_start_value=rfc3339(start))
