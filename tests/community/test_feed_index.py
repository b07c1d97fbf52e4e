"""The apex feed's read model (``listed_post``): a post reaches it through its outbox event,
leaves it when unpublished or deleted, handles events in any order and is rebuilt by the
reindex — and the feed shows only what the read model holds, never the tenant tables."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.community import feed_index, posts
from app.community.feed import Place, feed
from app.community.models import ListedPost
from app.extensions import db
from app.outbox.relay import relay_all
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration

COPENHAGEN = Place("Copenhagen", 55.6761, 12.5683)


def handle_events(app) -> None:
    relay_all()
    assert run_jobs(app) == []


def shown() -> list[str]:
    return [p.body for p in feed(None, COPENHAGEN)]


@pytest.fixture
def shop(ctx):
    biz = make_business("bella")
    with platform_scope("test: place the shop"):
        db.session.execute(sa.update(Tenant).where(Tenant.id == biz.tenant_id).values(latitude=55.68, longitude=12.57))
        db.session.commit()
    return biz.tenant_id


def test_a_post_reaches_the_feed_by_its_event_and_leaves_when_unpublished_or_deleted(app, shop):
    with tenant_scope(shop):
        post = posts.create_post("Autumn colours are in", author_user_id=None)
        db.session.commit()
    assert shown() == []  # not handled yet: the feed does not read the post table
    handle_events(app)
    assert shown() == ["Autumn colours are in"]
    with tenant_scope(shop):
        posts.update_post(posts.get_post(post.id), "Autumn colours are in", publish=False)
        db.session.commit()
    handle_events(app)
    assert shown() == []
    with tenant_scope(shop):
        posts.update_post(posts.get_post(post.id), "Back again", publish=True)
        db.session.commit()
    handle_events(app)
    assert shown() == ["Back again"]
    with tenant_scope(shop):
        posts.delete_post(posts.get_post(post.id))
        db.session.commit()
    handle_events(app)
    assert shown() == []
    with platform_scope("test: the tombstone"):
        row = db.session.get(ListedPost, post.id)
        assert row is not None and row.visible is False and row.body == ""


def test_an_older_read_never_overwrites_a_newer_one(app, shop):
    with tenant_scope(shop):
        post = posts.create_post("Hello", author_user_id=None)
        db.session.commit()
        now = feed_index.read_clock()
        newer = feed_index.copy_values(post.id, shop, None, now)  # deleted, read later
        older = feed_index.copy_values(post.id, shop, post, now - timedelta(seconds=5))  # shown, read earlier
        db.session.rollback()
    with tenant_scope(shop):
        feed_index.store_copies([newer])
        db.session.commit()
    with tenant_scope(shop):
        feed_index.store_copies([older])  # a slow job finishing last
        db.session.commit()
    assert shown() == []
    handle_events(app)  # the creation's own job reads the post as it is now: shown, at a later time
    assert shown() == ["Hello"]


def test_the_reindex_rebuilds_the_feed_from_every_business(app, shop):
    other = make_business("nordic")
    with platform_scope("test: place the shop"):
        db.session.execute(sa.update(Tenant).where(Tenant.id == other.tenant_id).values(latitude=55.7, longitude=12.55))
        db.session.commit()
    for tid, body in ((shop, "From bella"), (other.tenant_id, "From nordic")):
        with tenant_scope(tid):
            posts.create_post(body, author_user_id=None)
            posts.create_post("A draft", author_user_id=None, publish=False)
            db.session.commit()
    with platform_scope("test: lose the read model"):
        db.session.execute(sa.text("insert into listed_post (post_id, business_id, body, photo_keys, visible, "
                                   "source_at) values (gen_random_uuid(), :b, 'Ghost', '{}', true, now())"),
                           {"b": shop})
        db.session.commit()
    assert shown() == ["Ghost"]
    assert feed_index.reindex_posts() == 2
    assert sorted(shown()) == ["From bella", "From nordic"]
