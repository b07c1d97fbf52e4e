"""Set-up: the business's settings (``/dashboard/business``).

Name, category, time zone, currency, phone, public email, address, description and logo. The
owner edits them; managers see them read-only (a POST answers them 403); plain staff get 403.
Changes take effect everywhere at once: the booking page's header, the dashboard's sidebar,
emails' "Where:" lines and ``.ics`` locations read the tenant's row.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.business_forms import BusinessForm
from app.blueprints.dashboard.views.common import current_tenant, done
from app.blueprints.site.forms import currency_select_data, zone_select_data
from app.catalog.availability_version import bump_version
from app.catalog.currency import change_service_currency
from app.extensions import db
from app.payments.settings import rescale_fixed_deposits
from app.storage.images import ImageRejected, PreparedImage, prepare_logo, store_logo
from app.storage.local import default_storage
from app.tenants.models import Role, Tenant
from app.tenants.phones import example_phone
from app.tenants.profile import BusinessProfileInput, ProfileError, set_logo, update_business_profile
from app.tenants.zones import UTC
from app.web import render_page
from app.web.access import manager_required, owner_required, user_roles


def _form(tenant: Tenant, formdata: bool) -> BusinessForm:
    if formdata:
        form = BusinessForm(tenant=tenant)
    else:
        form = BusinessForm(formdata=None, tenant=tenant, obj=tenant)
        form.phone.data = tenant.phone_display
    # A business still on UTC (never set) gets the browser's zone preselected.
    form.timezone.render_kw = zone_select_data(defaulted=tenant.timezone == UTC and not formdata)
    form.currency.render_kw = currency_select_data(defaulted=False)
    return form


def _render(form: BusinessForm, status: int = 200) -> Response:
    tenant = current_tenant()
    return render_page("dashboard/business.html", block="form", status=status, form=form, tenant=tenant,
                       can_edit=Role.OWNER.value in user_roles(), phone_example=example_phone(tenant.country or None))


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


@bp.get("/dashboard/business")
@manager_required
def business() -> Response:
    """The business's settings; read-only for managers."""
    return _render(_form(current_tenant(), formdata=False))


@bp.post("/dashboard/business")
@owner_required
def business_save() -> Response:
    """Save the business's settings (owner only). Invalid input re-renders the form with 422,
    every error beside its field, nothing written (not even the logo)."""
    tenant = current_tenant()
    form = _form(tenant, formdata=True)
    if not form.validate():
        return _render(form, status=422)
    try:
        logo = _logo_upload(form)
    except ImageRejected as exc:
        form.logo.errors = [*form.logo.errors, exc.message]
        return _render(form, status=422)
    old_currency = tenant.currency
    try:
        with db.session.begin_nested():  # a refused change leaves the business as it was
            change = update_business_profile(tenant, BusinessProfileInput(
                name=form.name.data, category=form.category.data or "", timezone=form.timezone.data,
                currency=form.currency.data, phone=form.phone.data or "", public_email=form.public_email.data or "",
                address_line=form.address_line.data or "", postcode=form.postcode.data or "",
                city=form.city.data or "", country=form.country.data or "", description=form.description.data or ""))
    except ProfileError as exc:
        getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, exc.message]
        return _render(form, status=422)
    if logo is not None:
        set_logo(tenant, store_logo(default_storage(), tenant.id, logo))
    elif form.remove_logo.data:
        set_logo(tenant, None)
    notes = ["Business settings saved."]
    if change.timezone_changed:
        bump_version(tenant.id)
        notes.append(f"Time zone is now {tenant.timezone.replace('_', ' ')}: existing bookings keep their moment "
                     f"in time (their clock times now show in the new zone); opening hours are read in the new zone.")
    if change.currency_changed:
        services = change_service_currency(old_currency, tenant.currency)
        rescale_fixed_deposits(old_currency, tenant.currency)
        notes.append(f"Prices of {services} service(s) are now in {tenant.currency} with the same amounts; "
                     f"bookings already made keep {old_currency}.")
    return done(" ".join(notes), url_for("dashboard.business"))
