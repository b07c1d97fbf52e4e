"""Conversations and messages (tenant-scoped), with delivery and read receipts."""
