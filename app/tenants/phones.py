"""Phone numbers read and shown in a business's country (with ``phonenumbers``).

Numbers are stored in E.164 (``+447400123456``); people type them the way they do at home
(``07400 123456``), so parsing uses the business's country as the default region.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from app.errors import InputError

#: Region used when a business has no country yet.
DEFAULT_REGION = "GB"


class PhoneError(InputError, ValueError):
    """A phone number that cannot be read or is not a possible number; ``message`` is user-facing."""


def parse_phone(raw: str, region: str | None) -> str:
    """``raw`` in E.164, read in ``region`` (ISO 3166-1 alpha-2) unless it starts with ``+``/``00``.

    Raises:
        PhoneError: not a valid number (too short, letters, an unassigned range).
    """
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (region or DEFAULT_REGION).upper())
    except NumberParseException as exc:
        raise PhoneError("Enter a phone number, e.g. " + example_phone(region) + ".") from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("This is not a valid phone number; check the digits (e.g. "
                         + example_phone(region) + ").")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def national_format(e164: str, region: str | None) -> str:
    """``e164`` as written in ``region``: national format when the number is of that country
    (``+4533121212`` in ``DK`` -> ``33 12 12 12``), international otherwise; unreadable values
    are returned unchanged."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    same = region and phonenumbers.region_code_for_number(number) == region.upper()
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL if same else
                                      PhoneNumberFormat.INTERNATIONAL)


def example_phone(region: str | None) -> str:
    """An example number of ``region`` in its national format (``GB`` -> ``07400 123456``), for
    placeholders and hints; empty when the region has none."""
    number = phonenumbers.example_number_for_type((region or DEFAULT_REGION).upper(),
                                                  phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return ""
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
