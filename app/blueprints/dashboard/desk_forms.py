"""Front-desk forms: a new booking (phone or walk-in), editing or moving a booking, and
blocked time. Dates and times are local wall-clock values in the tenant's zone; prices are
typed as decimals in the booking's currency and exposed in minor units; durations in minutes.

Forms only parse and validate; the views call :mod:`app.booking.desk`.
"""

from __future__ import annotations

import uuid
from typing import Any

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
DESK_SOURCES = {"phone": "Phone", "walk_in": "Walk-in"}
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

    customer = StringField("Customer", filters=[_strip])
    q = StringField("Find a customer", filters=[_strip], validators=[Optional(), Length(max=100)])
    new_name = StringField("Name", filters=[_strip], validators=[Optional(), Length(max=120), person_name])
    new_phone = TelField("Phone", filters=[_strip], validators=[Optional(), Length(max=40)])
    new_email = EmailField("Email", filters=[_strip], validators=[Optional(), Length(max=254), valid_email])
    service = SelectField("Service", validators=[InputRequired("Choose a service.")])
    extra_1 = SelectField("Then", default="")
    extra_2 = SelectField("And then", default="")
    staff = SelectField("Staff", default=ANYONE)
    day = DateField("Date", validators=[InputRequired("Enter the date."), within_calendar])
    time = TimeField("Start", validators=[InputRequired("Enter the start time.")])
    source = SelectField("Source", choices=[SelectChoice(k, v) for k, v in DESK_SOURCES.items()], default="phone")
    notes = TextAreaField("Notes", filters=[_strip], validators=[Length(max=2000, message="Use at most 2000 characters.")])
    notify = BooleanField("Notify the customer", default=True)
    override = BooleanField("Book anyway (outside hours, blocked time or short notice)")

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
                raise ValidationError("Pick the customer again from the search.") from None
            return
        if not self.new_name.data:
            raise ValidationError("Find the customer, or enter a new customer's name.")
        if not self.new_phone.data and not self.new_email.data:
            raise ValidationError("Enter the new customer's phone number or email address.")

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

    service = SelectField("Service", validators=[InputRequired("Choose a service.")])
    staff = SelectField("Staff", validators=[InputRequired("Choose who performs it.")])
    day = DateField("Date", validators=[InputRequired("Enter the date."), within_calendar])
    time = TimeField("Start", validators=[InputRequired("Enter the start time.")])
    notes = TextAreaField("Notes", filters=[_strip], validators=[Length(max=2000, message="Use at most 2000 characters.")])
    price = StringField("Price", filters=[_strip], validators=[InputRequired("Enter the price (0 for free).")])
    notify = BooleanField("Tell the customer", default=True)
    override = BooleanField("Book anyway (outside hours, blocked time or short notice)")

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

    day = DateField("Date", validators=[InputRequired("Enter the date."), within_calendar])
    time = TimeField("Start", validators=[InputRequired("Enter the start time.")])
    staff = StringField("Staff", filters=[_strip])
    override = BooleanField("Book anyway (outside hours, blocked time or short notice)")
    notify = BooleanField("Tell the customer", default=True)


class BlockTimeForm(FlaskForm):
    """Blocked time for one staff member: a title (meeting, break), local date and start,
    and a duration in minutes (5 to 720)."""

    staff = SelectField("Staff", validators=[InputRequired("Choose whose time to block.")])
    title = StringField("Title", filters=[_strip], default="Break", validators=[
        InputRequired("Give it a title, like Meeting or Break."), Length(max=200), single_line])
    day = DateField("Date", validators=[InputRequired("Enter the date."), within_calendar])
    time = TimeField("Start", validators=[InputRequired("Enter the start time.")])
    minutes = IntegerField("Minutes", default=60, validators=[
        InputRequired("Enter how many minutes."),
        NumberRange(min=5, max=720, message="Block between 5 and 720 minutes.")])
