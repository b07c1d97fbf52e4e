"""Reporting content on the business's host: ``/report/<type>/<id>`` (a reason code and an
optional note; anyone may report, signed in or not). The report reaches the business's owners
and managers (``/dashboard/reports``) and the platform's queue. Content that is gone, hidden or
of another business answers 404."""

from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.community import bp
from app.blueprints.community.forms import ReportForm
from app.blueprints.community.limits import report_limits
from app.community import moderation
from app.community.moderation import ReportError
from app.extensions import db
from app.web import parse_uuid, render_page, tenant_required


@bp.route("/report/<target_type>/<target_id>", methods=["GET", "POST"])
@report_limits
@tenant_required
def report(target_type: str, target_id: str) -> Response:
    """The report form (GET) and sending it (POST: the thank-you page, or 422 with errors inline)."""
    kind = moderation.kind_of(target_type)
    tid = parse_uuid(target_id)
    target = kind.load(tid) if kind is not None and tid is not None else None
    if kind is None or tid is None or target is None or not target.visible:
        abort(404)
    form = ReportForm() if request.method == "POST" else ReportForm(formdata=None)
    ctx = {"tenant": g.tenant, "kind": kind, "target": target, "form": form, "error": None}
    if request.method == "GET":
        return render_page("community/report.html", block="report", **ctx)
    if not form.validate():
        return render_page("community/report.html", block="report", status=422, **ctx)
    user = current_user if current_user.is_authenticated else None
    try:
        with db.session.begin_nested():
            moderation.report_content(kind.name, tid, form.reason.data, form.note.data or "",
                                      reporter_user_id=user.id if user else None,
                                      reporter_email=user.email if user else None)
    except ReportError as exc:
        if exc.field and exc.field in form:
            form[exc.field].errors = [exc.message]
        else:
            ctx["error"] = exc.message
        return render_page("community/report.html", block="report", status=422, **ctx)
    return render_page("community/report.html", block="report", sent=True, **ctx)
