"""One SMTP connection reused for many messages, and the commit point of a send.

A batch job (thousands of reminders) opens one :class:`SmtpSession` and sends every message
over it: no TCP/EHLO/AUTH per message. A connection the server dropped while idle is opened
again once before a message's first command; a failure after the message's data went out is
never retried here (the server may have accepted it).

**The commit point.** :meth:`SmtpSession.send` runs MAIL, RCPT and DATA and writes the body;
then, *before* writing the final ``.`` that asks the server to take the message, it enters
``commit_point`` (a context manager from the caller: it writes the delivery's ``sent`` row and
holds it uncommitted, the row locked), writes the ``.``, reads the server's answer inside it,
and leaves it (``COMMIT``) at once when the answer is ``250``; any other answer or error rolls
the row back. So after the server accepted a message the only work left before it is
recorded is one ``COMMIT`` round trip: a worker killed in that window (or between the server
taking the message and answering) leaves the row ``sending`` and the message is sent again once
its lease is taken over; killed at any other moment, nothing is sent twice.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import smtplib
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from urllib.parse import parse_qs, unquote, urlsplit

CRLF = b"\r\n"
_LINE_ENDS = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"(?m)^\.")

CommitPoint = Callable[[], AbstractContextManager[object]]


def connect(smtp_url: str, timeout: float = 30.0) -> smtplib.SMTP:
    """An open, greeted (and, per ``smtp_url``, STARTTLS'd and logged-in) connection to the
    server at ``smtp_url`` (``smtp://user:pass@host:port``, ``?starttls=1``, ``smtps://``).

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
    try:
        no_delay(server)
        server.ehlo_or_helo_if_needed()
        if query.get("starttls", ["0"])[0] in {"1", "true", "yes"}:
            server.starttls()
            server.ehlo()
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        server.close()
        raise
    return server


def no_delay(server: smtplib.SMTP) -> None:
    """Turn off Nagle's algorithm on ``server``'s socket (``TCP_NODELAY``, RFC 896; the option
    stays on the descriptor through STARTTLS). :meth:`SmtpSession.send` writes the body and then,
    at its commit point, the 3-byte final ``.``: with Nagle on, that small write waits for the
    ACK of the body, which the server delays (up to 40 ms on Linux, RFC 1122 delayed ACK) because
    it has nothing to say yet — about 40 ms lost per message, a cap of some 25 messages per
    second per connection. Sockets that are not TCP (tests' fakes) are left alone."""
    sock = getattr(server, "sock", None)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def wire_bytes(message: Message) -> bytes:
    """``message`` as SMTP DATA: CRLF line ends, leading dots doubled, ending in CRLF (no final ``.``)."""
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    data = _LEADING_DOT.sub(b"..", _LINE_ENDS.sub(CRLF, raw))
    return data if data.endswith(CRLF) else data + CRLF


def header_text(message: Message, name: str) -> str:
    """Header ``name`` of ``message`` as readable text (``""`` when absent), RFC 2047 encoded
    words decoded: ``Alice Ørsted <alice@example.com>``, not ``=?utf-8?b?…?= <…>``. For
    messages built by :func:`app.delivery.mailer.build_message` and ``EmailMessage`` alike."""
    value = message[name]
    if value is None:
        return ""
    if type(value) is not str:  # a Header, an Unfolded value, or EmailMessage's parsed header: text already
        return str(value)
    return str(make_header(decode_header(value))) if "=?" in value else value  # as written, e.g. an address


def addresses_of(message: Message, field: str) -> list[str]:
    """The ``addr-spec`` of every address in header ``field`` of ``message`` (``[]`` when absent).

    Read from the header as written, never from decoded text: an RFC 2047 encoded display name
    stays one atom there, whereas decoded it could read as ``Bob <x@evil.example>, …`` and add a
    recipient. ``EmailMessage`` headers give their parsed addresses."""
    value = message[field]
    if value is None:
        return []
    parsed = getattr(value, "addresses", None)
    if parsed is not None:
        return [a.addr_spec for a in parsed]
    return [addr for _, addr in getaddresses([str(value)]) if addr]


def envelope(message: Message) -> tuple[str, list[str]]:
    """``(from, [recipients])`` of ``message``: the From address and every To/Cc address."""
    senders = addresses_of(message, "From")
    return (senders[0] if senders else ""), [*addresses_of(message, "To"), *addresses_of(message, "Cc")]


class SmtpSession:
    """A lazily opened SMTP connection to ``smtp_url`` reused by every :meth:`send`; close it
    with :meth:`close` (or use it as a context manager). Not thread-safe: one per job."""

    def __init__(self, smtp_url: str, timeout: float = 30.0) -> None:
        self.smtp_url = smtp_url
        self.timeout = timeout
        self.server: smtplib.SMTP | None = None
        #: Connections opened so far (1 for a healthy batch).
        self.connections = 0

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """QUIT and close the connection, if open (errors ignored: it is going away)."""
        server, self.server = self.server, None
        if server is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                server.quit()
            server.close()

    def _open(self) -> smtplib.SMTP:
        if self.server is None:
            self.server = connect(self.smtp_url, self.timeout)
            self.connections += 1
        return self.server

    def _begin(self, sender: str, recipients: list[str], international: bool) -> smtplib.SMTP:
        """MAIL FROM and RCPT TO on the connection, reopening it once if the server dropped it."""
        for attempt in (1, 2):
            server = self._open()
            options = ["SMTPUTF8", "BODY=8BITMIME"] if international and server.has_extn("smtputf8") else []
            try:
                code, reply = server.mail(sender, options)
            except (smtplib.SMTPServerDisconnected, OSError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if code != 250:
                self._reset()
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused = {}
            for rcpt in recipients:
                code, reply = server.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, reply)
            if refused:
                self._reset()
                raise smtplib.SMTPRecipientsRefused(refused)
            return server
        raise smtplib.SMTPServerDisconnected("unreachable")  # pragma: no cover - the loop returns or raises

    def _reset(self) -> None:
        if self.server is not None:
            try:
                self.server.rset()
            except (smtplib.SMTPException, OSError):
                self.close()

    def send(self, message: Message, commit_point: CommitPoint | None = None) -> None:
        """Send ``message`` on the session's connection; ``commit_point`` (see the module) is
        entered just before the final ``.`` is written and left once the server accepted it.

        Raises:
            smtplib.SMTPException, OSError: the server refused the message or the connection
                failed; a failure after the data went out closes the connection (the next send
                opens a new one). Whatever ``commit_point`` raises (the message is then not sent).
        """
        sender, recipients = envelope(message)
        international = not all(a.isascii() for a in [sender, *recipients])
        server = self._begin(sender, recipients, international)
        try:
            code, reply = server.docmd("data")
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            server.send(wire_bytes(message))
            with commit_point() if commit_point is not None else contextlib.nullcontext():
                server.send(b"." + CRLF)
                code, reply = server.getreply()
                if code != 250:
                    raise smtplib.SMTPDataError(code, reply)  # rolls the commit point back
        except smtplib.SMTPDataError:
            self._reset()
            raise
        except BaseException:
            self.close()  # mid-transaction: the connection's state is unknown
            raise


_ACTIVE: contextvars.ContextVar[SmtpSession | None] = contextvars.ContextVar("plaza_smtp_session", default=None)


def active_session() -> SmtpSession | None:
    """The session opened by the innermost :func:`reusing` block of this thread, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def reusing(smtp_url: str) -> Iterator[SmtpSession]:
    """Within the block, every email the delivery pipeline sends (:func:`app.delivery.pipeline.deliver`)
    goes over one :class:`SmtpSession` to ``smtp_url``, closed when the block ends."""
    session = SmtpSession(smtp_url)
    token = _ACTIVE.set(session)
    try:
        yield session
    finally:
        _ACTIVE.reset(token)
        session.close()
