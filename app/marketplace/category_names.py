"""Marketplace category names in the reader's language.

The platform's taxonomy rows (``marketplace_category``) store one name, in English. The categories
Plaza ships with are known here by slug with their English name marked for translation, so a
Danish reader sees "Frisørsalon" where the row says "Hair salon". A category an admin added, or a
known one an admin renamed (the row's name no longer the shipped English), shows as stored: the
admin's words win over a translation of words they replaced.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.i18n import supported_locale

#: The shipped categories (migration ``k11a``): slug -> (the row's English name, that name marked).
KNOWN: dict[str, tuple[str, object]] = {
    "hair": ("Hair salon", _l("Hair salon")),
    "barber": ("Barber", _l("Barber")),
    "nails": ("Nails", _l("Nails")),
    "beauty": ("Beauty", _l("Beauty")),
    "massage": ("Massage", _l("Massage")),
    "cleaning": ("Cleaning", _l("Cleaning")),
    "handyman": ("Handyman", _l("Handyman")),
    "plumbing": ("Plumbing", _l("Plumbing")),
    "electrician": ("Electrician", _l("Electrician")),
    "consulting": ("Consulting", _l("Consulting")),
    "tutoring": ("Tutoring", _l("Tutoring")),
    "pet-care": ("Pet care", _l("Pet care")),
}


def category_name(slug: str | None, stored: str | None, language: str | None = None) -> str:
    """The display name of category ``slug`` whose row is named ``stored``: the translation of a
    known category still carrying its shipped name, in ``language`` (a tag such as ``da``; default
    the reader's, the request's or a job's locale), else ``stored`` as is (``""`` for ``None``)."""
    stored = stored or ""
    known = KNOWN.get(slug or "")
    if known is None or stored not in ("", known[0]):
        return stored
    chosen = supported_locale(language) if language else None
    if chosen:
        with force_locale(chosen):
            return str(known[1])
    return str(known[1])
