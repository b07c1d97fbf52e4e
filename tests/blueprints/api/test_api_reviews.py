"""The API's review endpoints: GET /api/v1/reviews (summary + visible reviews, paginated, hidden
content never served) and POST /api/v1/bookings/{id}/review with the manage token (201; 401/403/404
for the wrong credentials; 409 not completed or already reviewed; 422 naming the field), and
both in the OpenAPI document."""

from __future__ import annotations

import pytest

from app.booking.links import manage_token
from app.booking.models import BookingStatus
from app.extensions import db
from app.identity.service import create_api_token
from app.reviews.moderation import set_reply_hidden, set_review_hidden
from app.reviews.service import create_review, reply_to_review
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.reviews.support import visit

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


def _visit(biz, status=BookingStatus.COMPLETED, **kw) -> tuple[str, str]:
    """(booking id, manage token) of a committed visit."""
    with tenant_scope(biz.tenant_id):
        booking = visit(biz, status=status, **kw)
        db.session.commit()
        return str(booking.id), manage_token(booking)


def _post(client, booking_id: str, token: str | None, body, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/bookings/{booking_id}/review", json=body, base_url=BASE, headers=headers, **kw)


def test_the_customer_reviews_with_the_manage_token_once(ctx, client):
    biz = make_business("bella")
    booking_id, token = _visit(biz)
    resp = _post(client, booking_id, token, {"rating": 5, "ratings": {"quality": 4}, "text": "<i>Great</i> fade"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["rating"], body["text"], body["reply"]) == (5, "Great fade", None)
    assert body["ratings"] == {"quality": 4, "communication": None, "professionalism": None, "value": None}
    again = _post(client, booking_id, token, {"rating": 3})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert "already reviewed" in again.get_json()["detail"]
    listing = client.get("/api/v1/reviews", base_url=BASE).get_json()
    assert listing["summary"] == {"average": 5.0, "count": 1, "dimensions": {
        "quality": 4.0, "communication": None, "professionalism": None, "value": None}}
    assert [r["id"] for r in listing["reviews"]] == [body["id"]] and listing["has_more"] is False


def test_not_completed_is_409(ctx, client):
    biz = make_business("bella")
    booking_id, token = _visit(biz, status=BookingStatus.CONFIRMED)
    resp = _post(client, booking_id, token, {"rating": 4})
    assert resp.status_code == 409 and "completed" in resp.get_json()["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({"rating": 6}, "rating"), ({"rating": "5"}, "rating"), ({}, "rating"), ({"rating": True}, "rating"),
    ({"rating": 4, "ratings": {"value": 0}}, "ratings.value"), ({"rating": 4, "ratings": {"looks": 2}}, "ratings.looks"),
    ({"rating": 4, "text": "x" * 2001}, "text"), ({"rating": 4, "stars": 5}, "stars"),
])
def test_bad_values_are_422_naming_the_field(ctx, client, body, field):
    biz = make_business("bella")
    booking_id, token = _visit(biz)
    resp = _post(client, booking_id, token, body)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert field in [e["field"] for e in resp.get_json()["errors"]]
    assert client.get("/api/v1/reviews", base_url=BASE).get_json()["summary"]["count"] == 0


def test_wrong_credentials(ctx, client):
    biz = make_business("bella")
    booking_id, token = _visit(biz)
    other_id, other_token = _visit(biz, index=1)
    assert _post(client, booking_id, None, {"rating": 5}).status_code == 401
    assert _post(client, booking_id, "forged", {"rating": 5}).status_code == 401
    assert _post(client, booking_id, other_token, {"rating": 5}).status_code == 404
    with tenant_scope(biz.tenant_id):
        _, secret = create_api_token("staff", None)
        db.session.commit()
    staff = _post(client, booking_id, secret, {"rating": 5})
    assert staff.status_code == 403 and "Only the customer" in staff.get_json()["detail"]
    make_business("fixit")
    foreign = client.post(f"/api/v1/bookings/{booking_id}/review", json={"rating": 5},
                          base_url="http://fixit.localhost", headers={"Authorization": f"Bearer {token}"})
    assert foreign.status_code == 401


def test_listing_pages_and_hides_what_is_hidden(ctx, client):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        kept = create_review(visit(biz, index=0), rating=4, text="Kept")
        reply_to_review(kept, "Thanks!", None)
        hidden = create_review(visit(biz, "b@example.com", index=1), rating=1, text="Hidden")
        set_review_hidden(hidden.id, True)
        for i in range(10):
            create_review(visit(biz, f"c{i}@example.com", index=2 + i % 6, days_ago=4 + i), rating=5)
        db.session.commit()
    first = client.get("/api/v1/reviews", base_url=BASE).get_json()
    assert len(first["reviews"]) == 10 and first["has_more"] is True and first["summary"]["count"] == 11
    second = client.get("/api/v1/reviews?page=2", base_url=BASE).get_json()
    texts = [r["text"] for r in first["reviews"] + second["reviews"]]
    assert "Hidden" not in texts and "Kept" in texts
    [kept_out] = [r for r in first["reviews"] + second["reviews"] if r["text"] == "Kept"]
    assert kept_out["reply"]["text"] == "Thanks!"
    with tenant_scope(biz.tenant_id):
        set_reply_hidden(kept.id, True)
        db.session.commit()
    again = client.get("/api/v1/reviews?page=2", base_url=BASE).get_json()["reviews"]
    assert all(r["reply"] is None for r in again)
    bad = client.get("/api/v1/reviews?page=0", base_url=BASE)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "page"


def test_no_reviews_is_null_not_zero(ctx, client):
    make_business("bella")
    body = client.get("/api/v1/reviews", base_url=BASE).get_json()
    assert body["summary"]["average"] is None and body["summary"]["count"] == 0 and body["reviews"] == []


def test_both_endpoints_are_in_the_openapi_document(ctx, client):
    make_business("bella")
    spec = client.get("/api/v1/openapi.json", base_url=BASE).get_json()
    assert "get" in spec["paths"]["/reviews"] and "post" in spec["paths"]["/bookings/{booking_id}/review"]
    assert {"ReviewCreate", "ReviewList", "ReviewOut"} <= set(spec["components"]["schemas"])
