"""Building and sending email: safe headers, the From of every Plaza mail, the automatic-mail
headers, and low-level SMTP from ``SMTP_URL`` (``smtp://user:pass@host:port``, ``?starttls=1``, ``smtps://``)."""

from __future__ import annotations

import re
from datetime import datetime
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid

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


def smtp_send(smtp_url: str, message: Message, timeout: float = 30.0) -> None:
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


#: Text bodies with a line too long for SMTP go out quoted-printable in UTF-8 (RFC 2045 §6.7).
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
#: Other non-ASCII text bodies go out as 8-bit UTF-8, as ``EmailMessage.set_content`` sends them.
_UTF8_8BIT = Charset("utf-8")
_UTF8_8BIT.body_encoding = None
#: RFC 5322 §2.1.1: no line may be longer than 998 bytes (a UTF-8 character takes up to 4).
_MAX_LINE = 998


class Unfolded:
    """An ASCII header value the generator writes as it is, on one line. The legacy folding
    (:class:`email.header.Header`) would move a long value with no space in it, such as a
    ``List-Unsubscribe`` URL, to a continuation line of its own; RFC 5322 §2.1.1 allows lines
    up to 998 characters. It is "Header-like" as :class:`email.policy.Compat32` expects: it
    has ``encode(linesep, maxlinelen)``; ``str()`` gives the text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def encode(self, linesep: str = "\n", maxlinelen: int | None = None) -> str:
        """The value as written in the header: the text, unchanged."""
        return self.text

    def __str__(self) -> str:
        return self.text


def header_value(value: str) -> Unfolded | Header:
    """``value`` ready for a header of a message built here: as it is when it is ASCII and fits
    a line (:class:`Unfolded`), else a :class:`email.header.Header` that folds it and writes it
    as RFC 2047 encoded words in UTF-8 where it is not ASCII.

    Raises:
        ValueError: ``value`` holds a line break or another control character (a header
            injection, RFC 5322 §2.2).
    """
    if _HEADER_UNSAFE.search(value):
        raise ValueError(f"control characters in a header value: {value[:80]!r}")
    if value.isascii():
        return Unfolded(value) if len(value) <= _MAX_LINE - 100 else Header(value)
    return Header(value, "utf-8")


def address_header(address: Address) -> str:
    """One already validated address (:func:`mail_address`) as header text: the display name
    quoted (``"Bella, Hair" <…>``) or RFC 2047-encoded, so no name can add a recipient; an
    internationalised domain in its ASCII form (IDNA, RFC 5891: ``bø.dk`` -> ``xn--b-5ga.dk``).

    Raises:
        UndeliverableAddress: the domain has no ASCII form.
    """
    domain = address.domain
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UndeliverableAddress(f"not a usable email domain: {domain[:80]!r}") from exc
    return formataddr((address.display_name, f"{address.username}@{domain}"), charset="utf-8")


def text_part(text: str, subtype: str) -> MIMENonMultipart:
    """A ``text/<subtype>`` part: 7-bit US-ASCII when ``text`` is ASCII, else 8-bit UTF-8 (as
    ``EmailMessage.set_content`` sends it); quoted-printable UTF-8 when a line is longer than
    SMTP allows (998 bytes, RFC 5321 §4.5.3.1.6), which wraps it."""
    part = MIMENonMultipart("text", subtype)
    if any(len(line) > _MAX_LINE // 4 and len(line.encode()) > _MAX_LINE for line in text.splitlines()):
        part.set_payload(text, _UTF8_QP)
    else:
        part.set_payload(text, "us-ascii" if text.isascii() else _UTF8_8BIT)
    return part


def attachment_part(filename: str, mime: str, content: bytes) -> MIMEBase:
    """An attachment given as ``mime`` (``'main/sub'``, optionally with parameters such as
    ``'text/calendar; method=REQUEST'``), base64-encoded, with ``filename`` (RFC 2183)."""
    kind, *raw_params = (part.strip() for part in mime.split(";"))
    maintype, subtype = kind.split("/", 1)
    params = dict(p.split("=", 1) for p in raw_params if "=" in p)
    part = MIMEBase(maintype, subtype, **params)
    part.set_payload(content)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def build_message(*, sender: str | Address, to: str | Address, subject: str, text: str, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] | None = None,
                  headers: dict[str, str] | None = None) -> Message:
    """A MIME message with a plain-text body, an optional HTML alternative and attachments
    given as ``(filename, mime type 'main/sub', content)``; the mime type may carry
    parameters, e.g. ``'text/calendar; method=REQUEST'``.

    ``sender`` and ``to`` are each exactly one address (see :func:`parse_mail_address`);
    line breaks and control characters in ``subject`` become spaces.

    Built with the standard library's ``email.mime`` classes (about 1.0 ms a message against
    2.5 ms for ``EmailMessage``, whose policy parses and refolds every header); every header value goes through
    :func:`header_value` or :func:`address_header`). Read a header as text with
    :func:`app.delivery.smtp_session.header_text`.

    Raises:
        UndeliverableAddress: ``sender`` or ``to`` is not exactly one usable address.
        ValueError: a value of ``headers`` holds a control character.
    """
    from_address, to_address = parse_mail_address(sender), parse_mail_address(to)
    body: Message = text_part(text, "plain")
    if html:
        body = MIMEMultipart("alternative", _subparts=[body, text_part(html, "html")])
    if attachments:
        body = MIMEMultipart("mixed", _subparts=[body, *(attachment_part(*a) for a in attachments)])
    body["From"] = address_header(from_address)
    body["To"] = address_header(to_address)
    body["Subject"] = header_value(" ".join(_HEADER_UNSAFE.sub(" ", subject).split()))
    for key, value in (headers or {}).items():
        body[key] = header_value(value)
    return body


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


def finish_message(msg: Message, kind: str, now: datetime | None) -> Message:
    """Add Date (``now``, default the current instant), Message-ID (on ``PLATFORM_DOMAIN``) and
    the automatic-mail headers (RFC 3834 ``Auto-Submitted``; ``X-Plaza-Kind: kind``); returns ``msg``."""
    msg["Date"] = format_datetime(now or datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain=current_app.config["PLATFORM_DOMAIN"] or "plaza.local")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Plaza-Kind"] = kind
    return msg


def account_email(to: str, subject: str, text: str, html: str | None = None,
                  now: datetime | None = None) -> Message:
    """A platform (non-tenant) email such as a password reset or a billing notice, sent as
    ``"Plaza" <MAIL_FROM>`` with the automatic-mail headers.

    Raises:
        UndeliverableAddress: ``to`` or ``MAIL_FROM`` cannot go in a header.
    """
    return finish_message(build_message(sender=sender("Plaza"), to=to, subject=subject, text=text, html=html),
                          "account", now)
