"""The API books several services in one booking: ``service_ids`` alongside ``service_id`` on
``POST /bookings`` and ``GET /availability``; the booking JSON lists its items and total."""

from __future__ import annotations

import pytest

from tests.blueprints.api.test_api import BELLA, assert_problem, bella, body, local, rfc  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


def test_availability_of_two_services_leaves_room_for_both(client, bella):  # noqa: F811
    cut, trim = (str(s) for s in bella.service_ids)
    day = local(10).date().isoformat()
    one = client.get(f"/api/v1/availability?service_id={cut}&start={day}&end={day}", base_url=BELLA).get_json()
    both = client.get(f"/api/v1/availability?service_id={cut}&service_ids={cut},{trim}&start={day}&end={day}",
                      base_url=BELLA).get_json()
    assert one["slots"][-1]["start"][11:16] == "16:00"
    assert both["slots"][-1]["start"][11:16] == "15:30" and both["slots"][-1]["end"][11:16] == "17:00"
    wrong = client.get(f"/api/v1/availability?service_id={trim}&service_ids={cut},{trim}&start={day}&end={day}",
                       base_url=BELLA)
    assert_problem(wrong, 422, fields={"service_ids": "The first service must be service_id."})


def test_booking_two_services_lists_the_items_and_the_total(client, bella):  # noqa: F811
    cut, trim = (str(s) for s in bella.service_ids)
    resp = client.post("/api/v1/bookings", json=body(bella, service_ids=[cut, trim]), base_url=BELLA)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.get_json()
    assert data["price"] == {"amount": 70000, "currency": "DKK"}
    assert [(i["name"], i["start"], i["end"], i["duration_minutes"], i["price"]["amount"]) for i in data["items"]] == [
        ("Haircut", rfc(local(10)), rfc(local(11)), 60, 50000),
        ("Beard trim", rfc(local(11)), rfc(local(11, 30)), 30, 20000)]
    assert data["end"] == rfc(local(11, 30))


def test_a_single_service_booking_has_one_item(client, bella):  # noqa: F811
    data = client.post("/api/v1/bookings", json=body(bella), base_url=BELLA).get_json()
    assert [i["name"] for i in data["items"]] == ["Haircut"]


def test_service_ids_must_start_with_service_id(client, bella):  # noqa: F811
    cut, trim = (str(s) for s in bella.service_ids)
    resp = client.post("/api/v1/bookings", json=body(bella, service_ids=[trim, cut]), base_url=BELLA)
    assert_problem(resp, 422, fields={"service_ids": "The first service must be service_id."})
