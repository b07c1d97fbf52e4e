"""What one apex search costs the database: no unit-of-work transaction (no BEGIN, RLS
settings or COMMIT), one statement with the word cache warm (two cold: the vocabulary, then
the search); and the answer, written without a model per row, is exactly the documented one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.blueprints.api.marketplace_schemas import SearchOut
from app.extensions import RoutingSession, db
from app.tenants.roles import table_read_engine
from tests.marketplace.support import CAMDEN, SOHO, listed, set_listing

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@contextmanager
def sent(app) -> Iterator[dict[str, list]]:
    """Record the statements sent on every engine and the ``db.session`` transactions begun."""
    seen: dict[str, list] = {"statements": [], "transactions": []}

    def statement(conn, cursor, text, params, context, executemany):  # noqa: ANN001, PLR0913 - SQLAlchemy's signature
        seen["statements"].append(text)

    def began(session, transaction, connection):  # noqa: ANN001 - SQLAlchemy's signature
        seen["transactions"].append(connection.engine.url.username)

    with app.app_context():
        engines = [*db.engines.values(), table_read_engine()]
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(RoutingSession, "after_begin", began)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", statement)
        sa.event.remove(RoutingSession, "after_begin", began)


@pytest.fixture
def barbers(ctx):
    fade = listed("fade-house", point=SOHO, services=[("Skin fade", 30, 2500)])
    camden = listed("camden-cuts", point=CAMDEN, services=[("Beard trim", 20, 1500)], category="barber")
    set_listing(camden, rating_average=4.8, rating_count=200, plan_tier="top")
    return fade, camden


def test_an_apex_search_is_one_statement_and_no_transaction(app, client, barbers):
    args = {"q": "barbr beard", "category": "barber", "lat": SOHO[0], "lon": SOHO[1], "radius_km": 5,
            "available": "week"}
    client.get("/api/v1/marketplace/search", base_url=APEX, query_string={"category": "barber"})  # taxonomy cached
    with sent(app) as cold:
        assert client.get("/api/v1/marketplace/search", base_url=APEX, query_string=args).status_code == 200
    assert cold["transactions"] == []
    assert len(cold["statements"]) == 2 and "marketplace_word" in cold["statements"][0]
    with sent(app) as warm:
        resp = client.get("/api/v1/marketplace/search", base_url=APEX, query_string={**args, "radius_km": 10})
    assert resp.status_code == 200 and warm["transactions"] == []
    assert len(warm["statements"]) == 1 and "marketplace_listing" in warm["statements"][0]


def test_the_answer_is_exactly_the_documented_model(client, barbers):
    resp = client.get("/api/v1/marketplace/search", base_url=APEX,
                      query_string={"category": "barber", "lat": SOHO[0], "lon": SOHO[1], "sort": "distance"})
    body = resp.get_json()
    assert [r["slug"] for r in body["results"]] == ["camden-cuts", "fade-house"]  # featured first
    assert SearchOut.model_validate_json(resp.data).model_dump(mode="json") == body
    assert body["results"][0]["rating"] == {"average": 4.8, "count": 200} and body["results"][0]["featured"]
