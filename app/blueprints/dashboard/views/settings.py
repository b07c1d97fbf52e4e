"""Set-up: the booking rules and the API tokens."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.dashboard import bp
from app.blueprints.dashboard.forms import (
    RulesForm,
    TokenForm,
)
from app.blueprints.dashboard.views.common import current_tenant, done, tenant_tz_name
from app.catalog.rules import BookingRulesInput, RulesError, update_booking_rules
from app.extensions import db
from app.identity.models import ApiToken, User
from app.identity.service import create_api_token
from app.identity.tokens import list_api_tokens, revoke_api_token
from app.web import get_or_404, is_htmx, render_page
from app.web.access import manager_required


@bp.route("/dashboard/rules", methods=["GET", "POST"])
@login_required
@manager_required
def rules() -> Response:
    """Booking rules of this business: notice, horizon, slot interval, confirmation, cut-off,
    and the hourly cap on public online bookings."""
    tenant = current_tenant()
    form = RulesForm(obj=tenant if request.method == "GET" else None)
    if request.method == "POST":
        if form.validate():
            try:
                with db.session.begin_nested():  # refused rules leave the business's rules as they were
                    update_booking_rules(tenant, BookingRulesInput(
                        lead_time_minutes=form.lead_time_minutes.data, horizon_days=form.horizon_days.data,
                        slot_interval_minutes=form.slot_interval_minutes.data,
                        requires_confirmation=bool(form.requires_confirmation.data),
                        cancellation_cutoff_hours=form.cancellation_cutoff_hours.data,
                        public_bookings_per_hour=(tenant.public_bookings_per_hour
                                                  if form.public_bookings_per_hour.data is None
                                                  else form.public_bookings_per_hour.data)))
            except RulesError as exc:
                getattr(form, exc.field).errors.append(exc.message)
            else:
                return done(_("Booking rules saved."), url_for("dashboard.rules"))
        return render_page("dashboard/rules.html", block="form", status=422, form=form)
    return render_page("dashboard/rules.html", block="form", form=form)


def _render_tokens(form: TokenForm | None = None, status: int = 200, secret: str | None = None,
                   created: ApiToken | None = None, notice: str | None = None) -> Response:
    tokens = list_api_tokens()
    creators = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_({t.created_by for t in tokens if t.created_by})))} if tokens else {}
    return render_page("dashboard/tokens.html", block="tokens", status=status, form=form or TokenForm(formdata=None),
                       tokens=tokens, creators=creators, secret=secret, created=created, notice=notice,
                       tz_name=tenant_tz_name())


@bp.route("/dashboard/api-tokens", methods=["GET", "POST"])
@login_required
@manager_required
def tokens() -> Response:
    """Staff API tokens: create (the secret is shown once, in this response), list, revoke."""
    if request.method == "GET":
        return _render_tokens()
    form = TokenForm()
    if not form.validate():
        return _render_tokens(form, status=422)
    row, secret = create_api_token(form.name.data, current_user.id)
    return _render_tokens(secret=secret, created=row)


@bp.post("/dashboard/api-tokens/<token_id>/revoke")
@login_required
@manager_required
def token_revoke(token_id: str) -> Response:
    """Revoke a token; API calls with it are refused from now on."""
    row = get_or_404(ApiToken, token_id)
    revoke_api_token(row)
    if is_htmx():
        return _render_tokens(notice=_("“%(name)s” was revoked.", name=row.name))
    return done(_("“%(name)s” was revoked.", name=row.name), url_for("dashboard.tokens"))
