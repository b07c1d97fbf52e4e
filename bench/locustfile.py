"""The multi-node load scenario (Locust): customers browsing, reading availability, booking
and chatting against two Plaza web processes. Run by :mod:`bench.multinode`, never alone:

    locust -f bench/locustfile.py --headless ...   (with MULTINODE_WORLD=<world.json>)

``MULTINODE_WORLD`` names the JSON written by :func:`bench.multinode.seed`: ``ports`` (the two
web processes), ``businesses`` (``slug``, ``timezone``, ``service_ids``), ``queries`` (apex
search words), ``run`` (a tag in every booking email) and ``chat`` (per pair: ``tenant_id``,
``slug``, ``conversation_id`` and the ``customer`` and ``staff`` session cookies). Each user
talks to one process, alternating A and B as users start; a chat user's customer sends on A
and its staff member receives on B (Redis carries the message between them).

Outcomes the harness checks after the run go to ``MULTINODE_OUT`` (JSON): the booking ids
answered 201, how many bookings met a 409 conflict (expected: users race for the same
slots, and now and then a second customer asks for the slot just booked, which must be
refused), how many of those late second requests were booked anyway (must be none), and how
many chat messages were sent and received.

Everything is on loopback: ``*.localhost`` names resolve to 127.0.0.1 here.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
import socketio
from gevent.event import Event
from locust import HttpUser, User, between, events, task

WORLD: dict[str, Any] = json.loads(open(os.environ["MULTINODE_WORLD"]).read()) if os.environ.get(
    "MULTINODE_WORLD") else {"ports": [0], "businesses": [], "queries": [], "run": "none", "chat": []}
OUTCOME: dict[str, Any] = {"booked": [], "conflicts": 0, "late_booked": 0, "chat_sent": 0, "chat_received": 0}
_next_user = itertools.count()
_next_pair = itertools.count()
_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """``socket.getaddrinfo`` resolving ``localhost`` and every ``*.localhost`` to 127.0.0.1."""
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_getaddrinfo


def _port() -> int:
    """The web process of the next user: A, B, A, B, …"""
    ports = WORLD["ports"]
    return ports[next(_next_user) % len(ports)]


@events.test_stop.add_listener
def _write_outcome(**_: Any) -> None:
    path = os.environ.get("MULTINODE_OUT")
    if path:
        with open(path, "w") as fh:
            json.dump(OUTCOME, fh)


class Customer(HttpUser):
    """Shared by the HTTP users: a web process, a business, and helpers for its hosts."""

    abstract = True
    host = "http://localhost"

    def on_start(self) -> None:
        """Pick this user's web process and business."""
        self.port = _port()
        self.business = random.choice(WORLD["businesses"])

    def biz_url(self, path: str) -> str:
        """``path`` on the business's own host, at this user's process."""
        return f"http://{self.business['slug']}.localhost:{self.port}{path}"

    def apex_url(self, path: str) -> str:
        """``path`` on the platform apex, at this user's process."""
        return f"http://localhost:{self.port}{path}"

    def window(self) -> tuple[str, str]:
        """A date range of 3 days within the next 10 (narrow, so users race for the same slots)."""
        first = datetime.now(UTC).date() + timedelta(days=random.randint(1, 8))
        return first.isoformat(), (first + timedelta(days=2)).isoformat()

    def availability(self, service_id: str) -> list[dict[str, Any]]:
        """Free slots of ``service_id`` in a random window (empty on a failed request)."""
        start, end = self.window()
        with self.client.get(self.biz_url(f"/api/v1/availability?service_id={service_id}&start={start}&end={end}"),
                             name="GET /api/v1/availability", catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
                return []
            return resp.json()["slots"]


class Browser(Customer):
    """Looks around: the business's storefront and booking page, the apex search page and API."""

    weight = 3
    wait_time = between(0.5, 2)

    @task(3)
    def storefront(self) -> None:
        """The business's home page."""
        self.client.get(self.biz_url("/"), name="GET storefront /")

    @task(2)
    def booking_page(self) -> None:
        """A service's booking page (the day picker)."""
        service = random.choice(self.business["service_ids"])
        self.client.get(self.biz_url(f"/book/{service}"), name="GET storefront /book/<service>")

    @task(2)
    def search_page(self) -> None:
        """The apex search page for a word."""
        self.client.get(self.apex_url(f"/search?q={random.choice(WORLD['queries'])}"), name="GET apex /search")

    @task(1)
    def search_api(self) -> None:
        """The marketplace search API for a word."""
        self.client.get(self.apex_url(f"/api/v1/marketplace/search?q={random.choice(WORLD['queries'])}"),
                        name="GET /api/v1/marketplace/search")


class Booker(Customer):
    """Reads availability and books one of the first free slots; other bookers race for the
    same slots, so a 409 conflict is an expected answer (counted, not a failure)."""

    weight = 2
    wait_time = between(0.5, 2)

    @task(2)
    def look(self) -> None:
        """Availability only (a customer who does not book)."""
        self.availability(random.choice(self.business["service_ids"]))

    @task(3)
    def book(self) -> None:
        """Availability, then ``POST /api/v1/bookings`` at one of its first five slots."""
        service = random.choice(self.business["service_ids"])
        slots = self.availability(service)
        if not slots:
            return
        slot = random.choice(slots[:5])
        email = f"load-{WORLD['run']}-{uuid.uuid4().hex[:12]}@example.com"
        body = {"service_id": service, "start": slot["start"], "customer": {"name": "Load Test", "email": email}}
        if slot.get("staff_id"):
            body["staff_id"] = slot["staff_id"]
        if self.post_booking(body, email) and slot.get("staff_id") and random.random() < 0.25:
            # Someone else a moment too late for the same staff member and time: must be a 409.
            late = f"load-{WORLD['run']}-{uuid.uuid4().hex[:12]}@example.com"
            if self.post_booking({**body, "customer": {"name": "Load Test", "email": late}}, late):
                OUTCOME["late_booked"] += 1

    def post_booking(self, body: dict[str, Any], email: str) -> bool:
        """``POST /api/v1/bookings``: True on 201 (recorded), False on 409 (counted); anything
        else is a failure."""
        with self.client.post(self.biz_url("/api/v1/bookings"), json=body, name="POST /api/v1/bookings",
                              catch_response=True) as resp:
            if resp.status_code == 201:
                OUTCOME["booked"].append({"id": resp.json()["id"], "email": email,
                                          "status": resp.json()["status"]})
                return True
            if resp.status_code == 409:
                OUTCOME["conflicts"] += 1
                resp.success()
                return False
            resp.failure(f"{resp.status_code}: {resp.text[:200]}")
            return False


class Chatter(User):
    """A booking's customer (Socket.IO on process A, apex host) writing to the business's staff
    member (Socket.IO on process B, business host); each message is timed from ``send`` until
    the staff side receives ``chat:message`` and reported as request type ``socketio``."""

    weight = 1
    wait_time = between(1, 2)

    def on_start(self) -> None:
        """Connect both sides and join the pair's conversation."""
        pairs = WORLD["chat"]
        self.pair = pairs[next(_next_pair) % len(pairs)]
        self.waiting: dict[str, Event] = {}
        self.customer = self.staff = None
        ports = WORLD["ports"]
        self.customer = self.connect("chat connect (customer)", f"http://localhost:{ports[0]}",
                                     self.pair["customer"], {"tenant_id": self.pair["tenant_id"]})
        self.staff = self.connect("chat connect (staff)", f"http://{self.pair['slug']}.localhost:{ports[-1]}",
                                  self.pair["staff"], {})
        if self.staff is not None:
            self.staff.on("chat:message", self.received)

    def received(self, data: dict[str, Any]) -> None:
        """The staff side got a message: wake the task waiting for it."""
        done = self.waiting.get(data.get("body", ""))
        if done is not None:
            done.set()

    def connect(self, name: str, url: str, cookie: str, extra: dict[str, Any]) -> socketio.Client | None:
        """A connected client that joined the conversation; the connect+join is reported as ``name``."""
        debug = bool(os.environ.get("MULTINODE_DEBUG"))
        sio = socketio.Client(reconnection=False, request_timeout=30, logger=debug, engineio_logger=debug)
        t0 = time.perf_counter()
        try:
            sio.connect(url, headers={"Cookie": f"session={cookie}"}, transports=["websocket"], wait_timeout=10)
            ack = sio.call("join", {"conversation_id": self.pair["conversation_id"], **extra}, timeout=10)
            if not (ack or {}).get("ok"):
                raise RuntimeError(f"join refused: {ack}")
        except Exception as exc:  # noqa: BLE001 - every failure is reported to Locust
            self.report(name, t0, exc)
            sio.disconnect()
            return None
        self.report(name, t0, None)
        return sio

    def report(self, name: str, t0: float, exc: Exception | None) -> None:
        """Tell Locust about one Socket.IO operation started at ``t0`` (``perf_counter``)."""
        events.request.fire(request_type="socketio", name=name, response_time=(time.perf_counter() - t0) * 1000,
                            response_length=0, exception=exc, context={})

    @task
    def say(self) -> None:
        """Send a message and wait (at most 10 s) for the staff side to receive it."""
        if self.customer is None or self.staff is None:
            return
        body = f"load {uuid.uuid4().hex}"
        done = self.waiting[body] = Event()
        t0 = time.perf_counter()
        try:
            ack = self.customer.call("send", {"conversation_id": self.pair["conversation_id"], "body": body},
                                     timeout=10)
            OUTCOME["chat_sent"] += 1
            if not (ack or {}).get("ok"):
                raise RuntimeError(f"send refused: {ack}")
            if not done.wait(10):
                raise TimeoutError("chat:message not received within 10 s")
            OUTCOME["chat_received"] += 1
            self.report("chat send -> receive", t0, None)
        except Exception as exc:  # noqa: BLE001 - every failure is reported to Locust
            self.report("chat send -> receive", t0, exc)
        finally:
            self.waiting.pop(body, None)

    def on_stop(self) -> None:
        """Disconnect both sides."""
        for sio in (self.customer, self.staff):
            if sio is not None:
                gevent.spawn(sio.disconnect).join(5)
