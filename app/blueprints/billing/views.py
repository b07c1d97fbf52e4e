"""The billing page of a business's dashboard: plan, status, invoices and the actions
(subscribe, change plan, cancel at period end, resume, update card, refresh from Stripe).

Owners and managers only (:mod:`app.web.access`): the apex and other users get 404, plain
staff 403; anonymous users go to the login page. Every action is a plain POST form (303 back to the page, a flash message).
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel.numbers import format_percent
from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.billing import service
from app.billing.errors import BillingError, CheckoutAlreadyPaid
from app.billing.gateway import BillingGatewayError, get_gateway
from app.billing.plans import PAID_PLANS, PLANS, billing_enabled, current_plan, grace_period, setting
from app.blueprints.billing import bp
from app.extensions import db
from app.formatting import reader_locale
from app.web import render_page
from app.web.access import require_manager

bp.before_request(require_manager)  # owners and managers (app.web.access policy)


def _local_mode() -> bool:
    return setting("STRIPE_MODE") == "local"


@bp.get("/dashboard/billing")
def page() -> Response:
    """The plan in force, the subscription row (derived from Stripe's webhooks), plans and invoices."""
    sub = service.get_subscription() if billing_enabled() else None
    invoices: list[dict] = []
    invoice_error = None
    if sub is not None:
        try:
            invoices = [{"created_at": datetime.fromtimestamp(int(i.get("created") or 0), UTC),
                         "total": int(i.get("total") or 0), "currency": str(i.get("currency") or "usd").upper(),
                         "status": i.get("status") or "", "url": i.get("hosted_invoice_url")}
                        for i in service.list_invoices()]
        except BillingGatewayError as exc:
            invoice_error = str(exc)
    return render_page("billing/page.html", enabled=billing_enabled(), sub=sub, plan=current_plan(),
                       plans=list(PLANS.values()), paid_plans=PAID_PLANS, invoices=invoices,
                       invoice_error=invoice_error, local_mode=_local_mode(), sms=service.sms_allowance(g.tenant.id),
                       grace_days=grace_period().days, live=sub is not None and sub.stripe_subscription_id
                       and sub.status not in service.FINAL_STATUSES, percent=fee_percent)


def fee_percent(bps: int) -> str:
    """A fee in basis points as a percentage in the reader's locale: ``150`` -> ``1.5%`` (en), ``1,5 %`` (da)."""
    return format_percent(bps / 10000, locale=reader_locale(), decimal_quantization=False)


def _test_card() -> str | None:
    """Local mode: a payment method from the chosen test card (``card`` form field)."""
    if not _local_mode():
        return None
    number = request.form.get("card") or "4242424242424242"
    if not number.isdigit() or len(number) != 16:
        number = "4242424242424242"
    return get_gateway().create_test_payment_method(number)


def _act(fn, message: str) -> Response:
    """Run billing action ``fn`` and answer with a redirect (303) to the billing page (or the URL
    ``fn`` returns): the request's unit of work commits it. A refusal is flashed; its partial
    writes are dropped, except for :class:`CheckoutAlreadyPaid`, whose subscription derived from
    the paid Checkout is kept (committed with the redirect)."""
    try:
        url = fn()
    except (BillingError, BillingGatewayError) as exc:
        if not isinstance(exc, CheckoutAlreadyPaid):
            db.session.rollback()  # answered with a redirect (3xx), which would otherwise commit
        flash(str(exc), "error")
        return redirect(url_for("billing.page"), 303)
    if isinstance(url, str) and url:
        return redirect(url, 303)
    sub = service.get_subscription()
    if sub is not None and sub.status in {"past_due", "unpaid", "incomplete"}:
        flash(_("%(message)s The payment did not go through: update your card to pay the open invoice.", message=message),
              "error")
        return redirect(url_for("billing.page"), 303)
    flash(message, "success")
    return redirect(url_for("billing.page"), 303)


@bp.post("/dashboard/billing/subscribe")
def subscribe() -> Response:
    """Subscribe to the ``plan`` form field (Checkout, or a test card in local mode)."""
    code = request.form.get("plan", "")
    return _act(lambda: service.subscribe(code, current_user.email, g.tenant.name, _test_card()),
                _("You are now subscribed to %(plan)s.", plan=PLANS.get(code, PLANS['free']).label))


@bp.post("/dashboard/billing/change")
def change() -> Response:
    """Upgrade or downgrade to the ``plan`` form field (prorated)."""
    code = request.form.get("plan", "")
    return _act(lambda: service.change_plan(code), _("Your plan is now %(plan)s.", plan=PLANS.get(code, PLANS['free']).label))


@bp.post("/dashboard/billing/cancel")
def cancel() -> Response:
    """Cancel at the end of the current period."""
    return _act(lambda: service.set_cancel_at_period_end(True),
                _("Your subscription will end at the end of the current period."))


@bp.post("/dashboard/billing/resume")
def resume() -> Response:
    """Undo a pending cancellation."""
    return _act(lambda: service.set_cancel_at_period_end(False), _("Your subscription continues."))


@bp.post("/dashboard/billing/card")
def card() -> Response:
    """Replace the card (billing portal, or a test card in local mode) and retry an open invoice."""
    return _act(lambda: service.update_card(_test_card()), _("Your card was updated."))


@bp.post("/dashboard/billing/refresh")
def refresh() -> Response:
    """Re-derive the subscription from Stripe now."""
    return _act(lambda: service.refresh_from_stripe() and None, _("Refreshed from Stripe."))
