"""Validation of customer contact details shared by every booking surface."""

from __future__ import annotations

import functools
import importlib.resources

import phonenumbers
from flask_babel import gettext as _

#: Used when the tz database's ``zone.tab`` cannot be read.
_FALLBACK_REGIONS = {"Europe/Copenhagen": "DK", "America/New_York": "US"}


@functools.cache
def _zone_regions() -> dict[str, str]:
    """IANA zone -> ISO 3166 country code, from the ``tzdata`` package's ``zone.tab``."""
    regions = dict(_FALLBACK_REGIONS)
    try:
        text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return regions
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            regions.setdefault(parts[2], parts[0])
    return regions


def region_for_timezone(tz_name: str) -> str | None:
    """The country (ISO 3166 alpha-2, e.g. ``"DK"``) of an IANA zone, or ``None`` when unknown."""
    return _zone_regions().get(tz_name)


def normalize_phone(raw: str, default_region: str | None) -> str:
    """``raw`` as an E.164 phone number (``"+4512345678"``).

    A number starting with ``+`` is read in international format; otherwise it is read as
    a national number of ``default_region`` (ISO 3166 alpha-2).

    Raises:
        ValueError: the number cannot be read or is not a valid number (message is user-facing).
    """
    text = raw.strip()
    if not text.startswith("+") and not default_region:
        raise ValueError(_("Include your country code, for example +45 12 34 56 78."))
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("Enter a valid phone number, for example +45 12 34 56 78.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("This phone number is not valid. Check the digits and the country code."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
