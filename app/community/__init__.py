"""Talking before booking and around a business: inquiries, posts and comments, favourites and
recently viewed, and the reports and blocks that keep them civil."""
