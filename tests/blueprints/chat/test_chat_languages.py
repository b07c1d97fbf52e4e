# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""The chat reads in the reader's language: a Danish guest on the manage link sees Danish words,
a Danish date and 24-hour time, Danish thousands in the length error and Danish words for the
live script; an English reader the English ones."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import manage_token
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.helpers import csrf_from
from tests.support.chat_fixtures import world  # noqa: F401

pytestmark = pytest.mark.integration

DANISH = {"Accept-Language": "da-DK,da;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
DANISH_DAYS = ("man.", "tirs.", "ons.", "tors.", "fre.", "lør.", "søn.")


def chat_url(app, world) -> str:
    with app.app_context(), tenant_scope(world.biz.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == world.booking_id))
        token = manage_token(booking)
        db.session.remove()
    return f"/manage/{token}/chat"


def main_of(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def test_a_danish_guest_reads_and_is_corrected_in_danish(app, world):
    client = app.test_client()
    url, host = chat_url(app, world), f"http://{world.biz.slug}.localhost"
    page = client.get(url, base_url=host, headers=DANISH)
    assert page.status_code == 200
    main = main_of(page.text)
    assert "Samtale med" in main and "Ingen beskeder endnu. Skriv den første nedenfor." in main
    assert "Tilbage til din booking" in main and ">Send<" in main and "Besked" in main
    heading = re.search(r"<h1>(.*?)</h1>", main, re.S).group(1)
    assert any(day in heading for day in DANISH_DAYS) and re.search(r"\d{2}\.\d{2}$", heading.strip()), heading
    words = json.loads(re.search(r"data-i18n='([^']*)'", main).group(1))
    assert words["sent"] == "Sendt" and words["typing"] == "%(name)s skriver…"
    for english in ("Conversation with", "No messages yet", "Back to your booking", "Message<"):
        assert english not in main, english
    too_long = client.post(url, base_url=host, headers=DANISH,
                           data={"csrf_token": csrf_from(page.data), "body": "x" * 4001})
    assert too_long.status_code == 422
    assert "En besked må højst have 4.000 tegn (denne har 4.001)." in too_long.text


def test_an_english_reader_gets_the_same_chat_in_english(app, world):
    client = app.test_client()
    url, host = chat_url(app, world), f"http://{world.biz.slug}.localhost"
    page = client.get(url, base_url=host, headers=ENGLISH)
    main = main_of(page.text)
    assert "Conversation with" in main and "No messages yet. Write the first one below." in main
    assert "Samtale" not in main and "Besked" not in main
    too_long = client.post(url, base_url=host, headers=ENGLISH,
                           data={"csrf_token": csrf_from(page.data), "body": "x" * 4001})
    assert "A message can be at most 4,000 characters (this one has 4,001)." in too_long.text
