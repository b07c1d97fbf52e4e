"""Sending email over one reused SMTP connection, and the claim that fences it: a worker whose
claim was taken over cannot send, and a refused message is not recorded as sent."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.delivery.mailer import build_message
from app.delivery.models import Delivery
from app.delivery.pipeline import LeaseLost, Outcome, deliver, queue_and_claim, sent_on_commit
from app.delivery.smtp_session import SmtpSession, reusing
from app.extensions import db
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business
from tests.support.conftest_mail import subject_of

pytestmark = pytest.mark.integration


def _message(subject: str, to: str = "ann@example.com"):
    return build_message(sender="Bella <mail@plaza.test>", to=to, subject=subject, text=f"{subject}\n.leading dot\n")


def _status(key: str) -> tuple[str, int]:
    db.session.expire_all()
    row = db.session.execute(sa.select(Delivery.status, Delivery.attempts).where(Delivery.dedup_key == key)).one()
    return row.status, row.attempts


def test_a_batch_sends_every_message_over_one_connection(ctx, mailbox):
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id), reusing(mailbox.url) as session:
        results = [deliver(f"test:one-connection:{i}", _message(f"Hello {i}", f"guest{i}@example.com"))
                   for i in range(5)]
        assert deliver("test:one-connection:0", _message("Hello 0", "guest0@example.com")) == Outcome.ALREADY_SENT
        assert [_status(f"test:one-connection:{i}") for i in range(5)] == [("sent", 1)] * 5
    assert results == [Outcome.SENT] * 5
    assert session.connections == 1
    assert sorted(subject_of(m) for m in mailbox.messages) == [f"Hello {i}" for i in range(5)]
    assert mailbox.messages[0].get_content().splitlines()[1] == ".leading dot"  # dot-stuffed on the wire, intact


def test_a_worker_whose_claim_was_taken_over_does_not_send(ctx, mailbox):
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):
        mine = utcnow() - timedelta(minutes=10)
        delivery_id, status, claimed = queue_and_claim("test:fenced", "ann@example.com", "Fenced", mine)
        assert (status, claimed) == ("sending", True)
        # Meanwhile the lease ran out and another worker claimed it: it sends, this one must not.
        theirs = utcnow()
        assert queue_and_claim("test:fenced", "ann@example.com", "Fenced", theirs) == (delivery_id, "sending", True)
        with SmtpSession(mailbox.url) as session:
            with pytest.raises(LeaseLost):
                session.send(_message("Sent twice?"), lambda: sent_on_commit(delivery_id, mine, None, None))
            session.send(_message("Sent once"), lambda: sent_on_commit(delivery_id, theirs, None, None))
        assert _status("test:fenced") == ("sent", 2)
    assert [subject_of(m) for m in mailbox.messages] == ["Sent once"]


def test_a_message_the_server_refuses_is_not_recorded_as_sent(ctx, mailbox):
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):
        now = utcnow()
        delivery_id, _, _ = queue_and_claim("test:refused", "ann@example.com", "Refused", now)
        mailbox.hold_subject = "Refused"
        with SmtpSession(mailbox.url) as session:
            release = _release_soon(mailbox)
            with pytest.raises(smtplib.SMTPDataError, match="451"):
                session.send(_message("Refused"), lambda: sent_on_commit(delivery_id, now, None, None))
            release.join()
            session.send(_message("Next one"))  # the session goes on after a refusal
        assert _status("test:refused") == ("sending", 1)  # left for the retry, never "sent"
    assert [subject_of(m) for m in mailbox.messages] == ["Next one"]


def _release_soon(mailbox) -> threading.Thread:
    """Let the held message go (refused with a 451) once the server holds it."""

    def release() -> None:
        mailbox.holding.wait(10)
        mailbox.hold_subject = None

    thread = threading.Thread(target=release)
    thread.start()
    return thread
