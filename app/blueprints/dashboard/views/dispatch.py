"""Dispatch now, the operator's phone page and the business's on-demand settings.

``/dashboard/dispatch`` (any staff): go online or offline with a capacity; while online the
page sends the phone's position over the page's Socket.IO connection (``dispatch:position``,
:mod:`app.blueprints.realtime.dispatch_events`); an incoming offer appears live with a countdown
and Accept / Decline; an accepted job shows its next step (on the way, arrived, done). The
``panel`` block is re-fetched on every ``dispatch:*`` socket event and polled every
:data:`POLL_SECONDS` as a fallback.

``/dashboard/dispatch/settings`` (managers): on-demand on or off, and which services.

Conflicts (the offer lapsed a moment ago, the customer cancelled) answer 409 with the panel and
a notice; nothing is written then.
"""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectChoice, SelectMultipleField, widgets
from wtforms.validators import InputRequired, NumberRange

from app.audit.service import request_actor
from app.blueprints.dashboard import bp
from app.blueprints.dashboard.views.common import done
from app.dispatch import offers
from app.dispatch.errors import DispatchError, DispatchInputError
from app.dispatch.models import DispatchOperator, RequestStatus
from app.dispatch.operators import (
    accepted_job,
    current_jobs,
    find_operator,
    get_profile,
    live_offer,
    operator_for,
    operator_offer,
    save_profile,
    set_availability,
)
from app.dispatch.services import ON_DEMAND_SERVICES, service_name
from app.timeutil import utcnow
from app.web import parse_uuid, render_page
from app.web.access import manager_required

#: Seconds between the panel's fallback refreshes.
POLL_SECONDS = 10
#: The operator's next step from each working status: (status to move to, button label).
NEXT_STEP = {RequestStatus.ACCEPTED: ("on_the_way", _l("On the way")), RequestStatus.ON_THE_WAY: ("arrived", _l("Arrived")),
             RequestStatus.ARRIVED: ("done", _l("Done"))}


class AvailabilityForm(FlaskForm):
    """Online or offline, and how many jobs at once (1–10)."""

    online = BooleanField(_l("Online"))
    capacity = IntegerField(_l("Jobs at once"), default=1, validators=[InputRequired(), NumberRange(1, 10)])


class ProfileForm(FlaskForm):
    """On-demand dispatch on or off, and the services offered on demand."""

    enabled = BooleanField(_l("Take on-demand requests"))
    services = SelectMultipleField(_l("Services on demand"), choices=[SelectChoice(k, v) for k, v in ON_DEMAND_SERVICES.items()],
                                   option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))


def _panel(op: DispatchOperator | None, form: AvailabilityForm | None = None, notice: str = "",
           status: int = 200) -> Response:
    profile = get_profile()
    offer = jobs = None
    if op is not None:
        offer = live_offer(op)
        jobs = current_jobs(op)
    if form is None:
        form = AvailabilityForm(formdata=None, online=op.online if op else False, capacity=op.capacity if op else 1)
    return render_page("dashboard/dispatch.html", block="panel", status=status, op=op, form=form, offer=offer,
                       jobs=jobs or [], profile=profile, notice=notice, next_step=NEXT_STEP, service_name=service_name,
                       poll_seconds=POLL_SECONDS, now=utcnow())


@bp.get("/dashboard/dispatch")
@login_required
def dispatch() -> Response:
    """The operator's page: availability, the live offer, jobs in progress."""
    return _panel(find_operator(current_user.id))


@bp.post("/dashboard/dispatch/availability")
@login_required
def dispatch_availability() -> Response:
    """Go online or offline, with a capacity (422 with the error beside the field)."""
    form = AvailabilityForm()
    op = find_operator(current_user.id)
    if not form.validate():
        return _panel(op, form, status=422)
    op = op or operator_for(current_user.id, current_user.name or current_user.email)
    try:
        set_availability(op, bool(form.online.data), form.capacity.data)
    except DispatchInputError as exc:
        form.capacity.errors.append(exc.message)
        return _panel(op, form, status=422)
    return done(_("You are online: offers will appear here.") if op.online else _("You are offline."),
                url_for("dashboard.dispatch"))


def _answer(offer_id: str, accept: bool) -> Response:
    op = find_operator(current_user.id)
    oid = parse_uuid(offer_id)
    if op is None or oid is None or operator_offer(op, oid) is None:
        abort(404)  # not an offer made to this operator (another business's answers the same)
    try:
        if accept:
            offers.accept_offer(op, oid, request_actor())
        else:
            offers.decline_offer(op, oid)
    except DispatchError as exc:
        return _panel(find_operator(current_user.id), notice=exc.message, status=409)
    return _panel(find_operator(current_user.id), notice=_("Accepted: on your way when ready.") if accept else _("Declined."))


@bp.post("/dashboard/dispatch/offers/<offer_id>/accept")
@login_required
def dispatch_accept(offer_id: str) -> Response:
    """Accept the live offer ``offer_id`` (409 when it is no longer open; 404 when not this operator's)."""
    return _answer(offer_id, True)


@bp.post("/dashboard/dispatch/offers/<offer_id>/decline")
@login_required
def dispatch_decline(offer_id: str) -> Response:
    """Decline the live offer ``offer_id`` (409 when it is no longer open; 404 when not this operator's)."""
    return _answer(offer_id, False)


@bp.post("/dashboard/dispatch/jobs/<request_id>/step")
@login_required
def dispatch_step(request_id: str) -> Response:
    """The next step of a job (form field ``step``: on_the_way, arrived, done); 409 when the job
    moved on, 404 when it is not a job this operator accepted."""
    op = find_operator(current_user.id)
    rid = parse_uuid(request_id)
    if op is None or rid is None or not accepted_job(op, rid):
        abort(404)
    try:
        offers.advance_request(op, rid, request.form.get("step", ""))
    except DispatchError as exc:
        return _panel(find_operator(current_user.id), notice=exc.message, status=409)
    return _panel(find_operator(current_user.id))


@bp.route("/dashboard/dispatch/settings", methods=["GET", "POST"])
@login_required
@manager_required
def dispatch_settings() -> Response:
    """Managers: take on-demand requests or not, and for which services."""
    profile = get_profile()
    if request.method == "GET":
        form = ProfileForm(formdata=None, enabled=bool(profile and profile.enabled),
                           services=list(profile.services) if profile else [])
        return render_page("dashboard/dispatch_settings.html", block="form", form=form)
    form = ProfileForm()
    if form.validate():
        try:
            save_profile(bool(form.enabled.data), list(form.services.data or []))
        except DispatchInputError as exc:
            form.services.errors = [*form.services.errors, exc.message]
        else:
            return done(_("On-demand settings saved."), url_for("dashboard.dispatch_settings"))
    return render_page("dashboard/dispatch_settings.html", block="form", status=422, form=form)
