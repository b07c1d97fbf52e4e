"""Where a business is: curated zones, their countries and currencies, phone numbers read in
the business's country."""

from __future__ import annotations

import pytest

from app.tenants.phones import PhoneError, example_phone, national_format, parse_phone
from app.tenants.zones import (
    canonical_zone,
    country_of_zone,
    default_currency,
    grouped_zone_choices,
    offered_zones,
    zone_choices,
)
from app.timeutil import all_zones

pytestmark = pytest.mark.unit


def test_offered_zones_are_real_places_only():
    offered = offered_zones()
    assert 380 < len(offered) < 480 < len(all_zones())
    assert not {"Factory", "W-SU", "GB", "US/Eastern", "Etc/GMT+5", "EST5EDT", "Europe/Kiev"} & offered
    assert {"Europe/London", "Europe/Copenhagen", "America/New_York", "Asia/Kolkata", "UTC"} <= offered
    assert offered <= set(all_zones())  # every offered zone is loadable
    regions = [region for region, _ in grouped_zone_choices()]
    assert regions[:2] == ["Africa", "America"] and regions[-1] == "Other"
    labels = {c.name: c.label for c in zone_choices()}
    assert labels["Europe/Copenhagen"] == "Copenhagen (Denmark)"


@pytest.mark.parametrize(("name", "canonical", "country"), [
    ("Europe/London", "Europe/London", "GB"), ("Europe/Copenhagen", "Europe/Copenhagen", "DK"),
    ("Asia/Calcutta", "Asia/Kolkata", "IN"), ("W-SU", "Europe/Moscow", "RU"), ("Etc/UTC", "UTC", None),
    ("Factory", None, None), ("Mars/Olympus", None, None), ("", None, None),
])
def test_zone_links_and_countries(name, canonical, country):
    assert canonical_zone(name) == canonical
    assert country_of_zone(name) == country


@pytest.mark.parametrize(("zone", "region", "currency"), [
    ("Europe/London", None, "GBP"), ("Europe/Copenhagen", "US", "DKK"), ("America/New_York", None, "USD"),
    ("Europe/Berlin", None, "EUR"), ("UTC", "GB", "GBP"), (None, "SE", "SEK"), ("Africa/Nairobi", None, "EUR"),
    (None, None, "EUR"),
])
def test_default_currency_from_the_zone_country_then_the_locale(zone, region, currency):
    assert default_currency(zone, region) == currency


def test_phone_numbers_are_read_in_the_business_country():
    assert parse_phone("07400 123456", "GB") == "+447400123456"
    assert parse_phone("33 12 12 12", "DK") == "+4533121212"
    assert parse_phone("+44 7400 123456", "DK") == "+447400123456"
    assert parse_phone("0044 7400 123456", "US") == "+447400123456"
    with pytest.raises(PhoneError):
        parse_phone("33 12 12 12", "GB")
    with pytest.raises(PhoneError):
        parse_phone("not a number", "GB")
    assert national_format("+4533121212", "DK") == "33 12 12 12"
    assert national_format("+4533121212", "GB") == "+45 33 12 12 12"
    assert example_phone("GB") == "07400 123456" and example_phone("DK") != example_phone("GB")
