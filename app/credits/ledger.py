"""Move a business's lead credits: every change is one ledger entry, idempotent and never negative.

The business in scope (``tenant_scope``) only; functions flush and never commit. Each move locks
the business's ``credit_account`` row (``SELECT … FOR UPDATE``), so concurrent moves on one
balance run one after another: the balance they read is the one they change, a replayed
idempotency key finds the entry the first move wrote, and a claim that would take the balance
below zero is refused (the ``CHECK`` constraints refuse it too, should any code path forget).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.credits.models import CreditAccount, CreditEntry, CreditEntryKind
from app.errors import InputError
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow


class InsufficientCredits(InputError):
    """The balance (``balance`` credits) is short of ``needed`` credits; ``message`` is user-facing."""

    field = "credits"

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(_("This needs %(needed)d credits and you have %(balance)d. Buy a credit pack to go on.", needed=needed, balance=balance))
        self.needed = needed
        self.balance = balance


@dataclass(frozen=True)
class CreditMove:
    """The outcome of a move: its ``entry`` and ``replayed`` (True when the idempotency key had
    already been used, so nothing changed and ``entry`` is the first move's)."""

    entry: CreditEntry
    replayed: bool


def balance() -> int:
    """The business in scope's balance in whole credits (0 before its first move)."""
    value = db.session.scalar(sa.select(CreditAccount.balance).where(CreditAccount.tenant_id == require_tenant_id()))
    return int(value or 0)


def move_credits(kind: CreditEntryKind | str, amount: int, idempotency_key: str, *, lead_id: uuid.UUID | None = None,
                 checkout_session_id: str | None = None, money_amount: int | None = None,
                 money_currency: str | None = None, actor_user_id: uuid.UUID | None = None,
                 note: str = "") -> CreditMove:
    """Add ``amount`` credits (negative to spend) to the business in scope, once per ``idempotency_key``.

    ``kind`` is a :class:`CreditEntryKind`; ``money_amount``/``money_currency`` (minor units, ISO
    4217) record what a purchase cost. Keys are namespaced by the caller (``"checkout:cs_…"``,
    ``"claim:<lead id>"``, ``"refund:<lead id>"``).

    Raises:
        InsufficientCredits: the move would take the balance below zero (nothing is written).
        ValueError: ``amount`` is 0, or ``kind`` is unknown.
    """
    kind = CreditEntryKind(kind)
    if amount == 0:
        raise ValueError("a credit move must move something")
    tenant_id = require_tenant_id()
    db.session.execute(pg_insert(CreditAccount).values(tenant_id=tenant_id, balance=0, updated_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["tenant_id"]))
    account = db.session.scalar(sa.select(CreditAccount).where(CreditAccount.tenant_id == tenant_id)
                                .with_for_update().execution_options(populate_existing=True))
    existing = db.session.scalar(sa.select(CreditEntry).where(CreditEntry.tenant_id == tenant_id,
                                                              CreditEntry.idempotency_key == idempotency_key))
    if existing is not None:
        return CreditMove(existing, replayed=True)
    before = account.balance
    if before + amount < 0:
        raise InsufficientCredits(-amount, before)
    account.balance = before + amount
    account.updated_at = utcnow()
    entry = CreditEntry(tenant_id=tenant_id, kind=kind.value, amount=amount, balance_before=before,
                        balance_after=before + amount, idempotency_key=idempotency_key[:200], lead_id=lead_id,
                        checkout_session_id=checkout_session_id, money_amount=money_amount,
                        money_currency=money_currency, actor_user_id=actor_user_id, note=note[:200],
                        created_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return CreditMove(entry, replayed=False)


def entries(limit: int = 100) -> list[CreditEntry]:
    """The business in scope's latest ``limit`` ledger entries, newest first."""
    return list(db.session.scalars(sa.select(CreditEntry).where(CreditEntry.tenant_id == require_tenant_id())
                                   .order_by(CreditEntry.seq.desc()).limit(limit)))
