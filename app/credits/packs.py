"""Credit packs: the tiered packages a provider buys lead credits in.

Declared once, as platform settings an admin changes in the console without a deploy (group
``credits``): for each pack code in :data:`PACK_CODES`, ``credits.pack.<code>.credits`` (whole
credits) and ``credits.pack.<code>.price`` (minor units of :data:`PACK_CURRENCY`). Defaults:
starter 5 credits for $25, standard 15 for $60, pro 40 for $140. Packs are Plaza's own sales
(paid to the platform's Stripe account, like the subscription plans), so every business pays in
US dollars whatever its own booking currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from app.errors import InputError
from app.platform_settings import get_setting

#: The ISO 4217 currency every pack is priced in.
PACK_CURRENCY = "USD"
#: Pack codes, smallest first; each has a name shown on the credits page.
PACK_CODES: dict[str, str] = {"starter": "Starter", "standard": "Standard", "pro": "Pro"}


class UnknownPack(InputError):
    """No pack has that code (or it is switched off: 0 credits); ``message`` is user-facing."""

    field = "pack"


@dataclass(frozen=True)
class CreditPack:
    """A pack: ``code``, ``name``, ``credits`` (whole credits), ``amount`` (minor units of
    ``currency``, ISO 4217)."""

    code: str
    name: str
    credits: int
    amount: int
    currency: str = PACK_CURRENCY

    @property
    def unit_amount(self) -> int:
        """What one credit costs in this pack (minor units, rounded down)."""
        return self.amount // self.credits if self.credits else 0


def packs() -> list[CreditPack]:
    """The packs on sale now (a pack set to 0 credits is off sale), smallest first."""
    out = []
    for code, name in PACK_CODES.items():
        credits = int(get_setting(f"credits.pack.{code}.credits"))
        amount = int(get_setting(f"credits.pack.{code}.price"))
        if credits > 0 and amount > 0:
            out.append(CreditPack(code, name, credits, amount))
    return out


def get_pack(code: str) -> CreditPack:
    """The pack on sale with ``code``.

    Raises:
        UnknownPack: no such pack, or it is off sale.
    """
    for found in packs():
        if found.code == code:
            return found
    raise UnknownPack(_("Choose one of the credit packs on sale."))
