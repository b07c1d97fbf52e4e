"""Schemathesis over ``/api/v1/openapi.json``, in-process (WSGI): for every operation, generated
valid and invalid requests never get a 5xx, and every answer has a documented status and
matches the documented schema. Authenticated operations run with a real staff API token, and
half of the generated ids are replaced by a real service, staff member or booking so the
happy paths are reached, not only the 404/422 ones."""

from __future__ import annotations

import collections
import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from app.extensions import db
from app.identity.service import create_api_token
from app.tenants.context import tenant_scope
from tests.factories import make_business

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
#: Generated requests per operation and generation mode; the whole test stays well under a minute.
EXAMPLES = 20
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def seeded(ctx, client):
    """Bella with a staff API token and one booking made through the API."""
    biz = make_business("bella", staff=2, services=[("Haircut", 60, 50000), ("Beard trim", 30, 20000)])
    with tenant_scope(biz.tenant_id):
        _, secret = create_api_token("fuzz", None)
        db.session.commit()
    from datetime import UTC, datetime, time, timedelta

    from app.timeutil import zone

    day = datetime.now(zone(biz.timezone)).date() + timedelta(days=5)
    start = datetime.combine(day, time(11), tzinfo=zone(biz.timezone)).astimezone(UTC).isoformat()
    resp = client.post("/api/v1/bookings", base_url=f"http://{HOST}", json={
        "service_id": str(biz.service_ids[0]), "start": start,
        "customer": {"name": "Fuzz Target", "email": "fuzz@example.com"}})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return biz, secret, resp.get_json()["id"]


def _bookable_start(biz, turn: int) -> str:
    """A start inside working hours some days ahead, different for each turn (RFC 3339, UTC)."""
    from datetime import UTC, datetime, time, timedelta

    from app.timeutil import zone

    tz = zone(biz.timezone)
    day = datetime.now(tz).date() + timedelta(days=2 + turn // 16)
    return datetime.combine(day, time(9 + turn // 2 % 8), tzinfo=tz).astimezone(UTC).isoformat()


def _plant_real_ids(case, biz, booking_id: str, turn: int) -> None:
    """On every other case, swap generated ids (and a booking's start) for real ones; the request
    stays schema-valid, and now reaches the business rules."""
    if turn % 2:
        return
    if case.path_parameters and "booking_id" in case.path_parameters:
        case.path_parameters["booking_id"] = booking_id
    for container in (case.query, case.body if isinstance(case.body, dict) else None):
        if not isinstance(container, dict):
            continue
        if isinstance(container.get("service_id"), str):
            container["service_id"] = str(biz.service_ids[turn % 4 // 2])
        if isinstance(container.get("staff_id"), str):
            container["staff_id"] = str(biz.staff_ids[turn % 4 // 2])
    if isinstance(case.query, dict) and isinstance(case.query.get("start"), str):
        from datetime import date, timedelta

        first = date.today() + timedelta(days=turn % 10)
        case.query["start"], case.query["end"] = first.isoformat(), (first + timedelta(days=turn % 5)).isoformat()
    if isinstance(case.body, dict) and isinstance(case.body.get("start"), str):
        case.body["start"] = _bookable_start(biz, turn)


def _has_inputs(operation) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def _fuzz(operation, mode, biz, secret: str, booking_id: str, statuses: collections.Counter) -> None:
    """Run EXAMPLES generated cases of ``operation`` with the checks; count the statuses seen."""
    turns = itertools.count()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        _plant_real_ids(case, biz, booking_id, next(turns))
        response = case.call(headers={"Host": HOST, "Authorization": f"Bearer {secret}"})
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_generated_requests_get_documented_answers_and_no_5xx(app, seeded, mode):
    biz, secret, booking_id = seeded
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers={"Host": HOST})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /services", "GET /staff", "GET /availability", "POST /bookings",
                                               "GET /bookings/{booking_id}", "POST /bookings/{booking_id}/cancel"}
    seen: dict[str, collections.Counter] = {}
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
            continue  # nothing to make invalid
        _fuzz(operation, mode, biz, secret, booking_id, seen.setdefault(operation.label, collections.Counter()))
    print(mode.value, {label: dict(counts) for label, counts in seen.items()})
    if mode is GenerationMode.POSITIVE:  # the happy paths were reached, not only the refusals
        assert seen["GET /availability"][200] and seen["GET /bookings/{booking_id}"][200]
        assert seen["POST /bookings"][201] and seen["POST /bookings/{booking_id}/cancel"][200]
