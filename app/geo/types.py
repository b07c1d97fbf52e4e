"""The shapes the geocoding gateway answers with, and its errors."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import InputError

#: How exact a point is, most exact first: a street address, a postcode's centre, a city's centre,
#: or a wider area (a region, a country).
PRECISIONS = ("address", "postcode", "city", "area")


@dataclass(frozen=True)
class GeoPoint:
    """A place on the map: ``lat`` / ``lon`` in WGS 84 degrees, a human ``label`` for it
    (``Copenhagen, DK``) and its ``precision`` (one of :data:`PRECISIONS`)."""

    lat: float
    lon: float
    label: str
    precision: str


class GeocodeError(InputError, ValueError):
    """A place could not be turned into a point; ``message`` is user-facing."""


class PlaceNotFound(GeocodeError):
    """Nothing on the map matches the place asked for."""


class GeocoderUnavailable(GeocodeError):
    """The geocoding service could not answer (down, too slow, refused); try again later."""
