"""The moderation registry: a new kind of content becomes reportable, hideable and blockable
with one registration; reports validate their input and acting on one settles every open
report about the same content."""

from __future__ import annotations

import uuid

import pytest

from app.community import blocks, moderation, posts
from app.community.moderation import ReportError, Target, TargetKind
from app.tenants.context import tenant_scope
from tests.factories import make_business, make_user

pytestmark = pytest.mark.integration


def test_one_registration_makes_a_new_kind_reportable_hideable_and_its_author_blockable(ctx):
    biz = make_business("bella")
    author = make_user("rev@example.com")
    review_id = uuid.uuid4()
    hidden: dict[uuid.UUID, bool] = {}
    moderation.register(TargetKind(
        "test-review", "Review",
        load=lambda i: Target("Terrible!", "Rev", author, "rev@example.com", not hidden.get(i, False))
        if i == review_id else None,
        set_hidden=lambda i, h: hidden.__setitem__(i, h)))
    try:
        with tenant_scope(biz.tenant_id):
            first = moderation.report_content("test-review", review_id, "fake", reporter_user_id=None)
            second = moderation.report_content("test-review", review_id, "abuse", "rude")
            [view, _] = moderation.list_reports()
            assert view.can_hide and view.can_block and view.kind.label == "Review"
            moderation.act_on_report(first, "block", by=biz_owner(biz))
            assert hidden[review_id] is True
            assert (first.status, second.status) == ("actioned", "actioned")
            assert blocks.is_blocked(author) and blocks.is_blocked(None, "REV@example.com")
            assert moderation.count_open() == 0
    finally:
        moderation.REGISTRY.pop("test-review")


def test_reports_refuse_unknown_content_bad_reasons_and_long_notes(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        post = posts.create_post("Hello", author_user_id=None)
        with pytest.raises(ReportError):
            moderation.report_content("post", uuid.uuid4(), "spam")
        with pytest.raises(ReportError):
            moderation.report_content("nonsense", post.id, "spam")
        with pytest.raises(ReportError) as bad_reason:
            moderation.report_content("post", post.id, "boring")
        assert bad_reason.value.field == "reason"
        with pytest.raises(ReportError) as long_note:
            moderation.report_content("post", post.id, "spam", "n" * 1001)
        assert long_note.value.field == "note"
        report = moderation.report_content("post", post.id, "spam")
        with pytest.raises(ReportError):
            moderation.act_on_report(report, "block", by=biz_owner(biz))  # a post's author is the business
        with pytest.raises(ReportError):
            moderation.act_on_report(report, "explode", by=biz_owner(biz))


def test_post_text_is_plain_and_limited(ctx):
    assert posts.plain_text("<p>Hi <a href='javascript:x'>there</a></p> &lt;3", limit=100) == "Hi there <3"
    with pytest.raises(posts.PostError):
        posts.plain_text("<img src=x>", limit=100)
    with pytest.raises(posts.PostError):
        posts.plain_text("a" * 11, limit=10)


def biz_owner(biz) -> uuid.UUID:
    """The business owner's account id."""
    from app.identity.service import find_user

    return find_user(biz.owner_email).id
