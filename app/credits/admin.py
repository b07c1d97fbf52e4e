"""The console's side of lead credits: a business's balance and ledger, and a platform admin's
adjustment (either sign, a reason required), audit-logged in the business's log with the balance
before and after, in the same transaction. Runs on the apex under ``platform_scope``; each
function puts the business in scope itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.credits.ledger import CreditMove, InsufficientCredits, balance, entries, move_credits
from app.credits.models import CreditEntry
from app.errors import InputError
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant

#: The largest adjustment, either way, in one go (whole credits).
MAX_ADJUSTMENT = 10_000


class AdjustmentRefused(InputError):
    """The adjustment cannot be made (zero, too large, no reason, or below zero); ``field`` names the form field."""


@dataclass(frozen=True)
class CreditsView:
    """A business's credits for the console: the ``tenant``, its ``balance`` and latest ``entries`` (newest first)."""

    tenant: Tenant
    balance: int
    entries: list[CreditEntry]


def business_credits(tenant_id: uuid.UUID, limit: int = 200) -> CreditsView | None:
    """Business ``tenant_id``'s balance and its latest ``limit`` ledger entries; ``None`` when there is no such business."""
    with platform_scope("console: a business's lead credits"):
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None:
            return None
        with tenant_scope(tenant_id):
            return CreditsView(tenant, balance(), entries(limit))


def adjust_credits(tenant_id: uuid.UUID, amount: int, reason: str, actor: AuditActor, nonce: str) -> CreditMove:
    """Add ``amount`` credits (negative to take some away) to business ``tenant_id`` for
    ``reason``, once per form ``nonce`` (a double-submitted form adjusts once); audit-logged
    (``credits.adjusted``, before/after balance) in the business's log. Flushes.

    Raises:
        AdjustmentRefused: ``amount`` is 0 or beyond :data:`MAX_ADJUSTMENT`, ``reason`` is blank,
            the nonce is malformed, or the balance would go below zero (nothing is written).
        LookupError: no such business.
    """
    text = (reason or "").strip()
    if not text:
        raise AdjustmentRefused(_("Give a reason: the business sees it in its ledger."), "reason")
    if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
        raise AdjustmentRefused(_("Enter a number of credits from -%(max)d to %(max)d, not 0.", max=MAX_ADJUSTMENT),
                                "amount")
    try:
        key = f"adjustment:{uuid.UUID(nonce)}"
    except (ValueError, TypeError):
        raise AdjustmentRefused(_("The form has expired; open the page again."), "amount") from None
    with platform_scope("console: adjust a business's lead credits"):
        if db.session.get(Tenant, tenant_id) is None:
            raise LookupError(tenant_id)
        with tenant_scope(tenant_id):
            try:
                move = move_credits("adjustment", amount, key, actor_user_id=actor.user_id, note=text)
            except InsufficientCredits as exc:
                raise AdjustmentRefused(_("That would take the balance below zero: it is %(num)d credits.", num=exc.balance),
                                        "amount") from exc
            if not move.replayed:
                record_audit(actor, "credits.adjusted", "business", tenant_id, reason=text,
                             before={"balance": move.entry.balance_before},
                             after={"balance": move.entry.balance_after}, tenant_id=tenant_id)
            return move
