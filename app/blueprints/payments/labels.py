"""Words the payment templates show for codes (a payment's Stripe status, a ledger entry's kind),
in the reader's language; registered as template globals."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from app.blueprints.payments import bp


def payment_status_label(status: str) -> str:
    """A payment's Stripe status (``"requires_payment_method"``, ``"succeeded"``, …) in words;
    unknown statuses read as themselves with spaces."""
    labels = {
        "requires_payment_method": _("waiting for a card"), "requires_confirmation": _("waiting for confirmation"),
        "requires_action": _("waiting for the customer's bank"), "processing": _("processing"),
        "requires_capture": _("authorised"), "succeeded": _("paid"), "canceled": _("cancelled"),
        "refunded": _("refunded"), "partially_refunded": _("partly refunded"),
    }
    return labels.get(status, status.replace("_", " "))


def ledger_kind_label(kind: str) -> str:
    """A ledger entry's kind (``"payment"``, ``"refund"``, ``"fee"``, ``"application_fee"``) in words."""
    labels = {"payment": _("payment"), "refund": _("refund"), "fee": _("fee"), "application_fee": _("Plaza fee")}
    return labels.get(kind, kind.replace("_", " "))


def ledger_description(text: str | None) -> str:
    """A stored ledger description (English, marked with :func:`app.payments.ledger.N_`) in the
    reader's language when the catalogue has it, else as stored; never formatted (it may hold "%")."""
    return _(text) if text else ""


@bp.app_context_processor
def payment_labels() -> dict[str, Any]:
    """The helpers above, for every template (the booking's payment box is on dashboard pages)."""
    return {"payment_status_label": payment_status_label, "ledger_kind_label": ledger_kind_label,
            "ledger_description": ledger_description}
