"""The in-app notification center: create (folding repeats), list by tab, unread count,
mark read, bulk mark read, archive; and the live badge over Socket.IO.

Every read and write takes the person's ``user_id`` and filters by it, so one person can
never see or touch another's notifications (a foreign id behaves like a missing one).
Functions flush, never commit; :func:`push_badge` is called after the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.config import settings_str
from app.extensions import db
from app.notifications import registry
from app.notifications.center_models import Notification, NotificationSource
from app.realtime.emit import emit_to_user
from app.tenants.models import Tenant
from app.tenants.urls import platform_url, tenant_url
from app.timeutil import utcnow

log = logging.getLogger("plaza.notifications")

TABS = ("all", "unread", "archived")
PAGE_SIZE = 50
DEFAULT_DEDUP_WINDOW = 300


def dedup_window() -> timedelta:
    """Repeats of the same type and subject within this window fold into one notification
    (``NOTIFY_DEDUP_WINDOW_SECONDS``, default 300)."""
    raw = current_app.config.get("NOTIFY_DEDUP_WINDOW_SECONDS") if has_app_context() else None
    raw = raw or settings_str("NOTIFY_DEDUP_WINDOW_SECONDS")
    return timedelta(seconds=int(raw) if raw else DEFAULT_DEDUP_WINDOW)


@dataclass(frozen=True)
class Created:
    """What :func:`create_notification` did: the ``notification``; ``new`` when a row was
    created (not folded into a recent one); ``duplicate`` when the source had already
    notified this person (nothing changed)."""

    notification: Notification
    new: bool
    duplicate: bool = False


def absolute_url(url: str, tenant_id: uuid.UUID | None = None) -> str:
    """``url`` as an absolute link for an email or a text message: a path (``/x``) is put on
    the business's host when ``tenant_id`` is given, else on the apex, from configuration
    (:mod:`app.tenants.urls`); an absolute URL or ``""`` is returned unchanged."""
    if not url.startswith("/") or url.startswith("//"):
        return url
    tenant = db.session.get(Tenant, tenant_id) if tenant_id else None
    return tenant_url(tenant, url) if tenant is not None else platform_url(url)


def create_notification(*, user_id: uuid.UUID, type_key: str, audience: str, context: Mapping[str, str],
                        tenant_id: uuid.UUID | None = None, subject_key: str = "", url: str = "",
                        source_key: str | None = None, now: datetime | None = None) -> Created:
    """Put a notification of ``type_key`` in the person's center, rendered for ``audience``.

    ``source_key`` identifies the cause (an outbox event id…): the same source never
    notifies the same person twice. A notification of the same type and subject that is
    still unread and was updated within :func:`dedup_window` absorbs this one (its text is
    refreshed and ``count`` grows) instead of a new row.

    Raises:
        registry.UnknownNotificationType, registry.MissingField: bad type or context.
    """
    now = now or utcnow()
    nt = registry.get(type_key)
    ctx = {k: "" if v is None else str(v) for k, v in context.items()}
    ctx.setdefault("url", absolute_url(url, tenant_id))
    rendered = registry.render_for(type_key, audience, ctx)
    if source_key:
        seen = db.session.scalar(sa.select(NotificationSource.notification_id).where(
            NotificationSource.user_id == user_id, NotificationSource.source_key == source_key))
        if seen is not None:
            return Created(db.session.get(Notification, seen), new=False, duplicate=True)
    recent = None
    if subject_key:
        recent = db.session.scalar(
            sa.select(Notification).where(
                Notification.user_id == user_id, Notification.type == type_key,
                Notification.subject_key == subject_key, Notification.read_at.is_(None),
                Notification.archived_at.is_(None), Notification.updated_at >= now - dedup_window())
            .order_by(Notification.updated_at.desc()).limit(1).with_for_update())
    if recent is not None:
        recent.title, recent.body, recent.context = rendered.title[:250], rendered.body, ctx
        recent.url = url or recent.url
        recent.count += 1
        recent.updated_at = now
        notification, new = recent, False
    else:
        notification = Notification(
            user_id=user_id, tenant_id=tenant_id, type=type_key, audience=audience, category=nt.category,
            subject_key=subject_key, title=rendered.title[:250], body=rendered.body, url=url, context=ctx,
            count=1, created_at=now, updated_at=now)
        db.session.add(notification)
        new = True
    db.session.flush()
    if source_key:
        inserted = db.session.execute(
            pg_insert(NotificationSource).values(user_id=user_id, source_key=source_key[:250],
                                                 notification_id=notification.id, created_at=now)
            .on_conflict_do_nothing().returning(NotificationSource.user_id)).scalar()
        if inserted is None:  # a concurrent run got there first
            raise ConcurrentDuplicate(source_key)
    return Created(notification, new=new)


class ConcurrentDuplicate(Exception):
    """Another job recorded the same source for the same person at the same moment; roll back."""


def _visible(user_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return Notification.user_id == user_id


def list_notifications(user_id: uuid.UUID, tab: str = "all", limit: int = PAGE_SIZE) -> list[Notification]:
    """The person's notifications for ``tab`` (``all``: not archived; ``unread``; ``archived``),
    most recently updated first."""
    q = sa.select(Notification).where(_visible(user_id))
    if tab == "archived":
        q = q.where(Notification.archived_at.is_not(None))
    else:
        q = q.where(Notification.archived_at.is_(None))
        if tab == "unread":
            q = q.where(Notification.read_at.is_(None))
    return list(db.session.scalars(q.order_by(Notification.updated_at.desc()).limit(limit)))


def unread_count(user_id: uuid.UUID) -> int:
    """How many of the person's notifications are unread and not archived (the badge)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        _visible(user_id), Notification.read_at.is_(None), Notification.archived_at.is_(None))) or 0


def get_notification(user_id: uuid.UUID, notification_id: uuid.UUID | None) -> Notification | None:
    """The person's notification ``notification_id``, or ``None`` (also for someone else's)."""
    if notification_id is None:
        return None
    return db.session.scalar(sa.select(Notification).where(_visible(user_id), Notification.id == notification_id))


def mark_read(user_id: uuid.UUID, ids: Iterable[uuid.UUID] | None = None, now: datetime | None = None) -> int:
    """Mark the person's notifications ``ids`` (all unread ones when ``None``) read; returns how many changed."""
    q = sa.update(Notification).where(_visible(user_id), Notification.read_at.is_(None))
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        q = q.where(Notification.id.in_(ids))
    result = db.session.execute(q.values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


def mark_subject_read(user_id: uuid.UUID, subject_key: str, type_key: str | None = None,
                      now: datetime | None = None) -> int:
    """Mark the person's unread notifications about ``subject_key`` (e.g. ``conversation:<id>``),
    of ``type_key`` when given, read; returns how many changed. For "the person looked at
    the thing itself" (reading a conversation reads its new-message notifications)."""
    q = sa.update(Notification).where(_visible(user_id), Notification.read_at.is_(None),
                                      Notification.subject_key == subject_key)
    if type_key is not None:
        q = q.where(Notification.type == type_key)
    result = db.session.execute(q.values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


def mark_unread(user_id: uuid.UUID, notification_id: uuid.UUID) -> int:
    """Mark one of the person's notifications unread again; returns 1 when it changed."""
    result = db.session.execute(sa.update(Notification).where(_visible(user_id), Notification.id == notification_id)
                                .values(read_at=None).execution_options(synchronize_session=False))
    return result.rowcount or 0


def archive(user_id: uuid.UUID, ids: Iterable[uuid.UUID], now: datetime | None = None) -> int:
    """Archive the person's notifications ``ids`` (archiving also marks them read); returns how many."""
    ids = list(ids)
    if not ids:
        return 0
    now = now or utcnow()
    result = db.session.execute(
        sa.update(Notification).where(_visible(user_id), Notification.id.in_(ids), Notification.archived_at.is_(None))
        .values(archived_at=now, read_at=sa.func.coalesce(Notification.read_at, now))
        .execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


def unarchive(user_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> int:
    """Move the person's archived notifications ``ids`` back to the inbox; returns how many."""
    ids = list(ids)
    if not ids:
        return 0
    result = db.session.execute(sa.update(Notification).where(_visible(user_id), Notification.id.in_(ids))
                                .values(archived_at=None).execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- live updates ------------------------------------------------------------------------


def push_badge(user_id: uuid.UUID, notification_id: uuid.UUID | None = None) -> bool:
    """Tell the person's open pages the new unread count (and the new notification) over
    Socket.IO. Call after the commit. Returns False when the live update could not go out;
    never raises (the badge also refreshes on the next page or poll)."""
    data: dict[str, object] = {"unread": unread_count(user_id)}
    notification = get_notification(user_id, notification_id)
    if notification is not None:
        data["notification"] = {"id": str(notification.id), "type": notification.type, "title": notification.title,
                                "body": notification.body, "url": notification.url, "count": notification.count}
    try:
        emit_to_user(user_id, "notification", data)
    except Exception:  # noqa: BLE001 - a live update is best effort: whatever the message queue raises, the page catches up
        log.warning("live notification emit failed", exc_info=True, extra={"user_id": str(user_id)})
        return False
    return True
