"""Storefront forms: the customer's details when booking, and cancelling through the manage link."""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import phonenumbers
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TelField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from app.booking.service import MAX_NOTES

#: Used when the tz database's ``zone.tab`` cannot be read.
_FALLBACK_REGIONS = {"Europe/Copenhagen": "DK", "America/New_York": "US"}


@functools.cache
def _zone_regions() -> dict[str, str]:
    """IANA zone -> ISO 3166 country code, from the ``tzdata`` package's ``zone.tab``."""
    regions = dict(_FALLBACK_REGIONS)
    try:
        text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return regions
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            regions.setdefault(parts[2], parts[0])
    return regions


def region_for_timezone(tz_name: str) -> str | None:
    """The country (ISO 3166 alpha-2, e.g. ``"DK"``) of an IANA zone, or ``None`` when unknown."""
    return _zone_regions().get(tz_name)


def normalize_phone(raw: str, default_region: str | None) -> str:
    """``raw`` as an E.164 phone number (``"+4512345678"``).

    A number starting with ``+`` is read in international format; otherwise it is read as
    a national number of ``default_region`` (ISO 3166 alpha-2).

    Raises:
        ValueError: the number cannot be read or is not a valid number (message is user-facing).
    """
    text = raw.strip()
    if not text.startswith("+") and not default_region:
        raise ValueError("Include your country code, for example +45 12 34 56 78.")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Enter a valid phone number, for example +45 12 34 56 78.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This phone number is not valid. Check the digits and the country code.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DetailsForm(FlaskForm):
    """Name, email, phone and notes of the person booking.

    ``default_region`` (ISO 3166 alpha-2, or ``None``) is used for phone numbers given
    without a ``+country`` prefix. After a successful ``validate()``, ``phone_e164`` holds
    the normalised number.
    """

    name = StringField("Your name", filters=[_strip],
                       validators=[InputRequired("Enter your name."), Length(max=120, message="Use at most 120 characters.")])
    email = EmailField("Email", filters=[_strip],
                       validators=[InputRequired("Enter your email address."),
                                   Length(max=254, message="Use at most 254 characters."),
                                   Email("Enter a valid email address, like name@example.com.")])
    phone = TelField("Phone", filters=[_strip],
                     validators=[InputRequired("Enter your phone number."),
                                 Length(max=32, message="Use at most 32 characters.")])
    notes = TextAreaField("Notes for the business", filters=[_strip],
                          validators=[Optional(), Length(max=MAX_NOTES,
                                                         message=f"Keep notes under {MAX_NOTES} characters.")])

    def __init__(self, *args: Any, default_region: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_region = default_region
        self.phone_e164: str | None = None

    def validate_phone(self, field: TelField) -> None:
        """Parse the phone number with ``phonenumbers`` and keep its E.164 form."""
        try:
            self.phone_e164 = normalize_phone(field.data or "", self.default_region)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class CancelForm(FlaskForm):
    """Optional reason when a customer cancels (at most 500 characters)."""

    reason = TextAreaField("Reason (optional)", filters=[_strip],
                           validators=[Optional(), Length(max=500, message="Keep the reason under 500 characters.")])
