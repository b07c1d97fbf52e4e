"""The credits page (``/dashboard/credits``, owners and managers): the lead-credit balance, the
packs on sale with a Buy button each, and the ledger (kind, amount, balance before -> after, the
lead, the date; a receipt line per purchase).

Buy opens a Stripe Checkout Session (:func:`app.credits.purchase.start_purchase`) and sends the
browser there (303). Stripe returns the owner to ``/dashboard/credits/return?session_id=…``, which
grants the pack's credits if the session is paid (the webhook grants them too; the ledger's
idempotency key makes one of the two a no-op). A refused purchase re-renders the page with 422
and the error beside the packs; nothing is written.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import DataRequired

from app.billing.gateway import BillingGatewayError
from app.blueprints.dashboard import bp
from app.credits.ledger import balance, entries
from app.credits.packs import packs
from app.credits.purchase import complete_return, start_purchase
from app.errors import InputError
from app.extensions import limiter
from app.tenants.urls import external_url
from app.web import is_htmx, render_page
from app.web.access import manager_required

#: Checkout Sessions a business may open per hour.
BUY_LIMIT = "20 per hour"
#: Ledger entries the page shows, newest first.
LEDGER_ROWS = 100


class BuyForm(FlaskForm):
    """Buy one pack: its ``pack`` code (the Buy button of that pack)."""

    pack = HiddenField(_l("Pack"), validators=[DataRequired(_l("Choose a pack."))])


def render_credits(form: BuyForm, status: int = 200) -> Response:
    """The credits page with the buy ``form`` (the ``packs`` block for HTMX)."""
    return render_page("dashboard/credits.html", block="packs", status=status, form=form, balance=balance(),
                       packs=packs(), entries=entries(LEDGER_ROWS), tz=g.tenant.timezone)


def to_checkout(url: str) -> Response:
    """Send the browser to Stripe Checkout at ``url``: ``HX-Redirect`` for HTMX (a plain
    navigation, which the Content-Security-Policy's ``form-action`` does not restrict), else 303."""
    if is_htmx():
        resp = current_app.make_response(("", 200))
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url, 303)


@bp.get("/dashboard/credits")
@manager_required
def credits() -> Response:
    """The balance, the packs and the ledger."""
    return render_credits(BuyForm(formdata=None))


@bp.post("/dashboard/credits/buy")
@manager_required
@limiter.limit(BUY_LIMIT, key_func=lambda: str(g.tenant.id), scope="credits-buy")
def credits_buy() -> Response:
    """Open a Stripe Checkout Session for the chosen pack and go there (303); 422 with the error
    beside the packs when the pack is unknown or Checkout is unavailable."""
    form = BuyForm()
    if form.validate():
        page = external_url("dashboard.credits", tenant=g.tenant)
        try:
            url = start_purchase(form.pack.data, current_user.email,
                                 success_url=external_url("dashboard.credits_return", tenant=g.tenant),
                                 cancel_url=page)
        except (InputError, BillingGatewayError) as exc:
            form.pack.errors = [*form.pack.errors, getattr(exc, "message", None) or str(exc)]
        else:
            return to_checkout(url)
    return render_credits(form, 422)


@bp.get("/dashboard/credits/return")
@manager_required
def credits_return() -> Response:
    """Back from Stripe Checkout: grant the session's credits if it is paid, then show the page."""
    session_id = (request.args.get("session_id") or "")[:255]
    move = None
    if session_id.startswith("cs_"):
        try:
            move = complete_return(session_id)
        except BillingGatewayError:
            move = None
    if move is not None:
        flash(ngettext("%(num)d credit added. Your balance is %(balance)d credits.",
                       "%(num)d credits added. Your balance is %(balance)d credits.", move.entry.amount,
                       balance=balance()), "success")
    else:
        flash(_("Your payment is being confirmed; the credits appear here in a moment."), "success")
    return redirect(url_for("dashboard.credits"), 303)
