"""The console's access steps: the second factor of every admin session (enrolment the first
time) and the reason form of :func:`app.blueprints.admin.access.require_reason`."""

from __future__ import annotations

import uuid

import segno
from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.service import record_audit
from app.blueprints.admin import bp
from app.blueprints.admin.access import (
    REASON_MINUTES,
    admin_first_factor,
    admin_required,
    audit_actor,
    mark_second_factor_passed,
    remember_reason,
    second_factor_passed,
)
from app.blueprints.admin.forms_access import ReasonForm, SecondFactorForm
from app.blueprints.auth.security import AUTH_LIMIT, safe_next
from app.extensions import limiter
from app.identity.sessions import rotate_session
from app.identity.totp import (
    confirm_enrolment,
    is_enrolled,
    provisioning_uri,
    recovery_codes_left,
    start_enrolment,
    totp_of,
    verify_second_factor,
)
from app.web import render_page


def _next_page(form_next: str | None) -> str:
    return safe_next(form_next) or url_for("admin.home")


def _enrolment_page(form: SecondFactorForm, status: int = 200, error: str | None = None) -> Response:
    record = totp_of(current_user.id)
    if record is None or record.confirmed_at is not None:
        record = start_enrolment(current_user)
    uri = provisioning_uri(current_user, record.secret)
    qr = segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    return render_page("admin/totp.html", block="form", form=form, enrol=True, uri=uri, secret=record.secret,
                       qr=qr, error=error, status=status)


@bp.route("/second-factor", methods=["GET", "POST"])
@admin_first_factor
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def second_factor() -> Response:
    """The second-factor step: enrol (QR code or secret, then a first code; shows the ten
    recovery codes once) or enter a code from the app or a recovery code. A wrong code answers
    422 with the form; a passed step goes to ``next`` (a console path)."""
    form = SecondFactorForm()
    enrolled = is_enrolled(current_user.id)
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if second_factor_passed():
            return redirect(_next_page(form.next.data))
        if not enrolled:
            return _enrolment_page(form)
        return render_page("admin/totp.html", block="form", form=form, enrol=False)
    if not form.validate_on_submit():
        if not enrolled:
            return _enrolment_page(form, 422)
        return render_page("admin/totp.html", block="form", form=form, enrol=False, status=422)
    if not enrolled:
        codes = confirm_enrolment(current_user, form.code.data)
        if codes is None:
            return _enrolment_page(form, 422, _("That code is not right. Enter the current code your app shows."))
        record_audit(audit_actor(), "admin.second_factor_enrolled", "user", current_user.id)
        rotate_session()
        mark_second_factor_passed()
        return render_page("admin/totp_codes.html", codes=codes, next_url=_next_page(form.next.data))
    method = verify_second_factor(current_user, form.code.data)
    if method is None:
        form.code.data = ""
        return render_page("admin/totp.html", block="form", form=form, enrol=False, status=422,
                           error=_("That code is not right, or it was already used. Wait for the next code."))
    if method == "recovery":
        record_audit(audit_actor(), "admin.recovery_code_used", "user", current_user.id,
                     after={"recovery_codes_left": recovery_codes_left(current_user.id)})
    rotate_session()
    mark_second_factor_passed()
    return redirect(_next_page(form.next.data))


@bp.route("/reason", methods=["GET", "POST"])
@admin_required
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def give_reason() -> Response:
    """The short form that asks why the admin opens one business's record (query: ``object_type``,
    ``object_id``, ``tenant_id``, ``next``); the reason covers that record for 30 minutes, then
    the admin goes back to ``next`` where the read is audit-logged with it."""
    object_type = request.args.get("object_type", "")[:32]
    object_id = request.args.get("object_id", "")[:64]
    if not object_type or not object_id:
        return redirect(url_for("admin.home"))
    form = ReasonForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    elif form.validate_on_submit():
        remember_reason(object_type, object_id, form.reason.data.strip())
        return redirect(_next_page(form.next.data))
    tenant_id = request.args.get("tenant_id")
    try:
        tenant = uuid.UUID(tenant_id) if tenant_id else None
    except ValueError:
        tenant = None
    return render_page("admin/reason.html", block="form", form=form, object_type=object_type, object_id=object_id,
                       tenant_id=tenant, minutes=REASON_MINUTES, status=422 if request.method == "POST" else 200)
