"""The SMS channel: a notification as a text message, sent through the configured provider
(:mod:`app.delivery.sms`)."""

from __future__ import annotations

from app.delivery.models import Delivery
from app.delivery.sms import SmsError, get_provider
from app.identity.models import User
from app.notifications.center import absolute_url
from app.notifications.center_models import Notification

#: An SMS body is cut to this many characters (about two segments).
MAX_SMS = 320


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

    def send(self, notification: Notification, delivery: Delivery, user: User) -> str | None:
        """Send via the configured provider; returns its message id.

        Raises:
            SmsError: no phone number, or the provider failed.
        """
        if not user.phone:
            raise SmsError("no phone number")
        return get_provider().send(user.phone, sms_text(notification))
