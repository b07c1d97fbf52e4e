"""Lead credits (issue 13): what providers spend to claim a job request's lead.

:mod:`app.credits.models` holds the balance and the append-only ledger; :mod:`app.credits.ledger`
moves credits (idempotent per key, never below zero). Buying credit packs through Stripe
Checkout builds on these.
"""

from app.credits.ledger import CreditMove, InsufficientCredits, balance, entries, move_credits
from app.credits.models import CreditAccount, CreditEntry, CreditEntryKind

__all__ = ["CreditAccount", "CreditEntry", "CreditEntryKind", "CreditMove", "InsufficientCredits", "balance",
           "entries", "move_credits"]
