"""Delivery channels. Each has ``send(notification, delivery, user) -> provider id or None``
and raises on failure (the caller records it and RQ retries)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from app.notifications.channels.email import EmailChannel
from app.notifications.channels.inapp import InAppChannel
from app.notifications.channels.push import PushChannel
from app.notifications.channels.sms import SmsChannel

if TYPE_CHECKING:
    from app.delivery.models import Delivery
    from app.identity.models import User
    from app.notifications.center_models import Notification


class Channel(Protocol):
    """A way to reach a person."""

    name: str

    def send(self, notification: Notification, delivery: Delivery, user: User) -> str | None:
        """Deliver ``notification`` to ``user``; returns the provider's message id when there is one.

        Raises:
            Exception: any failure (recorded as ``failed`` and retried).
        """


def get_channel(name: str) -> Channel:
    """The channel called ``name`` (``inapp``, ``email``, ``push``, ``sms``).

    Raises:
        KeyError: unknown channel.
    """
    channels: dict[str, Channel] = {"inapp": InAppChannel(), "email": EmailChannel(), "push": PushChannel(),
                                    "sms": SmsChannel()}
    return channels[name]
