"""The offline geocoder and distances: what a search for a place near a city or a postcode
would centre on."""

from __future__ import annotations

import pytest

from app.geo import GeoPoint, PlaceNotFound, distance_km
from app.geo.gazetteer import gazetteer_geocode

pytestmark = pytest.mark.unit

COPENHAGEN = (55.676, 12.566)


@pytest.mark.parametrize(("query", "country", "near", "precision", "label"), [
    ("London", None, (51.509, -0.126), "city", "London, GB"),
    ("london", "CA", (42.983, -81.233), "city", "London, CA"),
    ("København", None, COPENHAGEN, "city", "Copenhagen, DK"),
    ("Copenhagen", "DK", COPENHAGEN, "city", "Copenhagen, DK"),
    ("SW1A 1AA", None, (51.502, -0.141), "postcode", "SW1A, London, GB"),
    ("w1d", None, (51.513, -0.132), "postcode", "W1D, London, GB"),
    ("10001", None, (40.748, -73.997), "postcode", "10001 New York, NY, US"),
    ("Nørregade 12, 1165 København, Denmark", None, (55.679, 12.578), "postcode", "1165 København K, DK"),
    ("2100", "DK", (55.700, 12.582), "postcode", "2100 København Ø, DK"),
    ("118 W 27th St, New York", "US", (40.714, -74.006), "city", "New York City, US"),
])
def test_cities_and_postcodes_resolve_to_their_centre(query, country, near, precision, label):
    point = gazetteer_geocode(query, country)
    assert isinstance(point, GeoPoint)
    assert (point.precision, point.label) == (precision, label)
    assert distance_km(point, near) < 1.0


@pytest.mark.parametrize("query", ["Xyzzyville", "ZZ9 9ZZ", "99999"])
def test_an_unknown_place_is_a_clear_error(query):
    with pytest.raises(PlaceNotFound) as refused:
        gazetteer_geocode(query)
    assert f"“{query}”" in refused.value.message


def test_distance_km_is_the_great_circle_distance():
    london, paris = (51.5074, -0.1278), (48.8566, 2.3522)
    assert distance_km(london, paris) == pytest.approx(343.5, abs=1.0)
    assert distance_km(london, london) == 0.0
    assert distance_km(GeoPoint(0, 0, "", "area"), GeoPoint(0, 180, "", "area")) == pytest.approx(20015.1, abs=1)
