"""Business verification: documents with expiry dates, an admin's decision, and the verified badge."""
