"""The console's moderation queue at ``/admin/moderation``: reports grouped by the reported
content, with the content and its context, and the platform's decision on each group."""

from __future__ import annotations

import uuid

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from app.admin import moderation
from app.admin.moderation import ModerationError, SanctionError
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.blueprints.admin.common import admin_actor, console_post_limit
from app.blueprints.admin.forms_directory import ModerationForm
from app.web import render_page


@bp.get("/moderation")
@admin_required
def moderation_queue() -> Response | str:
    """Every report waiting for the platform, grouped by content, oldest first."""
    return render_page("admin/moderation.html", groups=moderation.waiting_groups(), form=ModerationForm(),
                       errors={})


@bp.post("/moderation/<uuid:tenant_id>/<target_type>/<uuid:target_id>")
@admin_required
@console_post_limit
def moderation_decide(tenant_id: uuid.UUID, target_type: str, target_id: uuid.UUID) -> Response | str:
    """The platform's decision on one piece of content (form: action, reason)."""
    form = ModerationForm()
    key = f"{tenant_id}:{target_type}:{target_id}"
    if form.validate_on_submit():
        try:
            settled = moderation.decide(tenant_id, target_type[:32], target_id, form.action.data, form.reason.data,
                                        admin_actor())
        except (ModerationError, SanctionError) as exc:
            message = exc.message
        else:
            flash(ngettext("Done: %(num)d report settled.", "Done: %(num)d reports settled.", settled))
            return redirect(url_for("admin.moderation_queue"), 303)
    else:
        message = next((e for errs in form.errors.values() for e in errs), _("Check the form."))
    return render_page("admin/moderation.html", groups=moderation.waiting_groups(), form=form,
                       errors={key: message}, status=422)
