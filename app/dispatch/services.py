"""The services that can be asked for *now*, and the constants of travel.

A business that offers on-demand service picks some of these slugs on its dispatch settings page
(``dispatch_profile.services``); a customer picks one on ``/now``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

#: slug -> name of every on-demand service.
ON_DEMAND_SERVICES: dict[str, LazyString] = {
    "car-wash": _l("Mobile car wash"),
    "cleaning": _l("Home cleaning"),
    "handyman": _l("Handyman"),
    "locksmith": _l("Locksmith"),
    "dog-walking": _l("Dog walking"),
}

#: Average door-to-door speed of an operator in a city, km/h (for the ETA).
CITY_SPEED_KMH = 25.0
#: Minutes added to every ETA (parking, finding the door).
ETA_OVERHEAD_MINUTES = 3


def service_name(slug: str) -> str:
    """The display name of service ``slug`` in the reader's language (the slug itself when unknown)."""
    return str(ON_DEMAND_SERVICES.get(slug, slug))


def eta_minutes(distance_km: float) -> int:
    """Whole minutes for an operator ``distance_km`` away to arrive: distance over
    :data:`CITY_SPEED_KMH` plus :data:`ETA_OVERHEAD_MINUTES`, at least 1."""
    return max(1, round(distance_km / CITY_SPEED_KMH * 60) + ETA_OVERHEAD_MINUTES)
