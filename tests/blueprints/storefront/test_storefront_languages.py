"""The customer's booking flow in the reader's language: a Danish browser gets every step in
Danish with Danish dates, 24-hour times with a dot and "649,00 kr."; an English one gets the
same pages in English."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.blueprints.storefront.test_storefront import BASE, CPH, local_start, z
from tests.factories import make_business
from tests.helpers import csrf_from

pytestmark = pytest.mark.integration

DANISH = {"Accept-Language": "da-DK,da;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
#: Independent of Babel: how Danes write weekdays and months.
DA_WEEKDAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
DA_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
             "november", "december"]
EN_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
#: English a Danish reader must not meet in the main content of the booking pages.
ENGLISH_LEFTOVERS = ["Choose a time", "Your details", "Check and confirm", "Confirm booking", "Service<", "Price<",
                     "With<", "Times in", "business is in", "Total<", "Pay at the venue", "Morning", "Afternoon",
                     "You're booked", "Manage booking", "Need to change something", "Your booking at",
                     "Reschedule<", "Cancel booking", "You can cancel", "Back to", "Continue<", "Anyone available"]


@pytest.fixture
def biz(ctx):
    return make_business("bella", staff=1, services=[("Klip", 60, 64900)], cancellation_cutoff_hours=24)


def main(html: str) -> str:
    """The page's ``<main>`` (the header and footer hold the language switcher, in both languages)."""
    return re.search(r"<main[^>]*>(.*)</main>", html, re.S).group(1)


def da_day(start: datetime) -> str:
    local = start.astimezone(CPH)
    return f"{DA_WEEKDAYS[local.weekday()]} {local.day}. {DA_MONTHS[local.month - 1]}"


def en_day(start: datetime) -> str:
    local = start.astimezone(CPH)
    return f"{EN_WEEKDAYS[local.weekday()]} {local.day} {EN_MONTHS[local.month - 1]}"


def walk(client, biz, start: datetime, headers: dict) -> dict[str, str]:
    """Every page of the booking flow for ``start`` (tz-aware) as ``headers`` reads them, booking it."""
    sid = biz.service_ids[0]
    pages = {}
    home = client.get("/", base_url=BASE, headers=headers)
    pages["home"] = home.get_data(as_text=True)
    day = start.astimezone(CPH).date()
    pages["slots"] = client.get(f"/book/{sid}/slots?staff=any&date={day}&tz=Europe/Copenhagen", base_url=BASE,
                                headers=headers).get_data(as_text=True)
    query = f"staff=any&start={z(start)}&tz=Europe/Copenhagen"
    details = client.get(f"/book/{sid}/details?{query}", base_url=BASE, headers=headers)
    assert details.status_code == 200
    pages["details"] = details.get_data(as_text=True)
    data = {"csrf_token": csrf_from(details.data), "staff": "any", "start": z(start), "tz": "Europe/Copenhagen",
            "name": "Ann Kunde", "email": "ann@example.com", "phone": "20 30 40 50", "notes": ""}
    confirm = client.post(f"/book/{sid}/details", base_url=BASE, data=data, headers=headers)
    assert confirm.status_code == 200
    pages["confirm"] = confirm.get_data(as_text=True)
    done = client.post(f"/book/{sid}/confirm", base_url=BASE, headers=headers,
                       data={**data, "phone": "+4520304050", "action": "confirm"})
    assert done.status_code == 303
    pages["booked"] = client.get(done.headers["Location"], base_url=BASE, headers=headers).get_data(as_text=True)
    token = done.headers["Location"].rsplit("/", 1)[1]
    pages["manage"] = client.get(f"/manage/{token}", base_url=BASE, headers=headers).get_data(as_text=True)
    pages["cancel"] = client.get(f"/manage/{token}/cancel", base_url=BASE, headers=headers).get_data(as_text=True)
    return pages


def test_a_danish_browser_books_in_danish_with_danish_formats(client, biz):
    start = local_start(3, 14)
    pages = walk(client, biz, start, DANISH)

    assert '<html lang="da-DK">' in pages["home"]
    home = main(pages["home"])
    assert "649,00\xa0kr." in home and "Book tid" in home and "Godt at vide" in home
    assert "Book op til" in home and "Åbningstider" in home

    slots = main(pages["slots"])
    assert "Vælg tidspunkt" in slots and "Tider i <strong data-customer-tz>Europe/Copenhagen</strong>" in slots
    assert da_day(start) in slots  # the chosen day's heading: "torsdag 26. november"
    assert ">14.00<" in slots and ">09.00<" in slots  # 24-hour clock with a dot
    assert "Eftermiddag" in slots and "Formiddag" in slots
    short = DA_WEEKDAYS[start.astimezone(CPH).weekday()][:3]
    assert f'<span class="sf-dow">{short}' in slots  # abbreviated weekday in the day strip

    details = main(pages["details"])
    assert "Dine oplysninger" in details and "For- og efternavn" in details and "Fortsæt" in details

    confirm = main(pages["confirm"])
    assert "Tjek og bekræft" in confirm and "Bekræft booking" in confirm
    assert f"{da_day(start)} {start.astimezone(CPH).year}" in confirm
    assert "14.00–15.00" in confirm and "649,00\xa0kr." in confirm and "Betal på stedet." in confirm

    booked = main(pages["booked"])
    assert "Du er booket!" in booked and "Bekræftet" in booked and "14.00–15.00" in booked

    manage = main(pages["manage"])
    assert "Din booking hos Bella" in manage and "Flyt tid" in manage and "Afbestil booking…" in manage
    deadline = start - timedelta(hours=24)
    assert f"indtil {da_day(deadline)} kl. 14.00." in manage  # "… indtil onsdag 25. november kl. 14.00."

    cancel = main(pages["cancel"])
    assert "Afbestil denne booking?" in cancel and f"{da_day(start)} kl. 14.00" in cancel
    assert "Ja, afbestil booking" in cancel and "Behold min booking" in cancel

    for name, html in pages.items():
        found = [word for word in ENGLISH_LEFTOVERS if word in main(html)]
        assert not found, f"{name}: {found}"


def test_an_english_browser_gets_the_same_pages_in_english(client, biz):
    start = local_start(3, 14)
    pages = walk(client, biz, start, ENGLISH)

    assert '<html lang="en-GB">' in pages["home"]
    assert "Book<" in main(pages["home"]) and "Good to know" in main(pages["home"])
    slots = main(pages["slots"])
    assert "Choose a time" in slots and en_day(start) in slots and ">14:00<" in slots and "Afternoon" in slots
    confirm = main(pages["confirm"])
    local = start.astimezone(CPH)
    assert "Check and confirm" in confirm and EN_WEEKDAYS[local.weekday()] in confirm
    assert f"{local.day} {EN_MONTHS[local.month - 1]} {local.year}" in confirm
    assert "14:00–15:00" in confirm
    assert "You're booked!" in main(pages["booked"])
    manage = main(pages["manage"])
    deadline = start - timedelta(hours=24)
    assert f"until {en_day(deadline)} at 14:00." in manage and "Reschedule" in manage
    assert "Cancel this booking?" in main(pages["cancel"])
    for name, html in pages.items():
        assert "Afbestil" not in main(html) and "Tider i" not in main(html), name


def test_refusals_and_form_errors_speak_the_readers_language(client, biz):
    sid = biz.service_ids[0]
    start = local_start(3, 14)
    query = f"staff=any&start={z(start)}&tz=Europe/Copenhagen"
    details = client.get(f"/book/{sid}/details?{query}", base_url=BASE, headers=DANISH)
    data = {"csrf_token": csrf_from(details.data), "staff": "any", "start": z(start), "tz": "Europe/Copenhagen",
            "name": "", "email": "not-an-address", "phone": "12", "notes": ""}
    invalid = client.post(f"/book/{sid}/details", base_url=BASE, data=data, headers=DANISH)
    text = main(invalid.get_data(as_text=True))
    assert invalid.status_code == 422
    assert "Skriv dit navn." in text and "Angiv en gyldig e-mailadresse" in text
    assert "Tjek venligst de markerede felter nedenfor." in text

    past = client.get(f"/book/{sid}/slots?staff=any&date=2020-01-01&tz=Europe/Copenhagen", base_url=BASE,
                      headers=DANISH)
    assert past.status_code == 422 and "Den dag er gået." in past.get_data(as_text=True)
    english = client.get(f"/book/{sid}/slots?staff=any&date=2020-01-01&tz=Europe/Copenhagen", base_url=BASE,
                         headers=ENGLISH)
    assert "That day has passed." in english.get_data(as_text=True)
