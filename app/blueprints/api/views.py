"""JSON API v1 on the tenant host: services, staff, availability, bookings, and its OpenAPI document.

Views parse input with the pydantic models of :mod:`app.blueprints.api.schemas`, call one
domain function, commit once and answer JSON. Every error is ``application/problem+json``
(RFC 9457); a 422 lists the fields at fault in ``errors``. Another tenant's ids answer
exactly like missing ones. The apex host answers 404 to every route here.

Booking reads and cancels are authorised by ``Authorization: Bearer <token>``: a staff
API token of this business, or the booking's manage token (the last path segment of
``manage_url``; also accepted as the ``token`` query parameter).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Response

from app.blueprints.api import bp
from app.blueprints.api.openapi import build_spec
from app.blueprints.api.schemas import (
    AvailabilityQuery,
    BookingCreate,
    BookingItemOut,
    BookingOut,
    CancelRequest,
    Money,
    ServiceList,
    ServiceOut,
    StaffList,
    StaffOut,
    field_errors,
)
from app.blueprints.booking_limits import guest_confirm_threshold, is_staff_request, public_booking_limits
from app.booking.errors import CutoffPassed, InvalidTransition, ManageLinkExpired, SlotUnavailable, UnknownReference
from app.booking.items import item_times, items_of, services_or_raise
from app.booking.models import Booking
from app.booking.refusals import refusal_message
from app.booking.service import (
    Actor,
    CustomerInput,
    cancel_by_customer,
    create_booking,
    manage_token,
    open_manage_link,
    transition,
)
from app.booking.validation import region_for_timezone
from app.catalog.models import Service
from app.catalog.service import list_services, list_staff, service_staff_map
from app.catalog.translations import localized, reader_locale_id
from app.community.blocks import BLOCKED_BOOKING, booking_refusal
from app.extensions import db
from app.i18n import language_of, supported_locale
from app.identity.models import ApiToken
from app.identity.service import find_api_token
from app.scheduling.service import AvailabilityError, availability_json
from app.tenants.urls import base_url, external_url
from app.timeutil import utcnow, zone
from app.web import parse_uuid, problem, tenant_required

#: Largest request body accepted (bytes); bigger bodies answer 413.
MAX_BODY_BYTES = 64 * 1024


class ProblemResponse(Exception):
    """Raised inside a view to answer with ``response`` (a problem+json) at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(ProblemResponse)
def _problem_response(exc: ProblemResponse) -> Response:
    return exc.response  # the request's unit of work has rolled back (app.uow)


def _json(model: BaseModel, status: int = 200) -> Response:
    return current_app.response_class(model.model_dump_json(), status=status, mimetype="application/json")


def _invalid(errors: list[dict[str, str]], detail: str | None = None) -> ProblemResponse:
    if detail is None:
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        detail = _("The request has invalid fields: %(fields)s.", fields=fields)
    return ProblemResponse(problem(422, "Unprocessable Content", detail, errors=errors))


def _validate(model: type[BaseModel], data: Any, **context: Any) -> Any:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise _invalid(field_errors(exc)) from None


def _json_body(*, required: bool) -> Any:
    """The request's JSON body (any JSON value; ``{}`` when optional and empty).

    Raises:
        ProblemResponse: 413 too large, 415 not ``application/json``, 400 empty when
            required, not UTF-8 or not valid JSON.
    """
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ProblemResponse(problem(413, "Content Too Large",
                                      _("The request body is larger than %(num)d bytes.", num=MAX_BODY_BYTES)))
    request.max_content_length = MAX_BODY_BYTES  # bodies without Content-Length
    raw = request.get_data(cache=True)
    if not raw.strip() and not required:
        return {}
    if not request.is_json:
        got = request.mimetype or "none"
        raise ProblemResponse(problem(415, "Unsupported Media Type",
                                      _("Send the body as JSON with 'Content-Type: application/json' (got %(got)s).", got=got)))
    if not raw.strip():
        raise ProblemResponse(problem(400, "Bad Request", _("The request body is empty; send a JSON object.")))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemResponse(problem(400, "Bad Request", _("The request body is not valid UTF-8."))) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemResponse(problem(
            400, "Bad Request",
            _("The request body is not valid JSON: %(error)s at line %(line)d, column %(column)d.", error=exc.msg, line=exc.lineno, column=exc.colno))) from None


def _object_body(*, required: bool) -> dict[str, Any]:
    data = _json_body(required=required)
    if not isinstance(data, dict):
        raise ProblemResponse(problem(400, "Bad Request",
                                      _("The request body must be a JSON object, not %(kind)s.", kind=_json_kind(data))))
    return data


def _json_kind(value: Any) -> str:
    return {list: _("an array"), str: _("a string"), bool: _("a boolean"), int: _("a number"), float: _("a number"),
            type(None): "null"}.get(type(value), _("another value"))


# ------------------------------------------------------------------------- catalogue


@bp.get("/services")
@tenant_required
def services() -> Response:
    """``{"services": [...]}``: active services with price and the active staff performing each;
    names in the language of ``?lang=`` (``da``, ``en``), else of ``Accept-Language``, where the
    business wrote one (else its default-language name)."""
    staff_map = service_staff_map()
    asked = supported_locale(request.args.get("lang"))
    language = language_of(asked) if asked else None
    return _json(ServiceList(services=[
        ServiceOut(id=s.id, name=localized(s, "name", language), duration_minutes=s.duration_minutes,
                   price=Money(amount=s.price_amount, currency=s.currency), staff_ids=staff_map.get(s.id, []))
        for s in list_services()
    ]))


@bp.get("/staff")
@tenant_required
def staff() -> Response:
    """``{"staff": [...]}``: active staff with the active services each performs."""
    active = [s.id for s in list_services()]
    staff_map = service_staff_map()
    performs: dict[uuid.UUID, list[uuid.UUID]] = {}
    for service_id in active:
        for staff_id in staff_map.get(service_id, []):
            performs.setdefault(staff_id, []).append(service_id)
    return _json(StaffList(staff=[
        StaffOut(id=m.id, name=m.name, service_ids=performs.get(m.id, [])) for m in list_staff()
    ]))


def _active_service(service_id: uuid.UUID) -> Service | None:
    return db.session.scalar(sa.select(Service).where(Service.id == service_id, Service.active.is_(True)))


@bp.get("/availability")
@tenant_required
def availability() -> Response:
    """``{"timezone", "slots": [{"start", "end", "staff_id"}]}`` for one service over a date range.

    Without ``staff_id`` the performers are merged ("any staff"): one slot per start time.
    Dates are the business's calendar days; ``tz`` only changes how times are written.
    """
    tenant = g.tenant
    query = _validate(AvailabilityQuery, request.args.to_dict())
    try:
        wanted = query.services()
    except ValueError as exc:
        raise _invalid([{"field": "service_ids", "message": str(exc)}]) from None
    first: Service | uuid.UUID = wanted[0]
    also: list[Service] = []
    if len(wanted) > 1:
        try:
            first, *also = services_or_raise(wanted)
        except UnknownReference as exc:
            raise _invalid([{"field": "service_ids", "message": exc.message}]) from None
    try:
        body = availability_json(tenant, first, staff_id=query.staff_id, start_date=query.start,
                                 end_date=query.end, tz_name=query.tz or tenant.timezone, also=also)
    except AvailabilityError as exc:
        raise _invalid([{"field": exc.field, "message": exc.message}]) from None
    return current_app.response_class(body, mimetype="application/json")


# --------------------------------------------------------------------------- bookings


def _booking_out(booking: Booking, token: str | None = None) -> BookingOut:
    tz = zone(booking.customer_timezone)
    items = [BookingItemOut(service_id=i.service_id, name=i.name, start=s.astimezone(tz), end=e.astimezone(tz),
                            duration_minutes=i.duration_minutes, price=Money(amount=i.price_amount, currency=i.currency))
             for i, s, e in item_times(booking, items_of(booking.id))]
    return BookingOut(
        id=booking.id, status=booking.status, start=booking.starts_at.astimezone(tz),
        end=booking.ends_at.astimezone(tz), service_id=booking.service_id, staff_id=booking.staff_id,
        price=Money(amount=booking.price_amount, currency=booking.currency), items=items,
        manage_url=external_url("storefront.manage", tenant=g.tenant, token=token or manage_token(booking)),
    )


def _instants(values: list[datetime], tz_name: str) -> list[str]:
    tz = zone(tz_name)
    return [v.astimezone(tz).isoformat(timespec="seconds") for v in values]


@bp.post("/bookings")
@public_booking_limits
@tenant_required
def create() -> Response:
    """Book a slot; 201 with the booking and ``Location`` of ``GET /bookings/{id}``.

    A guest email that already has several open bookings here gets ``status: awaiting_email``:
    the booking holds nothing until the guest clicks the emailed link. Limited per IP, per
    customer email and per business (:mod:`app.blueprints.booking_limits`) unless a staff API
    token is sent; over a limit, 429 problem+json with ``retry_after``.

    409 when the time cannot be booked (with ``alternatives``), 422 on invalid fields or
    an unknown service or staff member, 400/413/415 on a malformed body. Nothing is
    written unless the answer is 201.
    """
    tenant = g.tenant
    body = _object_body(required=True)
    data: BookingCreate = _validate(BookingCreate, body, region=region_for_timezone(tenant.timezone))
    tz_name = data.timezone or tenant.timezone
    services = data.services()
    if not is_staff_request() and booking_refusal(None, data.customer.email) is not None:
        return problem(403, "Forbidden", BLOCKED_BOOKING)  # the business blocked this person (app.community.blocks)
    try:
        booking = create_booking(
            tenant, service_id=services[0], also_service_ids=services[1:], staff_id=data.staff_id, start=data.start,
            customer=CustomerInput(name=data.customer.name, email=data.customer.email, phone=data.customer.phone,
                                   locale=reader_locale_id()),
            customer_timezone=tz_name, notes=data.notes or "", actor=Actor("customer"),
            confirm_email_over=guest_confirm_threshold(data.customer.email),
        )
    except SlotUnavailable as exc:
        detail = refusal_message(tenant, services[0], data.staff_id, data.start, exc.message)
        return problem(409, "Conflict", detail, alternatives=_instants(exc.alternatives, tz_name))
    except UnknownReference as exc:
        field = exc.field or "service_id"
        raise _invalid([{"field": field, "message": exc.message}], detail=exc.message) from None
    out = _booking_out(booking)
    resp = _json(out, 201)
    resp.headers["Location"] = external_url("api.booking", tenant=tenant, booking_id=str(out.id))
    return resp


@dataclass(frozen=True)
class Credential:
    """Who is asking: a staff API token (``token``) or a booking's manage token (``booking``,
    with the token itself in ``manage_token``, echoed back in ``manage_url``)."""

    token: ApiToken | None = None
    booking: Booking | None = None
    manage_token: str | None = None


def _unauthorized(detail: str, error: str | None = None) -> ProblemResponse:
    resp = problem(401, "Unauthorized", detail)
    challenge = 'Bearer realm="Plaza API"'
    if error:
        challenge += f', error="{error}"'
    resp.headers["WWW-Authenticate"] = challenge
    return ProblemResponse(resp)


def _authenticate() -> Credential:
    """The caller's credential from ``Authorization: Bearer`` (or a manage token in ``?token=``).

    Raises:
        ProblemResponse: 401 with ``WWW-Authenticate: Bearer`` when missing or not valid here.
    """
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _sep, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise _unauthorized(_("Send the token as 'Authorization: Bearer <token>'."), "invalid_request")
        row = find_api_token(secret)
        if row is not None:
            row.last_used_at = utcnow()
            return Credential(token=row)
    else:
        secret = request.args.get("token", "").strip()
        if not secret:
            raise _unauthorized(_("This needs a staff API token or the booking's manage token, "
                                "sent as 'Authorization: Bearer <token>'."))
    try:
        booking = open_manage_link(secret)
    except ManageLinkExpired as exc:
        raise _unauthorized(exc.message, "invalid_token") from None
    if booking is None:
        raise _unauthorized(_("The token is not valid for this business."), "invalid_token")
    return Credential(booking=booking, manage_token=secret)


def _authorised_booking(booking_id: str) -> tuple[Credential, Booking]:
    """The booking named in the path if the caller may see it; 401 without a valid token.

    A malformed id, another tenant's id, a missing id, and a manage token for another
    booking all answer the same 404.
    """
    cred = _authenticate()
    key = parse_uuid(booking_id)
    booking: Booking | None = None
    if key is not None:
        if cred.booking is not None:
            booking = cred.booking if cred.booking.id == key else None
        else:
            booking = db.session.scalar(sa.select(Booking).where(Booking.id == key))
    if booking is None:
        raise ProblemResponse(problem(404, "Not Found", _("There is no booking with this id.")))
    return cred, booking


@bp.get("/bookings/<booking_id>")
@tenant_required
def booking(booking_id: str) -> Response:
    """The booking, for a staff API token or its own manage token; 401/404 otherwise."""
    cred, found = _authorised_booking(booking_id)
    out = _booking_out(found, cred.manage_token)
    return _json(out)


@bp.post("/bookings/<booking_id>/cancel")
@tenant_required
def cancel(booking_id: str) -> Response:
    """Cancel with an optional ``reason``: as staff (API token) or as the customer (manage token).

    The customer is held to the business's cut-off; 409 when past it or when the booking
    is no longer active.
    """
    cred, found = _authorised_booking(booking_id)
    data: CancelRequest = _validate(CancelRequest, _object_body(required=False))
    reason = data.reason or ""
    try:
        if cred.token is not None:
            transition(found, "cancel", Actor("staff", cred.token.created_by), reason)
        else:
            cancel_by_customer(g.tenant, found, reason)
    except (CutoffPassed, InvalidTransition) as exc:
        return problem(409, "Conflict", exc.message)
    out = _booking_out(found)
    return _json(out)


# --------------------------------------------------------------------------- document


@bp.get("/openapi.json")
@tenant_required
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API, with this business's host as the server."""
    server = base_url(g.tenant) + bp.url_prefix
    return current_app.response_class(json.dumps(build_spec(server)), mimetype="application/json")

