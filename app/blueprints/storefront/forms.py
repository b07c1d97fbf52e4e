"""Storefront forms: the customer's details when booking, and cancelling through the manage link."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TelField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from app.booking.service import MAX_NOTES
from app.booking.validation import normalize_phone
from app.inputguard import person_name
from app.tenants.phones import example_phone


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DetailsForm(FlaskForm):
    """Name, email, phone and notes of the person booking.

    ``default_region`` (ISO 3166 alpha-2, or ``None``) is used for phone numbers given
    without a ``+country`` prefix. After a successful ``validate()``, ``phone_e164`` holds
    the normalised number.
    """

    name = StringField(_l("Your name"), filters=[_strip],
                       validators=[InputRequired(_l("Enter your name.")), Length(max=120, message=_l("Use at most 120 characters.")),
                                   person_name])
    email = EmailField(_l("Email"), filters=[_strip],
                       validators=[InputRequired(_l("Enter your email address.")),
                                   Length(max=254, message=_l("Use at most 254 characters.")),
                                   Email(_l("Enter a valid email address, like name@example.com."))])
    phone = TelField(_l("Phone"), filters=[_strip],
                     validators=[InputRequired(_l("Enter your phone number.")),
                                 Length(max=32, message=_l("Use at most 32 characters."))])
    notes = TextAreaField(_l("Notes for the business"), filters=[_strip],
                          validators=[Optional(), Length(max=MAX_NOTES,
                                                         message=_l("Keep notes under %(max)d characters.", max=MAX_NOTES))])

    def __init__(self, *args: Any, default_region: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_region = default_region
        self.phone_e164: str | None = None
        #: A number of ``default_region`` as its people write it, for the placeholder and hint.
        self.phone_example = example_phone(default_region)

    def validate_phone(self, field: TelField) -> None:
        """Parse the phone number with ``phonenumbers`` and keep its E.164 form."""
        try:
            self.phone_e164 = normalize_phone(field.data or "", self.default_region)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class CancelForm(FlaskForm):
    """Optional reason when a customer cancels (at most 500 characters)."""

    reason = TextAreaField(_l("Reason (optional)"), filters=[_strip],
                           validators=[Optional(), Length(max=500, message=_l("Keep the reason under 500 characters."))])
