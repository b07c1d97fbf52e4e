"""The test suite's own support: per-table cleaning (tests/support/database.py) and the markers
(each test module declares its kind: ``unit``, ``integration`` or ``e2e``)."""

from __future__ import annotations

import psycopg
import pytest

from tests.factories import make_business
from tests.support.database import plain_url

pytestmark = pytest.mark.integration


def test_only_tables_holding_rows_are_found_and_emptied(ctx, table_cleaner, services):
    assert table_cleaner.written_tables() == []  # clean_state ran before this test
    make_business("bella", staff=1)
    written = table_cleaner.written_tables()
    # staff_member and service force row-level security: the check still sees their rows
    assert {"tenant", "membership", "staff_member", "service"} <= set(written)
    assert "rls_key" not in written and "alembic_version" not in written
    assert set(table_cleaner.clean()) == set(written)
    assert table_cleaner.written_tables() == []
    with psycopg.connect(plain_url(services["OWNER_URL"])) as conn:
        assert conn.execute("select count(*) from rls_key").fetchone()[0] == 1  # kept


def test_markers_follow_the_module(request):
    assert request.node.get_closest_marker("integration") is not None
    assert request.node.get_closest_marker("unit") is None


@pytest.mark.parametrize("marker", ["unit", "integration", "e2e"])
def test_markers_are_registered(request, marker):
    assert any(line.startswith(f"{marker}:") for line in request.config.getini("markers"))
