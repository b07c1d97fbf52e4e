"""SMS channel behind a provider interface: a logging provider (default) and Twilio.

``SMS_PROVIDER``: ``log`` (default) or ``twilio``. Twilio needs ``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN`` and ``TWILIO_FROM``; ``TWILIO_API_BASE`` (default
``https://api.twilio.com``) points it elsewhere, e.g. at a local test server. The Twilio
adapter speaks Twilio's documented REST API (``POST
/2010-04-01/Accounts/{sid}/Messages.json``, form fields ``To``, ``From``, ``Body``, HTTP
basic auth) with ``requests``, so no SDK is needed.
"""

from __future__ import annotations

import logging
from typing import Protocol

import requests
from flask import current_app, has_app_context

from app.config import settings_str
from app.identity.models import User
from app.notifications.center import absolute_url
from app.notifications.center_models import Notification, NotificationDelivery

log = logging.getLogger("plaza.sms")

#: An SMS body is cut to this many characters (about two segments).
MAX_SMS = 320


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
    """Writes each message to the ``plaza.sms`` log instead of sending it (development default)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> str:
        """Log the message; returns a fake id."""
        self.sent.append((to, body))
        log.info("sms (logged, not sent)", extra={"to": to, "body": body})
        return f"log-{len(self.sent)}"


class TwilioSmsProvider:
    """Twilio's Messages API over HTTPS."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str,
                 api_base: str = "https://api.twilio.com", timeout: float = 10.0) -> None:
        self.account_sid, self.auth_token, self.from_number = account_sid, auth_token, from_number
        self.api_base, self.timeout = api_base.rstrip("/"), timeout

    def send(self, to: str, body: str) -> str:
        """POST the message; returns Twilio's message ``sid``.

        Raises:
            SmsError: an HTTP error status (with Twilio's ``code``/``message``) or a network error.
        """
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            resp = requests.post(url, data={"To": to, "From": self.from_number, "Body": body},
                                 auth=(self.account_sid, self.auth_token), timeout=self.timeout)
        except requests.RequestException as exc:
            raise SmsError(f"Twilio unreachable: {exc}") from exc
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code >= 400:
            raise SmsError(f"Twilio {resp.status_code}: {data.get('code', '')} {data.get('message', resp.text[:200])}")
        return str(data.get("sid", ""))


def _setting(name: str, default: str = "") -> str:
    value = current_app.config.get(name) if has_app_context() else None
    return str(value or settings_str(name) or default)


_logging_provider = LoggingSmsProvider()


def get_provider() -> SmsProvider:
    """The provider chosen by ``SMS_PROVIDER``.

    Raises:
        SmsError: ``twilio`` chosen without its credentials, or an unknown provider.
    """
    name = _setting("SMS_PROVIDER", "log").lower()
    if name == "log":
        return _logging_provider
    if name == "twilio":
        sid, token, sender = _setting("TWILIO_ACCOUNT_SID"), _setting("TWILIO_AUTH_TOKEN"), _setting("TWILIO_FROM")
        if not (sid and token and sender):
            raise SmsError("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
        return TwilioSmsProvider(sid, token, sender, _setting("TWILIO_API_BASE", "https://api.twilio.com"))
    raise SmsError(f"unknown SMS_PROVIDER {name!r}")


def sms_text(notification: Notification) -> str:
    """The message text: title, body and link, cut to :data:`MAX_SMS` characters."""
    text = f"{notification.title}: {notification.body}"
    link = absolute_url(notification.url or "", notification.tenant_id)
    if link:
        text = f"{text[:MAX_SMS - len(link) - 1]} {link}"
    return text[:MAX_SMS]


class SmsChannel:
    """Sends the notification as a text message to the person's phone number."""

    name = "sms"

    def send(self, notification: Notification, delivery: NotificationDelivery, user: User) -> str | None:
        """Send via the configured provider; returns its message id.

        Raises:
            SmsError: no phone number, or the provider failed.
        """
        if not user.phone:
            raise SmsError("no phone number")
        return get_provider().send(user.phone, sms_text(notification))
