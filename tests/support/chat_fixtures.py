"""Shared set-up for the chat tests: a business, a customer with an account and a booking,
and a staff member (the owner); real web processes, server-side session cookies, recording
python-socketio clients and a fail-over TCP proxy standing in for a load balancer."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.factories import Business, make_business, make_user
from tests.support.servers import free_port, start_gunicorn  # noqa: F401 - free_port: re-exported for the chat tests


@dataclass
class ChatWorld:
    """Ids of a business ``biz`` whose customer ``customer_email`` (an account) has ``booking_id``."""

    biz: Business
    customer_email: str
    customer_user_id: uuid.UUID
    customer_id: uuid.UUID
    booking_id: uuid.UUID
    owner_user_id: uuid.UUID


def make_booking(tenant_id: uuid.UUID, email: str, user_id: uuid.UUID | None = None, *, days: int = 3,
                 hour: int = 10, name: str = "Cara Customer") -> tuple[uuid.UUID, uuid.UUID]:
    """A committed booking for ``email``; returns ``(booking_id, customer_id)``."""
    from app.booking.service import CustomerInput, create_booking
    from app.catalog.models import Service
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant
    from app.timeutil import utcnow

    tenant = db.session.get(Tenant, tenant_id)
    tz = ZoneInfo(tenant.timezone)
    local = datetime.combine((utcnow() + timedelta(days=days)).astimezone(tz).date(), time(hour), tz)
    with tenant_scope(tenant_id):
        service_id = db.session.scalar(sa.select(Service.id))
        booking = create_booking(tenant, service_id=service_id, staff_id=None, start=local,
                                 customer=CustomerInput(name, email), customer_timezone="UTC", user_id=user_id)
        db.session.commit()
        return booking.id, booking.customer_id


def build_world(slug: str = "bella", email: str = "cara@example.test") -> ChatWorld:
    """Create the business, the customer account and a booking (inside an app context)."""
    from app.identity.service import find_user

    biz = make_business(slug)
    user_id = make_user(email, name="Cara Customer")
    booking_id, customer_id = make_booking(biz.tenant_id, email, user_id)
    owner = find_user(biz.owner_email)
    return ChatWorld(biz, email, user_id, customer_id, booking_id, owner.id)


@pytest.fixture
def world(app) -> ChatWorld:
    """A :class:`ChatWorld` for ``bella``."""
    with app.app_context():
        try:
            return build_world()
        finally:
            db.session.remove()


# --------------------------------------------------------------------------- real servers and clients

ROOT = Path(__file__).resolve().parent.parent.parent


class WebProcess:
    """One Plaza web process: gunicorn, ONE worker (Socket.IO needs every request of a
    session on the same process) — ``gthread`` (Flask-SocketIO threading mode) or ``gevent``
    (gevent mode) — sharing PostgreSQL and Redis."""

    def __init__(self, services: dict[str, str], port: int | None = None, worker: str = "gthread",
                 public_port: int | None = None) -> None:
        server = start_gunicorn(services, port=port, worker=worker, threads=100, public_port=public_port)
        self.port, self.proc = server.port, server.proc

    def url(self, host: str = "localhost") -> str:
        """Base URL on ``host`` (``localhost`` is the apex; ``bella.localhost`` a business)."""
        return f"http://{host}:{self.port}"

    def kill(self) -> None:
        """SIGKILL the whole process group (no graceful goodbye to the clients)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self) -> None:
        """Terminate gracefully (kill after 10 s)."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture(scope="module")
def web_pair(services) -> Iterator[tuple[WebProcess, WebProcess]]:
    """Two web processes sharing PostgreSQL and Redis."""
    a = WebProcess(services)
    try:
        b = WebProcess(services)
    except Exception:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def session_cookie(app, email: str) -> str:
    """The ``session`` cookie value of a fresh server-side login session of ``email`` (made
    as the login view makes one: stored in Redis and in the account's session index)."""
    from flask import session
    from flask_login import login_user

    from app.identity.service import find_user

    with app.test_request_context("/", base_url="http://localhost"):
        login_user(find_user(email))
        app.session_interface.save_session(app, session, app.response_class())
        sid = session.sid
        db.session.remove()
    return sid


class LocalhostResolver:
    """aiohttp resolver sending every ``*.localhost`` name to 127.0.0.1 (like browsers do)."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        """127.0.0.1 for ``localhost`` and its subdomains."""
        if host == "localhost" or host.endswith(".localhost"):
            return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET, "proto": 0,
                     "flags": socket.AI_NUMERICHOST}]
        raise OSError(f"no such host {host}")

    async def close(self) -> None:
        """Nothing to release."""


class ChatClient:
    """A ``python-socketio`` AsyncClient that records every server event.

    ``events[name]`` lists payloads in arrival order; :meth:`wait_for` waits (bounded) until
    a predicate over them holds.
    """

    def __init__(self, cookie: str | None = None, *, origin: str | None = None, reconnection: bool = False,
                 on_connect: Callable[[ChatClient], Any] | None = None) -> None:
        import aiohttp
        import socketio

        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=LocalhostResolver(),
                                                                         force_close=True))
        self.sio = socketio.AsyncClient(reconnection=reconnection, reconnection_delay=0.2,
                                        reconnection_delay_max=0.5, http_session=self.http)
        self.headers: dict[str, str] = {}
        if cookie:
            self.headers["Cookie"] = f"session={cookie}"
        if origin:
            self.headers["Origin"] = origin
        self.events: dict[str, list[Any]] = defaultdict(list)
        self.connects = 0
        self.disconnects = 0
        self._on_connect = on_connect

        @self.sio.on("*")
        async def _any(event: str, data: Any = None) -> None:
            self.events[event].append(data)

        @self.sio.event
        async def connect() -> None:
            self.connects += 1
            if self._on_connect is not None:
                asyncio.get_running_loop().create_task(self._on_connect(self))

        @self.sio.event
        async def disconnect(*_: Any) -> None:
            self.disconnects += 1

    async def connect(self, url: str, transports: list[str] | None = None) -> None:
        """Connect (raises ``socketio.exceptions.ConnectionError`` when refused)."""
        await self.sio.connect(url, headers=self.headers, transports=transports or ["websocket"], wait_timeout=5)

    async def call(self, event: str, data: dict[str, Any]) -> Any:
        """Emit and wait for the acknowledgement."""
        return await self.sio.call(event, data, timeout=10)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy; raise ``TimeoutError`` after ``timeout`` s."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("condition not met")
            await asyncio.sleep(0.02)

    def bodies(self) -> list[str]:
        """Bodies of the ``chat:message`` events received, in order."""
        return [m["body"] for m in self.events["chat:message"]]

    async def close(self) -> None:
        """Disconnect and release the HTTP session."""
        try:
            await self.sio.disconnect()
        finally:
            await self.http.close()


def conversation_id(app, world: ChatWorld) -> str:
    """The booking's conversation id (created on demand, committed)."""
    from app.chat.service import conversation_for_booking
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope(world.biz.tenant_id):
        try:
            conv = conversation_for_booking(world.booking_id)
            db.session.commit()
            return str(conv.id)
        finally:
            db.session.remove()


class FailoverProxy:
    """A TCP proxy on 127.0.0.1 that sends each new connection to the first backend port that
    accepts it — a load balancer in front of the web processes."""

    def __init__(self, backends: list[int], port: int = 0) -> None:
        self.backends = backends
        self.port = port
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen on ``port`` (a free one when 0)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for port in self.backends:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()


@pytest.fixture
def chat_server(services):
    """One web process (one gthread worker, so polling and WebSocket share it)."""
    server = WebProcess(services)
    yield server
    server.stop()


def logged_in_page(new_page, app, email: str, url: str):
    """A browser page carrying ``email``'s session for ``url``; ``page.problems`` collects console
    errors and uncaught page errors."""
    page = new_page()
    page.context.add_cookies([{"name": "session", "value": session_cookie(app, email), "url": url}])
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    return page
