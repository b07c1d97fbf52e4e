"""Unit tests for the input rules shared by the edge check, the forms and the API schemas: the
documented patterns are exactly the enforced rules, control characters are found wherever they
hide, and mail addresses are built so a name can never add a recipient."""

from __future__ import annotations

import re
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from pydantic import ValidationError

from app.blueprints.api.schemas import DAY_PATTERN, INSTANT_PATTERN, BookingCreate, parse_day, parse_rfc3339
from app.delivery.mailer import UndeliverableAddress, build_message, mail_address, parse_mail_address
from app.delivery.smtp_session import envelope
from app.inputguard import PERSON_NAME_PATTERN, find_control_character, json_strings, person_name_problem

pytestmark = pytest.mark.unit


def test_day_pattern_is_exactly_the_accepted_calendar():
    day = date(1999, 12, 25)
    while day <= date(2101, 1, 5):
        documented = re.fullmatch(DAY_PATTERN, day.isoformat()) is not None
        try:
            parse_day(day.isoformat())
            enforced = True
        except ValueError:
            enforced = False
        assert documented == enforced == (2000 <= day.year <= 2100), day
        day += timedelta(days=1)
    for impossible in ("2001-02-29", "2100-02-29", "2050-04-31", "2050-13-01", "2050-00-10", "2050-1-1"):
        assert not re.fullmatch(DAY_PATTERN, impossible)


@pytest.mark.parametrize(("text", "valid"), [
    ("2030-01-01T10:00:00Z", True), ("2030-01-01 10:00:00.123456789+05:30", True),
    ("2100-12-31t23:59:59-23:59", True), ("2000-02-29T00:00:00z", True),
    ("2030-01-01T24:00:00Z", False), ("2030-01-01T10:00:60Z", False), ("2030-01-01T10:00:00", False),
    ("1999-12-31T23:59:59+00:00", False), ("2101-01-01T00:00:00Z", False), ("9999-12-31T23:59:59Z", False),
])
def test_instant_pattern_is_exactly_what_parses(text, valid):
    assert (re.fullmatch(INSTANT_PATTERN, text) is not None) == valid
    if valid:
        parse_rfc3339(text)
    else:
        with pytest.raises(ValueError):
            parse_rfc3339(text)


@pytest.mark.parametrize(("name", "ok"), [
    ("Alice Andersen", True), ("Ærø Østergård-Ünal", True), ("O'Brien, Pat", True),
    ("Bob\r\nBcc: x@evil.example", False), ("Bob <x@evil.example>, xxx", False), ("eve@evil.example", False),
    ("Tab\there", False), ("Nul\x00", False), ("Del\x7f", False), ("C1\x85", False),
])
def test_person_name_rule_and_pattern_agree(name, ok):
    assert (person_name_problem(name) is None) == ok
    assert (re.fullmatch(PERSON_NAME_PATTERN, name) is not None) == ok


def test_control_characters_are_found_in_nested_json_and_keys():
    data = {"customer": {"name": "ok", "tags": ["fine", "bad\x00"]}, "k\x1b": 1}
    found = find_control_character(json_strings(data))
    assert found is not None and found[0] == "customer.tags.1" and "U+0000" in found[1]
    assert find_control_character(json_strings({"ke\x07y": "v"}))[0] == "ke\N{REPLACEMENT CHARACTER}y"
    assert find_control_character(json_strings({"notes": "line\r\n\tline"})) is None
    assert find_control_character(json_strings({"lone": "\ud800"})) is not None


def test_timezone_of_wrong_type_is_a_validation_error_not_a_crash():
    with pytest.raises(ValidationError) as err:
        BookingCreate.model_validate({"service_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                      "start": "2030-01-01T10:00:00Z", "timezone": [None, None],
                                      "customer": {"name": "A", "email": "a@example.com"}})
    assert [e["loc"] for e in err.value.errors()] == [("timezone",)]


@pytest.mark.parametrize("name", ["Bob <x@evil.example>, xxx", "Bob <x@evil.example>, xxx…", "Bob\r\nBcc: x@evil.example",
                                  "Ærø, \"quoted\" <a@b.c>" + "y" * 80])
def test_any_display_name_gives_exactly_one_recipient(name):
    msg = build_message(sender=mail_address("Bella, Hair <Studio>", "noreply@plaza.test"),
                        to=mail_address(name, "bob@example.com"), subject="Hi\r\nBcc: x@evil.example", text="x")
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    [to] = parsed["To"].addresses
    assert to.addr_spec == "bob@example.com"
    assert [a.addr_spec for a in parsed["From"].addresses] == ["noreply@plaza.test"]
    assert parsed["Bcc"] is None and "\n" not in str(parsed["Subject"])
    assert envelope(msg) == ("noreply@plaza.test", ["bob@example.com"])  # what SMTP is told: one recipient


@pytest.mark.parametrize("bad", ["bob@example.com\r\nBcc: x@evil.example", "a@b.c, c@d.e", "", "no-at-sign",
                                 "sp ace@example.com"])
def test_unusable_addresses_are_refused(bad):
    with pytest.raises(UndeliverableAddress):
        parse_mail_address(bad)
