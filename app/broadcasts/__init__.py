"""Broadcasts from the platform to businesses or consenting customers, sent in batches once per person."""
