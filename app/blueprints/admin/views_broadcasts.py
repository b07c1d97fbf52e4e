"""Broadcasts in the console: the list, the three-step wizard and a broadcast's live progress.

- ``/admin/broadcasts``: every broadcast, newest first.
- ``/admin/broadcasts/new`` (step 1, audience) -> ``/<id>/message`` (step 2, message and channels)
  -> ``/<id>/review`` (step 3, preview: the count and a rendered sample; schedule now or later).
  The draft is a row from step 1 on, so a step can be revisited. On HTMX each step answers the
  next step's ``wizard`` block (and pushes its URL); without JavaScript, a 303 to it.
- ``/admin/broadcasts/<id>``: status with a progress bar polled every 2 s while it sends, and the
  stop button (``POST /<id>/stop``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.audit.service import AuditActor
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.blueprints.admin.broadcast_forms import AudienceForm, MessageForm, ScheduleForm
from app.broadcasts import service
from app.broadcasts.audience import Audience, AudienceError, describe, make_audience
from app.broadcasts.models import DRAFT, Broadcast
from app.broadcasts.service import BroadcastError
from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.tenants.taxonomy import active_categories
from app.web import is_htmx, parse_uuid, render_page

CHANNEL_LABELS = {"inapp": _l("In the app"), "email": _l("Email")}


def _actor() -> AuditActor:
    return AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)


def _broadcast_or_404(broadcast_id: str) -> Broadcast:
    b = service.get_broadcast(parse_uuid(broadcast_id))
    if b is None:
        abort(404)
    return b


def _draft_or_redirect(broadcast_id: str) -> Broadcast | Response:
    b = _broadcast_or_404(broadcast_id)
    if b.status != DRAFT:
        return redirect(url_for("admin.broadcast", broadcast_id=b.id), 303)
    return b


def _audience_page(form: AudienceForm, b: Broadcast | None = None, status: int = 200) -> Response:
    form.category.choices = [SelectChoice("", _("Any category"))] + [SelectChoice(c.slug, c.name)
                                                                  for c in active_categories()]
    return render_page("admin/broadcast_audience.html", block="wizard", status=status, form=form, broadcast=b,
                       step=1)


def _message_page(b: Broadcast, form: MessageForm, channels: list[str], status: int = 200,
                  channels_error: str | None = None) -> Response:
    return render_page("admin/broadcast_message.html", block="wizard", status=status, form=form, broadcast=b,
                       channels=channels, labels=CHANNEL_LABELS, audience=describe(Audience.from_json(b.audience)),
                       step=2, max_subject=service.MAX_SUBJECT, max_body=service.MAX_BODY,
                       channels_error=channels_error)


def _review_page(b: Broadcast, form: ScheduleForm, status: int = 200) -> Response:
    return render_page("admin/broadcast_review.html", block="wizard", status=status, form=form, broadcast=b,
                       preview=service.preview(b), labels=CHANNEL_LABELS, step=3)


def _next(endpoint: str, page: Response, **values: object) -> Response:
    """HTMX: ``page`` (the next step's block) with its URL pushed; otherwise a 303 to it."""
    url = url_for(endpoint, **values)
    if is_htmx():
        page.headers["HX-Push-Url"] = url
        return page
    return redirect(url, 303)


@bp.get("/broadcasts")
@admin_required
def broadcasts() -> Response:
    """Every broadcast, newest first, with its status and progress."""
    items = service.list_broadcasts()
    return render_page("admin/broadcasts.html", broadcasts=items,
                       audiences={b.id: describe(Audience.from_json(b.audience)) for b in items})


def _business_slug(audience: dict) -> str:
    if not audience.get("tenant_id"):
        return ""
    with platform_scope("broadcast wizard: the chosen business's address name"):
        tenant = db.session.get(Tenant, uuid.UUID(audience["tenant_id"]))
    return tenant.slug if tenant is not None else ""


@bp.route("/broadcasts/new", methods=["GET", "POST"])
@bp.route("/broadcasts/<broadcast_id>/audience", methods=["GET", "POST"])
@admin_required
def broadcast_audience(broadcast_id: str | None = None) -> Response:
    """Step 1: whom it goes to. A valid choice creates (or updates) the draft and moves to step 2;
    a bad one answers 422 with the message beside its field."""
    b = None
    if broadcast_id is not None:
        found = _draft_or_redirect(broadcast_id)
        if isinstance(found, Response):
            return found
        b = found
    if request.method == "GET":
        data = dict(b.audience) if b is not None else {}
        return _audience_page(AudienceForm(formdata=None, business=_business_slug(data), **{
            k: v for k, v in data.items() if k in ("kind", "plan", "country", "category", "city")}), b)
    form = AudienceForm()
    form.validate()
    try:
        audience = make_audience(form.kind.data or "", plan=form.plan.data or "", country=form.country.data or "",
                                 category=form.category.data or "", city=form.city.data or "",
                                 business=form.business.data or "")
    except AudienceError as exc:
        getattr(form, exc.field or "kind").errors = [exc.message]
        return _audience_page(form, b, status=422)
    if b is None:
        b = service.create_draft(audience, by=_actor())
    else:
        service.update_audience(b, audience)
    return _next("admin.broadcast_message", _message_page(b, MessageForm(formdata=None), list(service.CHANNELS)),
                 broadcast_id=b.id)


@bp.route("/broadcasts/<broadcast_id>/message", methods=["GET", "POST"])
@admin_required
def broadcast_message(broadcast_id: str) -> Response:
    """Step 2: subject, message and channels; then step 3, or 422 with the errors inline."""
    found = _draft_or_redirect(broadcast_id)
    if isinstance(found, Response):
        return found
    b = found
    if request.method == "GET":
        form = MessageForm(formdata=None, subject=b.subject, body=b.body)
        return _message_page(b, form, list(b.channels) or list(service.CHANNELS))
    form = MessageForm()
    form.validate()
    channels = request.form.getlist("channels")
    try:
        service.set_message(b, form.subject.data or "", form.body.data or "", channels)
    except BroadcastError as exc:
        if exc.field in ("subject", "body"):
            getattr(form, exc.field).errors = [exc.message]
            return _message_page(b, form, channels, status=422)
        return _message_page(b, form, channels, status=422, channels_error=exc.message)
    return _next("admin.broadcast_review", _review_page(b, ScheduleForm(formdata=None)), broadcast_id=b.id)


def _parse_send_at(form: ScheduleForm) -> datetime | None:
    """The chosen time (UTC), or ``None`` for now.

    Raises:
        BroadcastError: "later" without a readable time.
    """
    if form.when.data != "later":
        return None
    try:
        return datetime.fromisoformat(form.send_at.data or "").replace(tzinfo=UTC)
    except ValueError:
        raise BroadcastError(_("Enter a date and time, e.g. 2026-12-24T09:00."), "send_at") from None


@bp.route("/broadcasts/<broadcast_id>/review", methods=["GET", "POST"])
@admin_required
def broadcast_review(broadcast_id: str) -> Response:
    """Step 3: the preview (how many it reaches, what they see) and the schedule; sending it
    leads to the broadcast's progress page."""
    found = _draft_or_redirect(broadcast_id)
    if isinstance(found, Response):
        return found
    b = found
    if not b.subject or not b.channels:
        return redirect(url_for("admin.broadcast_message", broadcast_id=b.id), 303)
    if request.method == "GET":
        return _review_page(b, ScheduleForm(formdata=None))
    form = ScheduleForm()
    form.validate()
    try:
        service.schedule(b, _parse_send_at(form), by=_actor())
    except BroadcastError as exc:
        getattr(form, exc.field or "when").errors = [exc.message]
        return _review_page(b, form, status=422)
    return redirect(url_for("admin.broadcast", broadcast_id=b.id), 303)


def _status_page(b: Broadcast, status: int = 200) -> Response:
    return render_page("admin/broadcast.html", block="progress", status=status, broadcast=b,
                       progress=service.progress(b), audience=describe(Audience.from_json(b.audience)),
                       labels=CHANNEL_LABELS)


@bp.get("/broadcasts/<broadcast_id>")
@admin_required
def broadcast(broadcast_id: str) -> Response:
    """A broadcast's status and progress (HTMX: the progress block alone, polled while it sends)."""
    b = _broadcast_or_404(broadcast_id)
    if b.status == DRAFT:
        return redirect(url_for("admin.broadcast_audience", broadcast_id=b.id), 303)
    return _status_page(b)


@bp.post("/broadcasts/<broadcast_id>/stop")
@admin_required
def stop_broadcast(broadcast_id: str) -> Response:
    """Stop a scheduled or sending broadcast: nobody still waiting gets it (409 when it cannot)."""
    b = _broadcast_or_404(broadcast_id)
    try:
        service.stop(b, by=_actor())
    except BroadcastError:
        return _status_page(b, status=409)
    if is_htmx():
        return _status_page(b)
    return redirect(url_for("admin.broadcast", broadcast_id=b.id), 303)
