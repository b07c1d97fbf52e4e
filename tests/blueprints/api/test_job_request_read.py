"""``GET /api/v1/job-requests/{id}`` on the apex: the customer reads their request with its manage
token (Bearer or ``?t=``) — status, tier, offers with price ranges and the history; a wrong token,
no token or a business host answers 404 problem+json; the OpenAPI document describes it."""

from __future__ import annotations

import uuid

import pytest

from app.audit.service import AuditActor
from app.leads.confirm import confirm_quote
from app.uow import unit_of_work
from tests.factories import make_business
from tests.leads.customer_rows import make_lead, make_request

pytestmark = pytest.mark.integration

BASE = "http://localhost"


@pytest.fixture
def request_with_quotes(ctx):
    a = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    b = make_business("tapco", timezone="America/New_York", currency="USD", staff=1)
    make_business("idle", timezone="America/New_York", currency="USD", staff=1)
    req = make_request()
    lead_a = make_lead(a.tenant_id, req.id, low=9000, high=14000)
    make_lead(b.tenant_id, req.id, status="claimed")
    return req, lead_a


def test_the_manage_token_reads_status_offers_and_history(client, request_with_quotes):
    req, _lead = request_with_quotes
    resp = client.get(f"/api/v1/job-requests/{req.id}", base_url=BASE, headers={"Authorization": f"Bearer {req.token}"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert (body["id"], body["status"], body["complexity_tier"]) == (str(req.id), "routed", 2)
    offers = {o["business"]: o for o in body["offers"]}
    assert offers["Fixit"] == {"business": "Fixit", "price_min": 9000, "price_max": 14000, "currency": "USD",
                               "duration_minutes": 60, "status": "quoted"}
    assert offers["Tapco"]["price_min"] is None and offers["Tapco"]["status"] == "claimed"
    events = [e["event"] for e in body["history"]]
    assert events[0] == "submitted" and events.count("sent") == 2 and "quoted" in events
    assert client.get(f"/api/v1/job-requests/{req.id}?t={req.token}", base_url=BASE).status_code == 200


def test_after_confirming_the_history_ends_booked(client, request_with_quotes):
    req, lead = request_with_quotes
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    start = datetime.now(ZoneInfo("America/New_York")).replace(hour=11, minute=0, second=0, microsecond=0)
    with unit_of_work():
        confirm_quote(req.id, lead, start + timedelta(days=1), AuditActor(None))
    body = client.get(f"/api/v1/job-requests/{req.id}?t={req.token}", base_url=BASE).get_json()
    assert body["status"] == "booked"
    events = [(e["event"], e["business"]) for e in body["history"]]
    assert events[-1] == ("booked", "Fixit") and ("won", "Fixit") in events and ("lost", "Tapco") in events
    assert {o["business"]: o["status"] for o in body["offers"]} == {"Fixit": "won", "Tapco": "lost"}


@pytest.mark.parametrize("how", ["wrong", "none", "other-id", "business-host"])
def test_anything_but_the_token_on_the_apex_is_404_problem(client, request_with_quotes, how):
    req, _lead = request_with_quotes
    path, headers, base = f"/api/v1/job-requests/{req.id}", {"Authorization": f"Bearer {req.token}"}, BASE
    if how == "wrong":
        headers = {"Authorization": "Bearer not-the-token"}
    elif how == "none":
        headers = {}
    elif how == "other-id":
        path = f"/api/v1/job-requests/{uuid.uuid4()}"
    else:
        base = "http://fixit.localhost"
    resp = client.get(path, base_url=base, headers=headers)
    assert resp.status_code == 404
    assert resp.content_type == "application/problem+json"


def test_the_openapi_document_describes_it(client, request_with_quotes):
    spec = client.get("/api/v1/openapi.json", base_url="http://fixit.localhost").get_json()
    op = spec["paths"]["/job-requests/{job_request_id}"]["get"]
    assert op["operationId"] == "getJobRequest"
    schema = spec["components"]["schemas"]["JobRequestOut"]
    assert {"status", "complexity_tier", "offers", "history"} <= set(schema["properties"])
