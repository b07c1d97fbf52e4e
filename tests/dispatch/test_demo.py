"""The dispatch demo data: two on-demand businesses whose operators are online, idempotent."""

from __future__ import annotations

import pytest

from app.dispatch.demo import seed_dispatch_demo
from app.dispatch.requests import request_now
from app.uow import unit_of_work
from tests.dispatch.helpers import offers_of, request_row

pytestmark = pytest.mark.integration


def test_the_demo_has_a_car_wash_and_a_cleaner_ready_to_dispatch(ctx):
    with unit_of_work():
        created = seed_dispatch_demo("demo-password-123")
    assert created == ["shine (on demand, 4 operators)", "sparkle (on demand, 4 operators)"]
    with unit_of_work():
        assert seed_dispatch_demo("demo-password-123") == []
    for service in ("car-wash", "cleaning"):
        with unit_of_work():
            rid = request_now(None, "Demo", service, 40.7590, -73.9845).id
        assert request_row(rid).status == "offered"
        assert offers_of(rid)[0].distance_km < 1.0
