"""The JSON API's problem+json speaks the request's language (Accept-Language): ``title``,
``detail`` and each field's ``message`` are Danish for a Danish client and English otherwise,
``Content-Language`` says which, and the machine fields (``type``, ``status``, field names)
are the same in every language."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.factories import make_business

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"
PROBLEM = "application/problem+json"


@pytest.fixture
def bella(app):
    with app.app_context():
        biz = make_business("bella", services=[("Klip", 45, 64900)])
        db.session.remove()
    return biz


def bad_booking(client, bella, language: str):
    """A booking without a start time or customer: 422 with two field errors."""
    return client.post("/api/v1/bookings", json={"service_id": str(bella.service_ids[0])}, base_url=BELLA,
                       headers={"Accept-Language": language})


def test_a_422_problem_is_danish_for_a_danish_client_with_the_same_machine_fields(client, bella):
    resp = bad_booking(client, bella, "da-DK,da;q=0.9,en;q=0.5")
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert resp.headers["Content-Language"] == "da-DK"
    data = resp.get_json()
    assert data["type"] == "about:blank" and data["status"] == 422
    assert data["title"] == "Indholdet kan ikke behandles"
    assert data["detail"] == "Forespørgslen har ugyldige felter: start, customer."
    assert {e["field"]: e["message"] for e in data["errors"]} == {"start": "Feltet skal udfyldes.",
                                                                    "customer": "Feltet skal udfyldes."}


def test_the_same_problem_is_english_for_an_english_client(client, bella):
    resp = bad_booking(client, bella, "en-US,en;q=0.9")
    assert resp.status_code == 422 and resp.headers["Content-Language"] == "en-US"
    data = resp.get_json()
    assert data["title"] == "Unprocessable Content"
    assert data["detail"] == "The request has invalid fields: start, customer."
    assert {e["message"] for e in data["errors"]} == {"This field is required."}


def test_a_malformed_body_and_an_unknown_route_answer_in_danish(client, bella):
    broken = client.post("/api/v1/bookings", data="{not json", content_type="application/json", base_url=BELLA,
                         headers={"Accept-Language": "da"})
    assert broken.status_code == 400 and broken.headers["Content-Language"] == "da"
    assert broken.get_json()["title"] == "Ugyldig forespørgsel"
    assert broken.get_json()["detail"].startswith("Forespørgslens indhold er ikke gyldig JSON: ")
    missing = client.get("/api/v1/no-such-thing", base_url=BELLA, headers={"Accept-Language": "da"})
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    assert missing.get_json() == {"type": "about:blank", "title": "Ikke fundet", "status": 404,
                                  "detail": "Der er intet her. Tjek adressen."}
    unauthorised = client.get("/api/v1/bookings/00000000-0000-0000-0000-000000000000", base_url=BELLA,
                              headers={"Accept-Language": "da"})
    assert unauthorised.status_code == 401 and unauthorised.get_json()["title"] == "Ikke logget ind"
    assert "Authorization: Bearer <token>" in unauthorised.get_json()["detail"]
    assert unauthorised.get_json()["detail"].startswith("Send tokenet") or "kræver" in unauthorised.get_json()["detail"]
