"""Forms of the apex site: business signup."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.blueprints.auth.forms import email_field
from app.inputguard import person_name, single_line
from app.timeutil import all_zones, zone

#: Common ISO 4217 currencies offered at signup: (code, label).
CURRENCIES: list[tuple[str, str]] = [
    ("EUR", "EUR · Euro"), ("USD", "USD · US dollar"), ("GBP", "GBP · Pound sterling"),
    ("DKK", "DKK · Danish krone"), ("SEK", "SEK · Swedish krona"), ("NOK", "NOK · Norwegian krone"),
    ("ISK", "ISK · Icelandic króna"), ("CHF", "CHF · Swiss franc"), ("PLN", "PLN · Polish złoty"),
    ("CZK", "CZK · Czech koruna"), ("HUF", "HUF · Hungarian forint"), ("CAD", "CAD · Canadian dollar"),
    ("AUD", "AUD · Australian dollar"), ("NZD", "NZD · New Zealand dollar"), ("JPY", "JPY · Japanese yen"),
    ("SGD", "SGD · Singapore dollar"), ("HKD", "HKD · Hong Kong dollar"), ("INR", "INR · Indian rupee"),
    ("ZAR", "ZAR · South African rand"), ("BRL", "BRL · Brazilian real"), ("MXN", "MXN · Mexican peso"),
    ("AED", "AED · UAE dirham"),
]

#: Business categories offered at signup (stored as the label).
CATEGORIES: list[str] = [
    "Hair & beauty", "Health & wellness", "Fitness", "Home services", "Cleaning", "Pets",
    "Consulting", "Lessons & tutoring", "Photography", "Other",
]

_strip = [lambda v: v.strip() if isinstance(v, str) else v]


class BusinessSignupForm(FlaskForm):
    """A business and its owner account.

    ``slug`` (the subdomain), ``timezone`` and ``currency`` get their detailed checks from
    :func:`app.tenants.service.create_tenant`; the form checks presence, lengths and choices.
    """

    business_name = StringField("Business name", filters=_strip,
                                validators=[DataRequired("Enter the name of your business."), Length(max=120),
                                            single_line])
    slug = StringField("Your Plaza address", filters=_strip,
                       validators=[DataRequired("Choose the address of your page."), Length(max=100), single_line])
    timezone = SelectField("Time zone", validate_choice=False,
                           validators=[DataRequired("Choose your time zone.")])
    currency = SelectField("Currency", choices=[SelectChoice(code, label) for code, label in CURRENCIES], validate_choice=False,
                           validators=[DataRequired("Choose a currency.")])
    category = SelectField("Category", choices=[SelectChoice("", "Choose…")] + [SelectChoice(c, c) for c in CATEGORIES],
                           validate_choice=False)
    owner_name = StringField("Your name", filters=_strip,
                             validators=[DataRequired("Enter your name."), Length(max=120), person_name])
    email = email_field("Your email")
    password = PasswordField("Password", validators=[DataRequired("Choose a password."), Length(max=200)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(z, z.replace("_", " ")) for z in all_zones()]

    def validate_timezone(self, field: SelectField) -> None:
        """A known IANA time zone."""
        try:
            zone(field.data or "")
        except ValueError as exc:
            raise ValidationError("Choose a time zone from the list.") from exc

    def validate_currency(self, field: SelectField) -> None:
        """Only the offered currencies."""
        if field.data not in {code for code, _ in CURRENCIES}:
            raise ValidationError("Choose one of the listed currencies.")

    def validate_category(self, field: SelectField) -> None:
        """Empty or one of the offered categories."""
        if field.data and field.data not in CATEGORIES:
            raise ValidationError("Choose one of the listed categories.")
