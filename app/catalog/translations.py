"""A business's own texts in more than one language: service names and descriptions, the
business's public description.

The text in the business's default language lives in the ordinary column (``service.name``,
``tenant.description``); other languages in the row's ``translations`` JSONB,
``{"da": {"name": "Dameklip", "description": "..."}}``. A reader sees the text in their
language where the business wrote one, else the default column's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from app.i18n import SUPPORTED_LANGUAGES, language_of

#: The fields a business may translate.
TRANSLATABLE_FIELDS: tuple[str, ...] = ("name", "description")
#: Longest text per field (characters), as the default-language columns allow.
MAX_LENGTH: dict[str, int] = {"name": 120, "description": 2000}


def reader_language() -> str | None:
    """The language (``da``, ``en``) of the current reader: the request's, or the one a job
    forced for a recipient; ``None`` outside both."""
    locale = get_locale()
    return language_of(str(locale)) if locale is not None else None


def reader_locale_id() -> str | None:
    """The current reader's Babel locale identifier (``da``, ``en_GB``): what a booking made in
    this request remembers as the customer's language; ``None`` outside a request or job locale."""
    locale = get_locale()
    return str(locale) if locale is not None else None


def localized(obj: Any, field: str, language: str | None = None) -> str:
    """``obj.<field>`` (a service's ``name``/``description``, a business's ``description``) in
    ``language`` (default: the reader's, :func:`reader_language`) when ``obj.translations`` holds
    a non-blank text for it, else the default-language column as stored. ``""`` for ``None``."""
    language = language or reader_language()
    default = getattr(obj, field, "") or ""
    translations = getattr(obj, "translations", None) or {}
    if language and isinstance(translations, Mapping):
        text = (translations.get(language) or {}).get(field)
        if isinstance(text, str) and text.strip():
            return text
    return default


def translation(obj: Any, language: str, field: str) -> str:
    """The text ``obj`` has for ``field`` in ``language`` exactly (``""`` when none, no fallback):
    what a form field for that language starts with."""
    translations = getattr(obj, "translations", None) or {}
    return str((translations.get(language) or {}).get(field) or "")


def field_translations(obj: Any, field: str, key: str) -> dict[str, dict[str, str]]:
    """``obj``'s non-blank texts for ``field`` in every language it has, keyed ``key`` instead:
    ``{"da": {key: "Dameklip"}}`` from ``{"da": {"name": "Dameklip"}}`` (``field`` ``"name"``).
    What a row that snapshots another's text keeps (a review, the name of its service), so that
    :func:`localized` reads ``key`` on it. ``{}`` for ``None`` or no translations."""
    translations = getattr(obj, "translations", None) or {}
    return {language: {key: fields[field]} for language, fields in translations.items()
            if isinstance(fields, Mapping) and isinstance(fields.get(field), str) and fields[field].strip()}


def set_translations(obj: Any, texts: Mapping[str, Mapping[str, str | None]]) -> dict[str, dict[str, str]]:
    """Replace ``obj.translations`` with ``texts`` (language -> field -> text), keeping only
    supported languages, :data:`TRANSLATABLE_FIELDS` and non-blank texts (stripped); returns
    the stored value. Flush is the caller's (a new dict is assigned, so the change is tracked).

    Raises:
        ValueError: a language that is not in :data:`~app.i18n.SUPPORTED_LANGUAGES`.
    """
    cleaned: dict[str, dict[str, str]] = {}
    for language, fields in texts.items():
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        kept = {f: str(t).strip() for f, t in fields.items() if f in TRANSLATABLE_FIELDS and t and str(t).strip()}
        if kept:
            cleaned[language] = kept
    obj.translations = cleaned
    return cleaned


def read_translation_fields(form: Mapping[str, str], languages: list[str],
                            fields: tuple[str, ...] = TRANSLATABLE_FIELDS,
                            ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The texts posted as ``<field>_<language>`` (``name_da``, ``description_da``) for
    ``languages``: ``(texts, errors)`` where ``texts`` is language -> field -> text (stripped,
    blanks kept as ``""`` so the form shows them again) and ``errors`` maps an input name to
    its message (too long, a name on several lines). Nothing is written."""
    texts: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for language in languages:
        for field in fields:
            key = f"{field}_{language}"
            text = str(form.get(key) or "").strip()
            texts.setdefault(language, {})[field] = text
            if len(text) > MAX_LENGTH[field]:
                errors[key] = _("Use at most %(count)d characters.", count=MAX_LENGTH[field])
            elif field == "name" and ("\n" in text or "\r" in text):
                errors[key] = _("Use a single line.")
    return texts, errors


def other_languages(default_locale: str | None) -> list[str]:
    """The supported languages other than a business's default (``"da"`` -> ``["en"]``): those
    its service form offers extra fields for."""
    default = language_of(default_locale)
    return [language for language in SUPPORTED_LANGUAGES if language != default]


def register_filters(app) -> None:
    """Add the ``localized`` Jinja filter (``{{ service|localized("name") }}``) to ``app``."""
    app.jinja_env.filters["localized"] = localized
