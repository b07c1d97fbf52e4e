"""Firing requests at a live test server at the same moment (for the race tests)."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests


def post_bookings_at_once(live_server: str, payloads: list[dict], host: str = "bella.localhost") -> list[requests.Response]:
    """POST every payload to ``/api/v1/bookings`` on ``host`` at the same moment (one thread each,
    released together by a barrier); the answers in payload order. Fails the test when a request
    did not get an answer at all (connection error, timeout)."""
    port = urlsplit(live_server).port
    url = f"http://127.0.0.1:{port}/api/v1/bookings"
    headers = {"Host": f"{host}:{port}"}
    barrier = threading.Barrier(len(payloads))
    results: list[requests.Response | BaseException | None] = [None] * len(payloads)

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = requests.post(url, json=payloads[i], headers=headers, timeout=120)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if not isinstance(r, requests.Response)]
    assert not errors, errors[:3]
    return results  # type: ignore[return-value]
