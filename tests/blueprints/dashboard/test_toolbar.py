"""The bookings board and the calendar share one toolbar macro (dashboard/_toolbar.html): the
same controls, each swapping its own page's block, and only the board filters cancelled ones."""

from __future__ import annotations

import re

import pytest

from tests.blueprints.dashboard.test_desk import BASE, HOST
from tests.factories import make_business
from tests.helpers import login_as

pytestmark = pytest.mark.integration


@pytest.fixture
def owner(app, ctx):
    biz = make_business("bella")
    client = app.test_client()
    login_as(client, biz.owner_email, host=HOST)
    return client


def _toolbar(html: str) -> str:
    return re.search(r'<div class="db-toolbar">.*?</form>\s*</div>', html, re.S).group(0)


def test_board_and_calendar_toolbars_differ_only_in_target_endpoint_and_cancelled(owner):
    board = _toolbar(owner.get("/dashboard/?date=2027-03-01&view=day", base_url=BASE).get_data(as_text=True))
    calendar = _toolbar(owner.get("/dashboard/calendar?date=2027-03-01&view=day", base_url=BASE).get_data(as_text=True))
    for html, target in ((board, "#bookings"), (calendar, "#calendar")):
        assert html.count(f'hx-target="{target}"') == 6  # day, week, previous, today, next, the staff filter
        assert "New booking" in html and "Walk-in now" in html and 'name="staff"' in html
    assert 'action="/dashboard/"' in board and 'action="/dashboard/calendar"' in calendar
    assert 'name="cancelled"' in board and 'name="cancelled"' not in calendar
