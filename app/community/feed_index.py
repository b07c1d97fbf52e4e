"""Keeping ``listed_post`` (the apex feed's read model) in step with businesses' posts.

* :func:`jobs_for_event` (in :data:`app.outbox.relay.ROUTERS`): ``post.published`` and
  ``post.removed`` cause :func:`sync_post_job` for that post.
* :func:`sync_post` reads the post in its business's scope and writes its copy on the platform
  side: a visible post is copied, anything else (unpublished, hidden, deleted) leaves a
  tombstone. Each write carries the database clock read just before the post was read, and a
  write older than the stored row is ignored, so jobs run in any order, twice or concurrently
  end with the latest state.
* :func:`reindex_posts` (``flask community reindex-posts``) rebuilds every business's copies.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.community.models import ListedPost, Post
from app.community.posts import POST_PUBLISHED, POST_REMOVED, is_visible
from app.extensions import db
from app.jobs.runner import JobSpec, run_in_tenant, run_on_platform
from app.marketplace.tasks import all_business_ids
from app.tenants.context import platform_scope, require_tenant_id

JOBS = "app.community.feed_index"


def jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router: a :func:`sync_post_job` for a post that was published or removed
    (``payload["post_id"]``); nothing for other events."""
    post_id = (payload or {}).get("post_id")
    if kind in (POST_PUBLISHED, POST_REMOVED) and post_id:
        return [JobSpec(f"{JOBS}.sync_post_job", (tenant_id, str(post_id)))]
    return []


def sync_post_job(tenant_id: str, post_id: str) -> bool:
    """Job: bring the feed's copy of post ``post_id`` of business ``tenant_id`` up to date (one
    unit of work); True when the post is now shown in the feed."""
    return run_in_tenant(tenant_id, sync_post, uuid.UUID(post_id))


def copy_values(post_id: uuid.UUID, business_id: uuid.UUID, post: Post | None, source_at: datetime) -> dict:
    """The ``listed_post`` row of ``post`` (``None``: it no longer exists) as read at ``source_at``
    (tz-aware UTC, database clock): plain values, taken while the business is in scope."""
    shown = post is not None and is_visible(post)
    return {"post_id": post_id, "business_id": business_id, "body": post.body if shown else "",
            "photo_keys": list(post.photo_keys or []) if shown else [],
            "published_at": post.published_at if post is not None else None,
            "visible": shown, "source_at": source_at}


def store_copies(rows: list[dict]) -> None:
    """Write the feed's copies ``rows`` (from :func:`copy_values`), each unless a copy read
    later is already stored. Flushes.

    Raises:
        PlatformRoleRequired: the open transaction is a tenant-role one that has written.
    """
    if not rows:
        return
    with platform_scope("apex feed read model"):
        for values in rows:
            stmt = insert(ListedPost).values(**values)
            db.session.execute(stmt.on_conflict_do_update(
                index_elements=[ListedPost.post_id],
                set_={k: stmt.excluded[k] for k in values if k != "post_id"},
                where=ListedPost.source_at <= stmt.excluded.source_at))
        db.session.flush()


def read_clock() -> datetime:
    """The database's clock now (tz-aware UTC), read before the posts so that a later read of
    the same post always carries a later time."""
    return db.session.scalar(sa.select(sa.func.clock_timestamp()))


def sync_post(post_id: uuid.UUID) -> bool:
    """Copy post ``post_id`` of the business in scope into the feed's read model (or leave a
    tombstone); True when it is shown.

    Raises:
        TenantScopeError: no business in scope.
    """
    business_id = require_tenant_id()
    source_at = read_clock()
    post = db.session.scalar(sa.select(Post).where(Post.id == post_id).execution_options(populate_existing=True))
    row = copy_values(post_id, business_id, post, source_at)
    store_copies([row])
    return row["visible"]


def sync_business() -> int:
    """Copy every post of the business in scope into the read model and tombstone copies whose
    post is gone; returns how many are shown.

    Raises:
        TenantScopeError: no business in scope.
    """
    business_id = require_tenant_id()
    source_at = read_clock()
    posts = list(db.session.scalars(sa.select(Post)))
    rows = [copy_values(p.id, business_id, p, source_at) for p in posts]
    with platform_scope("apex feed read model: copies of one business"):
        listed = set(db.session.scalars(sa.select(ListedPost.post_id).where(ListedPost.business_id == business_id)))
    rows += [copy_values(gone, business_id, None, source_at) for gone in listed - {p["post_id"] for p in rows}]
    store_copies(rows)
    return sum(1 for r in rows if r["visible"])


def reindex_posts() -> int:
    """Rebuild every business's copies, one unit of work per business; returns how many posts
    are shown in the feed afterwards."""
    return sum(run_in_tenant(str(tid), sync_business) for tid in run_on_platform(all_business_ids))
