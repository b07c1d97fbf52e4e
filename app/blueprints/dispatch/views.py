"""The customer's side of dispatch now, on the apex (signed-in customers).

``/now``: pick a service, share the location (the browser's geolocation fills a point; or type a
postcode or place, geocoded by :func:`app.geo.geocode`) and ask. The request is offered to the
best operator at once and the customer lands on ``/now/<id>``, whose ``status`` block shows the
state (searching, offered, accepted with the ETA, on the way, arrived, done; or cancelled and
unfulfilled), re-fetched on every ``dispatch:changed`` socket event and polled every
:data:`POLL_SECONDS` as a fallback. Cancel while the operator has not arrived.

POSTs are rate-limited (:data:`REQUEST_LIMIT`). Another person's request answers 404.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.audit.service import request_actor
from app.blueprints.dispatch import bp
from app.dispatch.errors import DispatchError, DispatchInputError
from app.dispatch.models import CANCELLABLE, FINAL
from app.dispatch.offers import cancel_request
from app.dispatch.requests import customer_request, operator_summary, recent_requests, request_now
from app.dispatch.services import ON_DEMAND_SERVICES, service_name
from app.extensions import limiter
from app.geo import GeocodeError, geocode
from app.web import apex_only, parse_uuid, render_page

#: Requests (and cancels) one client may make.
REQUEST_LIMIT = "10 per 10 minutes;40 per day"
#: Seconds between the status block's fallback refreshes.
POLL_SECONDS = 4
#: The status steps shown as a timeline, in order.
TIMELINE = (("searching", _l("Finding someone")), ("offered", _l("Offered to an operator")), ("accepted", _l("Accepted")),
            ("on_the_way", _l("On the way")), ("arrived", _l("Arrived")), ("done", _l("Done")))


class NowForm(FlaskForm):
    """What and where: a service, a point (from the browser) or a place to geocode, an address line."""

    service = SelectField(_l("Service"), choices=[SelectChoice("", _l("Choose…")),
                                                *(SelectChoice(k, v) for k, v in ON_DEMAND_SERVICES.items())],
                          validators=[InputRequired(_l("Pick a service."))])
    lat = HiddenField()
    lon = HiddenField()
    place = StringField(_l("Postcode or place"), validators=[Optional(), Length(max=120)])
    address_line = StringField(_l("Address (street, number, floor)"), validators=[Optional(), Length(max=200)])


def _point(form: NowForm) -> tuple[float, float] | None:
    """The point of the form: the browser's, or the geocoded place (errors go on the fields)."""
    try:
        if form.lat.data and form.lon.data:
            return float(form.lat.data), float(form.lon.data)
    except ValueError:
        pass
    if not (form.place.data or "").strip():
        form.place.errors = [*form.place.errors, _("Share your location, or type a postcode or place.")]
        return None
    try:
        found = geocode(form.place.data)
    except GeocodeError as exc:
        form.place.errors = [*form.place.errors, exc.message]
        return None
    return found.lat, found.lon


@bp.route("/now", methods=["GET", "POST"])
@apex_only
@login_required
@limiter.limit(REQUEST_LIMIT, methods=["POST"])
def now() -> Response:
    """The request form (GET), and asking (POST: 303 to the status page, or 422 with the errors)."""
    if request.method == "GET":
        form = NowForm(formdata=None, service=request.args.get("service", ""))
        return render_page("dispatch/now.html", block="form", form=form, recent=recent_requests(current_user.id),
                           service_name=service_name)
    form = NowForm()
    point = _point(form) if form.validate() else None
    if point is None:
        return render_page("dispatch/now.html", block="form", status=422, form=form, recent=[],
                           service_name=service_name)
    try:
        req = request_now(current_user.id, current_user.name or "", form.service.data, point[0], point[1],
                          (form.address_line.data or form.place.data or "").strip())
    except DispatchInputError as exc:
        getattr(form, exc.field if exc.field in ("service",) else "place").errors.append(exc.message)
        return render_page("dispatch/now.html", block="form", status=422, form=form, recent=[],
                           service_name=service_name)
    return redirect(url_for("dispatch.status", request_id=req.id), 303)


def _own_request_or_404(request_id: str):
    rid = parse_uuid(request_id)
    req = customer_request(rid, current_user.id) if rid else None
    if req is None:
        abort(404)
    return req


def _status(req, status: int = 200, notice: str = "") -> Response:
    return render_page("dispatch/status.html", block="status", status=status, req=req, who=operator_summary(req),
                       timeline=TIMELINE, cancellable=req.status in CANCELLABLE, final=req.status in FINAL,
                       service_name=service_name, poll_seconds=POLL_SECONDS, notice=notice)


@bp.get("/now/<request_id>")
@apex_only
@login_required
def status(request_id: str) -> Response:
    """The live status of one of the customer's requests."""
    return _status(_own_request_or_404(request_id))


@bp.post("/now/<request_id>/cancel")
@apex_only
@login_required
@limiter.limit(REQUEST_LIMIT)
def cancel(request_id: str) -> Response:
    """Cancel the request while the operator has not arrived (409 with the status otherwise)."""
    req = _own_request_or_404(request_id)
    try:
        req = cancel_request(req.id, current_user.id, request_actor())
    except DispatchError as exc:
        return _status(_own_request_or_404(request_id), status=409, notice=exc.message)
    return _status(req, notice=_("Your request is cancelled."))
