"""Sending text messages behind a provider interface: a logging provider (default) and Twilio.

``SMS_PROVIDER``: ``log`` (default) or ``twilio``. Twilio needs ``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN`` and ``TWILIO_FROM``; ``TWILIO_API_BASE`` (default
``https://api.twilio.com``) points it elsewhere, e.g. at a local test server. The Twilio
provider uses the ``twilio`` SDK (Messages API: ``POST /2010-04-01/Accounts/{sid}/Messages.json``).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Protocol

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.config import config_str

log = logging.getLogger("plaza.sms")

#: How many messages :class:`LoggingSmsProvider` remembers (for a look in development and tests).
LOGGED_KEPT = 200


class SmsError(RuntimeError):
    """The provider refused or could not be reached."""


class SmsProvider(Protocol):
    """Something that sends a text message."""

    def send(self, to: str, body: str) -> str:
        """Send ``body`` to the E.164 number ``to``; returns the provider's message id.

        Raises:
            SmsError: the provider refused or could not be reached.
        """


class LoggingSmsProvider:
    """Writes each message to the ``plaza.sms`` log instead of sending it (development default).

    ``sent`` keeps the last :data:`LOGGED_KEPT` ``(to, body)`` pairs, so it never grows for the
    life of the process; ``count`` is how many were sent in all.
    """

    def __init__(self, keep: int = LOGGED_KEPT) -> None:
        self.sent: deque[tuple[str, str]] = deque(maxlen=keep)
        self.count = 0

    def send(self, to: str, body: str) -> str:
        """Log the message; returns a fake id ``log-<n>``."""
        self.sent.append((to, body))
        self.count += 1
        log.info("sms (logged, not sent)", extra={"to": to, "body": body})
        return f"log-{self.count}"


class TwilioSmsProvider:
    """Twilio's Messages API through the ``twilio`` SDK."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str,
                 api_base: str = "https://api.twilio.com", timeout: float = 10.0) -> None:
        self.from_number = from_number
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self.client.api.base_url = api_base.rstrip("/")

    def send(self, to: str, body: str) -> str:
        """Create the message; returns Twilio's message ``sid``.

        Raises:
            SmsError: an HTTP error status (with Twilio's ``code``/``message``) or a network error.
        """
        try:
            message = self.client.messages.create(to=to, from_=self.from_number, body=body)
        except TwilioRestException as exc:
            raise SmsError(f"Twilio {exc.status}: {exc.code or ''} {exc.msg}") from exc
        except (TwilioException, OSError) as exc:  # the SDK wraps requests' connection errors
            raise SmsError(f"Twilio unreachable: {exc}") from exc
        return str(message.sid or "")



_logging_provider = LoggingSmsProvider()


def get_provider() -> SmsProvider:
    """The provider chosen by ``SMS_PROVIDER``.

    Raises:
        SmsError: ``twilio`` chosen without its credentials, or an unknown provider.
    """
    name = config_str("SMS_PROVIDER", "log").lower()
    if name == "log":
        return _logging_provider
    if name == "twilio":
        sid, token, sender = config_str("TWILIO_ACCOUNT_SID"), config_str("TWILIO_AUTH_TOKEN"), config_str("TWILIO_FROM")
        if not (sid and token and sender):
            raise SmsError("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
        return TwilioSmsProvider(sid, token, sender, config_str("TWILIO_API_BASE", "https://api.twilio.com"))
    raise SmsError(f"unknown SMS_PROVIDER {name!r}")
