"""Display helpers registered as Jinja filters: money, dates, times and durations in the reader's
locale (Babel, CLDR data).

The reader's locale is Flask-Babel's :func:`flask_babel.get_locale` (the request's language, or
the one a job forced with ``force_locale`` for a recipient); outside both, English.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale, localedata
from babel.dates import format_datetime, match_skeleton
from babel.numbers import format_currency, format_decimal, get_currency_precision
from flask_babel import get_locale, ngettext

from app.i18n import DEFAULT_LANGUAGE
from app.timeutil import zone

#: strftime directives a display format may use, as CLDR skeleton fields (``%H:%M`` becomes the
#: locale's own clock: ``2:30 PM`` in ``en``, ``14.30`` in ``da``).
_SKELETON_FIELDS = {"a": "E", "A": "EEEE", "d": "d", "-d": "d", "e": "d", "b": "MMM", "B": "MMMM", "Y": "y",
                    "y": "y", "m": "MM", "-m": "M"}
_DIRECTIVE = re.compile(r"%(-?[a-zA-Z])")
#: Formats written for machines (form values, ISO dates): kept exactly as strftime gives them.
_MACHINE = re.compile(r"^[%YmdHMS\-:T ]+$")


def reader_locale() -> Locale:
    """The locale text is formatted in: the request's or the forced one, else English."""
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


def currency_decimals(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency from CLDR (2 for DKK/USD, 0 for JPY/ISK)."""
    return get_currency_precision(currency.upper())


@cache
def money_locale(currency: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The Babel locale money in ``currency`` is shown in for a reader of ``language``: the
    language as written in the currency's home territory (``da_DK`` for DKK, ``en_US`` for USD,
    ``en_GB`` for GBP: the first two letters of an ISO 4217 code name its country) when CLDR has
    that locale, else the plain language (``da`` for USD: ``90,00 US$``; ``en`` for EUR)."""
    candidate = f"{language}_{currency[:2].upper()}"
    return candidate if localedata.exists(candidate) else language


def format_money(amount: int, currency: str) -> str:
    """``amount`` in minor units of ``currency`` as text in the reader's language, by
    ``babel.numbers.format_currency`` in :func:`money_locale`: Danish ``64900, "DKK"`` ->
    ``"649,00\\xa0kr."``; English ``8900, "USD"`` -> ``"$89.00"``; ``-450, "DKK"`` -> ``"-4,50\\xa0kr."``
    (``\\xa0``: a no-break space keeps number and symbol together)."""
    code = currency.upper()
    value = Decimal(int(amount)).scaleb(-currency_decimals(code))
    return format_currency(value, code, locale=money_locale(code, reader_locale().language))


def format_number(value: float | int) -> str:
    """A number with the reader's separators: ``1234.5`` -> ``"1,234.5"`` (en), ``"1.234,5"`` (da)."""
    return format_decimal(value, locale=reader_locale())


def _widen(pattern: str, skeleton: str) -> str:
    """Give text fields of a matched CLDR ``pattern`` the widths the ``skeleton`` asked for
    (CLDR's "adjusting field widths": ``EEEE`` asked, ``E`` matched -> ``EEEE``)."""
    for letter in "EM":
        asked = skeleton.count(letter)
        if asked < 3:
            continue
        runs = re.split(f"({letter}+)", pattern)
        pattern = "".join(letter * asked if run.startswith(letter) and (letter == "E" or len(run) >= 3) else run
                          for run in runs)
    return pattern


@lru_cache(maxsize=512)
def _skeleton_pattern(skeleton: str, locale: Locale) -> str:
    """The CLDR pattern ``locale`` has for ``skeleton`` (``"medium"`` when none matches): matching
    a skeleton is slow and its answer never changes, so it is worked out once per process."""
    key = match_skeleton(skeleton, locale.datetime_skeletons)
    return "medium" if key is None else _widen(locale.datetime_skeletons[key].pattern, skeleton)


def _skeleton_text(dt: datetime, skeleton: str, locale: Locale) -> str:
    return format_datetime(dt, _skeleton_pattern(skeleton, locale), locale=locale)


def format_local(dt: datetime, tz_name: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """An aware ``dt`` in the IANA zone ``tz_name``, in the reader's locale.

    ``fmt`` is a strftime-style format naming the fields to show (``%A %-d %B`` = weekday, day and
    month spelled out; ``%H:%M`` = the time); the locale decides their order, words and clock:
    ``"%A %-d %B"`` -> ``Tuesday, November 24`` (en) or ``tirsdag 24. november`` (da); ``"%H:%M"`` ->
    ``2:30 PM`` (en) or ``14.30`` (da). Machine formats made only of ``%Y %m %d %H %M %S`` and
    ``- : T`` (``"%Y-%m-%d"`` for form values) are formatted exactly, as strftime does.
    """
    local = dt.astimezone(zone(tz_name))
    if _MACHINE.match(fmt) and any(d in fmt for d in ("%Y", "%m", "%d")):
        return local.strftime(fmt)
    locale = reader_locale()
    directives = _DIRECTIVE.findall(fmt)
    date_skeleton = "".join(_SKELETON_FIELDS.get(d, "") for d in directives)
    has_time = any(d in ("H", "M", "I", "p") for d in directives)
    time_text = ""
    if has_time:
        twelve = "h" in locale.time_formats["short"].pattern
        time_text = _skeleton_text(local, "hm" if twelve else "Hm", locale)
    if not date_skeleton:
        return time_text
    date_text = _skeleton_text(local, date_skeleton, locale)
    if not time_text:
        return date_text
    joined = str(locale.datetime_formats["medium"]).replace("'", "")
    return joined.replace("{1}", date_text).replace("{0}", time_text)


def format_duration(minutes: int) -> str:
    """``90`` -> ``"1 h 30 min"``; ``45`` -> ``"45 min"`` (``"1 t 30 min"`` in Danish)."""
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return ngettext("%(num)d h", "%(num)d h", hours) + " " + ngettext("%(num)d min", "%(num)d min", mins)
    if hours:
        return ngettext("%(num)d h", "%(num)d h", hours)
    return ngettext("%(num)d min", "%(num)d min", mins)


def register_filters(app) -> None:
    """Add ``money``, ``localtime``, ``duration`` and ``number`` Jinja filters to ``app``."""
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["number"] = format_number
