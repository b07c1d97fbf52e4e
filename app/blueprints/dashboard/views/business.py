"""Set-up: the business's settings (``/dashboard/business``).

Name, category, time zone, currency, phone, public email, address and its pin on the map,
service area, languages, amenities, social links, description, logo and cover photo. The
owner edits them; managers see them read-only (a POST answers them 403); plain staff get 403.
Changes take effect everywhere at once: the booking page's header, the dashboard's sidebar,
emails' "Where:" lines and ``.ics`` locations read the tenant's row.

The pin: when the owner moved it (or typed latitude/longitude), that point is kept; otherwise,
when the address changed (or the business has no point yet), the address is geocoded
(:func:`app.geo.geocode`); a place the geocoder cannot find leaves the pin as it was, with a note.
Each save emits ``business.profile_updated`` (the marketplace listing refreshes from it).
"""

from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.business_forms import BusinessForm, PhotoForm
from app.blueprints.dashboard.views.common import current_tenant, done
from app.blueprints.site.forms import currency_select_data, zone_select_data
from app.catalog.availability_version import bump_version
from app.catalog.currency import change_service_currency
from app.catalog.translations import other_languages, read_translation_fields, set_translations, translation
from app.extensions import db
from app.geo import GeocodeError, geocode
from app.i18n import LANGUAGE_NAMES
from app.outbox.events import emit
from app.payments.settings import rescale_fixed_deposits
from app.storage.images import ImageRejected, PreparedImage, prepare_logo, prepare_photo, store_logo, store_photo
from app.storage.local import default_storage
from app.tenants.marketplace_profile import (
    MarketplaceProfileError,
    MarketplaceProfileInput,
    check_point,
    set_point,
    touch_profile,
    update_marketplace_profile,
)
from app.tenants.models import Role, Tenant
from app.tenants.phones import example_phone
from app.tenants.photos import gallery, max_photos
from app.tenants.profile import BusinessProfileInput, ProfileError, set_cover, set_logo, update_business_profile
from app.tenants.zones import UTC
from app.web import render_page
from app.web.access import manager_required, owner_required, user_roles


def settings_form(tenant: Tenant, formdata: bool) -> BusinessForm:
    """The settings form of ``tenant``: from the request (``formdata``) or its saved values."""
    if formdata:
        form = BusinessForm(tenant=tenant)
    else:
        form = BusinessForm(formdata=None, tenant=tenant, obj=tenant)
        form.phone.data = tenant.phone_display
        form.fill_from(tenant)
    # A business still on UTC (never set) gets the browser's zone preselected.
    form.timezone.render_kw = zone_select_data(defaulted=tenant.timezone == UTC and not formdata)
    form.currency.render_kw = currency_select_data(defaulted=False)
    return form


def render_business(form: BusinessForm, status: int = 200, photo_form: PhotoForm | None = None,
                    block: str = "form", texts: dict | None = None, text_errors: dict | None = None) -> Response:
    """The settings page with ``form`` (and the gallery's ``photo_form``), answered ``status``;
    an HTMX request gets ``block`` (``form`` or ``gallery``). ``texts``/``text_errors``: the
    description in other languages as posted (default: as stored) and their errors."""
    tenant = current_tenant()
    languages = other_languages(form.default_locale.data or tenant.default_locale)
    if texts is None:
        texts = {lang: {"description": translation(tenant, lang, "description")} for lang in languages}
    return render_page("dashboard/business.html", block=block, status=status, form=form, tenant=tenant,
                       translation_languages=languages, translation_texts=texts,
                       translation_errors=text_errors or {}, language_names=LANGUAGE_NAMES,
                       photos=gallery(), max_photos=max_photos(), photo_form=photo_form or PhotoForm(formdata=None),
                       can_edit=Role.OWNER.value in user_roles(), phone_example=example_phone(tenant.country or None),
                       map_tiles=current_app.config.get("MAP_TILE_URL") or "",
                       map_attribution=current_app.config.get("MAP_ATTRIBUTION") or "")


def _logo_upload(form: BusinessForm) -> PreparedImage | None:
    """The uploaded logo, re-encoded; ``None`` when no file was sent.

    Raises:
        ImageRejected: the upload is not an acceptable image.
    """
    upload = request.files.get(form.logo.name)
    if upload is None or not upload.filename:
        return None
    limit = int(current_app.config.get("MEDIA_MAX_UPLOAD_BYTES") or 5_000_000)
    return prepare_logo(upload.stream.read(limit + 1), max_bytes=limit)


def _cover_upload(form: BusinessForm) -> PreparedImage | None:
    return upload_photo(form.cover.name)


def upload_photo(name: str) -> PreparedImage | None:
    """The photo uploaded in form field ``name``, checked and re-encoded (at most
    ``MEDIA_MAX_UPLOAD_BYTES`` bytes and ``PHOTO_MAX_PIXELS`` pixels); ``None`` when no file was sent.

    Raises:
        ImageRejected: the upload is not an acceptable image.
    """
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return None
    limit = int(current_app.config.get("MEDIA_MAX_UPLOAD_BYTES") or 5_000_000)
    return prepare_photo(upload.stream.read(limit + 1), max_bytes=limit,
                         max_pixels=int(current_app.config.get("PHOTO_MAX_PIXELS") or 25_000_000))


def _geocode_query(tenant: Tenant) -> str:
    """The address as the geocoder reads it (street, then postcode and city; no country name)."""
    town = " ".join(p for p in (tenant.postcode, tenant.city) if p)
    return ", ".join(p for p in (tenant.address_line, town) if p)


def _place_pin(tenant: Tenant, form: BusinessForm, old_point: tuple[float, float] | None,
               old_address: str) -> str | None:
    """Set the business's point from the form or by geocoding its address; returns a note for
    the owner when the address could not be placed.

    Raises:
        MarketplaceProfileError: only one of latitude/longitude, or out of range.
    """
    typed = check_point(form.latitude.data, form.longitude.data)
    old = (round(old_point[0], 6), round(old_point[1], 6)) if old_point else None
    if typed != old:  # the owner moved the pin or typed a point (or cleared it)
        set_point(tenant, typed)
        return None
    if not _geocode_query(tenant) or (old is not None and tenant.address == old_address):
        return None
    try:
        point = geocode(_geocode_query(tenant), tenant.country or None)
    except GeocodeError as exc:
        return _("%(error)s Your pin was not moved: drag it on the map, or enter its latitude and longitude.",
                 error=exc.message)
    set_point(tenant, (point.lat, point.lon))
    return None


@bp.get("/dashboard/business")
@manager_required
def business() -> Response:
    """The business's settings; read-only for managers."""
    return render_business(settings_form(current_tenant(), formdata=False))


@bp.post("/dashboard/business")
@owner_required
def business_save() -> Response:
    """Save the business's settings (owner only). Invalid input re-renders the form with 422,
    every error beside its field, nothing written (not even the logo)."""
    tenant = current_tenant()
    form = settings_form(tenant, formdata=True)
    if form.default_locale.data not in LANGUAGE_NAMES:  # not sent (or tampered): the language stays
        form.default_locale.data = tenant.default_locale
    texts, text_errors = read_translation_fields(request.form, other_languages(form.default_locale.data),
                                                 ("description",))
    if not form.validate() or text_errors:
        return render_business(form, status=422, texts=texts, text_errors=text_errors)
    uploads: dict[str, PreparedImage | None] = {}
    for field, read in ((form.logo, _logo_upload), (form.cover, _cover_upload)):
        try:
            uploads[field.name] = read(form)
        except ImageRejected as exc:
            field.errors = [*field.errors, exc.message]
    if any(form.errors.values()):
        return render_business(form, status=422)
    old_currency = tenant.currency
    old_point = (tenant.latitude, tenant.longitude) if tenant.latitude is not None else None
    old_address = tenant.address
    try:
        with db.session.begin_nested():  # a refused change leaves the business as it was
            change = update_business_profile(tenant, BusinessProfileInput(
                name=form.name.data, timezone=form.timezone.data,
                currency=form.currency.data, phone=form.phone.data or "", public_email=form.public_email.data or "",
                address_line=form.address_line.data or "", postcode=form.postcode.data or "",
                city=form.city.data or "", country=form.country.data or "", description=form.description.data or ""))
            update_marketplace_profile(tenant, MarketplaceProfileInput(
                category=form.category.data or "", service_area=form.service_area.data or "premises",
                service_radius_km=form.service_radius_km.data, service_postcodes=form.service_postcodes.data or "",
                languages=list(form.languages.data or []), amenities=list(form.amenities.data or []),
                social_links=form.social_links()))
            tenant.accepts_job_requests = bool(form.accepts_job_requests.data)  # issue 13: the opt-in
            tenant.default_locale = form.default_locale.data  # issue 14 (L)
            set_translations(tenant, texts)
            pin_note = _place_pin(tenant, form, old_point, old_address)
    except (ProfileError, MarketplaceProfileError) as exc:
        getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, exc.message]
        return render_business(form, status=422)
    storage = default_storage()
    if uploads["logo"] is not None:
        set_logo(tenant, store_logo(storage, tenant.id, uploads["logo"]))
    elif form.remove_logo.data:
        set_logo(tenant, None)
    if uploads["cover"] is not None:
        set_cover(tenant, store_photo(storage, tenant.id, uploads["cover"], "cover"))
    elif form.remove_cover.data:
        set_cover(tenant, None)
    touch_profile(tenant)
    emit("business.profile_updated", {"slug": tenant.slug})
    notes = [_("Business settings saved.")]
    if pin_note:
        notes.append(pin_note)
    if change.timezone_changed:
        bump_version(tenant.id)
        notes.append(_("Time zone is now %(zone)s: existing bookings keep their moment in time (their clock times "
                       "now show in the new zone); opening hours are read in the new zone.",
                       zone=tenant.timezone.replace("_", " ")))
    if change.currency_changed:
        services = change_service_currency(old_currency, tenant.currency)
        rescale_fixed_deposits(old_currency, tenant.currency)
        notes.append(ngettext("Prices of %(num)d service are now in %(currency)s with the same amounts; bookings "
                              "already made keep %(old)s.",
                              "Prices of %(num)d services are now in %(currency)s with the same amounts; bookings "
                              "already made keep %(old)s.", services, currency=tenant.currency, old=old_currency))
    return done(" ".join(notes), url_for("dashboard.business"))
