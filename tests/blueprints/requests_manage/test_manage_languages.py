"""The request wizard and the customer's manage, pick-a-time and chat pages read in the reader's
language: Danish words, money, weekdays and the 24-hour clock for a Danish browser; English for an
English one — and a wrong answer in the wizard is corrected in Danish too."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.blueprints.requests.support import plumber, plumbing_questions
from tests.factories import make_business
from tests.helpers import csrf_from
from tests.leads.customer_rows import make_lead, make_request

pytestmark = pytest.mark.integration

APEX = "http://localhost"
DANISH = {"Accept-Language": "da-DK,da;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
DANISH_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
DANISH_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
                 "november", "december")


def main_of(html: str) -> str:
    """The page's ``<main>``: what the page itself says (the header and footer are other parts')."""
    return html.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.fixture
def danish_quote(ctx):
    biz = make_business("vvs", timezone="Europe/Copenhagen", currency="DKK", staff=1)
    req = make_request(title="Utæt køkkenhane")
    lead = make_lead(biz.tenant_id, req.id, low=64900, high=99900, currency="DKK", message="Jeg kan komme i morgen.")
    db.session.remove()
    return req, lead


def test_a_danish_customer_reads_the_manage_page_in_danish_with_danish_money(client, danish_quote):
    req, _lead = danish_quote
    resp = client.get(f"/requests/{req.id}?t={req.token}", base_url=APEX, headers=DANISH)
    assert resp.status_code == 200
    main = main_of(resp.get_data(as_text=True))
    assert "Din forespørgsel" in main and "Sendt til 1 udbyder" in main and "1 tilbud" in main
    assert "649,00\xa0kr. – 999,00\xa0kr." in main
    assert "Ikke for mig" in main and "Afvis tilbuddet" in main and "Ingen anmeldelser endnu" in main
    for english in ("Offers", "Not for me", "No reviews yet", "Sent to", "What you asked for", "Quotes in"):
        assert english not in main, english


def test_a_danish_customer_picks_a_time_on_danish_days_and_a_24_hour_clock_and_books(client, danish_quote):
    req, lead = danish_quote
    client.get(f"/requests/{req.id}?t={req.token}", base_url=APEX, headers=DANISH)
    pick = client.get(f"/requests/{req.id}/offers/{lead}/book", base_url=APEX, headers=DANISH)
    assert pick.status_code == 200
    main = main_of(pick.get_data(as_text=True))
    assert "Book tid hos" in main
    assert "Vælg et starttidspunkt" in main and "Bekræft booking" in main
    legends = re.findall(r"<legend>([^<]+)</legend>", main)
    assert legends and all(any(day in legend for day in ("man.", "tirs.", "ons.", "tors.", "fre.", "lør.", "søn."))
                           for legend in legends), legends
    times = re.findall(r"<span>([^<]+)</span></label>", main)
    assert times and all(re.fullmatch(r"\d{2}\.\d{2}", t) for t in times), times
    assert not re.search(r"\d\s?[AP]M\b", main)  # no 12-hour times (a token may hold the letters)
    refused = client.post(f"/requests/{req.id}/offers/{lead}/confirm", base_url=APEX, headers=DANISH,
                          data={"csrf_token": csrf_from(pick.data)})
    assert refused.status_code == 422 and "Vælg en af tiderne nedenfor." in refused.get_data(as_text=True)
    chosen = re.findall(r'name="start" value="([^"]+)"', main)[2]
    done = client.post(f"/requests/{req.id}/offers/{lead}/confirm", base_url=APEX, headers=DANISH,
                       data={"csrf_token": csrf_from(pick.data), "start": chosen})
    assert done.status_code == 303
    after = client.get(f"/requests/{req.id}", base_url=APEX, headers=DANISH).get_data(as_text=True)
    assert "Booket! Udbyderen har opgaven i sin kalender." in after
    booked = main_of(after)
    assert "Booket hos" in booked
    section = booked.split('id="rm-booked"', 1)[1].split("</section>", 1)[0]
    assert any(day in section for day in DANISH_WEEKDAYS) and any(m in section for m in DANISH_MONTHS), section
    assert re.search(r"\d{2}\.\d{2}", section) and "op til 999,00\xa0kr." in section


def test_an_english_customer_reads_the_same_page_in_english(client, danish_quote):
    req, _lead = danish_quote
    resp = client.get(f"/requests/{req.id}?t={req.token}", base_url=APEX, headers=ENGLISH)
    main = main_of(resp.get_data(as_text=True))
    assert "Your job request" in main and "Sent to 1 provider" in main and "Offers" in main
    assert "Not for me" in main and "Turn this offer down" in main
    assert "DKK" in main or "kr" in main
    for danish in ("Din forespørgsel", "Tilbud", "Ikke for mig", "Afvis"):
        assert danish not in main, danish


def test_the_wizard_asks_and_corrects_in_danish(client, ctx):
    plumber()
    plumbing_questions()
    page = client.get("/requests/new/category", base_url=APEX, headers=DANISH)
    html = main_of(page.get_data(as_text=True))
    assert "Hvad har du brug for?" in html and "Fortsæt" in html and "Continue" not in html
    resp = client.post("/requests/new/category", base_url=APEX, headers=DANISH,
                       data={"csrf_token": csrf_from(page.data), "category": ""})
    assert resp.status_code == 422
    body = main_of(resp.get_data(as_text=True))
    assert "Ret venligst de markerede felter nedenfor." in body and "Vælg, hvilken slags opgave det er." in body
    english = client.post("/requests/new/category", base_url=APEX, headers=ENGLISH,
                          data={"csrf_token": csrf_from(page.data), "category": ""})
    assert "Choose what kind of job it is." in english.get_data(as_text=True)
