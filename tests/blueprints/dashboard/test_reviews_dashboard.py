"""The dashboard's reviews page: staff read every review (hidden ones marked), filter by rating or
"no reply yet"; owners and managers reply once and may edit the reply; plain staff cannot reply
(403) and outsiders see nothing (404)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.identity.service import find_user
from app.reviews.moderation import set_review_hidden
from app.reviews.service import create_review
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.reviews.support import visit

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"


@pytest.fixture
def bella(ctx):
    """Bella with a manager, a stylist and three reviews (5, 2 and a hidden 1)."""
    biz = make_business("bella", staff=2)
    make_user("manager@bella.test")
    make_user("stylist@bella.test")
    with tenant_scope(biz.tenant_id):
        add_membership(find_user("manager@bella.test"), Role.MANAGER)
        add_membership(find_user("stylist@bella.test"), Role.STAFF, staff_member_id=biz.staff_ids[1])
        create_review(visit(biz, "a@x.test", name="Anna Berg", index=0), rating=5, text="Wonderful")
        create_review(visit(biz, "b@x.test", name="Bo Dahl", index=1), rating=2, text="Waited long")
        hidden = create_review(visit(biz, "c@x.test", name="Cy Nox", index=2), rating=1, text="Spam spam")
        set_review_hidden(hidden.id, True)
    db.session.commit()
    return biz


def _client(app, email: str):
    client = app.test_client()
    login_as(client, email, host=HOST)
    return client


def _review_id(html: str, text: str) -> str:
    return html.split(text)[0].rsplit('id="review-', 1)[1].split('"')[0]


def test_staff_read_every_review_with_hidden_ones_marked_and_filter(app, bella):
    stylist = _client(app, "stylist@bella.test")
    html = stylist.get("/dashboard/reviews", base_url=BASE).get_data(as_text=True)
    assert "Wonderful" in html and "Waited long" in html and "Spam spam" in html
    assert html.count("Hidden from the public") == 1 and "Publish reply" not in html
    assert "3.5" in html  # the summary counts only visible reviews: (5 + 2) / 2
    low = stylist.get("/dashboard/reviews?rating=2", base_url=BASE, headers={"HX-Request": "true"})
    body = low.get_data(as_text=True)
    assert "Waited long" in body and "Wonderful" not in body and "<html" not in body


def test_a_manager_replies_once_and_edits_it_and_the_public_sees_it(app, bella, client):
    manager = _client(app, "manager@bella.test")
    page = manager.get("/dashboard/reviews", base_url=BASE).get_data(as_text=True)
    rid = _review_id(page, "Waited long")
    token = csrf_from(page)
    resp = manager.post(f"/dashboard/reviews/{rid}/reply", data={"csrf_token": token, "reply": "Sorry, <b>Bo</b>!"},
                        base_url=BASE)
    assert resp.status_code == 303
    resp = manager.post(f"/dashboard/reviews/{rid}/reply", data={"csrf_token": token, "reply": "Sorry for the wait, Bo."},
                        base_url=BASE)
    assert resp.status_code == 303
    unreplied = manager.get("/dashboard/reviews?unreplied=1", base_url=BASE).get_data(as_text=True)
    assert "Waited long" not in unreplied and "Wonderful" in unreplied
    public = client.get("/reviews", base_url=BASE).get_data(as_text=True)
    assert "Sorry for the wait, Bo." in public and "Sorry, " not in public


def test_an_empty_reply_is_refused_inline(app, bella):
    owner = _client(app, bella.owner_email)
    page = owner.get("/dashboard/reviews", base_url=BASE).get_data(as_text=True)
    rid = _review_id(page, "Wonderful")
    resp = owner.post(f"/dashboard/reviews/{rid}/reply", data={"csrf_token": csrf_from(page), "reply": "<p> </p>"},
                      base_url=BASE)
    assert resp.status_code == 422 and "Write a reply before sending it." in resp.get_data(as_text=True)


def test_plain_staff_cannot_reply_and_outsiders_see_nothing(app, bella):
    stylist = _client(app, "stylist@bella.test")
    page = stylist.get("/dashboard/reviews", base_url=BASE).get_data(as_text=True)
    rid = _review_id(page, "Wonderful")
    resp = stylist.post(f"/dashboard/reviews/{rid}/reply", data={"csrf_token": csrf_from(page), "reply": "Hi"},
                        base_url=BASE)
    assert resp.status_code == 403
    make_user("stranger@example.com")
    stranger = _client(app, "stranger@example.com")
    assert stranger.get("/dashboard/reviews", base_url=BASE).status_code == 404
    fixit = make_business("fixit")
    login_as(stranger, fixit.owner_email, host="fixit.localhost")
    token = csrf_from(stranger.get("/dashboard/reviews", base_url="http://fixit.localhost").data)
    other = stranger.post(f"/dashboard/reviews/{rid}/reply", data={"csrf_token": token, "reply": "Hi"},
                          base_url="http://fixit.localhost")
    assert other.status_code == 404  # another business's review
