"""A localstripe server for the billing tests, and helpers to sign Stripe webhook events.

:func:`running_localstripe` (from :mod:`tests.support.servers`, re-exported here) runs
localstripe on a free 127.0.0.1 port for a block; :func:`sign` builds a ``Stripe-Signature`` header with
Stripe's scheme (HMAC-SHA256 of ``"{t}.{payload}"``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from tests.support.servers import running_localstripe

__all__ = ["event_json", "running_localstripe", "sign"]

def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload`` signed with ``secret`` at ``timestamp``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event_json(event_id: str, event_type: str, obj: dict) -> str:
    """A Stripe event body (compact JSON, like Stripe's) about ``obj``."""
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "api_version": "2025-01-01",
                       "created": int(time.time()), "livemode": False, "data": {"object": obj}})
