"""The business settings form (``/dashboard/business``): name, category, time zone, currency,
public contact details, address, description and logo.

The form checks presence, lengths and choices; :func:`app.tenants.profile.update_business_profile`
does the detailed checks (phone numbers read in the business's country, email syntax) and
:func:`app.storage.images.prepare_logo` checks the logo by its content.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints.site.forms import zone_select_choices
from app.inputguard import single_line
from app.tenants.models import Tenant
from app.tenants.profile import CATEGORIES, DESCRIPTION_MAX
from app.tenants.zones import SUPPORTED_CURRENCIES, country_names


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class BusinessForm(FlaskForm):
    """A business's settings; build it with ``tenant`` so its current values stay choosable."""

    name = StringField("Business name", filters=[_strip],
                       validators=[DataRequired("Enter the name of your business."), Length(max=120), single_line])
    category = SelectField("Category", validate_choice=False)
    timezone = SelectField("Time zone", validate_choice=False, validators=[DataRequired("Choose your time zone.")])
    currency = SelectField("Currency", validate_choice=False, validators=[DataRequired("Choose a currency.")])
    phone = TelField("Phone", filters=[_strip], validators=[Optional(), Length(max=40), single_line])
    public_email = StringField("Email for customers", filters=[_strip],
                               validators=[Optional(), Length(max=254), single_line])
    address_line = StringField("Street and number", filters=[_strip],
                               validators=[Optional(), Length(max=200), single_line])
    postcode = StringField("Postcode", filters=[_strip], validators=[Optional(), Length(max=20), single_line])
    city = StringField("City", filters=[_strip], validators=[Optional(), Length(max=100), single_line])
    country = SelectField("Country", validate_choice=False)
    description = TextAreaField("About the business", filters=[_strip],
                                validators=[Optional(), Length(max=DESCRIPTION_MAX,
                                                               message=f"Use at most {DESCRIPTION_MAX} characters.")])
    logo = FileField("Logo")
    remove_logo = BooleanField("Remove the logo")

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        categories = list(CATEGORIES)
        if tenant.category and tenant.category not in categories:
            categories.insert(0, tenant.category)
        self.category.choices = [SelectChoice("", "Choose…")] + [SelectChoice(c, c) for c in categories]
        self.timezone.choices = zone_select_choices(tenant.timezone)
        currencies = list(SUPPORTED_CURRENCIES)
        if tenant.currency not in {code for code, _ in currencies}:
            currencies.insert(0, (tenant.currency, tenant.currency))
        self.currency.choices = [SelectChoice(code, label) for code, label in currencies]
        names = country_names()
        self.country.choices = [SelectChoice("", "Choose…")] + [
            SelectChoice(code, name) for code, name in sorted(names.items(), key=lambda item: item[1])]
