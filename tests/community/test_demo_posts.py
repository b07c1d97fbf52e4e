"""Demo posts: a few published posts per business, dated in the past month, shown on the profile."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from app.community import posts
from app.community.demo import fill_demo_posts
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business

pytestmark = pytest.mark.integration


def test_demo_posts_are_published_and_recent(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        assert fill_demo_posts(random.Random(7), "Bella", count=3) == 3
        shown = posts.published_posts()
        assert len(shown) == 3
        assert all(utcnow() - timedelta(days=32) < p.published_at <= utcnow() for p in shown)
        assert shown == sorted(shown, key=lambda p: p.published_at, reverse=True)
