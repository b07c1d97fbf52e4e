"""The slot picker's days, months and times read the way the reader's language writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from app.blueprints.storefront.dates import (
    clock,
    day_text,
    moment,
    month_range,
    relative_day,
    short_relative_day,
    slot_time,
    weekday_names,
    weekday_short,
)
from tests.support.translations import TRANSLATIONS

pytestmark = pytest.mark.unit

TUESDAY = date(2026, 11, 24)
CPH = "Europe/Copenhagen"
AT_1430 = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 14:30 in Copenhagen


@pytest.fixture
def reader():
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app)
    with app.test_request_context("/"):
        yield force_locale


def test_a_danish_reader_gets_danish_days_months_and_a_24_hour_clock(reader):
    with reader("da"):
        assert weekday_short(TUESDAY) == "tirs."
        assert day_text(TUESDAY, CPH) == "tirsdag 24. november"
        assert relative_day(TUESDAY, TUESDAY, CPH) == "I dag, tirsdag 24. november"
        assert relative_day(TUESDAY, date(2026, 11, 23), CPH) == "I morgen, tirsdag 24. november"
        assert relative_day(TUESDAY, date(2026, 11, 20), CPH) == "tirsdag 24. november"
        assert short_relative_day(TUESDAY, TUESDAY, CPH) == "i dag"
        assert short_relative_day(TUESDAY, date(2026, 11, 23), CPH) == "i morgen"
        assert month_range(TUESDAY, date(2026, 11, 30)) == "november 2026"
        assert month_range(TUESDAY, date(2026, 12, 7)) == "november–december 2026"
        assert slot_time(AT_1430, CPH) == "14.30"
        assert moment(AT_1430, CPH) == "tirsdag 24. november kl. 14.30"
        assert clock(time(9, 0)) == "09.00"
        assert weekday_names()[0] == "Mandag"


def test_english_readers_get_their_own_clock(reader):
    with reader("en_GB"):
        assert relative_day(TUESDAY, TUESDAY, CPH) == "Today, Tuesday 24 November"
        assert short_relative_day(TUESDAY, date(2026, 11, 23), CPH) == "tomorrow"
        assert month_range(TUESDAY, date(2026, 12, 7)) == "November\u2009–\u2009December 2026"  # thin spaces
        assert slot_time(AT_1430, CPH) == "14:30"
        assert moment(AT_1430, CPH) == "Tuesday 24 November at 14:30"
        assert clock(time(9, 0)) == "09:00"
        assert weekday_names()[6] == "Sunday"
    with reader("en_US"):
        assert slot_time(AT_1430, CPH) in ("2:30\u202fPM", "2:30 PM")
        assert clock(time(9, 0)) in ("9:00\u202fAM", "9:00 AM")
