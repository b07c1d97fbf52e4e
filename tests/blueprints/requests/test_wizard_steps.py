"""The request wizard on the apex: five steps, each saved on a draft (back and refresh keep
answers), inline 422 errors that save nothing, a guest confirming by email, a signed-in customer
sent straight through, the manage link on the "request sent" page."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.jobs.runner import get_queue
from app.leads.models import JobRequest
from app.tenants.context import platform_scope
from tests.blueprints.requests.support import plumber, plumbing_questions
from tests.factories import make_user
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs, text_of

pytestmark = pytest.mark.integration

APEX = "http://localhost"


@pytest.fixture
def questions(ctx):
    plumber()
    return plumbing_questions()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def post(client, step: str, data: dict, *, htmx: bool = False, token: str | None = None):
    token = token or csrf_from(client.get(f"/requests/new/{step}", base_url=APEX).data)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/requests/new/{step}", base_url=APEX, data={"csrf_token": token, **data},
                       headers=headers, content_type="multipart/form-data")


def drafts() -> list[JobRequest]:
    with platform_scope("test"):
        return list(db.session.scalars(sa.select(JobRequest)))


def through_timing(client, q) -> None:
    assert post(client, "category", {"category": "plumbing"}).status_code == 303
    resp = post(client, "questions", {f"q_{q['what']}": "tap", f"q_{q['taps']}": "1", f"q_{q['water_off']}": "yes",
                                      f"q_{q['photo']}": (io.BytesIO(png()), "tap.png")})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert post(client, "location", {"postcode": "10001"}).status_code == 303
    assert post(client, "timing", {"timing": "urgent"}).status_code == 303


def test_each_step_is_saved_and_going_back_keeps_the_answers(client, questions):
    q = questions
    through_timing(client, q)
    (draft,) = drafts()
    assert (draft.status, draft.category_slug, draft.postcode, draft.timing_kind) == ("draft", "plumbing", "10001",
                                                                                       "urgent")
    assert draft.answers[str(q["what"])] == "tap" and len(draft.answers[str(q["photo"])]) == 1
    assert draft.answers[str(q["photo"])][0].startswith(f"job-requests/{draft.id.hex}/")
    back = client.get("/requests/new/questions", base_url=APEX).get_data(as_text=True)
    assert re.search(r'value="tap"\s+checked', back) and 'value="yes" checked' in back
    assert "/media/private/job-requests/" in back  # the photo is shown through a signed link
    assert 'value="10001"' in client.get("/requests/new/location", base_url=APEX).get_data(as_text=True)
    # Resuming lands on the first step not done yet.
    assert client.get("/requests/new", base_url=APEX).headers["Location"].endswith("/requests/new/contact")


def test_htmx_steps_swap_the_wizard_block_and_push_the_url(client, questions):
    resp = post(client, "category", {"category": "plumbing"}, htmx=True)
    assert resp.status_code == 200 and resp.headers["HX-Push-Url"] == "/requests/new/questions"
    body = resp.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card wizard" id="wizard"') and "What needs fixing?" in body


@pytest.mark.parametrize(("step", "data", "field", "message"), [
    ("questions", {}, "q_{what}", "Answer “What needs fixing?”."),
    ("questions", {"q_{what}": "tap", "q_{taps}": "lots"}, "q_{taps}", "Enter a number."),
    ("location", {"postcode": "90210"}, "location.postcode", "No provider covers 90210 yet."),
    ("location", {"postcode": ""}, "location.postcode", "Enter your postcode, or drop a pin on the map."),
    ("timing", {"timing": "range", "start": "2020-01-01", "end": "2020-01-02"}, "timing.start",
     "The first day has passed."),
])
def test_bad_input_answers_422_beside_the_field_and_saves_nothing(client, questions, step, data, field, message):
    assert post(client, "category", {"category": "plumbing"}).status_code == 303
    before = {(d.postcode, d.timing_kind, str(d.answers)) for d in drafts()}
    ids = {k: str(v) for k, v in questions.items()}
    resp = post(client, step, {k.format(**ids): v for k, v in data.items()}, htmx=True)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert f'id="{field.format(**ids)}-error"' in body and message in body
    assert {(d.postcode, d.timing_kind, str(d.answers)) for d in drafts()} == before


def test_a_file_that_is_not_an_image_is_refused_beside_its_question(client, questions):
    post(client, "category", {"category": "plumbing"})
    resp = post(client, "questions", {f"q_{questions['what']}": "tap",
                                      f"q_{questions['photo']}": (io.BytesIO(b"%PDF-1.4 not a photo"), "x.pdf")})
    assert resp.status_code == 422 and f'id="q_{questions["photo"]}-error"' in resp.get_data(as_text=True)


def test_a_step_without_a_draft_starts_over(client, questions):
    resp = client.get("/requests/new/timing", base_url=APEX)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/requests/new/category")
    assert client.get("/requests/new/nope", base_url=APEX).status_code == 404
    assert client.get("/requests/new/category", base_url="http://plumbers.localhost").status_code == 404


def test_a_guest_confirms_by_email_and_gets_the_manage_link(app, client, questions, mailbox):
    through_timing(client, questions)
    resp = post(client, "contact", {"name": "Ada Guest", "email": "ada@example.com", "phone": "+1 212 555 0100"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/requests/sent")
    page = client.get("/requests/sent", base_url=APEX).get_data(as_text=True)
    assert "Check your email" in page and "ada@example.com" in page
    (jr,) = drafts()
    assert jr.status == "unconfirmed"
    run_jobs(app)
    mailbox.wait_until(lambda: mailbox.to("ada@example.com"))
    (mail,) = mailbox.to("ada@example.com")
    link = urlsplit(re.search(r"http://localhost\S*/requests/confirm/\S+", text_of(mail)).group(0)).path
    opened = client.get(link, base_url=APEX)  # opening the link (a mail scanner may) confirms nothing
    assert opened.status_code == 200 and "Confirm my request" in opened.get_data(as_text=True)
    assert drafts()[0].status == "unconfirmed"
    page = client.post(link, base_url=APEX, data={"csrf_token": csrf_from(opened.get_data(as_text=True))})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Request sent" in body and f"/requests/{jr.id}?t=" in body
    db.session.expire_all()
    (jr,) = drafts()
    assert jr.status == "open" and jr.submitted_at is not None and jr.summary
    assert [j.args for j in get_queue().get_jobs() if j.func_name.endswith("route_request")] == [(str(jr.id),)]
    again = client.post(link, base_url=APEX, data={"csrf_token": csrf_from(opened.get_data(as_text=True))})
    assert again.status_code == 400 and "already confirmed" in again.get_data(as_text=True)


def test_a_signed_in_customer_is_sent_straight_through(client, questions):
    make_user("bo@example.com", name="Bo Customer")
    login_as(client, "bo@example.com")
    through_timing(client, questions)
    page = client.get("/requests/new/contact", base_url=APEX).get_data(as_text=True)
    assert "Bo Customer" in page and 'name="email"' not in page
    assert post(client, "contact", {"phone": ""}).status_code == 303
    (jr,) = drafts()
    assert (jr.status, jr.contact_email, jr.contact_name) == ("open", "bo@example.com", "Bo Customer")
    sent = client.get("/requests/sent", base_url=APEX).get_data(as_text=True)
    assert "Request sent" in sent and f"/requests/{jr.id}?t=" in sent
    # The draft is gone from the session: a new request starts over.
    assert client.get("/requests/new", base_url=APEX).headers["Location"].endswith("/requests/new/category")
