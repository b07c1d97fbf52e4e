"""The business settings form (``/dashboard/business``): name, category (from the platform's
taxonomy), time zone, currency, public contact details, address and its point on the map,
service area, languages, amenities, social links, description, logo and cover photo.

The form checks presence, lengths and choices; :func:`app.tenants.profile.update_business_profile`
and :func:`app.tenants.marketplace_profile.update_marketplace_profile` do the detailed checks
(phone numbers read in the business's country, email syntax, https links to each network) and
:func:`app.storage.images.prepare_photo` checks the logo and cover by their content.
"""

from __future__ import annotations

from babel import Locale, localedata
from babel.dates import get_timezone_location
from babel.numbers import get_currency_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.blueprints.site.forms import category_choices, zone_select_choices
from app.formatting import reader_locale
from app.i18n import LANGUAGE_NAMES
from app.inputguard import single_line
from app.tenants.models import Tenant
from app.tenants.profile import DESCRIPTION_MAX
from app.tenants.vocabulary import AMENITIES, LANGUAGES, SOCIAL_NETWORKS
from app.tenants.zones import SUPPORTED_CURRENCIES, country_names, zone_countries

#: Amenity code -> its label, translated (:data:`app.tenants.vocabulary.AMENITIES` has the English).
AMENITY_LABELS = {
    "wheelchair": _l("Wheelchair accessible"), "wifi": _l("Free Wi-Fi"), "parking": _l("Parking"),
    "card": _l("Card payments"), "mobilepay": _l("Mobile payments"), "kids": _l("Child-friendly"),
    "pets": _l("Pets welcome"), "toilet": _l("Toilet"), "drinks": _l("Free drinks"),
    "air-conditioning": _l("Air conditioning"), "transit": _l("Near public transport"), "home-visits": _l("Comes to you"),
}


#: The regions time zones are grouped under (the first part of an IANA name), translated.
ZONE_REGIONS = {"Africa": _l("Africa"), "America": _l("America"), "Antarctica": _l("Antarctica"),
                "Arctic": _l("Arctic"), "Asia": _l("Asia"), "Atlantic": _l("Atlantic"), "Australia": _l("Australia"),
                "Europe": _l("Europe"), "Indian": _l("Indian Ocean"), "Pacific": _l("Pacific"), "Other": _l("Other"),
                "Current": _l("Current")}


def localized_zones(choices: list[SelectChoice]) -> list[SelectChoice]:
    """Time zone ``choices`` (:func:`app.blueprints.site.forms.zone_select_choices`) for the reader:
    region groups translated; for a reader of another language than English, each zone named by
    its city and country in that language (``København (Danmark)``). Values stay the IANA names."""
    reader = reader_locale()
    countries = zone_countries()
    out = []
    for c in choices:
        label = c.label
        if reader.language != "en" and c.value in countries:
            code = countries[c.value][0]
            label = (f"{get_timezone_location(c.value, locale=reader, return_city=True)} "
                     f"({reader.territories.get(code, code)})")
        out.append(SelectChoice(c.value, label, render_kw=c.render_kw,
                                optgroup=str(ZONE_REGIONS.get(c.optgroup, c.optgroup)) if c.optgroup else None))
    return out


def language_choices() -> list[SelectChoice]:
    """The languages a business may say it speaks (:data:`LANGUAGES`), each named in the reader's
    language and in itself: ``Danish (dansk)`` for an English reader, ``tysk (Deutsch)`` for a Danish one."""
    reader, out = reader_locale(), []
    for tag, english in LANGUAGES.items():
        own = Locale.parse(tag).get_display_name(tag) if localedata.exists(tag) else None
        name = reader.languages.get(tag)
        if not name or reader.language == "en":
            out.append(SelectChoice(tag, english))
        elif tag == reader.language or not own:
            out.append(SelectChoice(tag, name))
        else:
            out.append(SelectChoice(tag, f"{name} ({own})"))
    return out


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class BusinessForm(FlaskForm):
    """A business's settings; build it with ``tenant`` so its current values stay choosable."""

    name = StringField(_l("Business name"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the name of your business.")), Length(max=120), single_line])
    category = SelectField(_l("Category"), validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False, validators=[DataRequired(_l("Choose your time zone."))])
    currency = SelectField(_l("Currency"), validate_choice=False, validators=[DataRequired(_l("Choose a currency."))])
    phone = TelField(_l("Phone"), filters=[_strip], validators=[Optional(), Length(max=40), single_line])
    public_email = StringField(_l("Email for customers"), filters=[_strip],
                               validators=[Optional(), Length(max=254), single_line])
    address_line = StringField(_l("Street and number"), filters=[_strip],
                               validators=[Optional(), Length(max=200), single_line])
    postcode = StringField(_l("Postcode"), filters=[_strip], validators=[Optional(), Length(max=20), single_line])
    city = StringField(_l("City"), filters=[_strip], validators=[Optional(), Length(max=100), single_line])
    country = SelectField(_l("Country"), validate_choice=False)
    description = TextAreaField(_l("About the business"), filters=[_strip],
                                validators=[Optional(), Length(max=DESCRIPTION_MAX,
                                                               message=_l("Use at most %(count)d characters.", count=DESCRIPTION_MAX))])
    #: issue 14 (L): the language of the business's pages and messages when nothing says otherwise.
    default_locale = SelectField(_l("Default language"), validate_choice=False,  # not sent: unchanged
                                 choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
    logo = FileField(_l("Logo"))
    remove_logo = BooleanField(_l("Remove the logo"))
    latitude = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90, _l("Latitude is between -90 and 90."))])
    longitude = FloatField(_l("Longitude"),
                           validators=[Optional(), NumberRange(-180, 180, _l("Longitude is between -180 and 180."))])
    service_area = RadioField(_l("Where you serve customers"), default="premises", validate_choice=False, choices=[
        SelectChoice("premises", _l("At our address")),
        SelectChoice("radius", _l("We travel: within a distance")),
        SelectChoice("postcodes", _l("We travel: to these postcodes"))])
    service_radius_km = IntegerField(_l("How far you travel (km)"), validators=[Optional()])
    service_postcodes = TextAreaField(_l("Postcodes you travel to"), validators=[Optional(), Length(max=2000)])
    accepts_job_requests = BooleanField(_l("Take job requests from customers nearby"))  # issue 13 (U)
    languages = SelectMultipleField(_l("Languages spoken"), validate_choice=False)
    amenities = SelectMultipleField(_l("Amenities"), validate_choice=False)
    social_instagram = StringField(_l("Instagram"), filters=[_strip], validators=[Optional(), Length(max=300)])
    social_facebook = StringField(_l("Facebook"), filters=[_strip], validators=[Optional(), Length(max=300)])
    social_tiktok = StringField(_l("TikTok"), filters=[_strip], validators=[Optional(), Length(max=300)])
    social_website = StringField(_l("Website"), filters=[_strip], validators=[Optional(), Length(max=300)])
    cover = FileField(_l("Cover photo"))
    remove_cover = BooleanField(_l("Remove the cover photo"))

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = category_choices(tenant.category_slug, tenant.category)
        self.timezone.choices = localized_zones(zone_select_choices(tenant.timezone))
        currencies = list(SUPPORTED_CURRENCIES)
        if tenant.currency not in {code for code, _ in currencies}:
            currencies.insert(0, (tenant.currency, tenant.currency))
        reader = reader_locale()
        self.currency.choices = [SelectChoice(code, label if reader.language == "en" else
                                              f"{code} · {get_currency_name(code, locale=reader)}")
                                 for code, label in currencies]
        self.languages.choices = language_choices()
        self.amenities.choices = [SelectChoice(code, AMENITY_LABELS.get(code, label)) for code, label in AMENITIES.items()]
        local = reader_locale().territories
        names = {code: local.get(code, name) for code, name in country_names().items()}
        self.country.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(code, name) for code, name in sorted(names.items(), key=lambda item: item[1])]

    def fill_from(self, tenant: Tenant) -> None:
        """Show ``tenant``'s marketplace values (fields whose names differ from the columns)."""
        self.category.data = tenant.category_slug or ""
        self.service_area.data = ("radius" if tenant.service_radius_km else
                                  "postcodes" if tenant.service_postcodes else "premises")
        self.service_postcodes.data = ", ".join(tenant.service_postcodes or [])
        for network in SOCIAL_NETWORKS:
            getattr(self, f"social_{network}").data = (tenant.social_links or {}).get(network, "")

    def social_links(self) -> dict[str, str]:
        """network -> link as typed (checked by the domain)."""
        return {network: getattr(self, f"social_{network}").data or "" for network in SOCIAL_NETWORKS}


class PhotoForm(FlaskForm):
    """A gallery photo upload: the image (checked by its content) and an optional caption."""

    photo = FileField(_l("Photo"))
    caption = StringField(_l("Caption"), filters=[_strip], validators=[Optional(), Length(max=200), single_line])
