"""The console's directory: businesses and people (search, filters, paging), their detail pages
with history, and the sanctions (suspend, ban, warn, reinstate).

A detail page reads a business's (or a person's) data, so it first asks the admin for a reason
(:func:`app.blueprints.admin.access.require_reason`, the console's one reason step); every read
is written to the audit log with it (``admin.read``, filed under the business it concerns).
"""

from __future__ import annotations

import uuid
from datetime import UTC

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.admin import directory, sanctions
from app.admin.sanctions import BUSINESS, PERSON, SanctionError, Subject
from app.billing.plans import PLANS
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required, remembered_reason, require_reason
from app.blueprints.admin.common import admin_actor, console_post_limit
from app.blueprints.admin.forms_directory import ReasonForm, SanctionForm
from app.web import render_page


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/businesses")
@admin_required
def businesses() -> Response | str:
    """Every business: search by name, slug or owner's email; filter by plan, country,
    category and status; 25 a page."""
    f = directory.BusinessFilters(
        q=request.args.get("q", "")[:120], plan=request.args.get("plan", ""),
        country=request.args.get("country", "")[:2], category=request.args.get("category", "")[:40],
        status=request.args.get("status", ""), page=_page())
    rows, more = directory.search_businesses(f)
    return render_page("admin/businesses.html", "results", rows=rows, more=more, f=f, plans=list(PLANS))


@bp.get("/people")
@admin_required
def people() -> Response | str:
    """Every account: search by email or name; filter by status; 25 a page."""
    q, status, page = request.args.get("q", "")[:120], request.args.get("status", ""), _page()
    rows, more = directory.search_people(q, status, page)
    return render_page("admin/people.html", "results", rows=rows, more=more, q=q, state=status, page=page)


@bp.get("/businesses/<uuid:tenant_id>")
@admin_required
def business(tenant_id: uuid.UUID) -> Response | str:
    """One business with its history. Asks for a reason first (remembered for this business for
    half an hour, and shared with "View as"); every read is audit-logged with it (``admin.read``)."""
    asked = require_reason(BUSINESS, tenant_id, tenant_id=tenant_id)
    if asked is not None:
        return asked
    facts = directory.business_facts(tenant_id, remembered_reason(BUSINESS, tenant_id) or "")
    if facts is None:
        abort(404)
    return render_page("admin/businesses_detail.html", facts=facts, form=SanctionForm(),
                       reinstate_form=ReasonForm(prefix="reinstate"),
                       active=sanctions.active(Subject(BUSINESS, tenant_id)))


@bp.get("/people/<uuid:user_id>")
@admin_required
def person(user_id: uuid.UUID) -> Response | str:
    """One account with its history. Asks for a reason first; every read is audit-logged with it."""
    asked = require_reason(PERSON, user_id)
    if asked is not None:
        return asked
    facts = directory.person_facts(user_id, remembered_reason(PERSON, user_id) or "")
    if facts is None:
        abort(404)
    return render_page("admin/people_detail.html", facts=facts, form=SanctionForm(),
                       reinstate_form=ReasonForm(prefix="reinstate"),
                       active=sanctions.active(Subject(PERSON, user_id)))


def _impose(subject: Subject, detail: str, template: str) -> Response | str:
    form = SanctionForm()
    error = None
    if form.validate_on_submit():
        ends = form.ends_at.data.replace(tzinfo=UTC) if form.ends_at.data else None
        try:
            sanctions.impose(subject, form.kind.data, form.reason.data, admin_actor(), ends_at=ends)
        except SanctionError as exc:
            field = getattr(form, exc.field, None) if exc.field else None
            if field is not None:
                field.errors = [*field.errors, exc.message]
            else:
                error = exc.message
        else:
            flash({"suspend": _("Suspended."), "ban": _("Banned."), "warn": _("Warned.")}[form.kind.data])
            return redirect(url_for(detail, **{"tenant_id" if subject.kind == BUSINESS else "user_id": subject.id}),
                            303)
    facts = (directory.business_facts(subject.id, "re-shown after a refused sanction") if subject.kind == BUSINESS
             else directory.person_facts(subject.id, "re-shown after a refused sanction"))
    if facts is None:
        abort(404)
    return render_page(template, facts=facts, form=form,
                       reinstate_form=ReasonForm(formdata=None, prefix="reinstate"), active=sanctions.active(subject), error=error, status=422)


def _reinstate(subject: Subject, detail: str, template: str) -> Response | str:
    form = ReasonForm(prefix="reinstate")
    if form.validate_on_submit():
        try:
            lifted = sanctions.reinstate(subject, form.reason.data, admin_actor())
        except SanctionError as exc:
            form.reason.errors = [*form.reason.errors, exc.message]
        else:
            flash(_("Reinstated.") if lifted else _("Nothing was in force."))
            return redirect(url_for(detail, **{"tenant_id" if subject.kind == BUSINESS else "user_id": subject.id}),
                            303)
    facts = (directory.business_facts(subject.id, "re-shown after a refused reinstatement")
             if subject.kind == BUSINESS else directory.person_facts(subject.id, "re-shown after a refused reinstatement"))
    if facts is None:
        abort(404)
    return render_page(template, facts=facts, form=SanctionForm(formdata=None), reinstate_form=form,
                       active=sanctions.active(subject), status=422)


@bp.post("/businesses/<uuid:tenant_id>/sanctions")
@admin_required
@console_post_limit
def sanction_business(tenant_id: uuid.UUID) -> Response | str:
    """Suspend, ban or warn a business (form: kind, reason, optional end in UTC)."""
    return _impose(Subject(BUSINESS, tenant_id), "admin.business", "admin/businesses_detail.html")


@bp.post("/businesses/<uuid:tenant_id>/reinstate")
@admin_required
@console_post_limit
def reinstate_business(tenant_id: uuid.UUID) -> Response | str:
    """Lift a business's suspension or ban (form: reason)."""
    return _reinstate(Subject(BUSINESS, tenant_id), "admin.business", "admin/businesses_detail.html")


@bp.post("/people/<uuid:user_id>/sanctions")
@admin_required
@console_post_limit
def sanction_person(user_id: uuid.UUID) -> Response | str:
    """Suspend, ban or warn a person (form: kind, reason, optional end in UTC)."""
    return _impose(Subject(PERSON, user_id), "admin.person", "admin/people_detail.html")


@bp.post("/people/<uuid:user_id>/reinstate")
@admin_required
@console_post_limit
def reinstate_person(user_id: uuid.UUID) -> Response | str:
    """Lift a person's suspension or ban (form: reason)."""
    return _reinstate(Subject(PERSON, user_id), "admin.person", "admin/people_detail.html")
