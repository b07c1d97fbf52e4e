"""Web Push channel: VAPID-signed, ``aes128gcm``-encrypted messages via ``pywebpush`` to every
active subscription of the person (the service worker ``/sw.js`` shows them).

Configuration (app config, else environment): ``VAPID_PUBLIC_KEY`` (base64url uncompressed
P-256 point, given to browsers as ``applicationServerKey``), ``VAPID_PRIVATE_KEY``
(base64url raw 32-byte key or DER), ``VAPID_SUBJECT`` (``mailto:`` or ``https:`` contact).
A subscription whose push service answers 404 or 410 is disabled.

Endpoints are URLs that browsers hand us, so they are checked before every send
(:func:`endpoint_refusal`): ``https`` only (``http`` when ``PUSH_ALLOW_INSECURE`` outside
production, or in tests), and the host — an IP literal, or every address it resolves to
(``socket.getaddrinfo``) — must be a public unicast address: never loopback, private,
link-local, multicast, reserved or unspecified (``ipaddress``'s ``is_global`` and friends;
IPv4 inside IPv6 forms is checked as IPv4). A refused endpoint is not contacted and the
refusal is written in the delivery log. Subscribing checks the same without resolving
names (IP literals and ``localhost`` names are refused at once). An endpoint already saved
by another account stays theirs (:class:`EndpointTaken`).

Known limit: the name is resolved again by the HTTP client when sending, so a DNS answer
that changes between the check and the connection (rebinding) is not caught.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import uuid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from pywebpush import WebPushException, webpush

from app.config import config_str
from app.delivery.models import Delivery
from app.extensions import db
from app.identity.models import User
from app.notifications.center_models import Notification, PushSubscription
from app.timeutil import utcnow

log = logging.getLogger("plaza.notifications")

#: Seconds a push service keeps an undelivered message.
PUSH_TTL = 24 * 3600


class PushNotConfigured(RuntimeError):
    """VAPID keys are not set."""


class InvalidSubscription(ValueError):
    """A push subscription from the browser is malformed or points somewhere not allowed."""


class EndpointTaken(ValueError):
    """The push endpoint is already saved, active, for another account (never re-assigned)."""


class PushEndpointRefused(RuntimeError):
    """Every device of the person has an endpoint that may not be contacted (see
    :func:`endpoint_refusal`); the message lists why. Nothing was sent."""


def insecure_allowed() -> bool:
    """True when ``http://`` push endpoints are accepted: ``PUSH_ALLOW_INSECURE`` (never in
    production, see :mod:`app.config`) or the test suite."""
    return bool(current_app.config.get("TESTING") or current_app.config.get("PUSH_ALLOW_INSECURE"))


_KINDS = (("is_unspecified", "unspecified"), ("is_loopback", "loopback"), ("is_link_local", "link-local"),
          ("is_multicast", "multicast"), ("is_private", "private"), ("is_reserved", "reserved"))


def address_refusal(address: str) -> str | None:
    """Why the IP ``address`` (text, IPv4 or IPv6, an optional ``%zone`` ignored) may not
    receive a push, or ``None`` for a public unicast address. IPv4-mapped and 6to4 IPv6
    addresses are judged by the IPv4 address inside; Teredo is refused.

    Raises:
        ValueError: ``address`` is not an IP address.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo is not None:
            return f"{ip} is a Teredo tunnel address"
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is not None:
            reason = address_refusal(str(inner))
            return f"{ip} wraps {reason}" if reason else None
    for attr, kind in _KINDS:
        if getattr(ip, attr):
            return f"{ip} is a {kind} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def endpoint_refusal(endpoint: str, *, allow_insecure: bool = False, resolve: bool = True) -> str | None:
    """Why a push ``endpoint`` URL may not be contacted, or ``None`` when it may: not
    ``https`` (``http`` only with ``allow_insecure``), no host, a host that is an IP literal
    refused by :func:`address_refusal`, a ``localhost`` name, or (``resolve``) a name that
    does not resolve or of which ANY address (``socket.getaddrinfo``) is refused."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "the push endpoint is not a valid URL"
    if parts.scheme not in ({"https", "http"} if allow_insecure else {"https"}):
        return "the push endpoint must be an https:// URL"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "the push endpoint has no host"
    try:
        return address_refusal(host)
    except ValueError:
        pass  # a name, not an IP literal
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is a local name"
    if not resolve:
        return None
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return f"{host} could not be resolved"
    for *_, sockaddr in infos:
        reason = address_refusal(str(sockaddr[0]))
        if reason:
            return f"{host} resolves to {reason}"
    return None if infos else f"{host} could not be resolved"



def vapid_public_key() -> str:
    """The VAPID public key browsers subscribe with (``""`` when push is not configured)."""
    return config_str("VAPID_PUBLIC_KEY")


def push_payload(notification: Notification) -> str:
    """The JSON the service worker receives: ``title``, ``body``, ``url``, ``tag``, ``count``."""
    return json.dumps({"title": notification.title, "body": notification.body, "url": notification.url or "/notifications/",
                       "tag": notification.subject_key or str(notification.id), "count": notification.count})


def validate_subscription(data: object, *, allow_insecure: bool = False) -> tuple[str, str, str]:
    """``(endpoint, p256dh, auth)`` from a browser's ``PushSubscription.toJSON()``.

    Raises:
        InvalidSubscription: missing fields, or an endpoint that is not ``https://``
            (``http://`` only with ``allow_insecure``, for local tests), or whose host is an
            IP literal or ``localhost`` name that :func:`endpoint_refusal` refuses (names are
            resolved at send time, not here).
    """
    if not isinstance(data, dict):
        raise InvalidSubscription("expected a JSON object")
    endpoint, keys = data.get("endpoint"), data.get("keys") or {}
    p256dh, auth = (keys.get("p256dh"), keys.get("auth")) if isinstance(keys, dict) else (None, None)
    if not (isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)):
        raise InvalidSubscription("endpoint, keys.p256dh and keys.auth are required")
    if len(endpoint) > 1000 or len(p256dh) > 200 or len(auth) > 100:
        raise InvalidSubscription("subscription fields are too long")
    reason = endpoint_refusal(endpoint, allow_insecure=allow_insecure, resolve=False)
    if reason:
        raise InvalidSubscription(reason)
    return endpoint, p256dh, auth


def save_subscription(user_id: uuid.UUID, endpoint: str, p256dh: str, auth: str, user_agent: str = "") -> PushSubscription:
    """Store the subscription for ``endpoint`` (or renew this account's own, or take over one
    that its previous account turned off or its push service dropped); flushes.

    Raises:
        EndpointTaken: the endpoint is saved, active, for another account: it stays theirs,
            with their keys (else anyone who learnt the endpoint could redirect that person's
            notifications or replace their keys).
    """
    sub = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint)
                            .with_for_update())
    if sub is not None and sub.user_id != user_id and sub.disabled_at is None:
        raise EndpointTaken("This browser already receives notifications for another Plaza account. "
                            "Log in to that account and turn them off there first.")
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

    def send(self, notification: Notification, delivery: Delivery, user: User) -> str | None:
        """Push to each device; returns ``"<n> of <m> devices"``.

        Devices whose endpoint :func:`endpoint_refusal` refuses are not contacted; the
        answer (or, when every device was refused, :class:`PushEndpointRefused`) says why,
        and lands in the delivery log.

        Raises:
            PushNotConfigured: no VAPID keys.
            PushEndpointRefused: every device's endpoint was refused.
            WebPushException: every device failed for a reason other than being gone.
        """
        private_key, subject = config_str("VAPID_PRIVATE_KEY"), config_str("VAPID_SUBJECT") or "mailto:admin@plaza.example"
        if not private_key:
            raise PushNotConfigured("VAPID_PRIVATE_KEY is not set")
        subs = list(db.session.scalars(sa.select(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.disabled_at.is_(None))))
        payload = push_payload(notification)
        allow_insecure = insecure_allowed()
        ok, errors, refused = 0, [], []
        for sub in subs:
            reason = endpoint_refusal(sub.endpoint, allow_insecure=allow_insecure)
            if reason:
                refused.append(reason)
                log.warning("push endpoint refused", extra={"subscription_id": str(sub.id), "reason": reason})
                continue
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
        note = f"; {len(refused)} refused: " + "; ".join(refused) if refused else ""
        if refused and not ok and len(refused) == len(subs):
            raise PushEndpointRefused(f"0 of {len(subs)} devices{note}"[:1000])
        return f"{ok} of {len(subs)} devices{note}"[:200]
