"""Building and sending email: safe headers, the From of every Plaza mail, the automatic-mail
headers, and low-level SMTP from ``SMTP_URL`` (``smtp://user:pass@host:port``, ``?starttls=1``, ``smtps://``)."""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid

from flask import current_app

from app.delivery.smtp_session import SmtpSession, active_session
from app.formatting import format_local
from app.timeutil import zone
from app.uow import PermanentFailure

#: How emails write a date and time (``Monday 07 December 2026, 14:30``), in the reader's zone.
DATE_TIME = "%A %d %B %Y, %H:%M"

#: Characters that never belong in a header: every C0/C1 control (CR and LF included), DEL, surrogates.
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]+")


class UndeliverableAddress(PermanentFailure, ValueError):
    """The recipient (or sender) address cannot be written into a mail header; retrying cannot help
    (a job stopped by it ends with ``"undeliverable"``, :mod:`app.jobs.runner`)."""

    outcome = "undeliverable"


def mail_address(display_name: str | None, addr_spec: str) -> Address:
    """The ``Address`` for a mail header: ``display_name`` quoted or RFC 2047-encoded by the
    ``email`` package (RFC 5322 §3.4), so commas, ``<>`` or ``@`` in a stored name can never
    add a recipient. Control characters (CR/LF included) in the name become spaces.

    Raises:
        UndeliverableAddress: ``addr_spec`` is empty, has whitespace or control characters, is
            not a single ``local@domain``, or is on the reserved ``.invalid`` top-level domain
            (RFC 2606 §2: a phone-only customer's or an erased customer's placeholder address).
    """
    name = " ".join(_HEADER_UNSAFE.sub(" ", display_name or "").split())
    spec = (addr_spec or "").strip()
    if not spec or _HEADER_UNSAFE.search(spec) or any(c.isspace() for c in spec):
        raise UndeliverableAddress(f"not a usable email address: {spec[:80]!r}")
    try:
        address = Address(display_name=name, addr_spec=spec)
    except (ValueError, IndexError, TypeError) as exc:
        raise UndeliverableAddress(f"not a usable email address: {spec[:80]!r} ({exc})") from exc
    if not address.username or not address.domain:
        raise UndeliverableAddress(f"not a usable email address: {spec[:80]!r}")
    if address.domain.lower().rstrip(".").endswith(".invalid") or address.domain.lower() == "invalid":
        raise UndeliverableAddress(f"no email address on record ({spec[:80]!r} is a placeholder)")
    return address


def parse_mail_address(value: str | Address) -> Address:
    """``value`` (an ``Address``, ``local@domain`` or ``Name <local@domain>``) as exactly one ``Address``.

    Raises:
        UndeliverableAddress: not exactly one usable address.
    """
    if isinstance(value, Address):
        return mail_address(value.display_name, value.addr_spec)
    if _HEADER_UNSAFE.search(value or ""):
        raise UndeliverableAddress(f"control characters in the address {value[:80]!r}")
    try:
        addresses = default_policy.header_factory("To", value).addresses
    except (ValueError, IndexError, TypeError) as exc:
        raise UndeliverableAddress(f"not a usable email address: {value[:80]!r} ({exc})") from exc
    if len(addresses) != 1:
        raise UndeliverableAddress(f"expected one address, got {len(addresses)}: {value[:80]!r}")
    return mail_address(addresses[0].display_name, addresses[0].addr_spec)


def smtp_send(smtp_url: str, message: EmailMessage, timeout: float = 30.0) -> None:
    """Send ``message`` through the server at ``smtp_url``: over the open session of a
    :func:`app.delivery.smtp_session.reusing` block to that server, else on a connection of its own.

    Raises:
        smtplib.SMTPException, OSError: the server refused or could not be reached.
    """
    session = active_session()
    if session is not None and session.smtp_url == smtp_url:
        session.send(message)
        return
    with SmtpSession(smtp_url, timeout) as own:
        own.send(message)


def build_message(*, sender: str | Address, to: str | Address, subject: str, text: str, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] | None = None,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """A MIME message with a plain-text body, an optional HTML alternative and attachments
    given as ``(filename, mime type 'main/sub', content)``; the mime type may carry
    parameters, e.g. ``'text/calendar; method=REQUEST'``.

    ``sender`` and ``to`` are each exactly one address (see :func:`parse_mail_address`);
    line breaks and control characters in ``subject`` become spaces.

    Raises:
        UndeliverableAddress: ``sender`` or ``to`` is not exactly one usable address.
    """
    msg = EmailMessage()
    msg["From"] = parse_mail_address(sender)
    msg["To"] = parse_mail_address(to)
    msg["Subject"] = " ".join(_HEADER_UNSAFE.sub(" ", subject).split())
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


def sender(display_name: str) -> Address:
    """The From header: ``"Bella Hair Studio" <MAIL_FROM>`` (display name encoded when needed).

    Raises:
        UndeliverableAddress: ``MAIL_FROM`` cannot go in a header.
    """
    return mail_address(display_name, current_app.config["MAIL_FROM"])


def local(dt: datetime, tz_name: str, fmt: str = DATE_TIME) -> str:
    """``dt`` (tz-aware) as wall-clock text in the IANA zone ``tz_name``, in the reader's locale
    (:func:`app.formatting.format_local`: ``fmt`` names the fields, the locale orders and spells
    them: ``Tuesday 24 November 2026, 14:30`` in ``en_GB``, ``tirsdag 24. november 2026 14.30``
    in ``da``). A format with ``%z``/``%Z`` (a UTC offset) is strftime's, as written."""
    if "%z" in fmt or "%Z" in fmt:
        return dt.astimezone(zone(tz_name)).strftime(fmt)
    return format_local(dt, tz_name, fmt)


def finish_message(msg: EmailMessage, kind: str, now: datetime | None) -> EmailMessage:
    """Add Date (``now``, default the current instant), Message-ID (on ``PLATFORM_DOMAIN``) and
    the automatic-mail headers (RFC 3834 ``Auto-Submitted``; ``X-Plaza-Kind: kind``); returns ``msg``."""
    msg["Date"] = format_datetime(now or datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain=current_app.config["PLATFORM_DOMAIN"] or "plaza.local")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Plaza-Kind"] = kind
    return msg


def account_email(to: str, subject: str, text: str, html: str | None = None,
                  now: datetime | None = None) -> EmailMessage:
    """A platform (non-tenant) email such as a password reset or a billing notice, sent as
    ``"Plaza" <MAIL_FROM>`` with the automatic-mail headers.

    Raises:
        UndeliverableAddress: ``to`` or ``MAIL_FROM`` cannot go in a header.
    """
    return finish_message(build_message(sender=sender("Plaza"), to=to, subject=subject, text=text, html=html),
                          "account", now)
