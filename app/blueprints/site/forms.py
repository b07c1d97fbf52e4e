"""Forms of the apex site: business signup."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.blueprints.auth.forms import email_field
from app.inputguard import person_name, single_line
from app.marketplace.category_names import category_name
from app.tenants.taxonomy import active_categories
from app.tenants.zones import (
    SUPPORTED_CURRENCIES,
    country_currencies,
    offered_zones,
    zone_choices,
    zone_currencies,
    zone_links,
)

#: Currencies offered (code, label): :data:`app.tenants.zones.SUPPORTED_CURRENCIES`.
CURRENCIES = SUPPORTED_CURRENCIES


def zone_select_choices(current: str | None = None) -> list[SelectChoice]:
    """The curated time zones (:func:`app.tenants.zones.zone_choices`) as grouped select choices,
    each option carrying its country's currency (``data-currency``) for the preselection script;
    ``current`` is added (under "Current") when it is a zone no longer offered."""
    currencies = zone_currencies()
    choices = [SelectChoice(c.name, c.label, optgroup=c.region,
                            render_kw={"data-currency": currencies[c.name]} if c.name in currencies else {})
               for c in zone_choices()]
    if current and current not in offered_zones():
        choices.insert(0, SelectChoice(current, current.replace("_", " "), optgroup=_("Current")))
    return choices


def zone_select_data(defaulted: bool) -> dict[str, str]:
    """``render_kw`` of a zone select: marks it for the browser-zone script (``data-zone-select``),
    with the link names it may meet (``Asia/Calcutta`` -> ``Asia/Kolkata``) and whether the
    browser's zone should replace the value (``data-defaulted``)."""
    return {"data-zone-select": "1", "data-links": json.dumps(zone_links(), separators=(",", ":")),
            "data-defaulted": "1" if defaulted else "0"}


def currency_select_data(defaulted: bool) -> dict[str, str]:
    """``render_kw`` of a currency select that follows the chosen zone's country, else the browser
    locale's region (``en-GB`` -> GBP), until the person picks a currency."""
    return {"data-currency-select": "1", "data-defaulted": "1" if defaulted else "0",
            "data-regions": json.dumps(country_currencies(), separators=(",", ":"))}


def locale_region(accept_language: str | None) -> str | None:
    """The region of a language tag (``en-GB`` -> ``GB``, ``da`` -> ``None``)."""
    if not accept_language:
        return None
    parts = accept_language.replace("_", "-").split("-")
    region = parts[-1] if len(parts) > 1 else ""
    return region.upper() if len(region) == 2 and region.isalpha() else None


_strip = [lambda v: v.strip() if isinstance(v, str) else v]


def category_choices(keep: str | None = None, keep_name: str = "") -> list[SelectChoice]:
    """The taxonomy's active categories as select choices (slug, name) after "Choose…"; ``keep``
    (a business's current, possibly retired, category slug named ``keep_name``) stays choosable."""
    choices = [SelectChoice(c.slug, category_name(c.slug, c.name)) for c in active_categories()]
    if keep and keep not in {choice.value for choice in choices}:
        choices.insert(0, SelectChoice(keep, keep_name or keep))
    return [SelectChoice("", _("Choose…")), *choices]


class BusinessSignupForm(FlaskForm):
    """A business and its owner account.

    ``slug`` (the subdomain), ``timezone`` and ``currency`` get their detailed checks from
    :func:`app.tenants.service.create_tenant`; the form checks presence, lengths and choices.
    """

    business_name = StringField(_l("Business name"), filters=_strip,
                                validators=[DataRequired(_l("Enter the name of your business.")), Length(max=120),
                                            single_line])
    slug = StringField(_l("Your Plaza address"), filters=_strip,
                       validators=[DataRequired(_l("Choose the address of your page.")), Length(max=100), single_line])
    timezone = SelectField(_l("Time zone"), validate_choice=False,
                           validators=[DataRequired(_l("Choose your time zone."))])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(code, label) for code, label in CURRENCIES], validate_choice=False,
                           validators=[DataRequired(_l("Choose a currency."))])
    category = SelectField(_l("Category"), validate_choice=False)
    owner_name = StringField(_l("Your name"), filters=_strip,
                             validators=[DataRequired(_l("Enter your name.")), Length(max=120), person_name])
    email = email_field(_l("Your email"))
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")), Length(max=200)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_select_choices()
        self.category.choices = category_choices()

    def validate_timezone(self, field: SelectField) -> None:
        """One of the offered zones (real places, :func:`app.tenants.zones.zone_choices`)."""
        if field.data not in offered_zones():
            raise ValidationError(_("Choose a time zone from the list."))

    def validate_currency(self, field: SelectField) -> None:
        """Only the offered currencies."""
        if field.data not in {code for code, _label in CURRENCIES}:
            raise ValidationError(_("Choose one of the listed currencies."))

    def validate_category(self, field: SelectField) -> None:
        """Empty or one of the offered categories."""
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose one of the listed categories."))
