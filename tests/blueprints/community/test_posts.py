"""Posts: managers publish, edit and delete them at /dashboard/posts (text as plain text, up to
six photos); they show on the profile and at /posts; signed-in customers comment; drafts and
hidden posts are never served."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.community.models import Post, PostComment
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Membership
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"


@pytest.fixture
def biz(app):
    with app.app_context():
        try:
            b = make_business("bella")
            make_user("cara@example.com", name="Cara Customer")
            staff_user = make_user("sam@example.com", name="Sam Staff")
            with tenant_scope(b.tenant_id):
                db.session.add(Membership(tenant_id=b.tenant_id, user_id=staff_user, role="staff"))
                db.session.commit()
            return b
        finally:
            db.session.remove()


def _client(app, email: str | None = None):
    client = app.test_client()
    if email:
        login_as(client, email, host=HOST)
    return client


def _png(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


def _publish(client, body: str, *, publish: bool = True, photos: list[tuple[bytes, str]] | None = None):
    page = client.get("/dashboard/posts", base_url=BASE)
    data: dict = {"csrf_token": csrf_from(page.data), "body": body}
    if publish:
        data["publish"] = "y"
    if photos:
        data["photos"] = [(io.BytesIO(b), name) for b, name in photos]
    return client.post("/dashboard/posts", data=data, base_url=BASE, content_type="multipart/form-data")


def _posts(app, tenant_id) -> list[Post]:
    with app.app_context(), tenant_scope(tenant_id):
        try:
            rows = list(db.session.scalars(sa.select(Post).order_by(Post.created_at)))
            db.session.expunge_all()
            return rows
        finally:
            db.session.remove()


def test_manager_publishes_a_post_that_shows_on_the_profile_and_the_posts_page(app, biz):
    owner = _client(app, biz.owner_email)
    assert "/dashboard/posts" in owner.get("/dashboard/posts", base_url=BASE).text  # the nav link
    resp = _publish(owner, "<b>New</b> styles for <script>alert(1)</script>spring &amp; summer",
                    photos=[(_png(), "a.png"), (_png("blue"), "b.jpg")])
    assert resp.status_code == 303
    [post] = _posts(app, biz.tenant_id)
    assert post.body == "New styles for spring & summer"  # markup removed, entities decoded
    assert len(post.photo_keys) == 2 and all(k.startswith("posts/") for k in post.photo_keys)
    visitor = _client(app)
    home = visitor.get("/", base_url=BASE).text
    assert "New styles for spring &amp; summer" in home and 'id="profile-posts"' in home
    assert "<script>alert(1)" not in home
    listing = visitor.get("/posts", base_url=BASE).text
    assert "New styles for spring &amp; summer" in listing and f"/media/{post.photo_keys[0]}" in listing


def test_drafts_edits_and_deletes(app, biz):
    owner = _client(app, biz.owner_email)
    assert _publish(owner, "Coming soon", publish=False).status_code == 303
    [post] = _posts(app, biz.tenant_id)
    visitor = _client(app)
    assert "Coming soon" not in visitor.get("/posts", base_url=BASE).text
    assert visitor.get(f"/posts/{post.id}", base_url=BASE).status_code == 404
    edit = owner.get(f"/dashboard/posts/{post.id}/edit", base_url=BASE)
    assert edit.status_code == 200 and "Coming soon" in edit.text
    resp = owner.post(f"/dashboard/posts/{post.id}/edit", base_url=BASE,
                      data={"csrf_token": csrf_from(edit.data), "body": "Open now!", "publish": "y"})
    assert resp.status_code == 303
    assert "Open now!" in visitor.get(f"/posts/{post.id}", base_url=BASE).text
    resp = owner.post(f"/dashboard/posts/{post.id}/delete", base_url=BASE, data={"csrf_token": csrf_from(edit.data)})
    assert resp.status_code == 303
    assert _posts(app, biz.tenant_id) == []
    assert visitor.get(f"/posts/{post.id}", base_url=BASE).status_code == 404


def test_bad_posts_answer_422_inline_and_write_nothing(app, biz):
    owner = _client(app, biz.owner_email)
    resp = _publish(owner, "   <p></p> ")
    assert resp.status_code == 422 and "cannot be empty" in resp.text
    resp = _publish(owner, "x" * 2001)
    assert resp.status_code == 422 and "at most 2,000 characters" in resp.text
    resp = _publish(owner, "Photos", photos=[(_png(), f"{i}.png") for i in range(7)])
    assert resp.status_code == 422 and "at most 6 photos" in resp.text
    resp = _publish(owner, "Photos", photos=[(b"GIF89a not really", "fake.png")])
    assert resp.status_code == 422 and "fake.png" in resp.text
    assert _posts(app, biz.tenant_id) == []


def test_only_managers_manage_posts(app, biz):
    sam = _client(app, "sam@example.com")
    assert sam.get("/dashboard/posts", base_url=BASE).status_code == 403
    cara = _client(app, "cara@example.com")
    assert cara.get("/dashboard/posts", base_url=BASE).status_code == 404
    assert _client(app).get("/dashboard/posts", base_url=BASE).status_code == 302


def test_signed_in_customers_comment_and_hidden_comments_are_not_served(app, biz):
    owner = _client(app, biz.owner_email)
    _publish(owner, "Half price on Tuesdays")
    [post] = _posts(app, biz.tenant_id)
    url = f"/posts/{post.id}"
    anonymous = _client(app)
    page = anonymous.get(url, base_url=BASE)
    assert "Log in</a> to comment" in page.text
    assert anonymous.post(f"{url}/comments", base_url=BASE,
                          data={"csrf_token": csrf_from(page.data), "body": "hi"}).status_code == 302
    cara = _client(app, "cara@example.com")
    page = cara.get(url, base_url=BASE)
    resp = cara.post(f"{url}/comments", base_url=BASE,
                     data={"csrf_token": csrf_from(page.data), "body": "<i>Great</i> deal!"})
    assert resp.status_code == 303
    assert "Great deal!" in cara.get(url, base_url=BASE).text
    resp = cara.post(f"{url}/comments", base_url=BASE, data={"csrf_token": csrf_from(page.data), "body": "y" * 1001})
    assert resp.status_code == 422 and "at most 1,000 characters" in resp.text
    assert re.search(r">1 comment<", anonymous.get("/posts", base_url=BASE).text)
    with app.app_context(), tenant_scope(biz.tenant_id):
        db.session.execute(sa.update(PostComment).values(hidden_at=sa.func.now()))
        db.session.commit()
        db.session.remove()
    assert "Great deal!" not in anonymous.get(url, base_url=BASE).text


def test_editing_a_post_removes_and_adds_photos_up_to_six(app, biz):
    owner = _client(app, biz.owner_email)
    _publish(owner, "Before and after", photos=[(_png(), "a.png"), (_png("blue"), "b.png")])
    [post] = _posts(app, biz.tenant_id)
    url = f"/dashboard/posts/{post.id}/edit"
    page = owner.get(url, base_url=BASE)
    assert f'value="{post.photo_keys[0]}"' in page.text
    data = {"csrf_token": csrf_from(page.data), "body": "Before and after", "publish": "y",
            "remove_photo": [post.photo_keys[0]], "photos": [(io.BytesIO(_png("green")), "c.png")]}
    assert owner.post(url, data=data, base_url=BASE, content_type="multipart/form-data").status_code == 303
    [edited] = _posts(app, biz.tenant_id)
    assert len(edited.photo_keys) == 2 and post.photo_keys[0] not in edited.photo_keys
    assert post.photo_keys[1] in edited.photo_keys
    data = {"csrf_token": csrf_from(page.data), "body": "Before and after", "publish": "y",
            "photos": [(io.BytesIO(_png()), f"{i}.png") for i in range(5)]}
    resp = owner.post(url, data=data, base_url=BASE, content_type="multipart/form-data")
    assert resp.status_code == 422 and "at most 6 photos" in resp.text
    assert _posts(app, biz.tenant_id)[0].photo_keys == edited.photo_keys
