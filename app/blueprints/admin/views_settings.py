"""Platform settings in the console (``/admin/settings``): the category taxonomy (add, rename,
reorder, retire), dispute windows and answer deadlines, and the plan features (staff seats, SMS,
marketplace tier; prices stay in Stripe). Every change is audit-logged with before and after
(:mod:`app.platform_settings`). Bad input re-renders the page with the message beside its field (422).
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.service import AuditActor
from app.billing.plans import PLANS
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.extensions import db
from app.platform_settings import GROUPS, SETTINGS, SettingError, all_settings, edit_category, set_setting
from app.tenants.taxonomy import TaxonomyError, all_categories
from app.web import render_page


def _actor() -> AuditActor:
    return AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)


def _page(status: int = 200, errors: dict[str, str] | None = None, entered: dict[str, str] | None = None,
          category_error: str | None = None, category_form: dict[str, str] | None = None) -> Response:
    values = all_settings()
    if entered:
        values = {**values, **entered}
    groups = {g: [s for s in SETTINGS.values() if s.group == g] for g in GROUPS}
    return render_page("admin/settings.html", block="settings", status=status, groups=groups, group_labels=GROUPS,
                       values=values, errors=errors or {}, categories=all_categories(), plans=list(PLANS.values()),
                       category_error=category_error, category_form=category_form or {})


@bp.get("/settings")
@admin_required
def settings() -> Response:
    """The settings page."""
    return _page()


@bp.post("/settings/values/<group>")
@admin_required
def save_settings(group: str) -> Response:
    """Save the values of one section (``disputes`` or ``plans``): all or nothing. Each changed
    value gets its audit entry; unchanged ones none."""
    if group not in GROUPS:
        abort(404)
    entered = {s.key: request.form.get(s.key, "") for s in SETTINGS.values() if s.group == group}
    errors: dict[str, str] = {}
    for key, raw in entered.items():
        try:
            SETTINGS[key].coerce(raw)
        except SettingError as exc:
            errors[key] = exc.message
    if errors:
        return _page(status=422, errors=errors, entered=entered)
    reason = (request.form.get("reason") or "").strip()
    for key, raw in entered.items():
        set_setting(key, raw, by=_actor(), reason=reason)
    return redirect(url_for("admin.settings") + f"#{group}", 303)


@bp.post("/settings/categories")
@admin_required
def edit_categories() -> Response:
    """One taxonomy edit: ``edit`` (add, rename, up, down, retire), ``slug`` and, for add and
    rename, ``name``. 422 with the message when it cannot be made."""
    edit, slug, name = (request.form.get(k, "") for k in ("edit", "slug", "name"))
    try:
        with db.session.begin_nested():
            edit_category(edit, slug, name, by=_actor())
    except (TaxonomyError, SettingError) as exc:
        return _page(status=422, category_error=exc.message, category_form={"edit": edit, "slug": slug, "name": name})
    return redirect(url_for("admin.settings") + "#categories", 303)
