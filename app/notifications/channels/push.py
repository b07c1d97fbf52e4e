"""Web Push channel: VAPID-signed, ``aes128gcm``-encrypted messages via ``pywebpush`` to every
active subscription of the person (the service worker ``/sw.js`` shows them).

Configuration (app config, else environment): ``VAPID_PUBLIC_KEY`` (base64url uncompressed
P-256 point, given to browsers as ``applicationServerKey``), ``VAPID_PRIVATE_KEY``
(base64url raw 32-byte key or DER), ``VAPID_SUBJECT`` (``mailto:`` or ``https:`` contact).
A subscription whose push service answers 404 or 410 is disabled.
"""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from pywebpush import WebPushException, webpush

from app.extensions import db
from app.identity.models import User
from app.notifications.center_models import Notification, NotificationDelivery, PushSubscription
from app.timeutil import utcnow

#: Seconds a push service keeps an undelivered message.
PUSH_TTL = 24 * 3600


class PushNotConfigured(RuntimeError):
    """VAPID keys are not set."""


class InvalidSubscription(ValueError):
    """A push subscription from the browser is malformed or points somewhere not allowed."""


def setting(name: str) -> str:
    """``name`` from the app config, else the environment, else ``""``."""
    return str(current_app.config.get(name) or os.environ.get(name) or "")


def vapid_public_key() -> str:
    """The VAPID public key browsers subscribe with (``""`` when push is not configured)."""
    return setting("VAPID_PUBLIC_KEY")


def push_payload(notification: Notification) -> str:
    """The JSON the service worker receives: ``title``, ``body``, ``url``, ``tag``, ``count``."""
    return json.dumps({"title": notification.title, "body": notification.body, "url": notification.url or "/notifications/",
                       "tag": notification.subject_key or str(notification.id), "count": notification.count})


def validate_subscription(data: object, *, allow_insecure: bool = False) -> tuple[str, str, str]:
    """``(endpoint, p256dh, auth)`` from a browser's ``PushSubscription.toJSON()``.

    Raises:
        InvalidSubscription: missing fields, or an endpoint that is not ``https://``
            (``http://`` only with ``allow_insecure``, for local tests).
    """
    if not isinstance(data, dict):
        raise InvalidSubscription("expected a JSON object")
    endpoint, keys = data.get("endpoint"), data.get("keys") or {}
    p256dh, auth = (keys.get("p256dh"), keys.get("auth")) if isinstance(keys, dict) else (None, None)
    if not (isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)):
        raise InvalidSubscription("endpoint, keys.p256dh and keys.auth are required")
    parts = urlsplit(endpoint)
    if parts.scheme not in ({"https", "http"} if allow_insecure else {"https"}) or not parts.hostname:
        raise InvalidSubscription("the push endpoint must be an https:// URL")
    if len(endpoint) > 1000 or len(p256dh) > 200 or len(auth) > 100:
        raise InvalidSubscription("subscription fields are too long")
    return endpoint, p256dh, auth


def save_subscription(user_id: uuid.UUID, endpoint: str, p256dh: str, auth: str, user_agent: str = "") -> PushSubscription:
    """Store (or re-activate and re-own) the subscription for ``endpoint``; flushes."""
    sub = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if sub is None:
        sub = PushSubscription(user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth,
                               user_agent=user_agent[:300])
        db.session.add(sub)
    else:
        sub.user_id, sub.p256dh, sub.auth, sub.disabled_at = user_id, p256dh, auth, None
        sub.user_agent = user_agent[:300]
    db.session.flush()
    return sub


def remove_subscription(user_id: uuid.UUID, endpoint: str) -> int:
    """Disable the person's subscription for ``endpoint``; returns how many were disabled."""
    result = db.session.execute(sa.update(PushSubscription).where(
        PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint,
        PushSubscription.disabled_at.is_(None)).values(disabled_at=utcnow()))
    return result.rowcount or 0


class PushChannel:
    """Sends to every active subscription of the person."""

    name = "push"

    def send(self, notification: Notification, delivery: NotificationDelivery, user: User) -> str | None:
        """Push to each device; returns ``"<n> of <m> devices"``.

        Raises:
            PushNotConfigured: no VAPID keys.
            WebPushException: every device failed for a reason other than being gone.
        """
        private_key, subject = setting("VAPID_PRIVATE_KEY"), setting("VAPID_SUBJECT") or "mailto:admin@plaza.example"
        if not private_key:
            raise PushNotConfigured("VAPID_PRIVATE_KEY is not set")
        subs = list(db.session.scalars(sa.select(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.disabled_at.is_(None))))
        payload = push_payload(notification)
        ok, errors = 0, []
        for sub in subs:
            try:
                webpush({"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}, data=payload,
                        vapid_private_key=private_key, vapid_claims={"sub": subject}, ttl=PUSH_TTL, timeout=10)
            except WebPushException as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status in (404, 410):
                    sub.disabled_at = utcnow()
                    continue
                errors.append(exc)
                continue
            sub.last_success_at = utcnow()
            ok += 1
        db.session.flush()
        if errors and not ok:
            raise errors[0]
        return f"{ok} of {len(subs)} devices"
