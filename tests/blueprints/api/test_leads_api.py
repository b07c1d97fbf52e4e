"""The provider lead API: a staff API token lists the business's leads, claims one (200, a retry
too), and gets a 409 problem naming the case when the lead is not routed to it, already claimed
or the credits are short; another business's lead is a 404; quotes answer 200 or a 422 naming
the field; the OpenAPI document describes the three operations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.credits import balance
from app.extensions import db
from app.identity.models import User
from app.identity.service import create_api_token
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.leads.provider_rows import add_member, give_credits, make_lead, make_request

pytestmark = pytest.mark.integration

HOST = "fixit.localhost"
BASE = f"http://{HOST}"


def _token(tenant_id, email: str) -> str:
    with tenant_scope(tenant_id):
        user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
        _, secret = create_api_token("zapier", user_id)
        db.session.commit()
    return secret


@pytest.fixture
def fixit(ctx):
    biz = make_business("fixit", currency="USD", timezone="America/New_York")
    add_member(biz.tenant_id, "mia@fixit.test", name="Mia Manager")
    add_member(biz.tenant_id, "sol@fixit.test", name="Sol Staff")
    give_credits(biz.tenant_id, 4)
    tap = make_lead(biz.tenant_id, make_request(), credits=3)
    return biz, tap, _token(biz.tenant_id, "mia@fixit.test")


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_list_claim_and_retry(client, fixit):
    biz, tap, secret = fixit
    listed = client.get("/api/v1/leads?status=offered", base_url=BASE, headers=_auth(secret)).get_json()
    assert [(lead["id"], lead["contact"], lead["score_parts"]["rating"]["weight"]) for lead in listed["leads"]] == [
        (str(tap), None, 0.4)]
    resp = client.post(f"/api/v1/leads/{tap}/claim", base_url=BASE, headers=_auth(secret))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "claimed" and body["contact"]["email"] == "dana@example.com"
    again = client.post(f"/api/v1/leads/{tap}/claim", base_url=BASE, headers=_auth(secret))
    assert again.status_code == 200
    with tenant_scope(biz.tenant_id):
        assert balance() == 1
    assert client.get("/api/v1/leads?status=offered", base_url=BASE, headers=_auth(secret)).get_json() == {
        "leads": []}
    assert client.get("/api/v1/leads?status=nope", base_url=BASE, headers=_auth(secret)).status_code == 422


def test_the_three_conflicts_say_which(client, fixit):
    biz, tap, secret = fixit
    other_secret = _token(biz.tenant_id, "sol@fixit.test")
    assert client.post(f"/api/v1/leads/{tap}/claim", base_url=BASE, headers=_auth(secret)).status_code == 200
    taken = client.post(f"/api/v1/leads/{tap}/claim", base_url=BASE, headers=_auth(other_secret))
    assert taken.status_code == 409 and taken.mimetype == "application/problem+json"
    assert taken.get_json()["type"].endswith("/lead-already-claimed")
    assert taken.get_json()["detail"].startswith("Already claimed: Mia Manager already claimed")

    expired = make_lead(biz.tenant_id, make_request(email="eve@example.com"), expires_in_minutes=-5)
    late = client.post(f"/api/v1/leads/{expired}/claim", base_url=BASE, headers=_auth(secret))
    assert late.status_code == 409 and late.get_json()["type"].endswith("/lead-not-routed")

    big = make_lead(biz.tenant_id, make_request(email="max@example.com"), credits=5)
    short = client.post(f"/api/v1/leads/{big}/claim", base_url=BASE, headers=_auth(secret))
    problem = short.get_json()
    assert short.status_code == 409 and problem["type"].endswith("/insufficient-credits")
    assert (problem["needed"], problem["balance"]) == (5, 1)
    assert "needs 5 credits and the balance is 1" in problem["detail"]


def test_another_business_lead_is_not_found_and_no_token_is_401(client, fixit):
    biz, tap, secret = fixit
    other = make_business("other", currency="USD", owner_email="owner@other.test")
    theirs = make_lead(other.tenant_id, make_request(email="zed@example.com"))
    assert client.post(f"/api/v1/leads/{theirs}/claim", base_url=BASE, headers=_auth(secret)).status_code == 404
    assert client.post("/api/v1/leads/nope/claim", base_url=BASE, headers=_auth(secret)).status_code == 404
    resp = client.post(f"/api/v1/leads/{tap}/claim", base_url=BASE)
    assert resp.status_code == 401 and "Bearer" in resp.headers["WWW-Authenticate"]


def test_quote_answers_200_or_422_naming_the_field(client, fixit):
    biz, tap, secret = fixit
    client.post(f"/api/v1/leads/{tap}/claim", base_url=BASE, headers=_auth(secret))
    quote = {"min": 9000, "max": 14000, "currency": "USD", "duration_minutes": 120, "message": "Thursday 9am?"}
    bad = client.post(f"/api/v1/leads/{tap}/quote", base_url=BASE, headers=_auth(secret),
                      json={**quote, "max": 100})
    assert bad.status_code == 422 and [e["field"] for e in bad.get_json()["errors"]] == ["max"]
    eur = client.post(f"/api/v1/leads/{tap}/quote", base_url=BASE, headers=_auth(secret),
                      json={**quote, "currency": "EUR"})
    assert eur.status_code == 422 and eur.get_json()["errors"][0]["field"] == "currency"
    missing = client.post(f"/api/v1/leads/{tap}/quote", base_url=BASE, headers=_auth(secret), json={"min": 1})
    assert missing.status_code == 422
    ok = client.post(f"/api/v1/leads/{tap}/quote", base_url=BASE, headers=_auth(secret), json=quote)
    assert ok.status_code == 200
    assert {k: v for k, v in ok.get_json()["quote"].items() if k != "quoted_at"} == quote
    assert ok.get_json()["status"] == "quoted"


def test_the_openapi_document_describes_the_lead_operations(client, fixit):
    spec = client.get("/api/v1/openapi.json", base_url=BASE).get_json()
    assert set(spec["paths"]["/leads"]) == {"get"}
    claim = spec["paths"]["/leads/{lead_id}/claim"]["post"]
    assert {"200", "401", "404", "409"} <= set(claim["responses"])
    assert "QuoteIn" in spec["components"]["schemas"] and "LeadOut" in spec["components"]["schemas"]


def test_quoting_a_lead_before_claiming_it_is_a_conflict(client, fixit):
    biz, tap, secret = fixit
    quote = {"min": 9000, "max": 14000, "currency": "USD", "duration_minutes": 120, "message": "Thursday?"}
    resp = client.post(f"/api/v1/leads/{tap}/quote", base_url=BASE, headers=_auth(secret), json=quote)
    assert resp.status_code == 409 and "Claim this lead before quoting." in resp.get_json()["detail"]
