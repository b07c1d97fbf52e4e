"""The marketplace profile's rules on input: postcodes of a service area, links to each social
network, and a point on the map."""

from __future__ import annotations

import math

import pytest

from app.tenants.marketplace_profile import MarketplaceProfileError, check_point, clean_social_link, parse_postcodes
from app.tenants.vocabulary import amenity_labels, language_names

pytestmark = pytest.mark.unit


def test_postcodes_are_normalised_and_de_duplicated():
    assert parse_postcodes("2100, 2200\nsw1a 1aa; 2100 ,, ") == ["2100", "2200", "SW1A1AA"]
    assert parse_postcodes("") == []
    with pytest.raises(MarketplaceProfileError, match="“2100-2200” is not a postcode."):
        parse_postcodes("2100-2200")
    with pytest.raises(MarketplaceProfileError, match="at most 100"):
        parse_postcodes(",".join(str(1000 + i) for i in range(101)))


@pytest.mark.parametrize(("network", "url", "expected"), [
    ("instagram", " https://www.instagram.com/bella ", "https://www.instagram.com/bella"),
    ("facebook", "https://m.facebook.com/bella", "https://m.facebook.com/bella"),
    ("tiktok", "https://tiktok.com/@bella", "https://tiktok.com/@bella"),
    ("website", "https://bella.example/about?x=1", "https://bella.example/about?x=1"),
    ("website", "", ""),
])
def test_good_links_are_kept(network, url, expected):
    assert clean_social_link(network, url) == expected


@pytest.mark.parametrize(("network", "url", "message"), [
    ("instagram", "http://instagram.com/bella", "starting with https://"),
    ("instagram", "https://instagram.com.evil.example/x", "instagram.com"),
    ("website", "https://localhost/x", "starting with https://"),
    ("website", "https://user:pw@bella.example/", "starting with https://"),
    ("website", "https://bella.example/a b", "starting with https://"),
    ("website", "javascript:alert(1)", "starting with https://"),
    ("website", "https://bella.example/" + "x" * 300, "starting with https://"),
    ("myspace", "https://myspace.com/bella", "Unknown network"),
])
def test_bad_links_are_refused_beside_their_field(network, url, message):
    with pytest.raises(MarketplaceProfileError) as refused:
        clean_social_link(network, url)
    assert message in refused.value.message


def test_a_point_is_both_coordinates_on_earth_or_none():
    assert check_point(None, None) is None
    assert check_point(55.67940012, 12.5776) == (55.6794, 12.5776)
    for lat, lon, field in ((91, 0, "latitude"), (0, -181, "longitude"), (math.nan, 0, "latitude"),
                            (None, 3, "latitude"), (3, None, "longitude")):
        with pytest.raises(MarketplaceProfileError) as refused:
            check_point(lat, lon)
        assert refused.value.field == field


def test_names_of_languages_and_amenities_follow_the_curated_order():
    assert language_names(["da", "xx", "en"]) == ["English", "Danish (dansk)", "xx"]
    assert amenity_labels(["wifi", "unknown", "wheelchair"]) == [("wheelchair", "Wheelchair accessible"),
                                                                 ("wifi", "Free Wi-Fi")]
