"""Front-desk forms: a new booking (phone or walk-in), editing or moving a booking, and
blocked time. Dates and times are local wall-clock values in the tenant's zone; prices are
typed as decimals in the booking's currency and exposed in minor units; durations in minutes.

Forms only parse and validate; the views call :mod:`app.booking.desk`.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.blueprints.dashboard.forms import parse_price, valid_email, within_calendar
from app.booking.validation import normalize_phone
from app.inputguard import person_name, single_line

#: Sources staff choose from (online bookings come from the storefront and the API).
DESK_SOURCES = {"phone": _l("Phone"), "walk_in": _l("Walk-in")}
#: The staff choice meaning "the first free performer".
ANYONE = "any"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DeskBookingForm(FlaskForm):
    """A booking entered by staff: an existing customer (``customer``: id) or a new one
    (name with a phone and/or an email), service (and up to two more after it, back to back:
    ``extra_1``, ``extra_2``; :meth:`also_ids`), staff or anyone, local date and time,
    source, notes, "Notify the customer" and "Book anyway".

    ``default_region`` (ISO 3166 alpha-2 or ``None``) reads phone numbers without ``+``;
    after ``validate()`` ``phone_e164`` holds the new customer's phone and ``customer_id``
    the chosen customer's id (or ``None`` for a new one).
    """

    customer = StringField(_l("Customer"), filters=[_strip])
    q = StringField(_l("Find a customer"), filters=[_strip], validators=[Optional(), Length(max=100)])
    new_name = StringField(_l("Name"), filters=[_strip], validators=[Optional(), Length(max=120), person_name])
    new_phone = TelField(_l("Phone"), filters=[_strip], validators=[Optional(), Length(max=40)])
    new_email = EmailField(_l("Email"), filters=[_strip], validators=[Optional(), Length(max=254), valid_email])
    service = SelectField(_l("Service"), validators=[InputRequired(_l("Choose a service."))])
    extra_1 = SelectField(_l("Then"), default="")
    extra_2 = SelectField(_l("And then"), default="")
    staff = SelectField(_l("Staff"), default=ANYONE)
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), within_calendar])
    time = TimeField(_l("Start"), validators=[InputRequired(_l("Enter the start time."))])
    source = SelectField(_l("Source"), choices=[SelectChoice(k, v) for k, v in DESK_SOURCES.items()], default="phone")
    notes = TextAreaField(_l("Notes"), filters=[_strip], validators=[Length(max=2000, message=_l("Use at most 2000 characters."))])
    notify = BooleanField(_l("Notify the customer"), default=True)
    override = BooleanField(_l("Book anyway (outside hours, blocked time or short notice)"))

    def __init__(self, *args: Any, default_region: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_region = default_region
        self.phone_e164: str | None = None
        self.customer_id: uuid.UUID | None = None

    def also_ids(self) -> list[uuid.UUID]:
        """The services chosen after the first (``extra_1``, ``extra_2``), in order, empties left out."""
        out = []
        for field in (self.extra_1, self.extra_2):
            try:
                out.append(uuid.UUID(field.data))
            except (TypeError, ValueError):
                continue
        return out

    def validate_customer(self, field: StringField) -> None:
        """Either a customer picked from the search or a new one with a name and a contact."""
        if field.data and field.data != "new":
            try:
                self.customer_id = uuid.UUID(field.data)
            except ValueError:
                raise ValidationError(_("Pick the customer again from the search.")) from None
            return
        if not self.new_name.data:
            raise ValidationError(_("Find the customer, or enter a new customer's name."))
        if not self.new_phone.data and not self.new_email.data:
            raise ValidationError(_("Enter the new customer's phone number or email address."))

    def validate_new_phone(self, field: TelField) -> None:
        """A new customer's phone in E.164."""
        if field.data and (not self.customer.data or self.customer.data == "new"):
            try:
                self.phone_e164 = normalize_phone(field.data, self.default_region)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class EditBookingForm(FlaskForm):
    """Edit or move a booking: service, staff, local date and time, notes, price (a decimal in
    ``currency``), "Book anyway" and "Notify the customer". After ``validate()``,
    ``price_minor`` is the price in minor units."""

    service = SelectField(_l("Service"), validators=[InputRequired(_l("Choose a service."))])
    staff = SelectField(_l("Staff"), validators=[InputRequired(_l("Choose who performs it."))])
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), within_calendar])
    time = TimeField(_l("Start"), validators=[InputRequired(_l("Enter the start time."))])
    notes = TextAreaField(_l("Notes"), filters=[_strip], validators=[Length(max=2000, message=_l("Use at most 2000 characters."))])
    price = StringField(_l("Price"), filters=[_strip], validators=[InputRequired(_l("Enter the price (0 for free)."))])
    notify = BooleanField(_l("Tell the customer"), default=True)
    override = BooleanField(_l("Book anyway (outside hours, blocked time or short notice)"))

    def __init__(self, *args: Any, currency: str = "EUR", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.price_minor: int | None = None

    def validate_price(self, field: StringField) -> None:
        """A non-negative decimal in the booking's currency."""
        try:
            self.price_minor = parse_price(field.data or "", self.currency)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class MoveForm(FlaskForm):
    """Move a booking (the "Move…" dialog and drag and drop): local ``day`` and ``time``,
    ``staff`` (empty keeps the staff member), "Book anyway"."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), within_calendar])
    time = TimeField(_l("Start"), validators=[InputRequired(_l("Enter the start time."))])
    staff = StringField(_l("Staff"), filters=[_strip])
    override = BooleanField(_l("Book anyway (outside hours, blocked time or short notice)"))
    notify = BooleanField(_l("Tell the customer"), default=True)


class BlockTimeForm(FlaskForm):
    """Blocked time for one staff member: a title (meeting, break), local date and start,
    and a duration in minutes (5 to 720)."""

    staff = SelectField(_l("Staff"), validators=[InputRequired(_l("Choose whose time to block."))])
    title = StringField(_l("Title"), filters=[_strip], default=lambda: _("Break"), validators=[
        InputRequired(_l("Give it a title, like Meeting or Break.")), Length(max=200), single_line])
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), within_calendar])
    time = TimeField(_l("Start"), validators=[InputRequired(_l("Enter the start time."))])
    minutes = IntegerField(_l("Minutes"), default=60, validators=[
        InputRequired(_l("Enter how many minutes.")),
        NumberRange(min=5, max=720, message=_l("Block between 5 and 720 minutes."))])
