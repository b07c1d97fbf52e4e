"""Display helpers registered as Jinja filters: money (Babel, CLDR data) and local times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache

from babel import localedata
from babel.numbers import format_currency, get_currency_precision

from app.timeutil import zone

#: Plaza's interface language; money follows the conventions of the currency's home territory in it.
UI_LANGUAGE = "en"


def currency_decimals(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency from CLDR (2 for DKK/USD, 0 for JPY/ISK)."""
    return get_currency_precision(currency.upper())


@cache
def money_locale(currency: str) -> str:
    """The Babel locale money in ``currency`` is shown in: English as written in the currency's home
    territory (``en_DK`` for DKK, ``en_US`` for USD, ``en_GB`` for GBP: the first two letters of an
    ISO 4217 code name its country) when CLDR has that locale, else plain ``en`` (e.g. for EUR)."""
    candidate = f"{UI_LANGUAGE}_{currency[:2].upper()}"
    return candidate if localedata.exists(candidate) else UI_LANGUAGE


def format_money(amount: int, currency: str) -> str:
    """``amount`` in minor units of ``currency`` as text, by ``babel.numbers.format_currency`` in
    :func:`money_locale`: ``64900, "DKK"`` -> ``"649,00\\xa0kr."``; ``8900, "USD"`` -> ``"$89.00"``;
    ``-450, "DKK"`` -> ``"-4,50\\xa0kr."`` (``\\xa0``: a no-break space keeps number and symbol together)."""
    code = currency.upper()
    value = Decimal(int(amount)).scaleb(-currency_decimals(code))
    return format_currency(value, code, locale=money_locale(code))


def format_local(dt: datetime, tz_name: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """An aware ``dt`` shown in the IANA zone ``tz_name`` with ``fmt`` (strftime)."""
    return dt.astimezone(zone(tz_name)).strftime(fmt)


def format_duration(minutes: int) -> str:
    """``90`` -> ``"1 h 30 min"``; ``45`` -> ``"45 min"``."""
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    return f"{hours} h" if hours else f"{mins} min"


def register_filters(app) -> None:
    """Add ``money``, ``localtime`` and ``duration`` Jinja filters to ``app``."""
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["duration"] = format_duration
