"""Notifications: the transactional outbox, email delivery, reminders."""
