"""Shared pieces of the notification tests: a business with a customer account, booking,
delivering everything, and a local HTTP server that records what it receives."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.booking.service import CustomerInput, create_booking
from app.delivery.models import Delivery
from app.extensions import db
from app.notifications.center_models import Notification
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.support.conftest_mail import run_jobs

CPH = ZoneInfo("Europe/Copenhagen")
ALICE_EMAIL = "alice@example.com"


def day_at(days_ahead: int, hour: int) -> datetime:
    """``hour``:00 Copenhagen time ``days_ahead`` days from today, as UTC."""
    day = (utcnow().astimezone(CPH) + timedelta(days=days_ahead)).date()
    return datetime.combine(day, time(hour), tzinfo=CPH).astimezone(UTC)


def bella(**rules):
    """Bella Hair Studio with an owner account (owner@bella.test) and two staff."""
    biz = make_business("bella", **rules)
    with tenant_scope(biz.tenant_id):  # the business renames itself (its own row of tenant)
        db.session.get(Tenant, biz.tenant_id).name = "Bella Hair Studio"
        db.session.commit()
    return biz


def alice(**flags) -> uuid.UUID:
    """Alice's verified customer account."""
    return make_user(ALICE_EMAIL, name="Alice Andersen", **flags)


def book(biz, start: datetime, user_id: uuid.UUID | None = None, email: str = ALICE_EMAIL) -> uuid.UUID:
    """A committed booking for the first service and staff member."""
    with tenant_scope(biz.tenant_id):
        booking = create_booking(db.session.get(Tenant, biz.tenant_id), service_id=biz.service_ids[0],
                                 staff_id=biz.staff_ids[0], start=start,
                                 customer=CustomerInput("Alice Andersen", email, None),
                                 customer_timezone="Europe/Copenhagen", user_id=user_id)
        booking_id = booking.id  # read before the commit: no tenant-role transaction left open
        db.session.commit()
    return booking_id


def deliver_all(app) -> None:
    """Relay the outbox and run every job it causes (twice: fan-out jobs enqueue deliveries)."""
    relay_outbox()
    for _ in range(3):
        assert run_jobs(app) == []


def fresh_read() -> None:
    """Expire what the test's session holds; a transaction left on the tenant role after its
    ``tenant_scope`` ended is ended, so the read runs on the platform role and sees every business."""
    from app.tenants.context import current_tenant_id
    from app.tenants.roles import TENANT, transaction_role

    if current_tenant_id() is None and transaction_role(db.session()) == TENANT:
        db.session.rollback()
    db.session.expire_all()


def notifications_of(user_id: uuid.UUID) -> list[Notification]:
    """The person's notifications, oldest first."""
    fresh_read()
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.created_at)))


def deliveries_of(user_id: uuid.UUID, channel: str | None = None, type_key: str | None = None) -> list[Delivery]:
    """The person's deliveries (of ``channel``, of notifications of ``type_key``), oldest first."""
    fresh_read()
    q = sa.select(Delivery).where(Delivery.user_id == user_id)
    if channel:
        q = q.where(Delivery.channel == channel)
    if type_key:
        q = q.join(Notification, Notification.id == Delivery.notification_id).where(Notification.type == type_key)
    return list(db.session.scalars(q.order_by(Delivery.created_at)))


@dataclass
class Recorded:
    """One HTTP request the local server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalHttp:
    """A local HTTP server; ``respond(req) -> (status, json body)`` decides each answer."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    respond: Callable[[Recorded], tuple[int, dict]] = lambda req: (201, {})


@contextmanager
def local_http() -> Iterator[LocalHttp]:
    """Run a :class:`LocalHttp` on 127.0.0.1 for the block."""
    state = LocalHttp()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server hook name
            length = int(self.headers.get("Content-Length") or 0)
            req = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            state.requests.append(req)
            status, body = state.respond(req)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
