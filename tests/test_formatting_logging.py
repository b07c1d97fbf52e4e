"""Money through Babel (app/formatting.py) and JSON log lines through python-json-logger (app/logging.py)."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from app.formatting import currency_decimals, format_money, money_locale
from app.logging import json_formatter

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (64900, "DKK", "649,00\xa0kr."), (-450, "DKK", "-4,50\xa0kr."), (123456789, "DKK", "1.234.567,89\xa0kr."),
    (8900, "USD", "$89.00"), (8900, "EUR", "€89.00"), (1200, "GBP", "£12.00"), (100000, "JPY", "¥100,000"),
])
def test_money_is_formatted_by_babel_in_the_currency_home_conventions(amount, currency, text):
    assert format_money(amount, currency) == text


def test_minor_units_come_from_cldr():
    assert [currency_decimals(c) for c in ("DKK", "USD", "JPY", "ISK", "KRW", "BHD")] == [2, 2, 0, 0, 0, 3]
    assert money_locale("DKK") == "en_DK" and money_locale("EUR") == "en"


def test_log_lines_are_json_with_the_extra_fields():
    record = logging.LogRecord("plaza.request", logging.INFO, __file__, 1, "request %s", ("done",), None)
    record.__dict__.update({"status": 200, "tenant": None, "opaque": object()})
    line = json.loads(json_formatter().format(record))
    assert {k: line[k] for k in ("level", "logger", "msg", "status", "tenant")} == {
        "level": "INFO", "logger": "plaza.request", "msg": "request done", "status": 200, "tenant": None}
    assert "ts" in line and line["opaque"].startswith("<object")


def test_an_exception_is_logged_as_exc():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("plaza.error", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(json_formatter().format(record))
    assert line["msg"] == "failed" and "ValueError: boom" in line["exc"]
