"""Set-up: the business's services (list, new, edit)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import (
    ServiceForm,
    price_text,
)
from app.blueprints.dashboard.views.common import current_tenant, done
from app.catalog.models import Service, ServiceStaff
from app.catalog.service import (
    create_service,
    list_services,
    list_staff,
    set_service_staff,
    update_service,
)
from app.catalog.translations import (
    TRANSLATABLE_FIELDS,
    other_languages,
    read_translation_fields,
    set_translations,
    translation,
)
from app.extensions import db
from app.i18n import LANGUAGE_NAMES, SUPPORTED_LANGUAGES
from app.web import get_or_404, render_page
from app.web.access import manager_required


def _staff_choices() -> list[tuple[str, str]]:
    return [(str(s.id), s.name + ("" if s.active else " (inactive)")) for s in list_staff(active_only=False)]


def _service_form(service: Service | None = None) -> ServiceForm:
    currency = service.currency if service is not None else current_tenant().currency
    form = ServiceForm(obj=service if request.method == "GET" else None, currency=currency,
                       staff_choices=_staff_choices())
    if request.method == "POST":
        form.load_overrides(request.form)
    elif service is not None:
        links = list(db.session.scalars(sa.select(ServiceStaff).where(ServiceStaff.service_id == service.id)))
        form.staff.data = [str(link.staff_id) for link in links]
        form.price.data = price_text(service.price_amount, currency)
        for link in links:
            form.override_values[str(link.staff_id)] = (
                str(link.duration_minutes) if link.duration_minutes else "",
                price_text(link.price_amount, currency))
    return form


def _service_fields(form: ServiceForm) -> dict[str, Any]:
    return {"name": form.name.data, "description": form.description.data or "",
            "category": form.category.data or "", "duration_minutes": form.duration_minutes.data,
            "price_amount": form.price_amount, "buffer_before_minutes": form.buffer_before_minutes.data,
            "buffer_after_minutes": form.buffer_after_minutes.data, "active": bool(form.active.data)}


def _translation_context(service: Service | None) -> dict[str, Any]:
    """The service form's other-language fields (issue 14): posted texts on POST, else the stored ones."""
    languages = other_languages(current_tenant().default_locale)
    if request.method == "POST":
        texts, errors = read_translation_fields(request.form, languages)
    else:
        texts = {lang: {f: translation(service, lang, f) for f in TRANSLATABLE_FIELDS} for lang in languages}
        errors = {}
    return {"translation_languages": languages, "translation_texts": texts, "translation_errors": errors,
            "language_names": LANGUAGE_NAMES}


@bp.get("/dashboard/services")
@login_required
@manager_required
def services() -> Response:
    """Every service (active and inactive) with its duration, price and staff."""
    items = list_services(active_only=False)
    counts = dict(db.session.execute(sa.select(ServiceStaff.service_id, sa.func.count())
                                     .group_by(ServiceStaff.service_id)).all())
    return render_page("dashboard/services.html", services=items, staff_counts=counts)


@bp.route("/dashboard/services/new", methods=["GET", "POST"])
@login_required
@manager_required
def service_new() -> Response:
    """Create a service; invalid input answers 422 with the form and nothing written."""
    form = _service_form()
    extra = _translation_context(None)
    if request.method == "POST":
        if form.validate() and not extra["translation_errors"]:
            fields = _service_fields(form)
            svc = create_service(currency=current_tenant().currency, staff_ids=(), **fields)
            set_service_staff(svc, list(form.assignments), form.assignments)
            set_translations(svc, extra["translation_texts"])
            return done(_("“%(name)s” was added.", name=svc.name), url_for("dashboard.services"))
        return render_page("dashboard/service_form.html", block="form", status=422, form=form, service=None, **extra)
    return render_page("dashboard/service_form.html", block="form", form=form, service=None, **extra)


@bp.route("/dashboard/services/<service_id>", methods=["GET", "POST"])
@login_required
@manager_required
def service_edit(service_id: str) -> Response:
    """Edit a service and who performs it (with optional per-staff duration and price)."""
    svc = get_or_404(Service, service_id)
    form = _service_form(svc)
    extra = _translation_context(svc)
    if request.method == "POST":
        if form.validate() and not extra["translation_errors"]:
            update_service(svc, **_service_fields(form))
            set_service_staff(svc, list(form.assignments), form.assignments)
            set_translations(svc, extra["translation_texts"] | {
                lang: texts for lang, texts in (svc.translations or {}).items()
                if lang not in extra["translation_languages"] and lang in SUPPORTED_LANGUAGES})
            return done(_("“%(name)s” was saved.", name=svc.name), url_for("dashboard.services"))
        return render_page("dashboard/service_form.html", block="form", status=422, form=form, service=svc, **extra)
    return render_page("dashboard/service_form.html", block="form", form=form, service=svc, **extra)
