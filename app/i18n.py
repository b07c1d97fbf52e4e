"""The languages Plaza speaks and how a language tag becomes one of them.

Locale identifiers are Babel's (``da``, ``da_DK``, ``en_US``): a language Plaza has a catalogue
for, optionally with a territory that only changes formats (``en_GB``: 24-hour clock and pounds
written the British way; the English catalogue still applies). Catalogues live in
``app/translations/<language>/LC_MESSAGES/messages.po`` (``make i18n``).
"""

from __future__ import annotations

from collections.abc import Iterable

from babel import Locale, UnknownLocaleError

#: The languages with a complete catalogue; English is the source language.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "da")

#: The language of a business, person or message when nothing else says.
DEFAULT_LANGUAGE = "en"

#: Each language's name in itself, for the language switcher.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "da": "Dansk"}


def supported_locale(tag: str | None) -> str | None:
    """``tag`` (BCP 47 ``da-DK`` or Babel ``da_DK``, any case) as a Babel locale identifier when
    its language is in :data:`SUPPORTED_LANGUAGES`: ``"da-dk"`` -> ``"da_DK"``, ``"en"`` ->
    ``"en"``, ``"EN-gb"`` -> ``"en_GB"``; ``None`` for anything else (``"fr"``, ``"*"``, ``""``,
    a malformed tag). A territory CLDR does not know for the language is dropped (``"da-US"`` -> ``"da"``)."""
    if not tag:
        return None
    parts = tag.replace("_", "-").split("-")
    language = parts[0].lower()
    if language not in SUPPORTED_LANGUAGES:
        return None
    territory = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    if territory:
        try:
            return str(Locale(language, territory))
        except (UnknownLocaleError, ValueError):
            return language
    return language


def first_supported(tags: Iterable[str]) -> str | None:
    """The first of ``tags`` (most preferred first, e.g. an ``Accept-Language`` header's values in
    quality order) that :func:`supported_locale` accepts, as a Babel identifier; ``None`` if none."""
    for tag in tags:
        locale = supported_locale(tag)
        if locale:
            return locale
    return None


def language_of(locale: str | None) -> str:
    """The language part of a Babel identifier (``"da_DK"`` -> ``"da"``), :data:`DEFAULT_LANGUAGE`
    for ``None`` or an unsupported one."""
    language = (locale or "").replace("-", "_").split("_")[0].lower()
    return language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
