"""In-app channel: the notification row is the message; sending means updating the live badge."""

from __future__ import annotations

from app.delivery.models import Delivery
from app.identity.models import User
from app.notifications import center
from app.notifications.center_models import Notification


class InAppChannel:
    """Shows the notification in the person's center (already stored) and pushes the badge."""

    name = "inapp"

    def send(self, notification: Notification, delivery: Delivery, user: User) -> str | None:
        """Push the live badge; the notification itself is already in the center. Returns ``None``."""
        center.push_badge(user.id, notification.id)
        return None
