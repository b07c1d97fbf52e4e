"""Payments pages.

Business side (tenant host, owners and managers; other staff 403, non-staff 404, anonymous
to the login page): ``/dashboard/payments`` shows the Stripe connection, the money policy,
each service's payment rule and the ledger; ``/dashboard/payments/ledger.csv`` exports it.

Customer side (tenant host, signed manage token): ``/pay/<token>`` shows what is due, the
policy and the time left on the hold. With ``STRIPE_PUBLISHABLE_KEY`` the card form runs
Stripe.js (``STRIPE_JS_URL``): ``POST /pay/<token>/card/setup`` hands it a SetupIntent's
client secret, the browser saves the card with ``confirmCardSetup``, ``POST
/pay/<token>/card/charge`` charges it server-side and, when the bank asks for
authentication, answers the client secret for ``confirmCardPayment``; both answer JSON or
``application/problem+json``. ``POST /pay/<token>`` (test mode) confirms with a Stripe test
card server-side. Paid bookings go to the confirmation page.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.blueprints.payments import bp
from app.blueprints.payments.forms import PolicyForm, ServiceRuleForm
from app.booking.models import Booking, BookingStatus
from app.booking.service import open_manage_link
from app.catalog.models import Service
from app.catalog.service import list_services
from app.checkout.pay import Refused, pay_with_saved_card, pay_with_test_card, start_card_payment
from app.extensions import db, limiter
from app.formatting import currency_decimals, format_money
from app.payments.connect import connect_account, start_connect_onboarding, sync_connect_account
from app.payments.errors import PaymentUnavailable
from app.payments.gateway import (
    LocalConnect,
    card_form_enabled,
    connect_mode,
    payments_enabled,
    setting,
    stripe_js_url,
    test_payments_allowed,
)
from app.payments.holds import booking_payment, hold_active
from app.payments.ledger import ledger_entries
from app.payments.policy import (
    BusinessPolicy,
    PaymentMode,
    ServiceRule,
    amount_due,
    describe,
    free_until,
    policy_warnings,
)
from app.payments.queries import PaymentSummary, payment_summary
from app.payments.settings import (
    PaymentsOff,
    accepts_payments,
    business_policy,
    choose_service_rule,
    payments_off_reason,
    save_business_policy,
    service_rule,
)
from app.tenants.urls import external_url
from app.uow import keep_work
from app.web import get_or_404, problem, render_page, tenant_required
from app.web.access import manager_required

#: Card form calls per client address: a few cards tried, never a card-testing run.
CARD_LIMIT = "20 per 10 minutes"


def _page(policy_form: PolicyForm | None = None, rule_forms: dict | None = None, status: int = 200,
          block: str | None = None) -> Response:
    policy = business_policy()
    policy_form = policy_form or PolicyForm(data={
        "free_cancellation_hours": policy.free_cancellation_hours,
        "late_cancel_fee_percent": policy.late_cancel_fee_percent,
        "no_show_fee_percent": policy.no_show_fee_percent, "require_card": policy.require_card})
    services = []
    off_reason = payments_off_reason()
    for svc in list_services():
        rule = service_rule(svc.id)
        form = (rule_forms or {}).get(svc.id)
        if form is None:
            # While payments are off a saved deposit or prepayment is not asked: the select shows
            # what happens (no payment) and the row says what was saved.
            data = _rule_data(rule, svc.currency) if off_reason is None else {"mode": PaymentMode.NONE.value}
            form = ServiceRuleForm(prefix=f"s{svc.id.hex[:8]}", currency=svc.currency, data=data)
        if off_reason is not None:
            form.offer_only_no_payment()
        services.append({"service": svc, "rule": rule, "form": form, "due": amount_due(rule, svc.price_amount)})
    return render_page("payments/dashboard.html", block=block, status=status, enabled=payments_enabled(),
                       off_reason=off_reason, account=connect_account(), policy=policy, policy_form=policy_form,
                       policy_warnings=policy_warnings(policy, g.tenant.cancellation_cutoff_hours),
                       services=services, entries=ledger_entries(limit=200))


def _rule_data(rule: ServiceRule, currency: str) -> dict:
    fixed = None
    if rule.deposit_fixed is not None:
        fixed = str(Decimal(rule.deposit_fixed) / (10 ** currency_decimals(currency)))
    return {"mode": rule.mode.value, "deposit_percent": rule.deposit_percent, "deposit_fixed": fixed}


@bp.get("/dashboard/payments")
@manager_required
def dashboard() -> Response:
    """The business's payments page: connection, policy, service rules, ledger."""
    return _page()


@bp.post("/dashboard/payments/policy")
@manager_required
def save_policy() -> Response:
    """Save the money policy; invalid input re-renders the page with 422 and the errors."""
    form = PolicyForm()
    if not form.validate():
        return _page(policy_form=form, status=422)
    save_business_policy(BusinessPolicy(form.free_cancellation_hours.data, form.late_cancel_fee_percent.data,
                                                 form.no_show_fee_percent.data, bool(form.require_card.data)))
    flash(_("Payment policy saved."), "success")
    return redirect(url_for("payments.dashboard"), 303)


@bp.post("/dashboard/payments/services/<service_id>")
@manager_required
def save_service_rule(service_id: str) -> Response:
    """Save one service's payment rule (another tenant's service answers 404)."""
    svc = get_or_404(Service, service_id)
    form = ServiceRuleForm(prefix=f"s{svc.id.hex[:8]}", currency=svc.currency)
    if not form.validate():
        return _page(rule_forms={svc.id: form}, status=422)
    mode = PaymentMode(form.mode.data)
    rule = ServiceRule(mode, form.deposit_percent.data if mode == PaymentMode.DEPOSIT else None,
                       form.deposit_fixed_minor if mode == PaymentMode.DEPOSIT and not form.deposit_percent.data
                       else None)
    try:
        choose_service_rule(svc.id, rule)
    except PaymentsOff as exc:
        form.mode.errors = [*form.mode.errors, exc.message]
        return _page(rule_forms={svc.id: form}, status=422)
    flash(_("Payment for “%(service)s” saved.", service=svc.name), "success")
    return redirect(url_for("payments.dashboard"), 303)


@bp.get("/dashboard/payments/ledger.csv")
@manager_required
def ledger_csv() -> Response:
    """Every ledger row as CSV (amounts in major units with the currency's decimals)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["created_at", "kind", "amount", "currency", "booking_id", "payment_intent", "refund", "charge",
                     "description"])
    for e in ledger_entries():
        decimals = currency_decimals(e.currency)
        amount = f"{Decimal(e.amount) / (10 ** decimals):.{decimals}f}"
        writer.writerow([e.created_at.isoformat(), e.kind, amount, e.currency, e.booking_id or "",
                         e.stripe_payment_intent_id or "", e.stripe_refund_id or "", e.stripe_charge_id or "",
                         e.description])
    resp = current_app.make_response(out.getvalue())
    resp.mimetype = "text/csv"
    resp.headers["Content-Disposition"] = f'attachment; filename="{g.tenant.slug}-ledger.csv"'
    return resp


@bp.post("/dashboard/payments/connect")
@manager_required
def connect_start() -> Response:
    """Start (or continue) Stripe Connect onboarding: redirect to the onboarding link."""
    if not payments_enabled():
        abort(404)
    try:
        link = start_connect_onboarding(
            g.tenant, current_user.email, refresh_url=external_url("payments.dashboard", tenant=g.tenant),
            return_url=external_url("payments.connect_return", tenant=g.tenant))
    except PaymentUnavailable as exc:
        flash(exc.message, "error")
        return redirect(url_for("payments.dashboard"), 303)
    return redirect(link, 303)


@bp.get("/dashboard/payments/connect/return")
@manager_required
def connect_return() -> Response:
    """Back from onboarding: re-fetch the account's status (``account.updated`` does the same)."""
    acct = connect_account()
    if acct is not None:
        sync_connect_account(acct.stripe_account_id)
    return redirect(url_for("payments.dashboard"), 303)


@bp.route("/dashboard/payments/connect/local/<account_id>", methods=["GET", "POST"])
@manager_required
def connect_local(account_id: str) -> Response:
    """Local stand-in for Stripe's onboarding form (``STRIPE_CONNECT=local`` only)."""
    acct = connect_account()
    if connect_mode() != "local" or acct is None or acct.stripe_account_id != account_id:
        abort(404)
    if request.method == "POST":
        LocalConnect().complete(account_id)
        return redirect(url_for("payments.connect_return"), 303)
    return render_page("payments/connect_local.html", account=acct)


# --------------------------------------------------------------------------- customer pay step


def _booking_or_404(token: str) -> Booking:
    """The booking of a manage link; 404 when not valid here (an expired one raises
    :class:`~app.booking.errors.ManageLinkExpired`: the storefront's "link expired" page)."""
    booking = open_manage_link(token)
    if booking is None:
        abort(404)
    return booking


def _pay_context(booking: Booking, token: str) -> dict:
    service = db.session.scalar(sa.select(Service).where(Service.id == booking.service_id))
    payment = booking_payment(booking.id)
    policy = business_policy()
    rule = service_rule(booking.service_id)
    return {"tenant": g.tenant, "booking": booking, "service": service, "payment": payment, "token": token,
            "policy_lines": describe(policy, rule, booking.price_amount), "policy": policy,
            "free_until": free_until(policy, booking.starts_at),
            "hold_active": payment is not None and hold_active(payment),
            "awaiting": booking.status == BookingStatus.AWAITING_PAYMENT.value,
            "test_mode": test_payments_allowed(), "customer_tz": booking.customer_timezone,
            "card_form": card_form_enabled(), "publishable_key": setting("STRIPE_PUBLISHABLE_KEY"),
            "stripe_js_url": stripe_js_url()}


def _not_payable(booking: Booking) -> str:
    """Why a booking that no longer awaits payment cannot be paid (user-facing)."""
    if booking.status == BookingStatus.CANCELLED.value:
        return _("This booking is cancelled, so there is nothing to pay. Please book again.")
    if booking.status in (BookingStatus.COMPLETED.value, BookingStatus.NO_SHOW.value):
        return _("This appointment is over, so there is nothing to pay here.")
    return _("This booking is already paid: nothing more to pay.")


@bp.get("/pay/<token>")
@tenant_required
def pay(token: str) -> Response:
    """The pay step: amount due, the policy, the hold's end; paid bookings go to the confirmation."""
    booking = _booking_or_404(token)
    if booking.status != BookingStatus.AWAITING_PAYMENT.value:
        return redirect(url_for("storefront.booked", token=token), 303)
    return render_page("payments/pay.html", block="pay", **_pay_context(booking, token))


@bp.post("/pay/<token>")
@tenant_required
def pay_submit(token: str) -> Response:
    """Pay (test mode: confirm with a Stripe test card). Refusals re-render the page with 409."""
    booking = _booking_or_404(token)
    if not test_payments_allowed():
        abort(404)
    if booking.status != BookingStatus.AWAITING_PAYMENT.value:
        return render_page("payments/pay.html", block="pay", status=409, error=_not_payable(booking),
                           **_pay_context(booking, token))
    method = request.form.get("payment_method") or "pm_card_visa"
    if not method.startswith("pm_card_"):
        abort(400)
    paid = pay_with_test_card(g.tenant, booking, method)
    if isinstance(paid, Refused):
        keep_work()  # what Stripe said is kept although the answer is a refusal (409)
        return render_page("payments/pay.html", block="pay", status=409, error=paid.message,
                           **_pay_context(booking, token))
    return redirect(url_for("storefront.booked", token=token), 303)


@bp.post("/pay/<token>/card/setup")
@tenant_required
@limiter.limit(CARD_LIMIT)
def card_setup(token: str) -> Response:
    """What the card form does next (:class:`~app.checkout.pay.CardStart`), as JSON:
    ``{"client_secret": …}`` of the SetupIntent to confirm with the card;
    ``{"requires_action": true, "client_secret": …, "setup_intent": …}`` when the payment waits
    for the bank's authentication; ``{"redirect": url}`` once the booking no longer awaits
    payment. A 409 problem when the hold ran out or Stripe is unreachable."""
    booking = _booking_or_404(token)
    if booking.status != BookingStatus.AWAITING_PAYMENT.value:
        return _no_store(jsonify(redirect=url_for("storefront.booked", token=token)))
    start = start_card_payment(booking)
    if isinstance(start, Refused):
        keep_work()  # what Stripe said is kept although the answer is a refusal (409)
        return problem(409, _("Payment not possible"), start.message)
    if start.done:
        return _no_store(jsonify(redirect=url_for("storefront.booked", token=token)))
    if start.resume_secret:
        return _no_store(jsonify(requires_action=True, client_secret=start.resume_secret,
                                 setup_intent=start.setup_intent))
    return _no_store(jsonify(client_secret=start.setup_secret))


@bp.post("/pay/<token>/card/charge")
@tenant_required
@limiter.limit(CARD_LIMIT)
def card_charge(token: str) -> Response:
    """After Stripe.js saved the card: charge it. Body ``{"setup_intent": "seti_…",
    "authenticated": bool}``; answers ``{"redirect": url}`` when paid, ``{"requires_action":
    true, "client_secret": …}`` when the bank asks to authenticate, or a 409 problem saying why
    the payment did not go through (the hold stays, the customer can try another card)."""
    booking = _booking_or_404(token)
    if booking.status != BookingStatus.AWAITING_PAYMENT.value:  # paid already (a second click), or released
        return _no_store(jsonify(redirect=url_for("storefront.booked", token=token)))
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("setup_intent"), str):
        return problem(400, _("Bad request"), _("Send a JSON object with the saved card's setup_intent id."))
    step = pay_with_saved_card(booking, body["setup_intent"], authenticated=body.get("authenticated") is True)
    if isinstance(step, Refused):
        keep_work()  # what Stripe said is kept although the answer is a refusal (409)
        return problem(409, _("Payment not completed"), step.message)
    if step.done:
        return _no_store(jsonify(redirect=url_for("storefront.booked", token=token)))
    return _no_store(jsonify(requires_action=True, client_secret=step.client_secret))


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --------------------------------------------------------------------------- template helpers


@bp.app_context_processor
def _payment_helpers() -> dict:
    """``payment_policy(service, price)`` and ``payment_summary_for(booking)`` for the includes
    ``payments/_policy.html`` and ``payments/_booking_payment.html`` in other surfaces' pages."""

    def payment_policy(service: Service | None, price: int | None = None) -> dict | None:
        """The policy box's data for ``service`` at ``price`` (minor units), or ``None`` when the
        business takes no payments (nothing to show)."""
        if service is None or g.get("tenant") is None or not accepts_payments():
            return None
        rule = service_rule(service.id)
        price = service.price_amount if price is None else price
        return {"lines": describe(business_policy(), rule, price), "due": amount_due(rule, price),
                "currency": service.currency}

    def payment_summary_for(booking: Booking | None) -> PaymentSummary | None:
        """The booking's payment summary (staff view), or ``None``."""
        if booking is None or g.get("tenant") is None:
            return None
        return payment_summary(booking.id)

    return {"payment_policy": payment_policy, "payment_summary_for": payment_summary_for}


@bp.app_template_filter("payment_label")
def payment_label(summary: PaymentSummary) -> str:
    """A few words for the staff board: what happened to a booking's money so far
    (``{{ row.payment|payment_label }}``), e.g. "Paid €50.00, €20.00 refunded + €10.00 fee"."""
    if summary.paid:
        text = _("Paid %(amount)s", amount=format_money(summary.paid, summary.currency))
        if summary.refunded:
            text += ", " + _("%(amount)s refunded", amount=format_money(summary.refunded, summary.currency))
    elif summary.status == "succeeded":
        text = _("Card on file") if summary.due == 0 else _("Paid")
    else:
        text = _("Awaiting payment")
    if summary.fees:
        text += " + " + _("%(amount)s fee", amount=format_money(summary.fees, summary.currency))
    if summary.uncollected:
        text += " · " + _("fee not collected")
    return text
