"""Benchmark: chat message latency from send to receipt, against a bare python-socketio floor.

Plaza: embedded PostgreSQL and Redis, migrated; 100 businesses, each with one staff account,
one customer account and a booking. Two Plaza web processes (gunicorn, one gthread worker
each, Flask-SocketIO threading mode, ``message_queue=REDIS_URL``). 200 python-socketio
clients over WebSocket: every customer on process A (apex), every staff member on process
B (their business's host). Each message is sent by a customer through A (``send``: the actor
from the server-side session in Redis, validate, rate limit in Redis, ONE SQL statement after the
transaction's RLS settings — the insert with its conditions, the author's watermarks and the
outbox row —, commit, publish to Redis) and timed until the staff client on B receives
``chat:message``. Target (issue 15): at 100 messages/s, p99 under 50 ms and at most 3x the relay's
p99 in the same run; the table's last line says whether it was met.

Floor: a bare ``python-socketio`` server (threading mode, same gunicorn gthread worker, one
process, no Redis, no database) relaying ``send`` to a room of two, with the same 200 clients
and the same send pattern.

``--poisson`` sends one message at a time with exponentially distributed gaps at the same mean
rate (independent senders) instead of waves.

``--balanced`` spreads the senders as a balancer would: every other pair has its customer on B
and its staff member on A, so each process takes half the sends (and every message still
crosses from one process to the other through Redis).

Prints a Markdown table; ``--write`` records it in ``bench/README.md`` (section "Chat").
Run: ``.venv/bin/python bench/chat.py --write [--balanced] [--poisson]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import gunicorn, p99, record, stack, stop  # noqa: E402

PAIRS = 100
#: Issue 15's chat target at 100 messages/s: p99 under this many ms …
TARGET_P99_MS = 50
#: … and at most this many times the bare relay's p99 in the same run.
TARGET_RATIO = 3.0


# --------------------------------------------------------------------------- the floor server


def echo_app() -> Any:
    """WSGI app of the bare python-socketio relay (``gunicorn 'bench.chat:echo_app()'``)."""
    import socketio

    sio = socketio.Server(async_mode="threading", cors_allowed_origins="*")

    @sio.on("join")
    def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        sio.enter_room(sid, data["room"])
        return {"ok": True}

    @sio.on("send")
    def send(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        sio.emit("chat:message", data, room=data["room"])
        return {"ok": True}

    return socketio.WSGIApp(sio)


# --------------------------------------------------------------------------- helpers


class Pair:
    """A sender and a receiver socket and what to send (Plaza conversation or floor room)."""

    def __init__(self, sender: Any, receiver: Any, payload: dict[str, Any]) -> None:
        self.sender, self.receiver, self.payload = sender, receiver, payload


async def make_client(url: str, cookie: str | None, on_message: Any) -> Any:
    """A connected AsyncClient (WebSocket) calling ``on_message(data)`` for ``chat:message``."""
    import aiohttp
    import socketio

    from tests.support.chat_fixtures import LocalhostResolver

    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=LocalhostResolver(), limit=0))
    sio = socketio.AsyncClient(reconnection=False, http_session=http)
    sio.on("chat:message", on_message)
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    await sio.connect(url, headers=headers, transports=["websocket"], wait_timeout=10)
    sio.plaza_http = http
    return sio


async def measure(pairs: list[Pair], messages: int, wave: int, gap: float, poisson: bool = False) -> list[float]:
    """Send ``messages`` messages, ``wave`` at a time every ``gap`` seconds, rotating over the
    pairs; return send->receipt latencies in ms. With ``poisson``, one at a time at the same mean
    rate, the gaps drawn from an exponential distribution (independent senders; the same seeded
    sequence for every run)."""
    rng = random.Random(15)
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    def receiver_for(_pair: Pair) -> Any:
        async def got(data: dict[str, Any]) -> None:
            body = data.get("body")
            t0 = sent.pop(body, None)
            if t0 is not None:
                latencies.append((time.perf_counter() - t0) * 1000)
                if len(latencies) >= messages:
                    done.set()
        return got

    for pair in pairs:
        pair.receiver.handlers["/"]["chat:message"] = receiver_for(pair)
    n, started, due = 0, time.perf_counter(), 0.0
    while n < messages:
        for _ in range(1 if poisson else min(wave, messages - n)):
            pair = pairs[n % len(pairs)]
            body = f"bench {n} {uuid.uuid4().hex[:8]}"
            sent[body] = time.perf_counter()
            asyncio.ensure_future(pair.sender.emit("send", {**pair.payload, "body": body}))
            n += 1
        if poisson:  # the next send at an absolute time, so the mean rate holds despite sleep overshoot
            due += rng.expovariate(wave / gap)
            await asyncio.sleep(max(0.0, due - (time.perf_counter() - started)))
        else:
            await asyncio.sleep(gap)
    print(time.strftime("%H:%M:%S"), f"sent {messages} in {time.perf_counter() - started:.1f} s (aimed at {wave / gap:.0f}/s)", file=sys.stderr)
    try:
        await asyncio.wait_for(done.wait(), 30)
    except TimeoutError:
        pass
    return latencies


async def close_all(clients: list[Any]) -> None:
    """Disconnect every client and close its HTTP session."""
    for c in clients:
        try:
            await c.disconnect()
        finally:
            await c.plaza_http.close()


# --------------------------------------------------------------------------- scenarios


def setup_plaza(env: dict[str, str]) -> list[dict[str, str]]:
    """Create the businesses, accounts, bookings and conversations; return per pair the
    cookies, host and ids."""
    from app import create_app
    from app.chat.service import conversation_for_booking
    from app.extensions import db
    from app.identity.service import find_user
    from app.tenants.context import tenant_scope
    from app.tenants.models import Membership
    from tests.factories import make_business, make_user
    from tests.support.chat_fixtures import make_booking, session_cookie

    app = create_app()
    out = []
    with app.app_context():
        for i in range(PAIRS):
            slug = f"bench{i:03d}"
            biz = make_business(slug, staff=1)
            staff_email = f"staff{i}@bench.test"
            staff_id = make_user(staff_email)
            with tenant_scope(biz.tenant_id):
                db.session.add(Membership(user_id=staff_id, role="staff"))
                db.session.commit()
            customer_email = f"customer{i}@bench.test"
            user_id = make_user(customer_email)
            booking_id, _ = make_booking(biz.tenant_id, customer_email, user_id)
            with tenant_scope(biz.tenant_id):
                conv = conversation_for_booking(booking_id)
                db.session.commit()
                cid = str(conv.id)
            out.append({"slug": slug, "tenant_id": str(biz.tenant_id), "conversation_id": cid,
                        "customer": session_cookie(app, customer_email), "staff": session_cookie(app, staff_email)})
        assert find_user("customer0@bench.test") is not None
    return out


async def run_plaza(port_a: int, port_b: int, data: list[dict[str, str]], messages: int,
                    rates: list[tuple[int, float]], balanced: bool = False,
                    poisson: bool = False) -> dict[tuple[int, float], list[float]]:
    """200 clients on two Plaza processes; latencies of customer -> staff, always across the two
    processes: every customer on A and every staff member on B, or with ``balanced`` every other
    pair the other way round (as a balancer spreads clients), so each process takes half the sends."""
    clients: list[Any] = []
    pairs: list[Pair] = []

    async def noop(_: Any) -> None:
        return None

    try:
        for i, d in enumerate(data):
            customer_port, staff_port = (port_b, port_a) if balanced and i % 2 else (port_a, port_b)
            customer = await make_client(f"http://localhost:{customer_port}", d["customer"], noop)
            staff = await make_client(f"http://{d['slug']}.localhost:{staff_port}", d["staff"], noop)
            clients += [customer, staff]
            for sock, extra in ((customer, {"tenant_id": d["tenant_id"]}), (staff, {})):
                ack = await sock.call("join", {"conversation_id": d["conversation_id"], **extra}, timeout=10)
                assert ack["ok"], ack
            pairs.append(Pair(customer, staff, {"conversation_id": d["conversation_id"]}))
        await measure(pairs, 50, *rates[0])  # warm-up
        out = {}
        for wave, gap in rates:
            out[(wave, gap)] = await measure(pairs, messages, wave, gap, poisson)
            await asyncio.sleep(12)  # let the per-author rate-limit windows pass
        return out
    finally:
        await close_all(clients)


async def run_floor(port: int, messages: int, rates: list[tuple[int, float]],
                    poisson: bool = False) -> dict[tuple[int, float], list[float]]:
    """200 clients on the bare relay; same pattern."""
    clients: list[Any] = []
    pairs: list[Pair] = []

    async def noop(_: Any) -> None:
        return None

    try:
        for i in range(PAIRS):
            a = await make_client(f"http://localhost:{port}", None, noop)
            b = await make_client(f"http://localhost:{port}", None, noop)
            clients += [a, b]
            for sock in (a, b):
                await sock.call("join", {"room": f"r{i}"}, timeout=10)
            pairs.append(Pair(a, b, {"room": f"r{i}"}))
        await measure(pairs, 50, *rates[0])
        return {(wave, gap): await measure(pairs, messages, wave, gap, poisson) for wave, gap in rates}
    finally:
        await close_all(clients)


def row(name: str, rate: str, values: list[float], expected: int, floor: list[float] | None) -> str:
    """One Markdown table row: latencies against the floor's (``None``: this is the floor)."""
    if not values:
        return f"| {name} | {rate} | 0/{expected} | – | – | – | – |"
    med, top = statistics.median(values), p99(values)
    ratios = (f"{med / statistics.median(floor):.1f}x | {top / p99(floor):.1f}x" if floor else "1.0x | 1.0x")
    return f"| {name} | {rate} | {len(values)}/{expected} | {med:.2f} | {top:.2f} | {ratios} |"


def verdict(plaza: list[float], floor: list[float], expected: int) -> str:
    """The issue-15 target at 100 messages/s, in one sentence: every message received, p99 under
    :data:`TARGET_P99_MS` and at most :data:`TARGET_RATIO` times the relay's p99."""
    if len(plaza) < expected or not floor:
        return f"Target (100 msg/s): not met — {len(plaza)}/{expected} messages received."
    top, ratio = p99(plaza), p99(plaza) / p99(floor)
    met = top < TARGET_P99_MS and ratio <= TARGET_RATIO
    return (f"Target (100 msg/s: p99 under {TARGET_P99_MS} ms and at most {TARGET_RATIO:g}x the relay's p99): "
            f"{'met' if met else 'not met'} — p99 {top:.1f} ms, {ratio:.1f}x the relay's {p99(floor):.1f} ms.")


def main() -> None:
    """Set up, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=400, help="messages per measurement")
    parser.add_argument("--balanced", action="store_true",
                        help="spread senders over both processes (every other pair's customer on B, its staff on A)")
    parser.add_argument("--poisson", action="store_true",
                        help="send one message at a time with exponential gaps (same mean rate) instead of waves")
    args = parser.parse_args()
    rates = [(5, 0.25), (10, 0.1)]  # 20 and 100 messages/s, sent 5 or 10 at a time

    from app.devservices import free_port

    with stack("plaza_bench_chat") as st:
        data = setup_plaza(st.env)
        port_a, port_b, port_floor = free_port(), free_port(), free_port()
        procs = [gunicorn("wsgi:app", port, workers=1, threads=260) for port in (port_a, port_b)]
        try:
            plaza = asyncio.run(run_plaza(port_a, port_b, data, args.n, rates, args.balanced, args.poisson))
        finally:
            stop(*procs)
        floor_proc = gunicorn("bench.chat:echo_app()", port_floor, workers=1, threads=260)
        try:
            floor = asyncio.run(run_floor(port_floor, args.n, rates, args.poisson))
        finally:
            stop(floor_proc)

    lines = [
        f"Recorded {time.strftime('%Y-%m-%d')} on this project's 2-core machine (clients, both web processes, "
        f"PostgreSQL and Redis all on it) with `python bench/chat.py --write{' --balanced' if args.balanced else ''}"
        f"{' --poisson' if args.poisson else ''} -n {args.n}`: "
        f"{PAIRS * 2} WebSocket clients, "
        f"{args.n} messages per row after a 50-message warm-up.",
        "",
        "| measurement | rate | received/sent | median ms | p99 ms | median / floor median | p99 / floor p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for wave, gap in rates:
        rate = f"{wave / gap:.0f} msg/s" + (" (Poisson)" if args.poisson else f" ({wave} at a time)")
        lines.append(row("bare python-socketio relay, 1 process (floor)", rate, floor[(wave, gap)], args.n, None))
        layout = ("customers on A and B, each to staff on the other process" if args.balanced
                  else "customer on process A -> staff on process B")
        lines.append(row(f"Plaza chat, {layout}", rate, plaza[(wave, gap)], args.n, floor[(wave, gap)]))
    lines += ["", verdict(plaza[rates[-1]], floor[rates[-1]], args.n)]
    table = "\n".join(lines)
    print(table)
    if args.write:
        record("chat" + ("-balanced" if args.balanced else "") + ("-poisson" if args.poisson else ""), table)


if __name__ == "__main__":
    main()
