"""The platform-wide audit log at ``/admin/audit``: filters, pages, CSV export (itself audited)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import Response, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.audit.search import AuditFilter, export_csv, search_entries
from app.audit.service import record_audit
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required, audit_actor
from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.web import render_page

#: Entries per page of the viewer.
PER_PAGE = 50


class AuditFilterForm(FlaskForm):
    """The viewer's filters (a GET form, no CSRF token): dates are whole UTC days, ``until`` inclusive."""

    class Meta:
        csrf = False

    actor = StringField(_l("Actor (email or id)"), validators=[Optional(), Length(max=254)])
    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=64)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=32)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=64)])
    tenant = StringField(_l("Business (slug)"), validators=[Optional(), Length(max=63)])
    scope = SelectField(_l("Rows"), choices=[SelectChoice("", _l("All")), SelectChoice("platform", _l("Platform only"))], validators=[Optional()])
    since = DateField(_l("From (UTC)"), validators=[Optional()])
    until = DateField(_l("To (UTC)"), validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        """``until`` is not before ``since``."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The end is before the start."))

    def validate_tenant(self, field: StringField) -> None:
        """The business exists (by its slug)."""
        if field.data and _tenant_id(field.data) is None:
            raise ValidationError(_("No business has this address."))


def _tenant_id(slug: str):
    return db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug.strip().lower()))


def _filter(form: AuditFilterForm) -> AuditFilter:
    d = form.data
    return AuditFilter(
        actor=(d["actor"] or "").strip(), action=(d["action"] or "").strip(), object_type=(d["object_type"] or "").strip(),
        object_id=(d["object_id"] or "").strip(),
        since=datetime.combine(d["since"], time(), UTC) if d["since"] else None,
        until=datetime.combine(d["until"] + timedelta(days=1), time(), UTC) if d["until"] else None,
        tenant_id=_tenant_id(d["tenant"]) if d["tenant"] else None, platform_only=d["scope"] == "platform")


def _query_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "page" and v}


@bp.get("/audit")
@admin_required
def audit_log() -> Response:
    """The audit log of the whole platform, newest first, 50 per page, with filters (actor,
    action, object, business, UTC date range); invalid filters answer 422 with inline errors."""
    form = AuditFilterForm(request.args)
    page = request.args.get("page", 1, type=int) or 1
    if request.args and not form.validate():
        return render_page("admin/audit.html", block="results", form=form, entries=[], more=False, page=1,
                           args=_query_args(), slugs={}, status=422)
    entries, more = search_entries(_filter(form), page=page, per_page=PER_PAGE)
    ids = {e.tenant_id for e in entries if e.tenant_id}
    slugs = dict(db.session.execute(sa.select(Tenant.id, Tenant.slug).where(Tenant.id.in_(ids))).all()) if ids else {}
    return render_page("admin/audit.html", block="results", form=form, entries=entries, more=more, page=page,
                       args=_query_args(), slugs=slugs)


@bp.get("/audit.csv")
@admin_required
def audit_csv() -> Response:
    """The filtered entries as a CSV download, streamed in batches; the export is itself written
    to the audit log (``audit.exported`` with the filters) before the first byte."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        return render_page("admin/audit.html", block="results", form=form, entries=[], more=False, page=1,
                           args=_query_args(), slugs={}, status=422)
    flt = _filter(form)
    record_audit(audit_actor(), "audit.exported", "audit_log", None, after={"filters": _query_args()})

    def rows():
        with platform_scope("admin console: audit CSV export"):
            yield from export_csv(flt)

    name = f"plaza-audit-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
