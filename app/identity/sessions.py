"""Login sessions kept server-side, and each person's index of their live sessions.

Sessions are Flask-Session's, in Redis under ``SESSION_KEY_PREFIX + sid`` with a lifetime of
``PERMANENT_SESSION_LIFETIME`` (a day for sessions holding no login); the ``session`` cookie (per host, HttpOnly, SameSite=Lax,
Secure in production) carries only the random ``sid``. Ending a session deletes that key, so
a copied cookie opens nothing afterwards.

Each account has an index, the Redis hash ``plaza:user-sessions:<user id>``: one field per live
login session (its ``sid``) whose value is JSON ``{"created": epoch s, "seen": epoch s, "ip",
"ua", "host"}``. The index is authoritative: a logged-in session whose ``sid`` is not in its
account's index is ended on its next request (:func:`init_app`'s request hook) and its sockets
are closed by the realtime watchdog (:func:`live_flags`). ``seen`` is updated at most once
every :data:`SEEN_EVERY_SECONDS`, and that update also slides the session's expiry.

The id rotates at login (Flask-Login's ``user_logged_in`` signal) and at a change of
privileges (:func:`rotate_session`); logout deletes the session (``user_logged_out``). A
committed change of a user's ``session_version`` or ``suspended_at`` (password change,
suspension) ends every stored session of that user (an SQLAlchemy ``after_commit`` hook);
``session_version`` stays the kill switch that :func:`app.identity.service.load_user` checks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_login import user_logged_in, user_logged_out
from flask_session.redis import RedisSessionInterface
from sqlalchemy.orm import Session as OrmSession
from ua_parser import parse as parse_user_agent

from app.identity.models import User
from app.redis_client import get_redis

log = logging.getLogger("plaza.sessions")

INDEX_PREFIX = "plaza:user-sessions:"
#: Least seconds between two "last seen" updates of one session (each also slides its expiry).
SEEN_EVERY_SECONDS = 60
#: Endpoints that never look at the login session.
SKIP_ENDPOINTS = frozenset({"static", "ops.healthz", "ops.readyz", "webhooks.stripe_webhook"})
#: Seconds a session without a login (a visitor's CSRF secret, a flash message) is kept.
ANONYMOUS_SESSION_SECONDS = 24 * 3600
_PENDING = "plaza_sessions_to_end"


class LoginSessionInterface(RedisSessionInterface):
    """Flask-Session's Redis session store, except that a session holding no login is kept
    only :data:`ANONYMOUS_SESSION_SECONDS` (not the whole ``PERMANENT_SESSION_LIFETIME``), so
    page views without a cookie cannot fill Redis for weeks."""

    def _upsert_session(self, session_lifetime: timedelta, session: Any, store_id: str) -> None:
        if user_id_in(session) is None:
            session_lifetime = min(session_lifetime, timedelta(seconds=ANONYMOUS_SESSION_SECONDS))
        super()._upsert_session(session_lifetime, session, store_id)


@dataclass(frozen=True)
class LoginSession:
    """One live login session of a person, as the account page lists it.

    ``handle`` is a public name of the session (a digest of its id, never the id itself);
    times are tz-aware UTC; ``browser`` and ``system`` are ``ua-parser`` families ("Firefox",
    "Mac OS X"; empty when unknown); ``current`` marks the session of the request.
    """

    handle: str
    created_at: datetime
    last_seen_at: datetime
    ip: str
    user_agent: str
    host: str
    browser: str
    system: str
    current: bool


def index_key(user_id: uuid.UUID | str) -> str:
    """Redis key of the index hash of ``user_id``'s live sessions."""
    return f"{INDEX_PREFIX}{user_id}"


def store_key(sid: str) -> str:
    """Redis key under which Flask-Session keeps the session ``sid``."""
    return current_app.config["SESSION_KEY_PREFIX"] + sid


def handle_of(sid: str) -> str:
    """Public name of the session ``sid`` (20 hex digits of its SHA-256): safe to put in a page."""
    return hashlib.sha256(sid.encode()).hexdigest()[:20]


def new_sid() -> str:
    """A fresh random session id, as Flask-Session makes them (``SESSION_ID_LENGTH`` bytes)."""
    return secrets.token_urlsafe(current_app.config.get("SESSION_ID_LENGTH", 32))


def lifetime_seconds() -> int:
    """Seconds a session lives without activity (``PERMANENT_SESSION_LIFETIME``)."""
    return int(current_app.permanent_session_lifetime.total_seconds())


def describe_browser(user_agent: str) -> tuple[str, str]:
    """``(browser, system)`` of a User-Agent string, e.g. ``("Firefox", "Ubuntu")`` or
    ``("Mobile Safari", "iPhone")``; each ``""`` when unknown (``ua-parser``'s uap-core regexes)."""
    result = parse_user_agent(user_agent or "")
    browser = result.user_agent.family.removeprefix("Headless") if result.user_agent else ""
    device = result.device.family if result.device and result.device.family not in ("Other", "Spider") else ""
    system = device or (result.os.family if result.os and result.os.family != "Other" else "")
    return ("" if browser == "Other" else browser), system


def user_id_in(data: Any) -> uuid.UUID | None:
    """The account id a session mapping is logged in as (Flask-Login's ``_user_id``,
    ``<uuid>:<session_version>``), or ``None``."""
    raw = data.get("_user_id") if hasattr(data, "get") else None
    if not raw:
        return None
    try:
        return uuid.UUID(str(raw).split(":", 1)[0])
    except ValueError:
        return None


def record_session(user_id: uuid.UUID, sid: str, *, ip: str, user_agent: str, host: str,
                   created: float | None = None, now: float | None = None) -> None:
    """Add (or replace) ``sid`` in the index of ``user_id``; ``created``/``now`` are epoch
    seconds (default: now). The index lives as long as a session does."""
    now = time.time() if now is None else now
    meta = {"created": now if created is None else created, "seen": now, "ip": ip[:64],
            "ua": user_agent[:400], "host": host[:255]}
    r = get_redis()
    key = index_key(user_id)
    pipe = r.pipeline()
    pipe.hset(key, sid, json.dumps(meta))
    pipe.expire(key, lifetime_seconds())
    pipe.execute()


def touch_session(user_id: uuid.UUID, sid: str, *, ip: str, now: float | None = None) -> bool | None:
    """Note activity on ``sid``: ``None`` when it is no longer in the index of ``user_id`` (it
    was ended), ``True`` when its last-seen time (and ``ip``) was updated and its expiry should
    slide (at most once every :data:`SEEN_EVERY_SECONDS`), else ``False``."""
    now = time.time() if now is None else now
    r = get_redis()
    raw = r.hget(index_key(user_id), sid)
    if raw is None:
        return None
    try:
        meta = json.loads(raw)
        seen = float(meta.get("seen", 0))
    except (ValueError, TypeError, AttributeError):
        meta, seen = {"created": now}, 0.0
    if now - seen < SEEN_EVERY_SECONDS:
        return False
    meta.update(seen=now, ip=ip[:64] or meta.get("ip", ""))
    pipe = r.pipeline()
    pipe.hset(index_key(user_id), sid, json.dumps(meta))
    pipe.expire(index_key(user_id), lifetime_seconds())
    pipe.execute()
    return True


def live_flags(pairs: Sequence[tuple[uuid.UUID, str]]) -> list[bool]:
    """For each ``(user_id, sid)``: True while the session is stored and in its account's
    index (one Redis round trip for all)."""
    if not pairs:
        return []
    pipe = get_redis().pipeline()
    for user_id, sid in pairs:
        pipe.hexists(index_key(user_id), sid)
        pipe.exists(store_key(sid))
    flags = pipe.execute()
    return [bool(flags[2 * i]) and bool(flags[2 * i + 1]) for i in range(len(pairs))]


def list_sessions(user_id: uuid.UUID, current_sid: str | None = None) -> list[LoginSession]:
    """The live login sessions of ``user_id``: the current one first, then the most recently
    seen. Index entries whose session expired are dropped on the way."""
    r = get_redis()
    entries = {(k.decode() if isinstance(k, bytes) else k): v for k, v in r.hgetall(index_key(user_id)).items()}
    sids = list(entries)
    pipe = r.pipeline()
    for sid in sids:
        pipe.exists(store_key(sid))
    alive = pipe.execute() if sids else []
    dead = [sid for sid, ok in zip(sids, alive, strict=True) if not ok]
    if dead:
        r.hdel(index_key(user_id), *dead)
    out = []
    for sid, ok in zip(sids, alive, strict=True):
        if not ok:
            continue
        try:
            meta = json.loads(entries[sid])
        except ValueError:
            continue
        ua = str(meta.get("ua", ""))
        browser, system = describe_browser(ua)
        out.append(LoginSession(
            handle=handle_of(sid), created_at=datetime.fromtimestamp(float(meta.get("created", 0)), UTC),
            last_seen_at=datetime.fromtimestamp(float(meta.get("seen", 0)), UTC), ip=str(meta.get("ip", "")),
            user_agent=ua, host=str(meta.get("host", "")), browser=browser, system=system,
            current=sid == current_sid))
    out.sort(key=lambda s: (not s.current, -s.last_seen_at.timestamp()))
    return out


def _delete(user_id: uuid.UUID | str, sids: Sequence[str]) -> int:
    if not sids:
        return 0
    pipe = get_redis().pipeline()
    pipe.hdel(index_key(user_id), *sids)
    pipe.delete(*[store_key(s) for s in sids])
    return int(pipe.execute()[0])


def end_session(user_id: uuid.UUID, handle: str, *, keep_sid: str | None = None) -> bool:
    """End the session of ``user_id`` named ``handle`` (see :func:`handle_of`): its stored data
    and index entry are deleted, so its cookie opens nothing and its sockets close. Returns
    False when no such session (or it is ``keep_sid``)."""
    for raw in get_redis().hkeys(index_key(user_id)):
        sid = raw.decode() if isinstance(raw, bytes) else raw
        if sid != keep_sid and secrets.compare_digest(handle_of(sid), handle):
            return _delete(user_id, [sid]) > 0
    return False


def end_sessions(user_id: uuid.UUID | str, *, keep_sid: str | None = None) -> int:
    """End every session of ``user_id`` but ``keep_sid``; returns how many were ended."""
    sids = [s.decode() if isinstance(s, bytes) else s for s in get_redis().hkeys(index_key(user_id))]
    return _delete(user_id, [s for s in sids if s != keep_sid])


# --------------------------------------------------------------------------- request glue


def _client_ip() -> str:
    return request.remote_addr or ""


def rotate_session() -> None:
    """Give the current (logged-in) session a new id, keeping its data and its index entry;
    the old id is dead at once. Call after a change of privileges (e.g. becoming staff)."""
    old = session.sid
    current_app.session_interface.regenerate(session)
    user_id = user_id_in(session)
    if user_id is None or session.sid == old:
        return
    r = get_redis()
    raw = r.hget(index_key(user_id), old)
    r.hdel(index_key(user_id), old)
    try:
        created = float(json.loads(raw)["created"]) if raw else None
    except (ValueError, KeyError, TypeError):
        created = None
    record_session(user_id, session.sid, ip=_client_ip(), user_agent=request.user_agent.string,
                   host=request.host, created=created)


def _on_login(sender: Flask, user: Any = None, **_: Any) -> None:
    """A login: new session id (the pre-login id is deleted), recorded in the user's index."""
    old = session.sid
    current_app.session_interface.regenerate(session)
    if user is None or getattr(user, "id", None) is None:
        return
    get_redis().hdel(index_key(user.id), old)
    record_session(user.id, session.sid, ip=_client_ip(), user_agent=request.user_agent.string, host=request.host)


def _on_logout(sender: Flask, user: Any = None, **_: Any) -> None:
    """A logout: the session is deleted from Redis and the index; the browser gets a fresh,
    empty one (for the "logged out" message)."""
    sid = session.sid
    try:
        if user is not None and getattr(user, "id", None) is not None:
            _delete(user.id, [sid])
        else:
            get_redis().delete(store_key(sid))
    except (redis.RedisError, RuntimeError):  # logging out must not fail on Redis (or no app)
        log.warning("could not delete the session", exc_info=True)
    session.clear()
    session.sid = new_sid()
    session.modified = True


def _check_session() -> None:
    """Before each request: a logged-in session no longer in its account's index was ended
    elsewhere: empty it (the request goes on anonymous). Otherwise note activity."""
    if request.endpoint in SKIP_ENDPOINTS or current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return
    user_id = user_id_in(session)
    if user_id is None:
        return
    state = touch_session(user_id, session.sid, ip=_client_ip())
    if state is None:
        session.clear()
        g.pop("_login_user", None)
    elif state:
        session.modified = True  # rewrite: the stored session and the cookie live on


def _collect_users(orm_session: OrmSession, _flush_context: Any) -> None:
    """After a flush: remember users whose ``session_version`` or ``suspended_at`` changed."""
    for obj in orm_session.dirty:
        if not isinstance(obj, User):
            continue
        state = sa.inspect(obj)
        if state.attrs.session_version.history.has_changes() or state.attrs.suspended_at.history.has_changes():
            orm_session.info.setdefault(_PENDING, set()).add(obj.id)


def _end_collected(orm_session: OrmSession) -> None:
    """After a commit: end every stored session of the users collected by :func:`_collect_users`."""
    for user_id in orm_session.info.pop(_PENDING, set()):
        try:
            end_sessions(user_id)
        except (redis.RedisError, RuntimeError):  # session_version still refuses them
            log.warning("could not end the sessions of a user", exc_info=True, extra={"user": str(user_id)})


def _forget_collected(orm_session: OrmSession) -> None:
    orm_session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Keep ``app``'s sessions in Redis (``SESSION_REDIS``, ``SESSION_KEY_PREFIX``,
    ``PERMANENT_SESSION_LIFETIME``) and wire their upkeep: rotation and index on login,
    deletion on logout, the per-request check, and the end of every session after a
    committed password change or suspension."""
    app.session_interface = LoginSessionInterface(
        app, client=app.config["SESSION_REDIS"], key_prefix=app.config["SESSION_KEY_PREFIX"],
        permanent=app.config.get("SESSION_PERMANENT", True), sid_length=app.config.get("SESSION_ID_LENGTH", 32))
    user_logged_in.connect(_on_login, app)
    user_logged_out.connect(_on_logout, app)
    app.before_request(_check_session)
    if not sa.event.contains(OrmSession, "after_flush", _collect_users):
        sa.event.listen(OrmSession, "after_flush", _collect_users)
        sa.event.listen(OrmSession, "after_commit", _end_collected)
        sa.event.listen(OrmSession, "after_rollback", _forget_collected)
