"""Test helpers shared by the suites."""

from __future__ import annotations

import re

import sqlalchemy as sa


def login_as(client, email: str, host: str = "localhost") -> None:
    """Log ``client`` in as the account ``email`` (sets the Flask-Login session directly, in the
    server-side session store, and records it in the account's session index).

    The session cookie is per host: pass ``host`` (e.g. ``"bella.localhost"``) and make the
    requests with ``base_url=f"http://{host}"``.
    """
    from app.extensions import db
    from app.identity.models import User
    from app.identity.sessions import record_session

    with client.application.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user is not None, email
        ident, user_id = user.get_id(), user.id
    with client.session_transaction(base_url=f"http://{host}") as sess:
        sess["_user_id"] = ident
        sess["_fresh"] = True
        sid = sess.sid
    with client.application.app_context():  # in the account's index of live sessions, as a login does
        record_session(user_id, sid, ip="127.0.0.1", user_agent="Werkzeug test client", host=host)


def csrf_from(html: str | bytes) -> str:
    """The CSRF token found in a rendered page (hidden input or hx-headers)."""
    text = html.decode() if isinstance(html, bytes) else html
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(r'"X-CSRFToken": "([^"]+)"', text)
    assert m, "no CSRF token in page"
    return m.group(1)
