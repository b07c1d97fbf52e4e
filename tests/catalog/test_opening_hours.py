"""Opening hours shown to the public: the staff's ranges merged per weekday."""

from __future__ import annotations

from datetime import time

import pytest

from app.catalog.opening_hours import merge_ranges

pytestmark = pytest.mark.unit

T = time.fromisoformat


def test_ranges_are_sorted_and_merged():
    assert merge_ranges([(T("12:30"), T("17:00")), (T("09:00"), T("12:00")), (T("16:00"), T("18:00")),
                         (T("12:00"), T("12:15"))]) == ((T("09:00"), T("12:15")), (T("12:30"), T("18:00")))
    assert merge_ranges([]) == ()
