"""Scheduling: the pure availability function, its database loader and Redis cache."""
