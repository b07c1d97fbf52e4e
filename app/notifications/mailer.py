"""Low-level SMTP sending from ``SMTP_URL`` (``smtp://user:pass@host:port``, ``?starttls=1``, ``smtps://``)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit


def smtp_send(smtp_url: str, message: EmailMessage, timeout: float = 30.0) -> None:
    """Send ``message`` through the server at ``smtp_url``.

    Raises:
        smtplib.SMTPException, OSError: the server refused or could not be reached.
    """
    parts = urlsplit(smtp_url)
    host = parts.hostname or "127.0.0.1"
    query = parse_qs(parts.query)
    if parts.scheme == "smtps":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout)
    else:
        server = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with server:
        if query.get("starttls", ["0"])[0] in {"1", "true", "yes"}:
            server.starttls()
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)


def build_message(*, sender: str, to: str, subject: str, text: str, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] | None = None,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """A MIME message with a plain-text body, an optional HTML alternative and attachments
    given as ``(filename, mime type 'main/sub', content)``; the mime type may carry
    parameters, e.g. ``'text/calendar; method=REQUEST'``."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, mime, content in attachments or []:
        kind, *raw_params = (part.strip() for part in mime.split(";"))
        maintype, subtype = kind.split("/", 1)
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename, params=params)
    return msg
