"""Dashboard forms: booking actions, services, staff, working hours, date overrides, time off,
booking rules and API tokens.

Forms only parse and validate input; the views call the domain. Money is entered as a
decimal in the tenant's currency and exposed in minor units; times are local wall-clock
times in the tenant's zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.catalog.rules import RULE_LIMITS
from app.formatting import currency_decimals, format_number
from app.inputguard import person_name, single_line
from app.timeutil import EARLIEST_DAY, LATEST_DAY, day_in_range

WEEKDAYS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday")]
STAFF_ACTIONS = {
    "confirm": _l("Confirm"),
    "decline": _l("Decline"),
    "cancel": _l("Cancel"),
    "complete": _l("Mark completed"),
    "no_show": _l("Mark no-show"),
}
MAX_PRICE_MAJOR = Decimal("1000000")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def within_calendar(form: Any, field: Any) -> None:
    """WTForms validator: a date or date-time within years 2000 to 2100 (:data:`app.timeutil.EARLIEST_DAY`).

    Raises:
        wtforms.validators.ValidationError: outside that range.
    """
    if field.data is not None and not day_in_range(field.data):
        raise ValidationError(_("Enter a date between %(first)s and %(last)s.", first=EARLIEST_DAY.isoformat(),
                                last=LATEST_DAY.isoformat()))


def valid_email(form: Any, field: Any) -> None:
    """WTForms validator: a syntactically valid address (no DNS; ``.test`` demo domains accepted)."""
    if not field.data:
        return
    try:
        validate_email(field.data, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValidationError(_("Enter a valid email address, like name@example.com.")) from exc


def parse_price(raw: str, currency: str) -> int:
    """A decimal price typed by a person (``"649"``, ``"649.50"``, ``"649,50"``) in minor units.

    Raises:
        ValueError: not a number, negative, too many decimals for ``currency``, or too large
            (message is user-facing).
    """
    text = (raw or "").strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_("Enter a price such as 450 or 450.50.")) from exc
    if not value.is_finite():
        raise ValueError(_("Enter a price such as 450 or 450.50."))
    if value < 0:
        raise ValueError(_("The price cannot be negative."))
    if value >= MAX_PRICE_MAJOR:
        raise ValueError(_("Enter a price below %(max)s.", max=format_number(MAX_PRICE_MAJOR)))
    decimals = currency_decimals(currency)
    minor = value * (10 ** decimals)
    if minor != minor.to_integral_value():
        raise ValueError(_("Use at most %(decimals)d decimals for %(currency)s.", decimals=decimals, currency=currency)
                         if decimals else _("%(currency)s has no decimals.", currency=currency))
    return int(minor)


def price_text(amount: int | None, currency: str) -> str:
    """Minor units as the decimal text shown in a price input (``45050`` -> ``"450.50"``)."""
    if amount is None:
        return ""
    decimals = currency_decimals(currency)
    return f"{Decimal(amount) / (10 ** decimals):.{decimals}f}"


class BookingActionForm(FlaskForm):
    """A staff action on a booking; cancelling needs a reason (at most 500 characters)."""

    action = SelectField(_l("Action"), choices=[SelectChoice(action, label) for action, label in STAFF_ACTIONS.items()],
                         validators=[InputRequired(_l("Choose an action."))])
    reason = TextAreaField(_l("Reason"), filters=[_strip],
                           validators=[Length(max=500, message=_l("Keep the reason under 500 characters."))])

    def validate_reason(self, field: TextAreaField) -> None:
        """A cancellation must say why (the customer is told)."""
        if self.action.data == "cancel" and not field.data:
            raise ValidationError(_("Give a reason for cancelling; the customer will see it."))


class ServiceForm(FlaskForm):
    """A service: name, description, category, duration (5–720 min), price (decimal in the
    tenant's currency), buffers (0–240 min), active flag and the staff who perform it.

    Per-staff overrides come from the fields ``duration-<staff id>`` and ``price-<staff id>``;
    after ``validate()`` the staff chosen are in ``assignments``: staff id -> (duration or
    None, price in minor units or None), ``price_amount`` holds the price in minor units and
    ``override_errors`` maps a staff id to its messages.
    """

    name = StringField(_l("Name"), filters=[_strip],
                       validators=[InputRequired(_l("Give the service a name.")),
                                   Length(max=120, message=_l("Use at most 120 characters.")), single_line])
    description = TextAreaField(_l("Description"), filters=[_strip],
                                validators=[Optional(), Length(max=2000, message=_l("Use at most 2000 characters."))])
    category = StringField(_l("Category"), filters=[_strip],
                           validators=[Optional(), Length(max=60, message=_l("Use at most 60 characters.")), single_line])
    duration_minutes = IntegerField(_l("Duration (minutes)"), validators=[
        InputRequired(_l("Enter the duration in minutes.")),
        NumberRange(5, 720, _l("Enter a duration from 5 to 720 minutes."))])
    price = StringField(_l("Price"), filters=[_strip], validators=[InputRequired(_l("Enter a price (0 for free)."))])
    buffer_before_minutes = IntegerField(_l("Buffer before (minutes)"), default=0, validators=[
        InputRequired(_l("Enter 0 or more minutes.")), NumberRange(0, 240, _l("Enter 0 to 240 minutes."))])
    buffer_after_minutes = IntegerField(_l("Buffer after (minutes)"), default=0, validators=[
        InputRequired(_l("Enter 0 or more minutes.")), NumberRange(0, 240, _l("Enter 0 to 240 minutes."))])
    active = BooleanField(_l("Bookable (active)"), default=True)
    staff = SelectMultipleField(_l("Performed by"), choices=[], validate_choice=True)

    def __init__(self, *args: Any, currency: str, staff_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.staff.choices = [SelectChoice(value, label) for value, label in staff_choices]
        self.price.label.text = _("Price (%(currency)s)", currency=currency)
        self.price_amount: int | None = None
        self.assignments: dict[uuid.UUID, tuple[int | None, int | None]] = {}
        self.override_errors: dict[str, list[str]] = {}
        self.override_values: dict[str, tuple[str, str]] = {}

    def validate_price(self, field: StringField) -> None:
        """Parse the price into minor units of the tenant's currency."""
        try:
            self.price_amount = parse_price(field.data or "", self.currency)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def load_overrides(self, formdata: Any) -> None:
        """Keep the raw per-staff duration/price inputs from ``formdata`` for re-rendering."""
        for value in (choice.value for choice in self.staff.choices):
            self.override_values[value] = ((formdata.get(f"duration-{value}") or "").strip(),
                                           (formdata.get(f"price-{value}") or "").strip())

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate the fields, then each chosen staff member's optional duration and price."""
        ok = super().validate(extra_validators)
        for value in self.staff.data or []:
            raw_duration, raw_price = self.override_values.get(value, ("", ""))
            errors: list[str] = []
            duration = price = None
            if raw_duration:
                try:
                    duration = int(raw_duration)
                except ValueError:
                    errors.append(_("Duration: enter whole minutes."))
                else:
                    if not 5 <= duration <= 720:
                        errors.append(_("Duration: enter 5 to 720 minutes."))
            if raw_price:
                try:
                    price = parse_price(raw_price, self.currency)
                except ValueError as exc:
                    errors.append(_("Price: %(error)s", error=exc))
            if errors:
                self.override_errors[value] = errors
            else:
                try:
                    self.assignments[uuid.UUID(value)] = (duration, price)
                except ValueError:
                    self.override_errors[value] = [_("Unknown staff member.")]
        return ok and not self.override_errors


class StaffForm(FlaskForm):
    """A staff member's profile: name, bio, optional email, active flag."""

    name = StringField(_l("Name"), filters=[_strip], validators=[
        InputRequired(_l("Enter a name.")), Length(max=120, message=_l("Use at most 120 characters.")), person_name])
    bio = TextAreaField(_l("Bio"), filters=[_strip], validators=[
        Optional(), Length(max=2000, message=_l("Use at most 2000 characters."))])
    email = EmailField(_l("Email"), filters=[_strip], validators=[
        Optional(), Length(max=254, message=_l("Use at most 254 characters.")),
        valid_email])
    active = BooleanField(_l("Takes bookings (active)"), default=True)


class RangeRow(Form):
    """One weekly working range: weekday (0=Monday) and local start/end (``HH:MM``)."""

    weekday = SelectField(_l("Day"), choices=[SelectChoice(day, name) for day, name in enumerate(WEEKDAYS)], coerce=int,
                          validators=[InputRequired(_l("Choose a day."))])
    start = TimeField(_l("From"), validators=[Optional()])
    end = TimeField(_l("To"), validators=[Optional()])


class HoursForm(FlaskForm):
    """The weekly hours editor: rows of weekday + start + end, several per day (breaks).

    Rows with both times empty are ignored. After ``validate()``, ``weekly`` maps weekday
    to sorted ``(start, end)`` ranges; overlapping or reversed ranges are errors on the row.
    """

    rows = FieldList(FormField(RangeRow), min_entries=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weekly: dict[int, list[tuple[time, time]]] = {}

    def validate(self, extra_validators: Any = None) -> bool:
        """Check each row and that ranges of one day do not overlap."""
        ok = super().validate(extra_validators)
        by_day: dict[int, list[tuple[time, time, Any]]] = {}
        for entry in self.rows:
            row = entry.form
            start_raw = (row.start.raw_data or [""])[0]
            end_raw = (row.end.raw_data or [""])[0]
            if not start_raw and not end_raw:
                continue
            if row.start.errors or row.end.errors:
                ok = False
                continue
            if row.start.data is None or row.end.data is None:
                (row.start if row.start.data is None else row.end).errors.append(_("Enter both times, or clear the row."))
                ok = False
                continue
            if row.start.data >= row.end.data:
                row.end.errors.append(_("The end must be after the start."))
                ok = False
                continue
            by_day.setdefault(row.weekday.data, []).append((row.start.data, row.end.data, row))
        for day, ranges in by_day.items():
            ranges.sort(key=lambda r: (r[0], r[1]))
            for (_start1, end1, _row1), (start2, _end2, row2) in zip(ranges, ranges[1:], strict=False):
                if start2 < end1:
                    row2.start.errors.append(_("Overlaps another %(day)s range.", day=WEEKDAYS[day]))
                    ok = False
            self.weekly[day] = [(s, e) for s, e, _ in ranges]
        return ok


class OverrideForm(FlaskForm):
    """Hours for one date replacing the weekly ones: closed, or one or two local ranges."""

    on_date = DateField(_l("Date"), validators=[InputRequired(_l("Pick a date.")), within_calendar])
    closed = BooleanField(_l("Closed all day"))
    start1 = TimeField(_l("From"), validators=[Optional()])
    end1 = TimeField(_l("To"), validators=[Optional()])
    start2 = TimeField(_l("From"), validators=[Optional()])
    end2 = TimeField(_l("To"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ranges: list[tuple[time, time]] = []

    def validate(self, extra_validators: Any = None) -> bool:
        """Closed, or at least one complete range; ranges ordered and not overlapping."""
        ok = super().validate(extra_validators)
        if not ok or self.closed.data:
            return ok
        for start, end in ((self.start1, self.end1), (self.start2, self.end2)):
            if start.data is None and end.data is None:
                continue
            if start.data is None or end.data is None:
                (start if start.data is None else end).errors.append(_("Enter both times."))
                return False
            if start.data >= end.data:
                end.errors.append(_("The end must be after the start."))
                return False
            self.ranges.append((start.data, end.data))
        if not self.ranges:
            self.start1.errors.append(_("Enter opening hours for this date, or tick “Closed all day”."))
            return False
        self.ranges.sort()
        if len(self.ranges) == 2 and self.ranges[1][0] < self.ranges[0][1]:
            self.start2.errors.append(_("The two ranges overlap."))
            return False
        return True


class TimeOffForm(FlaskForm):
    """Time off from ``starts`` to ``ends`` (local date and time in the tenant's zone)."""

    starts = DateTimeLocalField(_l("From"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                validators=[InputRequired(_l("Enter when the time off starts.")), within_calendar])
    ends = DateTimeLocalField(_l("Until"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                              validators=[InputRequired(_l("Enter when the time off ends.")), within_calendar])
    reason = StringField(_l("Reason (optional)"), filters=[_strip], validators=[
        Optional(), Length(max=200, message=_l("Use at most 200 characters."))])

    def validate_ends(self, field: DateTimeLocalField) -> None:
        """The end must come after the start."""
        if self.starts.data and field.data and field.data <= self.starts.data:
            raise ValidationError(_("The end must be after the start."))


#: A rule's unit -> (the message for an empty value, the message for one out of range).
_UNIT_MESSAGES: dict[str, tuple[Any, Callable[[int, int], Any]]] = {
    "minutes": (_l("Enter a number of minutes."),
                lambda low, high: _l("Enter %(low)d to %(high)d minutes.", low=low, high=high)),
    "days": (_l("Enter a number of days."), lambda low, high: _l("Enter %(low)d to %(high)d days.", low=low, high=high)),
    "hours": (_l("Enter a number of hours."),
              lambda low, high: _l("Enter %(low)d to %(high)d hours.", low=low, high=high)),
}


def _rule_field(label: Any, name: str, unit: str) -> IntegerField:
    low, high = RULE_LIMITS[name]
    empty, out_of_range = _UNIT_MESSAGES[unit]
    return IntegerField(label, validators=[InputRequired(empty),
                                           NumberRange(low, high, out_of_range(low, high))])


class RulesForm(FlaskForm):
    """Booking rules: lead time (minutes), horizon (days), slot interval (minutes),
    confirmation by hand, the customers' cancellation cut-off (hours), and the hourly cap on
    bookings made online by the public (staff are never limited)."""

    lead_time_minutes = _rule_field(_l("Minimum notice (minutes)"), "lead_time_minutes", "minutes")
    horizon_days = _rule_field(_l("Booking horizon (days ahead)"), "horizon_days", "days")
    slot_interval_minutes = _rule_field(_l("Slot interval (minutes)"), "slot_interval_minutes", "minutes")
    requires_confirmation = BooleanField(_l("New bookings need staff confirmation"))
    cancellation_cutoff_hours = _rule_field(_l("Cancellation cut-off (hours before start)"), "cancellation_cutoff_hours",
                                            "hours")
    #: Left out of a post (an older form): the current value stays.
    public_bookings_per_hour = IntegerField(_l("Online bookings per hour (all guests)"), validators=[
        Optional(), NumberRange(*RULE_LIMITS["public_bookings_per_hour"],
                                _l("Enter %(low)d to %(high)d bookings.", low=RULE_LIMITS["public_bookings_per_hour"][0],
                                   high=RULE_LIMITS["public_bookings_per_hour"][1]))])


class TokenForm(FlaskForm):
    """A new API token's name (1–80 characters)."""

    name = StringField(_l("Token name"), filters=[_strip], validators=[
        InputRequired(_l("Name the token, e.g. “Website widget”.")), Length(max=80, message=_l("Use at most 80 characters.")), single_line])


class InviteForm(FlaskForm):
    """Invite a staff member to log in: the email to send the link to and the role
    (``staff`` or ``manager``; whether the inviter may grant it is the domain's call)."""

    email = EmailField(_l("Email"), filters=[_strip, lambda v: v.lower() if isinstance(v, str) else v], validators=[
        InputRequired(_l("Enter the email address to send the invitation to.")),
        Length(max=254, message=_l("Use at most 254 characters.")), valid_email])
    role = SelectField(_l("Role"), choices=[SelectChoice("staff", _l("Staff: sees bookings")),
                                        SelectChoice("manager", _l("Manager: also runs the set-up"))],
                       default="staff", validate_choice=False)
