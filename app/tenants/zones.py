"""Where a business is: the curated list of time zones offered to people, the country of a
zone, and the currency and phone region that follow from a country.

The lists come from the installed ``tzdata`` package (read with :mod:`importlib.resources`):

* ``zone.tab`` and ``zone1970.tab``: the real, geographic zones (``Europe/London``,
  ``America/New_York``), each with the ISO 3166-1 alpha-2 countries it covers. Backward links
  (``W-SU``, ``GB``, ``US/Eastern``), ``Factory`` and ``Etc/*`` are not in these files, so they
  are never offered; ``UTC`` is added once, for businesses that want no local time.
* ``iso3166.tab``: the country codes (named in English by CLDR through Babel).
* ``tzdata.zi``'s ``L`` lines: link names (``Asia/Calcutta``) to their zones, so a browser
  that reports an old name still finds its zone in the list.

Currencies come from CLDR through Babel (:func:`babel.numbers.get_territory_currencies`),
limited to :data:`SUPPORTED_CURRENCIES`.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import cache

from babel import Locale
from babel.numbers import get_territory_currencies

#: The zone offered to businesses that want no local time.
UTC = "UTC"

#: Currencies a business may choose (ISO 4217 code, label), in the order offered.
SUPPORTED_CURRENCIES: list[tuple[str, str]] = [
    ("EUR", "EUR · Euro"), ("USD", "USD · US dollar"), ("GBP", "GBP · Pound sterling"),
    ("DKK", "DKK · Danish krone"), ("SEK", "SEK · Swedish krona"), ("NOK", "NOK · Norwegian krone"),
    ("ISK", "ISK · Icelandic króna"), ("CHF", "CHF · Swiss franc"), ("PLN", "PLN · Polish złoty"),
    ("CZK", "CZK · Czech koruna"), ("HUF", "HUF · Hungarian forint"), ("CAD", "CAD · Canadian dollar"),
    ("AUD", "AUD · Australian dollar"), ("NZD", "NZD · New Zealand dollar"), ("JPY", "JPY · Japanese yen"),
    ("SGD", "SGD · Singapore dollar"), ("HKD", "HKD · Hong Kong dollar"), ("INR", "INR · Indian rupee"),
    ("ZAR", "ZAR · South African rand"), ("BRL", "BRL · Brazilian real"), ("MXN", "MXN · Mexican peso"),
    ("AED", "AED · UAE dirham"),
]
SUPPORTED_CODES = frozenset(code for code, _ in SUPPORTED_CURRENCIES)
#: The currency offered when nothing better is known.
FALLBACK_CURRENCY = "EUR"


@dataclass(frozen=True)
class ZoneChoice:
    """One offered time zone: its IANA ``name``, the ``region`` it is grouped under
    (``Europe``, ``America``, …) and a ``label`` such as ``London (United Kingdom)``."""

    name: str
    region: str
    label: str


def _tzdata_text(name: str) -> str:
    return importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


def _rows(name: str) -> list[list[str]]:
    return [line.split("\t") for line in _tzdata_text(name).splitlines() if line and not line.startswith("#")]


@cache
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English country name (``{"GB": "United Kingdom", …}``): the
    codes of tzdata's ``iso3166.tab``, named as CLDR (Babel) names them in English, else as
    tzdata does."""
    english = Locale("en").territories
    return {row[0]: english.get(row[0]) or row[1].strip() for row in _rows("iso3166.tab")}


@cache
def zone_countries() -> dict[str, tuple[str, ...]]:
    """Every geographic zone -> the countries it covers, most specific first.

    ``zone.tab`` gives one country per zone (``Europe/Copenhagen`` -> ``DK``); ``zone1970.tab``
    adds the canonical zones and their other countries (``Europe/Berlin`` -> ``DE``, ``DK``, …).
    """
    found: dict[str, list[str]] = {}
    for row in _rows("zone.tab"):
        found.setdefault(row[2], []).append(row[0])
    for row in _rows("zone1970.tab"):
        codes = found.setdefault(row[2], [])
        codes.extend(c for c in row[0].split(",") if c not in codes)
    return {name: tuple(codes) for name, codes in found.items()}


@cache
def zone_links() -> dict[str, str]:
    """Link (old or alternative) zone name -> the offered zone it stands for, e.g.
    ``Asia/Calcutta`` -> ``Asia/Kolkata``, ``Europe/Kiev`` -> ``Europe/Kyiv``. Only links whose
    target is offered; links to ``Etc/*`` zones map to nothing."""
    offered = zone_countries()
    links: dict[str, str] = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, link = line.split()
            if target in offered and link not in offered:
                links[link] = target
    for name in ("Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu", "Etc/GMT",
                 "GMT", "Etc/Greenwich"):
        links[name] = UTC
    return links


@cache
def zone_choices() -> tuple[ZoneChoice, ...]:
    """The time zones offered to businesses, sorted by region then label; ``UTC`` last.

    About 420 real places (every zone of ``zone.tab`` and ``zone1970.tab``), each labelled with
    its city and country: ``Copenhagen (Denmark)``, ``Indiana/Knox (United States)``.
    """
    names = country_names()
    choices = []
    for zone, codes in zone_countries().items():
        region, _, place = zone.partition("/")
        country = names.get(codes[0], codes[0])
        choices.append(ZoneChoice(zone, region, f"{place.replace('_', ' ')} ({country})"))
    choices.sort(key=lambda c: (c.region, c.label))
    return (*choices, ZoneChoice(UTC, "Other", "UTC (no local time)"))


@cache
def offered_zones() -> frozenset[str]:
    """Names of :func:`zone_choices`."""
    return frozenset(c.name for c in zone_choices())


def grouped_zone_choices() -> list[tuple[str, list[ZoneChoice]]]:
    """:func:`zone_choices` as ``[(region, [choice, …]), …]`` in order, for ``<optgroup>`` lists."""
    groups: dict[str, list[ZoneChoice]] = {}
    for choice in zone_choices():
        groups.setdefault(choice.region, []).append(choice)
    return list(groups.items())


def canonical_zone(name: str | None) -> str | None:
    """The offered zone ``name`` stands for (itself, or the zone a link points to), or ``None``
    when it is not a real place (``Factory``, ``Etc/GMT+5``, an unknown name)."""
    if not name:
        return None
    if name in offered_zones():
        return name
    return zone_links().get(name)


def country_of_zone(name: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 country of zone ``name`` (``Europe/London`` -> ``GB``), following
    links; ``None`` for ``UTC`` and names that are no place."""
    zone = canonical_zone(name)
    codes = zone_countries().get(zone or "")
    return codes[0] if codes else None


def currency_of_country(country: str | None) -> str | None:
    """The supported currency used in ``country`` today (``GB`` -> ``GBP``, ``DK`` -> ``DKK``,
    ``DE`` -> ``EUR``), or ``None`` when the country is unknown or its currency is not in
    :data:`SUPPORTED_CURRENCIES`."""
    if not country:
        return None
    try:
        currencies = get_territory_currencies(country.upper())
    except (KeyError, ValueError):
        return None
    return next((c for c in currencies if c in SUPPORTED_CODES), None)


def default_currency(zone: str | None = None, locale_region: str | None = None) -> str:
    """The currency to preselect: that of the zone's country, else of the browser locale's region
    (``en-GB`` -> ``GB``), else :data:`FALLBACK_CURRENCY`."""
    return (currency_of_country(country_of_zone(zone)) or currency_of_country(locale_region)
            or FALLBACK_CURRENCY)


@cache
def country_currencies() -> dict[str, str]:
    """Country code -> supported currency, for every country that has one (for the browser's
    preselection script)."""
    found = {}
    for code in country_names():
        currency = currency_of_country(code)
        if currency:
            found[code] = currency
    return found


@cache
def zone_currencies() -> dict[str, str]:
    """Offered zone -> the supported currency of its country (for the browser's script)."""
    by_country = country_currencies()
    found = {}
    for zone, codes in zone_countries().items():
        if codes[0] in by_country:
            found[zone] = by_country[codes[0]]
    return found
