"""A localstripe server for the billing tests, and helpers to sign Stripe webhook events.

:func:`running_localstripe` starts ``localstripe --port <free> --from-scratch`` as a
subprocess on 127.0.0.1 and stops it; :func:`sign` builds a ``Stripe-Signature`` header with
Stripe's scheme (HMAC-SHA256 of ``"{t}.{payload}"``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.devservices import free_port

BIN = Path(sys.executable).with_name("localstripe")


@contextmanager
def running_localstripe() -> Iterator[str]:
    """Run localstripe for the block; yields its base URL ``http://127.0.0.1:<port>``."""
    port = free_port()
    proc = subprocess.Popen([str(BIN), "--port", str(port), "--from-scratch"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ}, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("localstripe did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload`` signed with ``secret`` at ``timestamp``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_json(event_id: str, event_type: str, obj: dict) -> str:
    """A Stripe event body (compact JSON, like Stripe's) about ``obj``."""
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "api_version": "2025-01-01",
                       "created": int(time.time()), "livemode": False, "data": {"object": obj}})
