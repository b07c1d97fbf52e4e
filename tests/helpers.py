"""Test helpers shared by the suites."""

from __future__ import annotations

import re
import time

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


def login_admin(client, email: str, host: str = "localhost") -> None:
    """Log ``client`` in as the platform admin ``email`` with the second factor already passed
    (as :func:`login_as`, plus the session mark :func:`app.blueprints.admin.access.mark_second_factor_passed`
    sets). Use this for console tests that are not about the second factor itself."""
    from app.blueprints.admin.access import SECOND_FACTOR_KEY
    from app.extensions import db
    from app.identity.models import User

    login_as(client, email, host=host)
    with client.application.app_context():
        ident = db.session.scalar(sa.select(User).where(User.email == email)).get_id()
    with client.session_transaction(base_url=f"http://{host}") as sess:
        sess[SECOND_FACTOR_KEY] = ident


def open_with_reason(client, path: str, reason: str, base_url: str = "http://localhost") -> str:
    """Open console page ``path`` (a business's or person's record) as an admin does: the reason
    step first (:func:`app.blueprints.admin.access.require_reason`), then the page; its HTML."""
    ask = client.get(path, base_url=base_url)
    assert ask.status_code == 302 and "/admin/reason?" in ask.location, ask.status_code
    form = client.get(ask.location, base_url=base_url)
    back = client.post(ask.location, base_url=base_url,
                       data={"csrf_token": csrf_from(form.data), "reason": reason, "next": path})
    assert back.status_code in (302, 303), back.status_code
    page = client.get(path, base_url=base_url)
    assert page.status_code == 200, page.status_code
    return page.get_data(as_text=True)


def csrf_from(html: str | bytes) -> str:
    """The CSRF token found in a rendered page (hidden input or hx-headers)."""
    text = html.decode() if isinstance(html, bytes) else html
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(r'"X-CSRFToken": "([^"]+)"', text)
    assert m, "no CSRF token in page"
    return m.group(1)


def tenant_settings(tenant_id, *, local: bool = True) -> tuple[str, list[str]]:
    """``(sql, params)`` that put ``tenant_id`` in scope on a raw psycopg connection the way the
    app does: ``app.tenant_id`` with its proof (:func:`app.tenants.guard.tenant_proof`; the key
    is read once as the owner, from ``MIGRATION_DATABASE_URL``)."""
    import hashlib
    import os

    import psycopg

    global _RLS_KEY
    if _RLS_KEY is None:
        owner = os.environ["MIGRATION_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(owner) as conn:
            _RLS_KEY = bytes(conn.execute("select secret from rls_key where id = 1").fetchone()[0])
    tid = str(tenant_id)
    proof = hashlib.sha256(_RLS_KEY + hashlib.sha256(_RLS_KEY + tid.encode()).digest()).hexdigest()
    flag = "true" if local else "false"
    return (f"select set_config('app.tenant_id', %s, {flag}), set_config('app.tenant_proof', %s, {flag})",
            [tid, proof])


_RLS_KEY: bytes | None = None


def pass_second_factor(page, then: str | None = None) -> None:
    """In Chromium, right after a new platform admin's password: enrol the second factor on the
    page (read the shown secret, type its current code), continue to the console, then open
    ``then`` (a path on the same host) when given."""
    import pyotp

    page.wait_for_url("**/admin/second-factor**")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("#totp-form button[type=submit]")
    # The link in English or Danish (tests of the console in Danish pass through here too).
    page.get_by_role("link", name=re.compile("Continue to the console|Fortsæt til konsollen")).click()
    page.wait_for_url("**/admin/**")
    if then:
        page.goto(page.url.split("/admin/")[0] + then)


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """Poll ``predicate()`` every 0.1 s until it is true (``True``) or ``timeout`` seconds pass (``False``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
