"""A real SMTP server for the notification tests (``aiosmtpd``), collecting what it receives,
and helpers to read booking emails and run queued jobs in-process."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from app.devservices import free_port


class Mailbox:
    """Every message the server accepted, parsed; ``url`` is the ``SMTP_URL`` to send to it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.url = ""
        self._cond = threading.Condition()
        #: While set, a message whose subject starts with it is held in DATA (the sender waits
        #: for the answer), then refused with a 451 and not kept: a test kills the sender meanwhile.
        self.hold_subject: str | None = None
        #: Set once a message has been held.
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        msg = message_from_bytes(envelope.content, policy=policy.default)
        if self.hold_subject is not None and subject_of(msg).startswith(self.hold_subject):
            self.holding.set()
            while self.hold_subject is not None:
                await asyncio.sleep(0.05)
            return "451 Held by the test, not delivered"
        with self._cond:
            self.messages.append(msg)  # type: ignore[arg-type]
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str, subject_prefix: str = "") -> list[EmailMessage]:
        """Messages addressed to ``address`` whose subject starts with ``subject_prefix``."""
        with self._cond:
            return [m for m in self.messages
                    if any(a.addr_spec == address for a in m["To"].addresses)
                    and subject_of(m).startswith(subject_prefix)]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
        """Block until ``predicate()`` holds (re-checked on each new message and every 0.2 s)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))
        return True


@contextmanager
def running_mailbox() -> Iterator[Mailbox]:
    """Start an SMTP server on 127.0.0.1 for the block."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.url = f"smtp://127.0.0.1:{port}"
    try:
        yield box
    finally:
        controller.stop()


def subject_of(msg: EmailMessage) -> str:
    """The Subject, unfolded (a long subject may be folded onto the header's next line)."""
    return str(msg["Subject"]).strip()


def text_of(msg: EmailMessage) -> str:
    """The plain-text body."""
    part = msg.get_body(("plain",))
    assert part is not None, "no text/plain part"
    return part.get_content()


def html_of(msg: EmailMessage) -> str:
    """The HTML body."""
    part = msg.get_body(("html",))
    assert part is not None, "no text/html part"
    return part.get_content()


def calendar_of(msg: EmailMessage) -> Calendar:
    """The attached ``.ics``, parsed."""
    for part in msg.iter_attachments():
        if part.get_content_type() == "text/calendar":
            content = part.get_content()
            return Calendar.from_ical(content if isinstance(content, bytes) else content.encode())
    raise AssertionError("no text/calendar attachment")


def run_jobs(app) -> list[str]:
    """Run every queued job in this process (rq ``SimpleWorker`` in burst mode); returns the
    error strings of jobs that raised."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from app.jobs.runner import QUEUE_NAME

    conn = Redis.from_url(app.config["REDIS_URL"])
    errors: list[str] = []

    def record(job, exc_type, exc_value, tb) -> bool:
        errors.append(f"{job.func_name}: {exc_type.__name__}: {exc_value}")
        return True

    worker = SimpleWorker([Queue(QUEUE_NAME, connection=conn)], connection=conn, exception_handlers=[record])
    worker.work(burst=True, logging_level="WARNING")
    return errors


@pytest.fixture
def mailbox(app):
    """A real SMTP server; the app sends to it for the test."""
    with running_mailbox() as box:
        old = app.config["SMTP_URL"]
        app.config["SMTP_URL"] = box.url
        try:
            yield box
        finally:
            app.config["SMTP_URL"] = old
