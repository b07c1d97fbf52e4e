"""``POST /api/v1/job-requests`` on the apex: 201 with the issue's shape; 422 problem+json
naming the question or field at fault; nothing written on refusal; 404 on a business host; in
the OpenAPI document; rate-limited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import get_queue
from app.leads.access import request_for_token
from app.leads.models import JobRequest
from app.tenants.context import platform_scope
from tests.blueprints.requests.support import plumber, plumbing_questions

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@pytest.fixture
def questions(ctx):
    plumber()
    return plumbing_questions()


def body(q, **changes):
    data = {"category": "plumbing",
            "answers": {str(q["what"]): "pipe", str(q["rooms"]): ["kitchen", "bath"], str(q["taps"]): 4,
                        str(q["water_off"]): True, str(q["notes"]): "Under the sink"},
            "location": {"postcode": "10001"}, "timing": {"kind": "urgent"},
            "contact": {"name": "Ada Guest", "email": "ada@example.com", "phone": "+1 212 555 0100"}}
    data.update(changes)
    return data


def stored() -> int:
    with platform_scope("test"):
        return db.session.scalar(sa.select(sa.func.count()).select_from(JobRequest))


def test_a_job_request_is_created_with_its_tier_and_manage_link(client, questions):
    resp = client.post("/api/v1/job-requests", base_url=APEX, json=body(questions))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.get_json()
    assert set(data) == {"id", "status", "complexity_tier", "manage_url"}
    assert data["status"] == "unconfirmed" and data["complexity_tier"] == 5  # every weight at its top: 100
    assert data["manage_url"].startswith("http://localhost") and f"/requests/{data['id']}?t=" in data["manage_url"]
    import uuid

    jr = request_for_token(uuid.UUID(data["id"]), data["manage_url"].split("t=")[1])
    assert jr.summary[0] == {"label": "What needs fixing?", "text": "Burst pipe"}
    assert jr.timing_kind == "urgent" and jr.credits_cost == 5


@pytest.mark.parametrize(("change", "field", "detail"), [
    ({"answers": {"nope": "x"}}, "answers.nope", "This is not a question of this category."),
    ({"answers": {}}, "answers.{what}", "Answer “What needs fixing?”."),
    ({"answers": {"{what}": "tap", "{taps}": "lots"}}, "answers.{taps}", "Enter a number."),
    ({"answers": {"{what}": "tap", "{water_off}": "maybe"}}, "answers.{water_off}", "Answer yes or no."),
    ({"answers": {"{what}": "flood"}}, "answers.{what}", "Choose one of the options."),
    ({"location": {"postcode": "90210"}}, "location.postcode", "No provider covers 90210 yet."),
    ({"timing": {"kind": "range", "start": "2020-01-01", "end": "2020-01-03"}}, "timing.start",
     "The first day has passed."),
    ({"contact": {"name": "Ada", "email": "nope", "phone": "+1 212 555 0100"}}, "contact.email",
     "Enter a valid email address."),
    ({"category": "astrology"}, "category", "Choose what kind of job it is."),
    ({"colour": "red"}, "colour", None),
])
def test_refusals_name_the_field_and_write_nothing(client, questions, change, field, detail):
    def fill(text: str) -> str:
        return text.format(**{k: str(v) for k, v in questions.items()})

    if "answers" in change:
        change = {"answers": {fill(k): v for k, v in change["answers"].items()}}
    resp = client.post("/api/v1/job-requests", base_url=APEX, json=body(questions, **change))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert fill(field) in [e["field"] for e in problem["errors"]]
    if detail:
        assert detail in [e["message"] for e in problem["errors"]]
    assert stored() == 0
    assert get_queue().count == 0


def test_business_hosts_answer_404(client, questions):
    resp = client.post("/api/v1/job-requests", base_url="http://plumbers.localhost", json=body(questions))
    assert resp.status_code == 404 and stored() == 0


def test_the_openapi_document_describes_it(client, questions):
    spec = client.get("/api/v1/openapi.json", base_url="http://plumbers.localhost").get_json()
    op = spec["paths"]["/job-requests"]["post"]
    assert set(op["responses"]) >= {"201", "404", "422", "429"}
    created = spec["components"]["schemas"]["JobRequestCreated"]
    assert set(created["properties"]) == {"id", "status", "complexity_tier", "manage_url"}
    assert set(spec["components"]["schemas"]["JobRequestCreate"]["properties"]) == {
        "category", "answers", "location", "timing", "contact"}


def test_it_is_rate_limited(client, questions):
    answers = [client.post("/api/v1/job-requests", base_url=APEX, json=body(questions)).status_code
               for _ in range(11)]
    assert answers[:10] == [201] * 10 and answers[10] == 429
