"""Pydantic models of the JSON API v1: what requests must look like and what responses look like.

Request models forbid unknown fields and carry the length limits of the columns they end
up in. Instants travel as RFC 3339 strings with a UTC offset; dates as ``YYYY-MM-DD``;
money as integer minor units plus an ISO 4217 code. The same models generate the
component schemas of ``/api/v1/openapi.json`` (:mod:`app.blueprints.api.openapi`).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.booking.items import MAX_ITEMS
from app.booking.service import MAX_NOTES
from app.booking.validation import normalize_phone
from app.inputguard import PERSON_NAME_PATTERN, SINGLE_LINE_PATTERN, person_name_problem, single_line_problem
from app.timeutil import EARLIEST_DAY, LATEST_DAY, all_zones, day_in_range, zone

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RFC3339_EXAMPLE = "2026-12-01T09:00:00+01:00"
#: A real calendar date ``YYYY-MM-DD`` in years 2000–2100 (leap days included), as a regex:
#: exactly what :func:`parse_day` accepts, so the documented ``pattern`` is the rule itself.
_DATE = (r"(?:(?:20[0-9]{2}|2100)-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
         r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
         r"|20(?:0[048]|[2468][048]|[13579][26])-02-29)")
#: JSON Schema ``pattern`` of a ``Day``.
DAY_PATTERN = rf"^{_DATE}$"
#: JSON Schema ``pattern`` of an ``InstantIn``: RFC 3339 with an offset (no leap second), local
#: date in years 2000–2100; what :func:`parse_rfc3339` accepts.
INSTANT_PATTERN = (rf"^{_DATE}[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{1,9}})?"
                   r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
#: JSON Schema ``pattern`` of multi-line text (notes, reasons): no control characters but TAB, LF, CR.
MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_RANGE = f"between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"


def parse_rfc3339(value: Any) -> datetime:
    """A tz-aware ``datetime`` from an RFC 3339 string with offset (``Z`` or ``±hh:mm``).

    Raises:
        PydanticCustomError: not a string, no offset, not a real date and time, or a local
            date outside years 2000–2100.
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise PydanticCustomError(
            "rfc3339", _("Give a date and time in RFC 3339 with a UTC offset, like %(example)s.", example=RFC3339_EXAMPLE))
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    # fromisoformat takes at most 6 fractional digits.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("t", "T"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PydanticCustomError("rfc3339", _("This date and time does not exist: {reason}."),
                                  {"reason": str(exc)}) from exc
    if not day_in_range(parsed):
        raise PydanticCustomError("date_range", _("Give a date and time between %(first)s and %(last)s.",
                                                  first=EARLIEST_DAY.isoformat(), last=LATEST_DAY.isoformat()))
    return parsed


def parse_day(value: Any) -> date:
    """A ``date`` from a ``YYYY-MM-DD`` string.

    Raises:
        PydanticCustomError: another format, not a real date, or outside years 2000–2100.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DAY.match(value):
        raise PydanticCustomError("day", _("Give a date as YYYY-MM-DD, like 2026-12-01."))
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError("day", _("This date does not exist: {reason}."), {"reason": str(exc)}) from exc
    if not day_in_range(parsed):
        raise PydanticCustomError("date_range", _("Give a date between %(first)s and %(last)s.",
                                                  first=EARLIEST_DAY.isoformat(), last=LATEST_DAY.isoformat()))
    return parsed


def check_zone(value: str | None) -> str | None:
    """``value`` when it is a known IANA time zone name (or ``None``).

    Raises:
        PydanticCustomError: not a string, or an unknown zone.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", _("Must be a string."))
    try:
        zone(value)
    except ValueError as exc:
        raise PydanticCustomError("timezone", _("Unknown time zone '{name}'; use an IANA name like Europe/Copenhagen."),
                                  {"name": value}) from exc
    return value


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


#: An instant given by the client: RFC 3339 with an offset.
InstantIn = Annotated[datetime, BeforeValidator(parse_rfc3339),
                      WithJsonSchema({"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN,
                                      "examples": [RFC3339_EXAMPLE],
                                      "description": f"RFC 3339 date and time with a UTC offset, local date {_RANGE}."})]
#: An instant sent to the client, rendered in the zone the response names.
InstantOut = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json"),
                       WithJsonSchema({"type": "string", "format": "date-time", "examples": [RFC3339_EXAMPLE]})]
#: A calendar date ``YYYY-MM-DD``.
Day = Annotated[date, BeforeValidator(parse_day),
                WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN, "examples": ["2026-12-01"],
                                "description": f"A calendar date YYYY-MM-DD {_RANGE}."})]
#: An IANA time zone name.
ZoneName = Annotated[str, Field(max_length=64), BeforeValidator(check_zone),
                     WithJsonSchema({"type": "string", "enum": all_zones(), "examples": ["Europe/Copenhagen"],
                                     "description": "IANA time zone name."})]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------- requests


class AvailabilityQuery(_Input):
    """Query string of ``GET /availability``.

    ``start`` and ``end`` are inclusive calendar dates in the business's time zone (at most
    62 days); ``tz`` only changes how the slot times are written (default: the business's zone).
    """

    service_id: uuid.UUID = Field(description="The service to book (the first one, with `service_ids`).")
    service_ids: str | None = Field(
        None, max_length=37 * MAX_ITEMS, pattern=r"^[0-9a-fA-F-]{36}(,[0-9a-fA-F-]{36})*$",
        description="Several services booked back to back with one staff member, comma-separated in order: "
                    "the slots are starts where they all fit (`end` is the last one's end), offered by staff "
                    "who perform them all. The first must be `service_id`.")
    staff_id: uuid.UUID | None = Field(None, description="Only this staff member's slots; default any staff (one slot per start time).")
    start: Day = Field(description="First date (inclusive), in the business's time zone.")
    end: Day = Field(description="Last date (inclusive), in the business's time zone; at most 62 days after start.")
    tz: ZoneName | None = Field(None, description="IANA zone the slot times are written in; default the business's.")

    @field_validator("staff_id", "tz", "service_ids", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    def services(self) -> list[uuid.UUID]:
        """The services asked for, in order.

        Raises:
            ValueError: more than :data:`~app.booking.items.MAX_ITEMS`, or ``service_id`` is not
                the first of ``service_ids``.
        """
        if self.service_ids:
            ids = [uuid.UUID(part) for part in self.service_ids.split(",")]
            if len(ids) > MAX_ITEMS:
                raise ValueError(_("Ask for at most %(num)d services.", num=MAX_ITEMS))
            if self.service_id != ids[0]:
                raise ValueError(_("The first service must be service_id."))
            return ids
        return [self.service_id]


class CustomerIn(_Input):
    """The person booking: name (1–120 characters), email (at most 254), optional phone.

    The phone is read with ``phonenumbers``; without a ``+country`` prefix it is read as a
    national number of the business's country. It is returned in E.164 form.
    """

    name: str = Field(min_length=1, max_length=120, pattern=PERSON_NAME_PATTERN, examples=["Alice Andersen"],
                      description="One line; no control characters, no < > and no @.")
    email: str = Field(min_length=1, max_length=254, json_schema_extra={"format": "email"},
                       examples=["alice@example.com"])
    phone: str | None = Field(None, max_length=32, pattern=SINGLE_LINE_PATTERN, examples=["+4520123456"],
                              description="Any common notation; stored in E.164.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise PydanticCustomError("email", "{reason}", {"reason": str(exc)}) from exc

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        region = (info.context or {}).get("region")
        try:
            return normalize_phone(value, region)
        except ValueError as exc:
            raise PydanticCustomError("phone", "{reason}", {"reason": str(exc)}) from exc


class BookingCreate(_Input):
    """Body of ``POST /bookings``: a slot start (from ``/availability``) and who is booking.

    One service (``service_id``) or several booked back to back with one staff member
    (``service_ids``, in order; ``service_id``, when also sent, must be the first of them).
    """

    service_id: uuid.UUID = Field(description="The service to book (the first one, with `service_ids`).")
    service_ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=MAX_ITEMS,
        description="Several services booked back to back with one staff member who performs them all, in "
                    "order (e.g. cut then colour), the first being `service_id`. The booking spans them all "
                    "and costs their total; its `items` list them.")
    staff_id: uuid.UUID | None = Field(None, description="A staff member, or absent/null for anyone free.")
    start: InstantIn
    customer: CustomerIn
    notes: str | None = Field(None, max_length=MAX_NOTES, pattern=MULTI_LINE_PATTERN,
                              description="Notes for the business (several lines allowed).")
    timezone: ZoneName | None = Field(
        None, description="The customer's IANA zone: times in responses and emails; default the business's.")


    @field_validator("service_ids", mode="after")
    @classmethod
    def _starts_with_service_id(cls, value: list[uuid.UUID] | None, info: ValidationInfo) -> list[uuid.UUID] | None:
        first = info.data.get("service_id")
        if value and first is not None and value[0] != first:
            raise PydanticCustomError("service_ids", _("The first service must be service_id."))
        return value

    def services(self) -> list[uuid.UUID]:
        """The services to book, in order."""
        return list(self.service_ids) if self.service_ids else [self.service_id]


class CancelRequest(_Input):
    """Body of ``POST /bookings/{id}/cancel`` (optional)."""

    reason: str | None = Field(None, max_length=500, pattern=MULTI_LINE_PATTERN,
                               description="Why the booking is cancelled.")


# --------------------------------------------------------------------------- responses


class Money(BaseModel):
    """An amount in minor units (øre, cents) of an ISO 4217 currency."""

    amount: int = Field(examples=[50000])
    currency: str = Field(min_length=3, max_length=3, examples=["DKK"])


class ServiceOut(BaseModel):
    """A bookable service and the staff who perform it."""

    id: uuid.UUID
    name: str
    duration_minutes: int
    price: Money
    staff_ids: list[uuid.UUID]


class ServiceList(BaseModel):
    """Active services of the business."""

    services: list[ServiceOut]


class StaffOut(BaseModel):
    """An active staff member and the active services they perform."""

    id: uuid.UUID
    name: str
    service_ids: list[uuid.UUID]


class StaffList(BaseModel):
    """Active staff of the business."""

    staff: list[StaffOut]


class SlotOut(BaseModel):
    """A bookable start for one staff member; ``end`` is when the appointment ends."""

    start: InstantOut
    end: InstantOut
    staff_id: uuid.UUID


class Availability(BaseModel):
    """Bookable slots, ordered by start then staff, written in ``timezone``."""

    timezone: str
    slots: list[SlotOut]


class BookingItemOut(BaseModel):
    """One service of a booking, in order: back to back from the booking's start."""

    service_id: uuid.UUID
    name: str = Field(description="The service's name when booked.")
    start: InstantOut
    end: InstantOut
    duration_minutes: int
    price: Money


class BookingOut(BaseModel):
    """A booking; ``start``/``end`` are written in the customer's zone.

    ``manage_url`` is the customer's page to cancel or reschedule; its last path segment
    is the booking's manage token.
    """

    id: uuid.UUID
    status: str = Field(json_schema_extra={"enum": ["awaiting_payment", "awaiting_email", "pending", "confirmed",
                                                    "completed", "no_show", "cancelled"]})
    start: InstantOut
    end: InstantOut
    service_id: uuid.UUID = Field(description="The (first) service booked.")
    staff_id: uuid.UUID
    price: Money = Field(description="The total price of the booking's services.")
    items: list[BookingItemOut] = Field(description="The booking's services in order (one for a single service).")
    manage_url: str = Field(json_schema_extra={"format": "uri"})


class FieldError(BaseModel):
    """One input at fault: dotted ``field`` path (``customer.email``) and a message."""

    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


class ValidationProblem(Problem):
    """A 422: the request was understood but fields are invalid; ``errors`` lists each one."""

    errors: list[FieldError]


class ConflictProblem(Problem):
    """A 409: the time cannot be booked (or the change is not allowed); ``alternatives`` are
    the next free starts in the customer's zone, when there are any."""

    alternatives: list[InstantOut] = Field(default_factory=list)


# ------------------------------------------------------------------- validation errors

_MESSAGES = {
    "missing": _l("This field is required."),
    "extra_forbidden": _l("This field is not allowed."),
    "string_type": _l("Must be a string."),
    "uuid_parsing": _l("Must be a UUID, like 3fa85f64-5717-4562-b3fc-2c963f66afa6."),
    "uuid_type": _l("Must be a UUID, like 3fa85f64-5717-4562-b3fc-2c963f66afa6."),
    "model_type": _l("Must be a JSON object."),
    "model_attributes_type": _l("Must be a JSON object."),
    "dict_type": _l("Must be a JSON object."),
    "int_parsing": _l("Must be a whole number."),
    "int_type": _l("Must be a whole number."),
    "bool_parsing": _l("Must be true or false."),
    "bool_type": _l("Must be true or false."),
}


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """``[{"field": "customer.email", "message": "..."}]`` for each error in ``exc``."""
    out: list[dict[str, str]] = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind == "string_too_long":
            message = _("Use at most %(num)s characters.", num=ctx.get("max_length"))
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            limit = next(ctx[k] for k in ("ge", "le", "gt", "lt") if k in ctx)
            message = {"greater_than_equal": _("Must be at least %(limit)s.", limit=limit),
                       "less_than_equal": _("Must be at most %(limit)s.", limit=limit),
                       "greater_than": _("Must be more than %(limit)s.", limit=limit),
                       "less_than": _("Must be less than %(limit)s.", limit=limit)}[kind]
        elif kind == "string_too_short":
            message = _("This field cannot be empty.")
        elif kind == "string_pattern_mismatch":
            text = err.get("input") if isinstance(err.get("input"), str) else ""
            message = ((person_name_problem(text) if field.endswith("name") else single_line_problem(text))
                       or _("Contains characters that are not allowed (control characters)."))
        else:
            message = str(_MESSAGES.get(kind, err["msg"]))
        out.append({"field": field, "message": message})
    return out
