"""Search over the read model: what, where, when, price, rating, open now, sorting, paging, and
featured positions never taken from outside the query, radius and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.marketplace.search import NearUnresolvable, SearchInputError, categories_with_counts, parse_search, search
from tests.marketplace.support import CAMDEN, COPENHAGEN, GREENWICH, SOHO, listed, set_listing

pytestmark = pytest.mark.integration


def names(page) -> list[str]:
    return [r.row.name for r in page.results]


def run(ctx_raw: dict, now: datetime | None = None):
    return search(parse_search({k: str(v) for k, v in ctx_raw.items()}), now)


@pytest.fixture
def town(ctx):
    """Three barbers and a nail salon in London, a barber in Copenhagen."""
    return {
        "fade": listed("fade-house", point=SOHO, services=[("Skin fade", 30, 2500)]),
        "camden": listed("camden-cuts", point=CAMDEN, services=[("Beard trim", 20, 1500)]),
        "green": listed("greenwich-barbers", point=GREENWICH, services=[("Haircut", 45, 3500)], postcode="SE10 9NN",
                        city="London"),
        "nails": listed("soho-nails", point=SOHO, category="nails", services=[("Gel manicure", 45, 3000)]),
        "cph": listed("kbh-barber", point=COPENHAGEN, city="København", postcode="1050", currency="DKK",
                      timezone="Europe/Copenhagen", services=[("Klip", 30, 30000)]),
    }


def test_a_misspelt_word_still_finds_barbers_and_services_are_searched(town):
    found = run({"q": "barbr", "lat": SOHO[0], "lon": SOHO[1]})
    assert set(names(found)) == {"Fade House", "Camden Cuts", "Greenwich Barbers"}
    assert names(run({"q": "beard", "lat": SOHO[0], "lon": SOHO[1]})) == ["Camden Cuts"]
    assert names(run({"q": "manicure"})) == ["Soho Nails"]


def test_radius_and_distance(town):
    page = run({"category": "barber", "lat": SOHO[0], "lon": SOHO[1], "radius_km": 5, "sort": "distance"})
    assert names(page) == ["Fade House", "Camden Cuts"]  # Greenwich is ~10 km away, Copenhagen ~950
    assert page.results[0].distance_km == pytest.approx(0, abs=0.01)
    assert page.results[1].distance_km == pytest.approx(2.9, abs=0.2)
    wide = run({"category": "barber", "lat": SOHO[0], "lon": SOHO[1], "radius_km": 25})
    assert "Greenwich Barbers" in names(wide) and "Kbh Barber" not in names(wide)
    assert "Kbh Barber" in names(run({"category": "barber"}))  # no centre: anywhere


def test_near_a_city_or_postcode_and_a_place_nobody_knows(town):
    assert set(names(run({"category": "barber", "near": "københavn"}))) == {"Kbh Barber"}
    assert names(run({"category": "barber", "near": "SE10 9NN", "radius_km": 3})) == ["Greenwich Barbers"]
    with pytest.raises(NearUnresolvable) as err:
        run({"near": "Qwxzy Vrrk"})
    assert err.value.field == "near" and "Cannot resolve" in err.value.message


def test_when_price_rating_and_open_now(town):
    # a fixed "now" (10:00 London) so that "today" has hours left whenever the suite runs
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    set_listing(town["fade"], next_available=now + timedelta(hours=1))
    set_listing(town["camden"], next_available=now + timedelta(days=3), rating_average=4.9, rating_count=40)
    set_listing(town["green"], next_available=now + timedelta(days=20), rating_average=3.9, rating_count=12)
    base = {"category": "barber", "lat": SOHO[0], "lon": SOHO[1]}
    assert names(run({**base, "available": "today"}, now)) == ["Fade House"]
    assert set(names(run({**base, "available": "week"}, now))) == {"Fade House", "Camden Cuts"}
    assert names(run({**base, "min_rating": 4.5}, now)) == ["Camden Cuts"]  # no reviews is not 0, nor 4.5
    assert names(run({**base, "price_max": 2000}, now)) == ["Camden Cuts"]
    assert set(names(run({**base, "price_min": 2000}, now))) == {"Fade House", "Greenwich Barbers"}
    # opening hours are 09:00-17:00 every day, London time
    monday_10 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    monday_20 = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    assert len(names(run({**base, "open_now": "true"}, monday_10))) == 3
    assert names(run({**base, "open_now": "true"}, monday_20)) == []


def test_suspended_businesses_never_show(town):
    set_listing(town["fade"], suspended=True)
    assert "Fade House" not in names(run({"q": "barber"}))


def test_featured_positions_only_from_matches(town):
    set_listing(town["nails"], plan_tier="top")
    set_listing(town["cph"], plan_tier="featured")
    page = run({"category": "barber", "lat": SOHO[0], "lon": SOHO[1]})
    assert page.featured == []  # the paying businesses do not match (category, radius)
    set_listing(town["green"], plan_tier="featured")
    page = run({"category": "barber", "lat": SOHO[0], "lon": SOHO[1]})
    assert [r.row.name for r in page.featured] == ["Greenwich Barbers"] and page.featured[0].featured
    assert page.total == 3 and "Greenwich Barbers" not in names(page)  # not twice on one page


def test_paging(town):
    first = run({"q": "barber", "per_page": 2})
    second = run({"q": "barber", "per_page": 2, "page": 2})
    assert first.total == second.total == 4 and first.pages == 2
    assert len(names(first)) == 2 and len(names(second)) == 2
    assert not set(names(first)) & set(names(second))


def test_categories_count_listed_businesses(town):
    counts = {c["slug"]: c["count"] for c in categories_with_counts()}
    assert counts["barber"] == 4 and counts["nails"] == 1 and counts["plumbing"] == 0
    assert list(counts)[:3] == ["hair", "barber", "nails"]


@pytest.mark.parametrize(("raw", "field"), [
    ({"lat": "91", "lon": "0"}, "lat"), ({"lat": "x", "lon": "0"}, "lat"), ({"lat": "51"}, "lon"),
    ({"radius_km": "500"}, "radius_km"), ({"radius_km": "nan"}, "radius_km"), ({"per_page": "51"}, "per_page"),
    ({"page": "0"}, "page"), ({"sort": "cheapest"}, "sort"), ({"available": "tomorrow"}, "available"),
    ({"min_rating": "6"}, "min_rating"), ({"category": "astrology"}, "category"),
    ({"price_min": "50", "price_max": "10"}, "price_max"), ({"q": "x" * 101}, "q"),
])
def test_bad_values_name_their_field(ctx, raw, field):
    with pytest.raises(SearchInputError) as err:
        parse_search(raw)
    assert err.value.field == field and err.value.message
