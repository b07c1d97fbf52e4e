"""Money, dates, times and durations read the way the reader's language writes them (Babel, CLDR)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from app.formatting import format_duration, format_local, format_money
from app.i18n import first_supported, language_of, supported_locale
from tests.support.translations import TRANSLATIONS

pytestmark = pytest.mark.unit

TUESDAY = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 14:30 in Copenhagen


@pytest.fixture
def reader():
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app)
    with app.test_request_context("/"):
        yield force_locale


def test_danish_reader(reader):
    with reader("da"):
        assert format_money(64900, "DKK") == "649,00\xa0kr."
        assert format_local(TUESDAY, "Europe/Copenhagen", "%A %-d %B") == "tirsdag 24. november"
        assert format_local(TUESDAY, "Europe/Copenhagen", "%H:%M") == "14.30"
        assert format_duration(90) == "1 t 30 min"


def test_us_english_reader(reader):
    with reader("en_US"):
        assert format_money(9000, "USD") == "$90.00"
        assert format_local(TUESDAY, "America/New_York", "%H:%M") .replace("\u202f", " ") == "8:30 AM"
        assert format_local(TUESDAY, "Europe/Copenhagen", "%A %-d %B") == "Tuesday, November 24"
        assert format_duration(90) == "1 h 30 min"


def test_british_reader_and_machine_formats(reader):
    with reader("en_GB"):
        assert format_local(TUESDAY, "Europe/London", "%H:%M") == "13:30"
        assert format_money(4500, "GBP") == "£45.00"
    with reader("da"):
        assert format_local(TUESDAY, "Europe/Copenhagen", "%Y-%m-%d") == "2026-11-24"


def test_language_tags():
    assert supported_locale("da-dk") == "da_DK" and supported_locale("EN-gb") == "en_GB"
    assert supported_locale("fr") is None and supported_locale("*") is None and supported_locale("") is None
    assert first_supported(["fr-FR", "de", "da", "en"]) == "da"
    assert language_of("da_DK") == "da" and language_of("xx") == "en" and language_of(None) == "en"
