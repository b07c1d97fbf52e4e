"""The customer's manage page of a job request (apex) and the decisions on its offers.

Who may open ``/requests/<id>``: the holder of its manage token (``?t=``, from the first
email or the wizard's last step), a visitor who came through a signed email link
(``/requests/<id>/from-email?s=``), and the signed-in account that owns the request. A token or
signed link is remembered in the session, so the actions that follow (pick a time, confirm,
reject, message) need not carry it. Anyone else gets 404, exactly like a request that does not
exist.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.service import request_actor
from app.blueprints.requests_manage import bp
from app.blueprints.requests_manage.forms import ConfirmForm, RejectForm
from app.blueprints.requests_manage.limits import action_limits
from app.booking.errors import SlotUnavailable
from app.errors import InputError
from app.extensions import db
from app.formatting import format_local
from app.leads.access import request_for_token
from app.leads.confirm import DecisionRefused, available_starts, confirm_quote, reject_quote
from app.leads.customer import booked_job, leads_of, offers_for, timeline
from app.leads.inbox_links import request_id_from_email_signature
from app.leads.models import JobRequest
from app.tenants.context import platform_scope
from app.web import apex_only, render_page

#: Session key: ids (text) of the job requests this browser opened with a token or signed link.
SESSION_KEY = "job_requests_opened"
#: At most this many remembered requests per session (the newest kept).
SESSION_MAX = 20


def _remember(request_id: uuid.UUID) -> None:
    opened = [r for r in session.get(SESSION_KEY, []) if r != str(request_id)]
    session[SESSION_KEY] = (opened + [str(request_id)])[-SESSION_MAX:]


def _load(request_id: uuid.UUID) -> JobRequest | None:
    with platform_scope("job request: the customer's manage page"):
        return db.session.get(JobRequest, request_id)


def get_request_or_404(request_id: uuid.UUID) -> JobRequest:
    """The job request the visitor may manage (token in ``?t=`` or ``Authorization: Bearer``,
    remembered in the session, or owned by the signed-in account); 404 otherwise."""
    token = request.args.get("t")
    if token:
        found = request_for_token(request_id, token)
        if found is None:
            abort(404)
        _remember(request_id)
        return found
    found = _load(request_id)
    if found is None or found.status == "draft":
        abort(404)
    if str(request_id) in session.get(SESSION_KEY, []):
        return found
    if current_user.is_authenticated and found.user_id == current_user.id:
        return found
    abort(404)


def _manage_page(job_request: JobRequest, status: int = 200, *, reject_form: RejectForm | None = None,
                 reject_lead: uuid.UUID | None = None) -> Response:
    leads = leads_of(job_request.id)
    return render_page("requests/manage.html", block="manage", status=status, jr=job_request,
                       steps=timeline(job_request, leads), offers=offers_for(job_request.id),
                       booked=booked_job(job_request), reject_form=reject_form or RejectForm(formdata=None),
                       reject_lead=reject_lead)


@bp.get("/requests/<uuid:request_id>")
@apex_only
def manage(request_id: uuid.UUID) -> Response:
    """The manage page: status timeline, details, the offers with confirm / reject / message."""
    job_request = get_request_or_404(request_id)
    resp = _manage_page(job_request)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.get("/requests/<uuid:request_id>/from-email")
@apex_only
def from_email(request_id: uuid.UUID) -> Response:
    """A signed link from an email: remember the request in the session, then the manage page."""
    if request_id_from_email_signature(request.args.get("s", "")) != request_id or _load(request_id) is None:
        abort(404)
    _remember(request_id)
    return redirect(url_for("requests_manage.manage", request_id=request_id), 303)


@bp.post("/requests/<uuid:request_id>/offers/<uuid:lead_id>/reject")
@apex_only
@action_limits
def reject(request_id: uuid.UUID, lead_id: uuid.UUID) -> Response:
    """Turn one offer down (with an optional reason); the provider is told."""
    job_request = get_request_or_404(request_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _manage_page(job_request, 422, reject_form=form, reject_lead=lead_id)
    try:
        reject_quote(job_request.id, lead_id, form.reason.data or "", request_actor())
    except DecisionRefused as exc:
        form.reason.errors = [exc.message]
        return _manage_page(job_request, 422, reject_form=form, reject_lead=lead_id)
    flash(_("You turned that offer down; the provider has been told."), "success")
    return redirect(url_for("requests_manage.manage", request_id=request_id), 303)


def _pick_page(job_request: JobRequest, lead_id: uuid.UUID, status: int = 200, form: ConfirmForm | None = None,
               error: str | None = None, alternatives: list[datetime] | None = None) -> Response:
    offer = next((o for o in offers_for(job_request.id) if o.lead_id == lead_id), None)
    if offer is None:
        abort(404)
    try:
        tenant, starts = available_starts(job_request.id, lead_id)
    except DecisionRefused as exc:
        flash(exc.message, "error")
        return redirect(url_for("requests_manage.manage", request_id=job_request.id), 303)
    days: dict[str, list[datetime]] = {}
    for start in starts:
        days.setdefault(format_local(start, tenant.timezone, "%a %-d %b"), []).append(start)
    return render_page("requests/manage_book.html", block="pick", status=status, jr=job_request, offer=offer,
                       tz=tenant.timezone, days=days, form=form or ConfirmForm(formdata=None), error=error,
                       alternatives=alternatives or [])


@bp.get("/requests/<uuid:request_id>/offers/<uuid:lead_id>/book")
@apex_only
def pick_time(request_id: uuid.UUID, lead_id: uuid.UUID) -> Response:
    """Pick a start from the provider's availability for the quoted duration."""
    job_request = get_request_or_404(request_id)
    return _pick_page(job_request, lead_id)


def _parse_start(raw: str | None) -> datetime | None:
    try:
        value = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo else None


@bp.post("/requests/<uuid:request_id>/offers/<uuid:lead_id>/confirm")
@apex_only
@action_limits
def confirm(request_id: uuid.UUID, lead_id: uuid.UUID) -> Response:
    """Confirm the quote at the chosen start: a booking at the provider; the request is booked."""
    job_request = get_request_or_404(request_id)
    form = ConfirmForm()
    start = _parse_start(form.start.data) if form.validate_on_submit() else None
    if start is None:
        return _pick_page(job_request, lead_id, 422, form, _("Pick one of the times below."))
    try:
        confirm_quote(job_request.id, lead_id, start, request_actor())
    except SlotUnavailable as exc:
        db.session.rollback()
        return _pick_page(job_request, lead_id, 422, form, _("%(reason)s Please pick another time.", reason=exc.message),
                          exc.alternatives)
    except InputError as exc:
        db.session.rollback()
        return _pick_page(job_request, lead_id, 422, form, exc.message)
    flash(_("Booked! The provider has the job in their calendar."), "success")
    return redirect(url_for("requests_manage.manage", request_id=request_id), 303)
