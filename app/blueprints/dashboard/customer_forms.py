"""Forms of the dashboard's customer pages (CRM): contact details, a note, a tag, merge and erase.

Forms only parse and validate; the views call :mod:`app.customers` and :mod:`app.crm`. A phone
without ``+country`` is read as a number of the business's country (from its time zone).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app.blueprints.dashboard.forms import valid_email
from app.booking.validation import normalize_phone
from app.customers.models import MAX_NOTE, MAX_TAG
from app.inputguard import person_name, single_line


def strip(value: Any) -> Any:
    """WTForms filter: trim surrounding whitespace of text."""
    return value.strip() if isinstance(value, str) else value


class ContactForm(FlaskForm):
    """A customer's name, email and phone (kept in E.164 as ``phone_e164``): at least one of
    the two (a customer may be known by phone only)."""

    name = StringField(_l("Name"), filters=[strip], validators=[
        InputRequired(_l("Enter a name.")), Length(max=120, message=_l("Use at most 120 characters.")), person_name])
    email = EmailField(_l("Email"), filters=[strip], validators=[
        Optional(), Length(max=254, message=_l("Use at most 254 characters.")), valid_email])
    phone = TelField(_l("Phone"), filters=[strip], validators=[
        Optional(), Length(max=32, message=_l("Use at most 32 characters."))])

    def __init__(self, *args: Any, default_region: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_region = default_region
        self.phone_e164: str | None = None

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' checks, then: a phone or an email (error on the phone field)."""
        ok = super().validate(extra_validators)
        if not self.phone.data and not self.email.data:
            self.phone.errors = [*self.phone.errors, _("Enter a phone number or an email address.")]
            return False
        return ok

    def validate_phone(self, field: TelField) -> None:
        """Read the phone with ``phonenumbers`` (national numbers in the business's country)."""
        if not field.data:
            return
        try:
            self.phone_e164 = normalize_phone(field.data, self.default_region)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class NoteForm(FlaskForm):
    """A staff note (1–2000 characters)."""

    body = TextAreaField(_l("Add a note"), filters=[strip], validators=[
        InputRequired(_l("Write a note first.")),
        Length(max=MAX_NOTE, message=_l("Keep a note under %(count)d characters.", count=MAX_NOTE))])


class TagForm(FlaskForm):
    """One tag (1–40 characters, one line)."""

    tag = StringField(_l("Add a tag"), filters=[strip], validators=[
        InputRequired(_l("Type a tag first.")), Length(max=MAX_TAG, message=_l("Keep a tag under %(count)d characters.", count=MAX_TAG)),
        single_line])


class MergeForm(FlaskForm):
    """Merge the record ``other`` (its id) into the page's record; an optional reason."""

    other = HiddenField(validators=[InputRequired(_l("Pick the duplicate record first."))])
    reason = StringField(_l("Reason (optional)"), filters=[strip], validators=[
        Optional(), Length(max=500, message=_l("Keep the reason under 500 characters.")), single_line])


class EraseForm(FlaskForm):
    """Erase a customer's data: the reason must be typed and the consequence confirmed."""

    reason = TextAreaField(_l("Reason for erasing"), filters=[strip], validators=[
        InputRequired(_l("Type why this customer's data is erased (e.g. “Asked by email on 5 December”).")),
        Length(max=500, message=_l("Keep the reason under 500 characters."))])
    confirm = BooleanField(_l("I understand this cannot be undone: name, email, phone, notes, tags and the "
                              "customer's messages are removed; bookings and payments stay for the books."),
                           validators=[InputRequired(_l("Tick the box to confirm."))])
