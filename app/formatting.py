"""Display helpers registered as Jinja filters: money and local times."""

from __future__ import annotations

from datetime import datetime

from app.timeutil import zone

_DECIMALS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0}
_SYMBOL_AFTER = {"DKK": " kr.", "SEK": " kr", "NOK": " kr"}
_SYMBOL_BEFORE = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}


def currency_decimals(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (2 for DKK/USD, 0 for JPY)."""
    return _DECIMALS.get(currency, 2)


def format_money(amount: int, currency: str) -> str:
    """``64900, "DKK"`` -> ``"649.00 kr."``; ``8900, "USD"`` -> ``"$89.00"`` (amount in minor units)."""
    decimals = currency_decimals(currency)
    value = amount / (10 ** decimals)
    number = f"{value:,.{decimals}f}"
    if currency in _SYMBOL_BEFORE:
        return f"{_SYMBOL_BEFORE[currency]}{number}"
    if currency in _SYMBOL_AFTER:
        return f"{number}{_SYMBOL_AFTER[currency]}"
    return f"{number} {currency}"


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
